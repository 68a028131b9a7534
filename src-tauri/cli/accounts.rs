//! `slipway accounts list|import-docker|remove` (`connect` is in `connect.rs`): the accounts
//! kept in the OS keyring, never their secrets.

use std::process::ExitCode;

use super::args::AccountsCommand;
use super::{fail, EXIT_USAGE};
use crate::paths::AppPaths;

pub(super) fn run(paths: &AppPaths, command: AccountsCommand) -> ExitCode {
    use crate::secrets::{import_docker_logins, Account, SecretStore, Service};
    let store = SecretStore::os(&paths.data_dir);
    match command {
        AccountsCommand::List { json } => {
            let accounts = match store.accounts() {
                Ok(accounts) => accounts,
                Err(error) => return fail(&error.into()),
            };
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&accounts).unwrap_or_else(|_| "[]".to_owned())
                );
            } else if accounts.is_empty() {
                println!("No accounts connected.");
            } else {
                for account in accounts {
                    println!(
                        "{:?} {} (user {}, from {}, verified {})",
                        account.service,
                        account.account,
                        account.username.as_deref().unwrap_or("-"),
                        account.source,
                        account.verified_at.as_deref().unwrap_or("never")
                    );
                }
            }
            ExitCode::SUCCESS
        }
        AccountsCommand::ImportDocker { config } => {
            let dir = crate::known_logins::docker_config_dir(config.as_deref());
            let (logins, problems) = import_docker_logins(&dir);
            let mut code = if problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
            for login in &logins {
                let mut account = Account::new(Service::Registry, &login.server, &login.source);
                account.username = Some(login.username.clone());
                account.server = Some(login.server.clone());
                match store.save(&account, login.secret.expose()) {
                    Ok(()) => println!("Imported {} for {} from {}", login.username, login.server, login.source),
                    Err(error) => {
                        // Nothing is kept anywhere else: without a keyring nothing is imported.
                        return fail(&error.into());
                    }
                }
            }
            for problem in &problems {
                println!(
                    "Could not import {}: {}",
                    if problem.server.is_empty() {
                        "the config"
                    } else {
                        &problem.server
                    },
                    problem.message
                );
            }
            if logins.is_empty() && problems.is_empty() {
                println!("No docker logins found in {}", dir.display());
                code = ExitCode::SUCCESS;
            }
            code
        }
        // `run` sends it to the runtime before this is called.
        AccountsCommand::Connect(_) => ExitCode::from(EXIT_USAGE),
        AccountsCommand::Remove { service, account } => match store.delete(service.into(), &account) {
            Ok(()) => {
                println!("Removed {account}");
                ExitCode::SUCCESS
            }
            Err(error) => fail(&error.into()),
        },
    }
}
