//! Credentials and the redactor.
//!
//! The redactor is the one filter every sink uses: log lines, errors, Sentry events and
//! (later) history records and exports. The keyring store registers each secret it hands
//! out, so the redactor knows them by value as well as by shape. Secrets live only in the OS
//! keyring; there is no plaintext fallback.

mod docker_config;
mod keyring_store;
mod store;

pub use crate::redact::{redact, register_secret, Redactor, REDACTED};
pub use docker_config::{
    docker_login, import_docker_logins, list_docker_logins, DockerAccount, DockerLogin, ImportProblem, NO_LOGIN,
};
pub use keyring_store::{probe_keyring, KeyringError, KEYRING_SERVICE};
pub use store::{Account, OsKeyring, Secret, SecretBackend, SecretStore, Service, StoreError};

/// Whether the OS keyring answers (it keeps every token), asked off the async runtime and
/// given up after `timeout`: a locked keyring may wait for its password forever.
pub async fn keyring_answers(timeout: std::time::Duration) -> Result<String, crate::error::AppError> {
    let probe = tokio::task::spawn_blocking(probe_keyring);
    let result = match tokio::time::timeout(timeout, probe).await {
        Ok(Ok(result)) => result,
        Ok(Err(join_error)) => Err(KeyringError::Failed(join_error.to_string())),
        Err(_) => Err(KeyringError::Locked(format!(
            "no answer within {} s (a locked keyring may be waiting for its password)",
            timeout.as_secs()
        ))),
    };
    result.map_err(Into::into)
}
