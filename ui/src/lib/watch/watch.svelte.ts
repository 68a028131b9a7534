// The watch after a release: Sentry asked, for a while, for issues first seen in the release
// that just went live, and the one-click way back to the last good release when some come.
// It lives as long as the window (like the release itself), so leaving the page stops nothing.
import {
  api as defaultApi,
  toSlipwayError,
  type Api,
  type AutoRolledBack,
  type IssueStatus,
  type ReleaseRecord,
  type ReleaseSummary,
  type SentryIssue,
  type SlipwayError,
  type Step,
  type WatchEvent,
  type WatchSummary,
} from "../ipc";
import type { RunProject } from "../release/run.svelte";

export type WatchApi = Pick<Api, "listAccounts" | "startWatch" | "stopWatch" | "startRollback" | "listReleases">;

/** What a rollback from the watch would replace and ship: the release live on the target now,
 * and the one that went live there before it. */
export interface RollbackChoice {
  live: ReleaseRecord | null;
  lastGood: ReleaseRecord;
}

/** How a watch ended: its time ran out, the person stopped it, or it failed. */
export interface WatchEnd {
  how: "time" | "stopped" | "failed";
  /** By this window's clock. */
  at: number;
  error: SlipwayError | null;
}

export interface RollbackView {
  running: boolean;
  /** The step running now, for "Rolling back… · Deploy". */
  step: Step | null;
  /** The release shipped again, once the backend names it. */
  sourceId: string | null;
  summary: ReleaseSummary | null;
  error: SlipwayError | null;
}

export class WatchStore {
  /** The project watched (or last watched); `null` before any watch. */
  project = $state<RunProject | null>(null);
  /** The environment the watched release went to (`local`, `production`): a rollback goes there. */
  target = $state<string | null>(null);
  releaseId = $state<string | null>(null);
  /** The release's name in Sentry. */
  version = $state<string | null>(null);
  /** RFC 3339, when the watch ends by itself. */
  until = $state<string | null>(null);
  issues = $state<SentryIssue[]>([]);
  checkedAt = $state<string | null>(null);
  /** Sentry could not be asked the last time; the watch goes on and asks again. */
  trouble = $state<string | null>(null);
  watching = $state(false);
  stopping = $state(false);
  ended = $state<WatchEnd | null>(null);
  rollback = $state<RollbackView | null>(null);
  /** The environment's automatic rollback fired (too many new issues too soon): how it went. */
  automatic = $state<AutoRolledBack | null>(null);
  /** `null`: nothing went live there before, so no rollback is offered. */
  rollbackChoice = $state<RollbackChoice | null>(null);

  /** The release a watch was last asked for, so one live release starts one watch. */
  private askedFor: string | null = null;
  /** Each watch's number: the events of a replaced watch are ignored. */
  private generation = 0;
  private running: Promise<unknown> | null = null;

  constructor(private readonly api: WatchApi = defaultApi) {}

  /** The new issues still open: one resolved or ignored (on the Errors page) no longer counts. */
  get openIssues(): SentryIssue[] {
    return this.issues.filter((issue) => issue.status === "unresolved");
  }

  /** Issues were resolved, ignored or opened again on the Errors page: the count follows. */
  statusChanged(ids: readonly string[], status: IssueStatus): void {
    const changed = new Set(ids);
    if (!this.issues.some((issue) => changed.has(issue.id))) return;
    this.issues = this.issues.map((issue) => (changed.has(issue.id) ? { ...issue, status } : issue));
  }

  /** The watch (running or ended) is about the project at `path`. */
  shows(path: string | null): boolean {
    return path !== null && this.project?.path === path;
  }

  /**
   * A release went live: watches it when a Sentry account is connected, else does nothing.
   * One watch at a time: a newer release replaces the watch of an older one.
   */
  async afterRelease(project: RunProject, target: string, releaseId: string): Promise<void> {
    if (this.askedFor === releaseId) return;
    this.askedFor = releaseId;
    try {
      const accounts = await this.api.listAccounts();
      if (!accounts.some((account) => account.service === "sentry")) return;
    } catch {
      // Without the accounts there is no knowing whether Sentry is there: no watch, no alarm.
      return;
    }
    if (this.askedFor !== releaseId) return;
    await this.start(project, target, releaseId);
  }

