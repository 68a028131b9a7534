//! Rolling back by itself, when the environment asks for it (off by default): after a Render
//! release that failed its live check once Render had made it live, or when the Sentry watch
//! sees the environment's number of new issues within its minutes of the release going live.
//! The same rollback as the button, recorded as a rollback with its reason; once per release
//! (the decision is kept with the release before anything ships), and never to a release that
//! cannot be restored.

use std::path::Path;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::rollback::{rollback_because, went_live, RollbackTo};
use super::{Context, ReleaseSummary};
use crate::history::{Outcome, ReleaseRecord};

/// The ledger's name for the decision kept with the release that was rolled back.
const KEPT_AS: &str = "autoRollback";
/// Kept when that decision's rollback could not start (nothing shipped): it may be tried again.
const NOT_STARTED: &str = "autoRollbackNotStarted";

/// An automatic rollback that ran: its summary, and the release it went back to as a
/// sentence names it.
pub(super) struct RolledBack {
    pub summary: ReleaseSummary,
    pub to: String,
}

/// Rolls the environment of release `release_id` back to the release that went live there
/// before it, for `reason`; what ran, or why nothing did.
pub(super) async fn roll_back_after(
    context: &Context,
    root: &Path,
    release_id: &str,
    reason: &str,
    cancel: &CancellationToken,
) -> Result<RolledBack, String> {
    let ledger = &context.ledger;
    let failed = ledger
        .release(release_id)
        .map_err(|error| error.to_string())?
        .ok_or_else(|| format!("release {release_id} is not in the history"))?;
    let kept = ledger.results(release_id).map_err(|error| error.to_string())?;
    let count = |step: &str| kept.iter().filter(|result| result.step == step).count();
    if count(KEPT_AS) > count(NOT_STARTED) {
        return Err("it rolled back by itself once already for this release".to_owned());
    }
    let environment = failed.environment.clone().ok_or("the release names no environment")?;
    let target = before(context, &failed, &environment)?
        .ok_or_else(|| format!("no earlier release went live on {environment}"))?;
    // Kept first: a crash in the middle never makes it roll back twice.
    let decision = serde_json::json!({ "reason": reason, "to": target.id });
    ledger
        .result(release_id, KEPT_AS, &decision)
        .map_err(|error| error.to_string())?;
    tracing::warn!(release = %release_id, to = %target.id, reason, "rolling back by itself");
    // Its events are not the release's, whose view has ended: the ledger keeps them all.
    let quiet: super::ReleaseSink = Arc::new(|_| {});
    let summary = match rollback_because(
        context,
        root,
        Some(&environment),
        RollbackTo::Release(target.id.clone()),
        cancel,
        quiet,
        Some(reason),
    )
    .await
    {
        Ok(summary) => summary,
        // Refused before anything shipped: the rollback's own check that its target can still
        // be restored (a Render deploy or digest, the image on the project's engine), a release
        // holding the lock, no engine. A later trigger may try again.
        Err(error) => {
            let _ = ledger.result(release_id, NOT_STARTED, &serde_json::json!({ "why": error.message }));
            return Err(error.message);
        }
    };
    Ok(RolledBack {
        summary,
        to: target.name(),
    })
}

/// Whether `release` is what went live last on its environment: a watch of an older one never
/// rolls a newer one back.
pub(super) fn still_live(context: &Context, release: &ReleaseRecord) -> bool {
    let Some(environment) = release.environment.as_deref() else {
        return false;
    };
    went_live(context, &release.project_path, environment)
        .ok()
        .and_then(|live| live.into_iter().next())
        .is_some_and(|newest| newest.id == release.id)
}

/// The newest release that went live on `environment` before `release`.
fn before(context: &Context, release: &ReleaseRecord, environment: &str) -> Result<Option<ReleaseRecord>, String> {
    Ok(went_live(context, &release.project_path, environment)
        .map_err(|error| error.message)?
        .into_iter()
        .find(|earlier| earlier.id != release.id && earlier.started_at < release.started_at))
}

/// Whether it fired and went live.
pub(super) fn went_live_again(done: &Result<RolledBack, String>) -> bool {
    matches!(done, Ok(RolledBack { summary, .. }) if summary.outcome == Outcome::Live)
}

/// The sentence a release or a watch ends with after it fired: "Rolled back by itself to the
/// release of 9f8e7d6 (6 Dec 14:02): it is live again.", or why not.
pub(super) fn sentence(done: &Result<RolledBack, String>) -> String {
    match done {
        Ok(RolledBack { summary, to }) if summary.outcome == Outcome::Live => {
            format!("Rolled back by itself to {to}: it is live again.")
        }
        Ok(RolledBack { summary, .. }) => format!(
            "The automatic rollback did not go live ({}).",
            summary
                .message
                .as_deref()
                .unwrap_or(summary.outcome.as_str())
                .trim_end_matches('.')
        ),
        Err(why) => format!("No automatic rollback: {why}."),
    }
}
