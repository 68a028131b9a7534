import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { SlipwayError, type Account, type ReleaseEvent, type ReleaseSummary, type SentryIssue, type WatchEvent, type WatchSummary } from "../ipc";
import { issueOfSection, issueSection, navigationContext } from "../shell/navigation";
import { fakeNavigation } from "../testing/fakes";
import { appError, releaseRecord, releaseSummary, sentryAccount } from "../testing/fixtures";
import { hourMinute, WatchStore, type WatchApi } from "./watch.svelte";
import WatchPanel from "./WatchPanel.svelte";

const project = { path: "/home/ann/lettings", name: "lettings" };
const until = "2026-11-24T11:30:00Z";

const sentry = sentryAccount({ verifiedAt: null });

function issue(id: string, title: string): SentryIssue {
  return {
    id,
    shortId: `WEB-${id}`,
    title,
    culprit: null,
    level: "error",
    status: "unresolved",
    count: 1,
    userCount: 1,
    firstSeen: null,
    lastSeen: null,
    permalink: null,
    firstRelease: "lettings@abc1234",
    isUnhandled: true,
  };
}

function summary(ended: string, newIssues: SentryIssue[] = [], error: WatchSummary["error"] = null): WatchSummary {
  return { releaseId: "r1", version: "lettings@abc1234", newIssues, ended, error, rolledBack: null };
}

/** A backend whose watch runs until the test ends it (or Stop does). */
function fakeApi(accounts: Account[] = [sentry]) {
  const watches: Array<{ path: string; releaseId: string | null; send: (event: WatchEvent) => void; end: (summary: WatchSummary) => void; fail: (error: unknown) => void }> = [];
  let rollbackEvents: (event: ReleaseEvent) => void = () => {};
  let rollbackDone: (summary: ReleaseSummary) => void = () => {};
  let rollbackFail: (error: unknown) => void = () => {};
  const api = {
    listAccounts: vi.fn(async () => accounts),
    startWatch: vi.fn(
      (path: string, releaseId: string | null, onEvent: (event: WatchEvent) => void) =>
        new Promise<WatchSummary>((resolve, reject) => {
          watches.push({ path, releaseId, send: onEvent, end: resolve, fail: reject });
        }),
    ),
    stopWatch: vi.fn(async (path: string) => {
      const watch = [...watches].reverse().find((item) => item.path === path);
      watch?.send({ kind: "ended", ...summary("stopped") });
      watch?.end(summary("stopped"));
      return true;
    }),
    // What went live on the target: the watched release, and the good one before it.
    listReleases: vi.fn(async () => [
      releaseRecord({ id: "r1", commit: "abc1234", outcome: "live" }),
      releaseRecord({ id: "r0", commit: "0ld0000", outcome: "live", startedAt: "2026-12-05T17:40:00Z" }),
    ]),
    startRollback: vi.fn(
      (_path: string, _target: string, _to: string | null, onEvent: (event: ReleaseEvent) => void) =>
        new Promise<ReleaseSummary>((resolve, reject) => {
          rollbackEvents = onEvent;
          rollbackDone = resolve;
          rollbackFail = reject;
        }),
    ),
  } satisfies WatchApi;
  return {
    api,
    watches,
    rollback: {
      send: (event: ReleaseEvent) => rollbackEvents(event),
      end: (result: ReleaseSummary) => rollbackDone(result),
      fail: (error: unknown) => rollbackFail(error),
    },
  };
}

const rolledBack = releaseSummary({ releaseId: "r2", image: "lettings:0ld", url: "http://127.0.0.1:32768/" });

async function watching(fake = fakeApi()) {
  const watch = new WatchStore(fake.api);
  void watch.afterRelease(project, "local", "r1");
  await waitFor(() => expect(fake.watches).toHaveLength(1));
  fake.watches[0]!.send({ kind: "started", releaseId: "r1", version: "lettings@abc1234", until });
  return watch;
}

