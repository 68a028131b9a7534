// What the backend sends, for the tests: each builder fills every field with a plain value
// (a live local release of "lettings" at abc1234) and takes what a test cares about as overrides.
import type {
  Account,
  AppError,
  Environment,
  RenderService,
  Plan,
  PlannedStep,
  ProjectDetails,
  ReleaseRecord,
  ReleaseSummary,
  Step,
  StepRecord,
  TaskInfo,
  TeamHistoryView,
} from "../ipc";

/** A row of the release ledger. */
export function releaseRecord(overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    id: "r0",
    projectPath: "/p/lettings",
    projectName: "lettings",
    user: "ann",
    startedAt: "2026-11-24T10:00:00Z",
    endedAt: "2026-11-24T10:01:00Z",
    commit: "abc1234",
    branch: "main",
    dirty: false,
    target: "local",
    image: "lettings:abc1234",
    digest: null,
    deployId: null,
    deployStatus: null,
    url: null,
    outcome: "live",
    message: null,
    error: null,
    kind: "release",
    sourceId: null,
    machine: null,
    imageId: null,
    environment: "local",
    service: null,
    remoteUrl: null,
    onRemote: null,
    commitPage: null,
    remoteHost: null,
    steps: [],
    liveNow: false,
    source: null,
    ...overrides,
  };
}

/** One step of a recorded release, without times or summary unless given. */
export function stepRecord(name: string, state: StepRecord["state"], overrides: Partial<StepRecord> = {}): StepRecord {
  return { name, state, startedAt: null, endedAt: null, summary: null, cachedFrom: null, ...overrides };
}

/** How a release ended, as the backend answers the call that ran it. */
export function releaseSummary(overrides: Partial<ReleaseSummary> = {}): ReleaseSummary {
  return {
    releaseId: "r1",
    outcome: "live",
    image: "lettings:abc1234",
    digest: null,
    url: null,
    deployId: null,
    message: null,
    error: null,
    ...overrides,
  };
}

/** One step of a plan, run unless `skip` says why not. */
export function plannedStep(step: Step, detail: string, overrides: Partial<PlannedStep> = {}): PlannedStep {
  return { step, detail, skip: null, ciLine: null, notes: [], cached: null, ...overrides };
}

/** The plan of a local release: tests, lint and build, nothing in the way. */
export function plan(overrides: Partial<Plan> = {}): Plan {
  return {
    projectPath: "/p/lettings",
    projectName: "lettings",
    target: "local",
    environment: "local",
    destination: "this computer",
    steps: [plannedStep("tests", "pytest"), plannedStep("lint", "flake8"), plannedStep("build", "Dockerfile")],
    image: "lettings:abc1234",
    registry: null,
    service: null,
    commit: "abc1234",
    branch: "main",
    dirtyFiles: [],
    blockers: [],
    otherTags: [],
    gates: [],
    ciSkipped: [],
    needs: [],
    python: "Python 3.11.7",
    remote: null,
    remoteWords: null,
    engine: null,
    warnings: [],
    circleci: null,
    team: null,
    fingerprint: "fp",
    ...overrides,
  };
}

/** An error as the backend sends it: what happened and what to do, no action or detail unless given. */
export function appError(overrides: Partial<AppError> & Pick<AppError, "kind" | "message" | "hint">): AppError {
  return { action: null, detail: null, terminalHint: null, ...overrides };
}

/** Docker is not running on this computer. */
export const dockerDown: AppError = appError({
  kind: "dockerUnavailable",
  message: "Slipway cannot reach Docker on this computer.",
  hint: "Start Docker, then try again.",
  action: "startDocker",
});

/** A connected account, made in the wizard. */
export function account(service: Account["service"], name: string, overrides: Partial<Account> = {}): Account {
  return {
    service,
    account: name,
    username: null,
    server: null,
    sentryOrganization: null,
    sentryProject: null,
    renderService: null,
    renderImage: null,
    circleciProject: null,
    verifiedAt: "2026-11-24T10:00:00Z",
    scopes: [],
    source: "wizard",
    ...overrides,
  };
}

/** The Sentry project acme/web. */
export function sentryAccount(overrides: Partial<Account> = {}): Account {
  return account("sentry", "acme/web", { sentryOrganization: "acme", sentryProject: "web", ...overrides });
}

/** What detection finds in a folder with a Dockerfile, requirements.txt, pytest and flake8. */
export function projectDetails(path: string): ProjectDetails {
  return {
    path,
    saved: false,
    git: { branch: "main", commit: "abc1234", dirtyFiles: [], remoteUrl: null },
    settings: {
      testCommand: "pytest",
      lintTool: "flake8",
      lintCommand: "flake8",
      lintVersion: null,
      venv: null,
      dockerfile: "Dockerfile",
      env: {},
      checkTimeoutSecs: 1800,
      imageRepository: null,
      lintEnabled: true,
      gates: [],
      secretEnv: [],
      environments: { list: [] },
      waitForCi: false,
    },
    detection: {
      appRoot: "",
      testCommand: { value: "pytest", source: "pytest.ini" },
      lintTool: { value: "flake8", source: "setup.cfg" },
      lintCommand: { value: "flake8", source: "setup.cfg" },
      lintVersion: null,
      python: {
        existing: null,
        inTree: false,
        installFrom: ["requirements.txt"],
        installer: "requirements",
        installSource: "found in the project's folder",
        packages: [],
        extras: [],
        groups: [],
        requiresPython: null,
        ciPython: null,
      },
      dockerfile: { value: "Dockerfile", source: "the project's folder" },
      buildContext: { value: ".", source: "the project's folder" },
      buildArgs: [],
      ciFiles: [],
      dockerfiles: ["Dockerfile"],
      dockerignore: false,
      renderYaml: false,
      blueprint: null,
      envVars: [],
      testOrigin: null,
      lintOrigin: null,
      gates: [],
      ciSkipped: [],
      lintExcludes: [],
      services: [],
    },
  };
}

/** A Render environment of a project, deploying to the service `service` ("lettings-web"). */
export function renderEnvironment(name: string, service: string, overrides: Partial<Environment> = {}): Environment {
  return {
    name,
    target: "render",
    renderService: { id: `srv-${service}`, name: service, image: `docker.io/acme/${service}:latest` },
    ...overrides,
  };
}

/** A service the connected Render key sees. */
export function renderService(name: string, overrides: Partial<RenderService> = {}): RenderService {
  return {
    id: `srv-${name}`,
    name,
    type: "web_service",
    image: `docker.io/acme/${name}:latest`,
    url: `https://${name}.onrender.com`,
    ...overrides,
  };
}

/** A task the backend runs: a release of lettings at its start, unless told otherwise. */
export function taskInfo(overrides: Partial<TaskInfo> = {}): TaskInfo {
  return {
    id: 1,
    kind: "release",
    project: "/p/lettings",
    startedAt: new Date().toISOString(),
    cancelling: false,
    step: null,
    ...overrides,
  };
}

/** How the history stands in Settings: this computer's own, unless told otherwise. */
export function teamHistoryView(overrides: Partial<TeamHistoryView> = {}): TeamHistoryView {
  return { url: null, place: null, fromEnvironment: false, reachable: null, problem: null, unsent: 0, ...overrides };
}

/** The team's history connected at 127.0.0.1:5432/team, answering. */
export function teamConnected(overrides: Partial<TeamHistoryView> = {}): TeamHistoryView {
  return teamHistoryView({
    url: "postgres://slipway@127.0.0.1:5432/team",
    place: "127.0.0.1:5432/team",
    reachable: true,
    ...overrides,
  });
}
