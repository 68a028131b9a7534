// The Errors page: a page of the open project's own Sentry project's issues (filtered, sorted, paged by
// Sentry's cursors), the selection and the status changes made on it (shown at once, put back
// if Sentry refuses), and the open issue with one of its events.
import {
  api as defaultApi,
  openExternal as defaultOpenExternal,
  toSlipwayError,
  type Api,
  type FrameView,
  type IssuePage,
  type IssueQuery,
  type IssueSort,
  type IssueStatus,
  type IssueStatusFilter,
  type SentryEvent,
  type SentryIssue,
  type SlipwayError,
} from "../ipc";

export type ErrorsApi = Pick<Api, "sentryIssues" | "sentryIssue" | "sentryEvent" | "setIssueStatus"> & {
  /** Opens a web address in the system browser (Sentry's own page of an issue). */
  openExternal(url: string): Promise<void>;
};

const defaultErrorsApi: ErrorsApi = {
  sentryIssues: defaultApi.sentryIssues,
  sentryIssue: defaultApi.sentryIssue,
  sentryEvent: defaultApi.sentryEvent,
  setIssueStatus: defaultApi.setIssueStatus,
  openExternal: defaultOpenExternal,
};

/** Sentry's largest page: one request shows as much as it can. */
export const PAGE_SIZE = 100;
export const TYPING_DELAY_MS = 300;
export const FILTERS_KEY = "slipway.errors.filters";

/** Which release the list is narrowed to: the props say which versions these are. */
export type ReleaseChoice = "any" | "current" | "currentNew" | "live" | "liveNew";
export type Period = "24h" | "7d" | "14d" | "30d" | "";

export interface ErrorFilters {
  status: IssueStatusFilter;
  environment: string;
  release: ReleaseChoice;
  /** Sentry search syntax, passed on as typed. */
  text: string;
  sort: IssueSort;
  /** Empty: no period (Sentry's own default). */
  period: Period;
}

const STATUSES: IssueStatusFilter[] = ["unresolved", "resolved", "ignored", "all"];
const RELEASES: ReleaseChoice[] = ["any", "current", "currentNew", "live", "liveNew"];
const SORTS: IssueSort[] = ["lastSeen", "firstSeen", "events", "users"];
const PERIODS: Period[] = ["24h", "7d", "14d", "30d", ""];

export function defaultFilters(): ErrorFilters {
  // Sentry's own issue stream opens on the unresolved ones of the last 14 days, latest first.
  return { status: "unresolved", environment: "", release: "any", text: "", sort: "lastSeen", period: "14d" };
}

function oneOf<T extends string>(allowed: readonly T[], value: unknown): value is T {
  return typeof value === "string" && (allowed as readonly string[]).includes(value);
}

/** The saved filters, each one that reads correctly; the defaults for the rest. */
export function loadFilters(): ErrorFilters {
  const filters = defaultFilters();
  try {
    const raw = globalThis.localStorage?.getItem(FILTERS_KEY);
    if (!raw) return filters;
    const saved: unknown = JSON.parse(raw);
    if (typeof saved !== "object" || saved === null) return filters;
    const value = saved as Partial<Record<keyof ErrorFilters, unknown>>;
    if (oneOf(STATUSES, value.status)) filters.status = value.status;
    if (typeof value.environment === "string") filters.environment = value.environment;
    if (oneOf(RELEASES, value.release)) filters.release = value.release;
    if (typeof value.text === "string") filters.text = value.text;
    if (oneOf(SORTS, value.sort)) filters.sort = value.sort;
    if (oneOf(PERIODS, value.period)) filters.period = value.period;
  } catch {
    // Unreadable: start from the defaults.
  }
  return filters;
}

function saveFilters(filters: ErrorFilters): void {
  try {
    globalThis.localStorage?.setItem(FILTERS_KEY, JSON.stringify(filters));
  } catch {
    // Storage full or unavailable: the filters just do not survive a restart.
  }
}

