// Generated from the Rust types by `src-tauri/bindings.rs`. Do not edit by hand:
// run `SLIPWAY_UPDATE_BINDINGS=1 cargo test --lib bindings` to regenerate.

export type ErrorKind = "dockerUnavailable" | "keyringUnavailable" | "registryAuth" | "registryDenied" | "network" | "rateLimited" | "notFound" | "validation" | "precondition" | "io" | "cancelled" | "unknown";

export type ErrorAction = "retry" | "startDocker" | "reenterToken" | "openAccounts" | "openProjectSettings" | "reviewPlan" | "openProject" | "pickRenderService" | "useServiceImage" | "linkSentry" | "openAppSettings" | "releaseWithoutTeamHistory";

export type AppError = { kind: ErrorKind, 
/**
 * What happened, in one plain sentence.
 */
message: string, 
/**
 * What the person can do about it, in their words (no commands, no flags).
 */
hint: string, 
/**
 * The button that fixes it, when the kind alone does not say.
 */
action: ErrorAction | null, 
/**
 * The raw cause (a status code, an engine or tool message), folded in the window.
 */
detail: string | null, 
/**
 * What to do in a terminal, for the CLI (a command or a flag).
 */
terminalHint: string | null, };

export type AppInfo = { version: string, dataDir: string, logDir: string, };

export type GitState = { 
/**
 * The branch, or `None` on a detached HEAD.
 */
branch: string | null, 
/**
 * The short commit id; `None` in a repository with no commit yet.
 */
commit: string | null, };

export type ProjectSummary = { 
/**
 * The folder's name.
 */
name: string, 
/**
 * The absolute, canonical path.
 */
path: string, git: GitState | null, };

export type RecentProject = { name: string, path: string, 
/**
 * RFC 3339, UTC.
 */
openedAt: string, };

export type LastKnown = { project: ProjectSummary, 
/**
 * `None` until a plan was made for it.
 */
plan: Plan | null, };

export type StartView = { recents: Array<RecentProject>, lastKnown: LastKnown | null, 
/**
 * What the launch asked: a folder opened in place of the last project, or the picker.
 */
launch: LaunchAsk, 
/**
 * The last crash, until the person dismisses it.
 */
crash: CrashReport | null, };

export type LaunchAsk = { 
/**
 * A project folder to open, absolute.
 */
open: string | null, 
/**
 * Show the folder picker.
 */
choose: boolean, };

export type CrashReport = { 
/**
 * RFC 3339.
 */
at: string, version: string, 
/**
 * Which face broke: "the window", or the command (`slipway release`).
 */
face: string, 
/**
 * The panic's message and where in the code, redacted.
 */
message: string, 
/**
 * What was running then, in a person's words ("A release of /home/ann/lettings").
 */
doing: Array<string>, logFolder: string, 
/**
 * The process ended with it; `false` when a background job broke and the app went on.
 */
stopped: boolean, };

export type UpdateOffer = { version: string, currentVersion: string, 
/**
 * What's new, as the release wrote it.
 */
notes: string | null, };

export type KnownLogin = { service: Service, 
/**
 * A registry's host (`docker.io` for Docker Hub), or Sentry's address.
 */
server: string, username: string | null, 
/**
 * sentry-cli's default organization and project, when its file names them.
 */
organization: string | null, project: string | null, 
/**
 * Where it was found, in a person's words: "Docker (docker-credential-desktop)", "sentry-cli".
 */
source: string, };

export type KnownLogins = { logins: Array<KnownLogin>, problems: Array<ImportProblem>, };

export type CheckId = "dockerEngine" | "keyring" | "git" | "python";

export type DoctorCheck = { id: CheckId, 
/**
 * What was checked, for a person.
 */
name: string, ok: boolean, 
/**
 * A release cannot run without it.
 */
required: boolean, 
/**
 * What was found (a version) or what is wrong.
 */
detail: string, 
/**
 * What to do when it is not ok.
 */
hint: string | null, };

export type DoctorReport = { version: string, 
/**
 * True when every required check passed.
 */
ok: boolean, checks: Array<DoctorCheck>, dataDir: string, logDir: string, };

export type SystemStatus = { 
/**
 * `None` when the engine answers.
 */
docker: AppError | null, 
/**
 * The engine's version, when it answers.
 */
dockerVersion: string | null, 
/**
 * `None` when the keyring answers.
 */
keyring: AppError | null, 
/**
 * The Docker context the engine comes from, when one is chosen (`docker context use`).
 */
dockerContext?: string, };

export type Detected<T> = { value: T, 
/**
 * Where it came from, in words: a file, or "Slipway's default".
 */
source: string, };

export type LintTool = "flake8" | "ruff";

export type Installer = "requirements" | "poetry" | "pyproject" | "uvLock" | "pipenv" | "nothing";

export type PythonEnv = { 
/**
 * An existing virtualenv the project uses (inside its folder or beside it).
 */
existing: string | null, 
/**
 * The existing one lies inside the project folder (linters must skip it).
 */
inTree: boolean, 
/**
 * Files the environment is installed from, relative to the project.
 */
installFrom: Array<string>, installer: Installer, 
/**
 * Where the choice of files comes from: a CI line, or where they were found.
 */
installSource: string, 
/**
 * Packages the CI installs by name (`pip install pytest==7.4.4`), after the files.
 */
packages: Array<string>, 
/**
 * The extras and dependency groups installed with the project's own dependencies.
 */
extras: Array<string>, groups: Array<string>, 
/**
 * The Python the project asks for (`requires-python`, `.python-version`), if it does.
 */
requiresPython: Detected<string> | null, 
/**
 * The Python its CI runs (a preference, not a requirement).
 */
ciPython: Detected<string> | null, };

