//! `slipway project show|set` and `slipway env set|unset`: everything Slipway detected and
//! saved for a project, each with where it came from, and the way to change one field or
//! value without a text editor.

use std::io::Read;
use std::process::ExitCode;

use super::fail;
use crate::error::{AppError, ErrorKind};
use crate::paths::AppPaths;
use crate::project::{self, Detection, ProjectSettings};

/// What `project show --json` prints: detection, the settings in force, and whether saved.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Shown<'a> {
    path: String,
    saved: bool,
    settings: &'a ProjectSettings,
    detection: &'a Detection,
}

fn load(
    paths: &AppPaths,
    project_dir: &str,
) -> Result<(std::path::PathBuf, Detection, ProjectSettings, bool), AppError> {
    let root = project::resolve_folder(project_dir)?;
    let detection = project::detect(&root);
    let (settings, saved) = project::settings_or_detected(&paths.data_dir, &root, &detection)?;
    Ok((root, detection, settings, saved))
}

/// The settings with secret values hidden: names only, as everywhere else.
fn shown_settings(settings: &ProjectSettings, detection: &Detection) -> ProjectSettings {
    let mut shown = settings.clone();
    for (name, value) in shown.env.iter_mut() {
        if detection.env_vars.iter().any(|need| need.name == *name && need.secret) {
            *value = "(secret)".to_owned();
        }
    }
    shown
}

pub(super) fn show(paths: &AppPaths, project_dir: &str, json: bool) -> ExitCode {
    let (root, detection, settings, saved) = match load(paths, project_dir) {
        Ok(loaded) => loaded,
        Err(error) => return fail(&error),
    };
    let settings = shown_settings(&settings, &detection);
    if json {
        let shown = Shown {
            path: root.display().to_string(),
            saved,
            settings: &settings,
            detection: &detection,
        };
        match serde_json::to_string(&shown) {
            Ok(text) => println!("{}", crate::secrets::redact(&text)),
            Err(error) => return fail(&AppError::new(ErrorKind::Unknown, error.to_string(), "Try again.")),
        }
        return ExitCode::SUCCESS;
    }
    print!(
        "{}",
        crate::secrets::redact(&render(&root, &detection, &settings, saved))
    );
    ExitCode::SUCCESS
}

