//! The release ledger: every release and its steps, in SQLite in the data folder.
//!
//! WAL mode with `synchronous=NORMAL`: a crash loses at most the last moments, never the
//! file, and readers (the History page, a second app instance, the CLI) never wait for the
//! writer. The schema is in `docs/history.md`; migrations only ever add, so an older ledger
//! opens in a newer app. Everything written passes through the redactor first.
//!
//! Under stress the ledger keeps what matters most:
//! - **A full disk.** `history.reserve` holds 2 MB that only a release's steps and end may
//!   spend ([`Ledger::step`], [`Ledger::note`], [`Ledger::finish`]); a log batch that meets a
//!   full disk is dropped, and so is every line after it until the reserve can be kept again,
//!   with one note line at the release's end. Lines never spend the reserve: they would eat it
//!   before the outcome is written. A ledger opened on a full disk (no room for SQLite's
//!   shared-memory file) is read with an exclusive lock and `query_only`, which need no file
//!   of their own, and is opened for writing again when a write finds room.
//! - **A damaged file** ("database disk image is malformed"), met at open or by any read or
//!   write, is checked (`quick_check`), kept aside as `history.sqlite3.damaged-<time>`, and
//!   every row that still reads is copied into a new file (`recover`); [`Ledger::notice`]
//!   says how many releases came back. Not at every open: a check reads the whole file.
//! - **A file another program holds** past SQLite's wait is waited for once more, with a
//!   warning that names the program where the system tells (`held`), then refused with its
//!   own error, not the disk-full hint.

mod cache;
mod held;
mod query;
mod recover;
mod schema;
mod standing;
pub mod team;

pub use query::{
    detail, export_csv, export_json, export_release_text, export_release_to, export_text, export_to, ExportFormat,
    HistoryFilter, LogPage, ReleaseDetail, StepResult,
};
pub use standing::ReleaseSource;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use ts_rs::TS;

use crate::error::{AppError, ErrorAction, ErrorKind};
use crate::secrets::redact;

const FILE_NAME: &str = "history.sqlite3";
/// Log lines are written in batches of this many, or when a step changes state.
const LOG_BATCH: usize = 200;
/// How long SQLite waits for a lock another program holds; a write waits twice, the second
/// time after saying who holds it. Short in tests, which hold the lock on purpose.
const BUSY_WAIT: Duration = if cfg!(test) {
    Duration::from_millis(500)
} else {
    Duration::from_secs(5)
};
/// The note a release's log gets when some of its lines were not kept.
const DROPPED_NOTE: &str = "Log lines were dropped: the disk is full";

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("the release history at {path} could not be opened: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("the release history could not be written: {0}")]
    Write(#[from] rusqlite::Error),
    #[error("the release history is busy in another part of Slipway")]
    Poisoned,
    #[error("a record could not be encoded: {0}")]
    Encode(String),
    #[error("a newer Slipway wrote the release history, so this one does not record releases in it")]
    Newer,
    /// Opened on a full disk: read, and written again once there is room.
    #[error("the disk is full, so the release history is only read until some space is freed")]
    DiskFull,
    /// Another program kept the file locked past the wait.
    #[error("another program holds the release history at {}{}", .path.display(), held::named(.holders))]
    Held { path: PathBuf, holders: Vec<String> },
    /// Damaged, and setting it aside or copying what still reads failed (it is left as it was).
    #[error("the release history at {} is damaged and could not be recovered: {reason}", .path.display())]
    Damaged { path: PathBuf, reason: String },
    /// The team's history could not be kept in step.
    #[error("{0}")]
    Team(String),
}

impl HistoryError {
    fn sqlite(&self) -> Option<&rusqlite::Error> {
        match self {
            HistoryError::Open { source, .. } | HistoryError::Write(source) => Some(source),
            _ => None,
        }
    }

    /// Whether it failed for want of disk space.
    fn is_disk_full(&self) -> bool {
        matches!(self, HistoryError::DiskFull) || self.sqlite().is_some_and(no_room)
    }
}

impl From<HistoryError> for AppError {
    fn from(error: HistoryError) -> Self {
        let detail = redact(&error.to_string()).into_owned();
        let cause = error.sqlite();
        match &error {
            HistoryError::Newer => AppError::new(
                ErrorKind::Precondition,
                "A newer Slipway wrote the release history; this one cannot record releases in it.",
                "Update Slipway to the newest version.",
            ),
            HistoryError::Held { path, holders } => AppError::new(
                ErrorKind::Precondition,
                format!(
                    "Another program holds the history file ({}{}): Slipway waited {} s for it.",
                    path.display(),
                    held::named(holders),
                    (BUSY_WAIT * 2).as_secs()
                ),
                if holders.is_empty() {
                    "Close the program that has the history open (a database browser, a sync or backup tool), then try again."
                } else {
                    "Close that program, then try again."
                },
            )
            .with_action(ErrorAction::Retry),
            _ if error.is_disk_full() => AppError::new(
                ErrorKind::Io,
                "The disk is full: the release history could not be written.",
                "Free some space on the disk that holds Slipway's data folder, then try again.",
            )
            .with_detail(detail),
            HistoryError::Damaged { .. } => AppError::new(
                ErrorKind::Io,
                "The release history is damaged and could not be recovered yet; it is left as it was.",
                "Close other Slipway windows and commands, free some space in the data folder, then try again; the log folder has the details.",
            )
            .with_detail(detail),
            // Met on a ledger that is only read (a newer Slipway's, or a full disk's): it is
            // recovered when it may be written.
            _ if cause.is_some_and(is_damage) => AppError::new(
                ErrorKind::Io,
                "The release history is damaged.",
                "Slipway keeps it aside and recovers its releases once it may write the history again (free some space, or update Slipway).",
            )
            .with_detail(detail),
            _ if cause.is_some_and(is_busy) => AppError::new(
                ErrorKind::Precondition,
                "Another program holds the history file.",
                "Close the program that has the history open, then try again.",
            )
            .with_action(ErrorAction::Retry)
            .with_detail(detail),
            _ => AppError::new(
                ErrorKind::Io,
                detail,
                "Check that the data folder is writable; the log folder has the details.",
            ),
        }
    }
}

use crate::vocabulary::Step;
pub use crate::vocabulary::{Outcome, ReleaseKind, StepState, Target, Word};

/// What is known when a release starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRelease {
    pub id: String,
    pub project_path: String,
    pub project_name: String,
    pub user: String,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub dirty: bool,
    pub target: Target,
    pub image: Option<String>,
    pub steps: Vec<Step>,
    pub kind: ReleaseKind,
    /// The release a rollback or promotion ships again.
    pub source_id: Option<String>,
    /// The machine it ran on (its host name).
    pub machine: Option<String>,
    /// The project's environment it goes to, and the service there.
    pub environment: Option<String>,
    pub service: Option<String>,
    /// The remote the commit was pushed to or read from (no credentials in it).
    pub remote_url: Option<String>,
    /// Whether that remote had the commit when the release started.
    pub on_remote: Option<bool>,
}

