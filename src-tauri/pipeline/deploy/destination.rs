//! The one place a target picks its deployer: a release, a rollback, a resume and a
//! promotion all come through here.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::local::LocalDeployer;
use super::render::RenderDeployer;
use super::{DeployResult, Deployer, Shipped, StepFailure};
use crate::error::{AppError, ErrorKind};
use crate::history::ReleaseRecord;
use crate::pipeline::recorder::Recorder;
use crate::pipeline::{Context, Target};
use crate::project::ProjectSettings;

/// Where a release's image goes, with what each target needs there: the one place a target
/// picks its deployer (a release, a rollback and a resume all come through here).
pub(in crate::pipeline) struct Destination<'a> {
    pub context: &'a Context,
    pub target: Target,
    /// The project's engine and where it is, for the Local target.
    pub engine: Option<&'a crate::docker::Engine>,
    pub root: &'a Path,
    /// The project's settings as the environment applies them.
    pub settings: &'a ProjectSettings,
    /// The environment's service: the container's name here, `srv-…` on Render.
    pub service: String,
    pub release_id: &'a str,
    /// The commit the image was built from (a rollback's is its source's).
    pub commit: Option<String>,
}

/// The deployer a destination's target chose.
pub(in crate::pipeline) enum TargetDeployer<'a> {
    Local(LocalDeployer<'a>),
    Render(RenderDeployer<'a>),
}

impl<'a> Destination<'a> {
    pub(in crate::pipeline) fn deployer(self) -> Result<TargetDeployer<'a>, AppError> {
        Ok(match self.target {
            Target::Local => {
                let engine = self.engine.ok_or_else(|| {
                    AppError::new(
                        ErrorKind::Unknown,
                        "This computer's target was reached without the Docker Engine.",
                        "Try again.",
                    )
                })?;
                TargetDeployer::Local(LocalDeployer {
                    engine,
                    root: self.root,
                    settings: self.settings,
                    // One container per project, named after it, when the plan named none.
                    container: if self.service.is_empty() {
                        crate::project::container_name(self.root)
                    } else {
                        self.service
                    },
                    release_id: self.release_id,
                    commit: self.commit,
                })
            }
            Target::Render => TargetDeployer::Render(RenderDeployer {
                context: self.context,
                service_id: self.service,
                check: super::render::LiveCheck {
                    health_path: self.settings.health_path(),
                    timeout_secs: self
                        .settings
                        .health_timeout_secs
                        .unwrap_or(crate::pipeline::verify::DEFAULT_HEALTH_TIMEOUT_SECS),
                },
            }),
        })
    }
}

impl<'a> TargetDeployer<'a> {
    /// A promotion's: it only ever goes on to a Render environment of the chain.
    pub(in crate::pipeline) fn render(context: &'a Context, service_id: String) -> Self {
        TargetDeployer::Render(RenderDeployer {
            context,
            service_id,
            check: super::render::LiveCheck::default(),
        })
    }
}

impl Deployer for TargetDeployer<'_> {
    async fn deploy(
        &self,
        image: &Shipped,
        recorder: &Recorder,
        cancel: &CancellationToken,
    ) -> Result<DeployResult, StepFailure> {
        match self {
            TargetDeployer::Local(local) => local.deploy(image, recorder, cancel).await,
            TargetDeployer::Render(render) => render.deploy(image, recorder, cancel).await,
        }
    }

    async fn roll_back(
        &self,
        source: &ReleaseRecord,
        recorder: &Recorder,
        cancel: &CancellationToken,
    ) -> Result<DeployResult, StepFailure> {
        match self {
            TargetDeployer::Local(local) => local.roll_back(source, recorder, cancel).await,
            TargetDeployer::Render(render) => render.roll_back(source, recorder, cancel).await,
        }
    }
}
