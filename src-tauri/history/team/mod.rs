//! The team's history: this machine's releases sent to the team's PostgreSQL, the others'
//! fetched from it, and the lock that keeps two people from releasing one environment at once.
//!
//! The ledger stays a SQLite file here (one per team server, beside the personal one), so
//! History, exports and the CLI read as they always did, at SQLite's speed, and a server
//! that is down loses nothing: what was recorded meanwhile is sent when it is back. A worker
//! thread of its own does the sending and fetching, every few seconds and when woken.

mod connect;
mod copy;
mod lock;
mod schema;
mod sync;

pub use connect::TeamServer;
pub use lock::{acquire, holder, Holding, TeamLock};
pub use sync::{Fetched, Imported, Sent};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

/// How often the worker sends and fetches when nothing wakes it.
const ROUND: Duration = Duration::from_secs(3);
/// How long a process that ends waits for its last releases to reach the team.
const LAST_SEND: Duration = Duration::from_secs(8);

#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("the team history's address cannot be used: {0}")]
    Url(String),
    #[error("the team history's certificate cannot be used: {0}")]
    Certificate(String),
    #[error("the team's PostgreSQL at {place} could not be reached: {reason}")]
    Unreachable { place: String, reason: String },
    #[error("the team's PostgreSQL at {0} did not answer in time")]
    TimedOut(String),
    #[error("the team's PostgreSQL refused the login: {0}")]
    Login(String),
    #[error("the team's PostgreSQL refused a request: {0}")]
    Server(String),
    #[error("this computer's copy of the team history could not be used: {0}")]
    Local(#[from] rusqlite::Error),
    #[error("the team history's worker could not start: {0}")]
    Worker(String),
    #[error("a newer Slipway set up the team's history: update Slipway")]
    Newer,
    #[error("{}", .0.sentence())]
    Held(Box<Holding>),
}

impl TeamError {
    fn from_connect(place: &str, error: tokio_postgres::Error) -> Self {
        let reason = match error.as_db_error() {
            Some(db) if db.code() == &tokio_postgres::error::SqlState::INVALID_PASSWORD => {
                return TeamError::Login(db.message().to_owned())
            }
            Some(db) => db.message().to_owned(),
            None => crate::error::error_chain(&error),
        };
        // A certificate rustls would not trust is the person's to fix, not the network's.
        if reason.contains("invalid peer certificate") || (reason.contains("certificate") && reason.contains("TLS")) {
            return TeamError::Certificate(format!("{place}: {reason}"));
        }
        TeamError::Unreachable {
            place: place.to_owned(),
            reason,
        }
    }
}

impl TeamError {
    /// Whether waiting for the server cannot mend it: the person must change something.
    pub fn is_settled(&self) -> bool {
        matches!(
            self,
            TeamError::Certificate(_) | TeamError::Login(_) | TeamError::Newer | TeamError::Url(_)
        )
    }
}

impl From<tokio_postgres::Error> for TeamError {
    /// The server's own words ("permission denied for table releases"), not "db error".
    fn from(error: tokio_postgres::Error) -> Self {
        TeamError::Server(match error.as_db_error() {
            Some(db) => format!("{}: {}", db.severity(), db.message()),
            None => crate::error::error_chain(&error),
        })
    }
}

impl From<TeamError> for crate::error::AppError {
    fn from(error: TeamError) -> Self {
        use crate::error::{AppError, ErrorAction, ErrorKind};
        let detail = crate::secrets::redact(&error.to_string()).into_owned();
        match &error {
            TeamError::Url(why) => AppError::new(
                ErrorKind::Validation,
                format!("The team history's address cannot be used: {why}."),
                "Give it as postgres://user@host:5432/database, as your team's database administrator wrote it.",
            ),
            TeamError::Certificate(why) => AppError::new(
                ErrorKind::Validation,
                "The team's PostgreSQL showed a certificate this computer does not trust (or it could not be read).",
                "Add the certificate of the authority that signed it to the address: ?sslmode=verify-full&sslrootcert=/path/to/ca.pem.",
            )
            .with_detail(crate::secrets::redact(why).into_owned()),
            TeamError::Login(_) => AppError::new(
                ErrorKind::Precondition,
                "The team's PostgreSQL refused the login: the user or the password is wrong.",
                "Connect the team history again with the right password.",
            )
            .with_action(ErrorAction::OpenAppSettings)
            .with_detail(detail),
            TeamError::Unreachable { place, .. } | TeamError::TimedOut(place) => AppError::new(
                ErrorKind::Network,
                format!("The team's PostgreSQL at {place} cannot be reached."),
                "Check the network (a VPN the server needs) and that the server runs, then try again.",
            )
            .with_action(ErrorAction::Retry)
            .with_detail(detail),
            TeamError::Held(holding) => AppError::new(
                ErrorKind::Precondition,
                format!("{}.", holding.sentence()),
                "Wait for that release to finish; only one release of an environment runs at a time across the team.",
            ),
            TeamError::Newer => AppError::new(
                ErrorKind::Precondition,
                "A newer Slipway set up the team's history.",
                "Update Slipway to the version your team uses.",
            ),
            TeamError::Server(_) | TeamError::Local(_) | TeamError::Worker(_) => AppError::new(
                ErrorKind::Io,
                "The team's history could not be read or written.",
                "Try again; if it goes on, ask whoever runs the team's PostgreSQL to look at its log.",
            )
            .with_detail(detail),
        }
    }
}

