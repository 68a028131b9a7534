// The only module that talks to the backend: it wraps `invoke`, the app's broadcasts and the
// dialog plugin in typed functions built on the generated bindings. Components and stores
// import from here.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { open, save } from "@tauri-apps/plugin-dialog";
import { openUrl } from "@tauri-apps/plugin-opener";
export { STEPS } from "./bindings";
import type {
  AppError,
  CrashReport,
  UpdateOffer,
  KnownLogin,
  KnownLogins,
  LastKnown,
  LaunchAsk,
  StartView,
  CiPanel,
  CiVerdict,
  GivenValue,
  Account,
  AccountCheck,
  AppInfo,
  BuiltImage,
  CheckEvent,
  CheckSelection,
  ChecksRun,
  DockerEvent,
  DoctorReport,
  ImagesOverview,
  PushedImage,
  ErrorKind,
  ComputerSettings,
  EnvironmentChange,
  Opened,
  ProjectDetails,
  ProjectSettings,
  ProjectSummary,
  RecentProject,
  RenderConnection,
  RenderService,
  SentryProject,
  Service,
  Plan,
  ReleaseEvent,
  ReleaseOptions,
  ReleaseRecord,
  ReleaseSummary,
  RollbackCrossing,
  TaskInfo,
  TeamHistoryView,
  HistoryFilter,
  ReleaseDetail,
  LogPage,
  ExportFormat,
  LiveNow,
  LocalApp,
  AppOutput,
  AppAction,
  SystemStatus,
  IssueQuery,
  IssuePage,
  IssueStatus,
  SentryIssue,
  SentryEvent,
  WatchEvent,
  WatchSummary,
} from "./bindings";

export type {
  AutoRolledBack,
  CrashReport,
  UpdateOffer,
  KnownLogin,
  KnownLogins,
  LaunchAsk,
  CiJob,
  CiPanel,
  CiVerdict,
  CiWorkflow,
  RemoteStanding,
  TestComparison,
  VerdictState,
  Account,
  AccountCheck,
  ComputerSettings,
  Opened,
  TestFailure,
  Environment,
  EnvironmentChange,
  Environments,
  RenderLink,
  SentryLink,
  RenderConnection,
  RenderService,
  SentryProject,
  Service,
  AppError,
  AppInfo,
  BuiltImage,
  DockerEvent,
  ImagesOverview,
  LocalImage,
  PushedImage,
  CheckEvent,
  CheckKind,
  CheckOutcome,
  CheckSelection,
  ChecksRun,
  Detection,
  EnvVarNeed,
  Gate,
  GateKind,
  GateReport,
  GitDetails,
  LintReport,
  ProjectDetails,
  ProjectSettings,
  TestReport,
  Violation,
  CheckId,
  DoctorCheck,
  DoctorReport,
  ErrorKind,
  GitState,
  ProjectSummary,
  RecentProject,
  LastKnown,
  StartView,
  NeededValue,
  GivenValue,
  TestValue,
  Outcome,
  Plan,
  PlannedStep,
  ReleaseEvent,
  ReleaseOptions,
  ReleaseRecord,
  ReleaseSource,
  ReleaseSummary,
  RollbackCrossing,
  HistoryFilter,
  ReleaseDetail,
  LogPage,
  ExportFormat,
  LiveNow,
  LocalApp,
  AppOutput,
  AppAction,
  SystemStatus,
  ImageDestination,
  IssueQuery,
  IssueStatusFilter,
  IssueSort,
  IssueStatus,
  IssuePage,
  SentryIssue,
  SentryEvent,
  ExceptionView,
  FrameView,
  ContextLine,
  Breadcrumb,
  RequestView,
  KeyValue,
  WatchEvent,
  WatchSummary,
  StepResult,
  Step,
  StepRecord,
  TaskInfo,
  TaskKind,
  TeamHistoryView,
  StepState,
  Target,
} from "./bindings";

/** The one button that fixes an error. Read off `AppError` rather than imported: the
 * generator does not declare it yet (see `bindings-shim.d.ts`). */
export type ErrorAction = NonNullable<AppError["action"]>;

/** An error from the backend (or the bridge itself): what happened, what to do, the button
 * that does it, and the raw cause for "Technical details". */
