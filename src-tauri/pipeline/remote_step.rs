//! The commit on its remote: where it stands in the plan (up to date, ahead, behind), and the
//! release's first step, which pushes it with the person's own git when the remote lacks it.

use tokio_util::sync::CancellationToken;

use super::recorder::Recorder;
use super::{Context, Plan, PlannedStep, Step};
use crate::error::{AppError, ErrorAction, ErrorKind};
use crate::history::StepState;
use crate::project::{RemoteStanding, SyncState};

/// What the plan says of the commit's remote: the Git step (none without a remote), the
/// warnings that do not stop the release, and what does stop it.
pub(super) struct RemotePlan {
    pub step: Option<PlannedStep>,
    pub warnings: Vec<String>,
    pub blockers: Vec<AppError>,
}

/// "GitHub", else the remote's name ("origin").
fn where_words(standing: &RemoteStanding) -> String {
    standing
        .host
        .clone()
        .or_else(|| standing.remote.clone())
        .unwrap_or_else(|| "the remote".to_owned())
}

pub(super) fn plan_remote(standing: Option<&RemoteStanding>, push_first: bool, dirty: bool) -> RemotePlan {
    let mut plan = RemotePlan {
        step: None,
        warnings: Vec::new(),
        blockers: Vec::new(),
    };
    let Some(standing) = standing else { return plan };
    if standing.state == SyncState::NoRemote {
        return plan;
    }
    let host = where_words(standing);
    let branch = standing.branch.clone().unwrap_or_default();
    let remote = standing.remote.clone().unwrap_or_else(|| "origin".to_owned());
    // A remote on no forge is named by itself: "push main to origin", not "origin (origin)".
    let detail = match &standing.host {
        Some(forge) => format!("push {branch} to {remote} ({forge})"),
        None => format!("push {branch} to {remote}"),
    };
    let mut step = PlannedStep::new(Step::Git, detail);
    step.notes.push(standing.words());
    if let Some(warning) = standing.warning() {
        plan.warnings.push(warning);
    }
    match standing.state {
        SyncState::Detached => {
            step.detail = "push the commit".to_owned();
            step.skip = Some(format!(
                "The checked-out commit is on no branch (a detached HEAD): there is nothing to push to {host}."
            ));
        }
        SyncState::UpToDate | SyncState::Behind => {
            step.skip = Some(format!(
                "{} already has this commit.",
                standing.upstream.as_deref().unwrap_or(&remote)
            ));
        }
        SyncState::Diverged if push_first => {
            plan.blockers.push(
                AppError::new(
                    ErrorKind::Precondition,
                    format!(
                        "Someone pushed to {branch} on {host} since you pulled, and your copy has commits it does not: the push would be refused."
                    ),
                    format!("Update your copy first (git pull), then release again; or turn off \"Push to {host} first\" in the project's settings to release without pushing."),
                )
                .with_action(ErrorAction::OpenProjectSettings)
                .in_terminal("Update your copy first (git pull), then release again; or pass --no-push to release without pushing."),
            );
        }
        _ if standing.needs_push() || standing.state == SyncState::Diverged => {
            if !push_first {
                step.skip = Some(format!(
                    "Pushing to {host} first is off: History will say this commit was not on {host}."
                ));
            } else if dirty {
                step.notes.push(format!(
                    "Your uncommitted changes are not pushed: {host} gets the last commit; the image is built from the files as they are."
                ));
            }
        }
        _ => {}
    }
    plan.step = Some(step);
    plan
}

