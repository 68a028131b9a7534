// The release History shows in full: its record and results, and the pages of its steps'
// logs (a step can write 100,000 lines), searched a moment after the typing stops.
import {
  api as defaultApi,
  toSlipwayError,
  type Api,
  type GateReport,
  type LintReport,
  type ReleaseDetail,
  type SlipwayError,
  type TestReport,
} from "../ipc";
import { SEARCH_DELAY_MS } from "./filters";

export type DetailApi = Pick<Api, "releaseDetail" | "releaseLog">;

export const LOG_PAGE = 200;

export interface Results {
  tests: TestReport | null;
  lint: LintReport | null;
  gates: GateReport[];
}

/** The detail's structured results, sorted into the tests, lint and gate reports. */
export function sortResults(detail: ReleaseDetail | null): Results {
  const results: Results = { tests: null, lint: null, gates: [] };
  for (const result of detail?.results ?? []) {
    const report = result.report;
    if (report === null || typeof report !== "object") continue;
    if (result.step === "tests") results.tests = report as TestReport;
    else if (result.step === "lint") results.lint = report as LintReport;
    else if (result.step === "checks") {
      for (const gate of Array.isArray(report) ? report : [report]) {
        if (gate && typeof gate === "object") results.gates.push(gate as GateReport);
      }
    }
  }
  return results;
}

export class OpenRelease {
  /** The release whose detail is shown. */
  id = $state<string | null>(null);
  detail = $state<ReleaseDetail | null>(null);
  loading = $state(false);
  error = $state<SlipwayError | null>(null);

  logStep = $state<string | null>(null);
  logSearch = $state("");
  logLines = $state<string[]>([]);
  logTotal = $state(0);
  logVersion = $state(0);
  logLoading = $state(false);
  logError = $state<SlipwayError | null>(null);

  private detailToken = 0;
  private logToken = 0;
  private logSearchTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly api: DetailApi = defaultApi) {}

  /** Shows a release's detail and the log of its most telling step. */
  async open(releaseId: string): Promise<void> {
    const token = ++this.detailToken;
    this.id = releaseId;
    this.detail = null;
    this.error = null;
    this.loading = true;
    this.resetLog(null);
    try {
      const detail = await this.api.releaseDetail(releaseId);
      if (token !== this.detailToken) return;
      this.detail = detail;
      const steps = detail.release.steps;
      const telling =
        steps.find((step) => step.state === "failed") ??
        steps.find((step) => step.state === "running" || step.state === "interrupted") ??
        steps.find((step) => step.state !== "pending" && step.state !== "skipped") ??
        steps[0];
      if (telling) await this.showLog(telling.name);
    } catch (raw) {
      if (token === this.detailToken) this.error = toSlipwayError(raw);
    } finally {
      if (token === this.detailToken) this.loading = false;
    }
  }

  close(): void {
    this.detailToken++;
    this.id = null;
    this.detail = null;
    this.error = null;
    this.loading = false;
    this.resetLog(null);
  }

  /** The log of another step, from its first line. */
  async showLog(step: string): Promise<void> {
    this.resetLog(step);
    await this.fetchLog();
  }

  /** Only the lines holding `text`; follows a moment after the typing stops. */
  setLogSearch(text: string): void {
    this.logSearch = text;
    if (this.logSearchTimer) clearTimeout(this.logSearchTimer);
    this.logSearchTimer = setTimeout(() => {
      this.logSearchTimer = null;
      if (this.logStep) void this.showLog(this.logStep);
    }, SEARCH_DELAY_MS);
  }

  get logHasMore(): boolean {
    return this.logLines.length < this.logTotal;
  }

  /** The next 200 lines. */
  async moreLog(): Promise<void> {
    if (this.logLoading || !this.logHasMore) return;
    await this.fetchLog();
  }

  private resetLog(step: string | null): void {
    this.logToken++;
    this.logStep = step;
    this.logLines = [];
    this.logTotal = 0;
    this.logVersion++;
    this.logError = null;
    this.logLoading = false;
  }

  private async fetchLog(): Promise<void> {
    const releaseId = this.id;
    const step = this.logStep;
    if (!releaseId || !step) return;
    const token = this.logToken;
    const search = this.logSearch.trim() === "" ? null : this.logSearch.trim();
    this.logLoading = true;
    this.logError = null;
    try {
      const page = await this.api.releaseLog(releaseId, step, this.logLines.length, LOG_PAGE, search);
      if (token !== this.logToken) return;
      this.logLines.push(...page.lines);
      this.logTotal = page.total;
      this.logVersion++;
    } catch (raw) {
      if (token === this.logToken) this.logError = toSlipwayError(raw);
    } finally {
      if (token === this.logToken) this.logLoading = false;
    }
  }
}
