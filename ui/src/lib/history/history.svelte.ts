// The release history: the filtered list (a page at a time), the chosen release's detail and
// the pages of its steps' logs, and the export of what the filters show.
import {
  api as defaultApi,
  toSlipwayError,
  type Api,
  type ExportFormat,
  type GateReport,
  type HistoryFilter,
  type LiveNow,
  type LintReport,
  type Outcome,
  type ReleaseDetail,
  type ReleaseRecord,
  type ReleaseSummary,
  type SlipwayError,
  type StepState,
  type TestReport,
} from "../ipc";
import { environmentLabel, environmentTitle } from "../project/environments";

export type HistoryApi = Pick<
  Api,
    | "listReleases"
  | "releaseDetail"
  | "releaseLog"
  | "exportReleases"
  | "exportRelease"
  | "startRollback"
  | "startPromote"
  | "startResume"
  | "historyNotice"
  | "liveNow"
>;

export const PAGE_SIZE = 100;
export const LOG_PAGE = 200;
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
}

const OUTCOMES: Outcome[] = ["running", "live", "failed", "canceled", "error", "interrupted"];

export function emptyFilters(): Filters {
  return { scope: "project", outcome: "", environment: "", since: "", until: "", search: "" };
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

function saveFilters(filters: Filters): void {
  try {
    globalThis.localStorage?.setItem(FILTERS_KEY, JSON.stringify(filters));
  } catch {
    // Storage full or unavailable: the filters just do not survive a restart.
  }
}

export interface Results {
  tests: TestReport | null;
  lint: LintReport | null;
  gates: GateReport[];
}

/** The detail's structured results, sorted into the tests, lint and gate reports. */
export function sortResults(detail: ReleaseDetail | null): Results {
  const results: Results = { tests: null, lint: null, gates: [] };
  for (const result of detail?.results ?? []) {
    const report = result.report;
    if (report === null || typeof report !== "object") continue;
    if (result.step === "tests") results.tests = report as TestReport;
    else if (result.step === "lint") results.lint = report as LintReport;
    else if (result.step === "checks") {
      for (const gate of Array.isArray(report) ? report : [report]) {
        if (gate && typeof gate === "object") results.gates.push(gate as GateReport);
      }
    }
  }
  return results;
}

export class HistoryStore {
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
  /** The release whose detail is shown. */
  openId = $state<string | null>(null);
  detail = $state<ReleaseDetail | null>(null);
  detailLoading = $state(false);
  detailError = $state<SlipwayError | null>(null);

  logStep = $state<string | null>(null);
  logSearch = $state("");
  logLines = $state<string[]>([]);
  logTotal = $state(0);
  logVersion = $state(0);
  logLoading = $state(false);
  logError = $state<SlipwayError | null>(null);

  exporting = $state(false);
  exportMessage = $state<string | null>(null);
  exportError = $state<SlipwayError | null>(null);

  private listToken = 0;
  /** The ids in `rows`, so a page never adds a row twice (without scanning every row). */
  private loadedIds = new Set<string>();
  private detailToken = 0;
  private logToken = 0;
  private searchTimer: ReturnType<typeof setTimeout> | null = null;
  private logSearchTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly api: HistoryApi = defaultApi) {}

  /** Showing all projects: chosen, or no project is open. */
  get allProjects(): boolean {
    return this.filters.scope === "all" || this.projectPath === null;
  }

  /** Any filter beyond the project is set. */
  get filtered(): boolean {
    const { outcome, environment, since, until, search } = this.filters;
    return outcome !== "" || environment !== "" || since !== "" || until !== "" || search.trim() !== "";
  }

  /** The filter the backend gets, without paging. */
  filter(): HistoryFilter {
    const { outcome, environment, since, until, search } = this.filters;
    return {
      projectPath: this.allProjects ? null : this.projectPath,
      outcome: outcome === "" ? null : outcome,
      target: null,
      ...(environment === "" ? {} : { environment }),
      since: since === "" ? null : since,
      until: until === "" ? null : dayAfter(until),
      search: search.trim() === "" ? null : search.trim(),
      limit: PAGE_SIZE,
      before: null,
    };
  }

  /** What runs now for the open project, per target, as the targets say. */
  live = $state<LiveNow[]>([]);

  /** Asks the targets what runs (Docker, Render); a failure leaves the banner out. */
  async loadLive(): Promise<void> {
    const path = this.projectPath;
    if (path === null) {
      this.live = [];
      return;
    }
    try {
      const live = await this.api.liveNow(path);
      if (path === this.projectPath) this.live = live;
    } catch {
      this.live = [];
    }
  }

  /** The open project changed (or none is open): reload. */
  setProject(path: string | null, name: string | null): void {
    if (path === this.projectPath && name === this.projectName && this.loaded) return;
    this.projectPath = path;
    this.projectName = name;
    void this.load();
    void this.loadLive();
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
    this.setFilters({ outcome: "", environment: "", since: "", until: "" });
  }

  /** What to know about the history file itself (damaged and replaced, or newer). */
  notice = $state<string | null>(null);

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
    this.loading = true;
    this.loadingMore = false;
    this.error = null;
    try {
      const page = await this.api.listReleases(filter);
      if (token !== this.listToken) return;
      this.rows = page;
      this.loadedIds = new Set(page.map((row) => row.id));
      this.listGeneration++;
      this.hasMore = page.length >= PAGE_SIZE;
      if (!this.activeId || !page.some((row) => row.id === this.activeId)) this.activeId = page[0]?.id ?? null;
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

  /** The next page, after the last row shown. */
  async loadMore(): Promise<void> {
    const last = this.rows[this.rows.length - 1];
    if (!last || this.loading || this.loadingMore) return;
    const token = this.listToken;
    this.loadingMore = true;
    this.error = null;
    try {
      const page = await this.api.listReleases({ ...this.filter(), before: last.id });
      if (token !== this.listToken) return;
      const fresh = page.filter((row) => !this.loadedIds.has(row.id));
      for (const row of fresh) this.loadedIds.add(row.id);
      this.rows = this.rows.concat(fresh);
      this.hasMore = page.length >= PAGE_SIZE;
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

  /** Shows a release's detail and the log of its most telling step. */
  async open(releaseId: string): Promise<void> {
    const token = ++this.detailToken;
    this.activeId = releaseId;
    this.openId = releaseId;
    this.detail = null;
    this.detailError = null;
    this.detailLoading = true;
    this.resetLog(null);
    try {
      const detail = await this.api.releaseDetail(releaseId);
      if (token !== this.detailToken) return;
      this.detail = detail;
      const steps = detail.release.steps;
      const telling =
        steps.find((step) => step.state === "failed") ??
        steps.find((step) => step.state === "running" || step.state === "interrupted") ??
        steps.find((step) => step.state !== "pending" && step.state !== "skipped") ??
        steps[0];
      if (telling) await this.showLog(telling.name);
    } catch (raw) {
      if (token === this.detailToken) this.detailError = toSlipwayError(raw);
    } finally {
      if (token === this.detailToken) this.detailLoading = false;
    }
  }

  close(): void {
    this.detailToken++;
    this.openId = null;
    this.detail = null;
    this.detailError = null;
    this.detailLoading = false;
    this.resetLog(null);
  }

  /** The log of another step, from its first line. */
  async showLog(step: string): Promise<void> {
    this.resetLog(step);
    await this.fetchLog();
  }

  /** Only the lines holding `text`; follows a moment after the typing stops. */
  setLogSearch(text: string): void {
    this.logSearch = text;
    if (this.logSearchTimer) clearTimeout(this.logSearchTimer);
    this.logSearchTimer = setTimeout(() => {
      this.logSearchTimer = null;
      if (this.logStep) void this.showLog(this.logStep);
    }, SEARCH_DELAY_MS);
  }

  get logHasMore(): boolean {
    return this.logLines.length < this.logTotal;
  }

  /** The next 200 lines. */
  async moreLog(): Promise<void> {
    if (this.logLoading || !this.logHasMore) return;
    await this.fetchLog();
  }

  private resetLog(step: string | null): void {
    this.logToken++;
    this.logStep = step;
    this.logLines = [];
    this.logTotal = 0;
    this.logVersion++;
    this.logError = null;
    this.logLoading = false;
  }

  private async fetchLog(): Promise<void> {
    const releaseId = this.openId;
    const step = this.logStep;
    if (!releaseId || !step) return;
    const token = this.logToken;
    const search = this.logSearch.trim() === "" ? null : this.logSearch.trim();
    this.logLoading = true;
    this.logError = null;
    try {
      const page = await this.api.releaseLog(releaseId, step, this.logLines.length, LOG_PAGE, search);
      if (token !== this.logToken) return;
      this.logLines.push(...page.lines);
      this.logTotal = page.total;
      this.logVersion++;
    } catch (raw) {
      if (token === this.logToken) this.logError = toSlipwayError(raw);
    } finally {
      if (token === this.logToken) this.logLoading = false;
    }
  }

  /** A rollback or promotion this page started, while it runs and once it ended. */
  shipping = $state(false);
  shipMessage = $state<string | null>(null);
  shipError = $state<SlipwayError | null>(null);

  /** Ships `release` again on its environment (no gates run), then shows the rollback's record. */
  rollBackTo(release: ReleaseRecord): Promise<void> {
    return this.ship("Rolling back…", "rollback", release, () =>
      this.api.startRollback(release.projectPath, environmentOf(release), release.id, () => {}),
    );
  }

  /** Ships the image of live `release` to the environment `to` (`null`: the next one in its
   * project's chain), then shows the promotion. */
  promote(release: ReleaseRecord, to: string | null): Promise<void> {
    this.promotedTo = to;
    return this.ship(`Promoting to ${to ? environmentLabel(to) : "the next environment"}…`, "promotion", release, () =>
      this.api.startPromote(release.projectPath, release.id, to, () => {}),
    );
  }

  /** Where the last promotion went, for its message. */
  private promotedTo: string | null = null;

  /** Runs what an interrupted release had left, then shows the resumed release. */
  resume(release: ReleaseRecord): Promise<void> {
    return this.ship("Resuming…", "resume", release, () =>
      this.api.startResume(release.projectPath, release.id, () => {}),
    );
  }

  private async ship(
    running: string,
    what: "rollback" | "promotion" | "resume",
    release: ReleaseRecord,
    start: () => Promise<ReleaseSummary>,
  ): Promise<void> {
    if (this.shipping) return;
    this.shipping = true;
    this.shipMessage = running;
    this.shipError = null;
    try {
      const summary = await start();
      const ended = summary.outcome === "canceled" ? "was cancelled" : "failed";
      this.shipMessage =
        summary.outcome === "live"
          ? {
              rollback: `Rolled back: release ${release.id} is live again${summary.url ? ` at ${summary.url}` : ""}.`,
              promotion: `Promoted: release ${release.id}'s image is live on ${this.promotedTo ? environmentLabel(this.promotedTo) : "the next environment"}${summary.url ? ` at ${summary.url}` : ""}.`,
              resume: `Resumed: release ${release.id} is live${summary.url ? ` at ${summary.url}` : ""}.`,
            }[what]
          : `The ${what} ${ended}${summary.message ? `: ${summary.message}` : "."}`;
      if (summary.error) this.shipError = toSlipwayError(summary.error);
      await this.load();
      await this.open(summary.releaseId);
    } catch (raw) {
      this.shipMessage = null;
      this.shipError = toSlipwayError(raw);
    } finally {
      this.shipping = false;
    }
  }

  /** Writes the open release, with its results and every step's log, to a file the person picks. */
  async exportOpen(): Promise<void> {
    const release = this.detail?.release;
    if (!release || this.exporting) return;
    this.exporting = true;
    this.exportMessage = null;
    this.exportError = null;
    try {
      const saved = await this.api.exportRelease(release.id);
      if (saved) this.exportMessage = `Exported release ${release.id} with its logs.`;
    } catch (raw) {
      this.exportError = toSlipwayError(raw);
    } finally {
      this.exporting = false;
    }
  }

  /** Writes what the filters show (every page) to a file the person picks. */
  async exportAs(format: ExportFormat): Promise<void> {
    if (this.exporting) return;
    this.exporting = true;
    this.exportMessage = null;
    this.exportError = null;
    try {
      const count = await this.api.exportReleases({ ...this.filter(), limit: null, before: null }, format);
      if (count !== null) this.exportMessage = `Exported ${count} ${count === 1 ? "release" : "releases"}.`;
    } catch (raw) {
      this.exportError = toSlipwayError(raw);
    } finally {
      this.exporting = false;
    }
  }
}

// Words a person reads, never colour alone.

export const outcomeWords: Record<Outcome, string> = {
  running: "Running",
  live: "Live",
  failed: "Failed",
  canceled: "Cancelled",
  error: "Error",
  interrupted: "Interrupted",
};

export const outcomeIcons: Record<Outcome, string> = {
  running: "⟳",
  live: "✓",
  failed: "✗",
  canceled: "⊘",
  error: "!",
  interrupted: "⏸",
};

export const stepWords: Record<StepState, string> = {
  pending: "not reached",
  running: "running",
  passed: "passed",
  failed: "failed",
  skipped: "skipped",
  canceled: "cancelled",
  interrupted: "interrupted",
};

export const stepIcons: Record<StepState, string> = {
  pending: "○",
  running: "⟳",
  passed: "✓",
  failed: "✗",
  skipped: "–",
  canceled: "⊘",
  interrupted: "⏸",
};

export const stepNames: Record<string, string> = {
  tests: "Tests",
  lint: "Lint",
  checks: "Other checks",
  build: "Build",
  push: "Push",
  deploy: "Deploy",
  verify: "Verify",
  sentry: "Sentry release",
  watch: "Sentry watch",
};

export function stepName(step: string): string {
  return stepNames[step] ?? step;
}

export function targetWords(target: string): string {
  if (target === "local") return "This computer";
  if (target === "render") return "Render";
  return target;
}

/** The environment a release went to, by name; a Render release from before environments has
 * none (`null`: the project's default Render environment). */
export function environmentOf(release: ReleaseRecord): string | null {
  return release.environment ?? (release.target === "local" ? "local" : null);
}

/** Where a release went, as a list names it: "This computer", "production", or "Render". */
export function environmentWords(release: Pick<ReleaseRecord, "environment" | "target">): string {
  return release.environment ? environmentTitle(release.environment) : targetWords(release.target);
}

export function kindWords(kind: string): string {
  if (kind === "rollback") return "Rollback";
  if (kind === "promote") return "Promotion";
  if (kind === "resume") return "Resumed release";
  if (kind === "release") return "Release";
  return kind;
}

/** "1 min 12 s" from two RFC 3339 instants; null while it runs or without times. */
export function duration(startedAt: string | null, endedAt: string | null): string | null {
  if (!startedAt || !endedAt) return null;
  const ms = Date.parse(endedAt) - Date.parse(startedAt);
  if (!Number.isFinite(ms) || ms < 0) return null;
  return formatDuration(ms);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return "under 1 s";
  const total = Math.round(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  if (minutes > 0) return seconds > 0 ? `${minutes} min ${seconds} s` : `${minutes} min`;
  return `${seconds} s`;
}

/** The local date and time, readable: "24 Nov 2026, 10:00". */
export function when(instant: string | null): string {
  if (!instant) return "";
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return instant;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function shortCommit(commit: string | null): string | null {
  return commit ? commit.slice(0, 7) : null;
}

/** The first 12 hex characters of a `sha256:` digest. */
export function shortDigest(digest: string | null): string | null {
  if (!digest) return null;
  return digest.replace(/^sha256:/, "").slice(0, 12);
}

/** The tag of an image reference (`host:5000/shop:3f2a1bc` → `3f2a1bc`), else the whole reference. */
export function imageTag(image: string | null): string | null {
  if (!image) return null;
  const withoutDigest = image.split("@")[0] ?? image;
  const colon = withoutDigest.lastIndexOf(":");
  return colon > withoutDigest.lastIndexOf("/") ? withoutDigest.slice(colon + 1) : withoutDigest;
}
