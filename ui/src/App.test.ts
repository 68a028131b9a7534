import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import App from "./App.svelte";
import type { AppError, Plan, ProjectSummary, RecentProject, ReleaseEvent, ReleaseRecord, ReleaseSummary } from "./lib/ipc";
import { ReleaseStore } from "./lib/release/release.svelte";

const lettings: ProjectSummary = {
  name: "lettings",
  path: "/home/ann/lettings",
  git: { branch: "main", commit: "abc1234" },
};

/** A folder with nothing in it yet: no Dockerfile, never released. */
const empty: ProjectSummary = { name: "empty", path: "/home/ann/empty", git: null };

function plan(project: ProjectSummary, overrides: Partial<Plan> = {}): Plan {
  return {
    projectPath: project.path,
    projectName: project.name,
    target: "local",
    steps: [
      { step: "tests", detail: "pytest", skip: null, ciLine: null, notes: [] },
      { step: "lint", detail: "flake8", skip: null, ciLine: null, notes: [] },
      { step: "build", detail: "Dockerfile", skip: null, ciLine: null, notes: [] },
    ],
    image: `${project.name}:abc1234`,
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
    fingerprint: "fp",
    ...overrides,
  };
}

const noDockerfile: AppError = {
  kind: "precondition",
  message: "The project has no Dockerfile.",
  hint: "Add a Dockerfile to the project, or choose one in its settings.",
  action: "openProjectSettings",
  detail: null,
  terminalHint: null,
};

const lastRelease: ReleaseRecord = {
  id: "r0",
  projectPath: lettings.path,
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
  errorKind: null,
  errorHint: null,
  kind: "release",
  sourceId: null,
  machine: null,
  imageId: null,
  steps: [],
};

/** A backend that knows two project folders and keeps a recent list, like the real one. */
function fakeBackend(ledger: ReleaseRecord[] = []) {
  let recents: RecentProject[] = [];
  const calls: string[] = [];
  const opened: string[] = [];
  const projects = [lettings, empty];
  mockIPC((cmd, args) => {
    calls.push(cmd);
    const payload = (args ?? {}) as Record<string, unknown>;
    switch (cmd) {
      case "list_releases": {
        const filter = payload.filter as { projectPath: string | null };
        return ledger.filter((row) => filter.projectPath === null || row.projectPath === filter.projectPath);
      }
      case "history_notice":
        return null;
      case "live_now":
        return [];
      case "recent_projects":
        return recents;
      case "plan_release": {
        const project = projects.find((item) => item.path === payload.path) ?? lettings;
        return project === empty ? plan(empty, { blockers: [noDockerfile] }) : plan(project);
      }
      case "plugin:opener|open_url":
        opened.push(String(payload.url));
        return null;
      case "open_project": {
        const project = projects.find((item) => item.path === payload.path);
        if (!project) {
          const error: AppError = {
            kind: "notFound",
            message: `The folder ${String(payload.path)} does not exist.`,
            hint: "Check the path, or pick the folder with Choose a folder.",
            action: "openProject",
            detail: null,
            terminalHint: null,
          };
          throw error;
        }
        recents = [
          { name: project.name, path: project.path, openedAt: "2026-11-24T10:00:00Z" },
          ...recents.filter((item) => item.path !== project.path),
        ];
        return project;
      }
      case "forget_recent_project":
        recents = recents.filter((item) => item.path !== payload.path);
        return recents;
      case "detect_project":
        return {
          path: payload.path,
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
            lintEnabled: true,
            gates: [],
            secretEnv: [],
          },
          detection: {
            appRoot: "",
            testCommand: { value: "pytest", source: "pytest.ini" },
            lintTool: { value: "flake8", source: "setup.cfg" },
            lintCommand: { value: "flake8", source: "setup.cfg" },
            lintVersion: null,
            python: { existing: null, inTree: false, installFrom: ["requirements.txt"], installer: "requirements", installSource: "found in the project's folder", packages: [], extras: [], groups: [], requiresPython: null, ciPython: null },
            dockerfile: { value: "Dockerfile", source: "the project's folder" },
            buildContext: { value: ".", source: "the project's folder" },
            ciFiles: [],
            dockerfiles: ["Dockerfile"],
            dockerignore: false,
            renderYaml: false,
            envVars: [],
            testOrigin: null,
            lintOrigin: null,
            gates: [],
            ciSkipped: [],
            lintExcludes: [],
          },
        };
      case "app_info":
        return { version: "0.1.0", dataDir: "/data", logDir: "/data/logs" };
      default:
        throw new Error(`unexpected command ${cmd}`);
    }
  });
  return { calls, opened };
}

