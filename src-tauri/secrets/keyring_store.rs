//! The OS keyring: Secret Service on Linux, Keychain on macOS, Credential Manager on Windows.

use crate::error::{AppError, ErrorKind};

/// The keyring "service" every Slipway entry is filed under.
pub const KEYRING_SERVICE: &str = "dev.slipway.app";

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("no OS keyring is available: {0}")]
    Missing(String),
    #[error("the OS keyring is locked or refused access: {0}")]
    Locked(String),
    #[error("the OS keyring failed: {0}")]
    Failed(String),
}

impl From<KeyringError> for AppError {
    fn from(error: KeyringError) -> Self {
        let detail = error.to_string();
        match &error {
            KeyringError::Missing(_) => AppError::new(
                ErrorKind::KeyringUnavailable,
                "This computer has no keyring for Slipway to keep your tokens in.",
                "Install a keyring for your desktop (GNOME Keyring or KWallet), log out and back in, then try again.",
            )
            .in_terminal(
                "Slipway keeps credentials only in the OS keyring. On Linux, install and start a Secret Service (GNOME Keyring: `sudo apt install gnome-keyring`, or KWallet) in your desktop session.",
            ),
            KeyringError::Locked(_) => AppError::new(
                ErrorKind::KeyringUnavailable,
                "Your keyring is locked.",
                "Unlock your keyring (it usually unlocks when you log in), then try again.",
            ),
            KeyringError::Failed(_) => AppError::new(
                ErrorKind::KeyringUnavailable,
                "Your keyring did not answer.",
                "Check that your keyring works (for example with Seahorse, \"Passwords and Keys\"), then try again.",
            ),
        }
        .with_action(crate::error::ErrorAction::Retry)
        .with_detail(detail)
    }
}

impl From<keyring::Error> for KeyringError {
    fn from(error: keyring::Error) -> Self {
        match error {
            keyring::Error::NoStorageAccess(inner) => KeyringError::Locked(inner.to_string()),
            keyring::Error::PlatformFailure(inner) => {
                let text = inner.to_string();
                if looks_missing(&text) {
                    KeyringError::Missing(text)
                } else {
                    KeyringError::Failed(text)
                }
            }
            keyring::Error::NoDefaultStore => KeyringError::Missing("no credential store is configured".to_owned()),
            other => KeyringError::Failed(other.to_string()),
        }
    }
}

fn looks_missing(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "dbus",
        "d-bus",
        "secret service",
        "serviceunknown",
        "not provided by any",
        "no such file",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
}

/// Proves the keyring works: writes a throwaway entry, reads it back and deletes it.
/// Blocking (the platform APIs are); call it off the async runtime.
pub fn probe_keyring() -> Result<String, KeyringError> {
    // The store is chosen once per process; its error says what is missing (the bus, the
    // Secret Service) better than the `NoDefaultStore` that every entry then returns.
    if let Err(error) = keyring::Entry::store_status() {
        return Err(KeyringError::Missing(error.to_string()));
    }
    // One probe at a time, each with its own entry: the plan and the window's status may ask
    // together, and one must never delete the other's entry.
    static ONE_AT_A_TIME: std::sync::Mutex<u64> = std::sync::Mutex::new(0);
    let mut count = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    *count += 1;
    let nonce = format!("probe-{}-{}", std::process::id(), *count);
    let entry = keyring::Entry::new(KEYRING_SERVICE, &format!("doctor-{nonce}"))?;
    entry.set_password(&nonce)?;
    let read = entry.get_password()?;
    entry.delete_credential()?;
    if read != nonce {
        return Err(KeyringError::Failed(
            "an entry read back differently from how it was written".to_owned(),
        ));
    }
    Ok("stores, reads and deletes entries".to_owned())
}
