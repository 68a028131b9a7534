//! Where each project runs and reports to (its environments and its Sentry project), and
//! this computer's settings: thin adapters over the `links` room and `settings`.

use tauri::State;

use super::AppState;
use crate::error::AppError;
use crate::links::{self, EnvironmentChange};
use crate::project::{self, ProjectSettings};
use crate::settings::{ComputerSettings, Settings};

/// Adds a Render environment `name` to the project at `path` (its service looked up with the
/// connected key); returns the saved settings.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn add_environment(
    state: State<'_, AppState>,
    path: String,
    name: String,
    change: EnvironmentChange,
) -> Result<ProjectSettings, AppError> {
    let root = project::resolve_folder(&path)?;
    links::add_environment(&state.paths.data_dir, &state.trusted_settings()?, &root, &name, &change).await
}

/// Changes the environment `name` of the project (rename, service, image repository, health
/// path, Sentry environment, default); returns the saved settings.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn change_environment(
    state: State<'_, AppState>,
    path: String,
    name: String,
    change: EnvironmentChange,
) -> Result<ProjectSettings, AppError> {
    let root = project::resolve_folder(&path)?;
    links::change_environment(&state.paths.data_dir, &state.trusted_settings()?, &root, &name, &change).await
}

/// Removes a Render environment of the project; its releases stay in History.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn remove_environment(
    state: State<'_, AppState>,
    path: String,
    name: String,
) -> Result<ProjectSettings, AppError> {
    let root = project::resolve_folder(&path)?;
    links::remove_environment(&state.paths.data_dir, &root, &name)
}

/// Links the project to the Sentry project `organization/project` through the connected
/// Sentry account `account`, once the token is seen to reach it.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn link_sentry_project(
    state: State<'_, AppState>,
    path: String,
    account: String,
    organization: String,
    project: String,
) -> Result<ProjectSettings, AppError> {
    let root = project::resolve_folder(&path)?;
    links::link_sentry(&state.paths.data_dir, &root, Some(&account), &organization, &project).await
}

/// Unlinks the project from Sentry: nothing of it is recorded there any more.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn unlink_sentry_project(state: State<'_, AppState>, path: String) -> Result<ProjectSettings, AppError> {
    let root = project::resolve_folder(&path)?;
    links::unlink_sentry(&state.paths.data_dir, &root)
}

/// This computer's settings: the local registry, whether every check finishes, the watch.
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn computer_settings(state: State<'_, AppState>) -> Result<ComputerSettings, AppError> {
    Ok(state.settings().computer())
}

/// Saves this computer's settings; the next plan and release use them.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn save_computer_settings(
    state: State<'_, AppState>,
    settings: ComputerSettings,
) -> Result<ComputerSettings, AppError> {
    state.trusted_settings()?;
    let saved = Settings::save_computer(&state.paths, &settings)?;
    let computer = saved.computer();
    state.replace_settings(saved);
    Ok(computer)
}
