import { render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { releaseRecord } from "../testing/fixtures";
import LastRelease from "./LastRelease.svelte";

describe("the last release", () => {
  it("is live now only while its container runs", async () => {
    const record = releaseRecord({ outcome: "live", liveNow: true, target: "local" });
    const { rerender } = render(LastRelease, { props: { record } });
    expect(screen.getByTestId("last-release")).toHaveTextContent("Last release: Live now");
    await rerender({ record, notRunning: true });
    expect(screen.getByTestId("last-release")).toHaveTextContent("Last release: Was live");
  });
});
