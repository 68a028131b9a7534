//! `slipway release` (and `--resume`), `rollback` and `promote`: the pipeline, headless.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::context::{context, project_context};
use super::out::print_json;
use super::{fail, EXIT_USAGE};
use crate::docker::DockerEvent;
use crate::error::AppError;
use crate::history::Outcome;
use crate::paths::AppPaths;
use crate::pipeline::{self, Plan, ReleaseEvent, ReleaseOptions, ReleaseSink, Step};
use crate::secrets::redact;
use crate::settings::Settings;

pub(super) async fn run_release(
    paths: &AppPaths,
    settings: Settings,
    project_dir: &str,
    options: ReleaseOptions,
    dry_run: bool,
    watch: Option<super::errors::WatchOptions>,
    json: bool,
) -> ExitCode {
    let could_not_run = |error: AppError| {
        print_error_summary(&error, json);
        fail(&error)
    };
    let (root, context) = match project_context(paths, settings, project_dir) {
        Ok(found) => found,
        Err(error) => return could_not_run(error),
    };
    if dry_run {
        return match pipeline::plan(&context, &root, &options).await {
            Ok(plan) => {
                if json {
                    let mut value = serde_json::to_value(&plan).unwrap_or_default();
                    if let Some(object) = value.as_object_mut() {
                        object.insert("kind".to_owned(), "plan".into());
                    }
                    print_json(&value);
                } else {
                    print!("{}", redact(&render_plan(&plan)));
                }
                if plan.blockers.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(EXIT_USAGE)
                }
            }
            Err(error) => could_not_run(error),
        };
    }
    let (cancel, sink) = cancellable_sink(json);
    match pipeline::release(&context, &root, &options, &cancel, sink).await {
        // Live: with --watch, the release's exit is the watch's (1 when new issues came).
        Ok(summary) if summary.outcome == Outcome::Live && watch.is_some() => {
            let options = watch.unwrap_or_default();
            super::errors::watch_with(&context, &root, Some(summary.release_id), None, options, json).await
        }
        Ok(summary) => match summary.outcome {
            Outcome::Live => ExitCode::SUCCESS,
            Outcome::Error => ExitCode::from(EXIT_USAGE),
            _ => ExitCode::FAILURE,
        },
        Err(error) => could_not_run(error),
    }
}

/// A token that Ctrl-C cancels, and a sink that prints events as lines (or JSON lines).
fn cancellable_sink(json: bool) -> (CancellationToken, ReleaseSink) {
    let cancel = CancellationToken::new();
    let on_interrupt = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("cancelling…");
            on_interrupt.cancel();
        }
    });
    let last_percent = Arc::new(AtomicU64::new(u64::MAX));
    let sink: ReleaseSink = Arc::new(move |event| {
        if json {
            print_json(&event);
        } else if let Some(line) = render_event(&event, &last_percent) {
            println!("{}", redact(&line));
        }
    });
    (cancel, sink)
}

pub(super) async fn run_rollback(
    paths: &AppPaths,
    settings: Settings,
    project_dir: &str,
    to: Option<String>,
    environment: Option<String>,
    yes: bool,
    json: bool,
) -> ExitCode {
    let (root, context) = match project_context(paths, settings, project_dir) {
        Ok(found) => found,
        Err(error) => return fail(&error),
    };
    let target = |to: &Option<String>| match to {
        Some(id) => pipeline::RollbackTo::Release(id.clone()),
        None => pipeline::RollbackTo::LastGood,
    };
    // What it crosses is said before the question (on stderr under --json, whose stdout is
    // the events); a target that cannot be found is the rollback's own error below.
    if let Ok(crossing) = pipeline::rollback_crossing(&context, &root, environment.as_deref(), target(&to)).await {
        if let Some(warning) = crossing.warning {
            match json {
                true => eprintln!("{warning}"),
                false => println!("{warning}"),
            }
        }
    }
    let to = target(&to);
    if !confirmed(yes, "Roll back now? It replaces what runs.") {
        return refused_without_yes(json);
    }
    let (cancel, sink) = cancellable_sink(json);
    shipped(
        pipeline::rollback(&context, &root, environment.as_deref(), to, &cancel, sink).await,
        json,
    )
}

