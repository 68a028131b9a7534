// The Release page's state: the open project's plan (what pressing Release would do) and its
// last release in the ledger. Pressing Release starts a run, which the window's run store
// follows (see run.svelte.ts): it belongs to one project and outlives page changes; the header
// shows it whatever page or project is open.
import { api as defaultApi, toSlipwayError, type Api, type GivenValue, type Plan, type ProjectSettings, type ReleaseRecord, type SlipwayError, type Step } from "../ipc";
import { RunStore } from "./run.svelte";

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

type ReleaseApi = Pick<Api, "planRelease" | "startRelease" | "cancelRelease" | "listReleases" | "giveProjectValues"> &
  Partial<Pick<Api, "remoteFetchSettled" | "circleciVerdict" | "runOnCircleci">>;

/** How often the plan's CircleCI verdict is asked again while CircleCI runs, and for how long. */
const CI_POLL_MS = 5000;
const CI_POLL_LIMIT_MS = 60 * 60 * 1000;

export class ReleaseStore {
  /** The open project's plan: what pressing Release would do. */
  plan = $state<Plan | null>(null);
  planning = $state(false);
  /**
   * The plan shown is the one kept from the last start, shown while the fresh one is made:
   * it is read, never released (the Release button waits for the fresh plan).
   */
  stale = $state(false);
  /** The environment chosen for the open project; `null` is its default. */
  environment = $state<string | null>(null);
  confirmDirty = $state(false);
  /** "Run everything": no gate is taken from an earlier pass on the same tree. */
  runEverything = $state(false);
  /** Why the plan could not be made, or why a release did not start. */
  error = $state<SlipwayError | null>(null);
  /** The open project's latest release in the ledger: `undefined` until known, `null` for none. */
  last = $state<ReleaseRecord | null | undefined>(undefined);
  /** "Run on CircleCI" is starting a pipeline. */
  ciStarting = $state(false);
  /** Why CircleCI could not be asked or started, shown beside its verdict. */
  ciError = $state<SlipwayError | null>(null);

  private planFor: string | null = null;
  /** Counts the plans shown, so an answer that comes late knows whether its plan still is. */
  private planGeneration = 0;
  private lastFor: string | null = null;
  /** The project whose choices `environment` and `runEverything` are. */
  private choiceFor: string | null = null;
  /** Every project's choices, by its path: one project's never carry to another. */
  private choices: Record<string, ReleaseChoice>;

