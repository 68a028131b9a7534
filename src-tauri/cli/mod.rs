//! The headless face of the binary: `slipway <command>`. A subcommand never opens a window.
//!
//! Exit codes: 0 when all is well, 1 when a check fails, 2 on a usage error (clap's own code
//! for a bad argument).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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

mod connect;
mod errors;
mod history;
mod out;
mod project_settings;
mod release;
mod targets;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::checks::{self, CheckEvent, CheckOutcome, ChecksSummary, EventSink};
use crate::doctor;
use crate::error::AppError;
use crate::logging::{self, Face};
use crate::paths::AppPaths;
use crate::project;
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
        /// Also send a test event to Sentry, to check that error reporting works.
        #[arg(long)]
        send_test_event: bool,
    },
    /// Run the project's tests and lint at the same time, in its Python environment, and
    /// summarise them. Exit 0 when both pass, 1 when either fails, 2 when either could not run.
    Check {
        /// The project's folder.
        #[arg(long, value_name = "DIR")]
        project: String,
        /// Print events as JSON lines, the last one a summary.
        #[arg(long)]
        json: bool,
    },
    /// The connected accounts (never their secrets), kept in the OS keyring.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Release the project: tests, lint and the image build at once, then push, deploy and
    /// check the app answers. Exit 0 when it is live, 1 when a gate or the deploy failed (or
    /// it was cancelled), 2 when it could not run.
    Release {
        /// The project's folder.
        #[arg(long, value_name = "DIR", required_unless_present = "resume")]
        project: Option<String>,
        /// Resume an interrupted release (an id from `slipway history`): what can be verified
        /// as done (checks, build, push) is not done again.
        #[arg(long, value_name = "ID", conflicts_with_all = ["project", "dry_run"])]
        resume: Option<String>,
        /// The project's environment to release to (`local` is this machine, no accounts
        /// needed; `staging`, `production`, … as `slipway target list` shows). Default: the
        /// project's default environment.
        #[arg(long, value_name = "NAME")]
        target: Option<String>,
        /// Show the plan and stop.
        #[arg(long)]
        dry_run: bool,
        /// Go on with uncommitted changes.
        #[arg(long)]
        yes: bool,
        /// Run every gate, even those that passed before on this very tree.
        #[arg(long)]
        no_cache: bool,
        /// Once live, watch Sentry for new issues in this release (exit 1 when some come).
        #[arg(long)]
        watch: bool,
        /// With --watch: end at the first new issue (a script can then roll back).
        #[arg(long, requires = "watch")]
        stop_at_first: bool,
        /// Print events as JSON lines, the last one a summary.
        #[arg(long)]
        json: bool,
    },
    /// The project's Sentry project's issues (unresolved by default); `show`, `resolve`,
    /// `ignore` and `unresolve` act on issues by id.
    Errors(Box<ErrorsArgs>),
    /// Watch Sentry for new issues in the project's live release (or --release). Exit 0 when
    /// none came, 1 when some did, 2 when Sentry could not be watched.
    Watch {
        #[arg(long, value_name = "DIR")]
        project: String,
        /// The release to watch (an id from `slipway history`); default: the live one.
        #[arg(long, value_name = "ID")]
        release: Option<String>,
        /// How long; default: the setting (15 minutes).
        #[arg(long)]
        minutes: Option<u32>,
        /// End at the first new issue (a script can then roll back).
        #[arg(long)]
        stop_at_first: bool,
        /// Print events as JSON lines, the last one the summary.
        #[arg(long)]
        json: bool,
    },
    /// What Slipway detected and saved for a project, each with where it came from; change a
    /// field with `set`.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Values the project's checks get: `set` reads the value from standard input; a secret
    /// goes to the OS keyring.
    #[command(subcommand)]
    Env(EnvCommand),
    /// The project's environments (where it runs): `list`, `add`, `set`, `remove`.
    #[command(subcommand)]
    Target(TargetCommand),
    /// The release history, newest first; `show ID` for one release, `export` to a file.
    History(Box<HistoryArgs>),
    /// Ship an earlier release's image again (no gates run): the one given with --to, else
    /// the last release that went live before the one live now.
    Rollback {
        #[arg(long, value_name = "DIR")]
        project: String,
        /// The release to return to (an id from `slipway history`).
        #[arg(long, value_name = "ID")]
        to: Option<String>,
        /// The environment to roll back; default: the one the release given with --to went
        /// to, else the project's default.
        #[arg(long, value_name = "NAME")]
        target: Option<String>,
        /// Go ahead without asking (required when not at a terminal).
        #[arg(long)]
        yes: bool,
        /// Print events as JSON lines, the last one a summary.
        #[arg(long)]
        json: bool,
    },
    /// Ship the image of a release that went live on one environment to the next in the
    /// project's chain (this machine → staging → production): no rebuild, no gates run
    /// again; the history records it as promoted from that release.
    Promote {
        /// The release to promote (an id from `slipway history`).
        id: String,
        /// The environment to promote to; it must be the next after the release's. Default:
        /// that next one.
        #[arg(long, value_name = "NAME")]
        to: Option<String>,
        /// Go ahead without asking (required when not at a terminal).
        #[arg(long)]
        yes: bool,
        /// Print events as JSON lines, the last one a summary.
        #[arg(long)]
        json: bool,
    },
}

