import { describe, expect, it } from "vitest";
import { announcement, inWords, type RunMoment } from "./announce";

const moment = (change: Partial<RunMoment>): RunMoment => ({
  kind: "release",
  projectName: "lettings",
  running: true,
  runningStep: null,
  failedSteps: [],
  outcome: null,
  ...change,
});

describe("what a screen reader hears", () => {
  it("names the step running, and a failure as soon as it happens", () => {
    expect(announcement(moment({}))).toBe("Releasing lettings: starting.");
    expect(announcement(moment({ runningStep: "tests" }))).toBe("Releasing lettings: Tests running.");
    expect(announcement(moment({ runningStep: "tests", failedSteps: ["lint"] }))).toBe(
      "Releasing lettings: Tests running. Lint failed.",
    );
  });

  it("says how it ended, every failed step named", () => {
    const ended = { running: false, runningStep: null };
    expect(announcement(moment({ ...ended, outcome: "failed", failedSteps: ["tests", "lint"] }))).toBe(
      "Release failed at Tests and Lint.",
    );
    expect(announcement(moment({ ...ended, outcome: "live" }))).toBe("Release done: lettings is live.");
    expect(announcement(moment({ ...ended, kind: "rollback", outcome: "canceled" }))).toBe("Rollback cancelled.");
    expect(announcement(moment({ ...ended, outcome: "error" }))).toBe("Release failed.");
  });

  it("joins names as a sentence does", () => {
    expect(inWords([])).toBe("");
    expect(inWords(["Tests"])).toBe("Tests");
    expect(inWords(["Tests", "Lint", "Other checks"])).toBe("Tests, Lint and Other checks");
  });
});
