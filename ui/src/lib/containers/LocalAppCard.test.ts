import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SlipwayError, type AppAction, type AppOutput, type LocalApp } from "../ipc";
import { latch, openedInBrowser } from "../testing/fakes";
import { releaseRecord } from "../testing/fixtures";
import LocalAppCard from "./LocalAppCard.svelte";
import { LocalAppStore, OUTPUT_LINES_KEPT, OUTPUT_POLL_MS, STATE_POLL_MS, type LocalAppApi } from "./localApp.svelte";

const path = "/home/ann/lettings";

const release = releaseRecord({ id: "r-20261124-1", projectPath: path, commit: "abc1234def5678" });

function running(overrides: Partial<LocalApp> = {}): LocalApp {
  return {
    name: "slipway-lettings",
    state: "running",
    running: true,
    since: new Date(Date.now() - 5 * 60_000).toISOString(),
    endedAt: null,
    exitCode: null,
    url: "http://127.0.0.1:49153/",
    releaseId: release.id,
    release,
    image: "lettings:abc1234",
    canRunAgain: false,
    ...overrides,
  };
}

function stopped(): LocalApp {
  return running({ state: "stopped", running: false, url: null, endedAt: new Date(Date.now() - 60_000).toISOString(), canRunAgain: true });
}

function exited(code: number): LocalApp {
  return running({ state: "exited", running: false, url: null, exitCode: code, endedAt: new Date(Date.now() - 120_000).toISOString(), canRunAgain: true });
}

function removed(canRunAgain = true): LocalApp {
  return running({ state: "removed", running: false, url: null, since: null, canRunAgain });
}

