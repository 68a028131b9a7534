// History's list: the releases the filters let through, a page at a time (the ledger can hold
// 100,000 and more), the row the keyboard is on, what runs now per environment, and what to
// know about the history file itself.
import { api as defaultApi, toSlipwayError, type Api, type HistoryFilter, type LiveNow, type ReleaseRecord, type SlipwayError } from "../ipc";
import { dayAfter, loadFilters, saveFilters, SEARCH_DELAY_MS, type Filters } from "./filters";

export type ListApi = Pick<Api, "listReleases" | "historyNotice" | "liveNow">;

export const PAGE_SIZE = 100;
/**
 * The pages after the first: someone scrolling that far is looking back a long way, and a
 * fling through a list of 100-row pages outran them, waiting on each.
 */
export const MORE_PAGE_SIZE = 500;

/** How long a page read ahead may stand in for the page's own first read. */
export const AHEAD_FRESH_MS = 60_000;

/**
 * After the page's next paint: what can wait (reading again what the page already shows, the
 * targets' state) is not worked out while the first frame is, on a machine with two cores and
 * the backend answering beside the web view.
 */
function afterPaint(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof requestAnimationFrame !== "function") setTimeout(resolve, 0);
    else requestAnimationFrame(() => setTimeout(resolve, 0));
  });
}

/** The first page read before History opened, with the filter it was read for. */
let ahead: { key: string; rows: ReleaseRecord[]; at: number } | null = null;

/**
 * What the targets last said runs, per project, for as long as the window is open. The page
 * draws it with its first rows and asks again after: its lines sit above the list, and an
 * answer that arrived late pushed the rows down under the pointer (a click meant for one
 * release opened the one above it).
 */
const lastLive = new Map<string, LiveNow[]>();

/**
 * Reads History's first page ahead of its opening (when the window is idle, or the pointer
 * heads for it), so the page's first paint has its rows: opening the page then costs one paint,
 * not a paint, a call through the IPC and a second paint. The page reads again as it opens.
 */
export async function readAhead(projectPath: string | null, api: ListApi = defaultApi): Promise<void> {
  const list = new ReleaseList(api);
  list.projectPath = projectPath;
  const filter = list.filter();
  try {
    const rows = await api.listReleases(filter);
    ahead = { key: JSON.stringify(filter), rows, at: Date.now() };
  } catch {
    // The page asks for itself, and says why if it fails again.
  }
  // After the rows, not beside them: the targets' answer is the slower one.
  if (projectPath !== null) await list.loadLive();
}

/** The page read ahead for `filter`, once, if it is recent. */
function takeAhead(filter: HistoryFilter): ReleaseRecord[] | null {
  const found = ahead;
  ahead = null;
  if (!found || found.key !== JSON.stringify(filter) || Date.now() - found.at > AHEAD_FRESH_MS) return null;
  return found.rows;
}

export class ReleaseList {
  filters = $state<Filters>(loadFilters());
  projectPath = $state<string | null>(null);
  projectName = $state<string | null>(null);

  /**
   * The releases loaded so far, newest first: up to the whole ledger (100,000 and more).
   * Raw, not deeply reactive: rows are only ever replaced, and proxying every record would
   * cost more than the list, which draws a few dozen of them, ever reads.
   */
  rows = $state.raw<ReleaseRecord[]>([]);
  /** Counts the lists read from the first page, so the list view knows to go back to its top. */
  listGeneration = $state(0);
  loading = $state(false);
  loaded = $state(false);
  loadingMore = $state(false);
  hasMore = $state(false);
  error = $state<SlipwayError | null>(null);

  /** The row the keyboard is on. */
  activeId = $state<string | null>(null);

  /** What runs now for the open project, per target, as the targets say. */
  live = $state<LiveNow[]>([]);
  /**
   * Everyone seen releasing in the lists read so far, by login, sorted: the person filter's
   * choices. Kept as filters change, so narrowing to one person leaves the others to pick.
   */
  people = $state<string[]>([]);

  /** What to know about the history file itself (damaged and replaced, or newer). */
  notice = $state<string | null>(null);

  private listToken = 0;
  /** The ids in `rows`, so a page never adds a row twice (without scanning every row). */
  private loadedIds = new Set<string>();
  private searchTimer: ReturnType<typeof setTimeout> | null = null;

  /** Adds the people of `rows` to `people`, changing it only when someone is new. */
  private meet(rows: ReleaseRecord[]): void {
    const known = new Set(this.people);
    const before = known.size;
    for (const row of rows) if (row.user) known.add(row.user);
    if (known.size !== before) this.people = [...known].sort((a, b) => a.localeCompare(b));
  }

  constructor(private readonly api: ListApi = defaultApi) {}

  /** Showing all projects: chosen, or no project is open. */
  get allProjects(): boolean {
    return this.filters.scope === "all" || this.projectPath === null;
  }

  /** Any filter beyond the project is set. */
  get filtered(): boolean {
    const { outcome, environment, since, until, search, user } = this.filters;
    return outcome !== "" || environment !== "" || since !== "" || until !== "" || search.trim() !== "" || user !== "";
  }