/// The release's first step: pushes the commit when the plan says so; a refused push ends
/// the release with git's reason. Returns `false` when the release must stop.
pub(super) async fn push_step(
    context: &Context,
    root: &std::path::Path,
    plan: &Plan,
    recorder: &Recorder,
    cancel: &CancellationToken,
) -> bool {
    if !plan.steps.iter().any(|planned| planned.step == Step::Git) {
        return true;
    }
    if let Some(reason) = plan.skip_reason(Step::Git) {
        recorder.step(Step::Git, StepState::Skipped, Some(reason.to_owned()));
        return true;
    }
    recorder.step(Step::Git, StepState::Running, None);
    let log = |line: String| recorder.log(Step::Git, &line);
    let pushed = tokio::select! {
        pushed = crate::project::push(root, &log) => pushed,
        () = cancel.cancelled() => {
            recorder.step(Step::Git, StepState::Canceled, Some("Cancelled while pushing.".to_owned()));
            return false;
        }
    };
    match pushed {
        Ok(pushed) => {
            if let Err(error) = context
                .ledger
                .pushed_to_remote(recorder.release_id(), pushed.remote_url.as_deref())
            {
                tracing::warn!(%error, "the push could not be recorded");
            }
            recorder.step(
                Step::Git,
                StepState::Passed,
                Some(format!("Pushed {} to {}.", pushed.branch, pushed.remote)),
            );
            true
        }
        Err(refused) => {
            recorder.fail_with(Step::Git, StepState::Failed, "", AppError::from(refused));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::Reach;

    fn standing(state: SyncState, ahead: u32, behind: u32) -> RemoteStanding {
        RemoteStanding {
            remote: Some("origin".into()),
            remote_url: Some("git@github.com:acme/shop.git".into()),
            upstream: (state != SyncState::NoUpstream).then(|| "origin/main".into()),
            branch: Some("main".into()),
            state,
            ahead,
            behind,
            reach: Reach::NotTried,
            host: Some("GitHub".into()),
            commit_on_remote: matches!(state, SyncState::UpToDate | SyncState::Behind),
        }
    }

    #[test]
    fn ahead_pushes_first_and_off_says_what_history_will_say() {
        let on = plan_remote(Some(&standing(SyncState::Ahead, 2, 0)), true, false);
        let step = on.step.as_ref().map(|step| (step.detail.clone(), step.skip.clone()));
        assert_eq!(step, Some(("push main to origin (GitHub)".to_owned(), None)));
        let off = plan_remote(Some(&standing(SyncState::Ahead, 2, 0)), false, false);
        let skip = off.step.and_then(|step| step.skip).unwrap_or_default();
        assert!(skip.contains("not on GitHub"), "{skip}");
        let folder = RemoteStanding {
            host: None,
            ..standing(SyncState::Ahead, 1, 0)
        };
        let step = plan_remote(Some(&folder), true, false).step.map(|step| step.detail);
        assert_eq!(step.as_deref(), Some("push main to origin"), "a remote on no forge");
        let no_upstream = plan_remote(Some(&standing(SyncState::NoUpstream, 0, 0)), true, true);
        let step = no_upstream.step.expect("a step");
        assert_eq!(step.skip, None);
        assert!(step
            .notes
            .iter()
            .any(|note| note.contains("uncommitted changes are not pushed")));
    }

    #[test]
    fn up_to_date_skips_behind_warns_diverged_stops_only_a_push() {
        let current = plan_remote(Some(&standing(SyncState::UpToDate, 0, 0)), true, false);
        assert!(current.step.and_then(|step| step.skip).is_some());
        assert!(current.warnings.is_empty() && current.blockers.is_empty());
        let behind = plan_remote(Some(&standing(SyncState::Behind, 0, 3)), true, false);
        assert_eq!(behind.warnings.len(), 1, "behind warns");
        assert!(behind.blockers.is_empty());
        let diverged = plan_remote(Some(&standing(SyncState::Diverged, 1, 2)), true, false);
        assert_eq!(diverged.blockers.len(), 1);
        assert!(diverged.blockers[0].hint.contains("git pull"));
        let without_push = plan_remote(Some(&standing(SyncState::Diverged, 1, 2)), false, false);
        assert!(without_push.blockers.is_empty());
        assert!(plan_remote(Some(&standing(SyncState::NoRemote, 0, 0)), true, false)
            .step
            .is_none());
        assert!(plan_remote(None, true, false).step.is_none());
    }
}
