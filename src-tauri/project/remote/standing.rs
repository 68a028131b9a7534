//! Where the checked-out commit stands, read from the local refs after the background fetch
//! had its chance.

use std::path::Path;
use std::time::Duration;

use super::super::git::run_git;
use super::fetch::{fetch_and_wait, Limits, Source};
use super::{host_of, web, Reach, RemoteStanding, SyncState};

/// Starts a background `git fetch` of the remote (at most one at a time per folder, and not
/// again within 30 s of the last), waits for it at most `wait`, and reads the standing from
/// the local refs. `None` outside a repository or before its first commit; never an error:
/// a fetch that fails or outlives its 20 s makes `reach` say so, one still running after
/// `wait` makes it [`Reach::Fetching`], and it goes on after the call returns.
pub async fn standing(root: &Path, wait: Duration) -> Option<RemoteStanding> {
    standing_with(root, wait, Limits::USUAL).await
}

pub(super) async fn standing_with(root: &Path, wait: Duration, limits: Limits) -> Option<RemoteStanding> {
    let head = Head::read(root).await?;
    let reach = match &head.remote {
        Some(remote) => {
            let secrets = head.raw_url.as_deref().map(web::url_secrets).unwrap_or_default();
            let source = Source {
                remote: remote.clone(),
                secrets,
            };
            fetch_and_wait(root, source, wait, limits).await
        }
        None => Reach::NotTried,
    };
    Some(head.against_remote(root, reach).await)
}

/// The checked-out branch and the remote it belongs to.
pub(super) struct Head {
    pub branch: Option<String>,
    pub remote: Option<String>,
    /// The remote's address as configured (credentials and all): never shown.
    pub raw_url: Option<String>,
}

impl Head {
    /// `None` outside a repository or before the first commit.
    pub(super) async fn read(root: &Path) -> Option<Head> {
        run_git(root, &["rev-parse", "--verify", "--quiet", "HEAD"]).await?;
        let branch = run_git(root, &["symbolic-ref", "--short", "-q", "HEAD"]).await;
        let remotes: Vec<String> = run_git(root, &["remote"])
            .await
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        let configured = |key: String| async move { run_git(root, &["config", "--get", &key]).await };
        let upstream_remote = match &branch {
            Some(branch) => configured(format!("branch.{branch}.remote")).await,
            None => None,
        };
        let push_default = configured("remote.pushDefault".to_owned()).await;
        let remote = [upstream_remote, push_default, Some("origin".to_owned())]
            .into_iter()
            .flatten()
            .find(|name| remotes.contains(name))
            .or_else(|| remotes.first().cloned());
        let raw_url = match &remote {
            Some(remote) => run_git(root, &["remote", "get-url", remote]).await,
            None => None,
        };
        Some(Head {
            branch,
            remote,
            raw_url,
        })
    }

    async fn against_remote(self, root: &Path, reach: Reach) -> RemoteStanding {
        let remote_url = self.raw_url.as_deref().map(web::without_credentials);
        let host = self.raw_url.as_deref().and_then(host_of);
        // Only a remote-tracking branch of the chosen remote counts (an upstream may be a
        // local branch, `branch.<name>.remote = .`).
        let upstream = match (&self.branch, &self.remote) {
            (Some(_), Some(remote)) => run_git(root, &["rev-parse", "--symbolic-full-name", "@{upstream}"])
                .await
                .and_then(|full| full.strip_prefix("refs/remotes/").map(str::to_owned))
                .filter(|short| short.starts_with(&format!("{remote}/"))),
            _ => None,
        };
        let (ahead, behind) = match &upstream {
            Some(_) => counts(root).await.unwrap_or_default(),
            None => (0, 0),
        };
        let state = match (&self.remote, &self.branch, &upstream) {
            (None, _, _) => SyncState::NoRemote,
            (Some(_), None, _) => SyncState::Detached,
            (Some(_), Some(_), None) => SyncState::NoUpstream,
            _ => match (ahead, behind) {
                (0, 0) => SyncState::UpToDate,
                (_, 0) => SyncState::Ahead,
                (0, _) => SyncState::Behind,
                _ => SyncState::Diverged,
            },
        };
        let commit_on_remote = match (&self.remote, &upstream) {
            (Some(_), Some(_)) if ahead == 0 => true,
            (Some(remote), _) => run_git(
                root,
                &[
                    "for-each-ref",
                    "--count=1",
                    "--contains",
                    "HEAD",
                    "--format=%(refname)",
                    &format!("refs/remotes/{remote}/"),
                ],
            )
            .await
            .is_some(),
            (None, _) => false,
        };
        RemoteStanding {
            remote: self.remote,
            remote_url,
            upstream,
            branch: self.branch,
            state,
            ahead,
            behind,
            reach,
            host,
            commit_on_remote,
        }
    }
}

/// Commits on HEAD the upstream lacks, and on the upstream HEAD lacks.
async fn counts(root: &Path) -> Option<(u32, u32)> {
    let counted = run_git(root, &["rev-list", "--left-right", "--count", "HEAD...@{upstream}"]).await?;
    let mut numbers = counted.split_whitespace().map(str::parse::<u32>);
    match (numbers.next(), numbers.next()) {
        (Some(Ok(ahead)), Some(Ok(behind))) => Some((ahead, behind)),
        _ => None,
    }
}
