// Stand-ins the tests share: the navigation, an open project, the system browser, and a
// latch that holds a fake backend's answers.
import { mockIPC } from "@tauri-apps/api/mocks";
import { vi } from "vitest";
import { ChecksStore } from "../checks/checks.svelte";
import type { ProjectDetails, ProjectSettings, TaskInfo } from "../ipc";
import { LinksStore, type LinksApi } from "../project/links.svelte";
import { ProjectStore } from "../project/project.svelte";
import type { Navigation } from "../shell/navigation";
import type { PageId } from "../shell/pages";
import { TasksStore } from "../tasks/tasks.svelte";

/** A navigation that records where it was sent, and whether the folder picker was asked for. */
export function fakeNavigation(current: PageId = "release") {
  const went: PageId[] = [];
  /** The section each navigation named (`null`: none), in order. */
  const sections: Array<string | null> = [];
  const picked = vi.fn();
  const navigation: Navigation = {
    current,
    navigate: (page, section) => {
      went.push(page);
      sections.push(section ?? null);
    },
    pickProject: picked,
  };
  return { navigation, went, sections, picked };
}

/**
 * The links of a project whose settings are `details` (already loaded): a backend that saves
 * each change into them and answers with the saved settings, as the real one does.
 */
export async function fakeLinks(details: ProjectDetails, overrides: Partial<Record<keyof LinksApi, unknown>> = {}) {
  let settings: ProjectSettings = structuredClone(details.settings);
  const saved = (next: ProjectSettings) => {
    settings = next;
    return structuredClone(next);
  };
  const api = {
    renderServices: vi.fn(async () => []),
    addEnvironment: vi.fn(async (_path: string, name: string, change: Parameters<LinksApi["addEnvironment"]>[2]) =>
      saved({
        ...settings,
        environments: {
          list: [
            ...settings.environments.list,
            { name, target: "render" as const, renderService: { id: change.renderService ?? "", name: change.renderService?.replace(/^srv-/, "") } },
          ],
          default: change.makeDefault ? name : settings.environments.default,
        },
      }),
    ),
    changeEnvironment: vi.fn(async () => saved(settings)),
    removeEnvironment: vi.fn(async (_path: string, name: string) =>
      saved({ ...settings, environments: { ...settings.environments, list: settings.environments.list.filter((e) => e.name !== name) } }),
    ),
    listAccounts: vi.fn(async () => []),
    sentryAccountProjects: vi.fn(async () => []),
    linkSentryProject: vi.fn(async (_path: string, account: string, organization: string, project: string) =>
      saved({ ...settings, sentryProject: { account, organization, project } }),
    ),
    unlinkSentryProject: vi.fn(async () => saved({ ...settings, sentryProject: undefined })),
    ...overrides,
  };
  const checks = new ChecksStore({
    detectProject: async () => ({ ...details, settings: structuredClone(settings) }),
    saveProjectSettings: async (_path, next) => saved(next),
    runChecks: vi.fn(),
    cancelChecks: vi.fn(),
    setProjectValue: vi.fn(),
    unsetProjectValue: vi.fn(),
  });
  await checks.load(details.path);
  const links = new LinksStore(checks, api as unknown as LinksApi);
  return { links, checks, api };
}

/** A project store with the project "shop" at /p/shop, open unless `open` is false. */
export function shopProject(open = true): ProjectStore {
  const store = new ProjectStore({
    openProject: async () => ({ name: "shop", path: "/p/shop", git: null }),
    recentProjects: async () => [],
    forgetRecentProject: async () => [],
    pickFolder: async () => null,
  });
  if (open) store.current = { name: "shop", path: "/p/shop", git: null };
  return store;
}

/** A backend that only opens addresses: the ones sent to the system browser, in order. */
export function openedInBrowser(): string[] {
  const opened: string[] = [];
  mockIPC((cmd, args) => {
    if (cmd === "plugin:opener|open_url") opened.push((args as { url: string }).url);
    return null;
  });
  return opened;
}

/**
 * What a fake backend awaits before it answers, while a test holds it: `hold()` closes it and
 * returns what opens it again; `pending` is null while it is open.
 */
export function latch() {
  let pending: Promise<void> | null = null;
  return {
    get pending(): Promise<void> | null {
      return pending;
    },
    hold(): () => void {
      let release: () => void = () => {};
      pending = new Promise((resolve) => (release = resolve));
      return () => {
        pending = null;
        release();
      };
    },
  };
}

/**
 * The backend's task registry as a window sees it: `broadcast` sends the whole list as the
 * `slipway://tasks` event does; Cancel marks the task stopping and broadcasts, as the backend
 * does. `cancelled` holds the ids asked to stop, in order.
 */
export function fakeTasks(initial: TaskInfo[] = []) {
  let running = initial;
  let hear: ((list: TaskInfo[]) => void) | null = null;
  const cancelled: number[] = [];
  const broadcast = (list: TaskInfo[]) => {
    running = list;
    hear?.(list);
  };
  const api = {
    listTasks: vi.fn(async () => running),
    onTasks: vi.fn(async (handler: (list: TaskInfo[]) => void) => {
      hear = handler;
      return () => {
        hear = null;
      };
    }),
    cancelTask: vi.fn(async (id: number) => {
      cancelled.push(id);
      const found = running.some((task) => task.id === id);
      if (found) broadcast(running.map((task) => (task.id === id ? { ...task, cancelling: true } : task)));
      return found;
    }),
  };
  // A window that has started listening, and has the list already.
  const tasks = new TasksStore(api);
  tasks.start();
  tasks.take(initial);
  return {
    tasks,
    api,
    cancelled,
    broadcast,
  };
}
