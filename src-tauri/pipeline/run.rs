//! Running a plan: the gates at once, then push, deploy and verify, each step recorded.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::lock::{self, LockError};
use super::recorder::Recorder;
use super::targets::{self, DeployResult, StepFailure};
use super::{
    plan_and_scan, Context, Plan, ReleaseEvent, ReleaseOptions, ReleaseSink, ReleaseSummary, Scanned, Step, Target,
};
use crate::checks::{self, CheckEvent, CheckKind, CheckOutcome, EventSink};
use crate::docker::{self, BuildRequest, DockerError, DockerEvent, ImageReference};
use crate::error::{AppError, ErrorKind};
use crate::history::{new_release_id, Ending, NewRelease, Outcome, StepState};
use crate::project::ProjectSettings;

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
                "{} file(s) have uncommitted changes ({}).",
                plan.dirty_files.len(),
                plan.dirty_files.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
            ),
            "Commit them first, or confirm to release them as they are (--yes in the CLI); the history records it.",
        ));
    }
    if plan.target == Target::Render {
        targets::check_render_accounts(context, &plan).await?;
    }
    // Before taking the lock: a release of this very project that died is found only while
    // its lock is free.
    if let Err(error) = mark_interrupted(context) {
        tracing::error!(%error, "could not mark interrupted releases");
    }
    let release_id = new_release_id();
    let _lock = lock::acquire(&context.data_dir, root, &release_id).map_err(|error| match error {
        LockError::Held(holder) => AppError::new(
            ErrorKind::Precondition,
            format!(
                "A release of {} is already running (started {} by process {}).",
                plan.project_name, holder.since, holder.pid
            ),
            "Wait for it to finish or cancel it; only one release of a project runs at a time.",
        ),
        other => AppError::new(
            ErrorKind::Io,
            other.to_string(),
            "Check that the data folder is writable.",
        ),
    })?;
    context.ledger.begin(&NewRelease {
        id: release_id.clone(),
        project_path: plan.project_path.clone(),
        project_name: plan.project_name.clone(),
        user: current_user(),
        commit: plan.commit.clone(),
        branch: plan.branch.clone(),
        dirty: plan.is_dirty(),
        target: plan.target.as_str().to_owned(),
        image: Some(plan.image.clone()),
        steps: plan
            .steps
            .iter()
            .map(|planned| planned.step.as_str().to_owned())
            .collect(),
    })?;
    tracing::info!(release = %release_id, project = %plan.project_path, target = plan.target.as_str(), "release started");
    let recorder = Recorder::new(context.ledger.clone(), release_id.clone(), sink.clone());
    recorder.event(ReleaseEvent::Started {
        release_id: release_id.clone(),
        plan: Box::new(plan.clone()),
    });
    let (outcome, mut ending) = run_steps(context, root, &plan, &scanned, &recorder, &release_id, cancel).await;
    if outcome == Outcome::Failed && ending.message.is_none() {
        ending.message = recorder.first_failure();
    }
    // The error behind the first failure keeps its kind and hint ("Start Docker").
    if matches!(outcome, Outcome::Failed | Outcome::Error) && ending.error_kind.is_none() {
        if let Some(error) = recorder.first_error() {
            ending.error_kind = Some(error.kind.as_str().to_owned());
            ending.error_hint = Some(error.hint);
        }
    }
    context.ledger.finish(&release_id, outcome, &ending)?;
    tracing::info!(release = %release_id, outcome = outcome.as_str(), "release ended");
    let summary = ReleaseSummary {
        release_id,
        outcome,
        image: plan.image.clone(),
        digest: ending.digest,
        url: ending.url,
        deploy_id: ending.deploy_id,
        // Built as it was recorded: a bug was already reported when it was made.
        error: ending.error_kind.as_deref().map(|kind| AppError {
            kind: ErrorKind::from_word(kind),
            message: crate::secrets::redact(ending.message.as_deref().unwrap_or_default()).into_owned(),
            hint: crate::secrets::redact(ending.error_hint.as_deref().unwrap_or_default()).into_owned(),
        }),
        message: ending.message.map(|text| crate::secrets::redact(&text).into_owned()),
    };
    sink(ReleaseEvent::Summary(summary.clone()));
    Ok(summary)
}

