//! The command line's shape: every command, subcommand and option `slipway` takes, as clap
//! reads them. The handlers live beside this file, one per command group.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "slipway",
    version,
    about = "Slipway: test, build, push and deploy a Python web app in one click.",
    long_about = "Slipway: test, build, push and deploy a Python web app in one click.\n\nWithout a command it opens the app window (with a folder, that project in it; a window already open comes forward and opens it). With a command it works headless, for scripts and CI.",
    args_conflicts_with_subcommands = true
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A project folder to open in the window (a file manager's "Open with Slipway"). Given
    /// several, as a file manager may, the first opens: the window shows one project at a time.
    #[arg(value_name = "FOLDER")]
    pub folders: Vec<std::path::PathBuf>,
    /// Show the window's folder picker to open a project (the desktop entry's "Open a project…").
    #[arg(long, conflicts_with = "folders")]
    pub choose_project: bool,
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
        /// Push the commit to its remote branch first when the remote does not have it
        /// (the project's setting; on by default).
        #[arg(long, conflicts_with = "no_push")]
        push: bool,
        /// Release without pushing the commit to its remote.
        #[arg(long)]
        no_push: bool,
        /// Wait for CircleCI's workflows on the commit before deploying; stop if they fail.
        #[arg(long)]
        wait_for_ci: bool,
        /// Release though the team's history cannot be reached: no one else is stopped, and
        /// the release is sent to it when it is back.
        #[arg(long)]
        without_team_history: bool,
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
    /// CircleCI's pipeline, workflows and jobs for the project's checked-out commit, and its
    /// test results beside Slipway's own. Exit 0 when it passed, 1 when it failed, ran into
    /// a hold or is still running, 2 when CircleCI could not be asked. `run` starts one.
    Ci(CiArgs),
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
    /// Run the built image on this computer, as the environment will, before pushing it
    /// (default: on for production).
    #[arg(long, value_name = "true|false")]
    pub rehearse: Option<bool>,
    /// Roll back by itself when a release fails its live check ("on"), or also when Sentry
    /// reports N new issues within M minutes ("N/M"); "off" never (the default).
    #[arg(long, value_name = "off|on|N/M", value_parser = parse_auto_rollback)]
    pub auto_rollback: Option<crate::links::AutoRollbackChoice>,
    /// Make it the environment `slipway release` goes to.
    #[arg(long)]
    pub default: bool,
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CiArgs {
    #[command(subcommand)]
    pub command: Option<CiCommand>,
    /// The project's folder (default: the current folder).
    #[arg(long, value_name = "DIR", global = true, default_value = ".")]
    pub project: String,
    /// Print JSON lines: the verdict (with `run`, each change), the last one final.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum CiCommand {
    /// Start a CircleCI pipeline for the checked-out branch (its commit must be on the
    /// remote) and follow it to the end. Exit 0 when it passed, 1 when not.
    Run,
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
    /// Only this person's releases (their login, as History shows it).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
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
    /// Keep the releases in the team's PostgreSQL from now on (the password is read from
    /// standard input with --password-stdin, and kept in the keyring).
    Connect {
        /// postgres://user@host:5432/database (add ?sslmode=verify-full&sslrootcert=FILE for
        /// a server with its own certificate authority).
        url: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Go back to this computer's own history (the team's stays where it is).
    Disconnect,
    /// Copy an earlier history of this computer (a history.sqlite3 file) into the team's; a
    /// release already there is left as it is, so importing twice copies nothing twice.
    Import {
        #[arg(long, value_name = "FILE")]
        from: std::path::PathBuf,
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
    /// Changes one field and saves the settings: test-command, lint-command, lint-tool
    /// ruff|flake8, lint on|off,
    /// gate ID on|off, venv, install-from, dockerfile, build-context, image-repository,
    /// container-port, health-path, check-timeout, sandbox on|off, push-first on|off,
    /// wait-for-ci on|off, circleci-project gh/OWNER/REPO, sentry-project ORG/SLUG (or "none").
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

/// `off`, `on` or `N/M` as [`crate::links::AutoRollbackChoice`].
fn parse_auto_rollback(text: &str) -> Result<crate::links::AutoRollbackChoice, String> {
    use crate::links::AutoRollbackChoice;
    match text.trim() {
        "off" => Ok(AutoRollbackChoice::default()),
        "on" => Ok(AutoRollbackChoice {
            on: true,
            new_issues: 0,
            minutes: 1,
        }),
        spec => {
            let numbers = spec
                .split_once('/')
                .and_then(|(issues, minutes)| Some((issues.trim().parse().ok()?, minutes.trim().parse().ok()?)));
            match numbers {
                Some((new_issues, minutes)) if new_issues > 0 && minutes > 0 => Ok(AutoRollbackChoice {
                    on: true,
                    new_issues,
                    minutes,
                }),
                _ => Err("write off, on, or N/M (N new issues within M minutes), such as 5/3".to_owned()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

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

    #[test]
    fn auto_rollback_reads_off_on_and_issues_within_minutes() {
        let read =
            |text: &str| super::parse_auto_rollback(text).map(|choice| (choice.on, choice.new_issues, choice.minutes));
        assert_eq!(read("off"), Ok((false, 0, 0)));
        assert_eq!(read("on"), Ok((true, 0, 1)));
        assert_eq!(read("5/3"), Ok((true, 5, 3)));
        assert!(read("0/3").is_err() && read("five").is_err() && read("5/").is_err());
    }
}
