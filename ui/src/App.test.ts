import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { emit as broadcast } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import App from "./App.svelte";
import { FIRST_RUN_KEY } from "./lib/firstrun/firstRun.svelte";
import type {
  Account,
  IssueStatus,
  Plan,
  ProjectDetails,
  ProjectSummary,
  RecentProject,
  ReleaseEvent,
  ReleaseRecord,
  ReleaseSummary,
  SentryIssue,
  SystemStatus,
  TaskInfo,
  WatchEvent,
  WatchSummary,
} from "./lib/ipc";
import { ReleaseStore } from "./lib/release/release.svelte";
import {
  account,
  appError,
  dockerDown,
  plan as basePlan,
  projectDetails,
  releaseRecord,
  releaseSummary,
  sentryAccount,
  taskInfo,
} from "./lib/testing/fixtures";

const lettings: ProjectSummary = {
  name: "lettings",
  path: "/home/ann/lettings",
  git: { branch: "main", commit: "abc1234" },
};

/** A folder with nothing in it yet: no Dockerfile, never released. */
const empty: ProjectSummary = { name: "empty", path: "/home/ann/empty", git: null };

/** The plan of a project's local release at abc1234. */
function plan(project: ProjectSummary, overrides: Partial<Plan> = {}): Plan {
  return basePlan({ projectPath: project.path, projectName: project.name, image: `${project.name}:abc1234`, ...overrides });
}

const noDockerfile = appError({
  kind: "precondition",
  message: "The project has no Dockerfile.",
  hint: "Add a Dockerfile to the project, or choose one in its settings.",
  action: "openProjectSettings",
});

// Its newest live release: the backend says it is live now.
const lastRelease = releaseRecord({ projectPath: lettings.path, liveNow: true });

/** A folder that opens but holds neither a Dockerfile nor manage.py. */
const photos: ProjectSummary = { name: "photos", path: "/home/ann/photos", git: null };

const healthy: SystemStatus = { docker: null, dockerVersion: "27.3.1", keyring: null };

interface BackendOptions {
  /** The recent list the backend starts with (a data folder used before). */
  recents?: RecentProject[];
  accounts?: Account[];
  system?: SystemStatus;
  /** Rollbacks run until the test ends them (else each goes live at once). */
  holdRollbacks?: boolean;
  /** The project's Sentry issues (else Sentry is not connected); statuses change as set. */
  sentryIssues?: SentryIssue[];
}

/** A rollback the backend runs: the test sends its events and ends it. */
interface HeldRun {
  send: (...events: ReleaseEvent[]) => void;
  end: (summary: ReleaseSummary) => void;
}

/** The watch the backend runs, for the test to send its events and end it. */
interface FakeWatch {
  path: string;
  releaseId: string | null;
  send: (event: WatchEvent) => void;
  end: (summary: WatchSummary) => void;
}