/** Whether an issue with `status` belongs in a list filtered by `filter`. */
export function statusMatches(filter: IssueStatusFilter, status: string): boolean {
  return filter === "all" || filter === status;
}

export const levelWords: Record<string, string> = {
  fatal: "Fatal",
  error: "Error",
  warning: "Warning",
  info: "Info",
  debug: "Debug",
};
export const levelIcons: Record<string, string> = { fatal: "‼", error: "✖", warning: "⚠", info: "ℹ", debug: "•" };

export const statusWords: Record<string, string> = { unresolved: "Unresolved", resolved: "Resolved", ignored: "Ignored" };
export const statusIcons: Record<string, string> = { unresolved: "○", resolved: "✓", ignored: "⊘" };

/** What the buttons say and what they tell a person happened. */
export const actionWords: Record<IssueStatus, { button: string; done: string }> = {
  resolved: { button: "Resolve", done: "resolved" },
  ignored: { button: "Ignore", done: "ignored" },
  unresolved: { button: "Unresolve", done: "marked unresolved" },
};

/**
 * A Sentry release as a person reads it: a full commit id in it (40 hex characters) cut to
 * its first 7, as git shows a commit (`shop@0123456`); any other name as it is.
 */
export function shortRelease(version: string): string {
  return version.replace(/(?<![0-9a-f])[0-9a-f]{40}(?![0-9a-f])/gi, (commit) => commit.slice(0, 7));
}

export function levelWord(level: string): string {
  return levelWords[level] ?? (level ? level[0]!.toUpperCase() + level.slice(1) : "Unknown");
}

export function statusWord(status: string): string {
  return statusWords[status] ?? status;
}

/** A frame and where it sits in the exception's own list (the key of its open state). */
export interface NumberedFrame {
  frame: FrameView;
  index: number;
}

/** Consecutive frames that are all the project's own, or all a library's. */
export interface FrameRun {
  library: boolean;
  /** Folded behind a "Show N library frames" button until asked for. */
  foldable: boolean;
  frames: NumberedFrame[];
}

/**
 * The frames where it failed first (Sentry stores them oldest call first), in runs. Library runs
 * fold, unless the trace has no frame of the project's own: then nothing would show at all.
 */
export function frameRuns(frames: FrameView[]): FrameRun[] {
  const anyOwn = frames.some((frame) => frame.inApp);
  const runs: FrameRun[] = [];
  for (let index = frames.length - 1; index >= 0; index--) {
    const frame = frames[index]!;
    const library = !frame.inApp;
    const last = runs[runs.length - 1];
    if (last && last.library === library) last.frames.push({ frame, index });
    else runs.push({ library, foldable: library && anyOwn, frames: [{ frame, index }] });
  }
  return runs;
}

export class ErrorsStore {
  filters = $state<ErrorFilters>(loadFilters());
  /** The versions "this release" and "the live one" stand for; null: not known, not offered. */
  currentRelease = $state<string | null>(null);
  liveRelease = $state<string | null>(null);
  projectPath = $state<string | null>(null);

  /** The page shown. Raw: rows are replaced whole, and a page is read far more than changed. */
  issues = $state.raw<SentryIssue[]>([]);
  nextCursor = $state<string | null>(null);
  previousCursor = $state<string | null>(null);
  /** The cursor of the page shown (null: the first). */
  cursor = $state<string | null>(null);
  pageNumber = $state(1);
  loading = $state(false);
  loaded = $state(false);
  error = $state<SlipwayError | null>(null);

  /** Ids ticked on this page. */
  selected = $state.raw<ReadonlySet<string>>(new Set());
  /** A status change Sentry refused (the rows are back as they were). */
  actionError = $state<SlipwayError | null>(null);
  actionMessage = $state<string | null>(null);

