//! The Errors page: the connected Sentry project's issues, one issue's events, status
//! changes; and the watch after a release, as a task the window can leave.

use tauri::ipc::Channel;
use tauri::State;

use super::AppState;
use crate::error::AppError;
use crate::monitor::{self, WatchEvent, WatchSummary};
use crate::pipeline;
use crate::project;
use crate::sentry_api::{IssuePage, IssueQuery, IssueStatus, SentryEvent, SentryIssue};
use crate::tasks::TaskKind;

/// One page of the Sentry issues of the project at `path`: its own linked Sentry project only
/// (`precondition` with action `linkSentry` when it has none).
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn sentry_issues(state: State<'_, AppState>, path: String, query: IssueQuery) -> Result<IssuePage, AppError> {
    let root = project::resolve_folder(&path)?;
    monitor::issues(state.paths.data_dir.clone(), &root, &query).await
}

/// One issue, with the release it first appeared in.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn sentry_issue(state: State<'_, AppState>, path: String, issue_id: String) -> Result<SentryIssue, AppError> {
    let root = project::resolve_folder(&path)?;
    monitor::issue(state.paths.data_dir.clone(), &root, &issue_id).await
}

/// An event of an issue: the latest, or the one named by a previous or next link.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn sentry_event(
    state: State<'_, AppState>,
    path: String,
    issue_id: String,
    event_id: Option<String>,
) -> Result<SentryEvent, AppError> {
    let root = project::resolve_folder(&path)?;
    monitor::event(state.paths.data_dir.clone(), &root, &issue_id, event_id.as_deref()).await
}

/// Resolves, ignores or reopens one or several issues at once.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn set_issue_status(
    state: State<'_, AppState>,
    path: String,
    issue_ids: Vec<String>,
    status: IssueStatus,
) -> Result<(), AppError> {
    let root = project::resolve_folder(&path)?;
    monitor::set_status(state.paths.data_dir.clone(), &root, &issue_ids, status).await
}

/// Watches Sentry after the project's release `release_id` (else its live one) as a task:
/// new issues arrive at `on_event` as they are found; the first raises an OS notification.
#[tauri::command]
#[tracing::instrument(skip(app, state, on_event), err(level = "warn"))]
pub async fn start_watch<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    path: String,
    release_id: Option<String>,
    on_event: Channel<WatchEvent>,
) -> Result<WatchSummary, AppError> {
    let root = project::resolve_folder(&path)?;
    let context = state.release_context()?;
    let task = state.tasks.start(TaskKind::Watch, &root.display().to_string())?;
    let told = std::sync::atomic::AtomicBool::new(false);
    let sink: monitor::WatchSink = std::sync::Arc::new(move |event| {
        if let WatchEvent::NewIssue { issue } = &event {
            if !told.swap(true, std::sync::atomic::Ordering::SeqCst) {
                notify_new_issue(&app, issue);
            }
        }
        let _ = on_event.send(event);
    });
    pipeline::watch_release(&context, &root, release_id, None, task.token(), sink).await
}

/// Stops the project's watch; true when one was running.
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn stop_watch(state: State<'_, AppState>, path: String) -> Result<bool, AppError> {
    let root = project::resolve_folder(&path)?;
    Ok(state.tasks.cancel_for(TaskKind::Watch, &root.display().to_string()))
}

fn notify_new_issue<R: tauri::Runtime>(app: &tauri::AppHandle<R>, issue: &SentryIssue) {
    use tauri_plugin_notification::NotificationExt;
    let shown = app
        .notification()
        .builder()
        .title("A new error since this release")
        .body(format!("{}: {}", issue.short_id, issue.title))
        .show();
    if let Err(error) = shown {
        tracing::info!(%error, "no notification shown");
    }
}
