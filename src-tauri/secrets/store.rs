//! The credential store: each secret in the OS keyring, everything else about the account
//! (username, server, when it was verified, scopes) in `accounts.json` in the data folder.
//!
//! A secret leaves the store only as a [`Secret`], which prints as `[redacted]` and is
//! registered with the redactor the moment it is read, so whatever later carries it (a
//! header, an error, a log line) is filtered.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::keyring_store::{KeyringError, KEYRING_SERVICE};
use crate::error::{AppError, ErrorKind};
use crate::paths::write_json_atomically;
use crate::redact::register_secret;

const ACCOUNTS_FILE: &str = "accounts.json";

/// The services Slipway keeps credentials for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Service {
    /// Docker Hub or another registry: username + access token.
    Registry,
    /// Render: an API key, or a deploy hook URL (itself a secret).
    Render,
    /// Sentry: an auth token.
    Sentry,
    /// CircleCI: a personal API token.
    CircleCi,
}

impl Service {
    fn key(self) -> &'static str {
        match self {
            Service::Registry => "registry",
            Service::Render => "render",
            Service::Sentry => "sentry",
            Service::CircleCi => "circleci",
        }
    }
}

/// What is known about an account, never its secret. Each service's details have fields
/// named for what they hold; only the account's own service's are set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub service: Service,
    /// Which account of the service: the registry's server, `default` for single accounts.
    pub account: String,
    pub username: Option<String>,
    /// Base URL for self-hosted services (Sentry) or the registry's address.
    pub server: Option<String>,
    /// Sentry: the organization and project the token was checked against when connected.
    pub sentry_organization: Option<String>,
    pub sentry_project: Option<String>,
    /// Render: the service a deploy hook deploys (`srv-…`); for the API key, the service
    /// older versions deployed every project to (kept until its project is linked).
    pub render_service: Option<String>,
    /// Render: the image older versions pushed for that app-wide service.
    pub render_image: Option<String>,
    /// CircleCI: the project slug (`gh/acme/shop`) the token was checked against.
    pub circleci_project: Option<String>,
    /// RFC 3339, when a check last proved the secret works.
    pub verified_at: Option<String>,
    pub scopes: Vec<String>,
    /// Where it came from: `wizard`, `~/.docker/config.json`, a credential helper.
    pub source: String,
}

/// An account as `accounts.json` holds it: this version's fields, or the two generic ones
/// (`organization`, `project`) older versions used for every service's details.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredAccount {
    service: Service,
    account: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    server: Option<String>,
    #[serde(default)]
    sentry_organization: Option<String>,
    #[serde(default)]
    sentry_project: Option<String>,
    #[serde(default)]
    render_service: Option<String>,
    #[serde(default)]
    render_image: Option<String>,
    #[serde(default)]
    circleci_project: Option<String>,
    #[serde(default)]
    organization: Option<String>,
    #[serde(default)]
    project: Option<String>,
    #[serde(default)]
    verified_at: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    source: String,
}

/// An account as this version writes it: the named fields, and the generic ones older
/// versions read.
#[derive(Serialize)]
struct WrittenAccount<'a> {
    #[serde(flatten)]
    account: &'a Account,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project: Option<&'a str>,
}

impl<'a> WrittenAccount<'a> {
    fn of(account: &'a Account) -> Self {
        let (organization, project) = match account.service {
            Service::Sentry => (&account.sentry_organization, &account.sentry_project),
            Service::Render => (&account.render_image, &account.render_service),
            Service::CircleCi => (&None, &account.circleci_project),
            Service::Registry => (&None, &None),
        };
        Self {
            account,
            organization: organization.as_deref(),
            project: project.as_deref(),
        }
    }
}

impl<'de> Deserialize<'de> for Account {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = StoredAccount::deserialize(deserializer)?;
        let (organization, project) = (stored.organization, stored.project);
        let mut account = Account {
            service: stored.service,
            account: stored.account,
            username: stored.username,
            server: stored.server,
            sentry_organization: stored.sentry_organization,
            sentry_project: stored.sentry_project,
            render_service: stored.render_service,
            render_image: stored.render_image,
            circleci_project: stored.circleci_project,
            verified_at: stored.verified_at,
            scopes: stored.scopes,
            source: stored.source,
        };
        // What the generic fields meant depended on the service.
        match account.service {
            Service::Sentry => {
                account.sentry_organization = account.sentry_organization.or(organization);
                account.sentry_project = account.sentry_project.or(project);
            }
            Service::Render => {
                account.render_service = account.render_service.or(project);
                account.render_image = account.render_image.or(organization);
            }
            Service::CircleCi => account.circleci_project = account.circleci_project.or(project),
            Service::Registry => {}
        }
        Ok(account)
    }
}

