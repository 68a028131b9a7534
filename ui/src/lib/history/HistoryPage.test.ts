import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { tick } from "svelte";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type {
  LiveNow, HistoryFilter, LintReport, ReleaseDetail, ReleaseEvent, ReleaseRecord, ReleaseSummary, TestReport } from "../ipc";
import type { LinksStore } from "../project/links.svelte";
import { RunStore } from "../release/run.svelte";
import { fakeLinks, fakeTasks, shopProject } from "../testing/fakes";
import { appError, projectDetails, releaseRecord, releaseSummary, renderEnvironment, stepRecord, taskInfo } from "../testing/fixtures";
import { LOAD_AHEAD, ROW_HEIGHT } from "./HistoryList.svelte";
import HistoryPage from "./HistoryPage.svelte";
import { dayAfter, FILTERS_KEY, loadFilters } from "./filters";
import { HistoryStore } from "./history.svelte";
import { MORE_PAGE_SIZE, PAGE_SIZE, readAhead } from "./list.svelte";
import { formatDuration, imageTag, shortDigest } from "./words";

function record(id: string, overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return releaseRecord({
    id,
    projectPath: "/p/shop",
    projectName: "shop",
    endedAt: "2026-11-24T10:01:12Z",
    commit: "3f2a1bc9d8e7f6a5",
    image: "127.0.0.1:5000/shop:3f2a1bc",
    digest: "sha256:0123456789abcdef0123456789",
    machine: "ann-laptop",
    imageId: "sha256:feedface",
    steps: [stepRecord("tests", "passed"), stepRecord("lint", "passed"), stepRecord("build", "passed")],
    ...overrides,
  });
}

const failedRelease = record("r2", {
  startedAt: "2026-11-25T09:00:00Z",
  endedAt: "2026-11-25T09:00:40Z",
  outcome: "failed",
  dirty: true,
  message: "2 tests failed.",
  error: {
    kind: "precondition",
    message: "2 tests failed.",
    hint: "Fix the failing tests, then release again.",
    action: null,
    detail: null,
    terminalHint: null,
  },
  steps: [stepRecord("tests", "failed"), stepRecord("lint", "failed"), stepRecord("build", "pending")],
});

const tests: TestReport = {
  outcome: "failed",
  counts: { passed: 40, failed: 2, errors: 0, skipped: 1 },
  failures: [
    { nodeId: "tests/test_cart.py::test_total", message: "assert 3 == 4", traceback: "def test_total():\n>   assert 3 == 4", file: null, line: null, got: null, expected: null, explanation: null },
    { nodeId: "tests/test_pay.py::test_refund", message: "KeyError: 'id'", traceback: "KeyError", file: null, line: null, got: null, expected: null, explanation: null },
  ],
  summaryLine: "2 failed, 40 passed in 1.2s",
  exitCode: 1,
  problem: null,
  durationMs: 1200,
};

const lint: LintReport = {
  tool: "flake8",
  outcome: "failed",
  violations: [
    { path: "shop/views.py", line: 12, column: 5, code: "F401", message: "'os' imported but unused", explanation: null, helpUrl: null },
    { path: "shop/models.py", line: 3, column: 1, code: "E302", message: "expected 2 blank lines", explanation: null, helpUrl: null },
    { path: "shop/views.py", line: 40, column: 80, code: "E501", message: "line too long", explanation: null, helpUrl: null },
  ],
  problem: null,
  exitCode: 1,
  durationMs: 300,
};

const detail: ReleaseDetail = {
  release: {
    ...failedRelease,
    steps: [
      { name: "tests", state: "failed", startedAt: "2026-11-25T09:00:00Z", endedAt: "2026-11-25T09:00:30Z", summary: "40 passed, 2 failed", cachedFrom: null },
      { name: "lint", state: "failed", startedAt: "2026-11-25T09:00:30Z", endedAt: "2026-11-25T09:00:40Z", summary: "3 violations", cachedFrom: null },
      stepRecord("build", "pending"),
    ],
  },
  results: [
    { step: "tests", report: tests },
    { step: "lint", report: lint },
    {
      step: "checks",
      report: { id: "g1", kind: "format", tool: "black", command: "black --check .", outcome: "passed", message: "Every file is formatted.", findings: [], exitCode: 0, durationMs: 10 },
    },
  ],
};

function fakeApi(rows: ReleaseRecord[] = [failedRelease, record("r1")]) {
  const api = {
    listReleases: vi.fn(async (filter: HistoryFilter) => {
      if (filter.search === "nothing" || filter.outcome === "interrupted") return [];
      // Dates as the ledger compares them: `since` inclusive, `until` exclusive.
      return rows.filter(
        (row) =>
          (!filter.outcome || row.outcome === filter.outcome) &&
          (!filter.user || row.user === filter.user) &&
          (!filter.since || row.startedAt >= filter.since) &&
          (!filter.until || row.startedAt < filter.until),
      );
    }),
    releaseDetail: vi.fn(async (_id: string) => detail),
    releaseLog: vi.fn(async (_id: string, step: string, offset: number, limit: number, search: string | null) => {
      const all = Array.from({ length: 450 }, (_, index) => `${step} line ${index + 1}`).filter(
        (line) => search === null || line.includes(search),
      );
      return { lines: all.slice(offset, offset + limit), total: all.length, offset };
    }),
    exportReleases: vi.fn(async (_filter: HistoryFilter, _format: "csv" | "json") => 7 as number | null),
    exportRelease: vi.fn(async (_id: string) => true),
    startPromote: vi.fn(async (_path: string, source: string, _to: string | null, _on: unknown) =>
      releaseSummary({
        releaseId: "r10",
        outcome: "failed",
        image: `image of ${source}`,
        message: "Render: Render did not accept your token.",
        error: appError({
          kind: "registryAuth",
          message: "Render did not accept your token.",
          hint: "The token is wrong or has expired: create a new one and enter it.",
          action: "reenterToken",
          detail: "Render refused the credentials (401)",
        }),
      }),
    ),
    startResume: vi.fn(async (_path: string, source: string, _on: unknown) =>
      releaseSummary({ releaseId: "r11", outcome: "live", image: `image of ${source}`, url: "http://127.0.0.1:8123/" }),
    ),
    historyNotice: vi.fn(async () => null as string | null),
    liveNow: vi.fn(async (_path: string) => [] as LiveNow[]),
    startRollback: vi.fn(async (_path: string, _environment: string | null, to: string | null, _on: unknown) =>
      releaseSummary({ releaseId: "r9", image: `image of ${to}`, url: "http://127.0.0.1:8123/" }),
    ),
    rollbackCrossing: vi.fn(async (_path: string, _environment: string | null, _to: string) => ({
      migrations: [] as { app: string; name: string }[],
      warning: null as string | null,
    })),
  };
  return api;
}

