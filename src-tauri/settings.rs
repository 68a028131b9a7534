//! App-wide settings that are not secrets, in `settings.json` in the data folder.
//!
//! A missing file is the defaults; a broken file is reported and the defaults are used, so
//! a bad edit never keeps the app from starting.

use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::paths::AppPaths;

const FILE_NAME: &str = "settings.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// Where the app reports its own errors. `SENTRY_DSN` in the environment wins.
    pub sentry_dsn: Option<String>,
    /// Base URLs of the web APIs, for self-hosted services and for tests.
    pub render_api_url: Option<String>,
    pub circleci_api_url: Option<String>,
    pub docker_hub_api_url: Option<String>,
    /// A registry on this machine for the Local target (`127.0.0.1:5000`);
    /// `SLIPWAY_LOCAL_REGISTRY` in the environment wins. With none, the push is skipped.
    pub local_registry: Option<String>,
    /// Stop the other checks and the build at the first failing check. Off by default, so
    /// one release shows every failure at once. (`finishAllGates` of older files is ignored:
    /// finishing them all is now what nothing set means.)
    pub stop_at_first_failure: bool,
    /// The program that opens a file at a line, with `{file}` and `{line}` in its arguments
    /// (`code --goto {file}:{line}`); `None`: the system's opener for the file.
    pub editor_command: Option<String>,
    /// How long Sentry is watched after a release goes live; `None` is 15 minutes.
    pub watch_minutes: Option<u32>,
    /// Seconds between two asks of Sentry while watching; `None` is 30.
    pub watch_interval_secs: Option<u64>,
    /// The team's history: a `postgres://` URL without its password (which is in the
    /// keyring); `None` is this computer's own history. `SLIPWAY_HISTORY_URL` wins.
    pub history_url: Option<String>,
    /// Where Slipway looks for a new version of itself (a `latest.json`); `None` or empty:
    /// never, which is what a build from a clone has.
    pub update_url: Option<String>,
}

/// The error a release, rollback or promotion ends in when `settings.json` cannot be trusted.
pub fn problem_error(problem: &str) -> crate::error::AppError {
    crate::error::AppError::new(
        crate::error::ErrorKind::Validation,
        "Slipway's settings file cannot be used, so nothing is released on guessed settings.",
        "Correct settings.json in Slipway's data folder (or remove it to use the defaults), then start Slipway again.",
    )
    .with_detail(problem)
}

/// Why `url` may not carry a key: only `https`, or `http` to this machine, is allowed.
pub fn unsafe_base_url(url: &str) -> Option<String> {
    let parsed = match reqwest::Url::parse(url.trim()) {
        Ok(parsed) => parsed,
        Err(error) => return Some(format!("\"{url}\" is not a URL ({error})")),
    };
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]" | "::1"));
    match parsed.scheme() {
        "https" => None,
        "http" if loopback => None,
        scheme => Some(format!(
            "\"{url}\" uses {scheme}: a key is only sent over https (or http to this machine)"
        )),
    }
}

impl Settings {
    /// The first service address that may not carry a key, with why.
    fn unsafe_url(&self) -> Option<String> {
        [&self.render_api_url, &self.circleci_api_url, &self.docker_hub_api_url]
            .into_iter()
            .flatten()
            .find_map(|url| unsafe_base_url(url))
    }

    pub fn watch_minutes(&self) -> u32 {
        self.watch_minutes.unwrap_or(15).clamp(1, 24 * 60)
    }