export type EnvVarNeed = { name: string, 
/**
 * Where it was seen: `.env.example`, a CI file, the settings module.
 */
sources: Array<string>, 
/**
 * A value found beside it (`.env.example`, CI), if any.
 */
example: string | null, 
/**
 * The name suggests a secret (`SECRET`, `TOKEN`, `PASSWORD`, `KEY`, `DSN`).
 */
secret: boolean, 
/**
 * The literal value the CI's checking jobs set (a dummy secret for the tests is used as
 * the CI uses it).
 */
ciValue: string | null, 
/**
 * The CI computes it or takes it from its secrets (`${{ secrets.X }}`): a person must give
 * a value.
 */
ciExpression: string | null, 
/**
 * The settings the tests load read it with no default (`os.environ["X"]`,
 * `.get("X").split()`): the app cannot start without it.
 */
required: boolean, 
/**
 * The project's settings read it (not only its CI or `.env.example` names it).
 */
readByCode: boolean, 
/**
 * A `.env` file in the project gives it, and something loads that file for the tests: the
 * settings (`load_dotenv()`, `read_env()`, decouple, a pydantic `env_file`) or the CI's
 * runner (`pipenv run`, whose values Slipway then gives the tests itself).
 */
inDotenv: boolean, };

export type CiOrigin = { 
/**
 * The CI's line, as written.
 */
line: string, 
/**
 * What Slipway changed, in a person's words.
 */
notes: Array<string>, 
/**
 * How the CI lets the command fail, when it does.
 */
letsFail: string | null, };

export type Blueprint = { serviceName: string | null, 
/**
 * `docker`, `image`, `python`, … (`env:` in older Blueprints).
 */
runtime: string | null, healthCheckPath: string | null, dockerfile: string | null, dockerContext: string | null, 
/**
 * The image a `runtime: image` service runs.
 */
imageUrl: string | null, 
/**
 * Names of the variables the service sets (never their values).
 */
envNames: Array<string>, };

export type BuildArg = { name: string, 
/**
 * The CI's literal value, when it has one and it does not look secret.
 */
value: string | null, 
/**
 * What the CI computes it from (`${{ secrets.SENTRY_AUTH_TOKEN }}`), when it does.
 */
expression: string | null, 
/**
 * Kept in the keyring and passed to the build only.
 */
secret: boolean, 
/**
 * Where it was found: `docker-compose.yml (service web)`, a workflow's job.
 */
source: string, };

export type GateKind = "coverage" | "format" | "types" | "django" | "lint";

export type Gate = { 
/**
 * Stable within the project: the tool's name, numbered when it repeats (`black`, `mypy-2`).
 */
id: string, kind: GateKind, 
/**
 * The program whose verdict it is (`black`, `coverage`, `manage.py check`).
 */
tool: string, 
/**
 * What Slipway runs, from the project's folder.
 */
command: string, 
/**
 * The CI's line, as written.
 */
ciLine: string | null, 
/**
 * Where it was found, in words.
 */
source: string, 
/**
 * What Slipway changed in the CI's line, and why.
 */
notes: Array<string>, 
/**
 * Values the CI gives this command alone (`docker run -e`).
 */
env: { [key in string]: string }, 
/**
 * Runs when the tests have finished (it reads what they left, like coverage data).
 */
afterTests: boolean, 
/**
 * The tool's version the CI pins (`pip install black==24.3.0`), installed when missing.
 */
version: string | null, enabled: boolean, };

export type SkippedCommand = { line: string, source: string, reason: string, };

export type ServiceSpec = { 
/**
 * The CI's name for it: the `services:` key or compose service (`postgres`, `db`), else
 * the image's own name. The tests may use it as a host name (`postgres:5432`).
 */
name: string, image: string, 
/**
 * The values the CI gives the service's container (`POSTGRES_PASSWORD`).
 */
env: { [key in string]: string }, 
/**
 * The port it listens on in its container: the CI's, else the image's usual one; `None`
 * reads the image's `EXPOSE` when it starts.
 */
port: number | null, 
/**
 * The port the CI publishes it on (`5432:5432`): tried first here, as the tests' own
 * defaults often assume it.
 */
ciPort: number | null, 
/**
 * The CI's health command (`--health-cmd pg_isready`): the service is ready when it passes.
 */
healthCmd: string | null, 
/**
 * The CI's variables that take the port the CI published it on
 * (`${{ job.services.postgres.ports[5432] }}`): given the port it has here.
 */
portVariables: Array<string>, 
/**
 * Where it was found, in words: `.github/workflows/ci.yml (job test)`.
 */
source: string, };

export type TestValue = { "kind": "text", value: string, } | { "kind": "randomKey", length: number, };

export type GivenValue = { name: string, 
/**
 * Kept in the keyring.
 */
secret: boolean, value: TestValue, };

export type NeededValue = { name: string, 
/**
 * Why it is needed, in words: "the settings read it with no default", "your CI gives it
 * from ${{ secrets.X }}".
 */
why: string, secret: boolean, 
/**
 * The tests' settings read it with no default: they cannot start without it. Otherwise
 * the CI gives it and the settings have a default.
 */
required: boolean, 
/**
 * The CI keeps it in its secret store (`${{ secrets.X }}`, CircleCI's project variables or
 * a context): the person has to give a value of their own.
 */
ciSecret: boolean, 
/**
 * A value safe for the tests that Slipway can fill in (a random key, `localhost`), if any.
 */
testValue: TestValue | null, };

