import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import type { Plan, ReleaseEvent, ReleaseSummary } from "../ipc";
import ReleasePanel from "./ReleasePanel.svelte";
import { ReleaseStore } from "./release.svelte";

function plan(overrides: Partial<Plan> = {}): Plan {
  return {
    projectPath: "/p/lettings",
    projectName: "lettings",
    target: "local",
    steps: [
      { step: "tests", detail: "pytest", skip: null, ciLine: null, notes: [] },
      { step: "lint", detail: "flake8", skip: null, ciLine: null, notes: [] },
      { step: "build", detail: "Dockerfile", skip: null, ciLine: null, notes: [] },
      { step: "push", detail: "", skip: "No local registry is set", ciLine: null, notes: [] },
      { step: "deploy", detail: "container", skip: null, ciLine: null, notes: [] },
      { step: "verify", detail: "/", skip: null, ciLine: null, notes: [] },
    ],
    image: "lettings:3f2a1bc",
    registry: null,
    service: null,
    commit: "3f2a1bc",
    branch: "main",
    dirtyFiles: [],
    blockers: [],
    otherTags: ["latest"],
    gates: [],
    ciSkipped: [],
    needs: [],
    python: "Python 3.11.7",
    fingerprint: "fp-1",
    ...overrides,
  };
}

const live: ReleaseSummary = {
  releaseId: "r1",
  outcome: "live",
  image: "lettings:3f2a1bc",
  digest: null,
  url: "http://127.0.0.1:32768/",
  deployId: "abc",
  message: null,
  error: null,
};

function fakeApi(thePlan: Plan, events: ReleaseEvent[], summary: ReleaseSummary) {
  return {
    planRelease: vi.fn(async () => thePlan),
    cancelRelease: vi.fn(async () => true),
    startRelease: vi.fn(async (_path: string, _options: unknown, onEvent: (event: ReleaseEvent) => void) => {
      for (const event of events) onEvent(event);
      return summary;
    }),
  };
}

describe("the release panel", () => {
  it("shows the plan, runs, and ends with the live URL and every step's state", async () => {
    const events: ReleaseEvent[] = [
      { kind: "step", step: "tests", state: "running", elapsedMs: null, summary: null },
      { kind: "log", step: "tests", line: "collected 5 items", atMs: 1 },
      { kind: "step", step: "tests", state: "passed", elapsedMs: 1500, summary: "5 passed" },
      { kind: "step", step: "push", state: "skipped", elapsedMs: null, summary: "No local registry is set" },
    ];
    const api = fakeApi(plan(), events, live);
    const release = new ReleaseStore(api);
    await release.loadPlan("/p/lettings");
    render(ReleasePanel, { release, path: "/p/lettings" });
    expect(screen.getByTestId("plan-image").textContent).toBe("lettings:3f2a1bc");
    expect(screen.getByText(/will be skipped: No local registry is set/)).toBeTruthy();

    await fireEvent.click(screen.getByRole("button", { name: "Release" }));
    await waitFor(() => expect(screen.getByTestId("live-url").textContent).toBe("http://127.0.0.1:32768/"));
    const tests = document.querySelector('[data-step="tests"]');
    expect(tests?.getAttribute("data-state")).toBe("passed");
    expect(tests?.textContent).toContain("1.5 s");
    expect(tests?.textContent).toContain("5 passed");
    expect(api.startRelease).toHaveBeenCalledWith(
      "/p/lettings",
      { target: "local", confirmDirty: false, confirmedPlan: "fp-1" },
      expect.any(Function),
    );
  });

  it("will not release past a blocker, and asks before releasing uncommitted changes", async () => {
    const blocked = new ReleaseStore(
      fakeApi(plan({ blockers: [{ kind: "precondition", message: "The project has no Dockerfile.", hint: "Add one." }] }), [], live),
    );
    await blocked.loadPlan("/p");
    expect(blocked.canRelease).toBe(false);

    const dirty = new ReleaseStore(fakeApi(plan({ dirtyFiles: ["notes.txt"] }), [], live));
    await dirty.loadPlan("/p");
    render(ReleasePanel, { release: dirty, path: "/p" });
    const button = screen.getByRole("button", { name: "Release" }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    await fireEvent.click(screen.getByRole("checkbox"));
    expect(button.disabled).toBe(false);
  });

  it("keeps every line of a long log but draws only those in sight", async () => {
    const release = new ReleaseStore(fakeApi(plan(), [], live));
    await release.loadPlan("/p");
    release.running = true;
    for (let index = 0; index < 100_000; index++) {
      release.receive({ kind: "log", step: "tests", line: `line ${index}`, atMs: index });
    }
    render(ReleasePanel, { release, path: "/p" });
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
        { step: "tests", detail: "pytest", skip: null, ciLine: "docker exec app pytest", notes: ["Your CI runs this inside a container."] },
        { step: "lint", detail: "flake8", skip: null, ciLine: "flake8 --format html || true", notes: ["Your CI lets lint fail (|| true); here it is a gate."] },
        { step: "checks", detail: gate.command, skip: null, ciLine: null, notes: [] },
        { step: "build", detail: "Dockerfile", skip: null, ciLine: null, notes: [] },
      ],
      gates: [gate],
      needs: [{ name: "SECRET_KEY", why: "shop/settings.py reads it with no default", secret: true, required: true }],
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
    const failed = {
      ...live,
      outcome: "failed" as const,
      url: null,
      message: "Checks failed: coverage 78 % is below the 80 % your project requires",
      error: { kind: "registryAuth" as const, message: "The registry refused the login.", hint: "Re-enter the token in `Settings`." },
    };
    const release = new ReleaseStore(fakeApi(thePlan, [{ kind: "gate", report }], failed));
    await release.loadPlan("/p");
    render(ReleasePanel, { release, path: "/p" });
    // Only the steps this release runs, in order.
    const steps = Array.from(document.querySelectorAll("[data-step]")).map((item) => item.getAttribute("data-step"));
    expect(steps).toEqual(["tests", "lint", "checks", "build"]);
    expect(screen.getByText(/The tests need SECRET_KEY/)).toBeTruthy();
    expect(screen.getByText(/lets lint fail/)).toBeTruthy();
    expect(screen.getByText("docker exec app pytest")).toBeTruthy();
    expect(screen.getByText(/Not run from your CI \(1\)/)).toBeTruthy();

    await fireEvent.click(screen.getByRole("button", { name: "Release" }));
    await waitFor(() => expect(document.querySelector('[data-gate="coverage"]')?.textContent).toContain("coverage 78 % is below the 80 %"));
    // A failure says what to do, the code in it shown as code.
    expect(screen.getByTestId("summary-hint").textContent).toContain("Re-enter the token in Settings.");
    expect(screen.getByTestId("summary-hint").querySelector("code")?.textContent).toBe("Settings");
  });
});
