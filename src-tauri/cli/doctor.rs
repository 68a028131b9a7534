//! `slipway doctor`: is this machine ready (engine, keyring, git, Python), and where data and
//! logs live.

use std::process::ExitCode;

use super::EXIT_USAGE;
use crate::doctor;
use crate::paths::AppPaths;

pub(super) async fn run(paths: &AppPaths, json: bool) -> ExitCode {
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
    // The report already said each failure on stdout: the log file keeps them, the terminal
    // does not print them a second time.
    for check in report.checks.iter().filter(|check| !check.ok) {
        tracing::info!(check = ?check.id, "{}", check.detail);
    }
    tracing::info!(ok = report.ok, "doctor finished");
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
