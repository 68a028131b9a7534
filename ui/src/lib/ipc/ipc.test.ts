import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it } from "vitest";
import { openedInBrowser } from "../testing/fakes";
import { taskInfo, teamConnected, teamHistoryView } from "../testing/fixtures";
import { api, openExternal, SlipwayError, toSlipwayError, type ReleaseEvent, type TaskInfo } from ".";

describe("the IPC module", () => {
  it("hears the backend's task list each time it changes, until told to stop", async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const heard: TaskInfo[][] = [];
    const stop = await api.onTasks((tasks) => heard.push(tasks));
    const rollback = taskInfo({ id: 2, kind: "rollback", project: "/p/shop", step: "deploy" });
    await emit("slipway://tasks", [rollback]);
    await emit("slipway://tasks", []);
    stop();
    await emit("slipway://tasks", [rollback]);
    expect(heard).toEqual([[rollback], []]);
  });

  it("passes arguments by name and returns the typed answer", async () => {
    let seen: unknown = null;
    mockIPC((cmd, args) => {
      seen = { cmd, args };
      return { name: "x", path: "/x", git: null };
    });
    await expect(api.openProject("/x")).resolves.toEqual({ name: "x", path: "/x", git: null });
    expect(seen).toEqual({ cmd: "open_project", args: { path: "/x" } });
  });

  it("turns a backend AppError into a SlipwayError with kind and hint", async () => {
    mockIPC(() => {
      throw { kind: "validation", message: "No folder was given.", hint: "Type or pick the project's folder." };
    });
    const error = await api.openProject("").catch((raw: unknown) => raw);
    expect(error).toBeInstanceOf(SlipwayError);
    expect(error).toMatchObject({ kind: "validation", message: "No folder was given.", hint: "Type or pick the project's folder." });
  });

  it("treats anything else as unknown in plain words, keeping the raw message as its detail", () => {
    expect(toSlipwayError("bridge broke")).toMatchObject({ kind: "unknown", action: "retry", detail: "bridge broke" });
    expect(toSlipwayError(new Error("boom")).detail).toBe("boom");
    expect(toSlipwayError(new Error("boom")).message).not.toContain("boom");
  });

  it("keeps the action and the detail the backend sends, and never needs the terminal wording", async () => {
    mockIPC(() => {
      throw {
        kind: "dockerUnavailable",
        message: "Docker is not running.",
        hint: "Start Docker, then try again.",
        action: "startDocker",
        detail: "connection refused (os error 111)",
        terminalHint: "Run `docker ps` to check.",
      };
    });
    const error = await api.recentProjects().catch((raw: unknown) => raw);
    expect(error).toMatchObject({ kind: "dockerUnavailable", action: "startDocker", detail: "connection refused (os error 111)" });
  });

  it("opens only web addresses in the browser, through the opener plugin", async () => {
    const opened = openedInBrowser();
    await openExternal("https://lettings.example/");
    expect(opened).toEqual(["https://lettings.example/"]);
    for (const refused of ["file:///etc/passwd", "javascript:alert(1)", "not an address", "/relative"]) {
      await expect(openExternal(refused)).rejects.toMatchObject({ kind: "validation" });
    }
    expect(opened).toHaveLength(1);
  });
  it("asks for the open project's own Sentry issues and changes its environments by name", async () => {
    const seen: Array<{ cmd: string; args: unknown }> = [];
    mockIPC((cmd, args) => {
      seen.push({ cmd, args });
      return cmd === "sentry_issues" ? { issues: [], next: null, previous: null } : null;
    });
    const query = { status: "unresolved", environment: null, release: null, firstRelease: null, text: null, sort: "lastSeen", period: null, cursor: null, limit: 100 } as const;
    await api.sentryIssues("/p/lettings", query);
    await api.sentryEvent("/p/lettings", "42", null);
    await api.setIssueStatus("/p/lettings", ["42"], "resolved");
    await api.changeEnvironment("/p/lettings", "production", { imageRepository: "", makeDefault: false });
    await api.linkSentryProject("/p/lettings", "acme/web", "acme", "lettings");
    expect(seen).toEqual([
      { cmd: "sentry_issues", args: { path: "/p/lettings", query } },
      { cmd: "sentry_event", args: { path: "/p/lettings", issueId: "42", eventId: null } },
      { cmd: "set_issue_status", args: { path: "/p/lettings", issueIds: ["42"], status: "resolved" } },
      { cmd: "change_environment", args: { path: "/p/lettings", name: "production", change: { imageRepository: "", makeDefault: false } } },
      { cmd: "link_sentry_project", args: { path: "/p/lettings", account: "acme/web", organization: "acme", project: "lettings" } },
    ]);
  });

  it("hands a release's events, sent in batches, to onEvent one at a time and in order", async () => {
    const line = (text: string): ReleaseEvent => ({ kind: "log", step: "tests", line: text, atMs: 0 });
    mockIPC((cmd, args) => {
      // The mock hands the command the channel itself; the backend sends arrays of events.
      const channel = (args as { onEvent: { onmessage?: (events: ReleaseEvent[]) => void } }).onEvent;
      channel.onmessage?.([line("one"), line("two")]);
      channel.onmessage?.([line("three")]);
      return { cmd };
    });
    const seen: string[] = [];
    await api.startRelease("/x", { environment: "production", confirmDirty: false, noCache: false, withoutTeamHistory: false }, (event) => {
      if (event.kind === "log") seen.push(event.line);
    });
    expect(seen).toEqual(["one", "two", "three"]);
  });

  it("connects the team's history with the password as its own argument, and goes back to this computer's", async () => {
    const seen: Array<{ cmd: string; args: unknown }> = [];
    mockIPC((cmd, args) => {
      seen.push({ cmd, args });
      return cmd === "connect_team_history" ? teamConnected() : teamHistoryView();
    });
    expect(await api.teamHistory()).toEqual(teamHistoryView());
    expect((await api.connectTeamHistory("postgres://slipway@127.0.0.1:5432/team", "s3cret")).place).toBe("127.0.0.1:5432/team");
    expect((await api.disconnectTeamHistory()).url).toBeNull();
    expect(seen).toEqual([
      { cmd: "team_history", args: {} },
      { cmd: "connect_team_history", args: { url: "postgres://slipway@127.0.0.1:5432/team", password: "s3cret" } },
      { cmd: "disconnect_team_history", args: {} },
    ]);
  });
});
