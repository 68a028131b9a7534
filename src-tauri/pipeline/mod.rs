//! The release: its plan, and the run of that plan.
//!
//! `plan` looks at the project, the accounts and the target and says what will happen, what
//! will be skipped and what stops the release before it starts. `release` runs it: tests,
//! lint and the image build at once; the push when all three pass; the deploy; the check
//! that the app answers. Every step is written to the ledger as it happens and sent to the
//! caller as a typed event.

mod auto_rollback;
mod bookends;
mod cache;
mod ci_commands;
mod ci_step;
mod deploy;
mod gates;
mod image;
mod live;
pub mod lock;
mod plan;
mod promote;
mod push;
mod recorder;
mod rehearsal;
mod release_watch;
mod remote_step;
mod resume;
mod rollback;
mod run;
mod sentry_step;
mod start_up;
mod team_step;
mod verify;

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::docker;
use crate::error::AppError;
use crate::history::{Ledger, Outcome, StepState};
pub use crate::project::needs_sentence;
use crate::project::NeededValue;
use crate::settings::Settings;

pub use cache::ago;
pub use ci_commands::{circleci_panel, run_on_circleci};
pub use ci_step::CiPanel;
pub use image::{build_request, push_verified, Pushed};
pub use live::{
    act_on_local_app, live_now, local_app, local_app_output, run_local_again, AppAction, AppOutput, LiveNow, LocalApp,
    LocalAppState,
};
pub(crate) use plan::Scanned;
pub use plan::{image_destination, plan, ImageDestination};
pub use promote::promote;
pub use release_watch::watch_release;
pub use resume::resume;
pub use rollback::{rollback, rollback_crossing, RollbackCrossing, RollbackTo};
pub use run::{mark_interrupted, put_right_containers, release};
pub use start_up::start_up;

pub use crate::project::Target;

pub use crate::vocabulary::Step;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PlannedStep {
    pub step: Step,
    /// What it will do, in a person's words.
    pub detail: String,
    /// Why it will be skipped, when it will.
    pub skip: Option<String>,
    /// The CI line it comes from, when it does.
    pub ci_line: Option<String>,
    /// What Slipway changed in that line and why, in a person's words.
    pub notes: Vec<String>,
    /// The earlier pass this gate reuses instead of running: the tree, the environment and
    /// the command are the same.
    pub cached: Option<CachedGate>,
}

impl PlannedStep {
    fn new(step: Step, detail: impl Into<String>) -> Self {
        Self {
            step,
            detail: detail.into(),
            skip: None,
            ci_line: None,
            notes: Vec::new(),
            cached: None,
        }
    }
}

/// A gate's earlier pass on the very same inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CachedGate {
    /// The release whose run it was.
    pub from_release: String,
    /// When that run passed (RFC 3339).
    pub passed_at: String,
    /// What it said then ("42 passed").
    pub summary: Option<String>,
}

/// What a release will do, shown before it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub project_path: String,
    pub project_name: String,
    pub target: Target,
    /// The environment it goes to ("local", "staging", "production").
    pub environment: String,
    /// Where it deploys, as a person reads it: "lettings-web (production) on Render".
    pub destination: String,
    pub steps: Vec<PlannedStep>,
    /// The image reference built and deployed.
    pub image: String,
    /// Where the image is pushed; `None` when the push is skipped.
    pub registry: Option<String>,
    /// The Render service id, or the local container's name.
    pub service: Option<String>,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub dirty_files: Vec<String>,
    /// Problems that stop the release before it starts.
    pub blockers: Vec<AppError>,
    /// Other tags the image gets beside the one it is released as (`latest`).
    pub other_tags: Vec<String>,
    /// The other gates that will run, each with its CI line and notes.
    pub gates: Vec<crate::project::Gate>,
    /// CI commands Slipway does not run, with the reason.
    pub ci_skipped: Vec<crate::project::SkippedCommand>,
    /// Values the gates still need: set them in the project's settings.
    pub needs: Vec<NeededValue>,
    /// The Python the checks run with, in words ("Python 3.11.7, as pyproject.toml asks
    /// (>=3.10)"); `None` with the project's own virtualenv.
    pub python: Option<String>,
    /// Where the commit stands against the branch it tracks on its remote (after a bounded
    /// background fetch); `None` outside git.
    pub remote: Option<crate::project::RemoteStanding>,
    /// The remote's standing in a sentence ("2 commits ahead of origin/main: they are not on
    /// GitHub yet.").
    pub remote_words: Option<String>,
    /// The Docker Engine it builds and runs on, when it is not this computer's own socket:
    /// "tcp://10.0.0.5:2376 (Docker context team)".
    pub engine: Option<String>,
    /// What does not stop the release but should be read first (a branch behind its remote).
    pub warnings: Vec<String>,
    /// CircleCI's verdict on the commit, when the project runs on CircleCI and an account is
    /// connected.
    pub circleci: Option<CiPanel>,
    /// The team's history, when the releases are kept there: where, and whether it answers
    /// ("Team history on db.example.com:5432/slipway").
    pub team: Option<String>,
    /// What the person confirms when pressing Release: the commit, the uncommitted files, the
    /// image and its registry, the service, and every step and gate, hashed.
    pub fingerprint: String,
}

