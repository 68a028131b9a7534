// A release in words a person reads, never colour alone: its outcome, steps, kind and where it
// went, its times, and short forms of commits, digests and tags.
import type { Outcome, ReleaseRecord, StepState } from "../ipc";
import { environmentTitle } from "../project/environments";

export const outcomeWords: Record<Outcome, string> = {
  running: "Running",
  live: "Live",
  failed: "Failed",
  canceled: "Cancelled",
  error: "Error",
  interrupted: "Interrupted",
};

export const outcomeIcons: Record<Outcome, string> = {
  running: "⟳",
  live: "✓",
  failed: "✗",
  canceled: "⊘",
  error: "!",
  interrupted: "⏸",
};

export const stepWords: Record<StepState, string> = {
  pending: "not reached",
  running: "running",
  passed: "passed",
  failed: "failed",
  skipped: "skipped",
  canceled: "cancelled",
  interrupted: "interrupted",
};

export const stepIcons: Record<StepState, string> = {
  pending: "○",
  running: "⟳",
  passed: "✓",
  failed: "✗",
  skipped: "–",
  canceled: "⊘",
  interrupted: "⏸",
};

export const stepNames: Record<string, string> = {
  tests: "Tests",
  lint: "Lint",
  checks: "Other checks",
  build: "Build",
  push: "Push",
  deploy: "Deploy",
  verify: "Verify",
  sentry: "Sentry release",
  watch: "Sentry watch",
};

export function stepName(step: string): string {
  return stepNames[step] ?? step;
}

export function targetWords(target: string): string {
  if (target === "local") return "This computer";
  if (target === "render") return "Render";
  return target;
}

/** The environment a release went to, by name; a Render release from before environments has
 * none (`null`: the project's default Render environment). */
export function environmentOf(release: ReleaseRecord): string | null {
  return release.environment ?? (release.target === "local" ? "local" : null);
}

/** Where a release went, as a list names it: "This computer", "production", or "Render". */
export function environmentWords(release: Pick<ReleaseRecord, "environment" | "target">): string {
  return release.environment ? environmentTitle(release.environment) : targetWords(release.target);
}

export function kindWords(kind: string): string {
  if (kind === "rollback") return "Rollback";
  if (kind === "promote") return "Promotion";
  if (kind === "resume") return "Resumed release";
  if (kind === "release") return "Release";
  return kind;
}

/** "1 min 12 s" from two RFC 3339 instants; null while it runs or without times. */
export function duration(startedAt: string | null, endedAt: string | null): string | null {
  if (!startedAt || !endedAt) return null;
  const ms = Date.parse(endedAt) - Date.parse(startedAt);
  if (!Number.isFinite(ms) || ms < 0) return null;
  return formatDuration(ms);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return "under 1 s";
  const total = Math.round(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  if (minutes > 0) return seconds > 0 ? `${minutes} min ${seconds} s` : `${minutes} min`;
  return `${seconds} s`;
}

/** The local date and time, readable: "24 Nov 2026, 10:00". */
export function when(instant: string | null): string {
  if (!instant) return "";
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return instant;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function shortCommit(commit: string | null): string | null {
  return commit ? commit.slice(0, 7) : null;
}

/** The first 12 hex characters of a `sha256:` digest. */
export function shortDigest(digest: string | null): string | null {
  if (!digest) return null;
  return digest.replace(/^sha256:/, "").slice(0, 12);
}

/** The tag of an image reference (`host:5000/shop:3f2a1bc` → `3f2a1bc`), else the whole reference. */
export function imageTag(image: string | null): string | null {
  if (!image) return null;
  const withoutDigest = image.split("@")[0] ?? image;
  const colon = withoutDigest.lastIndexOf(":");
  return colon > withoutDigest.lastIndexOf("/") ? withoutDigest.slice(colon + 1) : withoutDigest;
}
