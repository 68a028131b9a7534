//! The commit on the remote: where the checked-out commit stands against the branch it
//! tracks, a push of it with the person's own git, and the web page it has there.
//!
//! How to use it:
//! - [`standing`] for the plan: it starts a `git fetch` in the background and waits for it
//!   only as long as it is told, then reads the local refs. Planning never waits on the
//!   network; a fetch that is still running shows as [`Reach::Fetching`], one that failed as
//!   [`Reach::Unreachable`] with git's reason in plain words, and [`fetch_settled`] lets a
//!   window or the CLI plan again when it ends.
//! - [`push`] as the release's first step when [`RemoteStanding::needs_push`]: a refusal is a
//!   typed [`PushError`] whose sentence says what happened and what to do.
//! - [`commit_url`] for History's link, [`circleci_slug`] for the CircleCI project.
//!
//! Why it runs the system `git`: the person's credential helpers, SSH keys and agent, proxy
//! and `insteadOf` rules all live in their git setup, and Slipway never holds a git token of
//! its own. It never lets git ask a question (there is no terminal to answer it): terminal
//! prompts are off, and SSH runs in batch mode unless the person chose their own SSH command.
//! Every git that talks to the remote runs in its own process group under a time limit, and
//! the whole group is killed when the limit passes, so no `ssh` or helper is left behind.
//! Every line git prints passes the redactor, and the remote's address is shown without the
//! user info an https address may carry a token in.

mod fetch;
mod push;
mod standing;
mod talk;
mod web;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use fetch::fetch_settled;
pub use push::{push, PushError, Pushed};
pub use standing::standing;
pub use web::{circleci_slug, commit_url, forge_name};

/// Where the checked-out commit stands against the branch it tracks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RemoteStanding {
    /// The upstream's remote, else the push default, else `origin`, else the first remote.
    pub remote: Option<String>,
    /// The remote's address without credentials.
    pub remote_url: Option<String>,
    /// The remote-tracking branch the checked-out branch follows: `origin/main`.
    pub upstream: Option<String>,
    pub branch: Option<String>,
    pub state: SyncState,
    /// Commits on the branch that the upstream lacks.
    pub ahead: u32,
    /// Commits on the upstream that the branch lacks.
    pub behind: u32,
    pub reach: Reach,
    /// The forge the remote is on (`GitHub`, `GitLab`, `Bitbucket`), when it is one of them.
    pub host: Option<String>,
    /// The commit is on some branch of `remote`, as last fetched.
    pub commit_on_remote: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum SyncState {
    UpToDate,
    Ahead,
    Behind,
    Diverged,
    /// A branch with no remote-tracking branch to follow (never pushed, or its upstream gone).
    NoUpstream,
    /// The repository has no remote at all.
    NoRemote,
    /// No branch is checked out.
    Detached,
}

/// How fresh the remote-tracking branches are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Reach {
    /// A fetch ended well at `at` (RFC 3339).
    #[serde(rename_all = "camelCase")]
    Fetched { at: String },
    /// A fetch is still running; the standing is what was known before it.
    Fetching,
    /// The last fetch failed, for `why` (plain words); `known_at` is when the remote-tracking
    /// branches were last fetched, when that is known.
    #[serde(rename_all = "camelCase")]
    Unreachable { why: String, known_at: Option<String> },
    /// There was nothing to fetch from.
    NotTried,
}

impl RemoteStanding {
    /// Where the commit would be: the forge's name, else the remote's.
    fn place(&self) -> &str {
        self.host.as_deref().or(self.remote.as_deref()).unwrap_or("the remote")
    }

    fn upstream_name(&self) -> &str {
        self.upstream.as_deref().unwrap_or("its upstream branch")
    }

    /// One or two sentences a person reads: where the commit stands, and how fresh that is.
    pub fn words(&self) -> String {
        let place = self.place();
        let upstream = self.upstream_name();
        let standing = match self.state {
            SyncState::UpToDate => match &self.host {
                Some(host) => format!("Up to date with {upstream} on {host}."),
                None => format!("Up to date with {upstream}."),
            },
            SyncState::Ahead => format!(
                "{} ahead of {upstream}: {} not on {place} yet.",
                commits(self.ahead),
                if self.ahead == 1 { "it is" } else { "they are" }
            ),
            SyncState::Behind => format!(
                "Behind {upstream} by {}: someone pushed to it since you pulled.",
                commits(self.behind)
            ),
            SyncState::Diverged => format!(
                "Your branch and {upstream} have both moved ({} ahead, {} behind).",
                self.ahead, self.behind
            ),
            SyncState::NoUpstream => format!(
                "{} has no upstream branch on {place} yet.",
                self.branch.as_deref().unwrap_or("This branch")
            ),
            SyncState::NoRemote => "This repository has no remote: the commit is only on this computer.".to_owned(),
            SyncState::Detached if self.commit_on_remote => {
                format!("No branch is checked out; the commit is on {place}.")
            }
            SyncState::Detached => {
                format!("No branch is checked out, and the commit is on no branch of {place}.")
            }
        };
        match &self.reach {
            Reach::Unreachable { why, known_at } => {
                let known = match known_at.as_deref().and_then(local_time) {
                    Some(time) => format!("this is what was known at {time}"),
                    None => "this is what this computer knew".to_owned(),
                };
                format!("{standing} Could not reach {place} ({why}); {known}.")
            }
            Reach::Fetching => format!("{standing} Still asking {place}; this is what was known before."),
            Reach::Fetched { .. } | Reach::NotTried => standing,
        }
    }

    /// For a branch that is behind or has diverged: what the release would ship, and what
    /// to do first.
    pub fn warning(&self) -> Option<String> {
        let upstream = self.upstream_name();
        match self.state {
            SyncState::Behind => Some(format!(
                "The release would ship an older tree than {upstream}: {} pushed since you pulled would be left out. \
                 Update your copy first (git pull), then release again.",
                commits(self.behind)
            )),
            SyncState::Diverged => Some(format!(
                "The release would ship a tree {upstream} has never had, leaving out {} pushed since you pulled. \
                 Update your copy first (git pull), then release again.",
                commits(self.behind)
            )),
            _ => None,
        }
    }

    /// The commit is not on its remote branch yet, and a push would put it there.
    pub fn needs_push(&self) -> bool {
        matches!(self.state, SyncState::Ahead | SyncState::NoUpstream) && self.remote.is_some() && self.branch.is_some()
    }
}

fn commits(count: u32) -> String {
    match count {
        1 => "1 commit".to_owned(),
        _ => format!("{count} commits"),
    }
}

/// An RFC 3339 time as the person's clock reads it: "3 May 14:02".
fn local_time(rfc3339: &str) -> Option<String> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|at| at.with_timezone(&chrono::Local).format("%-d %b %H:%M").to_string())
}

/// The name of the forge a remote's address is on, for the sentences.
fn host_of(remote_url: &str) -> Option<String> {
    web::on_forge(remote_url).map(|found| found.forge.name().to_owned())
}

#[cfg(test)]
mod tests;
