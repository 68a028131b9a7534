import { flushSync } from "svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ticking } from "./ticking.svelte";

describe("ticking", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("moves every reader on with one timer, and stops it when nobody reads", async () => {
    // An interval no other test uses: the clock of an interval is shared by the window.
    const interval = 1234;
    const setInterval = vi.spyOn(globalThis, "setInterval");
    const first: number[] = [];
    const second: number[] = [];
    const stop = $effect.root(() => {
      $effect(() => void first.push(ticking(interval).now));
      $effect(() => void second.push(ticking(interval).now));
    });
    flushSync();
    expect(setInterval.mock.calls.filter(([, ms]) => ms === interval)).toHaveLength(1);
    vi.advanceTimersByTime(interval);
    flushSync();
    expect(first).toHaveLength(2);
    expect(second).toEqual(first);
    const [before, after] = first;
    expect((after ?? 0) - (before ?? 0)).toBe(interval);
    stop();
    await Promise.resolve();
    expect(vi.getTimerCount()).toBe(0);
    // Read later by nobody's effect: the time now, not the time the timer last kept.
    vi.advanceTimersByTime(60_000);
    expect(ticking(interval).now).toBe(Date.now());
    // And by a new reader's effect after an hour: the time now too, then moving on.
    vi.advanceTimersByTime(3_600_000);
    const later: number[] = [];
    const again = $effect.root(() => {
      $effect(() => void later.push(ticking(interval).now));
    });
    flushSync();
    expect(later).toEqual([Date.now()]);
    vi.advanceTimersByTime(interval);
    flushSync();
    expect(later).toEqual([Date.now() - interval, Date.now()]);
    again();
  });
});
