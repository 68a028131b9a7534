//! The accounts wizard's commands. Secrets go in and never come back: every command returns
//! the account's status (who, where, verified when, scopes), never its secret.

use tauri::State;

use super::AppState;
use crate::accounts::{self, AccountCheck, RenderConnection};
use crate::error::AppError;
use crate::known_logins::{self, KnownLogins, Places};
use crate::secrets::{Account, Service};

/// The connected accounts.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn list_accounts(state: State<'_, AppState>) -> Result<Vec<Account>, AppError> {
    accounts::list(state.secrets.clone()).await
}

/// Checks a registry login through the engine and that it may push, then keeps it.
/// `server` empty means Docker Hub.
#[tauri::command]
#[tracing::instrument(skip(state, token), err(level = "warn"))]
pub async fn connect_registry(
    state: State<'_, AppState>,
    server: String,
    username: String,
    token: String,
    repository: Option<String>,
) -> Result<Account, AppError> {
    accounts::connect_registry(state.secrets.clone(), &server, &username, token, repository.as_deref()).await
}

/// Checks a Render API key (`GET /v1/owners`), keeps it, and lists the services to pick.
#[tauri::command]
#[tracing::instrument(skip(state, api_key), err(level = "warn"))]
pub async fn connect_render(state: State<'_, AppState>, api_key: String) -> Result<RenderConnection, AppError> {
    accounts::connect_render(state.secrets.clone(), &state.trusted_settings()?, api_key).await
}

/// The services the connected Render key sees, for an environment's service picker.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn render_services(state: State<'_, AppState>) -> Result<Vec<crate::render::RenderService>, AppError> {
    accounts::render_services(state.secrets.clone(), &state.trusted_settings()?).await
}

/// The projects of a connected Sentry account's organization, for a project's Sentry link.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn sentry_account_projects(
    state: State<'_, AppState>,
    account: String,
) -> Result<Vec<crate::sentry_api::SentryProject>, AppError> {
    accounts::sentry_account_projects(state.secrets.clone(), account).await
}

/// Keeps a Render deploy hook URL (a secret) as the fallback way to deploy.
#[tauri::command]
#[tracing::instrument(skip(state, url), err(level = "warn"))]
pub async fn connect_render_hook(state: State<'_, AppState>, url: String) -> Result<Account, AppError> {
    accounts::connect_render_hook(state.secrets.clone(), url).await
}

/// Checks a Sentry token's scopes, naming any that is missing, then keeps it.
#[tauri::command]
#[tracing::instrument(skip(state, token), err(level = "warn"))]
pub async fn connect_sentry(
    state: State<'_, AppState>,
    base_url: String,
    token: String,
    organization: String,
    project: String,
) -> Result<Account, AppError> {
    accounts::connect_sentry(state.secrets.clone(), &base_url, token, &organization, &project).await
}

/// The logins Docker and sentry-cli already keep on this computer, offered in place of a token
/// form: who and from where, never a secret.
#[tauri::command]
#[tracing::instrument(err(level = "warn"))]
pub async fn known_logins() -> Result<KnownLogins, AppError> {
    known_logins::find(Places::of_this_computer()).await
}

/// Checks Docker's login to `server` as a typed token would be (it must push), then keeps it.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn use_docker_login(state: State<'_, AppState>, server: String) -> Result<Account, AppError> {
    known_logins::use_docker(state.secrets.clone(), Places::of_this_computer(), server).await
}

/// Checks sentry-cli's token for the organization and project (its own defaults when they are
/// empty) as a typed token would be, then keeps it.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn use_sentry_cli_login(
    state: State<'_, AppState>,
    organization: String,
    project: String,
) -> Result<Account, AppError> {
    known_logins::use_sentry_cli(state.secrets.clone(), Places::of_this_computer(), organization, project).await
}

/// The organization's Sentry projects, so the person picks one instead of typing it.
#[tauri::command]
#[tracing::instrument(skip(token), err(level = "warn"))]
pub async fn sentry_projects(
    base_url: String,
    token: String,
    organization: String,
) -> Result<Vec<crate::sentry_api::SentryProject>, AppError> {
    accounts::sentry_projects(&base_url, token, &organization).await
}

/// Checks a CircleCI token (`GET /me`) and keeps it with the project slug.
#[tauri::command]
#[tracing::instrument(skip(state, token), err(level = "warn"))]
pub async fn connect_circleci(
    state: State<'_, AppState>,
    token: String,
    project_slug: String,
) -> Result<Account, AppError> {
    accounts::connect_circleci(state.secrets.clone(), &state.trusted_settings()?, token, &project_slug).await
}

/// Deletes an account and its secret.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn remove_account(state: State<'_, AppState>, service: Service, account: String) -> Result<(), AppError> {
    accounts::remove(state.secrets.clone(), service, account).await
}

/// Re-checks every account with its kept secret.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn check_all_accounts(state: State<'_, AppState>) -> Result<Vec<AccountCheck>, AppError> {
    accounts::check_all(state.secrets.clone(), &state.trusted_settings()?).await
}
