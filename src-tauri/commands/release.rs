//! The Release page: plan, run with live events, cancel; and the ledger's records.

use tauri::ipc::Channel;
use tauri::State;

use super::AppState;
use crate::error::{AppError, ErrorKind};
use crate::history::{Outcome, ReleaseRecord};
use crate::pipeline::{self, Plan, ReleaseEvent, ReleaseOptions, ReleaseSink, ReleaseSummary, Target};
use crate::project;
use crate::tasks::TaskKind;

/// What a release of the project at `path` would do, and what stops it.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn plan_release(state: State<'_, AppState>, path: String, target: Option<Target>) -> Result<Plan, AppError> {
    let root = project::resolve_folder(&path)?;
    let options = ReleaseOptions {
        target,
        confirm_dirty: false,
        confirmed_plan: None,
    };
    pipeline::plan(&state.release_context()?, &root, &options).await
}

/// Runs a release, streaming its events to `on_event`; ends with its summary. The OS is
/// told when it ends, for a person who looked away (from Rust: the web view needs no
/// notification permission).
#[tauri::command]
#[tracing::instrument(skip(app, state, on_event), err(level = "warn"))]
pub async fn start_release<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    path: String,
    options: ReleaseOptions,
    on_event: Channel<ReleaseEvent>,
) -> Result<ReleaseSummary, AppError> {
    let root = project::resolve_folder(&path)?;
    let context = state.release_context()?;
    // Refused while one runs: the running one keeps its token, and Cancel keeps working.
    let task = state.tasks.start(TaskKind::Release, &root.display().to_string())?;
    let sink: ReleaseSink = std::sync::Arc::new(move |event| {
        // A closed window is no reason to stop the release.
        let _ = on_event.send(event);
    });
    let result = pipeline::release(&context, &root, &options, task.token(), sink).await;
    drop(task);
    if let Ok(summary) = &result {
        notify(&app, summary);
    }
    result
}

fn notify<R: tauri::Runtime>(app: &tauri::AppHandle<R>, summary: &ReleaseSummary) {
    use tauri_plugin_notification::NotificationExt;
    let (title, body) = match summary.outcome {
        Outcome::Live => (
            "Released".to_owned(),
            format!("{} is live at {}", summary.image, summary.url.as_deref().unwrap_or("")),
        ),
        outcome => (
            format!("Release {}", outcome.as_str()),
            summary.message.clone().unwrap_or_default(),
        ),
    };
    // No notification service (a bare X server) is no reason to fail a release.
    if let Err(error) = app.notification().builder().title(title).body(body).show() {
        tracing::info!(%error, "no notification shown");
    }
}

/// Cancels the running release of the project at `path`; true when one was running here.
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn cancel_release(state: State<'_, AppState>, path: String) -> Result<bool, AppError> {
    let root = project::resolve_folder(&path)?;
    Ok(state.tasks.cancel_for(TaskKind::Release, &root.display().to_string()))
}

/// The newest releases, of one project or of all.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn list_releases(
    state: State<'_, AppState>,
    path: Option<String>,
    limit: Option<u32>,
) -> Result<Vec<ReleaseRecord>, AppError> {
    let project_path = match path {
        Some(path) => Some(project::resolve_folder(&path)?.display().to_string()),
        None => None,
    };
    let ledger = state.release_context()?.ledger;
    let limit = limit.unwrap_or(50).min(1000);
    tokio::task::spawn_blocking(move || ledger.releases(project_path.as_deref(), limit))
        .await
        .map_err(|error| AppError::new(ErrorKind::Unknown, error.to_string(), "Try again."))?
        .map_err(Into::into)
}

/// One step's recorded output lines.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn release_log(
    state: State<'_, AppState>,
    release_id: String,
    step: String,
) -> Result<Vec<String>, AppError> {
    let ledger = state.release_context()?.ledger;
    tokio::task::spawn_blocking(move || ledger.log_lines(&release_id, &step))
        .await
        .map_err(|error| AppError::new(ErrorKind::Unknown, error.to_string(), "Try again."))?
        .map_err(Into::into)
}
