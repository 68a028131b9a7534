//! Logins other tools already made on this computer, offered in place of a token form:
//! Docker's (`config.json` and its credential helpers, what Docker Desktop and `docker login`
//! keep) and sentry-cli's (`~/.sentryclirc`, or `SENTRY_AUTH_TOKEN`).
//!
//! The window sees who and from where, never a secret. Using one reads it again here, checks it
//! exactly as a typed token is checked (a Docker login must push, a Sentry token must have
//! every scope), and only then keeps it in the keyring.

use std::path::{Path, PathBuf};

use serde::Serialize;
use ts_rs::TS;

use crate::accounts::{self, blocking};
use crate::error::{AppError, ErrorKind};
use crate::secrets::{docker_login, list_docker_logins, Account, ImportProblem, SecretStore, Service, NO_LOGIN};

/// One login found, as the window offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KnownLogin {
    pub service: Service,
    /// A registry's host (`docker.io` for Docker Hub), or Sentry's address.
    pub server: String,
    pub username: Option<String>,
    /// sentry-cli's default organization and project, when its file names them.
    pub organization: Option<String>,
    pub project: Option<String>,
    /// Where it was found, in a person's words: "Docker (docker-credential-desktop)", "sentry-cli".
    pub source: String,
}

/// Every login found, and those that could not be read (with why).
#[derive(Debug, Clone, Default, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KnownLogins {
    pub logins: Vec<KnownLogin>,
    pub problems: Vec<ImportProblem>,
}

/// Where the other tools keep their logins: the Docker config folder and sentry-cli's file.
#[derive(Debug, Clone)]
pub struct Places {
    pub docker_config: PathBuf,
    pub sentryclirc: Option<PathBuf>,
    /// `SENTRY_AUTH_TOKEN` and `SENTRY_URL`, which sentry-cli prefers to its file.
    pub sentry_token_env: Option<String>,
    pub sentry_url_env: Option<String>,
}

impl Places {
    /// This computer's: `DOCKER_CONFIG` or `~/.docker`, and `~/.sentryclirc`.
    pub fn of_this_computer() -> Self {
        let home = dirs::home_dir();
        Self {
            docker_config: std::env::var_os("DOCKER_CONFIG")
                .filter(|dir| !dir.is_empty())
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|home| home.join(".docker")))
                .unwrap_or_default(),
            sentryclirc: home.map(|home| home.join(".sentryclirc")),
            sentry_token_env: std::env::var("SENTRY_AUTH_TOKEN")
                .ok()
                .filter(|token| !token.is_empty()),
            sentry_url_env: std::env::var("SENTRY_URL").ok().filter(|url| !url.is_empty()),
        }
    }
}

/// What Docker's source is called in the window.
fn docker_source(source: &str) -> String {
    format!("Docker ({source})")
}

/// sentry-cli's login: its token, address and defaults.
struct SentryCli {
    token: String,
    url: Option<String>,
    organization: Option<String>,
    project: Option<String>,
}

/// Reads sentry-cli's INI file (`[auth] token`, `[defaults] url, org, project`); the
/// environment's token goes before the file's, as sentry-cli itself does.
fn sentry_cli(places: &Places) -> Option<SentryCli> {
    let text = places
        .sentryclirc
        .as_deref()
        .and_then(|file| std::fs::read_to_string(file).ok())
        .unwrap_or_default();
    let mut section = String::new();
    let (mut token, mut url, mut organization, mut project) = (None, None, None, None);
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            section = name.trim().to_ascii_lowercase();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = Some(value.trim().to_owned()).filter(|value| !value.is_empty());
        match (section.as_str(), key.trim()) {
            ("auth", "token") => token = value,
            ("defaults", "url") => url = value,
            ("defaults", "org") => organization = value,
            ("defaults", "project") => project = value,
            _ => {}
        }
    }
    let token = places.sentry_token_env.clone().or(token)?;
    // The token goes where sentry-cli would send it: a self-hosted Sentry's, never sentry.io's.
    let url = places.sentry_url_env.clone().or(url);
    crate::redact::register_secret(&token, None);
    Some(SentryCli {
        token,
        url,
        organization,
        project,
    })
}

/// The logins found, without their secrets. Credential helpers run, so this is slow work.
pub async fn find(places: Places) -> Result<KnownLogins, AppError> {
    blocking(move || {
        // Helpers are asked to list (names only, no prompt), never for a secret.
        let (docker, problems) = list_docker_logins(&places.docker_config);
        let mut logins: Vec<KnownLogin> = docker
            .into_iter()
            .map(|login| KnownLogin {
                service: Service::Registry,
                server: login.server,
                username: login.username,
                organization: None,
                project: None,
                source: docker_source(&login.source),
            })
            .collect();
        // Docker Hub first: it is the one the guide asks for.
        logins.sort_by_key(|login| login.server != "docker.io");
        if let Some(cli) = sentry_cli(&places) {
            logins.push(KnownLogin {
                service: Service::Sentry,
                server: accounts::sentry_api_base(cli.url.as_deref().unwrap_or_default()),
                username: None,
                organization: cli.organization,
                project: cli.project,
                source: "sentry-cli".to_owned(),
            });
        }
        Ok(KnownLogins { logins, problems })
    })
    .await
}

fn gone(what: &str) -> AppError {
    AppError::new(
        ErrorKind::NotFound,
        format!("{what} is no longer there."),
        "Log in with that tool again, or enter a token here.",
    )
}

