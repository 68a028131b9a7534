//! Reading linter output: flake8's `path:line:col: CODE message` lines and ruff's JSON.
//! A linter that crashed is "lint could not run", never a list of violations.

use regex::Regex;
use serde::Deserialize;

use super::output::could_not_run;
use super::{CheckOutcome, LintReport, Violation};
use crate::project::LintTool;

/// Violations in flake8's default format; lines that do not match are not violations.
pub fn parse_flake8(lines: &[String]) -> Vec<Violation> {
    let Ok(pattern) = Regex::new(r"^(.+?):(\d+):(\d+): ([A-Z]+[0-9]+) (.*)$") else {
        return Vec::new();
    };
    lines
        .iter()
        .filter_map(|line| pattern.captures(line))
        .map(|capture| Violation {
            path: capture[1].trim_start_matches("./").to_owned(),
            line: capture[2].parse().unwrap_or(0),
            column: capture[3].parse().unwrap_or(0),
            code: capture[4].to_owned(),
            message: capture[5].to_owned(),
            explanation: None,
            help_url: None,
        })
        .collect()
}

#[derive(Deserialize)]
struct RuffLocation {
    row: u32,
    column: u32,
}

#[derive(Deserialize)]
struct RuffViolation {
    code: Option<String>,
    message: String,
    filename: String,
    location: RuffLocation,
    /// The rule's page in ruff's documentation.
    url: Option<String>,
}

/// Violations from `ruff check --output-format json`, with paths made relative to `root`.
pub fn parse_ruff(json: &str, root: &str) -> Result<Vec<Violation>, String> {
    let items: Vec<RuffViolation> =
        serde_json::from_str(json.trim()).map_err(|error| format!("ruff's JSON output could not be read: {error}"))?;
    Ok(items
        .into_iter()
        .map(|item| Violation {
            path: item
                .filename
                .strip_prefix(root)
                .map(|path| path.trim_start_matches('/').to_owned())
                .unwrap_or(item.filename),
            line: item.location.row,
            column: item.location.column,
            code: item.code.unwrap_or_else(|| "E999".to_owned()),
            message: item.message,
            explanation: None,
            help_url: item.url.filter(|url| url.starts_with("https://")),
        })
        .collect())
}

fn tail(lines: &[String], count: usize) -> String {
    let meaningful: Vec<&str> = lines
        .iter()
        .map(|line| line.trim_end())
        .filter(|line| !line.is_empty())
        .collect();
    meaningful[meaningful.len().saturating_sub(count)..].join("\n")
}

/// Whether `command` runs the linter itself (not through `make lint` or a script).
fn runs_the_tool(tool: LintTool, command: &str) -> bool {
    let last = command.rsplit("&&").next().unwrap_or(command).trim();
    let words: Vec<&str> = last.split_whitespace().collect();
    match words.as_slice() {
        [first, ..] if first.rsplit('/').next() == Some(tool.package()) => true,
        [_, "-m", module, ..] => *module == tool.package(),
        _ => false,
    }
}

