//! Running the project's test and lint commands and its other gates, each on its own, and
//! turning what they did into reports. Running them together is the door's (`door`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::gate_verdict::{self, GateReport};
use super::process::{supervise, ProcessOutcome, ProcessSpec, Stream};
use super::pyenv::PreparedEnv;
use super::{
    lint, now_ms, pytest, CheckEvent, CheckKind, CheckOutcome, ChecksError, EventSink, LintReport, TestReport,
};
use crate::project::{flake8_excludes, Gate, LintTool, ProjectSettings};

/// flake8's own default excludes, kept when Slipway adds one (`--exclude` replaces them).
const FLAKE8_DEFAULT_EXCLUDES: &str = ".svn,CVS,.bzr,.hg,.git,__pycache__,.tox,.nox,.eggs,*.egg";

pub(crate) fn environment(root: &Path, settings: &ProjectSettings, env: &PreparedEnv) -> Vec<(String, String)> {
    // Tests that use the engine (testcontainers) are why a project turns its sandbox off.
    let mut variables = if settings.sandbox_enabled() {
        Vec::new()
    } else {
        super::environment::docker(std::env::vars_os())
    };
    // The CI's runner (`pipenv run`) loads the project's `.env` before the tests; Slipway runs
    // them without it, so it gives those values itself, under the project's own settings.
    variables.extend(crate::project::runner_dotenv(root));
    variables.extend(ci_runner_values(root));
    variables.extend(settings.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    // Secret values go from the keyring into the checks' processes and nowhere else.
    variables.extend(
        env.secrets
            .iter()
            .map(|(name, value)| (name.clone(), value.expose().to_owned())),
    );
    variables.extend(env.activation());
    // The project itself is never installed into the environment: a `src/` layout is put on
    // the path instead, as an editable install would.
    if root.join("src").is_dir() && root.join("pyproject.toml").is_file() && !settings.env.contains_key("PYTHONPATH") {
        variables.push(("PYTHONPATH".to_owned(), root.join("src").display().to_string()));
    }
    variables
}

/// The values every run of the project's CI has without its files saying so (`CI=true`,
/// `GITHUB_ACTIONS=true`, `CIRCLECI=true`): settings often choose their module by them
/// (`if os.environ.get("CI"): from .ci_settings import *`). The project's settings win.
fn ci_runner_values(root: &Path) -> Vec<(String, String)> {
    let github = root.join(".github/workflows").is_dir();
    let circleci = root.join(".circleci").is_dir();
    [
        ("CI", github || circleci),
        ("GITHUB_ACTIONS", github),
        ("CIRCLECI", circleci),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(name, _)| (name.to_owned(), "true".to_owned()))
    .collect()
}

/// The project's `command`, run through the shell in its folder and in its sandbox.
pub(super) fn project_command(
    command: &str,
    root: &Path,
    variables: Vec<(String, String)>,
    env: &PreparedEnv,
    timeout: Duration,
) -> ProcessSpec {
    ProcessSpec::shell(command, root.to_path_buf(), variables, timeout).in_sandbox(env.sandbox.clone())
}

async fn run_command(
    check: CheckKind,
    command: &str,
    spec: ProcessSpec,
    cancel: &CancellationToken,
    sink: &EventSink,
) -> Result<ProcessOutcome, ChecksError> {
    sink(CheckEvent::Started {
        check,
        command: command.to_owned(),
    });
    let forward = sink.clone();
    Ok(supervise(&spec, cancel, &mut |stream, line| {
        forward(CheckEvent::Output {
            check: Some(check),
            stream,
            line: line.to_owned(),
            at_ms: now_ms(),
        })
    })
    .await?)
}

/// Runs the project's test command and reads its result.
pub async fn run_tests(
    root: &Path,
    settings: &ProjectSettings,
    env: &PreparedEnv,
    cancel: &CancellationToken,
    sink: &EventSink,
) -> Result<TestReport, ChecksError> {
    // In the data folder, named after this process: what a killed Slipway leaves there is
    // removed at the next start (`process::look_after_children`).
    let reports = env.scratch.join("reports");
    std::fs::create_dir_all(&reports).map_err(|error| ChecksError::TempFile(error.to_string()))?;
    let report_dir = tempfile::Builder::new()
        .prefix(&format!("{}-", std::process::id()))
        .tempdir_in(&reports)
        .map_err(|error| ChecksError::TempFile(error.to_string()))?;
    let junit = report_dir.path().join("junit.xml");
    let mut variables = environment(root, settings, env);
    // Asked through the environment so the project's own command line stays untouched.
    let addopts = settings.env.get("PYTEST_ADDOPTS").cloned().unwrap_or_default();
    // pytest's cache goes to the scratch folder, not `.pytest_cache` in the project.
    let cache = env.scratch.join("pytest-cache");
    variables.push((
        "PYTEST_ADDOPTS".to_owned(),
        format!(
            "{addopts} --junitxml={} -o cache_dir={}",
            junit.display(),
            shlex::try_quote(&cache.display().to_string()).unwrap_or_default()
        )
        .trim()
        .to_owned(),
    ));
    let timeout = Duration::from_secs(u64::from(settings.check_timeout_secs));
    let spec = project_command(&settings.test_command, root, variables, env, timeout);
    // pytest's "generated xml file: …/junit.xml" names Slipway's own report, not the project.
    let report_path = junit.display().to_string();
    let forward = sink.clone();
    let quiet: EventSink = Arc::new(move |event| match &event {
        CheckEvent::Output { line, .. } if line.contains(&report_path) => {}
        _ => forward(event),
    });
    let outcome = run_command(CheckKind::Tests, &settings.test_command, spec, cancel, &quiet).await?;
    let mut report = if outcome.cancelled {
        cancelled_tests()
    } else if outcome.timed_out {
        let mut report = pytest::interpret(None, None, &outcome.stdout, &outcome.stderr);
        report.problem = Some(format!(
            "The tests did not finish within {} s and were stopped.",
            timeout.as_secs()
        ));
        report
    } else {
        let parsed = std::fs::read_to_string(&junit)
            .ok()
            .map(|xml| pytest::parse_junit(&xml));
        pytest::interpret(outcome.code, parsed, &outcome.stdout, &outcome.stderr)
    };
    report.duration_ms = u64::try_from(outcome.elapsed.as_millis()).unwrap_or(u64::MAX);
    sink(CheckEvent::Finished {
        check: CheckKind::Tests,
        outcome: report.outcome,
    });
    Ok(report)
}

fn cancelled_tests() -> TestReport {
    TestReport {
        outcome: CheckOutcome::Cancelled,
        counts: Default::default(),
        failures: Vec::new(),
        summary_line: None,
        exit_code: None,
        problem: Some("Cancelled.".to_owned()),
        duration_ms: 0,
    }
}

/// The lint command as Slipway runs it: the project's, plus the output format Slipway reads
/// and, when the virtualenv sits inside the project, an exclude for it.
pub fn lint_command(root: &Path, settings: &ProjectSettings, env: &PreparedEnv) -> String {
    let mut command = settings.lint_command.trim().to_owned();
    let last = command.rsplit("&&").next().unwrap_or_default().trim().to_owned();
    match settings.lint_tool {
        LintTool::Flake8 if last.starts_with("flake8") || last.contains("-m flake8") => {
            if !command.contains("--format") {
                command.push_str(" --format=default");
            }
            // flake8 reads its configuration where it runs: a `cd project && flake8` reads
            // project/setup.cfg, whose excludes `--exclude` would replace.
            let folder = match command.strip_prefix("cd ").and_then(|rest| rest.split_once(" && ")) {
                Some((dir, _)) => root.join(
                    shlex::split(dir)
                        .and_then(|words| words.into_iter().next())
                        .unwrap_or_default(),
                ),
                None => root.to_path_buf(),
            };
            if let Ok(inside) = env.venv.strip_prefix(&folder) {
                let venv_dir = inside.display().to_string();
                let mut excludes = flake8_excludes(&folder);
                if !command.contains("--exclude") && !excludes.contains(&venv_dir) {
                    excludes.push(venv_dir);
                    let list = format!("{FLAKE8_DEFAULT_EXCLUDES},{}", excludes.join(","));
                    command.push_str(&format!(" --exclude={}", shlex::try_quote(&list).unwrap_or_default()));
                }
            }
        }
        LintTool::Ruff
            if (last.starts_with("ruff") || last.contains("-m ruff")) && !command.contains("output-format") =>
        {
            command.push_str(" --output-format json");
        }
        _ => {}
    }
    command
}

/// Runs the project's lint command and reads its result.
pub async fn run_lint(
    root: &Path,
    settings: &ProjectSettings,
    env: &PreparedEnv,
    cancel: &CancellationToken,
    sink: &EventSink,
) -> Result<LintReport, ChecksError> {
    let command = lint_command(root, settings, env);
    let timeout = Duration::from_secs(u64::from(settings.check_timeout_secs));
    let spec = project_command(&command, root, environment(root, settings, env), env, timeout);
    // ruff's JSON is for Slipway to read, not for the person: the log gets one line per
    // violation instead, as flake8 prints them.
    let json_output = settings.lint_tool == LintTool::Ruff
        && (command.contains("--output-format json") || command.contains("--output-format=json"));
    let forward = sink.clone();
    let shown: EventSink = Arc::new(move |event| match &event {
        CheckEvent::Output {
            stream: Stream::Stdout, ..
        } if json_output => {}
        _ => forward(event),
    });
    let outcome = run_command(CheckKind::Lint, &command, spec, cancel, &shown).await?;
    let mut report = if outcome.cancelled {
        LintReport {
            tool: settings.lint_tool,
            outcome: CheckOutcome::Cancelled,
            violations: Vec::new(),
            problem: Some("Cancelled.".to_owned()),
            exit_code: None,
            duration_ms: 0,
        }
    } else {
        let code = if outcome.timed_out { None } else { outcome.code };
        let mut report = lint::interpret(
            settings.lint_tool,
            &command,
            code,
            &outcome.stdout,
            &outcome.stderr,
            &root.display().to_string(),
        );
        if outcome.timed_out {
            report.problem = Some(format!(
                "Lint did not finish within {} s and was stopped.",
                timeout.as_secs()
            ));
        }
        if settings.lint_tool == LintTool::Ruff {
            super::rules::explain_with_ruff(&env.bin_dir().join("ruff"), &mut report.violations).await;
        }
        if json_output {
            let say = |line: String| {
                sink(CheckEvent::Output {
                    check: Some(CheckKind::Lint),
                    stream: Stream::Stdout,
                    line,
                    at_ms: now_ms(),
                })
            };
            if report.outcome == CheckOutcome::CouldNotRun {
                outcome.stdout.iter().for_each(|line| say(line.clone()));
            }
            for violation in &report.violations {
                say(format!(
                    "{}:{}:{}: {} {}",
                    violation.path, violation.line, violation.column, violation.code, violation.message
                ));
            }
        }
        report
    };
    report.duration_ms = u64::try_from(outcome.elapsed.as_millis()).unwrap_or(u64::MAX);
    sink(CheckEvent::Finished {
        check: CheckKind::Lint,
        outcome: report.outcome,
    });
    Ok(report)
}

/// Runs one gate in the project's environment. Its report is sent as `GateFinished` by the
/// door, once the missing values are named in it.
pub(super) async fn run_gate(
    root: &Path,
    gate: &Gate,
    settings: &ProjectSettings,
    env: &PreparedEnv,
    cancel: &CancellationToken,
    sink: &EventSink,
) -> Result<GateReport, ChecksError> {
    sink(CheckEvent::GateStarted {
        id: gate.id.clone(),
        command: gate.command.clone(),
    });
    let mut variables = environment(root, settings, env);
    variables.extend(gate.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let timeout = Duration::from_secs(u64::from(settings.check_timeout_secs));
    let spec = project_command(&gate.command, root, variables, env, timeout);
    let forward = sink.clone();
    let id = gate.id.clone();
    let outcome = supervise(&spec, cancel, &mut |stream, line| {
        forward(CheckEvent::GateOutput {
            id: id.clone(),
            stream,
            line: line.to_owned(),
            at_ms: now_ms(),
        })
    })
    .await?;
    let mut report = if outcome.cancelled {
        gate_verdict::verdict(gate, None, CheckOutcome::Cancelled, "Cancelled.".to_owned(), Vec::new())
    } else if outcome.timed_out {
        gate_verdict::verdict(
            gate,
            None,
            CheckOutcome::CouldNotRun,
            format!(
                "{} did not finish within {} s and was stopped.",
                gate.kind.label(),
                timeout.as_secs()
            ),
            Vec::new(),
        )
    } else {
        gate_verdict::interpret(gate, outcome.code, &outcome.stdout, &outcome.stderr)
    };
    report.duration_ms = u64::try_from(outcome.elapsed.as_millis()).unwrap_or(u64::MAX);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn the_checks_get_the_values_every_ci_run_has() -> std::io::Result<()> {
        let root = tempfile::tempdir()?;
        assert!(ci_runner_values(root.path()).is_empty(), "no CI, no CI values");
        std::fs::create_dir_all(root.path().join(".github/workflows"))?;
        let names: Vec<String> = ci_runner_values(root.path())
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(names, ["CI", "GITHUB_ACTIONS"]);
        std::fs::create_dir_all(root.path().join(".circleci"))?;
        assert_eq!(ci_runner_values(root.path()).len(), 3);
        Ok(())
    }

    fn settings(tool: LintTool, command: &str) -> ProjectSettings {
        ProjectSettings {
            check_timeout_secs: 60,
            ..ProjectSettings::with_commands("pytest", tool, command)
        }
    }

    #[test]
    fn an_in_tree_venv_is_excluded_keeping_flake8_defaults_and_config() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("setup.cfg"), "[flake8]\nexclude = migrations\n")?;
        let env = PreparedEnv {
            venv: dir.path().join(".venv"),
            managed: false,
            scratch: dir.path().join("scratch"),
            secrets: Vec::new(),
            sandbox: None,
        };
        let command = lint_command(dir.path(), &settings(LintTool::Flake8, "flake8"), &env);
        // Quoted for the shell: the defaults hold a `*`.
        assert_eq!(
            command,
            format!("flake8 --format=default --exclude='{FLAKE8_DEFAULT_EXCLUDES},migrations,.venv'")
        );
        Ok(())
    }

    #[test]
    fn flake8_in_a_subfolder_keeps_that_folders_excludes() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("setup.cfg"), "[flake8]\nexclude = top_only\n")?;
        std::fs::create_dir_all(dir.path().join("project"))?;
        std::fs::write(dir.path().join("project/setup.cfg"), "[flake8]\nexclude = migrations\n")?;
        let env = PreparedEnv {
            venv: dir.path().join("project/.venv"),
            managed: false,
            scratch: dir.path().join("scratch"),
            secrets: Vec::new(),
            sandbox: None,
        };
        let command = lint_command(dir.path(), &settings(LintTool::Flake8, "cd project && flake8 ."), &env);
        assert_eq!(
            command,
            format!("cd project && flake8 . --format=default --exclude='{FLAKE8_DEFAULT_EXCLUDES},migrations,.venv'")
        );
        Ok(())
    }

    #[test]
    fn a_venv_outside_the_tree_adds_no_exclude_and_ruff_gets_json() {
        let env = PreparedEnv {
            venv: PathBuf::from("/data/venvs/x"),
            managed: true,
            scratch: PathBuf::from("/data/scratch/x"),
            secrets: Vec::new(),
            sandbox: None,
        };
        let root = Path::new("/p");
        assert_eq!(
            lint_command(root, &settings(LintTool::Flake8, "flake8 ."), &env),
            "flake8 . --format=default"
        );
        assert_eq!(
            lint_command(root, &settings(LintTool::Ruff, "ruff check ."), &env),
            "ruff check . --output-format json"
        );
    }
}
