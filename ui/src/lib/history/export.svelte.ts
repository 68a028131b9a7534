// History's exports: what the filters show (every page) as CSV or JSON, or one release with
// its results and every step's log, each to a file the person picks.
import { api as defaultApi, toSlipwayError, type Api, type ExportFormat, type HistoryFilter, type SlipwayError } from "../ipc";

export type ExportApi = Pick<Api, "exportReleases" | "exportRelease">;

export class HistoryExport {
  exporting = $state(false);
  message = $state<string | null>(null);
  error = $state<SlipwayError | null>(null);

  constructor(private readonly api: ExportApi = defaultApi) {}

  /** Writes the release `releaseId`, with its results and every step's log. */
  release(releaseId: string): Promise<void> {
    return this.run(async () => {
      if (await this.api.exportRelease(releaseId)) return `Exported release ${releaseId} with its logs.`;
      return null;
    });
  }

  /** Writes every release `filter` lets through (its paging ignored). */
  releases(filter: HistoryFilter, format: ExportFormat): Promise<void> {
    return this.run(async () => {
      const count = await this.api.exportReleases({ ...filter, limit: null, before: null }, format);
      return count === null ? null : `Exported ${count} ${count === 1 ? "release" : "releases"}.`;
    });
  }

  /** One export at a time; `write` says what was written, `null` when the person cancelled. */
  private async run(write: () => Promise<string | null>): Promise<void> {
    if (this.exporting) return;
    this.exporting = true;
    this.message = null;
    this.error = null;
    try {
      const message = await write();
      if (message !== null) this.message = message;
    } catch (raw) {
      this.error = toSlipwayError(raw);
    } finally {
      this.exporting = false;
    }
  }
}