export type Detection = { 
/**
 * Where `manage.py` is, relative to the project (`""` for the top), if anywhere.
 */
appRoot: string | null, testCommand: Detected<string>, 
/**
 * The CI line the test command comes from, when it does.
 */
testOrigin: CiOrigin | null, lintTool: Detected<LintTool>, lintCommand: Detected<string>, lintOrigin: CiOrigin | null, 
/**
 * The other checks the CI runs: coverage, formatting, types, Django's checks.
 */
gates: Array<Gate>, 
/**
 * CI commands Slipway does not run (they deploy, upload or notify), with the reason.
 */
ciSkipped: Array<SkippedCommand>, 
/**
 * The CI files read, relative to the project.
 */
ciFiles: Array<string>, 
/**
 * The linter version the project pins (CI first, then requirements), if any.
 */
lintVersion: Detected<string> | null, python: PythonEnv, 
/**
 * Dockerfiles found, relative to the project.
 */
dockerfiles: Array<string>, 
/**
 * The one to build, and why that one: the CI's, the one beside `manage.py`, the top one.
 */
dockerfile: Detected<string> | null, 
/**
 * The folder sent to the engine as the build context, relative to the project (`.`).
 */
buildContext: Detected<string>, 
/**
 * The build arguments the CI or Compose file passes to that build.
 */
buildArgs: Array<BuildArg>, dockerignore: boolean, renderYaml: boolean, 
/**
 * What `render.yaml` says of the web service, when there is one.
 */
blueprint: Blueprint | null, envVars: Array<EnvVarNeed>, 
/**
 * Folders the lint config already excludes.
 */
lintExcludes: Array<string>, 
/**
 * The services the CI starts for the tests (a database, a cache).
 */
services: Array<ServiceSpec>, };

export type GitDetails = { branch: string | null, commit: string | null, 
/**
 * Files with uncommitted changes (or untracked), as `git status` names them.
 */
dirtyFiles: Array<string>, remoteUrl: string | null, };

export type SyncState = "upToDate" | "ahead" | "behind" | "diverged" | "noUpstream" | "noRemote" | "detached";

export type Reach = { "kind": "fetched", at: string, } | { "kind": "fetching" } | { "kind": "unreachable", why: string, knownAt: string | null, } | { "kind": "notTried" };

export type RemoteStanding = { 
/**
 * The upstream's remote, else the push default, else `origin`, else the first remote.
 */
remote: string | null, 
/**
 * The remote's address without credentials.
 */
remoteUrl: string | null, 
/**
 * The remote-tracking branch the checked-out branch follows: `origin/main`.
 */
upstream: string | null, branch: string | null, state: SyncState, 
/**
 * Commits on the branch that the upstream lacks.
 */
ahead: number, 
/**
 * Commits on the upstream that the branch lacks.
 */
behind: number, reach: Reach, 
/**
 * The forge the remote is on (`GitHub`, `GitLab`, `Bitbucket`), when it is one of them.
 */
host: string | null, 
/**
 * The commit is on some branch of `remote`, as last fetched.
 */
commitOnRemote: boolean, };

export type ProjectSettings = { 
/**
 * Run through the shell in the project folder, as CI would.
 */
testCommand: string, lintTool: LintTool, lintCommand: string, 
/**
 * The linter version to install when the environment lacks it.
 */
lintVersion: string | null, 
/**
 * The project's own virtualenv; `None` lets Slipway make one in its data folder.
 */
venv: string | null, 
/**
 * The Dockerfile to build, relative to the project.
 */
dockerfile: string | null, 
/**
 * Non-secret environment variables for the tests.
 */
env: { [key in string]: string }, checkTimeoutSecs: number, 
/**
 * `[registry/]namespace/name` the image is tagged and pushed as; `None` uses the
 * project folder's name.
 */
imageRepository: string | null, 
/**
 * The port the app listens on inside its container (Local target); `None` reads the
 * Dockerfile's `EXPOSE`, else 8000.
 */
containerPort?: number, 
/**
 * The path that must answer before a deploy counts as live; `None` is `/`.
 */
healthPath?: string, 
/**
 * How long the deployed app has to answer; `None` is 60 s.
 */
healthTimeoutSecs?: number, 
/**
 * `--build-arg` values for the image build.
 */
buildArgs?: { [key in string]: string }, 
/**
 * Build arguments whose value is the project's value of that name (given like the tests'
 * values; a secret one from the keyring, passed to the build only). `None` is none.
 */
buildArgsGiven?: Array<string>, 
/**
 * The Dockerfile stage to build (`--target`); `None` builds the last one.
 */
buildTarget?: string, 
/**
 * The tags each image gets, `{commit}` standing for the short commit (`dev` outside
 * git); the first is the one a release pushes and deploys. `None` is `{commit}` and
 * `latest`.
 */
imageTags?: Array<string>, 
/**
 * Lint is a gate of the release (off when the person lets it fail, as their CI may).
 */
lintEnabled: boolean, 
/**
 * The other checks the CI runs (coverage, formatting, types, Django), each able to be
 * turned off.
 */
gates: Array<Gate>, 
/**
 * The folder sent to the engine when the image is built, relative to the project; `None`
 * is the project's folder.
 */
buildContext?: string, 
/**
 * Names of the secret values the checks get from the OS keyring (never their values).
 */
secretEnv: Array<string>, 
/**
 * The requirement files to install, relative to the project; `None` uses what the CI
 * installs, else what detection found.
 */
installFrom?: Array<string>, 
/**
 * The release name the app's Sentry SDK reports (`SENTRY_RELEASE`), `{commit}` standing
 * for the full commit id; `None` is the full commit id, the SDKs' own default.
 */
sentryRelease?: string, 
/**
 * The environment deploys are recorded under in Sentry; `None` is `production` on
 * Render and `local` on this machine.
 */
sentryEnvironment?: string, 
/**
 * Where the project runs: this computer and its Render environments, in chain order.
 */
environments: Environments, 
/**
 * The Sentry project its releases and errors belong to; `None` records nothing in Sentry.
 */
sentryProject?: SentryLink, 
/**
 * The tests, lint and gates run in a sandbox that hides the keyring and the person's keys
 * (where bubblewrap can make one); `None` is on. Off for tests that use Docker.
 */
sandbox?: boolean, 
/**
 * Push the commit to its remote branch as the release's first step when the remote does
 * not have it yet; `None` is on.
 */
pushFirst?: boolean, 
/**
 * The CircleCI project (`gh/acme/shop`) whose pipelines run this project's commits;
 * `None` is the one the `origin` remote implies, when a CircleCI account is connected.
 */
circleciProject?: string, 
/**
 * The release waits for CircleCI's workflows on the commit before deploying, and stops
 * when they fail.
 */
waitForCi: boolean, 
/**
 * The Docker context (`docker context ls`) the project builds, pushes and runs on, over
 * `DOCKER_HOST`, `DOCKER_CONTEXT` and the current context, as `docker --context` does;
 * `None` is the one Docker's own settings choose.
 */
dockerContext?: string, };

