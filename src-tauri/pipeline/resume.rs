//! Resuming an interrupted release: when Slipway stopped (crash, kill, power cut, a closed
//! window) after the release's checks and build passed, the rest is run without doing again
//! what can be verified as done: the checks and the build are carried over (the built image
//! must still be on this machine under its recorded id), the push is skipped when the
//! registry holds the image, and the deploy and the live check run. The ledger records a
//! `resume` of the original.

use crate::vocabulary::ReleaseKind;
use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::deploy::{self, Deployer, Destination, Shipped, TargetDeployer};
use super::plan::plan_and_scan;
use super::promote::{begin_from, Carried, CARRIED};
use super::push::{push_or_skip, ImageToPush};

use super::bookends::{conclude, take_locks, Locking};
use super::{Context, ReleaseEvent, ReleaseOptions, ReleaseSink, ReleaseSummary, Step, Target};
use crate::docker;
use crate::error::{AppError, ErrorAction, ErrorKind};
use crate::history::{new_release_id, Ending, Outcome, ReleaseRecord, StepState};

/// Resumes release `release_id`. An `Err` means nothing ran and says why (and that a fresh
/// release is the way on); a resume that ran ends in `Ok` with its outcome.
pub async fn resume(
    context: &Context,
    release_id: &str,
    cancel: &CancellationToken,
    sink: ReleaseSink,
) -> Result<ReleaseSummary, AppError> {
    let source = context.ledger.release(release_id)?.ok_or_else(|| {
        AppError::new(
            ErrorKind::NotFound,
            format!("No release {release_id} is in the history."),
            "Pick a release from the History page.",
        )
    })?;
    refuse_unless_resumable(&source)?;
    // A later release of the project (this one resumed, or a new one) supersedes it: resuming
    // would put older work over newer.
    let later = context.ledger.list(&crate::history::HistoryFilter {
        project_path: Some(source.project_path.clone()),
        limit: Some(1),
        ..crate::history::HistoryFilter::default()
    })?;
    if let Some(newest) = later.first().filter(|newest| newest.id != source.id) {
        return Err(AppError::new(
            ErrorKind::Precondition,
            format!(
                "Release {} was followed by release {} ({}): resuming it would ship older work over newer.",
                source.id,
                newest.id,
                newest.outcome.as_str()
            ),
            "Release the project again, or roll back to a release that went live, instead.",
        )
        .with_action(ErrorAction::ReviewPlan));
    }
    let image_id = source.image_id.clone().unwrap_or_default();
    let engine = super::project_engine(&context.data_dir, Path::new(&source.project_path))?;
    if engine.inspect_image(&image_id).await.is_err() {
        return Err(fresh_release_instead(format!(
            "The image release {} built is no longer on this machine, so its checks cannot be trusted for it.",
            source.id
        )));
    }
    let reference = docker::parse_reference(source.image.as_deref().unwrap_or_default()).map_err(|why| {
        fresh_release_instead(format!(
            "The image name release {} recorded cannot be read ({why}).",
            source.id
        ))
    })?;
    let Some(target) = source.target.known() else {
        return Err(fresh_release_instead(format!(
            "Release {} went to \"{}\", which this version of Slipway does not know.",
            source.id, source.target
        )));
    };
    let root = Path::new(&source.project_path);
    // The environment the interrupted release went to; an older one without it, by target.
    let options = ReleaseOptions {
        environment: source.environment.clone(),
        target: Some(target),
        confirm_dirty: true,
        confirmed_plan: None,
        ..ReleaseOptions::default()
    };
    let (plan, scanned) = plan_and_scan(context, root, &options).await?;
    if let Some(blocker) = plan.blockers.first() {
        return Err(blocker.clone());
    }
    if target == Target::Render {
        deploy::check_render_accounts(context, &plan).await?;
    }

    let new_id = new_release_id();
    let _locks = take_locks(
        context,
        root,
        &Locking {
            project_name: &source.project_name,
            release_id: &new_id,
            target: plan.target,
            service: plan.service.as_deref(),
            environment: &plan.environment,
        },
        false,
    )
    .await?;
    let recorder = begin_from(
        context,
        &source,
        &new_id,
        Carried {
            kind: ReleaseKind::Resume,
            target,
            environment: plan.environment.clone(),
            service: plan.service.clone(),
            image: reference.full(),
        },
        &sink,
    )?;
    recorder.event(ReleaseEvent::ResumeStarted {
        release_id: new_id.clone(),
        source_id: source.id.clone(),
    });
    let mut ending = Ending {
        image_id: Some(image_id.clone()),
        ..Ending::default()
    };
    recorder.note(&ending);
    // The tag may have moved since (a later build of the same commit): it is put back on the
    // very image whose checks are carried over before anything ships.
    if let Err(error) = docker::tag(&engine, &image_id, &reference).await {
        let error = AppError::from(error);
        let summary = recorder.fail_with(Step::Push, StepState::Failed, "Tagging failed: ", error.clone());
        let (outcome, ending) = deploy::StepFailure::from_error(summary, error).ending(ending);
        return conclude(context, &recorder, &new_id, &reference.full(), outcome, ending, &sink);
    }
    // Skipped by itself when the registry already holds this very image.
    let image = ImageToPush {
        reference: &reference,
        image_id: &image_id,
        skip: plan.skip_reason(Step::Push),
    };
    if let Err(failure) = push_or_skip(context, &engine, image, &recorder, cancel, &mut ending).await {
        let (outcome, ending) = failure.ending(ending);
        return conclude(context, &recorder, &new_id, &reference.full(), outcome, ending, &sink);
    }
    let shipped = Shipped {
        // Locally, the very image by its id, as a rollback runs it.
        run: image_id.clone(),
        reference: reference.clone(),
        digest: ending.digest.clone(),
    };
    let deployer = Destination {
        context,
        target,
        engine: Some(&engine),
        root,
        settings: &scanned.settings,
        service: plan.service.clone().unwrap_or_default(),
        release_id: &new_id,
        commit: source.commit.clone(),
    }
    .deployer();
    // Render made a deploy for the interrupted release: it is followed, never made twice.
    // The row is started: whatever happens ends it, never a `?` that leaves it running.
    let deployed = match (&deployer, made_on_render(&source, plan.service.as_deref())) {
        (Err(error), _) => Err(deploy::StepFailure::from_error(error.message.clone(), error.clone())),
        (Ok(TargetDeployer::Render(render)), Some(deploy_id)) => {
            render.follow_existing(deploy_id, &recorder, cancel).await
        }
        (Ok(deployer), _) => deployer.deploy(&shipped, &recorder, cancel).await,
    };
    let (outcome, ending) = deploy::ending_after(deployed, ending);
    // The interrupted row says what became of its deploy, as Render says now.
    let followed = (target == Target::Render)
        .then(|| made_on_render(&source, plan.service.as_deref()))
        .flatten();
    if let (Some(_), Some(status)) = (followed, &ending.deploy_status) {
        let brought_up = Ending {
            deploy_status: Some(status.clone()),
            ..Ending::default()
        };
        if let Err(error) = context.ledger.note(&source.id, &brought_up) {
            tracing::warn!(release = %source.id, "the interrupted release's deploy status was not updated: {error}");
        }
    }
    conclude(context, &recorder, &new_id, &reference.full(), outcome, ending, &sink)
}

