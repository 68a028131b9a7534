import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { SlipwayError, type ComputerSettings, type DoctorReport, type TeamHistoryView } from "../ipc";
import { teamConnected, teamHistoryView } from "../testing/fixtures";
import SettingsPage from "./SettingsPage.svelte";
import { AccountsStore } from "./accounts.svelte";

const noAccounts = () =>
  new AccountsStore({
    listAccounts: async () => [],
    connectRegistry: async () => { throw new Error("unused"); },
    connectRender: async () => { throw new Error("unused"); },
    connectRenderHook: async () => { throw new Error("unused"); },
    connectSentry: async () => { throw new Error("unused"); },
    connectCircleci: async () => { throw new Error("unused"); },
    sentryProjects: async () => { throw new Error("unused"); },
    removeAccount: async () => null,
    checkAllAccounts: async () => [],
  });

const report: DoctorReport = {
  version: "0.1.0",
  ok: false,
  dataDir: "/data",
  logDir: "/data/logs",
  checks: [
    { id: "git", name: "git", ok: true, required: true, detail: "git version 2.39.5", hint: null },
    {
      id: "dockerEngine",
      name: "Docker Engine",
      ok: false,
      required: true,
      detail: "no Docker Engine answers at unix:///var/run/docker.sock",
      hint: "Start the Docker Engine, then try again.",
    },
  ],
};

const info = async () => ({ version: "0.1.0", dataDir: "/data", logDir: "/data/logs" });

function computer(settings: Partial<ComputerSettings> = {}) {
  let kept: ComputerSettings = {
    localRegistry: null,
    localRegistryInForce: null,
    stopAtFirstFailure: false,
    editorCommand: null,
    watchMinutes: 15,
    ...settings,
  };
  return {
    computerSettings: vi.fn(async () => kept),
    saveComputerSettings: vi.fn(async (next: ComputerSettings) => (kept = { ...next })),
  };
}

/** A backend whose history is `start`; connecting answers with `connected` (or throws it). */
function team(start: TeamHistoryView = teamHistoryView(), connected: TeamHistoryView | Error = teamConnected()) {
  let kept = start;
  return {
    teamHistory: vi.fn(async () => kept),
    connectTeamHistory: vi.fn(async (_url: string, _password: string | null) => {
      if (connected instanceof Error) throw connected;
      return (kept = connected);
    }),
    disconnectTeamHistory: vi.fn(async () => (kept = teamHistoryView())),
  };
}

const noDoctor = { appInfo: info, runDoctor: async () => report };

