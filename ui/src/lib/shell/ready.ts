// Start-up moments as performance marks, read by `scripts/bench app` to time start-up:
// `app-ready` when the Release page shows the project's plan (the one kept from the last start,
// being checked again, or a fresh one), and `release-ready` when the Release button can first be
// pressed (the fresh plan is in). The bare window it is compared with sets `app-ready` too.
const marked = new Set<string>();

export type StartMark = "app-ready" | "release-ready";

/** Marks `name` once per window; later calls do nothing. */
export function markReady(name: StartMark = "app-ready"): void {
  if (marked.has(name) || typeof performance === "undefined" || typeof performance.mark !== "function") return;
  marked.add(name);
  performance.mark(name);
}
