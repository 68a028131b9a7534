// The Release page's state: the open project's plan (what pressing Release would do), its
// last release in the ledger, and the run: each step's state, timing, output and results as
// events arrive, then the summary. The run belongs to one project and outlives page changes;
// the header shows it whatever page or project is open.
import {
  api as defaultApi,
  STEPS,
  toSlipwayError,
  type Api,
  type GateReport,
  type LintReport,
  type Plan,
  type ReleaseEvent,
  type ReleaseRecord,
  type ReleaseSummary,
  type SlipwayError,
  type Step,
  type StepState,
  type TestReport,
} from "../ipc";

/** Where each project's choices (its environment, "Run everything") are kept across restarts. */
export const CHOICES_KEY = "slipway.release.choices";

/** What the person chose on one project's Release page. */
export interface ReleaseChoice {
  /** The environment chosen; `null` follows the project's default. */
  environment: string | null;
  runEverything: boolean;
}

type Storage = Pick<globalThis.Storage, "getItem" | "setItem">;

function browserStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

// The steps in order, generated from the Rust `Step::ALL`.
export { STEPS };

export const STEP_NAMES: Record<Step, string> = {
  tests: "Tests",
  lint: "Lint",
  checks: "Other checks",
  build: "Image build",
  push: "Push",
  deploy: "Deploy",
  verify: "Live check",
  sentry: "Sentry release",
};

export interface StepView {
  state: StepState;
  /** When it started, by this window's clock, for the ticking elapsed time. */
  startedAt: number | null;
  elapsedMs: number | null;
  summary: string | null;
}

/** The project a run belongs to. */
export interface RunProject {
  path: string;
  name: string;
}

function emptyLogs(): Record<Step, string[]> {
  return Object.fromEntries(STEPS.map((step) => [step, []])) as unknown as Record<Step, string[]>;
}

function freshSteps(): Record<Step, StepView> {
  return Object.fromEntries(
    STEPS.map((step) => [step, { state: "pending", startedAt: null, elapsedMs: null, summary: null }]),
  ) as Record<Step, StepView>;
}

type ReleaseApi = Pick<Api, "planRelease" | "startRelease" | "cancelRelease" | "listReleases">;

export class ReleaseStore {
  /** The open project's plan: what pressing Release would do. */
  plan = $state<Plan | null>(null);
  planning = $state(false);
  /** The environment chosen for the open project; `null` is its default. */
  environment = $state<string | null>(null);
  confirmDirty = $state(false);
  /** "Run everything": no gate is taken from an earlier pass on the same tree. */
  runEverything = $state(false);
  /** Why the plan could not be made, or why a release did not start. */
  error = $state<SlipwayError | null>(null);
  /** The open project's latest release in the ledger: `undefined` until known, `null` for none. */
  last = $state<ReleaseRecord | null | undefined>(undefined);

  /** The project the run belongs to; `null` when there is no run to show. */
  runProject = $state<RunProject | null>(null);
  /** The plan the run follows (the backend's, once it starts). */
  runPlan = $state<Plan | null>(null);
  running = $state(false);
  cancelling = $state(false);
  /** When the run started and ended, by this window's clock. */
  startedAt = $state<number | null>(null);
  endedAt = $state<number | null>(null);
  steps = $state<Record<Step, StepView>>(freshSteps());
  /** Output per step. Not deeply reactive: a log of 100,000 lines must not cost a proxy each. */
  logs = $state.raw<Record<Step, string[]>>(emptyLogs());
  logVersion = $state(0);
  /** The step shown open in the run, with its output and results. */
  selected = $state<Step | null>(null);
  tests = $state<TestReport | null>(null);
  lint = $state<LintReport | null>(null);
  /** The other gates' reports (coverage, formatting, types, Django), as each finishes. */
  gates = $state<GateReport[]>([]);
  pushPercent = $state<number | null>(null);
  deployStatus = $state<string | null>(null);
  summary = $state<ReleaseSummary | null>(null);
  /** What broke the run itself (the call failed after steps had started). */
  runError = $state<SlipwayError | null>(null);
  /** Set by "See why" until the page has brought the failing step into view. */
  revealPending = $state(false);

  private pendingLines = 0;
  private flushScheduled = false;
  private planFor: string | null = null;
  private lastFor: string | null = null;
  /** The project whose choices `environment` and `runEverything` are. */
  private choiceFor: string | null = null;
  /** Every project's choices, by its path: one project's never carry to another. */
  private choices: Record<string, ReleaseChoice>;

  constructor(
    private readonly api: ReleaseApi = defaultApi,
    private readonly storage: Storage | null = browserStorage(),
  ) {
    this.choices = this.readChoices();
  }