/// Connects this computer to the team's history at `url`: the password (given, or found in
/// the URL) goes to the keyring, the server is checked and its tables made; returns the URL
/// without its password, for the settings.
pub async fn connect(
    url: &str,
    password: Option<&str>,
    secrets: &crate::secrets::SecretStore,
) -> Result<(TeamServer, String), TeamError> {
    let mut bare = reqwest::Url::parse(url.trim()).map_err(|error| TeamError::Url(error.to_string()))?;
    let in_url = bare
        .password()
        .map(|password| {
            percent_encoding::percent_decode_str(password)
                .decode_utf8_lossy()
                .into_owned()
        })
        .or_else(|| query_password(&bare));
    without_password(&mut bare);
    let password = password.map(str::to_owned).or(in_url);
    let secret = password.clone().map(crate::secrets::Secret::new);
    let server = TeamServer::new(bare.as_str(), secret.as_ref())?;
    check(&server).await?;
    if let Some(password) = &password {
        secrets
            .set_team_password(server.place(), password)
            .map_err(|error| TeamError::Worker(format!("the password could not be kept in the keyring: {error}")))?;
    }
    Ok((server, bare.to_string()))
}

/// The team history as Settings shows it: where, and how it stands; never its password.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct TeamHistoryView {
    /// The URL in force, without its password; `None`: this computer's own history.
    pub url: Option<String>,
    /// `host:port/database`.
    pub place: Option<String>,
    /// Set by `SLIPWAY_HISTORY_URL` when Slipway started: the setting cannot change it.
    pub from_environment: bool,
    /// Whether the last exchange with the server worked; `None` before the first.
    pub reachable: Option<bool>,
    /// Why it did not.
    pub problem: Option<String>,
    /// Releases made here that the server does not have yet.
    pub unsent: u32,
}

impl TeamHistoryView {
    /// How `url` (the one in force) and the ledger's link stand now.
    pub fn of(url: Option<&str>, link: Option<&TeamLink>) -> Self {
        let bare = url.and_then(|url| {
            let mut parsed = reqwest::Url::parse(url).ok()?;
            without_password(&mut parsed);
            Some(parsed.to_string())
        });
        let status = link.map(TeamLink::status).unwrap_or_default();
        Self {
            url: bare,
            place: link.map(|link| link.server.place().to_owned()),
            from_environment: std::env::var_os("SLIPWAY_HISTORY_URL").is_some_and(|url| !url.is_empty()),
            reachable: status.reachable,
            problem: status.problem,
            unsent: u32::try_from(status.unsent).unwrap_or(u32::MAX),
        }
    }
}

/// A `?password=` in the URL (libpq reads it there too).
fn query_password(url: &reqwest::Url) -> Option<String> {
    url.query_pairs()
        .find(|(name, _)| name == "password")
        .map(|(_, value)| value.into_owned())
}

/// The URL with no password in it, wherever it was.
fn without_password(url: &mut reqwest::Url) {
    let _ = url.set_password(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| name != "password")
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    url.set_query(None);
    if !kept.is_empty() {
        url.query_pairs_mut().extend_pairs(kept);
    }
}