impl Plan {
    fn compute_fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        let mut dirty = self.dirty_files.clone();
        dirty.sort();
        hasher.update(format!(
            "{}|{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.target.as_str(),
            self.environment,
            self.image,
            self.other_tags,
            self.registry,
            self.service,
            self.commit,
            dirty,
            self.python
        ));
        for step in &self.steps {
            hasher.update(format!(
                "{}|{}|{:?}|{:?}",
                step.step.as_str(),
                step.detail,
                step.skip,
                step.cached.as_ref().map(|cached| &cached.from_release)
            ));
        }
        for gate in &self.gates {
            hasher.update(format!("{}|{}", gate.id, gate.command));
        }
        hasher
            .finalize()
            .iter()
            .take(16)
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

impl Plan {
    /// Every reference the build tags: the released one first.
    pub fn references(&self) -> Vec<String> {
        let name = self
            .image
            .rsplit_once(':')
            .map_or(self.image.as_str(), |(name, _)| name);
        std::iter::once(self.image.clone())
            .chain(self.other_tags.iter().map(|tag| format!("{name}:{tag}")))
            .collect()
    }

    pub fn is_dirty(&self) -> bool {
        !self.dirty_files.is_empty()
    }

    /// Whether the plan has `step` at all (run or skipped).
    pub fn has(&self, step: Step) -> bool {
        self.steps.iter().any(|planned| planned.step == step)
    }

    /// Why `step` will be skipped, when it will.
    pub fn skip_reason(&self, step: Step) -> Option<&str> {
        self.steps
            .iter()
            .find(|planned| planned.step == step)
            .and_then(|planned| planned.skip.as_deref())
    }
}

/// How to run a release.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseOptions {
    /// The project's environment to release to, by name; `None` is its default.
    #[serde(default)]
    #[ts(optional)]
    pub environment: Option<String>,
    /// Older callers' way to say it: `Local` is this computer, `Render` the default Render
    /// environment. `environment` wins.
    #[serde(default)]
    #[ts(optional)]
    pub target: Option<Target>,
    /// Go on with uncommitted changes (the ledger records that it did).
    pub confirm_dirty: bool,
    /// The fingerprint of the plan the person confirmed; the release refuses to run another.
    #[serde(default)]
    #[ts(optional)]
    pub confirmed_plan: Option<String>,
    /// Run every gate, even those that passed on this very tree ("Run everything").
    #[serde(default)]
    pub no_cache: bool,
    /// Push the commit to its remote first: `Some` overrides the project's setting
    /// (`--push` / `--no-push`).
    #[serde(default)]
    #[ts(optional)]
    pub push_first: Option<bool>,
    /// Wait for CircleCI's workflows before deploying: `Some(true)` turns it on for this
    /// release (`--wait-for-ci`) over the project's setting.
    #[serde(default)]
    #[ts(optional)]
    pub wait_for_ci: Option<bool>,
    /// Release though the team's history cannot be reached: no team lock is taken, and the
    /// release is sent to the team's history when it is back (`--without-team-history`).
    #[serde(default)]
    pub without_team_history: bool,
}

