//! The checks room: a project's own tests (pytest) and lint (flake8 or ruff), run as
//! supervised child processes in the project's Python environment, read into typed results.
//!
//! How to use it: [`check`] is the one door the window, the CLI and a release's gates go
//! through: it makes or reuses the environment ([`prepare_env`]), runs the tests, lint and the
//! other gates at once, streams [`CheckEvent`]s to a sink and returns every report, with the
//! values the checks need and nothing gives named where a check could not start (`door`).
//! [`run_tests`] and [`run_lint`] run one check alone (the benchmarks do). Cancelling the
//! token ends every process tree they started.
//!
//! The project's processes get an environment built from what they need (`environment`),
//! and on Linux run in a bubblewrap sandbox that hides the person's keys (`sandbox`) unless
//! the project turns it off.
//!
//! Why through the shell: the commands come from the project's CI (`cd app && pytest ...`)
//! and must run as CI ran them. pytest's JUnit report is requested through `PYTEST_ADDOPTS`,
//! so the command itself is never rewritten.

mod door;
mod environment;
mod failure_detail;
#[cfg(test)]
mod fuzz;
mod gate_verdict;
mod installer;
mod lint;
mod output;
mod process;
mod pyenv;
mod pytest;
mod python;
mod requirements;
mod rules;
mod run;
mod sandbox;
mod seed;
mod services;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{AppError, ErrorKind};
use crate::project::LintTool;

