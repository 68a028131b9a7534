// The pages beside Release, each loaded the first time it is opened (or about to be: the
// pointer on its button), so start-up parses only the Release page's code.
import type { PageId } from "./pages";

type Loaded = {
  project: typeof import("../project/ProjectSettingsPage.svelte").default;
  history: typeof import("../history/HistoryPage.svelte").default;
  errors: typeof import("../errors/ErrorsPage.svelte").default;
  images: typeof import("../images/ImagesPage.svelte").default;
  settings: typeof import("../settings/SettingsPage.svelte").default;
};

export type LazyPageId = Exclude<PageId, "release">;

const loaders: { [Id in LazyPageId]: () => Promise<{ default: Loaded[Id] }> } = {
  project: () => import("../project/ProjectSettingsPage.svelte"),
  history: () => import("../history/HistoryPage.svelte"),
  errors: () => import("../errors/ErrorsPage.svelte"),
  images: () => import("../images/ImagesPage.svelte"),
  settings: () => import("../settings/SettingsPage.svelte"),
};

export class LazyPages {
  /** Each page's component once loaded; raw, for a component is no state to look into. */
  loaded = $state.raw<Partial<Loaded>>({});
  /** A page whose code could not be loaded (the next click asks again). */
  failed = $state<LazyPageId | null>(null);
  private asked = new Map<LazyPageId, Promise<void>>();

  /** Loads the page's code (once); the page is drawn when `loaded` has it. */
  load(id: PageId): Promise<void> {
    if (id === "release") return Promise.resolve();
    let loading = this.asked.get(id);
    if (!loading) {
      loading = loaders[id]().then(
        (module) => {
          this.loaded = { ...this.loaded, [id]: module.default };
          if (this.failed === id) this.failed = null;
        },
        () => {
          // Asked again on the next click rather than never.
          this.asked.delete(id);
          this.failed = id;
        },
      );
      this.asked.set(id, loading);
    }
    return loading;
  }
}
