//! The gates: tests, lint and the other checks (once the Python environment is ready)
//! beside the image build. A failure stops the others unless the settings ask to finish all.

use std::path::Path;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::cache;
use super::recorder::Recorder;
use super::Context;
use super::{CachedGate, Plan, ReleaseEvent, Scanned, Step};
use crate::checks::{self, CheckEvent, CheckKind, CheckOutcome, EventSink};
use crate::docker::{self, DockerError, DockerEvent, ImageReference};
use crate::error::AppError;
use crate::history::StepState;
use crate::project::ProjectSettings;

fn check_state(outcome: CheckOutcome) -> StepState {
    match outcome {
        CheckOutcome::Passed => StepState::Passed,
        CheckOutcome::Cancelled => StepState::Canceled,
        CheckOutcome::Skipped => StepState::Skipped,
        CheckOutcome::Failed | CheckOutcome::CouldNotRun => StepState::Failed,
    }
}

/// Shows a gate's earlier pass as this release's: the step passed with when and where, and
/// its results (the tests, the violations, each check's report) as that run left them.
/// Returns the check reports it replayed.
fn replay(context: &Context, recorder: &Recorder, step: Step, hit: &CachedGate, key: &str) -> Vec<checks::GateReport> {
    let mut gate_reports = Vec::new();
    match context.ledger.results(&hit.from_release) {
        Ok(results) => {
            for result in results.into_iter().filter(|result| result.step == step.as_str()) {
                let event = match step {
                    Step::Tests => serde_json::from_value(result.report).map(|report| ReleaseEvent::Tests { report }),
                    Step::Lint => serde_json::from_value(result.report).map(|report| ReleaseEvent::Lint { report }),
                    _ => serde_json::from_value::<checks::GateReport>(result.report).map(|report| {
                        gate_reports.push(report.clone());
                        ReleaseEvent::Gate { report }
                    }),
                };
                match event {
                    Ok(event) => recorder.event(event),
                    Err(error) => tracing::warn!(%error, "a cached result could not be read"),
                }
            }
        }
        Err(error) => tracing::warn!(%error, "the cached results could not be read"),
    }
    recorder.log(
        step,
        &format!(
            "Not run: {} ({}).",
            cache::cached_summary(hit),
            cache::ago(&hit.passed_at)
        ),
    );
    if step != Step::Checks {
        recorder.step(step, StepState::Passed, Some(cache::cached_summary(hit)));
    }
    recorder.keep_cache_key(step, key, Some(&hit.from_release));
    gate_reports
}

