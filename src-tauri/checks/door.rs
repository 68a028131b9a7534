//! The one door to the checks. The window's Run checks, `slipway check` and a release's gates
//! all run a project's checks through [`check`], so they prepare the same environment, run the
//! same parts at the same time, and say the same in each report: a check that could not start
//! for want of a value nothing gives names it there, whichever door it came through.
//!
//! How to use it: read the project with [`ChecksInput::read`] (a release passes what its plan
//! read), say what to run with a [`Scope`], and call [`check`] with a sink for the events. It
//! returns every part's result ([`ChecksDone`]); [`ChecksDone::summary`] makes them the one
//! summary `slipway check` prints. A caller that does more than show the events (a release
//! marks its steps, reuses earlier passes and stops the other gates on a failure) passes
//! [`ChecksHooks`]; the window and the CLI pass [`NoHooks`].
//!
//! Why hooks and not a runner of the release's own: what runs, in which order, and what each
//! report says must be what the window and the CLI show for the same tree; only what happens
//! around the runs (the steps, the cache, the ledger) is the release's.

use std::future::Future;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::gate_verdict::{skipped_after_tests, GateReport};
use super::pyenv::{prepare_env, PreparedEnv};
use super::run::{run_gate, run_lint, run_tests};
use super::services::{ServiceProblem, Services};
use super::{CheckEvent, CheckOutcome, ChecksError, EventSink, LintReport, TestReport};
use crate::project::{self, NeededValue, ProjectError, ProjectSettings, PythonEnv, ServiceSpec};

/// A project as its checks see it: its folder, its settings, the Python environment it asks
/// for, and the values its checks need that nothing gives.
#[derive(Debug, Clone)]
pub struct ChecksInput {
    pub root: PathBuf,
    pub settings: ProjectSettings,
    pub python: PythonEnv,
    /// Named in the report of each check that could not start.
    pub needs: Vec<NeededValue>,
    /// The services the CI starts for the tests: started before them, removed after.
    pub services: Vec<ServiceSpec>,
}

impl ChecksInput {
    /// The project in the folder `root` with its saved settings, or the ones detection
    /// proposes when none were saved.
    pub fn read(data_dir: &Path, root: &Path) -> Result<Self, ProjectError> {
        let detection = project::detect(root);
        let (settings, _) = project::settings_or_detected(data_dir, root, &detection)?;
        Ok(Self {
            needs: project::needed_values(&detection, &settings),
            services: detection.services,
            python: detection.python,
            settings,
            root: root.to_path_buf(),
        })
    }
}

/// What a run of the checks does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The tests, lint (when the settings turn it on) and every gate the settings turn on.
    Everything,
    /// The tests alone (not even the gates that read them).
    Tests,
    /// Lint alone, even when the settings turn it off: it was asked for by name.
    Lint,
}

/// One part of a run, as [`ChecksHooks::starting`] names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Tests,
    Lint,
    /// The gates beside tests and lint, those that read the tests' results included.
    Gates,
}

/// The parts a caller already has a result for, which are not run again. Reused tests take
/// the gates that read them (coverage) with them: those were kept with the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reused {
    pub tests: bool,
    pub lint: bool,
    pub gates: bool,
}

/// What a caller does while the checks run, beyond showing their events. Each method does
/// nothing unless the caller says otherwise.
pub trait ChecksHooks: Sync {
    /// The environment is ready and nothing has run yet: the parts not to run, because the
    /// caller reuses an earlier result of theirs (a release's gate cache).
    fn ready(&self, env: &PreparedEnv) -> impl Future<Output = Reused> + Send {
        let _ = env;
        std::future::ready(Reused::default())
    }

    /// `part` is about to run.
    fn starting(&self, part: Part) {
        let _ = part;
    }

    /// The tests finished, with their report (the missing values named), or could not be
    /// started at all.
    fn tests_done(&self, result: &Result<TestReport, ChecksError>) {
        let _ = result;
    }

    /// Lint finished, or could not be started at all.
    fn lint_done(&self, result: &Result<LintReport, ChecksError>) {
        let _ = result;
    }

    /// One gate finished, or was not run because the tests it reads did not run.
    fn gate_done(&self, report: &GateReport) {
        let _ = report;
    }
}

/// The hooks of a caller that only shows the events.
pub struct NoHooks;

impl ChecksHooks for NoHooks {}

/// What one run of the checks found, part by part. A part not run (not in the scope, turned
/// off, or reused) is `None`; a part that could not be started at all is its error.
#[derive(Debug)]
pub struct ChecksDone {
    pub tests: Option<Result<TestReport, ChecksError>>,
    pub lint: Option<Result<LintReport, ChecksError>>,
    /// In the settings' order, whatever order they finished in.
    pub gates: Option<Result<Vec<GateReport>, ChecksError>>,
    /// The files the checks changed in the project: dirty now and not before.
    pub changed_files: Vec<String>,
}

