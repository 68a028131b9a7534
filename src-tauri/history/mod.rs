//! The release ledger: every release and its steps, in SQLite in the data folder.
//!
//! WAL mode with `synchronous=NORMAL`: a crash loses at most the last moments, never the
//! file, and readers (the History page, a second app instance, the CLI) never wait for the
//! writer. The schema is in `docs/history.md`; migrations only ever add, so an older ledger
//! opens in a newer app. Everything written passes through the redactor first.

mod cache;
mod query;
mod schema;

pub use query::{
    detail, export_csv, export_json, export_release_text, export_release_to, export_text, export_to, ExportFormat,
    HistoryFilter, LogPage, ReleaseDetail, StepResult,
};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{AppError, ErrorKind};
use crate::secrets::redact;

const FILE_NAME: &str = "history.sqlite3";
/// Log lines are written in batches of this many, or when a step changes state.
const LOG_BATCH: usize = 200;

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
}

impl From<HistoryError> for AppError {
    fn from(error: HistoryError) -> Self {
        if matches!(error, HistoryError::Newer) {
            return AppError::new(
                ErrorKind::Precondition,
                "A newer Slipway wrote the release history; this one cannot record releases in it.",
                "Update Slipway to the newest version.",
            );
        }
        AppError::new(
            ErrorKind::Io,
            redact(&error.to_string()).into_owned(),
            "Check that the data folder is writable and the disk is not full; the log folder has the details.",
        )
    }
}

/// How a release ended, or that it has not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    Running,
    /// Deployed and answering.
    Live,
    /// A gate, the push or the deploy failed.
    Failed,
    Canceled,
    /// It could not run (a missing account, the engine down).
    Error,
    /// The process ended while it ran (a crash, a kill, a power cut).
    Interrupted,
}

/// The state of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum StepState {
    Pending,
    Running,
    Passed,
    Failed,
    Skipped,
    Canceled,
    Interrupted,
}

impl StepState {
    pub fn is_finished(self) -> bool {
        !matches!(self, StepState::Pending | StepState::Running)
    }
}