impl Account {
    pub fn new(service: Service, account: &str, source: &str) -> Self {
        Self {
            service,
            account: account.to_owned(),
            username: None,
            server: None,
            sentry_organization: None,
            sentry_project: None,
            render_service: None,
            render_image: None,
            circleci_project: None,
            verified_at: None,
            scopes: Vec::new(),
            source: source.to_owned(),
        }
    }
}

/// A secret read from the keyring. It has no `Serialize`, and `Debug` hides the value.
pub struct Secret(String);

impl Secret {
    /// A secret the person just typed, on its way to the keyring and its check.
    pub fn new(value: String) -> Self {
        register_secret(&value, None);
        Self(value)
    }

    /// The value, for the one call that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Where secrets are kept. The OS keyring in the app; tests of the logic above it may use
/// another, but there is no file-backed one: a missing keyring is an error, never a fallback.
pub trait SecretBackend: Send + Sync {
    fn set(&self, entry: &str, secret: &str) -> Result<(), KeyringError>;
    fn get(&self, entry: &str) -> Result<Option<String>, KeyringError>;
    fn delete(&self, entry: &str) -> Result<(), KeyringError>;
}

/// The OS keyring through the `keyring` crate.
pub struct OsKeyring;

impl OsKeyring {
    fn entry(name: &str) -> Result<keyring::Entry, KeyringError> {
        if let Err(error) = keyring::Entry::store_status() {
            return Err(KeyringError::Missing(error.to_string()));
        }
        Ok(keyring::Entry::new(KEYRING_SERVICE, name)?)
    }
}

impl SecretBackend for OsKeyring {
    fn set(&self, entry: &str, secret: &str) -> Result<(), KeyringError> {
        Ok(Self::entry(entry)?.set_password(secret)?)
    }

    fn get(&self, entry: &str) -> Result<Option<String>, KeyringError> {
        match Self::entry(entry)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    fn delete(&self, entry: &str) -> Result<(), KeyringError> {
        match Self::entry(entry)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error("no {service} account named {account} is connected")]
    NoAccount { service: String, account: String },
    #[error("the account list {path} could not be written: {reason}")]
    NotSaved { path: PathBuf, reason: String },
    #[error("the list of connected accounts ({path}) is damaged and cannot be read: {reason}")]
    Damaged { path: PathBuf, reason: String },
    #[error("the list of connected accounts was damaged; it is kept as {kept}, and the accounts saved since are in a new list")]
    KeptAside { kept: PathBuf },
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Keyring(error) => error.into(),
            StoreError::NoAccount { .. } => AppError::new(
                ErrorKind::Precondition,
                error.to_string(),
                "Connect the account in Settings first.",
            ),
            StoreError::NotSaved { .. } => AppError::new(
                ErrorKind::Io,
                error.to_string(),
                "Check that the data folder is writable.",
            ),
            StoreError::Damaged { .. } => AppError::new(
                ErrorKind::Io,
                capitalised(&error.to_string()),
                "Connect an account again in Settings: the damaged list is then kept beside the new one (the tokens are still in the keyring).",
            ),
            StoreError::KeptAside { .. } => AppError::new(
                ErrorKind::Io,
                capitalised(&error.to_string()),
                "Connect the other accounts again in Settings; their tokens are still in the keyring.",
            ),
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
        None => String::new(),
    }
}

/// The accounts and their secrets. Cheap to clone: built once where Slipway starts (the
/// window, a CLI command) and handed to whatever needs a secret, so a test can hand another.
#[derive(Clone)]
pub struct SecretStore {
    file: PathBuf,
    backend: std::sync::Arc<dyn SecretBackend>,
    /// Keyring entries of a data folder other than the platform's default are prefixed with
    /// a hash of its path: two data folders are two installations, and one must never read
    /// (or overwrite) the other's tokens. The default folder's entries keep their plain names.
    namespace: Option<String>,
}

impl SecretStore {
    pub fn new(data_dir: &Path, backend: Box<dyn SecretBackend>) -> Self {
        let default = dirs::data_dir().map(|dir| dir.join(crate::paths::APP_IDENTIFIER));
        let namespace = (default.as_deref() != Some(data_dir)).then(|| {
            use sha2::{Digest, Sha256};
            let digest = Sha256::digest(data_dir.display().to_string().as_bytes());
            digest
                .iter()
                .take(6)
                .map(|byte| format!("{byte:02x}"))
                .collect::<String>()
        });
        Self {
            file: data_dir.join(ACCOUNTS_FILE),
            backend: backend.into(),
            namespace,
        }
    }

