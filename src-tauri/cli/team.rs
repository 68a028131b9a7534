//! `slipway history connect | disconnect | import`: the team's history from a terminal.

use std::io::Read;
use std::path::Path;

use crate::error::{AppError, ErrorKind};
use crate::history::team;
use crate::paths::AppPaths;
use crate::secrets::SecretStore;
use crate::settings::Settings;

fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            AppError::new(ErrorKind::Unknown, "Slipway could not start its worker.", "Try again.")
                .with_detail(error.to_string())
        })
}

pub(super) fn connect(paths: &AppPaths, url: &str, password_stdin: bool) -> Result<(), AppError> {
    let password = if password_stdin {
        let mut password = String::new();
        std::io::stdin().read_to_string(&mut password).map_err(|error| {
            AppError::new(
                ErrorKind::Io,
                "Could not read the password.",
                "Pipe it in: `printf %s \"$PASSWORD\" | slipway history connect URL --password-stdin`.",
            )
            .with_detail(error.to_string())
        })?;
        Some(password.trim_end_matches(['\n', '\r']).to_owned())
    } else {
        None
    };
    paths.ensure()?;
    let secrets = SecretStore::os(&paths.data_dir);
    let (server, bare) = runtime()?.block_on(team::connect(url, password.as_deref(), &secrets))?;
    Settings::save_history_url(paths, Some(&bare))?;
    println!(
        "Releases are kept in the team's history on {} from now on.\nThis computer's earlier releases stay in its own history; to copy them there: slipway history import --from {}",
        server.place(),
        paths.data_dir.join("history.sqlite3").display()
    );
    Ok(())
}

pub(super) fn disconnect(paths: &AppPaths, settings: &Settings) -> Result<(), AppError> {
    if let Some(url) = settings.history_url.as_deref() {
        if let Ok(server) = team::TeamServer::new(url, None) {
            let secrets = SecretStore::os(&paths.data_dir);
            if let Err(error) = secrets.delete_team_password(server.place()) {
                tracing::warn!(%error, "the team history's password could not be removed from the keyring");
            }
        }
    }
    Settings::save_history_url(paths, None)?;
    println!("Releases are kept in this computer's own history from now on.");
    if std::env::var_os("SLIPWAY_HISTORY_URL").is_some() {
        println!("SLIPWAY_HISTORY_URL is set, so this shell still uses the team's history.");
    }
    Ok(())
}

pub(super) fn import(paths: &AppPaths, settings: &Settings, from: &Path) -> Result<(), AppError> {
    let Some(url) = settings.history_url() else {
        return Err(AppError::new(
            ErrorKind::Precondition,
            "No team history is connected, so there is nowhere to import into.",
            "Connect the team's history first.",
        )
        .in_terminal("Run `slipway history connect URL --password-stdin` first."));
    };
    if !from.is_file() {
        return Err(AppError::new(
            ErrorKind::NotFound,
            format!("{} is not a file.", from.display()),
            "Give the history.sqlite3 file of the history to copy.",
        ));
    }
    let secrets = SecretStore::os(&paths.data_dir);
    let server = team::server(&url, &secrets)?;
    let imported = runtime()?.block_on(team::import(&server, from))?;
    println!(
        "Copied {} into the team's history on {}{}.",
        match imported.releases {
            1 => "1 release".to_owned(),
            count => format!("{count} releases"),
        },
        server.place(),
        match imported.already {
            0 => String::new(),
            1 => " (1 was there already and is left as it is)".to_owned(),
            count => format!(" ({count} were there already and are left as they are)"),
        }
    );
    Ok(())
}
