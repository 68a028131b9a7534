import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { beforeEach, describe, expect, it } from "vitest";
import { SlipwayError, type IssueQuery } from "../ipc";
import type { ProjectStore } from "../project/project.svelte";
import { navigationContext } from "../shell/navigation";
import type { LinksStore } from "../project/links.svelte";
import { fakeLinks, fakeNavigation, shopProject } from "../testing/fakes";
import { projectDetails } from "../testing/fixtures";
import ErrorsPage from "./ErrorsPage.svelte";
import { ErrorsStore, FILTERS_KEY, frameRuns, loadFilters, PAGE_SIZE, shortRelease } from "./errors.svelte";
import { deferred, event, fakeApi, frame, issue } from "./fixtures";

type Fake = ReturnType<typeof fakeApi>;

function show(
  api: Fake = fakeApi(),
  props: {
    currentRelease?: string | null;
    liveRelease?: string | null;
    project?: ProjectStore;
    links?: LinksStore;
    openIssueId?: string | null;
    back?: { label: string; go: () => void } | null;
    onstatuschange?: (ids: string[], status: string) => void;
  } = {},
) {
  const { navigation, went, sections } = fakeNavigation("errors");
  const errors = new ErrorsStore(api);
  // The shop project is open unless the test opens another (or none).
  const view = render(ErrorsPage, {
    props: { errors, project: shopProject(), ...props },
    context: navigationContext(navigation),
  });
  return { api, errors, went, sections, view };
}

function lastQuery(api: Fake): IssueQuery {
  const calls = api.sentryIssues.mock.calls;
  return calls[calls.length - 1]![1];
}

async function rowsShown(count: number): Promise<HTMLElement[]> {
  await waitFor(() => expect(screen.queryAllByTestId("errors-row")).toHaveLength(count));
  return screen.getAllByTestId("errors-row");
}

function titles(): string[] {
  return screen.getAllByTestId("errors-row").map((row) => row.dataset.issueId!);
}

beforeEach(() => {
  localStorage.clear();
});