/** A release store whose releases run until the test ends them, with events it sends. */
function controlledRelease() {
  let emit: (event: ReleaseEvent) => void = () => {};
  let finish: (summary: ReleaseSummary) => void = () => {};
  const api = {
    planRelease: vi.fn(async (path: string) => (path === empty.path ? plan(empty, { blockers: [noDockerfile] }) : plan(lettings))),
    listReleases: vi.fn(async () => [] as ReleaseRecord[]),
    cancelRelease: vi.fn(async () => {
      finish({ releaseId: "r1", outcome: "canceled", image: "lettings:abc1234", digest: null, url: null, deployId: null, message: "Cancelled.", error: null });
      return true;
    }),
    startRelease: vi.fn(
      (_path: string, _options: unknown, onEvent: (event: ReleaseEvent) => void) =>
        new Promise<ReleaseSummary>((resolve) => {
          emit = onEvent;
          finish = resolve;
          onEvent({ kind: "step", step: "tests", state: "running", elapsedMs: null, summary: null });
        }),
    ),
  };
  return { release: new ReleaseStore(api), api, emit: (event: ReleaseEvent) => emit(event), finish: (summary: ReleaseSummary) => finish(summary) };
}

const liveSummary: ReleaseSummary = {
  releaseId: "r1",
  outcome: "live",
  image: "lettings:abc1234",
  digest: "sha256:0123456789abcdef",
  url: "http://127.0.0.1:32768/",
  deployId: "c0ffee",
  message: null,
  error: null,
};

async function openByPath(user: ReturnType<typeof userEvent.setup>, path: string) {
  await user.type(screen.getByLabelText("Or type the project's folder"), path);
  await user.click(screen.getByRole("button", { name: "Open" }));
}

function nav() {
  return screen.getByRole("navigation", { name: "Main" });
}

describe("the app shell", () => {
  it("visits every page and each says what it will show", async () => {
    fakeBackend();
    const user = userEvent.setup();
    render(App);
    const expectations: Array<[string, RegExp]> = [
      ["Project settings", /Open a project to see its settings/],
      ["History", /No releases yet/],
      ["Errors", /No error reports to show/],
      ["Images", /No images yet/],
      ["Settings", /No accounts connected/],
      ["Release", /Open a project to release it/],
    ];
    for (const [label, heading] of expectations) {
      await user.click(within(nav()).getByRole("button", { name: label }));
      expect(within(nav()).getByRole("button", { name: label })).toHaveAttribute("aria-current", "page");
      expect(await screen.findByRole("heading", { level: 2, name: label })).toBeInTheDocument();
      expect(screen.getByRole("heading", { name: heading })).toBeInTheDocument();
    }
  });

  it("starts each page at its top", async () => {
    fakeBackend();
    const user = userEvent.setup();
    render(App);
    const main = screen.getByRole("main");
    Object.defineProperty(main, "scrollTop", { value: 480, writable: true });
    await user.click(within(nav()).getByRole("button", { name: "History" }));
    expect(main.scrollTop).toBe(0);
    main.scrollTop = 300;
    await user.click(within(nav()).getByRole("button", { name: "Release" }));
    expect(main.scrollTop).toBe(0);
  });

  it("opens a typed path, shows name and branch, its settings on their own page, and lists it as recent", async () => {
    fakeBackend();
    const user = userEvent.setup();
    render(App);
    expect(screen.getByText("No project open")).toBeInTheDocument();
    await openByPath(user, lettings.path);
    expect(await screen.findByTestId("project-name")).toHaveTextContent("lettings");
    expect(screen.getByTestId("project-branch")).toHaveTextContent("main");
    // The Release page holds the release only: no project card, no settings, no second test button.
    await screen.findByTestId("plan-image");
    expect(screen.queryByLabelText("Test command")).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Run tests" })).not.toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Open project" })).not.toBeInTheDocument();

    await user.click(within(nav()).getByRole("button", { name: "Project settings" }));
    expect(await screen.findByLabelText("Test command")).toHaveValue("pytest");
    expect(screen.getByText("Found in pytest.ini")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Run tests" })).toBeInTheDocument();
    expect(within(screen.getByRole("main")).getByText(lettings.path)).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Switch project" }));
    const switcher = screen.getByRole("dialog", { name: "Switch project" });
    expect(within(switcher).getByRole("list", { name: "Recent projects" })).toHaveTextContent("/home/ann/lettings");
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog", { name: "Switch project" })).not.toBeInTheDocument();
  });

  it("shows the backend's message and hint for a folder that does not exist, and keeps no project", async () => {
    fakeBackend();
    const user = userEvent.setup();
    render(App);
    await openByPath(user, "/nope");
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("The folder /nope does not exist.");
    expect(alert).toHaveTextContent("Check the path");
    expect(within(alert).getByRole("button", { name: "Choose a folder…" })).toBeInTheDocument();
    expect(screen.getByText("No project open")).toBeInTheDocument();
    expect(screen.queryByRole("list", { name: "Recent projects" })).not.toBeInTheDocument();
  });

  it("forgets a recent project from the switcher", async () => {
    fakeBackend();
    const user = userEvent.setup();
    render(App);
    await openByPath(user, lettings.path);
    await screen.findByTestId("project-name");
    await user.click(screen.getByRole("button", { name: "Switch project" }));
    await user.click(screen.getByRole("button", { name: "Forget lettings" }));
    expect(screen.queryByRole("list", { name: "Recent projects" })).not.toBeInTheDocument();
  });

  it("switches project from the header to a recent one", async () => {
    fakeBackend();
    const user = userEvent.setup();
    render(App);
    await openByPath(user, empty.path);
    await screen.findByTestId("project-name");
    await user.click(screen.getByRole("button", { name: "Switch project" }));
    await user.type(screen.getByLabelText("Or type the project's folder"), lettings.path);
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Open" }));
    await waitFor(() => expect(screen.getByTestId("project-name")).toHaveTextContent("lettings"));
    expect(screen.queryByRole("dialog", { name: "Switch project" })).not.toBeInTheDocument();
  });

  it("says a project was never released, or shows its last release with a way to History", async () => {
    fakeBackend([lastRelease]);
    const user = userEvent.setup();
    render(App);
    await openByPath(user, empty.path);
    expect(await screen.findByTestId("last-release")).toHaveTextContent("This project has never been released.");

    await user.click(screen.getByRole("button", { name: "Switch project" }));
    await user.type(screen.getByLabelText("Or type the project's folder"), lettings.path);
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Open" }));
    const last = await screen.findByRole("region", { name: "Last release" });
    expect(last).toHaveTextContent("Last release: Live");
    expect(last).toHaveTextContent("commit abc1234 on main");
    await user.click(within(last).getByRole("button", { name: "See in History" }));
    expect(await screen.findByRole("heading", { level: 2, name: "History" })).toBeInTheDocument();
  });

  it("follows an error's button to the project settings page", async () => {
    fakeBackend();
    const user = userEvent.setup();
    render(App);
    await openByPath(user, empty.path);
    const blocker = await screen.findByRole("alert");
    expect(blocker).toHaveTextContent("The project has no Dockerfile.");
    await user.click(within(blocker).getByRole("button", { name: "Open project settings" }));
    expect(await screen.findByRole("heading", { level: 2, name: "Project settings" })).toBeInTheDocument();
  });
});