/// One release as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseRecord {
    pub id: String,
    pub project_path: String,
    pub project_name: String,
    pub user: String,
    /// RFC 3339.
    pub started_at: String,
    pub ended_at: Option<String>,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub dirty: bool,
    #[ts(type = "Target | (string & {})")]
    pub target: Word<Target>,
    pub image: Option<String>,
    pub digest: Option<String>,
    pub deploy_id: Option<String>,
    pub deploy_status: Option<String>,
    pub url: Option<String>,
    pub outcome: Outcome,
    pub message: Option<String>,
    /// The error that ended it, whole as the release showed it (its sentence, hint, button
    /// and detail), so History offers the same fix.
    pub error: Option<AppError>,
    #[ts(type = "ReleaseKind | (string & {})")]
    pub kind: Word<ReleaseKind>,
    pub source_id: Option<String>,
    pub machine: Option<String>,
    /// The engine's id of the built image: what a Local rollback runs again.
    pub image_id: Option<String>,
    /// The project's environment it went to (`local`, `staging`, …); `None` for a Render
    /// release made before environments whose project has not been linked since.
    pub environment: Option<String>,
    /// The Render service it deployed to (`srv-…`), or the container's name here.
    pub service: Option<String>,
    /// The remote its commit lives on, without credentials.
    pub remote_url: Option<String>,
    /// Whether that remote had the released commit (after the release's own push).
    pub on_remote: Option<bool>,
    /// The commit's page on GitHub, GitLab or Bitbucket, when the remote is there.
    pub commit_page: Option<String>,
    /// "GitHub", "GitLab" or "Bitbucket", when the remote is there.
    pub remote_host: Option<String>,
    pub steps: Vec<StepRecord>,
    /// The newest release that went live on its environment: the one the ledger says runs
    /// there now (exactly one per environment; the target itself may say otherwise).
    pub live_now: bool,
    /// The release a rollback or a promotion shipped again, when it is still in the ledger.
    pub source: Option<ReleaseSource>,
}

impl ReleaseRecord {
    /// Whole seconds from start to end, once it ended.
    pub fn duration_secs(&self) -> Option<i64> {
        let parse = |text: &str| chrono::DateTime::parse_from_rfc3339(text).ok();
        let started = parse(&self.started_at)?;
        let ended = parse(self.ended_at.as_deref()?)?;
        Some((ended - started).num_seconds())
    }

    /// The release as a sentence names it: by commit and local time ("the release of a1b2c3d
    /// (6 Dec 14:02)"), never by its id, which only the technical details show.
    pub fn name(&self) -> String {
        let when = chrono::DateTime::parse_from_rfc3339(&self.started_at)
            .map(|at| at.with_timezone(&chrono::Local).format("%-d %b %H:%M").to_string())
            .unwrap_or_else(|_| self.started_at.clone());
        match self.commit.as_deref() {
            Some(commit) => format!("the release of {} ({when})", commit.get(..7).unwrap_or(commit)),
            None => format!("the release of {when}"),
        }
    }

    /// [`Self::name`] at the start of a sentence.
    pub fn named(&self) -> String {
        let name = self.name();
        let mut letters = name.chars();
        letters
            .next()
            .map(|first| first.to_uppercase().chain(letters).collect())
            .unwrap_or(name)
    }
}

/// The columns `release_from_row` reads, in its order.
const RELEASE_COLUMNS: &str =
    "id, project_path, project_name, user, started_at, ended_at, commit_sha, branch, dirty, target,
    image, digest, deploy_id, deploy_status, url, outcome, message, error_kind, error_hint, kind, source_id, machine, image_id,
    environment, service, error_action, error_detail, remote_url, on_remote";
const RELEASE_COLUMN_COUNT: usize = 29;

/// Keeps the release's one-line strip of step states (`tests=passed lint=running …`) in step
/// with its steps, so lists read `releases` alone.
const UPDATE_STRIP: &str = "UPDATE releases SET step_strip = COALESCE(
    (SELECT group_concat(name || '=' || state, ' ' ORDER BY position) FROM steps WHERE release_id = ?1), '')
    WHERE id = ?1";

fn release_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ReleaseRecord> {
    Ok(ReleaseRecord {
        id: row.get(0)?,
        project_path: row.get(1)?,
        project_name: row.get(2)?,
        user: row.get(3)?,
        started_at: row.get(4)?,
        ended_at: row.get(5)?,
        commit: row.get(6)?,
        branch: row.get(7)?,
        dirty: row.get(8)?,
        target: Word::read(&row.get::<_, String>(9)?),
        image: row.get(10)?,
        digest: row.get(11)?,
        deploy_id: row.get(12)?,
        deploy_status: row.get(13)?,
        url: row.get(14)?,
        outcome: Outcome::parse(&row.get::<_, String>(15)?).unwrap_or(Outcome::Error),
        message: row.get(16)?,
        error: stored_error(row.get(16)?, row.get(17)?, row.get(18)?, row.get(25)?, row.get(26)?),
        kind: Word::read(&row.get::<_, String>(19)?),
        source_id: row.get(20)?,
        machine: row.get(21)?,
        image_id: row.get(22)?,
        environment: row.get(23)?,
        service: row.get(24)?,
        commit_page: match (row.get::<_, Option<String>>(27)?, row.get::<_, Option<String>>(6)?) {
            (Some(remote), Some(commit)) => crate::project::commit_url(&remote, &commit),
            _ => None,
        },
        remote_host: row
            .get::<_, Option<String>>(27)?
            .and_then(|remote| crate::project::forge_name(&remote))
            .map(str::to_owned),
        remote_url: row.get(27)?,
        on_remote: row.get(28)?,
        steps: Vec::new(),
        live_now: false,
        source: None,
    })
}

