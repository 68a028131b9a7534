// One release as the Release page shows it: the plan first, then each step's state, timing,
// output, results and push progress as events arrive, and the summary at the end.
import {
  api as defaultApi,
  STEPS,
  toSlipwayError,
  type Api,
  type GateReport,
  type LintReport,
  type Plan,
  type ReleaseEvent,
  type ReleaseSummary,
  type SlipwayError,
  type Step,
  type StepState,
  type Target,
  type TestReport,
} from "../ipc";

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
};

export interface StepView {
  state: StepState;
  /** When it started, by this window's clock, for the ticking elapsed time. */
  startedAt: number | null;
  elapsedMs: number | null;
  summary: string | null;
}

function emptyLogs(): Record<Step, string[]> {
  return Object.fromEntries(STEPS.map((step) => [step, []])) as unknown as Record<Step, string[]>;
}

type ReleaseApi = Pick<Api, "planRelease" | "startRelease" | "cancelRelease">;

function freshSteps(): Record<Step, StepView> {
  return Object.fromEntries(
    STEPS.map((step) => [step, { state: "pending", startedAt: null, elapsedMs: null, summary: null }]),
  ) as Record<Step, StepView>;
}

export class ReleaseStore {
  plan = $state<Plan | null>(null);
  planning = $state(false);
  target = $state<Target | null>(null);
  confirmDirty = $state(false);
  running = $state(false);
  cancelling = $state(false);
  steps = $state<Record<Step, StepView>>(freshSteps());
  /** Output per step. Not deeply reactive: a log of 100,000 lines must not cost a proxy each. */
  logs = $state.raw<Record<Step, string[]>>(emptyLogs());
  logVersion = $state(0);
  selected = $state<Step>("tests");
  tests = $state<TestReport | null>(null);
  lint = $state<LintReport | null>(null);
  /** The other gates' reports (coverage, formatting, types, Django), as each finishes. */
  gates = $state<GateReport[]>([]);
  pushPercent = $state<number | null>(null);
  deployStatus = $state<string | null>(null);
  summary = $state<ReleaseSummary | null>(null);
  error = $state<SlipwayError | null>(null);
  private pendingLines = 0;
  private flushScheduled = false;

  constructor(private readonly api: ReleaseApi = defaultApi) {}

  async loadPlan(path: string): Promise<void> {
    this.planning = true;
    this.error = null;
    try {
      this.plan = await this.api.planRelease(path, this.target);
      if (!this.target) this.target = this.plan.target;
    } catch (raw) {
      this.error = toSlipwayError(raw);
    } finally {
      this.planning = false;
    }
  }

  get canRelease(): boolean {
    const plan = this.plan;
    if (!plan || this.running || plan.blockers.length > 0) return false;
    return plan.dirtyFiles.length === 0 || this.confirmDirty;
  }

  async start(path: string): Promise<void> {
    if (!this.canRelease) return;
    this.running = true;
    this.cancelling = false;
    this.error = null;
    this.summary = null;
    this.tests = null;
    this.lint = null;
    this.gates = [];
    this.pushPercent = null;
    this.deployStatus = null;
    this.steps = freshSteps();
    this.logs = emptyLogs();
    this.logVersion++;
    try {
      // The release runs the plan shown here, or refuses: then the new plan is shown.
      this.summary = await this.api.startRelease(
        path,
        { target: this.target, confirmDirty: this.confirmDirty, confirmedPlan: this.plan?.fingerprint },
        (event) => this.receive(event),
      );
    } catch (raw) {
      this.error = toSlipwayError(raw);
      if (this.error.message.includes("changed since the plan")) void this.loadPlan(path);
    } finally {
      this.running = false;
      this.cancelling = false;
      this.flush();
    }
  }

  async cancel(path: string): Promise<void> {
    this.cancelling = true;
    try {
      await this.api.cancelRelease(path);
    } catch (raw) {
      this.error = toSlipwayError(raw);
    }
  }

  /** The steps this release runs, in order: the plan's, else every step. */
  get planned(): Step[] {
    return this.plan ? this.plan.steps.map((item) => item.step) : STEPS;
  }

  receive(event: ReleaseEvent): void {
    switch (event.kind) {
      case "started":
        this.plan = event.plan;
        break;
      case "step": {
        const view = this.steps[event.step];
        view.state = event.state;
        if (event.state === "running") {
          view.startedAt = Date.now();
          this.selected = event.step;
        }
        if (event.elapsedMs !== null) view.elapsedMs = event.elapsedMs;
        if (event.summary !== null) view.summary = event.summary;
        if (event.state === "failed") this.selected = event.step;
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
