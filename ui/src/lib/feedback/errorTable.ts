// What each error kind means to a person: how serious it is and what to do first.
import type { ErrorKind } from "../ipc";

export type Severity = "error" | "warning";

export interface ErrorPresentation {
  severity: Severity;
  title: string;
  /** A short action label, shown beside the backend's hint. */
  action: string;
}

// Reporting is the backend's: an `unknown` error (a bug) is logged at error level, which is
// what reaches Sentry; the window reports nothing itself.

export const errorTable: Record<ErrorKind, ErrorPresentation> = {
  dockerUnavailable: { severity: "error", title: "Docker is not running", action: "Start Docker" },
  keyringUnavailable: { severity: "error", title: "The keyring is not available", action: "Unlock or install a keyring" },
  // Used by every service that checks a token (registries, Render, Sentry, CircleCI).
  registryAuth: { severity: "error", title: "The login was refused", action: "Re-enter the token" },
  registryDenied: { severity: "error", title: "A permission is missing", action: "Use a token with the permission named" },
  network: { severity: "warning", title: "A service could not be reached", action: "Check the connection" },
  rateLimited: { severity: "warning", title: "A service asked us to slow down", action: "Wait a moment" },
  notFound: { severity: "warning", title: "Not found", action: "Check the path" },
  validation: { severity: "warning", title: "That input does not work", action: "Correct it" },
  precondition: { severity: "warning", title: "Something is needed first", action: "Follow the hint" },
  io: { severity: "error", title: "A file could not be read or written", action: "Check permissions" },
  cancelled: { severity: "warning", title: "Cancelled", action: "Run it again" },
  unknown: { severity: "error", title: "Something went wrong", action: "Try again" },
};