  /** The issue whose detail is shown: may have left the list (resolved while open). */
  openIssue = $state.raw<SentryIssue | null>(null);
  event = $state.raw<SentryEvent | null>(null);
  eventLoading = $state(false);
  eventError = $state<SlipwayError | null>(null);
  linkError = $state<SlipwayError | null>(null);

  /** The open issue was reached from elsewhere (the watch's link): it shows on its own view,
   * without the list, until the person goes back or asks for all errors. */
  focused = $state(false);
  /** Told of every status change Sentry took, so counts kept elsewhere (the header's) follow. */
  onStatusChanged: ((ids: string[], status: IssueStatus) => void) | null = null;

  private listToken = 0;
  private eventToken = 0;
  private typingTimer: ReturnType<typeof setTimeout> | null = null;
  /** Status changes on their way: a page arriving meanwhile shows them already made. */
  private pendingStatus = new Map<string, IssueStatus>();

  constructor(private readonly api: ErrorsApi = defaultErrorsApi) {}

  /** The release filter as it applies now: a choice whose version is unknown is "any". */
  get releaseChoice(): ReleaseChoice {
    const choice = this.filters.release;
    if ((choice === "current" || choice === "currentNew") && !this.currentRelease) return "any";
    if ((choice === "live" || choice === "liveNew") && !this.liveRelease) return "any";
    return choice;
  }

  /** Any filter beyond the status and the period narrows the list. */
  get narrowed(): boolean {
    const { environment, text } = this.filters;
    return environment.trim() !== "" || text.trim() !== "" || this.releaseChoice !== "any";
  }

  /** What Sentry is asked, for the page at `cursor`. */
  query(cursor: string | null = this.cursor): IssueQuery {
    const { status, environment, text, sort, period } = this.filters;
    const choice = this.releaseChoice;
    const version = choice.startsWith("current") ? this.currentRelease : choice.startsWith("live") ? this.liveRelease : null;
    const isNew = choice.endsWith("New");
    return {
      status,
      environment: environment.trim() || null,
      release: isNew ? null : version,
      firstRelease: isNew ? version : null,
      text: text.trim() || null,
      sort,
      period: period || null,
      cursor,
      limit: PAGE_SIZE,
    };
  }

  /** The page shows, or the open project changed: the same page afresh, or another project's first. */
  setProject(path: string | null): void {
    if (path === this.projectPath && (this.loaded || this.loading)) {
      if (!this.loading) void this.refresh();
      return;
    }
    this.projectPath = path;
    this.close();
    void this.load(null);
  }

  /** The versions behind "this release" and "the live one"; reloads when the list uses them. */
  setReleases(current: string | null, live: string | null): void {
    if (current === this.currentRelease && live === this.liveRelease) return;
    const before = this.query(null);
    this.currentRelease = current;
    this.liveRelease = live;
    const after = this.query(null);
    if (this.loaded && (before.release !== after.release || before.firstRelease !== after.firstRelease)) {
      void this.load(null);
    }
  }

  /** Changes filters and shows the first page at once; typed ones go through `type`. */
  setFilters(change: Partial<ErrorFilters>): void {
    Object.assign(this.filters, change);
    saveFilters($state.snapshot(this.filters));
    this.cancelTyping();
    void this.load(null);
  }

  /** The search text or the environment; the list follows a moment after the typing stops. */
  typeFilter(change: Partial<Pick<ErrorFilters, "text" | "environment">>): void {
    Object.assign(this.filters, change);
    saveFilters($state.snapshot(this.filters));
    this.cancelTyping();
    this.typingTimer = setTimeout(() => {
      this.typingTimer = null;
      void this.load(null);
    }, TYPING_DELAY_MS);
  }

  clearFilters(): void {
    const { status, sort, period } = this.filters;
    this.setFilters({ ...defaultFilters(), status, sort, period });
  }

