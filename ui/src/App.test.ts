import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import App from "./App.svelte";
import type { AppError, Plan, ProjectSummary, RecentProject, ReleaseEvent, ReleaseSummary } from "./lib/ipc";
import { ReleaseStore } from "./lib/release/release.svelte";

const lettings: ProjectSummary = {
  name: "lettings",
  path: "/home/ann/lettings",
  git: { branch: "main", commit: "abc1234" },
};

/** A backend that knows one project folder and keeps a recent list, like the real one. */
function fakeBackend() {
  let recents: RecentProject[] = [];
  const calls: string[] = [];
  mockIPC((cmd, args) => {
    calls.push(cmd);
    const payload = (args ?? {}) as Record<string, unknown>;
    switch (cmd) {
      case "list_releases":
        return [];
      case "history_notice":
        return null;
      case "live_now":
        return [];
      case "recent_projects":
        return recents;
      case "open_project": {
        if (payload.path !== lettings.path) {
          const error: AppError = {
            kind: "notFound",
            message: `The folder ${String(payload.path)} does not exist.`,
            hint: "Check the path, or pick the folder with Open project.",
          };
          throw error;
        }
        recents = [{ name: lettings.name, path: lettings.path, openedAt: "2026-11-24T10:00:00Z" }];
        return lettings;
      }
      case "forget_recent_project":
        recents = recents.filter((item) => item.path !== payload.path);
        return recents;
      case "detect_project":
        return {
          path: lettings.path,
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
            python: { existing: null, inTree: false, installFrom: ["requirements.txt"], installer: "requirements", installSource: "found in the project\'s folder", packages: [], extras: [], groups: [], requiresPython: null, ciPython: null },
            dockerfile: { value: "Dockerfile", source: "the project\'s folder" },
            buildContext: { value: ".", source: "the project\'s folder" },
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
  return calls;
}

describe("the app shell", () => {
  it("visits every page and each says what it will show", async () => {
    fakeBackend();
    const user = userEvent.setup();
    render(App);
    const nav = screen.getByRole("navigation", { name: "Main" });
    const expectations: Array<[string, RegExp]> = [
      ["History", /No releases yet/],
      ["Errors", /No error reports to show/],
      ["Images", /No images yet/],
      ["Settings", /No accounts connected/],
      ["Release", /Open a project to release it/],
    ];
    for (const [label, heading] of expectations) {
      await user.click(within(nav).getByRole("button", { name: label }));
      expect(within(nav).getByRole("button", { name: label })).toHaveAttribute("aria-current", "page");
      expect(await screen.findByRole("heading", { level: 2, name: label })).toBeInTheDocument();
      expect(screen.getByRole("heading", { name: heading })).toBeInTheDocument();
    }
  });

  it("opens a typed path, shows name and branch, and lists it as recent", async () => {
    fakeBackend();
    const user = userEvent.setup();
    render(App);
    expect(screen.getByText("No project open")).toBeInTheDocument();
    await user.type(screen.getByLabelText("Or type the project's folder"), lettings.path);
    await user.click(screen.getByRole("button", { name: "Open" }));
    expect(await screen.findByTestId("project-name")).toHaveTextContent("lettings");
    expect(screen.getByTestId("project-branch")).toHaveTextContent("main");
    expect(await screen.findByLabelText("Test command")).toHaveValue("pytest");
    expect(screen.getByText("Found in pytest.ini")).toBeInTheDocument();
    await user.click(screen.getByText("Open another project"));
    expect(screen.getByRole("list", { name: "Recent projects" })).toHaveTextContent("/home/ann/lettings");
  });

  it("shows the backend's message and hint for a folder that does not exist, and keeps no project", async () => {
    fakeBackend();
    const user = userEvent.setup();
    render(App);
    await user.type(screen.getByLabelText("Or type the project's folder"), "/nope");
    await user.click(screen.getByRole("button", { name: "Open" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("The folder /nope does not exist.");
    expect(alert).toHaveTextContent("Check the path");
    expect(screen.getByText("No project open")).toBeInTheDocument();
    expect(screen.queryByRole("list", { name: "Recent projects" })).not.toBeInTheDocument();
  });

  it("forgets a recent project", async () => {
    fakeBackend();
    const user = userEvent.setup();
    render(App);
    await user.type(screen.getByLabelText("Or type the project's folder"), lettings.path);
    await user.click(screen.getByRole("button", { name: "Open" }));
    await user.click(await screen.findByText("Open another project"));
    await user.click(screen.getByRole("button", { name: "Forget lettings" }));
    expect(screen.queryByRole("list", { name: "Recent projects" })).not.toBeInTheDocument();
  });

  it("keeps a running release across pages: the header says so, and Cancel works from anywhere", async () => {
    fakeBackend();
    const user = userEvent.setup();
    const plan = {
      projectPath: lettings.path,
      projectName: "lettings",
      target: "local",
      steps: [
        { step: "tests", detail: "pytest", skip: null, ciLine: null, notes: [] },
        { step: "build", detail: "Dockerfile", skip: null, ciLine: null, notes: [] },
      ],
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
      fingerprint: "fp",
    } as Plan;
    let finish: (summary: ReleaseSummary) => void = () => {};
    const api = {
      planRelease: async () => plan,
      cancelRelease: vi.fn(async () => {
        finish({ releaseId: "r1", outcome: "canceled", image: plan.image, digest: null, url: null, deployId: null, message: "Cancelled.", error: null });
        return true;
      }),
      startRelease: (_path: string, _options: unknown, onEvent: (event: ReleaseEvent) => void) =>
        new Promise<ReleaseSummary>((resolve) => {
          finish = resolve;
          onEvent({ kind: "step", step: "tests", state: "running", elapsedMs: null, summary: null });
        }),
    };
    const release = new ReleaseStore(api);
    render(App, { release });
    await user.type(screen.getByLabelText("Or type the project's folder"), lettings.path);
    await user.click(screen.getByRole("button", { name: "Open" }));
    await screen.findByTestId("plan-image");
    await user.click(within(screen.getByRole("main")).getByRole("button", { name: "Release" }));
    const nav = screen.getByRole("navigation", { name: "Main" });
    await user.click(within(nav).getByRole("button", { name: "History" }));
    const status = await screen.findByRole("status", { name: "Running release" });
    expect(status).toHaveTextContent("Releasing lettings · Tests");
    // Back on the Release page the same run is shown, still running.
    await user.click(within(nav).getByRole("button", { name: "Release" }));
    expect(document.querySelector('[data-step="tests"]')?.getAttribute("data-state")).toBe("running");
    await user.click(within(status).getByRole("button", { name: "Cancel" }));
    expect(api.cancelRelease).toHaveBeenCalledWith(lettings.path);
    expect(await screen.findByText("Release cancelled")).toBeInTheDocument();
  });
});
