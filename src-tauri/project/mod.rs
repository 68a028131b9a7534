//! The project room: what Slipway knows about the folder a person opened.
//!
//! Opening checks the folder (exists, is a folder, can be read) before anything is saved,
//! then reads its git state. The recent-projects list lives in the app's data folder, never
//! inside the project.

mod blueprint;
mod build_args;
mod ci;
mod detect;
mod env_reads;
mod files;
mod gate_spec;
mod git;
mod last_plan;
mod links;
pub mod migrations;
mod needs;
mod recent;
mod remote;
mod service_spec;
mod settings;
mod test_values;
mod tree;
mod values;

use std::path::{Path, PathBuf};

use serde::Serialize;
use ts_rs::TS;

use crate::error::{AppError, ErrorKind};

pub use blueprint::{read_blueprint, Blueprint};
pub use build_args::{missing_sentence as missing_build_args_sentence, BuildArg};
pub use detect::{detect, flake8_excludes, CiOrigin, Detected, Detection, Installer, PythonEnv};
pub use env_reads::{runner_dotenv, EnvVarNeed};
pub use files::{decode_text, is_virtualenv};
pub use gate_spec::{Gate, GateKind, LintTool, SkippedCommand};
pub use git::{full_commit, full_commit_of, git_details, git_details_and_digest, git_state, GitDetails, GitState};
pub use last_plan::{last_known, remember_plan, remember_project, LastKnown};
pub use links::{
    check_name, AutoRollback, Environment, Environments, LinkError, RenderLink, SentryLink, Target, LOCAL,
};
pub use needs::{needed_values, needed_values_with_services, needs_sentence, NeededValue};
pub use recent::{RecentProject, RecentProjects};
pub use remote::{
    circleci_slug, commit_url, fetch_settled, forge_name, push, standing, PushError, Pushed, Reach, RemoteStanding,
    SyncState,
};
pub use service_spec::{usual_port, ServiceSpec};
pub use settings::{
    container_name, load_settings, preferred_local_port, project_id, projects_using_service, save_settings,
    settings_or_detected, strip_tag, ProjectSettings, DEFAULT_CHECK_TIMEOUT_SECS,
};
pub use test_values::TestValue;
pub use tree::{survey, tree_digest, Survey};
pub use values::{current as current_settings, give_values, set_value, unset_value, GivenValue};

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("the folder {0} does not exist")]
    Missing(PathBuf),
    #[error("{0} is a file, not a folder")]
    NotADirectory(PathBuf),
    #[error("the folder {path} cannot be read: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("no folder was given")]
    Empty,
    #[error("could not save the list of recent projects to {path}: {reason}")]
    RecentsNotSaved { path: PathBuf, reason: String },
    #[error("could not save the project's settings to {path}: {reason}")]
    NotSaved { path: PathBuf, reason: String },
    #[error("the project's saved settings in {path} cannot be read ({reason}); the file is left as it is")]
    SettingsDamaged { path: PathBuf, reason: String },
}

impl From<ProjectError> for AppError {
    fn from(error: ProjectError) -> Self {
        let (kind, hint) = match &error {
            ProjectError::Missing(_) => (ErrorKind::NotFound, "Check the path, or pick the folder with Open project."),
            ProjectError::NotADirectory(_) => (ErrorKind::Validation, "Pick the project's folder, not a file inside it."),
            ProjectError::Unreadable { .. } => (ErrorKind::Io, "Check the folder's permissions, or pick another folder."),
            ProjectError::Empty => (ErrorKind::Validation, "Type or pick the project's folder."),
            ProjectError::RecentsNotSaved { .. } => (
                ErrorKind::Io,
                "The project is open, but it will not be in the recent list next time. Check that the data folder is writable.",
            ),
            ProjectError::NotSaved { .. } => (ErrorKind::Io, "Check that the data folder is writable, then save again."),
            ProjectError::SettingsDamaged { .. } => (
                ErrorKind::Validation,
                "Fix the file, or save the settings again: the damaged file is then kept beside it as .damaged-<time>.",
            ),
        };
        AppError::new(kind, capitalise(&error.to_string()), hint)
    }
}

