import { describe, expect, it } from "vitest";
import { releaseRecord } from "../testing/fixtures";
import {
  detailTitle,
  kindBadge,
  promotionQuestion,
  releaseName,
  rollbackQuestion,
  standing,
  standingWords,
} from "./words";

const now = new Date(2026, 11, 6, 14, 30).getTime();
const local = (month: number, day: number, hour: number, minute: number) => new Date(2026, month, day, hour, minute).toISOString();
const today = { commit: "a1b2c3d4e5f6", startedAt: local(11, 6, 14, 2) };
const yesterday = { commit: "9f8e7d6c5b4a", startedAt: local(11, 5, 17, 40) };

describe("History's words", () => {
  it("tells now from then", () => {
    const words = (overrides: Parameters<typeof releaseRecord>[0]) => standingWords[standing(releaseRecord(overrides))];
    expect(words({ outcome: "live", liveNow: true })).toBe("Live now");
    expect(words({ outcome: "live", liveNow: false })).toBe("Was live");
    expect(words({ outcome: "failed" })).toBe("Failed");
    expect(words({ outcome: "canceled" })).toBe("Cancelled");
    expect(words({ outcome: "error" })).toBe("Could not run");
    expect(words({ outcome: "interrupted" })).toBe("Interrupted");
    expect(words({ outcome: "running" })).toBe("Running");
  });

  it("names a release by its commit and time, never its id", () => {
    expect(releaseName(yesterday, now)).toBe("9f8e7d6 (yesterday 17:40)");
    expect(releaseName({ commit: null, startedAt: today.startedAt }, now)).toBe("the release of today 14:02");
  });

  it("gives each kind its badge", () => {
    const source = { id: "20261205T174000Z-1", environment: "staging", endedAt: null, ...yesterday };
    expect(kindBadge(releaseRecord({ kind: "release" }), now)).toBe("Release");
    expect(kindBadge(releaseRecord({ kind: "rollback", source }), now)).toBe("Rollback to 9f8e7d6 (yesterday 17:40)");
    expect(kindBadge(releaseRecord({ kind: "rollback", source: null }), now)).toBe("Rollback");
    expect(kindBadge(releaseRecord({ kind: "promote", source }), now)).toBe("Promotion from staging");
    expect(kindBadge(releaseRecord({ kind: "promote", source: { ...source, environment: "local" } }), now)).toBe(
      "Promotion from this computer",
    );
    expect(kindBadge(releaseRecord({ kind: "resume" }), now)).toBe("Resumed release");
  });

  it("heads the detail with what, where and when", () => {
    const release = releaseRecord({ ...today, environment: "production", target: "render" });
    expect(detailTitle(release, now)).toBe("Release of a1b2c3d to production, today 14:02");
    const source = { id: "r0", environment: "production", endedAt: null, ...yesterday };
    expect(detailTitle({ ...release, kind: "rollback", source }, now)).toBe(
      "Rollback to 9f8e7d6 (yesterday 17:40) on production, today 14:02",
    );
    expect(detailTitle({ ...release, kind: "rollback", source }, now)).not.toContain("r0");
  });

  it("asks before a rollback or a promotion, saying what is live now and what will be", () => {
    expect(rollbackQuestion("production", today, yesterday, now)).toBe(
      "Roll back production from a1b2c3d (today 14:02) to 9f8e7d6 (yesterday 17:40)?",
    );
    expect(rollbackQuestion("local", today, yesterday, now)).toBe(
      "Roll back the app on this computer from a1b2c3d (today 14:02) to 9f8e7d6 (yesterday 17:40)?",
    );
    expect(rollbackQuestion("production", null, yesterday, now)).toBe("Roll back production to 9f8e7d6 (yesterday 17:40)?");
    expect(promotionQuestion("staging", "production", yesterday, today, now)).toBe(
      "Promote 9f8e7d6 (yesterday 17:40) from staging to production, in place of a1b2c3d (today 14:02)?",
    );
    expect(promotionQuestion("local", "staging", yesterday, null, now)).toBe(
      "Promote 9f8e7d6 (yesterday 17:40) from this computer to staging?",
    );
  });
});

describe("a row's steps in short", () => {
  it("says the step that stopped it, else how many passed", async () => {
    const { stepsInShort } = await import("./words");
    const step = (name: string, state: "passed" | "failed" | "canceled" | "pending" | "running") => ({ name, state });
    expect(stepsInShort([step("tests", "passed"), step("lint", "failed"), step("build", "pending")])).toBe("Lint failed");
    expect(stepsInShort([step("deploy", "canceled")])).toBe("Deploy cancelled");
    expect(stepsInShort([step("tests", "passed"), step("build", "running")])).toBe("Build running");
    expect(stepsInShort([step("tests", "passed"), step("lint", "passed")])).toBe("all 2 steps passed");
    expect(stepsInShort([step("deploy", "passed")])).toBe("its step passed");
  });
});