/** A backend with one container; each call is written down. */
function fakeApi(initial: LocalApp | null = running()) {
  let app = initial;
  const calls: string[] = [];
  const outputs: AppOutput[] = [];
  const held = latch();
  const api: LocalAppApi = {
    localApp: async () => {
      calls.push("localApp");
      return app;
    },
    actOnLocalApp: async (_path: string, action: AppAction) => {
      calls.push(action);
      if (held.pending) await held.pending;
      app = action === "stop" ? stopped() : running();
      return app;
    },
    localAppOutput: async (_path: string, since: number) => {
      calls.push(`output ${since}`);
      return outputs.shift() ?? { lines: [], nextSince: since };
    },
  };
  return {
    api,
    calls,
    outputs,
    hold: held.hold,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("the running-on-this-machine card", () => {
  it("shows where the app answers, since when, and which release it is", async () => {
    const { api } = fakeApi();
    render(LocalAppCard, { path, api });
    const card = await screen.findByTestId("local-app-card");
    expect(within(card).getByRole("heading", { name: "Running on this machine" })).toBeInTheDocument();
    expect(within(card).getByTestId("local-app-state")).toHaveTextContent("Running");
    expect(within(card).getByTestId("local-app-url")).toHaveAttribute("href", "http://127.0.0.1:49153/");
    expect(card).toHaveTextContent("started 5 min ago");
    // The release by its commit; its id only on hover.
    expect(card).not.toHaveTextContent("r-20261124-1");
    expect(within(card).getByText("abc1234")).toBeInTheDocument();
    expect(within(card).getByRole("button", { name: "Stop" })).toBeEnabled();
    expect(within(card).getByRole("button", { name: "Restart" })).toBeEnabled();
  });

  it("opens the address in the system browser, not in Slipway's window", async () => {
    const user = userEvent.setup();
    const opened = openedInBrowser();
    const { api } = fakeApi();
    render(LocalAppCard, { path, api });
    await user.click(await screen.findByTestId("local-app-url"));
    await waitFor(() => expect(opened).toEqual(["http://127.0.0.1:49153/"]));
  });

  it("renders nothing when nothing of the project is on this machine, and says so to its parent", async () => {
    const fake = fakeApi(null);
    const store = new LocalAppStore(fake.api);
    render(LocalAppCard, { path, store });
    await waitFor(() => expect(store.loaded).toBe(true));
    expect(store.present).toBe(false);
    expect(screen.queryByTestId("local-app-card")).not.toBeInTheDocument();
  });

  it("asks again when the parent says a release happened", async () => {
    const fake = fakeApi(null);
    let app: LocalApp | null = null;
    const api: LocalAppApi = { ...fake.api, localApp: async () => app };
    const { rerender } = render(LocalAppCard, { path, api, refreshOn: null });
    await Promise.resolve();
    expect(screen.queryByTestId("local-app-card")).not.toBeInTheDocument();
    app = running();
    await rerender({ path, api, refreshOn: "r-20261124-1" });
    expect(await screen.findByTestId("local-app-card")).toBeInTheDocument();
  });

  it("stops, with its buttons disabled while it works, then offers Start", async () => {
    const user = userEvent.setup();
    const fake = fakeApi();
    render(LocalAppCard, { path, api: fake.api });
    const release = fake.hold();
    await user.click(await screen.findByRole("button", { name: "Stop" }));
    expect(screen.getByRole("button", { name: "Stopping…" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Restart" })).toBeDisabled();
    release();
    await waitFor(() => expect(screen.getByTestId("local-app-state")).toHaveTextContent("Stopped"));
    expect(screen.queryByTestId("local-app-url")).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Start" }));
    await waitFor(() => expect(screen.getByTestId("local-app-state")).toHaveTextContent("Running"));
    expect(fake.calls).toEqual(["localApp", "stop", "restart"]);
  });

  it("shows why an action failed, and Try again repeats that action", async () => {
    const user = userEvent.setup();
    const fake = fakeApi();
    let refusals = 1;
    const api: LocalAppApi = {
      ...fake.api,
      actOnLocalApp: async (p, action) => {
        if (refusals-- > 0) {
          throw new SlipwayError({ kind: "network", message: "Docker did not answer in time.", hint: "Try again." });
        }
        return fake.api.actOnLocalApp(p, action);
      },
    };
    render(LocalAppCard, { path, api });
    await user.click(await screen.findByRole("button", { name: "Restart" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Docker did not answer in time.");
    await user.click(screen.getByRole("button", { name: "Try again" }));
    await waitFor(() => expect(screen.queryByRole("alert")).not.toBeInTheDocument());
    expect(fake.calls).toContain("restart");
  });

  it("stays away without Docker (the header says it) but shows other failures to ask", async () => {
    const docker: LocalAppApi = {
      ...fakeApi().api,
      localApp: async () => {
        throw new SlipwayError({ kind: "dockerUnavailable", message: "Docker is not running.", hint: "Start it." });
      },
    };
    const store = new LocalAppStore(docker);
    const { unmount } = render(LocalAppCard, { path, store });
    await waitFor(() => expect(store.loaded).toBe(true));
    expect(screen.queryByTestId("local-app-card")).not.toBeInTheDocument();
    unmount();

    const broken: LocalAppApi = {
      ...fakeApi().api,
      localApp: async () => {
        throw new SlipwayError({ kind: "io", message: "The history could not be read.", hint: "Try again." });
      },
    };
    render(LocalAppCard, { path, api: broken });
    const card = await screen.findByTestId("local-app-card");
    expect(within(card).getByRole("alert")).toHaveTextContent("The history could not be read.");
  });

  it("follows the output live while it is shown, and stops when hidden", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    const fake = fakeApi();
    fake.outputs.push({ lines: ["Booting worker", "Listening at :8000"], nextSince: 1000 });
    fake.outputs.push({ lines: ["GET / 200"], nextSince: 1002 });
    render(LocalAppCard, { path, api: fake.api });
    await user.click(await screen.findByRole("button", { name: "Show its output" }));
    const log = await screen.findByRole("log", { name: "Output of slipway-lettings" });
    await waitFor(() => expect(log).toHaveTextContent("Listening at :8000"));
    await vi.advanceTimersByTimeAsync(OUTPUT_POLL_MS);
    await waitFor(() => expect(log).toHaveTextContent("GET / 200"));
    expect(fake.calls.filter((call) => call.startsWith("output"))).toEqual(["output 0", "output 1000"]);

    await user.click(screen.getByRole("button", { name: "Hide its output" }));
    expect(screen.queryByRole("log")).not.toBeInTheDocument();
    const outputAsks = () => fake.calls.filter((call) => call.startsWith("output")).length;
    const asked = outputAsks();
    await vi.advanceTimersByTimeAsync(OUTPUT_POLL_MS * 3);
    expect(outputAsks()).toBe(asked);
  });

  it("stops following when the card goes away", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    const fake = fakeApi();
    const { unmount } = render(LocalAppCard, { path, api: fake.api });
    await user.click(await screen.findByRole("button", { name: "Show its output" }));
    await waitFor(() => expect(fake.calls).toContain("output 0"));
    unmount();
    const asked = fake.calls.length;
    await vi.advanceTimersByTimeAsync(OUTPUT_POLL_MS * 3);
    expect(fake.calls).toHaveLength(asked);
  });
});

describe("the card's state, as the engine says it now", () => {
  it("turns Removed within one poll when the container is removed outside Slipway, and offers only Run it again", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let app: LocalApp | null = running();
    const fake = fakeApi();
    const asked: string[] = [];
    const api: LocalAppApi = {
      ...fake.api,
      localApp: async () => {
        asked.push("localApp");
        return app;
      },
    };
    render(LocalAppCard, { path, api });
    expect(await screen.findByTestId("local-app-state")).toHaveTextContent("Running");
    app = removed();
    await vi.advanceTimersByTimeAsync(STATE_POLL_MS);
    await waitFor(() => expect(screen.getByTestId("local-app-state")).toHaveTextContent("Removed"));
    const card = screen.getByTestId("local-app-card");
    expect(within(card).getByRole("heading", { name: "On this machine" })).toBeInTheDocument();
    expect(card).not.toHaveTextContent("started");
    expect(within(card).queryByRole("button", { name: "Restart" })).not.toBeInTheDocument();
    expect(within(card).queryByRole("button", { name: "Stop" })).not.toBeInTheDocument();
    expect(within(card).queryByRole("button", { name: "Show its output" })).not.toBeInTheDocument();
    expect(within(card).getByRole("button", { name: "Run it again" })).toBeEnabled();
    expect(asked.length).toBe(2);
  });

  it("asks at once when the window regains focus", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let app: LocalApp | null = running();
    const api: LocalAppApi = { ...fakeApi().api, localApp: async () => app };
    render(LocalAppCard, { path, api });
    expect(await screen.findByTestId("local-app-state")).toHaveTextContent("Running");
    app = stopped();
    window.dispatchEvent(new Event("focus"));
    await waitFor(() => expect(screen.getByTestId("local-app-state")).toHaveTextContent("Stopped"));
    expect(screen.getByTestId("local-app-card")).toHaveTextContent("stopped 1 min ago");
  });

  it("shows an exit code, and Run it again starts the same container", async () => {
    const user = userEvent.setup();
    const fake = fakeApi(exited(1));
    render(LocalAppCard, { path, api: fake.api });
    expect(await screen.findByTestId("local-app-state")).toHaveTextContent("Exited (code 1)");
    expect(screen.getByTestId("local-app-card")).toHaveTextContent("exited 2 min ago");
    expect(screen.queryByRole("button", { name: "Stop" })).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Run it again" }));
    await waitFor(() => expect(screen.getByTestId("local-app-state")).toHaveTextContent("Running"));
    expect(fake.calls).toContain("runAgain");
  });

  it("offers no button that cannot work: a removed app whose image is gone says so instead", async () => {
    render(LocalAppCard, { path, api: fakeApi(removed(false)).api });
    const card = await screen.findByTestId("local-app-card");
    expect(within(card).getByTestId("local-app-state")).toHaveTextContent("Removed");
    expect(within(card).queryAllByRole("button")).toHaveLength(0);
    expect(within(card).getByTestId("local-app-cannot")).toHaveTextContent("release again to run it here");
  });

  it("after an action fails because the container is gone, shows the error and the state it is in now", async () => {
    const user = userEvent.setup();
    let app: LocalApp | null = running();
    const api: LocalAppApi = {
      ...fakeApi().api,
      localApp: async () => app,
      actOnLocalApp: async () => {
        app = removed();
        throw new SlipwayError({ kind: "notFound", message: "Nothing of this project runs on this machine.", hint: "Release it." });
      },
    };
    render(LocalAppCard, { path, api });
    await user.click(await screen.findByRole("button", { name: "Restart" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Nothing of this project runs on this machine.");
    await waitFor(() => expect(screen.getByTestId("local-app-state")).toHaveTextContent("Removed"));
    expect(screen.queryByRole("button", { name: "Restart" })).not.toBeInTheDocument();
  });

  it("draws the output's colours instead of printing their codes", async () => {
    const user = userEvent.setup();
    const fake = fakeApi();
    fake.outputs.push({ lines: ["\x1b[32mINFO\x1b[0m Booting worker"], nextSince: 1 });
    render(LocalAppCard, { path, api: fake.api });
    await user.click(await screen.findByRole("button", { name: "Show its output" }));
    const log = await screen.findByRole("log");
    await waitFor(() => expect(log).toHaveTextContent("INFO Booting worker"));
    expect(log.textContent).not.toContain("\x1b");
    expect(log.querySelector("span[style]")?.textContent).toBe("INFO");
  });

  it("stops asking when the card goes away", async () => {
    vi.useFakeTimers();
    const asked: string[] = [];
    const store = new LocalAppStore({ ...fakeApi().api, localApp: async () => (asked.push("localApp"), running()) });
    await store.load(path);
    const stop = store.watch(path);
    await vi.advanceTimersByTimeAsync(STATE_POLL_MS * 2);
    expect(asked).toHaveLength(3);
    stop();
    await vi.advanceTimersByTimeAsync(STATE_POLL_MS * 3);
    window.dispatchEvent(new Event("focus"));
    expect(asked).toHaveLength(3);
  });
});

describe("the local app store", () => {
  it(`keeps only the last ${OUTPUT_LINES_KEPT} lines`, async () => {
    vi.useFakeTimers();
    const fake = fakeApi();
    const many = Array.from({ length: 1500 }, (_, index) => `line ${index}`);
    fake.outputs.push({ lines: many, nextSince: 1 }, { lines: many, nextSince: 2 });
    const store = new LocalAppStore(fake.api);
    const stop = store.follow(path);
    await vi.advanceTimersByTimeAsync(OUTPUT_POLL_MS);
    stop();
    expect(store.output).toHaveLength(OUTPUT_LINES_KEPT);
    expect(store.output.at(-1)).toBe("line 1499");
    expect(store.output[0]).toBe("line 1000");
  });

  it("keeps following through a failed poll, and clears its error when one succeeds", async () => {
    vi.useFakeTimers();
    const fake = fakeApi();
    let failures = 1;
    const store = new LocalAppStore({
      ...fake.api,
      localAppOutput: async (p, since) => {
        if (failures-- > 0) throw new SlipwayError({ kind: "dockerUnavailable", message: "Docker stopped.", hint: "Start it." });
        return fake.api.localAppOutput(p, since);
      },
    });
    const stop = store.follow(path);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.outputError?.message).toBe("Docker stopped.");
    await vi.advanceTimersByTimeAsync(OUTPUT_POLL_MS);
    expect(store.outputError).toBeNull();
    stop();
  });

  it("forgets one project's app when another opens", async () => {
    const store = new LocalAppStore({
      ...fakeApi().api,
      localApp: async (p) => (p === path ? running() : null),
    });
    await store.load(path);
    expect(store.present).toBe(true);
    await store.load("/home/ann/other");
    expect(store.present).toBe(false);
  });
});
