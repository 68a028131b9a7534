//! Connecting accounts: each secret is checked against its service first, and only a secret
//! that works is kept (in the OS keyring, through the secrets room). The same checks run
//! again for "check all", before each release.
//!
//! Keyring calls block (D-Bus, Keychain), so they run on the blocking pool.

use serde::Serialize;
use ts_rs::TS;

use crate::docker::{self, EngineEndpoint, Registry, RegistryCredentials};
use crate::error::{AppError, ErrorKind};
use crate::project::SentryLink;
use crate::render::{RenderClient, RenderService};
use crate::secrets::{Account, Secret, SecretStore, Service};
use crate::settings::Settings;
use crate::{circleci, registry, sentry_api};

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        AppError::new(
            ErrorKind::Unknown,
            format!("the keyring call stopped: {error}"),
            "Try again.",
        )
    })?
}

async fn save(store: SecretStore, account: Account, secret: String) -> Result<Account, AppError> {
    blocking(move || {
        store.save(&account, &secret)?;
        Ok(account)
    })
    .await
}

pub(crate) async fn read_secret(store: SecretStore, service: Service, account: String) -> Result<Secret, AppError> {
    blocking(move || Ok(store.secret(service, &account)?)).await
}

/// Every connected account, without secrets.
pub async fn list(store: SecretStore) -> Result<Vec<Account>, AppError> {
    blocking(move || Ok(store.accounts()?)).await
}

pub async fn remove(store: SecretStore, service: Service, account: String) -> Result<(), AppError> {
    blocking(move || Ok(store.delete(service, &account)?)).await
}

/// The kept login for a registry (`docker.io` or a host[:port]), for the one call that needs
/// it; an empty login (an open registry) when none is connected or the keyring cannot give it.
pub fn registry_credentials(store: &SecretStore, server: &str) -> RegistryCredentials {
    let username = store
        .account(Service::Registry, server)
        .and_then(|account| account.username)
        .unwrap_or_default();
    let secret = if username.is_empty() {
        String::new()
    } else {
        match store.secret(Service::Registry, server) {
            Ok(secret) => secret.expose().to_owned(),
            Err(error) => {
                tracing::warn!("the login for {server} could not be read: {error}");
                String::new()
            }
        }
    };
    RegistryCredentials {
        username,
        secret,
        server: Registry::named(server).login_server(),
    }
}

/// [`registry_credentials`] read off the async runtime (the keyring answers over D-Bus and
/// may block); an empty login when the read itself fails, so the push says the registry
/// refused it.
pub async fn registry_login(store: SecretStore, registry: Registry) -> RegistryCredentials {
    let server = registry.host().to_owned();
    match tokio::task::spawn_blocking(move || registry_credentials(&store, &server)).await {
        Ok(credentials) => credentials,
        Err(error) => {
            tracing::warn!(%error, "the registry login could not be read");
            RegistryCredentials {
                username: String::new(),
                secret: String::new(),
                server: registry.login_server(),
            }
        }
    }
}

/// A project's Sentry project: a client with the linked account's token, the organization
/// and the project.
pub struct SentryConnection {
    pub client: sentry_api::SentryClient,
    pub organization: String,
    pub project: String,
}

/// The Sentry project `link` names, through the account it names, read off the async
/// runtime. Only the link decides: a project that is not linked reaches no Sentry project.
pub async fn linked_sentry(store: SecretStore, link: &SentryLink) -> Result<SentryConnection, AppError> {
    let name = link.account.clone();
    let found = blocking(move || {
        let Some(account) = store.account(Service::Sentry, &name) else {
            return Ok(None);
        };
        let secret = store.secret(Service::Sentry, &account.account)?;
        Ok(Some((account, secret)))
    })
    .await?;
    let Some((account, secret)) = found else {
        return Err(AppError::new(
            ErrorKind::Precondition,
            format!(
                "The Sentry account {} that this project's Sentry project ({}) is reached through is not connected any more.",
                link.account,
                link.label()
            ),
            "Connect Sentry again in Settings → Accounts, or link the project to another Sentry project.",
        )
        .with_action(crate::error::ErrorAction::OpenAccounts));
    };
    let base = sentry_api_base(account.server.as_deref().unwrap_or_default());
    if let Some(why) = crate::settings::unsafe_base_url(&base) {
        return Err(AppError::new(
            ErrorKind::Validation,
            "The Sentry address connected cannot be used: the token would travel unprotected.",
            "Connect Sentry again with its https address.",
        )
        .with_action(crate::error::ErrorAction::OpenAccounts)
        .with_detail(why));
    }
    Ok(SentryConnection {
        client: sentry_api::SentryClient::new(&base, secret)?,
        organization: link.organization.clone(),
        project: link.project.clone(),
    })
}

