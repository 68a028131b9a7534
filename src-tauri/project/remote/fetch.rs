//! The background `git fetch` behind a standing: at most one per folder at a time, not
//! started again while the last one is fresh, and outliving the call that started it, so the
//! next standing sees what it brought.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::talk::{talk_to_remote, why_fetch_failed};
use super::Reach;

/// How long a fetch may take, and how long its result is fresh enough not to fetch again.
/// A parameter so the tests can use seconds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub fetch: Duration,
    pub fresh: Duration,
}

impl Limits {
    pub(super) const USUAL: Limits = Limits {
        fetch: Duration::from_secs(20),
        fresh: Duration::from_secs(30),
    };
}

/// One folder's fetches.
#[derive(Default)]
struct Slot {
    /// Turns `true` when the running fetch ends; `None` when none runs.
    running: Option<watch::Receiver<bool>>,
    /// When the last fetch ended, and why it failed if it did.
    ended: Option<(Instant, Option<String>)>,
    /// When a fetch last ended well (RFC 3339).
    fetched_at: Option<String>,
}

impl Slot {
    /// The running fetch's end signal. A fetch whose task was dropped with its runtime (its
    /// sender gone) no longer runs.
    fn running(&mut self) -> Option<watch::Receiver<bool>> {
        let alive = self
            .running
            .as_ref()
            .is_some_and(|receiver| receiver.has_changed().is_ok() && !*receiver.borrow());
        if !alive {
            self.running = None;
        }
        self.running.clone()
    }
}

static FETCHES: LazyLock<Mutex<HashMap<PathBuf, Slot>>> = LazyLock::new(Mutex::default);

fn fetches() -> MutexGuard<'static, HashMap<PathBuf, Slot>> {
    // A panic while the map was held leaves it whole (every write is one assignment).
    FETCHES.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn key(root: &Path) -> PathBuf {
    std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf())
}

/// What to fetch: the remote's name, and the parts of its address that are secrets.
pub(super) struct Source {
    pub remote: String,
    pub secrets: Vec<String>,
}

/// Starts a fetch of `source` unless one runs or the last is fresh, waits for it at most
/// `wait`, and says how fresh the remote-tracking branches are.
pub(super) async fn fetch_and_wait(root: &Path, source: Source, wait: Duration, limits: Limits) -> Reach {
    let key = key(root);
    let receiver = {
        let mut fetches = fetches();
        let slot = fetches.entry(key.clone()).or_default();
        match slot.running() {
            Some(receiver) => Some(receiver),
            None if slot.ended.as_ref().is_some_and(|(at, _)| at.elapsed() < limits.fresh) => None,
            None => {
                let (sender, receiver) = watch::channel(false);
                slot.running = Some(receiver.clone());
                tokio::spawn(fetch(key.clone(), source, limits.fetch, sender));
                Some(receiver)
            }
        }
    };
    if let Some(mut receiver) = receiver {
        let ended = tokio::time::timeout(wait, receiver.wait_for(|done| *done)).await;
        if ended.is_err() {
            return Reach::Fetching;
        }
    }
    reach(&key).await
}

async fn fetch(key: PathBuf, source: Source, limit: Duration, done: watch::Sender<bool>) {
    let args = [
        // Housekeeping is the person's own git's to do, not a background fetch's.
        "-c",
        "gc.auto=0",
        "-c",
        "maintenance.auto=false",
        "fetch",
        "--quiet",
        // Tags are left alone: a moved tag would fail the fetch.
        "--no-tags",
        "--recurse-submodules=no",
        // FETCH_HEAD stays the person's: its time says when they last fetched.
        "--no-write-fetch-head",
        source.remote.as_str(),
    ];
    let ignore = |_: String| {};
    let ran = talk_to_remote(&key, &args, limit, &source.secrets, &ignore).await;
    let failed = match ran {
        Ok(ran) if ran.success => None,
        Ok(ran) => Some(why_fetch_failed(&ran, limit)),
        Err(error) => Some(format!("git could not be started: {error}")),
    };
    {
        let mut fetches = fetches();
        let slot = fetches.entry(key).or_default();
        if failed.is_none() {
            slot.fetched_at = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        slot.ended = Some((Instant::now(), failed));
        slot.running = None;
    }
    let _ = done.send(true);
}

/// What the last fetch of the folder says, now.
async fn reach(key: &Path) -> Reach {
    let (running, ended, fetched_at) = {
        let mut fetches = fetches();
        let slot = fetches.entry(key.to_path_buf()).or_default();
        (slot.running().is_some(), slot.ended.clone(), slot.fetched_at.clone())
    };
    match ended {
        _ if running => Reach::Fetching,
        Some((_, None)) => Reach::Fetched {
            at: fetched_at.unwrap_or_default(),
        },
        Some((_, Some(why))) => Reach::Unreachable {
            why,
            known_at: match fetched_at {
                Some(at) => Some(at),
                None => person_fetched_at(key).await,
            },
        },
        None => Reach::NotTried,
    }
}

/// When the person's own git last fetched: FETCH_HEAD's time, if a fetch wrote it (a failed
/// one leaves it empty).
async fn person_fetched_at(root: &Path) -> Option<String> {
    let path = super::super::git::run_git(
        root,
        &["rev-parse", "--path-format=absolute", "--git-path", "FETCH_HEAD"],
    )
    .await?;
    let metadata = std::fs::metadata(path).ok().filter(|metadata| metadata.len() > 0)?;
    let modified: chrono::DateTime<chrono::Utc> = metadata.modified().ok()?.into();
    Some(modified.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// Waits for the folder's running fetch, if any, at most `limit`: a window or the CLI plans
/// again when it ends.
pub async fn fetch_settled(root: &Path, limit: Duration) {
    let receiver = fetches().get_mut(&key(root)).and_then(Slot::running);
    if let Some(mut receiver) = receiver {
        let _ = tokio::time::timeout(limit, receiver.wait_for(|done| *done)).await;
    }
}
