//! What every run that ships does first and last, whichever kind it is (a release, a
//! rollback, a promotion, a resume): it takes this computer's lock on the project and the
//! team's on the environment, and it ends its ledger row with the whole story.

use std::path::Path;

use super::lock::{self, LockError};
use super::recorder::Recorder;
use super::{current_user, machine_name};
use super::{Context, ReleaseEvent, ReleaseSink, ReleaseSummary, Target};
use crate::error::{AppError, ErrorKind};
use crate::history::team::{Holding, TeamLock};
use crate::history::{Ending, Outcome};

/// What a release locks: this computer's project, and the environment across the team.
pub(super) struct Locking<'a> {
    pub project_name: &'a str,
    pub release_id: &'a str,
    pub target: Target,
    /// The Render service (`None` for this computer).
    pub service: Option<&'a str>,
    pub environment: &'a str,
}

/// Held while a release runs: dropped, both are let go.
pub(super) struct Locks {
    _here: lock::ProjectLock,
    _team: Option<TeamLock>,
}

/// This computer's lock on the project, then the team's on the environment (when the history
/// is the team's; `without_team`: the person chose to go on when its server does not answer).
pub(super) async fn take_locks(
    context: &Context,
    root: &Path,
    locking: &Locking<'_>,
    without_team: bool,
) -> Result<Locks, AppError> {
    let here = take_lock(context, root, locking.project_name, locking.release_id)?;
    let machine = machine_name();
    let team = super::team_step::take(
        context,
        &super::team_step::identity(locking.target, locking.service, root, machine.as_deref()),
        &Holding {
            release_id: locking.release_id.to_owned(),
            user: current_user(),
            machine: machine.unwrap_or_else(|| "an unnamed computer".to_owned()),
            project_name: locking.project_name.to_owned(),
            environment: locking.environment.to_owned(),
            since: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        },
        without_team,
    )
    .await?;
    Ok(Locks {
        _here: here,
        _team: team,
    })
}

/// The project's lock for release `release_id`, or why another holds it.
fn take_lock(
    context: &Context,
    root: &Path,
    project_name: &str,
    release_id: &str,
) -> Result<lock::ProjectLock, AppError> {
    lock::acquire(&context.data_dir, root, release_id).map_err(|error| match error {
        LockError::Held(holder) => AppError::new(
            ErrorKind::Precondition,
            format!(
                "A release of {project_name} is already running (started {} by process {}).",
                holder.since, holder.pid
            ),
            "Wait for it to finish or cancel it; only one release of a project runs at a time.",
        ),
        other => AppError::new(
            ErrorKind::Io,
            other.to_string(),
            "Check that the data folder is writable.",
        ),
    })
}

/// Ends a release that ran: the first failure's message and error kept, the ledger closed,
/// the summary sent and returned.
pub(super) fn conclude(
    context: &Context,
    recorder: &Recorder,
    release_id: &str,
    image: &str,
    outcome: Outcome,
    mut ending: Ending,
    sink: &ReleaseSink,
) -> Result<ReleaseSummary, AppError> {
    let release_id = release_id.to_owned();
    if outcome == Outcome::Failed && ending.message.is_none() {
        ending.message = recorder.failures();
    }
    // The error behind the first failure keeps its kind and hint ("Start Docker").
    if matches!(outcome, Outcome::Failed | Outcome::Error) && ending.error.is_none() {
        ending.error = recorder.first_error();
    }
    // A full disk never turns what happened into an error: the history's reserve records it,
    // and when even that is gone the release still ends with what it did, and says so.
    let recorded = context.ledger.finish(&release_id, outcome, &ending);
    let disk_note = match (&recorded, context.ledger.took_reserve()) {
        (Err(error), _) => Some(format!(
            "The history could not be written ({error}): free some disk space; this release is shown as interrupted until then."
        )),
        (Ok(()), true) => Some(
            "The disk is full: Slipway used the space it keeps aside to record this release. Free some space before the next one."
                .to_owned(),
        ),
        (Ok(()), false) => None,
    };
    // The team's server went away during the release (or was never there, by choice).
    let team_note = context.ledger.team().and_then(|team| {
        (team.status().reachable == Some(false)).then(|| {
            format!(
                "The team's history at {} could not be reached: this release is kept on this computer and sent there when it is back.",
                team.server.place()
            )
        })
    });
    let disk_note = match (disk_note, team_note) {
        (Some(disk), Some(team)) => Some(format!("{disk} {team}")),
        (disk, team) => disk.or(team),
    };
    if let Some(note) = &disk_note {
        tracing::warn!(release = %release_id, "{note}");
        ending.message = Some(match ending.message.take() {
            Some(message) => format!("{message} {note}"),
            None => note.clone(),
        });
    }
    // What the steps noted on the way (a Render deploy that failed or was cancelled): the
    // summary says it too, as the run kept it.
    let noted = recorder.noted();
    ending.deploy_id = ending.deploy_id.or(noted.deploy_id);
    ending.digest = ending.digest.or(noted.digest);
    tracing::info!(release = %release_id, outcome = outcome.as_str(), "release ended");
    let summary = ReleaseSummary {
        release_id,
        outcome,
        image: image.to_owned(),
        digest: ending.digest,
        url: ending.url,
        deploy_id: ending.deploy_id,
        // As History will show it: the release's sentence, the error's hint, button and
        // detail, redacted now as the ledger's copy was (a secret read after the error was
        // made is known to the redactor only now).
        error: ending.error.map(|error| {
            let redacted = |text: &str| crate::secrets::redact(text).into_owned();
            AppError {
                message: redacted(ending.message.as_deref().unwrap_or(&error.message)),
                hint: redacted(&error.hint),
                detail: error.detail.as_deref().map(redacted),
                ..error
            }
        }),
        message: ending.message.map(|text| crate::secrets::redact(&text).into_owned()),
    };
    sink(ReleaseEvent::Summary(summary.clone()));
    Ok(summary)
}
