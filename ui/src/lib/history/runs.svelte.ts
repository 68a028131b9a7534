// The runs History starts: a rollback to a release that went live, a promotion of one to the
// next environment, a resume of an interrupted one. Each is followed by the window's one run
// store, as a release is, so the header shows it on every page and Cancel stops it anywhere;
// here are what starts them, the question a rollback or a promotion asks first (it changes
// what is live), and the sentence that says how each ended.
import { api as defaultApi, toSlipwayError, type Api, type ReleaseRecord, type ReleaseSummary, type SlipwayError } from "../ipc";
import { environmentLabel } from "../project/environments";
import type { RunKind, RunStore } from "../release/run.svelte";
import { environmentOf, promotionQuestion, releaseName, rollbackQuestion } from "./words";

export type RunsApi = Pick<Api, "startRollback" | "startPromote" | "startResume" | "listReleases" | "rollbackCrossing">;

/** A run that changes what is live, waiting for the person's yes. */
export interface Question {
  title: string;
  question: string;
  detail: string;
  /** What it cannot undo (the migrations a rollback leaves in the database), when anything. */
  warning?: string | null;
  confirmLabel: string;
  go: () => Promise<void>;
}

export class HistoryRuns {
  /** How the last run started here ended, in a sentence. */
  message = $state<string | null>(null);
  /** Why it did not start, or how it failed. */
  error = $state<SlipwayError | null>(null);
  /** The rollback or promotion asked about, until it is confirmed or dismissed. */
  asking = $state<Question | null>(null);

  /** `ended`: shows the run's own record once it is over. */
  constructor(
    readonly run: RunStore,
    private readonly api: RunsApi = defaultApi,
    private readonly ended: (releaseId: string) => Promise<void> = async () => {},
  ) {}

  /** A run is going on in the window (this page's or a release): no second one starts. */
  get busy(): boolean {
    return this.run.running;
  }

  /** The release the ledger says is live now on `environment` of the project (`null`: the
   * project's Render releases from before environments), or none. */
  async liveOn(projectPath: string, environment: string | null): Promise<ReleaseRecord | null> {
    const [newest] = await this.api.listReleases({
      projectPath,
      outcome: "live",
      target: environment === null ? "render" : null,
      ...(environment === null ? {} : { environment }),
      since: null,
      until: null,
      search: null,
      limit: 1,
      before: null,
    });
    return newest ?? null;
  }

  /** Asks before rolling `release`'s environment back to it, saying what is live there now. */
  async askRollback(release: ReleaseRecord): Promise<void> {
    const environment = environmentOf(release);
    const where = environment ?? "render";
    // Both read at once; either may fail and the question is still true without it (the
    // rollback itself checks again, and records what it crosses in its deploy step).
    const [live, crossing] = await Promise.all([
      this.liveOn(release.projectPath, environment).catch(() => null),
      this.api.rollbackCrossing(release.projectPath, environment, release.id).catch(() => null),
    ]);
    this.asking = {
      title: "Roll back?",
      question: rollbackQuestion(where, live, release),
      warning: crossing?.warning ?? null,
      detail: `Nothing is built or checked again: the image of ${releaseName(release)} goes live on ${environmentLabel(where)}.`,
      confirmLabel: "Roll back",
      go: () => this.rollBackTo(release),
    };
  }

  /** Asks before promoting live `release` to `to` (`null`: the next environment). */
  async askPromote(release: ReleaseRecord, to: string | null): Promise<void> {
    const from = environmentOf(release) ?? "render";
    let live: ReleaseRecord | null = null;
    if (to) {
      try {
        live = await this.liveOn(release.projectPath, to);
      } catch {
        // Asked without what runs there; the promotion checks again.
      }
    }
    this.asking = {
      title: "Promote?",
      question: promotionQuestion(from, to ?? "the next environment", release, live),
      detail: "The very image goes on: nothing is built or checked again.",
      confirmLabel: to ? `Promote to ${environmentLabel(to)}` : "Promote",
      go: () => this.promote(release, to),
    };
  }

  /** The person said yes: runs what was asked about. */
  confirm(): Promise<void> {
    const asked = this.asking;
    this.asking = null;
    return asked ? asked.go() : Promise.resolve();
  }

  /** The person said no: nothing runs. */
  dismiss(): void {
    this.asking = null;
  }

  /** Ships `release` again on its environment (no gates run), then shows the rollback's record. */
  rollBackTo(release: ReleaseRecord): Promise<void> {
    const where = environmentLabel(environmentOf(release) ?? "render");
    return this.follow(
      "rollback",
      release,
      (url) => `Rolled back: ${releaseName(release)} is live again on ${where}${url}.`,
      (onEvent) => this.api.startRollback(release.projectPath, environmentOf(release), release.id, onEvent),
    );
  }

  /** Ships the image of live `release` to the environment `to` (`null`: the next one in its
   * project's chain), then shows the promotion. */
  promote(release: ReleaseRecord, to: string | null): Promise<void> {
    const where = to ? environmentLabel(to) : "the next environment";
    return this.follow("promotion", release, (url) => `Promoted: ${releaseName(release)} is live on ${where}${url}.`, (onEvent) =>
      this.api.startPromote(release.projectPath, release.id, to, onEvent),
    );
  }

  /** Runs what an interrupted release had left, then shows the resumed release. */
  resume(release: ReleaseRecord): Promise<void> {
    return this.follow("resume", release, (url) => `Resumed: ${releaseName(release)} is live${url}.`, (onEvent) =>
      this.api.startResume(release.projectPath, release.id, onEvent),
    );
  }

  private async follow(
    kind: Exclude<RunKind, "release">,
    release: ReleaseRecord,
    wentLive: (url: string) => string,
    start: Parameters<RunStore["follow"]>[3],
  ): Promise<void> {
    if (this.busy) return;
    this.message = null;
    this.error = null;
    let summary: ReleaseSummary | null;
    try {
      summary = await this.run.follow(kind, { path: release.projectPath, name: release.projectName }, null, start);
    } catch (raw) {
      // Refused before anything ran: nothing was recorded.
      this.error = toSlipwayError(raw);
      return;
    }
    if (summary === null) {
      this.message = `The ${kind} stopped: Slipway lost track of it.`;
      this.error = this.run.error;
    } else if (summary.outcome === "live") {
      this.message = wentLive(summary.url ? ` at ${summary.url}` : "");
    } else {
      const ended = summary.outcome === "canceled" ? "was cancelled" : "failed";
      this.message = `The ${kind} ${ended}${summary.message ? `: ${summary.message}` : "."}`;
      if (summary.error) this.error = toSlipwayError(summary.error);
    }
    const releaseId = summary?.releaseId ?? this.run.releaseId;
    if (releaseId) await this.ended(releaseId);
  }
}
