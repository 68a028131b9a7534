//! The Render target: the pushed image deployed by digest through Render's API (or a deploy
//! hook without a key), followed to a terminal status, then checked live.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{DeployResult, Deployer, Shipped, StepFailure};
use crate::accounts;
use crate::docker::{ImageReference, Registry};
use crate::error::{AppError, ErrorKind};
use crate::history::{Ending, Outcome, ReleaseRecord, StepState};
use crate::http::ApiError;
use crate::pipeline::recorder::Recorder;
use crate::pipeline::verify::{verify, DEFAULT_HEALTH_TIMEOUT_SECS};
use crate::pipeline::{Context, Plan, ReleaseEvent, Step};
use crate::render::{self, deploy_phase, DeployPhase, RenderClient};
use crate::secrets::Service;

/// How long to look for the deploy a 202 or a deploy hook queued.
const FIND_DEPLOY_FOR: Duration = Duration::from_secs(60);
/// How long to look for a deploy a request Render did not confirm may have made: Render
/// makes it before it answers, so it is in the list at once or not at all.
const FIND_UNCONFIRMED_FOR: Duration = Duration::from_secs(5);

/// Why a deploy is looked for in the service's list.
#[derive(Clone, Copy)]
enum Search {
    /// Render queued it (202, a hook).
    Queued,
    /// Render's answer was lost (a 5xx, a time-out).
    Unconfirmed,
}
const LONGEST_POLL: Duration = Duration::from_secs(10);

/// Deploys to one Render service with the connected account.
pub(in crate::pipeline) struct RenderDeployer<'a> {
    pub context: &'a Context,
    pub service_id: String,
    /// What the live check asks of the service once Render made a deploy live.
    pub check: LiveCheck,
}

/// The live check of a Render deploy: the environment's health path on the service's URL,
/// within its time limit.
#[derive(Debug, Clone)]
pub(in crate::pipeline) struct LiveCheck {
    pub health_path: String,
    pub timeout_secs: u32,
}

impl Default for LiveCheck {
    fn default() -> Self {
        Self {
            health_path: "/".to_owned(),
            timeout_secs: DEFAULT_HEALTH_TIMEOUT_SECS,
        }
    }
}

impl Deployer for RenderDeployer<'_> {
    async fn deploy(
        &self,
        image: &Shipped,
        recorder: &Recorder,
        cancel: &CancellationToken,
    ) -> Result<DeployResult, StepFailure> {
        deploy_render(self.context, &self.service_id, &self.check, image, recorder, cancel).await
    }

    /// Asks Render to roll back to the source's deploy, then follows the new deploy.
    async fn roll_back(
        &self,
        source: &ReleaseRecord,
        recorder: &Recorder,
        cancel: &CancellationToken,
    ) -> Result<DeployResult, StepFailure> {
        recorder.step(Step::Deploy, StepState::Running, None);
        let Some(deploy_id) = source.deploy_id.as_deref() else {
            return match by_digest(source) {
                Some(image) => {
                    self.beyond_history(image, "it has no Render deploy", recorder, cancel)
                        .await
                }
                None => {
                    let message = "That release has no Render deploy to return to, and no digest to deploy.".to_owned();
                    recorder.step(Step::Deploy, StepState::Failed, Some(message.clone()));
                    Err(StepFailure::failed(message))
                }
            };
        };
        let Some(client) = render_client(self.context)
            .await
            .map_err(|error| render_error(recorder, error))?
        else {
            let message = "Render is not connected with an API key.".to_owned();
            recorder.step(Step::Deploy, StepState::Failed, Some(message.clone()));
            return Err(StepFailure::failed(message));
        };
        let client = following(client, recorder, cancel);
        if cancel.is_cancelled() {
            recorder.step(Step::Deploy, StepState::Canceled, None);
            return Err(StepFailure::canceled());
        }
        recorder.log(
            Step::Deploy,
            &format!("rolling {} back to deploy {deploy_id}", self.service_id),
        );
        let asked_at = since_now();
        let deploy = match client.rollback(&self.service_id, deploy_id).await {
            Ok(deploy) => deploy,
            Err(ApiError::Unconfirmed { reason, .. }) => {
                recorder.log(
                    Step::Deploy,
                    &format!("Render did not confirm the rollback ({reason}); looking for what it did"),
                );
                let made_by_rollback = |deploy: &render::Deploy| deploy.trigger.as_deref() == Some("rollback");
                find_new_deploy(
                    &client,
                    &self.service_id,
                    &asked_at,
                    made_by_rollback,
                    Search::Unconfirmed,
                    cancel,
                )
                .await
                .map_err(|error| render_error(recorder, error))?
            }
            // Render keeps a limited history: a deploy it no longer has is shipped again by the
            // image's digest, which the registry may still hold.
            Err(ApiError::NotFound { .. }) if by_digest(source).is_some() => {
                let image = by_digest(source).ok_or_else(|| StepFailure::failed("no digest"))?;
                let why = format!("Render no longer has deploy {deploy_id}");
                return self.beyond_history(image, &why, recorder, cancel).await;
            }
            Err(error) => return Err(render_error(recorder, error.into())),
        };
        follow_and_verify(&client, &self.service_id, &self.check, deploy, recorder, cancel).await
    }
}