/// The client of the connected CircleCI account, read off the async runtime; `None` when none
/// is connected. Its address is the one it was checked against, refused when the token would
/// travel unprotected.
pub async fn circleci_client(
    store: SecretStore,
    settings: &Settings,
) -> Result<Option<circleci::CircleClient>, AppError> {
    let found = blocking(move || {
        let Some(account) = store.account(Service::CircleCi, "default") else {
            return Ok(None);
        };
        let secret = store.secret(Service::CircleCi, &account.account)?;
        Ok(Some((account, secret)))
    })
    .await?;
    let Some((account, secret)) = found else {
        return Ok(None);
    };
    let base = account.server.unwrap_or_else(|| settings.circleci_api());
    if let Some(why) = crate::settings::unsafe_base_url(&base) {
        return Err(AppError::new(
            ErrorKind::Validation,
            "The CircleCI address connected cannot be used: the token would travel unprotected.",
            "Connect CircleCI again with its https address.",
        )
        .with_action(crate::error::ErrorAction::OpenAccounts)
        .with_detail(why));
    }
    Ok(Some(
        circleci::CircleClient::new(&base, secret).map_err(circleci::app_error)?,
    ))
}

/// The API base of a Sentry a person names by the address they know: Sentry's own when none
/// is given; `https://sentry.example.com` becomes `https://sentry.example.com/api/0`, and an
/// address that already names the API is kept.
pub fn sentry_api_base(address: &str) -> String {
    let address = address.trim().trim_end_matches('/');
    if address.is_empty() {
        return sentry_api::DEFAULT_BASE_URL.to_owned();
    }
    if address.contains("/api/") || address.ends_with("/api") {
        return address.to_owned();
    }
    format!("{address}/api/0")
}

/// The projects of a connected Sentry account's organization, with its kept token, for the
/// project settings' picker.
pub async fn sentry_account_projects(
    store: SecretStore,
    account: String,
) -> Result<Vec<sentry_api::SentryProject>, AppError> {
    let name = account.clone();
    let found = blocking(move || {
        let Some(account) = store.account(Service::Sentry, &name) else {
            return Ok(None);
        };
        let secret = store.secret(Service::Sentry, &account.account)?;
        Ok(Some((account, secret)))
    })
    .await?;
    let Some((found, secret)) = found else {
        return Err(AppError::new(
            ErrorKind::NotFound,
            format!("No Sentry account named {account} is connected."),
            "Connect Sentry in Settings → Accounts first.",
        )
        .with_action(crate::error::ErrorAction::OpenAccounts));
    };
    let base = sentry_base(found.server.as_deref().unwrap_or_default())?;
    let client = sentry_api::SentryClient::new(&base, secret)?;
    Ok(client
        .projects(found.sentry_organization.as_deref().unwrap_or_default())
        .await?)
}

/// The services the connected Render key sees, for the environment picker; the key is read
/// from the keyring and never leaves this call.
pub async fn render_services(store: SecretStore, settings: &Settings) -> Result<Vec<RenderService>, AppError> {
    let key = blocking(move || {
        if store.account(Service::Render, "default").is_none() {
            return Ok(None);
        }
        Ok(Some(store.secret(Service::Render, "default")?))
    })
    .await?;
    let Some(key) = key else {
        return Err(AppError::new(
            ErrorKind::Precondition,
            "Render is not connected with an API key.",
            "Connect Render in Settings → Accounts: its services are then offered here.",
        )
        .with_action(crate::error::ErrorAction::OpenAccounts));
    };
    Ok(RenderClient::new(&settings.render_api(), key)?.services().await?)
}

/// Checks a registry login (the engine's `/auth`, then that it may push to `repository`) and
/// keeps it.
pub async fn connect_registry(
    store: SecretStore,
    server: &str,
    username: &str,
    token: String,
    repository: Option<&str>,
) -> Result<Account, AppError> {
    connect_registry_from(store, server, username, token, repository, "wizard").await
}