export type ProjectDetails = { path: string, detection: Detection, settings: ProjectSettings, 
/**
 * The settings were saved by the person (else they are the detected proposal).
 */
saved: boolean, git: GitDetails | null, };

export type CheckSelection = "tests" | "lint" | "both";

export type ChecksRun = { tests: TestReport | null, lint: LintReport | null, 
/**
 * The other gates (coverage, formatting, types, Django), when all checks ran.
 */
gates: Array<GateReport>, };

export type CheckKind = "tests" | "lint";

export type CheckOutcome = "passed" | "failed" | "couldNotRun" | "canceled" | "skipped";

export type Stream = "stdout" | "stderr";

export type TestCounts = { passed: number, failed: number, errors: number, skipped: number, };

export type TestFailure = { 
/**
 * pytest's node id, `tests/test_x.py::TestY::test_z`.
 */
nodeId: string, message: string, traceback: string, 
/**
 * The file and line the test failed at, relative to the project (`tests/test_app.py`).
 */
file: string | null, line: number | null, 
/**
 * For a failed `assert left == right`: what the code gave (left) and what the test
 * expected (right), as pytest's own diff reads them.
 */
got: string | null, expected: string | null, 
/**
 * pytest's explanation (its `E` lines) as it printed them, diff included.
 */
explanation: string | null, };

export type TestReport = { outcome: CheckOutcome, counts: TestCounts, failures: Array<TestFailure>, 
/**
 * pytest's own last line, `2 failed, 10 passed in 1.2s`.
 */
summaryLine: string | null, exitCode: number | null, 
/**
 * Why the tests could not run, in words.
 */
problem: string | null, durationMs: number, };

export type Violation = { path: string, line: number, column: number, code: string, message: string, 
/**
 * What the rule asks for in plain words, for the common rules (`checks::rules`).
 */
explanation: string | null, 
/**
 * The rule's own page: the linter's (ruff names it) or the rule set's.
 */
helpUrl: string | null, };

export type LintReport = { tool: LintTool, outcome: CheckOutcome, violations: Array<Violation>, problem: string | null, exitCode: number | null, durationMs: number, };

export type GateReport = { id: string, kind: GateKind, tool: string, command: string, outcome: CheckOutcome, 
/**
 * The verdict in one sentence.
 */
message: string, 
/**
 * What it found, one a line: files to format, type errors, Django's issues.
 */
findings: Array<string>, exitCode: number | null, durationMs: number, };

export type CheckEvent = { "event": "setup", "data": { message: string, } } | { "event": "started", "data": { check: CheckKind, command: string, } } | { "event": "output", "data": { check: CheckKind | null, stream: Stream, line: string, 
/**
 * Milliseconds since the Unix epoch.
 */
atMs: number, } } | { "event": "finished", "data": { check: CheckKind, outcome: CheckOutcome, } } | { "event": "gateStarted", "data": { id: string, command: string, } } | { "event": "gateOutput", "data": { id: string, stream: Stream, line: string, atMs: number, } } | { "event": "gateFinished", "data": { report: GateReport, } };

export type ContextFile = { path: string, bytes: number, };

export type ContextSummary = { files: bigint, bytes: number, 
/**
 * The biggest files, largest first, for the warning.
 */
largest: Array<ContextFile>, 
/**
 * Set when the context is large, with what to do about it.
 */
warning: string | null, };

export type DockerEvent = { "event": "context", "data": ContextSummary } | { "event": "step", "data": { number: number, total: number, instruction: string, } } | { "event": "output", "data": { line: string, } } | { "event": "built", "data": { imageId: string, } } | { "event": "layer", "data": { id: string, status: string, current: number, total: number, } } | { "event": "pushProgress", "data": { done: number, total: number, percent: number, } } | { "event": "pushed", "data": { reference: string, digest: string, } };

export type LocalImage = { id: string, tags: Array<string>, sizeBytes: number, 
/**
 * RFC 3339.
 */
created: string, 
/**
 * Containers using it (a remove then fails).
 */
containers: number, };

export type ImageDestination = { target: Target, 
/**
 * `registry/namespace/name`, as the release tags and pushes it.
 */
name: string, 
/**
 * The registry, as a person names it ("Docker Hub", "localhost:5000"); `None` when the
 * image stays on this machine (no push).
 */
registry: string | null, 
/**
 * The registry can be asked for its tags: an account is connected for it, or it is this
 * machine's own registry. Docker Hub is never asked without an account.
 */
canListTags: boolean, 
/**
 * The project's own setting ("Where your image goes"), when the person set one.
 */
setting: string | null, };

export type VerdictState = "passed" | "running" | "failed" | "onHold" | "canceled" | "notRun";

export type WorkflowStatus = "success" | "running" | "not_run" | "failed" | "error" | "failing" | "on_hold" | "canceled" | "unauthorized" | (string & {});

export type CiJob = { id: string, name: string, 
/**
 * None for a job that has not started (blocked) and for an approval.
 */
jobNumber: number | null, 
/**
 * CircleCI's word (`success`, `failed`, `blocked`, `on_hold`, `infrastructure_fail`, …).
 */
status: string, 
/**
 * `build` or `approval`.
 */
kind: string, 
/**
 * The job's page, once it has a number.
 */
url: string | null, };

export type CiWorkflow = { id: string, name: string, status: WorkflowStatus, url: string, jobs: Array<CiJob>, };

export type CiVerdict = { pipelineId: string, pipelineNumber: number, 
/**
 * The pipeline's page in CircleCI's web app.
 */
pipelineUrl: string, 
/**
 * The commit it ran (`vcs.revision`), when CircleCI says.
 */
revision: string | null, state: VerdictState, workflows: Array<CiWorkflow>, 
/**
 * Why the pipeline could not start (a configuration CircleCI could not read), in
 * CircleCI's words.
 */
errors: Array<string>, };

