// The last crash, handed to the page with the start view: shown once at the next start,
// until the person dismisses it. What it holds was redacted before it was written.
import { api as defaultApi, toSlipwayError, type Api, type CrashReport, type SlipwayError, type StartView } from "../ipc";

export class CrashStore {
  report = $state<CrashReport | null>(null);
  error = $state<SlipwayError | null>(null);
  copied = $state(false);

  constructor(private readonly api: Pick<Api, "dismissCrash"> = defaultApi) {}

  /** Reads the crash from the start view; before the project store takes the view. */
  readStart(): void {
    const page = globalThis as { __SLIPWAY_START__?: StartView | null };
    this.report = page.__SLIPWAY_START__?.crash ?? null;
  }

  /** The report as text, for a bug report. */
  details(): string {
    const report = this.report;
    if (!report) return "";
    return [
      `Slipway ${report.version}, ${report.face}, ${report.at}`,
      `${report.stopped ? "Stopped" : "Went on"} after: ${report.message}`,
      `Doing: ${report.doing.length > 0 ? report.doing.join("; ") : "nothing else"}`,
      `Log folder: ${report.logFolder}`,
    ].join("\n");
  }

  async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.details());
      this.copied = true;
    } catch (raw) {
      this.error = toSlipwayError(raw);
    }
  }

  async dismiss(): Promise<void> {
    try {
      await this.api.dismissCrash();
      this.report = null;
    } catch (raw) {
      this.error = toSlipwayError(raw);
    }
  }
}
