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
