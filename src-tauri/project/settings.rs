//! A project's settings as the person confirmed or edited them, saved in the app's data
//! folder (never inside the project), keyed by the project's path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;

use super::detect::Detection;
use super::gate_spec::{Gate, LintTool};
use super::links::{Environment, Environments, SentryLink, Target};
use super::ProjectError;
use crate::paths::write_json_atomically;

/// A test or lint run longer than this is stopped; the person can change it per project.
pub const DEFAULT_CHECK_TIMEOUT_SECS: u32 = 30 * 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSettings {
    /// Run through the shell in the project folder, as CI would.
    pub test_command: String,
    pub lint_tool: LintTool,
    pub lint_command: String,
    /// The linter version to install when the environment lacks it.
    pub lint_version: Option<String>,
    /// The project's own virtualenv; `None` lets Slipway make one in its data folder.
    pub venv: Option<String>,
    /// The Dockerfile to build, relative to the project.
    pub dockerfile: Option<String>,
    /// Non-secret environment variables for the tests.
    pub env: BTreeMap<String, String>,
    pub check_timeout_secs: u32,
    /// `[registry/]namespace/name` the image is tagged and pushed as; `None` uses the
    /// project folder's name.
    #[serde(default)]
    pub image_repository: Option<String>,
    /// The port the app listens on inside its container (Local target); `None` reads the
    /// Dockerfile's `EXPOSE`, else 8000.
    #[serde(default)]
    #[ts(optional)]
    pub container_port: Option<u16>,
    /// The path that must answer before a deploy counts as live; `None` is `/`.
    #[serde(default)]
    #[ts(optional)]
    pub health_path: Option<String>,
    /// How long the deployed app has to answer; `None` is 60 s.
    #[serde(default)]
    #[ts(optional)]
    pub health_timeout_secs: Option<u32>,
    /// `--build-arg` values for the image build.
    #[serde(default)]
    #[ts(optional)]
    pub build_args: Option<BTreeMap<String, String>>,
    /// Build arguments whose value is the project's value of that name (given like the tests'
    /// values; a secret one from the keyring, passed to the build only). `None` is none.
    #[serde(default)]
    #[ts(optional)]
    pub build_args_given: Option<Vec<String>>,
    /// The Dockerfile stage to build (`--target`); `None` builds the last one.
    #[serde(default)]
    #[ts(optional)]
    pub build_target: Option<String>,
    /// The tags each image gets, `{commit}` standing for the short commit (`dev` outside
    /// git); the first is the one a release pushes and deploys. `None` is `{commit}` and
    /// `latest`.
    #[serde(default)]
    #[ts(optional)]
    pub image_tags: Option<Vec<String>>,
    /// Lint is a gate of the release (off when the person lets it fail, as their CI may).
    #[serde(default = "enabled")]
    pub lint_enabled: bool,
    /// The other checks the CI runs (coverage, formatting, types, Django), each able to be
    /// turned off.
    #[serde(default)]
    pub gates: Vec<Gate>,
    /// The folder sent to the engine when the image is built, relative to the project; `None`
    /// is the project's folder.
    #[serde(default)]
    #[ts(optional)]
    pub build_context: Option<String>,
    /// Names of the secret values the checks get from the OS keyring (never their values).
    #[serde(default)]
    pub secret_env: Vec<String>,
    /// The requirement files to install, relative to the project; `None` uses what the CI
    /// installs, else what detection found.
    #[serde(default)]
    #[ts(optional)]
    pub install_from: Option<Vec<String>>,
    /// The release name the app's Sentry SDK reports (`SENTRY_RELEASE`), `{commit}` standing
    /// for the full commit id; `None` is the full commit id, the SDKs' own default.
    #[serde(default)]
    #[ts(optional)]
    pub sentry_release: Option<String>,
    /// The environment deploys are recorded under in Sentry; `None` is `production` on
    /// Render and `local` on this machine.
    #[serde(default)]
    #[ts(optional)]
    pub sentry_environment: Option<String>,
    /// Where the project runs: this computer and its Render environments, in chain order.
    #[serde(default)]
    pub environments: Environments,
    /// The Sentry project its releases and errors belong to; `None` records nothing in Sentry.
    #[serde(default)]
    #[ts(optional)]
    pub sentry_project: Option<SentryLink>,
    /// The tests, lint and gates run in a sandbox that hides the keyring and the person's keys
    /// (where bubblewrap can make one); `None` is on. Off for tests that use Docker.
    #[serde(default)]
    #[ts(optional)]
    pub sandbox: Option<bool>,
    /// Push the commit to its remote branch as the release's first step when the remote does
    /// not have it yet; `None` is on.
    #[serde(default)]
    #[ts(optional)]
    pub push_first: Option<bool>,
    /// The CircleCI project (`gh/acme/shop`) whose pipelines run this project's commits;
    /// `None` is the one the `origin` remote implies, when a CircleCI account is connected.
    #[serde(default)]
    #[ts(optional)]
    pub circleci_project: Option<String>,
    /// The release waits for CircleCI's workflows on the commit before deploying, and stops
    /// when they fail.
    #[serde(default)]
    pub wait_for_ci: bool,
    /// The Docker context (`docker context ls`) the project builds, pushes and runs on, over
    /// `DOCKER_HOST`, `DOCKER_CONTEXT` and the current context, as `docker --context` does;
    /// `None` is the one Docker's own settings choose.
    #[serde(default)]
    #[ts(optional)]
    pub docker_context: Option<String>,
}