/// The Render deploy the interrupted release made on `service`, if it got that far.
fn made_on_render<'a>(source: &'a ReleaseRecord, service: Option<&str>) -> Option<&'a str> {
    let same_service = source.service.is_none() || source.service.as_deref() == service;
    source.deploy_id.as_deref().filter(|_| same_service)
}

fn fresh_release_instead(message: String) -> AppError {
    AppError::new(
        ErrorKind::Precondition,
        message,
        "Release the project again instead: nothing of this one can be verified as done.",
    )
    .with_action(ErrorAction::ReviewPlan)
    .in_terminal("Run `slipway release --project DIR` again instead: nothing of this one can be verified as done.")
}

/// Only an interrupted release whose checks and build passed can be resumed.
fn refuse_unless_resumable(source: &ReleaseRecord) -> Result<(), AppError> {
    if source.outcome != Outcome::Interrupted {
        return Err(AppError::new(
            ErrorKind::Precondition,
            format!(
                "Release {} was not interrupted ({}): there is nothing to resume.",
                source.id,
                source.outcome.as_str()
            ),
            "Only a release that stopped because Slipway stopped can be resumed.",
        ));
    }
    let gates_done = source
        .steps
        .iter()
        .filter(|step| step.name.known().is_some_and(|name| CARRIED.contains(&name)))
        .all(|step| matches!(step.state, StepState::Passed | StepState::Skipped));
    let built = source
        .steps
        .iter()
        .any(|step| step.name.is(Step::Build) && step.state == StepState::Passed);
    // An image that was to be rehearsed and was not never ships without it.
    let rehearsal_owed = source
        .steps
        .iter()
        .any(|step| step.name.is(Step::Rehearsal) && step.state != StepState::Passed);
    if rehearsal_owed {
        return Err(fresh_release_instead(format!(
            "Release {} was interrupted before its image was rehearsed on this computer.",
            source.id
        )));
    }
    if !gates_done || !built || source.image_id.is_none() {
        return Err(fresh_release_instead(format!(
            "Release {} was interrupted before its checks and its build had all passed.",
            source.id
        )));
    }
    Ok(())
}
