//! `slipway check`: the project's tests, lint and gates at once in its Python environment,
//! their events as lines (or JSON lines) and a summary.

use std::process::ExitCode;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{fail, EXIT_USAGE};
use crate::checks::{self, CheckEvent, CheckOutcome, ChecksSummary, EventSink};
use crate::error::AppError;
use crate::paths::AppPaths;
use crate::project;

pub(super) async fn run(paths: &AppPaths, project_dir: &str, json: bool) -> ExitCode {
    let root = match project::resolve_folder(project_dir) {
        Ok(root) => root,
        Err(error) => return fail(&error.into()),
    };
    let input = match checks::ChecksInput::read(&paths.data_dir, &root) {
        Ok(input) => input,
        Err(error) => return fail(&error.into()),
    };
    let sink: EventSink = Arc::new(move |event| print_event(&event, json));
    let cancel = CancellationToken::new();
    let on_interrupt = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_interrupt.cancel();
        }
    });
    let result = checks::check(
        &input,
        &paths.data_dir,
        checks::Scope::Everything,
        &cancel,
        &sink,
        &checks::NoHooks,
    )
    .await
    .and_then(checks::ChecksDone::summary);
    match result {
        Ok(summary) => {
            let changed = &summary.changed_files;
            if json {
                let mut value = summary_json(&summary);
                value["changedFiles"] = serde_json::json!(changed);
                println!("{value}");
            } else {
                print!("{}", render_summary(&summary));
                if !changed.is_empty() {
                    println!("Note: the checks changed files in the project: {}", changed.join(", "));
                }
            }
            match summary.outcome() {
                CheckOutcome::Passed | CheckOutcome::Skipped => ExitCode::SUCCESS,
                CheckOutcome::Failed => ExitCode::FAILURE,
                CheckOutcome::CouldNotRun | CheckOutcome::Cancelled => ExitCode::from(EXIT_USAGE),
            }
        }
        Err(error) => {
            let error: AppError = error.into();
            if json {
                println!(
                    "{}",
                    serde_json::json!({"kind": "summary", "outcome": "error", "error": error})
                );
            }
            fail(&error)
        }
    }
}

fn print_event(event: &CheckEvent, json: bool) {
    if json {
        let mut value = serde_json::to_value(event).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.insert("kind".to_owned(), "event".into());
        }
        println!("{}", crate::secrets::redact(&value.to_string()));
        return;
    }
    let line = match event {
        CheckEvent::Setup { message } => format!("setup | {message}"),
        CheckEvent::Started { check, command } => format!("{} | $ {command}", label(*check)),
        CheckEvent::Output { check, line, .. } => format!("{} | {line}", check.map(label).unwrap_or("setup")),
        CheckEvent::Finished { check, outcome } => format!("{} | finished: {}", label(*check), outcome_word(*outcome)),
        CheckEvent::GateStarted { id, command } => format!("{id} | $ {command}"),
        CheckEvent::GateOutput { id, line, .. } => format!("{id} | {line}"),
        CheckEvent::GateFinished { report } => format!(
            "{} | finished: {} ({})",
            report.id,
            outcome_word(report.outcome),
            report.message
        ),
    };
    println!("{}", crate::secrets::redact(&line));
}

fn label(check: checks::CheckKind) -> &'static str {
    match check {
        checks::CheckKind::Tests => "tests",
        checks::CheckKind::Lint => "lint ",
    }
}

fn outcome_word(outcome: CheckOutcome) -> &'static str {
    match outcome {
        CheckOutcome::Passed => "passed",
        CheckOutcome::Failed => "failed",
        CheckOutcome::CouldNotRun => "could not run",
        CheckOutcome::Cancelled => "canceled",
        CheckOutcome::Skipped => "not run",
    }
}

