//! Resuming an interrupted release: when Slipway stopped (crash, kill, power cut, a closed
//! window) after the release's checks and build passed, the rest is run without doing again
//! what can be verified as done: the checks and the build are carried over (the built image
//! must still be on this machine under its recorded id), the push is skipped when the
//! registry holds the image, and the deploy and the live check run. The ledger records a
//! `resume` of the original.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::deploy::{self, Deployer, LocalDeployer, RenderDeployer, Shipped};
use super::plan::plan_and_scan;
use super::promote::{carry_over, CARRIED};
use super::push::push_step;
use super::recorder::Recorder;
use super::run::{conclude, current_user, machine_name, take_lock};
use super::{Context, ReleaseEvent, ReleaseOptions, ReleaseSink, ReleaseSummary, Step, Target};
use crate::docker;
use crate::error::{AppError, ErrorAction, ErrorKind};
use crate::history::{new_release_id, Ending, NewRelease, Outcome, ReleaseRecord, StepState};

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
    let image_id = source.image_id.clone().unwrap_or_default();
    let engine = docker::connect().map_err(AppError::from)?;
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
    let target = if source.target == Target::Render.as_str() {
        Target::Render
    } else {
        Target::Local
    };
    let root = Path::new(&source.project_path);
    let options = ReleaseOptions {
        target: Some(target),
        confirm_dirty: true,
        confirmed_plan: None,
    };
    let (plan, scanned) = plan_and_scan(context, root, &options).await?;
    if let Some(blocker) = plan.blockers.first() {
        return Err(blocker.clone());
    }
    if target == Target::Render {
        deploy::check_render_accounts(context, &plan).await?;
    }

    let new_id = new_release_id();
    let _lock = take_lock(context, root, &source.project_name, &new_id)?;
    let carried: Vec<String> = source
        .steps
        .iter()
        .filter(|step| CARRIED.iter().any(|carried| carried.as_str() == step.name))
        .map(|step| step.name.clone())
        .collect();
    let mut steps = carried;
    steps.extend([Step::Push, Step::Deploy, Step::Verify].map(|step| step.as_str().to_owned()));
    context.ledger.begin(&NewRelease {
        id: new_id.clone(),
        project_path: source.project_path.clone(),
        project_name: source.project_name.clone(),
        user: current_user(),
        commit: source.commit.clone(),
        branch: source.branch.clone(),
        dirty: source.dirty,
        target: source.target.clone(),
        image: source.image.clone(),
        steps,
        kind: Some("resume".to_owned()),
        source_id: Some(source.id.clone()),
        machine: machine_name(),
    })?;
    tracing::info!(release = %new_id, source = %source.id, "resume started");
    let recorder = Recorder::new(context.ledger.clone(), new_id.clone(), sink.clone());
    recorder.event(ReleaseEvent::ResumeStarted {
        release_id: new_id.clone(),
        source_id: source.id.clone(),
    });
    carry_over(context, &source, &recorder, &new_id);
    let mut ending = Ending {
        image_id: Some(image_id.clone()),
        ..Ending::default()
    };
    recorder.note(&ending);
    if let Some(reason) = plan.skip_reason(Step::Push) {
        recorder.step(Step::Push, StepState::Skipped, Some(reason.to_owned()));
    } else {
        // Skipped by itself when the registry already holds this very image.
        match push_step(context, &engine, &reference, &image_id, &recorder, cancel).await {
            Ok(digest) => {
                ending.digest = Some(digest);
                recorder.note(&ending);
            }
            Err(failure) => {
                let (outcome, ending) = failure.ending(ending);
                return conclude(context, &recorder, &new_id, &reference.full(), outcome, ending, &sink);
            }
        }
    }
    let shipped = Shipped {
        run: reference.full(),
        reference: reference.clone(),
        digest: ending.digest.clone(),
    };
    let deployed = match target {
        Target::Local => {
            LocalDeployer {
                engine: &engine,
                root,
                settings: &scanned.settings,
                container: plan.service.clone().unwrap_or_default(),
                release_id: &new_id,
            }
            .deploy(&shipped, &recorder, cancel)
            .await
        }
        Target::Render => {
            RenderDeployer {
                context,
                service_id: plan.service.clone().unwrap_or_default(),
            }
            .deploy(&shipped, &recorder, cancel)
            .await
        }
    };
    let (outcome, ending) = deploy::ending_after(deployed, ending);
    conclude(context, &recorder, &new_id, &reference.full(), outcome, ending, &sink)
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
        .filter(|step| CARRIED.iter().any(|carried| carried.as_str() == step.name))
        .all(|step| matches!(step.state, StepState::Passed | StepState::Skipped));
    let built = source
        .steps
        .iter()
        .any(|step| step.name == Step::Build.as_str() && step.state == StepState::Passed);
    if !gates_done || !built || source.image_id.is_none() {
        return Err(fresh_release_instead(format!(
            "Release {} was interrupted before its checks and its build had all passed.",
            source.id
        )));
    }
    Ok(())
}
