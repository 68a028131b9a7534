//! The values a project's checks get: a secret one goes to the OS keyring under the project
//! (its name in the settings, never its value); any other one into the settings. Both ways
//! in (the window, `slipway env set`) go through here.

use std::path::Path;

use serde::Deserialize;
use ts_rs::TS;

use super::settings::{load_settings, save_settings, ProjectSettings};
use super::test_values::{random_key, TestValue};
use super::{detect, project_id, ProjectError};
use crate::error::{AppError, ErrorKind};
use crate::secrets::SecretStore;

fn check_name(name: &str) -> Result<(), AppError> {
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorKind::Validation,
            format!("\"{name}\" is not a variable name."),
            "Use letters, digits and underscores, as in SECRET_KEY.",
        ))
    }
}

/// The saved settings, else what detection proposes.
pub fn current(data_dir: &Path, root: &Path) -> Result<ProjectSettings, ProjectError> {
    Ok(match load_settings(data_dir, root)? {
        Some(saved) => saved,
        None => ProjectSettings::from_detection(&detect(root)),
    })
}

/// Sets `name` for the project's checks, in the keyring when `secret`; returns the saved
/// settings (which hold the secret's name only).
pub fn set_value(
    data_dir: &Path,
    root: &Path,
    name: &str,
    value: &str,
    secret: bool,
) -> Result<ProjectSettings, AppError> {
    check_name(name)?;
    let mut settings = current(data_dir, root)?;
    if secret {
        SecretStore::os(data_dir).set_project_value(&project_id(root), name, value)?;
        settings.env.remove(name);
        if !settings.secret_env.iter().any(|known| known == name) {
            settings.secret_env.push(name.to_owned());
        }
    } else {
        settings.env.insert(name.to_owned(), value.to_owned());
        if settings.secret_env.iter().any(|known| known == name) {
            SecretStore::os(data_dir).delete_project_value(&project_id(root), name)?;
            settings.secret_env.retain(|known| known != name);
        }
    }
    save_settings(data_dir, root, &settings)?;
    Ok(settings)
}

/// A value a person gives for the tests: typed, or a test value Slipway proposed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GivenValue {
    pub name: String,
    /// Kept in the keyring.
    pub secret: bool,
    pub value: TestValue,
}

/// Sets each of `values` as `set_value` does; a random key is made here and goes straight to
/// the keyring, so it is never seen. Every name is checked before any is saved.
pub fn give_values(data_dir: &Path, root: &Path, values: &[GivenValue]) -> Result<ProjectSettings, AppError> {
    for given in values {
        check_name(&given.name)?;
    }
    let mut settings = current(data_dir, root)?;
    for given in values {
        let (value, secret) = match &given.value {
            TestValue::Text { value } => (value.clone(), given.secret),
            TestValue::RandomKey { length } => (random_key(*length)?, true),
        };
        settings = set_value(data_dir, root, &given.name, &value, secret)?;
    }
    Ok(settings)
}

/// Removes `name` from the settings and, when it was secret, from the keyring.
pub fn unset_value(data_dir: &Path, root: &Path, name: &str) -> Result<ProjectSettings, AppError> {
    let mut settings = current(data_dir, root)?;
    if settings.secret_env.iter().any(|known| known == name) {
        SecretStore::os(data_dir).delete_project_value(&project_id(root), name)?;
        settings.secret_env.retain(|known| known != name);
    }
    settings.env.remove(name);
    save_settings(data_dir, root, &settings)?;
    Ok(settings)
}
