import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it } from "vitest";
import { api, SlipwayError, toSlipwayError } from ".";

describe("the IPC module", () => {
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

  it("treats anything else as unknown, never losing the message", () => {
    expect(toSlipwayError("bridge broke")).toMatchObject({ kind: "unknown", message: "bridge broke" });
    expect(toSlipwayError(new Error("boom")).message).toBe("boom");
  });
});
