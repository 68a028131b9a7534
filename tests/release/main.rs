//! Whole releases of the example project: the real engine, the registry with a password, the
//! real keyring, real pytest and flake8; Render through its stand-in.

#[path = "../support/standin.rs"]
mod standin;
#[path = "../support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use slipway::history::{Ledger, Outcome, ReleaseRecord, StepState};
use slipway::pipeline::{self, Context, ReleaseEvent, ReleaseOptions, ReleaseSink, ReleaseSummary, Step, Target};
use slipway::project::{self, ProjectSettings};
use slipway::secrets::{Account, SecretStore, Service};
use slipway::settings::Settings;
use standin::{render_deploy_stand_in, DeployScript};
use support::{test_registry, TestResult};
use tokio_util::sync::CancellationToken;

/// One virtualenv with pytest and flake8 for every project of this binary, so each test
/// does not install its own.
fn shared_venv() -> Result<PathBuf, String> {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    VENV.get_or_init(|| {
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("release-venv");
        if !venv.join("bin/flake8").exists() {
            let run = |program: &Path, args: &[&str]| -> Result<(), String> {
                let status = std::process::Command::new(program)
                    .args(args)
                    .status()
                    .map_err(|error| error.to_string())?;
                status
                    .success()
                    .then_some(())
                    .ok_or(format!("{program:?} {args:?} failed"))
            };
            run(Path::new("python3"), &["-m", "venv", &venv.display().to_string()])?;
            run(
                &venv.join("bin/pip"),
                &["install", "-q", "-r", &format!("{}/requirements.txt", support::EXAMPLE)],
            )?;
        }
        Ok(venv)
    })
    .clone()
}

struct Fixture {
    _dirs: tempfile::TempDir,
    root: PathBuf,
    data: PathBuf,
    context: Context,
}

/// A copy of the example project in its own repository, with `change` applied before the
/// commit, a data folder, and the test registry's login in the keyring.
fn fixture(
    name: &str,
    change: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<Fixture, Box<dyn std::error::Error>> {
    let dirs = tempfile::tempdir()?;
    let root = support::example_project(dirs.path(), name, change)?;
    let data = dirs.path().join("data");
    std::fs::create_dir_all(&data)?;
    let registry = test_registry();
    support::save_registry_login(&data, &registry, &registry.password)?;
    let detection = project::detect(&root);
    let mut settings = ProjectSettings::from_detection(&detection);
    settings.venv = Some(shared_venv()?.display().to_string());
    settings.health_timeout_secs = Some(20);
    project::save_settings(&data, &root, &settings)?;
    let context = Context {
        data_dir: data.clone(),
        settings: Settings {
            local_registry: Some(registry.address.clone()),
            ..Settings::default()
        },
        ledger: Ledger::open(&data)?,
    };
    Ok(Fixture {
        _dirs: dirs,
        root,
        data,
        context,
    })
}

/// The example with one more test file, `tests/<file>`.
fn with_test_file(name: &str, file: &str, body: &str) -> Result<Fixture, Box<dyn std::error::Error>> {
    fixture(name, |root| std::fs::write(root.join("tests").join(file), body))
}

fn change_settings(fixture: &Fixture, change: impl FnOnce(&mut ProjectSettings)) -> TestResult {
    let mut settings = project::load_settings(&fixture.data, &fixture.root)?.ok_or("settings were saved")?;
    change(&mut settings);
    project::save_settings(&fixture.data, &fixture.root, &settings)?;
    Ok(())
}

/// Every event a release sent.
#[derive(Default)]
struct Events(Mutex<Vec<ReleaseEvent>>);

impl Events {
    fn sink(self: &Arc<Self>) -> ReleaseSink {
        let events = self.clone();
        Arc::new(move |event| {
            if let Ok(mut all) = events.0.lock() {
                all.push(event);
            }
        })
    }

    fn all(&self) -> Vec<ReleaseEvent> {
        self.0.lock().map(|all| all.clone()).unwrap_or_default()
    }

    fn step_state(&self, step: Step) -> Option<StepState> {
        self.all().iter().rev().find_map(|event| match event {
            ReleaseEvent::Step { step: s, state, .. } if *s == step => Some(*state),
            _ => None,
        })
    }

    fn saw(&self, wanted: impl Fn(&ReleaseEvent) -> bool) -> bool {
        self.all().iter().any(wanted)
    }
}

async fn release(fixture: &Fixture, target: Target) -> Result<(ReleaseSummary, Arc<Events>), slipway::error::AppError> {
    let events = Arc::new(Events::default());
    let options = ReleaseOptions {
        target: Some(target),
        confirm_dirty: false,
        confirmed_plan: None,
    };
    let summary = pipeline::release(
        &fixture.context,
        &fixture.root,
        &options,
        &CancellationToken::new(),
        events.sink(),
    )
    .await?;
    Ok((summary, events))
}

fn record(fixture: &Fixture, id: &str) -> Result<ReleaseRecord, Box<dyn std::error::Error>> {
    Ok(fixture
        .context
        .ledger
        .release(id)?
        .ok_or("the release is in the ledger")?)
}

/// One step of a recorded release, by name.
fn step_record<'a>(record: &'a ReleaseRecord, name: &str) -> Option<&'a slipway::history::StepRecord> {
    record.steps.iter().find(|step| step.name == name)
}

