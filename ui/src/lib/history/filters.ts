// History's filters: what a person narrows the list by, kept across restarts in the window's
// storage, and read back only as far as they still make sense.
import type { Outcome } from "../ipc";

/** How long after the typing stops a search is asked for. */
export const SEARCH_DELAY_MS = 250;
export const FILTERS_KEY = "slipway.history.filters";

export type Scope = "project" | "all";

export interface Filters {
  scope: Scope;
  outcome: Outcome | "";
  /** One environment of the project (`local`, `staging`, `production`), or empty for any. */
  environment: string;
  /** The first day shown, `YYYY-MM-DD`, or empty. */
  since: string;
  /** The last day shown (all of it), `YYYY-MM-DD`, or empty. */
  until: string;
  search: string;
  /** One person's releases, by their login, or empty for anyone's. */
  user: string;
}

const OUTCOMES: Outcome[] = ["running", "live", "failed", "canceled", "error", "interrupted"];

export function emptyFilters(): Filters {
  return { scope: "project", outcome: "", environment: "", since: "", until: "", search: "", user: "" };
}

/** The saved filters, or the defaults when there are none (or they cannot be read). */
export function loadFilters(): Filters {
  const filters = emptyFilters();
  try {
    const raw = globalThis.localStorage?.getItem(FILTERS_KEY);
    if (!raw) return filters;
    const saved = JSON.parse(raw) as Partial<Record<keyof Filters, unknown>>;
    if (saved.scope === "all" || saved.scope === "project") filters.scope = saved.scope;
    if (typeof saved.outcome === "string" && (OUTCOMES as string[]).includes(saved.outcome)) {
      filters.outcome = saved.outcome as Outcome;
    }
    if (typeof saved.environment === "string") filters.environment = saved.environment;
    // Filters saved before environments named this computer by its target.
    else if ((saved as { target?: unknown }).target === "local") filters.environment = "local";
    // Filters saved before `until` existed simply have none.
    if (isDate(saved.since)) filters.since = saved.since;
    if (isDate(saved.until)) filters.until = saved.until;
    if (typeof saved.search === "string") filters.search = saved.search;
    // Filters saved before the team's history had no person: anyone's.
    if (typeof saved.user === "string") filters.user = saved.user;
  } catch {
    // Unreadable saved filters: start from the defaults.
  }
  return filters;
}

function isDate(value: unknown): value is string {
  return typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value);
}

/**
 * The day after `date` (`YYYY-MM-DD`). The backend's `until` is exclusive and reads a date as
 * its first moment, as it does `since`, so the day after takes in the whole chosen day.
 */
export function dayAfter(date: string): string {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day + 1)).toISOString().slice(0, 10);
}

export function saveFilters(filters: Filters): void {
  try {
    globalThis.localStorage?.setItem(FILTERS_KEY, JSON.stringify(filters));
  } catch {
    // Storage full or unavailable: the filters just do not survive a restart.
  }
}
