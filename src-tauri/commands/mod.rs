//! Thin `#[tauri::command]` adapters: take state, call a room, return its wire type.
//!
//! Each command's doc comment is its contract with the UI. Errors cross as
//! [`AppError`](crate::error::AppError) `{kind, message, hint}`.

mod accounts;
mod app;
mod checks;
mod editor;
mod errors;
mod images;
mod links;
mod project;
mod release;
mod tasks;
mod team;
mod update;

pub mod list;

use crate::error::AppError;
use crate::history::Ledger;
use crate::paths::AppPaths;
use crate::pipeline::Context;
use crate::project::RecentProjects;
use crate::secrets::SecretStore;
use crate::settings::Settings;
use crate::tasks::Tasks;

pub use app::AppInfo;
pub use checks::{checks_run, CheckSelection, ChecksRun, ProjectDetails};
pub use images::{BuiltImage, ImagesOverview, PushedImage};
pub use project::{start_script, start_view, LaunchAsk, StartView};
pub use update::UpdateOffer;

/// What the commands share, owned by Tauri's state manager.
pub struct AppState {
    pub paths: AppPaths,
    /// App-wide settings (service base URLs, Sentry DSN, this computer's), read at start and
    /// changed by Settings → This computer.
    pub settings: std::sync::RwLock<Settings>,
    pub recents: tokio::sync::Mutex<RecentProjects>,
    /// Every long job running from this app (releases, checks, builds, pushes).
    pub tasks: Tasks,
    /// The release ledger, or why it could not be opened (the rest of the app still works);
    /// replaced when the person connects or leaves a team's history.
    pub ledger: std::sync::RwLock<Result<Ledger, AppError>>,
    /// Why `settings.json` cannot be trusted: no release runs on guessed settings.
    pub settings_problem: Option<String>,
    /// The accounts and their secrets in the OS keyring: built once, handed to each call.
    pub secrets: SecretStore,
    /// What later launches of Slipway asked (a folder, the picker), until the page takes them.
    pub launches: crate::instance::Launches,
}

impl AppState {
    pub fn new(paths: AppPaths) -> Self {
        let recents = RecentProjects::load(&paths.data_dir);
        let (settings, settings_problem) = Settings::load(&paths);
        let secrets = SecretStore::os(&paths.data_dir);
        let ledger = Ledger::open_configured(&paths.data_dir, settings.history_url().as_deref(), &secrets)
            .map_err(AppError::from);
        Self {
            secrets,
            paths,
            settings: std::sync::RwLock::new(settings),
            recents: tokio::sync::Mutex::new(recents),
            tasks: Tasks::default(),
            ledger: std::sync::RwLock::new(ledger),
            settings_problem,
            launches: crate::instance::Launches::default(),
        }
    }

    /// What the pipeline needs; an error when the ledger could not be opened, for a release
    /// that cannot be recorded does not run.
    /// The settings, unless `settings.json` cannot be trusted: no key is sent to an address
    /// from a file that was not read as written.
    pub fn trusted_settings(&self) -> Result<Settings, AppError> {
        match &self.settings_problem {
            Some(problem) => Err(crate::settings::problem_error(problem)),
            None => Ok(self.settings()),
        }
    }

    /// The app-wide settings as they are now.
    pub fn settings(&self) -> Settings {
        match self.settings.read() {
            Ok(settings) => settings.clone(),
            // A writer that panicked left whole settings behind: a write replaces them at once.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Uses `saved` from now on (what a save returned).
    pub fn replace_settings(&self, saved: Settings) {
        match self.settings.write() {
            Ok(mut current) => *current = saved,
            Err(poisoned) => *poisoned.into_inner() = saved,
        }
    }

    /// The ledger in use now.
    pub fn ledger(&self) -> Result<Ledger, AppError> {
        match self.ledger.read() {
            Ok(ledger) => ledger.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Opens the history the settings name now and uses it from here on (the one before is
    /// let go: its team worker sends what is left and stops).
    pub fn reopen_ledger(&self) -> Result<(), AppError> {
        let settings = self.settings();
        let fresh = Ledger::open_configured(&self.paths.data_dir, settings.history_url().as_deref(), &self.secrets)
            .map_err(AppError::from);
        let failed = fresh.as_ref().err().cloned();
        let old = match self.ledger.write() {
            Ok(mut ledger) => std::mem::replace(&mut *ledger, fresh),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), fresh),
        };
        // Let go outside the lock: its worker may take a few seconds to send what is left.
        std::thread::spawn(move || drop(old));
        failed.map_or(Ok(()), Err)
    }

    pub fn release_context(&self) -> Result<Context, AppError> {
        if let Some(problem) = &self.settings_problem {
            return Err(crate::settings::problem_error(problem));
        }
        Ok(Context {
            data_dir: self.paths.data_dir.clone(),
            settings: self.settings(),
            ledger: self.ledger()?,
            secrets: self.secrets.clone(),
        })
    }
}

/// The invoke handler with every command in [`list::COMMANDS`].
pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app::app_info,
        app::run_doctor,
        app::system_status,
        app::open_docker_desktop,
        project::open_project,
        project::recent_projects,
        project::forget_recent_project,
        project::last_known,
        project::dismiss_crash,
        project::take_launches,
        checks::detect_project,
        checks::save_project_settings,
        checks::set_project_value,
        checks::give_project_values,
        checks::unset_project_value,
        checks::run_checks,
        checks::cancel_checks,
        editor::open_in_editor,
        images::images_overview,
        images::build_project_image,
        images::push_image,
        images::retag_image,
        images::remove_image,
        accounts::list_accounts,
        accounts::connect_registry,
        accounts::connect_render,
        accounts::render_services,
        accounts::sentry_account_projects,
        links::add_environment,
        links::change_environment,
        links::remove_environment,
        links::link_sentry_project,
        links::unlink_sentry_project,
        links::computer_settings,
        links::save_computer_settings,
        team::team_history,
        team::connect_team_history,
        team::disconnect_team_history,
        accounts::connect_render_hook,
        accounts::connect_sentry,
        accounts::known_logins,
        update::check_for_update,
        update::install_update,
        accounts::use_docker_login,
        accounts::use_sentry_cli_login,
        accounts::sentry_projects,
        accounts::connect_circleci,
        accounts::remove_account,
        accounts::check_all_accounts,
        release::plan_release,
        release::remote_fetch_settled,
        release::circleci_verdict,
        release::run_on_circleci,
        release::start_release,
        release::cancel_release,
        release::list_releases,
        release::release_log,
        release::release_detail,
        release::history_notice,
        release::live_now,
        release::local_app,
        release::act_on_local_app,
        release::local_app_output,
        release::start_rollback,
        release::rollback_crossing,
        release::start_promote,
        release::start_resume,
        release::export_releases,
        release::export_release,
        errors::sentry_issues,
        errors::sentry_issue,
        errors::sentry_event,
        errors::set_issue_status,
        errors::start_watch,
        errors::stop_watch,
        tasks::list_tasks,
        tasks::cancel_task,
    ]
}

#[cfg(test)]
mod tests;
