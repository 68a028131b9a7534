// How long the log view takes per frame while 100,000 lines stream in, a thousand a frame as the
// backend batches them, under jsdom (slower than a browser). Generous bounds: only a real
// regression fails (a view that draws every line, or rows made again each frame).
import { render, screen } from "@testing-library/svelte";
import { flushSync } from "svelte";
import { describe, expect, it } from "vitest";
import VirtualLog from "./VirtualLog.svelte";

const LINES = 100_000;
const PER_FRAME = 1000;
/** Per frame, the median: jsdom on a loaded machine; the window's own target (50 ms for the
 * longest frame) is `scripts/bench app`'s to measure. */
const FRAME_BOUND_MS = 300;

describe("the log view's speed", () => {
  it("takes 100,000 lines a thousand a frame, each frame quickly, drawing only the rows in view", async () => {
    const lines: string[] = [];
    const view = render(VirtualLog, { props: { lines, version: 0, label: "Tests output" } });
    const log = screen.getByRole("log", { name: "Tests output" });
    const rowsAtFirst = new Set<Element>();
    const frames: number[] = [];
    for (let frame = 0; frame < LINES / PER_FRAME; frame++) {
      const start = performance.now();
      for (let n = 0; n < PER_FRAME; n++) {
        const index = frame * PER_FRAME + n;
        lines.push(`tests/test_shop.py::test_case_${index} PASSED [${String(index % 100).padStart(3)}%]`);
      }
      await view.rerender({ lines, version: frame + 1, label: "Tests output" });
      flushSync();
      frames.push(performance.now() - start);
      if (frame === 1) for (const row of log.querySelectorAll(".row")) rowsAtFirst.add(row);
    }
    frames.sort((a, b) => a - b);
    const median = frames[frames.length >> 1] ?? Number.NaN;
    const worst = frames[frames.length - 1] ?? Number.NaN;
    console.log(`log view: ${LINES} lines, ${PER_FRAME} a frame: median ${median.toFixed(1)} ms, worst ${worst.toFixed(1)} ms`);
    expect(log.dataset.lines).toBe(String(LINES));
    const rows = [...log.querySelectorAll(".row")];
    // The end is in view, and only a window of rows is drawn.
    expect(rows.at(-1)?.textContent).toContain(`test_case_${LINES - 1} `);
    expect(rows.length).toBeLessThan(100);
    // The rows drawn at the start are the rows drawn at the end: text changes, no rows are made.
    expect(rows.filter((row) => rowsAtFirst.has(row)).length).toBe(rows.length);
    expect(median).toBeLessThan(FRAME_BOUND_MS);
  }, 60_000);
});
