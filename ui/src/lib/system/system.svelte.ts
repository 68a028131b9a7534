// Whether Docker and the keyring answer, asked at start and again whenever the person comes
// back to the window (they may have just started Docker Desktop or unlocked the keyring).
// While Docker is down it is asked every few seconds, so its return shows with no click, and
// pages that showed "Docker is not running." ask again (`dockerReturns`).
import { api as defaultApi, toSlipwayError, type Api, type AppError, type SlipwayError, type SystemStatus } from "../ipc";

export type SystemApi = Pick<Api, "systemStatus">;

/** How often Docker is asked while it is down (and only then). */
export const DOWN_POLL_MS = 2500;

export class SystemStore {
  /** The last answer; `null` before the first one (or when asking itself failed). */
  status = $state<SystemStatus | null>(null);
  checking = $state(false);
  /** Slipway could not ask at all (the bridge, not Docker): the state is unknown. */
  error = $state<SlipwayError | null>(null);
  /** Counts Docker's returns: each time it answers after it was known down. Pages that showed
   * it down read this to ask again for what they show. */
  dockerReturns = $state(0);
  private asking: Promise<void> | null = null;
  private watching = false;
  private downTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly api: SystemApi = defaultApi,
    private readonly downPollMs = DOWN_POLL_MS,
  ) {}

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

  /** The Docker context the engine comes from (`docker context use`), when one is chosen. */
  get dockerContext(): string | null {
    return this.status?.dockerContext ?? null;
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
    this.watching = true;
    void this.refresh();
    return () => {
      this.watching = false;
      clearTimeout(this.downTimer);
      target.removeEventListener("focus", onFocus);
      target.document.removeEventListener("visibilitychange", onVisibility);
    };
  }

  private async ask(): Promise<void> {
    const wasDown = this.dockerReady === false || this.error !== null;
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
    if (wasDown && this.dockerReady === true) this.dockerReturns += 1;
    this.askAgainWhileDown();
  }

  /** While watched and Docker is down (or could not be checked), asks again shortly; one
   * timer at most, whatever asked last. */
  private askAgainWhileDown(): void {
    clearTimeout(this.downTimer);
    if (!this.watching || this.dockerReady === true) return;
    this.downTimer = setTimeout(() => void this.refresh(), this.downPollMs);
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
