//! The image's build arguments as the project's CI or Compose file passes them
//! (`--build-arg NAME=value`, build-push-action's `build-args:`, Compose's `build.args`).
//!
//! A literal that does not look secret goes into the settings (`build_args`), as the CI has
//! it. Any other one (a name that looks secret, `${{ secrets.X }}`, `$VERSION`) is a value the
//! person gives, as they give the tests' values: its name goes into `build_args_given`, its
//! value into the keyring when secret (never the settings file), and the build reads it from
//! there at the last moment. The plan names the ones nobody gave yet
//! ([`ProjectSettings::missing_build_args`](super::ProjectSettings::missing_build_args)).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::ci::{DockerBuild, COMPOSE_FILES};
use super::env_reads::is_secret_name;

/// One build argument the CI or Compose file passes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BuildArg {
    pub name: String,
    /// The CI's literal value, when it has one and it does not look secret.
    pub value: Option<String>,
    /// What the CI computes it from (`${{ secrets.SENTRY_AUTH_TOKEN }}`), when it does.
    pub expression: Option<String>,
    /// Kept in the keyring and passed to the build only.
    pub secret: bool,
    /// Where it was found: `docker-compose.yml (service web)`, a workflow's job.
    pub source: String,
}

/// The build arguments of the build the CI runs.
pub fn found(build: &DockerBuild) -> Vec<BuildArg> {
    build
        .args
        .iter()
        .map(|(name, variable)| {
            let secret = is_secret_name(name)
                || variable
                    .expression
                    .as_deref()
                    .is_some_and(|expression| expression.contains("secrets."));
            BuildArg {
                name: name.clone(),
                value: variable.value.clone().filter(|_| !secret),
                expression: variable.expression.clone(),
                secret,
                source: variable.source.clone(),
            }
        })
        .collect()
}

/// The settings' two halves: the literal values, and the names a person gives values for.
pub fn split_for_settings(args: &[BuildArg]) -> (BTreeMap<String, String>, Vec<String>) {
    let literal = args
        .iter()
        .filter_map(|arg| arg.value.clone().map(|value| (arg.name.clone(), value)))
        .collect();
    let given = args
        .iter()
        .filter(|arg| arg.value.is_none())
        .map(|arg| arg.name.clone())
        .collect();
    (literal, given)
}

/// "The image build needs SENTRY_AUTH_TOKEN, which your CI passes to it from its secret store
/// (ci.yml (job build)): give it …", or "…, which docker-compose.yml (service web) passes to
/// it: …", for the plan; `None` when every one is given.
pub fn missing_sentence(names: &[String], args: &[BuildArg], project: &str) -> Option<String> {
    let first = names.first()?;
    let listed = match names {
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        [] => return None,
    };
    let found = args.iter().find(|arg| arg.name == *first);
    let from_secrets = found
        .and_then(|arg| arg.expression.as_deref())
        .is_some_and(|expression| expression.contains("secrets."));
    let who = match found {
        Some(arg) if COMPOSE_FILES.iter().any(|file| arg.source.starts_with(file)) => {
            format!("{} passes to it", arg.source)
        }
        Some(arg) if from_secrets => format!("your CI passes to it from its secret store ({})", arg.source),
        Some(arg) => format!("your CI passes to it ({})", arg.source),
        None => "your CI passes to it".to_owned(),
    };
    let secret = args.iter().any(|arg| names.contains(&arg.name) && arg.secret);
    let name = if names.len() == 1 { first.as_str() } else { "NAME" };
    Some(format!(
        "The image build needs {listed}, which {who}: give {} in the project's values (`slipway env set --project {project}{} {name}`).",
        if names.len() == 1 { "it" } else { "them" },
        if secret { " --secret" } else { "" },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::ci::CiVariable;
    use crate::project::{LintTool, ProjectSettings};

    fn variable(value: Option<&str>, expression: Option<&str>) -> CiVariable {
        CiVariable {
            value: value.map(str::to_owned),
            expression: expression.map(str::to_owned),
            source: "ci.yml".to_owned(),
        }
    }

    #[test]
    fn secret_looking_and_computed_arguments_are_given_by_the_person() {
        let build = DockerBuild {
            dockerfile: None,
            context: "src".to_owned(),
            source: "ci.yml".to_owned(),
            args: vec![
                ("APP_VERSION".to_owned(), variable(Some("1.4"), None)),
                ("API_KEY".to_owned(), variable(Some("written-in-the-ci"), None)),
                ("SENTRY_AUTH".to_owned(), variable(None, Some("${{ secrets.SENTRY }}"))),
                ("COMMIT".to_owned(), variable(None, Some("$GITHUB_SHA"))),
            ],
        };
        let args = found(&build);
        let secret: Vec<bool> = args.iter().map(|arg| arg.secret).collect();
        assert_eq!(secret, [false, true, true, false]);
        assert_eq!(args[1].value, None, "a secret-looking literal is never copied");
        let (literal, given) = split_for_settings(&args);
        assert_eq!(
            literal.into_iter().collect::<Vec<_>>(),
            [("APP_VERSION".to_owned(), "1.4".to_owned())]
        );
        assert_eq!(given, ["API_KEY", "SENTRY_AUTH", "COMMIT"]);

        let mut settings = ProjectSettings::with_commands("pytest", LintTool::Ruff, "ruff check");
        settings.build_args_given = Some(given);
        settings.secret_env.push("API_KEY".to_owned());
        settings.env.insert("COMMIT".to_owned(), "abc".to_owned());
        assert_eq!(settings.missing_build_args(), ["SENTRY_AUTH"]);
        let sentence = missing_sentence(&settings.missing_build_args(), &args, "/p").unwrap_or_default();
        assert_eq!(
            sentence,
            "The image build needs SENTRY_AUTH, which your CI passes to it from its secret store (ci.yml): give it in the project's values (`slipway env set --project /p --secret SENTRY_AUTH`)."
        );
        settings.secret_env.push("SENTRY_AUTH".to_owned());
        assert_eq!(missing_sentence(&settings.missing_build_args(), &args, "/p"), None);
    }
}
