//! Supervised child processes: each in its own process group, so a cancel or a time-out
//! ends the whole tree (pytest's workers, a shell's children), with every output line
//! streamed as it arrives.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::environment;
use super::sandbox::{availability, Availability, Sandbox};
use crate::platform::process::{end_group, end_process, is_running, own_group, Ending, Group};

/// How long a process group gets between SIGTERM and SIGKILL.
const TERMINATE_GRACE: Duration = Duration::from_secs(3);
/// Lines kept per stream for parsing; beyond it the oldest go (the stream still shows all).
const KEPT_LINES: usize = 200_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Where each running child's mark is kept, so that what a killed Slipway left running is
/// ended at the next start: set once by whoever owns the data folder.
static MARKS: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
/// The environment variable every child and its own children carry: which mark they belong to.
const MARK_VARIABLE: &str = "SLIPWAY_RUN_MARK";

/// Keeps the marks of running children in `dir` (the data folder's `running/`).
pub fn keep_marks_in(dir: PathBuf) {
    let _ = MARKS.set(dir);
}

/// At start: ends what a stopped Slipway left running with this data folder, then marks
/// this one's children there.
pub fn look_after_children(data_dir: &std::path::Path) {
    let dir = data_dir.join("running");
    end_orphans(&dir);
    keep_marks_in(dir);
    remove_orphaned_reports(&data_dir.join("scratch"));
}

/// Removes the test-report folders (`scratch/<project>/reports/<pid>-…`) of Slipways that are
/// no longer running.
fn remove_orphaned_reports(scratch: &std::path::Path) {
    let Ok(projects) = std::fs::read_dir(scratch) else {
        return;
    };
    for project in projects.flatten() {
        let Ok(reports) = std::fs::read_dir(project.path().join("reports")) else {
            continue;
        };
        for report in reports.flatten() {
            let name = report.file_name().to_string_lossy().into_owned();
            let owner = name.split('-').next().and_then(|pid| pid.parse::<u32>().ok());
            let alive = owner.is_some_and(is_running);
            if !alive {
                let _ = std::fs::remove_dir_all(report.path());
            }
        }
    }
}

/// A running child's mark: a file named after it, holding the pid of the Slipway that
/// started it; removed when the child is done.
struct Mark(Option<PathBuf>);

impl Mark {
    fn new() -> (Self, Option<String>) {
        let Some(dir) = MARKS.get() else {
            return (Self(None), None);
        };
        let id = format!(
            "{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
        );
        let file = dir.join(&id);
        let written = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&file, std::process::id().to_string()));
        match written {
            Ok(()) => (Self(Some(file)), Some(id)),
            Err(error) => {
                tracing::warn!(%error, "a child's mark could not be kept");
                (Self(None), None)
            }
        }
    }
}

