//! The headless face of the binary: `slipway <command>`. A subcommand never opens a window.
//!
//! Exit codes: 0 when all is well, 1 when a check fails, 2 on a usage error (clap's own code
//! for a bad argument).

use std::process::ExitCode;

use clap::Parser;

// Every `println!`/`print!` of the CLI goes through `out`, which never panics on a closed
// pipe (the standard ones do). Defined before the modules so they see them too.
macro_rules! println {
    () => {
        $crate::cli::out::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::cli::out::line(format_args!($($arg)*))
    };
}
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::cli::out::text(format_args!($($arg)*))
    };
}

mod accounts;
mod args;
mod check;
mod ci;
mod connect;
mod context;
mod doctor;
mod errors;
mod history;
mod out;
mod project_settings;
mod release;
mod targets;
mod team;

pub use args::{Args, Command};

use crate::logging::{self, Face};
use crate::paths::AppPaths;
use crate::settings::Settings;
use args::{AccountsCommand, EnvCommand, ProjectCommand};

/// Exit code for "could not run" and usage errors.
pub const EXIT_USAGE: u8 = 2;

/// Parses the command line; `--help`, `--version` and usage errors are printed here and end
/// with their exit code.
pub fn parse() -> Result<Args, ExitCode> {
    Args::try_parse().map_err(|error| {
        // clap prints help and version to stdout, usage errors to stderr.
        let _ = error.print();
        ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(EXIT_USAGE))
    })
}

/// The command line's usage line, as clap prints it with an error.
pub fn usage() -> String {
    <Args as clap::CommandFactory>::command().render_usage().to_string()
}

/// Runs one headless command to completion.
pub fn run(command: Command) -> ExitCode {
    let paths = match AppPaths::resolve() {
        Ok(paths) => paths,
        Err(error) => return fail(&error),
    };
    let (settings, settings_problem) = Settings::load(&paths);
    let _logging = logging::init(&paths, &settings, Face::Cli);
    // The command's name only (clap takes it first): its arguments may hold what should not
    // be written down.
    let name = format!(
        "slipway {}",
        std::env::args_os().nth(1).unwrap_or_default().to_string_lossy()
    );
    let doing = format!("Running `{name}`");
    crate::crash::watch(
        &paths.data_dir,
        &paths.log_dir,
        &format!("the command line (`{name}`)"),
        Box::new(move || vec![doing.clone()]),
    );
    crate::crash::panic_if_asked("command line");
    crate::checks::look_after_children(&paths.data_dir);
    if let Some(problem) = settings_problem {
        tracing::warn!("{problem}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("Slipway could not start its runtime: {error}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    // Services a killed `check` or `release` left are removed before the next one starts.
    if matches!(command, Command::Check { .. } | Command::Release { .. }) {
        runtime.block_on(crate::checks::remove_orphaned_services());
    }
    let code = match command {
        Command::Doctor { json, send_test_event } => {
            let code = runtime.block_on(doctor::run(&paths, json));
            if send_test_event && !logging::send_test_event() {
                eprintln!("error: error reporting is off\nhint: set SENTRY_DSN, or \"sentryDsn\" in settings.json in the data folder");
                return ExitCode::FAILURE;
            }
            code
        }
        Command::Check { project, json } => runtime.block_on(check::run(&paths, &project, json)),
        Command::Accounts(AccountsCommand::Connect(command)) => {
            runtime.block_on(connect::run(&paths, settings, command))
        }
        Command::Accounts(command) => accounts::run(&paths, command),
        Command::Release {
            resume: Some(id), json, ..
        } => runtime.block_on(release::run_resume(&paths, settings, &id, json)),
        Command::Release {
            project,
            target,
            dry_run,
            yes,
            no_cache,
            push,
            no_push,
            wait_for_ci,
            without_team_history,
            watch,
            stop_at_first,
            json,
            ..
        } => {
            let options = crate::pipeline::ReleaseOptions {
                environment: target,
                target: None,
                confirm_dirty: yes,
                confirmed_plan: None,
                no_cache,
                push_first: match (push, no_push) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                },
                wait_for_ci: wait_for_ci.then_some(true),
                without_team_history,
            };
            let watch = watch.then_some(errors::WatchOptions { stop_at_first });
            let project = project.unwrap_or_default();
            runtime.block_on(release::run_release(
                &paths, settings, &project, options, dry_run, watch, json,
            ))
        }
        Command::Ci(args) => runtime.block_on(ci::run(&paths, settings, args)),
        Command::Errors(args) => runtime.block_on(errors::run(&paths, *args)),
        Command::Watch {
            project,
            release,
            minutes,
            stop_at_first,
            json,
        } => runtime.block_on(errors::watch(
            &paths,
            settings,
            &project,
            release,
            minutes,
            errors::WatchOptions { stop_at_first },
            json,
        )),
        Command::Rollback {
            project,
            to,
            target,
            yes,
            json,
        } => runtime.block_on(release::run_rollback(&paths, settings, &project, to, target, yes, json)),
        Command::Promote { id, to, yes, json } => {
            runtime.block_on(release::run_promote(&paths, settings, &id, to, yes, json))
        }
        Command::Target(command) => runtime.block_on(targets::run(&paths, settings, command)),
        Command::History(args) => history::run(&paths, settings, *args),
        Command::Project(ProjectCommand::Show { project, json }) => project_settings::show(&paths, &project, json),
        Command::Project(ProjectCommand::Set { project, field, value }) if field == "sentry-project" => {
            runtime.block_on(targets::link_sentry(&paths, &project, &value))
        }
        Command::Project(ProjectCommand::Set { project, field, value }) => {
            project_settings::set(&paths, &project, &field, &value)
        }
        Command::Env(EnvCommand::Set { project, name, secret }) => {
            project_settings::env_set(&paths, &project, &name, secret)
        }
        Command::Env(EnvCommand::Unset { project, name }) => project_settings::env_unset(&paths, &project, &name),
    };
    // A panic on another thread that the command outlived.
    crate::crash::went_on(&paths.data_dir);
    code
}

pub(crate) fn fail(error: &crate::error::AppError) -> ExitCode {
    // Only errors that are bugs go to Sentry; the rest are the person's to fix.
    // The terminal gets the error once, below; the log file keeps it. A bug was already
    // logged at error level (and reported) when it was made.
    tracing::info!(kind = ?error.kind, "{}", error.message);
    match &error.detail {
        Some(detail) => eprintln!("error: {} ({detail})\nhint: {}", error.message, error.cli_hint()),
        None => eprintln!("error: {}\nhint: {}", error.message, error.cli_hint()),
    }
    ExitCode::from(EXIT_USAGE)
}
