//! Values Slipway can propose for the tests when a person has none at hand: a random secret
//! key, `localhost` hosts, `1` for a debug flag, and the address of a service Slipway starts
//! for the checks. Only values that are safe whatever the project does with them: a database
//! address is never guessed (a `sqlite:///` URL would let tests pass against a database the
//! CI never uses).
//!
//! A random key is made here when it is saved, straight into the keyring: the web view learns
//! only that it is "a random key, 50 characters".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{AppError, ErrorKind};

/// How long a random secret key is (Django's own `get_random_secret_key` makes 50).
pub const RANDOM_KEY_LENGTH: u32 = 50;

/// Letters a random key is made of: no quote, `$` or `%`, which a shell, a `.env` or an ini
/// file would read as something else.
const KEY_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";

/// A value for the tests, as proposed and as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum TestValue {
    /// This text, shown as it is.
    #[serde(rename_all = "camelCase")]
    Text { value: String },
    /// A random key of this many characters, made when it is saved; never shown.
    #[serde(rename_all = "camelCase")]
    RandomKey { length: u32 },
}

/// The value to propose for `name`, if it has an obvious safe one. `service_urls` are the
/// addresses of services Slipway starts for the checks, by the variable the tests read each
/// from (`DATABASE_URL`): they come first.
pub fn test_value(name: &str, service_urls: &BTreeMap<String, String>) -> Option<TestValue> {
    if let Some(url) = service_urls.get(name) {
        return Some(TestValue::Text { value: url.clone() });
    }
    let upper = name.to_uppercase();
    if upper.ends_with("SECRET_KEY")
        || upper == "SECRET"
        || upper.ends_with("_SECRET")
        || upper.ends_with("SIGNING_KEY")
    {
        Some(TestValue::RandomKey {
            length: RANDOM_KEY_LENGTH,
        })
    } else if upper.ends_with("ALLOWED_HOSTS") {
        Some(TestValue::Text {
            value: "localhost,127.0.0.1".to_owned(),
        })
    } else if upper == "DEBUG" || upper.ends_with("_DEBUG") {
        // `1` reads as true to decouple, environs, django-environ, pydantic and `int()`.
        Some(TestValue::Text { value: "1".to_owned() })
    } else {
        None
    }
}

/// A random key of `length` characters from the system's random source.
pub fn random_key(length: u32) -> Result<String, AppError> {
    let mut bytes = vec![0u8; length as usize];
    getrandom::fill(&mut bytes).map_err(|error| {
        AppError::new(
            ErrorKind::Unknown,
            format!("No random key could be made: the system's random source failed ({error})."),
            "Type a value instead.",
        )
    })?;
    // 256 is a multiple of the 64 letters: every letter is as likely.
    Ok(bytes
        .iter()
        .map(|byte| char::from(KEY_ALPHABET[usize::from(*byte) % KEY_ALPHABET.len()]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_obvious_safe_values_are_proposed() {
        let none = BTreeMap::new();
        assert_eq!(
            test_value("DJANGO_SECRET_KEY", &none),
            Some(TestValue::RandomKey { length: 50 })
        );
        assert_eq!(
            test_value("DJANGO_ALLOWED_HOSTS", &none),
            Some(TestValue::Text {
                value: "localhost,127.0.0.1".to_owned()
            })
        );
        assert_eq!(
            test_value("DEBUG", &none),
            Some(TestValue::Text { value: "1".to_owned() })
        );
        assert_eq!(test_value("DATABASE_URL", &none), None, "a database is never guessed");
        assert_eq!(
            test_value("AWS_SECRET_ACCESS_KEY", &none),
            None,
            "a credential is not a key to make up"
        );
        assert_eq!(test_value("SENTRY_DSN", &none), None);
        let services = BTreeMap::from([(
            "DATABASE_URL".to_owned(),
            "postgres://u:p@127.0.0.1:55432/db".to_owned(),
        )]);
        assert_eq!(
            test_value("DATABASE_URL", &services),
            Some(TestValue::Text {
                value: "postgres://u:p@127.0.0.1:55432/db".to_owned()
            })
        );
    }

    #[test]
    fn random_keys_are_long_and_differ() -> Result<(), AppError> {
        let (one, two) = (random_key(50)?, random_key(50)?);
        assert_eq!(one.len(), 50);
        assert_ne!(one, two);
        assert!(one.bytes().all(|byte| KEY_ALPHABET.contains(&byte)));
        Ok(())
    }
}
