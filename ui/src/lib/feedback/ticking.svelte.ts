// The time now, moving on every `intervalMs` while a component that reads it is shown: for
// running clocks and "2 min ago". One timer per interval for the whole window, however many
// read it: a History page shows dozens of times, and each its own timer cost every row its
// set-up and the page a timer per row.
import { createSubscriber } from "svelte/reactivity";

type Clock = { readonly now: number };

const clocks = new Map<number, Clock>();

export function ticking(intervalMs = 1000): Clock {
  const known = clocks.get(intervalMs);
  if (known) return known;
  let now = Date.now();
  let running = false;
  const subscribe = createSubscriber((update) => {
    // Started again after nobody read it for a while: from the time now, not the last tick.
    now = Date.now();
    running = true;
    const timer = setInterval(() => {
      now = Date.now();
      update();
    }, intervalMs);
    return () => {
      running = false;
      clearInterval(timer);
    };
  });
  const clock: Clock = {
    get now() {
      subscribe();
      // Nobody was reading it: the time kept is old, take it anew.
      if (!running) now = Date.now();
      return now;
    },
  };
  clocks.set(intervalMs, clock);
  return clock;
}