/// Where the worker stands, for the plan and the header.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeamStatus {
    /// `None` before the first round.
    pub reachable: Option<bool>,
    /// Why the last round failed.
    pub problem: Option<String>,
    /// Releases recorded here that the server does not have yet.
    pub unsent: usize,
    /// The last failure when waiting does not mend it (a certificate not trusted, a login
    /// refused, a newer schema): what the plan says instead of "cannot be reached".
    pub settled_problem: Option<crate::error::AppError>,
    /// Rounds done since the start.
    pub rounds: u64,
    /// The last ask (`sync_now`) a finished round had seen when it began.
    served: u64,
}

enum Job {
    Round,
    Lines(String, mpsc::Sender<Result<usize, String>>),
}

/// The worker of one ledger's team server; the last clone dropped lets it send what is left
/// (for a while) and stop.
pub struct TeamLink {
    pub server: TeamServer,
    /// Asks for a round that must begin after them (`sync_now`), counted.
    asked: Arc<AtomicU64>,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    status: Arc<Mutex<TeamStatus>>,
    done: Mutex<Option<mpsc::Receiver<()>>>,
}

impl std::fmt::Debug for TeamLink {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TeamLink")
            .field("server", &self.server)
            .finish()
    }
}

/// The team server `url` names, its password from the URL or else the keyring.
pub fn server(url: &str, secrets: &crate::secrets::SecretStore) -> Result<TeamServer, TeamError> {
    let bare = TeamServer::new(url, None)?;
    if bare.has_password() {
        return Ok(bare);
    }
    match secrets.team_password(bare.place()) {
        Ok(Some(password)) => TeamServer::new(url, Some(&password)),
        Ok(None) => Ok(bare),
        Err(error) => {
            tracing::warn!(%error, "the team history's password could not be read from the keyring");
            Ok(bare)
        }
    }
}

/// Checks that the team's server answers and that Slipway may keep its history there (its
/// tables made or brought up to date).
pub async fn check(server: &TeamServer) -> Result<(), TeamError> {
    let mut client = server.connect().await?;
    schema::migrate(&mut client).await
}

/// Copies the personal history in `file` (a `history.sqlite3`, of any version) into the team's.
pub async fn import(server: &TeamServer, file: &Path) -> Result<Imported, TeamError> {
    // A copy brought to this version's schema: an older file is read as this version reads.
    let dir = tempfile::tempdir().map_err(|error| TeamError::Worker(error.to_string()))?;
    let source = Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let copy = dir.path().join("history.sqlite3");
    source.execute("VACUUM INTO ?1", [copy.display().to_string()])?;
    drop(source);
    drop(super::Ledger::open(dir.path()).map_err(|error| TeamError::Worker(error.to_string()))?);
    let local = Connection::open(&copy)?;
    let mut client = server.connect().await?;
    schema::migrate(&mut client).await?;
    sync::import(&local, &mut client).await
}

/// The file this machine keeps a team's history in: one per server and database.
pub fn file_name(server: &TeamServer) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(server.place().as_bytes());
    let short: String = digest.iter().take(6).map(|byte| format!("{byte:02x}")).collect();
    format!("team-{short}.sqlite3")
}

impl TeamLink {
    /// Starts the worker for the copy at `file`.
    pub fn start(server: TeamServer, file: &Path) -> Result<Arc<Self>, TeamError> {
        let (jobs, inbox) = mpsc::channel();
        let (finished, done) = mpsc::channel();
        let status = Arc::new(Mutex::new(TeamStatus::default()));
        let asked = Arc::new(AtomicU64::new(0));
        let worker = Worker {
            server: server.clone(),
            file: file.to_path_buf(),
            holder: None,
            status: status.clone(),
            asked: asked.clone(),
        };
        std::thread::Builder::new()
            .name("team-history".to_owned())
            .spawn(move || {
                worker.run(inbox);
                let _ = finished.send(());
            })
            .map_err(|error| TeamError::Worker(error.to_string()))?;
        let link = Arc::new(Self {
            server,
            asked,
            jobs: Mutex::new(Some(jobs)),
            status,
            done: Mutex::new(Some(done)),
        });
        link.wake();
        Ok(link)
    }

    /// Asks for a round now (a release began, a step or the release ended).
    pub fn wake(&self) {
        if let Ok(jobs) = self.jobs.lock() {
            if let Some(jobs) = jobs.as_ref() {
                let _ = jobs.send(Job::Round);
            }
        }
    }