  private async start(project: RunProject, target: string, releaseId: string): Promise<void> {
    if (this.watching && this.project) {
      // The backend runs one watch per project: the old one must end before the new one starts.
      const old = this.running;
      await this.api.stopWatch(this.project.path).catch(() => false);
      await old;
    }
    const generation = ++this.generation;
    this.project = project;
    this.target = target;
    this.releaseId = releaseId;
    this.version = null;
    this.until = null;
    this.issues = [];
    this.checkedAt = null;
    this.trouble = null;
    this.ended = null;
    this.rollback = null;
    this.automatic = null;
    this.rollbackChoice = null;
    void this.findLastGood(project.path, target, generation);
    this.watching = true;
    this.stopping = false;
    const watch = this.api.startWatch(project.path, releaseId, (event) => {
      if (generation === this.generation) this.receive(event);
    });
    this.running = watch.catch(() => undefined);
    try {
      const summary = await watch;
      if (generation === this.generation) this.finish(summary);
    } catch (raw) {
      if (generation === this.generation) {
        this.watching = false;
        this.ended = { how: "failed", at: Date.now(), error: toSlipwayError(raw) };
      }
    } finally {
      if (generation === this.generation) this.stopping = false;
    }
  }

  receive(event: WatchEvent): void {
    switch (event.kind) {
      case "started":
        this.releaseId = event.releaseId;
        this.version = event.version;
        this.until = event.until;
        break;
      case "newIssue":
        this.add([event.issue]);
        break;
      case "checked":
        this.checkedAt = event.at;
        this.trouble = null;
        break;
      case "trouble":
        this.trouble = event.message;
        break;
      case "rolledBack":
        this.automatic = { message: event.message, live: event.live };
        break;
      case "ended":
        this.finish(event);
        break;
    }
  }

  /** The end arrives twice (the last event and the call's answer): told once. */
  private finish(summary: WatchSummary): void {
    this.add(summary.newIssues);
    if (summary.rolledBack) this.automatic = summary.rolledBack;
    if (this.ended) return;
    this.watching = false;
    const how = summary.ended === "time" || summary.ended === "stopped" ? summary.ended : "failed";
    this.ended = { how, at: Date.now(), error: summary.error ? toSlipwayError(summary.error) : null };
  }

  private add(issues: SentryIssue[]): void {
    const known = new Set(this.issues.map((issue) => issue.id));
    const fresh = issues.filter((issue) => !known.has(issue.id));
    if (fresh.length > 0) this.issues = [...this.issues, ...fresh];
  }

  /** Stops the watch; its end ("stopped") arrives from the backend. */
  async stop(): Promise<void> {
    if (!this.watching || !this.project || this.stopping) return;
    this.stopping = true;
    try {
      await this.api.stopWatch(this.project.path);
    } catch (raw) {
      // Still watching: say why it did not stop, and let the button be pressed again.
      this.stopping = false;
      this.trouble = toSlipwayError(raw).message;
    }
  }

  /** The two newest releases that went live on `target`: live now, and the one before. */
  private async findLastGood(path: string, target: string, generation: number): Promise<void> {
    try {
      const [live, lastGood] = await this.api.listReleases({
        projectPath: path,
        outcome: "live",
        target: null,
        environment: target,
        since: null,
        until: null,
        search: null,
        limit: 2,
        before: null,
      });
      if (generation !== this.generation) return;
      this.rollbackChoice = lastGood ? { live: live ?? null, lastGood } : null;
    } catch {
      // Not known: no rollback is offered rather than one that may not exist.
      if (generation === this.generation) this.rollbackChoice = null;
    }
  }

  /** Ships the last good release again; once it is live, watching the bad one is over. */
  async rollBack(): Promise<void> {
    const project = this.project;
    const target = this.target;
    if (!project || !target || this.rollback?.running) return;
    const view: RollbackView = { running: true, step: null, sourceId: null, summary: null, error: null };
    this.rollback = view;
    const current = () => this.rollback;
    try {
      // The release the person was asked about, not whatever the backend would call the
      // last good one: what was confirmed is what ships.
      const to = this.rollbackChoice?.lastGood.id ?? null;
      const summary = await this.api.startRollback(project.path, target, to, (event) => {
        const shown = current();
        if (!shown) return;
        if (event.kind === "rollbackStarted") shown.sourceId = event.sourceId;
        if (event.kind === "step" && event.state === "running") shown.step = event.step;
      });
      const shown = current();
      if (!shown) return;
      shown.summary = summary;
      if (summary.error) shown.error = toSlipwayError(summary.error);
      if (summary.outcome === "live") void this.stop();
    } catch (raw) {
      const shown = current();
      if (shown) shown.error = toSlipwayError(raw);
    } finally {
      const shown = current();
      if (shown) {
        shown.running = false;
        shown.step = null;
      }
    }
  }
}

/** "HH:MM" in the person's own clock. */
export function hourMinute(at: string | number): string {
  return new Date(at).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/** "1 new issue", "3 new issues". */
export function newIssues(count: number): string {
  return `${count} new ${count === 1 ? "issue" : "issues"}`;
}