fn render(root: &std::path::Path, detection: &Detection, settings: &ProjectSettings, saved: bool) -> String {
    let mut out = format!(
        "{}\n  settings: {}\n",
        root.display(),
        if saved { "saved" } else { "as detected (not saved yet)" }
    );
    let from = |value: &str, detected: &str, source: &str| {
        if value == detected {
            format!("({source})")
        } else {
            "(saved)".to_owned()
        }
    };
    out.push_str(&format!(
        "  tests:   {} {}\n",
        settings.test_command,
        from(
            &settings.test_command,
            &detection.test_command.value,
            &detection.test_command.source
        )
    ));
    if let Some(origin) = &detection.test_origin {
        out.push_str(&format!("           CI line: {}\n", origin.line));
    }
    out.push_str(&format!(
        "  lint:    {} [{}{}]{}\n",
        settings.lint_command,
        settings.lint_tool.package(),
        settings
            .lint_version
            .as_deref()
            .map(|v| format!(" {v}"))
            .unwrap_or_default(),
        if settings.lint_enabled { "" } else { " (turned off)" }
    ));
    for gate in &settings.gates {
        out.push_str(&format!(
            "  gate:    {} `{}` ({}){}\n",
            gate.id,
            gate.command,
            gate.source,
            if gate.enabled { "" } else { " (turned off)" }
        ));
    }
    let python = &detection.python;
    let install = settings
        .install_from
        .clone()
        .unwrap_or_else(|| python.install_from.clone());
    out.push_str(&format!(
        "  python:  {} from {} ({:?}; {})\n",
        settings.venv.as_deref().unwrap_or("an environment Slipway makes"),
        if install.is_empty() {
            "nothing".to_owned()
        } else {
            install.join(", ")
        },
        python.installer,
        python.install_source
    ));
    if !python.packages.is_empty() {
        out.push_str(&format!("           and {}\n", python.packages.join(" ")));
    }
    if let Some(requires) = &python.requires_python {
        out.push_str(&format!(
            "           requires Python {} ({})\n",
            requires.value, requires.source
        ));
    }
    if let Some(ci) = &python.ci_python {
        out.push_str(&format!("           prefers Python {} ({})\n", ci.value, ci.source));
    }
    out.push_str(&format!(
        "  image:   {} (context {}){}\n",
        settings.dockerfile.as_deref().unwrap_or("no Dockerfile"),
        settings.build_context.as_deref().unwrap_or("."),
        detection
            .dockerfile
            .as_ref()
            .filter(|chosen| settings.dockerfile.as_deref() == Some(chosen.value.as_str()))
            .map(|chosen| format!(" ({})", chosen.source))
            .unwrap_or_default()
    ));
    for (name, value) in settings.build_args.iter().flatten() {
        out.push_str(&format!("  build arg: {name}={value}\n"));
    }
    for name in settings.build_args_given.iter().flatten() {
        let state = if settings.secret_env.contains(name) {
            "set (in the keyring)"
        } else if settings.env.contains_key(name) {
            "set"
        } else {
            "not set"
        };
        out.push_str(&format!("  build arg: {name} {state}\n"));
    }
    for need in &detection.env_vars {
        let value = if settings.secret_env.contains(&need.name) {
            "set (in the keyring)".to_owned()
        } else {
            match settings.env.get(&need.name) {
                Some(_) if need.secret => "set (secret)".to_owned(),
                Some(value) => format!("= {value}"),
                None => "not set".to_owned(),
            }
        };
        out.push_str(&format!(
            "  env:     {} {value} ({})\n",
            need.name,
            need.sources.join(", ")
        ));
    }
    out.push_str(&format!(
        "  sandbox: {}\n",
        crate::checks::sandbox_note(settings.sandbox_enabled())
    ));
    out.push_str(&format!(
        "  push first: {}\n  circleci: {}{}\n",
        if settings.push_first_enabled() { "on" } else { "off" },
        settings
            .circleci_project
            .as_deref()
            .unwrap_or("(the one the origin remote names)"),
        if settings.wait_for_ci {
            ", waited for before deploying"
        } else {
            ""
        }
    ));
    out.push_str(&format!(
        "  docker context: {}\n",
        settings
            .docker_context
            .as_deref()
            .unwrap_or("(the one Docker's own settings choose)")
    ));
    for skipped in &detection.ci_skipped {
        out.push_str(&format!("  not run: {} ({})\n", skipped.line, skipped.reason));
    }
    out
}

/// The fields `project set` changes, and what each takes.
const FIELDS: &str =
    "test-command, lint-command, lint-tool (ruff|flake8), lint (on|off), gate <id> (on|off), venv (path|none), \
install-from (files, comma-separated|none), dockerfile, build-context, image-repository, container-port, \
health-path, check-timeout (seconds), sandbox (on|off), push-first (on|off), wait-for-ci (on|off), \
circleci-project (gh/owner/repository|none), docker-context (a name from `docker context ls`|none)";

fn invalid(message: String) -> AppError {
    AppError::new(ErrorKind::Validation, message, format!("Fields: {FIELDS}."))
}

fn on_off(value: &str) -> Result<bool, AppError> {
    match value {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        other => Err(invalid(format!("\"{other}\" is neither on nor off."))),
    }
}

fn optional(value: &str) -> Option<String> {
    Some(value.trim().to_owned()).filter(|value| !value.is_empty() && value != "none")
}

