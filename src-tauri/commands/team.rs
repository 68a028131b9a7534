//! The team's history in Settings: how it stands, connecting it (the password goes to the
//! keyring, never back) and going back to this computer's own history.

use tauri::State;

use super::AppState;
use crate::error::AppError;
use crate::history::team::{self, TeamHistoryView};
use crate::settings::Settings;

/// Where releases are kept and how the team's server answers.
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn team_history(state: State<'_, AppState>) -> Result<TeamHistoryView, AppError> {
    let ledger = state.ledger().ok();
    Ok(TeamHistoryView::of(
        state.settings().history_url().as_deref(),
        ledger.as_ref().and_then(|ledger| ledger.team().map(AsRef::as_ref)),
    ))
}

/// Checks the server, keeps the password in the keyring and the URL (without it) in the
/// settings, and keeps releases there from now on.
#[tauri::command]
#[tracing::instrument(skip(state, password), err(level = "warn"))]
pub async fn connect_team_history(
    state: State<'_, AppState>,
    url: String,
    password: Option<String>,
) -> Result<TeamHistoryView, AppError> {
    state.trusted_settings()?;
    let password = password.filter(|password| !password.is_empty());
    let (_, bare) = team::connect(&url, password.as_deref(), &state.secrets).await?;
    let saved = Settings::save_history_url(&state.paths, Some(&bare))?;
    state.replace_settings(saved);
    state.reopen_ledger()?;
    // The first exchange with the server, so the view says how it stands (a few seconds at most).
    if let Some(link) = state.ledger().ok().and_then(|ledger| ledger.team().cloned()) {
        let _ = tokio::task::spawn_blocking(move || link.settle(std::time::Duration::from_secs(5))).await;
    }
    team_history(state).await
}

/// Back to this computer's own history; the team's stays on its server.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn disconnect_team_history(state: State<'_, AppState>) -> Result<TeamHistoryView, AppError> {
    state.trusted_settings()?;
    if let Some(url) = state.settings().history_url.as_deref() {
        if let Ok(server) = team::TeamServer::new(url, None) {
            if let Err(error) = state.secrets.delete_team_password(server.place()) {
                tracing::warn!(%error, "the team history's password could not be removed from the keyring");
            }
        }
    }
    let saved = Settings::save_history_url(&state.paths, None)?;
    state.replace_settings(saved);
    state.reopen_ledger()?;
    team_history(state).await
}
