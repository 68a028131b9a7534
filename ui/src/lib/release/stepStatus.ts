// What a step's row says: an icon and a word for every state, never a colour alone, and
// worded for where the release is (not started, running, ended) and why a step stopped.
import type { Step, StepState } from "../ipc";
import { STEP_NAMES } from "./run.svelte";

/** Where the release shown is: nothing started yet, going on, or over. */
export type Phase = "before" | "running" | "ended";

export interface StepStatus {
  icon: string;
  word: string;
  /** For the colour (app.css `.is-*`), beside the icon and word. */
  tone: "passed" | "failed" | "running" | "canceled" | "idle";
}

export function stepStatus(state: StepState, phase: Phase, failedStep: Step | null): StepStatus {
  if (phase === "before") return { icon: "○", word: "not started yet", tone: "idle" };
  switch (state) {
    case "pending":
      return phase === "running"
        ? { icon: "○", word: "waiting", tone: "idle" }
        : { icon: "○", word: "not run", tone: "idle" };
    case "running":
      return { icon: "●", word: "running", tone: "running" };
    case "passed":
      return { icon: "✓", word: "passed", tone: "passed" };
    case "failed":
      return { icon: "✗", word: "failed", tone: "failed" };
    case "skipped":
      return { icon: "–", word: "skipped", tone: "idle" };
    case "canceled":
      return failedStep
        ? { icon: "■", word: `stopped because ${STEP_NAMES[failedStep]} failed`, tone: "canceled" }
        : { icon: "⊘", word: "cancelled", tone: "canceled" };
    case "interrupted":
      return { icon: "⏸", word: "interrupted", tone: "canceled" };
  }
}

/** The failing steps first (the cause before what it stopped), then the rest in order. */
export function failuresFirst(steps: Step[], stateOf: (step: Step) => StepState): Step[] {
  const failed = steps.filter((step) => stateOf(step) === "failed");
  return [...failed, ...steps.filter((step) => stateOf(step) !== "failed")];
}
