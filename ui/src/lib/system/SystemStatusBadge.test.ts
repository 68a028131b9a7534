import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AppError, SystemStatus } from "../ipc";
import { latch } from "../testing/fakes";
import { appError, dockerDown as dockerUnavailable } from "../testing/fixtures";
import SystemStatusBadge from "./SystemStatusBadge.svelte";
import { keyringLabel, SystemStore } from "./system.svelte";

/** Docker down, with the raw cause to fold under the message. */
const dockerDown: AppError = { ...dockerUnavailable, detail: "connect: no such file or directory" };

const keyringLocked = appError({
  kind: "keyringUnavailable",
  message: "Your keyring is locked.",
  hint: "Unlock your keyring (it usually unlocks when you log in), then try again.",
  action: "retry",
});

const healthy: SystemStatus = { docker: null, dockerVersion: "27.3.1", keyring: null };

/** A backend whose answers come from a queue (the last one repeats); `hold` keeps the next one
 * pending until released. */
function fakeApi(...answers: [SystemStatus, ...SystemStatus[]]) {
  let asked = 0;
  const held = latch();
  return {
    api: {
      systemStatus: async (): Promise<SystemStatus> => {
        asked += 1;
        const answer = answers.length > 1 ? answers.shift()! : answers[0];
        if (held.pending) await held.pending;
        return answer;
      },
    },
    get asked() {
      return asked;
    },
    hold: held.hold,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("Docker coming back", () => {
  it("is asked every few seconds while down, turns the badge green with no click, then stops asking", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let docker: AppError | null = dockerDown;
    let asked = 0;
    const system = new SystemStore(
      {
        systemStatus: async () => {
          asked += 1;
          return { docker, dockerVersion: docker ? null : "27.3.1", keyring: null };
        },
      },
      2500,
    );
    render(SystemStatusBadge, { system });
    const stop = system.watch();
    expect(await screen.findByRole("button", { name: "Docker is not running" })).toBeInTheDocument();
    await vi.advanceTimersByTimeAsync(2500);
    await vi.advanceTimersByTimeAsync(2500);
    expect(asked).toBe(3);
    expect(system.dockerReturns).toBe(0);

    docker = null;
    await vi.advanceTimersByTimeAsync(2500);
    expect(await screen.findByText("Docker running")).toBeInTheDocument();
    expect(system.dockerReturns).toBe(1);
    // Up: no more asking on a timer (focus still asks).
    await vi.advanceTimersByTimeAsync(2500 * 4);
    expect(asked).toBe(4);
    stop();
  });

  it("keeps asking while the check itself fails, and stops when no longer watched", async () => {
    vi.useFakeTimers();
    let asked = 0;
    const system = new SystemStore(
      {
        systemStatus: async () => {
          asked += 1;
          throw new Error("bridge gone");
        },
      },
      2500,
    );
    const stop = system.watch();
    await vi.advanceTimersByTimeAsync(2500);
    expect(asked).toBe(2);
    expect(system.error).not.toBeNull();
    stop();
    await vi.advanceTimersByTimeAsync(2500 * 3);
    expect(asked).toBe(2);
  });
});

describe("the system store", () => {
  it("knows nothing while the first check runs: neither ready nor broken", async () => {
    const fake = fakeApi(healthy);
    const release = fake.hold();
    const system = new SystemStore(fake.api);
    const asking = system.refresh();
    expect(system.checking).toBe(true);
    expect(system.dockerReady).toBeNull();
    expect(system.keyringReady).toBeNull();
    expect(system.dockerProblem).toBeNull();
    release();
    await asking;
    expect(system.dockerReady).toBe(true);
    expect(system.keyringReady).toBe(true);
    expect(system.dockerVersion).toBe("27.3.1");
  });

  it("asks at start and again when the window regains focus or is shown", async () => {
    const fake = fakeApi({ docker: dockerDown, dockerVersion: null, keyring: null }, healthy);
    const system = new SystemStore(fake.api);
    const stop = system.watch();
    await waitFor(() => expect(system.dockerReady).toBe(false));
    expect(fake.asked).toBe(1);

    window.dispatchEvent(new Event("focus"));
    await waitFor(() => expect(system.dockerReady).toBe(true));
    expect(fake.asked).toBe(2);

    Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
    await waitFor(() => expect(fake.asked).toBe(3));
    // Back to jsdom's own (the property was shadowed on the instance above).
    delete (document as { visibilityState?: DocumentVisibilityState }).visibilityState;

    stop();
    window.dispatchEvent(new Event("focus"));
    await Promise.resolve();
    expect(fake.asked).toBe(3);
  });

  it("shares a check already on its way", async () => {
    const fake = fakeApi(healthy);
    const release = fake.hold();
    const system = new SystemStore(fake.api);
    const first = system.refresh();
    const second = system.refresh();
    release();
    await Promise.all([first, second]);
    expect(fake.asked).toBe(1);
  });

  it("forgets the last answer when it cannot ask at all", async () => {
    let fail = false;
    const system = new SystemStore({
      systemStatus: async () => {
        if (fail) throw new Error("bridge gone");
        return healthy;
      },
    });
    await system.refresh();
    fail = true;
    await system.refresh();
    expect(system.dockerReady).toBeNull();
    expect(system.error?.kind).toBe("unknown");
  });

  it("puts a keyring problem in a few words", () => {
    expect(keyringLabel(keyringLocked)).toBe("Keyring locked");
    expect(keyringLabel({ ...keyringLocked, message: "This computer has no keyring for Slipway to keep your tokens in." })).toBe("No keyring");
    expect(keyringLabel({ ...keyringLocked, message: "Your keyring did not answer." })).toBe("Keyring not answering");
    expect(keyringLabel({ ...keyringLocked, message: "Something odd." })).toBe("Keyring unavailable");
  });
});

describe("the system status badge", () => {
  it("says it is checking Docker before the first answer", async () => {
    const fake = fakeApi(healthy);
    fake.hold();
    const system = new SystemStore(fake.api);
    void system.refresh();
    render(SystemStatusBadge, { system });
    expect(screen.getByTestId("system-status")).toHaveTextContent("Checking Docker…");
  });

  it("says Docker runs, with its version in the tooltip, and says nothing of a working keyring", async () => {
    const system = new SystemStore(fakeApi(healthy).api);
    await system.refresh();
    render(SystemStatusBadge, { system });
    const badge = screen.getByText("Docker running");
    expect(badge).toHaveAttribute("title", "Docker Engine 27.3.1");
    expect(screen.getByTestId("system-status")).not.toHaveTextContent(/keyring/i);
    expect(screen.queryByRole("button")).not.toBeInTheDocument();
  });

  it("opens what to do when Docker is not running, and closes once a check finds it fixed", async () => {
    const user = userEvent.setup();
    const fake = fakeApi({ docker: dockerDown, dockerVersion: null, keyring: null }, healthy);
    const system = new SystemStore(fake.api);
    await system.refresh();
    render(SystemStatusBadge, { system });
    const badge = screen.getByRole("button", { name: "Docker is not running" });
    expect(badge).toHaveAttribute("aria-expanded", "false");
    await user.click(badge);
    const panel = screen.getByRole("dialog", { name: "Docker" });
    expect(within(panel).getByRole("alert")).toHaveTextContent("Slipway cannot reach Docker on this computer.");
    expect(within(panel).getByRole("alert")).toHaveTextContent("Start Docker, then try again.");
    expect(within(panel).getByRole("button", { name: "Start Docker" })).toBeInTheDocument();

    await user.click(within(panel).getByRole("button", { name: "Check again" }));
    await waitFor(() => expect(screen.getByText("Docker running")).toBeInTheDocument());
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(fake.asked).toBe(2);
  });

  it("shows a failing keyring by its message, with Check again and no second retry button", async () => {
    const user = userEvent.setup();
    const system = new SystemStore(fakeApi({ ...healthy, keyring: keyringLocked }).api);
    await system.refresh();
    render(SystemStatusBadge, { system });
    expect(screen.getByText("Docker running")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Keyring locked" }));
    const panel = screen.getByRole("dialog", { name: "Keyring" });
    expect(panel).toHaveTextContent("Unlock your keyring");
    expect(within(panel).getByRole("button", { name: "Check again" })).toBeEnabled();
    expect(within(panel).queryByRole("button", { name: "Try again" })).not.toBeInTheDocument();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
  });

  it("disables Check again while it checks", async () => {
    const user = userEvent.setup();
    const fake = fakeApi({ docker: dockerDown, dockerVersion: null, keyring: null });
    const system = new SystemStore(fake.api);
    await system.refresh();
    render(SystemStatusBadge, { system });
    await user.click(screen.getByRole("button", { name: "Docker is not running" }));
    const release = fake.hold();
    await user.click(screen.getByRole("button", { name: "Check again" }));
    expect(screen.getByRole("button", { name: "Checking…" })).toBeDisabled();
    release();
    await waitFor(() => expect(screen.getByRole("button", { name: "Check again" })).toBeEnabled());
    // Still down: the panel stays with what to do.
    expect(screen.getByRole("dialog", { name: "Docker" })).toBeInTheDocument();
  });
});

describe("the engine in use", () => {
  it("names the Docker context the engine comes from, and nothing for the local engine", async () => {
    const team = new SystemStore(fakeApi({ ...healthy, dockerContext: "team" }).api);
    await team.refresh();
    const { unmount } = render(SystemStatusBadge, { system: team });
    expect(await screen.findByTestId("docker-context")).toHaveTextContent("context team");
    unmount();
    const local = new SystemStore(fakeApi(healthy).api);
    await local.refresh();
    render(SystemStatusBadge, { system: local });
    expect(await screen.findByText("Docker running")).toBeInTheDocument();
    expect(screen.queryByTestId("docker-context")).toBeNull();
  });
});
