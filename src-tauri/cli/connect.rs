//! `slipway accounts connect`: every service the window's wizard knows, connected headless.
//! The secret comes from standard input (never an argument, so never in the shell's
//! history), is checked exactly as the wizard checks it, and goes to the keyring.

use std::io::Read;
use std::process::ExitCode;

use super::{fail, ConnectCommand};
use crate::accounts;
use crate::error::{AppError, ErrorKind};
use crate::paths::AppPaths;
use crate::settings::Settings;

fn secret_from_stdin(what: &str) -> Result<String, AppError> {
    let mut secret = String::new();
    std::io::stdin().read_to_string(&mut secret).map_err(|error| {
        AppError::new(
            ErrorKind::Io,
            format!("Could not read the {what}."),
            "Pipe it in: `printf %s \"$TOKEN\" | slipway accounts connect …`.",
        )
        .with_detail(error.to_string())
    })?;
    let secret = secret.trim().to_owned();
    if secret.is_empty() {
        return Err(AppError::new(
            ErrorKind::Validation,
            format!("No {what} was given on standard input."),
            "Pipe it in: `printf %s \"$TOKEN\" | slipway accounts connect …`.",
        ));
    }
    Ok(secret)
}

pub(super) async fn run(paths: &AppPaths, settings: Settings, command: ConnectCommand) -> ExitCode {
    // No key goes to an address from a settings file that was not read as written.
    if let (_, Some(problem)) = Settings::load(paths) {
        return fail(&crate::settings::problem_error(&problem));
    }
    let data_dir = paths.data_dir.clone();
    let connected = match command {
        ConnectCommand::Sentry { org, project, url } => match secret_from_stdin("Sentry token") {
            Ok(token) => accounts::connect_sentry(data_dir, url.as_deref().unwrap_or_default(), token, &org, &project)
                .await
                .map(|account| format!("Sentry {} (scopes: {})", account.account, account.scopes.join(", "))),
            Err(error) => Err(error),
        },
        ConnectCommand::Render { service } => match secret_from_stdin("Render API key") {
            Ok(key) => connect_render(data_dir, &settings, key, service).await,
            Err(error) => Err(error),
        },
        ConnectCommand::Registry {
            server,
            username,
            repository,
        } => match secret_from_stdin("registry access token") {
            Ok(token) => accounts::connect_registry(data_dir, &server, &username, token, repository.as_deref())
                .await
                .map(|account| format!("registry {} as {username}", account.account)),
            Err(error) => Err(error),
        },
        ConnectCommand::Circleci { slug } => match secret_from_stdin("CircleCI token") {
            Ok(token) => accounts::connect_circleci(data_dir, &settings, token, &slug)
                .await
                .map(|account| format!("CircleCI as {}", account.username.unwrap_or_default())),
            Err(error) => Err(error),
        },
    };
    match connected {
        Ok(what) => {
            println!("Connected {what}; the secret is in the OS keyring.");
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

/// Render: the key is checked and kept; the service is the one given, else the only
/// image-backed one, else the choices are listed.
async fn connect_render(
    data_dir: std::path::PathBuf,
    settings: &Settings,
    key: String,
    service: Option<String>,
) -> Result<String, AppError> {
    let connection = accounts::connect_render(data_dir.clone(), settings, key).await?;
    let images: Vec<_> = connection
        .services
        .iter()
        .filter(|candidate| candidate.image.is_some())
        .collect();
    let chosen = match &service {
        Some(id) => connection.services.iter().find(|candidate| &candidate.id == id),
        None if images.len() == 1 => images.first().copied(),
        None => None,
    };
    let Some(chosen) = chosen else {
        let listed: Vec<String> = connection
            .services
            .iter()
            .map(|candidate| {
                format!(
                    "{} ({}{})",
                    candidate.id,
                    candidate.name,
                    if candidate.image.is_some() { ", image" } else { "" }
                )
            })
            .collect();
        return Err(AppError::new(
            ErrorKind::Validation,
            match &service {
                Some(id) => format!("Render has no service {id} for this key."),
                None => "The key works; pick the service to deploy to.".to_owned(),
            },
            format!("Run it again with --service ID, one of: {}.", listed.join(", ")),
        ));
    };
    accounts::choose_render_service(data_dir, chosen.id.clone(), chosen.image.clone()).await?;
    Ok(format!("Render, service {} ({})", chosen.id, chosen.name))
}
