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

/// What detection looks for in a project's tree, gathered in one walk of it: a tree of 50,000
/// files walked once per kind of file cost three times the reading of its folders.
#[derive(Debug, Default)]
pub struct TreeFiles {
    root: PathBuf,
    max_depth: usize,
    /// Every `manage.py`, relative to the root, sorted.
    pub manage_py: Vec<PathBuf>,
    /// Every Dockerfile (`Dockerfile`, `Dockerfile.x`, `x.dockerfile`, in any case), relative
    /// to the root, sorted.
    pub dockerfiles: Vec<PathBuf>,
    /// Every Python file by folder, with its stamp read in the walk (from the folder already
    /// open, cheaper than a look-up of its path later): settings modules are among them.
    python: Vec<PythonFolder>,
    /// When the walk began, before any stamp was read.
    started: Option<SystemTime>,
    /// Folders at the depth limit, not entered: a search from a deeper folder goes on there.
    frontier: Vec<PathBuf>,
}

/// Python files of one folder, as the walk met them: what holds for the folder is worked out
/// once for its files, not once per file (a big tree has a hundred files a folder).
#[derive(Debug)]
struct PythonFolder {
    /// Relative to the root.
    folder: PathBuf,
    full: PathBuf,
    files: Vec<(String, Option<FileStamp>)>,
}

/// Whether a file is wanted, given its name, its folder's full path and, when a walk read it,
/// its stamp with the time that walk began.
pub(super) type WantedStamped<'a> = dyn Fn(&str, &Path, Option<(&FileStamp, SystemTime)>) -> bool + 'a;

/// A Dockerfile's name, as Docker and the CIs spell it.
fn is_dockerfile_name(name: &str) -> bool {
    if name.is_ascii() {
        let ends = |suffix: &str| {
            name.len() >= suffix.len()
                && name.is_char_boundary(name.len() - suffix.len())
                && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
        };
        let starts = name
            .get(..11)
            .is_some_and(|start| start.eq_ignore_ascii_case("dockerfile."));
        return name.eq_ignore_ascii_case("dockerfile") || starts || ends(".dockerfile");
    }
    let lower = name.to_lowercase();
    lower == "dockerfile" || lower.starts_with("dockerfile.") || lower.ends_with(".dockerfile")
}

impl TreeFiles {
    /// Walks `root` once, at most `max_depth` folders down, never into the folders no detection
    /// looks inside.
    pub fn walk(root: &Path, max_depth: usize) -> Self {
        let mut tree = Self {
            root: root.to_path_buf(),
            max_depth,
            started: Some(SystemTime::now()),
            ..Self::default()
        };
        walk(root, max_depth, &[], &mut |found| match found {
            Found::File(name, dir, entry) => {
                // Most files are none of these: their paths are never made.
                let Ok(folder) = dir.strip_prefix(root) else {
                    return;
                };
                if name == "manage.py" {
                    tree.manage_py.push(folder.join(name));
                }
                if is_dockerfile_name(name) {
                    tree.dockerfiles.push(folder.join(name));
                }
                if name.ends_with(".py") {
                    let stamp = entry.metadata().ok().map(|meta| FileStamp::from_metadata(&meta));
                    // A folder's files come together, but for its subfolders' in between.
                    if tree
                        .python
                        .last()
                        .is_none_or(|last| last.full.as_os_str() != dir.as_os_str())
                    {
                        tree.python.push(PythonFolder {
                            folder: folder.to_path_buf(),
                            full: dir.to_path_buf(),
                            files: Vec::new(),
                        });
                    }
                    if let Some(last) = tree.python.last_mut() {
                        last.files.push((name.to_owned(), stamp));
                    }
                }
            }
            Found::Frontier(path) => {
                if let Ok(relative) = path.strip_prefix(root) {
                    tree.frontier.push(relative.to_path_buf());
                }
            }
        });
        // The Python files are sorted only once chosen, in `python_files_under`.
        tree.manage_py.sort();
        tree.dockerfiles.sort();
        tree
    }

