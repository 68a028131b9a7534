//! The gates: tests, lint and the other checks (once the Python environment is ready)
//! beside the image build. A failure stops the others unless the settings ask to finish all.
//! The checks run through their one door (`checks::check`), as in the window and the CLI; what
//! is the release's own (its steps, the gate cache, the ledger) hooks into it here.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

use super::cache::{self, GateKeys};
use super::recorder::Recorder;
use super::Context;
use super::{CachedGate, Plan, ReleaseEvent, Scanned, Step};
use crate::checks::{
    self, CheckEvent, CheckKind, CheckOutcome, ChecksError, ChecksHooks, ChecksInput, EventSink, GateReport,
    LintReport, Part, PreparedEnv, Reused, Scope, TestReport,
};
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
fn replay(context: &Context, recorder: &Recorder, step: Step, hit: &CachedGate, key: &str) {
    match context.ledger.results(&hit.from_release) {
        Ok(results) => {
            for result in results.into_iter().filter(|result| result.step == step.as_str()) {
                let event = match step {
                    Step::Tests => serde_json::from_value(result.report).map(|report| ReleaseEvent::Tests { report }),
                    Step::Lint => serde_json::from_value(result.report).map(|report| ReleaseEvent::Lint { report }),
                    _ => serde_json::from_value(result.report).map(|report| ReleaseEvent::Gate { report }),
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
}

/// The release's side of the checks, which run through their one door (`checks::check`) as in
/// the window and the CLI: each part's step marked as it starts and ends, its reports in the
/// ledger, a gate that passed before on the very same inputs shown as that pass and not run,
/// and, unless the settings ask to finish all, the other gates stopped on a failure.
struct ReleaseHooks<'a> {
    context: &'a Context,
    root: &'a Path,
    plan: &'a Plan,
    settings: &'a ProjectSettings,
    recorder: &'a Recorder,
    gates: &'a CancellationToken,
    fail_fast: bool,
    use_cache: bool,
    /// The gates' cache keys, taken once the environment is ready.
    keys: OnceLock<GateKeys>,
}

impl ReleaseHooks<'_> {
    /// The plan showed `step` as cached: it is not shown running while the environment is
    /// checked, and runs (and says so then) only if the environment turned out to have changed.
    fn planned_cached(&self, step: Step) -> bool {
        self.use_cache
            && self
                .plan
                .steps
                .iter()
                .any(|planned| planned.step == step && planned.cached.is_some())
    }

    /// The earlier pass `step` reuses, when it does.
    fn hit(&self, step: Step) -> Option<&CachedGate> {
        self.keys.get().filter(|_| self.use_cache)?.hit(step)
    }

    fn keep_key(&self, step: Step) {
        if let Some(key) = self.keys.get().and_then(|keys| keys.key(step)) {
            self.recorder.keep_cache_key(step, key, None);
        }
    }

    fn finish(&self, step: Step, state: StepState, summary: String) {
        finish_gate(self.recorder, step, state, summary, self.gates, self.fail_fast);
    }
}

impl ChecksHooks for ReleaseHooks<'_> {
    async fn ready(&self, env: &PreparedEnv) -> Reused {
        // The keys are taken before anything runs: the tests may write files into the tree.
        // The tree is looked at again (the plan's fingerprint is reused when nothing changed).
        let root = self.root.to_path_buf();
        let tree = tokio::task::spawn_blocking(move || crate::project::tree_digest(&root))
            .await
            .ok()
            .flatten();
        let keys = cache::gate_keys(
            self.context,
            self.root,
            tree,
            self.settings,
            env.venv.clone(),
            env.secrets.clone(),
        )
        .await;
        let keys = self.keys.get_or_init(|| keys);
        let mut reused = Reused::default();
        let parts = [
            (Step::Tests, true, &mut reused.tests),
            (Step::Lint, self.settings.lint_enabled, &mut reused.lint),
            (Step::Checks, !self.plan.gates.is_empty(), &mut reused.gates),
        ];
        for (step, runs, reuse) in parts {
            if let (true, Some(cached), Some(key)) = (runs, self.hit(step), keys.key(step)) {
                replay(self.context, self.recorder, step, cached, key);
                *reuse = true;
            }
        }
        reused
    }

    fn starting(&self, part: Part) {
        let step = match part {
            Part::Tests => Step::Tests,
            Part::Lint => Step::Lint,
            Part::Gates => Step::Checks,
        };
        if self.planned_cached(step) {
            self.recorder.step(step, StepState::Running, None);
        }
    }

    fn tests_done(&self, result: &Result<TestReport, ChecksError>) {
        match result {
            Ok(report) => {
                let summary = report.problem.clone().unwrap_or_else(|| report.counts.to_string());
                self.recorder.event(ReleaseEvent::Tests { report: report.clone() });
                self.finish(Step::Tests, check_state(report.outcome), summary);
            }
            Err(error) => self.finish(Step::Tests, StepState::Failed, self.recorder.remember(error.into())),
        }
        self.keep_key(Step::Tests);
    }

    fn lint_done(&self, result: &Result<LintReport, ChecksError>) {
        self.keep_key(Step::Lint);
        match result {
            Ok(report) => {
                let summary = report.problem.clone().unwrap_or_else(|| match report.violations.len() {
                    1 => "1 violation".to_owned(),
                    count => format!("{count} violations"),
                });
                self.recorder.event(ReleaseEvent::Lint { report: report.clone() });
                self.finish(Step::Lint, check_state(report.outcome), summary);
            }
            Err(error) => self.finish(Step::Lint, StepState::Failed, self.recorder.remember(error.into())),
        }
    }

    fn gate_done(&self, report: &GateReport) {
        self.recorder.event(ReleaseEvent::Gate { report: report.clone() });
        if self.fail_fast && matches!(report.outcome, CheckOutcome::Failed | CheckOutcome::CouldNotRun) {
            self.gates.cancel();
        }
    }
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
    let hooks = ReleaseHooks {
        context,
        root,
        plan,
        settings,
        recorder,
        gates,
        fail_fast,
        use_cache,
        keys: OnceLock::new(),
    };
    let running = |step: Step| {
        if !hooks.planned_cached(step) {
            recorder.step(step, StepState::Running, None);
        }
    };
    running(Step::Tests);
    if settings.lint_enabled {
        running(Step::Lint);
    } else {
        recorder.step(
            Step::Lint,
            StepState::Skipped,
            plan.skip_reason(Step::Lint).map(str::to_owned),
        );
    }
    if has_gates {
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
        // The reports go to the ledger and the caller through the hooks.
        CheckEvent::Finished { .. } | CheckEvent::GateFinished { .. } => {}
    });
    let input = ChecksInput {
        root: root.to_path_buf(),
        settings: settings.clone(),
        python: scanned.python.clone(),
        needs: scanned.needs.clone(),
        services: scanned.services.clone(),
    };
    let done = match checks::check(&input, &context.data_dir, Scope::Everything, gates, &sink, &hooks).await {
        Ok(done) => done,
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
    if !done.changed_files.is_empty() {
        recorder.log(
            Step::Tests,
            &format!(
                "The checks changed files in the project: {}. Your tests write them; the next plan shows them as uncommitted changes.",
                done.changed_files.join(", ")
            ),
        );
    }
    // A part not run was reused (or lint is turned off): it passed.
    let passed = |state: Option<StepState>| state.is_none_or(|state| state == StepState::Passed);
    let tests_passed = passed(done.tests.as_ref().map(|result| match result {
        Ok(report) => check_state(report.outcome),
        Err(_) => StepState::Failed,
    }));
    let lint_passed = passed(done.lint.as_ref().map(|result| match result {
        Ok(report) => check_state(report.outcome),
        Err(_) => StepState::Failed,
    }));
    let mut others_passed = true;
    if has_gates {
        let (state, summary) = match hooks.hit(Step::Checks) {
            Some(cached) => (StepState::Passed, cache::cached_summary(cached)),
            None => {
                hooks.keep_key(Step::Checks);
                let (reports, problem) = match done.gates {
                    Some(Ok(reports)) => (reports, None),
                    Some(Err(error)) => (Vec::new(), Some(recorder.remember(AppError::from(error)))),
                    None => (Vec::new(), None),
                };
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
    reports: &[GateReport],
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
        let checks = if missing == 1 { "check" } else { "checks" };
        return (StepState::Skipped, format!("{missing} {checks} did not run."));
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
#[allow(
    clippy::too_many_arguments,
    reason = "the build's inputs, each from a different owner"
)]
pub(super) async fn build_gate(
    engine: &bollard::Docker,
    data_dir: &Path,
    root: &Path,
    settings: &ProjectSettings,
    tags: Vec<ImageReference>,
    recorder: &Recorder,
    gates: &CancellationToken,
    fail_fast: bool,
) -> Option<String> {
    recorder.step(Step::Build, StepState::Running, None);
    // The plan refused both already; a settings file changed since is caught here.
    let request = match super::image::build_request(data_dir, root, settings, tags).await {
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