  /** The filter the backend gets, without paging. */
  filter(): HistoryFilter {
    const { outcome, environment, since, until, search, user } = this.filters;
    return {
      projectPath: this.allProjects ? null : this.projectPath,
      outcome: outcome === "" ? null : outcome,
      target: null,
      ...(environment === "" ? {} : { environment }),
      since: since === "" ? null : since,
      until: until === "" ? null : dayAfter(until),
      search: search.trim() === "" ? null : search.trim(),
      ...(user === "" ? {} : { user }),
      limit: PAGE_SIZE,
      before: null,
    };
  }

  /** Asks the targets what runs (Docker, Render); a failure leaves the banner out. */
  async loadLive(): Promise<void> {
    const path = this.projectPath;
    if (path === null) {
      this.live = [];
      return;
    }
    let live: LiveNow[] = [];
    try {
      live = await this.api.liveNow(path);
    } catch {
      // Left out: no banner rather than a stale one.
    }
    lastLive.set(path, live);
    if (path === this.projectPath) this.live = live;
  }

  /** The open project changed (or none is open): reload. */
  setProject(path: string | null, name: string | null): void {
    if (path === this.projectPath && name === this.projectName && this.loaded) return;
    this.projectPath = path;
    this.projectName = name;
    this.live = (path !== null && lastLive.get(path)) || [];
    void this.load();
    // Asked after the first rows are drawn, not beside them.
    void afterPaint().then(() => this.loadLive());
  }

  /** Changes filters and reloads at once; the search text goes through `setSearch`. */
  setFilters(change: Partial<Omit<Filters, "search">>): void {
    Object.assign(this.filters, change);
    saveFilters($state.snapshot(this.filters));
    void this.load();
  }

  /** The search text; the list follows a moment after the typing stops. */
  setSearch(text: string): void {
    this.filters.search = text;
    saveFilters($state.snapshot(this.filters));
    if (this.searchTimer) clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => {
      this.searchTimer = null;
      void this.load();
    }, SEARCH_DELAY_MS);
  }

  clearFilters(): void {
    if (this.searchTimer) clearTimeout(this.searchTimer);
    this.searchTimer = null;
    this.filters.search = "";
    this.setFilters({ outcome: "", environment: "", since: "", until: "", user: "" });
  }

  /** The first page for the current filters. */
  async load(): Promise<void> {
    if (this.notice === null) {
      this.api.historyNotice().then(
        (notice) => (this.notice = notice),
        () => {},
      );
    }
    const token = ++this.listToken;
    const filter = this.filter();
    this.loadingMore = false;
    this.error = null;
    // Read ahead: drawn now, in the page's first paint, and read again below.
    const early = takeAhead(filter);
    if (early) {
      this.showFirstPage(early);
      this.loaded = true;
      // Read again once the rows read ahead are on screen.
      await afterPaint();
      if (token !== this.listToken) return;
    } else {
      this.loading = true;
    }
    try {
      const page = await this.api.listReleases(filter);
      if (token !== this.listToken) return;
      // The same rows again (nothing was released meanwhile): the list stays as it is.
      if (!early || JSON.stringify(page) !== JSON.stringify(early)) this.showFirstPage(page);
    } catch (raw) {
      if (token !== this.listToken) return;
      this.rows = [];
      this.loadedIds = new Set();
      this.listGeneration++;
      this.hasMore = false;
      this.error = toSlipwayError(raw);
    } finally {
      if (token === this.listToken) {
        this.loading = false;
        this.loaded = true;
      }
    }
  }

  private showFirstPage(page: ReleaseRecord[]): void {
    this.rows = page;
    this.meet(page);
    this.loadedIds = new Set(page.map((row) => row.id));
    this.listGeneration++;
    this.hasMore = page.length >= PAGE_SIZE;
    if (!this.activeId || !page.some((row) => row.id === this.activeId)) this.activeId = page[0]?.id ?? null;
  }

  /** The next page, after the last row shown. */
  async loadMore(): Promise<void> {
    const last = this.rows[this.rows.length - 1];
    if (!last || this.loading || this.loadingMore) return;
    const token = this.listToken;
    this.loadingMore = true;
    this.error = null;
    try {
      const page = await this.api.listReleases({ ...this.filter(), limit: MORE_PAGE_SIZE, before: last.id });
      if (token !== this.listToken) return;
      const fresh = page.filter((row) => !this.loadedIds.has(row.id));
      for (const row of fresh) this.loadedIds.add(row.id);
      this.rows = this.rows.concat(fresh);
      this.meet(fresh);
      this.hasMore = page.length >= MORE_PAGE_SIZE;
    } catch (raw) {
      if (token === this.listToken) this.error = toSlipwayError(raw);
    } finally {
      if (token === this.listToken) this.loadingMore = false;
    }
  }

  /** Moves the keyboard's row by `delta`; returns the new row's id. */
  move(delta: number): string | null {
    if (this.rows.length === 0) return null;
    const index = this.rows.findIndex((row) => row.id === this.activeId);
    const next = index < 0 ? 0 : Math.min(this.rows.length - 1, Math.max(0, index + delta));
    this.activeId = this.rows[next]?.id ?? null;
    return this.activeId;
  }
}
