// The run the window follows: a release started on the Release page, or a rollback, promotion
// or resume started from History. Each streams the same events (steps, logs, results, the
// deploy's status, then the summary), so one store follows them all: the Release page, History
// and the header show the same run the same way, and it outlives page changes. One run at a
// time: the backend refuses a second of these beside it for a project anyway.
import {
  api as defaultApi,
  SlipwayError,
  STEPS,
  toSlipwayError,
  type Api,
  type CiVerdict,
  type GateReport,
  type LintReport,
  type Plan,
  type PlannedStep,
  type ReleaseEvent,
  type ReleaseSummary,
  type Step,
  type StepState,
  type TestReport,
} from "../ipc";
import type { TasksStore } from "../tasks/tasks.svelte";

// The steps in order, generated from the Rust `Step::ALL`.
export { STEPS };

export const STEP_NAMES: Record<Step, string> = {
  git: "Push commit",
  tests: "Tests",
  lint: "Lint",
  checks: "Other checks",
  build: "Image build",
  rehearsal: "Rehearsal",
  push: "Push",
  ci: "CircleCI",
  deploy: "Deploy",
  verify: "Live check",
  sentry: "Sentry release",
};

/** What a run is: the backend's task kinds that share a project's release slot. */
export type RunKind = "release" | "rollback" | "promotion" | "resume";

/** The run, as a heading names it ("Rollback cancelled"). */
export const RUN_NOUNS: Record<RunKind, string> = {
  release: "Release",
  rollback: "Rollback",
  promotion: "Promotion",
  resume: "Resumed release",
};