export type FailedOn = "circleCi" | "slipway";

export type TestDisagreement = { 
/**
 * The test's own name (`test_x[param]`).
 */
name: string, 
/**
 * Its full name as the side it failed on gave it (a node id, or `classname.name`).
 */
test: string, failedOn: FailedOn, 
/**
 * What the other side says of it: `passed`, `skipped`, `not run` (CircleCI has no
 * result for it), or, for Slipway, `passed or not run` (Slipway keeps only its failures).
 */
elsewhere: string, };

export type TestComparison = { circle: TestCounts, here: TestCounts, 
/**
 * Same counts and no test failed on one side only.
 */
agree: boolean, disagreements: Array<TestDisagreement>, 
/**
 * [`TestComparison::sentence`], for the window to show as it is.
 */
words: string, };

export type CiPanel = { 
/**
 * The CircleCI project (`gh/acme/shop`).
 */
project: string, 
/**
 * Where the project was named: the project's settings, or its `origin` remote.
 */
projectSource: string, verdict: CiVerdict | null, 
/**
 * Why there is no verdict, in a person's words: no pipeline yet, CircleCI unreachable,
 * the token refused.
 */
problem: string | null, 
/**
 * CircleCI's test results beside Slipway's own for the same commit.
 */
comparison: TestComparison | null, 
/**
 * CircleCI has no pipeline for the commit: the window offers to run one.
 */
canRun: boolean, };

export type ImagesOverview = { 
/**
 * The name a release gives the image (`destination.name`): what this page lists.
 */
repository: string, 
/**
 * Where the release puts the image, and why the registry is or is not asked.
 */
destination: ImageDestination, local: Array<LocalImage>, 
/**
 * The registry's tags; `None` when it is not asked (nothing is pushed, or no account is
 * connected for it) or, with `remote_error`, when it could not be asked.
 */
remote: Array<string> | null, remoteError: AppError | null, 
/**
 * The engine id of the image the project's container runs, to mark it.
 */
liveImageId: string | null, };

export type BuiltImage = { imageId: string, references: Array<string>, };

export type PushedImage = { reference: string, digest: string, 
/**
 * The registry's manifest has the same digest.
 */
verified: boolean, };

export type Service = "registry" | "render" | "sentry" | "circleCi";

export type Account = { service: Service, 
/**
 * Which account of the service: the registry's server, `default` for single accounts.
 */
account: string, username: string | null, 
/**
 * Base URL for self-hosted services (Sentry) or the registry's address.
 */
server: string | null, 
/**
 * Sentry: the organization and project the token was checked against when connected.
 */
sentryOrganization: string | null, sentryProject: string | null, 
/**
 * Render: the service a deploy hook deploys (`srv-…`); for the API key, the service
 * older versions deployed every project to (kept until its project is linked).
 */
renderService: string | null, 
/**
 * Render: the image older versions pushed for that app-wide service.
 */
renderImage: string | null, 
/**
 * CircleCI: the project slug (`gh/acme/shop`) the token was checked against.
 */
circleciProject: string | null, 
/**
 * RFC 3339, when a check last proved the secret works.
 */
verifiedAt: string | null, scopes: Array<string>, 
/**
 * Where it came from: `wizard`, `~/.docker/config.json`, a credential helper.
 */
source: string, };

export type ImportProblem = { server: string, message: string, };

export type RenderService = { id: string, name: string, type: string, 
/**
 * The image an image-backed service deploys (`serviceDetails.image.imagePath`).
 */
image: string | null, url: string | null, };

export type RenderConnection = { account: Account, services: Array<RenderService>, };

export type AccountCheck = { account: Account, ok: boolean, problem: AppError | null, };

export type ScopeReport = { present: Array<string>, missing: Array<string>, };

export type SentryProject = { id: string, slug: string, name: string, };

export type Outcome = "running" | "live" | "failed" | "canceled" | "error" | "interrupted";

export type ReleaseKind = "release" | "rollback" | "promote" | "resume";

export type StepState = "pending" | "running" | "passed" | "failed" | "skipped" | "canceled" | "interrupted";

export type StepRecord = { name: Step | (string & {}), state: StepState, startedAt: string | null, endedAt: string | null, 
/**
 * A line a person reads: "42 passed, 1 failed", "3 violations", "18.2 MB pushed".
 */
summary: string | null, 
/**
 * The release whose passed run this gate reused (the tree, environment and command
 * were the same), when it came from the cache.
 */
cachedFrom: string | null, };

export type ReleaseRecord = { id: string, projectPath: string, projectName: string, user: string, 
/**
 * RFC 3339.
 */
startedAt: string, endedAt: string | null, commit: string | null, branch: string | null, dirty: boolean, target: Target | (string & {}), image: string | null, digest: string | null, deployId: string | null, deployStatus: string | null, url: string | null, outcome: Outcome, message: string | null, 
/**
 * The error that ended it, whole as the release showed it (its sentence, hint, button
 * and detail), so History offers the same fix.
 */
error: AppError | null, kind: ReleaseKind | (string & {}), sourceId: string | null, machine: string | null, 
/**
 * The engine's id of the built image: what a Local rollback runs again.
 */
imageId: string | null, 
/**
 * The project's environment it went to (`local`, `staging`, …); `None` for a Render
 * release made before environments whose project has not been linked since.
 */
environment: string | null, 
/**
 * The Render service it deployed to (`srv-…`), or the container's name here.
 */
service: string | null, 
/**
 * The remote its commit lives on, without credentials.
 */
remoteUrl: string | null, 
/**
 * Whether that remote had the released commit (after the release's own push).
 */
onRemote: boolean | null, 
/**
 * The commit's page on GitHub, GitLab or Bitbucket, when the remote is there.
 */
commitPage: string | null, 
/**
 * "GitHub", "GitLab" or "Bitbucket", when the remote is there.
 */
remoteHost: string | null, steps: Array<StepRecord>, 
/**
 * The newest release that went live on its environment: the one the ledger says runs
 * there now (exactly one per environment; the target itself may say otherwise).
 */
liveNow: boolean, 
/**
 * The release a rollback or a promotion shipped again, when it is still in the ledger.
 */
source: ReleaseSource | null, };