describe("the errors list", () => {
  it("asks for the unresolved errors of the last 14 days, latest first, a full page at a time", async () => {
    const { api } = show();
    await rowsShown(3);
    expect(api.sentryIssues).toHaveBeenCalledTimes(1);
    expect(lastQuery(api)).toEqual({
      status: "unresolved",
      environment: null,
      release: null,
      firstRelease: null,
      text: null,
      sort: "lastSeen",
      period: "14d",
      cursor: null,
      limit: PAGE_SIZE,
    });
    expect(screen.getByRole("heading", { level: 2, name: "Errors" })).toBeInTheDocument();
  });

  it("shows each row's level in words, title, culprit, counts, relative times, status and first release", async () => {
    const api = fakeApi({
      pages: {
        "": {
          issues: [
            issue("1", { level: "warning", count: 1234, userCount: 56, firstRelease: "9e8d7c6", lastSeen: new Date().toISOString() }),
            issue("2"),
          ],
          next: null,
          previous: null,
        },
      },
    });
    show(api);
    const [first, second] = await rowsShown(2);
    const row = within(first!);
    expect(row.getByText("Warning")).toBeInTheDocument();
    expect(row.getByRole("button", { name: "TypeError: cannot read 1" })).toBeInTheDocument();
    expect(first).toHaveTextContent("shop/views.py in view_1");
    expect(first).toHaveTextContent((1234).toLocaleString());
    expect(first).toHaveTextContent("56");
    expect(first).toHaveTextContent("just now");
    expect(first).toHaveTextContent("Unresolved");
    expect(first).toHaveTextContent("first in 9e8d7c6");
    // Unknown first release: nothing said about it.
    expect(second).not.toHaveTextContent("first in");
    expect(within(second!).getByText("Error")).toBeInTheDocument();
    expect(screen.getByTestId("errors-count")).toHaveTextContent("2 errors.");
  });

  it("sends each filter to Sentry: status, environment, release, text, sort and period", async () => {
    const user = userEvent.setup();
    const { api } = show(fakeApi(), { currentRelease: "abc123", liveRelease: "def456" });
    await rowsShown(3);

    await user.selectOptions(screen.getByTestId("errors-status"), "resolved");
    expect(lastQuery(api).status).toBe("resolved");
    await user.selectOptions(screen.getByTestId("errors-status"), "all");
    expect(lastQuery(api).status).toBe("all");

    await user.selectOptions(screen.getByTestId("errors-release"), "current");
    expect(lastQuery(api)).toMatchObject({ release: "abc123", firstRelease: null });
    await user.selectOptions(screen.getByTestId("errors-release"), "currentNew");
    expect(lastQuery(api)).toMatchObject({ release: null, firstRelease: "abc123" });
    await user.selectOptions(screen.getByTestId("errors-release"), "live");
    expect(lastQuery(api)).toMatchObject({ release: "def456", firstRelease: null });
    await user.selectOptions(screen.getByTestId("errors-release"), "liveNew");
    expect(lastQuery(api)).toMatchObject({ release: null, firstRelease: "def456" });
    await user.selectOptions(screen.getByTestId("errors-release"), "any");
    expect(lastQuery(api)).toMatchObject({ release: null, firstRelease: null });

    await user.selectOptions(screen.getByTestId("errors-sort"), "events");
    expect(lastQuery(api).sort).toBe("events");
    await user.selectOptions(screen.getByTestId("errors-sort"), "users");
    expect(lastQuery(api).sort).toBe("users");
    await user.selectOptions(screen.getByTestId("errors-period"), "24h");
    expect(lastQuery(api).period).toBe("24h");
    await user.selectOptions(screen.getByTestId("errors-period"), "");
    expect(lastQuery(api).period).toBeNull();

    // Typed filters wait for the typing to stop: one request for the whole word.
    const before = api.sentryIssues.mock.calls.length;
    await user.type(screen.getByTestId("errors-environment"), "production");
    await waitFor(() => expect(lastQuery(api).environment).toBe("production"));
    expect(api.sentryIssues.mock.calls.length).toBe(before + 1);

    await user.type(screen.getByTestId("errors-search"), "is:unhandled user.email:ann@shop.example");
    await waitFor(() => expect(lastQuery(api).text).toBe("is:unhandled user.email:ann@shop.example"));
    expect(api.sentryIssues.mock.calls.length).toBe(before + 2);
    // Every change starts again from the first page.
    expect(lastQuery(api).cursor).toBeNull();
  });

  it("offers only the releases it knows", async () => {
    show(fakeApi(), { liveRelease: "def456" });
    await rowsShown(3);
    const release = screen.getByTestId("errors-release");
    const values = within(release)
      .getAllByRole("option")
      .map((option) => (option as HTMLOptionElement).value);
    expect(values).toEqual(["any", "live", "liveNew"]);
  });

  it("has no release filter when neither release is known", async () => {
    const api = fakeApi();
    render(ErrorsPage, { props: { errors: new ErrorsStore(api), project: shopProject() } });
    await rowsShown(3);
    expect(screen.queryByTestId("errors-release")).toBeNull();
  });

  it("asks the backend's sentry_issues for the open project's own issues", async () => {
    const asked: unknown[] = [];
    mockIPC((command, args) => {
      if (command !== "sentry_issues") throw new Error(`unexpected ${command}`);
      asked.push(args);
      return { issues: [issue("7")], next: null, previous: null };
    });
    render(ErrorsPage, { props: { project: shopProject() } });
    await rowsShown(1);
    expect(asked).toEqual([
      { path: "/p/shop", query: expect.objectContaining({ status: "unresolved", cursor: null }) },
    ]);
  });

  it("asks nothing with no project open: each project has its own Sentry project", async () => {
    const api = fakeApi();
    render(ErrorsPage, { props: { errors: new ErrorsStore(api), project: shopProject(false) } });
    expect(await screen.findByRole("heading", { name: "No error reports to show" })).toBeInTheDocument();
    expect(screen.getByText(/Open a project and link it to its Sentry project/)).toBeInTheDocument();
    expect(api.sentryIssues).not.toHaveBeenCalled();
  });

  it("says it is loading while Sentry answers, and offers to try again when it fails", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    const first = deferred<never>();
    api.sentryIssues.mockReturnValueOnce(first.promise);
    show(api);
    expect(screen.getByTestId("errors-count")).toHaveTextContent("Loading errors…");
    first.reject(new SlipwayError({ kind: "network", message: "Sentry could not be reached.", hint: "Check the connection." }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Sentry could not be reached.");
    await user.click(within(alert).getByRole("button", { name: "Try again" }));
    await rowsShown(3);
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("pages forward and back with Sentry's cursors", async () => {
    const user = userEvent.setup();
    const api = fakeApi({
      pages: {
        "": { issues: [issue("1"), issue("2")], next: "c2", previous: null },
        c2: { issues: [issue("3"), issue("4")], next: null, previous: "c1" },
        c1: { issues: [issue("1"), issue("2")], next: "c2", previous: null },
      },
    });
    show(api);
    await rowsShown(2);
    expect(screen.getByTestId("errors-previous-page")).toBeDisabled();
    expect(screen.getByTestId("errors-next-page")).toBeEnabled();

    await user.click(screen.getByTestId("errors-next-page"));
    await waitFor(() => expect(titles()).toEqual(["3", "4"]));
    expect(lastQuery(api).cursor).toBe("c2");
    expect(screen.getByTestId("errors-count")).toHaveTextContent("Page 2: 2 errors.");
    expect(screen.getByTestId("errors-next-page")).toBeDisabled();
    expect(screen.getByTestId("errors-previous-page")).toBeEnabled();

    await user.click(screen.getByTestId("errors-previous-page"));
    await waitFor(() => expect(titles()).toEqual(["1", "2"]));
    expect(lastQuery(api).cursor).toBe("c1");
    expect(screen.getByTestId("errors-count")).toHaveTextContent("Page 1: 2 errors.");

    // Refresh reads the page shown again.
    await user.click(screen.getByTestId("errors-refresh"));
    await waitFor(() => expect(api.sentryIssues).toHaveBeenCalledTimes(4));
    expect(lastQuery(api).cursor).toBe("c1");
  });

  it("says there is nothing to fix when no unresolved error is left", async () => {
    show(fakeApi({ pages: { "": { issues: [], next: null, previous: null } } }));
    expect(await screen.findByText("No unresolved errors — nothing to fix right now.")).toBeInTheDocument();
  });

  it("shows the button to connect Sentry when no project is connected", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    api.sentryIssues.mockRejectedValue(
      new SlipwayError({
        kind: "precondition",
        message: "No Sentry project is connected.",
        hint: "Connect Sentry in Settings, then come back.",
        action: "openAccounts",
      }),
    );
    const { went } = show(api);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("No Sentry project is connected.");
    // What the page is for, and no filters to fiddle with until then.
    expect(screen.getByRole("heading", { name: "No error reports to show" })).toBeInTheDocument();
    expect(screen.queryByTestId("errors-status")).toBeNull();
    await user.click(within(alert).getByRole("button", { name: "Open accounts" }));
    expect(went).toEqual(["settings"]);
    expect(screen.queryByText("No unresolved errors — nothing to fix right now.")).toBeNull();
  });

  it("remembers the filters across a restart, and ignores garbage", async () => {
    const user = userEvent.setup();
    const first = show(fakeApi(), { currentRelease: "abc123" });
    await rowsShown(3);
    await user.selectOptions(screen.getByTestId("errors-status"), "ignored");
    await user.selectOptions(screen.getByTestId("errors-sort"), "users");
    await user.selectOptions(screen.getByTestId("errors-period"), "30d");
    await user.selectOptions(screen.getByTestId("errors-release"), "currentNew");
    await user.type(screen.getByTestId("errors-search"), "KeyError");
    await waitFor(() => expect(lastQuery(first.api).text).toBe("KeyError"));
    first.view.unmount();

    const second = show(fakeApi(), { currentRelease: "abc123" });
    await waitFor(() => expect(second.api.sentryIssues).toHaveBeenCalled());
    expect(lastQuery(second.api)).toMatchObject({
      status: "ignored",
      sort: "users",
      period: "30d",
      firstRelease: "abc123",
      text: "KeyError",
    });
    expect(screen.getByTestId("errors-status")).toHaveValue("ignored");
    expect(screen.getByTestId("errors-search")).toHaveValue("KeyError");

    localStorage.setItem(FILTERS_KEY, "{not json");
    expect(loadFilters().status).toBe("unresolved");
    localStorage.setItem(FILTERS_KEY, JSON.stringify({ status: "sideways", sort: 3, period: "1y", text: "ok" }));
    expect(loadFilters()).toMatchObject({ status: "unresolved", sort: "lastSeen", period: "14d", text: "ok" });
    localStorage.setItem(FILTERS_KEY, "null");
    expect(loadFilters().status).toBe("unresolved");
  });

  it("asks for any release when the remembered one is no longer known", async () => {
    localStorage.setItem(FILTERS_KEY, JSON.stringify({ release: "live" }));
    const { api } = show(fakeApi(), { liveRelease: null });
    await rowsShown(3);
    expect(lastQuery(api)).toMatchObject({ release: null, firstRelease: null });
  });

  it("reloads when the open project changes, asking for the new one's issues", async () => {
    const project = shopProject();
    const { api } = show(fakeApi(), { project });
    await rowsShown(3);
    expect(api.sentryIssues.mock.calls[0]![0]).toBe("/p/shop");
    project.current = { name: "blog", path: "/p/blog", git: null };
    await waitFor(() => expect(api.sentryIssues).toHaveBeenCalledTimes(2));
    expect(api.sentryIssues.mock.calls[1]![0]).toBe("/p/blog");
  });
});

describe("resolving and ignoring", () => {
  it("resolves the selected errors at once, then says so", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    const answer = deferred<null>();
    api.setIssueStatus.mockReturnValue(answer.promise);
    show(api);
    const rows = await rowsShown(3);
    await user.click(within(rows[0]!).getByRole("checkbox"));
    await user.click(within(rows[2]!).getByRole("checkbox"));
    expect(screen.getByTestId("errors-selected-count")).toHaveTextContent("2 selected");

    await user.click(screen.getByTestId("errors-bulk-resolved"));
    // Gone from the unresolved list before Sentry answers.
    expect(titles()).toEqual(["2"]);
    expect(api.setIssueStatus).toHaveBeenCalledWith("/p/shop", ["1", "3"], "resolved");
    answer.resolve(null);
    await waitFor(() => expect(screen.getByTestId("errors-action-message")).toHaveTextContent("2 errors resolved."));
    expect(titles()).toEqual(["2"]);
    expect(screen.getByTestId("errors-selected-count")).toHaveTextContent("0 selected");
  });

  it("keeps the rows when the status filter still takes them, with their new status", async () => {
    const user = userEvent.setup();
    localStorage.setItem(FILTERS_KEY, JSON.stringify({ status: "all" }));
    const api = fakeApi();
    api.setIssueStatus.mockReturnValue(new Promise(() => {}));
    show(api);
    await rowsShown(3);
    await user.click(screen.getByTestId("errors-select-all"));
    expect(screen.getByTestId("errors-selected-count")).toHaveTextContent("3 selected");
    await user.click(screen.getByTestId("errors-bulk-ignored"));
    const rows = screen.getAllByTestId("errors-row");
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toHaveTextContent("Ignored");
  });

  it("puts the rows back as they were and shows why when Sentry refuses", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    const answer = deferred<null>();
    api.setIssueStatus.mockReturnValue(answer.promise);
    show(api);
    await rowsShown(3);
    await user.click(screen.getByTestId("errors-select-all"));
    await user.click(screen.getByTestId("errors-bulk-ignored"));
    expect(screen.queryAllByTestId("errors-row")).toHaveLength(0);

    answer.reject(
      new SlipwayError({
        kind: "registryDenied",
        message: "Sentry refused: the token lacks the event:write permission.",
        hint: "Create a token with event:write and enter it in Settings.",
      }),
    );
    await waitFor(() => expect(titles()).toEqual(["1", "2", "3"]));
    for (const row of screen.getAllByTestId("errors-row")) expect(row).toHaveTextContent("Unresolved");
    expect(screen.getByRole("alert")).toHaveTextContent("Sentry refused: the token lacks the event:write permission.");
    expect(screen.getByTestId("errors-action-message")).toHaveTextContent("");
    // Still ticked, so trying again is one click.
    expect(screen.getByTestId("errors-selected-count")).toHaveTextContent("3 selected");
  });
});

