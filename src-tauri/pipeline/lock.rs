//! One release per project at a time, across windows, app instances and the CLI.
//!
//! An exclusive `flock` on a file per project in the data folder. The kernel drops the lock
//! when its holder ends, however it ends, so a crashed or killed Slipway never keeps a
//! project locked. The file tells the next comer who holds it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};

use crate::project::project_id;

/// Held while a release runs; dropping it unlocks.
pub struct ProjectLock {
    _file: Flock<File>,
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
    // Not truncated on open: the holder's note must survive a failed attempt.
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_error)?;
    let mut locked = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(locked) => locked,
        Err((mut file, nix::errno::Errno::EWOULDBLOCK)) => {
            let mut note = String::new();
            let _ = file.read_to_string(&mut note);
            return Err(LockError::Held(parse_holder(&note)));
        }
        Err((_, errno)) => return Err(io_error(std::io::Error::from(errno))),
    };
    let note = format!(
        "{}\n{}\n{}\n",
        std::process::id(),
        release_id,
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    locked.set_len(0).map_err(io_error)?;
    locked.rewind().map_err(io_error)?;
    locked.write_all(note.as_bytes()).map_err(io_error)?;
    Ok(ProjectLock { _file: locked })
}

/// True when nobody holds the project's lock: a release recorded as running there was
/// interrupted.
pub fn is_free(data_dir: &Path, project_root: &Path) -> bool {
    let path = lock_path(data_dir, project_root);
    let Ok(file) = OpenOptions::new().read(true).open(&path) else {
        return true;
    };
    Flock::lock(file, FlockArg::LockSharedNonblock).is_ok()
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