export type ReleaseSource = { id: string, commit: string | null, 
/**
 * RFC 3339.
 */
startedAt: string, endedAt: string | null, 
/**
 * Where it went live (`None` for a Render release made before environments).
 */
environment: string | null, };

export type HistoryFilter = { 
/**
 * One project (its folder), or every project.
 */
projectPath: string | null, outcome: Outcome | null, 
/**
 * `local` or `render`.
 */
target: string | null, 
/**
 * One environment of the project (`staging`, `production`, `local`).
 */
environment?: string, 
/**
 * Started at or after (RFC 3339, or a date `YYYY-MM-DD`).
 */
since: string | null, 
/**
 * Started before.
 */
until: string | null, 
/**
 * Text found in the commit, branch, image, digest, message or release id.
 */
search: string | null, 
/**
 * One person's releases (their login, as History shows it).
 */
user?: string, 
/**
 * The page's size (100 when not given).
 */
limit: number | null, 
/**
 * The next page: the releases after this one (the id of the last row shown).
 */
before: string | null, };

export type LogPage = { lines: Array<string>, 
/**
 * Lines of the step (that match the search, when there is one).
 */
total: number, offset: number, };

export type StepResult = { step: string, report: unknown, };

export type ReleaseDetail = { release: ReleaseRecord, results: Array<StepResult>, };

export type ExportFormat = "csv" | "json";

export type LiveNow = { target: Target, 
/**
 * The project's environment ("local", "staging", "production").
 */
environment: string, 
/**
 * The release that runs, when the ledger knows it.
 */
release: ReleaseRecord | null, 
/**
 * When the target and the ledger disagree (or nothing runs), in a person's words.
 */
note: string | null, };

export type IssueQuery = { 
/**
 * `None` is unresolved, Sentry's default view.
 */
status: IssueStatusFilter | null, environment: string | null, 
/**
 * Issues seen in this release.
 */
release: string | null, 
/**
 * Issues that first appeared in this release (new since it).
 */
firstRelease: string | null, 
/**
 * Free text in Sentry's search syntax, passed as it is.
 */
text: string | null, sort: IssueSort | null, 
/**
 * `24h`, `14d`, … (Sentry's `statsPeriod`).
 */
period: string | null, 
/**
 * A page's cursor from an earlier answer.
 */
cursor: string | null, limit: number | null, };

export type IssueStatusFilter = "unresolved" | "resolved" | "ignored" | "all";

export type IssueSort = "lastSeen" | "firstSeen" | "events" | "users";

export type IssueStatus = "resolved" | "ignored" | "unresolved";

export type SentryIssue = { id: string, shortId: string, title: string, culprit: string | null, level: string, status: string, 
/**
 * Events (Sentry sends a string).
 */
count: number, userCount: number, firstSeen: string | null, lastSeen: string | null, permalink: string | null, 
/**
 * The release it first appeared in, when Sentry says (the issue's detail does).
 */
firstRelease: string | null, isUnhandled: boolean, };

export type IssuePage = { issues: Array<SentryIssue>, next: string | null, previous: string | null, };

export type SentryEvent = { id: string, title: string, 
/**
 * The logged message, for an event without an exception (or beside it).
 */
message: string | null, date: string | null, release: string | null, environment: string | null, 
/**
 * Innermost last, as Sentry lists chained exceptions.
 */
exceptions: Array<ExceptionView>, breadcrumbs: Array<Breadcrumb>, request: RequestView | null, tags: Array<KeyValue>, previousEventId: string | null, nextEventId: string | null, };

export type ExceptionView = { kind: string, value: string | null, 
/**
 * Oldest call first, the failing one last (Sentry's order).
 */
frames: Array<FrameView>, };

export type FrameView = { filename: string | null, function: string | null, module: string | null, line: number | null, column: number | null, 
/**
 * The project's own code (open by default), not a library's.
 */
inApp: boolean, context: Array<ContextLine>, vars: Array<KeyValue>, };

export type ContextLine = { line: number, text: string, 
/**
 * The line that failed.
 */
current: boolean, };

export type Breadcrumb = { timestamp: string | null, category: string | null, level: string | null, message: string | null, };

export type RequestView = { method: string | null, url: string | null, query: string | null, };

export type KeyValue = { key: string, value: string, };

export type WatchEvent = { "kind": "started", releaseId: string, version: string, 
/**
 * RFC 3339, when it will end by itself.
 */
until: string, } | { "kind": "newIssue", issue: SentryIssue, } | { "kind": "checked", at: string, newIssues: number, } | { "kind": "trouble", message: string, } | { "kind": "rolledBack" } & AutoRolledBack | { "kind": "ended" } & WatchSummary;

export type WatchSummary = { releaseId: string, version: string, newIssues: Array<SentryIssue>, 
/**
 * `time`, `stopped` or `failed`.
 */
ended: string, error: AppError | null, 
/**
 * The environment's automatic rollback fired (too many new issues too soon): how it went.
 */
rolledBack: AutoRolledBack | null, };

export type AutoRolledBack = { 
/**
 * "Rolled back by itself to the release of 9f8e7d6 (…): it is live again.", or why not.
 */
message: string, 
/**
 * The release before is live again: nothing is left for a person to roll back.
 */
live: boolean, };

export type LocalApp = { 
/**
 * The container's name (named after the project).
 */
name: string, state: LocalAppState, running: boolean, 
/**
 * RFC 3339, when it was last started.
 */
since: string | null, 
/**
 * RFC 3339, when it stopped or exited.
 */
endedAt: string | null, 
/**
 * How it ended, when it exited by itself.
 */
exitCode: number | null, 
/**
 * Where it answers, while it runs.
 */
url: string | null, 
/**
 * The release that started it, and that release's record when the ledger has it.
 */
releaseId: string | null, release: ReleaseRecord | null, image: string | null, 
/**
 * *Run it again* can work: the container can start again, or (removed) the image of
 * the release that was live here is still on this machine.
 */
canRunAgain: boolean, };

