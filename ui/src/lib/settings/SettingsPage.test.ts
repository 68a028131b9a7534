import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { SlipwayError, type ComputerSettings, type DoctorReport } from "../ipc";
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

describe("the settings page", () => {
  it("runs the system check and shows a hint only where something is missing", async () => {
    const user = userEvent.setup();
    render(SettingsPage, { api: { appInfo: info, runDoctor: async () => report }, accounts: noAccounts(), computer: computer() });
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
    render(SettingsPage, { api: { appInfo: info, runDoctor: failing }, accounts: noAccounts(), computer: computer() });
    await user.click(screen.getByRole("button", { name: "Run the system check" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Could not write the log.");
    expect(alert).toHaveTextContent("Free some disk space.");
  });

  it("saves this computer's settings: the local registry, stopping at the first failure, the editor, the watch", async () => {
    const user = userEvent.setup();
    const api = computer();
    render(SettingsPage, { api: { appInfo: info, runDoctor: async () => report }, accounts: noAccounts(), computer: api });
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
    });
    expect(await screen.findByTestId("registry-in-force")).toHaveTextContent(
      "A registry given when Slipway was started is in use: 10.0.0.2:5000",
    );
    expect(document.body.textContent).not.toMatch(/SLIPWAY_|settings\.json/);
  });
});
