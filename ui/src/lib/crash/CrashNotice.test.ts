import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { CrashReport } from "../ipc";
import CrashNotice from "./CrashNotice.svelte";
import { CrashStore } from "./crash.svelte";

const report = (change: Partial<CrashReport> = {}): CrashReport => ({
  at: "2026-12-07T21:00:00Z",
  version: "0.1.0",
  face: "the window",
  message: "index out of bounds: the len is 0 but the index is 0, at src-tauri/pipeline/run.rs:10:5",
  doing: ["A release of /p/lettings, at its push step"],
  logFolder: "/home/ann/.local/share/dev.slipway.app/logs",
  stopped: true,
  ...change,
});

function handed(crash: CrashReport | null): void {
  (globalThis as { __SLIPWAY_START__?: unknown }).__SLIPWAY_START__ = {
    recents: [],
    lastKnown: null,
    launch: { open: null, choose: false },
    crash,
  };
}

describe("the crash notice", () => {
  it("says what Slipway was doing and where the log is, copies the details, and goes when dismissed", async () => {
    const user = userEvent.setup();
    const writeText = vi.fn(async (_text: string) => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const dismissCrash = vi.fn(async () => null);
    const crash = new CrashStore({ dismissCrash });
    handed(report());
    crash.readStart();
    render(CrashNotice, { crash });

    const notice = screen.getByRole("alert");
    expect(notice).toHaveTextContent("Slipway stopped unexpectedly");
    expect(notice).toHaveTextContent(/^Slipway stopped unexpectedly The window broke .+, during: A release of \/p\/lettings, at its push step\./);
    expect(notice).toHaveTextContent("The log of that day is in /home/ann/.local/share/dev.slipway.app/logs");
    await user.click(screen.getByRole("button", { name: "Copy details" }));
    expect(writeText).toHaveBeenCalledWith(
      [
        "Slipway 0.1.0, the window, 2026-12-07T21:00:00Z",
        "Stopped after: index out of bounds: the len is 0 but the index is 0, at src-tauri/pipeline/run.rs:10:5",
        "Doing: A release of /p/lettings, at its push step",
        "Log folder: /home/ann/.local/share/dev.slipway.app/logs",
      ].join("\n"),
    );
    expect(screen.getByRole("button", { name: "Copied" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Dismiss" }));
    expect(dismissCrash).toHaveBeenCalledTimes(1);
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("tells a job that broke while the app went on from a stop, and shows nothing without a crash", () => {
    const crash = new CrashStore({ dismissCrash: vi.fn(async () => null) });
    handed(report({ stopped: false, doing: [] }));
    crash.readStart();
    const { unmount } = render(CrashNotice, { crash });
    expect(screen.getByRole("alert")).toHaveTextContent("Slipway ran into an error it did not expect");
    expect(screen.getByRole("alert")).toHaveTextContent(", while nothing else was running. It went on");
    unmount();

    handed(null);
    crash.readStart();
    render(CrashNotice, { crash });
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });
});