impl From<LinkError> for AppError {
    fn from(error: LinkError) -> Self {
        let hint = match &error {
            LinkError::EmptyName | LinkError::BadName(_) => {
                "Name it with letters, digits, - or _ (\"staging\", \"production\")."
            }
            LinkError::Taken(_) => "Pick another name, or change the environment that has it.",
            LinkError::Unknown(_) => "Pick one of the project's environments, or add it in the project's settings.",
            LinkError::LocalIsFixed => "Add a Render environment for anything else.",
            LinkError::ServiceTwice { .. } => "Pick another Render service for this environment.",
        };
        AppError::new(ErrorKind::Validation, capitalise(&error.to_string()), hint)
            .with_action(crate::error::ErrorAction::OpenProjectSettings)
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
        None => String::new(),
    }
}

/// An opened project, as the header and the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSummary {
    /// The folder's name.
    pub name: String,
    /// The absolute, canonical path.
    pub path: String,
    pub git: Option<GitState>,
}

/// Checks that `path` names a readable folder and returns its canonical path.
pub fn resolve_folder(path: &str) -> Result<PathBuf, ProjectError> {
    let trimmed = path.trim();
    if trimmed.is_empty() {
        return Err(ProjectError::Empty);
    }
    check_folder(&expand_home(trimmed))
}

/// Checks that `path` is a readable folder and reads what the header shows about it.
pub async fn open(path: &str) -> Result<ProjectSummary, ProjectError> {
    let folder = resolve_folder(path)?;
    let name = folder
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| folder.display().to_string());
    let git = git_state(&folder).await;
    Ok(ProjectSummary {
        name,
        path: folder.display().to_string(),
        git,
    })
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ if path == "~" => dirs::home_dir().unwrap_or_else(|| PathBuf::from(path)),
        _ => PathBuf::from(path),
    }
}

fn check_folder(path: &Path) -> Result<PathBuf, ProjectError> {
    let metadata = std::fs::metadata(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => ProjectError::Missing(path.to_path_buf()),
        _ => ProjectError::Unreadable {
            path: path.to_path_buf(),
            reason: error.to_string(),
        },
    })?;
    if !metadata.is_dir() {
        return Err(ProjectError::NotADirectory(path.to_path_buf()));
    }
    // Listing proves we may read it (metadata alone succeeds on a folder without `r`).
    std::fs::read_dir(path).map_err(|error| ProjectError::Unreadable {
        path: path.to_path_buf(),
        reason: error.to_string(),
    })?;
    std::fs::canonicalize(path).map_err(|error| ProjectError::Unreadable {
        path: path.to_path_buf(),
        reason: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_folder_is_not_found() {
        let error = open("/nonexistent/slipway-project").await.err();
        assert!(matches!(error, Some(ProjectError::Missing(_))), "{error:?}");
        let app: AppError = ProjectError::Missing(PathBuf::from("/x")).into();
        assert_eq!(app.kind, ErrorKind::NotFound);
        assert_eq!(app.message, "The folder /x does not exist.");
    }

    #[tokio::test]
    async fn a_file_is_not_a_project() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("manage.py");
        std::fs::write(&file, "")?;
        let error = open(&file.display().to_string()).await.err();
        assert!(matches!(error, Some(ProjectError::NotADirectory(_))), "{error:?}");
        Ok(())
    }

    #[tokio::test]
    async fn blank_input_is_rejected() {
        assert!(matches!(open("   ").await, Err(ProjectError::Empty)));
    }

    #[tokio::test]
    async fn a_plain_folder_opens_without_git() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let project = dir.path().join("lettings");
        std::fs::create_dir(&project)?;
        let summary = open(&format!("{}/", project.display())).await;
        let summary = summary.map_err(|error| std::io::Error::other(error.to_string()))?;
        assert_eq!(summary.name, "lettings");
        assert_eq!(summary.git, None);
        Ok(())
    }
}