describe("an error's detail", () => {
  async function openFirst(api: Fake = fakeApi()) {
    const user = userEvent.setup();
    const shown = show(api);
    const rows = await rowsShown(3);
    await user.click(within(rows[0]!).getByRole("button", { name: "TypeError: cannot read 1" }));
    const detail = await screen.findByTestId("errors-detail");
    await within(detail).findByTestId("errors-event");
    return { ...shown, user, detail };
  }

  it("opens by keyboard on the latest event, with the exception and the trace where it failed first", async () => {
    const user = userEvent.setup();
    const { api } = show();
    await rowsShown(3);
    screen.getByRole("button", { name: "TypeError: cannot read 2" }).focus();
    await user.keyboard("{Enter}");
    const detail = await screen.findByTestId("errors-detail");
    await within(detail).findByTestId("errors-event");
    expect(api.sentryEvent).toHaveBeenCalledWith("/p/shop", "2", null);
    expect(within(detail).getByRole("heading", { level: 3 })).toHaveFocus();
    expect(within(detail).getByRole("heading", { level: 3 })).toHaveTextContent("TypeError: cannot read 2");
    expect(within(detail).getByTestId("errors-exception-headline")).toHaveTextContent(
      "TypeError: 'NoneType' object has no attribute 'total'",
    );
    // The issue's own detail fills in what the list lacks.
    await waitFor(() => expect(detail).toHaveTextContent("first in release 2c1d0e9"));
  });

  it("shows the project's frames open and folds each run of library frames", async () => {
    const { user, detail } = await openFirst();
    const frames = within(detail).getAllByTestId("errors-frame");
    // Own frames only, the failing one first; one library frame beneath them is folded too.
    expect(frames.map((element) => element.textContent)).toEqual([
      expect.stringContaining("checkout"),
      expect.stringContaining("dispatch"),
    ]);
    expect(frames[0]).toHaveTextContent("where it failed");
    expect(frames[1]).not.toHaveTextContent("where it failed");
    for (const element of frames) expect(element.dataset.inApp).toBe("true");

    const toggles = within(detail).getAllByTestId("errors-library-toggle");
    expect(toggles.map((toggle) => toggle.textContent?.replace(/\s+/g, " ").trim())).toEqual([
      "Show 3 library frames",
      "Show 1 library frame",
    ]);
    expect(toggles[0]).toHaveAttribute("aria-expanded", "false");

    await user.click(toggles[0]!);
    const unfolded = within(detail).getAllByTestId("errors-frame");
    expect(unfolded).toHaveLength(5);
    expect(unfolded.slice(1, 4).map((element) => element.dataset.inApp)).toEqual(["false", "false", "false"]);
    expect(toggles[0]).toHaveTextContent("Hide 3 library frames");
    // A library frame's code waits until asked for.
    expect(within(unfolded[1]!).queryByTestId("errors-context")).toBeNull();
    await user.click(within(unfolded[1]!).getByRole("button", { expanded: false }));
    expect(within(unfolded[1]!).getByTestId("errors-context")).toBeInTheDocument();
  });

  it("marks the failing line with ▶ and bold, and lists the local variables", async () => {
    const { detail } = await openFirst();
    const failing = within(detail).getAllByTestId("errors-frame")[0]!;
    const current = failing.querySelector<HTMLElement>("[data-current='true']")!;
    expect(current).toHaveTextContent("▶");
    expect(current).toHaveTextContent("total = cart.total()");
    expect(current).toHaveTextContent("(the line that failed)");
    expect(current.querySelector("strong")).not.toBeNull();
    const others = failing.querySelectorAll("[data-current='false']");
    expect(others).toHaveLength(2);
    for (const line of others) expect(line).not.toHaveTextContent("▶");

    const vars = within(failing).getByRole("table", { name: "Local variables" });
    expect(vars).toHaveTextContent("password");
    expect(vars).toHaveTextContent("[Filtered]");
    expect(failing).toHaveTextContent("shop/views.py:42");
  });

  it("shows the tags, the breadcrumbs and the request", async () => {
    const { detail } = await openFirst();
    expect(within(detail).getByTestId("errors-tags")).toHaveTextContent("browser");
    expect(within(detail).getByTestId("errors-tags")).toHaveTextContent("Firefox 133");
    const crumbs = within(detail).getByTestId("errors-breadcrumbs");
    expect(crumbs).toHaveTextContent("http");
    expect(crumbs).toHaveTextContent("GET /cart 200");
    expect(within(detail).getByTestId("errors-request")).toHaveTextContent("GET https://shop.example/checkout");
  });

  it("shows the message of an event without an exception", async () => {
    const api = fakeApi({ event: event({ exceptions: [], message: "Payment provider answered 502 three times" }) });
    const { detail } = await openFirst(api);
    expect(within(detail).getByTestId("errors-event-message")).toHaveTextContent(
      "Payment provider answered 502 three times",
    );
    expect(within(detail).queryByTestId("errors-frame")).toBeNull();
  });

  it("moves to the previous and next events", async () => {
    const { user, detail, api } = await openFirst();
    await user.click(within(detail).getByTestId("errors-next-event"));
    await waitFor(() => expect(within(detail).getByTestId("errors-event").dataset.eventId).toBe("e3"));
    expect(api.sentryEvent).toHaveBeenLastCalledWith("/p/shop", "1", "e3");
    expect(within(detail).getByTestId("errors-next-event")).toBeDisabled();
    await user.click(within(detail).getByTestId("errors-previous-event"));
    expect(api.sentryEvent).toHaveBeenLastCalledWith("/p/shop", "1", "e2aaaaaaaaaa");
  });

  it("opens the issue on Sentry in the browser", async () => {
    const { user, detail, api } = await openFirst();
    await user.click(within(detail).getByTestId("errors-open-in-sentry"));
    expect(api.openExternal).toHaveBeenCalledWith("https://sentry.example/organizations/acme/issues/1/");
  });

  it("resolves the open error: the row leaves, the detail says Resolved", async () => {
    const { user, detail, api } = await openFirst();
    expect(within(detail).getByTestId("errors-detail-unresolved")).toBeDisabled();
    await user.click(within(detail).getByTestId("errors-detail-resolved"));
    expect(api.setIssueStatus).toHaveBeenCalledWith("/p/shop", ["1"], "resolved");
    expect(titles()).toEqual(["2", "3"]);
    expect(within(detail).getByTestId("errors-detail-status")).toHaveTextContent("Resolved");
    // The button pressed keeps the focus: a status change is not another issue.
    expect(within(detail).getByTestId("errors-detail-resolved")).toHaveFocus();
    await waitFor(() => expect(screen.getByTestId("errors-action-message")).toHaveTextContent("1 error resolved."));
  });
});

