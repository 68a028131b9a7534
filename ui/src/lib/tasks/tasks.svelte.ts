// The window's one view of the backend's task registry: every long job (a release, a
// rollback, a promotion, a resume, checks, an image build or push) as the backend lists it,
// kept current by its `slipway://tasks` broadcast. Whatever page started a job, any page can
// show it and cancel it from here; a window that reloads finds the running ones again.
import { api as defaultApi, toSlipwayError, type Api, type SlipwayError, type TaskInfo, type TaskKind } from "../ipc";

export type TasksApi = Pick<Api, "listTasks" | "cancelTask" | "onTasks">;

/** The kinds that share a project's release slot: one of them at a time per project. */
export const RELEASE_SLOT: readonly TaskKind[] = ["release", "rollback", "promotion", "resume"];

/** What the header shows, in this order when several run for one project. */
const SHOWN: readonly TaskKind[] = [...RELEASE_SLOT, "checks", "build", "push"];

/** The repository of an image reference (`host:5000/shop:3f2a1bc` → `host:5000/shop`). */
export function repositoryOf(reference: string): string {
  const name = reference.split("@")[0] ?? reference;
  const colon = name.lastIndexOf(":");
  return colon > name.lastIndexOf("/") ? name.slice(0, colon) : name;
}

export class TasksStore {
  /** Every task running in the app, as the backend last said. */
  all = $state.raw<TaskInfo[]>([]);
  /** Why the last Cancel did not reach the backend. */
  error = $state<SlipwayError | null>(null);
  /** Cancels asked from this window that the backend's list does not show yet. */
  private asked = $state.raw<number[]>([]);
  /** Counts the lists heard: an answer to `listTasks` older than a broadcast is not used. */
  private heard = 0;

  constructor(private readonly api: TasksApi = defaultApi) {}

  /**
   * Listens from now on, then asks for the list once (a window that reloads while a job runs
   * hears of no change until the next one). Returns what stops listening, for an `$effect`.
   */
  start(): () => void {
    let stopped = false;
    let unlisten: (() => void) | null = null;
    void (async () => {
      try {
        const stop = await this.api.onTasks((list) => {
          this.heard++;
          this.take(list);
        });
        if (stopped) stop();
        else unlisten = stop;
      } catch {
        // No broadcasts: the list asked below is all this window will know.
      }
      if (stopped) return;
      const before = this.heard;
      try {
        const list = await this.api.listTasks();
        if (!stopped && this.heard === before) this.take(list);
      } catch {
        // Not known: nothing is shown running until the next broadcast.
      }
    })();
    return () => {
      stopped = true;
      unlisten?.();
    };
  }

  /** The backend's whole list, as it is now. */
  take(list: TaskInfo[]): void {
    this.all = list;
    const asked = this.asked.filter((id) => list.some((task) => task.id === id && !task.cancelling));
    if (asked.length !== this.asked.length) this.asked = asked;
  }

  /**
   * The tasks of the project at `path` the header shows, the release slot's first. A push is
   * named by its image, not its folder: it is the project's when it goes to `repository`.
   */
  forProject(path: string | null, repository: string | null = null): TaskInfo[] {
    if (path === null) return [];
    return this.all
      .filter(
        (task) =>
          SHOWN.includes(task.kind) &&
          (task.kind === "push" ? repository !== null && repositoryOf(task.project) === repository : task.project === path),
      )
      .sort((a, b) => SHOWN.indexOf(a.kind) - SHOWN.indexOf(b.kind));
  }

  /** The release, rollback, promotion or resume running for the project at `path`. */
  releaseTaskOf(path: string | null): TaskInfo | null {
    if (path === null) return null;
    return this.all.find((task) => RELEASE_SLOT.includes(task.kind) && task.project === path) ?? null;
  }

  /** Cancel was asked (here or anywhere) and the task is stopping. */
  isCancelling(task: TaskInfo): boolean {
    return task.cancelling || this.asked.includes(task.id);
  }

  /**
   * Asks the task `id` to stop; the backend's next list says it is stopping, then gone.
   * `false` when the ask did not reach the backend (`error` says why).
   */
  async cancel(id: number): Promise<boolean> {
    const task = this.all.find((running) => running.id === id);
    if (task && this.isCancelling(task)) return true;
    this.asked = [...this.asked, id];
    this.error = null;
    try {
      // `false` back: it ended meanwhile, and the next list drops it.
      await this.api.cancelTask(id);
      return true;
    } catch (raw) {
      this.asked = this.asked.filter((asked) => asked !== id);
      this.error = toSlipwayError(raw);
      return false;
    }
  }
}