export class SlipwayError extends Error implements AppError {
  readonly kind: ErrorKind;
  readonly hint: string;
  readonly action: ErrorAction | null;
  readonly detail: string | null;
  readonly terminalHint: string | null;

  constructor(error: Pick<AppError, "kind" | "message" | "hint"> & Partial<AppError>) {
    super(error.message);
    this.name = "SlipwayError";
    this.kind = error.kind;
    this.hint = error.hint;
    this.action = error.action ?? null;
    this.detail = error.detail ?? null;
    this.terminalHint = error.terminalHint ?? null;
  }
}

function isAppError(value: unknown): value is AppError {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as AppError).kind === "string" &&
    typeof (value as AppError).message === "string" &&
    typeof (value as AppError).hint === "string"
  );
}

/** Any rejection as a SlipwayError; the bridge's own failures are `unknown`. */
export function toSlipwayError(raw: unknown): SlipwayError {
  if (raw instanceof SlipwayError) return raw;
  if (isAppError(raw)) return new SlipwayError(raw);
  const message = raw instanceof Error ? raw.message : String(raw);
  return new SlipwayError({
    kind: "unknown",
    message: "Something went wrong inside Slipway.",
    hint: "Try again. If it keeps happening, the log folder (Settings) has the details.",
    action: "retry",
    detail: message || null,
  });
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (raw) {
    throw toSlipwayError(raw);
  }
}

/** The backend's app-wide broadcast `event`: each payload goes to `handler`; resolves to what
 * stops listening. */
async function hear<T>(event: string, handler: (payload: T) => void): Promise<() => void> {
  let unlisten: () => void;
  try {
    unlisten = await listen<T>(event, (message) => handler(message.payload));
  } catch (raw) {
    throw toSlipwayError(raw);
  }
  // Stopping at teardown may find the event plugin gone (a reload, a test's clean-up): there
  // is nothing left to stop then, and no one to tell.
  return () => void Promise.resolve(unlisten()).catch(() => {});
}

/** A release's events arrive in batches (the backend groups log lines by the frame): each is
 * handed to `onEvent` in order. */
function releaseChannel(onEvent: (event: ReleaseEvent) => void): Channel<ReleaseEvent[]> {
  const channel = new Channel<ReleaseEvent[]>();
  channel.onmessage = (events) => {
    for (const event of events) onEvent(event);
  };
  return channel;
}

/** Opens a web address in the person's browser, never inside Slipway's window. Only http and
 * https go: an address from a record or a service must not open a file or run a program. */
export async function openExternal(url: string): Promise<void> {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // Not an address at all: refused below like any other scheme.
  }
  if (parsed === null || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    throw new SlipwayError({
      kind: "validation",
      message: "Slipway only opens web addresses in the browser.",
      hint: "Copy the address and open it yourself if you trust it.",
      detail: url,
    });
  }
  try {
    await openUrl(parsed.href);
  } catch (raw) {
    throw toSlipwayError(raw);
  }
}

