//! What a project's CI configuration says, read as the CI means it: every check it runs (the
//! commands behind task runners and containers too), how it lets some of them fail, the tool
//! versions it pins, and the environment its checking jobs set. CircleCI first, then GitHub
//! Actions, as the project's own pipeline is the best statement of how it is tested.
//!
//! Each file is parsed within bounds (size, nesting, time) and once per change (`bounded`); a
//! file refused is listed with the commands not run, in a sentence that says why.
//!
//! How it reads, top down: `read` finds the files; `jobs` walks each file's jobs and steps
//! (`github` and `circleci` read what only one of them has); `shell` splits a step's script
//! into commands, `tools` says what each command is, and `commands` files it into the
//! [`CiFindings`] (`runners` reads task runners' recipes, `setup` the installs, pins and image
//! build, `variables` the values the jobs set, `image_folder` the repository folder a check
//! the CI runs in its image works in).

mod bounded;
mod circleci;
mod commands;
mod compose;
mod compose_file;
mod findings;
#[cfg(test)]
mod fuzz;
mod github;
mod image_folder;
mod jobs;
mod read;
mod runners;
mod services;
mod setup;
mod shell;
mod tools;
mod variables;

pub use commands::configured_lint_tool;
#[cfg(test)]
pub use findings::CiVariable;
pub use findings::{CiCommand, CiFindings, DockerBuild, Install};
pub use read::read_ci;

/// The Compose files Compose itself looks for, in its order: read by the image build, the
/// image's folder and the services alike.
pub const COMPOSE_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];