fn step_states(record: &ReleaseRecord) -> Vec<(String, StepState)> {
    record
        .steps
        .iter()
        .map(|step| (step.name.clone(), step.state))
        .collect()
}

async fn remove_project_containers(root: &Path) -> TestResult {
    let engine = slipway::docker::connect()?;
    for name in slipway::docker::project_containers(&engine, &project::project_id(root)).await? {
        slipway::docker::remove_container(&engine, &name).await?;
    }
    Ok(())
}

async fn fetch(url: &str) -> Result<(u16, String), reqwest::Error> {
    let response = reqwest::get(url).await?;
    let status = response.status().as_u16();
    Ok((status, response.text().await?))
}

#[tokio::test]
async fn a_local_release_ships_the_example_and_it_answers() -> TestResult {
    let fixture = fixture("lettings", |_| Ok(()))?;
    let (summary, events) = release(&fixture, Target::Local).await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    let url = summary.url.clone().ok_or("a live release has a URL")?;
    let (status, body) = fetch(&url).await?;
    assert_eq!(status, 200);
    assert!(body.contains("Oceanview Retreat"), "{body}");

    // The digest is the registry's, and the ledger holds the whole story.
    let registry = test_registry();
    let reference = slipway::docker::parse_reference(&summary.image)?;
    assert_eq!(reference.registry.as_deref(), Some(registry.address.as_str()));
    let held = slipway::registry::manifest_digest(&reference, &registry.user, &registry.password).await?;
    let engine = slipway::docker::connect()?;
    let latest = engine.inspect_image(&format!("{}:latest", reference.name())).await?;
    assert!(
        latest.repo_tags.unwrap_or_default().contains(&summary.image),
        "the build also tagged latest"
    );
    assert_eq!(summary.digest.as_deref(), Some(held.as_str()));
    let stored = record(&fixture, &summary.release_id)?;
    assert_eq!(stored.outcome, Outcome::Live);
    assert_eq!(stored.digest.as_deref(), Some(held.as_str()));
    assert_eq!(stored.url.as_deref(), Some(url.as_str()));
    assert!(!stored.dirty);
    assert!(
        stored.steps.iter().all(|step| step.state == StepState::Passed),
        "{:?}",
        step_states(&stored)
    );
    assert!(stored
        .steps
        .iter()
        .all(|step| step.started_at.is_some() && step.ended_at.is_some()));
    assert_eq!(
        step_record(&stored, "tests").and_then(|step| step.summary.as_deref()),
        Some("5 passed, 0 failed, 0 errors, 0 skipped")
    );
    assert!(!fixture
        .context
        .ledger
        .log_lines(&summary.release_id, "tests")?
        .is_empty());
    assert!(events.saw(|event| matches!(event, ReleaseEvent::Tests { report } if report.counts.passed == 5)));
    assert!(events.saw(|event| matches!(
        event,
        ReleaseEvent::Docker { step: Step::Push, event: slipway::docker::DockerEvent::PushProgress { percent, .. } } if *percent >= 100.0
    )));

    // Again: the same image is already in the registry and is not pushed twice; the new
    // container replaces the old one.
    let (again, _) = release(&fixture, Target::Local).await?;
    assert_eq!(again.outcome, Outcome::Live, "{:?}", again.message);
    assert_eq!(again.digest, summary.digest);
    let second = record(&fixture, &again.release_id)?;
    assert_eq!(
        step_record(&second, "push").and_then(|step| step.summary.as_deref()),
        Some("already in the registry")
    );
    let containers = slipway::docker::project_containers(&engine, &project::project_id(&fixture.root)).await?;
    assert_eq!(containers.len(), 1, "{containers:?}");
    assert!(fetch(&url).await.is_err(), "the first container is gone");
    remove_project_containers(&fixture.root).await
}

