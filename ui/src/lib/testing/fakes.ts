// Stand-ins the tests share: the navigation, an open project, the system browser, and a
// latch that holds a fake backend's answers.
import { mockIPC } from "@tauri-apps/api/mocks";
import { vi } from "vitest";
import { ProjectStore } from "../project/project.svelte";
import type { Navigation } from "../shell/navigation";
import type { PageId } from "../shell/pages";

/** A navigation that records where it was sent, and whether the folder picker was asked for. */
export function fakeNavigation(current: PageId = "release") {
  const went: PageId[] = [];
  const picked = vi.fn();
  const navigation: Navigation = { current, navigate: (page) => went.push(page), pickProject: picked };
  return { navigation, went, picked };
}

/** A project store with the project "shop" at /p/shop, open unless `open` is false. */
export function shopProject(open = true): ProjectStore {
  const store = new ProjectStore({
    openProject: async () => ({ name: "shop", path: "/p/shop", git: null }),
    recentProjects: async () => [],
    forgetRecentProject: async () => [],
    pickFolder: async () => null,
  });
  if (open) store.current = { name: "shop", path: "/p/shop", git: null };
  return store;
}

/** A backend that only opens addresses: the ones sent to the system browser, in order. */
export function openedInBrowser(): string[] {
  const opened: string[] = [];
  mockIPC((cmd, args) => {
    if (cmd === "plugin:opener|open_url") opened.push((args as { url: string }).url);
    return null;
  });
  return opened;
}

/**
 * What a fake backend awaits before it answers, while a test holds it: `hold()` closes it and
 * returns what opens it again; `pending` is null while it is open.
 */
export function latch() {
  let pending: Promise<void> | null = null;
  return {
    get pending(): Promise<void> | null {
      return pending;
    },
    hold(): () => void {
      let release: () => void = () => {};
      pending = new Promise((resolve) => (release = resolve));
      return () => {
        pending = null;
        release();
      };
    },
  };
}