  /**
   * `run`: the window's one run, which History follows its rollbacks with too; its own by
   * default, for a page shown alone.
   */
  constructor(
    private readonly api: ReleaseApi = defaultApi,
    private readonly storage: Storage | null = browserStorage(),
    readonly run: RunStore = new RunStore(api),
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
      this.stale = false;
      this.confirmDirty = false;
      this.error = null;
    }
    this.useChoicesOf(path);
    if (this.lastFor !== path) {
      this.lastFor = path;
      this.last = undefined;
    }
    if (!this.run.running && this.run.project !== null && this.run.project.path !== path) this.run.clear();
  }

  /** Works out the plan of `path`; `known`, a kept plan of it, shows meanwhile if none does. */
  async loadPlan(path: string, known: Plan | null = null): Promise<void> {
    // Another project's plan never stays on screen while this one's is made.
    if (this.plan && this.plan.projectPath !== path) this.plan = null;
    if (!this.plan && known?.projectPath === path) {
      this.plan = known;
      this.stale = true;
    }
    this.planFor = path;
    this.useChoicesOf(path);
    this.planning = true;
    this.error = null;
    // Only the newest question's answer is shown: an older plan (another environment) that
    // answers last never replaces it.
    const asked = ++this.planAsked;
    const newest = () => this.planFor === path && asked === this.planAsked;
    try {
      const plan = await this.api.planRelease(path, this.environment, this.runEverything);
      // The person may have opened another project, or chosen again, meanwhile.
      if (!newest()) return;
      this.plan = plan;
      this.stale = false;
      this.planGeneration += 1;
      this.ciError = null;
      this.afterPlan(plan, this.planGeneration);
    } catch (raw) {
      if (!newest()) return;
      this.error = toSlipwayError(raw);
      // A kept plan is no plan: with no fresh one, only the reason shows.
      if (this.stale) {
        this.plan = null;
        this.stale = false;
      }
    } finally {
      if (newest()) this.planning = false;
    }
  }

  /** How many plans were asked for: each answer knows whether a newer question came. */
  private planAsked = 0;

  /**
   * What a plan leaves to follow: the remote was still being asked (plan again once it has
   * answered), or CircleCI is running on the commit (ask it again until it ends).
   */
  private afterPlan(plan: Plan, generation: number): void {
    const path = plan.projectPath;
    if (plan.remote?.reach.kind === "fetching" && this.api.remoteFetchSettled) {
      void this.api.remoteFetchSettled(path).then(
        () => {
          // Still this plan: `this.plan` is its state proxy, never `===` to `plan` itself.
          if (this.planFor === path && this.planGeneration === generation && !this.run.running) void this.loadPlan(path);
        },
        () => {},
      );
    }
    if (plan.circleci?.verdict?.state === "running") void this.followCi(path);
  }

  private followingCi: string | null = null;

  /** Asks CircleCI again every few seconds while its pipeline on the plan's commit runs. */
  async followCi(path: string): Promise<void> {
    const ask = this.api.circleciVerdict;
    if (!ask || this.followingCi === path) return;
    this.followingCi = path;
    const until = Date.now() + CI_POLL_LIMIT_MS;
    try {
      while (Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, CI_POLL_MS));
        if (this.planFor !== path || this.plan?.projectPath !== path) return;
        const panel = await ask(path);
        if (this.planFor !== path || !this.plan || this.plan.projectPath !== path) return;
        this.plan = { ...this.plan, circleci: panel };
        if (panel?.verdict?.state !== "running") return;
      }
    } catch (raw) {
      if (this.planFor === path) this.ciError = toSlipwayError(raw);
    } finally {
      if (this.followingCi === path) this.followingCi = null;
    }
  }

  /** "Run on CircleCI": starts a pipeline for the branch, shows it, and follows it. */
  async runOnCircleci(path: string): Promise<void> {
    const start = this.api.runOnCircleci;
    if (!start) return;
    this.ciStarting = true;
    this.ciError = null;
    try {
      const verdict = await start(path);
      if (this.plan?.projectPath === path && this.plan.circleci) {
        this.plan = { ...this.plan, circleci: { ...this.plan.circleci, verdict, problem: null, canRun: false } };
      }
      if (verdict.state === "running") void this.followCi(path);
    } catch (raw) {
      if (this.planFor === path) this.ciError = toSlipwayError(raw);
    } finally {
      this.ciStarting = false;
    }
  }

  /**
   * Gives the values the plan asks for (secrets to the keyring), then plans again: the ones
   * given leave the plan. The saved settings, or `null` when they could not be saved (`error`
   * says why).
   */
  async giveValues(path: string, values: GivenValue[]): Promise<ProjectSettings | null> {
    this.error = null;
    let settings: ProjectSettings;
    try {
      settings = await this.api.giveProjectValues(path, values);
    } catch (raw) {
      this.error = toSlipwayError(raw);
      return null;
    }
    await this.loadPlan(path);
    return settings;
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
    if (!plan || this.stale || this.run.running || plan.blockers.length > 0) return false;
    return plan.dirtyFiles.length === 0 || this.confirmDirty;
  }

  /**
   * Whether the one thing in the way is the team's history not answering, so the release may
   * go without it (kept here, sent when the server is back).
   */
  get canReleaseWithoutTeamHistory(): boolean {
    const plan = this.plan;
    if (!plan || this.stale || this.run.running || plan.blockers.length === 0) return false;
    if (!plan.blockers.every((blocker) => blocker.action === "releaseWithoutTeamHistory")) return false;
    return plan.dirtyFiles.length === 0 || this.confirmDirty;
  }

  /**
   * Runs the release of the plan shown. `withoutTeamHistory`: the person agreed to release
   * though the team's server does not answer (no one else sees it or is stopped meanwhile).
   */
  async start(path: string, { withoutTeamHistory = false }: { withoutTeamHistory?: boolean } = {}): Promise<void> {
    const plan = this.plan;
    if (!plan || !(withoutTeamHistory ? this.canReleaseWithoutTeamHistory : this.canRelease)) return;
    this.error = null;
    try {
      // The release runs the plan shown here, or refuses: then the new plan is shown.
      await this.run.follow("release", { path, name: plan.projectName }, plan, (onEvent) =>
        this.api.startRelease(
          path,
          {
            // The environment of the plan shown: the one the person confirms by pressing Release.
            environment: plan.environment,
            confirmDirty: this.confirmDirty,
            confirmedPlan: plan.fingerprint,
            noCache: this.runEverything,
            withoutTeamHistory,
          },
          onEvent,
        ),
      );
    } catch (raw) {
      // Refused before any step ran: no run to show, the reason goes beside the button.
      const error = toSlipwayError(raw);
      this.error = error;
      if (error.action === "reviewPlan" || error.message.includes("changed since the plan")) void this.loadPlan(path);
    } finally {
      // Shipping uncommitted changes is agreed to for one release, never for the next.
      this.confirmDirty = false;
      if (this.lastFor === path) void this.loadLast(path);
    }
  }
}
