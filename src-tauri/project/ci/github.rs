//! What only GitHub Actions' workflows say: a step that `uses:` an action (the Python
//! `actions/setup-python` sets up, the image `docker/build-push-action` builds, and actions that
//! deploy, upload or notify, listed as not run).

use serde_norway::Value;

use super::bounded::yaml_text;
use super::findings::{CiFindings, DockerBuild, Found};
use super::setup::build_arg;
use crate::project::gate_spec::SkippedCommand;

/// A step of `job` that `uses:` `action`, with its `with:` inputs.
pub(super) fn action_step(job: &Value, step: &Value, action: &str, source: &str, findings: &mut CiFindings) {
    let with = step.get("with");
    let input = |name: &str| with.and_then(|with| with.get(name)).and_then(yaml_text);
    if action.starts_with("actions/setup-python") && findings.python_version.is_none() {
        findings.python_version = input("python-version")
            .map(|version| matrix_values(job, &version).unwrap_or(version))
            .map(|value| Found {
                value,
                source: source.to_owned(),
            });
    }
    if action.starts_with("docker/build-push-action") && findings.docker_build.is_none() {
        let context = input("context").unwrap_or_else(|| ".".to_owned());
        findings.docker_build = Some(DockerBuild {
            dockerfile: input("file").map(|file| file.trim_start_matches("./").to_owned()),
            context: context.trim_start_matches("./").trim_end_matches('/').to_owned(),
            source: source.to_owned(),
            // One `NAME=value` a line (a list's items work too).
            args: with
                .and_then(|with| with.get("build-args"))
                .map(|args| match args.as_sequence() {
                    Some(items) => items.iter().filter_map(yaml_text).collect::<Vec<_>>(),
                    None => yaml_text(args)
                        .map(|text| text.lines().map(str::to_owned).collect())
                        .unwrap_or_default(),
                })
                .unwrap_or_default()
                .iter()
                .map(|line| line.trim())
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(|line| build_arg(line, source))
                .collect(),
        });
    }
    if let Some(reason) = action_reason(action) {
        findings.skipped.push(SkippedCommand {
            line: format!("uses: {action}"),
            source: source.to_owned(),
            reason: reason.to_owned(),
        });
    }
}

/// `${{ matrix.python-version }}` → the matrix's values, `3.11, 3.12`.
fn matrix_values(job: &Value, expression: &str) -> Option<String> {
    let name = expression
        .trim()
        .strip_prefix("${{")?
        .strip_suffix("}}")?
        .trim()
        .strip_prefix("matrix.")?;
    let values = job.get("strategy")?.get("matrix")?.get(name)?.as_sequence()?;
    let values: Vec<String> = values.iter().filter_map(yaml_text).collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// GitHub Actions that deploy, upload or notify.
fn action_reason(action: &str) -> Option<&'static str> {
    let name = action.to_lowercase();
    if name.contains("codecov") || name.contains("coveralls") {
        Some("uploads coverage to a web service: not a check")
    } else if name.starts_with("docker/build-push-action") {
        Some("builds and pushes the image: the release's build and push steps do that")
    } else if name.contains("deploy")
        || name.contains("render")
        || name.contains("heroku")
        || name.contains("slack")
        || name.contains("notify")
    {
        Some("deploys or notifies: not a check")
    } else {
        None
    }
}
