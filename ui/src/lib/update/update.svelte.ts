// Slipway updating itself: asks the backend at start and once a day whether a newer version
// is out (nothing is asked when no update address is set), offers it in the header, and
// installs it only when the person says so, never while a job runs.
import { api as defaultApi, toSlipwayError, type Api, type SlipwayError, type UpdateOffer } from "../ipc";

/** How long after start the first ask waits: the window's first work goes first. */
export const FIRST_CHECK_MS = 10_000;
export const DAY_MS = 24 * 60 * 60 * 1000;

export class UpdateStore {
  offer = $state<UpdateOffer | null>(null);
  /** Asking before installing. */
  confirming = $state(false);
  installing = $state(false);
  error = $state<SlipwayError | null>(null);

  constructor(private readonly api: Pick<Api, "checkForUpdate" | "installUpdate"> = defaultApi) {}

  /** Why updates cannot be asked for as set (an http address, a build without a key): said
   * once, so a person who set an address knows why nothing is ever offered. */
  setupProblem = $state<SlipwayError | null>(null);

  /** Asks now. An unreachable address is kept quiet (it is asked again tomorrow); settings
   * that cannot work are said. */
  async check(): Promise<void> {
    try {
      this.offer = await this.api.checkForUpdate();
      this.setupProblem = null;
    } catch (raw) {
      const problem = toSlipwayError(raw);
      if (problem.kind === "validation" || problem.kind === "precondition") this.setupProblem = problem;
    }
  }

  /** Asks at start and daily; returns what stops it. */
  follow(): () => void {
    const first = setTimeout(() => void this.check(), FIRST_CHECK_MS);
    const daily = setInterval(() => void this.check(), DAY_MS);
    return () => {
      clearTimeout(first);
      clearInterval(daily);
    };
  }

  /** Installs the offered version; Slipway restarts on it, so only a failure comes back. */
  async install(): Promise<void> {
    const version = this.offer?.version;
    this.confirming = false;
    if (!version) return;
    this.installing = true;
    this.error = null;
    try {
      await this.api.installUpdate(version);
    } catch (raw) {
      this.error = toSlipwayError(raw);
    } finally {
      this.installing = false;
    }
  }
}
