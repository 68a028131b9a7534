// The moment the window is ready for its first click, as a performance mark: `scripts/bench
// app` reads it to time start-up, and the bare window it is compared with sets the same one.
let marked = false;

/** Marks `app-ready` once per window; later calls do nothing. */
export function markReady(): void {
  if (marked || typeof performance === "undefined" || typeof performance.mark !== "function") return;
  marked = true;
  performance.mark("app-ready");
}