fn enabled() -> bool {
    true
}

impl ProjectSettings {
    /// Settings that run these two commands, everything else at its default.
    pub fn with_commands(test_command: &str, lint_tool: LintTool, lint_command: &str) -> Self {
        Self {
            test_command: test_command.to_owned(),
            lint_tool,
            lint_command: lint_command.to_owned(),
            lint_version: None,
            venv: None,
            dockerfile: None,
            env: BTreeMap::new(),
            check_timeout_secs: DEFAULT_CHECK_TIMEOUT_SECS,
            image_repository: None,
            container_port: None,
            health_path: None,
            health_timeout_secs: None,
            build_args: None,
            build_args_given: None,
            build_target: None,
            image_tags: None,
            lint_enabled: true,
            gates: Vec::new(),
            install_from: None,
            sentry_release: None,
            sentry_environment: None,
            build_context: None,
            secret_env: Vec::new(),
            environments: Environments::default(),
            sentry_project: None,
            sandbox: None,
            push_first: None,
            circleci_project: None,
            wait_for_ci: false,
            docker_context: None,
        }
    }

    pub fn push_first_enabled(&self) -> bool {
        self.push_first != Some(false)
    }

    /// The settings as a release to `environment` uses them: its image repository (for
    /// Render, the service's own image unless the environment names another), its health
    /// path and its Sentry environment over the project's.
    pub fn for_environment(&self, environment: &Environment) -> Self {
        let mut settings = self.clone();
        let chosen_repository = environment
            .image_repository
            .clone()
            .filter(|value| !value.trim().is_empty());
        let service_image = environment
            .render_service
            .as_ref()
            .and_then(|service| service.image.clone())
            .map(|image| strip_tag(&image));
        match environment.target {
            Target::Local => {
                if chosen_repository.is_some() {
                    settings.image_repository = chosen_repository;
                }
            }
            Target::Render => {
                if let Some(repository) = chosen_repository.or(service_image) {
                    settings.image_repository = Some(repository);
                }
            }
        }
        if let Some(path) = environment.health_path.clone().filter(|path| !path.trim().is_empty()) {
            settings.health_path = Some(path);
        }
        settings.sentry_environment = Some(
            environment
                .sentry_environment
                .clone()
                .or_else(|| self.sentry_environment.clone())
                .filter(|value| !value.trim().is_empty())
                .unwrap_or_else(|| environment.name.clone()),
        );
        settings
    }

    /// What Slipway proposes before the person changes anything.
    pub fn from_detection(detection: &Detection) -> Self {
        let (build_literal, build_given) = super::build_args::split_for_settings(&detection.build_args);
        Self {
            lint_version: detection.lint_version.as_ref().map(|version| version.value.clone()),
            venv: detection.python.existing.clone(),
            dockerfile: detection.dockerfile.as_ref().map(|chosen| chosen.value.clone()),
            build_context: Some(detection.build_context.value.clone()).filter(|context| context != "."),
            // The values the CI's checking jobs set, as the CI sets them (a dummy secret key is
            // what the tests run with). `.env.example` values are only offered, never applied.
            env: detection
                .env_vars
                .iter()
                .filter_map(|need| need.ci_value.clone().map(|value| (need.name.clone(), value)))
                .collect(),
            gates: detection.gates.clone(),
            lint_enabled: !detection.lints_nothing(),
            build_args: Some(build_literal).filter(|args| !args.is_empty()),
            build_args_given: Some(build_given).filter(|names| !names.is_empty()),
            // Render checks this path before a deploy counts as live; so does the Local target.
            health_path: detection
                .blueprint
                .as_ref()
                .and_then(|blueprint| blueprint.health_check_path.clone()),
            ..Self::with_commands(
                &detection.test_command.value,
                detection.lint_tool.value,
                &detection.lint_command.value,
            )
        }
    }

