// The project's app as a Local release left it: a container on this machine that keeps
// running after Slipway's release ends. Its state as the engine says it now (asked every few
// seconds while the card is shown, and when the window comes back), Stop / Start / Run it
// again, and its output.
import {
  api as defaultApi,
  toSlipwayError,
  type Api,
  type AppAction,
  type LocalApp,
  type SlipwayError,
} from "../ipc";

export type LocalAppApi = Pick<Api, "localApp" | "actOnLocalApp" | "localAppOutput">;

/** How often the output is asked for while it is shown. */
export const OUTPUT_POLL_MS = 2000;
/** How often the container's state is asked for while the card is shown: a container
 * removed or stopped outside Slipway reads so within this, never as still running. */
export const STATE_POLL_MS = 2000;
/** Lines kept in the window; older ones fall off the top. */
export const OUTPUT_LINES_KEPT = 2000;

export class LocalAppStore {
  /** `null` when nothing of the project runs (or ran) here, and before the first answer. */
  app = $state<LocalApp | null>(null);
  /** The first answer has come (until then "nothing here" is not known). */
  loaded = $state(false);
  busy = $state<AppAction | null>(null);
  error = $state<SlipwayError | null>(null);
  /** What `error` came from, so "Try again" repeats that and not something else. */
  private failed: AppAction | "load" | null = null;
  output = $state<string[]>([]);
  outputError = $state<SlipwayError | null>(null);
  private path: string | null = null;

  constructor(private readonly api: LocalAppApi = defaultApi) {}

  /** Something of the project is on this machine, running or stopped: the card shows. */
  get present(): boolean {
    return this.app !== null;
  }

  async load(path: string): Promise<void> {
    if (this.path !== path) {
      // Another project: its container, not this one's, and none of this one's output.
      this.app = null;
      this.loaded = false;
      this.output = [];
    }
    this.path = path;
    this.error = null;
    await this.ask(path);
  }

  /**
   * Asks the engine now, keeping what the person is reading: an action's error stays until
   * they dismiss it; a failed ask shows its own error, which the next good answer clears.
   */
  /** Counts the actions begun, so an answer to an older question is dropped. */
  private actions = 0;

  private async ask(path: string): Promise<void> {
    // An answer asked before an action began is older than the action's: it never wins.
    const asked = this.actions;
    try {
      const app = await this.api.localApp(path);
      if (this.path !== path || asked !== this.actions) return;
      this.app = app;
      if (this.failed === "load") {
        this.error = null;
        this.failed = null;
      }
    } catch (raw) {
      if (this.path !== path) return;
      this.fail(raw, "load");
      // Without Docker nothing is known of the container: no stale "Running" (the header
      // says Docker is not running, and the next poll after it is back shows the card).
      if (this.error?.kind === "dockerUnavailable") this.app = null;
    } finally {
      if (this.path === path) this.loaded = true;
    }
  }

  /**
   * Keeps the state true while the card is shown: asks every `intervalMs`, and at once when
   * the window regains focus or is shown again. Returns the function that stops.
   */
  watch(path: string, intervalMs = STATE_POLL_MS, target: Window = window): () => void {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let asking = false;
    const poll = async (): Promise<void> => {
      // The next poll waits for this one (an action asks apart: an older answer never
      // overwrites its newer one, see `ask`).
      if (asking) return;
      clearTimeout(timer);
      asking = true;
      // Not while an action runs: its own answer is the newer one.
      if (this.busy === null && this.path === path) await this.ask(path);
      asking = false;
      if (!stopped) timer = setTimeout(poll, intervalMs);
    };
    const onFocus = () => void poll();
    const onVisibility = () => {
      if (target.document.visibilityState === "visible") void poll();
    };
    target.addEventListener("focus", onFocus);
    target.document.addEventListener("visibilitychange", onVisibility);
    timer = setTimeout(poll, intervalMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
      target.removeEventListener("focus", onFocus);
      target.document.removeEventListener("visibilitychange", onVisibility);
    };
  }

  /** Asks again for the project last loaded: after a release, or when the person comes back. */
  async refresh(): Promise<void> {
    if (this.path) await this.load(this.path);
  }

  /** Stop, restart (which is also how a stopped app starts again), or run it again (a
   * removed app's release shipped again). */
  async act(action: AppAction): Promise<void> {
    const path = this.path;
    if (!path || this.busy) return;
    this.busy = action;
    this.actions++;
    this.error = null;
    try {
      const app = await this.api.actOnLocalApp(path, action);
      if (this.path === path) this.app = app;
    } catch (raw) {
      if (this.path !== path) return;
      this.fail(raw, action);
      // It failed perhaps because the container changed (removed from outside): show what
      // is there now, so the buttons are the ones that can work.
      this.busy = null;
      await this.ask(path);
    } finally {
      this.busy = null;
    }
  }

  /** Repeats what failed: the action the person asked for, or asking for the app. */
  async retry(): Promise<void> {
    const failed = this.failed;
    if (failed === null || failed === "load") await this.refresh();
    else await this.act(failed);
  }

  private fail(raw: unknown, what: AppAction | "load"): void {
    this.error = toSlipwayError(raw);
    this.failed = what;
  }

  /**
   * Follows the output live: its last lines first, then every `OUTPUT_POLL_MS` what came after.
   * Returns the function that stops following (the card calls it when the output is hidden or
   * the card goes away). A failed poll shows its error and the next one tries again, so a
   * restarting engine heals without a click.
   */
  follow(path: string, intervalMs = OUTPUT_POLL_MS): () => void {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let since = 0;
    this.output = [];
    this.outputError = null;

    const poll = async (): Promise<void> => {
      try {
        const page = await this.api.localAppOutput(path, since);
        if (stopped) return;
        since = page.nextSince;
        this.outputError = null;
        if (page.lines.length > 0) this.append(page.lines);
      } catch (raw) {
        if (stopped) return;
        this.outputError = toSlipwayError(raw);
      }
      // The next poll waits for this one: a slow engine never gets two questions at once.
      if (!stopped) timer = setTimeout(poll, intervalMs);
    };
    void poll();

    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  private append(lines: string[]): void {
    const kept = [...this.output, ...lines];
    this.output = kept.length > OUTPUT_LINES_KEPT ? kept.slice(kept.length - OUTPUT_LINES_KEPT) : kept;
  }
}

/** The first seven characters of a commit, as git prints it. */
export function shortSha(commit: string): string {
  return commit.slice(0, 7);
}

/** The card's state in a word or two: Running, Stopped, Exited (code 1), Removed. */
export function stateLabel(app: LocalApp): string {
  switch (app.state) {
    case "running":
      return "Running";
    case "stopped":
      return "Stopped";
    case "exited":
      return app.exitCode === null ? "Exited" : `Exited (code ${app.exitCode})`;
    case "removed":
      return "Removed";
  }
}
