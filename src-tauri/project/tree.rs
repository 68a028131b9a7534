//! The tree's fingerprint from git: what the gate cache and an edited tree's image tag key on.
//!
//! The fingerprint covers the files git sees under the project's folder (tracked ones, and
//! untracked ones it does not ignore) by path and content, as git names content: a blob id.
//! Hashing 50,000 files on every plan made the plan grow with the tree, so the ids of the
//! files git reports unchanged come from its index (`git ls-files -s`), and only the files
//! `git status` reports changed, the untracked ones and the few git does not watch
//! (`assume-unchanged`, `skip-worktree`, submodules, conflicts) are read, with
//! `git hash-object`, so a file has the same id whether it came from the index or from its
//! content (an edit undone, a file staged: the same tree, the same key). Git compares the
//! content of a file whose stamp is as new as the index itself, so an edit in the same second
//! as a commit is seen ("racy git"). Modes are not part of it, as they never were.
//!
//! One `git status` is the whole cost of an unchanged tree: the index's entries are kept
//! while the index file is the same, and the fingerprint while the index and every changed
//! file keep their stamps, so a release hands on what its plan worked out without a second
//! pass; anything changed since gives a new stamp and is worked out again. Outside git there
//! is no fingerprint (nothing is cached: which files count cannot be known).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use super::files::FileStamp;

/// What one `git status` says about a work tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survey {
    /// Files with uncommitted changes (or untracked), as `git status` names them: paths from
    /// the repository's top, an untracked folder with no tracked file in it as `folder/`.
    pub dirty_files: Vec<String>,
    /// The fingerprint of the files under the project's folder.
    pub digest: String,
}

/// The project's files as git sees them, hashed; `None` outside git.
pub fn tree_digest(root: &Path) -> Option<String> {
    survey(root).map(|survey| survey.digest)
}

/// The dirty files and the fingerprint of the work tree at `root`, from one `git status`;
/// `None` outside git.
pub fn survey(root: &Path) -> Option<Survey> {
    let started = SystemTime::now();
    let located = git(
        root,
        &["rev-parse", "--show-toplevel", "--show-prefix", "--git-path", "index"],
    )?;
    // Bytes, as git gives them: a folder name that is not UTF-8 is still a prefix of its paths.
    let mut lines = located.split(|byte| *byte == b'\n');
    let top = path_of(lines.next()?);
    let prefix = lines.next()?.to_vec();
    let index_path = root.join(path_of(lines.next()?));
    // A submodule's changes make the tree dirty (its files are in the image), but its folder
    // is never read by content: it counts as a folder, as `ls-files` lists it.
    let status = git(&top, &["status", "--porcelain=v2", "-z", "--untracked-files=all"])?;
    let status = parse_status(&status);
    // After the status: it may have written the refreshed index.
    let index = index_entries(&top, &index_path, started)?;

    let dirty_files = dirty_files(&status, &index.tracked_folders);
    let mut read: Vec<&[u8]> = status.changed.iter().map(Vec::as_slice).collect();
    read.extend(index.unwatched.iter().map(Vec::as_slice));
    read.retain(|path| path.starts_with(&prefix));
    read.sort_unstable();
    read.dedup();
    let stamps: Vec<(Vec<u8>, Option<FileStamp>)> = read
        .iter()
        .map(|path| (path.to_vec(), FileStamp::of(&top.join(path_of(path)))))
        .collect();
    let memo_key = (root.to_path_buf(), index.stamp.clone(), stamps);
    if let Some(digest) = remembered_digest(&memo_key) {
        return Some(Survey { dirty_files, digest });
    }

    let read_ids = content_ids(&top, &read);
    let mut ids: BTreeMap<&[u8], &str> = BTreeMap::new();
    for (path, id) in &index.ids {
        if let Some(relative) = path.strip_prefix(prefix.as_slice()) {
            ids.insert(relative, id);
        }
    }
    for (path, id) in read.iter().zip(&read_ids) {
        if let Some(relative) = path.strip_prefix(prefix.as_slice()) {
            ids.insert(relative, id);
        }
    }
    let mut hasher = Sha256::new();
    for (path, id) in ids {
        hasher.update(path);
        hasher.update([0]);
        hasher.update(id.as_bytes());
        hasher.update([b'\n']);
    }
    let digest: String = hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect();
    // Kept only while every stamp it rests on is one a later change would move.
    let settled = memo_key.1.as_ref().is_some_and(|stamp| stamp.settled(started))
        && memo_key
            .2
            .iter()
            .all(|(_, stamp)| stamp.as_ref().is_none_or(|s| s.settled(started)));
    if settled {
        remember_digest(memo_key, &digest);
    }
    Some(Survey { dirty_files, digest })
}