/// Every report of a `check` run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChecksSummary {
    pub tests: TestReport,
    /// `None` when lint is turned off in the project's settings.
    pub lint: Option<LintReport>,
    /// The other gates, in the settings' order.
    pub gates: Vec<GateReport>,
    /// The files the checks changed in the project.
    pub changed_files: Vec<String>,
}

impl ChecksDone {
    /// One summary of every part, or the first error of a part that could not be started:
    /// for a caller that shows one or the other. Tests that did not run (outside the scope)
    /// are shown as not run.
    pub fn summary(self) -> Result<ChecksSummary, ChecksError> {
        Ok(ChecksSummary {
            tests: self.tests.transpose()?.unwrap_or_else(TestReport::not_run),
            lint: self.lint.transpose()?,
            gates: self.gates.transpose()?.unwrap_or_default(),
            changed_files: self.changed_files,
        })
    }
}

impl ChecksSummary {
    /// `error` when any could not run, `failed` when any failed, else `passed`.
    pub fn outcome(&self) -> CheckOutcome {
        let outcomes: Vec<CheckOutcome> = std::iter::once(self.tests.outcome)
            .chain(self.lint.iter().map(|lint| lint.outcome))
            .chain(self.gates.iter().map(|gate| gate.outcome))
            .filter(|outcome| *outcome != CheckOutcome::Skipped)
            .collect();
        if outcomes.contains(&CheckOutcome::Cancelled) {
            CheckOutcome::Cancelled
        } else if outcomes.contains(&CheckOutcome::CouldNotRun) {
            CheckOutcome::CouldNotRun
        } else if outcomes.contains(&CheckOutcome::Failed) {
            CheckOutcome::Failed
        } else {
            CheckOutcome::Passed
        }
    }
}

/// Prepares the project's Python environment and runs the checks `scope` names, all at once:
/// the tests (then the gates that read what they left), lint, and the other gates. Every event
/// goes to `sink`; cancelling `cancel` ends every process they started. An error means the
/// environment could not be prepared and nothing ran.
pub async fn check(
    input: &ChecksInput,
    data_dir: &Path,
    scope: Scope,
    cancel: &CancellationToken,
    sink: &EventSink,
    hooks: &impl ChecksHooks,
) -> Result<ChecksDone, ChecksError> {
    let root = input.root.as_path();
    let settings = &input.settings;
    // The services start while the environment is made: both take seconds. What git says
    // is dirty before is read meanwhile too: nothing waits for it.
    let services_wanted = scope != Scope::Lint && !input.services.is_empty();
    let (before, env, services) = tokio::join!(
        dirty_files(root),
        prepare_env(root, &input.python, settings, data_dir, cancel, sink),
        async {
            if services_wanted {
                Some(Services::start(&input.services, cancel, sink).await)
            } else {
                None
            }
        }
    );
    let (services, services_problem) = match services {
        Some(Ok(services)) => (Some(services), None),
        Some(Err(problem)) => (None, Some(problem)),
        None => (None, None),
    };
    let env = match env {
        Ok(env) => env,
        Err(error) => {
            if let Some(services) = services {
                services.stop().await;
            }
            return Err(error);
        }
    };
    let reused = hooks.ready(&env).await;
    let tests_wanted = scope != Scope::Lint && !reused.tests;
    let lint_wanted = match scope {
        Scope::Everything => settings.lint_enabled,
        Scope::Lint => true,
        Scope::Tests => false,
    } && !reused.lint;
    let gates_wanted = scope == Scope::Everything && !reused.gates;
    // Both reused from an earlier run: nothing needs the services.
    let services = match services {
        Some(services) if !tests_wanted && !gates_wanted => {
            services.stop().await;
            None
        }
        services => services,
    };
    // The tests and gates reach the services where they answer here.
    let pointed = services.as_ref().map(|services| services.point(settings));
    let run = Run {
        root,
        settings: pointed.as_ref().unwrap_or(settings),
        env: &env,
        missing: project::needs_sentence(&input.needs),
        services: services.as_ref(),
        services_problem,
        cancel,
        sink,
        hooks,
    };

    let tests_then_after = async {
        if !tests_wanted {
            return (None, Vec::new());
        }
        let tests = run.tests().await;
        // Coverage reads what the test run left: it runs after it, even when tests failed (the
        // CI's next step would too); not when they could not run or the run was stopped.
        let ran = tests
            .as_ref()
            .is_ok_and(|report| matches!(report.outcome, CheckOutcome::Passed | CheckOutcome::Failed));
        let after = if !gates_wanted || cancel.is_cancelled() {
            Vec::new()
        } else if ran {
            run.gates(true).await
        } else {
            run.skipped_after_tests()
        };
        (Some(tests), after)
    };
    let lint = async {
        if lint_wanted {
            Some(run.lint().await)
        } else {
            None
        }
    };
    let beside = async {
        if !gates_wanted {
            return None;
        }
        hooks.starting(Part::Gates);
        Some(run.gates(false).await)
    };
    let ((tests, after), lint, beside) = tokio::join!(tests_then_after, lint, beside);
    drop(run);
    if let Some(services) = services {
        services.stop().await;
    }
    let gates = beside.map(|beside| {
        let mut reports = beside.into_iter().chain(after).collect::<Result<Vec<_>, _>>()?;
        // In the settings' order, whatever order they finished in.
        reports.sort_by_key(|report| settings.gates.iter().position(|gate| gate.id == report.id));
        Ok(reports)
    });
    Ok(ChecksDone {
        tests,
        lint,
        gates,
        changed_files: tree_changes(root, &before).await,
    })
}

