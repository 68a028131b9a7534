//! `slipway target list|add|set|remove` and `slipway project set sentry-project`: a project's
//! environments and its Sentry project, through the same door the window uses.

use std::process::ExitCode;

use super::args::{TargetCommand, TargetFields};
use super::fail;
use super::out::print_json;
use crate::links::{self, EnvironmentChange};
use crate::paths::AppPaths;
use crate::project::{self, ProjectSettings, Target};
use crate::settings::Settings;

fn change(fields: TargetFields, rename: Option<String>) -> EnvironmentChange {
    EnvironmentChange {
        rename,
        render_service: fields.render_service,
        image_repository: fields.image_repository,
        health_path: fields.health_path,
        sentry_environment: fields.sentry_environment,
        rehearse: fields.rehearse,
        auto_rollback: fields.auto_rollback,
        make_default: fields.default,
    }
}

/// The environments as `target list` prints them: chain order, the default marked.
fn listing(settings: &ProjectSettings) -> String {
    let default = settings.environments.default_environment().name;
    let mut text = String::new();
    for environment in settings.environments.all() {
        let effective = settings.for_environment(&environment);
        let marker = if environment.name == default { "*" } else { " " };
        let service = match (&environment.target, &environment.render_service) {
            (Target::Local, _) => "this computer".to_owned(),
            (Target::Render, Some(link)) => format!("Render {} ({})", link.name.as_deref().unwrap_or("?"), link.id),
            (Target::Render, None) => "Render: no service picked".to_owned(),
        };
        text.push_str(&format!(
            "{marker} {:<12} {service}\n    image {}  health {}  sentry environment {}{}\n",
            environment.name,
            effective
                .image_repository
                .clone()
                .unwrap_or_else(|| "(the project's folder name)".to_owned()),
            effective.health_path(),
            effective.sentry_environment.unwrap_or_default(),
            if environment.rehearses() {
                "  rehearsed here first"
            } else {
                ""
            }
        ));
    }
    if let Some(link) = &settings.sentry_project {
        text.push_str(&format!(
            "Sentry project: {} (account {})\n",
            link.label(),
            link.account
        ));
    } else {
        text.push_str("Sentry project: none (slipway project set --project DIR sentry-project ORG/SLUG)\n");
    }
    text
}

pub(super) async fn run(paths: &AppPaths, settings: Settings, command: TargetCommand) -> ExitCode {
    let data_dir = paths.data_dir.clone();
    let resolved = |dir: &str| project::resolve_folder(dir).map_err(crate::error::AppError::from);
    let done = match command {
        TargetCommand::List { project, json } => {
            let root = match resolved(&project) {
                Ok(root) => root,
                Err(error) => return fail(&error),
            };
            return match project::current_settings(&data_dir, &root) {
                Ok(found) if json => {
                    print_json(&serde_json::json!({
                        "environments": found.environments.all(),
                        "default": found.environments.default_environment().name,
                        "sentryProject": found.sentry_project,
                    }));
                    ExitCode::SUCCESS
                }
                Ok(found) => {
                    print!("{}", listing(&found));
                    ExitCode::SUCCESS
                }
                Err(error) => fail(&error.into()),
            };
        }
        TargetCommand::Add { project, name, fields } => match resolved(&project) {
            Ok(root) => links::add_environment(&data_dir, &settings, &root, &name, &change(fields, None))
                .await
                .map(|saved| (saved, format!("Added {name}"))),
            Err(error) => Err(error),
        },
        TargetCommand::Set {
            project,
            name,
            rename,
            fields,
        } => match resolved(&project) {
            Ok(root) => links::change_environment(&data_dir, &settings, &root, &name, &change(fields, rename))
                .await
                .map(|saved| (saved, format!("Saved {name}"))),
            Err(error) => Err(error),
        },
        TargetCommand::Remove { project, name } => match resolved(&project) {
            Ok(root) => {
                links::remove_environment(&data_dir, &root, &name).map(|saved| (saved, format!("Removed {name}")))
            }
            Err(error) => Err(error),
        },
    };
    match done {
        Ok((saved, said)) => {
            println!("{said}.");
            print!("{}", listing(&saved));
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

/// `slipway project set --project DIR sentry-project ORG/SLUG` (or `none`).
pub(super) async fn link_sentry(paths: &AppPaths, project_dir: &str, value: &[String]) -> ExitCode {
    let root = match project::resolve_folder(project_dir) {
        Ok(root) => root,
        Err(error) => return fail(&error.into()),
    };
    let value = value.join(" ");
    let value = value.trim();
    if value.eq_ignore_ascii_case("none") {
        return match links::unlink_sentry(&paths.data_dir, &root) {
            Ok(_) => {
                println!("{} is not linked to a Sentry project any more.", root.display());
                ExitCode::SUCCESS
            }
            Err(error) => fail(&error),
        };
    }
    let Some((organization, slug)) = value.split_once('/') else {
        return fail(&crate::error::AppError::new(
            crate::error::ErrorKind::Validation,
            format!("\"{value}\" is not ORG/SLUG."),
            "Give the organization and the project's slug, as in acme/lettings.",
        ));
    };
    match links::link_sentry(&paths.data_dir, &root, None, organization, slug).await {
        Ok(saved) => {
            let label = saved.sentry_project.map(|link| link.label()).unwrap_or_default();
            println!("{} reports to the Sentry project {label}.", root.display());
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}
