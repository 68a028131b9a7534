//! What the window and `slipway ci` ask of CircleCI outside a release: its verdict on the
//! checked-out commit, and a pipeline started for the branch.

use std::path::Path;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::ci_step::{ci_project, client, plan_panel, CiPanel, Seen, WORKFLOW_LIMIT};
use super::Context;
use crate::circleci::CiVerdict;
use crate::error::{AppError, ErrorAction, ErrorKind};

/// CircleCI's word on the project's checked-out commit, as the plan shows it, without the
/// rest of the plan: what `slipway ci` prints and the window refreshes while CircleCI runs.
pub async fn circleci_panel(context: &Context, root: &Path) -> Result<Option<CiPanel>, AppError> {
    let scanned = super::plan::scan(&context.data_dir, root).await?;
    let standing = crate::project::standing(root, Duration::ZERO).await;
    Ok(plan_panel(context, root, &scanned.settings, standing.as_ref()).await)
}

/// Runs a CircleCI pipeline for the project's branch ("Run on CircleCI"), when CircleCI has
/// the commit: it runs the branch as the remote has it, so a commit only here would not be
/// what runs. With `follow`, waits for its workflows to end, each change to `seen`.
pub async fn run_on_circleci(
    context: &Context,
    root: &Path,
    follow: Option<(&CancellationToken, &Seen<'_>)>,
) -> Result<CiVerdict, AppError> {
    let scanned = super::plan::scan(&context.data_dir, root).await?;
    let standing = crate::project::standing(root, Duration::from_secs(15)).await;
    let client = client(context).await?.ok_or_else(|| {
        AppError::new(
            ErrorKind::Precondition,
            "No CircleCI account is connected.",
            "Connect CircleCI in Settings → Accounts.",
        )
        .with_action(ErrorAction::OpenAccounts)
        .in_terminal("Connect CircleCI: slipway accounts connect circleci --slug gh/owner/repo")
    })?;
    let Some((project, _)) = ci_project(&scanned.settings, standing.as_ref()) else {
        return Err(AppError::new(
            ErrorKind::Precondition,
            "Slipway cannot tell which CircleCI project runs this one.",
            "Name it (gh/owner/repository) in the project's settings.",
        )
        .with_action(ErrorAction::OpenProjectSettings)
        .in_terminal("Name it: slipway project set --project DIR circleci-project gh/owner/repository"));
    };
    let Some(standing) = standing.filter(|standing| standing.branch.is_some()) else {
        return Err(AppError::new(
            ErrorKind::Precondition,
            "CircleCI runs branches, and no branch is checked out.",
            "Check out the branch to run, then try again.",
        ));
    };
    let branch = standing.branch.clone().unwrap_or_default();
    // CircleCI runs the branch's head on the remote: only when that is this very commit.
    if standing.state != crate::project::SyncState::UpToDate {
        return Err(AppError::new(
            ErrorKind::Precondition,
            format!(
                "{branch} on {} is not this commit: CircleCI would run {branch} as the remote has it, not what is here.",
                standing.host.as_deref().unwrap_or("the remote")
            ),
            "Bring them together first (a release pushes the commit as its first step; git pull when the remote is ahead), then run CircleCI.",
        ));
    }
    let triggered = client
        .trigger(&project, &branch)
        .await
        .map_err(crate::circleci::app_error)?;
    tracing::info!(%project, %branch, pipeline = triggered.number, "CircleCI pipeline started");
    match follow {
        Some((cancel, seen)) => client
            .follow(&project, &triggered.id, WORKFLOW_LIMIT, cancel.clone(), seen)
            .await
            .map_err(crate::circleci::app_error),
        None => {
            let commit = crate::project::full_commit(root).await.unwrap_or_default();
            // The new pipeline is listed a moment after CircleCI answers the trigger.
            for pause in [0, 1, 2, 4] {
                tokio::time::sleep(Duration::from_secs(pause)).await;
                if let Some(verdict) = client
                    .verdict(&project, &branch, &commit)
                    .await
                    .map_err(crate::circleci::app_error)?
                {
                    return Ok(verdict);
                }
            }
            Err(AppError::new(
                ErrorKind::Precondition,
                format!(
                    "CircleCI started pipeline {} but does not list it for this commit yet.",
                    triggered.number
                ),
                "Look again in a moment.",
            ))
        }
    }
}
