// How a component deep in a page sends the person elsewhere (an error's button, "See in
// History") without every page passing callbacks down. App.svelte provides it; a component
// rendered alone (a test) finds none and leaves such buttons out.
import { getContext, setContext } from "svelte";
import type { PageId } from "./pages";

export interface Navigation {
  /** The page shown now, so a button never leads where the person already is. */
  readonly current: PageId;
  /** Goes to `page`, brought to its `section` when one is named (`environments`, `errors`
   * on Project settings; `accounts`, `computer` on Settings). */
  navigate(page: PageId, section?: string): void;
  /** The folder picker, to open another project. */
  pickProject(): void;
}

const key = Symbol("navigation");

export function provideNavigation(navigation: Navigation): void {
  setContext(key, navigation);
}

export function useNavigation(): Navigation | null {
  return getContext<Navigation | undefined>(key) ?? null;
}

/** The context for a component mounted on its own, as tests mount one. */
export function navigationContext(navigation: Navigation): Map<symbol, Navigation> {
  return new Map([[key, navigation]]);
}
