//! The running tasks, for a window that left a page and came back.

use tauri::State;

use super::AppState;
use crate::error::AppError;
use crate::tasks::TaskInfo;

/// Every task running in this app; the `slipway://tasks` event carries the same list each
/// time it changes.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn list_tasks(state: State<'_, AppState>) -> Result<Vec<TaskInfo>, AppError> {
    Ok(state.tasks.list())
}

/// Asks the task `id` to stop; false when it is no longer running.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn cancel_task(state: State<'_, AppState>, id: u64) -> Result<bool, AppError> {
    Ok(state.tasks.cancel(id))
}
