// A release in words a person reads, never colour alone: its outcome, steps, kind and where it
// went, its times, and short forms of commits, digests and tags.
import type { Outcome, ReleaseRecord, ReleaseSource, StepState } from "../ipc";
import { dayAndTime } from "../feedback/time";
import { environmentLabel, environmentTitle } from "../project/environments";

export const outcomeWords: Record<Outcome, string> = {
  running: "Running",
  live: "Went live",
  failed: "Failed",
  canceled: "Cancelled",
  error: "Could not run",
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
  git: "Push commit",
  tests: "Tests",
  lint: "Lint",
  checks: "Other checks",
  build: "Build",
  rehearsal: "Rehearsal",
  push: "Push",
  ci: "CircleCI",
  deploy: "Deploy",
  verify: "Verify",
  sentry: "Sentry release",
  watch: "Sentry watch",
};

/** A row's steps in a few words, where the chips do not fit: "all 6 passed", "Tests failed",
 * "Deploy cancelled". */
export function stepsInShort(steps: ReadonlyArray<{ name: string; state: StepState }>): string {
  const telling = steps.find((step) => step.state === "failed" || step.state === "canceled" || step.state === "interrupted");
  if (telling) return `${stepName(telling.name)} ${stepWords[telling.state]}`;
  const running = steps.find((step) => step.state === "running");
  if (running) return `${stepName(running.name)} running`;
  // A skipped step (Sentry, with no Sentry set up) took no part.
  const ran = steps.filter((step) => step.state !== "skipped");
  const passed = ran.filter((step) => step.state === "passed").length;
  if (passed === ran.length) return passed === 1 ? "its step passed" : `all ${passed} steps passed`;
  return `${passed} of ${ran.length} steps passed`;
}

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

/** Where a release stands now, as History's rows and detail say it. */
export type Standing = "liveNow" | "wasLive" | Outcome;

export const standingWords: Record<Standing, string> = {
  liveNow: "Live now",
  wasLive: "Was live",
  running: "Running",
  live: "Live",
  failed: "Failed",
  canceled: "Cancelled",
  error: "Could not run",
  interrupted: "Interrupted",
};

export const standingIcons: Record<Standing, string> = {
  liveNow: "●",
  wasLive: "○",
  ...outcomeIcons,
};

/** A release that went live is live now (the newest on its environment) or was live. */
export function standing(release: Pick<ReleaseRecord, "outcome" | "liveNow">): Standing {
  if (release.outcome !== "live") return release.outcome;
  return release.liveNow ? "liveNow" : "wasLive";
}

/** A release named in a sentence: its commit and when, "9f8e7d6 (yesterday 17:40)". */
export function releaseName(
  release: Pick<ReleaseRecord, "commit" | "startedAt"> | Pick<ReleaseSource, "commit" | "startedAt">,
  now: number = Date.now(),
): string {
  const when = dayAndTime(release.startedAt, now);
  return release.commit ? `${shortCommit(release.commit)} (${when})` : `the release of ${when}`;
}

/** The kind as a badge: "Release", "Rollback to 9f8e7d6 (yesterday 17:40)", "Promotion from
 * staging". A source no longer in the history is left out of the words. */
export function kindBadge(
  release: Pick<ReleaseRecord, "kind" | "source">,
  now: number = Date.now(),
): string {
  const { label, when } = kindBadgeParts(release, now);
  return when ? `${label} (${when})` : label;
}

/** The badge in two parts, so a narrow row can keep the first: "Rollback to 9f8e7d6" and
 * "yesterday 17:40". */
export function kindBadgeParts(
  release: Pick<ReleaseRecord, "kind" | "source">,
  now: number = Date.now(),
): { label: string; when: string | null } {
  const source = release.source;
  if (release.kind === "rollback") {
    if (!source) return { label: "Rollback", when: null };
    const commit = shortCommit(source.commit);
    const when = dayAndTime(source.startedAt, now);
    return commit ? { label: `Rollback to ${commit}`, when } : { label: `Rollback to the release of ${when}`, when: null };
  }
  if (release.kind === "promote") {
    return { label: source?.environment ? `Promotion from ${environmentLabel(source.environment)}` : "Promotion", when: null };
  }
  return { label: kindWords(release.kind), when: null };
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

/** An environment as the subject of a question: "production", "this computer's app". */
function whereLive(environment: string): string {
  return environmentLabel(environment) === "this computer" ? "the app on this computer" : environmentLabel(environment);
}

/** The question a rollback asks first, saying what is live now and what will be:
 * "Roll back production from a1b2c3d (today 14:02) to 9f8e7d6 (yesterday 17:40)?" */
export function rollbackQuestion(
  environment: string,
  liveNow: Pick<ReleaseRecord, "commit" | "startedAt"> | null,
  to: Pick<ReleaseRecord, "commit" | "startedAt">,
  now: number = Date.now(),
): string {
  const from = liveNow ? ` from ${releaseName(liveNow, now)}` : "";
  return `Roll back ${whereLive(environment)}${from} to ${releaseName(to, now)}?`;
}

/** The question a promotion asks first: "Promote 9f8e7d6 (yesterday 17:40) from staging to
 * production, in place of a1b2c3d (today 14:02)?" */
export function promotionQuestion(
  from: string,
  to: string,
  release: Pick<ReleaseRecord, "commit" | "startedAt">,
  liveThere: Pick<ReleaseRecord, "commit" | "startedAt"> | null,
  now: number = Date.now(),
): string {
  const instead = liveThere ? `, in place of ${releaseName(liveThere, now)}` : "";
  return `Promote ${releaseName(release, now)} from ${environmentLabel(from)} to ${environmentLabel(to)}${instead}?`;
}

/** The detail's heading: "Release of 9f8e7d6 to production, today 14:02", "Rollback to
 * 9f8e7d6 (yesterday 17:40) on production, today 14:05". */
export function detailTitle(release: ReleaseRecord, now: number = Date.now()): string {
  const where = environmentLabel(environmentOf(release) ?? "render");
  const when = dayAndTime(release.startedAt, now);
  if (release.kind === "release") {
    const commit = shortCommit(release.commit);
    return commit ? `Release of ${commit} to ${where}, ${when}` : `Release to ${where}, ${when}`;
  }
  return `${kindBadge(release, now)} on ${where}, ${when}`;
}

/** Who released it and from which machine: "by alex on alex-laptop". */
export function releasedBy(release: Pick<ReleaseRecord, "user" | "machine">): string {
  return release.machine ? `by ${release.user} on ${release.machine}` : `by ${release.user}`;
}