/// `slipway promote ID [--to NAME]`: the image of a release that went live on one
/// environment shipped to the next in the project's chain, with no rebuild and no gate run.
pub(super) async fn run_promote(
    paths: &AppPaths,
    settings: Settings,
    id: &str,
    to: Option<String>,
    yes: bool,
    json: bool,
) -> ExitCode {
    let context = match context(paths, settings) {
        Ok(context) => context,
        Err(error) => return fail(&error),
    };
    let whereto = to.clone().unwrap_or_else(|| "the next environment".to_owned());
    if !confirmed(
        yes,
        &format!("Promote release {id} to {whereto}? It replaces what runs there."),
    ) {
        return refused_without_yes(json);
    }
    let (cancel, sink) = cancellable_sink(json);
    shipped(
        pipeline::promote(&context, id, to.as_deref(), &cancel, sink).await,
        json,
    )
}

/// `slipway release --resume ID`: what an interrupted release had left, run.
pub(super) async fn run_resume(paths: &AppPaths, settings: Settings, id: &str, json: bool) -> ExitCode {
    let context = match context(paths, settings) {
        Ok(context) => context,
        Err(error) => {
            print_error_summary(&error, json);
            return fail(&error);
        }
    };
    let (cancel, sink) = cancellable_sink(json);
    shipped(pipeline::resume(&context, id, &cancel, sink).await, json)
}

/// Whether the person agreed: `--yes`, or "y" typed at a terminal. Without a terminal
/// nothing is shipped unasked.
fn confirmed(yes: bool, question: &str) -> bool {
    use std::io::{BufRead, IsTerminal, Write};
    if yes {
        return true;
    }
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).is_ok() && answer.trim().eq_ignore_ascii_case("y")
}

fn refused_without_yes(json: bool) -> ExitCode {
    let error = AppError::new(
        crate::error::ErrorKind::Cancelled,
        "Nothing was shipped: it was not confirmed.",
        "Pass --yes to go ahead without being asked.",
    );
    print_error_summary(&error, json);
    fail(&error)
}

fn print_error_summary(error: &AppError, json: bool) {
    if json {
        print_json(&serde_json::json!({
            "kind": "summary", "releaseId": null, "outcome": "error",
            "message": error.message, "hint": error.hint,
            "detail": error.detail, "terminalHint": error.terminal_hint,
        }));
    }
}

/// The exit code of a rollback or promotion: 0 live, 1 it ran and did not go live, 2 it
/// could not start.
fn shipped(result: Result<pipeline::ReleaseSummary, AppError>, json: bool) -> ExitCode {
    match result {
        Ok(summary) => match summary.outcome {
            Outcome::Live => ExitCode::SUCCESS,
            Outcome::Error => ExitCode::from(EXIT_USAGE),
            _ => ExitCode::FAILURE,
        },
        Err(error) => {
            print_error_summary(&error, json);
            fail(&error)
        }
    }
}

fn render_plan(plan: &Plan) -> String {
    let mut text = format!(
        "Release plan for {} → {} (environment {})\n  image   {}\n  commit  {} on {}{}\n",
        plan.project_name,
        plan.destination,
        plan.environment,
        plan.image,
        plan.commit.as_deref().unwrap_or("(none)"),
        plan.branch.as_deref().unwrap_or("(no branch)"),
        if plan.is_dirty() {
            match plan.dirty_files.len() {
                1 => " with 1 uncommitted change".to_owned(),
                count => format!(" with {count} uncommitted changes"),
            }
        } else {
            String::new()
        }
    );
    if let Some(python) = &plan.python {
        text.push_str(&format!("  python  {python}\n"));
    }
    if let Some(engine) = &plan.engine {
        text.push_str(&format!("  engine  {engine}\n"));
    }
    if let Some(remote) = &plan.remote_words {
        text.push_str(&format!("  remote  {remote}\n"));
    }
    if let Some(panel) = &plan.circleci {
        text.push_str(&super::ci::render_panel(panel, "  "));
    }
    for warning in &plan.warnings {
        text.push_str(&format!("warning: {warning}\n"));
    }
    for step in &plan.steps {
        match (&step.skip, &step.cached) {
            (Some(why), _) => text.push_str(&format!("  {:<7} skipped: {why}\n", step.step.as_str())),
            (None, Some(cached)) => text.push_str(&format!(
                "  {:<7} {} (not run: it passed {} on this exact tree; --no-cache runs it)\n",
                step.step.as_str(),
                step.detail,
                crate::pipeline::ago(&cached.passed_at),
            )),
            (None, None) => text.push_str(&format!("  {:<7} {}\n", step.step.as_str(), step.detail)),
        }
        if let Some(line) = step.ci_line.as_ref().filter(|line| **line != step.detail) {
            text.push_str(&format!("          from the CI line: {line}\n"));
        }
        for note in &step.notes {
            text.push_str(&format!("          note: {note}\n"));
        }
        if step.step == Step::Checks {
            for gate in &plan.gates {
                text.push_str(&format!(
                    "          {}: {} ({})\n",
                    gate.kind.label(),
                    gate.command,
                    gate.source
                ));
                for note in &gate.notes {
                    text.push_str(&format!("            note: {note}\n"));
                }
            }
        }
    }
    for skipped in &plan.ci_skipped {
        text.push_str(&format!(
            "  not run: {} ({}): {}\n",
            skipped.line, skipped.source, skipped.reason
        ));
    }
    if let Some(needs) = crate::pipeline::needs_sentence(&plan.needs) {
        text.push_str(&format!("needs: {needs}\n"));
        for need in &plan.needs {
            text.push_str(&format!("  {}: {}\n", need.name, need.why));
        }
    }
    for blocker in &plan.blockers {
        text.push_str(&format!(
            "blocked: {}\n  hint: {}\n",
            blocker.message,
            blocker.cli_hint()
        ));
    }
    text
}