#[tokio::test]
async fn a_failing_test_stops_the_release_before_the_push() -> TestResult {
    let fixture = with_test_file(
        "failing-test",
        "test_broken.py",
        "def test_rooms_are_counted():\n    assert 2 + 2 == 5, 'rooms do not add up'\n",
    )?;
    let (summary, events) = release(&fixture, Target::Local).await?;
    assert_eq!(summary.outcome, Outcome::Failed);
    let message = summary.message.clone().unwrap_or_default();
    assert!(message.starts_with("Tests failed: 5 passed, 1 failed"), "{message}");
    assert!(events.saw(|event| matches!(event, ReleaseEvent::Tests { report }
        if report.failures.iter().any(|failure| failure.message.contains("rooms do not add up")))));
    let stored = record(&fixture, &summary.release_id)?;
    let states = step_states(&stored);
    assert_eq!(states[0], ("tests".to_owned(), StepState::Failed));
    for later in &states[3..] {
        assert_eq!(later.1, StepState::Skipped, "{states:?}");
    }
    assert_eq!(events.step_state(Step::Push), None, "the push never started");
    let registry = test_registry();
    let reference = slipway::docker::parse_reference(&summary.image)?;
    assert!(
        slipway::registry::manifest_digest(&reference, &registry.user, &registry.password)
            .await
            .is_err(),
        "nothing was pushed"
    );
    Ok(())
}

#[tokio::test]
async fn with_finish_all_gates_a_failing_test_lets_lint_and_build_finish() -> TestResult {
    let mut fixture = with_test_file("all-gates", "test_broken.py", "def test_broken():\n    assert False\n")?;
    fixture.context.settings.finish_all_gates = true;
    let (summary, events) = release(&fixture, Target::Local).await?;
    assert_eq!(summary.outcome, Outcome::Failed);
    assert_eq!(events.step_state(Step::Tests), Some(StepState::Failed));
    assert_eq!(events.step_state(Step::Lint), Some(StepState::Passed));
    assert_eq!(events.step_state(Step::Build), Some(StepState::Passed));
    assert_eq!(events.step_state(Step::Push), None, "still no push after a failed gate");
    Ok(())
}

#[tokio::test]
async fn a_lint_violation_fails_the_release() -> TestResult {
    let fixture = fixture("lint-violation", |root| {
        let app = std::fs::read_to_string(root.join("lettings/app.py"))?;
        std::fs::write(root.join("lettings/app.py"), format!("import os\n{app}"))
    })?;
    let (summary, events) = release(&fixture, Target::Local).await?;
    assert_eq!(summary.outcome, Outcome::Failed);
    assert!(
        summary
            .message
            .as_deref()
            .unwrap_or_default()
            .starts_with("Lint failed: 1 violation"),
        "{:?}",
        summary.message
    );
    assert!(events.saw(|event| matches!(event, ReleaseEvent::Lint { report }
        if report.violations.iter().any(|v| v.code == "F401" && v.path.ends_with("lettings/app.py") && v.line == 1))));
    assert_eq!(events.step_state(Step::Lint), Some(StepState::Failed));
    Ok(())
}

#[tokio::test]
async fn a_failing_build_step_is_named() -> TestResult {
    let fixture = fixture("build-failure", |root| {
        let dockerfile = std::fs::read_to_string(root.join("Dockerfile"))?;
        std::fs::write(
            root.join("Dockerfile"),
            dockerfile.replace("EXPOSE 8000", "RUN echo migrations missing && exit 3\nEXPOSE 8000"),
        )
    })?;
    let (summary, events) = release(&fixture, Target::Local).await?;
    assert_eq!(summary.outcome, Outcome::Failed);
    let message = summary.message.unwrap_or_default();
    assert!(message.starts_with("Build failed:"), "{message}");
    assert!(message.contains("exit 3"), "the failing step is named: {message}");
    assert!(events.saw(|event| matches!(event, ReleaseEvent::Log { step: Step::Build, line, .. } if line.contains("migrations missing"))));
    Ok(())
}

#[tokio::test]
async fn a_project_without_a_dockerfile_is_refused_before_anything_runs() -> TestResult {
    let fixture = fixture("no-dockerfile", |root| std::fs::remove_file(root.join("Dockerfile")))?;
    change_settings(&fixture, |settings| settings.dockerfile = None)?;
    let error = release(&fixture, Target::Local)
        .await
        .err()
        .ok_or("the release must be refused")?;
    assert!(error.message.contains("no Dockerfile"), "{}", error.message);
    assert!(fixture.context.ledger.releases(None, 10)?.is_empty(), "nothing ran");
    Ok(())
}

