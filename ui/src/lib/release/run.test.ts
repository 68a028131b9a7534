import { describe, expect, it, vi } from "vitest";
import type { ReleaseEvent, ReleaseSummary } from "../ipc";
import { fakeTasks } from "../testing/fakes";
import { appError, plan, releaseSummary, taskInfo } from "../testing/fixtures";
import { RunStore } from "./run.svelte";

const shop = { path: "/p/shop", name: "shop" };

/** A run the test drives: its events and its end. */
function held(run: RunStore, kind: Parameters<RunStore["follow"]>[0] = "rollback") {
  let emit: (event: ReleaseEvent) => void = () => {};
  let finish: (summary: ReleaseSummary) => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const followed = run.follow(
    kind,
    shop,
    null,
    (onEvent) =>
      new Promise<ReleaseSummary>((resolve, reject) => {
        emit = onEvent;
        finish = resolve;
        fail = reject;
      }),
  );
  return { followed, emit: (event: ReleaseEvent) => emit(event), finish: (summary: ReleaseSummary) => finish(summary), fail: (error: unknown) => fail(error) };
}

describe("the run store", () => {
  it("follows a rollback like a release: the steps it reaches, the deploy's status, its record's id", async () => {
    const run = new RunStore({ cancelRelease: vi.fn() });
    const { followed, emit, finish } = held(run);
    expect(run.running).toBe(true);
    expect(run.kind).toBe("rollback");
    // No plan: nothing is drawn until a step starts.
    expect(run.shownSteps).toEqual([]);
    emit({ kind: "rollbackStarted", releaseId: "r9", sourceId: "r1" });
    emit({ kind: "step", step: "deploy", state: "running", elapsedMs: null, summary: null });
    emit({ kind: "deploy", deployId: "dep-2", status: "update_in_progress" });
    emit({ kind: "log", step: "deploy", line: "rolling srv-web back to deploy dep-1", atMs: 1 });
    expect(run.releaseId).toBe("r9");
    expect(run.sourceId).toBe("r1");
    expect(run.runningStep).toBe("deploy");
    expect(run.selected).toBe("deploy");
    expect(run.deployStatus).toBe("update_in_progress");
    expect(run.shownSteps.map((planned) => planned.step)).toEqual(["deploy"]);
    expect(run.outcome).toBeNull();

    emit({ kind: "step", step: "deploy", state: "passed", elapsedMs: 900, summary: "live" });
    emit({ kind: "step", step: "verify", state: "passed", elapsedMs: 100, summary: null });
    finish(releaseSummary({ releaseId: "r9", outcome: "live" }));
    expect(await followed).toMatchObject({ releaseId: "r9", outcome: "live" });
    expect(run.running).toBe(false);
    expect(run.outcome).toBe("live");
    expect(run.endedAt).not.toBeNull();
    expect(run.logs.deploy).toEqual(["rolling srv-web back to deploy dep-1"]);
    expect(run.shownSteps.map((planned) => planned.step)).toEqual(["deploy", "verify"]);
  });

  it("shows the work going on, opens every failure, and keeps what the person chose", async () => {
    const run = new RunStore({ cancelRelease: vi.fn() });
    const { followed, emit, finish } = held(run, "release");
    const step = (name: "tests" | "lint" | "build", state: "running" | "passed" | "failed") =>
      emit({ kind: "step", step: name, state, elapsedMs: null, summary: null });
    step("build", "running");
    step("tests", "running");
    expect(run.selected).toBe("tests");
    step("tests", "failed");
    step("lint", "running");
    // A failure stays open while the others go on.
    expect(run.selected).toBe("tests");
    step("lint", "failed");
    expect(run.isOpen("tests")).toBe(true);
    expect(run.isOpen("lint")).toBe(true);
    expect(run.failedSteps).toEqual(["tests", "lint"]);
    finish(releaseSummary({ outcome: "failed" }));
    await followed;
    run.toggle("lint");
    expect(run.isOpen("lint")).toBe(false);
    expect(run.isOpen("tests")).toBe(true);
    run.revealFailure();
    expect(run.isOpen("lint")).toBe(true);
  });

  it("moves from a finished build to the tests still running, unless the person chose the build", () => {
    const run = new RunStore({ cancelRelease: vi.fn() });
    const { emit } = held(run, "release");
    const step = (name: "tests" | "build", state: "running" | "passed") =>
      emit({ kind: "step", step: name, state, elapsedMs: null, summary: null });
    step("tests", "running");
    step("build", "running");
    expect(run.selected).toBe("build");
    step("build", "passed");
    expect(run.selected).toBe("tests");

    run.toggle("build");
    step("tests", "passed");
    expect(run.selected).toBe("build");
  });

  it("shows nothing of a run refused before any step, and hands its reason back", async () => {
    const run = new RunStore({ cancelRelease: vi.fn() });
    const { followed, fail } = held(run);
    const refused = appError({ kind: "precondition", message: "A release of this project is already running.", hint: "Wait for it to finish, or cancel it first." });
    fail(refused);
    await expect(followed).rejects.toMatchObject({ message: "A release of this project is already running." });
    expect(run.project).toBeNull();
    expect(run.running).toBe(false);
    expect(run.outcome).toBeNull();
  });

  it("keeps a run that broke after it started, with why", async () => {
    const run = new RunStore({ cancelRelease: vi.fn() });
    const { followed, emit, fail } = held(run, "release");
    emit({ kind: "step", step: "tests", state: "running", elapsedMs: null, summary: null });
    fail(new Error("bridge gone"));
    expect(await followed).toBeNull();
    expect(run.project).toEqual(shop);
    expect(run.outcome).toBe("error");
    expect(run.error?.kind).toBe("unknown");
  });

  it("follows one run at a time", async () => {
    const run = new RunStore({ cancelRelease: vi.fn() });
    held(run, "release");
    const start = vi.fn();
    await expect(run.follow("rollback", shop, plan(), start)).rejects.toMatchObject({
      kind: "precondition",
      message: "Release of shop is still running.",
    });
    expect(start).not.toHaveBeenCalled();
    expect(run.kind).toBe("release");
  });

  it("cancels through the backend's task once it is listed, and by the project before", async () => {
    const backend = fakeTasks();
    const api = { cancelRelease: vi.fn(async () => true) };
    const run = new RunStore(api, backend.tasks);
    held(run);
    await run.cancel();
    expect(api.cancelRelease).toHaveBeenCalledWith("/p/shop");
    expect(run.cancelling).toBe(true);

    const again = new RunStore(api, backend.tasks);
    backend.broadcast([taskInfo({ id: 4, kind: "rollback", project: "/p/shop" })]);
    // Listed, its task may be cancelled from anywhere: the run says it is stopping.
    backend.broadcast([taskInfo({ id: 4, kind: "rollback", project: "/p/shop", cancelling: true })]);
    held(again);
    expect(again.cancelling).toBe(true);
    backend.broadcast([taskInfo({ id: 4, kind: "rollback", project: "/p/shop" })]);
    expect(again.cancelling).toBe(false);
    await again.cancel();
    expect(backend.cancelled).toEqual([4]);
    expect(api.cancelRelease).toHaveBeenCalledTimes(1);
  });
});