    /// The build context folder and the Dockerfile's path inside it; `Err` says why the
    /// Dockerfile cannot be built from that context.
    pub fn build_paths(&self, root: &Path) -> Result<(PathBuf, String), String> {
        let dockerfile = self.dockerfile.clone().unwrap_or_else(|| "Dockerfile".to_owned());
        let context = self
            .build_context
            .as_deref()
            .map(|context| context.trim().trim_start_matches("./").trim_end_matches('/'))
            .filter(|context| !context.is_empty() && *context != ".");
        let Some(context) = context else {
            return Ok((root.to_path_buf(), dockerfile));
        };
        match Path::new(&dockerfile).strip_prefix(context) {
            Ok(inside) => Ok((root.join(context), inside.display().to_string())),
            Err(_) => Err(format!(
                "The Dockerfile {dockerfile} is outside the build context {context}/: the engine only sees that folder."
            )),
        }
    }

    /// The build arguments whose value nobody has given yet (neither a value in the settings
    /// nor one in the keyring).
    pub fn missing_build_args(&self) -> Vec<String> {
        self.build_args_given
            .iter()
            .flatten()
            .filter(|name| !self.env.contains_key(*name) && !self.secret_env.contains(*name))
            .cloned()
            .collect()
    }

    /// Whether the checks run sandboxed: unless the person turned it off.
    pub fn sandbox_enabled(&self) -> bool {
        self.sandbox != Some(false)
    }

    /// The gates that will run.
    pub fn enabled_gates(&self) -> impl Iterator<Item = &Gate> {
        self.gates.iter().filter(|gate| gate.enabled)
    }

    /// The path that must answer before a deploy counts as live.
    pub fn health_path(&self) -> String {
        self.health_path.clone().unwrap_or_else(|| "/".to_owned())
    }

    /// The image's tags for `commit`, in order; never empty.
    pub fn tags(&self, commit: Option<&str>) -> Vec<String> {
        let commit = commit.unwrap_or("dev");
        let tags: Vec<String> = self
            .image_tags
            .iter()
            .flatten()
            .map(|tag| tag.trim().replace("{commit}", commit))
            .filter(|tag| !tag.is_empty())
            .collect();
        if tags.is_empty() {
            vec![commit.to_owned(), "latest".to_owned()]
        } else {
            tags
        }
    }

    /// The repository to use: the setting, else the folder's name made into a valid one.
    pub fn repository(&self, root: &Path) -> String {
        if let Some(repository) = self
            .image_repository
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            return repository.to_owned();
        }
        let name = root
            .file_name()
            .map(|name| name.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let cleaned: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let cleaned = cleaned.trim_matches('-').to_owned();
        if cleaned.is_empty() {
            "app".to_owned()
        } else {
            cleaned
        }
    }
}

/// An image name without its tag or digest (`docker.io/acme/web:latest` → `docker.io/acme/web`).
pub fn strip_tag(image: &str) -> String {
    let without_digest = image.split('@').next().unwrap_or(image);
    match without_digest.rsplit_once(':') {
        // A colon after the last slash is a tag; before it, a registry's port.
        Some((name, tag)) if !tag.contains('/') => name.to_owned(),
        _ => without_digest.to_owned(),
    }
}

/// A stable id for a project folder, used to name its files in the data folder.
pub fn project_id(root: &Path) -> String {
    let digest = Sha256::digest(root.display().to_string().as_bytes());
    digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect()
}

/// The name of the project's container on this machine: the folder's name (so `docker ps`
/// and the window say whose it is) and the start of its id (two folders of one name differ).
pub fn container_name(root: &Path) -> String {
    let folder = root
        .file_name()
        .map(|name| name.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let slug: String = folder
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug.trim_matches(|c| c == '-' || c == '_');
    let id: String = project_id(root).chars().take(6).collect();
    if slug.is_empty() {
        format!("slipway-{id}")
    } else {
        format!("slipway-{}-{id}", slug.chars().take(40).collect::<String>())
    }
}

/// The port the project's app gets on this machine when nothing else holds it: one per
/// project, from its id, so a bookmark of the Local address keeps working.
pub fn preferred_local_port(root: &Path) -> u16 {
    let id = project_id(root);
    let number = u64::from_str_radix(&id[..8.min(id.len())], 16).unwrap_or(0);
    // 8100–8899: above the usual development ports, below the ephemeral range.
    8100 + (number % 800) as u16
}

fn settings_file(data_dir: &Path, root: &Path) -> PathBuf {
    data_dir.join("projects").join(format!("{}.json", project_id(root)))
}

/// The saved settings, `None` when the person saved none; `Err` when the file is there but
/// cannot be read (it is left as it is: never replaced unread).
pub fn load_settings(data_dir: &Path, root: &Path) -> Result<Option<ProjectSettings>, ProjectError> {
    let file = settings_file(data_dir, root);
    let bytes = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(ProjectError::SettingsDamaged {
                path: file,
                reason: error.to_string(),
            })
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|error| ProjectError::SettingsDamaged {
            path: file,
            reason: error.to_string(),
        })
}

