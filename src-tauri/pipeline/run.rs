//! Running a plan: the gates at once, then push, deploy and verify, each step recorded.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::bookends::{conclude, take_locks, Locking};
use super::deploy::{self, DeployResult, Deployer, Destination, Shipped, StepFailure};
use super::gates::{build_gate, checks_gate};
use super::lock;
use super::plan::plan_and_scan;
use super::push::{push_or_skip, ImageToPush};
use super::recorder::Recorder;
use super::rehearsal::{rehearse, Rehearsal};
use super::sentry_step::{self, SentryDeploy};
use super::{current_user, machine_name};
use super::{Context, Plan, ReleaseEvent, ReleaseOptions, ReleaseSink, ReleaseSummary, Scanned, Step, Target};
use crate::docker;
use crate::error::{AppError, ErrorKind};
use crate::history::{new_release_id, Ending, NewRelease, Outcome, StepState};

/// Marks every release recorded as running whose project nobody holds as interrupted: its
/// process ended without finishing it. Returns how many there were.
pub fn mark_interrupted(context: &Context) -> Result<usize, AppError> {
    let mut marked = 0;
    for project in context.ledger.running_projects()? {
        if !lock::is_free(&context.data_dir, Path::new(&project)) {
            continue;
        }
        for id in context.ledger.running(&project)? {
            context.ledger.finish(
                &id,
                Outcome::Interrupted,
                &Ending {
                    message: Some("Slipway stopped while this release ran (closed, killed or crashed).".to_owned()),
                    ..Ending::default()
                },
            )?;
            tracing::warn!(release = %id, "a release left running was marked interrupted");
            marked += 1;
        }
    }
    Ok(marked)
}

/// Puts right the Local containers a killed Slipway left half-deployed (a candidate beside
/// the app, or a switch half-done), for each project of this data folder nobody is
/// releasing now; how many projects were put right. Without an engine there is nothing to do.
pub async fn put_right_containers(data_dir: &Path) -> usize {
    let Ok(engine) = docker::connect() else { return 0 };
    let Ok(projects) = docker::projects_to_put_right(&engine).await else {
        return 0;
    };
    let mut mended = 0;
    for project in projects {
        if !lock::known_id(data_dir, &project) {
            continue;
        }
        // A release of it running now (here or in another Slipway) owns its containers.
        let Ok(_lock) = lock::acquire_id(data_dir, &project, "put-right") else {
            continue;
        };
        match docker::put_right(&engine, &project).await {
            Ok(0) => {}
            Ok(_) => mended += 1,
            Err(error) => tracing::warn!(%project, "a half-done deploy could not be put right: {error}"),
        }
    }
    mended
}

/// Runs a release of the project at `root`: plan, checks before anything, the lock, then
/// every step. An `Err` means it could not start (nothing was run); a release that ran ends
/// in `Ok` with its outcome.
pub async fn release(
    context: &Context,
    root: &Path,
    options: &ReleaseOptions,
    cancel: &CancellationToken,
    sink: ReleaseSink,
) -> Result<ReleaseSummary, AppError> {
    let (plan, scanned) = plan_and_scan(context, root, options).await?;
    // The person confirmed a plan: this one, or nothing runs (a file that became dirty after
    // the preview would otherwise ship unseen).
    if options
        .confirmed_plan
        .as_ref()
        .is_some_and(|confirmed| *confirmed != plan.fingerprint)
    {
        return Err(AppError::new(
            ErrorKind::Precondition,
            "The project changed since the plan you saw (a commit, a file, a setting or an account).",
            "Review the new plan, then press Release again.",
        ));
    }
    if let Some(blocker) = plan.blockers.first() {
        return Err(blocker.clone());
    }
    if plan.is_dirty() && !options.confirm_dirty {
        return Err(AppError::new(
            ErrorKind::Precondition,
            format!(
                "{} uncommitted changes ({}).",
                match plan.dirty_files.len() {
                    1 => "1 file has".to_owned(),
                    count => format!("{count} files have"),
                },
                plan.dirty_files.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
            ),
            "Commit them first, or confirm that you want to release them as they are; History will say so.",
        )
        .with_action(crate::error::ErrorAction::ReviewPlan)
        .in_terminal("Commit them first, or pass --yes to release them as they are; the history records it."));
    }
    if plan.target == Target::Render {
        deploy::check_render_accounts(context, &plan).await?;
    }
    // Before taking the lock: a release of this very project that died is found only while
    // its lock is free.
    if let Err(error) = mark_interrupted(context) {
        tracing::error!(%error, "could not mark interrupted releases");
    }
    let release_id = new_release_id();
    let locks = take_locks(
        context,
        root,
        &Locking {
            project_name: &plan.project_name,
            release_id: &release_id,
            target: plan.target,
            service: plan.service.as_deref(),
            environment: &plan.environment,
        },
        options.without_team_history,
    )
    .await?;
    let started_at = context.ledger.begin(&NewRelease {
        id: release_id.clone(),
        project_path: plan.project_path.clone(),
        project_name: plan.project_name.clone(),
        user: current_user(),
        commit: plan.commit.clone(),
        branch: plan.branch.clone(),
        dirty: plan.is_dirty(),
        target: plan.target,
        image: Some(plan.image.clone()),
        steps: plan.steps.iter().map(|planned| planned.step).collect(),
        machine: machine_name(),
        environment: Some(plan.environment.clone()),
        service: plan.service.clone(),
        remote_url: plan.remote.as_ref().and_then(|remote| remote.remote_url.clone()),
        on_remote: plan.remote.as_ref().map(|remote| remote.commit_on_remote),
        ..NewRelease::default()
    })?;
    tracing::info!(release = %release_id, project = %plan.project_path, environment = %plan.environment, "release started");
    let recorder = Recorder::new(context.ledger.clone(), release_id.clone(), started_at, sink.clone());
    recorder.event(ReleaseEvent::Started {
        release_id: release_id.clone(),
        plan: Box::new(plan.clone()),
    });
    let (outcome, ending) = run_steps(context, root, &plan, &scanned, &recorder, options, cancel).await;
    let mut summary = conclude(context, &recorder, &release_id, &plan.image, outcome, ending, &sink)?;
    // The rollback takes the locks itself, as a person's would.
    drop(locks);
    if let Some(said) = roll_back_if_asked(context, root, &scanned.environment, &summary, cancel).await {
        summary.message = Some(match summary.message.take() {
            Some(message) => format!("{message} {said}"),
            None => said,
        });
    }
    Ok(summary)
}