/// `connect_registry` for a login found elsewhere: `source` says where (`config.json`,
/// `docker-credential-desktop`), as the accounts list shows it.
pub async fn connect_registry_from(
    store: SecretStore,
    server: &str,
    username: &str,
    token: String,
    repository: Option<&str>,
    source: &str,
) -> Result<Account, AppError> {
    let registry = Registry::named(server);
    let server = registry.host().to_owned();
    if username.trim().is_empty() || token.is_empty() {
        return Err(AppError::new(
            ErrorKind::Validation,
            "The username and the access token are both needed.",
            "Fill in both fields.",
        ));
    }
    let secret = Secret::new(token);
    let credentials = RegistryCredentials {
        username: username.trim().to_owned(),
        secret: secret.expose().to_owned(),
        server: registry.login_server(),
    };
    docker::engine_login(&EngineEndpoint::from_env(), &credentials).await?;
    let repository = repository
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{}/slipway-check", credentials.username));
    let registry_host = (!registry.is_docker_hub()).then_some(server.as_str());
    let repository_path = match registry_host {
        Some(host) => repository
            .strip_prefix(&format!("{host}/"))
            .unwrap_or(&repository)
            .to_owned(),
        None => repository.strip_prefix("docker.io/").unwrap_or(&repository).to_owned(),
    };
    if !registry::can_push(registry_host, &repository_path, &credentials.username, secret.expose()).await? {
        return Err(AppError::new(
            ErrorKind::RegistryDenied,
            format!("The token works, but it may not push to {repository_path}."),
            "Create an access token with Read & Write permission (Docker Hub: Account settings, Personal access tokens), then enter it here.",
        ));
    }
    let mut account = Account::new(Service::Registry, &server, source);
    account.username = Some(credentials.username.clone());
    account.server = Some(server.clone());
    account.verified_at = Some(now());
    account.scopes = vec!["pull".to_owned(), "push".to_owned()];
    save(store, account, secret.expose().to_owned()).await
}

/// The services a Render key sees, once it is checked and kept.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RenderConnection {
    pub account: Account,
    pub services: Vec<RenderService>,
}

pub async fn connect_render(
    store: SecretStore,
    settings: &Settings,
    api_key: String,
) -> Result<RenderConnection, AppError> {
    let client = RenderClient::new(&settings.render_api(), Secret::new(api_key.clone()))?;
    let owners = client.owners().await?;
    let services = client.services().await?;
    let mut account = Account::new(Service::Render, "default", "wizard");
    account.username = owners.first().map(|owner| owner.name.clone());
    account.server = Some(settings.render_api());
    account.verified_at = Some(now());
    let account = save(store, account, api_key).await?;
    Ok(RenderConnection { account, services })
}

/// A deploy hook URL, kept as the secret it is. It is not called: calling it deploys.
pub async fn connect_render_hook(store: SecretStore, url: String) -> Result<Account, AppError> {
    let parsed = url.trim();
    let valid = parsed.starts_with("https://") && parsed.contains("/deploy/srv-") && parsed.contains("key=");
    if !valid {
        return Err(AppError::new(
            ErrorKind::Validation,
            "That is not a Render deploy hook URL.",
            "Copy it from the service's Settings on Render: it looks like https://api.render.com/deploy/srv-…?key=….",
        ));
    }
    let service = parsed
        .split("/deploy/")
        .nth(1)
        .and_then(|rest| rest.split('?').next())
        .unwrap_or_default()
        .to_owned();
    let mut account = Account::new(Service::Render, "deploy-hook", "wizard");
    account.render_service = Some(service);
    save(store, account, parsed.to_owned()).await
}

/// The Sentry address to send a token to: Sentry's own when none is given, else the one
/// given when it is https (or http to this machine).
fn sentry_base(base_url: &str) -> Result<String, AppError> {
    let base = sentry_api_base(base_url);
    match crate::settings::unsafe_base_url(&base) {
        Some(why) => Err(AppError::new(
            ErrorKind::Validation,
            "That Sentry address cannot be used.",
            "Enter your Sentry's https address (for example https://sentry.example.com).",
        )
        .with_detail(why)),
        None => Ok(base),
    }
}

/// The organization's projects, for the wizard to offer; the token is used for this call
/// only and not kept.
pub async fn sentry_projects(
    base_url: &str,
    token: String,
    organization: &str,
) -> Result<Vec<sentry_api::SentryProject>, AppError> {
    let base = sentry_base(base_url)?;
    let client = sentry_api::SentryClient::new(&base, Secret::new(token))?;
    Ok(client.projects(organization.trim()).await?)
}