pub use door::{check, ChecksDone, ChecksHooks, ChecksInput, ChecksSummary, NoHooks, Part, Reused, Scope};
pub use gate_verdict::GateReport;
pub use installer::UV_VARIABLE;
pub use process::{
    end_orphans, keep_marks_in, look_after_children, supervise, ProcessOutcome, ProcessSpec, SpawnError, Stream,
};
pub use pyenv::{expected_venv, installed_distributions, prepare_env, project_secrets, PreparedEnv};
pub use python::{
    choose as choose_python, installed as installed_pythons, release_series as python_release_series,
    satisfies as python_satisfies, Interpreter,
};
pub use run::{run_lint, run_tests};
pub use sandbox::{
    availability as sandbox_availability, note as sandbox_note, Availability as SandboxAvailability, Sandbox,
};
pub use services::remove_orphaned_services;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum CheckKind {
    Tests,
    Lint,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum CheckOutcome {
    Passed,
    Failed,
    /// The tool could not start or crashed: no verdict on the code.
    CouldNotRun,
    /// One spelling on the wire for every outcome and state: `canceled`.
    #[serde(rename = "canceled")]
    Cancelled,
    /// Not run, because what it reads is not there (coverage after tests that could not run).
    Skipped,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TestCounts {
    pub passed: u32,
    pub failed: u32,
    pub errors: u32,
    pub skipped: u32,
}

impl std::fmt::Display for TestCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} {}, {} skipped",
            self.passed,
            self.failed,
            self.errors,
            if self.errors == 1 { "error" } else { "errors" },
            self.skipped
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TestFailure {
    /// pytest's node id, `tests/test_x.py::TestY::test_z`.
    pub node_id: String,
    pub message: String,
    pub traceback: String,
    /// The file and line the test failed at, relative to the project (`tests/test_app.py`).
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub line: Option<u32>,
    /// For a failed `assert left == right`: what the code gave (left) and what the test
    /// expected (right), as pytest's own diff reads them.
    #[serde(default)]
    pub got: Option<String>,
    #[serde(default)]
    pub expected: Option<String>,
    /// pytest's explanation (its `E` lines) as it printed them, diff included.
    #[serde(default)]
    pub explanation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TestReport {
    pub outcome: CheckOutcome,
    pub counts: TestCounts,
    pub failures: Vec<TestFailure>,
    /// pytest's own last line, `2 failed, 10 passed in 1.2s`.
    pub summary_line: Option<String>,
    pub exit_code: Option<i32>,
    /// Why the tests could not run, in words.
    pub problem: Option<String>,
    #[ts(type = "number")]
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub code: String,
    pub message: String,
    /// What the rule asks for in plain words, for the common rules (`checks::rules`).
    #[serde(default)]
    pub explanation: Option<String>,
    /// The rule's own page: the linter's (ruff names it) or the rule set's.
    #[serde(default)]
    pub help_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LintReport {
    pub tool: LintTool,
    pub outcome: CheckOutcome,
    pub violations: Vec<Violation>,
    pub problem: Option<String>,
    pub exit_code: Option<i32>,
    #[ts(type = "number")]
    pub duration_ms: u64,
}

impl TestReport {
    /// Tests a run did not run.
    pub fn not_run() -> Self {
        Self {
            outcome: CheckOutcome::Skipped,
            counts: TestCounts::default(),
            failures: Vec::new(),
            summary_line: None,
            exit_code: None,
            problem: Some("Not run.".to_owned()),
            duration_ms: 0,
        }
    }

    /// Tests that could not run, for `problem`.
    pub fn could_not_run(problem: String) -> Self {
        Self {
            outcome: CheckOutcome::CouldNotRun,
            problem: Some(problem),
            ..Self::not_run()
        }
    }

    /// When the tests could not start, puts the values nothing gives first: the likeliest
    /// reason ("The tests need SECRET_KEY: set it in the project's settings.").
    pub fn name_missing_values(&mut self, sentence: Option<String>) {
        if let (CheckOutcome::CouldNotRun, Some(sentence)) = (self.outcome, sentence) {
            self.problem = Some(match self.problem.take() {
                Some(problem) => format!("{sentence}\n{problem}"),
                None => sentence,
            });
        }
    }
}

/// What a check reports while it runs.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "event", content = "data", rename_all = "camelCase")]
pub enum CheckEvent {
    /// Preparing the Python environment (creating it, installing requirements).
    #[serde(rename_all = "camelCase")]
    Setup { message: String },
    #[serde(rename_all = "camelCase")]
    Started { check: CheckKind, command: String },
    #[serde(rename_all = "camelCase")]
    Output {
        check: Option<CheckKind>,
        stream: Stream,
        line: String,
        /// Milliseconds since the Unix epoch.
        #[ts(type = "number")]
        at_ms: u64,
    },
    #[serde(rename_all = "camelCase")]
    Finished { check: CheckKind, outcome: CheckOutcome },
    /// One of the other gates (coverage, formatting, types, Django) started.
    #[serde(rename_all = "camelCase")]
    GateStarted { id: String, command: String },
    #[serde(rename_all = "camelCase")]
    GateOutput {
        id: String,
        stream: Stream,
        line: String,
        #[ts(type = "number")]
        at_ms: u64,
    },
    #[serde(rename_all = "camelCase")]
    GateFinished { report: GateReport },
}

/// Where events go; cloned into each concurrent run.
pub type EventSink = Arc<dyn Fn(CheckEvent) + Send + Sync>;

pub(crate) fn now_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

#[derive(Debug, thiserror::Error)]
pub enum ChecksError {
    #[error("the Python environment could not be prepared: {step} failed\n{detail}")]
    EnvSetup { step: String, detail: String },
    #[error("{0}")]
    Spawn(#[from] SpawnError),
    #[error("the run was cancelled")]
    Cancelled,
    #[error("could not write a temporary file: {0}")]
    TempFile(String),
    #[error("{0}")]
    NoPython(String),
    #[error("{0}")]
    Settings(String),
}

impl From<ChecksError> for AppError {
    fn from(error: ChecksError) -> Self {
        AppError::from(&error)
    }
}

impl From<&ChecksError> for AppError {
    fn from(error: &ChecksError) -> Self {
        let (kind, hint) = match error {
            ChecksError::EnvSetup { .. } => (
                ErrorKind::Precondition,
                "Check the project's requirements install with pip, or choose an existing virtualenv in the project's settings.",
            ),
            ChecksError::Spawn(_) => (ErrorKind::Precondition, "Check that Python 3 is installed (`slipway doctor`)."),
            ChecksError::Cancelled => (ErrorKind::Cancelled, "Run it again when you are ready."),
            ChecksError::TempFile(_) => (ErrorKind::Io, "Check that the temporary folder is writable and has space."),
            ChecksError::Settings(_) => (
                ErrorKind::Validation,
                "Fix the file, or save the settings again: the damaged file is then kept beside it.",
            ),
            ChecksError::NoPython(_) => (
                ErrorKind::Precondition,
                "Install the Python version the project asks for, or change what it asks for.",
            ),
        };
        AppError::new(kind, error.to_string(), hint)
    }
}
