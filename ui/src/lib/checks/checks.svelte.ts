// A project's settings and its test and lint runs, as the project view shows them.
import {
  api as defaultApi,
  toSlipwayError,
  type Api,
  type CheckEvent,
  type CheckSelection,
  type GateReport,
  type LintReport,
  type ProjectDetails,
  type ProjectSettings,
  type SlipwayError,
  type TestReport,
} from "../ipc";

/** Output lines kept for the live view; older ones scroll away (the log file keeps all). */
export const MAX_OUTPUT_LINES = 5000;

export interface OutputLine {
  id: number;
  source: string;
  text: string;
  stderr: boolean;
}

type ChecksApi = Pick<
  Api,
  "detectProject" | "saveProjectSettings" | "runChecks" | "cancelChecks" | "setProjectValue" | "unsetProjectValue"
>;

export class ChecksStore {
  details = $state<ProjectDetails | null>(null);
  draft = $state<ProjectSettings | null>(null);
  running = $state<CheckSelection | null>(null);
  output = $state<OutputLine[]>([]);
  setupMessage = $state<string | null>(null);
  tests = $state<TestReport | null>(null);
  lint = $state<LintReport | null>(null);
  gates = $state<GateReport[]>([]);
  error = $state<SlipwayError | null>(null);
  saved = $state(false);
  private nextLine = 0;

  constructor(private readonly api: ChecksApi = defaultApi) {}

  async load(path: string): Promise<void> {
    this.error = null;
    // Another project's runs and results must not show under this one.
    if (this.details && this.details.path !== path) this.forgetRuns();
    try {
      this.details = await this.api.detectProject(path);
      this.draft = structuredClone($state.snapshot(this.details.settings));
      this.saved = this.details.saved;
    } catch (raw) {
      this.error = toSlipwayError(raw);
    }
  }

  private forgetRuns(): void {
    this.details = null;
    this.draft = null;
    this.output = [];
    this.setupMessage = null;
    this.tests = null;
    this.lint = null;
    this.gates = [];
  }

  /**
   * Settings the backend saved by itself (an environment added or changed, the Sentry link):
   * they become the saved ones, and the draft takes their links while keeping what the person
   * is still editing elsewhere in the form.
   */
  applySaved(settings: ProjectSettings): void {
    if (!this.details) return;
    this.details = { ...this.details, settings, saved: true };
    if (this.draft) {
      this.draft.environments = structuredClone(settings.environments);
      this.draft.sentryProject = settings.sentryProject ? { ...settings.sentryProject } : undefined;
    }
  }

  /**
   * Values given elsewhere (the release plan's form): the saved settings take them, and so
   * does the draft, keeping whatever else the person is editing; a secret's name only.
   */
  applyValues(settings: ProjectSettings): void {
    if (!this.details) return;
    this.details = { ...this.details, settings, saved: true };
    if (!this.draft) return;
    for (const [name, value] of Object.entries(settings.env)) this.draft.env[name] = value;
    for (const name of settings.secretEnv) delete this.draft.env[name];
    this.draft.secretEnv = [...settings.secretEnv];
  }

  async save(): Promise<void> {
    if (!this.details || !this.draft) return;
    this.error = null;
    try {
      const settings = await this.api.saveProjectSettings(this.details.path, $state.snapshot(this.draft));
      this.details = { ...this.details, settings, saved: true };
      this.saved = true;
    } catch (raw) {
      this.error = toSlipwayError(raw);
    }
  }

  /**
   * Keeps a secret value in the OS keyring for the project's checks. The value goes to the
   * backend once and never comes back: only its name is in the settings.
   */
  async setSecret(name: string, value: string): Promise<boolean> {
    if (!this.details || !this.draft) return false;
    this.error = null;
    try {
      const settings = await this.api.setProjectValue(this.details.path, name, value, true);
      this.details = { ...this.details, settings, saved: true };
      this.draft.secretEnv = [...settings.secretEnv];
      delete this.draft.env[name];
      return true;
    } catch (raw) {
      this.error = toSlipwayError(raw);
      return false;
    }
  }

  async removeSecret(name: string): Promise<void> {
    if (!this.details || !this.draft) return;
    this.error = null;
    try {
      const settings = await this.api.unsetProjectValue(this.details.path, name);
      this.details = { ...this.details, settings };
      this.draft.secretEnv = [...settings.secretEnv];
    } catch (raw) {
      this.error = toSlipwayError(raw);
    }
  }

  async run(selection: CheckSelection): Promise<void> {
    if (!this.details || this.running) return;
    this.running = selection;
    this.error = null;
    this.output = [];
    this.setupMessage = null;
    if (selection !== "lint") this.tests = null;
    if (selection !== "tests") this.lint = null;
    this.gates = [];
    try {
      const result = await this.api.runChecks(this.details.path, selection, (event) => this.receive(event));
      if (result.tests) this.tests = result.tests;
      if (result.lint) this.lint = result.lint;
      this.gates = result.gates;
    } catch (raw) {
      this.error = toSlipwayError(raw);
    } finally {
      this.running = null;
      this.setupMessage = null;
    }
  }

  async cancel(): Promise<void> {
    if (!this.details) return;
    try {
      await this.api.cancelChecks(this.details.path);
    } catch (raw) {
      this.error = toSlipwayError(raw);
    }
  }

  private receive(event: CheckEvent): void {
    switch (event.event) {
      case "setup":
        this.setupMessage = event.data.message;
        this.append("setup", event.data.message, false);
        break;
      case "started":
        this.append(event.data.check, `$ ${event.data.command}`, false);
        break;
      case "output":
        this.append(event.data.check ?? "setup", event.data.line, event.data.stream === "stderr");
        break;
      case "gateStarted":
        this.append(event.data.id, `$ ${event.data.command}`, false);
        break;
      case "gateOutput":
        this.append(event.data.id, event.data.line, event.data.stream === "stderr");
        break;
      case "finished":
      case "gateFinished":
        break;
    }
  }

  private append(source: string, text: string, stderr: boolean): void {
    this.output.push({ id: this.nextLine++, source, text, stderr });
    if (this.output.length > MAX_OUTPUT_LINES) this.output.splice(0, this.output.length - MAX_OUTPUT_LINES);
  }
}

/** Violations grouped by file, files in name order, lines in order. */
export function groupByFile(report: LintReport): Array<{ path: string; violations: LintReport["violations"] }> {
  const groups = new Map<string, LintReport["violations"]>();
  for (const violation of report.violations) {
    const list = groups.get(violation.path) ?? [];
    list.push(violation);
    groups.set(violation.path, list);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, violations]) => ({ path, violations: violations.sort((a, b) => a.line - b.line || a.column - b.column) }));
}