  private cancelTyping(): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.typingTimer = null;
  }

  /** The page at `cursor` (null: the first); the page number follows the way it was reached. */
  async load(cursor: string | null = this.cursor, pageNumber = cursor === null ? 1 : this.pageNumber): Promise<void> {
    const token = ++this.listToken;
    const query = this.query(cursor);
    const path = this.projectPath;
    this.error = null;
    if (path === null) {
      // Only a project's own Sentry project is shown: with none open there is nothing to ask.
      this.issues = [];
      this.nextCursor = null;
      this.previousCursor = null;
      this.selected = new Set();
      this.loading = false;
      this.loaded = true;
      return;
    }
    this.loading = true;
    try {
      const page: IssuePage = await this.api.sentryIssues(path, query);
      if (token !== this.listToken) return;
      this.cursor = cursor;
      this.pageNumber = pageNumber;
      this.issues = this.withPending(page.issues);
      this.nextCursor = page.next;
      this.previousCursor = page.previous;
      // Ticks on rows no longer shown would act on issues the person cannot see.
      const shown = new Set(this.issues.map((issue) => issue.id));
      this.selected = new Set([...this.selected].filter((id) => shown.has(id)));
    } catch (raw) {
      if (token !== this.listToken) return;
      this.error = toSlipwayError(raw);
    } finally {
      if (token === this.listToken) {
        this.loading = false;
        this.loaded = true;
      }
    }
  }

  /** The open project is linked to no Sentry project (the backend said so). */
  get notLinked(): boolean {
    return this.error?.action === "linkSentry";
  }

  refresh(): Promise<void> {
    return this.load(this.cursor, this.pageNumber);
  }

  nextPage(): Promise<void> {
    if (!this.nextCursor) return Promise.resolve();
    return this.load(this.nextCursor, this.pageNumber + 1);
  }

  previousPage(): Promise<void> {
    if (!this.previousCursor) return Promise.resolve();
    return this.load(this.previousCursor, Math.max(1, this.pageNumber - 1));
  }

  private withPending(issues: SentryIssue[]): SentryIssue[] {
    if (this.pendingStatus.size === 0) return issues;
    const shown: SentryIssue[] = [];
    for (const issue of issues) {
      const status = this.pendingStatus.get(issue.id);
      const updated = status ? { ...issue, status } : issue;
      if (statusMatches(this.filters.status, updated.status)) shown.push(updated);
    }
    return shown;
  }

  toggleSelected(id: string, on: boolean): void {
    const next = new Set(this.selected);
    if (on) next.add(id);
    else next.delete(id);
    this.selected = next;
  }

  get allSelected(): boolean {
    return this.issues.length > 0 && this.issues.every((issue) => this.selected.has(issue.id));
  }

  selectAll(on: boolean): void {
    this.selected = on ? new Set(this.issues.map((issue) => issue.id)) : new Set();
  }

  /** Resolves, ignores or unresolves the ticked issues. */
  actOnSelected(status: IssueStatus): Promise<boolean> {
    return this.setStatus([...this.selected], status);
  }

  /**
   * Changes the issues' status at once on screen (a row the status filter no longer takes
   * leaves), then asks Sentry; if Sentry refuses, the rows come back as they were.
   */
  async setStatus(ids: string[], status: IssueStatus): Promise<boolean> {
    if (ids.length === 0) return false;
    const affected = new Set(ids);
    const before = this.issues;
    const openBefore = this.openIssue;
    const selectedBefore = this.selected;
    const previousPending = new Map(ids.map((id) => [id, this.pendingStatus.get(id)]));
    for (const id of ids) this.pendingStatus.set(id, status);

    this.actionError = null;
    this.actionMessage = null;
    this.issues = this.withPending(before);
    if (openBefore && affected.has(openBefore.id)) this.openIssue = { ...openBefore, status };
    this.selected = new Set([...this.selected].filter((id) => !affected.has(id)));

    try {
      const path = this.projectPath;
      if (path === null) throw new Error("no project is open");
      await this.api.setIssueStatus(path, ids, status);
      this.onStatusChanged?.(ids, status);
      const count = ids.length;
      this.actionMessage = `${count} ${count === 1 ? "error" : "errors"} ${actionWords[status].done}.`;
      return true;
    } catch (raw) {
      this.restore(before, affected);
      if (openBefore && this.openIssue?.id === openBefore.id) this.openIssue = openBefore;
      // Ticked again as they were, so trying once more (after fixing the token) is one click.
      const retick = [...selectedBefore].filter((id) => affected.has(id));
      this.selected = new Set([...this.selected, ...retick]);
      this.actionError = toSlipwayError(raw);
      return false;
    } finally {
      for (const [id, earlier] of previousPending) {
        if (this.pendingStatus.get(id) !== status) continue;
        if (earlier) this.pendingStatus.set(id, earlier);
        else this.pendingStatus.delete(id);
      }
    }
  }

  /** Puts the `affected` rows of `before` back where they were, leaving every other row as it is now. */
  private restore(before: SentryIssue[], affected: Set<string>): void {
    const originals = new Map(before.filter((issue) => affected.has(issue.id)).map((issue) => [issue.id, issue]));
    const rows = this.issues.map((issue) => originals.get(issue.id) ?? issue);
    const present = new Set(rows.map((issue) => issue.id));
    before.forEach((issue, index) => {
      if (affected.has(issue.id) && !present.has(issue.id)) rows.splice(Math.min(index, rows.length), 0, issue);
    });
    this.issues = rows;
  }

  /** Shows an issue and its latest event; the issue's own detail adds what the list lacks. */
  async open(issue: SentryIssue): Promise<void> {
    this.openIssue = issue;
    // Never another issue's event under this one's title, even for a moment.
    this.event = null;
    this.linkError = null;
    const path = this.projectPath;
    if (path === null) return;
    this.api.sentryIssue(path, issue.id).then(
      (full) => {
        // The list's status may be newer (an action on its way); the rest fills in.
        if (this.openIssue?.id === full.id) this.openIssue = { ...full, status: this.openIssue.status };
      },
      () => {
        // The list's copy is enough to read the issue.
      },
    );
    await this.showEvent(null);
  }

  /**
   * Opens the issue `id` on its own view: the copy the caller knows at once (the watch's),
   * else Sentry's, asked for now.
   */
  async openById(id: string, known: SentryIssue | null = null): Promise<void> {
    this.focused = true;
    if (known) return this.open(known);
    const path = this.projectPath;
    if (path === null) return;
    try {
      const issue = await this.api.sentryIssue(path, id);
      if (this.focused && this.projectPath === path) await this.open(issue);
    } catch (raw) {
      if (this.focused) this.eventError = toSlipwayError(raw);
    }
  }

  /** From an issue's own view to the whole list. */
  showList(): void {
    this.close();
  }

  /** The open issue's event `eventId` (null: its latest). */
  async showEvent(eventId: string | null): Promise<void> {
    const issue = this.openIssue;
    const path = this.projectPath;
    if (!issue || path === null) return;
    const token = ++this.eventToken;
    this.eventLoading = true;
    this.eventError = null;
    try {
      const event = await this.api.sentryEvent(path, issue.id, eventId);
      if (token !== this.eventToken) return;
      this.event = event;
    } catch (raw) {
      if (token !== this.eventToken) return;
      this.event = null;
      this.eventError = toSlipwayError(raw);
    } finally {
      if (token === this.eventToken) this.eventLoading = false;
    }
  }

  close(): void {
    this.focused = false;
    this.eventToken++;
    this.openIssue = null;
    this.event = null;
    this.eventError = null;
    this.eventLoading = false;
    this.linkError = null;
  }

  /** The open issue's page on Sentry, in the system browser. */
  async openInSentry(): Promise<void> {
    const url = this.openIssue?.permalink;
    if (!url) return;
    this.linkError = null;
    try {
      await this.api.openExternal(url);
    } catch (raw) {
      this.linkError = toSlipwayError(raw);
    }
  }
}