/// The error a release's row holds, whole: nothing when no error ended it. A kind or an
/// action this version does not know (a newer Slipway's) reads as `unknown` and no button;
/// the sentence and the hint are kept as they were.
fn stored_error(
    message: Option<String>,
    kind: Option<String>,
    hint: Option<String>,
    action: Option<String>,
    detail: Option<String>,
) -> Option<AppError> {
    let kind = kind?;
    Some(AppError {
        kind: ErrorKind::from_word(&kind),
        message: message.unwrap_or_default(),
        hint: hint.unwrap_or_default(),
        action: action.as_deref().and_then(ErrorAction::from_word),
        detail,
        terminal_hint: None,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StepRecord {
    #[ts(type = "Step | (string & {})")]
    pub name: Word<Step>,
    pub state: StepState,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// A line a person reads: "42 passed, 1 failed", "3 violations", "18.2 MB pushed".
    pub summary: Option<String>,
    /// The release whose passed run this gate reused (the tree, environment and command
    /// were the same), when it came from the cache.
    pub cached_from: Option<String>,
}

/// What a finished release adds to its record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ending {
    pub digest: Option<String>,
    pub deploy_id: Option<String>,
    pub deploy_status: Option<String>,
    pub url: Option<String>,
    pub message: Option<String>,
    /// The error that ended it, kept whole (its message is the release's message).
    pub error: Option<AppError>,
    pub image_id: Option<String>,
}

impl Ending {
    /// Takes what `newer` says over what this one said, as the ledger's note does.
    pub fn take_from(&mut self, newer: &Ending) {
        fn newer_or(kept: &mut Option<String>, newer: &Option<String>) {
            if newer.is_some() {
                kept.clone_from(newer);
            }
        }
        newer_or(&mut self.digest, &newer.digest);
        newer_or(&mut self.deploy_id, &newer.deploy_id);
        newer_or(&mut self.deploy_status, &newer.deploy_status);
        newer_or(&mut self.url, &newer.url);
        newer_or(&mut self.message, &newer.message);
        newer_or(&mut self.image_id, &newer.image_id);
        if newer.error.is_some() {
            self.error.clone_from(&newer.error);
        }
    }
}

/// The ledger. Cheap to clone; one connection shared behind a lock, for the writer is one
/// release at a time per project and the writes are small.
#[derive(Clone)]
pub struct Ledger {
    path: Arc<PathBuf>,
    connection: Arc<Mutex<Connection>>,
    pending_lines: Arc<Mutex<Vec<LogLine>>>,
    /// What the person should know about the file itself, set once: at open (damaged,
    /// newer, a full disk) or when a damaged file was recovered later.
    notice: Arc<OnceLock<String>>,
    /// Made by a newer Slipway: read, never written (its schema is not ours to change).
    newer: bool,
    /// Opened on a full disk: read alone until a write finds room again.
    reading_only: Arc<AtomicBool>,
    /// A file of space kept aside, given back when the disk is full so the release being
    /// recorded still is.
    reserve: Arc<PathBuf>,
    reserve_used: Arc<AtomicBool>,
    /// The disk was found full: log lines are dropped until the reserve is kept again.
    disk_full: Arc<AtomicBool>,
    /// The lines dropped per release, for the note at its end.
    dropped: Arc<Mutex<HashMap<String, Dropped>>>,
    /// The team's server this copy is kept in step with; `None` for a personal history.
    team: Option<Arc<team::TeamLink>>,
}

/// How much space the history keeps in reserve for a full disk.
const RESERVE_BYTES: usize = 2 * 1024 * 1024;

const DISK_FULL_NOTICE: &str =
    "The disk is full: the release history is shown, but no release is recorded until some space is freed.";

/// Makes the reserve file when it is missing and there is room; whether it is there now.
fn keep_reserve(file: &Path) -> std::io::Result<()> {
    if std::fs::metadata(file).is_ok_and(|meta| meta.len() as usize >= RESERVE_BYTES) {
        return Ok(());
    }
    std::fs::write(file, vec![0u8; RESERVE_BYTES]).inspect_err(|_| {
        let _ = std::fs::remove_file(file);
    })
}

/// Whether making the reserve failed for want of room (a disk with less than the reserve
/// left is full for the history: a release begun there might not record its end).
fn no_room_for(reserve: std::io::Result<()>) -> bool {
    reserve.is_err_and(|error| error.kind() == std::io::ErrorKind::StorageFull)
}

/// Whether SQLite says the file is not (or no longer) a database.
fn is_damage(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

/// Whether another connection holds the lock SQLite waited for.
fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Whether the disk had no room: a write that failed, or the shared-memory file SQLite needs
/// to read a WAL ledger that could not be made.
fn no_room(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(failure, _)
        if failure.code == rusqlite::ErrorCode::DiskFull
            || failure.extended_code == rusqlite::ffi::SQLITE_IOERR_SHMSIZE)
}

/// Opens the ledger for reading and writing, creating and migrating it.
fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let mut connection = Connection::open(path)?;
    connection.busy_timeout(BUSY_WAIT)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    schema::migrate(&mut connection)?;
    Ok(connection)
}

/// Opens the ledger to read it on a full disk. An exclusive lock lets SQLite keep the WAL's
/// index in memory instead of the shared-memory file it has no room for; `query_only`
/// keeps the connection from writing. `None` when there is nothing this version can read
/// (no ledger yet, or one that needs a migration).
fn connect_reading(path: &Path) -> rusqlite::Result<Option<Connection>> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(BUSY_WAIT)?;
    connection.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
    connection.pragma_update(None, "query_only", true)?;
    let version: usize = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    Ok((version >= schema::latest()).then_some(connection))
}