/// Applies `field = value` to `settings`.
pub fn set_field(settings: &mut ProjectSettings, field: &str, values: &[String]) -> Result<(), AppError> {
    let value = values.join(" ");
    match field {
        "test-command" if !value.trim().is_empty() => settings.test_command = value,
        "lint-command" if !value.trim().is_empty() => settings.lint_command = value,
        "lint" => settings.lint_enabled = on_off(&value)?,
        // Which linter reads the lint command's output: detection may have guessed wrong.
        "lint-tool" => {
            let tool = match value.trim() {
                "ruff" => project::LintTool::Ruff,
                "flake8" => project::LintTool::Flake8,
                other => {
                    return Err(invalid(format!(
                        "\"{other}\" is not a linter Slipway runs: ruff or flake8."
                    )))
                }
            };
            // A command written for the other linter would not run: it follows, unless edited.
            let default_for = |tool: project::LintTool| match tool {
                project::LintTool::Flake8 => "flake8",
                project::LintTool::Ruff => "ruff check",
            };
            if settings.lint_command.trim() == default_for(settings.lint_tool) {
                settings.lint_command = default_for(tool).to_owned();
            }
            settings.lint_tool = tool;
        }
        "gate" => {
            let [id, state] = values else {
                return Err(invalid("`gate` takes the gate's id and on or off.".to_owned()));
            };
            let ids: Vec<String> = settings.gates.iter().map(|gate| gate.id.clone()).collect();
            let gate = settings.gates.iter_mut().find(|gate| gate.id == *id).ok_or_else(|| {
                invalid(format!(
                    "No gate is called {id}; the project's are: {}.",
                    ids.join(", ")
                ))
            })?;
            gate.enabled = on_off(state)?;
        }
        "venv" => settings.venv = optional(&value),
        "install-from" => {
            settings.install_from =
                optional(&value).map(|list| list.split(',').map(|file| file.trim().to_owned()).collect())
        }
        "dockerfile" => settings.dockerfile = optional(&value),
        "build-context" => settings.build_context = optional(&value),
        "image-repository" => settings.image_repository = optional(&value),
        "container-port" => {
            settings.container_port = match optional(&value) {
                Some(port) => Some(
                    port.parse()
                        .map_err(|_| invalid(format!("\"{port}\" is not a port number.")))?,
                ),
                None => None,
            }
        }
        "health-path" => settings.health_path = optional(&value),
        "sandbox" => settings.sandbox = Some(on_off(&value)?),
        "push-first" => settings.push_first = Some(on_off(&value)?),
        "wait-for-ci" => settings.wait_for_ci = on_off(&value)?,
        "circleci-project" => {
            settings.circleci_project = optional(&value);
            if let Some(slug) = &settings.circleci_project {
                if slug.split('/').filter(|part| !part.is_empty()).count() != 3 {
                    return Err(invalid(format!(
                        "\"{slug}\" is not a CircleCI project: it reads vcs/owner/repository (gh/acme/shop)."
                    )));
                }
            }
        }
        // Checked when a release is planned: the context may be made after it is named.
        "docker-context" => settings.docker_context = optional(&value),
        "check-timeout" => {
            settings.check_timeout_secs = value
                .trim()
                .parse()
                .map_err(|_| invalid(format!("\"{value}\" is not a number of seconds.")))?
        }
        "test-command" | "lint-command" => return Err(invalid(format!("The {field} cannot be empty."))),
        other => return Err(invalid(format!("Slipway has no project field \"{other}\"."))),
    }
    Ok(())
}

pub(super) fn set(paths: &AppPaths, project_dir: &str, field: &str, values: &[String]) -> ExitCode {
    let (root, _, mut settings, _) = match load(paths, project_dir) {
        Ok(loaded) => loaded,
        Err(error) => return fail(&error),
    };
    if let Err(error) = set_field(&mut settings, field, values) {
        return fail(&error);
    }
    match project::save_settings(&paths.data_dir, &root, &settings) {
        Ok(()) => {
            println!("Saved {field} for {}", root.display());
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error.into()),
    }
}

