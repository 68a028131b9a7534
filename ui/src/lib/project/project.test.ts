import { describe, expect, it, vi } from "vitest";
import type { LaunchAsk, ProjectSummary, StartView } from "../ipc";
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
      launch: { open: null, choose: false },
      crash: null,
    } satisfies StartView;
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

  it("opens the folder it was launched with in place of the last project, and says why when it cannot", async () => {
    const api = fakeApi(async () => ({ name: "shop", path: "/p/shop", git: null }));
    const page = globalThis as { __SLIPWAY_START__?: unknown };
    page.__SLIPWAY_START__ = {
      recents: [{ name: "lettings", path: "/p/lettings", openedAt: "2026-12-07T05:00:00Z" }],
      lastKnown: null,
      launch: { open: "/p/shop", choose: false },
      crash: null,
    } satisfies StartView;
    const store = new ProjectStore(api);
    await store.reopenLast();
    expect(api.openProject).toHaveBeenCalledTimes(1);
    expect(api.openProject).toHaveBeenCalledWith("/p/shop");
    expect(store.current?.name).toBe("shop");

    const refused = fakeApi(async () => {
      throw { kind: "notFound", message: "/p/gone has no Python project.", hint: "" };
    });
    page.__SLIPWAY_START__ = { recents: [], lastKnown: null, launch: { open: "/p/gone", choose: false }, crash: null } satisfies StartView;
    const asked = new ProjectStore(refused);
    await asked.reopenLast();
    expect(asked.current).toBeNull();
    expect(asked.error?.message).toBe("/p/gone has no Python project.");
  });
});

describe("a later launch of Slipway", () => {
  function launchable() {
    const heard: { launched: () => void } = { launched: () => {} };
    const waiting: LaunchAsk[] = [];
    const stop = vi.fn();
    const api = {
      ...fakeApi(async () => ({ name: "shop", path: "/p/shop", git: null })),
      onLaunch: vi.fn(async (handler: () => void) => {
        heard.launched = handler;
        return stop;
      }),
      takeLaunches: vi.fn(async () => waiting.splice(0)),
    };
    return { api, heard, stop, waiting };
  }

  it("opens its folder in this window, then shows the Release page", async () => {
    const { api, heard, stop, waiting } = launchable();
    const store = new ProjectStore(api);
    const shown = vi.fn();
    const stopFollowing = await store.followLaunches(shown);
    waiting.push({ open: "/p/shop", choose: false });
    heard.launched();
    await vi.waitFor(() => expect(shown).toHaveBeenCalledTimes(1));
    expect(api.openProject).toHaveBeenCalledWith("/p/shop");
    expect(api.pickFolder).not.toHaveBeenCalled();
    expect(store.current?.name).toBe("shop");
    stopFollowing();
    expect(stop).toHaveBeenCalled();
  });

  it("takes the launches heard before the page listened as soon as it does", async () => {
    const { api, waiting } = launchable();
    waiting.push(
      { open: "/p/old", choose: false },
      { open: "/p/shop", choose: false },
      // Launched plainly after: only "come forward".
      { open: null, choose: false },
    );
    const store = new ProjectStore(api);
    const shown = vi.fn();
    await store.followLaunches(shown);
    await vi.waitFor(() => expect(shown).toHaveBeenCalledTimes(1));
    // The last one asked is the one opened.
    expect(api.openProject).toHaveBeenCalledTimes(1);
    expect(api.openProject).toHaveBeenCalledWith("/p/shop");
  });

  it("shows the picker for Open a project…, and stays where it was when nothing is picked", async () => {
    const { api, heard, waiting } = launchable();
    const store = new ProjectStore(api);
    const shown = vi.fn();
    await store.followLaunches(shown);
    waiting.push({ open: null, choose: true });
    heard.launched();
    await vi.waitFor(() => expect(api.pickFolder).toHaveBeenCalledTimes(1));
    expect(api.openProject).not.toHaveBeenCalled();
    expect(shown).not.toHaveBeenCalled();
  });
});

describe("opening a project", () => {
  it("shows the project asked for last, whichever answer comes last", async () => {
    const answers = new Map<string, (summary: ProjectSummary) => void>();
    const api = {
      ...fakeApi(async () => summary("main")),
      openProject: vi.fn(
        (path: string) => new Promise<ProjectSummary>((resolve) => answers.set(path, resolve)),
      ),
    };
    const store = new ProjectStore(api);
    const slow = store.open("/p/lettings");
    const picked = store.open("/p/shop");
    answers.get("/p/shop")?.({ name: "shop", path: "/p/shop", git: null });
    expect(await picked).toBe(true);
    // The last project's slow git read answers after: it does not take the picked one's place.
    answers.get("/p/lettings")?.(summary("main"));
    expect(await slow).toBe(false);
    expect(store.current?.name).toBe("shop");
    expect(store.busy).toBe(false);
  });
});