impl RenderDeployer<'_> {
    /// A rollback that deploys the source's image by its digest, because `why`; the ledger's
    /// deploy step and the rollback's sentence say it went that way.
    async fn beyond_history(
        &self,
        image: Shipped,
        why: &str,
        recorder: &Recorder,
        cancel: &CancellationToken,
    ) -> Result<DeployResult, StepFailure> {
        recorder.log(
            Step::Deploy,
            &format!("{why}: deploying its image by digest instead, beyond Render's history"),
        );
        let mut result = deploy_render(self.context, &self.service_id, &self.check, &image, recorder, cancel).await?;
        let said = format!("{why}: its image was deployed again by digest, beyond Render's history.");
        result.note = Some(match result.note.take() {
            Some(note) => format!("{said} {note}"),
            None => said,
        });
        Ok(result)
    }
}

/// The source's image by digest, when both are known.
fn by_digest(source: &ReleaseRecord) -> Option<Shipped> {
    let digest = source.digest.clone()?;
    let reference = crate::docker::parse_reference(source.image.as_deref()?).ok()?;
    Some(Shipped {
        run: reference.full(),
        reference,
        digest: Some(digest),
    })
}

impl RenderDeployer<'_> {
    /// Follows `deploy_id`, the deploy an interrupted release had Render make, instead of
    /// making a second one.
    pub(in crate::pipeline) async fn follow_existing(
        &self,
        deploy_id: &str,
        recorder: &Recorder,
        cancel: &CancellationToken,
    ) -> Result<DeployResult, StepFailure> {
        recorder.step(Step::Deploy, StepState::Running, None);
        let Some(client) = render_client(self.context)
            .await
            .map_err(|error| render_error(recorder, error))?
        else {
            let message = "Render is not connected with an API key.".to_owned();
            recorder.step(Step::Deploy, StepState::Failed, Some(message.clone()));
            return Err(StepFailure::failed(message));
        };
        let client = following(client, recorder, cancel);
        recorder.log(
            Step::Deploy,
            &format!("following deploy {deploy_id}, which the interrupted release made: no second deploy"),
        );
        let deploy = client
            .deploy(&self.service_id, deploy_id)
            .await
            .map_err(|error| render_error(recorder, error.into()))?;
        follow_and_verify(&client, &self.service_id, &self.check, deploy, recorder, cancel).await
    }
}

