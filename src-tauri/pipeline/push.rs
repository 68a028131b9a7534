//! The push: the built image to its registry, skipped when the registry already holds it,
//! and the registry's digest checked against the engine's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::deploy::StepFailure;
use super::recorder::Recorder;
use super::{Context, ReleaseEvent, Step};
use crate::accounts;
use crate::docker::{self, DockerError, DockerEvent, ImageReference, Registry, RegistryCredentials};
use crate::error::AppError;
use crate::history::StepState;

/// The image a release pushes: its name, the engine's id, and why the plan skips the push.
pub(super) struct ImageToPush<'a> {
    pub reference: &'a ImageReference,
    pub image_id: &'a str,
    pub skip: Option<&'a str>,
}

/// The push as a release takes it: skipped with the plan's reason, or pushed (itself skipped
/// when the registry holds this very image), the digest noted in `ending`.
pub(super) async fn push_or_skip(
    context: &Context,
    engine: &docker::Engine,
    image: ImageToPush<'_>,
    recorder: &Recorder,
    cancel: &CancellationToken,
    ending: &mut crate::history::Ending,
) -> Result<(), StepFailure> {
    if let Some(reason) = image.skip {
        recorder.step(Step::Push, StepState::Skipped, Some(reason.to_owned()));
        return Ok(());
    }
    let digest = push_step(context, engine, image.reference, image.image_id, recorder, cancel).await?;
    ending.digest = Some(digest);
    recorder.note(ending);
    Ok(())
}

/// Pushes the image, unless the registry already holds this very image; returns its digest.
pub(super) async fn push_step(
    context: &Context,
    engine: &docker::Engine,
    reference: &ImageReference,
    image_id: &str,
    recorder: &Recorder,
    cancel: &CancellationToken,
) -> Result<String, StepFailure> {
    recorder.step(Step::Push, StepState::Running, None);
    let credentials = registry_credentials(context, reference).await;
    if let Some(digest) = already_pushed(engine, reference, image_id, &credentials).await {
        recorder.log(
            Step::Push,
            &format!("{} is already in the registry as {digest}", reference.full()),
        );
        recorder.step(
            Step::Push,
            StepState::Passed,
            Some("already in the registry".to_owned()),
        );
        return Ok(digest);
    }
    let pushed_bytes = Arc::new(AtomicU64::new(0));
    let forward = recorder.clone();
    let counter = pushed_bytes.clone();
    // The engine retries a layer the registry did not take for up to a minute, counting down
    // each second: the step says so once per retry, not "0 %" in silence.
    let retrying: std::sync::Mutex<std::collections::HashSet<String>> = std::sync::Mutex::default();
    let result = super::image::push_verified(&engine.endpoint, reference, &credentials, cancel, &move |event| {
        if let DockerEvent::PushProgress { total, .. } = &event {
            counter.store(*total, Ordering::Relaxed);
        }
        if let DockerEvent::Layer { id, status, .. } = &event {
            if let Ok(mut retrying) = retrying.lock() {
                if !status.starts_with("Retrying") {
                    retrying.remove(id);
                } else if retrying.insert(id.clone()) {
                    forward.log(
                        Step::Push,
                        &format!("layer {id}: the registry did not take it; the engine is trying again ({status})"),
                    );
                }
            }
        }
        forward.event(ReleaseEvent::Docker {
            step: Step::Push,
            event,
        });
    })
    .await;
    match result {
        Ok(pushed) => {
            if let Some(found) = pushed.other_digest() {
                let message = format!("The registry holds {found}, not the pushed {}.", pushed.digest);
                recorder.step(Step::Push, StepState::Failed, Some(message.clone()));
                return Err(StepFailure::failed(message));
            }
            let digest = pushed.digest;
            let bytes = pushed_bytes.load(Ordering::Relaxed);
            let detail = if bytes == 0 {
                "every layer was already in the registry".to_owned()
            } else {
                format!("{:.1} MB", bytes as f64 / 1_000_000.0)
            };
            recorder.step(Step::Push, StepState::Passed, Some(format!("{digest} ({detail})")));
            Ok(digest)
        }
        Err(DockerError::Cancelled) => {
            recorder.step(Step::Push, StepState::Canceled, None);
            Err(StepFailure::canceled())
        }
        Err(error) => {
            let error = AppError::from(error);
            let summary = recorder.fail_with(Step::Push, StepState::Failed, "Push failed: ", error.clone());
            Err(StepFailure::from_error(summary, error))
        }
    }
}

/// The login for the image's registry from the store, or none (an open local registry).
/// The registry login for `reference`, read from the keyring off the async runtime (the
/// keyring answers over D-Bus and may block).
async fn registry_credentials(context: &Context, reference: &ImageReference) -> RegistryCredentials {
    accounts::registry_login(context.secrets.clone(), Registry::of(reference)).await
}

/// The digest, when the registry's tag already points at this very image: a re-run then
/// skips the push.
async fn already_pushed(
    engine: &docker::Engine,
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