describe("the release status in the header", () => {
  it("keeps a running release across pages: the header says so, and Cancel works from anywhere", async () => {
    fakeBackend();
    const user = userEvent.setup();
    const { release, api } = controlledRelease();
    render(App, { release });
    await openByPath(user, lettings.path);
    await screen.findByTestId("plan-image");
    await user.click(within(screen.getByRole("main")).getByRole("button", { name: "Release" }));
    await user.click(within(nav()).getByRole("button", { name: "History" }));
    const status = await screen.findByRole("status", { name: "Running release" });
    expect(status).toHaveTextContent(/Releasing lettings · Tests 0:0\d/);
    // Clicking the status returns to the same run, still running.
    await user.click(within(status).getByRole("button", { name: /Releasing lettings/ }));
    expect(await screen.findByRole("heading", { level: 2, name: "Release" })).toBeInTheDocument();
    expect(document.querySelector('[data-step="tests"]')?.getAttribute("data-state")).toBe("running");
    await user.click(within(status).getByRole("button", { name: "Cancel" }));
    expect(api.cancelRelease).toHaveBeenCalledWith(lettings.path);
    expect(await screen.findByText("Release cancelled")).toBeInTheDocument();
    expect(screen.getByRole("status", { name: "Last release" })).toHaveTextContent("Cancelled · just now");
  });

  it("after a release goes live, says so and opens the address in the browser", async () => {
    const { opened } = fakeBackend();
    const user = userEvent.setup();
    const { release, finish } = controlledRelease();
    render(App, { release });
    await openByPath(user, lettings.path);
    await screen.findByTestId("plan-image");
    await user.click(within(screen.getByRole("main")).getByRole("button", { name: "Release" }));
    finish(liveSummary);
    await screen.findByRole("heading", { name: /lettings is live/ });
    await user.click(within(nav()).getByRole("button", { name: "Images" }));
    const status = screen.getByRole("status", { name: "Last release" });
    expect(status).toHaveTextContent("Live · just now");
    await user.click(within(status).getByRole("link", { name: "Open" }));
    expect(opened).toEqual(["http://127.0.0.1:32768/"]);
  });

  it("after a failure, See why returns to the run with the failing step open", async () => {
    fakeBackend();
    const user = userEvent.setup();
    const { release, emit, finish } = controlledRelease();
    render(App, { release });
    await openByPath(user, lettings.path);
    await screen.findByTestId("plan-image");
    await user.click(within(screen.getByRole("main")).getByRole("button", { name: "Release" }));
    emit({ kind: "step", step: "lint", state: "running", elapsedMs: null, summary: null });
    emit({ kind: "log", step: "lint", line: "app.py:1:1: F401 'os' imported but unused", atMs: 1 });
    emit({ kind: "step", step: "lint", state: "failed", elapsedMs: 500, summary: "1 violation" });
    emit({ kind: "step", step: "tests", state: "canceled", elapsedMs: 600, summary: null });
    finish({ ...liveSummary, outcome: "failed", url: null, message: "Lint failed.", error: null });
    await screen.findByRole("heading", { name: /Release failed at Lint/ });
    // Collapse it, go elsewhere, then ask why from the header.
    await user.click(within(document.querySelector('[data-step="lint"]') as HTMLElement).getByRole("button", { expanded: true }));
    await user.click(within(nav()).getByRole("button", { name: "History" }));
    const status = screen.getByRole("status", { name: "Last release" });
    expect(status).toHaveTextContent("Failed at Lint");
    Element.prototype.scrollIntoView = vi.fn();
    await user.click(within(status).getByRole("button", { name: "See why" }));
    expect(await screen.findByRole("heading", { level: 2, name: "Release" })).toBeInTheDocument();
    const lint = document.querySelector('[data-step="lint"]') as HTMLElement;
    expect(document.querySelector("[data-step]")).toBe(lint);
    expect(within(lint).getByRole("button", { expanded: true })).toBeInTheDocument();
    expect(within(lint).getByRole("log", { name: "Lint output" })).toBeInTheDocument();
    expect(document.querySelector('[data-step="tests"] [data-testid="step-state"]')).toHaveTextContent("stopped because Lint failed");
    await waitFor(() => expect(Element.prototype.scrollIntoView).toHaveBeenCalled());
  });

  it("shows only the open project on the Release page after switching from a released one", async () => {
    fakeBackend();
    const user = userEvent.setup();
    const { release, emit, finish } = controlledRelease();
    render(App, { release });
    await openByPath(user, lettings.path);
    await screen.findByTestId("plan-image");
    await user.click(within(screen.getByRole("main")).getByRole("button", { name: "Release" }));
    for (const step of ["tests", "lint", "build"] as const) emit({ kind: "step", step, state: "passed", elapsedMs: 10, summary: null });
    finish(liveSummary);
    await screen.findByRole("heading", { name: /lettings is live/ });

    await user.click(screen.getByRole("button", { name: "Switch project" }));
    await user.type(screen.getByLabelText("Or type the project's folder"), empty.path);
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Open" }));
    expect(await screen.findByText("The project has no Dockerfile.")).toBeInTheDocument();
    const main = screen.getByRole("main");
    expect(within(main).queryByText(/is live/)).not.toBeInTheDocument();
    expect(main.querySelectorAll('[data-state="passed"]')).toHaveLength(0);
    expect(document.querySelector('[data-step="tests"] [data-testid="step-state"]')).toHaveTextContent("not started yet");
    expect(screen.queryByRole("status", { name: "Last release" })).not.toBeInTheDocument();
  });

  it("keeps a release of another project running in the header, and its status leads back to that project", async () => {
    fakeBackend();
    const user = userEvent.setup();
    const { release } = controlledRelease();
    render(App, { release });
    await openByPath(user, lettings.path);
    await screen.findByTestId("plan-image");
    await user.click(within(screen.getByRole("main")).getByRole("button", { name: "Release" }));

    await user.click(screen.getByRole("button", { name: "Switch project" }));
    await user.type(screen.getByLabelText("Or type the project's folder"), empty.path);
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Open" }));
    expect(await screen.findByText("The project has no Dockerfile.")).toBeInTheDocument();
    expect(within(screen.getByRole("main")).queryByRole("button", { name: "Cancel" })).not.toBeInTheDocument();
    const status = screen.getByRole("status", { name: "Running release" });
    expect(status).toHaveTextContent("Releasing lettings");

    await user.click(within(status).getByRole("button", { name: /Releasing lettings/ }));
    await waitFor(() => expect(screen.getByTestId("project-name")).toHaveTextContent("lettings"));
    expect(within(screen.getByRole("main")).getByRole("button", { name: "Cancel" })).toBeInTheDocument();
    expect(document.querySelector('[data-step="tests"]')?.getAttribute("data-state")).toBe("running");
  });
});