/// A Render release whose live check failed after Render made it live, on an environment set
/// to roll back by itself: rolled back to the release live there before; the sentence saying so.
async fn roll_back_if_asked(
    context: &Context,
    root: &Path,
    environment: &crate::project::Environment,
    summary: &ReleaseSummary,
    cancel: &CancellationToken,
) -> Option<String> {
    environment.auto_rollback?;
    if summary.outcome != Outcome::Failed || environment.target != Target::Render || cancel.is_cancelled() {
        return None;
    }
    let went_live = context
        .ledger
        .release(&summary.release_id)
        .ok()
        .flatten()
        .is_some_and(|release| release.deploy_status.as_deref() == Some("live"));
    if !went_live {
        return None;
    }
    let done =
        super::auto_rollback::roll_back_after(context, root, &summary.release_id, "its live check failed", cancel)
            .await;
    Some(super::auto_rollback::sentence(&done))
}

fn ended_by(error: AppError) -> (Outcome, Ending) {
    (
        Outcome::Error,
        Ending {
            message: Some(error.message.clone()),
            error: Some(error),
            ..Ending::default()
        },
    )
}

fn ended(outcome: Outcome, message: impl Into<String>) -> (Outcome, Ending) {
    (
        outcome,
        Ending {
            message: Some(message.into()),
            ..Ending::default()
        },
    )
}