fn current_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn ended_by(error: AppError) -> (Outcome, Ending) {
    (
        Outcome::Error,
        Ending {
            message: Some(error.message),
            error_kind: Some(error.kind.as_str().to_owned()),
            error_hint: Some(error.hint),
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
    release_id: &str,
    cancel: &CancellationToken,
) -> (Outcome, Ending) {
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
    let reference = tags[0].clone();
    let engine = match docker::connect() {
        Ok(engine) => engine,
        Err(error) => return ended_by(AppError::from(error)),
    };

    // The gates: tests and lint (after the Python environment is ready) beside the build.
    let gates = cancel.child_token();
    let fail_fast = !context.settings.finish_all_gates;
    let (checks_passed, image_id) = tokio::join!(
        checks_gate(context, root, plan, scanned, recorder, &gates, fail_fast),
        build_gate(&engine, root, settings, tags, recorder, &gates, fail_fast),
    );
    if cancel.is_cancelled() {
        return ended(Outcome::Canceled, "Cancelled.");
    }
    let Some(image_id) = image_id.filter(|_| checks_passed) else {
        return (Outcome::Failed, Ending::default());
    };

    let mut ending = Ending::default();
    if let Some(reason) = plan.skip_reason(Step::Push) {
        recorder.step(Step::Push, StepState::Skipped, Some(reason.to_owned()));
    } else {
        match push_step(context, &engine, &reference, &image_id, recorder, cancel).await {
            Ok(digest) => {
                ending.digest = Some(digest);
                recorder.note(&ending);
            }
            Err(failure) => return failure.ending(ending),
        }
    }

    let deployed: Result<DeployResult, StepFailure> = match plan.target {
        Target::Local => targets::deploy_local(&engine, root, settings, plan, release_id, recorder, cancel).await,
        Target::Render => targets::deploy_render(context, plan, &reference, &ending, recorder, cancel).await,
    };
    match deployed {
        Ok(result) => {
            ending.deploy_id = result.deploy_id;
            ending.deploy_status = result.deploy_status;
            ending.url = result.url;
            (Outcome::Live, ending)
        }
        Err(failure) => failure.ending(ending),
    }
}

fn check_state(outcome: CheckOutcome) -> StepState {
    match outcome {
        CheckOutcome::Passed => StepState::Passed,
        CheckOutcome::Cancelled => StepState::Canceled,
        CheckOutcome::Skipped => StepState::Skipped,
        CheckOutcome::Failed | CheckOutcome::CouldNotRun => StepState::Failed,
    }
}

/// Tests, lint and the other gates; true when all passed.
async fn checks_gate(
    context: &Context,
    root: &Path,
    plan: &Plan,
    scanned: &Scanned,
    recorder: &Recorder,
    gates: &CancellationToken,
    fail_fast: bool,
) -> bool {
    let settings = &scanned.settings;
    let has_gates = !plan.gates.is_empty();
    recorder.step(Step::Tests, StepState::Running, None);
    if settings.lint_enabled {
        recorder.step(Step::Lint, StepState::Running, None);
    } else {
        recorder.step(
            Step::Lint,
            StepState::Skipped,
            plan.skip_reason(Step::Lint).map(str::to_owned),
        );
    }
    if has_gates {
        recorder.step(Step::Checks, StepState::Running, None);
    }
    let forward = recorder.clone();
    let sink: EventSink = Arc::new(move |event| match event {
        CheckEvent::Setup { message } => forward.log(Step::Tests, &message),
        CheckEvent::Output { check, line, .. } => {
            let step = match check {
                Some(CheckKind::Lint) => Step::Lint,
                _ => Step::Tests,
            };
            forward.log(step, &line);
        }
        CheckEvent::Started { check, command } => {
            let step = if check == CheckKind::Lint {
                Step::Lint
            } else {
                Step::Tests
            };
            forward.log(step, &format!("$ {command}"));
        }
        CheckEvent::GateStarted { id, command } => forward.log(Step::Checks, &format!("[{id}] $ {command}")),
        CheckEvent::GateOutput { id, line, .. } => forward.log(Step::Checks, &format!("[{id}] {line}")),
        CheckEvent::Finished { .. } | CheckEvent::GateFinished { .. } => {}
    });
    let env = match checks::prepare_env(root, &scanned.python, settings, &context.data_dir, gates, &sink).await {
        Ok(env) => env,
        Err(error) => {
            let state = if gates.is_cancelled() {
                StepState::Canceled
            } else {
                StepState::Failed
            };
            let message = format!(
                "The Python environment could not be prepared: {}",
                recorder.remember(AppError::from(error))
            );
            let mut steps = vec![Step::Tests];
            steps.extend(settings.lint_enabled.then_some(Step::Lint));
            steps.extend(has_gates.then_some(Step::Checks));
            for step in steps {
                recorder.step(step, state, Some(message.clone()));
            }
            if fail_fast {
                gates.cancel();
            }
            return false;
        }
    };
    // Each gate's report goes to the caller as it finishes; a failure stops the others.
    let gate_sink: EventSink = {
        let forward = recorder.clone();
        let sink = sink.clone();
        let gates = gates.clone();
        let missing = super::needs_sentence(&scanned.needs);
        Arc::new(move |mut event| {
            if let CheckEvent::GateFinished { report } = &mut event {
                report.name_missing_values(missing.clone());
                let failed = matches!(report.outcome, CheckOutcome::Failed | CheckOutcome::CouldNotRun);
                forward.event(ReleaseEvent::Gate { report: report.clone() });
                if failed && fail_fast {
                    gates.cancel();
                }
            }
            sink(event);
        })
    };
    let tests = async {
        let mut ran = false;
        let passed = match checks::run_tests(root, settings, &env, gates, &sink).await {
            Ok(mut report) => {
                ran = matches!(report.outcome, CheckOutcome::Passed | CheckOutcome::Failed);
                report.name_missing_values(super::needs_sentence(&scanned.needs));
                let state = check_state(report.outcome);
                let summary = report.problem.clone().unwrap_or_else(|| report.counts.to_string());
                recorder.event(ReleaseEvent::Tests { report });
                finish_gate(recorder, Step::Tests, state, summary, gates, fail_fast)
            }
            Err(error) => finish_gate(
                recorder,
                Step::Tests,
                StepState::Failed,
                recorder.remember(AppError::from(error)),
                gates,
                fail_fast,
            ),
        };
        // Coverage reads what the test run left: it runs after it, even when tests failed
        // (the CI's next step would too); not when they could not run or were cancelled.
        let after = if gates.is_cancelled() {
            Ok(Vec::new())
        } else if ran {
            checks::run_gates(root, settings, &env, true, gates, &gate_sink).await
        } else {
            let skipped = checks::skipped_after_tests(settings);
            for report in &skipped {
                recorder.event(ReleaseEvent::Gate { report: report.clone() });
            }
            Ok(skipped)
        };
        (passed, after)
    };
    let lint = async {
        if !settings.lint_enabled {
            return true;
        }
        match checks::run_lint(root, settings, &env, gates, &sink).await {
            Ok(report) => {
                let state = check_state(report.outcome);
                let summary = report.problem.clone().unwrap_or_else(|| match report.violations.len() {
                    1 => "1 violation".to_owned(),
                    count => format!("{count} violations"),
                });
                recorder.event(ReleaseEvent::Lint { report });
                finish_gate(recorder, Step::Lint, state, summary, gates, fail_fast)
            }
            Err(error) => finish_gate(
                recorder,
                Step::Lint,
                StepState::Failed,
                recorder.remember(AppError::from(error)),
                gates,
                fail_fast,
            ),
        }
    };
    let others = async {
        if !has_gates {
            return Ok(Vec::new());
        }
        checks::run_gates(root, settings, &env, false, gates, &gate_sink).await
    };
    let ((tests_passed, after), lint_passed, beside) = tokio::join!(tests, lint, others);
    let changed = checks::tree_changes(root, &plan.dirty_files).await;
    if !changed.is_empty() {
        recorder.log(
            Step::Tests,
            &format!(
                "The checks changed files in the project: {}. Your tests write them; the next plan shows them as uncommitted changes.",
                changed.join(", ")
            ),
        );
    }
    let mut others_passed = true;
    if has_gates {
        let mut reports = Vec::new();
        let mut problem = None;
        for result in [beside, after] {
            match result {
                Ok(found) => reports.extend(found),
                Err(error) => problem = Some(recorder.remember(AppError::from(error))),
            }
        }
        for report in &mut reports {
            report.name_missing_values(super::needs_sentence(&scanned.needs));
        }
        let (state, summary) = gates_verdict(&reports, problem);
        others_passed = state == StepState::Passed;
        recorder.step(Step::Checks, state, Some(summary));
        if !others_passed && fail_fast {
            gates.cancel();
        }
    }
    tests_passed && lint_passed && others_passed
}

/// The Checks step's state and summary from its gates: the first failure named, else a count.
fn gates_verdict(reports: &[checks::GateReport], problem: Option<String>) -> (StepState, String) {
    if let Some(problem) = problem {
        return (StepState::Failed, format!("Checks failed: {problem}"));
    }
    if reports.iter().any(|report| report.outcome == CheckOutcome::Cancelled) {
        return (StepState::Canceled, "Cancelled.".to_owned());
    }
    match reports
        .iter()
        .find(|report| matches!(report.outcome, CheckOutcome::Failed | CheckOutcome::CouldNotRun))
    {
        Some(failed) => (
            StepState::Failed,
            format!("{} failed: {}", failed.kind.label(), failed.message),
        ),
        None => (
            StepState::Passed,
            reports
                .iter()
                .map(|report| format!("{}: {}", report.tool, report.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
    }
}

fn finish_gate(
    recorder: &Recorder,
    step: Step,
    state: StepState,
    summary: String,
    gates: &CancellationToken,
    fail_fast: bool,
) -> bool {
    let label = match step {
        Step::Tests => "Tests",
        Step::Lint => "Lint",
        Step::Checks => "Checks",
        _ => "Build",
    };
    let summary = if state == StepState::Failed {
        format!("{label} failed: {summary}")
    } else {
        summary
    };
    recorder.step(step, state, Some(summary));
    if state == StepState::Failed && fail_fast {
        gates.cancel();
    }
    state == StepState::Passed
}

/// The image build; its id when it succeeded.
async fn build_gate(
    engine: &bollard::Docker,
    root: &Path,
    settings: &ProjectSettings,
    tags: Vec<ImageReference>,
    recorder: &Recorder,
    gates: &CancellationToken,
    fail_fast: bool,
) -> Option<String> {
    recorder.step(Step::Build, StepState::Running, None);
    // The plan refused a Dockerfile outside its context; the project's folder is the fallback.
    let (context, dockerfile) = settings
        .build_paths(root)
        .unwrap_or_else(|_| (root.to_path_buf(), settings.dockerfile.clone().unwrap_or_default()));
    let request = BuildRequest {
        context,
        dockerfile,
        tags,
        build_args: settings.build_args.clone().unwrap_or_default(),
        target: settings.build_target.clone().filter(|target| !target.trim().is_empty()),
        buildkit: None,
    };
    let forward = recorder.clone();
    let result = docker::build(engine, &request, gates, &move |event| match event {
        DockerEvent::Output { line } => forward.log(Step::Build, &line),
        DockerEvent::Step {
            number,
            total,
            ref instruction,
        } => {
            forward.log(Step::Build, &format!("Step {number}/{total}: {instruction}"));
            forward.event(ReleaseEvent::Docker {
                step: Step::Build,
                event,
            });
        }
        other => forward.event(ReleaseEvent::Docker {
            step: Step::Build,
            event: other,
        }),
    })
    .await;
    match result {
        Ok(image_id) => {
            let short = image_id
                .trim_start_matches("sha256:")
                .chars()
                .take(12)
                .collect::<String>();
            recorder.step(Step::Build, StepState::Passed, Some(format!("image {short}")));
            Some(image_id)
        }
        Err(DockerError::Cancelled) => {
            recorder.step(Step::Build, StepState::Canceled, None);
            None
        }
        Err(error) => {
            finish_gate(
                recorder,
                Step::Build,
                StepState::Failed,
                recorder.remember(AppError::from(error)),
                gates,
                fail_fast,
            );
            None
        }
    }
}

/// Pushes the image, unless the registry already holds this very image; returns its digest.
async fn push_step(
    context: &Context,
    engine: &bollard::Docker,
    reference: &ImageReference,
    image_id: &str,
    recorder: &Recorder,
    cancel: &CancellationToken,
) -> Result<String, StepFailure> {
    recorder.step(Step::Push, StepState::Running, None);
    let credentials = targets::registry_credentials(context, reference).await;
    if let Some(digest) = targets::already_pushed(engine, reference, image_id, &credentials).await {
        recorder.log(
            Step::Push,
            &format!("{} is already in the registry as {digest}", reference.full()),
        );
        recorder.step(
            Step::Push,
            StepState::Passed,
            Some("already in the registry".to_owned()),
        );
        return Ok(digest);
    }
    let pushed_bytes = Arc::new(AtomicU64::new(0));
    let forward = recorder.clone();
    let counter = pushed_bytes.clone();
    let result = docker::push(
        &docker::EngineEndpoint::from_env(),
        reference,
        &credentials,
        cancel,
        &move |event| {
            if let DockerEvent::PushProgress { total, .. } = &event {
                counter.store(*total, Ordering::Relaxed);
            }
            forward.event(ReleaseEvent::Docker {
                step: Step::Push,
                event,
            });
        },
    )
    .await;
    match result {
        Ok(digest) => {
            let registry_digest =
                crate::registry::manifest_digest(reference, &credentials.username, &credentials.secret).await;
            if let Ok(found) = &registry_digest {
                if found != &digest {
                    let message = format!("The registry holds {found}, not the pushed {digest}.");
                    recorder.step(Step::Push, StepState::Failed, Some(message.clone()));
                    return Err(StepFailure::failed(message));
                }
            }
            let bytes = pushed_bytes.load(Ordering::Relaxed);
            let detail = if bytes == 0 {
                "every layer was already in the registry".to_owned()
            } else {
                format!("{:.1} MB", bytes as f64 / 1_000_000.0)
            };
            recorder.step(Step::Push, StepState::Passed, Some(format!("{digest} ({detail})")));
            Ok(digest)
        }
        Err(DockerError::Cancelled) => {
            recorder.step(Step::Push, StepState::Canceled, None);
            Err(StepFailure::canceled())
        }
        Err(error) => {
            let error = AppError::from(error);
            let summary = recorder.fail_with(Step::Push, StepState::Failed, "Push failed: ", error.clone());
            Err(StepFailure::from_error(summary, error))
        }
    }
}