export type LocalAppState = "running" | "stopped" | "exited" | "removed";

export type AppOutput = { lines: Array<string>, 
/**
 * Unix seconds: pass it back to get only what came after.
 */
nextSince: number, };

export type AppAction = "stop" | "restart" | "runAgain";

export type Target = "local" | "render";

export type RenderLink = { 
/**
 * `srv-…`.
 */
id: string, 
/**
 * The service's name on Render ("lettings-web"), for the window to say.
 */
name?: string, 
/**
 * The image the service is configured with (`docker.io/acme/lettings-web`): Render only
 * accepts a new tag or digest of it.
 */
image?: string, };

export type Environment = { 
/**
 * The name the person chose ("staging", "production"); `local` is this computer.
 */
name: string, target: Target, 
/**
 * The Render service (Render environments only).
 */
renderService?: RenderLink, 
/**
 * `[registry/]namespace/name` this environment pushes to; `None` is the service's own
 * image (Render), else the project's image name.
 */
imageRepository?: string, 
/**
 * The path that must answer before a deploy counts as live; `None` is the project's.
 */
healthPath?: string, 
/**
 * The environment its deploys are recorded under in Sentry; `None` is the project's
 * setting, else the environment's name (`local` on this computer).
 */
sentryEnvironment?: string, 
/**
 * Whether a release runs the built image on this computer first, as this environment
 * will, before pushing it; `None`: on for production (see [`Environment::rehearses`]).
 */
rehearse?: boolean, 
/**
 * Roll back by itself when a release fails its live check, or when Sentry reports
 * enough new issues soon after it went live; `None` (the default): never.
 */
autoRollback?: AutoRollback, };

export type AutoRollback = { newIssues: number, minutes: number, };

export type Environments = { 
/**
 * Every environment but this computer's defaults, in chain order; a `local` entry here
 * holds this computer's own overrides.
 */
list: Array<Environment>, 
/**
 * The environment Release goes to; `None` is the first Render environment, else this
 * computer.
 */
default?: string, };

export type SentryLink = { 
/**
 * The connected Sentry account whose token is used (its name in Settings → Accounts).
 */
account: string, organization: string, 
/**
 * The project's slug.
 */
project: string, };

export type EnvironmentChange = { 
/**
 * A new name.
 */
rename?: string, 
/**
 * The Render service (`srv-…`), looked up with the connected key.
 */
renderService?: string, imageRepository?: string, healthPath?: string, sentryEnvironment?: string, 
/**
 * Rehearse its releases on this computer before the push.
 */
rehearse?: boolean, 
/**
 * Roll back by itself, or not.
 */
autoRollback?: AutoRollbackChoice, 
/**
 * Make it the environment Release goes to.
 */
makeDefault: boolean, };

export type AutoRollbackChoice = { on: boolean, newIssues: number, minutes: number, };

export type UpgradeReport = { 
/**
 * Projects whose Render environment `production` now holds the app-wide service.
 */
renderLinked: Array<string>, 
/**
 * Projects that each released to the app-wide service: none is guessed, each is asked.
 */
renderAsked: Array<string>, 
/**
 * Projects now linked to the app-wide Sentry project.
 */
sentryLinked: Array<string>, 
/**
 * Projects that each recorded releases in it: each is asked.
 */
sentryAsked: Array<string>, 
/**
 * The app-wide service and Sentry project it found (`srv-…`, `org/project`).
 */
renderService: string | null, sentryProject: string | null, };

export type ComputerSettings = { 
/**
 * The registry the Local environment pushes to (`127.0.0.1:5000`); `None`: no push.
 */
localRegistry: string | null, 
/**
 * The registry in force when one was given as Slipway started: it wins over the field.
 */
localRegistryInForce: string | null, 
/**
 * Stop the other checks at the first failing one (off: every check finishes).
 */
stopAtFirstFailure: boolean, 
/**
 * The editor *Open in editor* starts, with `{file}` and `{line}`; `None`: the system's.
 */
editorCommand: string | null, 
/**
 * How long Sentry is watched after a release goes live.
 */
watchMinutes: number, };

export type Opened = { 
/**
 * "Opened lettings/app.py at line 2 in code." or, when the system's opener cannot be
 * given a line, "Opened lettings/app.py: go to line 2."
 */
sentence: string, };

export type Step = "git" | "tests" | "lint" | "checks" | "build" | "rehearsal" | "push" | "ci" | "deploy" | "verify" | "sentry";

export type CachedGate = { 
/**
 * The release whose run it was.
 */
fromRelease: string, 
/**
 * When that run passed (RFC 3339).
 */
passedAt: string, 
/**
 * What it said then ("42 passed").
 */
summary: string | null, };

export type PlannedStep = { step: Step, 
/**
 * What it will do, in a person's words.
 */
detail: string, 
/**
 * Why it will be skipped, when it will.
 */
skip: string | null, 
/**
 * The CI line it comes from, when it does.
 */
ciLine: string | null, 
/**
 * What Slipway changed in that line and why, in a person's words.
 */
notes: Array<string>, 
/**
 * The earlier pass this gate reuses instead of running: the tree, the environment and
 * the command are the same.
 */
cached: CachedGate | null, };

