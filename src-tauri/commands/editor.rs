use tauri::State;

use super::AppState;
use crate::editor::{self, EditorError, Opened, Opener};
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
    // Only a project opened in Slipway: the window names its folder, and the check that the
    // file is inside it is only as good as that folder.
    let known = state
        .recents
        .lock()
        .await
        .items()
        .iter()
        .any(|recent| project::resolve_folder(&recent.path).is_ok_and(|folder| folder == root));
    if !known {
        return Err(EditorError::NotInProject { path }.into());
    }
    let opener = Opener::from_settings(state.settings().editor_command.as_deref())?;
    Ok(editor::open(&root, &path, line, &opener)?)
}
