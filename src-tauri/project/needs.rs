//! The values a project's checks need that nothing gives yet: read with no default by its
//! settings, or taken by its CI from an expression or its secrets. Named in the plan before a
//! release and in the failure when the tests could not start without them.

use std::collections::BTreeMap;

use serde::Serialize;
use ts_rs::TS;

use super::detect::Detection;
use super::env_reads::EnvVarNeed;
use super::settings::ProjectSettings;
use super::test_values::{test_value, TestValue};

/// A value the gates need that nothing gives yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NeededValue {
    pub name: String,
    /// Why it is needed, in words: "the settings read it with no default", "your CI gives it
    /// from ${{ secrets.X }}".
    pub why: String,
    pub secret: bool,
    /// The tests' settings read it with no default: they cannot start without it. Otherwise
    /// the CI gives it and the settings have a default.
    pub required: bool,
    /// The CI keeps it in its secret store (`${{ secrets.X }}`, CircleCI's project variables or
    /// a context): the person has to give a value of their own.
    pub ci_secret: bool,
    /// A value safe for the tests that Slipway can fill in (a random key, `localhost`), if any.
    pub test_value: Option<TestValue>,
}

/// Whether the CI keeps `need` in its secret store: GitHub's `${{ secrets.X }}`, or on
/// CircleCI a `$X` from the project's variables or a context, or a value the tests cannot do
/// without that the config never sets (CircleCI runs them, so it has it from there).
fn kept_in_ci_secrets(need: &EnvVarNeed, circleci: bool) -> bool {
    match &need.ci_expression {
        Some(expression) => expression.contains("secrets.") || (circleci && expression.trim_start().starts_with('$')),
        None => circleci && need.required && need.ci_value.is_none(),
    }
}

/// The values the gates need and do not have: read with no default by the settings, or
/// given by the CI from an expression or its secrets. A value in Slipway's own environment
/// counts as given (the checks inherit it).
pub fn needed_values(detection: &Detection, settings: &ProjectSettings) -> Vec<NeededValue> {
    // The services the checks start: the addresses the tests would read for them.
    needed_values_with_services(
        detection,
        settings,
        &super::service_spec::test_urls(&detection.services),
    )
}

/// As `needed_values`, with the addresses of the services Slipway starts for the checks (by
/// the variable the tests read each from, `DATABASE_URL`): they are proposed as test values.
pub fn needed_values_with_services(
    detection: &Detection,
    settings: &ProjectSettings,
    service_urls: &BTreeMap<String, String>,
) -> Vec<NeededValue> {
    let circleci = detection.ci_files.iter().any(|file| file.starts_with(".circleci/"));
    detection
        .env_vars
        .iter()
        .filter(|need| {
            !settings.env.contains_key(&need.name)
                && !settings.secret_env.contains(&need.name)
                && !need.in_dotenv
                && std::env::var_os(&need.name).is_none()
                // `${{ job.services.postgres.ports[5432] }}`: the service's port here, given by the checks.
                && !need.ci_expression.as_deref().is_some_and(|expression| expression.contains("job.services."))
        })
        .filter_map(|need| {
            let why = match (&need.ci_expression, need.required) {
                // A value the CI computes matters only when the project's code reads it.
                (Some(expression), _) if need.read_by_code || need.required => {
                    format!("your CI gives it from {expression}")
                }
                (None, true) if kept_in_ci_secrets(need, circleci) => format!(
                    "{} reads it with no default; your CI's config does not set it, so CircleCI gives it from the project's variables or a context",
                    need.sources.last().cloned().unwrap_or_default()
                ),
                (None, true) => format!(
                    "{} reads it with no default",
                    need.sources.last().cloned().unwrap_or_default()
                ),
                _ => return None,
            };
            Some(NeededValue {
                name: need.name.clone(),
                why,
                secret: need.secret,
                required: need.required,
                ci_secret: kept_in_ci_secrets(need, circleci),
                test_value: test_value(&need.name, service_urls),
            })
        })
        .collect()
}