export type Plan = { projectPath: string, projectName: string, target: Target, 
/**
 * The environment it goes to ("local", "staging", "production").
 */
environment: string, 
/**
 * Where it deploys, as a person reads it: "lettings-web (production) on Render".
 */
destination: string, steps: Array<PlannedStep>, 
/**
 * The image reference built and deployed.
 */
image: string, 
/**
 * Where the image is pushed; `None` when the push is skipped.
 */
registry: string | null, 
/**
 * The Render service id, or the local container's name.
 */
service: string | null, commit: string | null, branch: string | null, dirtyFiles: Array<string>, 
/**
 * Problems that stop the release before it starts.
 */
blockers: Array<AppError>, 
/**
 * Other tags the image gets beside the one it is released as (`latest`).
 */
otherTags: Array<string>, 
/**
 * The other gates that will run, each with its CI line and notes.
 */
gates: Array<Gate>, 
/**
 * CI commands Slipway does not run, with the reason.
 */
ciSkipped: Array<SkippedCommand>, 
/**
 * Values the gates still need: set them in the project's settings.
 */
needs: Array<NeededValue>, 
/**
 * The Python the checks run with, in words ("Python 3.11.7, as pyproject.toml asks
 * (>=3.10)"); `None` with the project's own virtualenv.
 */
python: string | null, 
/**
 * Where the commit stands against the branch it tracks on its remote (after a bounded
 * background fetch); `None` outside git.
 */
remote: RemoteStanding | null, 
/**
 * The remote's standing in a sentence ("2 commits ahead of origin/main: they are not on
 * GitHub yet.").
 */
remoteWords: string | null, 
/**
 * The Docker Engine it builds and runs on, when it is not this computer's own socket:
 * "tcp://10.0.0.5:2376 (Docker context team)".
 */
engine: string | null, 
/**
 * What does not stop the release but should be read first (a branch behind its remote).
 */
warnings: Array<string>, 
/**
 * CircleCI's verdict on the commit, when the project runs on CircleCI and an account is
 * connected.
 */
circleci: CiPanel | null, 
/**
 * The team's history, when the releases are kept there: where, and whether it answers
 * ("Team history on db.example.com:5432/slipway").
 */
team: string | null, 
/**
 * What the person confirms when pressing Release: the commit, the uncommitted files, the
 * image and its registry, the service, and every step and gate, hashed.
 */
fingerprint: string, };

export type ReleaseOptions = { 
/**
 * The project's environment to release to, by name; `None` is its default.
 */
environment?: string, 
/**
 * Older callers' way to say it: `Local` is this computer, `Render` the default Render
 * environment. `environment` wins.
 */
target?: Target, 
/**
 * Go on with uncommitted changes (the ledger records that it did).
 */
confirmDirty: boolean, 
/**
 * The fingerprint of the plan the person confirmed; the release refuses to run another.
 */
confirmedPlan?: string, 
/**
 * Run every gate, even those that passed on this very tree ("Run everything").
 */
noCache: boolean, 
/**
 * Push the commit to its remote first: `Some` overrides the project's setting
 * (`--push` / `--no-push`).
 */
pushFirst?: boolean, 
/**
 * Wait for CircleCI's workflows before deploying: `Some(true)` turns it on for this
 * release (`--wait-for-ci`) over the project's setting.
 */
waitForCi?: boolean, 
/**
 * Release though the team's history cannot be reached: no team lock is taken, and the
 * release is sent to the team's history when it is back (`--without-team-history`).
 */
withoutTeamHistory: boolean, };

export type ReleaseSummary = { releaseId: string, 
/**
 * `live`, `failed`, `canceled` or `error`.
 */
outcome: Outcome, image: string, digest: string | null, url: string | null, deployId: string | null, 
/**
 * Why it did not go live, in a person's words.
 */
message: string | null, 
/**
 * The error that ended it, with its kind and what to do, when one did.
 */
error: AppError | null, };

export type Migration = { 
/**
 * The app's folder name (`shop`).
 */
app: string, 
/**
 * The file's name without `.py` (`0007_add_price`).
 */
name: string, };

export type RollbackCrossing = { 
/**
 * The Django migrations the live release has and the target does not.
 */
migrations: Array<Migration>, 
/**
 * "The database keeps the changes of shop 0007_add_price; the older code may not work
 * with them."; `None` when nothing is crossed (or it cannot be read here).
 */
warning: string | null, };

export type ReleaseEvent = { "kind": "started", releaseId: string, plan: Plan, } | { "kind": "rollbackStarted", releaseId: string, sourceId: string, } | { "kind": "promoteStarted", releaseId: string, sourceId: string, } | { "kind": "resumeStarted", releaseId: string, sourceId: string, } | { "kind": "step", step: Step, state: StepState, 
/**
 * Since the step started, when it has finished.
 */
elapsedMs: number | null, summary: string | null, } | { "kind": "log", step: Step, line: string, atMs: number, } | { "kind": "lines", step: Step, lines: Array<string>, } | { "kind": "tests", report: TestReport, } | { "kind": "lint", report: LintReport, } | { "kind": "gate", report: GateReport, } | { "kind": "docker", step: Step, event: DockerEvent, } | { "kind": "deploy", deployId: string | null, status: string, } | { "kind": "circleCi", verdict: CiVerdict, } | { "kind": "summary" } & ReleaseSummary;

export type TaskKind = "release" | "rollback" | "promotion" | "resume" | "checks" | "build" | "push" | "watch";

export type TaskInfo = { id: number, kind: TaskKind, 
/**
 * The project's folder.
 */
project: string, 
/**
 * When it started (RFC 3339).
 */
startedAt: string, 
/**
 * Cancel was asked and the task is stopping.
 */
cancelling: boolean, 
/**
 * The step it is at (`tests`, `push`, …), for the tasks that have steps.
 */
step: string | null, };

export type TeamHistoryView = { 
/**
 * The URL in force, without its password; `None`: this computer's own history.
 */
url: string | null, 
/**
 * `host:port/database`.
 */
place: string | null, 
/**
 * Set by `SLIPWAY_HISTORY_URL` when Slipway started: the setting cannot change it.
 */
fromEnvironment: boolean, 
/**
 * Whether the last exchange with the server worked; `None` before the first.
 */
reachable: boolean | null, 
/**
 * Why it did not.
 */
problem: string | null, 
/**
 * Releases made here that the server does not have yet.
 */
unsent: number, };

export const STEPS: Step[] = ["git", "tests", "lint", "checks", "build", "rehearsal", "push", "ci", "deploy", "verify", "sentry"];
