//! Git state through the `git` command, the same tool the user's own terminal would use.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
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
    Some(git_details_and_digest(folder).await?.0)
}

/// [`git_details`], and the tree's fingerprint ([`super::tree_digest`]) from the same
/// `git status`: a plan reads the work tree once.
pub async fn git_details_and_digest(folder: &Path) -> Option<(GitDetails, Option<String>)> {
    let root = folder.to_path_buf();
    // Three answers, asked at once: the survey is the long one on a big tree.
    let (state, survey, remote_url) = tokio::join!(
        git_state(folder),
        async {
            tokio::task::spawn_blocking(move || super::tree::survey(&root))
                .await
                .ok()
                .flatten()
        },
        run_git(folder, &["remote", "get-url", "origin"]),
    );
    let state = state?;
    let remote_url = remote_url.map(|url| crate::secrets::redact(&url).into_owned());
    let (dirty_files, digest) = match survey {
        Some(survey) => (survey.dirty_files, Some(survey.digest)),
        None => (Vec::new(), None),
    };
    let details = GitDetails {
        branch: state.branch,
        commit: state.commit,
        dirty_files,
        remote_url,
    };
    Some((details, digest))
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Git in `dir` as a test's author; what it printed, trimmed.
    pub(in crate::project) fn git(dir: &Path, args: &[&str]) -> std::io::Result<String> {
        let output = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.test")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.test")
            .output()?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
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