/** What runs now, in the words of "Rolling back lettings". */
export const RUN_VERBS: Record<RunKind, string> = {
  release: "Releasing",
  rollback: "Rolling back",
  promotion: "Promoting",
  resume: "Resuming",
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

export type RunApi = Pick<Api, "cancelRelease">;

export class RunStore {
  kind = $state<RunKind>("release");
  /** The project the run belongs to; `null` when there is no run to show. */
  project = $state<RunProject | null>(null);
  /** The plan a release follows (the backend's, once it starts); a rollback has none. */
  plan = $state<Plan | null>(null);
  running = $state(false);
  /** The ledger's id of the run, and of the release it ships again, once the backend names them. */
  releaseId = $state<string | null>(null);
  sourceId = $state<string | null>(null);
  /** When the run started and ended, by this window's clock. */
  startedAt = $state<number | null>(null);
  endedAt = $state<number | null>(null);
  steps = $state<Record<Step, StepView>>(freshSteps());
  /** Output per step. Not deeply reactive: a log of 100,000 lines must not cost a proxy each. */
  logs = $state.raw<Record<Step, string[]>>(emptyLogs());
  logVersion = $state(0);
  /** The step shown open, with its output and results: the one followed, or the one chosen. */
  selected = $state<Step | null>(null);
  /** The person opened or closed a step: the view stops following the work. */
  chosen = $state(false);
  /** Failed steps the person closed; every other failed step stays open. */
  closedFailures = $state<Step[]>([]);
  tests = $state<TestReport | null>(null);
  lint = $state<LintReport | null>(null);
  /** The other gates' reports (coverage, formatting, types, Django), as each finishes. */
  gates = $state<GateReport[]>([]);
  pushPercent = $state<number | null>(null);
  deployStatus = $state<string | null>(null);
  /** CircleCI's workflows on the commit, as the release last saw them while it waited. */
  circleci = $state<CiVerdict | null>(null);
  summary = $state<ReleaseSummary | null>(null);
  /** What broke the run itself (the call failed after steps had started). */
  error = $state<SlipwayError | null>(null);
  /** Set by "See why" until the page has brought the failing step into view. */
  revealPending = $state(false);

  /** Cancel was pressed in this window. */
  private cancelAsked = $state(false);
  private pendingLines = 0;
  private flushScheduled = false;

  /** `tasks`: the window's task list, through which Cancel names the run's own task. */
  constructor(
    private readonly api: RunApi = defaultApi,
    private readonly tasks: TasksStore | null = null,
  ) {}

  /** The run is about the project at `path`. */
  shows(path: string | null): boolean {
    return path !== null && this.project?.path === path;
  }

  /** Cancel was asked, here or from anywhere else, and the run is stopping. */
  get cancelling(): boolean {
    if (!this.running) return false;
    const task = this.tasks?.releaseTaskOf(this.project?.path ?? null) ?? null;
    return this.cancelAsked || (task !== null && this.tasks !== null && this.tasks.isCancelling(task));
  }

  /** Forgets the run. */
  clear(): void {
    this.project = null;
    this.plan = null;
    this.releaseId = null;
    this.sourceId = null;
    this.startedAt = null;
    this.endedAt = null;
    this.steps = freshSteps();
    this.logs = emptyLogs();
    this.logVersion++;
    this.selected = null;
    this.chosen = false;
    this.closedFailures = [];
    this.tests = null;
    this.lint = null;
    this.gates = [];
    this.pushPercent = null;
    this.deployStatus = null;
    this.circleci = null;
    this.summary = null;
    this.error = null;
    this.revealPending = false;
  }

  /**
   * Follows the run `start` starts, handing it the events' receiver; ends with its summary, or
   * `null` when the call broke after steps had run (`error` says why). A run refused before
   * any step ran leaves nothing to show: its reason is thrown, for the page that asked.
   */
  async follow(
    kind: RunKind,
    project: RunProject,
    plan: Plan | null,
    start: (onEvent: (event: ReleaseEvent) => void) => Promise<ReleaseSummary>,
  ): Promise<ReleaseSummary | null> {
    if (this.running) {
      throw new SlipwayError({
        kind: "precondition",
        message: `${RUN_NOUNS[this.kind]} of ${this.project?.name ?? "a project"} is still running.`,
        hint: "Wait for it to end, or cancel it first.",
      });
    }
    this.clear();
    this.kind = kind;
    this.project = project;
    this.plan = plan;
    this.running = true;
    this.cancelAsked = false;
    this.startedAt = Date.now();
    try {
      this.summary = await start((event) => this.receive(event));
      return this.summary;
    } catch (raw) {
      const error = toSlipwayError(raw);
      if (!this.started) {
        this.clear();
        throw error;
      }
      this.error = error;
      return null;
    } finally {
      this.running = false;
      this.cancelAsked = false;
      if (this.project) this.endedAt = Date.now();
      if (this.failedStep) this.selected = this.failedStep;
      this.flush();
    }
  }

  /** Stops the run: through its task when the window knows it, else by its project. */
  async cancel(): Promise<void> {
    const project = this.project;
    if (!project || !this.running || this.cancelAsked) return;
    this.cancelAsked = true;
    const task = this.tasks?.releaseTaskOf(project.path) ?? null;
    try {
      if (task && this.tasks) {
        if (!(await this.tasks.cancel(task.id))) throw this.tasks.error;
      } else {
        await this.api.cancelRelease(project.path);
      }
    } catch (raw) {
      // Still running: say why it did not stop, and let Cancel be pressed again.
      if (this.project === project) {
        this.cancelAsked = false;
        this.error = toSlipwayError(raw);
      }
    }
  }

  /** Some step has left its waiting state. */
  get started(): boolean {
    return STEPS.some((step) => this.steps[step].state !== "pending");
  }

  /** The steps the run follows, in order: its plan's, else every step. */
  get planned(): Step[] {
    return this.plan ? this.plan.steps.map((item) => item.step) : STEPS;
  }

  /** The steps to draw: the plan's; a run without one (a rollback) shows those it reached. */
  get shownSteps(): PlannedStep[] {
    if (this.plan) return this.plan.steps;
    return STEPS.filter((step) => this.steps[step].state !== "pending").map((step) => ({
      step,
      detail: "",
      skip: null,
      ciLine: null,
      notes: [],
      cached: null,
    }));
  }

  /** The first step that failed, in the plan's order. */
  get failedStep(): Step | null {
    return this.planned.find((step) => this.steps[step].state === "failed") ?? null;
  }

  /** Every step that failed, in the plan's order: all checks finish, so there can be several. */
  get failedSteps(): Step[] {
    return this.planned.filter((step) => this.steps[step].state === "failed");
  }

  /** Whether `step` is shown open: the one followed or chosen, and every failure not closed. */
  isOpen(step: Step): boolean {
    return (
      this.selected === step || (this.steps[step].state === "failed" && !this.closedFailures.includes(step))
    );
  }

  /** The person opens or closes `step`. */
  toggle(step: Step): void {
    this.chosen = true;
    if (this.isOpen(step)) {
      if (this.selected === step) this.selected = null;
      if (this.steps[step].state === "failed") this.closedFailures = [...this.closedFailures, step];
    } else {
      this.selected = step;
      this.closedFailures = this.closedFailures.filter((closed) => closed !== step);
    }
  }

  /** The first step running now. */
  get runningStep(): Step | null {
    return this.planned.find((step) => this.steps[step].state === "running") ?? null;
  }

  /** How the run ended: its outcome, `error` when the call broke, `null` while it runs. */
  get outcome(): ReleaseSummary["outcome"] | "error" | null {
    if (this.running) return null;
    return this.summary?.outcome ?? (this.error ? "error" : null);
  }

  /** Opens the failing step and asks the page to bring it into view. */
  revealFailure(): void {
    const failed = this.failedStep;
    if (failed) this.selected = failed;
    this.closedFailures = [];
    this.revealPending = true;
  }

  receive(event: ReleaseEvent): void {
    switch (event.kind) {
      case "started":
        this.plan = event.plan;
        this.releaseId = event.releaseId;
        if (this.project) this.project = { path: this.project.path, name: event.plan.projectName };
        break;
      case "rollbackStarted":
      case "promoteStarted":
      case "resumeStarted":
        this.releaseId = event.releaseId;
        this.sourceId = event.sourceId;
        break;
      case "step": {
        const view = this.steps[event.step];
        view.state = event.state;
        if (event.state === "running") {
          view.startedAt = Date.now();
          // Follow the work, unless the person chose a step to look at.
          if (!this.chosen && (this.selected === null || this.steps[this.selected].state !== "failed"))
            this.selected = event.step;
        }
        if (event.elapsedMs !== null) view.elapsedMs = event.elapsedMs;
        if (event.summary !== null) view.summary = event.summary;
        if (event.state === "failed" && this.failedStep === event.step && !this.chosen) this.selected = event.step;
        // A followed step that passed hands the view to one still running, so the output
        // shown is the work going on, not a finished build's.
        if (event.state !== "running" && event.state !== "failed" && this.selected === event.step && !this.chosen)
          this.selected = this.runningStep;
        break;
      }
      case "log":
        this.logs[event.step].push(event.line);
        this.pendingLines++;
        this.scheduleFlush();
        break;
      case "lines": {
        // A batch of up to thousands: one loop, no spread into a call's arguments.
        const log = this.logs[event.step];
        for (const line of event.lines) log.push(line);
        this.pendingLines += event.lines.length;
        this.scheduleFlush();
        break;
      }
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
      case "circleCi":
        this.circleci = event.verdict;
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