    pub fn watch_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.watch_interval_secs.unwrap_or(30).max(1))
    }

    pub fn render_api(&self) -> String {
        self.render_api_url
            .clone()
            .unwrap_or_else(|| crate::render::DEFAULT_BASE_URL.to_owned())
    }

    pub fn circleci_api(&self) -> String {
        self.circleci_api_url
            .clone()
            .unwrap_or_else(|| crate::circleci::DEFAULT_BASE_URL.to_owned())
    }

    pub fn local_registry(&self) -> Option<String> {
        std::env::var("SLIPWAY_LOCAL_REGISTRY")
            .ok()
            .or_else(|| self.local_registry.clone())
            .map(|registry| registry.trim().trim_end_matches('/').to_owned())
            .filter(|registry| !registry.is_empty())
    }

    /// The team history's URL: `SLIPWAY_HISTORY_URL`, else the setting; `None` for this
    /// computer's own history.
    pub fn history_url(&self) -> Option<String> {
        std::env::var("SLIPWAY_HISTORY_URL")
            .ok()
            .or_else(|| self.history_url.clone())
            .map(|url| url.trim().to_owned())
            .filter(|url| !url.is_empty())
    }

    /// Where to look for a new Slipway: `None` when not set, else the address, or why it
    /// cannot be used (only https, or http to this machine, as for every service).
    pub fn update_url(&self) -> Option<Result<String, String>> {
        let url = self
            .update_url
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty())?;
        Some(match unsafe_base_url(url) {
            None => Ok(url.to_owned()),
            Some(why) => Err(why),
        })
    }

    pub fn docker_hub_api(&self) -> String {
        self.docker_hub_api_url
            .clone()
            .unwrap_or_else(|| "https://hub.docker.com".to_owned())
    }
}

/// What Settings → This computer shows and changes: the settings a person of the window
/// needs, without a text editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ComputerSettings {
    /// The registry the Local environment pushes to (`127.0.0.1:5000`); `None`: no push.
    pub local_registry: Option<String>,
    /// The registry in force when one was given as Slipway started: it wins over the field.
    #[serde(default)]
    pub local_registry_in_force: Option<String>,
    /// Stop the other checks at the first failing one (off: every check finishes).
    pub stop_at_first_failure: bool,
    /// The editor *Open in editor* starts, with `{file}` and `{line}`; `None`: the system's.
    pub editor_command: Option<String>,
    /// How long Sentry is watched after a release goes live.
    pub watch_minutes: u32,
}

impl Settings {
    pub fn computer(&self) -> ComputerSettings {
        ComputerSettings {
            local_registry: self.local_registry.clone(),
            local_registry_in_force: std::env::var("SLIPWAY_LOCAL_REGISTRY")
                .ok()
                .filter(|value| !value.trim().is_empty()),
            stop_at_first_failure: self.stop_at_first_failure,
            editor_command: self.editor_command.clone(),
            watch_minutes: self.watch_minutes(),
        }
    }

    /// Saves what Settings → This computer changed into `settings.json`, keeping every other
    /// field of the file as it is; returns the settings now in force.
    pub fn save_computer(paths: &AppPaths, changed: &ComputerSettings) -> Result<Self, crate::error::AppError> {
        Self::edit(paths, |raw| {
            let registry = changed
                .local_registry
                .as_deref()
                .map(|registry| registry.trim().trim_end_matches('/'))
                .filter(|registry| !registry.is_empty());
            if let Some(registry) = registry {
                if registry.contains("://") || registry.contains(char::is_whitespace) {
                    return Err(crate::error::AppError::new(
                        crate::error::ErrorKind::Validation,
                        format!("\"{registry}\" is not a registry address."),
                        "Give its host and port, as in 127.0.0.1:5000.",
                    ));
                }
            }
            raw.insert("localRegistry".to_owned(), serde_json::json!(registry));
            let editor = changed
                .editor_command
                .as_deref()
                .map(str::trim)
                .filter(|command| !command.is_empty());
            if let Some(editor) = editor {
                crate::editor::parse_command(editor).map_err(|why| {
                    crate::error::AppError::new(
                        crate::error::ErrorKind::Validation,
                        format!("\"{editor}\" is not a command Slipway can start."),
                        "Give the program and its arguments, as in: code --goto {file}:{line}",
                    )
                    .with_detail(why)
                })?;
            }
            raw.remove("finishAllGates");
            raw.insert(
                "stopAtFirstFailure".to_owned(),
                serde_json::json!(changed.stop_at_first_failure),
            );
            raw.insert("editorCommand".to_owned(), serde_json::json!(editor));
            raw.insert(
                "watchMinutes".to_owned(),
                serde_json::json!(changed.watch_minutes.clamp(1, 24 * 60)),
            );
            Ok(())
        })
    }

