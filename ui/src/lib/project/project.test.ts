import { describe, expect, it, vi } from "vitest";
import type { ProjectSummary } from "../ipc";
import { plan } from "../testing/fixtures";
import { ProjectStore } from "./project.svelte";

const summary = (branch: string): ProjectSummary => ({
  name: "lettings",
  path: "/p/lettings",
  git: { branch, commit: "3f2a1bc" },
});

function fakeApi(open: () => Promise<ProjectSummary>) {
  return {
    openProject: vi.fn(open),
    recentProjects: vi.fn(async () => [{ name: "lettings", path: "/p/lettings", openedAt: "2026-12-07T05:00:00Z" }]),
    forgetRecentProject: vi.fn(async () => []),
    pickFolder: vi.fn(async () => null),
    lastKnown: vi.fn(async () => ({ project: summary("kept"), plan: plan() })),
  };
}

describe("reopening the last project at start", () => {
  it("shows the kept header at once, then the one read again", async () => {
    let opened: (summary: ProjectSummary) => void = () => {};
    const api = fakeApi(() => new Promise((resolve) => (opened = resolve)));
    const store = new ProjectStore(api);
    const reopening = store.reopenLast();
    await vi.waitFor(() => expect(store.current).not.toBeNull());
    expect(store.kept).toBe(true);
    expect(store.current?.git).toMatchObject({ branch: "kept" });
    expect(store.takeKnownPlan("/p/lettings")?.projectPath).toBe("/p/lettings");
    expect(store.takeKnownPlan("/p/lettings")).toBeNull();

    opened(summary("main"));
    await reopening;
    expect(store.kept).toBe(false);
    expect(store.current?.git).toMatchObject({ branch: "main" });
  });

  it("takes the kept header away when the folder no longer opens", async () => {
    const api = fakeApi(async () => {
      throw { kind: "notFound", message: "The folder /p/lettings does not exist.", hint: "" };
    });
    const store = new ProjectStore(api);
    await store.reopenLast();
    expect(store.current).toBeNull();
    expect(store.kept).toBe(false);
    expect(store.error).toBeNull();
  });

  it("shows what the page was handed at once, with no call, and only once", async () => {
    let opened: (summary: ProjectSummary) => void = () => {};
    const api = fakeApi(() => new Promise((resolve) => (opened = resolve)));
    const page = globalThis as { __SLIPWAY_START__?: unknown };
    page.__SLIPWAY_START__ = {
      recents: [{ name: "lettings", path: "/p/lettings", openedAt: "2026-12-07T05:00:00Z" }],
      lastKnown: { project: summary("handed"), plan: plan() },
    };
    const store = new ProjectStore(api);
    const reopening = store.reopenLast();
    // Before any answer: the header and plan are there in the same turn, for the first paint.
    expect(store.current?.git).toMatchObject({ branch: "handed" });
    expect(store.takeKnownPlan("/p/lettings")?.projectPath).toBe("/p/lettings");
    expect(api.recentProjects).not.toHaveBeenCalled();
    expect(api.lastKnown).not.toHaveBeenCalled();
    expect(page.__SLIPWAY_START__).toBeUndefined();
    opened(summary("main"));
    await reopening;
    expect(store.current?.git).toMatchObject({ branch: "main" });

    // A second start of the page (a reload) asks, for what it was handed is old by then.
    const again = new ProjectStore(fakeApi(async () => summary("main")));
    await again.reopenLast();
    expect(again.current?.git).toMatchObject({ branch: "main" });
  });
});
