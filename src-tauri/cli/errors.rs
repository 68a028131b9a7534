//! `slipway errors` (the connected Sentry project's issues, one issue, status changes) and
//! `slipway watch` (new issues after a release).

use std::process::ExitCode;

use super::args::{ErrorsArgs, ErrorsCommand, IssueStatusArg};
use super::context::project_context;
use super::fail;
use super::out::print_json;
use crate::monitor::{self, WatchEvent};
use crate::paths::AppPaths;
use crate::pipeline;
use crate::sentry_api::{IssueQuery, IssueStatus, IssueStatusFilter, SentryEvent, SentryIssue};
use crate::settings::Settings;

pub(super) async fn run(paths: &AppPaths, args: ErrorsArgs) -> ExitCode {
    let data_dir = paths.data_dir.clone();
    let root = match crate::project::resolve_folder(&args.project) {
        Ok(root) => root,
        Err(error) => return fail(&error.into()),
    };
    let root = root.as_path();
    match args.command {
        None => {
            let query = IssueQuery {
                status: Some(match args.status {
                    IssueStatusArg::Unresolved => IssueStatusFilter::Unresolved,
                    IssueStatusArg::Resolved => IssueStatusFilter::Resolved,
                    IssueStatusArg::Ignored => IssueStatusFilter::Ignored,
                    IssueStatusArg::All => IssueStatusFilter::All,
                }),
                release: args.release,
                environment: args.environment,
                text: args.query,
                cursor: args.cursor,
                limit: args.limit,
                ..IssueQuery::default()
            };
            match monitor::issues(data_dir, root, &query).await {
                Ok(page) if args.json => {
                    print_json(&page);
                    ExitCode::SUCCESS
                }
                Ok(page) => {
                    if page.issues.is_empty() {
                        println!("No issues match.");
                    }
                    for issue in &page.issues {
                        println!("{}", issue_line(issue));
                    }
                    if let Some(next) = &page.next {
                        println!("More: --cursor {next}");
                    }
                    ExitCode::SUCCESS
                }
                Err(error) => fail(&error),
            }
        }
        Some(ErrorsCommand::Show { issue, json }) => {
            let shown = async {
                let found = monitor::issue(data_dir.clone(), root, &issue).await?;
                let event = monitor::event(data_dir, root, &issue, None).await?;
                Ok::<_, crate::error::AppError>((found, event))
            }
            .await;
            match shown {
                Ok((found, event)) if json => {
                    print_json(&serde_json::json!({ "issue": found, "latestEvent": event }));
                    ExitCode::SUCCESS
                }
                Ok((found, event)) => {
                    println!("{}", issue_line(&found));
                    if let Some(release) = &found.first_release {
                        println!("first seen in release {release}");
                    }
                    print!("{}", event_text(&event));
                    if let Some(link) = &found.permalink {
                        println!("{link}");
                    }
                    ExitCode::SUCCESS
                }
                Err(error) => fail(&error),
            }
        }
        Some(ErrorsCommand::Resolve { issues }) => set(data_dir, root, issues, IssueStatus::Resolved).await,
        Some(ErrorsCommand::Ignore { issues }) => set(data_dir, root, issues, IssueStatus::Ignored).await,
        Some(ErrorsCommand::Unresolve { issues }) => set(data_dir, root, issues, IssueStatus::Unresolved).await,
    }
}