/// How long one git call may take before the plan goes on without a fingerprint (a hook or
/// a network file system that hangs must not hang the plan).
const GIT_LIMIT: Duration = Duration::from_secs(10);

/// `git` in `dir`, its output when it succeeded within [`GIT_LIMIT`].
fn git<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Option<Vec<u8>> {
    let mut child = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut output = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut output).map(|_| output)
    });
    let deadline = Instant::now() + GIT_LIMIT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let output = reader.join().ok()?.ok()?;
                return status.success().then_some(output);
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            _ => {
                tracing::warn!(?dir, "git took too long: the tree has no fingerprint this time");
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// A path as git wrote it (bytes) as this system's path.
#[cfg(unix)]
fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(<OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bytes))
}

/// A path as git wrote it: UTF-8 on this system.
#[cfg(not(unix))]
fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(lossy(bytes))
}

/// A path's bytes, as git writes them (a link's content is where it points).
#[cfg(unix)]
fn bytes_of(path: &Path) -> Vec<u8> {
    std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec()
}

/// A path's bytes, as git writes them: UTF-8 with forward slashes on this system.
#[cfg(not(unix))]
fn bytes_of(path: &Path) -> Vec<u8> {
    path.to_string_lossy().replace('\\', "/").into_bytes()
}

