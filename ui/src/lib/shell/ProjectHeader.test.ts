import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { ReleaseEvent, ReleaseSummary } from "../ipc";
import { RunStore } from "../release/run.svelte";
import { fakeTasks, shopProject } from "../testing/fakes";
import { appError, releaseSummary, taskInfo } from "../testing/fixtures";
import ProjectHeader from "./ProjectHeader.svelte";

/** A run store whose run goes on until the test ends it, with the events it sends. */
function runningRun(tasks: ReturnType<typeof fakeTasks>["tasks"] | null = null) {
  const api = { cancelRelease: vi.fn(async () => true) };
  const run = new RunStore(api, tasks);
  let emit: (event: ReleaseEvent) => void = () => {};
  let finish: (summary: ReleaseSummary) => void = () => {};
  const started = run.follow(
    "rollback",
    { path: "/p/shop", name: "shop" },
    null,
    (onEvent) =>
      new Promise<ReleaseSummary>((resolve) => {
        emit = onEvent;
        finish = resolve;
      }),
  );
  return { run, api, started, emit: (event: ReleaseEvent) => emit(event), finish: (summary: ReleaseSummary) => finish(summary) };
}

describe("the header's running tasks", () => {
  it("shows the open project's rollback with its step, and Cancel stops that very task", async () => {
    const user = userEvent.setup();
    const backend = fakeTasks([taskInfo({ id: 7, kind: "rollback", project: "/p/shop", step: "deploy" })]);
    render(ProjectHeader, { store: shopProject(), run: new RunStore(), tasks: backend.tasks });

    const status = screen.getByRole("status", { name: "Running rollback" });
    expect(status).toHaveTextContent(/^Rolling back shop · Deploy 0:0\d/);
    await user.click(within(status).getByRole("button", { name: "Cancel" }));
    expect(backend.api.cancelTask).toHaveBeenCalledWith(7);
    const stopping = within(status).getByRole("button", { name: "Cancelling…" });
    expect(stopping).toBeDisabled();

    // The backend ends it: nothing runs any more.
    backend.broadcast([]);
    await waitFor(() => expect(screen.queryByRole("status", { name: "Running rollback" })).not.toBeInTheDocument());
  });

  it("shows the open project's checks, build and push, never another project's tasks or the watch", () => {
    const backend = fakeTasks([
      taskInfo({ id: 1, kind: "checks", project: "/p/shop" }),
      taskInfo({ id: 2, kind: "build", project: "/p/shop" }),
      taskInfo({ id: 3, kind: "push", project: "127.0.0.1:5000/ann/shop:3f2a1bc" }),
      taskInfo({ id: 4, kind: "release", project: "/p/lettings", step: "tests" }),
      taskInfo({ id: 5, kind: "watch", project: "/p/shop" }),
    ]);
    render(ProjectHeader, { store: shopProject(), tasks: backend.tasks, repository: "127.0.0.1:5000/ann/shop" });
    expect(screen.getByRole("status", { name: "Running checks" })).toHaveTextContent(/^Checking shop 0:0\d/);
    expect(screen.getByRole("status", { name: "Running build" })).toHaveTextContent("Building shop's image");
    expect(screen.getByRole("status", { name: "Running push" })).toHaveTextContent("Pushing shop:3f2a1bc");
    expect(screen.queryByRole("status", { name: "Running release" })).not.toBeInTheDocument();
    expect(screen.queryByRole("status", { name: "Running watch" })).not.toBeInTheDocument();
  });

  it("a task cancelled from elsewhere says it is stopping", () => {
    const backend = fakeTasks([taskInfo({ id: 1, kind: "build", project: "/p/shop", cancelling: true })]);
    render(ProjectHeader, { store: shopProject(), tasks: backend.tasks });
    expect(within(screen.getByRole("status", { name: "Running build" })).getByRole("button", { name: "Cancelling…" })).toBeDisabled();
  });

  it("follows the window's run step by step, once, and cancels it through its task", async () => {
    const user = userEvent.setup();
    const backend = fakeTasks();
    const { run, api, emit, finish, started } = runningRun(backend.tasks);
    backend.broadcast([taskInfo({ id: 3, kind: "rollback", project: "/p/shop", step: "deploy" })]);
    const onshow = vi.fn();
    render(ProjectHeader, { store: shopProject(), run, tasks: backend.tasks, onshow });
    emit({ kind: "rollbackStarted", releaseId: "r9", sourceId: "r1" });
    emit({ kind: "step", step: "deploy", state: "running", elapsedMs: null, summary: null });

    const status = await screen.findByRole("status", { name: "Running rollback" });
    expect(status).toHaveTextContent(/^Rolling back shop · Deploy 0:0\d/);
    // The run and its task are one entry.
    expect(screen.getAllByRole("button", { name: "Cancel" })).toHaveLength(1);
    await user.click(within(status).getByRole("button", { name: /Rolling back shop/ }));
    expect(onshow).toHaveBeenCalledWith(false);

    await user.click(within(status).getByRole("button", { name: "Cancel" }));
    expect(backend.api.cancelTask).toHaveBeenCalledWith(3);
    expect(api.cancelRelease).not.toHaveBeenCalled();
    expect(within(status).getByRole("button", { name: "Cancelling…" })).toBeDisabled();

    emit({ kind: "step", step: "deploy", state: "canceled", elapsedMs: 900, summary: null });
    finish(releaseSummary({ releaseId: "r9", outcome: "canceled", message: "Cancelled." }));
    await started;
    backend.broadcast([]);
    const last = await screen.findByRole("status", { name: "Last rollback" });
    expect(last).toHaveTextContent("Rollback cancelled · just now");
    expect(screen.queryByRole("button", { name: "Cancel" })).not.toBeInTheDocument();
  });

  it("cancels the window's run by its project while the backend has not listed its task yet", async () => {
    const user = userEvent.setup();
    const backend = fakeTasks();
    const { run, api } = runningRun(backend.tasks);
    render(ProjectHeader, { store: shopProject(), run, tasks: backend.tasks });
    await user.click(within(screen.getByRole("status", { name: "Running rollback" })).getByRole("button", { name: "Cancel" }));
    expect(api.cancelRelease).toHaveBeenCalledWith("/p/shop");
    expect(backend.api.cancelTask).not.toHaveBeenCalled();
  });

  it("names a rollback that went live, and another project's run by its name", async () => {
    const { run, finish, started } = runningRun();
    render(ProjectHeader, { store: shopProject(false), run });
    const status = screen.getByRole("status", { name: "Running rollback" });
    expect(status).toHaveTextContent(/^Rolling back shop · Cancel$/);
    finish(releaseSummary({ releaseId: "r9", outcome: "live", url: "http://127.0.0.1:8123/" }));
    await started;
    expect(await screen.findByRole("status", { name: "Last rollback" })).toHaveTextContent("shop: Rolled back · just now");
  });

  it("names what failed when it is not a release, and leads to why", async () => {
    const user = userEvent.setup();
    const run = new RunStore({ cancelRelease: vi.fn() });
    const onshow = vi.fn();
    const followed = run.follow("promotion", { path: "/p/shop", name: "shop" }, null, async (onEvent) => {
      onEvent({ kind: "step", step: "deploy", state: "failed", elapsedMs: 10, summary: "Render refused the image" });
      return releaseSummary({ releaseId: "r9", outcome: "failed" });
    });
    render(ProjectHeader, { store: shopProject(), run, onshow });
    await followed;
    const last = await screen.findByRole("status", { name: "Last promotion" });
    expect(last).toHaveTextContent("Promotion failed at Deploy");
    await user.click(within(last).getByRole("button", { name: "See why" }));
    expect(onshow).toHaveBeenCalledWith(true);
  });

  it("says why a Cancel did not reach the backend", async () => {
    const user = userEvent.setup();
    const backend = fakeTasks([taskInfo({ id: 1, kind: "checks", project: "/p/shop" })]);
    backend.api.cancelTask.mockImplementation(async () => {
      throw appError({ kind: "unknown", message: "The list of running tasks is unusable after a crash.", hint: "Restart Slipway." });
    });
    render(ProjectHeader, { store: shopProject(), tasks: backend.tasks });
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The list of running tasks is unusable after a crash.");
    expect(screen.getByRole("button", { name: "Cancel" })).toBeEnabled();
  });
});