pub(super) fn render_event(event: &ReleaseEvent, last_percent: &AtomicU64) -> Option<String> {
    Some(match event {
        ReleaseEvent::Started { release_id, plan } => format!(
            "Release {release_id}: {} → {} ({})",
            plan.project_name,
            plan.target.as_str(),
            plan.image
        ),
        ReleaseEvent::RollbackStarted { release_id, source_id } => {
            format!("Rollback {release_id}: shipping release {source_id} again")
        }
        ReleaseEvent::PromoteStarted { release_id, source_id } => {
            format!("Promotion {release_id}: shipping release {source_id}'s image to Render")
        }
        ReleaseEvent::ResumeStarted { release_id, source_id } => {
            format!("Resume {release_id}: running what interrupted release {source_id} had left")
        }
        ReleaseEvent::Step {
            step,
            state,
            elapsed_ms,
            summary,
        } => {
            let time = elapsed_ms
                .map(|ms| format!(" in {:.1} s", ms as f64 / 1000.0))
                .unwrap_or_default();
            let detail = summary.as_deref().map(|text| format!(": {text}")).unwrap_or_default();
            format!("[{}] {}{time}{detail}", step.as_str(), state.as_str())
        }
        ReleaseEvent::Log { step, line, .. } => format!("{:>6} | {line}", step.as_str()),
        ReleaseEvent::Lines { step, lines } => lines
            .iter()
            .map(|line| format!("{:>6} | {line}", step.as_str()))
            .collect::<Vec<_>>()
            .join("\n"),
        ReleaseEvent::Docker {
            event: DockerEvent::PushProgress { percent, .. },
            ..
        } => {
            // One line per tenth, not one per chunk.
            let tenth = (*percent / 10.0).floor() as u64;
            if last_percent.swap(tenth, Ordering::Relaxed) == tenth {
                return None;
            }
            format!("  push | {:.0}%", percent)
        }
        ReleaseEvent::Gate { report } => format!("checks | {}: {}", report.tool, report.message),
        // CircleCI's changes are in the Ci step's log lines already.
        ReleaseEvent::Docker { .. }
        | ReleaseEvent::Tests { .. }
        | ReleaseEvent::Lint { .. }
        | ReleaseEvent::CircleCi { .. } => return None,
        ReleaseEvent::Deploy { deploy_id, status } => {
            format!("deploy | {} {status}", deploy_id.as_deref().unwrap_or(""))
        }
        ReleaseEvent::Summary(summary) => match summary.outcome {
            Outcome::Live => format!(
                "Released {}{} → {}",
                summary.image,
                summary.digest.as_deref().map(|d| format!(" ({d})")).unwrap_or_default(),
                summary.url.as_deref().unwrap_or("")
            ),
            outcome => format!(
                "Release {}: {}{}",
                outcome.as_str(),
                summary.message.as_deref().unwrap_or("see the steps above"),
                summary
                    .error
                    .as_ref()
                    .map(|error| format!("\nhint: {}", error.cli_hint()))
                    .unwrap_or_default()
            ),
        },
    })
}
