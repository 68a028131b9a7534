//! The headless face of the binary: `slipway <command>`. A subcommand never opens a window.
//!
//! Exit codes: 0 when all is well, 1 when a check fails, 2 on a usage error (clap's own code
//! for a bad argument).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::doctor;
use crate::logging::{self, Face};
use crate::paths::AppPaths;
use crate::settings::Settings;

/// Exit code for "could not run" and usage errors.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "slipway",
    version,
    about = "Slipway: test, build, push and deploy a Python web app in one click.",
    long_about = "Slipway: test, build, push and deploy a Python web app in one click.\n\nWithout a command it opens the app window. With a command it works headless, for scripts and CI."
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check that the Docker Engine, the OS keyring, git and Python are ready, and show where
    /// data and logs live.
    Doctor {
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// Parses the command line; `--help`, `--version` and usage errors are printed here and end
/// with their exit code.
pub fn parse() -> Result<Args, ExitCode> {
    Args::try_parse().map_err(|error| {
        // clap prints help and version to stdout, usage errors to stderr.
        let _ = error.print();
        ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(EXIT_USAGE))
    })
}

/// Runs one headless command to completion.
pub fn run(command: Command) -> ExitCode {
    let paths = match AppPaths::resolve() {
        Ok(paths) => paths,
        Err(error) => return fail(&error),
    };
    let (settings, settings_problem) = Settings::load(&paths);
    let _logging = logging::init(&paths, &settings, Face::Cli);
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
    match command {
        Command::Doctor { json } => runtime.block_on(run_doctor(&paths, json)),
    }
}

async fn run_doctor(paths: &AppPaths, json: bool) -> ExitCode {
    let report = doctor::run(paths).await;
    if json {
        match serde_json::to_string(&report) {
            Ok(text) => println!("{text}"),
            Err(error) => {
                eprintln!("could not write the report as JSON: {error}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    } else {
        print!("{}", doctor::render_text(&report));
    }
    tracing::info!(ok = report.ok, "doctor finished");
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn fail(error: &crate::error::AppError) -> ExitCode {
    eprintln!("error: {}\nhint: {}", error.message, error.hint);
    ExitCode::from(EXIT_USAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_arguments_are_usage_errors() {
        let error = Args::try_parse_from(["slipway", "--frobnicate"]).err();
        assert_eq!(error.map(|e| e.exit_code()), Some(2));
    }

    #[test]
    fn no_command_means_the_window() -> Result<(), clap::Error> {
        assert!(Args::try_parse_from(["slipway"])?.command.is_none());
        let args = Args::try_parse_from(["slipway", "doctor", "--json"])?;
        assert!(matches!(args.command, Some(Command::Doctor { json: true })));
        Ok(())
    }
}
