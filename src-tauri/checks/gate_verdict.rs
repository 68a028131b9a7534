//! The checks beside tests and lint (coverage, formatting, types, Django's checks), read
//! from what they printed into a verdict a person understands ("coverage 78 % is below the
//! 80 % your project requires", "3 files need formatting"). They are run as the CI runs them
//! by `run`, beside the tests and lint.

use regex::Regex;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::output::{captures, could_not_run};
use super::CheckOutcome;
use crate::project::{Gate, GateKind, ProjectSettings};

/// What one gate found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GateReport {
    pub id: String,
    pub kind: GateKind,
    pub tool: String,
    pub command: String,
    pub outcome: CheckOutcome,
    /// The verdict in one sentence.
    pub message: String,
    /// What it found, one a line: files to format, type errors, Django's issues.
    pub findings: Vec<String>,
    pub exit_code: Option<i32>,
    #[ts(type = "number")]
    pub duration_ms: u64,
}

impl GateReport {
    /// Django's checks load the settings like the tests: when they could not start, the values
    /// nothing gives come first.
    pub fn name_missing_values(&mut self, sentence: Option<String>) {
        let loads_settings = matches!(self.kind, GateKind::Django | GateKind::Coverage);
        if let (true, CheckOutcome::CouldNotRun, Some(sentence)) = (loads_settings, self.outcome, sentence) {
            self.message = format!("{sentence} {}", self.message);
        }
    }
}

/// The gates that read the tests' results, not run because the tests did not run.
pub(super) fn skipped_after_tests(settings: &ProjectSettings) -> Vec<GateReport> {
    settings
        .enabled_gates()
        .filter(|gate| gate.after_tests)
        .map(|gate| {
            verdict(
                gate,
                None,
                CheckOutcome::Skipped,
                "not run: the tests did not run, so there is nothing to measure".to_owned(),
                Vec::new(),
            )
        })
        .collect()
}