    fn namespaced(&self, entry: String) -> String {
        match &self.namespace {
            Some(namespace) => format!("{namespace}/{entry}"),
            None => entry,
        }
    }

    /// The store over the OS keyring.
    pub fn os(data_dir: &Path) -> Self {
        Self::new(data_dir, Box::new(OsKeyring))
    }

    /// The keyring entry an account's secret is kept under.
    pub fn entry_name(&self, service: Service, account: &str) -> String {
        self.namespaced(format!("{}:{account}", service.key()))
    }

    /// Every connected account, without secrets; `Err` when the list is there but damaged
    /// (it is left as it is: never replaced unread).
    pub fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let bytes = match std::fs::read(&self.file) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => {
                return Err(StoreError::Damaged {
                    path: self.file.clone(),
                    reason: error.to_string(),
                })
            }
        };
        serde_json::from_slice::<Vec<Account>>(&bytes).map_err(|error| StoreError::Damaged {
            path: self.file.clone(),
            reason: error.to_string(),
        })
    }

    /// One account; `None` when it is not connected or the list cannot be read (logged).
    pub fn account(&self, service: Service, account: &str) -> Option<Account> {
        match self.accounts() {
            Ok(accounts) => accounts
                .into_iter()
                .find(|known| known.service == service && known.account == account),
            Err(error) => {
                tracing::warn!(%error, "the account list cannot be read");
                None
            }
        }
    }

    /// The accounts to rewrite: the readable list, or none after the damaged one is kept
    /// aside as `accounts.json.damaged-<time>` (returned, to be said).
    fn accounts_for_writing(&self) -> Result<(Vec<Account>, Option<PathBuf>), StoreError> {
        match self.accounts() {
            Ok(accounts) => Ok((accounts, None)),
            Err(StoreError::Damaged { .. }) => {
                let kept = self
                    .file
                    .with_extension(format!("json.damaged-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ")));
                std::fs::rename(&self.file, &kept).map_err(|error| StoreError::NotSaved {
                    path: self.file.clone(),
                    reason: format!("the damaged list could not be kept aside: {error}"),
                })?;
                tracing::warn!(kept = %kept.display(), "a damaged account list was kept aside");
                Ok((Vec::new(), Some(kept)))
            }
            Err(other) => Err(other),
        }
    }

    /// Saves (or replaces, for a rotation) an account and its secret. The secret goes to the
    /// keyring first: an account is never listed without its secret.
    pub fn save(&self, account: &Account, secret: &str) -> Result<(), StoreError> {
        register_secret(secret, account.username.as_deref());
        self.backend
            .set(&self.entry_name(account.service, &account.account), secret)?;
        self.update(account)
    }

    /// Rewrites what is known about an account (after a verification), keeping its secret.
    pub fn update(&self, account: &Account) -> Result<(), StoreError> {
        let (mut accounts, kept) = self.accounts_for_writing()?;
        accounts.retain(|known| !(known.service == account.service && known.account == account.account));
        accounts.push(account.clone());
        accounts.sort_by(|a, b| (a.service, &a.account).cmp(&(b.service, &b.account)));
        self.write_accounts(&accounts).map_err(|error| StoreError::NotSaved {
            path: self.file.clone(),
            reason: error.to_string(),
        })?;
        // Saved, and the person is told the other accounts must be connected again.
        match kept {
            Some(kept) => Err(StoreError::KeptAside { kept }),
            None => Ok(()),
        }
    }

    /// The secret of an account, registered with the redactor as it is read.
    pub fn secret(&self, service: Service, account: &str) -> Result<Secret, StoreError> {
        let known = self.account(service, account);
        let secret = self
            .backend
            .get(&self.entry_name(service, account))?
            .ok_or_else(|| StoreError::NoAccount {
                service: service.key().to_owned(),
                account: account.to_owned(),
            })?;
        register_secret(&secret, known.as_ref().and_then(|known| known.username.as_deref()));
        Ok(Secret(secret))
    }

    /// Keeps a secret value a project's checks need (`SECRET_KEY` for the tests) in the
    /// keyring, under the project; it is never listed as an account.
    pub fn set_project_value(&self, project_id: &str, name: &str, value: &str) -> Result<(), StoreError> {
        register_secret(value, None);
        Ok(self.backend.set(&self.project_entry(project_id, name), value)?)
    }

    /// A project's secret value, registered with the redactor as it is read.
    pub fn project_value(&self, project_id: &str, name: &str) -> Result<Option<Secret>, StoreError> {
        let value = self.backend.get(&self.project_entry(project_id, name))?;
        Ok(value.map(|value| {
            register_secret(&value, None);
            Secret(value)
        }))
    }

    pub fn delete_project_value(&self, project_id: &str, name: &str) -> Result<(), StoreError> {
        Ok(self.backend.delete(&self.project_entry(project_id, name))?)
    }

    /// Keeps the password of the team history's PostgreSQL at `place` (`host:port/db`); it is
    /// never listed as an account and never written to a file.
    pub fn set_team_password(&self, place: &str, password: &str) -> Result<(), StoreError> {
        register_secret(password, None);
        Ok(self.backend.set(&self.team_entry(place), password)?)
    }

    /// The team history's password, registered with the redactor as it is read.
    pub fn team_password(&self, place: &str) -> Result<Option<Secret>, StoreError> {
        let value = self.backend.get(&self.team_entry(place))?;
        Ok(value.map(|value| {
            register_secret(&value, None);
            Secret(value)
        }))
    }

    pub fn delete_team_password(&self, place: &str) -> Result<(), StoreError> {
        Ok(self.backend.delete(&self.team_entry(place))?)
    }

    fn team_entry(&self, place: &str) -> String {
        self.namespaced(format!("team-history:{place}"))
    }

    fn project_entry(&self, project_id: &str, name: &str) -> String {
        self.namespaced(format!("project-env:{project_id}:{name}"))
    }

    /// Writes the list with each service's details twice: in the named fields, and in the
    /// generic `organization`/`project` an older Slipway reads (a person who goes back a
    /// version keeps their deploy hook's service and their Sentry organization).
    fn write_accounts(&self, accounts: &[Account]) -> std::io::Result<()> {
        let written: Vec<WrittenAccount<'_>> = accounts.iter().map(WrittenAccount::of).collect();
        write_json_atomically(&self.file, &written)
    }

    /// Deletes the secret and the account.
    pub fn delete(&self, service: Service, account: &str) -> Result<(), StoreError> {
        self.backend.delete(&self.entry_name(service, account))?;
        let (mut accounts, _) = self.accounts_for_writing()?;
        accounts.retain(|known| !(known.service == service && known.account == account));
        self.write_accounts(&accounts).map_err(|error| StoreError::NotSaved {
            path: self.file.clone(),
            reason: error.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Older versions kept every service's details in `organization` and `project`: each is
    /// read into the field named for what it held, by the account's service.
    #[test]
    fn an_older_accounts_file_is_read_into_named_fields() -> Result<(), Box<dyn std::error::Error>> {
        let old = r#"[
            {"service": "render", "account": "default", "organization": "docker.io/ann/web", "project": "srv-web", "scopes": [], "source": "wizard"},
            {"service": "render", "account": "deploy-hook", "project": "srv-hook", "source": "wizard"},
            {"service": "sentry", "account": "acme/web", "organization": "acme", "project": "web", "source": "wizard"},
            {"service": "circleCi", "account": "default", "project": "gh/acme/web", "source": "wizard"}
        ]"#;
        let accounts: Vec<Account> = serde_json::from_str(old)?;
        assert_eq!(accounts[0].render_service.as_deref(), Some("srv-web"));
        assert_eq!(accounts[0].render_image.as_deref(), Some("docker.io/ann/web"));
        assert_eq!(accounts[1].render_service.as_deref(), Some("srv-hook"));
        assert_eq!(accounts[2].sentry_organization.as_deref(), Some("acme"));
        assert_eq!(accounts[2].sentry_project.as_deref(), Some("web"));
        assert_eq!(accounts[2].render_service, None);
        assert_eq!(accounts[3].circleci_project.as_deref(), Some("gh/acme/web"));
        // The window is sent the named fields only.
        let sent = serde_json::to_string(&accounts)?;
        assert!(!sent.contains("\"organization\""), "{sent}");
        // The file keeps both: this version reads it the same, an older one finds its fields.
        let data = tempfile::tempdir()?;
        let store = SecretStore::new(data.path(), Box::new(Memory::default()));
        for account in &accounts {
            store.update(account)?;
        }
        let file: serde_json::Value = serde_json::from_slice(&std::fs::read(data.path().join(ACCOUNTS_FILE))?)?;
        let hook = file
            .as_array()
            .and_then(|list| list.iter().find(|account| account["account"] == "deploy-hook"))
            .ok_or("the hook is written")?;
        assert_eq!(hook["project"], "srv-hook");
        assert_eq!(hook["renderService"], "srv-hook");
        let mut again = store.accounts()?;
        let mut expected = accounts.clone();
        let order = |account: &Account| (account.service, account.account.clone());
        again.sort_by_key(order);
        expected.sort_by_key(order);
        assert_eq!(again, expected);
        Ok(())
    }

    /// A backend that keeps secrets in memory, for the account list's own tests.
    #[derive(Default)]
    struct Memory(std::sync::Mutex<std::collections::HashMap<String, String>>);

    impl SecretBackend for Memory {
        fn set(&self, entry: &str, secret: &str) -> Result<(), KeyringError> {
            if let Ok(mut all) = self.0.lock() {
                all.insert(entry.to_owned(), secret.to_owned());
            }
            Ok(())
        }
        fn get(&self, entry: &str) -> Result<Option<String>, KeyringError> {
            Ok(self.0.lock().ok().and_then(|all| all.get(entry).cloned()))
        }
        fn delete(&self, entry: &str) -> Result<(), KeyringError> {
            if let Ok(mut all) = self.0.lock() {
                all.remove(entry);
            }
            Ok(())
        }
    }

    #[test]
    fn a_damaged_account_list_is_said_and_kept_never_overwritten_unread() -> Result<(), Box<dyn std::error::Error>> {
        let data = tempfile::tempdir()?;
        let store = SecretStore::new(data.path(), Box::new(Memory::default()));
        let damaged = "[{\"service\": \"render\", \"account\": \"default\", trunc";
        std::fs::write(data.path().join(ACCOUNTS_FILE), damaged)?;
        assert!(matches!(store.accounts(), Err(StoreError::Damaged { .. })));
        assert!(store.account(Service::Render, "default").is_none());
        let saved = store.save(&Account::new(Service::Sentry, "default", "wizard"), "tok");
        let Err(StoreError::KeptAside { kept }) = saved else {
            return Err(format!("the person is told: {saved:?}").into());
        };
        assert_eq!(
            std::fs::read_to_string(&kept)?,
            damaged,
            "the unread list is kept as it was"
        );
        let accounts = store.accounts()?;
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].service, Service::Sentry);
        Ok(())
    }

    /// One keyring for two stores, as two data folders on one desktop share it.
    struct Shared(std::sync::Arc<Memory>);

    impl SecretBackend for Shared {
        fn set(&self, entry: &str, secret: &str) -> Result<(), KeyringError> {
            self.0.set(entry, secret)
        }
        fn get(&self, entry: &str) -> Result<Option<String>, KeyringError> {
            self.0.get(entry)
        }
        fn delete(&self, entry: &str) -> Result<(), KeyringError> {
            self.0.delete(entry)
        }
    }

    #[test]
    fn two_data_folders_never_read_each_others_tokens() -> Result<(), Box<dyn std::error::Error>> {
        let keyring = std::sync::Arc::new(Memory::default());
        let (first, second) = (tempfile::tempdir()?, tempfile::tempdir()?);
        let one = SecretStore::new(first.path(), Box::new(Shared(keyring.clone())));
        let other = SecretStore::new(second.path(), Box::new(Shared(keyring)));
        let account = Account::new(Service::Registry, "127.0.0.1:5000", "wizard");
        one.save(&account, "token-of-the-first")?;
        other.save(&account, "token-of-the-second")?;
        assert_eq!(
            one.secret(Service::Registry, "127.0.0.1:5000")?.expose(),
            "token-of-the-first"
        );
        assert_ne!(
            one.entry_name(Service::Registry, "x"),
            other.entry_name(Service::Registry, "x")
        );
        Ok(())
    }

    #[test]
    fn a_secret_never_prints() {
        let secret = Secret("tok-do-not-print".into());
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
    }
}