/// Before a Render release: the accounts it uses still work.
pub(in crate::pipeline) async fn check_render_accounts(context: &Context, plan: &Plan) -> Result<(), AppError> {
    let checks = accounts::check_all(context.secrets.clone(), &context.settings).await?;
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

/// The Render API client of the connected key; `None` when Render is connected without an
/// API key (a deploy hook) or not at all. Which service it deploys to is the project's
/// environment's, never the account's. The keyring is read off the async runtime: it
/// answers over D-Bus and may block.
pub(in crate::pipeline) async fn render_client(context: &Context) -> Result<Option<RenderClient>, AppError> {
    let store = context.secrets.clone();
    let found = accounts::blocking(move || {
        if store.account(Service::Render, "default").is_none() {
            return Ok(None);
        }
        Ok(Some(store.secret(Service::Render, "default")?))
    })
    .await?;
    match found {
        Some(key) => Ok(Some(RenderClient::new(&context.settings.render_api(), key)?)),
        None => Ok(None),
    }
}

fn render_error(recorder: &Recorder, error: AppError) -> StepFailure {
    if error.kind == ErrorKind::Cancelled {
        recorder.step(Step::Deploy, StepState::Canceled, None);
        return StepFailure::canceled();
    }
    if let Some(detail) = &error.detail {
        recorder.log(Step::Deploy, detail);
    }
    let message = format!("Render: {}", error.message);
    recorder.step(Step::Deploy, StepState::Failed, Some(message.clone()));
    StepFailure::from_error(message, error)
}

/// Deploys the pushed image by digest on Render, follows it to a terminal status, then waits
/// for the service's URL to answer.
async fn deploy_render(
    context: &Context,
    service_id: &str,
    check: &LiveCheck,
    image: &Shipped,
    recorder: &Recorder,
    cancel: &CancellationToken,
) -> Result<DeployResult, StepFailure> {
    recorder.step(Step::Deploy, StepState::Running, None);
    let reference = &image.reference;
    // By digest, so Render runs exactly what was tested.
    let image_url = match &image.digest {
        Some(digest) => format!("{}@{digest}", qualified(reference)),
        None => format!("{}:{}", qualified(reference), reference.tag),
    };
    let after = since_now();
    let Some(client) = render_client(context)
        .await
        .map_err(|error| render_error(recorder, error))?
    else {
        return deploy_by_hook(context, service_id, &image_url, recorder).await;
    };
    let client = following(client, recorder, cancel);
    if cancel.is_cancelled() {
        recorder.step(Step::Deploy, StepState::Canceled, None);
        return Err(StepFailure::canceled());
    }
    recorder.log(Step::Deploy, &format!("deploying {image_url} to {service_id}"));
    let of_this_image = |deploy: &render::Deploy| {
        deploy
            .image
            .as_ref()
            .and_then(|image| image.reference.as_deref())
            .is_none_or(|reference| reference == image_url)
    };
    let deploy = match client.trigger_deploy(service_id, &image_url).await {
        Ok(Some(deploy)) => deploy,
        Ok(None) => {
            recorder.log(Step::Deploy, "Render queued the deploy (202); looking for it");
            find_new_deploy(&client, service_id, &after, of_this_image, Search::Queued, cancel)
                .await
                .map_err(|error| render_error(recorder, error))?
        }
        // Never sent again: Render may have made it. What it made is followed.
        Err(ApiError::Unconfirmed { reason, .. }) => {
            recorder.log(
                Step::Deploy,
                &format!("Render did not confirm the deploy ({reason}); looking for what it did"),
            );
            find_new_deploy(&client, service_id, &after, of_this_image, Search::Unconfirmed, cancel)
                .await
                .map_err(|error| render_error(recorder, error))?
        }
        Err(error) => return Err(render_error(recorder, error.into())),
    };
    follow_and_verify(&client, service_id, check, deploy, recorder, cancel).await
}

/// A moment before now, as Render's `createdAfter` wants it: a deploy made by the request
/// about to be sent is after it, whatever the clocks' small difference.
fn since_now() -> String {
    (chrono::Utc::now() - chrono::Duration::seconds(5)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The client a release, rollback or promotion talks to Render with: a wait for Render's
/// per-minute limit shows its countdown, and the cancel ends it (nothing is sent after).
fn following(client: RenderClient, recorder: &Recorder, cancel: &CancellationToken) -> RenderClient {
    let shown = recorder.clone();
    let last_shown = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(u64::MAX));
    client
        .cancelled_by(cancel.clone())
        .watched_by(std::sync::Arc::new(move |left| {
            let seconds = left.as_secs_f64().ceil() as u64;
            if last_shown.swap(seconds, std::sync::atomic::Ordering::Relaxed) != seconds {
                shown.event(ReleaseEvent::Deploy {
                    deploy_id: None,
                    status: format!("Render rate limit: waiting {seconds} s"),
                });
            }
        }))
}

/// Asks Render to cancel `deploy`, then records what Render says the deploy is now, whatever
/// the cancel's answer: a deploy that went live as the cancel came is live ("the cancel came
/// too late"), one Render did not confirm may still finish.
async fn cancelled(
    client: &RenderClient,
    service_id: &str,
    deploy: render::Deploy,
    recorder: &Recorder,
) -> Result<DeployResult, StepFailure> {
    let answer = client.cancel_deploy(service_id, &deploy.id).await;
    match &answer {
        Ok(_) => recorder.log(Step::Deploy, &format!("asked Render to cancel deploy {}", deploy.id)),
        Err(error) => recorder.log(
            Step::Deploy,
            &format!("Render refused to cancel deploy {}: {error}", deploy.id),
        ),
    }
    let now = match client.deploy(service_id, &deploy.id).await {
        Ok(now) => Some(now),
        Err(_) => answer.ok(),
    };
    let status = now.as_ref().map_or(deploy.status.clone(), |now| now.status.clone());
    recorder.note(&Ending {
        deploy_id: Some(deploy.id.clone()),
        deploy_status: Some(status.clone()),
        ..Ending::default()
    });
    match deploy_phase(&status) {
        DeployPhase::Live => {
            let too_late = format!("deploy {} is live: the cancel came too late", deploy.id);
            recorder.step(Step::Deploy, StepState::Passed, Some(too_late.clone()));
            recorder.step(
                Step::Verify,
                StepState::Skipped,
                Some("Cancelled; the deploy went live before the cancel reached Render.".to_owned()),
            );
            let url = client.service(service_id).await.ok().and_then(|service| service.url);
            Ok(DeployResult {
                url,
                deploy_id: Some(deploy.id),
                deploy_status: Some(status),
                note: Some("Live: the cancel came too late, Render had already made the deploy live.".to_owned()),
            })
        }
        DeployPhase::Failed => {
            recorder.step(Step::Deploy, StepState::Canceled, Some(format!("Render says {status}")));
            Err(StepFailure::canceled())
        }
        DeployPhase::Running => {
            let message = format!(
                "Cancelled, but Render did not confirm it: deploy {} was {status} and may still finish. Check it in History.",
                deploy.id
            );
            recorder.step(Step::Deploy, StepState::Canceled, Some(message.clone()));
            Err(StepFailure::canceled_with(message))
        }
    }
}

/// Follows `deploy` to a terminal status (cancelling it on Render when the release is
/// cancelled), then waits for the service's URL to answer.
async fn follow_and_verify(
    client: &RenderClient,
    service_id: &str,
    check: &LiveCheck,
    mut deploy: render::Deploy,
    recorder: &Recorder,
    cancel: &CancellationToken,
) -> Result<DeployResult, StepFailure> {
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
                let why = match deploy.status.as_str() {
                    "canceled" | "deactivated" => None,
                    _ => say_why(client, service_id, &deploy, Step::Deploy, recorder).await,
                };
                let message = match why {
                    Some(line) => format!("The Render deploy {} ended {}: {line}", deploy.id, deploy.status),
                    None => format!("The Render deploy {} ended {}.", deploy.id, deploy.status),
                };
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
            () = cancel.cancelled() => return cancelled(client, service_id, deploy, recorder).await,
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 3 / 2).min(LONGEST_POLL);
        deploy = match client.deploy(service_id, &deploy.id).await {
            Ok(now) => now,
            // Cancelled while the client waited to ask again: cancel the deploy on Render.
            Err(_) if cancel.is_cancelled() => return cancelled(client, service_id, deploy, recorder).await,
            // Render stopped answering (after the client's retries): the deploy's last known
            // status is kept, and the person told it may still finish.
            Err(error) => {
                let error = AppError::from(error);
                recorder.note(&Ending {
                    deploy_status: Some(deploy.status.clone()),
                    ..Ending::default()
                });
                let message = format!(
                    "Render could not be reached ({}); deploy {} was {} and may still finish: check it in History.",
                    error.message.trim_end_matches('.'),
                    deploy.id,
                    deploy.status
                );
                recorder.step(Step::Deploy, StepState::Failed, Some(message.clone()));
                return Err(StepFailure::from_error(message, error));
            }
        };
    }
    // Kept now: a live check that fails later must not leave the ledger saying it never went live.
    recorder.note(&Ending {
        deploy_status: Some(deploy.status.clone()),
        ..Ending::default()
    });
    recorder.step(
        Step::Deploy,
        StepState::Passed,
        Some(format!("deploy {} is live", deploy.id)),
    );
    let service = client
        .service(service_id)
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
            note: None,
        });
    };
    // Render made the deploy live: a cancel now stops the check, not the deploy.
    let checked = format!("{}{}", url.trim_end_matches('/'), check.health_path);
    let note = match verify(&checked, check.timeout_secs, recorder, cancel).await {
        Ok(()) => None,
        Err(failure) if failure.outcome == Outcome::Canceled => {
            Some("Live: cancelled during the live check, after Render had made the deploy live.".to_owned())
        }
        Err(failure) => {
            return Err(
                match say_why(client, service_id, &deploy, Step::Verify, recorder).await {
                    Some(line) => failure.with_note(format!("Render's log says: {line}")),
                    None => failure,
                },
            )
        }
    };
    Ok(DeployResult {
        url: Some(url),
        deploy_id: Some(deploy.id),
        deploy_status: Some(deploy.status),
        note,
    })
}

