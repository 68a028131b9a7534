//! Cancelling at every step, a killed release shown interrupted, one release per project.

use super::*;

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
        ..ReleaseOptions::default()
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
        return Err(format!("the release never reached the step to cancel; it ended: {summary:?}").into());
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
    let steps = history[0]["steps"].as_array().ok_or("steps")?;
    assert!(steps.iter().all(|step| step["state"] != "running"), "{history}");
    // The steps it was running are interrupted; those it never reached are "not started".
    assert!(steps.iter().any(|step| step["state"] == "interrupted"), "{history}");
    let deploy = steps
        .iter()
        .find(|step| step["name"] == "deploy")
        .ok_or("a deploy step")?;
    assert_eq!(deploy["state"], "pending", "never started: {history}");
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

/// Starts `slipway release` on the fixture and kills it (SIGKILL) once its tests run; with
/// `--no-cache`, since a release of this tree may have passed its tests already.
fn kill_a_cli_release_in_its_tests(fixture: &Fixture) -> TestResult {
    let root = fixture.root.display().to_string();
    let mut child = cli(
        fixture,
        &["release", "--project", &root, "--target", "local", "--no-cache"],
    )
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
        ..ReleaseOptions::default()
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

/// A release killed in its tests leaves pytest running under PID 1; the next Slipway that
/// starts with this data folder (any command) ends it, found by the mark in its environment.
#[tokio::test]
async fn what_a_killed_release_left_running_is_ended_at_the_next_start() -> TestResult {
    let fixture = with_test_file(
        "orphans",
        "test_slow_orphan.py",
        "import time\n\n\ndef test_slow():\n    time.sleep(120)\n",
    )?;
    // Without the sandbox: bubblewrap ends a sandboxed run with the Slipway that started it,
    // so only an unsandboxed run can leave its tests running.
    change_settings(&fixture, |settings| settings.sandbox = Some(false))?;
    kill_a_cli_release_once_pytest_runs(&fixture)?;
    let marks = fixture.data.join("running");
    let marked = |mark: &str| processes_marked(&[mark.to_owned()]);
    let mark = std::fs::read_dir(&marks)?
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .find(|mark| !marked(mark).is_empty())
        .ok_or("the killed release's tests still run, marked")?;

    let reports = || -> Vec<PathBuf> {
        std::fs::read_dir(fixture.data.join("scratch"))
            .map(|projects| {
                projects
                    .flatten()
                    .filter_map(|project| std::fs::read_dir(project.path().join("reports")).ok())
                    .flat_map(|reports| reports.flatten().map(|report| report.path()))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        reports().len(),
        1,
        "the killed run's report folder is in the data folder"
    );

    let output = cli(&fixture, &["history", "--json"]).output()?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !marked(&mark).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        marked(&mark).is_empty(),
        "the orphaned tests were ended: {:?}",
        marked(&mark)
    );
    assert!(!marks.join(&mark).exists(), "and their mark removed");
    // Its report folder is gone too.
    assert!(
        reports().is_empty(),
        "no report folder of the killed release is left: {:?}",
        reports()
    );
    Ok(())
}

/// In the sandbox, a Slipway killed while the tests run takes them with it: nothing of the
/// project keeps running until the next start.
#[tokio::test]
async fn a_killed_sandboxed_release_leaves_no_test_running() -> TestResult {
    let fixture = with_test_file(
        "sandboxed-orphans",
        "test_slow_sandboxed_orphan.py",
        "import time\n\n\ndef test_slow():\n    time.sleep(120)\n",
    )?;
    kill_a_cli_release_once_pytest_runs(&fixture)?;
    // The run's processes carry its mark in their environment, sandboxed or not.
    let marks: Vec<String> = std::fs::read_dir(fixture.data.join("running"))?
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!marks.is_empty(), "the killed run left its mark");
    let running = || processes_marked(&marks);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !running().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(running(), Vec::<String>::new(), "nothing of the killed release runs");
    Ok(())
}

/// Starts `slipway release` on the fixture and kills it (SIGKILL) once pytest itself runs
/// (its first lines are out), not before it starts.
fn kill_a_cli_release_once_pytest_runs(fixture: &Fixture) -> TestResult {
    let root = fixture.root.display().to_string();
    let mut child = cli(fixture, &["release", "--project", &root, "--target", "local"])
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("stdout is piped")?;
    let mut seen = false;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if line.contains("collected") || line.contains("test session starts") {
            seen = true;
            break;
        }
    }
    assert!(seen, "pytest started");
    child.kill()?;
    child.wait()?;
    Ok(())
}

/// The processes whose environment carries one of the runs' `marks` (`SLIPWAY_RUN_MARK`).
fn processes_marked(marks: &[String]) -> Vec<String> {
    let wanted: Vec<String> = marks.iter().map(|mark| format!("SLIPWAY_RUN_MARK={mark}")).collect();
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|pid| pid.parse::<u32>().is_ok())
                .filter(|pid| {
                    std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
                        environ
                            .split(|byte| *byte == 0)
                            .any(|pair| wanted.iter().any(|mark| pair == mark.as_bytes()))
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}