    /// Waits (at most `limit`) for the first round since the start, so that a list read
    /// right after opening holds what the team has.
    pub fn settle(&self, limit: Duration) {
        let until = std::time::Instant::now() + limit;
        while self.status().rounds == 0 && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Asks for a round now and waits (at most `limit`) until it is done; how it ended.
    pub fn sync_now(&self, limit: Duration) -> TeamStatus {
        let mine = self.asked.fetch_add(1, Ordering::SeqCst) + 1;
        self.wake();
        let until = std::time::Instant::now() + limit;
        // A round that began before this ask may have missed what it is for.
        while self.status().served < mine && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.status()
    }

    pub fn status(&self) -> TeamStatus {
        self.status.lock().map(|status| status.clone()).unwrap_or_default()
    }

    /// Fetches another machine's release's log lines into the copy, waiting at most `limit`.
    pub fn fetch_lines(&self, release_id: &str, limit: Duration) -> Result<usize, String> {
        let (reply, answer) = mpsc::channel();
        {
            let jobs = self
                .jobs
                .lock()
                .map_err(|_| "the team history's worker stopped".to_owned())?;
            let Some(jobs) = jobs.as_ref() else {
                return Err("the team history's worker stopped".to_owned());
            };
            jobs.send(Job::Lines(release_id.to_owned(), reply))
                .map_err(|_| "the team history's worker stopped".to_owned())?;
        }
        answer
            .recv_timeout(limit)
            .map_err(|_| "the team's PostgreSQL did not answer in time".to_owned())?
    }

    /// Lets the worker send what is left, waiting at most `limit`.
    pub fn finish(&self, limit: Duration) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        if let Some(done) = self.done.lock().ok().and_then(|mut done| done.take()) {
            if done.recv_timeout(limit).is_err() {
                tracing::warn!("the team history's last releases were not all sent; they are sent at the next start");
            }
        }
    }
}

impl Drop for TeamLink {
    fn drop(&mut self) {
        self.finish(LAST_SEND);
    }
}

/// The lock that makes one worker per copy file (released by the kernel when its process ends).
fn take_worker_lock(file: &Path) -> Option<std::fs::File> {
    let path = file.with_extension("sqlite3.worker");
    let opened = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .ok()?;
    opened.try_lock().ok().map(|()| opened)
}

struct Worker {
    server: TeamServer,
    file: PathBuf,
    /// The copy's worker lock, once taken.
    holder: Option<std::fs::File>,
    status: Arc<Mutex<TeamStatus>>,
    asked: Arc<AtomicU64>,
}

