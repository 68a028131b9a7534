//! Promoting a rehearsed release along the project's chain of environments (this computer →
//! staging → production): the exact image that went live on one environment is shipped to
//! the next, with no rebuild and no gate run. It is tagged for the next environment's
//! repository, pushed, checked to be the same image (engine id, and registry digest),
//! deployed by digest and checked live. The ledger records it as a `promote` of its source,
//! with the source's gate results carried over and marked as such.

use crate::vocabulary::ReleaseKind;
use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::bookends::{conclude, take_locks, Locking};
use super::deploy::{self, Deployer, Shipped, StepFailure, TargetDeployer};
use super::plan::plan_and_scan;
use super::push::push_step;
use super::recorder::Recorder;
use super::{current_user, machine_name};
use super::{Context, ReleaseEvent, ReleaseOptions, ReleaseSink, ReleaseSummary, Step, Target};
use crate::docker::{self, ImageReference};
use crate::error::{AppError, ErrorAction, ErrorKind};
use crate::history::{new_release_id, Ending, NewRelease, Outcome, ReleaseRecord, StepState};

/// The steps a promotion carries over from its source, when the source ran them.
pub(super) const CARRIED: [Step; 4] = [Step::Tests, Step::Lint, Step::Checks, Step::Build];

/// Promotes release `source_id` to the environment `to` (`None`: the next one in the
/// project's chain after the one it went live on). An `Err` means nothing was shipped and
/// says why; a promotion that ran ends in `Ok` with its outcome.
pub async fn promote(
    context: &Context,
    source_id: &str,
    to: Option<&str>,
    cancel: &CancellationToken,
    sink: ReleaseSink,
) -> Result<ReleaseSummary, AppError> {
    let source = context.ledger.release(source_id)?.ok_or_else(|| {
        AppError::new(
            ErrorKind::NotFound,
            format!("No release {source_id} is in the history."),
            "Pick a release from the History page.",
        )
    })?;
    refuse_unless_rehearsed(&source)?;
    let root = Path::new(&source.project_path);
    let destination = next_environment(context, root, &source, to)?;
    let image_id = source.image_id.clone().unwrap_or_default();
    let engine = super::project_engine(&context.data_dir, root)?;
    if engine.inspect_image(&image_id).await.is_err() {
        return Err(AppError::new(
            ErrorKind::Precondition,
            format!("The image of {} is no longer on this machine.", source.name()),
            "Release that commit again, then promote the new release.",
        ));
    }
    let options = ReleaseOptions {
        environment: Some(destination.name.clone()),
        confirm_dirty: true,
        confirmed_plan: None,
        ..ReleaseOptions::default()
    };
    let (plan, _) = plan_and_scan(context, root, &options).await?;
    if let Some(blocker) = plan.blockers.first() {
        return Err(blocker.clone());
    }
    deploy::check_render_accounts(context, &plan).await?;
    let reference = promoted_reference(&plan.image, &source)?;

    let release_id = new_release_id();
    let _locks = take_locks(
        context,
        root,
        &Locking {
            project_name: &source.project_name,
            release_id: &release_id,
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
        &release_id,
        Carried {
            kind: ReleaseKind::Promotion,
            target: Target::Render,
            environment: destination.name.clone(),
            service: plan.service.clone(),
            image: reference.full(),
        },
        &sink,
    )?;
    recorder.event(ReleaseEvent::PromoteStarted {
        release_id: release_id.clone(),
        source_id: source.id.clone(),
    });

    let ending = Ending {
        image_id: Some(image_id.clone()),
        ..Ending::default()
    };
    recorder.note(&ending);
    let (outcome, ending) = match ship(
        context,
        &engine,
        &source,
        &reference,
        plan.service.clone().unwrap_or_default(),
        &recorder,
        cancel,
    )
    .await
    {
        Ok((digest, deployed)) => deploy::ending_after(
            deployed,
            Ending {
                digest: Some(digest),
                ..ending
            },
        ),
        Err(failure) => failure.ending(ending),
    };
    conclude(
        context,
        &recorder,
        &release_id,
        &reference.full(),
        outcome,
        ending,
        &sink,
    )
}

/// What a release that ships another's work records of itself.
pub(super) struct Carried {
    /// A promotion or a resume.
    pub kind: ReleaseKind,
    pub target: Target,
    /// The environment it goes to, and the service there.
    pub environment: String,
    pub service: Option<String>,
    pub image: String,
}

/// Starts, in the ledger, a release that ships `source`'s checked work again: its checks and
/// build carried over (marked so, with their results), then push, deploy and verify to run.
pub(super) fn begin_from(
    context: &Context,
    source: &ReleaseRecord,
    release_id: &str,
    carried: Carried,
    sink: &ReleaseSink,
) -> Result<Recorder, AppError> {
    let mut steps: Vec<Step> = source
        .steps
        .iter()
        .filter_map(|step| step.name.known())
        .filter(|step| CARRIED.contains(step))
        .collect();
    steps.extend([Step::Push, Step::Deploy, Step::Verify]);
    let started_at = context.ledger.begin(&NewRelease {
        id: release_id.to_owned(),
        project_path: source.project_path.clone(),
        project_name: source.project_name.clone(),
        user: current_user(),
        commit: source.commit.clone(),
        branch: source.branch.clone(),
        dirty: source.dirty,
        target: carried.target,
        image: Some(carried.image),
        steps,
        kind: carried.kind,
        source_id: Some(source.id.clone()),
        machine: machine_name(),
        environment: Some(carried.environment.clone()),
        service: carried.service.clone(),
        // The same commit, on the same remote as when it was first released.
        remote_url: source.remote_url.clone(),
        on_remote: source.on_remote,
    })?;
    tracing::info!(release = %release_id, source = %source.id, kind = carried.kind.as_str(), "started from an earlier release");
    let recorder = Recorder::new(context.ledger.clone(), release_id.to_owned(), started_at, sink.clone());
    carry_over(context, source, &recorder, release_id);
    Ok(recorder)
}

/// The environment a promotion of `source` goes to: the one named, which must be the next
/// in the project's chain after the one `source` went live on.
fn next_environment(
    context: &Context,
    root: &Path,
    source: &ReleaseRecord,
    to: Option<&str>,
) -> Result<crate::project::Environment, AppError> {
    let environments = crate::project::load_settings(&context.data_dir, root)?
        .map(|settings| settings.environments)
        .unwrap_or_default();
    let from = source.environment.clone().unwrap_or_else(|| source.target.to_string());
    let next = environments.next_after(&from);
    let refuse = |message: String, hint: String| {
        Err(AppError::new(ErrorKind::Precondition, message, hint).with_action(ErrorAction::OpenProjectSettings))
    };
    let Some(next) = next else {
        return refuse(
            format!(
                "{from} is the last environment of the project: there is nothing to promote {} to.",
                source.name()
            ),
            "Add the environment it should go to next in the project's settings (Where it runs).".to_owned(),
        );
    };
    match to {
        None => Ok(next),
        Some(name) => {
            let wanted = environments.resolve(name)?;
            if wanted.name.eq_ignore_ascii_case(&next.name) {
                return Ok(wanted);
            }
            refuse(
                format!(
                    "{} went live on {from}; the next environment after {from} is {}, not {}.",
                    source.named(),
                    next.name,
                    wanted.name
                ),
                format!(
                    "Promote it to {} first, then promote that release to {}.",
                    next.name, wanted.name
                ),
            )
        }
    }
}

/// Only a release that went live, with the image it ran, is promoted.
fn refuse_unless_rehearsed(source: &ReleaseRecord) -> Result<(), AppError> {
    let refuse = |message: String, hint: &str| {
        Err(AppError::new(ErrorKind::Precondition, message, hint).with_action(ErrorAction::ReviewPlan))
    };
    if source.outcome != Outcome::Live {
        return refuse(
            format!("{} never went live ({}).", source.named(), source.outcome.as_str()),
            "Promote a release that went live.",
        );
    }
    if source.image_id.is_none() {
        return refuse(
            format!("{} did not record which image it ran.", source.named()),
            "Release that commit again, then promote the new release.",
        );
    }
    Ok(())
}

/// The Render target's repository with the source's tag: the commit it was built from.
fn promoted_reference(render_image: &str, source: &ReleaseRecord) -> Result<ImageReference, AppError> {
    let invalid = |why: String| {
        AppError::new(
            ErrorKind::Validation,
            "The image name for Render is not valid.",
            "Correct where your image goes in the project's settings.",
        )
        .with_detail(why)
        .with_action(ErrorAction::OpenProjectSettings)
    };
    let render = docker::parse_reference(render_image).map_err(invalid)?;
    let tag = match source.image.as_deref().map(docker::parse_reference) {
        Some(Ok(rehearsed)) => rehearsed.tag,
        _ => render.tag.clone(),
    };
    docker::parse_reference(&format!("{}:{tag}", render.name())).map_err(invalid)
}

/// Writes the source's gate steps into the promotion, marked as carried over, with their
/// test, lint and check results.
pub(super) fn carry_over(context: &Context, source: &ReleaseRecord, recorder: &Recorder, release_id: &str) {
    for step in &source.steps {
        let Some(carried) = step.name.known().filter(|name| CARRIED.contains(name)) else {
            continue;
        };
        let summary = match &step.summary {
            Some(summary) => format!("carried over from {}: {summary}", source.name()),
            None => format!("carried over from {}", source.name()),
        };
        recorder.step(carried, step.state, Some(summary));
    }
    match context.ledger.results(&source.id) {
        Ok(results) => {
            for result in results {
                if let Err(error) = context.ledger.result(release_id, &result.step, &result.report) {
                    tracing::error!(%error, "the ledger could not carry a result over");
                }
            }
        }
        Err(error) => tracing::error!(%error, "the source's results could not be read"),
    }
}

/// Tags and pushes the rehearsed image, checks it is the same image, and deploys it.
async fn ship(
    context: &Context,
    engine: &docker::Engine,
    source: &ReleaseRecord,
    reference: &ImageReference,
    service_id: String,
    recorder: &Recorder,
    cancel: &CancellationToken,
) -> Result<(String, Result<deploy::DeployResult, StepFailure>), StepFailure> {
    let image_id = source.image_id.clone().unwrap_or_default();
    recorder.log(
        Step::Push,
        &format!(
            "tagging the image of {} ({image_id}) as {}",
            source.name(),
            reference.full()
        ),
    );
    if let Err(error) = docker::tag(engine, &image_id, reference).await {
        let error = AppError::from(error);
        let summary = recorder.fail_with(Step::Push, StepState::Failed, "Tagging failed: ", error.clone());
        return Err(StepFailure::from_error(summary, error));
    }
    let digest = push_step(context, engine, reference, &image_id, recorder, cancel).await?;
    if let Some(problem) = not_the_rehearsed_image(engine, reference, source, &digest).await {
        recorder.step(Step::Push, StepState::Failed, Some(problem.clone()));
        return Err(StepFailure::failed(problem));
    }
    let shipped = Shipped {
        run: reference.full(),
        reference: reference.clone(),
        digest: Some(digest.clone()),
    };
    let deployed = TargetDeployer::render(context, service_id)
        .deploy(&shipped, recorder, cancel)
        .await;
    Ok((digest, deployed))
}

/// Why what was pushed is not byte for byte the rehearsed image, if it is not: the engine's
/// image id (the digest of its configuration, which names every layer) must be the
/// source's, and so must the registry digest when both went to the same repository.
async fn not_the_rehearsed_image(
    engine: &bollard::Docker,
    reference: &ImageReference,
    source: &ReleaseRecord,
    digest: &str,
) -> Option<String> {
    let pushed = engine.inspect_image(&reference.full()).await.ok()?.id;
    if pushed.as_deref() != source.image_id.as_deref() {
        return Some(format!(
            "{} is {}, not the image {} ran ({}).",
            reference.full(),
            pushed.unwrap_or_default(),
            source.name(),
            source.image_id.as_deref().unwrap_or_default()
        ));
    }
    // The engine pushes one image as one manifest wherever it goes, so the digest is the
    // source's in any repository and registry.
    match &source.digest {
        Some(rehearsed) if rehearsed != digest => Some(format!(
            "The registry holds {digest} for {}, not {rehearsed} that {} ran.",
            reference.full(),
            source.name()
        )),
        _ => None,
    }
}