export const api = {
  appInfo: () => call<AppInfo>("app_info"),
  runDoctor: () => call<DoctorReport>("run_doctor"),
  /** Whether Docker and the keyring answer now, each with what to do when not. */
  systemStatus: () => call<SystemStatus>("system_status"),
  /** Opens Docker Desktop (macOS, Windows); rejects with how to start Docker on Linux. */
  openDockerDesktop: () => call<null>("open_docker_desktop"),
  openProject: (path: string) => call<ProjectSummary>("open_project", { path }),
  recentProjects: () => call<RecentProject[]>("recent_projects"),
  /** What the window last showed of a project (header, plan), to show at once at start. */
  lastKnown: (path: string) => call<LastKnown | null>("last_known", { path }),
  forgetRecentProject: (path: string) => call<RecentProject[]>("forget_recent_project", { path }),
  detectProject: (path: string) => call<ProjectDetails>("detect_project", { path }),
  saveProjectSettings: (path: string, settings: ProjectSettings) =>
    call<ProjectSettings>("save_project_settings", { path, settings }),
  cancelChecks: (path: string) => call<boolean>("cancel_checks", { path }),
  /** Opens a file of the project at a line in the person's editor (or the system's opener). */
  openInEditor: (project: string, path: string, line: number | null) =>
    call<Opened>("open_in_editor", { project, path, line }),
  /** Every long job running in the app (releases, checks, builds, pushes). */
  listTasks: () => call<TaskInfo[]>("list_tasks"),
  /** Asks the task `id` to stop; `false` when it had ended already. */
  cancelTask: (id: number) => call<boolean>("cancel_task", { id }),
  /** The whole list of running tasks, each time it changes (the `slipway://tasks` broadcast);
   * resolves to what stops listening. */
  onTasks: (handler: (tasks: TaskInfo[]) => void) => hear<TaskInfo[]>("slipway://tasks", handler),
  /** Slipway was launched again while this window was open (`slipway FOLDER`, a file manager's
   * "Open with", the desktop entry's "Open a project…"): the window came forward, and what the
   * launches asked waits in `takeLaunches`. Resolves to what stops listening. */
  onLaunch: (handler: () => void) => hear<null>("slipway://launch", () => handler()),
  /** What later launches asked, oldest first; each is given once. */
  takeLaunches: () => call<LaunchAsk[]>("take_launches"),
  /** A newer Slipway at the update address, or `null` (none, or no address set). */
  checkForUpdate: () => call<UpdateOffer | null>("check_for_update"),
  /** Installs `version` of Slipway (the one the person agreed to) and restarts on it; refused
   * while a job runs, and no job starts meanwhile. */
  installUpdate: (version: string) => call<null>("install_update", { version }),
  /** The crash shown at start has been read: it is not shown again. */
  dismissCrash: () => call<null>("dismiss_crash"),
  /** A secret value goes to the keyring and never comes back; the settings hold its name. */
  setProjectValue: (path: string, name: string, value: string, secret: boolean) =>
    call<ProjectSettings>("set_project_value", { path, name, value, secret }),
  unsetProjectValue: (path: string, name: string) => call<ProjectSettings>("unset_project_value", { path, name }),
  /** Several values at once, typed or proposed; a random key is made in the backend and never comes back. */
  giveProjectValues: (path: string, values: GivenValue[]) =>
    call<ProjectSettings>("give_project_values", { path, values }),

  /** Runs checks; every event arrives at `onEvent` while the promise is pending. */
  runChecks(path: string, selection: CheckSelection, onEvent: (event: CheckEvent) => void): Promise<ChecksRun> {
    const channel = new Channel<CheckEvent>();
    channel.onmessage = onEvent;
    return call<ChecksRun>("run_checks", { path, selection, onEvent: channel });
  },

  imagesOverview: (path: string) => call<ImagesOverview>("images_overview", { path }),
  // `path`: the project whose engine holds the image (its own Docker context, when it names one).
  retagImage: (source: string, target: string, path: string) => call<null>("retag_image", { source, target, path }),
  removeImage: (referenceText: string, path: string) => call<null>("remove_image", { referenceText, path }),

  buildProjectImage(path: string, onEvent: (event: DockerEvent) => void): Promise<BuiltImage> {
    const channel = new Channel<DockerEvent>();
    channel.onmessage = onEvent;
    return call<BuiltImage>("build_project_image", { path, onEvent: channel });
  },

  pushImage(referenceText: string, onEvent: (event: DockerEvent) => void, path: string): Promise<PushedImage> {
    const channel = new Channel<DockerEvent>();
    channel.onmessage = onEvent;
    return call<PushedImage>("push_image", { referenceText, onEvent: channel, path });
  },

  listAccounts: () => call<Account[]>("list_accounts"),
  connectRegistry: (server: string, username: string, token: string, repository: string | null) =>
    call<Account>("connect_registry", { server, username, token, repository }),
  connectRender: (apiKey: string) => call<RenderConnection>("connect_render", { apiKey }),
  /** The services the connected Render key sees, for an environment's service picker. */
  renderServices: () => call<RenderService[]>("render_services"),
  /** The projects of a connected Sentry account's organization, for a project's Sentry link. */
  sentryAccountProjects: (account: string) => call<SentryProject[]>("sentry_account_projects", { account }),
  connectRenderHook: (url: string) => call<Account>("connect_render_hook", { url }),
  connectSentry: (baseUrl: string, token: string, organization: string, project: string) =>
    call<Account>("connect_sentry", { baseUrl, token, organization, project }),
  /** The logins Docker and sentry-cli already keep on this computer: who and from where, never a secret. */
  knownLogins: () => call<KnownLogins>("known_logins"),
  /** Checks Docker's login to `server` like a typed token, then keeps it. */
  useDockerLogin: (server: string) => call<Account>("use_docker_login", { server }),
  /** Checks sentry-cli's token for the project (empty: sentry-cli's own defaults), then keeps it. */
  useSentryCliLogin: (organization: string, project: string) =>
    call<Account>("use_sentry_cli_login", { organization, project }),
  sentryProjects: (baseUrl: string, token: string, organization: string) =>
    call<SentryProject[]>("sentry_projects", { baseUrl, token, organization }),
  connectCircleci: (token: string, projectSlug: string) => call<Account>("connect_circleci", { token, projectSlug }),
  removeAccount: (service: Service, account: string) => call<null>("remove_account", { service, account }),
  checkAllAccounts: () => call<AccountCheck[]>("check_all_accounts"),

  /** Adds a Render environment to the project (saved at once); the saved settings come back. */
  addEnvironment: (path: string, name: string, change: EnvironmentChange) =>
    call<ProjectSettings>("add_environment", { path, name, change }),
  /** Changes one environment of the project (saved at once); the saved settings come back. */
  changeEnvironment: (path: string, name: string, change: EnvironmentChange) =>
    call<ProjectSettings>("change_environment", { path, name, change }),
  removeEnvironment: (path: string, name: string) => call<ProjectSettings>("remove_environment", { path, name }),
  /** Links the project to `organization/project` through the connected Sentry account `account`. */
  linkSentryProject: (path: string, account: string, organization: string, project: string) =>
    call<ProjectSettings>("link_sentry_project", { path, account, organization, project }),
  unlinkSentryProject: (path: string) => call<ProjectSettings>("unlink_sentry_project", { path }),
  /** This computer's settings: the local registry, whether every check finishes, the watch. */
  computerSettings: () => call<ComputerSettings>("computer_settings"),
  saveComputerSettings: (settings: ComputerSettings) =>
    call<ComputerSettings>("save_computer_settings", { settings }),

  /** Where releases are kept (this computer, or the team's PostgreSQL) and how its server answers. */
  teamHistory: () => call<TeamHistoryView>("team_history"),
  /** Checks the team's server and keeps releases there from now on; the password goes to the
   * keyring and never comes back (an empty one is none). */
  connectTeamHistory: (url: string, password: string | null) =>
    call<TeamHistoryView>("connect_team_history", { url, password }),
  /** Back to this computer's own history; the team's stays on its server. */
  disconnectTeamHistory: () => call<TeamHistoryView>("disconnect_team_history"),

  /** The plan of a release to the project's environment `environment` (`null`: its default). */
  planRelease: (path: string, environment: string | null, noCache = false) =>
    // `target` says it the older way too: this computer, else the default Render environment.
    call<Plan>("plan_release", { path, environment, target: environment === "local" ? "local" : null, noCache }),
  /** Resolves once the background `git fetch` the last plan of `path` started has ended (bounded). */
  remoteFetchSettled: (path: string) => call<null>("remote_fetch_settled", { path }),
  /** CircleCI's verdict on the project's checked-out commit, as the plan shows it. */
  circleciVerdict: (path: string) => call<CiPanel | null>("circleci_verdict", { path }),
  /** Starts a CircleCI pipeline for the project's branch. */
  runOnCircleci: (path: string) => call<CiVerdict>("run_on_circleci", { path }),
  cancelRelease: (path: string) => call<boolean>("cancel_release", { path }),
  listReleases: (filter: HistoryFilter) => call<ReleaseRecord[]>("list_releases", { filter }),
  liveNow: (path: string) => call<LiveNow[]>("live_now", { path }),
  /** One page of the issues of the Sentry project the project at `path` is linked to. */
  sentryIssues: (path: string, query: IssueQuery) => call<IssuePage>("sentry_issues", { path, query }),
  sentryIssue: (path: string, issueId: string) => call<SentryIssue>("sentry_issue", { path, issueId }),
  /** The issue's latest event, or the one named (a previous or next event id). */
  sentryEvent: (path: string, issueId: string, eventId: string | null) =>
    call<SentryEvent>("sentry_event", { path, issueId, eventId }),
  setIssueStatus: (path: string, issueIds: string[], status: IssueStatus) =>
    call<null>("set_issue_status", { path, issueIds, status }),
  /** Watches Sentry after the project's release (else its live one); events as they come. */
  startWatch(path: string, releaseId: string | null, onEvent: (event: WatchEvent) => void): Promise<WatchSummary> {
    const channel = new Channel<WatchEvent>();
    channel.onmessage = onEvent;
    return call<WatchSummary>("start_watch", { path, releaseId, onEvent: channel });
  },
  stopWatch: (path: string) => call<boolean>("stop_watch", { path }),
  /** The project's container on this machine; `null` when Slipway runs none for it. */
  localApp: (path: string) => call<LocalApp | null>("local_app", { path }),
  actOnLocalApp: (path: string, action: AppAction) => call<LocalApp | null>("act_on_local_app", { path, action }),
  /** What the container printed since `since` (Unix seconds; 0: its last lines). */
  localAppOutput: (path: string, since: number) => call<AppOutput>("local_app_output", { path, since }),
  historyNotice: () => call<string | null>("history_notice"),
  releaseDetail: (releaseId: string) => call<ReleaseDetail>("release_detail", { releaseId }),
  releaseLog: (releaseId: string, step: string, offset: number, limit: number, search: string | null) =>
    call<LogPage>("release_log", { releaseId, step, offset, limit, search }),

  /** What rolling back to release `to` on `environment` would cross (migrations), asked first. */
  rollbackCrossing: (path: string, environment: string | null, to: string) =>
    call<RollbackCrossing>("rollback_crossing", { path, environment, to }),

  /** Ships release `to` (or the last good one) again on the project's environment
   * `environment` (`null`: its default); events arrive at `onEvent`. */
  startRollback(
    path: string,
    environment: string | null,
    to: string | null,
    onEvent: (event: ReleaseEvent) => void,
  ): Promise<ReleaseSummary> {
    const channel = releaseChannel(onEvent);
    return call<ReleaseSummary>("start_rollback", { path, environment, to, onEvent: channel });
  },

  /** Ships the image of a live release to the environment `to` (`null`: the next one in the
   * project's chain), with no rebuild and no gates run again, streaming its events like a release. */
  startPromote(
    path: string,
    releaseId: string,
    to: string | null,
    onEvent: (event: ReleaseEvent) => void,
  ): Promise<ReleaseSummary> {
    const channel = releaseChannel(onEvent);
    return call<ReleaseSummary>("start_promote", { path, releaseId, to, onEvent: channel });
  },

  /** Runs what an interrupted release had left (its checks and build carried over). */
  startResume(path: string, releaseId: string, onEvent: (event: ReleaseEvent) => void): Promise<ReleaseSummary> {
    const channel = releaseChannel(onEvent);
    return call<ReleaseSummary>("start_resume", { path, releaseId, onEvent: channel });
  },

  /** Asks where to save (the OS dialog), then writes one release with its results and every
   * step's log there as JSON; `false` when the person cancels. */
  async exportRelease(releaseId: string): Promise<boolean> {
    const path = await save({
      title: "Export this release with its logs",
      defaultPath: `slipway-release-${releaseId}.json`,
      filters: [{ name: "JSON", extensions: ["json"] }],
    });
    if (path === null) return false;
    await call<null>("export_release", { releaseId, path });
    return true;
  },

  /** Asks where to save (the OS dialog), then writes the filtered list there; `null` when the
   * person cancels, else how many releases the file holds. */
  async exportReleases(filter: HistoryFilter, format: ExportFormat): Promise<number | null> {
    const path = await save({
      title: "Export the release history",
      defaultPath: `slipway-history.${format}`,
      filters: [{ name: format.toUpperCase(), extensions: [format] }],
    });
    if (!path) return null;
    return call<number>("export_releases", { filter, format, path });
  },

  /** Runs a release; every event arrives at `onEvent` while the promise is pending. */
  startRelease(path: string, options: ReleaseOptions, onEvent: (event: ReleaseEvent) => void): Promise<ReleaseSummary> {
    const channel = releaseChannel(onEvent);
    return call<ReleaseSummary>("start_release", { path, options, onEvent: channel });
  },

  /** Shows the OS folder picker; `null` when the person cancels. */
  async pickFolder(): Promise<string | null> {
    try {
      const picked = await open({ directory: true, multiple: false, title: "Open a project folder" });
      return typeof picked === "string" ? picked : null;
    } catch (raw) {
      throw toSlipwayError(raw);
    }
  },
};

export type Api = typeof api;
