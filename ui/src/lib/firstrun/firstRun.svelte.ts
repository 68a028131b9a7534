// The first-run guide: on a fresh data folder (no recent project, no account) the Release page
// walks the person through opening their project and choosing where it runs, instead of
// leaving them before an empty page. Finishing or skipping it is remembered in this window's
// storage; a data folder with a project or an account never shows it.
import { api as defaultApi, toSlipwayError, type Api, type ProjectDetails, type SlipwayError } from "../ipc";

export const FIRST_RUN_KEY = "slipway.firstRun.done";

export type FirstRunApi = Pick<Api, "recentProjects" | "listAccounts" | "detectProject">;
type Storage = Pick<globalThis.Storage, "getItem" | "setItem">;

export type Where = "local" | "render";
/** The Render path, one service at a time: then this project's Render service, then Sentry. */
export type RenderStep = "explain" | "registry" | "render" | "service" | "sentry";
export const RENDER_STEPS: RenderStep[] = ["explain", "registry", "render", "service", "sentry"];

/** The environment the guide makes for a project's Render service. */
export const FIRST_ENVIRONMENT = "production";

/** What the folder just opened holds, as far as releasing it goes. */
export interface FolderCheck {
  path: string;
  checking: boolean;
  /** What is missing, in words; `null` when it looks like a project Slipway can release. */
  problem: string | null;
  /** Neither a Dockerfile nor manage.py: going on needs the person's word. */
  notAProject: boolean;
  error: SlipwayError | null;
  /** The person chose to go on with it anyway. */
  accepted: boolean;
}

/** Why a folder is not (yet) a project Slipway can release, from what detection found. */
export function folderProblem(details: ProjectDetails): { words: string; notAProject: boolean } | null {
  const hasDockerfile = details.detection.dockerfiles.length > 0 || details.settings.dockerfile !== null;
  const hasManage = details.detection.appRoot !== null;
  if (!hasDockerfile && !hasManage) {
    return {
      words:
        "This folder has no Dockerfile and no manage.py, so it does not look like a Python web project. Choose the project's own folder: the one that holds manage.py or the Dockerfile.",
      notAProject: true,
    };
  }
  if (!hasDockerfile) {
    return {
      words:
        "Slipway found manage.py but no Dockerfile. A release builds your app's image from a Dockerfile: add one to the project before the first release (the Release page says so until then).",
      notAProject: false,
    };
  }
  return null;
}

function browserStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export class FirstRunStore {
  /** The guide is shown. */
  active = $state(false);
  /** Still asking whether the data folder is fresh: the page waits rather than flash. */
  deciding = $state(false);
  where = $state<Where | null>(null);
  renderStep = $state<RenderStep>("explain");
  folder = $state<FolderCheck | null>(null);
  private decided = false;

  constructor(
    private readonly api: FirstRunApi = defaultApi,
    private readonly storage: Storage | null = browserStorage(),
  ) {}

  get done(): boolean {
    try {
      return this.storage?.getItem(FIRST_RUN_KEY) === "1";
    } catch {
      return false;
    }
  }

  /** Once at start: shows the guide on a fresh data folder. Unknown is not fresh. */
  async decide(): Promise<void> {
    if (this.decided) return;
    this.decided = true;
    if (this.done) return;
    this.deciding = true;
    try {
      const [recents, accounts] = await Promise.all([this.api.recentProjects(), this.api.listAccounts()]);
      this.active = recents.length === 0 && accounts.length === 0;
    } catch {
      this.active = false;
    } finally {
      this.deciding = false;
    }
  }

  /** Finished or skipped: never shown again in this window's storage. */
  finish(): void {
    this.active = false;
    try {
      this.storage?.setItem(FIRST_RUN_KEY, "1");
    } catch {
      // Storage refused (private mode): the guide simply shows again next time.
    }
  }

  /** Looks at the folder just opened: does it hold what a release needs? */
  async checkFolder(path: string): Promise<void> {
    if (this.folder?.path === path) return;
    this.folder = { path, checking: true, problem: null, notAProject: false, error: null, accepted: false };
    try {
      const found = folderProblem(await this.api.detectProject(path));
      if (this.folder?.path !== path) return;
      this.folder.problem = found?.words ?? null;
      this.folder.notAProject = found?.notAProject ?? false;
    } catch (raw) {
      if (this.folder?.path === path) this.folder.error = toSlipwayError(raw);
    } finally {
      if (this.folder?.path === path) this.folder.checking = false;
    }
  }

  /** Goes on with a folder that does not look like a project. */
  accept(): void {
    if (this.folder) this.folder.accepted = true;
  }

  /** 1 (open a project) until the open one has been looked at and may go on; then 2. */
  stepFor(path: string | null): 1 | 2 {
    const folder = this.folder;
    if (path === null || folder?.path !== path || folder.checking) return 1;
    if ((folder.error || folder.notAProject) && !folder.accepted) return 1;
    return 2;
  }

  nextRenderStep(): void {
    const index = RENDER_STEPS.indexOf(this.renderStep);
    this.renderStep = RENDER_STEPS[index + 1] ?? this.renderStep;
  }

  previousRenderStep(): void {
    const index = RENDER_STEPS.indexOf(this.renderStep);
    if (index === 0) this.where = null;
    else this.renderStep = RENDER_STEPS[index - 1] ?? "explain";
  }
}