/// The report for a finished lint run.
pub fn interpret(
    tool: LintTool,
    command: &str,
    code: Option<i32>,
    stdout: &[String],
    stderr: &[String],
    root: &str,
) -> LintReport {
    let crashed = |why: &str| LintReport {
        tool,
        outcome: CheckOutcome::CouldNotRun,
        violations: Vec::new(),
        problem: Some(format!("{why}\n{}", tail(stderr, 8).trim_start()).trim_end().to_owned()),
        exit_code: code,
        duration_ms: 0,
    };
    // A usage error or a missing program says nothing about the code: never "0 violations".
    if let Some(problem) = could_not_run(command, code, stderr) {
        return crashed(&format!("Lint could not run: {problem}"));
    }
    let direct = runs_the_tool(tool, command);
    let mut violations = match tool {
        LintTool::Flake8 => parse_flake8(stdout),
        // Through a wrapper the output may not be ruff's JSON: read what it printed.
        LintTool::Ruff if !direct => parse_flake8(stdout),
        LintTool::Ruff => match parse_ruff(&stdout.join("\n"), root) {
            Ok(violations) => violations,
            Err(_) if code == Some(0) && stdout.iter().all(|line| line.trim().is_empty()) => Vec::new(),
            Err(problem) => return crashed(&format!("Lint could not run: {problem}")),
        },
    };
    super::rules::describe(&mut violations);
    let traceback = stderr.iter().any(|line| line.starts_with("Traceback"));
    match code {
        Some(0) if violations.is_empty() => LintReport {
            tool,
            outcome: CheckOutcome::Passed,
            violations,
            problem: None,
            exit_code: code,
            duration_ms: 0,
        },
        Some(1) if !violations.is_empty() && !traceback => LintReport {
            tool,
            outcome: CheckOutcome::Failed,
            violations,
            problem: None,
            exit_code: code,
            duration_ms: 0,
        },
        // `make lint` failing with nothing Slipway can read: the command failed, not flake8.
        Some(other) if !direct && !traceback => LintReport {
            tool,
            outcome: CheckOutcome::Failed,
            violations,
            problem: Some(format!(
                "`{}` failed (exit code {other}); its output is in the log.",
                command.rsplit("&&").next().unwrap_or(command).trim()
            )),
            exit_code: code,
            duration_ms: 0,
        },
        Some(other) => crashed(&format!(
            "Lint could not run: {} crashed (exit code {other}).",
            tool.package()
        )),
        None => crashed("Lint could not run: it was stopped by a signal."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn flake8_lines_become_violations() {
        // Captured from flake8 7.1 on the lint fixture.
        let out = lines("./shop/views.py:3:1: F401 'os' imported but unused\n./shop/views.py:10:80: E501 line too long (88 > 79 characters)\nsettings.py:1:1: W391 blank line at end of file");
        let violations = parse_flake8(&out);
        assert_eq!(violations.len(), 3);
        assert_eq!(violations[0].path, "shop/views.py");
        assert_eq!((violations[1].line, violations[1].column), (10, 80));
        assert_eq!(violations[1].code, "E501");
        assert_eq!(violations[0].message, "'os' imported but unused");
    }

    #[test]
    fn a_linter_crash_is_not_a_list_of_violations() {
        let stderr = lines("Traceback (most recent call last):\n  File \"flake8\", line 1\nAttributeError: 'EntryPoints' object has no attribute 'get'");
        let report = interpret(LintTool::Flake8, "flake8", Some(1), &[], &stderr, "/p");
        assert_eq!(report.outcome, CheckOutcome::CouldNotRun);
        assert!(report.problem.unwrap_or_default().contains("AttributeError"));
        let clean = interpret(LintTool::Flake8, "flake8", Some(0), &[], &[], "/p");
        assert_eq!(clean.outcome, CheckOutcome::Passed);
    }

    #[test]
    fn a_usage_error_is_never_zero_violations() {
        // flake8 without the HTML plugin, as a CI's `--format html` left it.
        let stderr = lines(
            "usage: flake8 [options] file file ...
flake8: error: unrecognized arguments: --htmldir",
        );
        let report = interpret(LintTool::Flake8, "flake8 --htmldir report", Some(2), &[], &stderr, "/p");
        assert_eq!(report.outcome, CheckOutcome::CouldNotRun);
        assert!(report.problem.unwrap_or_default().contains("unrecognized arguments"));
        let missing = interpret(
            LintTool::Flake8,
            "cd app && poetry run flake8",
            Some(127),
            &[],
            &lines("sh: 1: poetry: not found"),
            "/p",
        );
        assert!(missing.problem.unwrap_or_default().contains("`poetry` was not found"));
    }

    #[test]
    fn a_failing_wrapper_is_not_blamed_on_the_linter() {
        let report = interpret(
            LintTool::Flake8,
            "make lint",
            Some(2),
            &lines("make: *** [lint] Error 1"),
            &[],
            "/p",
        );
        assert_eq!(report.outcome, CheckOutcome::Failed);
        let problem = report.problem.unwrap_or_default();
        assert!(
            problem.contains("`make lint` failed") && !problem.contains("crashed"),
            "{problem}"
        );
    }

    #[test]
    fn ruff_json_is_read() -> Result<(), String> {
        let json = r#"[{"code":"F401","message":"`os` imported but unused","filename":"/p/app/x.py","location":{"row":1,"column":8},"end_location":{"row":1,"column":10},"fix":null,"noqa_row":1,"url":"https://docs.astral.sh/ruff/rules/unused-import"}]"#;
        let violations = parse_ruff(json, "/p")?;
        assert_eq!(violations[0].path, "app/x.py");
        assert_eq!(violations[0].code, "F401");
        let report = interpret(
            LintTool::Ruff,
            "ruff check . --output-format json",
            Some(1),
            &[json.to_owned()],
            &[],
            "/p",
        );
        assert_eq!(report.outcome, CheckOutcome::Failed);
        Ok(())
    }
}
