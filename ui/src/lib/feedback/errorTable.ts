// What each error kind means to a person: how serious it is and what to do first.
import type { ErrorKind } from "../ipc";

export type Severity = "error" | "warning";

export interface ErrorPresentation {
  severity: Severity;
  title: string;
  /** A short action label, shown beside the backend's hint. */
  action: string;
  /** Worth reporting to Sentry: a bug, not a situation the person can fix. */
  report: boolean;
}

export const errorTable: Record<ErrorKind, ErrorPresentation> = {
  dockerUnavailable: { severity: "error", title: "Docker is not running", action: "Start Docker", report: false },
  keyringUnavailable: { severity: "error", title: "The keyring is not available", action: "Unlock or install a keyring", report: false },
  // Used by every service that checks a token (registries, Render, Sentry, CircleCI).
  registryAuth: { severity: "error", title: "The login was refused", action: "Re-enter the token", report: false },
  registryDenied: { severity: "error", title: "A permission is missing", action: "Use a token with the permission named", report: false },
  network: { severity: "warning", title: "A service could not be reached", action: "Check the connection", report: false },
  rateLimited: { severity: "warning", title: "A service asked us to slow down", action: "Wait a moment", report: false },
  notFound: { severity: "warning", title: "Not found", action: "Check the path", report: false },
  validation: { severity: "warning", title: "That input does not work", action: "Correct it", report: false },
  precondition: { severity: "warning", title: "Something is needed first", action: "Follow the hint", report: false },
  io: { severity: "error", title: "A file could not be read or written", action: "Check permissions", report: false },
  cancelled: { severity: "warning", title: "Cancelled", action: "Run it again", report: false },
  unknown: { severity: "error", title: "Something went wrong", action: "Try again", report: true },
};