    /// The Python files below `search_root` (a folder of the tree, relative to its root) for
    /// which `wanted` is true (given the name, the folder's full path and, when the walk read
    /// it, the file's stamp with the time the walk began), at most as deep below it as the tree
    /// was walked, not in folders named in `skipped`; relative to `search_root`, sorted. The
    /// same as [`find_files_where`] from that folder, walking only what the first walk did not
    /// reach.
    pub fn python_files_under(&self, search_root: &Path, skipped: &[&str], wanted: &WantedStamped) -> Vec<PathBuf> {
        let in_skipped = |folder: &Path| {
            folder
                .components()
                .any(|part| skipped.iter().any(|name| part.as_os_str() == *name))
        };
        let mut found: Vec<PathBuf> = Vec::new();
        for group in &self.python {
            let Ok(folder) = group.folder.strip_prefix(search_root) else {
                continue;
            };
            if folder.components().count() > self.max_depth || in_skipped(folder) {
                continue;
            }
            for (name, stamp) in &group.files {
                if wanted(name, &group.full, stamp.as_ref().zip(self.started)) {
                    found.push(folder.join(name));
                }
            }
        }
        // A search from a folder below the root goes deeper than the first walk did.
        for folder in &self.frontier {
            let Ok(relative) = folder.strip_prefix(search_root) else {
                continue;
            };
            let depth = relative.components().count();
            let full = self.root.join(folder);
            if depth > self.max_depth || in_skipped(relative) || !may_enter(&full, skipped) {
                continue;
            }
            found.extend(
                find_files_where(&full, self.max_depth - depth, skipped, &|name, path| {
                    wanted(name, path.parent().unwrap_or(&full), None)
                })
                .into_iter()
                .map(|path| relative.join(path)),
            );
        }
        found.sort();
        found
    }
}

/// Files below `root` (at most `max_depth` folders down), without going into the folders
/// named in `skipped`, for which `wanted` is true given each file's name and full path; as
/// paths relative to `root`, sorted. Only the files wanted are sorted, so a tree of 50,000
/// files costs a look at each, not a sort of them all.
pub fn find_files_where(
    root: &Path,
    max_depth: usize,
    skipped: &[&str],
    wanted: &dyn Fn(&str, &Path) -> bool,
) -> Vec<PathBuf> {
    let mut found = Vec::new();
    walk(root, max_depth, skipped, &mut |seen| {
        if let Found::File(name, dir, _) = seen {
            let path = dir.join(name);
            if wanted(name, &path) {
                if let Ok(relative) = path.strip_prefix(root) {
                    found.push(relative.to_path_buf());
                }
            }
        }
    });
    found.sort();
    found
}

