// The open project and the recent list, shared by the header and the pages.
import {
  api as defaultApi,
  toSlipwayError,
  type Api,
  type LaunchAsk,
  type Plan,
  type ProjectSummary,
  type RecentProject,
  type SlipwayError,
  type StartView,
} from "../ipc";

/**
 * What the backend handed the page before its first script (the recent list, and what was last
 * known of the first project), once: a reload asks again through the IPC.
 */
export function takeStartView(): StartView | null {
  const page = globalThis as { __SLIPWAY_START__?: StartView | null };
  const start = page.__SLIPWAY_START__ ?? null;
  delete page.__SLIPWAY_START__;
  return start;
}

export class ProjectStore {
  current = $state<ProjectSummary | null>(null);
  recents = $state<RecentProject[]>([]);
  error = $state<SlipwayError | null>(null);
  busy = $state(false);
  /**
   * At start, the last plan the window showed of `current`, kept by the backend: the Release
   * page shows it, marked as being checked again, until the fresh one is made.
   */
  knownPlan: Plan | null = null;
  /** `current` is the header kept from the last start, not yet read again. */
  kept = $state(false);
  /** Counts the openings begun, so only the last one's answer is shown. */
  private openings = 0;

  constructor(
    private readonly api: Pick<Api, "openProject" | "recentProjects" | "forgetRecentProject" | "pickFolder"> &
      Partial<Pick<Api, "lastKnown" | "onLaunch" | "takeLaunches">> = defaultApi,
  ) {}

  async loadRecents(): Promise<void> {
    try {
      this.recents = await this.api.recentProjects();
    } catch (raw) {
      this.error = toSlipwayError(raw);
    }
  }

  /**
   * At start: opens the folder the window was launched with, else reopens the last project
   * (the first recent one) if it still opens. A last project since moved or deleted is no news
   * worth an alert on start: it stays in the recent list. A launched folder that does not open
   * says why: the person just asked for it.
   */
  async reopenLast(): Promise<void> {
    // Handed over with the page, the first paint shows them; else asked for.
    const start = takeStartView();
    if (start) this.recents = start.recents;
    else await this.loadRecents();
    const launched = start?.launch.open ?? null;
    // "Open a project…": the picker, over the last project (which stays if nothing is picked).
    if (start?.launch.choose) void this.pick();
    const first = launched ?? this.recents[0]?.path;
    if (!first || this.current) return;
    // What the window showed of it last time, at once: opening reads git, which can take a
    // while on a big tree, and the window paints without waiting for it.
    const known = start ? start.lastKnown : await this.api.lastKnown?.(first).catch(() => null);
    if (known && !this.current) {
      this.knownPlan = known.plan;
      this.kept = true;
      this.current = known.project;
    }
    const asked = this.openings + 1;
    // Not opened, and not because a later opening (a launch, the picker) took its place.
    if (!(await this.open(first)) && this.openings === asked) {
      if (launched === null) this.error = null;
      // Moved or deleted since: nothing of it stays on screen.
      if (this.kept) {
        this.kept = false;
        this.current = null;
      }
    }
  }

  /**
   * Slipway launched again while the window is open: the folder it was given is opened here,
   * or the picker shown ("Open a project…"); once a project opened, `opened` runs (the window
   * shows the Release page). Launches heard before the page listened wait in the backend and
   * are taken at once. Resolves to what stops listening.
   */
  async followLaunches(opened: () => void): Promise<() => void> {
    const { onLaunch, takeLaunches } = this.api;
    if (!onLaunch || !takeLaunches) return () => {};
    const take = async () => {
      let launches: LaunchAsk[] = [];
      try {
        launches = await takeLaunches();
      } catch (raw) {
        this.error = toSlipwayError(raw);
      }
      // The last one that asks something wins: each opening replaces the one before, and a
      // plain launch (only "come forward") asks nothing.
      const last = launches.filter((launch) => launch.open !== null || launch.choose).pop();
      if (!last) return;
      const opening = last.open !== null ? this.open(last.open) : last.choose ? this.pick() : null;
      if (opening && (await opening)) opened();
    };
    const stop = await onLaunch(() => void take());
    await take();
    return stop;
  }

  /** The kept plan of the project at `path`, once: later plans are the page's own. */
  takeKnownPlan(path: string): Plan | null {
    const plan = this.knownPlan;
    this.knownPlan = null;
    return plan?.projectPath === path ? plan : null;
  }

  /** Opens the folder at `path`; on failure the current project stays as it was. */
  /**
   * Opens the folder at `path`; false when it does not open, or when another opening began
   * after this one: the project asked for last is the one shown, whichever answer comes last
   * (a slow git read of the last project must not replace a folder just picked or launched).
   */
  async open(path: string): Promise<boolean> {
    const mine = ++this.openings;
    this.busy = true;
    this.error = null;
    try {
      const opened = await this.api.openProject(path);
      if (mine !== this.openings) return false;
      this.kept = false;
      this.current = opened;
      this.recents = await this.api.recentProjects();
      return true;
    } catch (raw) {
      if (mine === this.openings) this.error = toSlipwayError(raw);
      return false;
    } finally {
      if (mine === this.openings) this.busy = false;
    }
  }

  /** Shows the folder picker, then opens what was picked. */
  async pick(): Promise<boolean> {
    this.error = null;
    try {
      const path = await this.api.pickFolder();
      return path === null ? false : await this.open(path);
    } catch (raw) {
      this.error = toSlipwayError(raw);
      return false;
    }
  }

  async forget(path: string): Promise<void> {
    try {
      this.recents = await this.api.forgetRecentProject(path);
    } catch (raw) {
      this.error = toSlipwayError(raw);
    }
  }

  dismissError(): void {
    this.error = null;
  }
}
