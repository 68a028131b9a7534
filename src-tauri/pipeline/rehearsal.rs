//! The rehearsal: before a release to a Render environment pushes, the image just built runs
//! on the project's engine the way the environment will run it (its port and `PORT`, the
//! health path, the project's own values) and must answer there within the health time
//! limit. A broken image stops the release before anything reaches the registry, with the
//! answer it gave and its last output lines. Its container is removed whatever happens; one a
//! killed Slipway left is a candidate, which the next start puts right.

use std::path::Path;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::deploy::{telling_line, LocalDeployer, StepFailure};
use super::recorder::Recorder;
use super::verify::{answers, DEFAULT_HEALTH_TIMEOUT_SECS};
use super::Step;
use crate::docker::{self, ContainerRun};
use crate::error::AppError;
use crate::history::{Outcome, StepState};
use crate::project::{self, Environment, ProjectSettings};

/// Lines of the container's output kept in the step when it fails.
const LAST_LINES: usize = 20;

/// What a rehearsal runs, and where.
pub(super) struct Rehearsal<'a> {
    pub engine: &'a docker::Engine,
    pub root: &'a Path,
    pub settings: &'a ProjectSettings,
    pub environment: &'a Environment,
    pub release_id: &'a str,
    pub commit: Option<String>,
    /// The image as the engine knows it (its id: no later build can have moved it).
    pub image: &'a str,
}

/// Runs the rehearsal as its own step; `Err` ends the release before the push.
pub(super) async fn rehearse(
    rehearsal: &Rehearsal<'_>,
    recorder: &Recorder,
    cancel: &CancellationToken,
) -> Result<(), StepFailure> {
    let engine = rehearsal.engine;
    recorder.step(Step::Rehearsal, StepState::Running, None);
    let deployer = LocalDeployer {
        engine,
        root: rehearsal.root,
        settings: rehearsal.settings,
        container: project::container_name(rehearsal.root),
        release_id: rehearsal.release_id,
        commit: rehearsal.commit.clone(),
    };
    let mut request = deployer.run_request(rehearsal.image).await;
    // Its errors are not the environment's: a DSN would report them as production's.
    let reported = request.env.len();
    request.env.retain(|(key, _)| key != "SENTRY_DSN");
    if request.env.len() < reported {
        recorder.log(
            Step::Rehearsal,
            "SENTRY_DSN is left out here, so what the rehearsal raises is not reported to Sentry",
        );
    }
    let candidate = match docker::start_candidate(engine, &request).await {
        Ok(candidate) => candidate,
        Err(error) => {
            // An app that ends at once can end before the engine says where its port is.
            let name = docker::candidate_name(&request.name);
            let failure = match docker::container_run(engine, &name).await {
                Ok(Some(run)) if run != ContainerRun::Running => {
                    let message = format!("The app ended at start ({}).", how_it_ended(run));
                    recorder.step(Step::Rehearsal, StepState::Failed, Some(message.clone()));
                    with_last_words(StepFailure::failed(message), engine, &name, recorder).await
                }
                _ => {
                    let error = AppError::from(error);
                    let message = recorder.fail_with(
                        Step::Rehearsal,
                        StepState::Failed,
                        "The image did not start on this computer: ",
                        error.clone(),
                    );
                    StepFailure::from_error(message, error)
                }
            };
            drop_rehearsal(engine, &request.name, recorder).await;
            return Err(failure.with_note("Nothing was pushed; Render still runs what it ran."));
        }
    };
    let health = rehearsal.settings.health_path();
    let limit = rehearsal
        .settings
        .health_timeout_secs
        .unwrap_or(DEFAULT_HEALTH_TIMEOUT_SECS);
    let url = format!("http://{}:{}{health}", engine.endpoint.app_host(), candidate.host_port);
    recorder.log(
        Step::Rehearsal,
        &format!(
            "the image runs here as {} will run it (PORT {}), checked at {url}",
            rehearsal.environment.label(),
            request.container_port
        ),
    );
    let outcome = tokio::select! {
        answered = answers(Step::Rehearsal, &url, limit, recorder, cancel) => answered,
        ended = ended(engine, &candidate.id) => {
            let message = format!("The app ended at start ({ended}) before {health} answered.");
            recorder.step(Step::Rehearsal, StepState::Failed, Some(message.clone()));
            Err(StepFailure::failed(message))
        }
    };
    let outcome = match outcome {
        Ok(took) => {
            recorder.step(
                Step::Rehearsal,
                StepState::Passed,
                Some(format!(
                    "the image answers {health} in {:.1} s on this computer",
                    took.as_secs_f64()
                )),
            );
            Ok(())
        }
        Err(failure) if failure.outcome == Outcome::Canceled => Err(failure),
        Err(failure) => Err(with_last_words(failure, engine, &candidate.id, recorder)
            .await
            .with_note("Nothing was pushed; Render still runs what it ran.")),
    };
    drop_rehearsal(engine, &request.name, recorder).await;
    outcome
}

/// The container's last output lines in the step, and its error line (else its last line)
/// in the failure's sentence.
async fn with_last_words(
    failure: StepFailure,
    engine: &docker::Engine,
    container: &str,
    recorder: &Recorder,
) -> StepFailure {
    let output = docker::container_logs(engine, container, LAST_LINES).await;
    for line in output.lines() {
        recorder.log(Step::Rehearsal, line);
    }
    let lines: Vec<String> = output.lines().map(str::to_owned).collect();
    let last = telling_line(&lines).or_else(|| {
        lines
            .iter()
            .map(|line| line.trim())
            .rfind(|line| !line.is_empty())
            .map(str::to_owned)
    });
    match last {
        Some(line) => failure.with_note(format!("Its last words: {line}")),
        None => failure,
    }
}

/// The rehearsal's container goes, whatever happened.
async fn drop_rehearsal(engine: &docker::Engine, name: &str, recorder: &Recorder) {
    if let Err(error) = docker::drop_candidate(engine, name).await {
        recorder.log(
            Step::Rehearsal,
            &format!("the rehearsal's container could not be removed: {error}"),
        );
    }
}

fn how_it_ended(run: ContainerRun) -> String {
    match run {
        ContainerRun::Exited(code) => format!("exit code {code}"),
        ContainerRun::Stopped => "it stopped".to_owned(),
        ContainerRun::Running => "it runs".to_owned(),
    }
}

/// Resolves once the container is no longer running, saying how it ended.
async fn ended(engine: &docker::Engine, id: &str) -> String {
    loop {
        match docker::container_run(engine, id).await {
            Ok(Some(ContainerRun::Running)) | Err(_) => {}
            Ok(Some(run)) => return how_it_ended(run),
            Ok(None) => return "its container is gone".to_owned(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
