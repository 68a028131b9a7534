//! The Local target: the image runs as the project's container on the project's engine (this
//! machine's, or the one its Docker context names), checked and shown at that engine's host.

use std::path::Path;
use std::time::Duration;

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
    /// The project's engine: the app is checked and shown at its host.
    pub engine: &'a docker::Engine,
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

    /// Runs `image` beside the project's container, checks it, and only then switches the
    /// project's port over to it (`docker::switch`): a failed check, a cancel or a kill
    /// leaves the app that ran before answering.
    async fn deploy(
        &self,
        image: &Shipped,
        recorder: &Recorder,
        cancel: &CancellationToken,
    ) -> Result<DeployResult, StepFailure> {
        let engine = self.engine;
        let host = engine.endpoint.app_host();
        recorder.step(Step::Deploy, StepState::Running, None);
        let request = self.run_request(&image.run).await;
        let name = request.name.clone();
        match docker::put_right(engine, &request.project_id).await {
            Ok(0) => {}
            Ok(mended) => recorder.log(
                Step::Deploy,
                &if mended == 1 {
                    "1 container an interrupted deploy left was put right".to_owned()
                } else {
                    format!("{mended} containers an interrupted deploy left were put right")
                },
            ),
            Err(error) => {
                return Err(engine_failure(
                    recorder,
                    Step::Deploy,
                    "The engine could not be asked: ",
                    error,
                ))
            }
        }
        // The same image with the same values runs already: a trial of it proves nothing more
        // (an unchanged tree released again goes live at once). An engine that cannot say
        // gets the trial, which then names the engine's trouble.
        let health_path = self.settings.health_path();
        let timeout = self.settings.health_timeout_secs.unwrap_or(DEFAULT_HEALTH_TIMEOUT_SECS);
        let twin = docker::runs_already(engine, &request).await.unwrap_or(false);
        if twin {
            recorder.log(
                Step::Deploy,
                "this very image runs already with the same values: no trial container is needed",
            );
            recorder.step(Step::Deploy, StepState::Passed, Some(format!("container {name}")));
        } else {
            let candidate = match docker::start_candidate(engine, &request).await {
                Ok(candidate) => candidate,
                Err(error) => {
                    return Err(engine_failure(
                        recorder,
                        Step::Deploy,
                        "The container did not start: ",
                        error,
                    ))
                }
            };
            recorder.log(
                Step::Deploy,
                &format!(
                    "the new container runs beside the running one, on {host}:{} for its live check",
                    candidate.host_port
                ),
            );
            recorder.step(Step::Deploy, StepState::Passed, Some(format!("container {name}")));
            let trial = format!("http://{host}:{}{health_path}", candidate.host_port);
            if let Err(failure) = verify(&trial, timeout, recorder, cancel).await {
                if failure.outcome != Outcome::Canceled {
                    log_container(engine, &candidate.id, recorder).await;
                }
                if let Err(error) = docker::drop_candidate(engine, &name).await {
                    recorder.log(
                        Step::Verify,
                        &format!("the new container could not be removed: {error}"),
                    );
                }
                return Err(failure.with_note("The app that ran before was not touched."));
            }
        }

        recorder.log(
            Step::Verify,
            "switching: the running container stops and the new one takes the project's port",
        );
        // The candidate answered: it goes while its twin takes the port and starts, not after
        // (removing a running container takes a quarter of a second the release need not wait).
        let drop_candidate = async {
            if !twin {
                if let Err(error) = docker::drop_candidate(engine, &name).await {
                    tracing::warn!(%error, "the trial container could not be removed yet");
                }
            }
        };
        let (switched, ()) = tokio::join!(docker::switch_to(engine, &request), drop_candidate);
        let running = match switched {
            Ok(running) => running,
            Err(error) => {
                return Err(engine_failure(
                    recorder,
                    Step::Verify,
                    "The switch to the new container failed, and the app that ran before runs again: ",
                    error,
                ))
            }
        };
        recorder.log(
            Step::Verify,
            &format!("container {name} runs on {host}:{}", running.host_port),
        );
        let url = format!("http://{host}:{}{health_path}", running.host_port);
        match verify(&url, timeout, recorder, cancel).await {
            Ok(()) => {
                if let Err(error) = docker::finish_switch(engine, &name).await {
                    recorder.log(
                        Step::Verify,
                        &format!("the previous container could not be removed: {error}"),
                    );
                }
                Ok(DeployResult {
                    url: Some(format!("http://{host}:{}/", running.host_port)),
                    deploy_id: Some(running.id.chars().take(12).collect()),
                    deploy_status: Some("running".to_owned()),
                    note: None,
                })
            }
            Err(failure) => {
                if failure.outcome != Outcome::Canceled {
                    log_container(engine, &running.id, recorder).await;
                }
                let note = match docker::restore(engine, &name).await {
                    // Back once it answers again, so the release never ends with the app away.
                    Ok(true) if serves_within(&url, Duration::from_secs(10)).await => {
                        "The app that ran before runs again.".to_owned()
                    }
                    Ok(true) => "The app that ran before was started again but does not answer yet.".to_owned(),
                    Ok(false) => "Nothing ran before it.".to_owned(),
                    Err(error) => format!("The app that ran before could not be started again: {error}."),
                };
                Err(failure.with_note(note))
            }
        }
    }
}

/// Whether the app at `url` serves HTTP again within `limit` (any answer: the health path of
/// an app that was put back may be what failed).
async fn serves_within(url: &str, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if crate::http::probe(url).await.is_ok() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl LocalDeployer<'_> {
    /// The container to run: the image, the project's values, and what Render would set.
    pub(in crate::pipeline) async fn run_request(&self, image: &str) -> RunRequest {
        let (root, settings) = (self.root, self.settings);
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
            if let Some(version) =
                crate::pipeline::sentry_step::version_of(root, settings, self.commit.as_deref()).await
            {
                env.push(("SENTRY_RELEASE".to_owned(), version));
            }
        }
        if !settings.env.contains_key("SENTRY_ENVIRONMENT") {
            env.push((
                "SENTRY_ENVIRONMENT".to_owned(),
                crate::pipeline::sentry_step::environment(settings, crate::pipeline::Target::Local),
            ));
        }
        RunRequest {
            image: image.to_owned(),
            name: self.container.clone(),
            container_port: port,
            project_id: project::project_id(root),
            release_id: self.release_id.to_owned(),
            env,
            preferred_port: Some(project::preferred_local_port(root)),
            engine: self.engine.endpoint.clone(),
        }
    }
}

/// An engine error that ends the step, recorded whole.
fn engine_failure(recorder: &Recorder, step: Step, context: &str, error: docker::DockerError) -> StepFailure {
    let error = AppError::from(error);
    let message = recorder.fail_with(step, StepState::Failed, context, error.clone());
    StepFailure::from_error(message, error)
}

/// The container's last lines, beside a failed live check.
async fn log_container(engine: &bollard::Docker, id: &str, recorder: &Recorder) {
    for line in docker::container_logs(engine, id, 20).await.lines() {
        recorder.log(Step::Verify, line);
    }
}