/// Runs `open`, waiting once more (and saying who holds the file) when another program
/// holds it past SQLite's own wait.
fn open_waiting<T>(path: &Path, open: impl Fn(&Path) -> rusqlite::Result<T>) -> Result<T, HistoryError> {
    let mut waited = false;
    loop {
        match open(path) {
            Ok(opened) => return Ok(opened),
            Err(error) if is_busy(&error) && !waited => {
                waited = true;
                held::warn_waiting(path);
            }
            Err(error) if is_busy(&error) => {
                return Err(HistoryError::Held {
                    path: path.to_path_buf(),
                    holders: held::holders(path),
                })
            }
            Err(source) => {
                return Err(HistoryError::Open {
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
    }
}

/// Lines of a release that were not kept, from the step where that began.
struct Dropped {
    step: String,
    lines: usize,
}

struct LogLine {
    release_id: String,
    step: String,
    stream: &'static str,
    line: String,
    at_ms: i64,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Ledger {
    /// Opens (creating and migrating) the personal ledger in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, HistoryError> {
        Self::open_file(data_dir, FILE_NAME)
    }

    /// Opens this machine's copy of the team's history on `server` (a file of its own in
    /// `data_dir`) and starts keeping it in step with the server.
    pub fn open_team(data_dir: &Path, server: team::TeamServer) -> Result<Self, HistoryError> {
        let mut ledger = Self::open_file(data_dir, &team::file_name(&server))?;
        let link =
            team::TeamLink::start(server, &ledger.path).map_err(|error| HistoryError::Team(error.to_string()))?;
        ledger.team = Some(link);
        Ok(ledger)
    }

    /// The history the settings choose: the team's (`url`, its password from the keyring)
    /// or, with none, this computer's own.
    pub fn open_configured(
        data_dir: &Path,
        url: Option<&str>,
        secrets: &crate::secrets::SecretStore,
    ) -> Result<Self, HistoryError> {
        match url {
            None => Self::open(data_dir),
            Some(url) => {
                let server = team::server(url, secrets).map_err(|error| HistoryError::Team(error.to_string()))?;
                Self::open_team(data_dir, server)
            }
        }
    }

    /// The team's server, when this is a team's history.
    pub fn team(&self) -> Option<&Arc<team::TeamLink>> {
        self.team.as_ref()
    }

    /// Asks the team worker to send what changed now.
    fn wake_team(&self) {
        if let Some(team) = &self.team {
            team.wake();
        }
    }

    /// Another machine's release whose lines are not here yet: fetched from the team's server
    /// (briefly; on failure the log shows what is here).
    fn fetch_team_lines(&self, release_id: &str) {
        let Some(team) = &self.team else {
            return;
        };
        let wanted = self
            .with(|connection| {
                connection
                    .query_row(
                        "SELECT from_team = 1 FROM releases WHERE id = ?1",
                        [release_id],
                        |row| row.get::<_, bool>(0),
                    )
                    .optional()
            })
            .ok()
            .flatten()
            .unwrap_or(false);
        // A server known to be away is not waited for at every opening.
        if wanted && team.status().reachable != Some(false) {
            if let Err(error) = team.fetch_lines(release_id, Duration::from_secs(5)) {
                tracing::warn!(%error, release = release_id, "another machine's log lines could not be fetched");
            }
        }
    }

    fn open_file(data_dir: &Path, file_name: &str) -> Result<Self, HistoryError> {
        let path = data_dir.join(file_name);
        let mut notice = None;
        let mut reading_only = false;
        let connection = match open_waiting(&path, connect) {
            Ok(connection) => connection,
            // A file that is not a ledger any more is kept aside, never overwritten, and what
            // still reads goes into a new one: the app (and the next release) still work.
            Err(HistoryError::Open { source, .. }) if is_damage(&source) => {
                let (connection, recovered) = recover::recover(&path, &source)?;
                notice = Some(recovered.notice());
                connection
            }
            // History still reads on a full disk; writing waits for room.
            Err(HistoryError::Open { source, .. }) if no_room(&source) => {
                tracing::warn!(error = %source, "the disk is full: the release history is opened for reading only");
                reading_only = true;
                notice = Some(DISK_FULL_NOTICE.to_owned());
                open_waiting(&path, connect_reading)?.ok_or(HistoryError::DiskFull)?
            }
            Err(error) => return Err(error),
        };
        let version: usize = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap_or(0);
        let newer = version > schema::latest();
        let notice = notice.or_else(|| {
            newer.then(|| {
                "A newer Slipway wrote this release history: it is shown, but no release is recorded until you update Slipway.".to_owned()
            })
        });
        let reserve = data_dir.join("history.reserve");
        // Opening may succeed on a full disk (SQLite's files already there): the reserve
        // that cannot be made says so, whatever SQLite needed.
        let notice = match notice {
            None if !newer && !reading_only && no_room_for(keep_reserve(&reserve)) => Some(DISK_FULL_NOTICE.to_owned()),
            notice => notice,
        };
        Ok(Self {
            path: Arc::new(path),
            connection: Arc::new(Mutex::new(connection)),
            pending_lines: Arc::new(Mutex::new(Vec::new())),
            notice: Arc::new(notice.map(OnceLock::from).unwrap_or_default()),
            newer,
            reading_only: Arc::new(AtomicBool::new(reading_only)),
            reserve: Arc::new(reserve),
            reserve_used: Arc::default(),
            disk_full: Arc::default(),
            dropped: Arc::default(),
            team: None,
        })
    }

    /// What the person should know about the ledger itself (damaged and recovered, made by
    /// a newer Slipway, opened on a full disk); set once, and it may first appear after a
    /// read or write found the file damaged.
    pub fn notice(&self) -> Option<&str> {
        self.notice.get().map(String::as_str)
    }

    /// A read: see `run`.
    fn with<T>(&self, work: impl FnMut(&mut Connection) -> rusqlite::Result<T>) -> Result<T, HistoryError> {
        self.run(false, work)
    }

    /// A write that may not spend the reserve (a release's start, log lines, reports).
    fn write<T>(&self, work: impl FnMut(&mut Connection) -> rusqlite::Result<T>) -> Result<T, HistoryError> {
        self.writable()?;
        self.run(false, work)
    }

    /// A write of what a release did (its steps and its end): on a full disk the reserve is
    /// given back and the write tried again, so a release that went live is recorded live.
    fn write_end<T>(&self, work: impl FnMut(&mut Connection) -> rusqlite::Result<T>) -> Result<T, HistoryError> {
        self.writable()?;
        let written = self.run(true, work);
        self.wake_team();
        written
    }

    /// Runs `work` on the connection, and again after what can be put right: the reserve
    /// given back (when `spend_reserve`), another program's lock waited for once more, a
    /// damaged file recovered.
    fn run<T>(
        &self,
        spend_reserve: bool,
        mut work: impl FnMut(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, HistoryError> {
        let mut connection = self.connection.lock().map_err(|_| HistoryError::Poisoned)?;
        let (mut spent, mut waited, mut recovered) = (false, false, false);
        loop {
            let error = match work(&mut connection) {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            if no_room(&error) {
                // Log lines stop here, so the reserve is kept for the steps and the end.
                self.disk_full.store(true, Ordering::SeqCst);
                if spend_reserve && !spent && self.release_reserve() {
                    spent = true;
                    tracing::warn!(%error, "the disk is full: the history used its reserve");
                    continue;
                }
            } else if is_busy(&error) && !waited {
                waited = true;
                held::warn_waiting(&self.path);
                continue;
            } else if is_busy(&error) {
                return Err(HistoryError::Held {
                    path: self.path.to_path_buf(),
                    holders: held::holders(&self.path),
                });
            } else if is_damage(&error) && !recovered && !self.newer && !self.reading_only.load(Ordering::SeqCst) {
                recovered = true;
                self.recover_in_place(&mut connection, &error)?;
                continue;
            }
            return Err(error.into());
        }
    }

    /// Whether this ledger may be written; one opened on a full disk is opened for writing
    /// again when there is room now.
    fn writable(&self) -> Result<(), HistoryError> {
        if self.newer {
            return Err(HistoryError::Newer);
        }
        if !self.reading_only.load(Ordering::SeqCst) {
            return Ok(());
        }
        let mut connection = self.connection.lock().map_err(|_| HistoryError::Poisoned)?;
        // The reading connection's exclusive lock is let go first, or it would block this one.
        drop(std::mem::replace(&mut *connection, Connection::open_in_memory()?));
        match connect(&self.path) {
            Ok(fresh) => {
                *connection = fresh;
                self.reading_only.store(false, Ordering::SeqCst);
                tracing::info!("there is room again: the release history is written again");
                Ok(())
            }
            Err(error) => {
                if let Ok(Some(reading)) = connect_reading(&self.path) {
                    *connection = reading;
                }
                Err(if no_room(&error) {
                    HistoryError::DiskFull
                } else {
                    error.into()
                })
            }
        }
    }

    /// Replaces a damaged file met while the ledger was open with what could be recovered
    /// from it; on failure the file stays as it was and is opened again.
    fn recover_in_place(&self, connection: &mut Connection, cause: &rusqlite::Error) -> Result<(), HistoryError> {
        // Closed first: the file is moved, which Windows refuses for an open file.
        drop(std::mem::replace(connection, Connection::open_in_memory()?));
        match recover::recover(&self.path, cause) {
            Ok((fresh, recovered)) => {
                *connection = fresh;
                let notice = recovered.notice();
                if let Err(unsaid) = self.notice.set(notice) {
                    tracing::warn!(notice = %unsaid, "a second notice about the release history is only logged");
                }
                Ok(())
            }
            Err(error) => {
                if let Ok(original) = connect(&self.path) {
                    *connection = original;
                }
                Err(error)
            }
        }
    }

    /// Gives back the reserve; false when there was none left.
    fn release_reserve(&self) -> bool {
        if std::fs::remove_file(self.reserve.as_ref()).is_err() {
            return false;
        }
        self.reserve_used.store(true, Ordering::SeqCst);
        true
    }

    /// Whether the disk filled up and the reserve was used since the last ask: the person is
    /// told to free some space.
    pub fn took_reserve(&self) -> bool {
        self.reserve_used.swap(false, Ordering::SeqCst)
    }

    /// Names the environment of the project's releases to `target` that have none (made
    /// before environments), and the service they went to.
    pub fn name_environment(
        &self,
        project_path: &str,
        target: &str,
        environment: &str,
        service: Option<&str>,
    ) -> Result<usize, HistoryError> {
        self.write(|connection| {
            connection.execute(
                "UPDATE releases SET environment = ?3, service = COALESCE(service, ?4)
                 WHERE project_path = ?1 AND target = ?2 AND environment IS NULL",
                params![project_path, target, environment, service],
            )
        })
    }

    /// Whether a release of the project recorded itself in Sentry (its Sentry step passed).
    pub fn recorded_in_sentry(&self, project_path: &str) -> Result<bool, HistoryError> {
        self.with(|connection| {
            connection.query_row(
                "SELECT EXISTS (SELECT 1 FROM steps JOIN releases ON releases.id = steps.release_id
                 WHERE releases.project_path = ?1 AND steps.name = 'sentry' AND steps.state = 'passed')",
                [project_path],
                |row| row.get(0),
            )
        })
    }

    /// Records a release that starts; returns the start time it recorded (RFC 3339), for the
    /// run to keep. It does not spend the reserve: a release that cannot be recorded on a full
    /// disk does not start.
    pub fn begin(&self, release: &NewRelease) -> Result<String, HistoryError> {
        self.writable()?;
        // The reserve made again (a disk that had filled has room now): lines are kept again.
        // Without room for it, no release begins: its end might not be recorded.
        let reserve = keep_reserve(&self.reserve);
        if reserve.is_ok() {
            self.disk_full.store(false, Ordering::SeqCst);
        } else if no_room_for(reserve) {
            return Err(HistoryError::DiskFull);
        }
        let started = now();
        self.write(|connection| {
            let transaction = connection.transaction()?;
            transaction.execute(
                "INSERT INTO releases (id, project_path, project_name, user, started_at, commit_sha, branch, dirty, target, image, outcome, kind, source_id, machine, environment, service, remote_url, on_remote)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'running', ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                params![
                    release.id,
                    release.project_path,
                    release.project_name,
                    release.user,
                    started,
                    release.commit,
                    release.branch,
                    release.dirty,
                    release.target.as_str(),
                    release.image.as_deref().map(|image| redact(image).into_owned()),
                    release.kind.as_str(),
                    release.source_id,
                    release.machine,
                    release.environment,
                    release.service,
                    release.remote_url.as_deref().map(|url| redact(url).into_owned()),
                    release.on_remote,
                ],
            )?;
            for (position, step) in release.steps.iter().enumerate() {
                transaction.execute(
                    "INSERT INTO steps (release_id, position, name, state) VALUES (?1, ?2, ?3, 'pending')",
                    params![release.id, position as i64, step.as_str()],
                )?;
            }
            transaction.execute(UPDATE_STRIP, [&release.id])?;
            transaction.commit()
        })?;
        // The team's releases of this project from other machines are filed under this folder.
        if let (Some(_), Some(remote)) = (&self.team, release.remote_url.as_deref()) {
            let remote = redact(remote).into_owned();
            self.write(|connection| {
                connection.execute(
                    "UPDATE releases SET project_path = ?1 WHERE from_team = 1 AND remote_url = ?2 AND project_path <> ?1",
                    params![release.project_path, remote],
                )
            })?;
        }
        self.wake_team();
        Ok(started)
    }

    /// Records a step's new state; starting sets its start time, finishing its end time.
    pub fn step(
        &self,
        release_id: &str,
        step: Step,
        state: StepState,
        summary: Option<&str>,
    ) -> Result<(), HistoryError> {
        // The step's state matters more than its last lines.
        if let Err(error) = self.flush_lines() {
            tracing::warn!(%error, release = release_id, "a step's last log lines could not be kept");
        }
        let at = now();
        let summary = summary.map(|text| redact(text).into_owned());
        self.write_end(|connection| {
            connection.execute(
                "UPDATE steps SET state = ?3,
                     started_at = CASE WHEN ?3 = 'running' THEN ?4 ELSE started_at END,
                     ended_at = CASE WHEN ?3 NOT IN ('pending', 'running') THEN ?4 ELSE ended_at END,
                     summary = COALESCE(?5, summary)
                 WHERE release_id = ?1 AND name = ?2",
                params![release_id, step.as_str(), state.as_str(), at, summary],
            )?;
            connection.execute(UPDATE_STRIP, [release_id])?;
            Ok(())
        })
    }

    /// Queues one output line of a step; lines reach the file in batches. While the disk is
    /// full, lines are dropped (the release's end notes how many), never an error.
    pub fn log(
        &self,
        release_id: &str,
        step: Step,
        stream: &'static str,
        line: &str,
        at_ms: i64,
    ) -> Result<(), HistoryError> {
        if self.disk_full.load(Ordering::SeqCst) {
            self.drop_line(release_id, step.as_str());
            return Ok(());
        }
        let full = {
            let mut pending = self.pending_lines.lock().map_err(|_| HistoryError::Poisoned)?;
            pending.push(LogLine {
                release_id: release_id.to_owned(),
                step: step.as_str().to_owned(),
                stream,
                line: capped(&redact(line)),
                at_ms,
            });
            pending.len() >= LOG_BATCH
        };
        if full {
            self.flush_lines()?;
        }
        Ok(())
    }

    /// Writes the queued log lines in one transaction; on a full disk they are dropped.
    pub fn flush_lines(&self) -> Result<(), HistoryError> {
        let lines = std::mem::take(&mut *self.pending_lines.lock().map_err(|_| HistoryError::Poisoned)?);
        if lines.is_empty() {
            return Ok(());
        }
        let written = self.write(|connection| {
            let transaction = connection.transaction()?;
            {
                let mut insert = transaction.prepare_cached(
                    "INSERT INTO step_logs (release_id, step, stream, line, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for line in &lines {
                    insert.execute(params![line.release_id, line.step, line.stream, line.line, line.at_ms])?;
                }
            }
            transaction.commit()
        });
        match written {
            Err(error) if error.is_disk_full() => {
                for line in &lines {
                    self.drop_line(&line.release_id, &line.step);
                }
                Ok(())
            }
            other => other,
        }
    }

    /// Counts a line of `release_id` that was not kept; the first one's step gets the note.
    fn drop_line(&self, release_id: &str, step: &str) {
        let Ok(mut dropped) = self.dropped.lock() else {
            return;
        };
        let entry = dropped.entry(release_id.to_owned()).or_insert_with(|| {
            tracing::warn!(release = release_id, step, "the disk is full: log lines are dropped");
            Dropped {
                step: step.to_owned(),
                lines: 0,
            }
        });
        entry.lines += 1;
    }

    /// The release's own push put its commit on `remote_url`.
    pub fn pushed_to_remote(&self, release_id: &str, remote_url: Option<&str>) -> Result<(), HistoryError> {
        let remote_url = remote_url.map(|url| redact(url).into_owned());
        self.write_end(|connection| {
            connection.execute(
                "UPDATE releases SET on_remote = 1, remote_url = COALESCE(?2, remote_url) WHERE id = ?1",
                params![release_id, remote_url],
            )?;
            Ok(())
        })
    }

    /// Fields learnt while the release runs (the digest after the push, the deploy id).
    pub fn note(&self, release_id: &str, ending: &Ending) -> Result<(), HistoryError> {
        let redacted = |value: Option<&str>| value.map(|text| redact(text).into_owned());
        let error = ending.error.as_ref();
        // The release's message is the error's sentence as the release showed it: one text.
        let message = ending.message.as_deref().or(error.map(|error| error.message.as_str()));
        self.write_end(|connection| {
            connection.execute(
                "UPDATE releases SET digest = COALESCE(?2, digest), deploy_id = COALESCE(?3, deploy_id),
                     deploy_status = COALESCE(?4, deploy_status), url = COALESCE(?5, url), message = COALESCE(?6, message),
                     error_kind = COALESCE(?7, error_kind), error_hint = COALESCE(?8, error_hint),
                     image_id = COALESCE(?9, image_id),
                     error_action = CASE WHEN ?7 IS NULL THEN error_action ELSE ?10 END,
                     error_detail = CASE WHEN ?7 IS NULL THEN error_detail ELSE ?11 END
                 WHERE id = ?1",
                params![
                    release_id,
                    ending.digest,
                    ending.deploy_id,
                    ending.deploy_status,
                    redacted(ending.url.as_deref()),
                    redacted(message),
                    error.map(|error| error.kind.as_str()),
                    redacted(error.map(|error| error.hint.as_str())),
                    ending.image_id,
                    error.and_then(|error| error.action).map(ErrorAction::as_str),
                    redacted(error.and_then(|error| error.detail.as_deref())),
                ],
            )?;
            Ok(())
        })
    }

    /// Ends a release: its outcome, and every step still pending or running gets `leftover`.
    pub fn finish(&self, release_id: &str, outcome: Outcome, ending: &Ending) -> Result<(), HistoryError> {
        // The last lines first: they cannot spend the reserve, and on a full disk they are
        // dropped into the note written with the outcome.
        if let Err(error) = self.flush_lines() {
            tracing::warn!(%error, release = release_id, "the release's last log lines could not be kept");
        }
        self.note(release_id, ending)?;
        let dropped = self
            .dropped
            .lock()
            .ok()
            .and_then(|mut dropped| dropped.remove(release_id));
        // A step that was running ends as the release did; one that never started says so:
        // skipped after a failure or a cancel, still "not started" when the process died.
        let (running, never_started) = match outcome {
            Outcome::Canceled => (StepState::Canceled, StepState::Canceled),
            Outcome::Interrupted => (StepState::Interrupted, StepState::Pending),
            _ => (StepState::Skipped, StepState::Skipped),
        };
        let at = now();
        self.write_end(|connection| {
            let transaction = connection.transaction()?;
            if let Some(dropped) = &dropped {
                transaction.execute(
                    "INSERT INTO step_logs (release_id, step, stream, line, at_ms) VALUES (?1, ?2, 'output', ?3, ?4)",
                    params![
                        release_id,
                        dropped.step,
                        format!(
                            "{DROPPED_NOTE} ({} lines of this release, from this step on, were not kept).",
                            dropped.lines
                        ),
                        chrono::Utc::now().timestamp_millis()
                    ],
                )?;
            }
            transaction.execute(
                "UPDATE steps SET state = ?2, ended_at = ?3 WHERE release_id = ?1 AND state = 'running'",
                params![release_id, running.as_str(), at],
            )?;
            transaction.execute(
                "UPDATE steps SET state = ?2 WHERE release_id = ?1 AND state = 'pending'",
                params![release_id, never_started.as_str()],
            )?;
            transaction.execute(
                "UPDATE releases SET outcome = ?2, ended_at = ?3 WHERE id = ?1",
                params![release_id, outcome.as_str(), at],
            )?;
            transaction.execute(UPDATE_STRIP, [release_id])?;
            transaction.commit()
        })
    }

    /// Releases recorded as running for the project at `project_path`.
    pub fn running(&self, project_path: &str) -> Result<Vec<String>, HistoryError> {
        self.with(|connection| {
            let mut query = connection
                .prepare("SELECT id FROM releases WHERE project_path = ?1 AND outcome = 'running' AND from_team = 0")?;
            let ids = query
                .query_map([project_path], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(ids)
        })
    }

    /// Every project with a release recorded as running.
    pub fn running_projects(&self) -> Result<Vec<String>, HistoryError> {
        self.with(|connection| {
            let mut query = connection
                .prepare("SELECT DISTINCT project_path FROM releases WHERE outcome = 'running' AND from_team = 0")?;
            let paths = query
                .query_map([], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(paths)
        })
    }

    pub fn release(&self, id: &str) -> Result<Option<ReleaseRecord>, HistoryError> {
        self.with(|connection| read_release(connection, id))
    }

    /// The newest releases first, of one project or of all.
    pub fn releases(&self, project_path: Option<&str>, limit: u32) -> Result<Vec<ReleaseRecord>, HistoryError> {
        self.list(&HistoryFilter {
            project_path: project_path.map(str::to_owned),
            limit: Some(limit),
            ..HistoryFilter::default()
        })
    }

    /// A step's output lines, in order.
    pub fn log_lines(&self, release_id: &str, step: &str) -> Result<Vec<String>, HistoryError> {
        self.flush_lines()?;
        self.fetch_team_lines(release_id);
        self.with(|connection| {
            let mut query =
                connection.prepare("SELECT line FROM step_logs WHERE release_id = ?1 AND step = ?2 ORDER BY seq")?;
            let lines = query
                .query_map(params![release_id, step], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(lines)
        })
    }
}

fn read_release(connection: &Connection, id: &str) -> rusqlite::Result<Option<ReleaseRecord>> {
    let release = connection
        .query_row(
            &format!("SELECT {RELEASE_COLUMNS} FROM releases WHERE id = ?1"),
            [id],
            release_from_row,
        )
        .optional()?;
    let Some(mut release) = release else {
        return Ok(None);
    };
    let mut query = connection.prepare(
        "SELECT name, state, started_at, ended_at, summary, cached_from FROM steps WHERE release_id = ?1 ORDER BY position",
    )?;
    release.steps = query
        .query_map([id], |row| {
            Ok(StepRecord {
                name: Word::read(&row.get::<_, String>(0)?),
                state: StepState::parse(&row.get::<_, String>(1)?).unwrap_or(StepState::Interrupted),
                started_at: row.get(2)?,
                ended_at: row.get(3)?,
                summary: row.get(4)?,
                cached_from: row.get(5)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    standing::fill(connection, std::slice::from_mut(&mut release))?;
    Ok(Some(release))
}

/// A new release id: sortable by time, unique across processes.
/// The longest log line kept; a longer one (a minified bundle, a base64 blob) is cut there
/// with a marker, so one line never fills the ledger.
pub const LONGEST_LINE: usize = 64 * 1024;

fn capped(line: &str) -> String {
    if line.len() <= LONGEST_LINE {
        return line.to_owned();
    }
    let mut end = LONGEST_LINE;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} … [{} more bytes not kept]", &line[..end], line.len() - end)
}

pub fn new_release_id() -> String {
    let now = chrono::Utc::now();
    let random = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or(0)
        ^ std::process::id().rotate_left(16);
    format!("{}-{:08x}", now.format("%Y%m%dT%H%M%S%3fZ"), random)
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn a_huge_log_line_is_cut_with_a_marker_and_short_ones_are_kept() -> TestResult {
        let dir = tempfile::tempdir()?;
        let ledger = Ledger::open(dir.path())?;
        ledger.begin(&release("r1"))?;
        let huge = "é".repeat(LONGEST_LINE); // two bytes each: cut on a character boundary
        ledger.log("r1", Step::Tests, "output", &huge, 1)?;
        ledger.log("r1", Step::Tests, "output", "short", 2)?;
        let lines = ledger.log_lines("r1", "tests")?;
        assert_eq!(lines.len(), 2);
        assert!(lines[0].len() < LONGEST_LINE + 100, "{}", lines[0].len());
        assert!(
            lines[0].ends_with(&format!("[{} more bytes not kept]", LONGEST_LINE)),
            "the marker"
        );
        assert_eq!(lines[1], "short");
        Ok(())
    }

    /// A ledger the previous version wrote keeps every release, read typed: its error with
    /// the hint it had (no button was kept then: the window picks one from the kind), a
    /// promotion as a promotion, and a kind and a step a newer Slipway wrote kept as words.
    #[test]
    fn a_ledger_of_the_previous_version_reads_typed_and_keeps_what_it_does_not_know() -> TestResult {
        let dir = tempfile::tempdir()?;
        {
            let mut connection = Connection::open(dir.path().join(FILE_NAME))?;
            schema::migrate_to(&mut connection, schema::latest() - 1)?;
            connection.execute_batch(
                "INSERT INTO releases (id, project_path, project_name, user, started_at, target, outcome, message, error_kind, error_hint, kind)
                     VALUES ('r1', '/p', 'p', 'ann', '2026-11-01T10:00:00.000Z', 'render', 'error',
                             'The registry refused the login.', 'registryAuth', 'Re-enter the token.', 'release');
                 INSERT INTO releases (id, project_path, project_name, user, started_at, target, outcome, kind, source_id)
                     VALUES ('r2', '/p', 'p', 'ann', '2026-11-02T10:00:00.000Z', 'render', 'live', 'promote', 'r0');
                 INSERT INTO releases (id, project_path, project_name, user, started_at, target, outcome, kind)
                     VALUES ('r3', '/p', 'p', 'ann', '2026-11-03T10:00:00.000Z', 'fly', 'live', 'canary');
                 INSERT INTO steps (release_id, position, name, state) VALUES ('r3', 0, 'tests', 'passed');
                 INSERT INTO steps (release_id, position, name, state) VALUES ('r3', 1, 'smoke', 'passed');",
            )?;
        }
        let ledger = Ledger::open(dir.path())?;
        let all = ledger.releases(None, 10)?;
        assert_eq!(all.len(), 3, "every release is kept");

        let failed = ledger.release("r1")?.ok_or("r1 is kept")?;
        assert!(failed.target.is(Target::Render));
        let error = failed.error.ok_or("its error is kept")?;
        assert_eq!(error.kind, ErrorKind::RegistryAuth);
        assert_eq!(error.message, "The registry refused the login.");
        assert_eq!(error.hint, "Re-enter the token.");
        assert_eq!(error.action, None);

        let promoted = ledger.release("r2")?.ok_or("r2 is kept")?;
        assert!(promoted.kind.is(ReleaseKind::Promotion));
        assert_eq!(promoted.error, None, "a live release has no error");

        let newer = ledger.release("r3")?.ok_or("r3 is kept")?;
        assert_eq!(newer.kind, Word::Unknown("canary".to_owned()));
        assert_eq!(newer.target.to_string(), "fly");
        let names: Vec<String> = newer.steps.iter().map(|step| step.name.to_string()).collect();
        assert_eq!(names, ["tests", "smoke"]);
        assert!(newer.steps[0].name.is(Step::Tests));
        assert_eq!(newer.steps[1].name.known(), None);
        Ok(())
    }

    /// What the release showed is what History reads back: kind, sentence, hint, button, detail.
    #[test]
    fn a_failed_release_keeps_its_error_whole() -> TestResult {
        let dir = tempfile::tempdir()?;
        let ledger = Ledger::open(dir.path())?;
        ledger.begin(&release("r1"))?;
        let error = AppError::new(
            ErrorKind::Precondition,
            "Render's service lettings-web runs another image.",
            "Push to the service's own image.",
        )
        .with_action(ErrorAction::UseServiceImage)
        .with_detail("imageUrl docker.io/acme/other");
        ledger.finish(
            "r1",
            Outcome::Error,
            &Ending {
                error: Some(error.clone()),
                ..Ending::default()
            },
        )?;
        let stored = ledger.release("r1")?.ok_or("kept")?;
        assert_eq!(stored.error, Some(error.clone()));
        assert_eq!(stored.message.as_deref(), Some(error.message.as_str()));
        Ok(())
    }

    /// Issue 28: the remote a release's commit lived on is kept without credentials, with
    /// whether it had the commit; the record links the commit's page on its forge; the
    /// release's own push turns "not on the remote" into "on it".
    #[test]
    fn a_release_keeps_its_remote_and_links_its_commit() -> TestResult {
        let dir = tempfile::tempdir()?;
        let ledger = Ledger::open(dir.path())?;
        ledger.begin(&NewRelease {
            remote_url: Some("https://ann:ghp_secret123@github.com/acme/lettings.git".to_owned()),
            on_remote: Some(false),
            ..release("r1")
        })?;
        ledger.begin(&NewRelease {
            remote_url: Some("git@git.example.org:acme/lettings.git".to_owned()),
            on_remote: Some(true),
            ..release("r2")
        })?;
        ledger.begin(&release("r3"))?;
        let first = ledger.release("r1")?.ok_or("kept")?;
        let url = first.remote_url.clone().unwrap_or_default();
        assert!(
            !url.contains("ghp_secret123") && url.contains("github.com/acme/lettings"),
            "{url}"
        );
        assert_eq!(first.on_remote, Some(false));
        assert_eq!(first.remote_host.as_deref(), Some("GitHub"));
        assert_eq!(
            first.commit_page.as_deref(),
            Some("https://github.com/acme/lettings/commit/3f2a1bc")
        );
        ledger.pushed_to_remote("r1", Some("https://github.com/acme/lettings.git"))?;
        assert_eq!(ledger.release("r1")?.ok_or("kept")?.on_remote, Some(true));
        let elsewhere = ledger.release("r2")?.ok_or("kept")?;
        assert_eq!(
            (elsewhere.commit_page, elsewhere.remote_host),
            (None, None),
            "no forge, no page"
        );
        let outside = ledger.release("r3")?.ok_or("kept")?;
        assert_eq!((outside.remote_url, outside.on_remote), (None, None), "not known");
        Ok(())
    }

    /// What the team worker sends is what changed: a release's start, a step, its end; the
    /// worker's own note that it sent them is no change.
    #[test]
    fn every_change_of_a_release_is_counted_and_the_sent_mark_is_not() -> TestResult {
        let dir = tempfile::tempdir()?;
        let ledger = Ledger::open(dir.path())?;
        ledger.begin(&release("r1"))?;
        let unsent = |ledger: &Ledger| {
            ledger.with(|connection| {
                connection.query_row(
                    "SELECT revision - shared_revision FROM releases WHERE id = 'r1'",
                    [],
                    |row| row.get::<_, i64>(0),
                )
            })
        };
        assert!(unsent(&ledger)? > 0, "a new release is still to send");
        ledger.with(|connection| connection.execute("UPDATE releases SET shared_revision = revision", []))?;
        assert_eq!(unsent(&ledger)?, 0, "marking it sent is not a change");
        ledger.step("r1", Step::Tests, StepState::Running, None)?;
        assert!(unsent(&ledger)? > 0, "a step that starts is");
        ledger.with(|connection| connection.execute("UPDATE releases SET shared_revision = revision", []))?;
        ledger.finish("r1", Outcome::Live, &Ending::default())?;
        assert!(unsent(&ledger)? > 0, "the end is");
        Ok(())
    }

    fn release(id: &str) -> NewRelease {
        NewRelease {
            id: id.to_owned(),
            project_path: "/p".to_owned(),
            project_name: "p".to_owned(),
            user: "ann".to_owned(),
            commit: Some("3f2a1bc".to_owned()),
            branch: Some("main".to_owned()),
            dirty: true,
            target: Target::Local,
            image: Some("127.0.0.1:5000/p:3f2a1bc".to_owned()),
            steps: vec![Step::Tests, Step::Lint, Step::Build],
            ..NewRelease::default()
        }
    }

    #[test]
    fn a_release_is_recorded_step_by_step_and_reopens() -> TestResult {
        let dir = tempfile::tempdir()?;
        let ledger = Ledger::open(dir.path())?;
        ledger.begin(&release("r1"))?;
        ledger.step("r1", Step::Tests, StepState::Running, None)?;
        for number in 0..450 {
            ledger.log("r1", Step::Tests, "stdout", &format!("line {number}"), 0)?;
        }
        ledger.step("r1", Step::Tests, StepState::Passed, Some("3 passed"))?;
        ledger.step("r1", Step::Lint, StepState::Running, None)?;
        ledger.finish(
            "r1",
            Outcome::Canceled,
            &Ending {
                digest: Some("sha256:ab".to_owned()),
                ..Ending::default()
            },
        )?;
        drop(ledger);

        let ledger = Ledger::open(dir.path())?;
        let record = ledger.release("r1")?.ok_or("the release is missing")?;
        assert_eq!(record.outcome, Outcome::Canceled);
        assert!(record.dirty);
        assert_eq!(record.digest.as_deref(), Some("sha256:ab"));
        let states: Vec<_> = record
            .steps
            .iter()
            .map(|step| (step.name.as_str(), step.state))
            .collect();
        assert_eq!(
            states,
            [
                ("tests", StepState::Passed),
                ("lint", StepState::Canceled),
                ("build", StepState::Canceled)
            ]
        );
        assert_eq!(record.steps[0].summary.as_deref(), Some("3 passed"));
        assert!(
            record.steps[1].ended_at.is_some(),
            "a running step that was cancelled has an end"
        );
        assert!(
            record.steps[2].ended_at.is_none(),
            "a step that never started has no end"
        );
        let lines = ledger.log_lines("r1", "tests")?;
        assert_eq!(lines.len(), 450);
        assert_eq!(lines[449], "line 449");
        Ok(())
    }

    #[test]
    fn secrets_never_reach_the_ledger() -> TestResult {
        let dir = tempfile::tempdir()?;
        crate::secrets::register_secret("ledger-marker-80412", None);
        let ledger = Ledger::open(dir.path())?;
        ledger.begin(&release("r2"))?;
        ledger.log("r2", Step::Tests, "stdout", "token=ledger-marker-80412", 0)?;
        ledger.step(
            "r2",
            Step::Tests,
            StepState::Failed,
            Some("failed with ledger-marker-80412"),
        )?;
        ledger.finish(
            "r2",
            Outcome::Failed,
            &Ending {
                message: Some("push refused for ledger-marker-80412".to_owned()),
                ..Ending::default()
            },
        )?;
        drop(ledger);
        let bytes = std::fs::read(dir.path().join(FILE_NAME)).unwrap_or_default();
        let wal = std::fs::read(dir.path().join(format!("{FILE_NAME}-wal"))).unwrap_or_default();
        for content in [bytes, wal] {
            assert!(!String::from_utf8_lossy(&content).contains("ledger-marker-80412"));
        }
        let ledger = Ledger::open(dir.path())?;
        assert_eq!(ledger.log_lines("r2", "tests")?, ["token=[redacted]"]);
        Ok(())
    }

    #[test]
    fn ids_sort_by_time() {
        let first = new_release_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(new_release_id() > first);
    }

    #[test]
    fn a_damaged_ledger_is_kept_aside_and_a_new_one_works() -> TestResult {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join(FILE_NAME),
            b"this is not a database, it was cut short".repeat(200),
        )?;
        let ledger = Ledger::open(dir.path())?;
        let notice = ledger.notice().ok_or("the person is told")?.to_owned();
        assert!(notice.contains("damaged"), "{notice}");
        let kept: Vec<String> = std::fs::read_dir(dir.path())?
            .filter_map(|entry| entry.ok().map(|entry| entry.file_name().to_string_lossy().into_owned()))
            .filter(|name| name.starts_with("history.sqlite3.damaged-"))
            .collect();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert!(std::fs::read(dir.path().join(&kept[0]))?.starts_with(b"this is not a database"));
        ledger.begin(&release("r1"))?;
        assert_eq!(ledger.releases(None, 10)?.len(), 1);
        Ok(())
    }

    /// Another connection holds the file in an EXCLUSIVE transaction: a write waits for it,
    /// then says another program holds the file (never the disk-full hint); reads go on;
    /// and when it lets go within the wait, the write goes through.
    #[test]
    fn a_file_another_program_holds_is_waited_for_and_said_so() -> TestResult {
        let dir = tempfile::tempdir()?;
        let ledger = Ledger::open(dir.path())?;
        let other = Connection::open(dir.path().join(FILE_NAME))?;
        other.execute_batch("BEGIN EXCLUSIVE")?;
        let started = std::time::Instant::now();
        let error = ledger
            .begin(&release("r1"))
            .err()
            .ok_or("the write waits, then fails")?;
        let waited = started.elapsed();
        assert!(matches!(error, HistoryError::Held { .. }), "{error:?}");
        assert!(waited >= BUSY_WAIT * 2, "it waited twice: {waited:?}");
        let shown = AppError::from(error);
        assert!(
            shown.message.starts_with("Another program holds the history file ("),
            "{}",
            shown.message
        );
        assert!(
            !format!("{} {}", shown.message, shown.hint).contains("disk"),
            "{shown:?}"
        );
        assert_eq!(shown.kind, ErrorKind::Precondition);
        assert!(ledger.releases(None, 10)?.is_empty(), "reading goes on");

        let letting_go = std::thread::spawn(move || {
            std::thread::sleep(BUSY_WAIT / 2);
            other.execute_batch("ROLLBACK")
        });
        ledger.begin(&release("r1"))?;
        letting_go.join().map_err(|_| "the holder panicked")??;
        assert_eq!(ledger.releases(None, 10)?.len(), 1, "written once the lock was let go");
        Ok(())
    }

    #[test]
    fn a_ledger_from_a_newer_slipway_is_read_and_never_written() -> TestResult {
        let dir = tempfile::tempdir()?;
        {
            let ledger = Ledger::open(dir.path())?;
            ledger.begin(&release("r1"))?;
            ledger.finish("r1", Outcome::Live, &Ending::default())?;
        }
        let connection = Connection::open(dir.path().join(FILE_NAME))?;
        connection.pragma_update(None, "user_version", schema::latest() + 1)?;
        drop(connection);
        let ledger = Ledger::open(dir.path())?;
        assert!(ledger.notice().is_some_and(|notice| notice.contains("newer Slipway")));
        assert_eq!(ledger.releases(None, 10)?.len(), 1, "still read");
        assert!(matches!(ledger.begin(&release("r2")), Err(HistoryError::Newer)));
        let version: usize =
            Connection::open(dir.path().join(FILE_NAME))?.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        assert_eq!(version, schema::latest() + 1, "never migrated down");
        Ok(())
    }
}
