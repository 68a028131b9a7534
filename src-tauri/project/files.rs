//! Reading a project's files the way its tools do: text in any of the encodings found in
//! real repositories, and a bounded walk that never descends into virtualenvs or caches.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime};

/// A file changed within this long of a reading is read again next time: a second edit in the
/// same tick of the file system's clock would keep its stamp.
const RACY: Duration = Duration::from_secs(2);

/// Folders no detection looks inside.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "site-packages",
];

/// Reads a text file whatever its encoding: UTF-8 (with or without a BOM) or UTF-16 with a
/// BOM (Windows editors save `requirements.txt` that way), with CRLF turned into LF.
pub fn read_text(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(decode_text(&bytes))
}

pub fn decode_text(bytes: &[u8]) -> String {
    let text = match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    };
    text.replace("\r\n", "\n")
}

fn utf16(bytes: &[u8], from_bytes: fn([u8; 2]) -> u16) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| from_bytes([pair[0], pair[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// True for a Python virtualenv (it has `pyvenv.cfg` at its top).
pub fn is_virtualenv(dir: &Path) -> bool {
    dir.join("pyvenv.cfg").is_file()
}

/// Files below `root` (at most `max_depth` folders down) for which `wanted` is true, as
/// paths relative to `root`, sorted.
pub fn find_files(root: &Path, max_depth: usize, wanted: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    find_files_where(root, max_depth, &[], &|name, _| wanted(name))
}

/// As [`find_files`], without going into the folders named in `skipped`, and `wanted` given
/// each file's name and full path. Only the files wanted are sorted, so a tree of 50,000
/// files costs a look at each, not a sort of them all.
pub fn find_files_where(
    root: &Path,
    max_depth: usize,
    skipped: &[&str],
    wanted: &dyn Fn(&str, &Path) -> bool,
) -> Vec<PathBuf> {
    let mut found = Vec::new();
    walk(root, root, max_depth, skipped, wanted, &mut found);
    found.sort();
    found
}

fn walk(
    root: &Path,
    dir: &Path,
    depth_left: usize,
    skipped: &[&str],
    wanted: &dyn Fn(&str, &Path) -> bool,
    found: &mut Vec<PathBuf>,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let name = file_name.to_string_lossy();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            let path = entry.path();
            if depth_left > 0
                && !SKIPPED_DIRS.contains(&name.as_ref())
                && !skipped.contains(&name.as_ref())
                && !is_virtualenv(&path)
            {
                walk(root, &path, depth_left - 1, skipped, wanted, found);
            }
        } else if file_type.is_file() {
            let path = entry.path();
            if wanted(&name, &path) {
                if let Ok(relative) = path.strip_prefix(root) {
                    found.push(relative.to_path_buf());
                }
            }
        }
    }
}

/// A file's stamp (size, times, inode, kind): while it is the same, so is the content, unless
/// two writes fell in the same tick of the file system's clock (see [`FileStamp::settled`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    changed: (i64, i64),
    inode: u64,
    kind: u8,
}

impl FileStamp {
    /// The stamp of the file, link or folder at `path` (a link's own, not its target's).
    pub(super) fn of(path: &Path) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::symlink_metadata(path).ok()?;
        let kind = if meta.file_type().is_symlink() {
            b'l'
        } else if meta.is_dir() {
            b'd'
        } else {
            b'f'
        };
        Some(Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            changed: (meta.ctime(), meta.ctime_nsec()),
            inode: meta.ino(),
            kind,
        })
    }

    /// Changed long enough before `started` that a later change gives another stamp: only
    /// then may what was read under it be kept.
    /// Both times count: a tool may set the modification time back, never the change time.
    pub(super) fn settled(&self, started: SystemTime) -> bool {
        let (seconds, nanos) = self.changed;
        let changed = u64::try_from(seconds)
            .ok()
            .zip(u32::try_from(nanos).ok())
            .and_then(|(seconds, nanos)| SystemTime::UNIX_EPOCH.checked_add(Duration::new(seconds, nanos)));
        [self.modified, changed].into_iter().all(|time| {
            time.and_then(|time| time.checked_add(RACY))
                .is_some_and(|safe| safe < started)
        })
    }
}

/// Whether the text file at `path` holds `needle`; the answer is kept while the file keeps its
/// stamp, so looking through every Python file of a big tree on each plan costs a `stat` each,
/// not a read.
pub fn text_contains(path: &Path, needle: &'static str) -> bool {
    type Kept = HashMap<(PathBuf, &'static str), (FileStamp, bool)>;
    static KEPT: LazyLock<Mutex<Kept>> = LazyLock::new(Mutex::default);
    let started = SystemTime::now();
    let stamp = FileStamp::of(path);
    let key = (path.to_path_buf(), needle);
    if let Some(stamp) = &stamp {
        let kept = KEPT.lock().ok().and_then(|kept| kept.get(&key).cloned());
        if let Some((_, found)) = kept.filter(|(kept, _)| kept == stamp) {
            return found;
        }
    }
    let found = read_text(path).is_some_and(|text| text.contains(needle));
    if let Some(stamp) = stamp.filter(|stamp| stamp.settled(started)) {
        if let Ok(mut kept) = KEPT.lock() {
            kept.insert(key, (stamp, found));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_with_bom_and_crlf_reads_as_plain_text() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "Django==4.2\r\npytest\r\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode_text(&bytes), "Django==4.2\npytest\n");
        let mut big_endian = vec![0xFE, 0xFF];
        for unit in "flake8".encode_utf16() {
            big_endian.extend_from_slice(&unit.to_be_bytes());
        }
        assert_eq!(decode_text(&big_endian), "flake8");
        assert_eq!(decode_text(b"\xEF\xBB\xBFx=1\r\n"), "x=1\n");
    }

    #[test]
    fn a_kept_answer_follows_the_file_even_under_an_old_time() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("config.py");
        let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
        std::fs::write(&path, "class S(BaseSettings): ...\n")?;
        std::fs::File::options()
            .write(true)
            .open(&path)?
            .set_modified(an_hour_ago)?;
        assert!(text_contains(&path, "BaseSettings"));
        assert!(text_contains(&path, "BaseSettings"), "kept, and the same");
        // Same size, same modification time: read again all the same (the change time is new).
        std::fs::write(&path, "class S(BaseSettingz): ...\n")?;
        std::fs::File::options()
            .write(true)
            .open(&path)?
            .set_modified(an_hour_ago)?;
        assert!(!text_contains(&path, "BaseSettings"));
        std::fs::remove_file(&path)?;
        assert!(!text_contains(&path, "BaseSettings"), "a missing file holds nothing");
        Ok(())
    }

    #[test]
    fn the_walk_skips_virtualenvs_and_git() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        for file in [
            "Dockerfile",
            "deploy/dockerfile",
            ".venv/lib/Dockerfile",
            ".git/Dockerfile",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap_or(dir.path()))?;
            std::fs::write(path, "FROM scratch")?;
        }
        std::fs::write(dir.path().join(".venv/pyvenv.cfg"), "home = /usr/bin")?;
        let found = find_files(dir.path(), 3, &|name| name.eq_ignore_ascii_case("dockerfile"));
        assert_eq!(found, [PathBuf::from("Dockerfile"), PathBuf::from("deploy/dockerfile")]);
        Ok(())
    }
}
