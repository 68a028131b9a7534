import { describe, expect, it, vi } from "vitest";
import type { TaskInfo } from "../ipc";
import { fakeTasks } from "../testing/fakes";
import { appError, taskInfo } from "../testing/fixtures";
import { repositoryOf, TasksStore } from "./tasks.svelte";

const rollback = taskInfo({ id: 7, kind: "rollback", project: "/p/shop", step: "deploy" });
const checks = taskInfo({ id: 8, kind: "checks", project: "/p/shop" });
const otherRelease = taskInfo({ id: 9, kind: "release", project: "/p/lettings", step: "tests" });

describe("the tasks store", () => {
  it("takes the running tasks at start, for a window that reloads while one runs, then every broadcast", async () => {
    let hear: ((list: TaskInfo[]) => void) | null = null;
    const api = {
      onTasks: vi.fn(async (handler: (list: TaskInfo[]) => void) => {
        hear = handler;
        return () => (hear = null);
      }),
      listTasks: vi.fn(async () => [rollback]),
      cancelTask: vi.fn(),
    };
    const tasks = new TasksStore(api);
    const stop = tasks.start();
    await vi.waitFor(() => expect(tasks.all).toEqual([rollback]));
    expect(api.listTasks).toHaveBeenCalledTimes(1);

    hear!([rollback, checks]);
    expect(tasks.all).toEqual([rollback, checks]);
    hear!([]);
    expect(tasks.all).toEqual([]);

    stop();
    expect(hear).toBeNull();
  });

  it("never lets the answer to its first question replace a newer broadcast", async () => {
    let answer: (list: TaskInfo[]) => void = () => {};
    let hear: (list: TaskInfo[]) => void = () => {};
    const listTasks = vi.fn(() => new Promise<TaskInfo[]>((resolve) => (answer = resolve)));
    const tasks = new TasksStore({
      onTasks: async (handler) => {
        hear = handler;
        return () => {};
      },
      listTasks,
      cancelTask: vi.fn(),
    });
    tasks.start();
    await vi.waitFor(() => expect(listTasks).toHaveBeenCalled());
    hear([checks]);
    answer([rollback]);
    await Promise.resolve();
    await Promise.resolve();
    expect(tasks.all).toEqual([checks]);
  });

  it("still asks for the list when broadcasts cannot be heard", async () => {
    const tasks = new TasksStore({
      onTasks: async () => {
        throw appError({ kind: "unknown", message: "No events.", hint: "" });
      },
      listTasks: async () => [checks],
      cancelTask: vi.fn(),
    });
    tasks.start();
    await vi.waitFor(() => expect(tasks.all).toEqual([checks]));
  });

  it("gives the open project's tasks, the release slot first, a push by its image, never the watch", () => {
    const { tasks } = fakeTasks();
    const push = taskInfo({ id: 10, kind: "push", project: "127.0.0.1:5000/ann/shop:3f2a1bc" });
    const otherPush = taskInfo({ id: 11, kind: "push", project: "127.0.0.1:5000/ann/blog:latest" });
    const watch = taskInfo({ id: 12, kind: "watch", project: "/p/shop" });
    tasks.take([checks, push, otherPush, watch, otherRelease, rollback]);
    expect(tasks.forProject("/p/shop", "127.0.0.1:5000/ann/shop").map((task) => task.id)).toEqual([7, 8, 10]);
    // Without the project's repository known, no push can be said to be its.
    expect(tasks.forProject("/p/shop").map((task) => task.id)).toEqual([7, 8]);
    expect(tasks.forProject(null)).toEqual([]);
    expect(tasks.releaseTaskOf("/p/shop")).toEqual(rollback);
    expect(tasks.releaseTaskOf("/p/blog")).toBeNull();
  });

  it("cancels a task by its id and says it is stopping until it is gone", async () => {
    const backend = fakeTasks([rollback, checks]);
    expect(await backend.tasks.cancel(7)).toBe(true);
    expect(backend.cancelled).toEqual([7]);
    expect(backend.tasks.isCancelling(backend.tasks.all[0]!)).toBe(true);
    expect(backend.tasks.isCancelling(backend.tasks.all[1]!)).toBe(false);
    // Pressed again while it stops: asked once.
    await backend.tasks.cancel(7);
    expect(backend.cancelled).toEqual([7]);
  });

  it("says it is stopping from the press, before the backend's list does", async () => {
    let reply: (found: boolean) => void = () => {};
    const tasks = new TasksStore({
      onTasks: vi.fn(),
      listTasks: vi.fn(),
      cancelTask: () => new Promise((resolve) => (reply = resolve)),
    });
    tasks.take([rollback]);
    const asked = tasks.cancel(7);
    expect(tasks.isCancelling(rollback)).toBe(true);
    reply(true);
    await asked;
    // The list that still says it runs (sent before the cancel arrived) does not undo it.
    tasks.take([rollback]);
    expect(tasks.isCancelling(tasks.all[0]!)).toBe(true);
    tasks.take([]);
    tasks.take([rollback]);
    expect(tasks.isCancelling(tasks.all[0]!)).toBe(false);
  });

  it("says why a cancel did not reach the backend, and lets it be pressed again", async () => {
    const refused = appError({ kind: "unknown", message: "The list of running tasks is unusable after a crash.", hint: "Restart Slipway." });
    const cancelTask = vi.fn(async () => {
      throw refused;
    });
    const tasks = new TasksStore({ onTasks: vi.fn(), listTasks: vi.fn(), cancelTask });
    tasks.take([rollback]);
    expect(await tasks.cancel(7)).toBe(false);
    expect(tasks.error?.message).toBe("The list of running tasks is unusable after a crash.");
    expect(tasks.isCancelling(rollback)).toBe(false);
    await tasks.cancel(7);
    expect(cancelTask).toHaveBeenCalledTimes(2);
  });

  it("reads an image's repository off its reference", () => {
    expect(repositoryOf("127.0.0.1:5000/ann/shop:3f2a1bc")).toBe("127.0.0.1:5000/ann/shop");
    expect(repositoryOf("127.0.0.1:5000/ann/shop")).toBe("127.0.0.1:5000/ann/shop");
    expect(repositoryOf("docker.io/ann/shop@sha256:0123")).toBe("docker.io/ann/shop");
  });
});
