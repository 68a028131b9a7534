// The open project and the recent list, shared by the header and the pages.
import { api as defaultApi, toSlipwayError, type Api, type ProjectSummary, type RecentProject, type SlipwayError } from "../ipc";

export class ProjectStore {
  current = $state<ProjectSummary | null>(null);
  recents = $state<RecentProject[]>([]);
  error = $state<SlipwayError | null>(null);
  busy = $state(false);

  constructor(private readonly api: Pick<Api, "openProject" | "recentProjects" | "forgetRecentProject" | "pickFolder"> = defaultApi) {}

  async loadRecents(): Promise<void> {
    try {
      this.recents = await this.api.recentProjects();
    } catch (raw) {
      this.error = toSlipwayError(raw);
    }
  }

  /**
   * At start: reopens the last project (the first recent one) if it still opens. A folder
   * since moved or deleted is no news worth an alert on start: it stays in the recent list.
   */
  async reopenLast(): Promise<void> {
    await this.loadRecents();
    const last = this.recents[0];
    if (!last || this.current) return;
    if (!(await this.open(last.path))) this.error = null;
  }

  /** Opens the folder at `path`; on failure the current project stays as it was. */
  async open(path: string): Promise<boolean> {
    this.busy = true;
    this.error = null;
    try {
      this.current = await this.api.openProject(path);
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
