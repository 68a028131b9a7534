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
mod web;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;
use ts_rs::TS;

pub use fetch::fetch_settled;
pub use push::{push, PushError, Pushed};
pub use standing::standing;
pub use web::{circleci_slug, commit_url};

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

/// How a git that talked to the remote ended; `lines` are its output, redacted.
struct Ran {
    success: bool,
    timed_out: bool,
    lines: Vec<String>,
}

/// Runs `git -C root ARGS` that talks to a remote: no prompt, its own process group killed
/// after `limit`, each output line (stdout and stderr, redacted, `secrets` replaced) given
/// to `line` as it comes.
async fn talk_to_remote(
    root: &Path,
    args: &[&str],
    limit: Duration,
    secrets: &[String],
    line: &(dyn Fn(String) + Send + Sync),
) -> std::io::Result<Ran> {
    let mut command = tokio::process::Command::new("git");
    command
        .arg("-C")
        .arg(root)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        // Git Credential Manager's own switch for "never open a window or ask".
        .env("GCM_INTERACTIVE", "never")
        // Git's refusals are read by their English words.
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if !chose_own_ssh(root).await {
        command.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    let mut child = command.spawn()?;
    let group = Group(child.id().and_then(|id| i32::try_from(id).ok()).map(Pid::from_raw));

    let (sender, mut receiver) = mpsc::unbounded_channel::<String>();
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(forward(BufReader::new(stdout), sender.clone()));
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(forward(BufReader::new(stderr), sender.clone()));
    }
    drop(sender);

    let mut lines = Vec::new();
    let mut keep = |raw: String| {
        if let Some(text) = clean_line(&raw, secrets) {
            line(text.clone());
            lines.push(text);
        }
    };
    let deadline = tokio::time::sleep(limit);
    tokio::pin!(deadline);
    let status = loop {
        tokio::select! {
            Some(raw) = receiver.recv() => keep(raw),
            status = child.wait() => break Some(status?),
            () = &mut deadline => {
                group.kill();
                let _ = child.wait().await;
                break None;
            }
        }
    };
    // Anything of the group still alive (a helper) would hold the pipes open.
    group.kill();
    while let Ok(Some(raw)) = tokio::time::timeout(Duration::from_millis(500), receiver.recv()).await {
        keep(raw);
    }
    Ok(Ran {
        success: status.is_some_and(|status| status.success()),
        timed_out: status.is_none(),
        lines,
    })
}

/// A process group, killed whole when asked and when dropped (a caller's future dropped
/// mid-run leaves nothing behind).
struct Group(Option<Pid>);

impl Group {
    fn kill(&self) {
        if let Some(group) = self.0 {
            let _ = killpg(group, Signal::SIGKILL);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn forward<R: tokio::io::AsyncRead + Unpin>(reader: BufReader<R>, sender: mpsc::UnboundedSender<String>) {
    let mut reader = reader;
    let mut buffer = Vec::new();
    // Bytes, not `lines()`: a path or a hook's message need not be UTF-8.
    while let Ok(read) = reader.read_until(b'\n', &mut buffer).await {
        if read == 0 || sender.send(String::from_utf8_lossy(&buffer).into_owned()).is_err() {
            return;
        }
        buffer.clear();
    }
}

/// A line as a person may read it: the last of its `\r` rewrites, no terminal escapes or
/// the padding git puts after a `remote:` line, and no secret. `None` when nothing is left.
fn clean_line(raw: &str, secrets: &[String]) -> Option<String> {
    let last = raw
        .trim_end_matches(['\n', '\r'])
        .rsplit('\r')
        .next()
        .unwrap_or_default();
    let mut text = String::with_capacity(last.len());
    let mut chars = last.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters, then one final letter.
            if chars.next() == Some('[') {
                for next in chars.by_ref() {
                    if next.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            text.push(c);
        }
    }
    let mut text = text.trim_end().to_owned();
    for secret in secrets {
        text = text.replace(secret.as_str(), crate::redact::REDACTED);
    }
    let text = crate::redact::redact(&text).into_owned();
    (!text.trim().is_empty()).then_some(text)
}

/// The person set their own SSH command (`GIT_SSH_COMMAND`, `GIT_SSH`, `core.sshCommand`):
/// it is used as it is, batch mode or not.
async fn chose_own_ssh(root: &Path) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    set("GIT_SSH_COMMAND")
        || set("GIT_SSH")
        || super::git::run_git(root, &["config", "--get", "core.sshCommand"])
            .await
            .is_some()
}

/// What stopped git from talking to the remote, read from its words.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Trouble {
    /// No connection: the reason in plain words.
    Unreachable(String),
    /// The remote refused who we are.
    NoPermission,
    /// No repository at that address.
    NotFound,
}

fn trouble(lines: &[String]) -> Option<Trouble> {
    let text = lines.join("\n").to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|needle| text.contains(needle));
    // Unreachable first: SSH ends a failed connection with "could not read from remote
    // repository" too, which alone means refused credentials.
    if has(&[
        "could not resolve host",
        "name or service not known",
        "nodename nor servname",
    ]) {
        return Some(Trouble::Unreachable("its address could not be found".to_owned()));
    }
    if has(&["connection refused", "couldn't connect to server", "failed to connect"]) {
        return Some(Trouble::Unreachable("the connection was refused".to_owned()));
    }
    if has(&["timed out"]) {
        return Some(Trouble::Unreachable("the connection timed out".to_owned()));
    }
    if has(&["network is unreachable", "no route to host", "unable to connect"]) {
        return Some(Trouble::Unreachable("the network could not get there".to_owned()));
    }
    if has(&[
        "permission denied",
        "authentication failed",
        "could not read username",
        "could not read password",
        "the requested url returned error: 403",
        "the requested url returned error: 401",
        "host key verification failed",
    ]) {
        return Some(Trouble::NoPermission);
    }
    if has(&[
        "repository not found",
        "does not appear to be a git repository",
        "the requested url returned error: 404",
    ]) {
        return Some(Trouble::NotFound);
    }
    // Said alone, it is SSH's word for a remote that would not let us in.
    if has(&["could not read from remote repository"]) {
        return Some(Trouble::NoPermission);
    }
    None
}

/// Git's own last word, without its `fatal:`/`error:` prefix.
fn last_word(lines: &[String]) -> Option<String> {
    let said = |line: &&String| line.starts_with("fatal:") || line.starts_with("error:");
    lines.iter().rev().find(said).or_else(|| lines.last()).map(|line| {
        line.trim_start_matches("fatal:")
            .trim_start_matches("error:")
            .trim()
            .to_owned()
    })
}

/// Why a fetch failed, in the words that follow "Could not reach GitHub (…)".
fn why_fetch_failed(ran: &Ran, limit: Duration) -> String {
    if ran.timed_out {
        return format!("no answer within {} s", limit.as_secs());
    }
    match trouble(&ran.lines) {
        Some(Trouble::Unreachable(why)) => why,
        Some(Trouble::NoPermission) => "it refused your credentials".to_owned(),
        Some(Trouble::NotFound) => "there is no repository at that address".to_owned(),
        None => last_word(&ran.lines).map_or_else(|| "git fetch failed".to_owned(), |said| format!("git said: {said}")),
    }
}

#[cfg(test)]
mod tests;