/// Checks and keeps the Docker login for `server`, read again from Docker's config.
pub async fn use_docker(store: SecretStore, places: Places, server: String) -> Result<Account, AppError> {
    let folder = places.docker_config.clone();
    let wanted = server.clone();
    // Only this server's helper is asked for its secret (it may prompt the person).
    let login = blocking(move || Ok(docker_login(&folder, &wanted)))
        .await?
        .map_err(|problem| match problem.message.as_str() {
            NO_LOGIN => gone(&format!("Docker's login to {server}")),
            _ => AppError::new(
                ErrorKind::Precondition,
                format!("Docker's login to {server} could not be read."),
                "Log in with Docker again, or enter a token here.",
            )
            .with_detail(problem.message),
        })?;
    accounts::connect_registry_from(
        store,
        &login.server,
        &login.username,
        login.secret.expose().to_owned(),
        None,
        &docker_source(&login.source),
    )
    .await
}

/// Checks and keeps sentry-cli's token for `organization`/`project` (its file's defaults when
/// they are empty).
pub async fn use_sentry_cli(
    store: SecretStore,
    places: Places,
    organization: String,
    project: String,
) -> Result<Account, AppError> {
    let cli = blocking(move || Ok(sentry_cli(&places)))
        .await?
        .ok_or_else(|| gone("sentry-cli's login"))?;
    let given = |name: String| Some(name).filter(|name| !name.trim().is_empty());
    let organization = given(organization).or(cli.organization);
    let project = given(project).or(cli.project);
    let (Some(organization), Some(project)) = (organization, project) else {
        return Err(AppError::new(
            ErrorKind::Validation,
            "Which Sentry organization and project?",
            "Enter the organization and the project, then use sentry-cli's login again.",
        ));
    };
    accounts::connect_sentry_from(
        store,
        cli.url.as_deref().unwrap_or_default(),
        cli.token,
        organization.trim(),
        project.trim(),
        "sentry-cli",
    )
    .await
}

/// The Docker config folder, for the CLI's `accounts import-docker`.
pub fn docker_config_dir(given: Option<&Path>) -> PathBuf {
    given.map_or_else(|| Places::of_this_computer().docker_config, Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    fn places(dir: &Path, rc: &str, env: Option<&str>) -> std::io::Result<Places> {
        let docker = dir.join("docker");
        std::fs::create_dir_all(&docker)?;
        let auth = base64::engine::general_purpose::STANDARD;
        std::fs::write(
            docker.join("config.json"),
            format!(
                r#"{{"auths":{{"ghcr.io":{{"auth":"{}"}},"https://index.docker.io/v1/":{{"auth":"{}"}}}}}}"#,
                auth.encode("ann-gh:ghp_known_login_1"),
                auth.encode("alex:dckr_pat_known_login_2")
            ),
        )?;
        let file = dir.join("sentryclirc");
        std::fs::write(&file, rc)?;
        Ok(Places {
            docker_config: docker,
            sentryclirc: Some(file),
            sentry_token_env: env.map(str::to_owned),
            sentry_url_env: None,
        })
    }

    #[tokio::test]
    async fn the_window_is_offered_who_and_from_where_never_a_secret() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let rc = "# sentry-cli\n[auth]\ntoken = sntrys_known_login_3\n\n[defaults]\nurl=https://sentry.example.com/\norg=acme\n";
        let found = find(places(dir.path(), rc, None)?).await?;
        let servers: Vec<_> = found.logins.iter().map(|login| login.server.as_str()).collect();
        assert_eq!(servers, ["docker.io", "ghcr.io", "https://sentry.example.com/api/0"]);
        assert_eq!(found.logins[0].username.as_deref(), Some("alex"));
        assert_eq!(found.logins[0].source, "Docker (config.json)");
        let sentry = &found.logins[2];
        assert_eq!(
            (sentry.organization.as_deref(), sentry.project.as_deref()),
            (Some("acme"), None)
        );
        let json = serde_json::to_string(&found)?;
        for secret in ["ghp_known_login_1", "dckr_pat_known_login_2", "sntrys_known_login_3"] {
            assert!(!json.contains(secret), "{secret} reached the window's answer: {json}");
        }
        Ok(())
    }

    #[test]
    fn sentry_clis_environment_token_goes_before_its_file() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let mut from_env = places(
            dir.path(),
            "[auth]\ntoken=sntrys_file_token\n[defaults]\nurl=https://sentry.file.example.test/\n",
            Some("sntrys_env_token"),
        )?;
        from_env.sentry_url_env = Some("https://sentry.env.example.test/".to_owned());
        let cli = sentry_cli(&from_env).ok_or(std::io::Error::other("no sentry-cli login"))?;
        assert_eq!(cli.token, "sntrys_env_token");
        // Offered for the address sentry-cli would send it to, a self-hosted one here.
        assert_eq!(cli.url.as_deref(), Some("https://sentry.env.example.test/"));
        let nothing = places(dir.path(), "[defaults]\norg=acme\n", None)?;
        assert!(sentry_cli(&nothing).is_none(), "no token, no offer");
        Ok(())
    }

    #[tokio::test]
    async fn a_login_gone_since_it_was_offered_says_so() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let places = places(dir.path(), "", None)?;
        let store = SecretStore::os(dir.path());
        let Err(error) = use_docker(store.clone(), places.clone(), "quay.io".to_owned()).await else {
            return Err("a login that is not there was used".into());
        };
        assert_eq!(error.message, "Docker's login to quay.io is no longer there.");
        let Err(error) = use_sentry_cli(store, places, "acme".into(), "web".into()).await else {
            return Err("a sentry-cli login that is not there was used".into());
        };
        assert_eq!(error.message, "sentry-cli's login is no longer there.");
        Ok(())
    }
}