fn lossy(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

/// What `git status --porcelain=v2` reported, paths from the repository's top.
#[derive(Debug, Default)]
struct Status {
    /// Each entry as `git status --porcelain` (v1) names it, untracked ones apart.
    tracked: Vec<String>,
    untracked: Vec<Vec<u8>>,
    /// Paths whose file differs from the index (or has no entry there): read by content.
    changed: Vec<Vec<u8>>,
}

fn parse_status(output: &[u8]) -> Status {
    let mut status = Status::default();
    let mut records = output.split(|byte| *byte == 0).filter(|record| !record.is_empty());
    while let Some(record) = records.next() {
        // The fields before the path: "1 XY sub mH mI mW hH hI", "2 … Xscore", "u … h1 h2 h3";
        // `sub` starts with `S` for a submodule, whose folder is not read by content.
        let submodule = record.get(5) == Some(&b'S');
        let (fields, worktree_changed) = match record.first() {
            Some(b'1') => (8, record.get(3) != Some(&b'.') && !submodule),
            Some(b'2') => (9, record.get(3) != Some(&b'.') && !submodule),
            Some(b'u') => (10, true),
            Some(b'?') => {
                let path = record.get(2..).unwrap_or_default().to_vec();
                status.changed.push(path.clone());
                status.untracked.push(path);
                continue;
            }
            _ => continue,
        };
        let path = record
            .splitn(fields + 1, |byte| *byte == b' ')
            .nth(fields)
            .unwrap_or_default();
        let mut shown = lossy(path);
        if record.first() == Some(&b'2') {
            // A rename's old path follows as a record of its own. Renamed in the work tree
            // (not staged), the old path is still an entry of the index with its old id: read
            // it, or a file deleted since would still count by that id.
            if let Some(original) = records.next() {
                shown = format!("{} -> {shown}", lossy(original));
                if matches!(record.get(3), Some(b'R' | b'C')) {
                    status.changed.push(original.to_vec());
                }
            }
        }
        status.tracked.push(shown);
        if worktree_changed {
            status.changed.push(path.to_vec());
        }
    }
    status
}

/// The dirty files as `git status --untracked-files=normal` lists them: an untracked file in
/// a folder with no tracked file is named by its highest such folder.
fn dirty_files(status: &Status, tracked_folders: &HashSet<Vec<u8>>) -> Vec<String> {
    let mut files = status.tracked.clone();
    let mut shown: HashSet<Vec<u8>> = HashSet::new();
    for path in &status.untracked {
        let folder = path
            .iter()
            .enumerate()
            .filter(|(at, byte)| **byte == b'/' && *at + 1 < path.len())
            .map(|(at, _)| &path[..=at])
            .find(|folder| !tracked_folders.contains(&folder[..folder.len() - 1]));
        let name = folder.unwrap_or(path).to_vec();
        if shown.insert(name.clone()) {
            files.push(lossy(&name));
        }
    }
    files
}

/// The index's entries under their stamp.
struct Index {
    stamp: Option<FileStamp>,
    /// Path from the top → blob id, for the entries read from the index.
    ids: Vec<(Vec<u8>, String)>,
    /// Entries git does not compare with their file: read by content.
    unwatched: Vec<Vec<u8>>,
    /// Every folder holding a tracked file, from the top, without the trailing slash.
    tracked_folders: HashSet<Vec<u8>>,
}

type Key = (PathBuf, Option<FileStamp>, Vec<(Vec<u8>, Option<FileStamp>)>);

static INDEXES: LazyLock<Mutex<HashMap<PathBuf, Arc<Index>>>> = LazyLock::new(Mutex::default);
static DIGESTS: LazyLock<Mutex<HashMap<PathBuf, (Key, String)>>> = LazyLock::new(Mutex::default);

fn remembered_digest(key: &Key) -> Option<String> {
    let digests = DIGESTS.lock().ok()?;
    digests
        .get(&key.0)
        .filter(|(remembered, _)| remembered == key)
        .map(|(_, digest)| digest.clone())
}

fn remember_digest(key: Key, digest: &str) {
    if let Ok(mut digests) = DIGESTS.lock() {
        digests.insert(key.0.clone(), (key, digest.to_owned()));
    }
}

/// The entries of the index at `index_path`, read again only when the file changed.
fn index_entries(top: &Path, index_path: &Path, started: SystemTime) -> Option<Arc<Index>> {
    let stamp = FileStamp::of(index_path);
    let remembered = INDEXES.lock().ok().and_then(|indexes| indexes.get(top).cloned());
    if let Some(index) = remembered.filter(|index| index.stamp.is_some() && index.stamp == stamp) {
        return Some(index);
    }
    // `-v` tags each entry: lower case for assume-unchanged, `S` for skip-worktree.
    let listed = git(top, &["ls-files", "-s", "-v", "-z", "--full-name"])?;
    let mut ids = Vec::new();
    let mut unwatched = Vec::new();
    let mut tracked_folders = HashSet::new();
    for record in listed.split(|byte| *byte == 0).filter(|record| !record.is_empty()) {
        // "<tag> <mode> <id> <stage>\t<path>"
        let Some(tab) = record.iter().position(|byte| *byte == b'\t') else {
            continue;
        };
        let path = record[tab + 1..].to_vec();
        let fields: Vec<&[u8]> = record[..tab].split(|byte| *byte == b' ').collect();
        let [tag, mode, id, stage] = fields.as_slice() else {
            continue;
        };
        let mut folder = path.as_slice();
        while let Some(slash) = folder.iter().rposition(|byte| *byte == b'/') {
            folder = &folder[..slash];
            if !tracked_folders.insert(folder.to_vec()) {
                break;
            }
        }
        let watched = tag.first().is_some_and(u8::is_ascii_uppercase) && *tag != b"S";
        if watched && *stage == b"0" && *mode != b"160000" {
            ids.push((path, lossy(id)));
        } else {
            unwatched.push(path);
        }
    }
    let index = Arc::new(Index {
        stamp: stamp.clone(),
        ids,
        unwatched,
        tracked_folders,
    });
    // An index written in the same tick as another would keep the stamp: not kept then.
    if stamp.as_ref().is_some_and(|stamp| stamp.settled(started)) && FileStamp::of(index_path) == stamp {
        if let Ok(mut indexes) = INDEXES.lock() {
            indexes.insert(top.to_path_buf(), Arc::clone(&index));
        }
    }
    Some(index)
}

/// Each path's content as git would name it: a file's and a link's blob id (a link's content
/// is where it points), a marker for a folder (a submodule, a nested repository) and for a
/// missing or unreadable file.
fn content_ids(top: &Path, paths: &[&[u8]]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::with_capacity(paths.len());
    let mut files = Vec::new();
    for (at, path) in paths.iter().enumerate() {
        let full = top.join(path_of(path.strip_suffix(b"/").unwrap_or(path)));
        ids.push(match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.file_type().is_symlink() => match std::fs::read_link(&full) {
                Ok(target) => hash_object(top, Input::Content(&bytes_of(&target)))
                    .and_then(|ids| ids.into_iter().next())
                    .unwrap_or_else(|| "unreadable".to_owned()),
                Err(_) => "unreadable".to_owned(),
            },
            Ok(meta) if meta.is_file() => {
                files.push(at);
                String::new()
            }
            Ok(_) => "folder".to_owned(),
            Err(_) => "missing".to_owned(),
        });
    }
    if !files.is_empty() {
        let listed: Vec<&[u8]> = files.iter().map(|at| paths[*at]).collect();
        match hash_object(top, Input::Paths(&listed)) {
            Some(read) if read.len() == files.len() => {
                for (at, id) in files.iter().zip(read) {
                    ids[*at] = id;
                }
            }
            // One file gone between the look and the read fails the batch: one at a time.
            _ => {
                for at in files {
                    ids[at] = hash_object(top, Input::Paths(&[paths[at]]))
                        .and_then(|ids| ids.into_iter().next())
                        .unwrap_or_else(|| "unreadable".to_owned());
                }
            }
        }
    }
    ids
}