pub(super) fn verdict(
    gate: &Gate,
    code: Option<i32>,
    outcome: CheckOutcome,
    message: String,
    findings: Vec<String>,
) -> GateReport {
    GateReport {
        id: gate.id.clone(),
        kind: gate.kind,
        tool: gate.tool.clone(),
        command: gate.command.clone(),
        outcome,
        message,
        findings,
        exit_code: code,
        duration_ms: 0,
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// ty's (and ruff's full) form: `error[rule]: message`, then ` --> file:line:col` under it;
/// each error as one line, `file:line:col: error[rule]: message`. Warnings do not fail.
fn rule_headed_errors(lines: &[String]) -> Vec<String> {
    let (Ok(head), Ok(place)) = (
        Regex::new(r"^error\[([\w-]+)\]: (.+)$"),
        Regex::new(r"^\s*-->\s*(\S+:\d+(?::\d+)?)"),
    ) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let Some(error) = head.captures(line.trim_end()) else {
            continue;
        };
        let location = lines[at + 1..]
            .iter()
            .take(3)
            .find_map(|next| place.captures(next).map(|c| c[1].to_owned()));
        found.push(match location {
            Some(location) => format!("{location}: error[{}]: {}", &error[1], &error[2]),
            None => format!("error[{}]: {}", &error[1], &error[2]),
        });
    }
    found
}

/// The verdict for a finished run.
pub fn interpret(gate: &Gate, code: Option<i32>, stdout: &[String], stderr: &[String]) -> GateReport {
    let all: Vec<String> = stdout.iter().chain(stderr.iter()).cloned().collect();
    if let Some(problem) = could_not_run(&gate.command, code, stderr) {
        return verdict(gate, code, CheckOutcome::CouldNotRun, problem, Vec::new());
    }
    let Some(exit) = code else {
        return verdict(
            gate,
            code,
            CheckOutcome::CouldNotRun,
            format!("{} was stopped by a signal.", gate.tool),
            Vec::new(),
        );
    };
    let crashed = stderr.iter().any(|line| line.starts_with("Traceback"));
    let last_error = || {
        all.iter()
            .rev()
            .map(|line| line.trim())
            .find(|line| !line.is_empty())
            .unwrap_or("no output")
            .to_owned()
    };
    let (outcome, message, findings) = match gate.kind {
        GateKind::Coverage => {
            let total = captures(r"^TOTAL\s.*?(\d+(?:\.\d+)?)%\s*$", &all).pop();
            let below = Regex::new(r"total of (\d+(?:\.\d+)?) is less than fail-under=(\d+(?:\.\d+)?)")
                .ok()
                .and_then(|pattern| {
                    all.iter()
                        .find_map(|line| pattern.captures(line).map(|c| (c[1].to_owned(), c[2].to_owned())))
                });
            let required = Regex::new(r"--fail-under[= ](\d+(?:\.\d+)?)")
                .ok()
                .and_then(|pattern| pattern.captures(&gate.command).map(|c| c[1].to_owned()));
            match (exit, below, total) {
                (0, _, Some(total)) => (
                    CheckOutcome::Passed,
                    match required {
                        Some(required) => format!("coverage {total} % (your project requires {required} %)"),
                        None => format!("coverage {total} %"),
                    },
                    Vec::new(),
                ),
                (0, _, None) => (CheckOutcome::Passed, "coverage report passed".to_owned(), Vec::new()),
                (_, Some((total, required)), _) => (
                    CheckOutcome::Failed,
                    format!("coverage {total} % is below the {required} % your project requires"),
                    Vec::new(),
                ),
                _ if all.iter().any(|line| line.contains("No data to report")) => (
                    CheckOutcome::CouldNotRun,
                    "coverage found no data: the tests must run under coverage (`coverage run -m pytest`) for this check".to_owned(),
                    Vec::new(),
                ),
                _ => (CheckOutcome::CouldNotRun, format!("coverage could not report: {}", last_error()), Vec::new()),
            }
        }
        GateKind::Format => {
            let files = match gate.tool.as_str() {
                "isort" => captures(r"^ERROR: (.+?) Imports are incorrectly sorted", &all),
                "ruff format" => captures(r"^Would reformat: (.+)$", &all),
                _ => captures(r"^would reformat (.+)$", &all),
            };
            match exit {
                0 => (CheckOutcome::Passed, format!("formatted as {} wants", gate.tool), files),
                1 if !crashed => (
                    CheckOutcome::Failed,
                    format!(
                        "{} formatting ({})",
                        plural(files.len().max(1), "file needs", "files need"),
                        gate.tool
                    ),
                    files,
                ),
                _ => (
                    CheckOutcome::CouldNotRun,
                    format!("{} could not run: {}", gate.tool, last_error()),
                    files,
                ),
            }
        }
        GateKind::Types => {
            let mut errors = captures(r"^(.+?:\d+(?::\d+)?:? (?:- )?error: .+)$", &all);
            errors.extend(rule_headed_errors(&all));
            match exit {
                0 => (CheckOutcome::Passed, "no type errors".to_owned(), Vec::new()),
                1 if !crashed => (
                    CheckOutcome::Failed,
                    format!(
                        "{} ({})",
                        plural(errors.len().max(1), "type error", "type errors"),
                        gate.tool
                    ),
                    errors,
                ),
                _ => (
                    CheckOutcome::CouldNotRun,
                    format!("{} could not run: {}", gate.tool, last_error()),
                    errors,
                ),
            }
        }
        GateKind::Lint => {
            let found = captures(r"^(\S+:\d+:.+)$", &all);
            // pylint's exit code is a bit field; 32 is its usage error.
            match exit {
                0 => (CheckOutcome::Passed, format!("{} found nothing", gate.tool), Vec::new()),
                32 => (
                    CheckOutcome::CouldNotRun,
                    format!("{} could not run: {}", gate.tool, last_error()),
                    Vec::new(),
                ),
                _ if crashed => (
                    CheckOutcome::CouldNotRun,
                    format!("{} could not run: {}", gate.tool, last_error()),
                    Vec::new(),
                ),
                _ => (
                    CheckOutcome::Failed,
                    format!("{} ({})", plural(found.len().max(1), "finding", "findings"), gate.tool),
                    found,
                ),
            }
        }
        GateKind::Django => {
            let issues = captures(r"^(\S+: \([a-z_.]+\.[EW]\d+\) .+)$", &all);
            let migrations = all.iter().any(|line| line.starts_with("Migrations for"));
            match exit {
                0 => (CheckOutcome::Passed, "no issues".to_owned(), issues),
                _ if migrations => (
                    CheckOutcome::Failed,
                    "models changed without a migration: run makemigrations and commit it".to_owned(),
                    captures(r"^\s+(\S+\.py)$", &all),
                ),
                _ if !issues.is_empty() || all.iter().any(|line| line.contains("SystemCheckError")) => (
                    CheckOutcome::Failed,
                    format!("Django found {}", plural(issues.len().max(1), "issue", "issues")),
                    issues,
                ),
                _ => (
                    CheckOutcome::CouldNotRun,
                    format!("Django could not start: {}", last_error()),
                    Vec::new(),
                ),
            }
        }
    };
    verdict(gate, code, outcome, message, findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(kind: GateKind, tool: &str, command: &str) -> Gate {
        Gate {
            id: tool.to_owned(),
            kind,
            tool: tool.to_owned(),
            command: command.to_owned(),
            ci_line: None,
            source: "ci".to_owned(),
            notes: Vec::new(),
            env: Default::default(),
            after_tests: kind == GateKind::Coverage,
            version: None,
            enabled: true,
        }
    }

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn a_coverage_threshold_says_both_numbers() {
        // coverage 7.x's report and failure line.
        let out = lines("Name    Stmts   Miss  Cover\n---\nshop.py    50     11    78%\n---\nTOTAL      50     11    78%\nCoverage failure: total of 78 is less than fail-under=80");
        let coverage = gate(GateKind::Coverage, "coverage", "coverage report --fail-under=80");
        let report = interpret(&coverage, Some(2), &out, &[]);
        assert_eq!(report.outcome, CheckOutcome::Failed);
        assert_eq!(report.message, "coverage 78 % is below the 80 % your project requires");
        let passed = interpret(&coverage, Some(0), &lines("TOTAL 50 5 90%"), &[]);
        assert_eq!(passed.message, "coverage 90 % (your project requires 80 %)");
        let none = interpret(&coverage, Some(1), &lines("No data to report."), &[]);
        assert_eq!(none.outcome, CheckOutcome::CouldNotRun);
    }

    #[test]
    fn formatters_list_the_files() {
        let black = gate(GateKind::Format, "black", "black --check .");
        let stderr = lines("would reformat /p/shop/views.py\nwould reformat /p/shop/models.py\n\nOh no! 💥 💔 💥\n2 files would be reformatted, 3 files would be left unchanged.");
        let report = interpret(&black, Some(1), &[], &stderr);
        assert_eq!(report.outcome, CheckOutcome::Failed);
        assert_eq!(report.message, "2 files need formatting (black)");
        assert_eq!(report.findings, ["/p/shop/views.py", "/p/shop/models.py"]);
        let isort = gate(GateKind::Format, "isort", "isort --check-only .");
        let report = interpret(
            &isort,
            Some(1),
            &[],
            &lines("ERROR: /p/a.py Imports are incorrectly sorted and/or formatted."),
        );
        assert_eq!(report.findings, ["/p/a.py"]);
    }

    #[test]
    fn a_missing_program_or_a_refused_option_is_could_not_run() {
        let mypy = gate(GateKind::Types, "mypy", "cd app && mypy .");
        let report = interpret(&mypy, Some(127), &[], &lines("sh: 1: mypy: not found"));
        assert_eq!(report.outcome, CheckOutcome::CouldNotRun);
        assert_eq!(report.message, "`mypy` was not found in the project's environment.");
        let report = interpret(
            &mypy,
            Some(2),
            &[],
            &lines("usage: mypy [-h]\nmypy: error: unrecognized arguments: --strictest"),
        );
        assert!(
            report.message.contains("did not accept its command line"),
            "{}",
            report.message
        );
        let errors = interpret(&mypy, Some(1), &lines("shop/views.py:3: error: Incompatible types  [assignment]\nFound 1 error in 1 file (checked 4 source files)"), &[]);
        assert_eq!(errors.message, "1 type error (mypy)");
        // ty's own form: two errors and a warning, each with its place on the next line.
        let ty = gate(GateKind::Types, "ty", "ty check");
        let output = "error[invalid-assignment]: Object of type `Literal[1]` is not assignable to `str`\n --> app/main.py:3:5\n  |\n3 | x: str = 1\n  |\nwarning[possibly-unresolved-reference]: Name `y` used when possibly not defined\n --> app/main.py:9:1\nerror[unresolved-import]: Cannot resolve imported module `nope`\n --> app/util.py:1:8\nFound 3 diagnostics";
        let report = interpret(&ty, Some(1), &lines(output), &[]);
        assert_eq!(report.message, "2 type errors (ty)");
        assert_eq!(
            report.findings,
            [
                "app/main.py:3:5: error[invalid-assignment]: Object of type `Literal[1]` is not assignable to `str`",
                "app/util.py:1:8: error[unresolved-import]: Cannot resolve imported module `nope`"
            ]
        );
    }

    #[test]
    fn django_checks_tell_issues_from_a_crash() {
        let check = gate(GateKind::Django, "manage.py check", "python manage.py check");
        let issues = lines("SystemCheckError: System check identified some issues:\n\nERRORS:\nshop.Order.total: (fields.E304) Reverse accessor clashes.\n\nSystem check identified 1 issue (0 silenced).");
        let report = interpret(&check, Some(1), &[], &issues);
        assert_eq!(report.outcome, CheckOutcome::Failed);
        assert_eq!(report.findings.len(), 1);
        let crash = lines("Traceback (most recent call last):\ndjango.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty.");
        let report = interpret(&check, Some(1), &[], &crash);
        assert_eq!(report.outcome, CheckOutcome::CouldNotRun);
        assert!(report.message.contains("SECRET_KEY"));
    }
}
