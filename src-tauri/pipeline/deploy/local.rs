//! The Local target: the image runs as the project's container on this machine.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::{DeployResult, Deployer, Shipped, StepFailure};
use crate::docker::{self, RunRequest};
use crate::error::AppError;
use crate::history::{Outcome, ReleaseRecord, StepState};
use crate::pipeline::recorder::Recorder;
use crate::pipeline::verify::{verify, DEFAULT_HEALTH_TIMEOUT_SECS};
use crate::pipeline::{plan::container_port, Step};
use crate::project::{self, ProjectSettings};

/// Runs images as one project's container, named after the project.
pub(in crate::pipeline) struct LocalDeployer<'a> {
    pub engine: &'a bollard::Docker,
    pub root: &'a Path,
    pub settings: &'a ProjectSettings,
    /// The container's name: one per project, replaced by each deploy.
    pub container: String,
    pub release_id: &'a str,
    /// The commit the image was built from (a rollback's is its source's), for the release
    /// name the app reports to Sentry.
    pub commit: Option<String>,
}

impl Deployer for LocalDeployer<'_> {
    /// Runs the source release's very image again (by the engine's image id, which no later
    /// build of the same tag can have moved).
    async fn roll_back(
        &self,
        source: &ReleaseRecord,
        recorder: &Recorder,
        cancel: &CancellationToken,
    ) -> Result<DeployResult, StepFailure> {
        let name = source.image.clone().unwrap_or_default();
        let reference = docker::parse_reference(&name).map_err(|why| {
            let message = format!("The release's image name cannot be read: {why}.");
            recorder.step(Step::Deploy, StepState::Failed, Some(message.clone()));
            StepFailure::failed(message)
        })?;
        let shipped = Shipped {
            run: source.image_id.clone().unwrap_or(name),
            reference,
            digest: source.digest.clone(),
        };
        self.deploy(&shipped, recorder, cancel).await
    }

    /// Replaces the project's container with one of `image` and waits for it to answer.
    async fn deploy(
        &self,
        image: &Shipped,
        recorder: &Recorder,
        cancel: &CancellationToken,
    ) -> Result<DeployResult, StepFailure> {
        let (engine, root, settings, release_id) = (self.engine, self.root, self.settings, self.release_id);
        recorder.step(Step::Deploy, StepState::Running, None);
        let name = self.container.clone();
        let port = container_port(root, settings);
        let mut env: Vec<(String, String)> = settings
            .env
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        // Render sets PORT and many apps listen on `0.0.0.0:$PORT`: so does the Local target.
        if !settings.env.contains_key("PORT") {
            env.push(("PORT".to_owned(), port.to_string()));
        }
        // The app's Sentry SDK then reports the release and environment the Sentry step records.
        if !settings.env.contains_key("SENTRY_RELEASE") {
            if let Some(version) = crate::pipeline::sentry::version_of(root, settings, self.commit.as_deref()).await {
                env.push(("SENTRY_RELEASE".to_owned(), version));
            }
        }
        if !settings.env.contains_key("SENTRY_ENVIRONMENT") {
            env.push((
                "SENTRY_ENVIRONMENT".to_owned(),
                crate::pipeline::sentry::environment(settings, crate::pipeline::Target::Local),
            ));
        }
        let request = RunRequest {
            image: image.run.clone(),
            name: name.clone(),
            container_port: port,
            project_id: project::project_id(root),
            release_id: release_id.to_owned(),
            env,
            preferred_port: Some(project::preferred_local_port(root)),
        };
        let running = match docker::replace_and_run(engine, &request).await {
            Ok(running) => running,
            Err(error) => {
                let error = AppError::from(error);
                let message = recorder.fail_with(
                    Step::Deploy,
                    StepState::Failed,
                    "The container did not start: ",
                    error.clone(),
                );
                return Err(StepFailure::from_error(message, error));
            }
        };
        recorder.log(
            Step::Deploy,
            &format!("container {name} runs on 127.0.0.1:{}", running.host_port),
        );
        recorder.step(Step::Deploy, StepState::Passed, Some(format!("container {name}")));
        let url = format!("http://127.0.0.1:{}{}", running.host_port, settings.health_path());
        let timeout = settings.health_timeout_secs.unwrap_or(DEFAULT_HEALTH_TIMEOUT_SECS);
        match verify(&url, timeout, recorder, cancel).await {
            Ok(()) => Ok(DeployResult {
                url: Some(format!("http://127.0.0.1:{}/", running.host_port)),
                deploy_id: Some(running.id.chars().take(12).collect()),
                deploy_status: Some("running".to_owned()),
                note: None,
            }),
            Err(failure) => {
                if failure.outcome == Outcome::Canceled {
                    // A cancelled release leaves no container behind.
                    let _ = docker::remove_container(engine, &running.id).await;
                } else {
                    let logs = docker::container_logs(engine, &running.id, 20).await;
                    for line in logs.lines() {
                        recorder.log(Step::Verify, line);
                    }
                }
                Err(failure)
            }
        }
    }
}
