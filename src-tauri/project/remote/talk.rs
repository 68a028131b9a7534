//! A git that talks to the remote: no prompt, its own process group killed at its time
//! limit, its lines redacted as they come; and what its words say went wrong.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::platform::process::{end_group, own_group, Ending};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

/// How a git that talked to the remote ended; `lines` are its output, redacted.
pub(super) struct Ran {
    pub success: bool,
    pub timed_out: bool,
    pub lines: Vec<String>,
}

/// Runs `git -C root ARGS` that talks to a remote: no prompt, its own process group killed
/// after `limit`, each output line (stdout and stderr, redacted, `secrets` replaced) given
/// to `line` as it comes.
pub(super) async fn talk_to_remote(
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
        // An empty askpass makes git skip `core.askPass` and `SSH_ASKPASS` too: no password
        // window opens from a plan's background fetch or a release's push.
        .env("GIT_ASKPASS", "")
        .env("SSH_ASKPASS_REQUIRE", "never")
        // Git Credential Manager's own switch for "never open a window or ask".
        .env("GCM_INTERACTIVE", "never")
        // Git's refusals are read by their English words.
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    own_group(&mut command);
    if !chose_own_ssh(root).await {
        command.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    let mut child = command.spawn()?;
    let mut group = Group(child.id().map(crate::platform::process::Group::led_by));

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
                // Asked to stop first, so git can remove its ref locks; killed if it will not.
                group.end(Ending::Ask);
                if tokio::time::timeout(Duration::from_secs(2), child.wait()).await.is_err() {
                    group.kill();
                    let _ = child.wait().await;
                }
                break None;
            }
        }
    };
    // Git ended by itself: what it left running (a credential cache) is the person's, as in
    // their terminal. A helper still holding the pipes is waited for only briefly.
    if status.is_some() {
        group.disarm();
    }
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
struct Group(Option<crate::platform::process::Group>);

impl Group {
    fn end(&self, how: Ending) {
        if let Some(group) = self.0 {
            end_group(group, how);
        }
    }

    fn kill(&self) {
        self.end(Ending::Force);
    }

    /// Git ended by itself: nothing of its group is killed any more.
    fn disarm(&mut self) {
        self.0 = None;
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
pub(super) fn clean_line(raw: &str, secrets: &[String]) -> Option<String> {
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
        || super::super::git::run_git(root, &["config", "--get", "core.sshCommand"])
            .await
            .is_some()
}

/// What stopped git from talking to the remote, read from its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Trouble {
    /// No connection: the reason in plain words.
    Unreachable(String),
    /// The remote refused who we are.
    NoPermission,
    /// No repository at that address.
    NotFound,
}

pub(super) fn trouble(lines: &[String]) -> Option<Trouble> {
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
pub(super) fn last_word(lines: &[String]) -> Option<String> {
    let said = |line: &&String| line.starts_with("fatal:") || line.starts_with("error:");
    lines.iter().rev().find(said).or_else(|| lines.last()).map(|line| {
        line.trim_start_matches("fatal:")
            .trim_start_matches("error:")
            .trim()
            .to_owned()
    })
}

/// Why a fetch failed, in the words that follow "Could not reach GitHub (…)".
pub(super) fn why_fetch_failed(ran: &Ran, limit: Duration) -> String {
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