describe("the settings page", () => {
  it("runs the system check and shows a hint only where something is missing", async () => {
    const user = userEvent.setup();
    render(SettingsPage, { api: { appInfo: info, runDoctor: async () => report }, accounts: noAccounts(), computer: computer(), team: team() });
    expect(await screen.findByText("/data/logs")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Run the system check" }));
    const results = await screen.findByRole("list", { name: "System check results" });
    expect(results).toHaveTextContent("git version 2.39.5");
    expect(results).toHaveTextContent("Start the Docker Engine");
    expect(screen.getAllByText(/Start the Docker Engine/)).toHaveLength(1);
    expect(screen.getByRole("status")).toHaveTextContent("Something Slipway needs is missing.");
    expect(screen.getByRole("button", { name: "Check again" })).toBeEnabled();
  });

  it("shows a failing check call as an error with its hint", async () => {
    const user = userEvent.setup();
    const failing = async (): Promise<DoctorReport> => {
      throw new SlipwayError({ kind: "io", message: "Could not write the log.", hint: "Free some disk space." });
    };
    render(SettingsPage, { api: { appInfo: info, runDoctor: failing }, accounts: noAccounts(), computer: computer(), team: team() });
    await user.click(screen.getByRole("button", { name: "Run the system check" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Could not write the log.");
    expect(alert).toHaveTextContent("Free some disk space.");
  });

  it("saves this computer's settings: the local registry, stopping at the first failure, the editor, the watch", async () => {
    const user = userEvent.setup();
    const api = computer();
    render(SettingsPage, { api: { appInfo: info, runDoctor: async () => report }, accounts: noAccounts(), computer: api, team: team() });
    const form = await screen.findByRole("form", { name: "This computer" });
    const save = screen.getByRole("button", { name: "Save" });
    expect(save).toBeDisabled();
    await user.type(screen.getByLabelText("Local registry"), " 127.0.0.1:5000 ");
    await user.click(screen.getByLabelText("Stop at the first failure"));
    await user.type(screen.getByLabelText("Editor"), "code --goto {{file}:{{line}");
    await user.clear(screen.getByLabelText("Watch Sentry after a release (minutes)"));
    await user.type(screen.getByLabelText("Watch Sentry after a release (minutes)"), "30");
    await user.click(save);
    expect(api.saveComputerSettings).toHaveBeenCalledWith({
      localRegistry: "127.0.0.1:5000",
      localRegistryInForce: null,
      stopAtFirstFailure: true,
      editorCommand: "code --goto {file}:{line}",
      watchMinutes: 30,
    });
    expect(await screen.findByText("Saved. The next plan and release use it.")).toBeInTheDocument();
    expect(form).not.toHaveTextContent("settings.json");
  });

  it("says when a registry given as Slipway started is the one in use", async () => {
    render(SettingsPage, {
      api: { appInfo: info, runDoctor: async () => report },
      accounts: noAccounts(),
      computer: computer({ localRegistry: "127.0.0.1:5000", localRegistryInForce: "10.0.0.2:5000" }),
      team: team(),
    });
    expect(await screen.findByTestId("registry-in-force")).toHaveTextContent(
      "A registry given when Slipway was started is in use: 10.0.0.2:5000",
    );
    expect(document.body.textContent).not.toMatch(/SLIPWAY_|settings\.json/);
  });

  it("connects the team's history: the password goes once and never comes back, and the standing shows", async () => {
    const user = userEvent.setup();
    let answer!: (view: TeamHistoryView) => void;
    const api = team();
    api.connectTeamHistory.mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)));
    render(SettingsPage, { api: noDoctor, accounts: noAccounts(), computer: computer(), team: api });
    const form = await screen.findByRole("form", { name: "Team history" });
    expect(form).toHaveTextContent("Releases are kept on this computer only.");
    expect(within(form).queryByRole("button", { name: "Use this computer's own history" })).toBeNull();
    const address = within(form).getByLabelText("Address");
    expect(address).toHaveAttribute("placeholder", "postgres://user@host:5432/slipway");
    const password = within(form).getByLabelText("Password");
    expect(password).toHaveAttribute("type", "password");
    await user.type(address, " postgres://slipway@127.0.0.1:5432/team ");
    await user.type(password, "s3cret");
    await user.click(within(form).getByRole("button", { name: "Connect" }));
    expect(within(form).getByRole("button", { name: "Checking…" })).toBeDisabled();
    expect(api.connectTeamHistory).toHaveBeenCalledWith("postgres://slipway@127.0.0.1:5432/team", "s3cret");
    answer(teamConnected({ unsent: 2 }));
    expect(await within(form).findByTestId("team-place")).toHaveTextContent(
      "Releases are kept in the team's history on 127.0.0.1:5432/team.",
    );
    expect(within(form).getByTestId("team-answer")).toHaveTextContent("The server is answering.");
    expect(within(form).getByTestId("team-unsent")).toHaveTextContent("2 releases made here are still to be sent.");
    expect(within(form).getByLabelText("Password")).toHaveValue("");
    expect(within(form).getByLabelText("Address")).toHaveValue("postgres://slipway@127.0.0.1:5432/team");
    expect(document.body.textContent).not.toContain("s3cret");
    expect(within(form).getByTestId("team-import")).toHaveTextContent("slipway history import --from");
  });

  it("connects without a password as none, and shows a refused connection through the usual notice", async () => {
    const user = userEvent.setup();
    const refused = new SlipwayError({
      kind: "registryAuth",
      message: "The team's PostgreSQL refused the login slipway.",
      hint: "Check the user and the password, then connect again.",
    });
    const api = team(teamHistoryView(), refused);
    render(SettingsPage, { api: noDoctor, accounts: noAccounts(), computer: computer(), team: api });
    const form = await screen.findByRole("form", { name: "Team history" });
    await user.type(within(form).getByLabelText("Address"), "postgres://slipway@db:5432/team");
    await user.click(within(form).getByRole("button", { name: "Connect" }));
    expect(api.connectTeamHistory).toHaveBeenCalledWith("postgres://slipway@db:5432/team", null);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("The team's PostgreSQL refused the login slipway.");
    expect(alert).toHaveTextContent("Check the user and the password");
    expect(within(form).getByRole("button", { name: "Connect" })).toBeEnabled();
    expect(form).toHaveTextContent("Releases are kept on this computer only.");
  });

  it("says why the team's server does not answer, and goes back to this computer's own history", async () => {
    const user = userEvent.setup();
    const api = team(teamConnected({ reachable: false, problem: "connection refused at 127.0.0.1:5432.", unsent: 1 }));
    render(SettingsPage, { api: noDoctor, accounts: noAccounts(), computer: computer(), team: api });
    const form = await screen.findByRole("form", { name: "Team history" });
    expect(await within(form).findByTestId("team-answer")).toHaveTextContent(
      "The server is not answering: connection refused at 127.0.0.1:5432.",
    );
    expect(within(form).getByTestId("team-unsent")).toHaveTextContent("1 release made here is still to be sent.");
    await user.click(within(form).getByRole("button", { name: "Use this computer's own history" }));
    expect(api.disconnectTeamHistory).toHaveBeenCalledTimes(1);
    expect(await within(form).findByText(/Releases are kept on this computer only/)).toBeInTheDocument();
    expect(within(form).getByLabelText("Address")).toHaveValue("");
    expect(within(form).queryByTestId("team-import")).toBeNull();
  });

  it("names SLIPWAY_HISTORY_URL when the address comes from it, and lets nothing change it", async () => {
    const api = team(teamConnected({ fromEnvironment: true }));
    render(SettingsPage, { api: noDoctor, accounts: noAccounts(), computer: computer(), team: api });
    const form = await screen.findByRole("form", { name: "Team history" });
    expect(await within(form).findByTestId("team-from-environment")).toHaveTextContent(
      "This address comes from SLIPWAY_HISTORY_URL",
    );
    expect(within(form).getByLabelText("Address")).toBeDisabled();
    expect(within(form).queryByLabelText("Password")).toBeNull();
    expect(within(form).queryByRole("button", { name: "Connect" })).toBeNull();
    expect(within(form).queryByRole("button", { name: "Use this computer's own history" })).toBeNull();
  });

  it("asks the server's standing again until the first answer is known", async () => {
    const user = userEvent.setup();
    const api = team(teamHistoryView(), teamConnected({ reachable: null }));
    render(SettingsPage, { api: noDoctor, accounts: noAccounts(), computer: computer(), team: api, teamPollMs: 5 });
    const form = await screen.findByRole("form", { name: "Team history" });
    await user.type(within(form).getByLabelText("Address"), "postgres://slipway@127.0.0.1:5432/team");
    api.teamHistory.mockResolvedValueOnce(teamConnected({ reachable: null }));
    api.teamHistory.mockResolvedValue(teamConnected({ reachable: true }));
    await user.click(within(form).getByRole("button", { name: "Connect" }));
    expect(await within(form).findByText("The server is answering.")).toBeInTheDocument();
    // Known: no more asking.
    const asked = api.teamHistory.mock.calls.length;
    expect(asked).toBeGreaterThanOrEqual(3);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(api.teamHistory).toHaveBeenCalledTimes(asked);
  });
});