/// Checks a Sentry token's scopes (one call each) and keeps it only when none is missing.
pub async fn connect_sentry(
    store: SecretStore,
    base_url: &str,
    token: String,
    organization: &str,
    project: &str,
) -> Result<Account, AppError> {
    connect_sentry_from(store, base_url, token, organization, project, "wizard").await
}

/// `connect_sentry` for a token found elsewhere: `source` says where (`sentry-cli`).
pub async fn connect_sentry_from(
    store: SecretStore,
    base_url: &str,
    token: String,
    organization: &str,
    project: &str,
    source: &str,
) -> Result<Account, AppError> {
    let base = sentry_base(base_url)?;
    let client = sentry_api::SentryClient::new(&base, Secret::new(token.clone()))?;
    let report = client.check_scopes(organization, project).await?;
    if !report.missing.is_empty() {
        return Err(AppError::new(
            ErrorKind::RegistryDenied,
            format!("The Sentry token lacks the permission {}.", report.missing.join(", ")),
            format!(
                "Create a token with {} (Sentry: Settings, Auth Tokens), then enter it here.",
                sentry_api::SCOPES.join(", ")
            ),
        ));
    }
    let mut account = Account::new(Service::Sentry, &format!("{organization}/{project}"), source);
    account.server = Some(base.clone());
    account.sentry_organization = Some(organization.to_owned());
    account.sentry_project = Some(project.to_owned());
    account.verified_at = Some(now());
    account.scopes = report.present;
    save(store, account, token).await
}

pub async fn connect_circleci(
    store: SecretStore,
    settings: &Settings,
    token: String,
    project_slug: &str,
) -> Result<Account, AppError> {
    let user = circleci::me(&settings.circleci_api(), Secret::new(token.clone())).await?;
    let mut account = Account::new(Service::CircleCi, "default", "wizard");
    account.username = Some(user.login);
    account.circleci_project = Some(project_slug.to_owned());
    account.server = Some(settings.circleci_api());
    account.verified_at = Some(now());
    save(store, account, token).await
}

/// One account's result in "check all".
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AccountCheck {
    pub account: Account,
    pub ok: bool,
    pub problem: Option<AppError>,
}

/// Re-checks every account with its kept secret, recording when each last worked.
pub async fn check_all(store: SecretStore, settings: &Settings) -> Result<Vec<AccountCheck>, AppError> {
    let mut results = Vec::new();
    for mut account in list(store.clone()).await? {
        let outcome: Result<(), AppError> = async {
            let secret = read_secret(store.clone(), account.service, account.account.clone()).await?;
            match account.service {
                Service::Registry => {
                    let credentials = RegistryCredentials {
                        username: account.username.clone().unwrap_or_default(),
                        secret: secret.expose().to_owned(),
                        server: Registry::named(&account.account).login_server(),
                    };
                    docker::engine_login(&EngineEndpoint::from_env(), &credentials).await?;
                }
                Service::Render if account.account == "default" => {
                    RenderClient::new(&settings.render_api(), secret)?.owners().await?;
                }
                Service::Render => {}
                Service::Sentry => {
                    let base = sentry_api_base(account.server.as_deref().unwrap_or_default());
                    let report = sentry_api::SentryClient::new(&base, secret)?
                        .check_scopes(
                            account.sentry_organization.as_deref().unwrap_or_default(),
                            account.sentry_project.as_deref().unwrap_or_default(),
                        )
                        .await?;
                    if !report.missing.is_empty() {
                        return Err(AppError::new(
                            ErrorKind::RegistryDenied,
                            format!("The Sentry token lacks {}.", report.missing.join(", ")),
                            "Create a new token with the listed permissions.",
                        ));
                    }
                }
                Service::CircleCi => {
                    circleci::me(&settings.circleci_api(), secret).await?;
                }
            }
            Ok(())
        }
        .await;
        if outcome.is_ok() {
            account.verified_at = Some(now());
            let updated = account.clone();
            let store = store.clone();
            blocking(move || Ok(store.update(&updated)?)).await?;
        }
        results.push(AccountCheck {
            ok: outcome.is_ok(),
            problem: outcome.err(),
            account,
        });
    }
    Ok(results)
}
