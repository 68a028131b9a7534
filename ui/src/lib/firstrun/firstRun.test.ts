import { describe, expect, it, vi } from "vitest";
import { SlipwayError, type Account, type ProjectDetails, type RecentProject } from "../ipc";
import { FIRST_RUN_KEY, FirstRunStore, folderProblem, type FirstRunApi } from "./firstRun.svelte";

const recent: RecentProject = { name: "lettings", path: "/home/ann/lettings", openedAt: "2026-11-24T10:00:00Z" };
const account = { service: "registry", account: "registry.example.test" } as Account;

/** Storage as the window keeps it, in memory. */
function memory(initial: Record<string, string> = {}) {
  const kept = new Map(Object.entries(initial));
  return {
    getItem: (key: string) => kept.get(key) ?? null,
    setItem: (key: string, value: string) => void kept.set(key, value),
    kept,
  };
}

function details(found: { dockerfiles?: string[]; appRoot?: string | null; dockerfile?: string | null }): ProjectDetails {
  return {
    path: "/p",
    saved: false,
    git: null,
    settings: { dockerfile: found.dockerfile ?? null } as ProjectDetails["settings"],
    detection: { dockerfiles: found.dockerfiles ?? [], appRoot: found.appRoot ?? null } as ProjectDetails["detection"],
  };
}

function fakeApi(recents: RecentProject[] = [], accounts: Account[] = [], detected: ProjectDetails = details({ dockerfiles: ["Dockerfile"], appRoot: "" })) {
  return {
    recentProjects: vi.fn(async () => recents),
    listAccounts: vi.fn(async () => accounts),
    detectProject: vi.fn(async () => detected),
  } satisfies FirstRunApi;
}

describe("the first-run guide's store", () => {
  it("shows the guide on a fresh data folder only", async () => {
    const fresh = new FirstRunStore(fakeApi(), memory());
    await fresh.decide();
    expect(fresh.active).toBe(true);

    const used = new FirstRunStore(fakeApi([recent]), memory());
    await used.decide();
    expect(used.active).toBe(false);

    const connected = new FirstRunStore(fakeApi([], [account]), memory());
    await connected.decide();
    expect(connected.active).toBe(false);
  });

  it("is never in the way when the backend cannot say, and decides once", async () => {
    const api = { ...fakeApi(), listAccounts: vi.fn(async () => { throw new SlipwayError({ kind: "io", message: "x", hint: "y" }); }) };
    const store = new FirstRunStore(api, memory());
    await store.decide();
    await store.decide();
    expect(store.active).toBe(false);
    expect(api.recentProjects).toHaveBeenCalledTimes(1);
  });

  it("remembers that it was finished or skipped, and then asks nothing", async () => {
    const storage = memory();
    const store = new FirstRunStore(fakeApi(), storage);
    await store.decide();
    store.finish();
    expect(store.active).toBe(false);
    expect(storage.kept.get(FIRST_RUN_KEY)).toBe("1");

    const api = fakeApi();
    const again = new FirstRunStore(api, storage);
    await again.decide();
    expect(again.active).toBe(false);
    expect(api.recentProjects).not.toHaveBeenCalled();
  });

  it("says in words what a folder lacks", () => {
    expect(folderProblem(details({ dockerfiles: ["Dockerfile"], appRoot: "" }))).toBeNull();
    expect(folderProblem(details({ dockerfiles: ["Dockerfile"], appRoot: null }))).toBeNull();
    expect(folderProblem(details({ dockerfiles: [], appRoot: null }))).toEqual({
      words: expect.stringMatching(/no Dockerfile and no manage\.py, so it does not look like a Python web project/),
      notAProject: true,
    });
    expect(folderProblem(details({ dockerfiles: [], appRoot: "" }))).toEqual({
      words: expect.stringMatching(/found manage\.py but no Dockerfile/),
      notAProject: false,
    });
  });

  it("moves to step 2 once the open folder was looked at and may go on", async () => {
    const api = fakeApi([], [], details({}));
    const store = new FirstRunStore(api, memory());
    expect(store.stepFor(null)).toBe(1);
    const looking = store.checkFolder("/p");
    expect(store.stepFor("/p")).toBe(1);
    await looking;
    expect(store.folder?.notAProject).toBe(true);
    expect(store.stepFor("/p")).toBe(1);
    store.accept();
    expect(store.stepFor("/p")).toBe(2);
    // Another folder is looked at afresh.
    expect(store.stepFor("/q")).toBe(1);

    const manageOnly = new FirstRunStore(fakeApi([], [], details({ appRoot: "" })), memory());
    await manageOnly.checkFolder("/p");
    expect(manageOnly.stepFor("/p")).toBe(2);
    expect(manageOnly.folder?.problem).toMatch(/no Dockerfile/);
  });

  it("keeps a failure to look at the folder, and lets the person go on", async () => {
    const api = { ...fakeApi(), detectProject: vi.fn(async () => { throw new SlipwayError({ kind: "io", message: "Permission denied.", hint: "Check the folder's permissions." }); }) };
    const store = new FirstRunStore(api, memory());
    await store.checkFolder("/p");
    expect(store.folder?.error?.message).toBe("Permission denied.");
    expect(store.stepFor("/p")).toBe(1);
    store.accept();
    expect(store.stepFor("/p")).toBe(2);
  });

  it("walks the Render path one service at a time, and Back leaves it", () => {
    const store = new FirstRunStore(fakeApi(), memory());
    store.where = "render";
    expect(store.renderStep).toBe("explain");
    store.nextRenderStep();
    store.nextRenderStep();
    expect(store.renderStep).toBe("render");
    store.nextRenderStep();
    // After the accounts, this project's own Render service.
    expect(store.renderStep).toBe("service");
    store.nextRenderStep();
    store.nextRenderStep();
    expect(store.renderStep).toBe("sentry");
    store.previousRenderStep();
    store.previousRenderStep();
    store.previousRenderStep();
    store.previousRenderStep();
    expect(store.renderStep).toBe("explain");
    store.previousRenderStep();
    expect(store.where).toBeNull();
  });
});