impl Drop for Mark {
    fn drop(&mut self) {
        if let Some(file) = self.0.take() {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Ends every process a Slipway that is no longer running left behind (killed, crashed: its
/// children were reparented and run on), found by the mark in their environment; returns how
/// many were ended.
pub fn end_orphans(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut ended = 0;
    for entry in entries.flatten() {
        let owner = std::fs::read_to_string(entry.path())
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok());
        let owner_alive = owner.is_some_and(is_running);
        if owner_alive {
            continue;
        }
        let wanted = format!("{MARK_VARIABLE}={}", entry.file_name().to_string_lossy());
        for pid in crate::platform::process::marked_with(&wanted) {
            if end_process(pid) {
                ended += 1;
            }
        }
        let _ = std::fs::remove_file(entry.path());
    }
    if ended > 0 {
        tracing::warn!(ended, "processes a stopped Slipway left running were ended");
    }
    ended
}

/// What to run. Its environment is built, not inherited: what [`environment::inherited`]
/// keeps, then `env`.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    pub program: String,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    /// Where the project's code runs (tests, lint, gates); `None` for Slipway's own helpers
    /// (making the virtualenv, installing into it) and for a project whose sandbox is off.
    pub sandbox: Option<Sandbox>,
}

impl ProcessSpec {
    /// A command line run by `/bin/sh -c`, as CI runs a step.
    pub fn shell(command: &str, cwd: PathBuf, env: Vec<(String, String)>, timeout: Duration) -> Self {
        Self {
            program: "/bin/sh".to_owned(),
            args: vec!["-c".to_owned(), command.to_owned()],
            cwd,
            env,
            timeout,
            sandbox: None,
        }
    }

    /// The same, run in `sandbox` when bubblewrap can make one.
    pub fn in_sandbox(self, sandbox: Option<Sandbox>) -> Self {
        Self { sandbox, ..self }
    }
}

/// How it ended.
#[derive(Debug)]
pub struct ProcessOutcome {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub cancelled: bool,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("could not start `{program}`: {reason}")]
pub struct SpawnError {
    pub program: String,
    pub reason: String,
}

/// Runs `spec`, calling `on_line` for every line, until it exits, times out or `cancel`
/// fires. Both of the latter end the whole process group (in a sandbox, everything in it).
pub async fn supervise(
    spec: &ProcessSpec,
    cancel: &CancellationToken,
    on_line: &mut (dyn FnMut(Stream, &str) + Send),
) -> Result<ProcessOutcome, SpawnError> {
    let started = Instant::now();
    let (_mark, mark_id) = Mark::new();
    let bwrap = match (&spec.sandbox, availability()) {
        (Some(sandbox), Availability::Ready(bwrap)) => Some((sandbox, bwrap)),
        _ => None,
    };
    let mut command = match bwrap {
        Some((sandbox, bwrap)) => {
            let mut command = tokio::process::Command::new(bwrap);
            command.args(sandbox.arguments(&spec.cwd)).arg(&spec.program);
            command
        }
        None => tokio::process::Command::new(&spec.program),
    };
    command
        .args(&spec.args)
        .current_dir(&spec.cwd)
        .env_clear()
        .envs(environment::inherited(std::env::vars_os()))
        // The sandbox's `/tmp` is the run's own; a `TMPDIR` elsewhere in `/tmp` is hidden.
        .envs(bwrap.map(|_| ("TMPDIR", "/tmp")))
        .envs(spec.env.iter().map(|(key, value)| (key, value)))
        .envs(mark_id.map(|id| (MARK_VARIABLE, id)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    own_group(&mut command);
    let mut child = command.spawn().map_err(|error| SpawnError {
        program: spec.program.clone(),
        reason: error.to_string(),
    })?;
    let group = child.id().map(Group::led_by);

    let (sender, mut receiver) = mpsc::unbounded_channel::<(Stream, String)>();
    let mut readers = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        readers.push(tokio::spawn(forward(
            BufReader::new(stdout),
            Stream::Stdout,
            sender.clone(),
        )));
    }
    if let Some(stderr) = child.stderr.take() {
        readers.push(tokio::spawn(forward(
            BufReader::new(stderr),
            Stream::Stderr,
            sender.clone(),
        )));
    }
    drop(sender);

    let mut outcome = ProcessOutcome {
        code: None,
        signal: None,
        timed_out: false,
        cancelled: false,
        stdout: Vec::new(),
        stderr: Vec::new(),
        elapsed: Duration::ZERO,
    };
    let deadline = tokio::time::sleep(spec.timeout);
    tokio::pin!(deadline);
    let mut lines_open = true;
    let status = loop {
        tokio::select! {
            line = receiver.recv(), if lines_open => match line {
                Some((stream, text)) => {
                    on_line(stream, &text);
                    let kept = match stream { Stream::Stdout => &mut outcome.stdout, Stream::Stderr => &mut outcome.stderr };
                    if kept.len() == KEPT_LINES { kept.remove(0); }
                    kept.push(text);
                }
                None => lines_open = false,
            },
            status = child.wait() => break status,
            () = &mut deadline, if !outcome.timed_out && !outcome.cancelled => {
                outcome.timed_out = true;
                stop_group(group, &mut child).await;
            }
            () = cancel.cancelled(), if !outcome.timed_out && !outcome.cancelled => {
                outcome.cancelled = true;
                stop_group(group, &mut child).await;
            }
        }
    };
    // The group may still hold the pipes (a daemonised grandchild): end it before draining.
    if let Some(group) = group {
        end_group(group, Ending::Force);
    }
    while let Some((stream, text)) = receiver.recv().await {
        on_line(stream, &text);
        match stream {
            Stream::Stdout => outcome.stdout.push(text),
            Stream::Stderr => outcome.stderr.push(text),
        }
    }
    for reader in readers {
        let _ = reader.await;
    }
    let status = status.map_err(|error| SpawnError {
        program: spec.program.clone(),
        reason: error.to_string(),
    })?;
    outcome.code = status.code();
    outcome.signal = crate::platform::process::ending_signal(&status);
    outcome.elapsed = started.elapsed();
    Ok(outcome)
}

async fn forward<R>(reader: BufReader<R>, stream: Stream, sender: mpsc::UnboundedSender<(Stream, String)>)
where
    R: tokio::io::AsyncRead + Unpin,
{
    let mut lines = reader.lines();
    // A non-UTF-8 line ends `next_line` with an error; read raw bytes instead.
    loop {
        match lines.next_line().await {
            Ok(Some(line)) => {
                if sender.send((stream, line)).is_err() {
                    return;
                }
            }
            Ok(None) => return,
            Err(_) => {
                let mut rest = Vec::new();
                let mut inner = lines.into_inner();
                let _ = tokio::io::AsyncReadExt::read_to_end(&mut inner, &mut rest).await;
                for line in String::from_utf8_lossy(&rest).lines() {
                    let _ = sender.send((stream, line.to_owned()));
                }
                return;
            }
        }
    }
}

/// SIGTERM to the group, then SIGKILL if anything is left after the grace period.
async fn stop_group(group: Option<Group>, child: &mut tokio::process::Child) {
    match group {
        Some(group) => {
            end_group(group, Ending::Ask);
            if tokio::time::timeout(TERMINATE_GRACE, child.wait()).await.is_err() {
                end_group(group, Ending::Force);
            }
        }
        None => {
            let _ = child.start_kill();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(command: &str, timeout: Duration) -> ProcessSpec {
        ProcessSpec::shell(command, std::env::temp_dir(), Vec::new(), timeout)
    }

    #[tokio::test]
    async fn streams_both_streams_and_returns_the_exit_code() -> Result<(), SpawnError> {
        let mut seen = Vec::new();
        let outcome = supervise(
            &spec("echo out; echo err >&2; exit 3", Duration::from_secs(10)),
            &CancellationToken::new(),
            &mut |stream, line| seen.push((stream, line.to_owned())),
        )
        .await?;
        assert_eq!(outcome.code, Some(3));
        assert!(seen.contains(&(Stream::Stdout, "out".to_owned())));
        assert!(seen.contains(&(Stream::Stderr, "err".to_owned())));
        Ok(())
    }

    #[tokio::test]
    async fn cancelling_ends_the_whole_group() -> Result<(), Box<dyn std::error::Error>> {
        let marker = format!("slipway-cancel-{}", std::process::id());
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            trigger.cancel();
        });
        // A grandchild that would outlive a plain kill of the shell, named by a trailing no-op
        // (dash, Debian's `sh`, has no `exec -a`).
        let command = format!("sh -c 'sleep 60; : {marker}' & sleep 60");
        let outcome = supervise(&spec(&command, Duration::from_secs(30)), &cancel, &mut |_, _| {}).await?;
        assert!(outcome.cancelled);
        assert!(outcome.elapsed < Duration::from_secs(10));
        let left = std::process::Command::new("pgrep").args(["-f", &marker]).output()?;
        assert!(
            left.stdout.is_empty(),
            "left behind: {}",
            String::from_utf8_lossy(&left.stdout)
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_time_out_stops_the_run() -> Result<(), SpawnError> {
        let outcome = supervise(
            &spec("sleep 30", Duration::from_millis(300)),
            &CancellationToken::new(),
            &mut |_, _| {},
        )
        .await?;
        assert!(outcome.timed_out);
        assert_eq!(outcome.code, None);
        Ok(())
    }
}
