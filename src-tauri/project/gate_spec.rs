//! What a project's gates are, as its CI names them and its settings keep them (the gates as
//! they are run and judged are the checks room's; a release's gate steps, the pipeline's).
//!
//! The linter it runs ([`LintTool`]), and the checks a release runs beside tests and lint:
//! coverage thresholds, formatters, type checkers and Django's own checks. Each of those is a
//! gate of its own ([`Gate`]): shown in the plan with the CI line it came from, run beside the
//! others, and able to be turned off in the project's settings. The CI commands Slipway does
//! not run are listed with why ([`SkippedCommand`]).
//!
//! Kept apart from detection and the CI reader, which both use these words, so that neither
//! has to import the other for them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The linter the project's lint step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum LintTool {
    Flake8,
    Ruff,
}

impl LintTool {
    pub fn package(self) -> &'static str {
        match self {
            LintTool::Flake8 => "flake8",
            LintTool::Ruff => "ruff",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum GateKind {
    /// `coverage report --fail-under=N`: reads the data the test run left.
    Coverage,
    /// `black --check`, `ruff format --check`, `isort --check`.
    Format,
    /// `mypy`, `pyright`, `ty check`.
    Types,
    /// `python manage.py check`, `makemigrations --check`.
    Django,
    /// Linters beside the main one: `pylint`, `bandit`, `pydocstyle`.
    Lint,
}

impl GateKind {
    /// The gate's name in a sentence.
    pub fn label(self) -> &'static str {
        match self {
            GateKind::Coverage => "Coverage",
            GateKind::Format => "Formatting",
            GateKind::Types => "Type check",
            GateKind::Django => "Django checks",
            GateKind::Lint => "More lint",
        }
    }
}

/// One extra check, as Slipway will run it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Gate {
    /// Stable within the project: the tool's name, numbered when it repeats (`black`, `mypy-2`).
    pub id: String,
    pub kind: GateKind,
    /// The program whose verdict it is (`black`, `coverage`, `manage.py check`).
    pub tool: String,
    /// What Slipway runs, from the project's folder.
    pub command: String,
    /// The CI's line, as written.
    pub ci_line: Option<String>,
    /// Where it was found, in words.
    pub source: String,
    /// What Slipway changed in the CI's line, and why.
    pub notes: Vec<String>,
    /// Values the CI gives this command alone (`docker run -e`).
    pub env: BTreeMap<String, String>,
    /// Runs when the tests have finished (it reads what they left, like coverage data).
    pub after_tests: bool,
    /// The tool's version the CI pins (`pip install black==24.3.0`), installed when missing.
    #[serde(default)]
    pub version: Option<String>,
    pub enabled: bool,
}

/// A CI command Slipway does not run, with the reason the plan shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SkippedCommand {
    pub line: String,
    pub source: String,
    pub reason: String,
}