/** A ledger without end: every call returns as many of the next releases as it asks for (`n0`,
 * `n1`, … newest first), 100 when it does not say, as the backend does. */
function manyReleasesApi() {
  const api = fakeApi();
  api.listReleases.mockImplementation(async (filter: HistoryFilter) => {
    const from = filter.before ? Number(filter.before.slice(1)) + 1 : 0;
    return Array.from({ length: filter.limit ?? 100 }, (_, index) => record(`n${from + index}`));
  });
  return api;
}

/** The page with release r1, live on `target`, open in the detail. */
async function openLiveRelease(
  user: ReturnType<typeof userEvent.setup>,
  target = "local",
  environment: string | null = target === "local" ? "local" : "production",
  links?: LinksStore,
) {
  const api = fakeApi();
  api.releaseDetail.mockImplementation(async () => ({ ...detail, release: { ...record("r1"), outcome: "live", target, environment } }));
  render(HistoryPage, { project: shopProject(), history: new HistoryStore(api), links });
  const rows = await screen.findAllByTestId("history-row");
  await user.click(rows[1] as HTMLElement);
  return api;
}

/** The page over that ledger, with at least `count` releases loaded. */
async function showMany(count = 0) {
  const api = manyReleasesApi();
  const history = new HistoryStore(api);
  render(HistoryPage, { project: shopProject(), history });
  await screen.findAllByTestId("history-row");
  while (history.list.rows.length < count) await history.list.loadMore();
  await tick();
  return { api, history };
}

/** What a person's scroll does: the list moves, then says so. */
async function scrollTo(list: HTMLElement, top: number): Promise<void> {
  list.scrollTop = top;
  await fireEvent.scroll(list);
  await tick();
}

function lastFilter(api: ReturnType<typeof fakeApi>): HistoryFilter {
  const call = api.listReleases.mock.calls.at(-1);
  if (!call) throw new Error("listReleases was not called");
  return call[0];
}

beforeEach(() => {
  localStorage.clear();
});

/** Says yes to the question a rollback or promotion asks first. */
async function confirmIt(user: ReturnType<typeof userEvent.setup>): Promise<void> {
  const dialog = await screen.findByTestId("confirm-dialog");
  await user.click(within(dialog).getByTestId("confirm-ok"));
}

