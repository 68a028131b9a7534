//! Git state through the `git` command, the same tool the user's own terminal would use.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};
use ts_rs::TS;

const GIT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GitState {
    /// The branch, or `None` on a detached HEAD.
    pub branch: Option<String>,
    /// The short commit id; `None` in a repository with no commit yet.
    pub commit: Option<String>,
}

/// The folder's git state, or `None` when it is not in a repository (or git is missing;
/// `doctor` reports that).
pub async fn git_state(folder: &Path) -> Option<GitState> {
    // Inside a work tree at all? (`rev-parse` fails outside one, and with no commit yet
    // `--short HEAD` fails too, so ask separately.)
    let inside = run_git(folder, &["rev-parse", "--is-inside-work-tree"]).await?;
    if inside != "true" {
        return None;
    }
    let branch = run_git(folder, &["symbolic-ref", "--short", "-q", "HEAD"]).await;
    let commit = run_git(folder, &["rev-parse", "--short", "HEAD"]).await;
    Some(GitState { branch, commit })
}

/// The full id of the commit checked out, as Sentry's SDKs name a release by default.
pub async fn full_commit(folder: &Path) -> Option<String> {
    run_git(folder, &["rev-parse", "HEAD"]).await
}

/// The full id of `commit` (a short id a release recorded), as Sentry's SDKs name it.
pub async fn full_commit_of(folder: &Path, commit: &str) -> Option<String> {
    run_git(
        folder,
        &["rev-parse", "--verify", "--quiet", &format!("{commit}^{{commit}}")],
    )
    .await
}

/// Everything a release records about the working copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GitDetails {
    pub branch: Option<String>,
    pub commit: Option<String>,
    /// Files with uncommitted changes (or untracked), as `git status` names them.
    pub dirty_files: Vec<String>,
    pub remote_url: Option<String>,
}

/// Branch, commit, dirty files and the `origin` remote, or `None` outside a repository.
pub async fn git_details(folder: &Path) -> Option<GitDetails> {
    let state = git_state(folder).await?;
    let status = run_git(folder, &["status", "--porcelain=v1", "--untracked-files=normal"]).await;
    let dirty_files = status
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.get(3..))
        .map(str::to_owned)
        .collect();
    let remote_url = run_git(folder, &["remote", "get-url", "origin"])
        .await
        .map(|url| crate::secrets::redact(&url).into_owned());
    Some(GitDetails {
        branch: state.branch,
        commit: state.commit,
        dirty_files,
        remote_url,
    })
}

pub(super) async fn run_git(folder: &Path, args: &[&str]) -> Option<String> {
    let mut command = tokio::process::Command::new("git");
    command.arg("-C").arg(folder).args(args).kill_on_drop(true);
    let output = tokio::time::timeout(GIT_TIMEOUT, command.output()).await.ok()?.ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout).trim_end().to_owned();
    (!text.is_empty()).then_some(text)
}

/// A hash of the project's files as git sees them: tracked and untracked-but-not-ignored
/// paths with their contents. `None` outside git. The gates' cache keys on it, and an
/// edited tree's image tag carries it, so two contents never share a tag.
pub fn tree_digest(root: &Path) -> Option<String> {
    let listed = std::process::Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(root)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|output| output.status.success())?;
    let mut paths: Vec<&[u8]> = listed
        .stdout
        .split(|byte| *byte == 0)
        .filter(|path| !path.is_empty())
        .collect();
    paths.sort_unstable();
    paths.dedup();
    let mut hasher = Sha256::new();
    for path in paths {
        let relative = String::from_utf8_lossy(path);
        let full = root.join(relative.as_ref());
        hasher.update(path);
        hasher.update([0]);
        // A link counts by where it points; a file deleted but still tracked by its absence.
        let content = match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.file_type().is_symlink() => std::fs::read_link(&full)
                .map(|target| target.display().to_string().into_bytes())
                .unwrap_or_default(),
            Ok(meta) if meta.is_file() => std::fs::read(&full).unwrap_or_else(|_| b"\0unreadable".to_vec()),
            Ok(_) => b"\0folder".to_vec(),
            Err(_) => b"\0missing".to_vec(),
        };
        hasher.update(Sha256::digest(&content));
    }
    Some(hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) -> std::io::Result<()> {
        let status = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.test")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.test")
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("git {args:?} failed")))
        }
    }

    #[tokio::test]
    async fn reads_branch_before_and_after_the_first_commit() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        git(dir.path(), &["init", "-q", "-b", "release/2.1"])?;
        let fresh = git_state(dir.path()).await;
        assert_eq!(
            fresh,
            Some(GitState {
                branch: Some("release/2.1".into()),
                commit: None
            })
        );
        git(dir.path(), &["commit", "-q", "--allow-empty", "-m", "first"])?;
        let state = git_state(dir.path()).await;
        assert!(
            state
                .as_ref()
                .and_then(|s| s.commit.as_ref())
                .is_some_and(|c| c.len() >= 7),
            "{state:?}"
        );
        std::fs::write(dir.path().join("new.txt"), "x")?;
        let details = git_details(dir.path()).await;
        assert_eq!(details.map(|d| d.dirty_files), Some(vec!["new.txt".to_owned()]));
        git(dir.path(), &["checkout", "-q", "--detach"])?;
        let detached = git_state(dir.path()).await;
        assert_eq!(detached.and_then(|s| s.branch), None);
        Ok(())
    }

    #[tokio::test]
    async fn a_plain_folder_has_no_git_state() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        assert_eq!(git_state(dir.path()).await, None);
        Ok(())
    }
}