/// Tests, lint and the other gates; true when all passed. With `use_cache`, a gate that
/// passed before on the very same inputs is shown as that pass and not run.
#[allow(clippy::too_many_arguments)] // one call site; each is a separate concern of the run
pub(super) async fn checks_gate(
    context: &Context,
    root: &Path,
    plan: &Plan,
    scanned: &Scanned,
    recorder: &Recorder,
    gates: &CancellationToken,
    fail_fast: bool,
    use_cache: bool,
) -> bool {
    let settings = &scanned.settings;
    let has_gates = !plan.gates.is_empty();
    // A gate the plan showed as cached is not shown running while the environment is checked;
    // it runs (and says so then) only if the environment turns out to have changed.
    let planned_cached = |step: Step| {
        use_cache
            && plan
                .steps
                .iter()
                .any(|planned| planned.step == step && planned.cached.is_some())
    };
    let running = |step: Step| recorder.step(step, StepState::Running, None);
    if !planned_cached(Step::Tests) {
        running(Step::Tests);
    }
    if settings.lint_enabled {
        if !planned_cached(Step::Lint) {
            running(Step::Lint);
        }
    } else {
        recorder.step(
            Step::Lint,
            StepState::Skipped,
            plan.skip_reason(Step::Lint).map(str::to_owned),
        );
    }
    if has_gates && !planned_cached(Step::Checks) {
        running(Step::Checks);
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
    // The keys are taken before anything runs: the tests may write files into the tree.
    let keys = cache::gate_keys(context, root, settings, env.venv.clone(), env.secrets.clone()).await;
    let hit = |step: Step| if use_cache { keys.hit(step) } else { None };
    let keep_key = |step: Step| {
        if let Some(key) = keys.key(step) {
            recorder.keep_cache_key(step, key, None);
        }
    };
    let runs_after_all = |step: Step| {
        if planned_cached(step) {
            running(step);
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
        if let (Some(cached), Some(key)) = (hit(Step::Tests), keys.key(Step::Tests)) {
            replay(context, recorder, Step::Tests, cached, key);
            // The checks that read the test run were cached with it (`gate_keys`).
            return (true, Ok(Vec::new()));
        }
        runs_after_all(Step::Tests);
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
        keep_key(Step::Tests);
        // Coverage reads what the test run left: it runs after it, even when tests failed
        // (the CI's next step would too); not when they could not run or were cancelled.
        let after = if gates.is_cancelled() || hit(Step::Checks).is_some() {
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
        if let (Some(cached), Some(key)) = (hit(Step::Lint), keys.key(Step::Lint)) {
            replay(context, recorder, Step::Lint, cached, key);
            return true;
        }
        runs_after_all(Step::Lint);
        let result = checks::run_lint(root, settings, &env, gates, &sink).await;
        keep_key(Step::Lint);
        match result {
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
        if let (Some(cached), Some(key)) = (hit(Step::Checks), keys.key(Step::Checks)) {
            return Ok(replay(context, recorder, Step::Checks, cached, key));
        }
        runs_after_all(Step::Checks);
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
        let (state, summary) = match hit(Step::Checks) {
            Some(cached) => (StepState::Passed, cache::cached_summary(cached)),
            None => {
                keep_key(Step::Checks);
                gates_verdict(&reports, problem, plan.gates.len(), gates.is_cancelled())
            }
        };
        others_passed = state == StepState::Passed;
        recorder.step(Step::Checks, state, Some(summary));
        if !others_passed && fail_fast {
            gates.cancel();
        }
    }
    tests_passed && lint_passed && others_passed
}

/// The Checks step's state and summary from its gates: the first failure named, else a
/// count. It passed only when each of the `expected` gates reported a pass: a gate that was
/// cancelled or never reported (coverage after tests that were stopped) is no pass, and so
/// is never reused by the gate cache.
fn gates_verdict(
    reports: &[checks::GateReport],
    problem: Option<String>,
    expected: usize,
    cancelled: bool,
) -> (StepState, String) {
    if let Some(problem) = problem {
        return (StepState::Failed, format!("Checks failed: {problem}"));
    }
    if let Some(failed) = reports
        .iter()
        .find(|report| matches!(report.outcome, CheckOutcome::Failed | CheckOutcome::CouldNotRun))
    {
        return (
            StepState::Failed,
            format!("{} failed: {}", failed.kind.label(), failed.message),
        );
    }
    let missing = expected.saturating_sub(reports.len());
    if reports.iter().any(|report| report.outcome == CheckOutcome::Cancelled) || (missing > 0 && cancelled) {
        return (StepState::Canceled, "Cancelled.".to_owned());
    }
    if let Some(skipped) = reports.iter().find(|report| report.outcome == CheckOutcome::Skipped) {
        return (
            StepState::Skipped,
            format!("{} not run: {}", skipped.kind.label(), skipped.message),
        );
    }
    if missing > 0 {
        return (StepState::Skipped, format!("{missing} check(s) did not run."));
    }
    (
        StepState::Passed,
        reports
            .iter()
            .map(|report| format!("{}: {}", report.tool, report.message))
            .collect::<Vec<_>>()
            .join("; "),
    )
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
pub(super) async fn build_gate(
    engine: &bollard::Docker,
    root: &Path,
    settings: &ProjectSettings,
    tags: Vec<ImageReference>,
    recorder: &Recorder,
    gates: &CancellationToken,
    fail_fast: bool,
) -> Option<String> {
    recorder.step(Step::Build, StepState::Running, None);
    // The plan refused both already; a settings file changed since is caught here.
    let request = match super::image::build_request(root, settings, tags) {
        Ok(request) => request,
        Err(error) => {
            recorder.fail_with(Step::Build, StepState::Failed, "", error);
            if fail_fast {
                gates.cancel();
            }
            return None;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::GateKind;

    fn report(id: &str, outcome: CheckOutcome) -> checks::GateReport {
        checks::GateReport {
            id: id.to_owned(),
            kind: GateKind::Coverage,
            tool: "coverage".to_owned(),
            command: "coverage report --fail-under=80".to_owned(),
            outcome,
            message: "coverage 88 %".to_owned(),
            findings: Vec::new(),
            exit_code: Some(0),
            duration_ms: 10,
        }
    }

    #[test]
    fn the_checks_pass_only_when_every_gate_reported_a_pass() {
        let passed = [report("coverage", CheckOutcome::Passed)];
        assert_eq!(gates_verdict(&passed, None, 1, false).0, StepState::Passed);
        // A lint failure cancelled the rest after every check had passed: they passed.
        assert_eq!(gates_verdict(&passed, None, 1, true).0, StepState::Passed);
        // The build failed and stopped the tests: coverage never reported.
        assert_eq!(
            gates_verdict(&[], None, 1, true),
            (StepState::Canceled, "Cancelled.".to_owned())
        );
        assert_eq!(gates_verdict(&[], None, 1, false).0, StepState::Skipped);
        let skipped = [report("coverage", CheckOutcome::Skipped)];
        assert_eq!(gates_verdict(&skipped, None, 1, false).0, StepState::Skipped);
        let failed = [report("coverage", CheckOutcome::Failed)];
        assert_eq!(gates_verdict(&failed, None, 1, true).0, StepState::Failed);
        assert_eq!(
            gates_verdict(&passed, Some("no Python".to_owned()), 1, false).0,
            StepState::Failed
        );
    }
}
