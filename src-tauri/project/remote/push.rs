//! `git push` of the checked-out branch with the person's own git setup, and its refusals
//! as typed errors with a person's sentence.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::super::git::run_git;
use super::standing::Head;
use super::talk::{last_word, talk_to_remote, trouble, Trouble};
use super::{host_of, web};
use crate::error::{AppError, ErrorAction, ErrorKind};

const PUSH_LIMIT: Duration = Duration::from_secs(120);

/// What a push put where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Pushed {
    pub remote: String,
    pub branch: String,
    /// The remote's address without credentials.
    pub remote_url: Option<String>,
}

/// Why a push did not happen. `place` is the forge's name (`GitHub`) or the remote's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// Non-fast-forward, or "fetch first": the remote branch has commits this one lacks.
    #[error("someone pushed to {branch} since you pulled: update your copy first (git pull), then release again")]
    Rejected { branch: String, place: String },
    /// A hook on the remote said no; `said` are its `remote:` lines.
    #[error("{place} refused the push: {}", said.join(" "))]
    HookDeclined { place: String, said: Vec<String> },
    #[error("{place} did not let you push to this repository")]
    NoPermission { place: String, said: Vec<String> },
    #[error("could not reach {place} to push ({why})")]
    Unreachable { place: String, why: String },
    #[error("no branch is checked out, so there is no branch to push")]
    NoBranch,
    #[error("this repository has no remote to push to")]
    NoRemote,
    #[error("git could not push: {}", last_word(said).unwrap_or_else(|| "it gave no reason".to_owned()))]
    Other { said: Vec<String> },
}

impl From<PushError> for AppError {
    fn from(error: PushError) -> Self {
        let message = super::super::capitalise(&error.to_string());
        let (kind, hint, terminal, action) = match &error {
            PushError::Rejected { branch, .. } => (
                ErrorKind::Precondition,
                format!("Bring the new commits of {branch} into your copy, look at the plan again, then release."),
                Some("git pull, then run the release again".to_owned()),
                Some(ErrorAction::ReviewPlan),
            ),
            PushError::HookDeclined { .. } => (
                ErrorKind::Precondition,
                "These are the repository's own rules: ask whoever looks after it, or release a commit they accept."
                    .to_owned(),
                None,
                None,
            ),
            PushError::NoPermission { place, .. } => (
                ErrorKind::Precondition,
                format!(
                    "Slipway pushes with your own git setup (SSH key or saved credentials), never with a token of its own: \
                     make sure it can push to this repository on {place}, then release again."
                ),
                Some("git push (it says what it needs), then run the release again".to_owned()),
                None,
            ),
            PushError::Unreachable { .. } => (
                ErrorKind::Network,
                "Check the network connection, then try again.".to_owned(),
                None,
                Some(ErrorAction::Retry),
            ),
            PushError::NoBranch => (
                ErrorKind::Precondition,
                "Check out the branch to release, or release without pushing first.".to_owned(),
                Some("git switch <branch>, or slipway release --no-push".to_owned()),
                None,
            ),
            PushError::NoRemote => (
                ErrorKind::Precondition,
                "Add the repository's remote, or turn off pushing first in the project's settings.".to_owned(),
                Some("git remote add origin <address>, or slipway release --no-push".to_owned()),
                Some(ErrorAction::OpenProjectSettings),
            ),
            // Git said no for a reason of its own: the person's to read, not a bug to report.
            PushError::Other { .. } => (
                ErrorKind::Precondition,
                "The details show what git said.".to_owned(),
                None,
                None,
            ),
        };
        let said = match &error {
            PushError::HookDeclined { said, .. } | PushError::NoPermission { said, .. } | PushError::Other { said } => {
                Some(said.join("\n"))
            }
            _ => None,
        };
        let mut app = AppError::new(kind, message, hint);
        if let Some(action) = action {
            app = app.with_action(action);
        }
        if let Some(terminal) = terminal {
            app = app.in_terminal(terminal);
        }
        if let Some(said) = said.filter(|said| !said.is_empty()) {
            app = app.with_detail(said);
        }
        app
    }
}

