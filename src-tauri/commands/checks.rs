use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::AppState;
use crate::checks::{self, CheckEvent, EventSink, GateReport, LintReport, TestReport};
use crate::error::{AppError, ErrorKind};
use crate::project::{self, Detection, GitDetails, ProjectSettings};
use crate::tasks::TaskKind;

/// What the project view shows: what was found, what will run, and the working copy.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProjectDetails {
    pub path: String,
    pub detection: Detection,
    pub settings: ProjectSettings,
    /// The settings were saved by the person (else they are the detected proposal).
    pub saved: bool,
    pub git: Option<GitDetails>,
}

/// Which checks to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum CheckSelection {
    Tests,
    Lint,
    Both,
}

impl From<CheckSelection> for checks::Scope {
    fn from(selection: CheckSelection) -> Self {
        match selection {
            CheckSelection::Tests => checks::Scope::Tests,
            CheckSelection::Lint => checks::Scope::Lint,
            CheckSelection::Both => checks::Scope::Everything,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChecksRun {
    pub tests: Option<TestReport>,
    pub lint: Option<LintReport>,
    /// The other gates (coverage, formatting, types, Django), when all checks ran.
    pub gates: Vec<GateReport>,
}

/// Detects the project at `path` and returns it with its saved (or proposed) settings.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn detect_project(state: State<'_, AppState>, path: String) -> Result<ProjectDetails, AppError> {
    let root = project::resolve_folder(&path)?;
    let scan_root = root.clone();
    let detection = tokio::task::spawn_blocking(move || project::detect(&scan_root))
        .await
        .map_err(|error| AppError::new(ErrorKind::Unknown, format!("detection stopped: {error}"), "Try again."))?;
    let (settings, saved) = project::settings_or_detected(&state.paths.data_dir, &root, &detection)?;
    Ok(ProjectDetails {
        path: root.display().to_string(),
        settings,
        saved,
        git: project::git_details(&root).await,
        detection,
    })
}

/// Saves the person's settings for the project at `path` (in the app's data folder).
#[tauri::command]
#[tracing::instrument(skip(state, settings), err(level = "warn"))]
pub async fn save_project_settings(
    state: State<'_, AppState>,
    path: String,
    settings: ProjectSettings,
) -> Result<ProjectSettings, AppError> {
    let root = project::resolve_folder(&path)?;
    if settings.test_command.trim().is_empty() || settings.lint_command.trim().is_empty() {
        return Err(AppError::new(
            ErrorKind::Validation,
            "The test and lint commands cannot be empty.",
            "Type the command your CI runs, for example `pytest` and `flake8`.",
        ));
    }
    crate::links::check(&state.paths.data_dir, &settings)?;
    project::save_settings(&state.paths.data_dir, &root, &settings)?;
    Ok(settings)
}

/// Sets a value the project's checks get. A secret goes to the OS keyring and never comes
/// back: the returned settings hold its name only.
#[tauri::command]
#[tracing::instrument(skip(state, value), err(level = "warn"))]
pub async fn set_project_value(
    state: State<'_, AppState>,
    path: String,
    name: String,
    value: String,
    secret: bool,
) -> Result<ProjectSettings, AppError> {
    let root = project::resolve_folder(&path)?;
    let data_dir = state.paths.data_dir.clone();
    // The keyring answers over D-Bus: off the async runtime, as every keyring call.
    crate::accounts::blocking(move || project::set_value(&data_dir, &root, &name, &value, secret)).await
}

/// Gives the project's checks several values at once: typed ones, and the test values the plan
/// proposed. A random key is made in the backend and goes straight to the keyring; like every
/// secret, it never comes back (the returned settings hold its name only).
#[tauri::command]
#[tracing::instrument(skip(state, values), err(level = "warn"))]
pub async fn give_project_values(
    state: State<'_, AppState>,
    path: String,
    values: Vec<project::GivenValue>,
) -> Result<ProjectSettings, AppError> {
    let root = project::resolve_folder(&path)?;
    let data_dir = state.paths.data_dir.clone();
    crate::accounts::blocking(move || project::give_values(&data_dir, &root, &values)).await
}

/// Removes a value (from the keyring too, when it was secret).
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn unset_project_value(
    state: State<'_, AppState>,
    path: String,
    name: String,
) -> Result<ProjectSettings, AppError> {
    let root = project::resolve_folder(&path)?;
    let data_dir = state.paths.data_dir.clone();
    crate::accounts::blocking(move || project::unset_value(&data_dir, &root, &name)).await
}

/// Prepares the Python environment and runs the selected checks, streaming every event to
/// `on_event`. One run per project at a time; `cancel_checks` stops it.
#[tauri::command]
#[tracing::instrument(skip(state, on_event), err(level = "warn"))]
pub async fn run_checks(
    state: State<'_, AppState>,
    path: String,
    selection: CheckSelection,
    on_event: Channel<CheckEvent>,
) -> Result<ChecksRun, AppError> {
    let root = project::resolve_folder(&path)?;
    let task = state.tasks.start(TaskKind::Checks, &root.display().to_string())?;
    let sink: EventSink = Arc::new(move |event| {
        // A closed window is no reason to stop the run.
        let _ = on_event.send(event);
    });
    let run = checks_run(&state.paths.data_dir, &root, selection, task.token(), &sink).await;
    drop(task);
    run
}

/// The window's run of the checks, without Tauri's state: the project's checks through their
/// one door (`checks::check`), as the window's wire type.
pub async fn checks_run(
    data_dir: &Path,
    root: &Path,
    selection: CheckSelection,
    cancel: &CancellationToken,
    sink: &EventSink,
) -> Result<ChecksRun, AppError> {
    let input = checks::ChecksInput::read(data_dir, root)?;
    let done = checks::check(&input, data_dir, selection.into(), cancel, sink, &checks::NoHooks).await?;
    Ok(ChecksRun {
        tests: done.tests.transpose()?,
        lint: done.lint.transpose()?,
        gates: done.gates.transpose()?.unwrap_or_default(),
    })
}

/// Cancels the running checks of the project at `path`; true when something was running.
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn cancel_checks(state: State<'_, AppState>, path: String) -> Result<bool, AppError> {
    let root = project::resolve_folder(&path)?;
    Ok(state.tasks.cancel_for(TaskKind::Checks, &root.display().to_string()))
}
