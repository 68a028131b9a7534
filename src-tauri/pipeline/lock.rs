//! One release per project at a time, across windows, app instances and the CLI.
//!
//! An exclusive lock on a file per project in the data folder (`flock` on unix, `LockFileEx`
//! on Windows, both through std). The system drops the lock when its holder ends, however it
//! ends, so a crashed or killed Slipway never keeps a project locked. A file beside it tells
//! the next comer who holds it (Windows would not let a locked file be read).

use std::fs::{File, OpenOptions};
use std::path::Path;

use crate::project::project_id;

/// Held while a release runs; dropping it unlocks.
pub struct ProjectLock {
    _file: File,
}

/// Who holds a project's lock, as its holder wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub release_id: String,
    pub since: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("a release of this project is already running (process {}, since {})", .0.pid, .0.since)]
    Held(Holder),
    #[error("the lock file {path} could not be used: {reason}")]
    Io { path: String, reason: String },
}

fn lock_path(data_dir: &Path, project_root: &Path) -> std::path::PathBuf {
    lock_path_of(data_dir, &project_id(project_root))
}

fn lock_path_of(data_dir: &Path, project_id: &str) -> std::path::PathBuf {
    data_dir.join("locks").join(format!("{project_id}.lock"))
}

/// Takes the project's lock without waiting, or says who holds it.
pub fn acquire(data_dir: &Path, project_root: &Path, release_id: &str) -> Result<ProjectLock, LockError> {
    acquire_at(lock_path(data_dir, project_root), release_id)
}

/// Whether this data folder ever released the project known by `project_id`: another data
/// folder's projects (another user, a test) share the engine but are not this one's to touch.
pub fn known_id(data_dir: &Path, project_id: &str) -> bool {
    lock_path_of(data_dir, project_id).exists()
}

/// The same, for the project known by its id only (its containers' label).
pub fn acquire_id(data_dir: &Path, project_id: &str, release_id: &str) -> Result<ProjectLock, LockError> {
    acquire_at(lock_path_of(data_dir, project_id), release_id)
}

fn acquire_at(path: std::path::PathBuf, release_id: &str) -> Result<ProjectLock, LockError> {
    let io_error = |error: std::io::Error| LockError::Io {
        path: path.display().to_string(),
        reason: error.to_string(),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_error)?;
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_error)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let note = std::fs::read_to_string(holder_path(&path)).unwrap_or_default();
            return Err(LockError::Held(parse_holder(&note)));
        }
        Err(std::fs::TryLockError::Error(error)) => return Err(io_error(error)),
    }
    let note = format!(
        "{}\n{}\n{}\n",
        std::process::id(),
        release_id,
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    std::fs::write(holder_path(&path), note).map_err(io_error)?;
    Ok(ProjectLock { _file: file })
}

/// Who holds the lock at `lock`, written by its holder after taking it.
fn holder_path(lock: &Path) -> std::path::PathBuf {
    lock.with_extension("holder")
}

/// True when nobody holds the project's lock: a release recorded as running there was
/// interrupted.
pub fn is_free(data_dir: &Path, project_root: &Path) -> bool {
    let path = lock_path(data_dir, project_root);
    let Ok(file) = OpenOptions::new().read(true).open(&path) else {
        return true;
    };
    file.try_lock_shared().is_ok()
}

fn parse_holder(note: &str) -> Holder {
    let mut lines = note.lines();
    Holder {
        pid: lines.next().and_then(|pid| pid.trim().parse().ok()).unwrap_or(0),
        release_id: lines.next().unwrap_or_default().to_owned(),
        since: lines.next().unwrap_or("an unknown time").to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_refused_until_the_first_lets_go() -> Result<(), Box<dyn std::error::Error>> {
        let data = tempfile::tempdir()?;
        let project = tempfile::tempdir()?;
        let first = acquire(data.path(), project.path(), "r1")?;
        assert!(!is_free(data.path(), project.path()));
        match acquire(data.path(), project.path(), "r2") {
            Err(LockError::Held(holder)) => {
                assert_eq!(holder.pid, std::process::id());
                assert_eq!(holder.release_id, "r1");
            }
            other => panic!("expected the lock to be held, got {:?}", other.map(|_| ())),
        }
        drop(first);
        assert!(is_free(data.path(), project.path()));
        let _second = acquire(data.path(), project.path(), "r2")?;
        Ok(())
    }
}
