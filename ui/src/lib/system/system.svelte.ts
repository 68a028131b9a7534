// Whether Docker and the keyring answer, asked at start and again whenever the person comes
// back to the window (they may have just started Docker Desktop or unlocked the keyring).
import { api as defaultApi, toSlipwayError, type Api, type AppError, type SlipwayError, type SystemStatus } from "../ipc";

export type SystemApi = Pick<Api, "systemStatus">;

export class SystemStore {
  /** The last answer; `null` before the first one (or when asking itself failed). */
  status = $state<SystemStatus | null>(null);
  checking = $state(false);
  /** Slipway could not ask at all (the bridge, not Docker): the state is unknown. */
  error = $state<SlipwayError | null>(null);
  private asking: Promise<void> | null = null;

  constructor(private readonly api: SystemApi = defaultApi) {}

  /** `true`/`false` once known; `null` while unknown, which must not read as broken (so
   * Build/Release stay enabled until Docker is known to be down). */
  get dockerReady(): boolean | null {
    return this.status ? this.status.docker === null : null;
  }

  get keyringReady(): boolean | null {
    return this.status ? this.status.keyring === null : null;
  }

  /** Why Docker is known not to answer, with what to do; `null` when it answers or is unknown. */
  get dockerProblem(): AppError | null {
    return this.status?.docker ?? null;
  }

  get keyringProblem(): AppError | null {
    return this.status?.keyring ?? null;
  }

  get dockerVersion(): string | null {
    return this.status?.dockerVersion ?? null;
  }

  /** Asks now; a question already on its way is shared (focus and visibility fire together). */
  refresh(): Promise<void> {
    this.asking ??= this.ask().finally(() => (this.asking = null));
    return this.asking;
  }

  /**
   * Asks now and whenever the window comes back (focus, or its tab/window shown again).
   * Returns the function that stops watching.
   */
  watch(target: Window = window): () => void {
    const onFocus = () => void this.refresh();
    const onVisibility = () => {
      if (target.document.visibilityState === "visible") void this.refresh();
    };
    target.addEventListener("focus", onFocus);
    target.document.addEventListener("visibilitychange", onVisibility);
    void this.refresh();
    return () => {
      target.removeEventListener("focus", onFocus);
      target.document.removeEventListener("visibilitychange", onVisibility);
    };
  }

  private async ask(): Promise<void> {
    this.checking = true;
    try {
      this.status = await this.api.systemStatus();
      this.error = null;
    } catch (raw) {
      // A stale "Docker running" would be a guess: forget it.
      this.status = null;
      this.error = toSlipwayError(raw);
    } finally {
      this.checking = false;
    }
  }
}

/** A keyring problem in a header's few words, from the backend's sentence. */
export function keyringLabel(problem: AppError): string {
  const message = problem.message.toLowerCase();
  if (message.includes("locked")) return "Keyring locked";
  if (message.includes("no keyring")) return "No keyring";
  if (message.includes("did not answer")) return "Keyring not answering";
  return "Keyring unavailable";
}