/// Lines of Render's log shown in the step.
const SHOWN_LOG_LINES: usize = 40;

/// Render's own log lines of the service since `deploy` was made, shown in `step`; the line
/// that says what went wrong ("ModuleNotFoundError: No module named 'gunicorn'"), when one does.
async fn say_why(
    client: &RenderClient,
    service_id: &str,
    deploy: &render::Deploy,
    step: Step,
    recorder: &Recorder,
) -> Option<String> {
    let unreadable = |error: crate::http::ApiError| {
        recorder.log(
            step,
            &format!("Render's log could not be read: {}", AppError::from(error).message),
        );
        None
    };
    let owner = match client.service(service_id).await {
        Ok(service) => match service.owner_id {
            Some(owner) => owner,
            None => {
                recorder.log(step, "Render's log could not be read: the service names no workspace");
                return None;
            }
        },
        Err(error) => return unreadable(error),
    };
    let start = deploy
        .created_at
        .clone()
        .unwrap_or_else(|| recorder.started_at().to_owned());
    // To the millisecond: the newest lines are where a failure is.
    let end = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let lines = match client.logs(&owner, service_id, &start, &end).await {
        Ok(lines) => lines,
        Err(error) => return unreadable(error),
    };
    if lines.is_empty() {
        recorder.log(step, "Render's log has no lines for this deploy");
        return None;
    }
    recorder.log(step, "Render's log for this deploy:");
    for line in &lines[lines.len().saturating_sub(SHOWN_LOG_LINES)..] {
        recorder.log(step, &format!("  {line}"));
    }
    telling_line(&lines)
}