/// `slipway env set`: the value comes from standard input, so it is never in the shell's
/// history. A secret goes to the keyring; any other value into the project's settings.
pub(super) fn env_set(paths: &AppPaths, project_dir: &str, name: &str, secret: bool) -> ExitCode {
    let (root, detection, _, _) = match load(paths, project_dir) {
        Ok(loaded) => loaded,
        Err(error) => return fail(&error),
    };
    let mut value = String::new();
    if let Err(error) = std::io::stdin().read_to_string(&mut value) {
        return fail(&AppError::new(
            ErrorKind::Io,
            format!("Could not read the value: {error}"),
            "Pipe the value in: `echo -n VALUE | slipway env set …`.",
        ));
    }
    let value = value.trim_end_matches(['\n', '\r']);
    let secret = secret
        || detection.env_vars.iter().any(|need| need.name == name && need.secret)
        || detection.build_args.iter().any(|arg| arg.name == name && arg.secret);
    match project::set_value(&paths.data_dir, &root, name, value, secret) {
        Ok(_) => {
            println!("Saved {name}{}", if secret { " in the keyring" } else { "" });
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

pub(super) fn env_unset(paths: &AppPaths, project_dir: &str, name: &str) -> ExitCode {
    let root = match project::resolve_folder(project_dir) {
        Ok(root) => root,
        Err(error) => return fail(&error.into()),
    };
    match project::unset_value(&paths.data_dir, &root, name) {
        Ok(_) => {
            println!("Removed {name}");
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_set_by_name_and_nonsense_is_refused() {
        let mut settings = ProjectSettings::with_commands("pytest", project::LintTool::Flake8, "flake8");
        set_field(&mut settings, "test-command", &["pytest".into(), "-x".into()]).ok();
        assert_eq!(settings.test_command, "pytest -x");
        assert!(set_field(&mut settings, "lint", &["off".into()]).is_ok());
        assert!(!settings.lint_enabled);
        assert!(set_field(
            &mut settings,
            "install-from",
            &["app/requirements.txt, requirements-dev.txt".into()]
        )
        .is_ok());
        assert_eq!(
            settings.install_from,
            Some(vec![
                "app/requirements.txt".to_owned(),
                "requirements-dev.txt".to_owned()
            ])
        );
        assert!(set_field(&mut settings, "container-port", &["eighty".into()]).is_err());
        assert!(settings.sandbox_enabled(), "on unless turned off");
        assert!(set_field(&mut settings, "sandbox", &["off".into()]).is_ok());
        assert_eq!(settings.sandbox, Some(false));
        assert!(set_field(&mut settings, "sandbox", &["maybe".into()]).is_err());
        assert!(settings.push_first_enabled(), "pushing first is on unless turned off");
        assert!(set_field(&mut settings, "push-first", &["off".into()]).is_ok());
        assert!(!settings.push_first_enabled());
        assert!(set_field(&mut settings, "wait-for-ci", &["on".into()]).is_ok());
        assert!(settings.wait_for_ci);
        assert!(set_field(&mut settings, "circleci-project", &["gh/acme/shop".into()]).is_ok());
        assert_eq!(settings.circleci_project.as_deref(), Some("gh/acme/shop"));
        assert!(set_field(&mut settings, "circleci-project", &["acme/shop".into()]).is_err());
        assert!(set_field(&mut settings, "docker-context", &["team".into()]).is_ok());
        assert_eq!(settings.docker_context.as_deref(), Some("team"));
        assert!(set_field(&mut settings, "docker-context", &["none".into()]).is_ok());
        assert_eq!(settings.docker_context, None);
        assert!(set_field(&mut settings, "test-command", &[]).is_err());
        // The linter: the default command follows it; an edited one is the person's.
        assert!(set_field(&mut settings, "lint-tool", &["ruff".into()]).is_ok());
        assert_eq!(
            (settings.lint_tool, settings.lint_command.as_str()),
            (project::LintTool::Ruff, "ruff check")
        );
        settings.lint_command = "ruff check src".to_owned();
        assert!(set_field(&mut settings, "lint-tool", &["flake8".into()]).is_ok());
        assert_eq!(
            (settings.lint_tool, settings.lint_command.as_str()),
            (project::LintTool::Flake8, "ruff check src")
        );
        let wrong = set_field(&mut settings, "lint-tool", &["pylint".into()]).err();
        assert!(wrong.is_some_and(|error| error.message.contains("ruff or flake8")));
        let unknown = set_field(&mut settings, "colour", &["blue".into()]).err();
        assert!(unknown.is_some_and(|error| error.hint.contains("test-command")));
    }
}