#[tokio::test]
async fn uncommitted_changes_need_a_confirmation_that_the_ledger_records() -> TestResult {
    let fixture = fixture("dirty", |_| Ok(()))?;
    std::fs::write(fixture.root.join("notes.txt"), "work in progress\n")?;
    let error = release(&fixture, Target::Local)
        .await
        .err()
        .ok_or("a dirty tree needs a yes")?;
    assert!(
        error.message.contains("uncommitted changes (notes.txt)"),
        "{}",
        error.message
    );
    let options = ReleaseOptions {
        target: Some(Target::Local),
        confirm_dirty: true,
        confirmed_plan: None,
    };
    let events = Arc::new(Events::default());
    let summary = pipeline::release(
        &fixture.context,
        &fixture.root,
        &options,
        &CancellationToken::new(),
        events.sink(),
    )
    .await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    assert!(record(&fixture, &summary.release_id)?.dirty);
    remove_project_containers(&fixture.root).await
}

/// Starts a release in the background, cancels it once `ready` holds for an event, and
/// returns its summary and events.
async fn cancel_when(
    fixture: &Fixture,
    ready: impl Fn(&ReleaseEvent) -> bool,
) -> Result<(ReleaseSummary, Arc<Events>), Box<dyn std::error::Error>> {
    let events = Arc::new(Events::default());
    let cancel = CancellationToken::new();
    let options = ReleaseOptions {
        target: Some(Target::Local),
        confirm_dirty: false,
        confirmed_plan: None,
    };
    let running = pipeline::release(&fixture.context, &fixture.root, &options, &cancel, events.sink());
    let watcher = async {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !events.saw(&ready) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let reached = events.saw(&ready);
        // Let the step get properly under way.
        tokio::time::sleep(Duration::from_millis(700)).await;
        cancel.cancel();
        reached
    };
    let (summary, reached) = tokio::join!(running, watcher);
    if !reached {
        return Err("the release never reached the step to cancel".into());
    }
    Ok((summary?, events))
}

#[tokio::test]
async fn cancelling_during_the_tests_leaves_no_process_behind() -> TestResult {
    let marker = "test_slow_cancel_marker_4471";
    let fixture = fixture("cancel-tests", |root| {
        std::fs::write(
            root.join(format!("tests/{marker}.py")),
            "import time\n\n\ndef test_slow():\n    time.sleep(60)\n",
        )
    })?;
    let (summary, events) = cancel_when(
        &fixture,
        |event| matches!(event, ReleaseEvent::Log { step: Step::Tests, line, .. } if line.contains("collected")),
    )
    .await?;
    assert_eq!(summary.outcome, Outcome::Canceled);
    assert_eq!(events.step_state(Step::Tests), Some(StepState::Canceled));
    assert!(
        support::processes_with(marker).is_empty(),
        "{:?}",
        support::processes_with(marker)
    );
    let stored = record(&fixture, &summary.release_id)?;
    assert_eq!(stored.outcome, Outcome::Canceled);
    assert!(["push", "deploy", "verify"]
        .iter()
        .all(|name| step_record(&stored, name).is_some_and(|step| step.state == StepState::Canceled)));
    Ok(())
}

async fn containers_running(command_part: &str) -> Result<usize, Box<dyn std::error::Error>> {
    let engine = slipway::docker::connect()?;
    let options = bollard::query_parameters::ListContainersOptionsBuilder::default()
        .all(true)
        .build();
    let containers = engine.list_containers(Some(options)).await?;
    Ok(containers
        .iter()
        .filter(|container| container.command.as_deref().unwrap_or_default().contains(command_part))
        .count())
}

#[tokio::test]
async fn cancelling_during_the_build_leaves_no_container_behind() -> TestResult {
    let fixture = fixture("cancel-build", |root| {
        let dockerfile = std::fs::read_to_string(root.join("Dockerfile"))?;
        std::fs::write(
            root.join("Dockerfile"),
            dockerfile.replace("EXPOSE 8000", "RUN sleep 47.5 && echo built\nEXPOSE 8000"),
        )
    })?;
    let (summary, events) = cancel_when(
        &fixture,
        |event| matches!(event, ReleaseEvent::Log { step: Step::Build, line, .. } if line.contains("sleep 47.5")),
    )
    .await?;
    assert_eq!(summary.outcome, Outcome::Canceled);
    assert_eq!(events.step_state(Step::Build), Some(StepState::Canceled));
    // The engine removes the build's container once it sees the client go.
    let deadline = Instant::now() + Duration::from_secs(20);
    while containers_running("sleep 47.5").await? > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(containers_running("sleep 47.5").await?, 0);
    Ok(())
}