/// What a walk meets: a file (its name, folder and entry), or a folder at the depth limit.
enum Found<'a> {
    File(&'a str, &'a Path, &'a std::fs::DirEntry),
    Frontier(&'a Path),
}

/// Whether a walk goes into the folder at `path`: not one no detection looks inside, not one
/// the search skips, not a virtualenv.
fn may_enter(path: &Path, skipped: &[&str]) -> bool {
    let name = path.file_name().map(|name| name.to_string_lossy()).unwrap_or_default();
    !SKIPPED_DIRS.contains(&name.as_ref()) && !skipped.contains(&name.as_ref()) && !is_virtualenv(path)
}

fn walk(dir: &Path, depth_left: usize, skipped: &[&str], seen: &mut dyn FnMut(Found)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        let file_name = entry.file_name();
        let name = file_name.to_string_lossy();
        if file_type.is_dir() {
            let path = entry.path();
            if depth_left == 0 {
                seen(Found::Frontier(&path));
            } else if may_enter(&path, skipped) {
                walk(&path, depth_left - 1, skipped, seen);
            }
        } else if file_type.is_file() {
            seen(Found::File(&name, dir, &entry));
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
    device: u64,
    inode: u64,
    kind: u8,
}

impl FileStamp {
    /// The stamp of the file, link or folder at `path` (a link's own, not its target's).
    pub(super) fn of(path: &Path) -> Option<Self> {
        std::fs::symlink_metadata(path)
            .ok()
            .map(|meta| Self::from_metadata(&meta))
    }

    /// The stamp of what `meta` describes (read without following a link).
    pub(super) fn from_metadata(meta: &std::fs::Metadata) -> Self {
        let identity = crate::platform::files::identity(meta);
        let kind = if meta.file_type().is_symlink() {
            b'l'
        } else if meta.is_dir() {
            b'd'
        } else {
            b'f'
        };
        Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            changed: identity.changed,
            device: identity.device,
            inode: identity.inode,
            kind,
        }
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
    let started = SystemTime::now();
    let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
        return false;
    };
    text_contains_stamped(
        folder,
        &name.to_string_lossy(),
        FileStamp::of(path).as_ref(),
        started,
        needle,
    )
}

/// As [`text_contains`] for the file `name` in `folder`, with its stamp already read (by a
/// walk), no earlier than `started`.
pub(super) fn text_contains_stamped(
    folder: &Path,
    name: &str,
    stamp: Option<&FileStamp>,
    started: SystemTime,
    needle: &'static str,
) -> bool {
    // Kept by the file's device and inode, which its stamp holds: a look-up hashes two
    // numbers, not a path (a big tree's plan looks up every Python file), and the stamp says
    // whether the answer is still the file's (a new file on a reused inode has a new one).
    type Kept = HashMap<(&'static str, u64, u64), (FileStamp, bool)>;
    static KEPT: LazyLock<Mutex<Kept>> = LazyLock::new(Mutex::default);
    if let Some(stamp) = stamp {
        let kept = KEPT.lock().ok().and_then(|kept| {
            kept.get(&(needle, stamp.device, stamp.inode))
                .filter(|(kept, _)| kept == stamp)
                .map(|(_, found)| *found)
        });
        if let Some(found) = kept {
            return found;
        }
    }
    let found = read_text(&folder.join(name)).is_some_and(|text| text.contains(needle));
    if let Some(stamp) = stamp.filter(|stamp| stamp.settled(started)) {
        if let Ok(mut kept) = KEPT.lock() {
            kept.insert((needle, stamp.device, stamp.inode), (stamp.clone(), found));
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
    fn one_walk_finds_what_a_walk_from_the_app_folder_finds() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let files = [
            "manage.py",
            "settings.py",
            "app/manage.py",
            "app/config.py",
            "app/a/settings.py",
            "app/a/b/c/settings.py",
            "app/a/b/c/d/settings.py",
            "app/a/b/tests/settings.py",
            "app/test/settings.py",
            "app/a/node_modules/settings.py",
            "app/a/b/env/settings.py",
            "app/a/b/env/pyvenv.cfg",
            "app/a/b/c/module.py",
            "one/two/three/four/settings.py",
        ];
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap_or(dir.path()))?;
            std::fs::write(path, "X = 1\n")?;
        }
        let tree = TreeFiles::walk(dir.path(), 3);
        assert_eq!(
            tree.manage_py,
            [PathBuf::from("app/manage.py"), PathBuf::from("manage.py")]
        );
        let wanted = |name: &str, path: &Path| name == "settings.py" && path.is_file();
        let stamped = |name: &str, folder: &Path, _: Option<(&FileStamp, SystemTime)>| wanted(name, &folder.join(name));
        for (folder, expected) in [
            ("app", vec!["a/b/c/settings.py", "a/settings.py"]),
            ("", vec!["app/a/settings.py", "settings.py"]),
            ("app/a", vec!["b/c/d/settings.py", "b/c/settings.py", "settings.py"]),
        ] {
            let expected: Vec<PathBuf> = expected.into_iter().map(PathBuf::from).collect();
            let skipped = ["tests", "test"];
            assert_eq!(
                tree.python_files_under(Path::new(folder), &skipped, &stamped),
                expected,
                "from {folder:?}"
            );
            // As a walk of its own from that folder finds them.
            assert_eq!(
                find_files_where(&dir.path().join(folder), 3, &skipped, &wanted),
                expected,
                "walked from {folder:?}"
            );
        }
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
        let found = TreeFiles::walk(dir.path(), 3).dockerfiles;
        assert_eq!(found, [PathBuf::from("Dockerfile"), PathBuf::from("deploy/dockerfile")]);
        Ok(())
    }
}
