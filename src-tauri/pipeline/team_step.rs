//! The team's history in a release: who else is releasing the environment (said in the plan,
//! before anyone presses Release), the team's lock held for the whole release, and a release
//! without the team's server when the person chooses it.

use std::path::Path;
use std::time::Duration;

use crate::error::{AppError, ErrorAction, ErrorKind};
use crate::history::team::{self, Holding, TeamError, TeamLock};
use crate::vocabulary::Target;

use super::Context;

/// How long the plan waits for the team's server to say who holds the lock.
const PLAN_WAIT: Duration = Duration::from_secs(3);

/// The environment as the whole team knows it: its Render service, or, for this computer,
/// the project on this machine (no one else's release can reach it).
pub(super) fn identity(target: Target, service: Option<&str>, root: &Path, machine: Option<&str>) -> String {
    match (target, service) {
        (Target::Render, Some(service)) => format!("render:{service}"),
        _ => format!(
            "local:{}@{}",
            crate::project::project_id(root),
            machine.unwrap_or("this computer")
        ),
    }
}

fn unreachable(place: &str, why: &str) -> AppError {
    AppError::new(
        ErrorKind::Network,
        format!("The team's history at {place} cannot be reached, so no one can see or stop this release."),
        "Release without it (it is kept on this computer and sent when the server is back), or try again when the server answers.",
    )
    .with_action(ErrorAction::ReleaseWithoutTeamHistory)
    .with_detail(crate::secrets::redact(why).into_owned())
    .in_terminal("Pass --without-team-history to release anyway; it is sent to the team's history when it is back.")
}

fn held(holding: &Holding) -> AppError {
    AppError::new(
        ErrorKind::Precondition,
        format!("{}.", holding.sentence()),
        "Wait for that release to finish; only one release of an environment runs at a time across the team.",
    )
    .with_action(ErrorAction::Retry)
}

/// The plan's line about the team's history, with its blocker: someone else is releasing the
/// environment, or the server does not answer (unless the person chose to go without it).
pub(super) async fn plan_team(
    context: &Context,
    identity: &str,
    without: bool,
    blockers: &mut Vec<AppError>,
) -> Option<String> {
    let link = context.ledger.team()?;
    let place = link.server.place().to_owned();
    let status = link.status();
    let unsent = match status.unsent {
        0 => String::new(),
        1 => " 1 release made here is still to be sent.".to_owned(),
        count => format!(" {count} releases made here are still to be sent."),
    };
    if let (Some(problem), false) = (&status.settled_problem, without) {
        blockers.push(problem.clone());
        return Some(format!("Team history on {place}.{unsent}"));
    }
    let asked = if status.reachable == Some(false) {
        Err(status.problem.unwrap_or_default())
    } else {
        match tokio::time::timeout(PLAN_WAIT, team::holder(&link.server, identity)).await {
            Ok(Ok(holder)) => Ok(holder),
            Ok(Err(error)) if error.is_settled() && !without => {
                blockers.push(error.into());
                return Some(format!("Team history on {place}.{unsent}"));
            }
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!("it did not answer within {} s", PLAN_WAIT.as_secs())),
        }
    };
    match asked {
        Ok(Some(holding)) => {
            blockers.push(held(&holding));
            Some(format!("Team history on {place}: {}.{unsent}", holding.sentence()))
        }
        Ok(None) => Some(format!("Team history on {place}: no one else is releasing here.{unsent}")),
        Err(_) if without => Some(format!(
            "The team's history at {place} cannot be reached: this release is kept on this computer and sent when it is back.{unsent}"
        )),
        Err(why) => {
            // The blocker says why; the line only says where.
            blockers.push(unreachable(&place, &why));
            Some(format!("Team history on {place}.{unsent}"))
        }
    }
}

/// The team's lock on the environment for the whole release; `None` for a personal history,
/// or when the person chose to release without the team's server.
pub(super) async fn take(
    context: &Context,
    identity: &str,
    holding: &Holding,
    without: bool,
) -> Result<Option<TeamLock>, AppError> {
    let Some(link) = context.ledger.team() else {
        return Ok(None);
    };
    match team::acquire(&link.server, identity, holding).await {
        Ok(lock) => Ok(Some(lock)),
        Err(TeamError::Held(holder)) => Err(held(&holder)),
        Err(error) if without => {
            tracing::warn!(%error, "released without the team's lock, as the person chose");
            Ok(None)
        }
        Err(error) if error.is_settled() => Err(error.into()),
        Err(error) => Err(unreachable(link.server.place(), &error.to_string())),
    }
}
