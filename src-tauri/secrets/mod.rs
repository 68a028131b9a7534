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
pub use docker_config::{import_docker_logins, DockerLogin, ImportProblem};
pub use keyring_store::{probe_keyring, KeyringError, KEYRING_SERVICE};
pub use store::{Account, OsKeyring, Secret, SecretBackend, SecretStore, Service, StoreError};