/// What every part of one run shares.
struct Run<'a, H> {
    root: &'a Path,
    settings: &'a ProjectSettings,
    env: &'a PreparedEnv,
    /// The sentence that names the values the checks need and nothing gives.
    missing: Option<String>,
    /// The services the CI starts for the tests, running.
    services: Option<&'a Services>,
    /// Why the services could not be started: the tests do not run without them.
    services_problem: Option<ServiceProblem>,
    cancel: &'a CancellationToken,
    sink: &'a EventSink,
    hooks: &'a H,
}

impl<H: ChecksHooks> Run<'_, H> {
    async fn tests(&self) -> Result<TestReport, ChecksError> {
        self.hooks.starting(Part::Tests);
        let mut result = match &self.services_problem {
            Some(_) if self.cancel.is_cancelled() => Ok(TestReport {
                outcome: CheckOutcome::Cancelled,
                problem: None,
                ..TestReport::not_run()
            }),
            Some(problem) => Ok(TestReport::could_not_run(problem.clone())),
            None => run_tests(self.root, self.settings, self.env, self.cancel, self.sink).await,
        };
        if let (Ok(report), Some(services)) = (&mut result, self.services) {
            // A test that failed because its service went down is an error, never a failure.
            if report.outcome == CheckOutcome::Failed {
                if let Some(problem) = services.down().await {
                    report.outcome = CheckOutcome::CouldNotRun;
                    report.problem = Some(problem);
                } else if let Some(moved) = services.moved() {
                    // The failures may be a program of the person's on the CI's port.
                    report.problem.get_or_insert(moved);
                }
            }
        }
        if let Ok(report) = &mut result {
            report.name_missing_values(self.missing.clone());
        }
        self.hooks.tests_done(&result);
        result
    }

    async fn lint(&self) -> Result<LintReport, ChecksError> {
        self.hooks.starting(Part::Lint);
        let result = run_lint(self.root, self.settings, self.env, self.cancel, self.sink).await;
        self.hooks.lint_done(&result);
        result
    }

    /// The enabled gates that read the tests' results (`after_tests`) or the others, at once;
    /// each result in the settings' order.
    async fn gates(&self, after_tests: bool) -> Vec<Result<GateReport, ChecksError>> {
        let runs = self
            .settings
            .enabled_gates()
            .filter(|gate| gate.after_tests == after_tests)
            .map(|gate| async move {
                let report = run_gate(self.root, gate, self.settings, self.env, self.cancel, self.sink).await?;
                Ok(self.finished(report))
            });
        futures_util::future::join_all(runs).await
    }

    /// The gates that read the tests' results, not run because the tests did not run.
    fn skipped_after_tests(&self) -> Vec<Result<GateReport, ChecksError>> {
        skipped_after_tests(self.settings)
            .into_iter()
            .map(|report| Ok(self.finished(report)))
            .collect()
    }

    /// A gate's report as everyone sees it: the missing values named, then sent.
    fn finished(&self, mut report: GateReport) -> GateReport {
        report.name_missing_values(self.missing.clone());
        (self.sink)(CheckEvent::GateFinished { report: report.clone() });
        self.hooks.gate_done(&report);
        report
    }
}

async fn dirty_files(root: &Path) -> Vec<String> {
    project::git_details(root)
        .await
        .map(|git| git.dirty_files)
        .unwrap_or_default()
}

/// The files the checks changed in the project: dirty now and not before.
async fn tree_changes(root: &Path, before: &[String]) -> Vec<String> {
    dirty_files(root)
        .await
        .into_iter()
        .filter(|file| !before.contains(file))
        .collect()
}