fn listed(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// "The tests need DJANGO_SECRET_KEY and DATABASE_URL; your CI keeps them in its secret store:
/// set them in the project's settings." for the values the tests cannot start without; for the
/// others, which the CI gives and the settings default, a softer word.
pub fn needs_sentence(needs: &[NeededValue]) -> Option<String> {
    let required: Vec<&str> = needs
        .iter()
        .filter(|need| need.required)
        .map(|need| need.name.as_str())
        .collect();
    let kept: Vec<&str> = needs
        .iter()
        .filter(|need| need.required && need.ci_secret)
        .map(|need| need.name.as_str())
        .collect();
    let optional: Vec<&str> = needs
        .iter()
        .filter(|need| !need.required)
        .map(|need| need.name.as_str())
        .collect();
    let them = |names: &[&str]| if names.len() == 1 { "it" } else { "them" };
    let kept_words = if kept.is_empty() {
        String::new()
    } else if kept.len() == required.len() {
        format!("; your CI keeps {} in its secret store", them(&kept))
    } else {
        format!("; your CI keeps {} in its secret store", listed(&kept))
    };
    match (required.is_empty(), optional.is_empty()) {
        (true, true) => None,
        (false, _) => Some(format!(
            "The tests need {}{kept_words}: set {} in the project's settings.",
            listed(&required),
            them(&required)
        )),
        (true, false) => Some(format!(
            "Your CI gives {} from its secrets or variables; here the settings' defaults are used unless you set {} in the project's settings.",
            listed(&optional),
            them(&optional)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(name: &str, required: bool, ci_secret: bool) -> NeededValue {
        NeededValue {
            name: name.to_owned(),
            why: String::new(),
            secret: false,
            required,
            ci_secret,
            test_value: None,
        }
    }

    #[test]
    fn the_sentence_says_the_ci_keeps_them_in_its_secret_store() {
        assert_eq!(
            needs_sentence(&[need("DJANGO_SECRET_KEY", true, true), need("DATABASE_URL", true, true)]).as_deref(),
            Some("The tests need DJANGO_SECRET_KEY and DATABASE_URL; your CI keeps them in its secret store: set them in the project's settings.")
        );
        assert_eq!(
            needs_sentence(&[need("SECRET_KEY", true, true), need("HOSTS", true, false)]).as_deref(),
            Some("The tests need SECRET_KEY and HOSTS; your CI keeps SECRET_KEY in its secret store: set them in the project's settings.")
        );
        assert_eq!(
            needs_sentence(&[need("HOSTS", true, false)]).as_deref(),
            Some("The tests need HOSTS: set it in the project's settings.")
        );
        assert_eq!(needs_sentence(&[]), None);
    }

    #[test]
    fn circleci_keeps_what_its_config_never_sets() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        let write = |file: &str, text: &str| -> std::io::Result<()> {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap_or(root))?;
            std::fs::write(path, text)
        };
        write(
            ".circleci/config.yml",
            "version: 2.1\njobs:\n  test:\n    docker:\n      - image: cimg/python:3.12\n    steps:\n      - checkout\n      - run: pytest\n",
        )?;
        write(
            "settings.py",
            "from decouple import config\nSECRET_KEY = config('DJANGO_SECRET_KEY')\nDEBUG = config('DEBUG', default=False, cast=bool)\n",
        )?;
        let detection = super::super::detect(root);
        let needs = needed_values(&detection, &ProjectSettings::from_detection(&detection));
        assert_eq!(needs.len(), 1, "{needs:?}");
        assert!(needs[0].name == "DJANGO_SECRET_KEY" && needs[0].ci_secret && needs[0].required);
        assert_eq!(needs[0].test_value, Some(TestValue::RandomKey { length: 50 }));
        assert_eq!(
            needs_sentence(&needs).as_deref(),
            Some("The tests need DJANGO_SECRET_KEY; your CI keeps it in its secret store: set it in the project's settings.")
        );
        Ok(())
    }
}
