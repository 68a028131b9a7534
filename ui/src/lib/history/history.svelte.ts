// The History page's state, one concern a file: the filtered list a page at a time
// (list.svelte.ts), the release shown in full with its logs (detail.svelte.ts), the exports
// (export.svelte.ts) and the rollbacks, promotions and resumes it starts, which the window's
// run store follows (runs.svelte.ts). This ties them together: opening a row opens its detail,
// and a run that ended shows its own record.
import { api as defaultApi, type ExportFormat, type ReleaseDetail } from "../ipc";
import { RunStore } from "../release/run.svelte";
import { OpenRelease, type DetailApi } from "./detail.svelte";
import { HistoryExport, type ExportApi } from "./export.svelte";
import { ReleaseList, type ListApi } from "./list.svelte";
import { HistoryRuns, type RunsApi } from "./runs.svelte";

export type HistoryApi = ListApi & DetailApi & ExportApi & RunsApi;

export class HistoryStore {
  readonly list: ReleaseList;
  readonly opened: OpenRelease;
  readonly exports: HistoryExport;
  readonly runs: HistoryRuns;

  /** `run`: the window's one run, which the Release page and the header follow too. */
  constructor(api: HistoryApi = defaultApi, run: RunStore = new RunStore()) {
    this.list = new ReleaseList(api);
    this.opened = new OpenRelease(api);
    this.exports = new HistoryExport(api);
    this.runs = new HistoryRuns(run, api, async (releaseId) => {
      // What runs now changed too: the "On Render" card follows a rollback or promotion.
      void this.list.loadLive();
      await this.list.load();
      await this.open(releaseId);
    });
  }

  /** The window's run, which a rollback started here is. */
  get run(): RunStore {
    return this.runs.run;
  }

  /** The release shown in full, once it is here. */
  get detail(): ReleaseDetail | null {
    return this.opened.detail;
  }

  /** The open project changed (or none is open): reload. */
  setProject(path: string | null, name: string | null): void {
    this.list.setProject(path, name);
  }

  /** Shows a release's detail (and keeps the keyboard's row on it). */
  open(releaseId: string): Promise<void> {
    this.list.activeId = releaseId;
    return this.opened.open(releaseId);
  }

  /** Writes the open release, with its results and every step's log, to a file the person picks. */
  async exportOpen(): Promise<void> {
    const release = this.opened.detail?.release;
    if (release) await this.exports.release(release.id);
  }

  /** Writes what the filters show (every page) to a file the person picks. */
  exportAs(format: ExportFormat): Promise<void> {
    return this.exports.releases(this.list.filter(), format);
  }
}
