import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { SlipwayError, type DoctorReport } from "../ipc";
import SettingsPage from "./SettingsPage.svelte";
import { AccountsStore } from "./accounts.svelte";

const noAccounts = () =>
  new AccountsStore({
    listAccounts: async () => [],
    connectRegistry: async () => { throw new Error("unused"); },
    connectRender: async () => { throw new Error("unused"); },
    chooseRenderService: async () => { throw new Error("unused"); },
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

describe("the settings page", () => {
  it("runs the system check and shows a hint only where something is missing", async () => {
    const user = userEvent.setup();
    render(SettingsPage, { api: { appInfo: info, runDoctor: async () => report }, accounts: noAccounts() });
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
    render(SettingsPage, { api: { appInfo: info, runDoctor: failing }, accounts: noAccounts() });
    await user.click(screen.getByRole("button", { name: "Run the system check" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Could not write the log.");
    expect(alert).toHaveTextContent("Free some disk space.");
  });
});