macro_rules! text_enum {
    ($type:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $type {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

text_enum!(Outcome { Running => "running", Live => "live", Failed => "failed", Canceled => "canceled", Error => "error", Interrupted => "interrupted" });
text_enum!(StepState { Pending => "pending", Running => "running", Passed => "passed", Failed => "failed", Skipped => "skipped", Canceled => "canceled", Interrupted => "interrupted" });

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
    pub target: String,
    pub image: Option<String>,
    pub steps: Vec<String>,
    /// `release` (the default), `rollback` or `promote`.
    pub kind: Option<String>,
    /// The release a rollback or promotion ships again.
    pub source_id: Option<String>,
    /// The machine it ran on (its host name).
    pub machine: Option<String>,
    /// The project's environment it goes to, and the service there.
    pub environment: Option<String>,
    pub service: Option<String>,
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
    pub target: String,
    pub image: Option<String>,
    pub digest: Option<String>,
    pub deploy_id: Option<String>,
    pub deploy_status: Option<String>,
    pub url: Option<String>,
    pub outcome: Outcome,
    pub message: Option<String>,
    /// The failure's kind (`dockerUnavailable`, `registryAuth`, …) and what to do about it.
    pub error_kind: Option<String>,
    pub error_hint: Option<String>,
    /// `release`, `rollback` or `promote`.
    pub kind: String,
    pub source_id: Option<String>,
    pub machine: Option<String>,
    /// The engine's id of the built image: what a Local rollback runs again.
    pub image_id: Option<String>,
    /// The project's environment it went to (`local`, `staging`, …); `None` for a Render
    /// release made before environments whose project has not been linked since.
    pub environment: Option<String>,
    /// The Render service it deployed to (`srv-…`), or the container's name here.
    pub service: Option<String>,
    pub steps: Vec<StepRecord>,
}

impl ReleaseRecord {
    /// Whole seconds from start to end, once it ended.
    pub fn duration_secs(&self) -> Option<i64> {
        let parse = |text: &str| chrono::DateTime::parse_from_rfc3339(text).ok();
        let started = parse(&self.started_at)?;
        let ended = parse(self.ended_at.as_deref()?)?;
        Some((ended - started).num_seconds())
    }
}

/// The columns `release_from_row` reads, in its order.
const RELEASE_COLUMNS: &str =
    "id, project_path, project_name, user, started_at, ended_at, commit_sha, branch, dirty, target,
    image, digest, deploy_id, deploy_status, url, outcome, message, error_kind, error_hint, kind, source_id, machine, image_id,
    environment, service";
const RELEASE_COLUMN_COUNT: usize = 25;

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
        target: row.get(9)?,
        image: row.get(10)?,
        digest: row.get(11)?,
        deploy_id: row.get(12)?,
        deploy_status: row.get(13)?,
        url: row.get(14)?,
        outcome: Outcome::parse(&row.get::<_, String>(15)?).unwrap_or(Outcome::Error),
        message: row.get(16)?,
        error_kind: row.get(17)?,
        error_hint: row.get(18)?,
        kind: row.get(19)?,
        source_id: row.get(20)?,
        machine: row.get(21)?,
        image_id: row.get(22)?,
        environment: row.get(23)?,
        service: row.get(24)?,
        steps: Vec::new(),
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StepRecord {
    pub name: String,
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
    /// The failure's kind and hint, when an error ended it.
    pub error_kind: Option<String>,
    pub error_hint: Option<String>,
    pub image_id: Option<String>,
}

/// The ledger. Cheap to clone; one connection shared behind a lock, for the writer is one
/// release at a time per project and the writes are small.
#[derive(Clone)]
pub struct Ledger {
    connection: Arc<Mutex<Connection>>,
    pending_lines: Arc<Mutex<Vec<LogLine>>>,
    notice: Option<Arc<String>>,
    /// Made by a newer Slipway: read, never written (its schema is not ours to change).
    read_only: bool,
    /// A file of space kept aside, given back when the disk is full so the release being
    /// recorded still is.
    reserve: Option<Arc<PathBuf>>,
    reserve_used: Arc<std::sync::atomic::AtomicBool>,
}

/// How much space the history keeps in reserve for a full disk.
const RESERVE_BYTES: usize = 2 * 1024 * 1024;

/// The reserve file, made when it is missing and there is room; `None` when it cannot be.
fn keep_reserve(data_dir: &Path) -> Option<PathBuf> {
    let file = data_dir.join("history.reserve");
    let ready = std::fs::metadata(&file).is_ok_and(|meta| meta.len() as usize >= RESERVE_BYTES);
    if !ready && std::fs::write(&file, vec![0u8; RESERVE_BYTES]).is_err() {
        let _ = std::fs::remove_file(&file);
        return None;
    }
    Some(file)
}

/// Whether SQLite says the file is not (or no longer) a database.
fn is_damage(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

/// Moves the ledger (and its WAL files) to `history.sqlite3.damaged-<time>`.
fn set_aside(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let kept = path.with_file_name(format!("{FILE_NAME}.damaged-{stamp}"));
    std::fs::rename(path, &kept)?;
    for suffix in ["-wal", "-shm"] {
        let side = path.with_file_name(format!("{FILE_NAME}{suffix}"));
        if side.exists() {
            let _ = std::fs::rename(
                &side,
                kept.with_file_name(format!("{FILE_NAME}.damaged-{stamp}{suffix}")),
            );
        }
    }
    Ok(kept)
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
    /// Opens (creating and migrating) the ledger in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, HistoryError> {
        let path = data_dir.join(FILE_NAME);
        let open = || -> Result<Connection, rusqlite::Error> {
            let mut connection = Connection::open(&path)?;
            connection.busy_timeout(std::time::Duration::from_secs(5))?;
            connection.pragma_update(None, "journal_mode", "WAL")?;
            connection.pragma_update(None, "synchronous", "NORMAL")?;
            connection.pragma_update(None, "foreign_keys", "ON")?;
            schema::migrate(&mut connection)?;
            Ok(connection)
        };
        let (connection, notice) = match open() {
            Ok(connection) => (connection, None),
            // A file that is not a ledger any more is kept aside, never overwritten, and a
            // new one is started: the app (and the next release) still work.
            Err(error) if is_damage(&error) => {
                let kept = set_aside(&path).map_err(|source| HistoryError::Open {
                    path: path.clone(),
                    source: rusqlite::Error::ToSqlConversionFailure(Box::new(source)),
                })?;
                tracing::warn!(%error, kept = %kept.display(), "the release history was damaged; a new one was started");
                let connection = open().map_err(|source| HistoryError::Open {
                    path: path.clone(),
                    source,
                })?;
                let notice = format!(
                    "The release history was damaged ({error}); it is kept as {} and a new history was started.",
                    kept.display()
                );
                (connection, Some(notice))
            }
            Err(source) => return Err(HistoryError::Open { path, source }),
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
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            pending_lines: Arc::new(Mutex::new(Vec::new())),
            notice: notice.map(Arc::new),
            read_only: newer,
            reserve: keep_reserve(data_dir).map(Arc::new),
            reserve_used: Arc::default(),
        })
    }

    /// What the person should know about the ledger itself (damaged and replaced, or made by
    /// a newer Slipway), once.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref().map(String::as_str)
    }

    fn with<T>(&self, mut work: impl FnMut(&mut Connection) -> rusqlite::Result<T>) -> Result<T, HistoryError> {
        let mut connection = self.connection.lock().map_err(|_| HistoryError::Poisoned)?;
        match work(&mut connection) {
            // The disk is full: the space kept in reserve is given back and the write tried
            // again, so what is known (a release that went live) is still recorded.
            Err(error) if error.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) => {
                if !self.release_reserve() {
                    return Err(error.into());
                }
                tracing::warn!(%error, "the disk is full: the history used its reserve");
                Ok(work(&mut connection)?)
            }
            other => Ok(other?),
        }
    }

    /// Gives back the reserve; false when there was none left.
    fn release_reserve(&self) -> bool {
        match &self.reserve {
            Some(reserve) if std::fs::remove_file(reserve.as_ref()).is_ok() => {
                self.reserve_used.store(true, std::sync::atomic::Ordering::SeqCst);
                true
            }
            _ => false,
        }
    }

    /// Whether the disk filled up and the reserve was used since the last ask: the person is
    /// told to free some space.
    pub fn took_reserve(&self) -> bool {
        self.reserve_used.swap(false, std::sync::atomic::Ordering::SeqCst)
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
        if self.read_only {
            return Err(HistoryError::Newer);
        }
        self.with(|connection| {
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

    pub fn begin(&self, release: &NewRelease) -> Result<(), HistoryError> {
        if self.read_only {
            return Err(HistoryError::Newer);
        }
        let started = now();
        self.with(|connection| {
            let transaction = connection.transaction()?;
            transaction.execute(
                "INSERT INTO releases (id, project_path, project_name, user, started_at, commit_sha, branch, dirty, target, image, outcome, kind, source_id, machine, environment, service)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'running', ?11, ?12, ?13, ?14, ?15)",
                params![
                    release.id,
                    release.project_path,
                    release.project_name,
                    release.user,
                    started,
                    release.commit,
                    release.branch,
                    release.dirty,
                    release.target,
                    release.image.as_deref().map(|image| redact(image).into_owned()),
                    release.kind.as_deref().unwrap_or("release"),
                    release.source_id,
                    release.machine,
                    release.environment,
                    release.service,
                ],
            )?;
            for (position, step) in release.steps.iter().enumerate() {
                transaction.execute(
                    "INSERT INTO steps (release_id, position, name, state) VALUES (?1, ?2, ?3, 'pending')",
                    params![release.id, position as i64, step],
                )?;
            }
            transaction.execute(UPDATE_STRIP, [&release.id])?;
            transaction.commit()
        })
    }

    /// Records a step's new state; starting sets its start time, finishing its end time.
    pub fn step(
        &self,
        release_id: &str,
        step: &str,
        state: StepState,
        summary: Option<&str>,
    ) -> Result<(), HistoryError> {
        self.flush_lines()?;
        let at = now();
        let summary = summary.map(|text| redact(text).into_owned());
        self.with(|connection| {
            connection.execute(
                "UPDATE steps SET state = ?3,
                     started_at = CASE WHEN ?3 = 'running' THEN ?4 ELSE started_at END,
                     ended_at = CASE WHEN ?3 NOT IN ('pending', 'running') THEN ?4 ELSE ended_at END,
                     summary = COALESCE(?5, summary)
                 WHERE release_id = ?1 AND name = ?2",
                params![release_id, step, state.as_str(), at, summary],
            )?;
            connection.execute(UPDATE_STRIP, [release_id])?;
            Ok(())
        })
    }

    /// Queues one output line of a step; lines reach the file in batches.
    pub fn log(
        &self,
        release_id: &str,
        step: &str,
        stream: &'static str,
        line: &str,
        at_ms: i64,
    ) -> Result<(), HistoryError> {
        let full = {
            let mut pending = self.pending_lines.lock().map_err(|_| HistoryError::Poisoned)?;
            pending.push(LogLine {
                release_id: release_id.to_owned(),
                step: step.to_owned(),
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

    /// Writes the queued log lines in one transaction.
    pub fn flush_lines(&self) -> Result<(), HistoryError> {
        let lines = std::mem::take(&mut *self.pending_lines.lock().map_err(|_| HistoryError::Poisoned)?);
        if lines.is_empty() {
            return Ok(());
        }
        self.with(|connection| {
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
        })
    }

    /// Fields learnt while the release runs (the digest after the push, the deploy id).
    pub fn note(&self, release_id: &str, ending: &Ending) -> Result<(), HistoryError> {
        let redacted = |value: &Option<String>| value.as_deref().map(|text| redact(text).into_owned());
        self.with(|connection| {
            connection.execute(
                "UPDATE releases SET digest = COALESCE(?2, digest), deploy_id = COALESCE(?3, deploy_id),
                     deploy_status = COALESCE(?4, deploy_status), url = COALESCE(?5, url), message = COALESCE(?6, message),
                     error_kind = COALESCE(?7, error_kind), error_hint = COALESCE(?8, error_hint),
                     image_id = COALESCE(?9, image_id)
                 WHERE id = ?1",
                params![
                    release_id,
                    ending.digest,
                    ending.deploy_id,
                    ending.deploy_status,
                    redacted(&ending.url),
                    redacted(&ending.message),
                    ending.error_kind,
                    redacted(&ending.error_hint),
                    ending.image_id
                ],
            )?;
            Ok(())
        })
    }

    /// Ends a release: its outcome, and every step still pending or running gets `leftover`.
    pub fn finish(&self, release_id: &str, outcome: Outcome, ending: &Ending) -> Result<(), HistoryError> {
        // How it ended first: on a full disk the outcome matters more than the last log lines.
        self.note(release_id, ending)?;
        // A step that was running ends as the release did; one that never started says so:
        // skipped after a failure or a cancel, still "not started" when the process died.
        let (running, never_started) = match outcome {
            Outcome::Canceled => (StepState::Canceled, StepState::Canceled),
            Outcome::Interrupted => (StepState::Interrupted, StepState::Pending),
            _ => (StepState::Skipped, StepState::Skipped),
        };
        let at = now();
        self.with(|connection| {
            let transaction = connection.transaction()?;
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
        })?;
        if let Err(error) = self.flush_lines() {
            tracing::warn!(%error, release = release_id, "the release's last log lines could not be kept");
        }
        Ok(())
    }

    /// Releases recorded as running for the project at `project_path`.
    pub fn running(&self, project_path: &str) -> Result<Vec<String>, HistoryError> {
        self.with(|connection| {
            let mut query =
                connection.prepare("SELECT id FROM releases WHERE project_path = ?1 AND outcome = 'running'")?;
            let ids = query
                .query_map([project_path], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(ids)
        })
    }

    /// Every project with a release recorded as running.
    pub fn running_projects(&self) -> Result<Vec<String>, HistoryError> {
        self.with(|connection| {
            let mut query =
                connection.prepare("SELECT DISTINCT project_path FROM releases WHERE outcome = 'running'")?;
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
                name: row.get(0)?,
                state: StepState::parse(&row.get::<_, String>(1)?).unwrap_or(StepState::Interrupted),
                started_at: row.get(2)?,
                ended_at: row.get(3)?,
                summary: row.get(4)?,
                cached_from: row.get(5)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
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
        ledger.log("r1", "tests", "output", &huge, 1)?;
        ledger.log("r1", "tests", "output", "short", 2)?;
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

    fn release(id: &str) -> NewRelease {
        NewRelease {
            id: id.to_owned(),
            project_path: "/p".to_owned(),
            project_name: "p".to_owned(),
            user: "ann".to_owned(),
            commit: Some("3f2a1bc".to_owned()),
            branch: Some("main".to_owned()),
            dirty: true,
            target: "local".to_owned(),
            image: Some("127.0.0.1:5000/p:3f2a1bc".to_owned()),
            steps: vec!["tests".to_owned(), "lint".to_owned(), "build".to_owned()],
            ..NewRelease::default()
        }
    }

    #[test]
    fn a_release_is_recorded_step_by_step_and_reopens() -> TestResult {
        let dir = tempfile::tempdir()?;
        let ledger = Ledger::open(dir.path())?;
        ledger.begin(&release("r1"))?;
        ledger.step("r1", "tests", StepState::Running, None)?;
        for number in 0..450 {
            ledger.log("r1", "tests", "stdout", &format!("line {number}"), 0)?;
        }
        ledger.step("r1", "tests", StepState::Passed, Some("3 passed"))?;
        ledger.step("r1", "lint", StepState::Running, None)?;
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
        ledger.log("r2", "tests", "stdout", "token=ledger-marker-80412", 0)?;
        ledger.step(
            "r2",
            "tests",
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
