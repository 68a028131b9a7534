//! Thin `#[tauri::command]` adapters: take state, call a room, return its wire type.
//!
//! Each command's doc comment is its contract with the UI. Errors cross as
//! [`AppError`](crate::error::AppError) `{kind, message, hint}`.

mod accounts;
mod app;
mod checks;
mod images;
mod project;

pub mod list;

use crate::paths::AppPaths;
use crate::project::RecentProjects;
use crate::settings::Settings;

pub use app::AppInfo;
pub use checks::{CheckSelection, ChecksRun, ProjectDetails};
pub use images::{BuiltImage, ImagesOverview, PushedImage};

/// What the commands share, owned by Tauri's state manager.
pub struct AppState {
    pub paths: AppPaths,
    /// App-wide settings (service base URLs, Sentry DSN), read at start.
    pub settings: Settings,
    pub recents: tokio::sync::Mutex<RecentProjects>,
    /// Projects whose checks are running, with the token that cancels them.
    pub running_checks: tokio::sync::Mutex<std::collections::HashMap<String, tokio_util::sync::CancellationToken>>,
}

impl AppState {
    pub fn new(paths: AppPaths) -> Self {
        let recents = RecentProjects::load(&paths.data_dir);
        let (settings, _) = Settings::load(&paths);
        Self {
            paths,
            settings,
            recents: tokio::sync::Mutex::new(recents),
            running_checks: Default::default(),
        }
    }
}

/// The invoke handler with every command in [`list::COMMANDS`].
pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app::app_info,
        app::run_doctor,
        project::open_project,
        project::recent_projects,
        project::forget_recent_project,
        checks::detect_project,
        checks::save_project_settings,
        checks::run_checks,
        checks::cancel_checks,
        images::images_overview,
        images::build_project_image,
        images::push_image,
        images::retag_image,
        images::remove_image,
        accounts::list_accounts,
        accounts::connect_registry,
        accounts::connect_render,
        accounts::choose_render_service,
        accounts::connect_render_hook,
        accounts::connect_sentry,
        accounts::connect_circleci,
        accounts::remove_account,
        accounts::check_all_accounts,
    ]
}

#[cfg(test)]
mod tests;
