//! Following a pipeline to its end: read, wait a little longer each time, read again.
//!
//! The waits grow (2 s, 3 s, … up to 30 s) so a long workflow costs few calls; CircleCI's 429s
//! are waited out by the shared client. A pipeline just triggered has no workflow for a
//! moment: that is waited through for a while, not taken for "ran nothing".

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::verdict::{CiVerdict, VerdictState};
use super::{CircleClient, SERVICE};
use crate::http::ApiError;

/// How long a pipeline may show no workflow before that is its answer.
const SETUP_GRACE: Duration = Duration::from_secs(90);

impl CircleClient {
    /// Reads pipeline `pipeline_id` until no workflow runs, and returns how it ended; `seen`
    /// hears every verdict that differs from the one before, for the window to show. A
    /// workflow waiting for an approval ends it (`OnHold`): Slipway cannot approve. After
    /// `limit` the last verdict is returned as it stands (`Running`); `cancel` ends it with
    /// [`ApiError::Cancelled`].
    pub async fn follow(
        &self,
        slug: &str,
        pipeline_id: &str,
        limit: Duration,
        cancel: CancellationToken,
        seen: &(dyn Fn(&CiVerdict) + Send + Sync),
    ) -> Result<CiVerdict, ApiError> {
        let started = tokio::time::Instant::now();
        let mut wait = self.poll_first;
        let mut last: Option<CiVerdict> = None;
        loop {
            let verdict = tokio::select! {
                () = cancel.cancelled() => return Err(ApiError::Cancelled { service: SERVICE }),
                verdict = self.pipeline_verdict(slug, pipeline_id) => verdict?,
            };
            if last.as_ref() != Some(&verdict) {
                seen(&verdict);
            }
            let elapsed = started.elapsed();
            let still_setting_up = verdict.workflows.is_empty()
                && verdict.state != VerdictState::Failed
                && elapsed < SETUP_GRACE.min(limit);
            if (verdict.is_settled() && !still_setting_up) || elapsed >= limit {
                return Ok(verdict);
            }
            last = Some(verdict);
            let pause = wait.min(limit.saturating_sub(elapsed));
            tokio::select! {
                () = cancel.cancelled() => return Err(ApiError::Cancelled { service: SERVICE }),
                () = tokio::time::sleep(pause) => {}
            }
            wait = (wait.mul_f64(1.5)).min(self.poll_longest);
        }
    }
}