/// Pushes the checked-out branch to its upstream (`git push -u <remote> <branch>` when it has
/// none), with the person's own git config, credential helpers and SSH keys, never a prompt,
/// and a 120 s limit. Every output line goes to `line`, redacted.
pub async fn push(root: &Path, line: &(dyn Fn(String) + Send + Sync)) -> Result<Pushed, PushError> {
    push_with(root, line, PUSH_LIMIT).await
}

pub(super) async fn push_with(
    root: &Path,
    line: &(dyn Fn(String) + Send + Sync),
    limit: Duration,
) -> Result<Pushed, PushError> {
    let head = Head::read(root).await.ok_or(PushError::NoBranch)?;
    let branch = head.branch.ok_or(PushError::NoBranch)?;
    let remote = head.remote.ok_or(PushError::NoRemote)?;
    let place = head
        .raw_url
        .as_deref()
        .and_then(host_of)
        .unwrap_or_else(|| remote.clone());
    let secrets = head.raw_url.as_deref().map(web::url_secrets).unwrap_or_default();
    // The upstream's branch on the remote, when the branch follows one there.
    let upstream_remote = run_git(root, &["config", "--get", &format!("branch.{branch}.remote")]).await;
    let merge = run_git(root, &["config", "--get", &format!("branch.{branch}.merge")]).await;
    let refspec;
    let same_name = format!("refs/heads/{branch}");
    let args: Vec<&str> = match merge {
        // Only to the branch of the same name: a branch made from origin/main pushes to its own
        // name, never onto main (git's `simple` refuses that push too).
        Some(merge) if upstream_remote.as_deref() == Some(remote.as_str()) && merge == same_name => {
            refspec = format!("{same_name}:{merge}");
            vec!["push", &remote, &refspec]
        }
        Some(_) if upstream_remote.as_deref() == Some(remote.as_str()) => {
            refspec = format!("{same_name}:{same_name}");
            vec!["push", &remote, &refspec]
        }
        _ => vec!["push", "--set-upstream", &remote, &branch],
    };
    let ran = talk_to_remote(root, &args, limit, &secrets, line)
        .await
        .map_err(|error| PushError::Other {
            said: vec![format!("git could not be started: {error}")],
        })?;
    if ran.success {
        return Ok(Pushed {
            remote,
            branch,
            remote_url: head.raw_url.as_deref().map(web::without_credentials),
        });
    }
    if ran.timed_out {
        return Err(PushError::Unreachable {
            place,
            why: format!("no answer within {} s", limit.as_secs()),
        });
    }
    Err(refusal(&ran.lines, branch, place))
}

/// Which refusal git's lines describe.
fn refusal(lines: &[String], branch: String, place: String) -> PushError {
    let has = |needle: &str| lines.iter().any(|line| line.contains(needle));
    // A hook's "no" is `[remote rejected]`; the remote's branch having moved is `[rejected]`.
    if has("[remote rejected]") || has("hook declined") {
        let said: Vec<String> = lines
            .iter()
            .filter_map(|line| line.strip_prefix("remote:"))
            .map(|said| said.trim().to_owned())
            .filter(|said| !said.is_empty())
            .collect();
        let said = if said.is_empty() {
            lines
                .iter()
                .filter(|line| line.contains("[remote rejected]"))
                .cloned()
                .collect()
        } else {
            said
        };
        return PushError::HookDeclined { place, said };
    }
    if has("[rejected]") || has("non-fast-forward") || has("(fetch first)") || has("Updates were rejected") {
        return PushError::Rejected { branch, place };
    }
    match trouble(lines) {
        Some(Trouble::Unreachable(why)) => PushError::Unreachable { place, why },
        Some(Trouble::NoPermission | Trouble::NotFound) => PushError::NoPermission {
            place,
            said: lines.to_vec(),
        },
        None => PushError::Other { said: lines.to_vec() },
    }
}