/// `slipway target …`: a project's environments.
#[derive(Debug, Subcommand)]
pub enum TargetCommand {
    /// The project's environments in chain order, with their service and the default.
    List {
        #[arg(long, value_name = "DIR")]
        project: String,
        #[arg(long)]
        json: bool,
    },
    /// Adds a Render environment (`slipway target add staging --render-service srv-…`).
    Add {
        #[arg(long, value_name = "DIR")]
        project: String,
        name: String,
        #[command(flatten)]
        fields: TargetFields,
    },
    /// Changes an environment (`local` included): its service, image repository, health
    /// path, Sentry environment, name, or makes it the default.
    Set {
        #[arg(long, value_name = "DIR")]
        project: String,
        name: String,
        /// A new name.
        #[arg(long, value_name = "NAME")]
        rename: Option<String>,
        #[command(flatten)]
        fields: TargetFields,
    },
    /// Removes a Render environment (its releases stay in the history).
    Remove {
        #[arg(long, value_name = "DIR")]
        project: String,
        name: String,
    },
}

/// What `target add` and `target set` change.
#[derive(Debug, clap::Args)]
pub struct TargetFields {
    /// The Render service it deploys to (`srv-…`, as `slipway accounts` lists).
    #[arg(long, value_name = "SRV")]
    pub render_service: Option<String>,
    /// `[registry/]namespace/name` it pushes to; default: the service's own image ("" clears).
    #[arg(long, value_name = "REPOSITORY")]
    pub image_repository: Option<String>,
    /// The path that must answer before a deploy counts as live ("" clears).
    #[arg(long, value_name = "PATH")]
    pub health_path: Option<String>,
    /// The environment its deploys are recorded under in Sentry ("" clears).
    #[arg(long, value_name = "NAME")]
    pub sentry_environment: Option<String>,
    /// Make it the environment `slipway release` goes to.
    #[arg(long)]
    pub default: bool,
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ErrorsArgs {
    #[command(subcommand)]
    pub command: Option<ErrorsCommand>,
    /// The project whose Sentry project is asked (default: the current folder).
    #[arg(long, value_name = "DIR", global = true, default_value = ".")]
    pub project: String,
    /// unresolved (default), resolved, ignored or all.
    #[arg(long, value_enum, default_value = "unresolved")]
    pub status: IssueStatusArg,
    /// Only issues seen in this release (the name the app reports to Sentry).
    #[arg(long)]
    pub release: Option<String>,
    #[arg(long)]
    pub environment: Option<String>,
    /// Sentry search syntax, passed as it is.
    #[arg(long)]
    pub query: Option<String>,
    /// A page's cursor from an earlier answer.
    #[arg(long)]
    pub cursor: Option<String>,
    #[arg(long)]
    pub limit: Option<u32>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ErrorsCommand {
    /// One issue and its latest event.
    Show {
        issue: String,
        #[arg(long)]
        json: bool,
    },
    Resolve {
        #[arg(required = true)]
        issues: Vec<String>,
    },
    Ignore {
        #[arg(required = true)]
        issues: Vec<String>,
    },
    Unresolve {
        #[arg(required = true)]
        issues: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum IssueStatusArg {
    Unresolved,
    Resolved,
    Ignored,
    All,
}

/// Which releases: every option narrows the list.
#[derive(Debug, clap::Args)]
pub struct HistoryFilterArgs {
    /// Only this project's releases.
    #[arg(long, value_name = "DIR")]
    pub project: Option<String>,
    /// live, failed, canceled, error, interrupted or running.
    #[arg(long)]
    pub outcome: Option<String>,
    /// local or render.
    #[arg(long)]
    pub target: Option<String>,
    /// Started on or after this date (YYYY-MM-DD) or time (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Text in the commit, branch, image, digest, message or release id.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub filter: HistoryFilterArgs,
    #[arg(long)]
    pub json: bool,
    #[command(subcommand)]
    pub action: Option<HistoryCommand>,
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// One release: its steps, results and (with --logs STEP) a step's output.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
        /// Print this step's recorded output (tests, lint, checks, build, push, deploy, verify).
        #[arg(long, value_name = "STEP")]
        logs: Option<String>,
    },
    /// The listed releases as CSV or JSON, to a file or standard output; with --release, that
    /// one release with its results and every step's log, as JSON.
    Export {
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormatArg,
        /// One release (an id from `slipway history`), with its logs, instead of the list.
        #[arg(long, value_name = "ID", conflicts_with = "format")]
        release: Option<String>,
        /// Where to write; standard output when not given.
        #[arg(long, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
        #[command(flatten)]
        filter: HistoryFilterArgs,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportFormatArg {
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Everything detected and saved: commands and gates, linter and version, requirement
    /// files, interpreter, Dockerfile and context, environment variables (names; values only
    /// when not secret), and the CI lines not run.
    Show {
        #[arg(long, value_name = "DIR")]
        project: String,
        #[arg(long)]
        json: bool,
    },
    /// Changes one field and saves the settings: test-command, lint-command, lint on|off,
    /// gate ID on|off, venv, install-from, dockerfile, build-context, image-repository,
    /// container-port, health-path, check-timeout, sandbox on|off, sentry-project ORG/SLUG (or
    /// "none").
    Set {
        #[arg(long, value_name = "DIR")]
        project: String,
        field: String,
        #[arg(num_args = 0.., allow_hyphen_values = true, trailing_var_arg = true)]
        value: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Sets NAME from standard input (`echo -n VALUE | slipway env set --project DIR NAME`).
    Set {
        #[arg(long, value_name = "DIR")]
        project: String,
        name: String,
        /// Keep it in the OS keyring (names that look secret always are).
        #[arg(long)]
        secret: bool,
    },
    /// Removes NAME (from the keyring too).
    Unset {
        #[arg(long, value_name = "DIR")]
        project: String,
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// List the connected accounts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Import the registry logins `docker login` made (config.json and credential helpers).
    ImportDocker {
        /// The docker config folder; default `DOCKER_CONFIG`, else `~/.docker`.
        #[arg(long, value_name = "DIR")]
        config: Option<std::path::PathBuf>,
    },
    /// Connect a service as the window's wizard does: the secret is read from standard
    /// input, checked, and kept in the OS keyring.
    #[command(subcommand)]
    Connect(ConnectCommand),
    /// Delete an account and its secret.
    Remove {
        #[arg(long, value_enum)]
        service: ServiceArg,
        #[arg(long)]
        account: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConnectCommand {
    /// A Sentry project (token with org:read, project:read, project:releases, event:read,
    /// event:write).
    Sentry {
        #[arg(long)]
        org: String,
        #[arg(long)]
        project: String,
        /// A self-hosted Sentry's API base; default Sentry's own.
        #[arg(long)]
        url: Option<String>,
    },
    /// Render with an API key; --service picks the service (else the only image-backed one).
    Render {
        #[arg(long, value_name = "ID")]
        service: Option<String>,
    },
    /// A registry login (Docker Hub: an access token with Read & Write).
    Registry {
        #[arg(long)]
        server: String,
        #[arg(long)]
        username: String,
        /// A repository to check the token may push to.
        #[arg(long)]
        repository: Option<String>,
    },
    /// CircleCI with a personal token, for the project `gh/org/repo`.
    Circleci {
        #[arg(long)]
        slug: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ServiceArg {
    Registry,
    Render,
    Sentry,
    Circleci,
}

impl From<ServiceArg> for crate::secrets::Service {
    fn from(service: ServiceArg) -> Self {
        match service {
            ServiceArg::Registry => Self::Registry,
            ServiceArg::Render => Self::Render,
            ServiceArg::Sentry => Self::Sentry,
            ServiceArg::Circleci => Self::CircleCi,
        }
    }
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
    match command {
        Command::Doctor { json, send_test_event } => {
            let code = runtime.block_on(run_doctor(&paths, json));
            if send_test_event && !logging::send_test_event() {
                eprintln!("error: error reporting is off\nhint: set SENTRY_DSN, or \"sentryDsn\" in settings.json in the data folder");
                return ExitCode::FAILURE;
            }
            code
        }
        Command::Check { project, json } => runtime.block_on(run_check(&paths, &project, json)),
        Command::Accounts(AccountsCommand::Connect(command)) => {
            runtime.block_on(connect::run(&paths, settings, command))
        }
        Command::Accounts(command) => run_accounts(&paths, command),
        Command::Release {
            resume: Some(id), json, ..
        } => runtime.block_on(release::run_resume(&paths, settings, &id, json)),
        Command::Release {
            project,
            target,
            dry_run,
            yes,
            no_cache,
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
            };
            let watch = watch.then_some(errors::WatchOptions { stop_at_first });
            let project = project.unwrap_or_default();
            runtime.block_on(release::run_release(
                &paths, settings, &project, options, dry_run, watch, json,
            ))
        }
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
        Command::History(args) => crate::cli::history::run(&paths, settings, *args),
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

async fn run_check(paths: &AppPaths, project_dir: &str, json: bool) -> ExitCode {
    let root = match project::resolve_folder(project_dir) {
        Ok(root) => root,
        Err(error) => return fail(&error.into()),
    };
    let input = match checks::ChecksInput::read(&paths.data_dir, &root) {
        Ok(input) => input,
        Err(error) => return fail(&error.into()),
    };
    let sink: EventSink = Arc::new(move |event| print_event(&event, json));
    let cancel = CancellationToken::new();
    let on_interrupt = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_interrupt.cancel();
        }
    });
    let result = checks::check(
        &input,
        &paths.data_dir,
        checks::Scope::Everything,
        &cancel,
        &sink,
        &checks::NoHooks,
    )
    .await
    .and_then(checks::ChecksDone::summary);
    match result {
        Ok(summary) => {
            let changed = &summary.changed_files;
            if json {
                let mut value = summary_json(&summary);
                value["changedFiles"] = serde_json::json!(changed);
                println!("{value}");
            } else {
                print!("{}", render_summary(&summary));
                if !changed.is_empty() {
                    println!("Note: the checks changed files in the project: {}", changed.join(", "));
                }
            }
            match summary.outcome() {
                CheckOutcome::Passed | CheckOutcome::Skipped => ExitCode::SUCCESS,
                CheckOutcome::Failed => ExitCode::FAILURE,
                CheckOutcome::CouldNotRun | CheckOutcome::Cancelled => ExitCode::from(EXIT_USAGE),
            }
        }
        Err(error) => {
            let error: AppError = error.into();
            if json {
                println!(
                    "{}",
                    serde_json::json!({"kind": "summary", "outcome": "error", "error": error})
                );
            }
            fail(&error)
        }
    }
}

fn run_accounts(paths: &AppPaths, command: AccountsCommand) -> ExitCode {
    use crate::secrets::{import_docker_logins, Account, SecretStore, Service};
    let store = SecretStore::os(&paths.data_dir);
    match command {
        AccountsCommand::List { json } => {
            let accounts = match store.accounts() {
                Ok(accounts) => accounts,
                Err(error) => return fail(&error.into()),
            };
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&accounts).unwrap_or_else(|_| "[]".to_owned())
                );
            } else if accounts.is_empty() {
                println!("No accounts connected.");
            } else {
                for account in accounts {
                    println!(
                        "{:?} {} (user {}, from {}, verified {})",
                        account.service,
                        account.account,
                        account.username.as_deref().unwrap_or("-"),
                        account.source,
                        account.verified_at.as_deref().unwrap_or("never")
                    );
                }
            }
            ExitCode::SUCCESS
        }
        AccountsCommand::ImportDocker { config } => {
            let dir = config
                .or_else(|| std::env::var_os("DOCKER_CONFIG").map(std::path::PathBuf::from))
                .or_else(|| dirs::home_dir().map(|home| home.join(".docker")))
                .unwrap_or_default();
            let (logins, problems) = import_docker_logins(&dir);
            let mut code = if problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
            for login in &logins {
                let mut account = Account::new(Service::Registry, &login.server, &login.source);
                account.username = Some(login.username.clone());
                account.server = Some(login.server.clone());
                match store.save(&account, login.secret.expose()) {
                    Ok(()) => println!("Imported {} for {} from {}", login.username, login.server, login.source),
                    Err(error) => {
                        // Nothing is kept anywhere else: without a keyring nothing is imported.
                        return fail(&error.into());
                    }
                }
            }
            for problem in &problems {
                println!(
                    "Could not import {}: {}",
                    if problem.server.is_empty() {
                        "the config"
                    } else {
                        &problem.server
                    },
                    problem.message
                );
            }
            if logins.is_empty() && problems.is_empty() {
                println!("No docker logins found in {}", dir.display());
                code = ExitCode::SUCCESS;
            }
            code
        }
        // `run` sends it to the runtime before this is called.
        AccountsCommand::Connect(_) => ExitCode::from(EXIT_USAGE),
        AccountsCommand::Remove { service, account } => match store.delete(service.into(), &account) {
            Ok(()) => {
                println!("Removed {account}");
                ExitCode::SUCCESS
            }
            Err(error) => fail(&error.into()),
        },
    }
}

fn print_event(event: &CheckEvent, json: bool) {
    if json {
        let mut value = serde_json::to_value(event).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.insert("kind".to_owned(), "event".into());
        }
        println!("{}", crate::secrets::redact(&value.to_string()));
        return;
    }
    let line = match event {
        CheckEvent::Setup { message } => format!("setup | {message}"),
        CheckEvent::Started { check, command } => format!("{} | $ {command}", label(*check)),
        CheckEvent::Output { check, line, .. } => format!("{} | {line}", check.map(label).unwrap_or("setup")),
        CheckEvent::Finished { check, outcome } => format!("{} | finished: {}", label(*check), outcome_word(*outcome)),
        CheckEvent::GateStarted { id, command } => format!("{id} | $ {command}"),
        CheckEvent::GateOutput { id, line, .. } => format!("{id} | {line}"),
        CheckEvent::GateFinished { report } => format!(
            "{} | finished: {} ({})",
            report.id,
            outcome_word(report.outcome),
            report.message
        ),
    };
    println!("{}", crate::secrets::redact(&line));
}

fn label(check: checks::CheckKind) -> &'static str {
    match check {
        checks::CheckKind::Tests => "tests",
        checks::CheckKind::Lint => "lint ",
    }
}

fn outcome_word(outcome: CheckOutcome) -> &'static str {
    match outcome {
        CheckOutcome::Passed => "passed",
        CheckOutcome::Failed => "failed",
        CheckOutcome::CouldNotRun => "could not run",
        CheckOutcome::Cancelled => "canceled",
        CheckOutcome::Skipped => "not run",
    }
}

/// `slipway check --json`'s last line: each check with its own outcome and message, in the
/// events' words.
fn summary_json(summary: &ChecksSummary) -> serde_json::Value {
    let tests = &summary.tests;
    let counts = &tests.counts;
    let lint = summary.lint.as_ref().map(|lint| {
        serde_json::json!({
            "tool": lint.tool.package(),
            "outcome": lint.outcome,
            // No count when lint could not run: "0 violations" would be a verdict.
            "violations": (lint.outcome != CheckOutcome::CouldNotRun).then_some(lint.violations.len()),
            "message": lint.problem,
        })
    });
    let gates: Vec<serde_json::Value> = summary
        .gates
        .iter()
        .map(|gate| {
            serde_json::json!({
                "id": gate.id,
                "kind": gate.kind,
                "tool": gate.tool,
                "outcome": gate.outcome,
                "message": gate.message,
                "findings": gate.findings,
            })
        })
        .collect();
    serde_json::json!({
        "kind": "summary",
        "tests": {
            "outcome": tests.outcome,
            "passed": counts.passed, "failed": counts.failed, "errors": counts.errors, "skipped": counts.skipped,
            "message": tests.problem,
        },
        "lint": lint,
        "gates": gates,
        // One word with `slipway release` for "could not start": error.
        "outcome": match summary.outcome() {
            CheckOutcome::Passed | CheckOutcome::Skipped => "passed",
            CheckOutcome::Failed => "failed",
            CheckOutcome::CouldNotRun | CheckOutcome::Cancelled => "error",
        },
    })
}

/// The summary a person reads at the end of `slipway check`.
pub fn render_summary(summary: &ChecksSummary) -> String {
    let tests = &summary.tests;
    let mut out = format!("\nTests: {} ({})\n", tests.counts, outcome_word(tests.outcome));
    // When the tests could not start, the problem says why; collection errors listed as
    // failures would only repeat it.
    let failures = if tests.outcome == CheckOutcome::CouldNotRun {
        &[][..]
    } else {
        &tests.failures[..]
    };
    for failure in failures {
        out.push_str(&format!("  FAIL {}: {}\n", failure.node_id, failure.message));
    }
    if let Some(problem) = &tests.problem {
        out.push_str(&format!("  {}\n", problem.replace('\n', "\n  ")));
    }
    match &summary.lint {
        Some(lint) if lint.outcome == CheckOutcome::CouldNotRun => {
            out.push_str(&format!(
                "Lint ({}): {}\n",
                lint.tool.package(),
                outcome_word(lint.outcome)
            ));
        }
        Some(lint) => out.push_str(&format!(
            "Lint ({}): {} violations ({})\n",
            lint.tool.package(),
            lint.violations.len(),
            outcome_word(lint.outcome)
        )),
        None => out.push_str("Lint: turned off in the project's settings\n"),
    }
    if let Some(lint) = &summary.lint {
        for violation in &lint.violations {
            out.push_str(&format!(
                "  {}:{}:{} {} {}\n",
                violation.path, violation.line, violation.column, violation.code, violation.message
            ));
        }
        if let Some(problem) = &lint.problem {
            out.push_str(&format!("  {}\n", problem.replace('\n', "\n  ")));
        }
    }
    for gate in &summary.gates {
        out.push_str(&format!(
            "{}: {} ({})\n",
            gate.kind.label(),
            gate.message,
            outcome_word(gate.outcome)
        ));
        for finding in &gate.findings {
            out.push_str(&format!("  {finding}\n"));
        }
    }
    out.push_str(&format!("Outcome: {}\n", outcome_word(summary.outcome())));
    crate::secrets::redact(&out).into_owned()
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
        assert!(matches!(args.command, Some(Command::Doctor { json: true, .. })));
        Ok(())
    }
}
