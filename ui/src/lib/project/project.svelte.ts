// The open project and the recent list, shared by the header and the pages.
import {
  api as defaultApi,
  toSlipwayError,
  type Api,
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

  constructor(
    private readonly api: Pick<Api, "openProject" | "recentProjects" | "forgetRecentProject" | "pickFolder"> &
      Partial<Pick<Api, "lastKnown" | "onLaunch">> = defaultApi,
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
    if (!(await this.open(first))) {
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
   * shows the Release page). Resolves to what stops listening.
   */
  async followLaunches(opened: () => void): Promise<() => void> {
    if (!this.api.onLaunch) return () => {};
    return this.api.onLaunch((launch) => {
      const opening = launch.open !== null ? this.open(launch.open) : launch.choose ? this.pick() : null;
      void opening?.then((ok) => ok && opened());
    });
  }

  /** The kept plan of the project at `path`, once: later plans are the page's own. */
  takeKnownPlan(path: string): Plan | null {
    const plan = this.knownPlan;
    this.knownPlan = null;
    return plan?.projectPath === path ? plan : null;
  }

  /** Opens the folder at `path`; on failure the current project stays as it was. */
  async open(path: string): Promise<boolean> {
    this.busy = true;
    this.error = null;
    try {
      const opened = await this.api.openProject(path);
      this.kept = false;
      this.current = opened;
      this.recents = await this.api.recentProjects();
      return true;
    } catch (raw) {
      this.error = toSlipwayError(raw);
      return false;
    } finally {
      this.busy = false;
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