/// `slipway check --json`'s last line: each check with its own outcome and message, in the
/// events' words.
fn summary_json(summary: &ChecksSummary) -> serde_json::Value {
    let tests = &summary.tests;
    let counts = &tests.counts;
    let lint = summary.lint.as_ref().map(|lint| {
        serde_json::json!({
            "tool": lint.tool.package(),
            "outcome": lint.outcome,
            // No count when lint could not run: "0 violations" would be a verdict.
            "violations": (lint.outcome != CheckOutcome::CouldNotRun).then_some(lint.violations.len()),
            "message": lint.problem,
            // Each violation as the window shows it: where, the rule, its plain words, its page.
            "found": lint.violations,
        })
    });
    let gates: Vec<serde_json::Value> = summary
        .gates
        .iter()
        .map(|gate| {
            serde_json::json!({
                "id": gate.id,
                "kind": gate.kind,
                "tool": gate.tool,
                "outcome": gate.outcome,
                "message": gate.message,
                "findings": gate.findings,
            })
        })
        .collect();
    serde_json::json!({
        "kind": "summary",
        "tests": {
            "outcome": tests.outcome,
            "passed": counts.passed, "failed": counts.failed, "errors": counts.errors, "skipped": counts.skipped,
            "message": tests.problem,
            // Each failing test with its file, line, expected and got, and pytest's explanation.
            "failures": tests.failures,
        },
        "lint": lint,
        "gates": gates,
        // One word with `slipway release` for "could not start": error.
        "outcome": match summary.outcome() {
            CheckOutcome::Passed | CheckOutcome::Skipped => "passed",
            CheckOutcome::Failed => "failed",
            CheckOutcome::CouldNotRun | CheckOutcome::Cancelled => "error",
        },
    })
}

/// The summary a person reads at the end of `slipway check`.
fn render_summary(summary: &ChecksSummary) -> String {
    let tests = &summary.tests;
    let mut out = format!("\nTests: {} ({})\n", tests.counts, outcome_word(tests.outcome));
    // When the tests could not start, the problem says why; collection errors listed as
    // failures would only repeat it.
    let failures = if tests.outcome == CheckOutcome::CouldNotRun {
        &[][..]
    } else {
        &tests.failures[..]
    };
    for failure in failures {
        // pytest's message goes on over several lines (its diff): the first says what failed,
        // expected and got below say the rest.
        let (word, message) = match failure.message.strip_prefix("error: ") {
            Some(message) => ("ERROR", message),
            None => ("FAIL", failure.message.as_str()),
        };
        let first = message.lines().next().unwrap_or_default().trim_end_matches('"');
        out.push_str(&format!("  {word} {}: {first}\n", failure.node_id));
        // `path:line`, which terminals and editors open at the line.
        match (&failure.file, failure.line) {
            (Some(file), Some(line)) => out.push_str(&format!("       at {file}:{line}\n")),
            (Some(file), None) => out.push_str(&format!("       in {file}\n")),
            _ => {}
        }
        if let (Some(expected), Some(got)) = (&failure.expected, &failure.got) {
            out.push_str(&format!("       expected {expected}\n       got      {got}\n"));
        }
    }
    if let Some(problem) = &tests.problem {
        out.push_str(&format!("  {}\n", problem.replace('\n', "\n  ")));
    }
    match &summary.lint {
        Some(lint) if lint.outcome == CheckOutcome::CouldNotRun => {
            out.push_str(&format!(
                "Lint ({}): {}\n",
                lint.tool.package(),
                outcome_word(lint.outcome)
            ));
        }
        Some(lint) => out.push_str(&format!(
            "Lint ({}): {} {} ({})\n",
            lint.tool.package(),
            lint.violations.len(),
            if lint.violations.len() == 1 {
                "violation"
            } else {
                "violations"
            },
            outcome_word(lint.outcome)
        )),
        None => out.push_str("Lint: turned off in the project's settings\n"),
    }
    if let Some(lint) = &summary.lint {
        for violation in &lint.violations {
            out.push_str(&format!(
                "  {}:{}:{} {} {}\n",
                violation.path, violation.line, violation.column, violation.code, violation.message
            ));
            if let Some(words) = &violation.explanation {
                out.push_str(&format!("       {words}\n"));
            }
            if let Some(page) = &violation.help_url {
                out.push_str(&format!("       {page}\n"));
            }
        }
        if let Some(problem) = &lint.problem {
            out.push_str(&format!("  {}\n", problem.replace('\n', "\n  ")));
        }
    }
    for gate in &summary.gates {
        out.push_str(&format!(
            "{}: {} ({})\n",
            gate.kind.label(),
            gate.message,
            outcome_word(gate.outcome)
        ));
        for finding in &gate.findings {
            out.push_str(&format!("  {finding}\n"));
        }
    }
    out.push_str(&format!("Outcome: {}\n", outcome_word(summary.outcome())));
    crate::secrets::redact(&out).into_owned()
}