#[tokio::test]
async fn cancelling_during_the_push_stops_it_and_deploys_nothing() -> TestResult {
    let fixture = fixture("cancel-push", |root| {
        // A layer big enough that the push is still going when the cancel comes.
        let mut noise = vec![0u8; 160 * 1024 * 1024];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for chunk in noise.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
        }
        std::fs::write(root.join("lettings/noise.bin"), noise)
    })?;
    let (summary, events) = cancel_when(&fixture, |event| {
        matches!(
            event,
            ReleaseEvent::Docker {
                step: Step::Push,
                event: slipway::docker::DockerEvent::Layer { .. }
            }
        )
    })
    .await?;
    assert_eq!(summary.outcome, Outcome::Canceled);
    assert_eq!(events.step_state(Step::Push), Some(StepState::Canceled));
    assert_eq!(events.step_state(Step::Deploy), None, "nothing was deployed");
    let engine = slipway::docker::connect()?;
    let left = slipway::docker::project_containers(&engine, &project::project_id(&fixture.root)).await?;
    assert!(left.is_empty(), "{left:?}");
    Ok(())
}

#[tokio::test]
async fn cancelling_while_waiting_for_the_app_removes_its_container() -> TestResult {
    let fixture = fixture("cancel-verify", |_| Ok(()))?;
    change_settings(&fixture, |settings| {
        settings.health_path = Some("/never-answers".to_owned())
    })?;
    let (summary, events) = cancel_when(&fixture, |event| {
        matches!(
            event,
            ReleaseEvent::Step {
                step: Step::Verify,
                state: StepState::Running,
                ..
            }
        )
    })
    .await?;
    assert_eq!(summary.outcome, Outcome::Canceled);
    assert_eq!(events.step_state(Step::Verify), Some(StepState::Canceled));
    let engine = slipway::docker::connect()?;
    let left = slipway::docker::project_containers(&engine, &project::project_id(&fixture.root)).await?;
    assert!(left.is_empty(), "{left:?}");
    Ok(())
}

/// The CLI on the fixture's data folder, with the registry the tests use.
fn cli(fixture: &Fixture, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(support::slipway_binary());
    command
        .args(args)
        .env("SLIPWAY_DATA_DIR", &fixture.data)
        .env("SLIPWAY_LOCAL_REGISTRY", test_registry().address)
        .env_remove("SENTRY_DSN");
    command
}

#[tokio::test]
async fn a_killed_release_shows_interrupted_after_a_restart() -> TestResult {
    let fixture = with_test_file(
        "killed",
        "test_slow_kill.py",
        "import time\n\n\ndef test_slow():\n    time.sleep(4)\n",
    )?;
    let root = fixture.root.display().to_string();
    kill_a_cli_release_in_its_tests(&fixture)?;

    let output = cli(&fixture, &["history", "--json", "--project", &root]).output()?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let history: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(history[0]["outcome"], "interrupted", "{history}");
    assert!(history[0]["steps"]
        .as_array()
        .ok_or("steps")?
        .iter()
        .all(|step| step["state"] != "running"));
    // And the project is free again.
    let (summary, _) = release(&fixture, Target::Local).await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);

    // Killed again, and this time the next release itself finds the dead one.
    kill_a_cli_release_in_its_tests(&fixture)?;
    let (again, _) = release(&fixture, Target::Local).await?;
    assert_eq!(again.outcome, Outcome::Live, "{:?}", again.message);
    let releases = fixture.context.ledger.releases(Some(&root), 10)?;
    let outcomes: Vec<Outcome> = releases.iter().map(|release| release.outcome).collect();
    assert_eq!(
        outcomes,
        [Outcome::Live, Outcome::Interrupted, Outcome::Live, Outcome::Interrupted]
    );
    remove_project_containers(&fixture.root).await
}

/// Starts `slipway release` on the fixture and kills it (SIGKILL) once its tests run.
fn kill_a_cli_release_in_its_tests(fixture: &Fixture) -> TestResult {
    let root = fixture.root.display().to_string();
    let mut child = cli(fixture, &["release", "--project", &root, "--target", "local"])
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("stdout is piped")?;
    let mut seen = false;
    for line in BufReader::new(stdout).lines() {
        if line?.starts_with("[tests] running") {
            seen = true;
            break;
        }
    }
    assert!(seen, "the release started its tests");
    child.kill()?;
    child.wait()?;
    Ok(())
}

