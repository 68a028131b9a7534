//! The values a project's checks need that nothing gives yet: read with no default by its
//! settings, or taken by its CI from an expression or its secrets. Named in the plan before a
//! release and in the failure when the tests could not start without them.

use serde::Serialize;
use ts_rs::TS;

use super::detect::Detection;
use super::settings::ProjectSettings;

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
}

/// The values the gates need and do not have: read with no default by the settings, or
/// given by the CI from an expression or its secrets. A value in Slipway's own environment
/// counts as given (the checks inherit it).
pub fn needed_values(detection: &Detection, settings: &ProjectSettings) -> Vec<NeededValue> {
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

/// "The tests need SECRET_KEY and DJANGO_ALLOWED_HOSTS: set them in the project's settings."
/// for the values the tests cannot start without; for the others, which the CI gives and the
/// settings default, a softer word.
pub fn needs_sentence(needs: &[NeededValue]) -> Option<String> {
    let required: Vec<&str> = needs
        .iter()
        .filter(|need| need.required)
        .map(|need| need.name.as_str())
        .collect();
    let optional: Vec<&str> = needs
        .iter()
        .filter(|need| !need.required)
        .map(|need| need.name.as_str())
        .collect();
    let them = |names: &[&str]| if names.len() == 1 { "it" } else { "them" };
    match (required.is_empty(), optional.is_empty()) {
        (true, true) => None,
        (false, _) => Some(format!(
            "The tests need {}: set {} in the project's settings.",
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