describe("the watch after a release", () => {
  it("starts only when a Sentry account is connected, once per release", async () => {
    const none = fakeApi([]);
    const quiet = new WatchStore(none.api);
    await quiet.afterRelease(project, "local", "r1");
    expect(none.api.startWatch).not.toHaveBeenCalled();
    expect(quiet.watching).toBe(false);

    const fake = fakeApi();
    const watch = new WatchStore(fake.api);
    void watch.afterRelease(project, "render", "r1");
    void watch.afterRelease(project, "render", "r1");
    await waitFor(() => expect(fake.api.startWatch).toHaveBeenCalledTimes(1));
    expect(fake.api.startWatch).toHaveBeenCalledWith(project.path, "r1", expect.any(Function));
    expect(watch.watching).toBe(true);
    expect(watch.shows(project.path)).toBe(true);
    expect(watch.shows("/elsewhere")).toBe(false);
  });

  it("counts each new issue once, and says how it ended when its time ran out", async () => {
    const fake = fakeApi();
    const watch = await watching(fake);
    const first = issue("1", "ZeroDivisionError: division by zero");
    fake.watches[0]!.send({ kind: "newIssue", issue: first });
    fake.watches[0]!.send({ kind: "checked", at: "2026-11-24T10:05:00Z", newIssues: 1 });
    render(WatchPanel, { props: { watch }, context: navigationContext(fakeNavigation().navigation) });
    expect(screen.getByTestId("watch-status")).toHaveTextContent(`Watching Sentry until ${hourMinute(until)} · 1 new issue since this release`);
    expect(screen.getByText(`Last asked at ${hourMinute("2026-11-24T10:05:00Z")}.`)).toBeInTheDocument();

    // The end repeats the issue already seen: still one.
    fake.watches[0]!.send({ kind: "ended", ...summary("time", [first]) });
    fake.watches[0]!.end(summary("time", [first]));
    await waitFor(() => expect(watch.watching).toBe(false));
    expect(watch.issues).toHaveLength(1);
    await waitFor(() => expect(screen.getByTestId("watch-status")).toHaveTextContent(/^Watched Sentry until [^·]+ · 1 new issue since this release\.$/));
    expect(screen.queryByRole("button", { name: "Stop watching" })).not.toBeInTheDocument();
  });

  it("tells a failed watch with its message and what to do", async () => {
    const fake = fakeApi();
    const watch = await watching(fake);
    const refused = appError({ kind: "registryAuth", message: "Sentry refused the credentials.", hint: "Re-enter the Sentry token in Settings." });
    fake.watches[0]!.end(summary("failed", [], refused));
    await waitFor(() => expect(watch.ended?.how).toBe("failed"));
    render(WatchPanel, { props: { watch } });
    expect(screen.getByTestId("watch-status")).toHaveTextContent(/^Watching Sentry failed at [^·]+ · 0 new issues since this release\.$/);
    expect(screen.getByRole("alert")).toHaveTextContent("Sentry refused the credentials.");
    expect(screen.getByRole("alert")).toHaveTextContent("Re-enter the Sentry token in Settings.");
  });

  it("tells a watch that could not start", async () => {
    const fake = fakeApi();
    const watch = new WatchStore(fake.api);
    void watch.afterRelease(project, "local", "r1");
    await waitFor(() => expect(fake.watches).toHaveLength(1));
    fake.watches[0]!.fail(new SlipwayError({ kind: "precondition", message: "No Sentry project is set.", hint: "Choose one in Settings." }));
    await waitFor(() => expect(watch.ended?.how).toBe("failed"));
    expect(watch.ended?.error?.message).toBe("No Sentry project is set.");
  });

  it("says when Sentry could not be asked, and clears it once it answers", async () => {
    const fake = fakeApi();
    const watch = await watching(fake);
    render(WatchPanel, { props: { watch } });
    fake.watches[0]!.send({ kind: "trouble", message: "Sentry did not answer in time." });
    expect(await screen.findByText(/Sentry could not be asked: Sentry did not answer in time\. Slipway keeps trying\./)).toBeInTheDocument();
    fake.watches[0]!.send({ kind: "checked", at: "2026-11-24T10:06:00Z", newIssues: 0 });
    await waitFor(() => expect(screen.queryByText(/could not be asked/)).not.toBeInTheDocument());
  });

  it("says when the environment rolled back by itself, and offers no second rollback", async () => {
    const fake = fakeApi();
    const watch = await watching(fake);
    render(WatchPanel, { props: { watch } });
    fake.watches[0]!.send({ kind: "newIssue", issue: issue("1", "ZeroDivisionError: division by zero") });
    expect(await screen.findByRole("button", { name: "Roll back to the last good release" })).toBeInTheDocument();
    const said = "Rolled back by itself to the release of 3f2a1bc (8 Dec 00:14): it is live again.";
    fake.watches[0]!.send({ kind: "rolledBack", message: said, live: true });
    expect(await screen.findByTestId("watch-automatic")).toHaveTextContent(said);
    expect(screen.queryByRole("button", { name: "Roll back to the last good release" })).not.toBeInTheDocument();
  });

  it("keeps the rollback button when the automatic rollback could not run", async () => {
    const fake = fakeApi();
    const watch = await watching(fake);
    render(WatchPanel, { props: { watch } });
    fake.watches[0]!.send({ kind: "newIssue", issue: issue("1", "ZeroDivisionError: division by zero") });
    const said = "No automatic rollback: no earlier release went live on production.";
    fake.watches[0]!.send({ kind: "rolledBack", message: said, live: false });
    expect(await screen.findByTestId("watch-automatic")).toHaveTextContent(said);
    expect(screen.getByRole("button", { name: "Roll back to the last good release" })).toBeInTheDocument();
  });

  it("stops when asked, and says so", async () => {
    const user = userEvent.setup();
    const fake = fakeApi();
    const watch = await watching(fake);
    render(WatchPanel, { props: { watch } });
    await user.click(screen.getByRole("button", { name: "Stop watching" }));
    expect(fake.api.stopWatch).toHaveBeenCalledWith(project.path);
    await waitFor(() => expect(screen.getByTestId("watch-status")).toHaveTextContent(/^Stopped watching Sentry at [^·]+ · 0 new issues since this release\.$/));
  });

  it("replaces the watch of an older release: the old one ends before the new one starts", async () => {
    const fake = fakeApi();
    const watch = await watching(fake);
    fake.watches[0]!.send({ kind: "newIssue", issue: issue("1", "Old trouble") });
    void watch.afterRelease(project, "local", "r2");
    await waitFor(() => expect(fake.watches).toHaveLength(2));
    expect(fake.api.stopWatch).toHaveBeenCalledTimes(1);
    expect(fake.watches[1]!.releaseId).toBe("r2");
    expect(watch.releaseId).toBe("r2");
    expect(watch.issues).toEqual([]);
    expect(watch.watching).toBe(true);
    // The old watch's late events change nothing.
    fake.watches[0]!.send({ kind: "newIssue", issue: issue("9", "Late") });
    expect(watch.issues).toEqual([]);
  });

  it("lists each new issue as a way to that issue on the Errors page, and rolls back in one click", async () => {
    const user = userEvent.setup();
    const fake = fakeApi();
    const watch = await watching(fake);
    const { navigation, went, sections } = fakeNavigation();
    render(WatchPanel, { props: { watch }, context: navigationContext(navigation) });
    expect(screen.queryByRole("button", { name: "Roll back to the last good release" })).not.toBeInTheDocument();
    fake.watches[0]!.send({ kind: "newIssue", issue: issue("1", "ZeroDivisionError: division by zero") });
    fake.watches[0]!.send({ kind: "newIssue", issue: issue("2", "KeyError: 'user'") });

    const list = await screen.findByRole("list", { name: "New issues since this release" });
    expect(within(list).getAllByRole("listitem")).toHaveLength(2);
    expect(screen.getByTestId("watch-status")).toHaveTextContent("2 new issues since this release");
    await user.click(within(list).getByRole("button", { name: /WEB-2 KeyError: 'user'/ }));
    expect(went).toEqual(["errors"]);
    expect(sections).toEqual([issueSection("2")]);
    expect(issueOfSection(sections[0]!)).toBe("2");

    await user.click(screen.getByRole("button", { name: "Roll back to the last good release" }));
    // It asks first, saying what is live and what will be.
    const asked = await screen.findByRole("alertdialog");
    expect(asked).toHaveTextContent(/Roll back .* from abc1234 .* to 0ld0000/);
    expect(fake.api.startRollback).not.toHaveBeenCalled();
    await user.click(within(asked).getByRole("button", { name: "Roll back" }));
    // What ships is the release the question named.
    expect(fake.api.startRollback).toHaveBeenCalledWith(project.path, "local", "r0", expect.any(Function));
    expect(screen.getByRole("button", { name: "Roll back to the last good release" })).toBeDisabled();
    fake.rollback.send({ kind: "rollbackStarted", releaseId: "r2", sourceId: "r0" });
    fake.rollback.send({ kind: "step", step: "deploy", state: "running", elapsedMs: null, summary: null });
    await waitFor(() => expect(screen.getByTestId("watch-rollback")).toHaveTextContent("Rolling back to the last good release… · Deploy"));
    fake.rollback.end(rolledBack);
    await waitFor(() =>
      expect(screen.getByTestId("watch-rollback")).toHaveTextContent("Rolled back: the last good release is live again at http://127.0.0.1:32768/."),
    );
    // Back on the good release: the bad one's watch is over.
    expect(fake.api.stopWatch).toHaveBeenCalledWith(project.path);
    await waitFor(() => expect(screen.getByTestId("watch-status")).toHaveTextContent(/^Stopped watching Sentry/));
    expect(screen.queryByRole("button", { name: "Roll back to the last good release" })).not.toBeInTheDocument();
  });

  it("counts only the issues still open: one resolved on the Errors page leaves the count and the alarm", async () => {
    const fake = fakeApi();
    const watch = await watching(fake);
    render(WatchPanel, { props: { watch } });
    fake.watches[0]!.send({ kind: "newIssue", issue: issue("1", "ZeroDivisionError: division by zero") });
    fake.watches[0]!.send({ kind: "newIssue", issue: issue("2", "KeyError: 'user'") });
    await waitFor(() => expect(screen.getByTestId("watch-status")).toHaveTextContent("2 new issues since this release"));

    watch.statusChanged(["1"], "resolved");
    watch.statusChanged(["99"], "resolved");
    expect(watch.openIssues.map((open) => open.id)).toEqual(["2"]);
    await waitFor(() => expect(screen.getByTestId("watch-status")).toHaveTextContent("1 new issue since this release"));
    expect(screen.getAllByTestId("watch-issue")[0]).toHaveTextContent("WEB-1 ZeroDivisionError: division by zero (resolved)");
    expect(screen.getByRole("button", { name: "Roll back to the last good release" })).toBeInTheDocument();

    watch.statusChanged(["2"], "ignored");
    await waitFor(() => expect(screen.getByTestId("watch-status")).toHaveTextContent("0 new issues since this release"));
    expect(screen.queryByRole("button", { name: "Roll back to the last good release" })).not.toBeInTheDocument();
    // Sentry sending one again counts it once, with the status the window knows.
    fake.watches[0]!.send({ kind: "newIssue", issue: issue("2", "KeyError: 'user'") });
    expect(watch.issues).toHaveLength(2);
  });

  it("shows why a rollback failed, and tries again", async () => {
    const user = userEvent.setup();
    const fake = fakeApi();
    const watch = await watching(fake);
    fake.watches[0]!.send({ kind: "newIssue", issue: issue("1", "Boom") });
    render(WatchPanel, { props: { watch } });
    await user.click(await screen.findByRole("button", { name: "Roll back to the last good release" }));
    await user.click(within(await screen.findByRole("alertdialog")).getByRole("button", { name: "Roll back" }));
    fake.rollback.fail(new SlipwayError({ kind: "precondition", message: "No earlier release went live.", hint: "Release a fixed version instead." }));
    expect(await screen.findByRole("alert")).toHaveTextContent("No earlier release went live.");
    expect(screen.getByTestId("watch-rollback")).toHaveTextContent("The rollback did not start.");
    await user.click(screen.getByRole("button", { name: "Roll back to the last good release" }));
    await user.click(within(await screen.findByRole("alertdialog")).getByRole("button", { name: "Roll back" }));
    expect(fake.api.startRollback).toHaveBeenCalledTimes(2);
    fake.rollback.end({ ...rolledBack, outcome: "failed", url: null, message: "Render refused the deploy.", error: null });
    await waitFor(() => expect(screen.getByTestId("watch-rollback")).toHaveTextContent("The rollback failed: Render refused the deploy."));
    expect(watch.watching).toBe(true);
  });
});

describe("the way back from the watch", () => {
  it("is not offered after the very first release, when nothing went live there before", async () => {
    const fake = fakeApi();
    fake.api.listReleases.mockResolvedValue([releaseRecord({ id: "r1", commit: "abc1234", outcome: "live" })]);
    const watch = await watching(fake);
    render(WatchPanel, { props: { watch } });
    fake.watches[0]!.send({ kind: "newIssue", issue: issue("1", "ZeroDivisionError: division by zero") });
    await waitFor(() => expect(screen.getByTestId("watch-status")).toHaveTextContent("1 new issue since this release"));
    expect(fake.api.listReleases).toHaveBeenCalledWith(expect.objectContaining({ outcome: "live", environment: "local" }));
    expect(screen.queryByRole("button", { name: "Roll back to the last good release" })).not.toBeInTheDocument();
  });
});
