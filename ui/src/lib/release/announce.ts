// What a screen reader hears while a run goes on and when it ends: one sentence, changed only
// when something a person would want to hear changed (a step started, failed, the run ended).
import type { Outcome, Step } from "../ipc";
import { RUN_NOUNS, RUN_VERBS, STEP_NAMES, type RunKind } from "./run.svelte";

/** "Tests", "Tests and Lint", "Tests, Lint and Other checks". */
export function inWords(names: string[]): string {
  return names.length < 2 ? (names[0] ?? "") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

export interface RunMoment {
  kind: RunKind;
  projectName: string;
  running: boolean;
  runningStep: Step | null;
  failedSteps: Step[];
  /** How it ended; `null` while it runs. */
  outcome: Outcome | "error" | null;
}

export function announcement(moment: RunMoment): string {
  const failed = inWords(moment.failedSteps.map((step) => STEP_NAMES[step]));
  if (moment.running) {
    const now = moment.runningStep ? `${STEP_NAMES[moment.runningStep]} running` : "starting";
    return `${RUN_VERBS[moment.kind]} ${moment.projectName}: ${now}.${failed ? ` ${failed} failed.` : ""}`;
  }
  const noun = RUN_NOUNS[moment.kind];
  switch (moment.outcome) {
    case null:
      return "";
    case "live":
      return `${noun} done: ${moment.projectName} is live.`;
    case "canceled":
      return `${noun} cancelled.`;
    case "interrupted":
      return `${noun} interrupted.`;
    default:
      return failed ? `${noun} failed at ${failed}.` : `${noun} failed.`;
  }
}