    /// Saves the team history's URL (`None`: this computer's own history); the URL must carry
    /// no password, which goes to the keyring.
    pub fn save_history_url(paths: &AppPaths, url: Option<&str>) -> Result<Self, crate::error::AppError> {
        Self::edit(paths, |raw| {
            raw.insert("historyUrl".to_owned(), serde_json::json!(url));
            Ok(())
        })
    }

    /// Changes fields of `settings.json`, keeping every other field of the file as it is;
    /// returns the settings now in force.
    fn edit(
        paths: &AppPaths,
        change: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>) -> Result<(), crate::error::AppError>,
    ) -> Result<Self, crate::error::AppError> {
        let file = paths.data_dir.join(FILE_NAME);
        let problem = |why: String| {
            crate::error::AppError::new(
                crate::error::ErrorKind::Io,
                "Slipway could not save its settings.",
                "Check that the data folder is writable and the disk is not full, then save again.",
            )
            .with_detail(why)
        };
        let mut raw: serde_json::Map<String, serde_json::Value> = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| {
                crate::error::AppError::new(
                    crate::error::ErrorKind::Validation,
                    "Slipway's settings file cannot be read, so it is not overwritten.",
                    "Remove the settings file from Slipway's data folder to start from the defaults.",
                )
                .with_detail(format!("{}: {error}", file.display()))
            })?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => serde_json::Map::new(),
            Err(error) => return Err(problem(error.to_string())),
        };
        change(&mut raw)?;
        crate::paths::write_json_atomically(&file, &raw).map_err(|error| problem(error.to_string()))?;
        let (settings, _) = Self::load_from(&file);
        Ok(settings)
    }

    /// Reads the settings; a problem is returned beside the defaults so the caller can log it
    /// once logging is up.
    pub fn load(paths: &AppPaths) -> (Self, Option<String>) {
        Self::load_from(&paths.data_dir.join(FILE_NAME))
    }

    fn load_from(file: &Path) -> (Self, Option<String>) {
        match std::fs::read(file) {
            Ok(bytes) => match serde_json::from_slice::<Self>(&bytes) {
                Ok(settings) => {
                    let problem = settings.unsafe_url().map(|why| format!("{}: {why}", file.display()));
                    (settings, problem)
                }
                Err(error) => (
                    Self::default(),
                    Some(format!(
                        "{} is not valid settings JSON ({error}); using defaults",
                        file.display()
                    )),
                ),
            },
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => (Self::default(), None),
            Err(error) => (
                Self::default(),
                Some(format!("could not read {}: {error}; using defaults", file.display())),
            ),
        }
    }

    /// The DSN to report to, if any: the environment first, then the settings file.
    pub fn effective_sentry_dsn(&self) -> Option<String> {
        std::env::var("SENTRY_DSN")
            .ok()
            .or_else(|| self.sentry_dsn.clone())
            .filter(|dsn| !dsn.trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults_silently() {
        let (settings, problem) = Settings::load_from(Path::new("/nonexistent/slipway/settings.json"));
        assert_eq!(settings, Settings::default());
        assert!(problem.is_none());
    }

    #[test]
    fn broken_file_gives_defaults_and_says_why() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join(FILE_NAME);
        std::fs::write(&file, "{ not json")?;
        let (settings, problem) = Settings::load_from(&file);
        assert_eq!(settings, Settings::default());
        assert!(problem.is_some_and(|text| text.contains("not valid settings JSON")));
        Ok(())
    }

    #[test]
    fn a_service_address_must_be_https_or_this_machine() -> std::io::Result<()> {
        assert!(unsafe_base_url("https://api.render.example/v1").is_none());
        assert!(unsafe_base_url("http://127.0.0.1:8080/v1").is_none());
        assert!(unsafe_base_url("http://localhost:8080/v1").is_none());
        assert!(unsafe_base_url("http://api.render.example/v1").is_some_and(|why| why.contains("https")));
        assert!(unsafe_base_url("api.render.example").is_some());
        let dir = tempfile::tempdir()?;
        let file = dir.path().join(FILE_NAME);
        std::fs::write(&file, r#"{"renderApiUrl":"http://api.render.example/v1"}"#)?;
        let (settings, problem) = Settings::load_from(&file);
        assert!(problem.is_some_and(|text| text.contains("only sent over https")));
        assert_eq!(
            settings.render_api_url.as_deref(),
            Some("http://api.render.example/v1"),
            "what the file says is kept, never replaced by a default"
        );
        Ok(())
    }

    #[test]
    fn this_computers_settings_are_saved_beside_the_others() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let paths = AppPaths::under(dir.path());
        std::fs::create_dir_all(&paths.data_dir)?;
        std::fs::write(
            paths.data_dir.join(FILE_NAME),
            r#"{"sentryDsn":"https://k@sentry.example.test/1"}"#,
        )?;
        let saved = Settings::save_computer(
            &paths,
            &ComputerSettings {
                local_registry: Some(" 127.0.0.1:5000/ ".into()),
                local_registry_in_force: None,
                stop_at_first_failure: true,
                editor_command: Some(" code --goto {file}:{line} ".into()),
                watch_minutes: 30,
            },
        )?;
        assert_eq!(saved.local_registry.as_deref(), Some("127.0.0.1:5000"));
        assert!(saved.stop_at_first_failure);
        assert_eq!(saved.editor_command.as_deref(), Some("code --goto {file}:{line}"));
        assert_eq!(saved.watch_minutes(), 30);
        assert_eq!(
            saved.sentry_dsn.as_deref(),
            Some("https://k@sentry.example.test/1"),
            "the rest is kept"
        );
        let refused = Settings::save_computer(
            &paths,
            &ComputerSettings {
                local_registry: Some("http://127.0.0.1:5000".into()),
                local_registry_in_force: None,
                stop_at_first_failure: false,
                editor_command: None,
                watch_minutes: 15,
            },
        );
        assert!(refused.is_err(), "a URL is not a registry address");
        let unstartable = Settings::save_computer(
            &paths,
            &ComputerSettings {
                local_registry: None,
                local_registry_in_force: None,
                stop_at_first_failure: false,
                editor_command: Some("code \"unclosed".into()),
                watch_minutes: 15,
            },
        );
        assert!(unstartable.is_err(), "a command with an open quote cannot be started");
        Ok(())
    }

    #[test]
    fn every_check_finishes_unless_asked_even_for_an_older_file() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join(FILE_NAME);
        std::fs::write(&file, r#"{"finishAllGates":false}"#)?;
        let (settings, problem) = Settings::load_from(&file);
        assert!(problem.is_none());
        assert!(!settings.stop_at_first_failure, "the old default is not carried over");
        std::fs::write(&file, r#"{"stopAtFirstFailure":true}"#)?;
        assert!(Settings::load_from(&file).0.stop_at_first_failure);
        Ok(())
    }

    #[test]
    fn reads_the_dsn() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join(FILE_NAME);
        std::fs::write(&file, r#"{"sentryDsn":"https://k@sentry.example.test/1"}"#)?;
        let (settings, problem) = Settings::load_from(&file);
        assert!(problem.is_none());
        assert_eq!(settings.sentry_dsn.as_deref(), Some("https://k@sentry.example.test/1"));
        Ok(())
    }
}