/// The final word on a release; also the CLI's last JSON line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseSummary {
    pub release_id: String,
    /// `live`, `failed`, `canceled` or `error`.
    pub outcome: Outcome,
    pub image: String,
    pub digest: Option<String>,
    pub url: Option<String>,
    pub deploy_id: Option<String>,
    /// Why it did not go live, in a person's words.
    pub message: Option<String>,
    /// The error that ended it, with its kind and what to do, when one did.
    pub error: Option<AppError>,
}

/// What a release reports while it runs.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ReleaseEvent {
    #[serde(rename_all = "camelCase")]
    Started {
        release_id: String,
        // Boxed: the plan is far larger than every other event.
        plan: Box<Plan>,
    },
    /// A rollback began: it ships `source_id`'s image again, with no gate run.
    #[serde(rename_all = "camelCase")]
    RollbackStarted {
        release_id: String,
        source_id: String,
    },
    /// A promotion began: it ships `source_id`'s image (live on this machine) to Render.
    #[serde(rename_all = "camelCase")]
    PromoteStarted {
        release_id: String,
        source_id: String,
    },
    /// A resume began: it runs what interrupted release `source_id` had left.
    #[serde(rename_all = "camelCase")]
    ResumeStarted {
        release_id: String,
        source_id: String,
    },
    #[serde(rename_all = "camelCase")]
    Step {
        step: Step,
        state: StepState,
        /// Since the step started, when it has finished.
        #[ts(type = "number | null")]
        elapsed_ms: Option<u64>,
        summary: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    Log {
        step: Step,
        line: String,
        #[ts(type = "number")]
        at_ms: u64,
    },
    /// Consecutive output lines of one step, in order: how `Log` events reach the window,
    /// where one entry of a thousand lines costs the page a fraction of a thousand entries.
    /// The pipeline sends `Log`; the window's batcher joins them.
    #[serde(rename_all = "camelCase")]
    Lines {
        step: Step,
        lines: Vec<String>,
    },
    #[serde(rename_all = "camelCase")]
    Tests {
        report: crate::checks::TestReport,
    },
    #[serde(rename_all = "camelCase")]
    Lint {
        report: crate::checks::LintReport,
    },
    /// One of the other gates finished.
    #[serde(rename_all = "camelCase")]
    Gate {
        report: crate::checks::GateReport,
    },
    #[serde(rename_all = "camelCase")]
    Docker {
        step: Step,
        event: docker::DockerEvent,
    },
    #[serde(rename_all = "camelCase")]
    Deploy {
        deploy_id: Option<String>,
        status: String,
    },
    /// CircleCI's workflows on the commit, each time they change while the release waits.
    #[serde(rename_all = "camelCase")]
    CircleCi {
        verdict: crate::circleci::CiVerdict,
    },
    Summary(ReleaseSummary),
}

pub type ReleaseSink = Arc<dyn Fn(ReleaseEvent) + Send + Sync>;

/// What a release needs from the app around it.
#[derive(Clone)]
pub struct Context {
    pub data_dir: PathBuf,
    pub settings: Settings,
    pub ledger: Ledger,
    /// The accounts and secrets every step reads, given at the edge (the OS keyring in the
    /// app and the CLI; a test may give another).
    pub secrets: crate::secrets::SecretStore,
}

/// Who released: the login from the environment, else the OS account's name.
pub(crate) fn current_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
        .or_else(crate::platform::host::account_name)
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The machine a release ran on, as History shows it.
pub(crate) fn machine_name() -> Option<String> {
    crate::platform::host::machine_name()
}

/// Connects to the engine the project at `root` builds, pushes and runs on: the Docker context
/// its saved settings name, else the one Docker's own settings choose. A rollback, a resume,
/// a promotion and the live views all come through here, so each reaches the release's engine.
pub fn project_engine(data_dir: &std::path::Path, root: &std::path::Path) -> Result<docker::Engine, AppError> {
    let context = crate::project::load_settings(data_dir, root)?.and_then(|settings| settings.docker_context);
    docker::connect_for(context.as_deref()).map_err(AppError::from)
}
