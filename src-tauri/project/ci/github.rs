//! What only GitHub Actions' workflows say: a step that `uses:` an action (the Python
//! `actions/setup-python` sets up, the image `docker/build-push-action` builds, the check a
//! linter's or formatter's action runs, and actions that deploy, upload or notify, listed as not
//! run).

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

/// The command line a checking action runs, as its own documentation says it builds it from its
/// `with:` inputs, so it is read like a `run:` line (a ruff action with a `.flake8` beside it is
/// still ruff); `None` for an action that checks nothing Slipway runs. A version the action pins
/// becomes an install line, which the pins are read from.
pub(super) fn action_command(step: &Value, action: &str) -> Option<ActionCommand> {
    let with = step.get("with");
    let input = |name: &str| {
        with.and_then(|with| with.get(name))
            .and_then(yaml_text)
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty())
    };
    let name = action.split('@').next().unwrap_or(action).to_lowercase();
    let (tool, line, lets_fail) = match name.as_str() {
        // `ruff {args} {src}`: args defaults to `check`, src to the workspace.
        "astral-sh/ruff-action" | "chartboost/ruff-action" => {
            let args = input("args").unwrap_or_else(|| "check".to_owned());
            let src = input("src").unwrap_or_else(|| ".".to_owned());
            ("ruff", format!("ruff {args} {src}"), false)
        }
        // `black {options} {src}`: options default to `--check --diff`.
        "psf/black" => {
            let options = input("options").unwrap_or_else(|| "--check --diff".to_owned());
            let src = input("src").unwrap_or_else(|| ".".to_owned());
            ("black", format!("black {options} {src}"), false)
        }
        "py-actions/flake8" | "truebrain/actions-flake8" => {
            let mut words = vec!["flake8".to_owned()];
            for (input_name, option) in [
                ("max-line-length", "--max-line-length"),
                ("max_line_length", "--max-line-length"),
                ("ignore", "--ignore"),
                ("exclude", "--exclude"),
                ("select", "--select"),
            ] {
                if let Some(value) = input(input_name) {
                    words.push(format!("{option}={value}"));
                }
            }
            words.extend(input("args"));
            words.push(input("path").unwrap_or_else(|| ".".to_owned()));
            // TrueBrain's `only_warn` (any value) reports and always passes.
            ("flake8", words.join(" "), input("only_warn").is_some())
        }
        // pre-commit's own action: `pre-commit run {extra_args=--all-files}`, its hooks read.
        "pre-commit/action" => {
            let args = input("extra_args").unwrap_or_else(|| "--all-files".to_owned());
            ("pre-commit", format!("pre-commit run {args}"), false)
        }
        _ => return None,
    };
    let pinned = input("version")
        .or_else(|| input("flake8-version"))
        .filter(|version| version.starts_with(|c: char| c.is_ascii_digit()))
        .map(|version| format!("pip install {tool}=={version}"));
    Some(ActionCommand {
        line,
        install: pinned,
        lets_fail,
    })
}

/// What a checking action runs: its command line, the install its pinned version means, and
/// whether it passes whatever it finds.
pub(super) struct ActionCommand {
    pub line: String,
    pub install: Option<String>,
    pub lets_fail: bool,
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
