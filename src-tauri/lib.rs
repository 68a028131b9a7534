//! Slipway: a desktop release manager for Python web apps.
//!
//! One binary, two faces: with a subcommand (`slipway doctor`, ...) it is a headless CLI
//! and never opens a window; without one it opens the Tauri app. This file only wires the
//! rooms together; each module below owns one concern and knows nothing of Tauri, except
//! `commands` and `app`, the shell.

pub mod accounts;
pub mod app;
pub mod bindings;
pub mod checks;
pub mod circleci;
pub mod cli;
pub mod commands;
pub mod crash;
pub mod docker;
pub mod doctor;
pub mod editor;
pub mod error;
pub mod history;
pub mod http;
pub mod instance;
pub mod known_logins;
mod layering;
pub mod links;
pub mod logging;
pub mod memory;
pub mod monitor;
pub mod paths;
pub mod pipeline;
pub mod platform;
pub mod project;
pub mod redact;
pub mod registry;
pub mod render;
pub mod secrets;
pub mod sentry_api;
pub mod settings;
pub mod tasks;
pub mod vocabulary;

use std::process::ExitCode;

/// Entry point of the `slipway` binary.
pub fn main_entry() -> ExitCode {
    let args = match cli::parse() {
        Ok(args) => args,
        Err(exit) => return exit,
    };
    match args.command {
        Some(command) => cli::run(command),
        None => app::run(instance::Launch {
            open: args.folders.into_iter().next(),
            choose: args.choose_project,
        }),
    }
}
