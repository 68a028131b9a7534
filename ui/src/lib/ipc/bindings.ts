// Generated from the Rust types by `src-tauri/bindings.rs`. Do not edit by hand:
// run `SLIPWAY_UPDATE_BINDINGS=1 cargo test --lib bindings` to regenerate.

export type ErrorKind = "dockerUnavailable" | "keyringUnavailable" | "registryAuth" | "registryDenied" | "network" | "rateLimited" | "notFound" | "validation" | "precondition" | "io" | "cancelled" | "unknown";

export type AppError = { kind: ErrorKind, 
/**
 * What happened, in plain words.
 */
message: string, 
/**
 * What the user can do about it.
 */
hint: string, };

export type AppInfo = { version: string, dataDir: string, logDir: string, };

export type GitState = { 
/**
 * The branch, or `None` on a detached HEAD.
 */
branch: string | null, 
/**
 * The short commit id; `None` in a repository with no commit yet.
 */
commit: string | null, };

export type ProjectSummary = { 
/**
 * The folder's name.
 */
name: string, 
/**
 * The absolute, canonical path.
 */
path: string, git: GitState | null, };

export type RecentProject = { name: string, path: string, 
/**
 * RFC 3339, UTC.
 */
openedAt: string, };

export type CheckId = "dockerEngine" | "keyring" | "git" | "python";

export type DoctorCheck = { id: CheckId, 
/**
 * What was checked, for a person.
 */
name: string, ok: boolean, 
/**
 * A release cannot run without it.
 */
required: boolean, 
/**
 * What was found (a version) or what is wrong.
 */
detail: string, 
/**
 * What to do when it is not ok.
 */
hint: string | null, };

export type DoctorReport = { version: string, 
/**
 * True when every required check passed.
 */
ok: boolean, checks: Array<DoctorCheck>, dataDir: string, logDir: string, };
