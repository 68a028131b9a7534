//! Slipway updating itself: asks its update address (a setting; none means never) whether a
//! newer version is out, and installs it when the person says so, never while a job runs.
//! Tauri's updater checks the package's signature against the key built into this Slipway
//! before anything is installed; a `.deb` or `.rpm` is installed through the system's
//! authorisation prompt (`pkexec`, else a graphical `sudo`).

use serde::Serialize;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_updater::{Error as UpdaterError, Updater, UpdaterExt};
use ts_rs::TS;

use super::AppState;
use crate::error::{AppError, ErrorKind};

/// A newer Slipway, as the header offers it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOffer {
    pub version: String,
    pub current_version: String,
    /// What's new, as the release wrote it.
    pub notes: Option<String>,
}

/// The public key updates must be signed with, from the app's configuration; empty in a build
/// whose maker has none (a clone's).
fn has_update_key<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.config()
        .plugins
        .0
        .get("updater")
        .and_then(|updater| updater.get("pubkey"))
        .and_then(|key| key.as_str())
        .is_some_and(|key| !key.trim().is_empty())
}

/// The updater for the address in the settings; `None` when no address is set.
fn updater<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> Result<Option<Updater>, AppError> {
    let Some(url) = state.settings().update_url() else {
        return Ok(None);
    };
    let url = url.map_err(|why| {
        AppError::new(
            ErrorKind::Validation,
            "Slipway's update address cannot be used.",
            "Give an https address as updateUrl in settings.json in Slipway's data folder.",
        )
        .with_detail(why)
    })?;
    if !has_update_key(app) {
        return Err(AppError::new(
            ErrorKind::Precondition,
            "This Slipway was built without an update key, so it cannot update itself.",
            "Install the new version from its package, or use a Slipway built with scripts/package and a key.",
        ));
    }
    // The address was checked above: https, or http to this machine (where the updater's own
    // rule, relaxed in tauri.conf.json, would refuse a local update server).
    let url = reqwest::Url::parse(&url).map_err(|error| {
        AppError::new(
            ErrorKind::Validation,
            "Slipway's update address is not an address.",
            "Correct updateUrl in settings.json in Slipway's data folder.",
        )
        .with_detail(error.to_string())
    })?;
    let updater = app
        .updater_builder()
        .endpoints(vec![url])
        .and_then(|builder| builder.build())
        .map_err(updater_error)?;
    Ok(Some(updater))
}

/// The updater's failures in a person's words.
fn updater_error(error: UpdaterError) -> AppError {
    let detail = error.to_string();
    let (kind, message, hint) = match error {
        UpdaterError::SignedVersionMismatch { .. } | UpdaterError::MissingSignedVersion => (
            ErrorKind::Validation,
            "The update's package was signed for another version than the one offered, so it was not installed.",
            "Nothing changed. Tell whoever publishes Slipway's updates: an older package may have been offered as new.",
        ),
        UpdaterError::Minisign(_) | UpdaterError::Base64(_) | UpdaterError::SignatureUtf8(_) => (
            ErrorKind::Validation,
            "The update is not signed with Slipway's key, so it was not installed.",
            "Nothing changed. Tell whoever publishes Slipway's updates; install only a package you trust.",
        ),
        UpdaterError::PackageInstallFailed | UpdaterError::DebInstallFailed | UpdaterError::AuthenticationFailed => (
            ErrorKind::Precondition,
            "The system did not install the update.",
            "Installing needs your permission: try again and give your password when the system asks.",
        ),
        UpdaterError::Reqwest(_) | UpdaterError::Network(_) | UpdaterError::Http(_) => (
            ErrorKind::Network,
            "Slipway could not reach its update address.",
            "Check the connection, or try again later.",
        ),
        UpdaterError::TargetNotFound(_) | UpdaterError::TargetsNotFound(_) => (
            ErrorKind::NotFound,
            "The update has no package for this kind of installation.",
            "Install the new version from its package yourself.",
        ),
        _ => (
            ErrorKind::Unknown,
            "Slipway could not update itself.",
            "Try again later, or install the new version from its package.",
        ),
    };
    AppError::new(kind, message, hint).with_detail(detail)
}

/// Asks the update address whether a newer Slipway is out; `None` when not, or when no
/// address is set.
#[tauri::command]
#[tracing::instrument(skip(app, state), err(level = "warn"))]
pub async fn check_for_update<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Option<UpdateOffer>, AppError> {
    let Some(updater) = updater(&app, &state)? else {
        return Ok(None);
    };
    let update = updater.check().await.map_err(updater_error)?;
    Ok(update.map(|update| UpdateOffer {
        version: update.version,
        current_version: update.current_version,
        notes: update.body,
    }))
}

/// Downloads the newer Slipway, checks its signature, installs it and starts it in place of
/// this one. Refused while a job runs: an update never cuts a release short.
#[tauri::command]
#[tracing::instrument(skip(app, state), err(level = "warn"))]
pub async fn install_update<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    version: String,
) -> Result<(), AppError> {
    // Nothing runs, and nothing starts until this ends: the password prompt may stay open for
    // long, and a release started meanwhile would be cut short by the restart.
    let _updating = state.tasks.begin_update()?;
    let updater = updater(&app, &state)?.ok_or_else(|| {
        AppError::new(
            ErrorKind::Precondition,
            "No update address is set.",
            "Set updateUrl in settings.json in Slipway's data folder.",
        )
    })?;
    let update = updater.check().await.map_err(updater_error)?.ok_or_else(|| {
        AppError::new(
            ErrorKind::NotFound,
            "There is no newer Slipway any more.",
            "Nothing to do: this is the latest.",
        )
    })?;
    // What the person agreed to, not whatever the address offers by now.
    if update.version != version {
        return Err(AppError::new(
            ErrorKind::Precondition,
            format!("The update on offer is now {}, not {version}.", update.version),
            "Look at what it is, then update again.",
        ));
    }
    tracing::info!(version = %update.version, "installing the update");
    update
        .download_and_install(|_, _| {}, || {})
        .await
        .map_err(updater_error)?;
    tracing::info!(version = %update.version, "the update is installed: restarting");
    // The new Slipway must open its own window, not hand itself to this one on its way out.
    crate::instance::close(&state.paths.data_dir);
    app.restart()
}
