// A running task in words, as the header shows it: "Rolling back lettings · Deploy".
import type { Step, TaskInfo, TaskKind } from "../ipc";
import { RUN_VERBS, STEP_NAMES } from "../release/run.svelte";

/** The task's kind as a status names it: "Running rollback". */
export const TASK_NOUNS: Record<TaskKind, string> = {
  release: "release",
  rollback: "rollback",
  promotion: "promotion",
  resume: "resume",
  checks: "checks",
  build: "build",
  push: "push",
  watch: "watch",
};

/** What the task does, for the project named `name`; a push names its image instead. */
export function taskWords(task: Pick<TaskInfo, "kind" | "project">, name: string): string {
  switch (task.kind) {
    case "release":
    case "rollback":
    case "promotion":
    case "resume":
      return `${RUN_VERBS[task.kind]} ${name}`;
    case "checks":
      return `Checking ${name}`;
    case "build":
      return `Building ${name}'s image`;
    case "push":
      // The reference without its registry and folders: `shop:3f2a1bc`.
      return `Pushing ${task.project.slice(task.project.lastIndexOf("/") + 1)}`;
    case "watch":
      return `Watching Sentry for ${name}`;
  }
}

/** The step a task is at, in the words of the Release page; one it does not know, as sent. */
export function stepWords(step: string): string {
  return STEP_NAMES[step as Step] ?? step;
}