/// The last line that names an error: a Python exception's last line, or one that says error.
pub(in crate::pipeline) fn telling_line(lines: &[String]) -> Option<String> {
    lines
        .iter()
        .rev()
        .map(|line| line.trim())
        .find(|line| {
            let lower = line.to_lowercase();
            line.split(':')
                .next()
                .is_some_and(|head| head.ends_with("Error") || head.ends_with("Exception"))
                || lower.starts_with("error")
                || lower.contains(" error:")
        })
        .map(str::to_owned)
}

/// The image's name with its registry spelled out, as Render wants it.
fn qualified(reference: &ImageReference) -> String {
    Registry::of(reference).qualify(&reference.repository)
}

/// The deploy a request made that Render queued (202) or did not confirm (a 5xx, a
/// time-out): the newest one created after it that `made_by` recognises.
async fn find_new_deploy(
    client: &RenderClient,
    service_id: &str,
    after: &str,
    made_by: impl Fn(&render::Deploy) -> bool,
    search: Search,
    cancel: &CancellationToken,
) -> Result<render::Deploy, AppError> {
    let deadline = Instant::now()
        + match search {
            Search::Queued => FIND_DEPLOY_FOR,
            Search::Unconfirmed => FIND_UNCONFIRMED_FOR,
        };
    let mut wait = Duration::from_millis(500);
    loop {
        let deploys = client.deploys(service_id, Some(after)).await?;
        if let Some(newest) = deploys
            .into_iter()
            .filter(|deploy| made_by(deploy))
            .max_by(|a, b| a.created_at.cmp(&b.created_at))
        {
            return Ok(newest);
        }
        if Instant::now() >= deadline {
            return Err(match search {
                Search::Queued => AppError::new(
                    ErrorKind::NotFound,
                    "Render accepted the deploy but it did not appear in the service's deploys within a minute.",
                    "Look at the service's Events on Render's dashboard.",
                ),
                Search::Unconfirmed => AppError::new(
                    ErrorKind::Network,
                    "Render is having trouble right now: it did not confirm the request and made no deploy, so nothing changed.",
                    "Try again in a few minutes; Render's status page says when it is back.",
                )
                .with_action(crate::error::ErrorAction::Retry),
            });
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
async fn deploy_by_hook(
    context: &Context,
    service_id: &str,
    image_url: &str,
    recorder: &Recorder,
) -> Result<DeployResult, StepFailure> {
    // A hook deploys its own service only: never another environment's.
    let store = context.secrets.clone();
    let hook_service = accounts::blocking(move || {
        Ok(store
            .account(Service::Render, "deploy-hook")
            .and_then(|account| account.render_service))
    })
    .await
    .map_err(|error| render_error(recorder, error))?;
    if hook_service.as_deref() != Some(service_id) {
        let message =
            format!("Render is not connected with an API key, and the deploy hook connected is not {service_id}'s.");
        recorder.step(Step::Deploy, StepState::Failed, Some(message.clone()));
        return Err(StepFailure::failed(message));
    }
    let hook = accounts::read_secret(context.secrets.clone(), Service::Render, "deploy-hook".to_owned())
        .await
        .map_err(|error| render_error(recorder, error))?;
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
        note: None,
    })
}

#[cfg(test)]
mod tests {
    use super::telling_line;

    fn lines(all: &[&str]) -> Vec<String> {
        all.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn the_line_that_names_the_error_is_the_last_exception_or_error() {
        let traceback = lines(&[
            "==> Deploying...",
            "Traceback (most recent call last):",
            "  File \"/app/manage.py\", line 3, in <module>",
            "ModuleNotFoundError: No module named 'gunicorn'",
            "==> Exited with status 1",
        ]);
        assert_eq!(
            telling_line(&traceback).as_deref(),
            Some("ModuleNotFoundError: No module named 'gunicorn'")
        );
        let said = lines(&["starting", "Error: DATABASE_URL is not set", "bye"]);
        assert_eq!(telling_line(&said).as_deref(), Some("Error: DATABASE_URL is not set"));
        assert_eq!(
            telling_line(&lines(&["==> Build successful", "listening on 10000"])),
            None
        );
        assert_eq!(telling_line(&[]), None);
    }
}