/// The settings to use: the saved ones, else what detection proposes; `true` when saved.
pub fn settings_or_detected(
    data_dir: &Path,
    root: &Path,
    detection: &Detection,
) -> Result<(ProjectSettings, bool), ProjectError> {
    Ok(match load_settings(data_dir, root)? {
        Some(saved) => (saved, true),
        None => (ProjectSettings::from_detection(detection), false),
    })
}

/// The other projects whose saved environments deploy to the Render service `service`: the
/// project's id and the environment's name. Unreadable files are passed over (they are
/// reported where their project is opened).
pub fn projects_using_service(data_dir: &Path, service: &str, except: &Path) -> Vec<(String, String)> {
    let own = format!("{}.json", project_id(except));
    let Ok(entries) = std::fs::read_dir(data_dir.join("projects")) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = file_name.strip_suffix(".json") else {
            continue;
        };
        if file_name == own {
            continue;
        }
        let Some(saved) = std::fs::read(entry.path())
            .ok()
            .and_then(|bytes| serde_json::from_slice::<ProjectSettings>(&bytes).ok())
        else {
            continue;
        };
        found.extend(
            saved
                .environments
                .list
                .iter()
                .filter(|environment| environment.service_id() == Some(service))
                .map(|environment| (id.to_owned(), environment.name.clone())),
        );
    }
    found.sort();
    found
}

/// Saves the settings. A saved file that cannot be read is first kept beside, as
/// `<file>.damaged-<time>`, so nothing unread is overwritten.
pub fn save_settings(data_dir: &Path, root: &Path, settings: &ProjectSettings) -> Result<(), ProjectError> {
    let file = settings_file(data_dir, root);
    if matches!(load_settings(data_dir, root), Err(ProjectError::SettingsDamaged { .. })) {
        let kept = file.with_extension(format!("json.damaged-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ")));
        std::fs::rename(&file, &kept).map_err(|error| ProjectError::NotSaved {
            path: file.clone(),
            reason: format!("the damaged file could not be kept aside: {error}"),
        })?;
        tracing::warn!(kept = %kept.display(), "a damaged project settings file was kept aside");
    }
    write_json_atomically(&file, settings).map_err(|error| ProjectError::NotSaved {
        path: file.clone(),
        reason: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_file_is_reported_and_kept_never_replaced_unread() -> Result<(), Box<dyn std::error::Error>> {
        let data = tempfile::tempdir()?;
        let project = tempfile::tempdir()?;
        let file = settings_file(data.path(), project.path());
        std::fs::create_dir_all(file.parent().ok_or("a folder")?)?;
        std::fs::write(&file, "{\"testCommand\": \"pytest -x\", oops")?;
        assert!(matches!(
            load_settings(data.path(), project.path()),
            Err(ProjectError::SettingsDamaged { .. })
        ));
        let detection = super::super::detect::detect(project.path());
        assert!(settings_or_detected(data.path(), project.path(), &detection).is_err());
        save_settings(
            data.path(),
            project.path(),
            &ProjectSettings::from_detection(&detection),
        )?;
        let kept: Vec<String> = std::fs::read_dir(file.parent().ok_or("a folder")?)?
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(".damaged-"))
            .collect();
        assert_eq!(kept.len(), 1, "the unread file is kept beside");
        assert!(load_settings(data.path(), project.path())?.is_some());
        Ok(())
    }

    #[test]
    fn saved_settings_come_back_and_stay_outside_the_project() -> Result<(), Box<dyn std::error::Error>> {
        let data = tempfile::tempdir()?;
        let project = tempfile::tempdir()?;
        let mut settings = ProjectSettings::from_detection(&super::super::detect::detect(project.path()));
        settings.test_command = "pytest -x".into();
        settings.env.insert("DEBUG".into(), "1".into());
        save_settings(data.path(), project.path(), &settings)?;
        assert_eq!(load_settings(data.path(), project.path())?, Some(settings));
        assert_eq!(
            std::fs::read_dir(project.path())?.count(),
            0,
            "nothing written into the project"
        );
        Ok(())
    }
}
