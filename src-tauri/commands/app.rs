use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use super::AppState;
use crate::doctor::{self, DoctorReport};
use crate::error::AppError;

/// What the About box and Settings show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub log_dir: String,
}

/// The app's version and where its data and logs live. Never fails.
#[tauri::command]
#[tracing::instrument(skip(state))]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        data_dir: state.paths.data_dir.display().to_string(),
        log_dir: state.paths.log_dir.display().to_string(),
    }
}

/// Runs every system check (engine, keyring, git, Python); a failed check is part of the
/// report, not an error. Takes up to a few seconds when something does not answer.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn run_doctor(state: State<'_, AppState>) -> Result<DoctorReport, AppError> {
    Ok(doctor::run(&state.paths).await)
}

/// Starts Docker Desktop where it is installed (on Linux, its user service); else an error
/// that says the command that starts the engine here (its terminal hint).
#[tauri::command]
#[tracing::instrument(err(level = "warn"))]
pub async fn open_docker_desktop() -> Result<(), AppError> {
    tokio::task::spawn_blocking(crate::docker::start_docker)
        .await
        .map_err(|error| AppError::new(crate::error::ErrorKind::Unknown, error.to_string(), "Try again."))?
}

/// Whether Docker and the keyring answer now, each with what to do when not; the window
/// asks at start and whenever it regains focus.
#[tauri::command]
#[tracing::instrument(err(level = "warn"))]
pub async fn system_status() -> Result<doctor::SystemStatus, AppError> {
    Ok(doctor::system_status().await)
}