async fn run_steps(
    context: &Context,
    root: &Path,
    plan: &Plan,
    scanned: &Scanned,
    recorder: &Recorder,
    options: &ReleaseOptions,
    cancel: &CancellationToken,
) -> (Outcome, Ending) {
    let release_id = recorder.release_id();
    let settings = &scanned.settings;
    // The released reference first, then the other tags (`latest`); the plan checked them.
    let tags = match plan
        .references()
        .iter()
        .map(|text| docker::parse_reference(text))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(tags) => tags,
        Err(why) => return ended(Outcome::Error, why),
    };
    // The project's engine: its own Docker context when it names one.
    let engine = match docker::connect_for(settings.docker_context.as_deref()) {
        Ok(connected) => connected,
        Err(error) => return ended_by(AppError::from(error)),
    };

    // The commit on its remote first, so CircleCI (and the team) see what ships.
    if !super::remote_step::push_step(context, root, plan, recorder, cancel).await {
        if cancel.is_cancelled() {
            return ended(Outcome::Canceled, "Cancelled.");
        }
        return (Outcome::Failed, Ending::default());
    }

    // CircleCI's workflows, when the release waits for them, beside the gates and the push:
    // the deploy waits for both.
    // A failed gate stops the wait; CircleCI's no stops the image's push (the gates finish, as
    // they do beside each other, so the person sees every failure).
    let ci_cancel = cancel.child_token();
    let ci_said_no = CancellationToken::new();
    let ci = async {
        let passed = super::ci_step::wait_step(context, root, plan, recorder, &ci_cancel).await;
        if !passed {
            ci_said_no.cancel();
        }
        passed
    };
    let gates_and_push = async {
        let before_push = BeforePush {
            options,
            cancel,
            ci_said_no: &ci_said_no,
        };
        let shipped = gates_and_push(context, root, plan, scanned, recorder, &before_push, &engine, tags).await;
        if shipped.is_err() {
            ci_cancel.cancel();
        }
        shipped
    };
    let (shipped, ci_passed) = tokio::join!(gates_and_push, ci);
    let (reference, ending) = match shipped {
        Ok(shipped) => shipped,
        Err(ended) => return ended,
    };
    if cancel.is_cancelled() {
        return ended(Outcome::Canceled, "Cancelled.");
    }
    if !ci_passed {
        return (Outcome::Failed, ending);
    }

    let shipped = Shipped {
        run: reference.full(),
        reference,
        digest: ending.digest.clone(),
    };
    let destination = Destination {
        context,
        target: plan.target,
        engine: Some(&engine),
        root,
        settings,
        service: plan.service.clone().unwrap_or_default(),
        release_id,
        commit: plan.commit.clone(),
    };
    let deployed: Result<DeployResult, StepFailure> = match destination.deployer() {
        Ok(deployer) => deployer.deploy(&shipped, recorder, cancel).await,
        Err(error) => Err(StepFailure::from_error(error.message.clone(), error)),
    };
    let (outcome, mut ending) = deploy::ending_after(deployed, ending);
    if outcome == Outcome::Live {
        let told = SentryDeploy {
            root,
            settings,
            target: plan.target,
            started_at: recorder.started_at().to_owned(),
            url: ending.url.clone(),
            name: release_id.to_owned(),
        };
        // A note the deploy left (a cancel that came too late) comes first; Sentry's after.
        if let Some(warning) = sentry_step::record(context, &told, recorder).await {
            ending.message = Some(match ending.message.take() {
                Some(note) => format!("{note} {warning}"),
                None => warning,
            });
        }
    }
    (outcome, ending)
}

/// What decides whether the gates run from scratch and the image is pushed.
struct BeforePush<'a> {
    options: &'a ReleaseOptions,
    cancel: &'a CancellationToken,
    /// Cancelled when CircleCI's workflows failed while the gates ran.
    ci_said_no: &'a CancellationToken,
}

/// The gates (tests and lint once the Python environment is ready, beside the build), then
/// the image's push: the reference pushed and what the ledger noted, or how the release ended.
#[allow(clippy::too_many_arguments, reason = "the run's own values, passed on as they are")]
async fn gates_and_push(
    context: &Context,
    root: &Path,
    plan: &Plan,
    scanned: &Scanned,
    recorder: &Recorder,
    before_push: &BeforePush<'_>,
    engine: &docker::Engine,
    tags: Vec<docker::ImageReference>,
) -> Result<(docker::ImageReference, Ending), (Outcome, Ending)> {
    let BeforePush {
        options,
        cancel,
        ci_said_no,
    } = *before_push;
    let settings = &scanned.settings;
    let reference = tags[0].clone();
    let gates = cancel.child_token();
    let fail_fast = context.settings.stop_at_first_failure;
    let (checks_passed, image_id) = tokio::join!(
        checks_gate(
            context,
            root,
            plan,
            scanned,
            recorder,
            &gates,
            fail_fast,
            !options.no_cache
        ),
        build_gate(
            engine,
            &context.data_dir,
            root,
            settings,
            tags,
            recorder,
            &gates,
            fail_fast
        ),
    );
    if cancel.is_cancelled() {
        return Err(ended(Outcome::Canceled, "Cancelled."));
    }
    let Some(image_id) = image_id.filter(|_| checks_passed) else {
        return Err((Outcome::Failed, Ending::default()));
    };

    let mut ending = Ending {
        image_id: Some(image_id.clone()),
        ..Ending::default()
    };
    recorder.note(&ending);
    if ci_said_no.is_cancelled() {
        recorder.step(
            Step::Push,
            StepState::Skipped,
            Some("Not pushed: CircleCI's workflows on this commit failed.".to_owned()),
        );
        return Err((Outcome::Failed, ending));
    }
    if plan.has(Step::Rehearsal) {
        let rehearsal = Rehearsal {
            engine,
            root,
            settings,
            environment: &scanned.environment,
            release_id: recorder.release_id(),
            commit: plan.commit.clone(),
            image: &image_id,
        };
        if let Err(failure) = rehearse(&rehearsal, recorder, cancel).await {
            return Err(failure.ending(ending));
        }
    }
    let image = ImageToPush {
        reference: &reference,
        image_id: &image_id,
        skip: plan.skip_reason(Step::Push),
    };
    if let Err(failure) = push_or_skip(context, engine, image, recorder, cancel, &mut ending).await {
        return Err(failure.ending(ending));
    }
    Ok((reference, ending))
}
