use tauri::State;

use super::AppState;
use crate::error::AppError;
use crate::project::{self, ProjectSummary, RecentProject};

/// Opens the folder at `path` (from the folder picker or typed): checks it is a readable
/// folder, reads its git state and puts it first in the recent list. A bad folder is an
/// error (`notFound`, `validation`, `io`) and nothing is saved.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn open_project(state: State<'_, AppState>, path: String) -> Result<ProjectSummary, AppError> {
    let summary = project::open(&path).await?;
    if let Err(error) = state.recents.lock().await.touch(&summary.name, &summary.path) {
        // The project is open; only the convenience list suffers. Say so in the log.
        tracing::warn!("{error}");
    }
    Ok(summary)
}

/// The recent projects, most recent first.
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn recent_projects(state: State<'_, AppState>) -> Result<Vec<RecentProject>, AppError> {
    Ok(state.recents.lock().await.items().to_vec())
}

/// Removes `path` from the recent list and returns what is left.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn forget_recent_project(state: State<'_, AppState>, path: String) -> Result<Vec<RecentProject>, AppError> {
    let mut recents = state.recents.lock().await;
    recents.forget(&path)?;
    Ok(recents.items().to_vec())
}