  private readChoices(): Record<string, ReleaseChoice> {
    const choices: Record<string, ReleaseChoice> = {};
    try {
      const raw = this.storage?.getItem(CHOICES_KEY);
      const saved: unknown = raw ? JSON.parse(raw) : null;
      if (typeof saved !== "object" || saved === null) return choices;
      for (const [path, value] of Object.entries(saved as Record<string, unknown>)) {
        if (typeof value !== "object" || value === null) continue;
        const choice = value as Partial<Record<keyof ReleaseChoice, unknown>>;
        choices[path] = {
          environment: typeof choice.environment === "string" ? choice.environment : null,
          runEverything: choice.runEverything === true,
        };
      }
    } catch {
      // Unreadable: every project starts from its default.
    }
    return choices;
  }

  /** The choices kept for the project at `path`. */
  choiceOf(path: string): ReleaseChoice {
    return this.choices[path] ?? { environment: null, runEverything: false };
  }

  /** Takes up the project's own choices when it is not the one they are for. */
  private useChoicesOf(path: string | null): void {
    if (this.choiceFor === path) return;
    this.choiceFor = path;
    const choice = path === null ? null : this.choiceOf(path);
    this.environment = choice?.environment ?? null;
    this.runEverything = choice?.runEverything ?? false;
  }

  private remember(path: string): void {
    this.choiceFor = path;
    this.choices[path] = { environment: this.environment, runEverything: this.runEverything };
    try {
      this.storage?.setItem(CHOICES_KEY, JSON.stringify(this.choices));
    } catch {
      // Storage full or refused: the choice holds until the window closes.
    }
  }

  /** Releases the project at `path` to `environment` (`null`: its default) from now on. */
  async chooseEnvironment(path: string, environment: string | null): Promise<void> {
    this.useChoicesOf(path);
    this.environment = environment;
    this.remember(path);
    await this.loadPlan(path);
  }

  /**
   * The open project changed. Nothing of another project stays on the Release page: its plan,
   * its last release and a finished run go; a run still going on stays (the header shows it).
   */
  forProject(path: string | null): void {
    if (this.planFor !== path) {
      this.planFor = path;
      this.plan = null;
      this.confirmDirty = false;
      this.error = null;
    }
    this.useChoicesOf(path);
    if (this.lastFor !== path) {
      this.lastFor = path;
      this.last = undefined;
    }
    if (!this.running && this.runProject !== null && this.runProject.path !== path) this.clearRun();
  }

  /** The run is about the project at `path`. */
  runShows(path: string | null): boolean {
    return path !== null && this.runProject?.path === path;
  }

  async loadPlan(path: string): Promise<void> {
    // Another project's plan never stays on screen while this one's is made.
    if (this.plan && this.plan.projectPath !== path) this.plan = null;
    this.planFor = path;
    this.useChoicesOf(path);
    this.planning = true;
    this.error = null;
    try {
      const plan = await this.api.planRelease(path, this.environment, this.runEverything);
      // The person may have opened another project meanwhile.
      if (this.planFor !== path) return;
      this.plan = plan;
    } catch (raw) {
      if (this.planFor === path) this.error = toSlipwayError(raw);
    } finally {
      if (this.planFor === path) this.planning = false;
    }
  }

  /** Asks the ledger for the project's latest release; a failure leaves the card out. */
  async loadLast(path: string): Promise<void> {
    this.lastFor = path;
    try {
      const [latest] = await this.api.listReleases({
        projectPath: path,
        outcome: null,
        target: null,
        since: null,
        until: null,
        search: null,
        limit: 1,
        before: null,
      });
      if (this.lastFor === path) this.last = latest ?? null;
    } catch {
      if (this.lastFor === path) this.last = undefined;
    }
  }

  /** The gates the plan takes from an earlier pass on this very tree. */
  get cachedSteps(): Step[] {
    return (this.plan?.steps ?? []).filter((planned) => planned.cached && !planned.skip).map((planned) => planned.step);
  }

  /** Runs every gate (or goes back to reusing passes), and shows the plan that follows. */
  async setRunEverything(path: string, everything: boolean): Promise<void> {
    this.useChoicesOf(path);
    this.runEverything = everything;
    this.remember(path);
    await this.loadPlan(path);
  }

  get canRelease(): boolean {
    const plan = this.plan;
    if (!plan || this.running || plan.blockers.length > 0) return false;
    return plan.dirtyFiles.length === 0 || this.confirmDirty;
  }

