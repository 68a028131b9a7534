//! The end of a release: where the image goes and how Slipway knows it is live.
//!
//! Local runs the image as a container here; Render deploys it by digest through the API
//! (or a deploy hook) and follows the deploy to a terminal status. Both then wait for the
//! app to answer over HTTP.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::recorder::Recorder;
use super::{container_port, Context, Plan, ReleaseEvent, Step};
use crate::accounts;
use crate::docker::{self, ImageReference, RegistryCredentials, RunRequest};
use crate::error::{AppError, ErrorKind};
use crate::history::{Ending, Outcome, StepState};
use crate::project::{self, ProjectSettings};
use crate::render::{self, deploy_phase, DeployPhase, RenderClient};
use crate::secrets::{SecretStore, Service};

const DEFAULT_HEALTH_TIMEOUT_SECS: u32 = 60;
/// How long to look for the deploy a 202 or a deploy hook queued.
const FIND_DEPLOY_FOR: Duration = Duration::from_secs(60);
const LONGEST_POLL: Duration = Duration::from_secs(10);

/// Why the release stopped at a step.
pub(super) struct StepFailure {
    outcome: Outcome,
    message: String,
    /// The error behind it, whose kind and hint the ledger and the window keep.
    error: Option<AppError>,
}

impl StepFailure {
    pub(super) fn failed(message: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Failed,
            message: message.into(),
            error: None,
        }
    }

    /// A failure that an error caused: `message` says where, `error` what and what to do.
    pub(super) fn from_error(message: impl Into<String>, error: AppError) -> Self {
        Self {
            error: Some(error),
            ..Self::failed(message)
        }
    }

    pub(super) fn canceled() -> Self {
        Self {
            outcome: Outcome::Canceled,
            message: "Cancelled.".to_owned(),
            error: None,
        }
    }

    pub(super) fn ending(self, mut ending: Ending) -> (Outcome, Ending) {
        ending.message = Some(self.message);
        if let Some(error) = self.error {
            ending.error_kind = Some(error.kind.as_str().to_owned());
            ending.error_hint = Some(error.hint);
        }
        (self.outcome, ending)
    }
}

pub(super) struct DeployResult {
    /// Where it answers; `None` when there is no URL to check (a deploy hook, a private service).
    pub url: Option<String>,
    pub deploy_id: Option<String>,
    pub deploy_status: Option<String>,
}

/// Before a Render release: the accounts it uses still work.
pub(super) async fn check_render_accounts(context: &Context, plan: &Plan) -> Result<(), AppError> {
    let checks = accounts::check_all(context.data_dir.clone(), &context.settings).await?;
    for check in checks {
        let used = match check.account.service {
            Service::Registry => plan.registry.as_deref() == Some(check.account.account.as_str()),
            Service::Render => true,
            _ => false,
        };
        if used && !check.ok {
            if let Some(problem) = check.problem {
                return Err(problem);
            }
        }
    }
    Ok(())
}

/// The login for the image's registry from the store, or none (an open local registry).
/// The registry login for `reference`, read from the keyring off the async runtime (the
/// keyring answers over D-Bus and may block).
pub(super) async fn registry_credentials(context: &Context, reference: &ImageReference) -> RegistryCredentials {
    let server = reference.registry.clone().unwrap_or_else(|| "docker.io".to_owned());
    let data_dir = context.data_dir.clone();
    let asked = server.clone();
    let read = tokio::task::spawn_blocking(move || accounts::registry_credentials(&data_dir, &asked));
    match read.await {
        Ok(credentials) => credentials,
        Err(error) => {
            // As with no login: the push then says the registry refused it.
            tracing::warn!(%error, "the registry login could not be read");
            RegistryCredentials {
                username: String::new(),
                secret: String::new(),
                server,
            }
        }
    }
}

/// The digest, when the registry's tag already points at this very image: a re-run then
/// skips the push.
pub(super) async fn already_pushed(
    engine: &bollard::Docker,
    reference: &ImageReference,
    image_id: &str,
    credentials: &RegistryCredentials,
) -> Option<String> {
    let local = engine.inspect_image(image_id).await.ok()?;
    let remote = crate::registry::manifest_digest(reference, &credentials.username, &credentials.secret)
        .await
        .ok()?;
    let name = reference.name();
    local
        .repo_digests
        .unwrap_or_default()
        .iter()
        .any(|repo_digest| repo_digest == &format!("{name}@{remote}"))
        .then_some(remote)
}