enum Input<'a> {
    Content(&'a [u8]),
    Paths(&'a [&'a [u8]]),
}

/// Paths per `git hash-object` call: well inside any system's limit on arguments.
const PATHS_PER_CALL: usize = 200;

/// `git hash-object` without filters: the ids of the files at `paths` (from the top), or of
/// `content`. Paths go as arguments, never lines on its input: git would unquote a name
/// that starts with `"` and cut a trailing carriage return (`Icon\r`).
fn hash_object(top: &Path, input: Input<'_>) -> Option<Vec<String>> {
    let ids_of =
        |output: &[u8]| -> Vec<String> { String::from_utf8_lossy(output).lines().map(str::to_owned).collect() };
    match input {
        Input::Paths(paths) => {
            let mut ids = Vec::with_capacity(paths.len());
            for chunk in paths.chunks(PATHS_PER_CALL) {
                let mut args: Vec<std::ffi::OsString> = ["hash-object", "--no-filters", "--"].map(Into::into).to_vec();
                args.extend(chunk.iter().map(|path| path_of(path).into_os_string()));
                ids.extend(ids_of(&git(top, &args)?));
            }
            Some(ids)
        }
        Input::Content(content) => {
            let mut child = Command::new("git")
                .args(["hash-object", "--no-filters", "--stdin"])
                .current_dir(top)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            let mut stdin = child.stdin.take()?;
            let written = stdin.write_all(content);
            drop(stdin);
            let output = child.wait_with_output().ok()?;
            (written.is_ok() && output.status.success()).then(|| ids_of(&output.stdout))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn git(dir: &Path, args: &[&str]) -> TestResult {
        let status = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t.invalid")
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            return Err(format!("git {args:?} failed").into());
        }
        Ok(())
    }

    /// A repository with two committed files and an ignore rule; its fingerprint.
    fn committed(root: &Path) -> Result<String, Box<dyn std::error::Error>> {
        git(root, &["init", "-q"])?;
        std::fs::write(root.join(".gitignore"), "*.log\n")?;
        std::fs::create_dir_all(root.join("app"))?;
        std::fs::write(root.join("app/main.py"), "x = 1\n")?;
        std::fs::write(root.join("README"), "hello\n")?;
        git(root, &["add", "-A"])?;
        git(root, &["commit", "-q", "-m", "one"])?;
        Ok(tree_digest(root).ok_or("in git")?)
    }

    fn digest(root: &Path) -> Result<String, Box<dyn std::error::Error>> {
        Ok(tree_digest(root).ok_or("in git")?)
    }

    #[test]
    fn a_file_changed_after_the_commit_counts_and_undoing_it_gives_the_committed_key() -> TestResult {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        let first = committed(root)?;
        assert_eq!(digest(root)?, first, "stable");
        std::fs::write(root.join("app/main.py"), "x = 2\n")?;
        let edited = digest(root)?;
        assert_ne!(edited, first, "an edit counts");
        git(root, &["add", "app/main.py"])?;
        assert_eq!(digest(root)?, edited, "staging changes nothing: the same content");
        git(root, &["commit", "-q", "-m", "two"])?;
        assert_eq!(digest(root)?, edited, "nor does committing it");
        std::fs::write(root.join("app/main.py"), "x = 1\n")?;
        assert_eq!(digest(root)?, first, "the same content is the same tree");
        Ok(())
    }

    #[test]
    fn untracked_files_count_ignored_ones_do_not() -> TestResult {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        let first = committed(root)?;
        std::fs::write(root.join("debug.log"), "noise")?;
        assert_eq!(digest(root)?, first, "an ignored file does not count");
        std::fs::create_dir_all(root.join("extra/deep"))?;
        std::fs::write(root.join("extra/deep/new.py"), "y = 2\n")?;
        let untracked = digest(root)?;
        assert_ne!(untracked, first, "an untracked file counts");
        let survey = survey(root).ok_or("in git")?;
        assert_eq!(survey.dirty_files, ["extra/"], "named as git status names it");
        git(root, &["add", "extra"])?;
        assert_eq!(digest(root)?, untracked, "the same file, staged: the same tree");
        Ok(())
    }

    #[test]
    fn a_deleted_tracked_file_counts_by_its_absence() -> TestResult {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        let first = committed(root)?;
        std::fs::remove_file(root.join("README"))?;
        let deleted = digest(root)?;
        assert_ne!(deleted, first);
        std::fs::write(root.join("README"), "")?;
        assert_ne!(digest(root)?, deleted, "an empty file is not a missing one");
        std::fs::write(root.join("README"), "hello\n")?;
        assert_eq!(digest(root)?, first);
        Ok(())
    }

    #[test]
    fn an_edit_in_the_same_second_as_the_index_is_seen() -> TestResult {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        git(root, &["init", "-q"])?;
        // Git compares size, times and inode; with ctime out of it, only the racy check is left.
        git(root, &["config", "core.trustctime", "false"])?;
        std::fs::write(root.join("app.py"), "x = 1\n")?;
        git(root, &["add", "-A"])?;
        git(root, &["commit", "-q", "-m", "one"])?;
        let first = digest(root)?;
        // Same size, and the very stamp the index holds for it.
        let stamp = std::fs::metadata(root.join("app.py"))?.modified()?;
        std::fs::write(root.join("app.py"), "x = 2\n")?;
        std::fs::File::options()
            .write(true)
            .open(root.join("app.py"))?
            .set_modified(stamp)?;
        let index = root.join(".git/index");
        std::fs::File::options().write(true).open(&index)?.set_modified(stamp)?;
        assert_ne!(digest(root)?, first, "racy: git compares the content");
        std::fs::write(root.join("app.py"), "x = 1\n")?;
        assert_eq!(digest(root)?, first);
        Ok(())
    }

    #[test]
    fn files_git_does_not_watch_are_read() -> TestResult {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        let first = committed(root)?;
        git(root, &["update-index", "--assume-unchanged", "README"])?;
        std::fs::write(root.join("README"), "edited\n")?;
        assert_ne!(digest(root)?, first, "assume-unchanged: read anyway");
        std::fs::write(root.join("README"), "hello\n")?;
        assert_eq!(digest(root)?, first);
        git(root, &["update-index", "--no-assume-unchanged", "README"])?;
        git(root, &["update-index", "--skip-worktree", "README"])?;
        std::fs::write(root.join("README"), "edited\n")?;
        assert_ne!(digest(root)?, first, "skip-worktree: read anyway");
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn a_link_counts_by_where_it_points() -> TestResult {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        let first = committed(root)?;
        std::os::unix::fs::symlink("README", root.join("link"))?;
        let linked = digest(root)?;
        assert_ne!(linked, first);
        git(root, &["add", "link"])?;
        assert_eq!(digest(root)?, linked, "untracked or staged, the same link");
        std::fs::remove_file(root.join("link"))?;
        std::os::unix::fs::symlink("app/main.py", root.join("link"))?;
        assert_ne!(digest(root)?, linked, "pointing elsewhere");
        Ok(())
    }

    #[test]
    fn a_project_in_a_sub_folder_counts_only_its_own_files() -> TestResult {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        let top = committed(root)?;
        let project = root.join("app");
        let first = digest(&project)?;
        assert_ne!(first, top);
        std::fs::write(root.join("README"), "elsewhere\n")?;
        assert_eq!(digest(&project)?, first, "a file outside the project");
        std::fs::write(project.join("main.py"), "x = 3\n")?;
        assert_ne!(digest(&project)?, first);
        let survey = survey(&project).ok_or("in git")?;
        assert_eq!(survey.dirty_files, ["README", "app/main.py"], "the whole repository's");
        Ok(())
    }

    #[test]
    fn a_file_already_edited_and_edited_again_gives_a_new_key() -> TestResult {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        committed(root)?;
        std::fs::write(root.join("app/main.py"), "x = 2\n")?;
        let edited = digest(root)?;
        std::fs::write(root.join("app/main.py"), "x = 3\n")?;
        assert_ne!(digest(root)?, edited, "the same size, moments later");
        Ok(())
    }

    /// A copy marked with `git add -N` shows as a rename in the work tree; deleting the old
    /// file then must change the key, though the index still has the old file's entry.
    #[test]
    fn a_file_deleted_after_a_rename_in_the_work_tree_counts() -> TestResult {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        committed(root)?;
        std::fs::copy(root.join("app/main.py"), root.join("app/moved.py"))?;
        git(root, &["add", "-N", "app/moved.py"])?;
        let both = digest(root)?;
        std::fs::remove_file(root.join("app/main.py"))?;
        let status = Command::new("git")
            .args(["status", "--porcelain=v2"])
            .current_dir(root)
            .output()?;
        assert!(
            String::from_utf8_lossy(&status.stdout).starts_with("2 .R"),
            "git shows the rename"
        );
        assert_ne!(digest(root)?, both, "the old file is gone");
        Ok(())
    }

    /// Names git would misread as lines of a list: one that starts with a quote, one that ends
    /// with a carriage return (macOS's `Icon\r`). Each is read, and its edits count.
    #[test]
    fn odd_file_names_are_read_by_content() -> TestResult {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        let first = committed(root)?;
        for name in ["\"q.py", "Icon\r"] {
            std::fs::write(root.join(name), "one")?;
            let one = digest(root)?;
            assert_ne!(one, first, "{name:?} counts");
            std::fs::write(root.join(name), "two")?;
            assert_ne!(digest(root)?, one, "an edit of {name:?} counts");
            std::fs::remove_file(root.join(name))?;
        }
        Ok(())
    }

    /// A project in a folder whose name is not UTF-8 still has its own files in its key.
    #[cfg(unix)]
    #[test]
    fn a_folder_name_that_is_not_utf8_keeps_its_files() -> TestResult {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        committed(root)?;
        let project = root.join(path_of(b"caf\xe9"));
        std::fs::create_dir_all(&project)?;
        std::fs::write(project.join("app.py"), "x = 1\n")?;
        git(root, &["add", "-A"])?;
        git(root, &["commit", "-q", "-m", "project"])?;
        let first = digest(&project)?;
        std::fs::write(project.join("app.py"), "x = 2\n")?;
        assert_ne!(digest(&project)?, first, "an edit in the project counts");
        Ok(())
    }

    /// A submodule checked out at another commit makes the tree dirty, as `git status` says.
    #[test]
    fn a_submodule_at_another_commit_makes_the_tree_dirty() -> TestResult {
        let dir = tempfile::tempdir()?;
        let library = dir.path().join("library");
        std::fs::create_dir_all(&library)?;
        committed(&library)?;
        let root = dir.path().join("app");
        std::fs::create_dir_all(&root)?;
        committed(&root)?;
        let source = library.display().to_string();
        git(
            &root,
            &[
                "-c",
                "protocol.file.allow=always",
                "submodule",
                "add",
                "-q",
                &source,
                "lib",
            ],
        )?;
        git(&root, &["commit", "-q", "-m", "submodule"])?;
        assert_eq!(survey(&root).ok_or("in git")?.dirty_files, Vec::<String>::new());
        std::fs::write(library.join("README"), "changed\n")?;
        git(&library, &["commit", "-qam", "two"])?;
        git(
            &root.join("lib"),
            &["-c", "protocol.file.allow=always", "pull", "-q", "origin"],
        )?;
        assert_eq!(survey(&root).ok_or("in git")?.dirty_files, ["lib"]);
        Ok(())
    }

    #[test]
    fn outside_git_there_is_no_fingerprint() -> TestResult {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("app.py"), "x = 1\n")?;
        assert_eq!(tree_digest(dir.path()), None);
        Ok(())
    }
}