  /** Forgets the run, back to the plan and its Release button. */
  clearRun(): void {
    this.runProject = null;
    this.runPlan = null;
    this.startedAt = null;
    this.endedAt = null;
    this.steps = freshSteps();
    this.logs = emptyLogs();
    this.logVersion++;
    this.selected = null;
    this.tests = null;
    this.lint = null;
    this.gates = [];
    this.pushPercent = null;
    this.deployStatus = null;
    this.summary = null;
    this.runError = null;
    this.revealPending = false;
  }

  async start(path: string): Promise<void> {
    const plan = this.plan;
    if (!this.canRelease || !plan) return;
    this.clearRun();
    this.runProject = { path, name: plan.projectName };
    this.runPlan = plan;
    this.running = true;
    this.cancelling = false;
    this.error = null;
    this.startedAt = Date.now();
    try {
      // The release runs the plan shown here, or refuses: then the new plan is shown.
      this.summary = await this.api.startRelease(
        path,
        {
          // The environment of the plan shown: the one the person confirms by pressing Release.
          environment: plan.environment,
          confirmDirty: this.confirmDirty,
          confirmedPlan: plan.fingerprint,
          noCache: this.runEverything,
        },
        (event) => this.receive(event),
      );
    } catch (raw) {
      const error = toSlipwayError(raw);
      if (this.started) {
        this.runError = error;
      } else {
        // Refused before any step ran: no run to show, the reason goes beside the button.
        this.clearRun();
        this.error = error;
        if (error.action === "reviewPlan" || error.message.includes("changed since the plan")) void this.loadPlan(path);
      }
    } finally {
      this.running = false;
      this.cancelling = false;
      if (this.runProject) this.endedAt = Date.now();
      if (this.failedStep) this.selected = this.failedStep;
      this.flush();
      if (this.lastFor === path) void this.loadLast(path);
    }
  }

  async cancel(): Promise<void> {
    if (!this.runProject) return;
    this.cancelling = true;
    try {
      await this.api.cancelRelease(this.runProject.path);
    } catch (raw) {
      this.runError = toSlipwayError(raw);
    }
  }

  /** Some step has left its waiting state. */
  private get started(): boolean {
    return STEPS.some((step) => this.steps[step].state !== "pending");
  }

  /** The steps the run follows (else the plan's), in order. */
  get planned(): Step[] {
    const plan = this.runPlan ?? this.plan;
    return plan ? plan.steps.map((item) => item.step) : STEPS;
  }

  /** The first step that failed, in the plan's order. */
  get failedStep(): Step | null {
    return this.planned.find((step) => this.steps[step].state === "failed") ?? null;
  }

  /** The first step running now. */
  get runningStep(): Step | null {
    return this.planned.find((step) => this.steps[step].state === "running") ?? null;
  }

  /** Opens the failing step and asks the page to bring it into view. */
  revealFailure(): void {
    const failed = this.failedStep;
    if (failed) this.selected = failed;
    this.revealPending = true;
  }

  receive(event: ReleaseEvent): void {
    switch (event.kind) {
      case "started":
        this.runPlan = event.plan;
        if (this.runProject) this.runProject = { path: this.runProject.path, name: event.plan.projectName };
        if (this.plan?.projectPath === event.plan.projectPath) this.plan = event.plan;
        break;
      case "step": {
        const view = this.steps[event.step];
        view.state = event.state;
        if (event.state === "running") {
          view.startedAt = Date.now();
          // Follow the work, but a failure stays open once shown.
          if (this.selected === null || this.steps[this.selected].state !== "failed") this.selected = event.step;
        }
        if (event.elapsedMs !== null) view.elapsedMs = event.elapsedMs;
        if (event.summary !== null) view.summary = event.summary;
        if (event.state === "failed" && this.failedStep === event.step) this.selected = event.step;
        break;
      }
      case "log":
        this.logs[event.step].push(event.line);
        this.pendingLines++;
        this.scheduleFlush();
        break;
      case "tests":
        this.tests = event.report;
        break;
      case "lint":
        this.lint = event.report;
        break;
      case "gate":
        this.gates = [...this.gates.filter((gate) => gate.id !== event.report.id), event.report];
        break;
      case "docker":
        if (event.event.event === "pushProgress") this.pushPercent = event.event.data.percent;
        break;
      case "deploy":
        this.deployStatus = event.status;
        break;
      case "summary":
        break;
    }
  }

  /** Lines arrive by the thousand: the log view redraws once a frame, not once a line. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const run = () => this.flush();
    if (typeof requestAnimationFrame === "function") requestAnimationFrame(run);
    else setTimeout(run, 16);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pendingLines === 0) return;
    this.pendingLines = 0;
    this.logVersion++;
  }
}
