//! The end of a release: where the image goes and how Slipway knows it is live.
//!
//! A [`Deployer`] ships an image and follows it until it answers: Local runs it as the
//! project's container here; Render deploys it by digest through the API (or a deploy hook)
//! and follows the deploy to a terminal status. Releases, rollbacks and promotions all go
//! through one.

mod destination;
mod local;
mod render;

pub(super) use destination::{Destination, TargetDeployer};
pub(super) use local::LocalDeployer;
pub(super) use render::{check_render_accounts, render_client, telling_line};

use tokio_util::sync::CancellationToken;

use super::recorder::Recorder;
use crate::docker::ImageReference;
use crate::error::AppError;
use crate::history::{Ending, Outcome, ReleaseRecord};

/// The image a deploy ships: the name it was pushed (or built) as, and its registry digest
/// when it was pushed.
pub(crate) struct Shipped {
    /// What the engine runs on the Local target: the reference, or a rollback's image id.
    pub run: String,
    pub reference: ImageReference,
    pub digest: Option<String>,
}

/// Ships an image to a target and waits until it is live and answers.
pub(crate) trait Deployer {
    async fn deploy(
        &self,
        image: &Shipped,
        recorder: &Recorder,
        cancel: &CancellationToken,
    ) -> Result<DeployResult, StepFailure>;

    /// Returns to what `source` (a release that went live here) shipped.
    async fn roll_back(
        &self,
        source: &ReleaseRecord,
        recorder: &Recorder,
        cancel: &CancellationToken,
    ) -> Result<DeployResult, StepFailure>;
}

/// Why the release stopped at a step.
pub(crate) struct StepFailure {
    pub outcome: Outcome,
    message: String,
    /// The error behind it, whose kind and hint the ledger and the window keep.
    error: Option<AppError>,
}

impl StepFailure {
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Failed,
            message: message.into(),
            error: None,
        }
    }

    /// A failure that an error caused: `message` says where, `error` what and what to do.
    pub(crate) fn from_error(message: impl Into<String>, error: AppError) -> Self {
        Self {
            error: Some(error),
            ..Self::failed(message)
        }
    }

    pub(crate) fn canceled() -> Self {
        Self::canceled_with("Cancelled.")
    }

    /// Cancelled, with what the person must know (a deploy that may still finish).
    pub(crate) fn canceled_with(message: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Canceled,
            message: message.into(),
            error: None,
        }
    }

    /// The same failure, with what the person must know of what still runs.
    pub(crate) fn with_note(mut self, note: impl AsRef<str>) -> Self {
        self.message = format!("{} {}", self.message, note.as_ref());
        self
    }

    pub(crate) fn ending(self, mut ending: Ending) -> (Outcome, Ending) {
        ending.message = Some(self.message);
        if let Some(error) = self.error {
            ending.error = Some(error);
        }
        (self.outcome, ending)
    }
}

/// How a release ends after its deploy: live with where and which deploy, or the failure.
pub(crate) fn ending_after(deployed: Result<DeployResult, StepFailure>, mut ending: Ending) -> (Outcome, Ending) {
    match deployed {
        Ok(result) => {
            ending.deploy_id = result.deploy_id;
            ending.deploy_status = result.deploy_status;
            ending.url = result.url;
            ending.message = result.note;
            (Outcome::Live, ending)
        }
        Err(failure) => failure.ending(ending),
    }
}

pub(crate) struct DeployResult {
    /// Where it answers; `None` when there is no URL to check (a deploy hook, a private service).
    pub url: Option<String>,
    pub deploy_id: Option<String>,
    pub deploy_status: Option<String>,
    /// What the person must know of a deploy that is live anyway (a cancel that came too late).
    pub note: Option<String>,
}
