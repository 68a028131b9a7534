//! `slipway ci` (CircleCI's verdict on the checked-out commit, with its test results beside
//! Slipway's own) and `slipway ci run` (a pipeline started for the branch, followed to its end).

use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use super::args::{CiArgs, CiCommand};
use super::context::project_context;
use super::fail;
use super::out::print_json;
use crate::circleci::{CiVerdict, VerdictState};
use crate::paths::AppPaths;
use crate::pipeline::{self, CiPanel};
use crate::secrets::redact;
use crate::settings::Settings;

pub(super) async fn run(paths: &AppPaths, settings: Settings, args: CiArgs) -> ExitCode {
    let (root, context) = match project_context(paths, settings, &args.project) {
        Ok(found) => found,
        Err(error) => return fail(&error),
    };
    match args.command {
        None => match pipeline::circleci_panel(&context, &root).await {
            Ok(None) => {
                // No panel: either no account, or a project CircleCI does not run; say which.
                let connected = context
                    .secrets
                    .account(crate::secrets::Service::CircleCi, "default")
                    .is_some();
                let error = if connected {
                    crate::error::AppError::new(
                        crate::error::ErrorKind::Precondition,
                        "This project does not run on CircleCI: it has no .circleci folder and no CircleCI project in its settings.",
                        "Name its CircleCI project: slipway project set --project DIR circleci-project gh/owner/repository",
                    )
                } else {
                    crate::error::AppError::new(
                        crate::error::ErrorKind::Precondition,
                        "No CircleCI account is connected.",
                        "Connect one: printf %s \"$TOKEN\" | slipway accounts connect circleci --slug gh/owner/repository",
                    )
                };
                fail(&error)
            }
            Ok(Some(panel)) => {
                if args.json {
                    print_json(&panel);
                } else {
                    super::out::text(format_args!("{}", redact(&render_panel(&panel, ""))));
                }
                match (&panel.verdict, &panel.problem) {
                    (Some(verdict), _) if verdict.state == VerdictState::Passed => ExitCode::SUCCESS,
                    (None, Some(_)) if !panel.can_run => ExitCode::from(super::EXIT_USAGE),
                    _ => ExitCode::FAILURE,
                }
            }
            Err(error) => fail(&error),
        },
        Some(CiCommand::Run) => {
            let cancel = CancellationToken::new();
            let stop = cancel.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    stop.cancel();
                }
            });
            let json = args.json;
            let last = std::sync::Mutex::new(String::new());
            let seen = move |verdict: &CiVerdict| {
                if json {
                    print_json(verdict);
                    return;
                }
                let words = verdict.words();
                let Ok(mut last) = last.lock() else { return };
                if *last != words {
                    super::out::line(format_args!("{}", redact(&words)));
                    *last = words;
                }
            };
            match pipeline::run_on_circleci(&context, &root, Some((&cancel, &seen))).await {
                Ok(verdict) => {
                    if !json {
                        super::out::text(format_args!("{}", redact(&render_verdict(&verdict, ""))));
                    }
                    if verdict.state == VerdictState::Passed {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(error) => fail(&error),
            }
        }
    }
}

/// The verdict as lines: the pipeline, then each workflow with its jobs and their pages.
fn render_verdict(verdict: &CiVerdict, indent: &str) -> String {
    let mut text = format!("{indent}{}\n{indent}  {}\n", verdict.words(), verdict.pipeline_url);
    for workflow in &verdict.workflows {
        text.push_str(&format!(
            "{indent}  workflow {}: {}\n",
            workflow.name,
            workflow.status.as_str()
        ));
        for job in &workflow.jobs {
            text.push_str(&format!(
                "{indent}    {:<24} {}{}\n",
                job.name,
                job.status,
                job.url.as_deref().map(|url| format!("  {url}")).unwrap_or_default()
            ));
        }
    }
    text
}

/// What the plan and `slipway ci` print of CircleCI.
pub(super) fn render_panel(panel: &CiPanel, indent: &str) -> String {
    let mut text = format!(
        "{indent}circleci {}{}\n",
        if panel.project.is_empty() {
            "(no project)"
        } else {
            panel.project.as_str()
        },
        if panel.project_source.is_empty() {
            String::new()
        } else {
            format!(" (from {})", panel.project_source)
        }
    );
    if let Some(verdict) = &panel.verdict {
        text.push_str(&render_verdict(verdict, &format!("{indent}  ")));
    }
    if let Some(problem) = &panel.problem {
        text.push_str(&format!("{indent}  {problem}\n"));
    }
    if panel.can_run {
        text.push_str(&format!("{indent}  Run one: slipway ci run\n"));
    }
    if let Some(comparison) = &panel.comparison {
        text.push_str(&format!("{indent}  tests: {}\n", comparison.sentence()));
    }
    text
}
