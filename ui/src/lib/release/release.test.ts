import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LocalAppStore } from "../containers/localApp.svelte";
import type { AppError, GivenValue, LocalApp, Plan, ReleaseEvent, ReleaseRecord, ReleaseSummary, SystemStatus, WatchEvent, WatchSummary } from "../ipc";
import { SystemStore } from "../system/system.svelte";
import { WatchStore } from "../watch/watch.svelte";
import { navigationContext } from "../shell/navigation";
import { fakeLinks, fakeNavigation, openedInBrowser } from "../testing/fakes";
import {
  appError,
  dockerDown,
  plan as basePlan,
  plannedStep,
  projectDetails,
  releaseRecord,
  releaseSummary,
  renderEnvironment,
  renderService,
} from "../testing/fixtures";
import { CHOICES_KEY } from "./release.svelte";
import ReleasePanel from "./ReleasePanel.svelte";
import { ReleaseStore } from "./release.svelte";
import { stepStatus } from "./stepStatus";

/** The plan of lettings at 3f2a1bc: the local release's every step, push skipped. */
function plan(overrides: Partial<Plan> = {}): Plan {
  return basePlan({
    steps: [
      ...basePlan().steps,
      plannedStep("push", "", { skip: "No local registry is set" }),
      plannedStep("deploy", "container"),
      plannedStep("verify", "/"),
    ],
    image: "lettings:3f2a1bc",
    commit: "3f2a1bc",
    otherTags: ["latest"],
    fingerprint: "fp-1",
    ...overrides,
  });
}

const live = releaseSummary({
  image: "lettings:3f2a1bc",
  digest: "sha256:4f1c0a9e8d7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a",
  url: "http://127.0.0.1:32768/",
  deployId: "c0ffee1234567890",
});

const lintFailed: ReleaseSummary = {
  ...live,
  outcome: "failed",
  url: null,
  deployId: null,
  digest: null,
  message: "Lint failed: 1 violation.",
  error: appError({ kind: "precondition", message: "Lint found 1 violation.", hint: "Fix it, then release again." }),
};

/** A live release of lettings at 9e8d7c6, two hours ago. */
function record(overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return releaseRecord({
    startedAt: new Date(Date.now() - 2 * 3600_000).toISOString(),
    endedAt: new Date(Date.now() - 2 * 3600_000 + 60_000).toISOString(),
    commit: "9e8d7c6b5a4",
    image: "lettings:9e8d7c6",
    url: "http://127.0.0.1:32768/",
    ...overrides,
  });
}

function fakeApi(thePlan: Plan, events: ReleaseEvent[], summary: ReleaseSummary, ledger: ReleaseRecord[] = []) {
  return {
    planRelease: vi.fn(async (path: string) => ({ ...thePlan, projectPath: path })),
    cancelRelease: vi.fn(async () => true),
    listReleases: vi.fn(async () => ledger),
    giveProjectValues: vi.fn(async (path: string, _values: GivenValue[]) => projectDetails(path).settings),
    startRelease: vi.fn(async (_path: string, _options: unknown, onEvent: (event: ReleaseEvent) => void) => {
      for (const event of events) onEvent(event);
      return summary;
    }),
  };
}

/** A backend whose release runs until the test ends it, with the events the test sends. */
function heldRelease() {
  let emitTo: (event: ReleaseEvent) => void = () => {};
  let finishWith: (summary: ReleaseSummary) => void = () => {};
  const api = {
    ...fakeApi(plan(), [], live),
    startRelease: vi.fn(
      (_path: string, _options: unknown, onEvent: (event: ReleaseEvent) => void) =>
        new Promise<ReleaseSummary>((resolve) => {
          emitTo = onEvent;
          finishWith = resolve;
        }),
    ),
  };
  return { api, emit: (event: ReleaseEvent) => emitTo(event), finish: (summary: ReleaseSummary) => finishWith(summary) };
}

function renderPanel(release: ReleaseStore, path = "/p/lettings", navigation = fakeNavigation().navigation) {
  return render(ReleasePanel, { props: { release, path }, context: navigationContext(navigation) });
}

function stateOf(step: string): string {
  return document.querySelector(`[data-step="${step}"] [data-testid="step-state"]`)?.textContent ?? "";
}

