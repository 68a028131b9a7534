// Why the Release button cannot be pressed, in words shown beside it: a greyed-out button with
// the reason only in a tooltip leaves a person guessing.
import type { Plan } from "../ipc";

export interface ReleaseGate {
  plan: Plan | null;
  /** A plan is being worked out again (the one shown may be stale). */
  planning: boolean;
  /** The plan shown is the one kept from the last start. */
  stale?: boolean;
  /** Another project's release runs: one release at a time. */
  otherRun: string | null;
  confirmDirty: boolean;
  /** Known to be down (not merely unknown yet). */
  dockerDown: boolean;
  /** Known to be down while the target needs accounts from it. */
  keyringDown: boolean;
  /** The plan's blockers not already shown beside the button (Docker's, the keyring's). */
  blockers: number;
}

/** Each reason the button waits, most pressing first; empty when it can be pressed. */
export function whyNotRelease(gate: ReleaseGate): string[] {
  const reasons: string[] = [];
  if (gate.otherRun) reasons.push(`${gate.otherRun} is being released; this project can be released when that ends.`);
  if (gate.stale) reasons.push("Ready once the fresh plan is in.");
  else if (gate.planning) reasons.push("Checking the plan again…");
  if (gate.dockerDown) reasons.push("Docker is not running, and a release builds the app's image with it.");
  if (gate.keyringDown) reasons.push("The keyring isn't available, and releasing to Render needs the tokens kept in it.");
  if (gate.blockers > 0) {
    reasons.push(gate.blockers === 1 ? "Fix the problem listed above first." : `Fix the ${gate.blockers} problems listed above first.`);
  }
  if (gate.plan && gate.plan.dirtyFiles.length > 0 && !gate.confirmDirty) {
    reasons.push("Tick the box above to release with uncommitted changes, or commit them first.");
  }
  return reasons;
}