#[tokio::test]
async fn a_second_release_of_the_same_project_is_refused() -> TestResult {
    let fixture = with_test_file(
        "twice",
        "test_slow_twice.py",
        "import time\n\n\ndef test_slow():\n    time.sleep(60)\n",
    )?;
    let root = fixture.root.display().to_string();
    let cancel = CancellationToken::new();
    let events = Arc::new(Events::default());
    let options = ReleaseOptions {
        target: Some(Target::Local),
        confirm_dirty: false,
        confirmed_plan: None,
    };
    let first = pipeline::release(&fixture.context, &fixture.root, &options, &cancel, events.sink());
    let second = async {
        while !events.saw(|event| matches!(event, ReleaseEvent::Started { .. })) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let output = cli(
            &fixture,
            &["release", "--project", &root, "--target", "local", "--json"],
        )
        .output();
        let in_process = release(&fixture, Target::Local).await;
        cancel.cancel();
        (output, in_process)
    };
    let (first, (output, in_process)) = tokio::join!(first, second);
    let output = output?;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is already running"), "{stderr}");
    let last: serde_json::Value = serde_json::from_slice(
        output
            .stdout
            .split(|byte| *byte == b'\n')
            .rfind(|line| !line.is_empty())
            .unwrap_or_default(),
    )?;
    assert_eq!(last["kind"], "summary");
    assert_eq!(last["outcome"], "error");
    let refused = in_process
        .err()
        .ok_or("the second in-process release must be refused too")?;
    assert!(refused.message.contains("is already running"), "{}", refused.message);
    assert_eq!(first?.outcome, Outcome::Canceled);
    Ok(())
}

// Render, through its stand-in: the image goes to the test registry, named as the service's
// image, and is deployed by digest.

struct RenderSetup {
    fixture: Fixture,
    render: standin::StandIn,
}

async fn render_setup(name: &str, script: DeployScript) -> Result<RenderSetup, Box<dyn std::error::Error>> {
    let registry = test_registry();
    let repository = format!("{}/ann/{name}", registry.address);
    let mut fixture = fixture(name, |_| Ok(()))?;
    change_settings(&fixture, |settings| {
        settings.image_repository = Some(repository.clone())
    })?;
    let service_image = format!("{repository}:latest");
    let render = render_deploy_stand_in(service_image.clone(), script).await?;
    let mut account = Account::new(Service::Render, "default", "test");
    account.project = Some("srv-web".to_owned());
    account.organization = Some(service_image);
    SecretStore::os(&fixture.data).save(&account, "rnd_good")?;
    fixture.context.settings.render_api_url = Some(format!("{}/v1", render.base));
    Ok(RenderSetup { fixture, render })
}

