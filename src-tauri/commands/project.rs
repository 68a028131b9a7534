use tauri::State;

use super::AppState;
use crate::error::AppError;
use crate::instance::Launch;
use crate::project::{self, LastKnown, ProjectSummary, RecentProject};

/// Opens the folder at `path` (from the folder picker or typed): checks it is a readable
/// folder, reads its git state and puts it first in the recent list. A bad folder is an
/// error (`notFound`, `validation`, `io`) and nothing is saved.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn open_project(state: State<'_, AppState>, path: String) -> Result<ProjectSummary, AppError> {
    let summary = project::open(&path).await?;
    keep_for_next_start(&state, &summary.path, &summary, project::remember_project);
    if let Err(error) = state.recents.lock().await.touch(&summary.name, &summary.path) {
        // The project is open; only the convenience list suffers. Say so in the log.
        tracing::warn!("{error}");
    }
    Ok(summary)
}

/// What the window last showed of the project at `path` (its header and last plan), to show
/// at start while both are read again; `None` when nothing (or another version's) was kept.
/// Reads one small file, never git: the window awaits it before its first paint.
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn last_known(state: State<'_, AppState>, path: String) -> Result<Option<LastKnown>, AppError> {
    Ok(project::last_known(&state.paths.data_dir, &path))
}

/// What the window shows before it asks anything: the recent projects and what was last known
/// of the first one (its header and plan). The page finds it in its start script, so its first
/// paint shows the project without waiting on two calls through the IPC, which at start queue
/// behind every other page's first question.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct StartView {
    pub recents: Vec<RecentProject>,
    pub last_known: Option<LastKnown>,
    /// What the launch asked: a folder opened in place of the last project, or the picker.
    pub launch: LaunchAsk,
    /// The last crash, until the person dismisses it.
    pub crash: Option<crate::crash::CrashReport>,
}

/// What a launch of Slipway asks of the window (`slipway FOLDER`, a file manager's "Open
/// with", the desktop entry's "Open a project…"): at start, and from later launches as the
/// `slipway://launch` event.
#[derive(Debug, Clone, Default, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct LaunchAsk {
    /// A project folder to open, absolute.
    pub open: Option<String>,
    /// Show the folder picker.
    pub choose: bool,
}

impl From<&Launch> for LaunchAsk {
    fn from(launch: &Launch) -> Self {
        Self {
            open: launch.open.as_ref().map(|folder| folder.display().to_string()),
            choose: launch.choose,
        }
    }
}

/// Reads the start view: one small file, never git. Called before the window exists, when
/// nothing else holds the recent list; were it held, `None` leaves the page to ask.
pub fn start_view(state: &AppState, launch: &Launch) -> Option<StartView> {
    let recents = state.recents.try_lock().ok()?.items().to_vec();
    let launch = LaunchAsk::from(launch);
    // What the window showed of the project it opens first.
    let first = launch
        .open
        .as_deref()
        .or(recents.first().map(|last| last.path.as_str()));
    let last_known = first.and_then(|path| project::last_known(&state.paths.data_dir, path));
    Some(StartView {
        recents,
        last_known,
        launch,
        crash: crate::crash::last(&state.paths.data_dir),
    })
}

/// What later launches of Slipway asked while the window was open, oldest first; each is
/// given once.
#[tauri::command]
pub fn take_launches(state: State<'_, AppState>) -> Vec<LaunchAsk> {
    state.launches.take().iter().map(LaunchAsk::from).collect()
}

/// The crash shown at start has been read: it is not shown again.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn dismiss_crash(state: State<'_, AppState>) -> Result<(), AppError> {
    crate::crash::dismiss(&state.paths.data_dir).map_err(|error| {
        AppError::new(
            crate::error::ErrorKind::Io,
            "The crash report could not be removed.",
            "Check that the data folder can be written to.",
        )
        .with_detail(error.to_string())
    })
}

/// The script the page runs before its own: `window.__SLIPWAY_START__`, read once; `null`
/// leaves the page to ask through the IPC as it would without it.
pub fn start_script(view: Option<&StartView>) -> String {
    // JSON is a JavaScript expression (U+2028 included, since ES2019).
    let json = view
        .and_then(|view| serde_json::to_string(view).ok())
        .unwrap_or_else(|| "null".to_owned());
    format!("window.__SLIPWAY_START__ = {json};")
}

/// Keeps what the window was just sent for its next start, on a blocking thread: the answer
/// does not wait for the disk, and a failure is only logged (the next start is slower, no more).
pub(crate) fn keep_for_next_start(
    state: &AppState,
    path: &str,
    value: &impl serde::Serialize,
    keep: fn(&std::path::Path, &str, &serde_json::Value) -> std::io::Result<()>,
) {
    let value = match serde_json::to_value(value) {
        Ok(value) => value,
        Err(error) => return tracing::info!(%error, "what the window shows could not be kept for its next start"),
    };
    let data = state.paths.data_dir.clone();
    let path = path.to_owned();
    tauri::async_runtime::spawn_blocking(move || {
        if let Err(error) = keep(&data, &path, &value) {
            tracing::info!(%error, "what the window shows could not be kept for its next start");
        }
    });
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