function order(): string[] {
  return Array.from(document.querySelectorAll("[data-step]")).map((item) => item.getAttribute("data-step") ?? "");
}

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe("the release page's steps", () => {
  it("say what they will do before the release, then each state in words as it runs", async () => {
    const { api, emit, finish } = heldRelease();
    const release = new ReleaseStore(api);
    await release.loadPlan("/p/lettings");
    renderPanel(release);
    expect(screen.getByTestId("plan-image").textContent).toBe("lettings:3f2a1bc");
    expect(screen.getByText(/will be skipped: No local registry is set/)).toBeInTheDocument();
    for (const step of ["tests", "lint", "build", "deploy"]) expect(stateOf(step)).toBe("not started yet");

    await fireEvent.click(screen.getByRole("button", { name: "Release to this computer" }));
    // The top of the page is the run now: the plan folds away and Cancel takes the button's place.
    expect(screen.queryByRole("button", { name: "Release to this computer" })).not.toBeInTheDocument();
    expect(screen.getByText("What this release runs")).toBeInTheDocument();
    emit({ kind: "step", step: "tests", state: "running", elapsedMs: null, summary: null });
    emit({ kind: "log", step: "tests", line: "collected 5 items", atMs: 1 });
    await waitFor(() => expect(stateOf("tests")).toBe("running"));
    expect(stateOf("lint")).toBe("waiting");
    expect(document.querySelector('[data-step="tests"]')?.textContent).toMatch(/0:0\d/);
    expect(screen.getByRole("button", { name: "Cancel" })).toBeInTheDocument();

    emit({ kind: "step", step: "tests", state: "passed", elapsedMs: 1500, summary: "5 passed" });
    emit({ kind: "step", step: "push", state: "skipped", elapsedMs: null, summary: "No local registry is set" });
    finish(live);
    await screen.findByRole("region", { name: "Release summary" });
    expect(stateOf("tests")).toBe("passed");
    expect(document.querySelector('[data-step="tests"]')?.textContent).toContain("1.5 s");
    expect(document.querySelector('[data-step="tests"]')?.textContent).toContain("5 passed");
    expect(stateOf("push")).toBe("skipped");
    // Never started, and the release is over: not "waiting".
    expect(stateOf("verify")).toBe("not run");
    expect(api.startRelease).toHaveBeenCalledWith(
      "/p/lettings",
      { environment: "local", confirmDirty: false, confirmedPlan: "fp-1", noCache: false, withoutTeamHistory: false },
      expect.any(Function),
    );
  });

  it("move the focus to the running step, then to the result, and say each change aloud", async () => {
    const { api, emit, finish } = heldRelease();
    const release = new ReleaseStore(api);
    await release.loadPlan("/p/lettings");
    renderPanel(release);
    const button = screen.getByRole("button", { name: "Release to this computer" });
    button.focus();
    await fireEvent.click(button);
    emit({ kind: "step", step: "tests", state: "running", elapsedMs: null, summary: null });
    const tests = document.querySelector('[data-step="tests"] button.head');
    await waitFor(() => expect(document.activeElement).toBe(tests));
    const said = screen.getByTestId("run-announcement");
    expect(said).toHaveAttribute("aria-live", "polite");
    expect(said).toHaveTextContent("Releasing lettings: Tests running.");
    emit({ kind: "step", step: "tests", state: "passed", elapsedMs: 1500, summary: "5 passed" });
    finish(live);
    const summary = await screen.findByRole("region", { name: "Release summary" });
    await waitFor(() => expect(document.activeElement?.contains(summary)).toBe(true));
    expect(said).toHaveTextContent("Release done: lettings is live.");
  });

  it("list the failing step first and open, with its results, and say why the others stopped", async () => {
    const events: ReleaseEvent[] = [
      { kind: "step", step: "tests", state: "running", elapsedMs: null, summary: null },
      { kind: "step", step: "lint", state: "running", elapsedMs: null, summary: null },
      { kind: "log", step: "lint", line: "shop/views.py:3:80: E501 line too long", atMs: 2 },
      {
        kind: "lint",
        report: {
          tool: "flake8",
          outcome: "failed",
          problem: null,
          exitCode: 1,
          durationMs: 5,
          violations: [{ path: "shop/views.py", line: 3, column: 80, code: "E501", message: "line too long", explanation: null, helpUrl: null }],
        },
      },
      { kind: "step", step: "lint", state: "failed", elapsedMs: 800, summary: "1 violation" },
      { kind: "step", step: "tests", state: "canceled", elapsedMs: 900, summary: null },
      { kind: "step", step: "build", state: "canceled", elapsedMs: 300, summary: null },
    ];
    const release = new ReleaseStore(fakeApi(plan(), events, lintFailed));
    await release.loadPlan("/p/lettings");
    renderPanel(release);
    await fireEvent.click(screen.getByRole("button", { name: "Release to this computer" }));
    await screen.findByRole("heading", { name: /Release failed at Lint/ });

    expect(order()).toEqual(["lint", "tests", "build", "push", "deploy", "verify"]);
    expect(stateOf("lint")).toBe("failed");
    expect(stateOf("tests")).toBe("stopped because Lint failed");
    expect(stateOf("deploy")).toBe("not run");
    const lint = document.querySelector('[data-step="lint"]') as HTMLElement;
    expect(within(lint).getByRole("button", { expanded: true })).toBeInTheDocument();
    expect(within(lint).getByRole("region", { name: "Lint results" })).toHaveTextContent("line 3 E501");
    // The results first; the output folded below them.
    const output = within(lint).getByText("Lint output (1 lines)");
    expect(output.closest("details")).not.toHaveAttribute("open");
    // The banner tells the error with its hint, once.
    const banner = screen.getByRole("region", { name: "Release summary" });
    expect(within(banner).getByRole("alert")).toHaveTextContent("Lint found 1 violation.");
    expect(within(banner).getAllByText("Fix it, then release again.")).toHaveLength(1);

    // "See why" brings the failing step into view.
    const scrolled = vi.fn();
    Element.prototype.scrollIntoView = scrolled;
    await fireEvent.click(within(lint).getByRole("button", { expanded: true }));
    expect(within(lint).queryByRole("region", { name: "Lint results" })).not.toBeInTheDocument();
    await fireEvent.click(within(banner).getByRole("button", { name: "See why" }));
    await waitFor(() => expect(scrolled).toHaveBeenCalled());
    expect(scrolled.mock.contexts[0]).toBe(lint);
    expect(within(lint).getByRole("region", { name: "Lint results" })).toBeInTheDocument();
  });

  it("show a failing test with its assertion when the tests fail", async () => {
    const events: ReleaseEvent[] = [
      { kind: "step", step: "tests", state: "running", elapsedMs: null, summary: null },
      {
        kind: "tests",
        report: {
          outcome: "failed",
          counts: { passed: 3, failed: 1, errors: 0, skipped: 0 },
          failures: [{ nodeId: "tests/test_cart.py::test_total", message: "AssertionError: assert 3 == 4", traceback: "E assert 3 == 4", file: null, line: null, got: null, expected: null, explanation: null }],
          summaryLine: "1 failed, 3 passed",
          exitCode: 1,
          problem: null,
          durationMs: 100,
        },
      },
      { kind: "step", step: "tests", state: "failed", elapsedMs: 1000, summary: "1 failed, 3 passed" },
    ];
    const release = new ReleaseStore(fakeApi(plan(), events, { ...lintFailed, message: "Tests failed." }));
    await release.loadPlan("/p/lettings");
    renderPanel(release);
    await fireEvent.click(screen.getByRole("button", { name: "Release to this computer" }));
    const results = await screen.findByRole("region", { name: "Test results" });
    expect(results).toHaveTextContent("AssertionError: assert 3 == 4");
    expect(within(results).getByTestId("test-counts")).toHaveTextContent("3 passed · 1 failed");
  });

  it("shows the plan kept from the last start at once, as being checked, and waits for the fresh one to release", async () => {
    let answer: (plan: Plan) => void = () => {};
    const api = {
      ...fakeApi(plan(), [], live),
      planRelease: vi.fn(() => new Promise<Plan>((resolve) => (answer = resolve))),
    };
    const release = new ReleaseStore(api);
    const kept = plan({ commit: "1a2b3c4", image: "lettings:1a2b3c4" });
    void release.loadPlan("/p/lettings", kept);
    renderPanel(release);
    expect(screen.getByTestId("plan-image").textContent).toBe("lettings:1a2b3c4");
    expect(screen.getByTestId("plan-refreshing")).toHaveTextContent("Checking for changes…");
    const button = screen.getByRole("button", { name: "Release to this computer" });
    expect(button).toBeDisabled();
    expect(screen.getByTestId("release-why")).toHaveTextContent("Ready once the fresh plan is in.");

    answer(plan());
    await waitFor(() => expect(screen.getByTestId("plan-image").textContent).toBe("lettings:3f2a1bc"));
    expect(screen.queryByTestId("plan-refreshing")).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Release to this computer" })).toBeEnabled();
  });

  it("takes a kept plan away when the fresh one cannot be made", async () => {
    const api = {
      ...fakeApi(plan(), [], live),
      planRelease: vi.fn(async () => {
        throw appError({ kind: "notFound", message: "The folder /p/lettings does not exist.", hint: "Open it from where it is now." });
      }),
    };
    const release = new ReleaseStore(api);
    await release.loadPlan("/p/lettings", plan({ image: "lettings:1a2b3c4" }));
    renderPanel(release);
    expect(screen.queryByTestId("plan-image")).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Release to this computer" })).not.toBeInTheDocument();
    expect(screen.getByText(/The folder \/p\/lettings does not exist/)).toBeInTheDocument();
  });

  it("will not release past a blocker, and asks before releasing uncommitted changes", async () => {
    const blocked = new ReleaseStore(
      fakeApi(plan({ blockers: [appError({ kind: "precondition", message: "The project has no Dockerfile.", hint: "Add one." })] }), [], live),
    );
    await blocked.loadPlan("/p");
    expect(blocked.canRelease).toBe(false);

    const dirty = new ReleaseStore(fakeApi(plan({ dirtyFiles: ["notes.txt"] }), [], live));
    await dirty.loadPlan("/p");
    renderPanel(dirty, "/p");
    const button = screen.getByRole("button", { name: "Release to this computer" }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    await fireEvent.click(screen.getByRole("checkbox"));
    expect(button.disabled).toBe(false);
    // Agreed to for that one release: the next starts unticked.
    await dirty.start("/p");
    expect(dirty.confirmDirty).toBe(false);
    expect(screen.getByRole("checkbox")).not.toBeChecked();
  });

  it("keeps a refused start beside the button, with no run shown", async () => {
    const api = {
      ...fakeApi(plan(), [], live),
      startRelease: vi.fn(async () => {
        throw appError({ kind: "dockerUnavailable", message: "Docker is not running.", hint: "Start Docker, then try again.", action: "startDocker" });
      }),
    };
    const release = new ReleaseStore(api);
    await release.loadPlan("/p/lettings");
    renderPanel(release);
    await fireEvent.click(screen.getByRole("button", { name: "Release to this computer" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Docker is not running.");
    expect(screen.getByRole("button", { name: "Release to this computer" })).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Release summary" })).not.toBeInTheDocument();
    expect(stateOf("tests")).toBe("not started yet");
  });

  it("keeps every line of a long log but draws only those in sight", async () => {
    const api = { ...fakeApi(plan(), [], live), startRelease: vi.fn(() => new Promise<ReleaseSummary>(() => {})) };
    const release = new ReleaseStore(api);
    await release.loadPlan("/p");
    void release.start("/p");
    release.run.receive({ kind: "step", step: "tests", state: "running", elapsedMs: null, summary: null });
    for (let index = 0; index < 100_000; index++) {
      release.run.receive({ kind: "log", step: "tests", line: `line ${index}`, atMs: index });
    }
    renderPanel(release, "/p");
    await waitFor(() => expect(screen.getByRole("log").getAttribute("data-lines")).toBe("100000"));
    const drawn = screen.getByRole("log").querySelectorAll(".row").length;
    expect(drawn).toBeGreaterThan(0);
    expect(drawn).toBeLessThan(200);
  });

  it("shows where each gate comes from in the CI, what was changed, what is needed, and each other check's verdict", async () => {
    const gate = {
      id: "coverage",
      kind: "coverage" as const,
      tool: "coverage",
      command: "coverage report --fail-under=80",
      ciLine: "coverage report --fail-under=80",
      source: ".github/workflows/ci.yml (job test)",
      notes: [],
      env: {},
      afterTests: true,
      version: null,
      enabled: true,
    };
    const thePlan = plan({
      steps: [
        plannedStep("tests", "pytest", { ciLine: "docker exec app pytest", notes: ["Your CI runs this inside a container."] }),
        plannedStep("lint", "flake8", { ciLine: "flake8 --format html || true", notes: ["Your CI lets lint fail (|| true); here it is a gate."] }),
        plannedStep("checks", gate.command),
        plannedStep("build", "Dockerfile"),
      ],
      gates: [gate],
      needs: [
        {
          name: "SECRET_KEY",
          why: "shop/settings.py reads it with no default",
          secret: true,
          required: true,
          ciSecret: false,
          testValue: { kind: "randomKey", length: 50 },
        },
      ],
      ciSkipped: [{ line: "curl -X POST $HOOK", source: "ci.yml (job deploy)", reason: "calls a web address" }],
    });
    const report = {
      id: "coverage",
      kind: "coverage" as const,
      tool: "coverage",
      command: gate.command,
      outcome: "failed" as const,
      message: "coverage 78 % is below the 80 % your project requires",
      findings: [],
      exitCode: 2,
      durationMs: 10,
    };
    const failed: ReleaseSummary = {
      ...live,
      outcome: "failed",
      url: null,
      message: "Checks failed: coverage 78 % is below the 80 % your project requires",
      error: appError({ kind: "precondition", message: "Coverage is below what the project requires.", hint: "Add tests, or lower the bar in `setup.cfg`." }),
    };
    const events: ReleaseEvent[] = [
      { kind: "step", step: "checks", state: "running", elapsedMs: null, summary: null },
      { kind: "gate", report },
      { kind: "step", step: "checks", state: "failed", elapsedMs: 10, summary: "coverage failed" },
    ];
    const { navigation, went } = fakeNavigation();
    const release = new ReleaseStore(fakeApi(thePlan, events, failed));
    await release.loadPlan("/p");
    renderPanel(release, "/p", navigation);
    // Only the steps this release runs, in order.
    expect(order()).toEqual(["tests", "lint", "checks", "build"]);
    expect(screen.getByText(/The tests need SECRET_KEY/)).toBeInTheDocument();
    await fireEvent.click(screen.getByRole("button", { name: "Open project settings" }));
    expect(went).toEqual(["project"]);
    expect(screen.getByText(/lets lint fail/)).toBeInTheDocument();
    expect(screen.getByText("docker exec app pytest")).toBeInTheDocument();
    expect(screen.getByText(/Not run from your CI \(1\)/)).toBeInTheDocument();

    await fireEvent.click(screen.getByRole("button", { name: "Release to this computer" }));
    await waitFor(() => expect(document.querySelector('[data-gate="coverage"]')?.textContent).toContain("coverage 78 % is below the 80 %"));
    expect(order()[0]).toBe("checks");
    // The hint's file name is shown as code, not between backticks.
    const banner = screen.getByRole("region", { name: "Release summary" });
    expect(within(banner).getByRole("alert").querySelector("code")?.textContent).toBe("setup.cfg");
    expect(within(banner).getByRole("alert").textContent).not.toContain("`");
  });

  it("maps every state to an icon and a word", () => {
    expect(stepStatus("pending", "before", null)).toMatchObject({ word: "not started yet" });
    expect(stepStatus("pending", "running", null)).toMatchObject({ word: "waiting" });
    expect(stepStatus("pending", "ended", null)).toMatchObject({ word: "not run" });
    expect(stepStatus("running", "running", null)).toMatchObject({ icon: "●", word: "running" });
    expect(stepStatus("passed", "ended", null)).toMatchObject({ icon: "✓", word: "passed" });
    expect(stepStatus("failed", "ended", "lint")).toMatchObject({ icon: "✗", word: "failed" });
    expect(stepStatus("skipped", "ended", null)).toMatchObject({ icon: "–", word: "skipped" });
    expect(stepStatus("canceled", "ended", "lint")).toMatchObject({ word: "stopped because Lint failed" });
    expect(stepStatus("canceled", "ended", null)).toMatchObject({ word: "cancelled" });
    expect(stepStatus("interrupted", "ended", null)).toMatchObject({ word: "interrupted" });
  });
});

describe("the result banner", () => {
  it("says the project is live, opens the address in the browser, copies it, and folds the digest", async () => {
    const user = userEvent.setup();
    const opened = openedInBrowser();
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const release = new ReleaseStore(fakeApi(plan(), [{ kind: "step", step: "tests", state: "passed", elapsedMs: 10, summary: null }], live));
    await release.loadPlan("/p/lettings");
    renderPanel(release);
    await user.click(screen.getByRole("button", { name: "Release to this computer" }));

    const banner = await screen.findByRole("region", { name: "Release summary" });
    expect(within(banner).getByRole("heading", { name: /lettings is live/ })).toBeInTheDocument();
    expect(within(banner).getByTestId("live-url")).toHaveTextContent("http://127.0.0.1:32768/");
    expect(banner).toHaveTextContent(/Finished (just now|\d+ min ago|today \d\d:\d\d|yesterday \d\d:\d\d|.+ \d\d:\d\d) · took/);
    await user.click(within(banner).getByRole("button", { name: "Open in browser" }));
    await user.click(within(banner).getByTestId("live-url"));
    expect(opened).toEqual(["http://127.0.0.1:32768/", "http://127.0.0.1:32768/"]);
    await user.click(within(banner).getByRole("button", { name: "Copy address" }));
    expect(writeText).toHaveBeenCalledWith("http://127.0.0.1:32768/");
    expect(banner).toHaveTextContent("Address copied.");

    // The digest sits folded, on one line, whole in its tooltip.
    const digest = within(banner).getByTestId("result-digest");
    expect(digest).not.toBeVisible();
    expect(digest).toHaveAttribute("title", live.digest);
    await user.click(within(banner).getByText("Technical details"));
    expect(digest).toBeVisible();
    expect(within(banner).getByText("Container")).toBeInTheDocument();

    // Back to the plan and its button for the next one.
    await user.click(within(banner).getByRole("button", { name: "Release again…" }));
    expect(screen.getByRole("button", { name: "Release to this computer" })).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Release summary" })).not.toBeInTheDocument();
  });
});

describe("switching project", () => {
  it("shows nothing of the previous project's finished release, and says when a project was never released", async () => {
    const api = fakeApi(plan(), [{ kind: "step", step: "tests", state: "passed", elapsedMs: 10, summary: null }], live);
    const release = new ReleaseStore(api);
    release.forProject("/p/lettings");
    await release.loadPlan("/p/lettings");
    await release.start("/p/lettings");
    expect(release.run.shows("/p/lettings")).toBe(true);

    release.forProject("/p/empty");
    expect(release.plan).toBeNull();
    expect(release.run.summary).toBeNull();
    expect(release.run.project).toBeNull();
    api.planRelease.mockResolvedValueOnce(
      plan({ projectPath: "/p/empty", projectName: "empty", blockers: [appError({ kind: "precondition", message: "The project has no Dockerfile.", hint: "Add one." })] }),
    );
    await release.loadPlan("/p/empty");
    await release.loadLast("/p/empty");
    renderPanel(release, "/p/empty");
    expect(screen.getByRole("alert")).toHaveTextContent("The project has no Dockerfile.");
    expect(screen.queryByRole("region", { name: "Release summary" })).not.toBeInTheDocument();
    expect(screen.queryByText(/is live/)).not.toBeInTheDocument();
    expect(stateOf("tests")).toBe("not started yet");
    expect(screen.getByTestId("last-release")).toHaveTextContent("This project has never been released.");
    expect(api.listReleases).toHaveBeenLastCalledWith(expect.objectContaining({ projectPath: "/p/empty", limit: 1 }));
  });

  it("keeps a release still running elsewhere, and shows the open project's last release with a way to History", async () => {
    const api = { ...fakeApi(plan(), [], live, [record({ outcome: "failed", commit: "9e8d7c6b5a4" })]), startRelease: vi.fn(() => new Promise<ReleaseSummary>(() => {})) };
    const release = new ReleaseStore(api);
    await release.loadPlan("/p/lettings");
    void release.start("/p/lettings");
    release.forProject("/p/shop");
    expect(release.run.running).toBe(true);
    expect(release.run.project?.path).toBe("/p/lettings");

    await release.loadPlan("/p/shop");
    await release.loadLast("/p/shop");
    const { navigation, went } = fakeNavigation();
    renderPanel(release, "/p/shop", navigation);
    // This project's plan, not the running one's run; its button waits for the other release.
    expect(screen.queryByRole("button", { name: "Cancel" })).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Release to this computer" })).toBeDisabled();
    expect(screen.getByText(/lettings is being released/)).toBeInTheDocument();
    const last = screen.getByRole("region", { name: "Last release" });
    expect(last).toHaveTextContent("Last release: Failed");
    expect(last).toHaveTextContent(/(today|yesterday) \d\d:\d\d/);
    expect(last).toHaveTextContent("commit 9e8d7c6 on main");
    await fireEvent.click(within(last).getByRole("button", { name: "See in History" }));
    expect(went).toEqual(["history"]);
  });

  it("ignores a plan that arrives for a project no longer open", async () => {
    let answer: (plan: Plan) => void = () => {};
    const api = { ...fakeApi(plan(), [], live), planRelease: vi.fn(() => new Promise<Plan>((resolve) => (answer = resolve))) };
    const release = new ReleaseStore(api);
    const slow = release.loadPlan("/p/lettings");
    release.forProject("/p/shop");
    answer(plan());
    await slow;
    expect(release.plan).toBeNull();
  });
});

describe("why the Release button waits", () => {
  const keyringLocked: AppError = appError({ kind: "keyringUnavailable", message: "Your keyring is locked.", hint: "Unlock it, then try again." });

  /** A system store whose answers the test sets. */
  function systemSaying(first: SystemStatus) {
    let answer = first;
    const system = new SystemStore({ systemStatus: async () => answer });
    return { system, say: (next: SystemStatus) => (answer = next) };
  }

  function renderWith(release: ReleaseStore, extra: Record<string, unknown>) {
    return render(ReleasePanel, { props: { release, path: "/p/lettings", ...extra }, context: navigationContext(fakeNavigation().navigation) });
  }

  it("says so beside the button when a blocker or uncommitted changes hold it", async () => {
    const blocked = new ReleaseStore(fakeApi(plan({ blockers: [appError({ kind: "validation", message: "\"x y\" is not a valid image name.", hint: "Correct it." })] }), [], live));
    await blocked.loadPlan("/p/lettings");
    const { unmount } = renderPanel(blocked);
    expect(screen.getByRole("button", { name: "Release to this computer" })).toBeDisabled();
    expect(screen.getByTestId("release-why")).toHaveTextContent("Fix the problem listed above first.");
    expect(screen.getByRole("button", { name: "Release to this computer" })).toHaveAccessibleDescription("Fix the problem listed above first.");
    unmount();

    const dirty = new ReleaseStore(fakeApi(plan({ dirtyFiles: ["notes.txt"] }), [], live));
    await dirty.loadPlan("/p/lettings");
    renderPanel(dirty);
    expect(screen.getByTestId("release-why")).toHaveTextContent("Tick the box above to release with uncommitted changes");
    await fireEvent.click(screen.getByRole("checkbox"));
    expect(screen.getByRole("button", { name: "Release to this computer" })).toBeEnabled();
    expect(screen.queryByTestId("release-why")).not.toBeInTheDocument();
  });

  it("waits while the plan is worked out again", async () => {
    let answer: (value: Plan) => void = () => {};
    const api = fakeApi(plan(), [], live);
    const release = new ReleaseStore(api);
    await release.loadPlan("/p/lettings");
    api.planRelease.mockImplementationOnce(() => new Promise<Plan>((resolve) => (answer = resolve)));
    renderPanel(release);
    const again = release.loadPlan("/p/lettings");
    await waitFor(() => expect(screen.getByTestId("release-why")).toHaveTextContent("Checking the plan again…"));
    expect(screen.getByRole("button", { name: "Release to this computer" })).toBeDisabled();
    answer(plan());
    await again;
    await waitFor(() => expect(screen.getByRole("button", { name: "Release to this computer" })).toBeEnabled());
  });

  it("holds the button while Docker is known to be down, with Start Docker beside it, but not while unknown", async () => {
    const user = userEvent.setup();
    const release = new ReleaseStore(fakeApi(plan({ blockers: [dockerDown] }), [], live));
    await release.loadPlan("/p/lettings");
    const { system } = systemSaying({ docker: dockerDown, dockerVersion: null, keyring: null });
    await system.refresh();
    renderWith(release, { system });
    expect(screen.getByRole("button", { name: "Release to this computer" })).toBeDisabled();
    expect(screen.getByTestId("release-why")).toHaveTextContent("Docker is not running, and a release builds the app's image with it.");
    // Told once, beside the button, with the button that helps.
    const alerts = screen.getAllByRole("alert");
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toHaveTextContent("Slipway cannot reach Docker on this computer.");
    await user.click(within(alerts[0]!).getByRole("button", { name: "Start Docker" }));
    expect(screen.getByTestId("docker-how-to")).toBeInTheDocument();
  });

  it("does not hold the button while Docker's state is not known yet", async () => {
    const release = new ReleaseStore(fakeApi(plan(), [], live));
    await release.loadPlan("/p/lettings");
    const system = new SystemStore({ systemStatus: () => new Promise(() => {}) });
    void system.refresh();
    renderWith(release, { system });
    expect(system.dockerReady).toBeNull();
    expect(screen.getByRole("button", { name: "Release to this computer" })).toBeEnabled();
    expect(screen.queryByTestId("release-why")).not.toBeInTheDocument();
  });

  it("plans again by itself once Docker runs, so the stale blocker goes", async () => {
    const api = fakeApi(plan({ blockers: [dockerDown] }), [], live);
    const release = new ReleaseStore(api);
    await release.loadPlan("/p/lettings");
    const { system, say } = systemSaying({ docker: dockerDown, dockerVersion: null, keyring: null });
    await system.refresh();
    renderWith(release, { system });
    expect(api.planRelease).toHaveBeenCalledTimes(1);
    api.planRelease.mockResolvedValue(plan());
    say({ docker: null, dockerVersion: "27.3.1", keyring: null });
    await system.refresh();
    await waitFor(() => expect(api.planRelease).toHaveBeenCalledTimes(2));
    await waitFor(() => expect(screen.getByRole("button", { name: "Release to this computer" })).toBeEnabled());
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("holds a release to Render, not a Local one, while the keyring is down", async () => {
    const { system } = systemSaying({ docker: null, dockerVersion: "27.3.1", keyring: keyringLocked });
    await system.refresh();
    const local = new ReleaseStore(fakeApi(plan(), [], live));
    await local.loadPlan("/p/lettings");
    const { unmount } = renderWith(local, { system });
    expect(screen.getByRole("button", { name: "Release to this computer" })).toBeEnabled();
    unmount();

    const render_ = new ReleaseStore(fakeApi(plan({ target: "render", blockers: [keyringLocked] }), [], live));
    await render_.loadPlan("/p/lettings");
    renderWith(render_, { system });
    expect(screen.getByRole("button", { name: "Release to this computer" })).toBeDisabled();
    expect(screen.getByTestId("release-why")).toHaveTextContent("The keyring isn't available, and releasing to Render needs the tokens kept in it.");
    expect(screen.getAllByRole("alert")).toHaveLength(1);
    expect(screen.getByRole("alert")).toHaveTextContent("Your keyring is locked.");
  });
});

describe("below the result", () => {
  function localApp(app: LocalApp | null) {
    const calls: string[] = [];
    const store = new LocalAppStore({
      localApp: async (path) => {
        calls.push(path);
        return app;
      },
      actOnLocalApp: async () => app,
      localAppOutput: async () => ({ lines: [], nextSince: 0 }),
    });
    return { store, calls };
  }

  const running: LocalApp = {
    name: "slipway-lettings",
    state: "running",
    running: true,
    since: new Date().toISOString(),
    endedAt: null,
    exitCode: null,
    url: "http://127.0.0.1:32768/",
    releaseId: "r1",
    release: null,
    image: "lettings:3f2a1bc",
    canRunAgain: false,
  };

  it("shows the app running on this machine before a release, and asks again once a release ends", async () => {
    const { store, calls } = localApp(running);
    const release = new ReleaseStore(fakeApi(plan(), [{ kind: "step", step: "tests", state: "passed", elapsedMs: 10, summary: null }], live));
    await release.loadPlan("/p/lettings");
    render(ReleasePanel, { props: { release, path: "/p/lettings", localApp: store }, context: navigationContext(fakeNavigation().navigation) });
    const card = await screen.findByTestId("local-app-card");
    expect(card).toHaveTextContent("Running on this machine");
    expect(calls).toHaveLength(1);

    await fireEvent.click(screen.getByRole("button", { name: "Release to this computer" }));
    const banner = await screen.findByRole("region", { name: "Release summary" });
    await waitFor(() => expect(calls.length).toBeGreaterThan(1));
    // Under the banner, above the steps.
    const after = await screen.findByTestId("local-app-card");
    expect(banner.compareDocumentPosition(after) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(after.compareDocumentPosition(document.querySelector("[data-step]")!) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it("shows the watch of this project's release under the banner, not another project's", async () => {
    const watches: Array<(event: WatchEvent) => void> = [];
    const watch = new WatchStore({
      listAccounts: async () => [{ service: "sentry", account: "acme/web", username: null, server: null, sentryOrganization: null, sentryProject: null, renderService: null, renderImage: null, circleciProject: null, verifiedAt: null, scopes: [], source: "wizard" }],
      startWatch: (_path, _id, onEvent) => {
        watches.push(onEvent);
        return new Promise<WatchSummary>(() => {});
      },
      stopWatch: async () => true,
      startRollback: async () => live,
      listReleases: async () => [],
    });
    void watch.afterRelease({ path: "/p/lettings", name: "lettings" }, "local", "r1");
    await waitFor(() => expect(watches).toHaveLength(1));
    watches[0]!({ kind: "started", releaseId: "r1", version: "lettings@3f2a1bc", until: "2026-11-24T11:30:00Z" });

    const release = new ReleaseStore(fakeApi(plan(), [{ kind: "step", step: "tests", state: "passed", elapsedMs: 10, summary: null }], live));
    await release.loadPlan("/p/lettings");
    await release.start("/p/lettings");
    const { unmount } = render(ReleasePanel, { props: { release, path: "/p/lettings", watch }, context: navigationContext(fakeNavigation().navigation) });
    const banner = screen.getByRole("region", { name: "Release summary" });
    const panel = screen.getByRole("region", { name: "Watching Sentry" });
    expect(banner.compareDocumentPosition(panel) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(panel).toHaveTextContent("Watching Sentry until");
    unmount();

    render(ReleasePanel, { props: { release, path: "/p/shop", watch }, context: navigationContext(fakeNavigation().navigation) });
    expect(screen.queryByRole("region", { name: "Watching Sentry" })).not.toBeInTheDocument();
  });
});

describe("gates that passed on this exact tree", () => {
  const earlier = { fromRelease: "20261204T160000000Z-1a2b3c4d", passedAt: new Date(Date.now() - 3 * 60_000).toISOString(), summary: "5 passed" };

  it("are shown as cached in the plan, and Run everything plans and releases them all again", async () => {
    const cachedPlan = plan({
      steps: [
        plannedStep("tests", "pytest", { cached: earlier }),
        plannedStep("lint", "flake8", { cached: earlier }),
        plannedStep("build", "Dockerfile"),
      ],
    });
    const api = {
      ...fakeApi(cachedPlan, [], live),
      planRelease: vi.fn(async (path: string, _target: unknown, noCache = false) =>
        noCache ? { ...plan(), projectPath: path, fingerprint: "fp-all" } : { ...cachedPlan, projectPath: path },
      ),
    };
    const release = new ReleaseStore(api);
    await release.loadPlan("/p/lettings");
    renderPanel(release);

    expect(stateOf("tests")).toBe("cached");
    expect(stateOf("lint")).toBe("cached");
    expect(stateOf("build")).toBe("not started yet");
    expect(document.querySelector('[data-step="tests"]')?.textContent).toMatch(/not run again: it passed 3 min ago on this exact tree/);
    expect(screen.getByTestId("cache-note").textContent).toMatch(/Tests and Lint passed on this exact tree before/);

    await userEvent.click(screen.getByRole("button", { name: "Run everything" }));
    await waitFor(() => expect(stateOf("tests")).toBe("not started yet"));
    expect(api.planRelease).toHaveBeenLastCalledWith("/p/lettings", null, true);
    expect(screen.getByTestId("cache-note").textContent).toMatch(/Every check runs/);

    await userEvent.click(screen.getByRole("button", { name: "Release to this computer" }));
    await waitFor(() => expect(api.startRelease).toHaveBeenCalled());
    expect(api.startRelease).toHaveBeenCalledWith(
      "/p/lettings",
      expect.objectContaining({ noCache: true, confirmedPlan: "fp-all" }),
      expect.any(Function),
    );
  });

  it("go back to reusing passes, and opening another project forgets Run everything", async () => {
    const cachedPlan = plan({ steps: [plannedStep("tests", "pytest", { cached: earlier }), plannedStep("build", "Dockerfile")] });
    const api = fakeApi(cachedPlan, [], live);
    const release = new ReleaseStore(api);
    await release.setRunEverything("/p/lettings", true);
    expect(api.planRelease).toHaveBeenLastCalledWith("/p/lettings", null, true);
    await release.setRunEverything("/p/lettings", false);
    expect(api.planRelease).toHaveBeenLastCalledWith("/p/lettings", null, false);
    expect(release.cachedSteps).toEqual(["tests"]);
    release.runEverything = true;
    release.forProject("/p/other");
    expect(release.runEverything).toBe(false);
  });
});

describe("the environment a release goes to", () => {
  /** A backend that plans each project's release to the environment asked (its default: production). */
  function environmentsApi() {
    const api = fakeApi(plan(), [], live);
    api.planRelease.mockImplementation(async (path: string, environment?: string | null) => {
      const name = environment ?? "production";
      return name === "local"
        ? plan({ projectPath: path })
        : plan({
            projectPath: path,
            target: "render",
            environment: name,
            destination: `${path.split("/").pop()}-${name} (${name}) on Render`,
          });
    });
    return api;
  }

  async function lettingsLinks() {
    const details = projectDetails("/p/lettings");
    details.settings.environments = {
      list: [renderEnvironment("staging", "lettings-staging"), renderEnvironment("production", "lettings-web")],
      default: "production",
    };
    return fakeLinks(details);
  }

  it("says where it deploys, and the button names the environment", async () => {
    const user = userEvent.setup();
    const api = environmentsApi();
    const { links } = await lettingsLinks();
    const release = new ReleaseStore(api);
    await release.loadPlan("/p/lettings");
    render(ReleasePanel, { props: { release, path: "/p/lettings", links }, context: navigationContext(fakeNavigation().navigation) });
    expect(screen.getByTestId("plan-destination")).toHaveTextContent("Deploys to lettings-production (production) on Render");
    expect(screen.getByRole("button", { name: "Release to production" })).toBeInTheDocument();
    const chooser = screen.getByLabelText("Environment");
    expect(within(chooser).getAllByRole("option").map((option) => option.textContent)).toEqual([
      "This computer",
      "staging · lettings-staging",
      "production · lettings-web",
    ]);

    await user.selectOptions(chooser, "local");
    expect(api.planRelease).toHaveBeenLastCalledWith("/p/lettings", "local", false);
    expect(await screen.findByRole("button", { name: "Release to this computer" })).toBeInTheDocument();
    expect(screen.getByTestId("plan-destination")).toHaveTextContent("Deploys to this computer");
    await user.click(screen.getByRole("button", { name: "Release to this computer" }));
    expect(api.startRelease).toHaveBeenCalledWith(
      "/p/lettings",
      expect.objectContaining({ environment: "local" }),
      expect.any(Function),
    );
  });

  it("remembers each project's own environment and Run everything, never carrying one to another", async () => {
    const api = environmentsApi();
    const release = new ReleaseStore(api);
    release.forProject("/p/lettings");
    await release.chooseEnvironment("/p/lettings", "staging");
    await release.setRunEverything("/p/lettings", true);
    expect(api.planRelease).toHaveBeenLastCalledWith("/p/lettings", "staging", true);

    // Another project starts from its own default, with its gates reused.
    release.forProject("/p/shop");
    await release.loadPlan("/p/shop");
    expect(api.planRelease).toHaveBeenLastCalledWith("/p/shop", null, false);
    expect(release.plan?.environment).toBe("production");
    await release.chooseEnvironment("/p/shop", "local");

    // Back on lettings: its own choices again.
    release.forProject("/p/lettings");
    await release.loadPlan("/p/lettings");
    expect(api.planRelease).toHaveBeenLastCalledWith("/p/lettings", "staging", true);

    // And after a restart, from the window's storage.
    const restarted = new ReleaseStore(api);
    restarted.forProject("/p/shop");
    await restarted.loadPlan("/p/shop");
    expect(api.planRelease).toHaveBeenLastCalledWith("/p/shop", "local", false);
    expect(JSON.parse(localStorage.getItem(CHOICES_KEY) ?? "{}")).toEqual({
      "/p/lettings": { environment: "staging", runEverything: true },
      "/p/shop": { environment: "local", runEverything: false },
    });
  });

  it("fixes an image the Render service would refuse in one click, then plans again", async () => {
    const user = userEvent.setup();
    const api = environmentsApi();
    const blocker = appError({
      kind: "precondition",
      message: "Render's lettings-web runs docker.io/acme/lettings-web, but production pushes ghcr.io/acme/lettings.",
      hint: "Push to the service's own image.",
      action: "useServiceImage",
    });
    api.planRelease.mockImplementationOnce(async (path: string) =>
      plan({ projectPath: path, target: "render", environment: "production", destination: "lettings-web (production) on Render", blockers: [blocker] }),
    );
    const { links, api: linksApi } = await lettingsLinks();
    const release = new ReleaseStore(api);
    await release.loadPlan("/p/lettings");
    render(ReleasePanel, { props: { release, path: "/p/lettings", links }, context: navigationContext(fakeNavigation().navigation) });
    expect(screen.getByRole("button", { name: "Release to production" })).toBeDisabled();
    await user.click(screen.getByRole("button", { name: "Use lettings-web's image (docker.io/acme/lettings-web)" }));
    expect(linksApi.changeEnvironment).toHaveBeenCalledWith("/p/lettings", "production", { imageRepository: "", makeDefault: false });
    await waitFor(() => expect(api.planRelease).toHaveBeenCalledTimes(2));
    expect(await screen.findByRole("button", { name: "Release to production" })).toBeEnabled();
  });

  it("offers the service picker where the environment has no Render service", async () => {
    const user = userEvent.setup();
    const api = environmentsApi();
    const blocker = appError({
      kind: "precondition",
      message: "production has no Render service to deploy to.",
      hint: "Pick the service it deploys to.",
      action: "pickRenderService",
    });
    api.planRelease.mockImplementationOnce(async (path: string) =>
      plan({ projectPath: path, target: "render", environment: "production", destination: "production on Render (no service picked)", blockers: [blocker] }),
    );
    const details = projectDetails("/p/lettings");
    details.settings.environments = { list: [{ name: "production", target: "render" }] };
    const { links, api: linksApi } = await fakeLinks(details, { renderServices: async () => [renderService("lettings-web")] });
    const { navigation, went, sections } = fakeNavigation();
    const release = new ReleaseStore(api);
    await release.loadPlan("/p/lettings");
    render(ReleasePanel, { props: { release, path: "/p/lettings", links }, context: navigationContext(navigation) });
    const picker = screen.getByTestId("plan-pick-service");
    await user.selectOptions(await within(picker).findByLabelText("Render service of production"), "srv-lettings-web");
    expect(within(picker).getByTestId("service-picked")).toHaveTextContent("Deploys go to lettings-web");
    await user.click(within(picker).getByRole("button", { name: "Deploy production to this service" }));
    expect(linksApi.changeEnvironment).toHaveBeenCalledWith("/p/lettings", "production", { renderService: "srv-lettings-web", makeDefault: false });
    await waitFor(() => expect(api.planRelease).toHaveBeenCalledTimes(2));
    // The notice's own button leads to the environment in the project's settings.
    api.planRelease.mockImplementationOnce(async (path: string) => plan({ projectPath: path, target: "render", environment: "production", blockers: [blocker] }));
    await release.loadPlan("/p/lettings");
    await user.click(await screen.findByRole("button", { name: "Pick its Render service" }));
    expect(went).toEqual(["project"]);
    expect(sections).toEqual(["environments"]);
  });

  it("sends a missing Sentry link to the project's settings", async () => {
    const user = userEvent.setup();
    const api = environmentsApi();
    api.planRelease.mockImplementation(async (path: string) =>
      plan({
        projectPath: path,
        blockers: [appError({ kind: "precondition", message: "lettings is not linked to a Sentry project.", hint: "Link it.", action: "linkSentry" })],
      }),
    );
    const { navigation, went, sections } = fakeNavigation();
    const release = new ReleaseStore(api);
    await release.loadPlan("/p/lettings");
    render(ReleasePanel, { props: { release, path: "/p/lettings" }, context: navigationContext(navigation) });
    await user.click(screen.getByRole("button", { name: "Link a Sentry project" }));
    expect(went).toEqual(["project"]);
    expect(sections).toEqual(["errors"]);
  });
});

describe("the team's history in the plan", () => {
  const unreachable = appError({
    kind: "network",
    message: "The team's history at 127.0.0.1:5432/team cannot be reached, so no one can see or stop this release.",
    hint: "Release without it (it is kept on this computer and sent when the server is back), or try again when the server answers.",
    action: "releaseWithoutTeamHistory",
    detail: "connection refused",
  });
  const teamDown = "Team history on 127.0.0.1:5432/team.";

  it("shows the team line, and the holder's sentence with a way to plan again", async () => {
    const holder = "alex is releasing lettings to production (since 14:02, from alex-laptop)";
    const api = fakeApi(
      plan({
        team: `Team history on 127.0.0.1:5432/team: ${holder}.`,
        blockers: [appError({ kind: "precondition", message: `${holder}.`, hint: "Wait for that release to finish.", action: "retry" })],
      }),
      [],
      live,
    );
    const release = new ReleaseStore(api);
    await release.loadPlan("/p/lettings");
    renderPanel(release);
    expect(screen.getByTestId("plan-team")).toHaveTextContent(`Team history on 127.0.0.1:5432/team: ${holder}.`);
    const blocker = screen.getByRole("alert");
    expect(blocker).toHaveTextContent(holder);
    expect(screen.getByRole("button", { name: "Release to this computer" })).toBeDisabled();
    expect(within(blocker).queryByRole("button", { name: "Release without the team's history" })).toBeNull();
    await fireEvent.click(within(blocker).getByRole("button", { name: "Try again" }));
    await waitFor(() => expect(api.planRelease).toHaveBeenCalledTimes(2));
  });

  it("releases without the team's history only once the person has read what it means", async () => {
    const user = userEvent.setup();
    const api = fakeApi(plan({ team: teamDown, blockers: [unreachable] }), [], live);
    const release = new ReleaseStore(api);
    await release.loadPlan("/p/lettings");
    renderPanel(release);
    expect(screen.getByTestId("plan-team")).toHaveTextContent(teamDown);
    expect(screen.getByRole("button", { name: "Release to this computer" })).toBeDisabled();
    expect(screen.getByRole("alert")).toHaveTextContent("The team's history does not answer");
    const without = within(screen.getByRole("alert")).getByRole("button", { name: "Release without the team's history" });

    await user.click(without);
    const dialog = screen.getByRole("alertdialog", { name: "Release without the team's history?" });
    expect(dialog).toHaveTextContent(
      "No one else will see this release until the server is back, and no one is stopped from releasing this environment meanwhile.",
    );
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(api.startRelease).not.toHaveBeenCalled();

    await user.click(without);
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Release without the team's history" }));
    await waitFor(() => expect(api.startRelease).toHaveBeenCalledTimes(1));
    expect(api.startRelease.mock.calls[0]?.[1]).toEqual({
      environment: "local",
      confirmDirty: false,
      confirmedPlan: "fp-1",
      noCache: false,
      withoutTeamHistory: true,
    });
  });

  it("offers no release without the team's history while something else stops it", async () => {
    const noDockerfile = appError({ kind: "precondition", message: "The project has no Dockerfile.", hint: "Add one." });
    const blocked = new ReleaseStore(fakeApi(plan({ team: teamDown, blockers: [unreachable, noDockerfile] }), [], live));
    await blocked.loadPlan("/p/lettings");
    expect(blocked.canReleaseWithoutTeamHistory).toBe(false);
    renderPanel(blocked);
    expect(screen.queryByRole("button", { name: "Release without the team's history" })).toBeNull();
    cleanup();

    // Uncommitted changes are agreed to first, as for any release.
    const api = fakeApi(plan({ team: teamDown, blockers: [unreachable], dirtyFiles: ["notes.txt"] }), [], live);
    const dirty = new ReleaseStore(api);
    await dirty.loadPlan("/p/lettings");
    renderPanel(dirty);
    expect(screen.queryByRole("button", { name: "Release without the team's history" })).toBeNull();
    await dirty.start("/p/lettings", { withoutTeamHistory: true });
    expect(api.startRelease).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByRole("checkbox"));
    expect(screen.getByRole("button", { name: "Release without the team's history" })).toBeInTheDocument();
  });
});
