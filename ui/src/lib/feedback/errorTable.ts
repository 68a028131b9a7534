// What each error kind means to a person: how serious it is, its title, and the button that
// fixes it when the backend names none.
import type { ErrorAction, ErrorKind } from "../ipc";

export type Severity = "error" | "warning";

export interface ErrorPresentation {
  severity: Severity;
  title: string;
  /** The button shown when the error itself names no action; `null` for none (the hint says it all). */
  defaultAction: ErrorAction | null;
}

// Reporting is the backend's: an `unknown` error (a bug) is logged at error level, which is
// what reaches Sentry; the window reports nothing itself.

export const errorTable: Record<ErrorKind, ErrorPresentation> = {
  dockerUnavailable: { severity: "error", title: "Docker is not running", defaultAction: "startDocker" },
  keyringUnavailable: { severity: "error", title: "The keyring is not available", defaultAction: null },
  // Used by every service that checks a token (registries, Render, Sentry, CircleCI).
  registryAuth: { severity: "error", title: "The login was refused", defaultAction: "reenterToken" },
  registryDenied: { severity: "error", title: "A permission is missing", defaultAction: "openAccounts" },
  network: { severity: "warning", title: "A service could not be reached", defaultAction: "retry" },
  rateLimited: { severity: "warning", title: "A service asked us to slow down", defaultAction: "retry" },
  notFound: { severity: "warning", title: "It is not there", defaultAction: null },
  validation: { severity: "warning", title: "A value cannot be used", defaultAction: null },
  precondition: { severity: "warning", title: "Something is needed first", defaultAction: null },
  io: { severity: "error", title: "A file could not be read or written", defaultAction: "retry" },
  cancelled: { severity: "warning", title: "Cancelled", defaultAction: "retry" },
  unknown: { severity: "error", title: "Something went wrong", defaultAction: "retry" },
};

export const actionLabels: Record<ErrorAction, string> = {
  retry: "Try again",
  startDocker: "Start Docker",
  reenterToken: "Re-enter token",
  openAccounts: "Open accounts",
  openProjectSettings: "Open project settings",
  reviewPlan: "Review the plan",
  openProject: "Choose a folder…",
  pickRenderService: "Pick its Render service",
  useServiceImage: "Use the service's own image",
  linkSentry: "Link a Sentry project",
  openAppSettings: "Open Settings → This computer",
  // The plan's own button asks first what it means (see ReleasePlan.svelte).
  releaseWithoutTeamHistory: "Release without the team's history",
};

/** What a page does itself for an action (the plan's own fix), with its own words. */
export type ActionHandlers = Partial<Record<ErrorAction, { label?: string; run: () => void }>>;

/** Where a button that only leads somewhere sends the person: a page and its section. */
export const actionPlaces: Partial<Record<ErrorAction, { page: "settings" | "project" | "release"; section?: string }>> = {
  reenterToken: { page: "settings", section: "accounts" },
  openAccounts: { page: "settings", section: "accounts" },
  openProjectSettings: { page: "project" },
  reviewPlan: { page: "release" },
  pickRenderService: { page: "project", section: "environments" },
  linkSentry: { page: "project", section: "errors" },
  openAppSettings: { page: "settings", section: "computer" },
};

/**
 * The title of an error: what went wrong, as exactly as its kind and its fix say it (a
 * precondition whose fix is picking a Render service is "No Render service is picked").
 */
export function noticeTitle(error: { kind: ErrorKind; action: ErrorAction | null }): string {
  const specific = specificTitles[error.kind]?.[error.action ?? "none"];
  return specific ?? errorTable[error.kind].title;
}

const specificTitles: Partial<Record<ErrorKind, Partial<Record<ErrorAction | "none", string>>>> = {
  network: {
    releaseWithoutTeamHistory: "The team's history does not answer",
  },
  validation: {
    useServiceImage: "The image is not the Render service's",
    openProjectSettings: "A project setting cannot be used",
    openAppSettings: "A setting of this computer cannot be used",
  },
  precondition: {
    pickRenderService: "No Render service is picked",
    openAccounts: "An account is not connected",
    reenterToken: "A token needs entering again",
    linkSentry: "No Sentry project is linked",
    openProjectSettings: "The project's settings lack something",
    openAppSettings: "This computer's settings lack something",
    openProject: "No project is open",
  },
};

/** The title of a kind as a ledger stored it (a word, perhaps from a newer Slipway). */
export function errorTitle(kind: string | null): string | null {
  if (kind === null) return null;
  return (errorTable as Record<string, ErrorPresentation | undefined>)[kind]?.title ?? null;
}
