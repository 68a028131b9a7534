use tauri::State;

use super::AppState;
use crate::editor::{self, Opened, Opener};
use crate::error::AppError;
use crate::project;

/// Opens a file of the project (a lint violation's, a failing test's) at a line, in the
/// editor set in Settings → This computer or with the system's opener.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn open_in_editor(
    state: State<'_, AppState>,
    project: String,
    path: String,
    line: Option<u32>,
) -> Result<Opened, AppError> {
    let root = project::resolve_folder(&project)?;
    let opener = Opener::from_settings(state.settings().editor_command.as_deref())?;
    Ok(editor::open(&root, &path, line, &opener)?)
}
