// How a component deep in a page sends the person elsewhere (an error's button, "See in
// History") without every page passing callbacks down. App.svelte provides it; a component
// rendered alone (a test) finds none and leaves such buttons out.
import { getContext, setContext } from "svelte";
import type { PageId } from "./pages";

export interface Navigation {
  /** The page shown now, so a button never leads where the person already is. */
  readonly current: PageId;
  /** Goes to `page`, brought to its `section` when one is named (`environments`, `errors`
   * on Project settings; `accounts`, `computer` on Settings; `issue:<id>` on Errors, which
   * opens that issue on its own view). */
  navigate(page: PageId, section?: string): void;
  /** The folder picker, to open another project. */
  pickProject(): void;
}

const ISSUE = "issue:";

/** The Errors page's section that opens one Sentry issue on its own view. */
export function issueSection(issueId: string): string {
  return `${ISSUE}${issueId}`;
}

/** The issue a section of the Errors page names, if it names one. */
export function issueOfSection(section: string | null): string | null {
  return section?.startsWith(ISSUE) ? section.slice(ISSUE.length) || null : null;
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