/// Runs the image as the project's container here and waits for it to answer.
pub(super) async fn deploy_local(
    engine: &bollard::Docker,
    root: &Path,
    settings: &ProjectSettings,
    plan: &Plan,
    release_id: &str,
    recorder: &Recorder,
    cancel: &CancellationToken,
) -> Result<DeployResult, StepFailure> {
    recorder.step(Step::Deploy, StepState::Running, None);
    let name = plan.service.clone().unwrap_or_else(|| "slipway-app".to_owned());
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
    let request = RunRequest {
        image: plan.image.clone(),
        name: name.clone(),
        container_port: port,
        project_id: project::project_id(root),
        release_id: release_id.to_owned(),
        env,
    };
    let running = match docker::replace_and_run(engine, &request).await {
        Ok(running) => running,
        Err(error) => {
            let error = AppError::from(error);
            let message = format!("The container did not start: {}", error.message);
            recorder.step(Step::Deploy, StepState::Failed, Some(message.clone()));
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

/// Waits until `url` answers with a success or a redirect.
async fn verify(
    url: &str,
    timeout_secs: u32,
    recorder: &Recorder,
    cancel: &CancellationToken,
) -> Result<(), StepFailure> {
    recorder.step(Step::Verify, StepState::Running, None);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| StepFailure::failed(error.to_string()))?;
    let deadline = Instant::now() + Duration::from_secs(u64::from(timeout_secs));
    loop {
        let last = match client.get(url).send().await {
            Ok(response) if response.status().is_success() || response.status().is_redirection() => {
                recorder.log(Step::Verify, &format!("{url} answered {}", response.status()));
                recorder.step(Step::Verify, StepState::Passed, Some(format!("{url} answers")));
                return Ok(());
            }
            Ok(response) => format!("it answered {}", response.status()),
            Err(error) => format!("it did not answer ({})", error.without_url()),
        };
        if Instant::now() >= deadline {
            let message = format!("{url} did not answer within {timeout_secs} s: {last}.");
            recorder.step(Step::Verify, StepState::Failed, Some(message.clone()));
            return Err(StepFailure::failed(message));
        }
        tokio::select! {
            () = cancel.cancelled() => {
                recorder.step(Step::Verify, StepState::Canceled, None);
                return Err(StepFailure::canceled());
            }
            () = tokio::time::sleep(Duration::from_millis(300)) => {}
        }
    }
}

fn render_error(recorder: &Recorder, error: AppError) -> StepFailure {
    let message = format!("Render: {}", error.message);
    recorder.step(Step::Deploy, StepState::Failed, Some(message.clone()));
    StepFailure::from_error(message, error)
}

/// Deploys the pushed image by digest on Render, follows it to a terminal status, then waits
/// for the service's URL to answer.
pub(super) async fn deploy_render(
    context: &Context,
    plan: &Plan,
    reference: &ImageReference,
    pushed: &Ending,
    recorder: &Recorder,
    cancel: &CancellationToken,
) -> Result<DeployResult, StepFailure> {
    recorder.step(Step::Deploy, StepState::Running, None);
    let store = SecretStore::os(&context.data_dir);
    let service_id = plan.service.clone().unwrap_or_default();
    // By digest, so Render runs exactly what was tested.
    let image_url = match &pushed.digest {
        Some(digest) => format!("{}@{digest}", qualified(reference)),
        None => format!("{}:{}", qualified(reference), reference.tag),
    };
    let triggered_at = chrono::Utc::now() - chrono::Duration::seconds(5);
    let after = triggered_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let has_key = store
        .account(Service::Render, "default")
        .is_some_and(|account| account.project.is_some());
    let client = if has_key {
        let key = store
            .secret(Service::Render, "default")
            .map_err(|error| render_error(recorder, error.into()))?;
        RenderClient::new(&context.settings.render_api(), key).map_err(|error| render_error(recorder, error.into()))?
    } else {
        return deploy_by_hook(context, &image_url, recorder).await;
    };
    recorder.log(Step::Deploy, &format!("deploying {image_url} to {service_id}"));
    let created = client
        .trigger_deploy(&service_id, &image_url)
        .await
        .map_err(|error| render_error(recorder, error.into()))?;
    let mut deploy = match created {
        Some(deploy) => deploy,
        None => {
            recorder.log(Step::Deploy, "Render queued the deploy (202); looking for it");
            find_new_deploy(&client, &service_id, &after, cancel)
                .await
                .map_err(|error| render_error(recorder, error))?
        }
    };
    recorder.note(&Ending {
        deploy_id: Some(deploy.id.clone()),
        deploy_status: Some(deploy.status.clone()),
        ..Ending::default()
    });
    let mut wait = Duration::from_secs(1);
    let mut shown = String::new();
    loop {
        if deploy.status != shown {
            shown = deploy.status.clone();
            recorder.log(Step::Deploy, &format!("deploy {}: {}", deploy.id, deploy.status));
            recorder.event(ReleaseEvent::Deploy {
                deploy_id: Some(deploy.id.clone()),
                status: deploy.status.clone(),
            });
        }
        match deploy_phase(&deploy.status) {
            DeployPhase::Live => break,
            DeployPhase::Failed => {
                let message = format!("The Render deploy {} ended {}.", deploy.id, deploy.status);
                recorder.note(&Ending {
                    deploy_status: Some(deploy.status.clone()),
                    ..Ending::default()
                });
                recorder.step(Step::Deploy, StepState::Failed, Some(message.clone()));
                return Err(StepFailure::failed(message));
            }
            DeployPhase::Running => {}
        }
        tokio::select! {
            () = cancel.cancelled() => {
                let _ = client.cancel_deploy(&service_id, &deploy.id).await;
                recorder.log(Step::Deploy, &format!("asked Render to cancel deploy {}", deploy.id));
                recorder.note(&Ending { deploy_status: Some("canceled".to_owned()), ..Ending::default() });
                recorder.step(Step::Deploy, StepState::Canceled, None);
                return Err(StepFailure::canceled());
            }
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 3 / 2).min(LONGEST_POLL);
        deploy = client
            .deploy(&service_id, &deploy.id)
            .await
            .map_err(|error| render_error(recorder, error.into()))?;
    }
    recorder.step(
        Step::Deploy,
        StepState::Passed,
        Some(format!("deploy {} is live", deploy.id)),
    );
    let service = client
        .service(&service_id)
        .await
        .map_err(|error| render_error(recorder, error.into()))?;
    let Some(url) = service.url else {
        recorder.step(
            Step::Verify,
            StepState::Skipped,
            Some("The service has no public URL to check.".to_owned()),
        );
        return Ok(DeployResult {
            url: None,
            deploy_id: Some(deploy.id),
            deploy_status: Some(deploy.status),
        });
    };
    verify(&url, DEFAULT_HEALTH_TIMEOUT_SECS, recorder, cancel).await?;
    Ok(DeployResult {
        url: Some(url),
        deploy_id: Some(deploy.id),
        deploy_status: Some(deploy.status),
    })
}

/// The image's name with its registry spelled out, as Render wants it.
fn qualified(reference: &ImageReference) -> String {
    format!(
        "{}/{}",
        reference.registry.as_deref().unwrap_or("docker.io"),
        reference.repository
    )
}

/// The deploy that a 202 queued: the newest one created after the trigger.
async fn find_new_deploy(
    client: &RenderClient,
    service_id: &str,
    after: &str,
    cancel: &CancellationToken,
) -> Result<render::Deploy, AppError> {
    let deadline = Instant::now() + FIND_DEPLOY_FOR;
    let mut wait = Duration::from_millis(500);
    loop {
        let deploys = client.deploys(service_id, Some(after)).await?;
        if let Some(newest) = deploys.into_iter().max_by(|a, b| a.created_at.cmp(&b.created_at)) {
            return Ok(newest);
        }
        if Instant::now() >= deadline {
            return Err(AppError::new(
                ErrorKind::NotFound,
                "Render accepted the deploy but it did not appear in the service's deploys within a minute.",
                "Look at the service's Events on Render's dashboard.",
            ));
        }
        tokio::select! {
            () = cancel.cancelled() => return Err(AppError::new(ErrorKind::Cancelled, "Cancelled.", "")),
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(LONGEST_POLL);
    }
}

/// The fallback without an API key: call the hook. Without a key the deploy cannot be
/// followed, so the step passes when Render accepts the hook.
async fn deploy_by_hook(context: &Context, image_url: &str, recorder: &Recorder) -> Result<DeployResult, StepFailure> {
    let hook = SecretStore::os(&context.data_dir)
        .secret(Service::Render, "deploy-hook")
        .map_err(|error| render_error(recorder, error.into()))?;
    render::call_deploy_hook(&hook, image_url)
        .await
        .map_err(|error| render_error(recorder, error.into()))?;
    recorder.step(
        Step::Deploy,
        StepState::Passed,
        Some("Render accepted the deploy hook".to_owned()),
    );
    recorder.step(
        Step::Verify,
        StepState::Skipped,
        Some("A deploy hook gives no deploy to follow; connect an API key to follow deploys.".to_owned()),
    );
    Ok(DeployResult {
        url: None,
        deploy_id: None,
        deploy_status: Some("triggered".to_owned()),
    })
}