async fn set(
    data_dir: std::path::PathBuf,
    root: &std::path::Path,
    issues: Vec<String>,
    status: IssueStatus,
) -> ExitCode {
    match monitor::set_status(data_dir, root, &issues, status).await {
        Ok(()) => {
            println!("{} now {}.", count_of(issues.len(), "issue", "issues"), status.as_str());
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

fn issue_line(issue: &SentryIssue) -> String {
    format!(
        "{:<10} {:<7} {:<10} {:>6} events {:>4} users  {}{}",
        issue.short_id,
        issue.level,
        issue.status,
        issue.count,
        issue.user_count,
        issue.title,
        issue
            .culprit
            .as_deref()
            .map(|culprit| format!("  ({culprit})"))
            .unwrap_or_default()
    )
}

/// The event as a traceback reads: the exception, then the project's own frames, the
/// failing line marked.
fn event_text(event: &SentryEvent) -> String {
    let mut text = String::new();
    if let Some(message) = &event.message {
        text.push_str(&format!("message: {message}\n"));
    }
    for exception in &event.exceptions {
        text.push_str(&format!(
            "{}: {}\n",
            exception.kind,
            exception.value.as_deref().unwrap_or_default()
        ));
        for frame in exception.frames.iter().filter(|frame| frame.in_app) {
            text.push_str(&format!(
                "  {}:{} in {}\n",
                frame.filename.as_deref().unwrap_or("?"),
                frame.line.map(|line| line.to_string()).unwrap_or_default(),
                frame.function.as_deref().unwrap_or("?")
            ));
            for line in frame.context.iter().filter(|line| line.current) {
                text.push_str(&format!("  > {}\n", line.text.trim_end()));
            }
        }
    }
    text
}

/// `slipway watch`: the project's live release watched in Sentry; exit 0 when no new issue
/// was seen, 1 when some were (a script can then roll back), 2 when it could not watch.
/// How the CLI watches.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct WatchOptions {
    /// End at the first new issue.
    pub stop_at_first: bool,
}

pub(super) async fn watch(
    paths: &AppPaths,
    settings: Settings,
    project_dir: &str,
    release_id: Option<String>,
    minutes: Option<u32>,
    options: WatchOptions,
    json: bool,
) -> ExitCode {
    let (root, context) = match project_context(paths, settings, project_dir) {
        Ok(found) => found,
        Err(error) => return fail(&error),
    };
    watch_with(&context, &root, release_id, minutes, options, json).await
}

pub(super) async fn watch_with(
    context: &pipeline::Context,
    root: &std::path::Path,
    release_id: Option<String>,
    minutes: Option<u32>,
    options: WatchOptions,
    json: bool,
) -> ExitCode {
    let cancel = tokio_util::sync::CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.cancel();
        }
    });
    let first_found = cancel.clone();
    let sink: monitor::WatchSink = std::sync::Arc::new(move |event: WatchEvent| {
        if options.stop_at_first && matches!(event, WatchEvent::NewIssue { .. }) {
            first_found.cancel();
        }
        if json {
            print_json(&event);
            return;
        }
        match &event {
            WatchEvent::Started { version, until, .. } => {
                println!("Watching Sentry for new issues in release {version} until {until} (Ctrl-C stops).")
            }
            WatchEvent::NewIssue { issue } => println!("NEW {}", issue_line(issue)),
            WatchEvent::Trouble { message } => println!("Sentry could not be asked: {message}"),
            WatchEvent::RolledBack(rolled) => println!("{}", rolled.message),
            WatchEvent::Checked { .. } | WatchEvent::Ended(_) => {}
        }
    });
    match pipeline::watch_release(context, root, release_id, minutes, &cancel, sink).await {
        Ok(summary) => {
            if !json {
                println!(
                    "{} since release {} (watch ended: {}).{}",
                    count_of(summary.new_issues.len(), "new issue", "new issues"),
                    summary.version,
                    summary.ended,
                    if summary.new_issues.is_empty() || summary.rolled_back.as_ref().is_some_and(|rolled| rolled.live) {
                        ""
                    } else {
                        " `slipway rollback --project DIR` returns to the last good release."
                    }
                );
            }
            if summary.error.is_some() {
                ExitCode::from(super::EXIT_USAGE)
            } else if summary.new_issues.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => fail(&error),
    }
}

/// "1 issue", "3 issues": a count with its noun, never "issue(s)".
fn count_of(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::count_of;

    #[test]
    fn a_count_says_one_or_many_never_s_in_brackets() {
        assert_eq!(count_of(1, "new issue", "new issues"), "1 new issue");
        assert_eq!(count_of(0, "new issue", "new issues"), "0 new issues");
        assert_eq!(count_of(3, "issue", "issues"), "3 issues");
    }
}