describe("the history page", () => {
  it("lists the open project's releases with their outcome in words and their steps", async () => {
    const api = fakeApi();
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    const rows = await screen.findAllByTestId("history-row");
    expect(rows).toHaveLength(2);
    expect(lastFilter(api).projectPath).toBe("/p/shop");
    const [failed, live] = rows as [HTMLElement, HTMLElement];
    expect(failed).toHaveAttribute("data-release-id", "r2");
    expect(failed).toHaveAttribute("data-outcome", "failed");
    expect(failed).toHaveTextContent("Failed");
    expect(failed).toHaveTextContent("uncommitted changes");
    expect(within(failed).getByLabelText("tests: failed")).toBeInTheDocument();
    expect(within(failed).getByLabelText("build: not reached")).toBeInTheDocument();
    expect(live).toHaveTextContent("Was live");
    expect(live).toHaveAttribute("data-status", "wasLive");
    expect(live).toHaveTextContent("1 min 12 s");
    expect(live).toHaveTextContent("3f2a1bc on main");
    expect(live).toHaveTextContent("0123456789ab");
    expect(live).not.toHaveTextContent("uncommitted changes");
    expect(within(live).queryByTestId("history-row-kind")).toBeNull();
    expect(within(live).getByLabelText("lint: passed")).toHaveAttribute("title", "lint: passed");
    expect(screen.getByTestId("history-count")).toHaveTextContent("2 releases shown.");
  });

  it("draws the first page read ahead at once, then shows what the ledger says now", async () => {
    const api = fakeApi();
    await readAhead("/p/shop", api);
    expect(api.listReleases).toHaveBeenCalledTimes(1);
    // Released meanwhile: the page read ahead is drawn at once, then the ledger's own.
    api.listReleases.mockImplementation(async () => [record("r3"), failedRelease, record("r1")]);
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    // No answer awaited: the rows read ahead are in the first paint.
    expect(screen.getAllByTestId("history-row")).toHaveLength(2);
    await waitFor(() => expect(screen.getAllByTestId("history-row")).toHaveLength(3));
    expect(api.listReleases).toHaveBeenCalledTimes(2);

    // Used once: the next opening reads for itself.
    cleanup();
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    expect(screen.queryAllByTestId("history-row")).toHaveLength(0);
    expect(await screen.findAllByTestId("history-row")).toHaveLength(3);
  });

  it("reads ahead for the filters the page will use: another project's page is not drawn", async () => {
    const api = fakeApi();
    await readAhead("/p/other", api);
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    expect(screen.queryAllByTestId("history-row")).toHaveLength(0);
    expect(await screen.findAllByTestId("history-row")).toHaveLength(2);
    expect(lastFilter(api).projectPath).toBe("/p/shop");
  });

  it("tells now from then and gives rollbacks and promotions their kind, naming no release by id", async () => {
    const api = fakeApi();
    const source = { id: "r1", commit: "9f8e7d6c5b4a", startedAt: "2026-11-23T17:40:00Z", endedAt: null, environment: "production" };
    api.listReleases.mockImplementation(async () => [
      record("r4", { kind: "promote", outcome: "live", liveNow: true, environment: "staging", target: "render", source }),
      record("r3", { kind: "rollback", outcome: "live", liveNow: true, environment: "production", target: "render", source }),
      record("r2", { outcome: "live", liveNow: false, environment: "production", target: "render" }),
      record("r1", { outcome: "canceled", environment: "production", target: "render" }),
    ]);
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    const rows = await screen.findAllByTestId("history-row");
    expect(rows.map((row) => within(row).getByTestId("history-row-status").textContent?.trim())).toEqual([
      "● Live now",
      "● Live now",
      "○ Was live",
      "⊘ Cancelled",
    ]);
    expect(within(rows[0] as HTMLElement).getByTestId("history-row-kind")).toHaveTextContent("Promotion from production");
    expect(within(rows[1] as HTMLElement).getByTestId("history-row-kind").textContent).toMatch(
      /^Rollback to 9f8e7d6 \(.+ \d\d:\d\d\)$/,
    );
    for (const row of rows) expect(row.textContent).not.toMatch(/\br\d\b/);
  });

  it("searches a moment after the typing stops", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    await screen.findAllByTestId("history-row");
    const before = api.listReleases.mock.calls.length;
    await user.type(screen.getByTestId("history-search"), "3f2a");
    await waitFor(() => expect(lastFilter(api).search).toBe("3f2a"));
    // One request for the whole word, not one per key.
    expect(api.listReleases.mock.calls.length).toBe(before + 1);
    expect(JSON.parse(localStorage.getItem(FILTERS_KEY) ?? "{}").search).toBe("3f2a");
  });

  it("says who released each release and from which machine, and narrows to one person", async () => {
    const user = userEvent.setup();
    const api = fakeApi([
      record("r3", { user: "alex", machine: "alex-laptop", startedAt: "2026-11-26T09:00:00Z" }),
      failedRelease,
      record("r1", { user: "bo", machine: null }),
    ]);
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    const rows = await screen.findAllByTestId("history-row");
    expect(rows.map((row) => within(row).getByTestId("history-row-by").textContent)).toEqual([
      "by alex on alex-laptop",
      "by ann on ann-laptop",
      "by bo",
    ]);
    const people = screen.getByTestId("history-user");
    expect(within(people).getAllByRole("option").map((option) => option.textContent)).toEqual(["Anyone", "alex", "ann", "bo"]);

    await user.selectOptions(people, "alex");
    await waitFor(() => expect(screen.getAllByTestId("history-row")).toHaveLength(1));
    expect(lastFilter(api).user).toBe("alex");
    // The others stay to be picked, though the list now shows only alex's.
    expect(within(people).getAllByRole("option")).toHaveLength(4);
    expect(JSON.parse(localStorage.getItem(FILTERS_KEY) ?? "{}").user).toBe("alex");
    expect(loadFilters().user).toBe("alex");

    api.releaseDetail.mockResolvedValueOnce({ ...detail, release: { ...detail.release, id: "r3", user: "alex", machine: "alex-laptop" } });
    await user.click(screen.getAllByTestId("history-row")[0] as HTMLElement);
    expect(await screen.findByTestId("history-detail-by")).toHaveTextContent("alex on alex-laptop");

    await user.selectOptions(people, "Anyone");
    await waitFor(() => expect(screen.getAllByTestId("history-row")).toHaveLength(3));
    expect(lastFilter(api)).not.toHaveProperty("user");
  });

  it("narrows by outcome", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    await screen.findAllByTestId("history-row");
    await user.selectOptions(screen.getByTestId("history-outcome"), "Went live");
    await waitFor(() => expect(screen.getAllByTestId("history-row")).toHaveLength(1));
    expect(lastFilter(api).outcome).toBe("live");
    expect(screen.getByTestId("history-row")).toHaveAttribute("data-outcome", "live");
  });

  it("shows a release's failing tests and its lint violations by file", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    const [failed] = await screen.findAllByTestId("history-row");
    await user.click(failed as HTMLElement);
    const region = await screen.findByTestId("history-detail");
    expect(api.releaseDetail).toHaveBeenCalledWith("r2");
    expect(await within(region).findByText("test_total")).toBeInTheDocument();
    expect(within(region).getByText("test_refund")).toBeInTheDocument();
    const views = within(region).getByRole("list", { name: "Violations in shop/views.py" });
    expect(within(views).getAllByRole("listitem")).toHaveLength(2);
    expect(views).toHaveTextContent("line 12");
    expect(views).toHaveTextContent("F401");
    expect(within(region).getByRole("list", { name: "Violations in shop/models.py" })).toHaveTextContent("E302");
    expect(within(region).getByText("Every file is formatted.")).toBeInTheDocument();
    expect(within(region).getByTestId("history-failure")).toHaveTextContent("Fix the failing tests, then release again.");
    const steps = within(region).getByRole("table", { name: "Steps" });
    expect(steps).toHaveTextContent("40 passed, 2 failed");
    expect(steps).toHaveTextContent("30 s");
    // The log of the failed step, a page at a time.
    const log = within(region).getByTestId("history-log");
    await waitFor(() => expect(within(log).getByRole("log")).toHaveAttribute("data-lines", "200"));
    expect(api.releaseLog).toHaveBeenLastCalledWith("r2", "tests", 0, 200, null);
    expect(within(log).getByTestId("history-log-status")).toHaveTextContent("Showing 200 of 450 lines.");
    await user.click(within(log).getByRole("button", { name: "Load more lines" }));
    await waitFor(() => expect(within(log).getByRole("log")).toHaveAttribute("data-lines", "400"));
    expect(api.releaseLog).toHaveBeenLastCalledWith("r2", "tests", 200, 200, null);
    await user.type(within(log).getByLabelText("Find in the log"), "line 7");
    await waitFor(() => expect(api.releaseLog).toHaveBeenLastCalledWith("r2", "tests", 0, 200, "line 7"));
    await waitFor(() => expect(within(log).getByTestId("history-log-status")).toHaveTextContent("of 11 matching lines"));
  });

  it("says which steps were taken from an earlier pass, and opens that release", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    const reused: ReleaseDetail = {
      release: {
        ...failedRelease,
        steps: [stepRecord("tests", "passed", { summary: "passed 3 min ago on this exact tree (cached from release r1): 40 passed", cachedFrom: "r1" })],
      },
      results: [],
    };
    api.releaseDetail.mockImplementation(async (id: string) => (id === "r2" ? reused : detail));
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    const [row] = await screen.findAllByTestId("history-row");
    await user.click(row as HTMLElement);
    const region = await screen.findByTestId("history-detail");
    const cached = await within(region).findByTestId("cached-from");
    expect(cached).toHaveTextContent("(reused from an earlier release)");
    expect(cached).not.toHaveTextContent("r1");
    await user.click(within(cached).getByRole("button", { name: "an earlier release" }));
    await waitFor(() => expect(api.releaseDetail).toHaveBeenLastCalledWith("r1"));
  });

  it("opens with Enter and moves (opening) with the arrow keys, the focus staying on the list", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    const [first, second] = (await screen.findAllByTestId("history-row")) as [HTMLElement, HTMLElement];
    const list = screen.getByRole("listbox", { name: "Releases" });
    list.focus();
    expect(list).toHaveAttribute("aria-activedescendant", first.id);
    await user.keyboard("{Enter}");
    await waitFor(() => expect(api.releaseDetail).toHaveBeenLastCalledWith("r2"));
    expect(first).toHaveAttribute("aria-selected", "true");
    await user.keyboard("{ArrowDown}");
    await waitFor(() => expect(api.releaseDetail).toHaveBeenLastCalledWith("r1"));
    expect(second).toHaveAttribute("aria-selected", "true");
    expect(first).toHaveAttribute("aria-selected", "false");
    expect(list).toHaveAttribute("aria-activedescendant", second.id);
    expect(list).toHaveFocus();
    // Past the last row: nothing moves, nothing is read again.
    const opened = api.releaseDetail.mock.calls.length;
    await user.keyboard("{ArrowDown}{End}");
    expect(api.releaseDetail.mock.calls.length).toBe(opened);
    await user.keyboard("{Home}");
    await waitFor(() => expect(api.releaseDetail).toHaveBeenLastCalledWith("r2"));
    await user.keyboard("{PageDown}");
    await waitFor(() => expect(api.releaseDetail).toHaveBeenLastCalledWith("r1"));
    await user.keyboard("{ArrowUp}");
    await waitFor(() => expect(api.releaseDetail).toHaveBeenLastCalledWith("r2"));
    // A click opens its row and leaves the keyboard on the list.
    await user.click(second);
    await waitFor(() => expect(api.releaseDetail).toHaveBeenLastCalledWith("r1"));
    expect(list).toHaveFocus();
    expect(list).toHaveAttribute("aria-activedescendant", second.id);
  });

  it("rolls back to a release that went live, and says it is live again", async () => {
    const user = userEvent.setup();
    const api = await openLiveRelease(user);
    await user.click(await screen.findByTestId("history-rollback"));
    // It asks first, saying what is live now and what will be; nothing runs before the yes.
    const dialog = await screen.findByRole("alertdialog", { name: "Roll back?" });
    expect(within(dialog).getByTestId("confirm-question")).toHaveTextContent(
      /^Roll back the app on this computer from 3f2a1bc \(.+\) to 3f2a1bc \(.+\)\?$/,
    );
    // No migration in between: nothing is said of the database.
    expect(api.rollbackCrossing).toHaveBeenCalledWith("/p/shop", "local", "r1");
    expect(within(dialog).queryByTestId("confirm-warning")).toBeNull();
    expect(api.startRollback).not.toHaveBeenCalled();
    // Dismissed: nothing runs, and the focus is back on the button that asked.
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(api.startRollback).not.toHaveBeenCalled();
    expect(screen.getByTestId("history-rollback")).toHaveFocus();
    await user.click(screen.getByTestId("history-rollback"));
    await confirmIt(user);
    expect(api.startRollback).toHaveBeenCalledWith("/p/shop", "local", "r1", expect.any(Function));
    await waitFor(() =>
      expect(screen.getByTestId("history-rollback-status")).toHaveTextContent(
        /^Rolled back: 3f2a1bc \(.+\) is live again on this computer at http:\/\/127\.0\.0\.1:8123\/\.$/,
      ),
    );
    expect(screen.getByTestId("history-rollback-status")).not.toHaveTextContent("r1");
    // The list is read again and the rollback's own record is opened.
    await waitFor(() => expect(api.releaseDetail).toHaveBeenLastCalledWith("r9"));
  });

  it("says which migrations the database keeps before a rollback past them is confirmed", async () => {
    const user = userEvent.setup();
    const sentence = "The database keeps the changes of shop 0007_add_price and 0008_discount; the older code may not work with them.";
    const api = await openLiveRelease(user);
    api.rollbackCrossing.mockResolvedValue({
      migrations: [
        { app: "shop", name: "0007_add_price" },
        { app: "shop", name: "0008_discount" },
      ],
      warning: sentence,
    });
    await user.click(await screen.findByTestId("history-rollback"));
    const dialog = await screen.findByRole("alertdialog", { name: "Roll back?" });
    expect(within(dialog).getByTestId("confirm-warning")).toHaveTextContent(sentence);
    expect(api.startRollback).not.toHaveBeenCalled();
  });

  it("follows its rollback like a release, step by step, and Cancel stops it through its task", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    api.releaseDetail.mockImplementation(async (id: string) => ({ ...detail, release: { ...record(id), outcome: "live" } }));
    let emit: (event: ReleaseEvent) => void = () => {};
    let finish: (summary: ReleaseSummary) => void = () => {};
    api.startRollback.mockImplementation(
      (_path: string, _environment: string | null, _to: string | null, onEvent: unknown) =>
        new Promise<ReleaseSummary>((resolve) => {
          emit = onEvent as (event: ReleaseEvent) => void;
          finish = resolve;
        }),
    );
    const backend = fakeTasks();
    const run = new RunStore({ cancelRelease: vi.fn() }, backend.tasks);
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api, run) });
    const rows = await screen.findAllByTestId("history-row");
    await user.click(rows[1] as HTMLElement);
    await user.click(await screen.findByTestId("history-rollback"));
    await confirmIt(user);
    backend.broadcast([taskInfo({ id: 5, kind: "rollback", project: "/p/shop" })]);
    emit({ kind: "rollbackStarted", releaseId: "r9", sourceId: "r1" });
    emit({ kind: "step", step: "deploy", state: "running", elapsedMs: null, summary: null });
    emit({ kind: "deploy", deployId: "dep-2", status: "update_in_progress" });
    emit({ kind: "log", step: "deploy", line: "rolling srv-web back to deploy dep-1", atMs: 1 });

    const panel = await screen.findByRole("region", { name: "Rollback of shop" });
    expect(within(panel).getByTestId("run-bar")).toHaveTextContent(/Rolling back shop · Deploy 0:0\d/);
    const deploy = panel.querySelector('[data-step="deploy"]') as HTMLElement;
    expect(deploy).toHaveAttribute("data-state", "running");
    expect(deploy).toHaveTextContent("Render: update_in_progress");
    expect(within(deploy).getByRole("log", { name: "Deploy output" })).toBeInTheDocument();
    // One run at a time: nothing else ships while it goes on.
    expect(screen.getByTestId("history-rollback")).toBeDisabled();

    await user.click(within(panel).getByRole("button", { name: "Cancel" }));
    expect(backend.cancelled).toEqual([5]);
    expect(within(panel).getByRole("button", { name: "Cancelling…" })).toBeDisabled();
    emit({ kind: "step", step: "deploy", state: "canceled", elapsedMs: 900, summary: null });
    finish(releaseSummary({ releaseId: "r9", outcome: "canceled", message: "Cancelled." }));

    await waitFor(() => expect(screen.getByTestId("history-rollback-status")).toHaveTextContent("The rollback was cancelled: Cancelled."));
    expect(screen.queryByRole("region", { name: "Rollback of shop" })).not.toBeInTheDocument();
    // The rollback's own record opens.
    await waitFor(() => expect(api.releaseDetail).toHaveBeenLastCalledWith("r9"));
  });

  it("starts no rollback while a release runs in the window", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    api.releaseDetail.mockImplementation(async () => ({ ...detail, release: { ...record("r1"), outcome: "live" } }));
    const run = new RunStore({ cancelRelease: vi.fn() });
    void run.follow("release", { path: "/p/lettings", name: "lettings" }, null, () => new Promise<ReleaseSummary>(() => {}));
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api, run) });
    const rows = await screen.findAllByTestId("history-row");
    await user.click(rows[1] as HTMLElement);
    expect(await screen.findByTestId("history-rollback")).toBeDisabled();
    // The release is the Release page's to show, not History's.
    expect(screen.queryByTestId("run-bar")).not.toBeInTheDocument();
  });

  it("says what runs now per environment, and when the environment disagrees with the history", async () => {
    const api = fakeApi();
    api.liveNow.mockImplementation(async () => [
      { target: "local", environment: "local", release: record("r1"), note: null },
      { target: "render", environment: "production", release: null, note: "Render runs deploy dep-9, which Slipway did not make." },
    ]);
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    const banners = await screen.findAllByTestId("history-live");
    expect(api.liveNow).toHaveBeenCalledWith("/p/shop");
    expect(banners[0]).toHaveTextContent(/^On this computer: 3f2a1bc \(.+\) has been live since .+\. Show it$/);
    expect(banners[1]).toHaveTextContent("On production:");
    expect(banners[1]).toHaveTextContent("Render runs deploy dep-9, which Slipway did not make.");
  });

  it("draws what runs now with the first rows when it is known, so the rows do not move under the pointer", async () => {
    const api = fakeApi();
    const onThisComputer = { target: "local" as const, environment: "local", release: record("r1"), note: null };
    api.liveNow.mockImplementation(async () => [onThisComputer]);
    await readAhead("/p/shop", api);
    expect(api.liveNow).toHaveBeenCalledWith("/p/shop");
    // The page's own ask is still on its way: the answer read ahead is in the first paint.
    let answer: (live: LiveNow[]) => void = () => {};
    api.liveNow.mockImplementation(() => new Promise<LiveNow[]>((resolve) => (answer = resolve)));
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    expect(screen.getAllByTestId("history-live")).toHaveLength(1);
    expect(screen.getAllByTestId("history-row")).toHaveLength(2);
    await waitFor(() => expect(api.liveNow).toHaveBeenCalledTimes(2));
    // Then what the targets say now: nothing runs any more.
    answer([]);
    await waitFor(() => expect(screen.queryAllByTestId("history-live")).toHaveLength(0));
  });

  it("promotes a release that went live on this computer, and says plainly why it failed", async () => {
    const user = userEvent.setup();
    const api = await openLiveRelease(user);
    // The project's chain is not known here: the backend picks the next environment.
    const promote = await screen.findByTestId("history-promote");
    expect(promote).toHaveTextContent("Promote to the next environment");
    await user.click(promote);
    expect(api.startPromote).not.toHaveBeenCalled();
    await confirmIt(user);
    expect(api.startPromote).toHaveBeenCalledWith("/p/shop", "r1", null, expect.any(Function));
    await waitFor(() =>
      expect(screen.getByTestId("history-rollback-status")).toHaveTextContent(
        "The promotion failed: Render: Render did not accept your token.",
      ),
    );
    expect(screen.getByRole("alert")).toHaveTextContent("The token is wrong or has expired");
    await waitFor(() => expect(api.releaseDetail).toHaveBeenLastCalledWith("r10"));
  });

  it("promotes along the project's own chain: staging goes to production, production nowhere", async () => {
    const user = userEvent.setup();
    const details = projectDetails("/p/shop");
    details.settings.environments = {
      list: [renderEnvironment("staging", "shop-staging"), renderEnvironment("production", "shop-web")],
      default: "production",
    };
    const { links } = await fakeLinks(details);
    const api = await openLiveRelease(user, "render", "staging", links);
    const promote = await screen.findByTestId("history-promote");
    expect(promote).toHaveTextContent("Promote to production");
    expect(screen.getByTestId("history-detail-environment")).toHaveTextContent("staging");
    await user.click(promote);
    expect(await screen.findByTestId("confirm-question")).toHaveTextContent(
      /^Promote 3f2a1bc \(.+\) from staging to production, in place of 3f2a1bc \(.+\)\?$/,
    );
    await confirmIt(user);
    expect(api.startPromote).toHaveBeenCalledWith("/p/shop", "r1", "production", expect.any(Function));
    cleanup();

    await openLiveRelease(user, "local", "local", links);
    expect(await screen.findByTestId("history-promote")).toHaveTextContent("Promote to staging");
    cleanup();

    const last = await openLiveRelease(user, "render", "production", links);
    await screen.findByTestId("history-rollback");
    expect(screen.queryByTestId("history-promote")).toBeNull();
    await user.click(screen.getByTestId("history-rollback"));
    await confirmIt(user);
    // A rollback stays on the release's own environment.
    expect(last.startRollback).toHaveBeenCalledWith("/p/shop", "production", "r1", expect.any(Function));
  });

  it("filters by the open project's environments, and names each row's", async () => {
    const user = userEvent.setup();
    const details = projectDetails("/p/shop");
    details.settings.environments = { list: [renderEnvironment("staging", "shop-staging")] };
    const { links } = await fakeLinks(details);
    const api = fakeApi();
    api.listReleases.mockImplementation(async () => [
      record("r1", { environment: "staging", target: "render" }),
      record("r2", { environment: null, target: "render" }),
      record("r3"),
    ]);
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api), links });
    await screen.findAllByTestId("history-row");
    expect(screen.getAllByTestId("history-row-environment").map((cell) => cell.textContent)).toEqual([
      "staging",
      "Render",
      "This computer",
    ]);
    const filter = screen.getByTestId("history-environment");
    expect(within(filter).getAllByRole("option").map((option) => option.textContent)).toEqual([
      "Anywhere",
      "This computer",
      "staging",
    ]);
    await user.selectOptions(filter, "staging");
    await waitFor(() => expect(lastFilter(api)).toMatchObject({ projectPath: "/p/shop", environment: "staging", target: null }));
  });

  it("offers no promotion for a Render release, and exports the open release with its logs", async () => {
    const user = userEvent.setup();
    const api = await openLiveRelease(user, "render");
    await screen.findByTestId("history-rollback");
    expect(screen.queryByTestId("history-promote")).toBeNull();
    await user.click(screen.getByRole("button", { name: "Export with logs…" }));
    expect(api.exportRelease).toHaveBeenCalledWith("r1");
  });

  it("resumes an interrupted release, and offers no resume on one that ended", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    api.releaseDetail.mockImplementation(async (id: string) => ({
      ...detail,
      release: { ...record(id), outcome: id === "r1" ? "interrupted" : "live" },
    }));
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    const rows = await screen.findAllByTestId("history-row");
    await user.click(rows[1] as HTMLElement);
    expect(screen.queryByTestId("history-rollback")).toBeNull();
    await user.click(await screen.findByTestId("history-resume"));
    expect(api.startResume).toHaveBeenCalledWith("/p/shop", "r1", expect.any(Function));
    await waitFor(() =>
      expect(screen.getByTestId("history-rollback-status")).toHaveTextContent(
        /^Resumed: 3f2a1bc \(.+\) is live at http:\/\/127\.0\.0\.1:8123\/\.$/,
      ),
    );
    await waitFor(() => expect(api.releaseDetail).toHaveBeenLastCalledWith("r11"));
    expect(screen.queryByTestId("history-resume")).toBeNull();
  });

  it("offers no rollback on a release that never went live", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    const [failed] = await screen.findAllByTestId("history-row");
    await user.click(failed as HTMLElement);
    await screen.findByTestId("history-failure");
    expect(screen.queryByTestId("history-rollback")).toBeNull();
  });

  it("says when no release matches the filters, and clears them", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    await screen.findAllByTestId("history-row");
    await user.selectOptions(screen.getByTestId("history-outcome"), "Interrupted");
    expect(await screen.findByRole("heading", { name: "No release matches these filters" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Clear filters" }));
    await waitFor(() => expect(screen.getAllByTestId("history-row")).toHaveLength(2));
    expect(lastFilter(api).outcome).toBeNull();
    expect(screen.getByTestId("history-outcome")).toHaveValue("");
  });

  it("says how to make the first release when the project has none", async () => {
    const api = fakeApi([]);
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    expect(await screen.findByRole("heading", { name: "No releases of shop yet" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Clear filters" })).not.toBeInTheDocument();
  });

  it("shows every project when none is open, with each row's project", async () => {
    const api = fakeApi([record("r1", { projectName: "lettings", projectPath: "/p/lettings" })]);
    render(HistoryPage, { project: shopProject(false), history: new HistoryStore(api) });
    const [row] = await screen.findAllByTestId("history-row");
    expect(lastFilter(api).projectPath).toBeNull();
    expect(row).toHaveTextContent("lettings");
    expect(screen.getByRole("button", { name: "This project" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "All projects" })).toHaveAttribute("aria-pressed", "true");
  });

  it("exports what the filters show and says how many", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    await screen.findAllByTestId("history-row");
    await user.selectOptions(screen.getByTestId("history-outcome"), "Failed");
    await user.click(screen.getByRole("button", { name: "Export CSV" }));
    expect(await screen.findByText("Exported 7 releases.")).toBeInTheDocument();
    const [filter, format] = api.exportReleases.mock.calls[0] ?? [];
    expect(format).toBe("csv");
    expect(filter).toMatchObject({ projectPath: "/p/shop", outcome: "failed", limit: null, before: null });
  });

  it("loads the next page after the last row", async () => {
    const user = userEvent.setup();
    const firstPage = Array.from({ length: PAGE_SIZE }, (_, index) => record(`a${index}`));
    const api = fakeApi();
    api.listReleases.mockImplementation(async (filter: HistoryFilter) =>
      filter.before ? [record("b0"), record("b1")] : firstPage,
    );
    const history = new HistoryStore(api);
    render(HistoryPage, { project: shopProject(), history });
    await screen.findAllByTestId("history-row");
    expect(screen.getByTestId("history-count")).toHaveTextContent(`${PAGE_SIZE} releases shown; there are more to load.`);
    // The top of a first page is far from its end: nothing more is asked for yet.
    expect(api.listReleases).toHaveBeenCalledTimes(1);
    await user.click(screen.getByRole("button", { name: "Load more" }));
    await waitFor(() => expect(history.list.rows).toHaveLength(PAGE_SIZE + 2));
    expect(lastFilter(api).before).toBe(`a${PAGE_SIZE - 1}`);
    expect(screen.getByTestId("history-count")).toHaveTextContent(`${PAGE_SIZE + 2} releases shown.`);
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
  });

  it("keeps the filters across restarts", async () => {
    localStorage.setItem(FILTERS_KEY, JSON.stringify({ scope: "all", outcome: "failed", environment: "production", since: "2026-11-01", search: "" }));
    const api = fakeApi();
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    await screen.findAllByTestId("history-row");
    // Saved before there was an end date: no end date.
    expect(lastFilter(api)).toMatchObject({ projectPath: null, outcome: "failed", environment: "production", target: null, since: "2026-11-01", until: null });
    expect(screen.getByTestId("history-outcome")).toHaveValue("failed");
    expect(screen.getByLabelText("Since")).toHaveValue("2026-11-01");
    expect(screen.getByLabelText("Until")).toHaveValue("");
  });

  it("shows the releases up to the end of the chosen day, and keeps both dates across restarts", async () => {
    const api = fakeApi();
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    await screen.findAllByTestId("history-row");
    // r1 started on 24 November at 10:00, r2 on the 25th.
    await fireEvent.change(screen.getByLabelText("Until"), { target: { value: "2026-11-24" } });
    await waitFor(() => expect(screen.getAllByTestId("history-row")).toHaveLength(1));
    expect(screen.getByTestId("history-row")).toHaveAttribute("data-release-id", "r1");
    // The ledger's `until` is exclusive: the day after takes in the whole chosen day.
    expect(lastFilter(api)).toMatchObject({ since: null, until: "2026-11-25" });
    await fireEvent.change(screen.getByLabelText("Since"), { target: { value: "2026-11-20" } });
    await waitFor(() => expect(lastFilter(api)).toMatchObject({ since: "2026-11-20", until: "2026-11-25" }));
    expect(screen.getByLabelText("Until")).toHaveAttribute("min", "2026-11-20");
    expect(screen.getByLabelText("Since")).toHaveAttribute("max", "2026-11-24");
    expect(JSON.parse(localStorage.getItem(FILTERS_KEY) ?? "{}")).toMatchObject({ since: "2026-11-20", until: "2026-11-24" });

    // Restarted: the same dates, in the inputs and in the query.
    cleanup();
    const again = fakeApi();
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(again) });
    await screen.findAllByTestId("history-row");
    expect(lastFilter(again)).toMatchObject({ since: "2026-11-20", until: "2026-11-25" });
    expect(screen.getByLabelText("Since")).toHaveValue("2026-11-20");
    expect(screen.getByLabelText("Until")).toHaveValue("2026-11-24");
    // The export takes the same range.
    await userEvent.setup().click(screen.getByRole("button", { name: "Export JSON" }));
    expect(again.exportReleases.mock.calls[0]?.[0]).toMatchObject({ since: "2026-11-20", until: "2026-11-25" });
  });

  it("clears both dates with the other filters", async () => {
    const user = userEvent.setup();
    localStorage.setItem(
      FILTERS_KEY,
      JSON.stringify({ scope: "project", outcome: "", target: "", since: "2026-11-25", until: "2026-11-24", search: "" }),
    );
    const api = fakeApi();
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    expect(await screen.findByRole("heading", { name: "No release matches these filters" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Clear filters" }));
    await waitFor(() => expect(screen.getAllByTestId("history-row")).toHaveLength(2));
    expect(lastFilter(api)).toMatchObject({ since: null, until: null });
    expect(screen.getByLabelText("Since")).toHaveValue("");
    expect(screen.getByLabelText("Until")).toHaveValue("");
    expect(JSON.parse(localStorage.getItem(FILTERS_KEY) ?? "{}")).toMatchObject({ since: "", until: "" });
  });

  it("reads saved dates only when they are dates, and counts whole days", () => {
    localStorage.setItem(FILTERS_KEY, JSON.stringify({ since: "last week", until: 20261124 }));
    expect(loadFilters()).toMatchObject({ since: "", until: "" });
    localStorage.setItem(FILTERS_KEY, JSON.stringify({ until: "2026-11-24" }));
    expect(loadFilters()).toMatchObject({ since: "", until: "2026-11-24", outcome: "", search: "" });
    expect(dayAfter("2026-11-30")).toBe("2026-12-01");
    expect(dayAfter("2026-12-31")).toBe("2027-01-01");
    expect(dayAfter("2028-02-28")).toBe("2028-02-29");
    expect(dayAfter("2026-03-28")).toBe("2026-03-29");
  });

  it("shows the backend's message and hint when the list cannot load", async () => {
    const api = fakeApi();
    api.listReleases.mockRejectedValue({ kind: "io", message: "The history file could not be read.", hint: "Check the data folder's permissions." });
    render(HistoryPage, { project: shopProject(), history: new HistoryStore(api) });
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("The history file could not be read.");
    expect(alert).toHaveTextContent("Check the data folder's permissions.");
    expect(screen.queryByTestId("history-row")).not.toBeInTheDocument();
  });

  it("draws only the rows in view of thousands, scrolls to later ones and loads more near the end", async () => {
    // The first page, then the bigger later ones.
    const LOADED = PAGE_SIZE + 20 * MORE_PAGE_SIZE;
    const { api, history } = await showMany(LOADED);
    expect(history.list.rows).toHaveLength(LOADED);
    const list = screen.getByRole("listbox", { name: "Releases" });
    const drawn = () => screen.getAllByTestId("history-row");
    expect(drawn().length).toBeLessThan(40);
    expect(drawn()[0]).toHaveAttribute("data-release-id", "n0");
    // The rows not drawn still take their room, so the scrollbar is the whole list's.
    const spacers = list.querySelectorAll<HTMLElement>(":scope > [role=presentation]");
    expect(spacers[0]?.style.height).toBe("0px");
    expect(spacers[1]?.style.height).toBe(`${(LOADED - drawn().length) * ROW_HEIGHT}px`);

    await scrollTo(list, 5_000 * ROW_HEIGHT);
    const ids = drawn().map((row) => row.dataset.releaseId);
    expect(ids).toContain("n5000");
    expect(ids).toContain("n5010");
    expect(ids).not.toContain("n0");
    expect(drawn().length).toBeLessThan(40);
    expect(drawn().find((row) => row.dataset.releaseId === "n5000")).toHaveAttribute("aria-posinset", "5001");
    expect(api.listReleases).toHaveBeenCalledTimes(1 + (LOADED - PAGE_SIZE) / MORE_PAGE_SIZE);

    // Near the end of what is loaded, the next page comes by itself.
    await scrollTo(list, (LOADED - LOAD_AHEAD / 2) * ROW_HEIGHT);
    await waitFor(() => expect(history.list.rows).toHaveLength(LOADED + MORE_PAGE_SIZE));
    expect(lastFilter(api).before).toBe(`n${LOADED - 1}`);
    expect(drawn().length).toBeLessThan(40);
    expect(screen.getByRole("button", { name: "Load more" })).toBeInTheDocument();
  });

  it("keeps the row the keyboard moves to in view, however far it goes", async () => {
    const user = userEvent.setup();
    const LOADED = PAGE_SIZE + 2 * MORE_PAGE_SIZE;
    const { api, history } = await showMany(LOADED);
    const list = screen.getByRole("listbox", { name: "Releases" });
    list.focus();
    const active = () => document.getElementById(list.getAttribute("aria-activedescendant") ?? "");

    await user.keyboard("{End}");
    await waitFor(() => expect(api.releaseDetail).toHaveBeenLastCalledWith(`n${LOADED - 1}`));
    expect(active()).toHaveAttribute("data-release-id", `n${LOADED - 1}`);
    expect(active()).toHaveAttribute("aria-selected", "true");
    // Scrolled so the last row's bottom meets the view's (600 px without layout).
    expect(list.scrollTop).toBe(LOADED * ROW_HEIGHT - 600);
    // So close to the end, the next page follows.
    await waitFor(() => expect(history.list.rows).toHaveLength(LOADED + MORE_PAGE_SIZE));

    await user.keyboard("{PageUp}");
    const page = Math.floor(600 / ROW_HEIGHT) - 1;
    await waitFor(() => expect(api.releaseDetail).toHaveBeenLastCalledWith(`n${LOADED - 1 - page}`));
    expect(active()).toHaveAttribute("data-release-id", `n${LOADED - 1 - page}`);

    await user.keyboard("{Home}");
    await waitFor(() => expect(api.releaseDetail).toHaveBeenLastCalledWith("n0"));
    expect(list.scrollTop).toBe(0);
    expect(active()).toHaveAttribute("data-release-id", "n0");
    await user.keyboard("{PageDown}{ArrowDown}");
    await waitFor(() => expect(api.releaseDetail).toHaveBeenLastCalledWith(`n${page + 1}`));
    expect(active()).toHaveAttribute("aria-selected", "true");

    // Scrolled far away by the mouse, the next arrow goes on from the active row and brings it back.
    await scrollTo(list, 500 * ROW_HEIGHT);
    expect(list).not.toHaveAttribute("aria-activedescendant");
    await user.keyboard("{ArrowDown}");
    await waitFor(() => expect(api.releaseDetail).toHaveBeenLastCalledWith(`n${page + 2}`));
    expect(active()).toHaveAttribute("data-release-id", `n${page + 2}`);
  });

  it("goes back to the top of the list when the filters change", async () => {
    await showMany();
    const list = screen.getByRole("listbox", { name: "Releases" });
    await scrollTo(list, 50 * ROW_HEIGHT);
    expect(screen.getAllByTestId("history-row")[0]).not.toHaveAttribute("data-release-id", "n0");
    await userEvent.setup().selectOptions(screen.getByTestId("history-outcome"), "Went live");
    await waitFor(() => expect(list.scrollTop).toBe(0));
    expect(screen.getAllByTestId("history-row")[0]).toHaveAttribute("data-release-id", "n0");
  });

  it("formats durations, digests and tags", () => {
    expect(formatDuration(72_000)).toBe("1 min 12 s");
    expect(formatDuration(3_720_000)).toBe("1 h 2 min");
    expect(formatDuration(400)).toBe("under 1 s");
    expect(shortDigest("sha256:0123456789abcdef")).toBe("0123456789ab");
    expect(imageTag("127.0.0.1:5000/shop:3f2a1bc")).toBe("3f2a1bc");
    expect(imageTag("127.0.0.1:5000/shop")).toBe("127.0.0.1:5000/shop");
  });
});
