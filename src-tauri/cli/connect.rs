//! `slipway accounts connect`: every service the window's wizard knows, connected headless.
//! The secret comes from standard input (never an argument, so never in the shell's
//! history), is checked exactly as the wizard checks it, and goes to the keyring.

use std::io::Read;
use std::process::ExitCode;

use super::args::ConnectCommand;
use super::fail;
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
    let data_dir = crate::secrets::SecretStore::os(&paths.data_dir);
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

/// Render: the key is checked and kept; which service a project deploys to is the
/// project's own (`slipway target add NAME --render-service srv-… --project DIR`), so the
/// services the key sees are listed, and `--service` only checks that it sees that one.
async fn connect_render(
    data_dir: crate::secrets::SecretStore,
    settings: &Settings,
    key: String,
    service: Option<String>,
) -> Result<String, AppError> {
    let connection = accounts::connect_render(data_dir, settings, key).await?;
    if let Some(id) = &service {
        if !connection.services.iter().any(|candidate| &candidate.id == id) {
            return Err(AppError::new(
                ErrorKind::Validation,
                format!("The key is kept, but Render has no service {id} for it."),
                "Check the service id on Render's dashboard.",
            ));
        }
    }
    let listed: Vec<String> = connection
        .services
        .iter()
        .map(|candidate| {
            format!(
                "  {} {}{}",
                candidate.id,
                candidate.name,
                candidate
                    .image
                    .as_deref()
                    .map(|image| format!(" (image {image})"))
                    .unwrap_or_default()
            )
        })
        .collect();
    Ok(format!(
        "Render; its services:\n{}\nLink one to a project with: slipway target add production --render-service SRV --project DIR",
        listed.join("\n")
    ))
}