/** A backend that knows two project folders and keeps a recent list, like the real one. */
function fakeBackend(ledger: ReleaseRecord[] = [], options: BackendOptions = {}) {
  let recents: RecentProject[] = options.recents ?? [];
  let accounts: Account[] = options.accounts ?? [];
  const calls: string[] = [];
  const opened: string[] = [];
  const watches: FakeWatch[] = [];
  const rollbacks: Array<Record<string, unknown>> = [];
  const plans: Array<Record<string, unknown>> = [];
  const held: HeldRun[] = [];
  const cancelled: number[] = [];
  const projects = [lettings, empty, photos];
  let sentryIssues = options.sentryIssues ? structuredClone(options.sentryIssues) : null;
  mockIPC((cmd, args) => {
    calls.push(cmd);
    const payload = (args ?? {}) as Record<string, unknown>;
    switch (cmd) {
      case "system_status":
        return options.system ?? healthy;
      case "local_app":
        return null;
      case "list_accounts":
        return accounts;
      case "connect_registry": {
        const registry = account("registry", String(payload.server) || "registry.example.test", { username: String(payload.username) });
        accounts = [...accounts, registry];
        return registry;
      }
      case "sentry_issues": {
        if (sentryIssues) {
          const status = (payload.query as { status?: string } | undefined)?.status ?? "unresolved";
          const shown = sentryIssues.filter((issue) => status === "all" || issue.status === status);
          return { issues: shown, next: null, previous: null };
        }
        throw appError({
          kind: "precondition",
          message: "Sentry is not connected.",
          hint: "Connect Sentry in Settings.",
          action: "openAccounts",
        });
      }
      case "sentry_issue": {
        const issue = sentryIssues?.find((known) => known.id === payload.issueId);
        if (!issue) throw appError({ kind: "notFound", message: "No such issue.", hint: "Refresh the list." });
        return issue;
      }
      case "sentry_event":
        throw appError({ kind: "notFound", message: "The issue has no event kept.", hint: "Look again later." });
      case "set_issue_status": {
        const ids = payload.issueIds as string[];
        sentryIssues = sentryIssues?.map((issue) => (ids.includes(issue.id) ? { ...issue, status: payload.status as IssueStatus } : issue)) ?? null;
        return null;
      }
      case "start_watch": {
        const channel = payload.onEvent as { onmessage?: (event: WatchEvent) => void; id?: number };
        return new Promise<WatchSummary>((resolve) => {
          watches.push({
            path: String(payload.path),
            releaseId: (payload.releaseId as string | null) ?? null,
            send: (event) => sendToChannel(channel, event),
            end: (summary) => {
              sendToChannel(channel, { kind: "ended", ...summary });
              resolve(summary);
            },
          });
        });
      }
      case "stop_watch": {
        const watch = [...watches].reverse().find((item) => item.path === payload.path);
        watch?.end({ releaseId: watch.releaseId ?? "", version: "lettings@abc1234", newIssues: [], ended: "stopped", error: null, rolledBack: null });
        return watch !== undefined;
      }
      case "start_rollback": {
        rollbacks.push(payload);
        if (!options.holdRollbacks) return { ...liveSummary, releaseId: "r2", url: "http://127.0.0.1:32768/" };
        // A release's channel carries events in batches.
        const channel = payload.onEvent as { onmessage?: (events: ReleaseEvent[]) => void };
        return new Promise<ReleaseSummary>((resolve) => {
          held.push({ send: (...events) => channel.onmessage?.(events), end: resolve });
        });
      }
      case "list_tasks":
        return [];
      case "cancel_task":
        cancelled.push(Number(payload.id));
        return true;
      case "release_detail": {
        const release = ledger.find((row) => row.id === payload.releaseId);
        if (!release) throw appError({ kind: "notFound", message: "No such release.", hint: "" });
        return { release, results: [] };
      }
      case "list_releases": {
        const filter = payload.filter as { projectPath: string | null };
        return ledger.filter((row) => filter.projectPath === null || row.projectPath === filter.projectPath);
      }
      case "history_notice":
        return null;
      case "render_services":
        throw appError({
          kind: "precondition",
          message: "Render is not connected with an API key.",
          hint: "Connect Render in Settings → Accounts: its services are then offered here.",
          action: "openAccounts",
        });
      case "live_now":
        return [];
      case "recent_projects":
        return recents;
      case "plan_release": {
        plans.push(payload);
        const project = projects.find((item) => item.path === payload.path) ?? lettings;
        return project === empty ? plan(empty, { blockers: [noDockerfile] }) : plan(project);
      }
      case "plugin:opener|open_url":
        opened.push(String(payload.url));
        return null;
      case "open_project": {
        const project = projects.find((item) => item.path === payload.path);
        if (!project) {
          throw appError({
            kind: "notFound",
            message: `The folder ${String(payload.path)} does not exist.`,
            hint: "Check the path, or pick the folder with Choose a folder.",
            action: "openProject",
          });
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
        return payload.path === photos.path ? notAProject(photos.path) : projectDetails(String(payload.path));
      case "app_info":
        return { version: "0.1.0", dataDir: "/data", logDir: "/data/logs" };
      default:
        throw new Error(`unexpected command ${cmd}`);
    }
  }, { shouldMockEvents: true });
  return { calls, opened, watches, rollbacks, plans, held, cancelled };
}

/** The mock hands the command the channel itself: its handler is how events reach the window. */
function sendToChannel(channel: { onmessage?: (event: WatchEvent) => void }, event: WatchEvent): void {
  channel.onmessage?.(event);
}

/** A folder with neither a Dockerfile nor manage.py. */
function notAProject(path: string): ProjectDetails {
  const found = projectDetails(path);
  return {
    ...found,
    settings: { ...found.settings, dockerfile: null },
    detection: { ...found.detection, appRoot: null, dockerfiles: [], dockerfile: null },
  };
}

/** A release store whose releases run until the test ends them, with events it sends. */
function controlledRelease() {
  let emit: (event: ReleaseEvent) => void = () => {};
  let finish: (summary: ReleaseSummary) => void = () => {};
  const api = {
    planRelease: vi.fn(async (path: string) => (path === empty.path ? plan(empty, { blockers: [noDockerfile] }) : plan(lettings))),
    listReleases: vi.fn(async () => [] as ReleaseRecord[]),
    giveProjectValues: vi.fn(async (path: string) => projectDetails(path).settings),
    cancelRelease: vi.fn(async () => {
      finish(releaseSummary({ outcome: "canceled", message: "Cancelled." }));
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

const liveSummary = releaseSummary({ digest: "sha256:0123456789abcdef", url: "http://127.0.0.1:32768/", deployId: "c0ffee" });

/** The window with a release store the test drives: lettings open, Release pressed. */
async function pressRelease(user: ReturnType<typeof userEvent.setup>) {
  const controlled = controlledRelease();
  render(App, { release: controlled.release });
  await openByPath(user, lettings.path);
  await screen.findByTestId("plan-image");
  await user.click(within(screen.getByRole("main")).getByRole("button", { name: "Release to this computer" }));
  return controlled;
}

async function openByPath(user: ReturnType<typeof userEvent.setup>, path: string) {
  await user.type(screen.getByLabelText("Or type the project's folder"), path);
  await user.click(screen.getByRole("button", { name: "Open" }));
}

function nav() {
  return screen.getByRole("navigation", { name: "Main" });
}

// These tests open projects by hand: a data folder that has seen the guide already.
function guideSeen(): void {
  beforeEach(() => localStorage.setItem(FIRST_RUN_KEY, "1"));
}

afterEach(() => localStorage.clear());

describe("the app shell", () => {
  guideSeen();

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
      // Each page beside Release loads when first opened (under vitest, its first import is
      // compiled then), then reads its own data.
      const loaded = { timeout: 10_000 };
      expect(await screen.findByRole("heading", { level: 2, name: label }, loaded)).toBeInTheDocument();
      expect(await screen.findByRole("heading", { name: heading }, loaded)).toBeInTheDocument();
    }
  }, 30_000);

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
    expect(last).toHaveTextContent("Last release: Live now");
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
  guideSeen();

  it("keeps a running release across pages: the header says so, and Cancel works from anywhere", async () => {
    fakeBackend();
    const user = userEvent.setup();
    const { api } = await pressRelease(user);
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
    const { finish } = await pressRelease(user);
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
    const { emit, finish } = await pressRelease(user);
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
    const { emit, finish } = await pressRelease(user);
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
    await pressRelease(user);

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

describe("tasks in the header", () => {
  guideSeen();

  /** The backend's task list changed: it broadcasts the whole list, as the real one does. */
  async function tasksAre(list: TaskInfo[]): Promise<void> {
    await broadcast("slipway://tasks", list);
  }

  it("shows a rollback started from History on every page, with its step, and Cancel stops its task", async () => {
    const live = releaseRecord({ id: "r1", projectPath: lettings.path, projectName: "lettings", outcome: "live" });
    const { held, rollbacks, cancelled } = fakeBackend([live], { holdRollbacks: true });
    const user = userEvent.setup();
    render(App);
    await openByPath(user, lettings.path);
    await user.click(within(nav()).getByRole("button", { name: "History" }));
    await user.click(await screen.findByTestId("history-row"));
    await user.click(await screen.findByTestId("history-rollback"));
    // A rollback changes what is live: it asks first.
    expect(held).toHaveLength(0);
    await user.click(within(await screen.findByRole("alertdialog")).getByRole("button", { name: "Roll back" }));
    await waitFor(() => expect(held).toHaveLength(1));
    expect(rollbacks[0]).toMatchObject({ path: lettings.path, environment: "local", to: "r1" });
    const rollback = taskInfo({ id: 11, kind: "rollback", project: lettings.path });
    await tasksAre([rollback]);
    held[0]!.send(
      { kind: "rollbackStarted", releaseId: "r2", sourceId: "r1" },
      { kind: "step", step: "deploy", state: "running", elapsedMs: null, summary: null },
    );
    await tasksAre([{ ...rollback, step: "deploy" }]);

    // History follows it like a release…
    const panel = await screen.findByRole("region", { name: "Rollback of lettings" });
    expect(panel.querySelector('[data-step="deploy"]')).toHaveAttribute("data-state", "running");
    // …and the header shows it on any other page.
    await user.click(within(nav()).getByRole("button", { name: "Images" }));
    const status = await screen.findByRole("status", { name: "Running rollback" });
    expect(status).toHaveTextContent(/^Rolling back lettings · Deploy 0:0\d/);
    await user.click(within(status).getByRole("button", { name: "Cancel" }));
    expect(cancelled).toEqual([11]);
    await tasksAre([{ ...rollback, step: "deploy", cancelling: true }]);
    expect(within(status).getByRole("button", { name: "Cancelling…" })).toBeDisabled();

    held[0]!.send({ kind: "step", step: "deploy", state: "canceled", elapsedMs: 800, summary: null });
    held[0]!.end(releaseSummary({ releaseId: "r2", outcome: "canceled", message: "Cancelled." }));
    await tasksAre([]);
    expect(await screen.findByRole("status", { name: "Last rollback" })).toHaveTextContent("Rollback cancelled · just now");
    expect(screen.queryByRole("button", { name: "Cancel" })).not.toBeInTheDocument();
    // Its status leads to the run, shown like a release's.
    await user.click(within(screen.getByRole("status", { name: "Last rollback" })).getByRole("button", { name: /Rollback cancelled/ }));
    expect(await screen.findByRole("heading", { name: "Rollback cancelled" })).toBeInTheDocument();
    expect(document.querySelector('[data-step="deploy"]')).toHaveAttribute("data-state", "canceled");
  });

  it("shows the open project's checks that run, whichever page started them, and cancels them by id", async () => {
    const { cancelled } = fakeBackend();
    const user = userEvent.setup();
    render(App);
    await openByPath(user, lettings.path);
    await tasksAre([
      taskInfo({ id: 3, kind: "checks", project: lettings.path }),
      taskInfo({ id: 4, kind: "checks", project: empty.path }),
    ]);
    await user.click(within(nav()).getByRole("button", { name: "Errors" }));
    const status = await screen.findByRole("status", { name: "Running checks" });
    expect(status).toHaveTextContent("Checking lettings");
    expect(screen.getAllByRole("status", { name: "Running checks" })).toHaveLength(1);
    await user.click(within(status).getByRole("button", { name: "Cancel" }));
    expect(cancelled).toEqual([3]);
  });
});

describe("the first-run guide", () => {
  function guide() {
    return screen.getByRole("region", { name: "Getting started" });
  }

  it("shows on a fresh data folder instead of the empty page, and finishes on this computer", async () => {
    const { plans } = fakeBackend();
    const user = userEvent.setup();
    render(App);
    expect(await screen.findByRole("heading", { name: "Open your project" })).toBeInTheDocument();
    expect(guide()).toHaveTextContent("Step 1 of 2");
    expect(screen.queryByRole("heading", { name: "Open a project to release it" })).not.toBeInTheDocument();

    // A folder that does not exist: the backend's own words.
    await openByPath(user, "/nope");
    expect(await within(guide()).findByRole("alert")).toHaveTextContent("The folder /nope does not exist.");
    await user.clear(screen.getByLabelText("Or type the project's folder"));
    await openByPath(user, lettings.path);

    expect(await screen.findByRole("heading", { name: "Where should it run?" })).toBeInTheDocument();
    expect(guide()).toHaveTextContent("Step 2 of 2");
    // The guide alone: no plan and no Release button below the open question.
    expect(screen.queryByTestId("plan-image")).not.toBeInTheDocument();
    expect(within(screen.getByRole("main")).queryByRole("button", { name: /^Release/ })).not.toBeInTheDocument();
    await user.click(within(guide()).getByRole("button", { name: /On this computer/ }));
    expect(screen.queryByRole("region", { name: "Getting started" })).not.toBeInTheDocument();
    expect(localStorage.getItem(FIRST_RUN_KEY)).toBe("1");
    expect(plans.every((payload) => payload.target !== "render")).toBe(true);
    expect(within(screen.getByRole("main")).getByRole("button", { name: "Release to this computer" })).toBeInTheDocument();
  });

  it("says why a folder is not a project, and holds its plan back until the person goes on", async () => {
    fakeBackend();
    const user = userEvent.setup();
    render(App);
    await screen.findByRole("heading", { name: "Open your project" });
    await openByPath(user, photos.path);
    expect(await within(guide()).findByRole("alert")).toHaveTextContent(
      "This folder has no Dockerfile and no manage.py, so it does not look like a Python web project.",
    );
    expect(screen.queryByTestId("plan-image")).not.toBeInTheDocument();
    expect(within(guide()).getByRole("button", { name: "Choose another folder…" })).toBeInTheDocument();
    await user.click(within(guide()).getByRole("button", { name: "Go on with this folder" }));
    expect(await screen.findByRole("heading", { name: "Where should it run?" })).toBeInTheDocument();
    expect(screen.queryByTestId("plan-image")).not.toBeInTheDocument();
    await user.click(within(guide()).getByRole("button", { name: /On this computer/ }));
    expect(await screen.findByTestId("plan-image")).toBeInTheDocument();
  });

  it("on Render, says what Render and Docker Hub are for, and connects them one at a time", async () => {
    const { plans, opened, calls } = fakeBackend();
    const user = userEvent.setup();
    render(App);
    await screen.findByRole("heading", { name: "Open your project" });
    await openByPath(user, lettings.path);
    await user.click(await within(guide()).findByRole("button", { name: /On Render/ }));
    expect(guide()).toHaveTextContent("Render runs your app on the internet");
    expect(guide()).toHaveTextContent("Docker Hub stores the image Render runs");

    await user.click(within(guide()).getByRole("button", { name: "Connect Docker Hub" }));
    const hub = within(guide()).getByRole("region", { name: "Docker registry" });
    expect(hub).toHaveTextContent("Docker Hub stores your app's image");
    expect(hub).toHaveTextContent("Read & Write");
    await user.click(within(hub).getByRole("link", { name: "Get a token" }));
    await waitFor(() => expect(opened).toEqual(["https://app.docker.com/settings/personal-access-tokens"]));
    await user.type(within(hub).getByLabelText("Username"), "ann");
    await user.type(within(hub).getByLabelText("Access token"), "dckr_pat_x");
    await user.click(within(hub).getByRole("button", { name: "Check and save" }));
    expect(await within(hub).findByTestId("connected-registry")).toHaveTextContent("registry.example.test as ann");
    expect(calls).toContain("connect_registry");
    await user.click(within(guide()).getByRole("button", { name: "Next" }));

    const renderStep = within(guide()).getByRole("region", { name: "Render" });
    expect(renderStep).toHaveTextContent("Render runs your app on the internet");
    await user.click(within(renderStep).getByRole("link", { name: "Get a token" }));
    await waitFor(() => expect(opened.at(-1)).toBe("https://dashboard.render.com/u/settings#api-keys"));
    await user.click(within(guide()).getByRole("button", { name: "Skip" }));

    // Then this project's own Render service: skippable like the rest.
    expect(within(guide()).getByRole("heading", { name: "Which Render service is lettings?" })).toBeInTheDocument();
    // Render was skipped: the guide says so rather than list nothing.
    expect(await within(guide()).findByTestId("render-not-connected")).toHaveTextContent("Render is not connected");
    await user.click(within(guide()).getByRole("button", { name: "Skip" }));

    expect(within(guide()).getByRole("heading", { name: "Connect Sentry (optional)" })).toBeInTheDocument();
    await user.click(within(guide()).getByRole("link", { name: "Get a token" }));
    await waitFor(() => expect(opened.at(-1)).toBe("https://sentry.io/settings/account/api/auth-tokens/"));
    await user.click(within(guide()).getByRole("button", { name: "Skip and finish" }));
    expect(screen.queryByRole("region", { name: "Getting started" })).not.toBeInTheDocument();
    // The plan follows the choice: the project's default environment.
    await waitFor(() => expect(plans.at(-1)).toMatchObject({ environment: null, noCache: false }));
  });

  it("can be skipped, then shows the usual page and never again", async () => {
    fakeBackend();
    const user = userEvent.setup();
    const { unmount } = render(App);
    await user.click(within(await screen.findByRole("region", { name: "Getting started" })).getByRole("button", { name: "Skip" }));
    expect(screen.getByRole("heading", { name: "Open a project to release it" })).toBeInTheDocument();
    unmount();
    render(App);
    expect(await screen.findByRole("heading", { name: "Open a project to release it" })).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Getting started" })).not.toBeInTheDocument();
  });

  it("stays away when an account is connected", async () => {
    fakeBackend([], { accounts: [sentryAccount()] });
    render(App);
    expect(await screen.findByRole("heading", { name: "Open a project to release it" })).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Getting started" })).not.toBeInTheDocument();
  });
});

describe("at start", () => {
  it("reopens the last project", async () => {
    fakeBackend([], { recents: [{ name: "lettings", path: lettings.path, openedAt: "2026-11-24T10:00:00Z" }] });
    render(App);
    await waitFor(() => expect(screen.getByTestId("project-name")).toHaveTextContent("lettings"));
    expect(await screen.findByTestId("plan-image")).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Getting started" })).not.toBeInTheDocument();
  });

  it("opens nothing, quietly, when the last project's folder is gone", async () => {
    const { calls } = fakeBackend([], { recents: [{ name: "gone", path: "/home/ann/gone", openedAt: "2026-11-24T10:00:00Z" }] });
    render(App);
    expect(await screen.findByRole("list", { name: "Recent projects" })).toHaveTextContent("/home/ann/gone");
    await waitFor(() => expect(calls).toContain("open_project"));
    expect(screen.getByText("No project open")).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("shows Docker's state in the header, and holds Release while Docker is down", async () => {
    localStorage.setItem(FIRST_RUN_KEY, "1");
    fakeBackend([], { system: { docker: dockerDown, dockerVersion: null, keyring: null } });
    const user = userEvent.setup();
    render(App);
    expect(await within(screen.getByRole("banner")).findByRole("button", { name: "Docker is not running" })).toBeInTheDocument();
    await openByPath(user, lettings.path);
    const button = await within(screen.getByRole("main")).findByRole("button", { name: "Release to this computer" });
    expect(button).toBeDisabled();
    expect(screen.getByTestId("release-why")).toHaveTextContent("Docker is not running");
    expect(within(screen.getByRole("main")).getByRole("button", { name: "Start Docker" })).toBeInTheDocument();
  });
});

describe("the watch after a live release", () => {
  const crash: SentryIssue = {
    id: "42",
    shortId: "WEB-7",
    title: "ZeroDivisionError: division by zero",
    culprit: "lettings.views.rent",
    level: "error",
    status: "unresolved",
    count: 3,
    userCount: 2,
    firstSeen: null,
    lastSeen: null,
    permalink: null,
    firstRelease: "lettings@abc1234",
    isUnhandled: true,
  };

  async function releaseLive(user: ReturnType<typeof userEvent.setup>) {
    const { finish } = await pressRelease(user);
    finish(liveSummary);
    await screen.findByRole("heading", { name: /lettings is live/ });
  }

  it("watches Sentry when it is connected, across pages, and rolls back in one click", async () => {
    localStorage.setItem(FIRST_RUN_KEY, "1");
    // What went live here: this release, and the good one before it.
    const wentLive = [
      releaseRecord({ id: "r1", projectPath: lettings.path, outcome: "live", commit: "abc1234", liveNow: true }),
      releaseRecord({ id: "r0", projectPath: lettings.path, outcome: "live", commit: "0ld0000" }),
    ];
    const { watches, rollbacks } = fakeBackend(wentLive, { accounts: [sentryAccount()] });
    const user = userEvent.setup();
    await releaseLive(user);
    await waitFor(() => expect(watches).toHaveLength(1));
    expect(watches[0]).toMatchObject({ path: lettings.path, releaseId: "r1" });
    watches[0]!.send({ kind: "started", releaseId: "r1", version: "lettings@abc1234", until: "2026-11-24T11:30:00Z" });
    watches[0]!.send({ kind: "newIssue", issue: crash });

    const panel = await screen.findByRole("region", { name: "Watching Sentry" });
    expect(panel).toHaveTextContent(/Watching Sentry until .+ · 1 new issue since this release/);
    expect(screen.getByRole("status", { name: "Last release" })).toHaveTextContent("Live · just now · 1 new error");

    // Leaving the page stops nothing; an issue leads to the Errors page.
    await user.click(within(nav()).getByRole("button", { name: "History" }));
    await user.click(within(nav()).getByRole("button", { name: "Release" }));
    const again = await screen.findByRole("region", { name: "Watching Sentry" });
    await user.click(within(again).getByRole("button", { name: /WEB-7 ZeroDivisionError/ }));
    expect(await screen.findByRole("heading", { level: 2, name: "Errors" })).toBeInTheDocument();
    await user.click(within(nav()).getByRole("button", { name: "Release" }));

    await user.click(await screen.findByRole("button", { name: "Roll back to the last good release" }));
    await user.click(within(await screen.findByRole("alertdialog")).getByRole("button", { name: "Roll back" }));
    await waitFor(() => expect(screen.getByTestId("watch-rollback")).toHaveTextContent("Rolled back: the last good release is live again"));
    expect(rollbacks[0]).toMatchObject({ path: lettings.path, environment: "local", to: "r0" });
    await waitFor(() => expect(screen.getByTestId("watch-status")).toHaveTextContent(/^Stopped watching Sentry at .+ · 1 new issue since this release\.$/));
  });

  it("opens the watched issue on its own view, with the way back, and the header's count follows resolving it", async () => {
    localStorage.setItem(FIRST_RUN_KEY, "1");
    const others = Array.from({ length: 24 }, (_, index) => ({ ...crash, id: `o${index}`, shortId: `WEB-${100 + index}`, title: `Other ${index}` }));
    const { watches, calls } = fakeBackend([], { accounts: [sentryAccount()], sentryIssues: [...others, crash] });
    const user = userEvent.setup();
    await releaseLive(user);
    await waitFor(() => expect(watches).toHaveLength(1));
    watches[0]!.send({ kind: "started", releaseId: "r1", version: "lettings@abc1234", until: "2026-11-24T11:30:00Z" });
    watches[0]!.send({ kind: "newIssue", issue: crash });
    const status = () => screen.getByRole("status", { name: "Last release" });
    await waitFor(() => expect(status()).toHaveTextContent("Live · just now · 1 new error"));

    const panel = await screen.findByRole("region", { name: "Watching Sentry" });
    await user.click(within(panel).getByRole("button", { name: /WEB-7 ZeroDivisionError/ }));
    // That issue, on its own view: no list of 25 rows above it.
    const detail = await screen.findByTestId("errors-detail");
    expect(within(detail).getByRole("heading", { name: "ZeroDivisionError: division by zero" })).toBeInTheDocument();
    expect(screen.queryAllByTestId("errors-row")).toHaveLength(0);

    await user.click(within(detail).getByTestId("errors-detail-resolved"));
    await waitFor(() => expect(calls).toContain("set_issue_status"));
    await waitFor(() => expect(status()).not.toHaveTextContent("new error"));
    expect(status()).toHaveTextContent("Live · just now");

    // The way back leads to the release it came from; the watch says the issue is resolved.
    await user.click(screen.getByRole("button", { name: "← Back to Release" }));
    const back = await screen.findByRole("region", { name: "Watching Sentry" });
    expect(back).toHaveTextContent("0 new issues since this release");
    expect(within(back).getByTestId("watch-issue")).toHaveTextContent("WEB-7 ZeroDivisionError: division by zero (resolved)");
    expect(within(back).queryByRole("button", { name: "Roll back to the last good release" })).not.toBeInTheDocument();

    // All errors: the issue's own view gives way to the page's list.
    await user.click(within(back).getByRole("button", { name: /WEB-7/ }));
    await screen.findByTestId("errors-detail");
    await user.click(screen.getByRole("button", { name: "All errors" }));
    expect(screen.queryByTestId("errors-detail")).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "All errors" })).not.toBeInTheDocument();
  });

  it("does not watch without a Sentry account", async () => {
    localStorage.setItem(FIRST_RUN_KEY, "1");
    const { calls } = fakeBackend();
    const user = userEvent.setup();
    await releaseLive(user);
    await waitFor(() => expect(calls).toContain("list_accounts"));
    expect(calls).not.toContain("start_watch");
    expect(screen.queryByRole("region", { name: "Watching Sentry" })).not.toBeInTheDocument();
  });
});