describe("an issue opened from elsewhere", () => {
  it("shows on its own view, with the way back and to all errors, and tells of a resolve", async () => {
    const user = userEvent.setup();
    const backs: string[] = [];
    const changes: Array<[string[], string]> = [];
    const { api } = show(fakeApi(), {
      openIssueId: "2",
      back: { label: "Back to Release", go: () => backs.push("release") },
      onstatuschange: (ids, status) => changes.push([ids, status]),
    });
    const detail = await screen.findByTestId("errors-detail");
    expect(api.sentryIssue).toHaveBeenCalledWith("/p/shop", "2");
    expect(within(detail).getByRole("heading", { name: "TypeError: cannot read 2" })).toBeInTheDocument();
    // Its own view: not below a list of rows.
    expect(screen.queryAllByTestId("errors-row")).toHaveLength(0);
    await user.click(within(detail).getByTestId("errors-detail-resolved"));
    await waitFor(() => expect(changes).toEqual([[["2"], "resolved"]]));
    await user.click(screen.getByRole("button", { name: "← Back to Release" }));
    expect(backs).toEqual(["release"]);
    await user.click(screen.getByRole("button", { name: "All errors" }));
    await rowsShown(2);
    expect(screen.queryByTestId("errors-detail")).not.toBeInTheDocument();
  });

  it("opens from the list before the rows, not below them", async () => {
    const user = userEvent.setup();
    show();
    const rows = await rowsShown(3);
    await user.click(within(rows[2]!).getByRole("button", { name: "TypeError: cannot read 3" }));
    const detail = await screen.findByTestId("errors-detail");
    // In the page's order the detail comes first; the list stays beside it.
    expect(detail.compareDocumentPosition(rows[0]!) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(screen.queryByRole("button", { name: "All errors" })).not.toBeInTheDocument();
  });
});

describe("a Sentry release", () => {
  it("shows a full commit id as its first 7 characters", () => {
    const full = "0123456789abcdef0123456789abcdef01234567";
    expect(shortRelease(full)).toBe("0123456");
    expect(shortRelease(`shop@${full}`)).toBe("shop@0123456");
    expect(shortRelease("2.4.0")).toBe("2.4.0");
    expect(shortRelease("9e8d7c6")).toBe("9e8d7c6");
  });
});

describe("frame runs", () => {
  it("puts the failing frame first and folds library runs only when the trace has own frames", () => {
    const own = frame({ inApp: true });
    const lib = frame({ inApp: false });
    const runs = frameRuns([lib, lib, own, lib]);
    expect(runs.map((run) => [run.library, run.foldable, run.frames.map((numbered) => numbered.index)])).toEqual([
      [true, true, [3]],
      [false, false, [2]],
      [true, true, [1, 0]],
    ]);
    expect(frameRuns([lib, lib]).every((run) => !run.foldable)).toBe(true);
  });
});

describe("the project's own Sentry project", () => {
  it("names the Sentry project it shows, and asks for the open project's issues", async () => {
    const details = projectDetails("/p/shop");
    details.settings.sentryProject = { account: "acme/web", organization: "acme", project: "lettings" };
    const { links } = await fakeLinks(details);
    const { api } = show(fakeApi(), { links });
    await rowsShown(3);
    expect(screen.getByTestId("errors-source")).toHaveTextContent("Issues of acme/lettings in Sentry");
    expect(api.sentryIssues.mock.calls.every(([path]) => path === "/p/shop")).toBe(true);
  });

  it("says a project linked to no Sentry project is not, and leads to its settings to link one", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    api.sentryIssues.mockRejectedValue(
      new SlipwayError({
        kind: "precondition",
        message: "shop is not linked to a Sentry project.",
        hint: "Link it in the project's settings.",
        action: "linkSentry",
      }),
    );
    const { links } = await fakeLinks(projectDetails("/p/shop"));
    const { went, sections } = show(api, { links });
    expect(await screen.findByRole("heading", { name: "shop is not linked to a Sentry project" })).toBeInTheDocument();
    expect(screen.queryByTestId("errors-source")).toBeNull();
    expect(screen.queryByTestId("errors-status")).toBeNull();
    await user.click(screen.getByRole("button", { name: "Link…" }));
    expect(went).toEqual(["project"]);
    expect(sections).toEqual(["errors"]);
  });
});
