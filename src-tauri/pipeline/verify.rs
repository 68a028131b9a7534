//! The live check: the app answers over HTTP with a success or a redirect.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::deploy::StepFailure;
use super::recorder::Recorder;
use super::Step;
use crate::history::StepState;

pub(super) const DEFAULT_HEALTH_TIMEOUT_SECS: u32 = 60;

/// Waits until `url` answers with a success or a redirect.
pub(super) async fn verify(
    url: &str,
    timeout_secs: u32,
    recorder: &Recorder,
    cancel: &CancellationToken,
) -> Result<(), StepFailure> {
    recorder.step(Step::Verify, StepState::Running, None);
    answers(Step::Verify, url, timeout_secs, recorder, cancel).await?;
    recorder.step(Step::Verify, StepState::Passed, Some(format!("{url} answers")));
    Ok(())
}

/// Waits until `url` answers with a success or a redirect, recorded under `step` (which the
/// caller has started and, on success, ends), and says how long it took.
pub(super) async fn answers(
    step: Step,
    url: &str,
    timeout_secs: u32,
    recorder: &Recorder,
    cancel: &CancellationToken,
) -> Result<Duration, StepFailure> {
    let started = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(u64::from(timeout_secs));
    // Asked often while a just-started app comes up (most answer within half a second), then
    // every 300 ms.
    let mut pause = Duration::from_millis(50);
    loop {
        let last = match crate::http::probe(url).await {
            Ok(status) if status.is_success() || status.is_redirection() => {
                recorder.log(step, &format!("{url} answered {status}"));
                return Ok(started.elapsed());
            }
            Ok(status) => format!("it answered {status}"),
            Err(why) => format!("it did not answer ({why})"),
        };
        if Instant::now() >= deadline {
            let message = format!("{url} did not answer within {timeout_secs} s: {last}.");
            recorder.step(step, StepState::Failed, Some(message.clone()));
            return Err(StepFailure::failed(message));
        }
        tokio::select! {
            () = cancel.cancelled() => {
                recorder.step(step, StepState::Canceled, None);
                return Err(StepFailure::canceled());
            }
            () = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(Duration::from_millis(300));
    }
}