impl Worker {
    fn run(mut self, inbox: mpsc::Receiver<Job>) {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(error) => {
                self.set(Some(false), Some(error.to_string()), 0);
                return;
            }
        };
        let mut local = match self.open_copy() {
            Ok(local) => local,
            Err(error) => {
                self.set(Some(false), Some(error.to_string()), 0);
                return;
            }
        };
        let mut session: Option<tokio_postgres::Client> = None;
        let mut migrated = false;
        loop {
            let job = match inbox.recv_timeout(ROUND) {
                Ok(job) => Some(job),
                Err(RecvTimeoutError::Timeout) => None,
                // The ledger is gone: one last round sends what is left.
                Err(RecvTimeoutError::Disconnected) => {
                    runtime.block_on(self.round(&mut local, &mut session, &mut migrated));
                    return;
                }
            };
            // Every job waiting now: one round for all the wakes, then the lines asked for.
            let mut jobs: Vec<Job> = job.into_iter().collect();
            jobs.extend(inbox.try_iter());
            let mut wanted = Vec::new();
            let mut round = jobs.is_empty();
            for job in jobs {
                match job {
                    Job::Round => round = true,
                    Job::Lines(release_id, reply) => wanted.push((release_id, reply)),
                }
            }
            if round {
                runtime.block_on(self.round(&mut local, &mut session, &mut migrated));
            }
            for (release_id, reply) in wanted {
                if self.holder.is_none() {
                    let _ = reply.send(Err(
                        "another Slipway on this computer keeps the team history in step".to_owned()
                    ));
                    continue;
                }
                let fetched = runtime.block_on(async {
                    let client = self.session(&mut session, &mut migrated).await?;
                    sync::fetch_lines(&mut local, client, &release_id).await
                });
                let _ = reply.send(fetched.map_err(|error| error.to_string()));
            }
        }
    }

    fn open_copy(&self) -> rusqlite::Result<Connection> {
        let connection = Connection::open(&self.file)?;
        connection.busy_timeout(Duration::from_secs(5))?;
        // As the ledger's own connection: WAL with NORMAL sync loses at most the last moments.
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        Ok(connection)
    }

    async fn session<'a>(
        &self,
        session: &'a mut Option<tokio_postgres::Client>,
        migrated: &mut bool,
    ) -> Result<&'a mut tokio_postgres::Client, TeamError> {
        if session.as_ref().is_none_or(tokio_postgres::Client::is_closed) {
            *session = None;
            let mut client = self.server.connect().await?;
            if !*migrated {
                schema::migrate(&mut client).await?;
                *migrated = true;
            }
            *session = Some(client);
        }
        session
            .as_mut()
            .ok_or_else(|| TeamError::TimedOut(self.server.place().to_owned()))
    }

    async fn round(
        &mut self,
        local: &mut Connection,
        session: &mut Option<tokio_postgres::Client>,
        migrated: &mut bool,
    ) {
        let asked = self.asked.load(Ordering::SeqCst);
        // One copy file, one worker: a second process on it (the CLI beside the window) or a
        // ledger being replaced leaves the sending and fetching to the one that holds this.
        if self.holder.is_none() {
            self.holder = take_worker_lock(&self.file);
            if self.holder.is_none() {
                // How the server stands is not known here; the plan asks it itself.
                self.set(None, None, asked);
                return;
            }
        }
        let outcome = async {
            let client = self.session(session, migrated).await?;
            // Fetching goes on when sending fails (a row the server refuses): the others' releases
            // still arrive, and the failure is still said.
            let sent = async {
                loop {
                    let sent = sync::upload(local, client).await?;
                    if sent == Sent::default() {
                        return Ok::<_, TeamError>(());
                    }
                    tracing::debug!(releases = sent.releases, lines = sent.lines, "sent to the team history");
                }
            }
            .await;
            let fetched = sync::fetch(local, client).await;
            sent.and(fetched.map(|_| ()))
        }
        .await;
        match outcome {
            Ok(()) => self.set(Some(true), None, asked),
            Err(error) if error.is_settled() => {
                *session = None;
                let problem = crate::secrets::redact(&error.to_string()).into_owned();
                let before = self
                    .status
                    .lock()
                    .map(|status| status.problem.clone())
                    .unwrap_or_default();
                if before.as_deref() != Some(problem.as_str()) {
                    tracing::warn!(%error, "the team history cannot be used until this is put right");
                }
                self.set(Some(false), Some(problem), asked);
                if let Ok(mut status) = self.status.lock() {
                    status.settled_problem = Some(error.into());
                }
            }
            // The server answered but something failed (a local write, a refused row): it is
            // said, and not taken for a server out of reach.
            Err(error) if !matches!(error, TeamError::Unreachable { .. } | TeamError::TimedOut(_)) => {
                *session = None;
                tracing::warn!(%error, "the team history could not be brought fully up to date");
                self.set(Some(true), Some(error.to_string()), asked);
            }
            Err(error) => {
                // A broken session is made again next round.
                *session = None;
                // Said once when it starts failing (or fails otherwise), not every round.
                let before = self.status.lock().map(|status| status.clone()).unwrap_or_default();
                let problem = crate::secrets::redact(&error.to_string()).into_owned();
                if before.reachable != Some(false) || before.problem.as_deref() != Some(problem.as_str()) {
                    tracing::warn!(%error, "the team history could not be brought up to date");
                } else {
                    tracing::debug!(%error, "the team history is still out of reach");
                }
                self.set(Some(false), Some(error.to_string()), asked);
            }
        }
    }

    fn set(&self, reachable: Option<bool>, problem: Option<String>, served: u64) {
        let unsent = Connection::open(&self.file)
            .and_then(|local| {
                local.query_row(
                    "SELECT count(*) FROM releases WHERE from_team = 0 AND revision > shared_revision",
                    [],
                    |row| row.get::<_, i64>(0),
                )
            })
            .map(|count| usize::try_from(count).unwrap_or(0))
            .unwrap_or(0);
        if let Ok(mut status) = self.status.lock() {
            *status = TeamStatus {
                reachable,
                problem: problem.map(|problem| crate::secrets::redact(&problem).into_owned()),
                unsent,
                settled_problem: None,
                rounds: status.rounds + 1,
                served,
            };
        }
    }
}