fn deploy_statuses(events: &Events) -> Vec<String> {
    events
        .all()
        .iter()
        .filter_map(|event| match event {
            ReleaseEvent::Deploy { status, .. } => Some(status.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn render_deploys_by_digest_and_follows_a_201_to_live() -> TestResult {
    let setup = render_setup(
        "render-created",
        DeployScript::new(201, &["build_in_progress", "update_in_progress", "live"]),
    )
    .await?;
    let (summary, events) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    assert_eq!(summary.deploy_id.as_deref(), Some("dep-1"));
    assert_eq!(
        deploy_statuses(&events),
        ["created", "build_in_progress", "update_in_progress", "live"]
    );
    assert_eq!(
        summary.url.as_deref(),
        Some(format!("{}/site", setup.render.base).as_str())
    );
    let trigger = setup
        .render
        .received()
        .into_iter()
        .find(|request| request.method == "POST")
        .ok_or("a deploy was triggered")?;
    let body: serde_json::Value = serde_json::from_str(&trigger.body)?;
    let digest = summary.digest.clone().ok_or("pushed")?;
    assert_eq!(
        body["imageUrl"],
        format!("{}/ann/render-created@{digest}", test_registry().address)
    );
    let stored = record(&setup.fixture, &summary.release_id)?;
    assert_eq!(stored.deploy_id.as_deref(), Some("dep-1"));
    assert_eq!(stored.deploy_status.as_deref(), Some("live"));
    assert_eq!(stored.target, "render");
    Ok(())
}

#[tokio::test]
async fn render_202_with_no_body_is_found_in_the_deploys_list() -> TestResult {
    let setup = render_setup("render-queued", DeployScript::new(202, &["queued", "live"])).await?;
    let (summary, _) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    assert_eq!(summary.deploy_id.as_deref(), Some("dep-1"));
    assert!(setup.render.received().iter().any(|request| request.method == "GET"
        && request.path() == "/v1/services/srv-web/deploys"
        && request.query("createdAfter").is_some()));
    Ok(())
}

#[tokio::test]
async fn render_build_and_update_failures_fail_the_release() -> TestResult {
    for failure in ["build_failed", "update_failed"] {
        let setup = render_setup(
            &format!("render-{}", failure.replace('_', "-")),
            DeployScript::new(201, &["build_in_progress", failure]),
        )
        .await?;
        let (summary, events) = release(&setup.fixture, Target::Render).await?;
        assert_eq!(summary.outcome, Outcome::Failed);
        assert_eq!(
            summary.message.as_deref(),
            Some(format!("The Render deploy dep-1 ended {failure}.").as_str())
        );
        assert_eq!(events.step_state(Step::Deploy), Some(StepState::Failed));
        let stored = record(&setup.fixture, &summary.release_id)?;
        assert_eq!(stored.deploy_status.as_deref(), Some(failure));
        assert_eq!(
            step_record(&stored, "verify")
                .map(|step| step.state)
                .unwrap_or(StepState::Pending),
            StepState::Skipped,
            "no verify after a failed deploy"
        );
    }
    Ok(())
}

#[tokio::test]
async fn render_429_on_the_trigger_waits_for_the_reset() -> TestResult {
    let setup = render_setup("render-limited", DeployScript::new(201, &["live"]).rate_limited()).await?;
    let (summary, _) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    let posts: Vec<_> = setup
        .render
        .received()
        .into_iter()
        .filter(|request| request.method == "POST")
        .collect();
    assert_eq!(posts.len(), 2, "refused once, then accepted");
    Ok(())
}

#[tokio::test]
async fn cancelling_a_render_deploy_cancels_it_on_render() -> TestResult {
    let setup = render_setup("render-cancel", DeployScript::new(201, &["update_in_progress"])).await?;
    let events = Arc::new(Events::default());
    let cancel = CancellationToken::new();
    let options = ReleaseOptions {
        target: Some(Target::Render),
        confirm_dirty: false,
        confirmed_plan: None,
    };
    let running = pipeline::release(
        &setup.fixture.context,
        &setup.fixture.root,
        &options,
        &cancel,
        events.sink(),
    );
    let watcher = async {
        while !deploy_statuses(&events)
            .iter()
            .any(|status| status == "update_in_progress")
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        cancel.cancel();
    };
    let (summary, ()) = tokio::join!(running, watcher);
    let summary = summary?;
    assert_eq!(summary.outcome, Outcome::Canceled);
    assert!(setup
        .render
        .received()
        .iter()
        .any(|request| request.method == "POST" && request.path() == "/v1/services/srv-web/deploys/dep-1/cancel"));
    assert_eq!(
        record(&setup.fixture, &summary.release_id)?.deploy_status.as_deref(),
        Some("canceled")
    );
    Ok(())
}

#[tokio::test]
async fn a_deploy_hook_alone_deploys_the_digest_without_a_key() -> TestResult {
    let setup = render_setup("render-hook", DeployScript::new(201, &["live"])).await?;
    let store = SecretStore::os(&setup.fixture.data);
    store.delete(Service::Render, "default")?;
    let mut hook = Account::new(Service::Render, "deploy-hook", "test");
    hook.project = Some("srv-web".to_owned());
    store.save(&hook, &format!("{}/deploy/srv-web?key=hk_good", setup.render.base))?;
    let (summary, events) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    assert_eq!(summary.url, None, "a hook gives nothing to follow or check");
    assert_eq!(events.step_state(Step::Verify), Some(StepState::Skipped));
    let call = setup
        .render
        .received()
        .into_iter()
        .find(|request| request.path() == "/deploy/srv-web")
        .ok_or("the hook was called")?;
    let digest = summary.digest.ok_or("pushed")?;
    assert_eq!(
        call.query("imgURL"),
        Some(format!("{}/ann/render-hook@{digest}", test_registry().address))
    );
    Ok(())
}

#[tokio::test]
async fn a_render_service_running_another_image_is_refused_up_front() -> TestResult {
    let setup = render_setup("render-mismatch", DeployScript::new(201, &["live"])).await?;
    let mut account = Account::new(Service::Render, "default", "test");
    account.project = Some("srv-web".to_owned());
    account.organization = Some("docker.io/someone/else:latest".to_owned());
    SecretStore::os(&setup.fixture.data).update(&account)?;
    let error = release(&setup.fixture, Target::Render)
        .await
        .err()
        .ok_or("a mismatch must be refused")?;
    assert!(
        error.message.contains("Render only accepts a new tag or digest"),
        "{}",
        error.message
    );
    assert!(setup.render.received().iter().all(|request| request.method != "POST"));
    Ok(())
}

/// The leak test of a release: a registry login whose token is a marker (and wrong), a
/// release whose push fails with it; then neither the marker nor its derived forms appear in
/// what the CLI printed, the log files, the history database or anything else in the data
/// folder.
#[tokio::test]
async fn a_failing_push_leaks_the_token_nowhere() -> TestResult {
    use base64::Engine as _;
    let marker = "leak-marker-push-73519";
    let fixture = fixture("leaky", |_| Ok(()))?;
    let registry = test_registry();
    support::save_registry_login(&fixture.data, &registry, marker)?;
    let root = fixture.root.display().to_string();
    let output = cli(
        &fixture,
        &["release", "--project", &root, "--target", "local", "--json"],
    )
    .env("SLIPWAY_LOG", "debug")
    .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stdout.contains(r#""step":"push","state":"failed""#),
        "the push failed: {stdout}"
    );
    // The refusal keeps its kind and hint: in the summary, the ledger and `history --json`.
    let summary: serde_json::Value = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .next_back()
        .ok_or("a summary line")?;
    assert_eq!(summary["error"]["kind"], "registryAuth", "{summary}");
    assert!(
        !summary["error"]["hint"].as_str().unwrap_or_default().is_empty(),
        "{summary}"
    );
    let history = cli(&fixture, &["history", "--json", "--project", &root]).output()?;
    let history: serde_json::Value = serde_json::from_slice(&history.stdout)?;
    assert_eq!(history[0]["errorKind"], "registryAuth", "{history}");
    assert_eq!(history[0]["errorHint"], summary["error"]["hint"], "{history}");

    let user_and_token = format!("{}:{marker}", registry.user);
    let registry_auth = serde_json::json!({
        "username": registry.user, "password": marker, "serveraddress": registry.address,
    })
    .to_string();
    let forms = [
        marker.to_owned(),
        base64::engine::general_purpose::STANDARD.encode(&user_and_token),
        base64::engine::general_purpose::URL_SAFE.encode(&registry_auth),
        format!("Bearer {marker}"),
    ];
    let places = support::with_files_below(
        vec![("stdout".to_owned(), stdout), ("stderr".to_owned(), stderr)],
        &fixture.data,
    )?;
    assert!(
        places.iter().any(|(name, _)| name.ends_with("history.sqlite3")),
        "the ledger was searched"
    );
    assert!(
        places.iter().any(|(name, _)| name.contains("/logs/")),
        "the log files were searched"
    );
    for (place, text) in &places {
        for form in &forms {
            assert!(!text.contains(form.as_str()), "{place} holds a form of the token");
        }
    }
    Ok(())
}

/// An app that listens on `$PORT` only (as on Render), with no `EXPOSE`: the Local target sets
/// PORT to the container port, as Render does.
#[tokio::test]
async fn the_local_container_gets_port_as_render_sets_it() -> TestResult {
    let fixture = fixture("portless", |root| {
        let dockerfile = std::fs::read_to_string(root.join("Dockerfile"))?
            .replace(" PORT=8000", "")
            .replace("EXPOSE 8000\n", "")
            .replace(
                "CMD [\"python3\", \"-m\", \"lettings\"]",
                "CMD [\"sh\", \"-c\", \"test -n \\\"$PORT\\\" && exec python3 -m lettings\"]",
            );
        std::fs::write(root.join("Dockerfile"), dockerfile)
    })?;
    change_settings(&fixture, |settings| settings.container_port = Some(9000))?;
    let (summary, _) = release(&fixture, Target::Local).await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    let url = summary.url.clone().ok_or("a live release has a URL")?;
    assert_eq!(fetch(&url).await?.0, 200);
    remove_project_containers(&fixture.root).await
}

/// The release runs the plan the person saw, or refuses: a file that became dirty after the
/// preview never ships unseen.
#[tokio::test]
async fn a_release_refuses_a_plan_that_changed_since_it_was_shown() -> TestResult {
    let fixture = fixture("changed", |_| Ok(()))?;
    let shown = pipeline::plan(&fixture.context, &fixture.root, &ReleaseOptions::default()).await?;
    let again = pipeline::plan(&fixture.context, &fixture.root, &ReleaseOptions::default()).await?;
    assert_eq!(shown.fingerprint, again.fingerprint, "the same project plans the same");
    std::fs::write(fixture.root.join("notes.txt"), "written after the preview")?;
    let options = ReleaseOptions {
        target: Some(Target::Local),
        confirm_dirty: true,
        confirmed_plan: Some(shown.fingerprint.clone()),
    };
    let events = Arc::new(Events::default());
    let refused = pipeline::release(
        &fixture.context,
        &fixture.root,
        &options,
        &CancellationToken::new(),
        events.sink(),
    )
    .await;
    let error = refused.err().ok_or("the release is refused")?;
    assert!(error.message.contains("changed since the plan"), "{error:?}");
    assert!(events.all().is_empty(), "nothing ran");
    assert!(
        fixture.context.ledger.releases(None, 10)?.is_empty(),
        "nothing was recorded"
    );
    Ok(())
}
