//! Local releases: the example shipped and answering, gates that fail, refusals before
//! anything runs, and the plan the person saw.

use super::*;

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
    // Every step passed; Sentry's is skipped, with why, when no Sentry project is connected.
    let (sentry, ran): (Vec<_>, Vec<_>) = stored.steps.iter().partition(|step| step.name == "sentry");
    assert!(
        ran.iter().all(|step| step.state == StepState::Passed),
        "{:?}",
        step_states(&stored)
    );
    assert_eq!(sentry.len(), 1);
    assert_eq!(sentry[0].state, StepState::Skipped);
    assert_eq!(
        sentry[0].summary.as_deref(),
        Some("The project is not linked to a Sentry project: nothing was recorded in Sentry.")
    );
    assert!(ran
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
    assert_ne!(again.deploy_id, summary.deploy_id, "another container");
    // At the same address, so a bookmark keeps working.
    assert_eq!(again.url, summary.url);
    assert_eq!(fetch(&url).await?.0, 200);
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
async fn a_failing_test_and_a_lint_violation_are_both_reported_by_one_release() -> TestResult {
    let fixture = fixture("all-gates", |root| {
        std::fs::write(
            root.join("tests/test_broken.py"),
            "def test_broken():\n    assert 'a' == 'b'\n",
        )?;
        let app = std::fs::read_to_string(root.join("lettings/app.py"))?;
        std::fs::write(root.join("lettings/app.py"), format!("import os\n{app}"))
    })?;
    let (summary, events) = release(&fixture, Target::Local).await?;
    assert_eq!(summary.outcome, Outcome::Failed);
    assert_eq!(events.step_state(Step::Tests), Some(StepState::Failed));
    assert_eq!(events.step_state(Step::Lint), Some(StepState::Failed));
    assert_eq!(
        events.step_state(Step::Build),
        Some(StepState::Passed),
        "the build went on"
    );
    assert_eq!(events.step_state(Step::Push), None, "still no push after a failed gate");
    let message = summary.message.unwrap_or_default();
    assert!(
        message.contains("Tests failed: ") && message.contains("Lint failed: 1 violation"),
        "both failures are in the release's message: {message}"
    );
    // Each failure as a person reads it: where, and what was expected against what came.
    assert!(events.saw(|event| matches!(event, ReleaseEvent::Tests { report }
        if report.failures.iter().any(|failure| failure.file.as_deref() == Some("tests/test_broken.py")
            && failure.line == Some(2)
            && failure.got.as_deref() == Some("'a'")
            && failure.expected.as_deref() == Some("'b'")
            && failure.explanation.as_deref().is_some_and(|text| text.contains("\n"))))));
    assert!(events.saw(|event| matches!(event, ReleaseEvent::Lint { report }
        if report.violations.iter().any(|violation| violation.code == "F401"
            && violation.explanation.as_deref().is_some_and(|words| words.contains("never used"))
            && violation.help_url.is_some()))));
    Ok(())
}

#[tokio::test]
async fn stop_at_first_failure_stops_lint_and_the_build() -> TestResult {
    // Lint waits for the tests' failure: a slow lint is stopped, never finished.
    let mut fixture = fixture("first-failure", |root| {
        std::fs::write(
            root.join("tests/test_broken.py"),
            "def test_broken():\n    assert False\n",
        )?;
        std::fs::write(root.join("slow_lint.py"), "import time\ntime.sleep(30)\n")
    })?;
    change_settings(&fixture, |settings| {
        settings.lint_command = "python slow_lint.py".to_owned()
    })?;
    fixture.context.settings.stop_at_first_failure = true;
    let started = std::time::Instant::now();
    let (summary, events) = release(&fixture, Target::Local).await?;
    assert_eq!(summary.outcome, Outcome::Failed);
    assert_eq!(events.step_state(Step::Tests), Some(StepState::Failed));
    assert_ne!(
        events.step_state(Step::Lint),
        Some(StepState::Passed),
        "lint was stopped"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "nothing waited for the slow lint"
    );
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

    // A Dockerfile the saved settings name, deleted since: refused too, and named.
    change_settings(&fixture, |settings| settings.dockerfile = Some("Dockerfile".to_owned()))?;
    let error = release(&fixture, Target::Local)
        .await
        .err()
        .ok_or("a missing Dockerfile must be refused")?;
    assert!(
        error.message.contains("(Dockerfile) is not in the project any more"),
        "{}",
        error.message
    );
    assert_eq!(error.action, Some(slipway::error::ErrorAction::OpenProjectSettings));
    assert!(fixture.context.ledger.releases(None, 10)?.is_empty(), "nothing ran");
    Ok(())
}

#[tokio::test]
async fn uncommitted_changes_need_a_confirmation_that_the_ledger_records() -> TestResult {
    let fixture = fixture("dirty", |_| Ok(()))?;
    let committed = pipeline::plan(&fixture.context, &fixture.root, &ReleaseOptions::default()).await?;
    std::fs::write(fixture.root.join("notes.txt"), "work in progress\n")?;
    // An edited tree never takes the commit's tag, nor another edit's.
    let edited = pipeline::plan(&fixture.context, &fixture.root, &ReleaseOptions::default()).await?;
    let commit = committed.commit.clone().ok_or("the fixture is committed")?;
    assert!(committed.image.ends_with(&format!(":{commit}")), "{}", committed.image);
    let dirty_tag = edited.image.rsplit(':').next().unwrap_or_default().to_owned();
    assert!(dirty_tag.starts_with(&format!("{commit}-dirty-")), "{dirty_tag}");
    assert_eq!(dirty_tag.len(), commit.len() + "-dirty-".len() + 8, "{dirty_tag}");
    std::fs::write(fixture.root.join("notes.txt"), "other work\n")?;
    let other = pipeline::plan(&fixture.context, &fixture.root, &ReleaseOptions::default()).await?;
    assert_ne!(other.image, edited.image, "two contents, two tags");
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
        ..ReleaseOptions::default()
    };
    let (summary, _) = release_with(&fixture, &options).await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    assert!(record(&fixture, &summary.release_id)?.dirty);
    remove_project_containers(&fixture.root).await
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
        ..ReleaseOptions::default()
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

/// The engine stops while the release runs (after the build, before the push): the release
/// fails with what to do ("start Docker"), and the CLI's summary and `history --json` both
/// keep the error's kind and hint.
#[tokio::test]
async fn an_engine_that_stops_mid_release_fails_it_with_the_hint() -> TestResult {
    use tokio::io::AsyncBufReadExt as _;
    // The tests outlast the build, so the push comes after the engine is gone.
    let fixture = with_test_file(
        "engine-gone",
        "test_wait.py",
        "import time\n\n\ndef test_wait():\n    time.sleep(6)\n",
    )?;
    let proxy = support::EngineProxy::start()?;
    let root = fixture.root.display().to_string();
    let mut command = tokio::process::Command::from(cli(
        &fixture,
        &["release", "--project", &root, "--target", "local", "--json"],
    ));
    let mut child = command
        .env("DOCKER_HOST", proxy.docker_host())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("stdout")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    while let Some(line) = lines.next_line().await? {
        if line.contains(r#""step":"build","state":"passed""#) {
            proxy.stop();
        }
        seen.push(line);
    }
    let status = child.wait().await?;
    assert_eq!(status.code(), Some(1), "{}", seen.join("\n"));
    let summary: serde_json::Value = seen
        .iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .next_back()
        .ok_or("a summary line")?;
    assert_eq!(summary["outcome"], "failed", "{summary}");
    assert_eq!(summary["error"]["kind"], "dockerUnavailable", "{summary}");
    let hint = summary["error"]["hint"].as_str().unwrap_or_default();
    assert!(hint.contains("Start"), "{hint}");
    let history = cli(&fixture, &["history", "--json", "--project", &root]).output()?;
    let history: serde_json::Value = serde_json::from_slice(&history.stdout)?;
    // History keeps the error as the release said it: the same kind, sentence, hint, button
    // and detail. The terminal's hint is the CLI's own words, made when it prints, not kept.
    let mut said = summary["error"].clone();
    said["terminalHint"] = serde_json::Value::Null;
    assert_eq!(history[0]["error"], said, "{history}");
    Ok(())
}

/// Two releases, then a rollback to the first: the project's container runs the first
/// release's very image again, no gate ran, and the ledger records a rollback of it; with
/// no release given, the last good one before the live one is chosen; a release that never
/// went live is refused with the reason.
#[tokio::test]
async fn a_local_rollback_runs_the_first_releases_image_again() -> TestResult {
    let fixture = fixture("rollback", |_| Ok(()))?;
    let (first, _) = release(&fixture, Target::Local).await?;
    assert_eq!(first.outcome, Outcome::Live, "{:?}", first.message);
    // A file the image copies, so the second build is another image.
    std::fs::write(fixture.root.join("lettings/VERSION"), "2\n")?;
    let confirmed = ReleaseOptions {
        target: Some(Target::Local),
        confirm_dirty: true,
        confirmed_plan: None,
        ..ReleaseOptions::default()
    };
    let (second, _) = release_with(&fixture, &confirmed).await?;
    assert_eq!(second.outcome, Outcome::Live, "{:?}", second.message);
    let first_image = record(&fixture, &first.release_id)?
        .image_id
        .ok_or("the build's image id was kept")?;
    let second_image = record(&fixture, &second.release_id)?
        .image_id
        .ok_or("the build's image id was kept")?;
    assert_ne!(first_image, second_image, "the second build is another image");

    let engine = slipway::docker::connect()?;
    let container = project::container_name(&fixture.root);
    let events = Arc::new(Events::default());
    let rolled = pipeline::rollback(
        &fixture.context,
        &fixture.root,
        Some("local"),
        pipeline::RollbackTo::LastGood,
        &CancellationToken::new(),
        events.sink(),
    )
    .await?;
    assert_eq!(rolled.outcome, Outcome::Live, "{:?}", rolled.message);
    let running = engine.inspect_container(&container, None).await?;
    assert_eq!(
        running.image.as_deref(),
        Some(first_image.as_str()),
        "the first image runs"
    );
    let url = rolled.url.clone().ok_or("a live rollback has a URL")?;
    assert_eq!(fetch(&url).await?.0, 200);
    // The address stays the same from one release to the next (a bookmark keeps working),
    // and the container is named after its project.
    assert_eq!(first.url.as_deref(), Some(url.as_str()));
    assert_eq!(second.url.as_deref(), Some(url.as_str()));
    assert!(container.starts_with("slipway-rollback-"), "{container}");
    let stored = record(&fixture, &rolled.release_id)?;
    assert_eq!(stored.kind, "rollback");
    assert_eq!(stored.source_id.as_deref(), Some(first.release_id.as_str()));
    assert_eq!(
        step_states(&stored),
        [
            ("deploy".to_owned(), StepState::Passed),
            ("verify".to_owned(), StepState::Passed)
        ],
        "no gate ran"
    );
    assert!(!events.saw(|event| matches!(event, ReleaseEvent::Tests { .. })));

    // Back to the second by its id; a release that failed is refused before anything runs.
    let again = pipeline::rollback(
        &fixture.context,
        &fixture.root,
        Some("local"),
        pipeline::RollbackTo::Release(second.release_id.clone()),
        &CancellationToken::new(),
        Arc::new(Events::default()).sink(),
    )
    .await?;
    assert_eq!(again.outcome, Outcome::Live);
    let running = engine.inspect_container(&container, None).await?;
    assert_eq!(running.image.as_deref(), Some(second_image.as_str()));
    let before = fixture.context.ledger.releases(None, 100)?.len();
    let failed = slipway::history::NewRelease {
        id: "19700101T000000000Z-failed".to_owned(),
        project_path: fixture.root.display().to_string(),
        project_name: "rollback".to_owned(),
        user: "ann".to_owned(),
        target: Target::Local,
        ..slipway::history::NewRelease::default()
    };
    fixture.context.ledger.begin(&failed)?;
    fixture
        .context
        .ledger
        .finish(&failed.id, Outcome::Failed, &slipway::history::Ending::default())?;
    let refused = pipeline::rollback(
        &fixture.context,
        &fixture.root,
        Some("local"),
        pipeline::RollbackTo::Release(failed.id.clone()),
        &CancellationToken::new(),
        Arc::new(Events::default()).sink(),
    )
    .await;
    let error = refused.err().ok_or("a release that never went live is refused")?;
    assert!(error.message.contains("never went live"), "{}", error.message);
    assert_eq!(
        fixture.context.ledger.releases(None, 100)?.len(),
        before + 1,
        "nothing recorded"
    );

    // What is live is the container's release; once it is gone, History says so.
    let live = pipeline::live_now(&fixture.context, &fixture.root).await?;
    let local = live
        .iter()
        .find(|live| live.target == Target::Local)
        .ok_or("a Local answer")?;
    assert_eq!(
        local.release.as_ref().map(|release| release.id.as_str()),
        Some(again.release_id.as_str())
    );
    assert!(local.note.is_none(), "{:?}", local.note);

    // The "Running on this machine" card: the container of that release, its address, its
    // output; stopped, it has no address and History says nothing runs; restarted, it
    // answers at the same address again.
    let app = pipeline::local_app(&fixture.context, &fixture.root)
        .await?
        .ok_or("the project's container is listed")?;
    assert!(app.running);
    assert_eq!(app.name, container);
    assert_eq!(app.url.as_deref(), Some(url.as_str()));
    assert_eq!(app.release_id.as_deref(), Some(again.release_id.as_str()));
    assert_eq!(app.release.map(|release| release.id), Some(again.release_id.clone()));
    let output = pipeline::local_app_output(&fixture.data, &fixture.root, 0).await?;
    assert!(!output.lines.is_empty(), "the app printed something when it started");
    let stopped = pipeline::act_on_local_app(&fixture.context, &fixture.root, pipeline::AppAction::Stop)
        .await?
        .ok_or("a stopped container is still listed")?;
    assert!(!stopped.running);
    assert_eq!(stopped.state, pipeline::LocalAppState::Stopped);
    assert_eq!(stopped.url, None);
    let live = pipeline::live_now(&fixture.context, &fixture.root).await?;
    let note = live
        .iter()
        .find(|live| live.target == Target::Local)
        .and_then(|live| live.note.clone())
        .unwrap_or_default();
    assert!(note.starts_with("Nothing runs on this machine"), "{note}");
    let restarted = pipeline::act_on_local_app(&fixture.context, &fixture.root, pipeline::AppAction::Restart)
        .await?
        .ok_or("the restarted container is listed")?;
    assert!(restarted.running);
    assert_eq!(
        restarted.url.as_deref(),
        Some(url.as_str()),
        "the same address after a restart"
    );
    assert_eq!(restarted.state, pipeline::LocalAppState::Running);
    remove_project_containers(&fixture.root).await?;
    // Removed outside Slipway: the card says so, with the release that was live here, and
    // Run it again can work while that release's image is still on this machine.
    let removed = pipeline::local_app(&fixture.context, &fixture.root)
        .await?
        .ok_or("a release went live here: the removed app is still shown")?;
    assert_eq!(removed.state, pipeline::LocalAppState::Removed);
    assert!(!removed.running);
    assert_eq!(removed.url, None);
    assert_eq!(removed.release_id.as_deref(), Some(again.release_id.as_str()));
    assert!(removed.can_run_again, "the image is still here");
    let live = pipeline::live_now(&fixture.context, &fixture.root).await?;
    let local = live
        .iter()
        .find(|live| live.target == Target::Local)
        .ok_or("a Local answer")?;
    assert!(local.release.is_none());
    assert!(
        local
            .note
            .as_deref()
            .is_some_and(|note| note.starts_with("Nothing runs on this machine")),
        "{:?}",
        local.note
    );

    // Run it again: the release that was live here runs again, at the same address.
    let ran = pipeline::run_local_again(
        &fixture.context,
        &fixture.root,
        &CancellationToken::new(),
        Arc::new(Events::default()).sink(),
    )
    .await?;
    assert_eq!(ran.outcome, Outcome::Live, "{:?}", ran.message);
    let back = pipeline::local_app(&fixture.context, &fixture.root)
        .await?
        .ok_or("the app runs again")?;
    assert_eq!(back.state, pipeline::LocalAppState::Running);
    assert_eq!(back.url.as_deref(), Some(url.as_str()), "the same address");
    remove_project_containers(&fixture.root).await?;
    Ok(())
}

/// A release interrupted after its checks, build and push (the process died in the deploy)
/// is resumed: nothing verified as done runs again (the checks and build are carried over,
/// the registry already holds the image), the deploy and the live check run, and the ledger
/// links the resumed release to the original. One interrupted in its tests is refused, with
/// a fresh release as the way on.
#[tokio::test]
async fn an_interrupted_release_resumes_without_redoing_what_is_done() -> TestResult {
    let fixture = fixture("resume", |_| Ok(()))?;
    let (done, _) = release(&fixture, Target::Local).await?;
    assert_eq!(done.outcome, Outcome::Live, "{:?}", done.message);
    let built = record(&fixture, &done.release_id)?;
    remove_project_containers(&fixture.root).await?;

    // What a release that died in its deploy leaves in the ledger.
    let ledger = &fixture.context.ledger;
    let died = slipway::history::NewRelease {
        id: "20261125T090000000Z-died0001".to_owned(),
        project_path: fixture.root.display().to_string(),
        project_name: "resume".to_owned(),
        user: "ann".to_owned(),
        commit: built.commit.clone(),
        branch: built.branch.clone(),
        target: Target::Local,
        image: built.image.clone(),
        steps: vec![
            Step::Tests,
            Step::Lint,
            Step::Build,
            Step::Push,
            Step::Deploy,
            Step::Verify,
        ],
        ..slipway::history::NewRelease::default()
    };
    ledger.begin(&died)?;
    for step in [Step::Tests, Step::Lint, Step::Build, Step::Push] {
        ledger.step(&died.id, step, StepState::Passed, Some("done before the crash"))?;
    }
    ledger.step(&died.id, Step::Deploy, StepState::Running, None)?;
    ledger.note(
        &died.id,
        &slipway::history::Ending {
            image_id: built.image_id.clone(),
            digest: built.digest.clone(),
            ..slipway::history::Ending::default()
        },
    )?;
    ledger.finish(&died.id, Outcome::Interrupted, &slipway::history::Ending::default())?;

    let events = Arc::new(Events::default());
    let resumed = pipeline::resume(&fixture.context, &died.id, &CancellationToken::new(), events.sink()).await?;
    assert_eq!(resumed.outcome, Outcome::Live, "{:?}", resumed.message);
    assert!(
        !events.saw(|event| matches!(
            event,
            ReleaseEvent::Step {
                step: Step::Tests | Step::Build,
                state: StepState::Running,
                ..
            }
        )),
        "no check or build ran again"
    );
    let stored = record(&fixture, &resumed.release_id)?;
    assert_eq!(stored.kind, "resume");
    assert_eq!(stored.source_id.as_deref(), Some(died.id.as_str()));
    assert_eq!(
        step_record(&stored, "push").and_then(|step| step.summary.as_deref()),
        Some("already in the registry")
    );
    assert_eq!(stored.digest, built.digest);
    let url = resumed.url.clone().ok_or("a live resume has a URL")?;
    assert_eq!(fetch(&url).await?.0, 200);
    let running = slipway::docker::connect()?
        .inspect_container(&project::container_name(&fixture.root), None)
        .await?;
    assert_eq!(
        running.image, built.image_id,
        "the very image whose checks were carried over"
    );
    remove_project_containers(&fixture.root).await?;

    // Resumed once, it is superseded: resuming it again would ship older work over newer.
    let again = pipeline::resume(&fixture.context, &died.id, &CancellationToken::new(), Arc::new(|_| {}))
        .await
        .err()
        .ok_or("a superseded release is not resumed again")?;
    assert!(
        again.message.contains("resuming it would ship older work over newer"),
        "{}",
        again.message
    );

    // Interrupted in its tests: nothing can be trusted, so it is refused, and nothing recorded.
    let early = slipway::history::NewRelease {
        id: "20261125T090100000Z-died0002".to_owned(),
        ..died.clone()
    };
    ledger.begin(&early)?;
    ledger.step(&early.id, Step::Tests, StepState::Running, None)?;
    ledger.finish(&early.id, Outcome::Interrupted, &slipway::history::Ending::default())?;
    let before = ledger.releases(None, 100)?.len();
    let refused = pipeline::resume(&fixture.context, &early.id, &CancellationToken::new(), Arc::new(|_| {}))
        .await
        .err()
        .ok_or("an early interruption cannot be resumed")?;
    assert!(
        refused
            .message
            .contains("before its checks and its build had all passed"),
        "{}",
        refused.message
    );
    assert!(
        refused.hint.starts_with("Release the project again"),
        "{}",
        refused.hint
    );
    assert_eq!(ledger.releases(None, 100)?.len(), before, "nothing recorded");
    Ok(())
}

/// A data folder on a small filesystem of its own (a tmpfs), unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    /// Moves `dir`'s files onto a fresh tmpfs of `megabytes` mounted at `dir`.
    fn under(dir: &Path, megabytes: u32) -> Result<Self, Box<dyn std::error::Error>> {
        let kept = tempfile::tempdir()?;
        let copy = |from: &Path, to: &Path| -> Result<(), Box<dyn std::error::Error>> {
            let status = std::process::Command::new("cp")
                .args(["-a", &format!("{}/.", from.display()), &to.display().to_string()])
                .status()?;
            status.success().then_some(()).ok_or_else(|| "cp failed".into())
        };
        copy(dir, kept.path())?;
        let mounted = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={megabytes}m"),
                "tmpfs",
                &dir.display().to_string(),
            ])
            .status()?;
        if !mounted.success() {
            return Err("mounting a tmpfs needs root (the test command runs as root)".into());
        }
        let disk = Self(dir.to_path_buf());
        copy(kept.path(), dir)?;
        Ok(disk)
    }

    /// Fills what is left of the disk.
    fn fill(&self) -> std::io::Result<()> {
        use std::io::Write;
        let mut filler = std::fs::File::create(self.0.join("filler"))?;
        let chunk = vec![0u8; 64 * 1024];
        while filler.write_all(&chunk).is_ok() {}
        let _ = filler.flush();
        Ok(())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .args(["-l", &self.0.display().to_string()])
            .status();
    }
}

/// The disk fills up while a release runs: it still goes live and the history still says so
/// (from the space it keeps aside), the release says to free some space, and the history can
/// be read on the full disk.
#[tokio::test]
async fn a_release_on_a_full_disk_is_recorded_live_and_says_so() -> TestResult {
    let mut fixture = fixture("disk-full", |_| Ok(()))?;
    let disk = Arc::new(SmallDisk::under(&fixture.data, 24)?);
    let filler = disk.clone();
    fixture.context.ledger = slipway::history::Ledger::open(&fixture.data)?;
    let filled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let passed = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let fill_once = filled.clone();
    let sink: ReleaseSink = Arc::new(move |event| {
        if let ReleaseEvent::Step {
            step,
            state: StepState::Passed,
            ..
        } = event
        {
            let ready = passed
                .lock()
                .map(|mut passed| {
                    passed.insert(step);
                    [Step::Tests, Step::Lint, Step::Build]
                        .iter()
                        .all(|gate| passed.contains(gate))
                })
                .unwrap_or(false);
            if ready && !fill_once.swap(true, std::sync::atomic::Ordering::SeqCst) {
                let _ = filler.fill();
            }
        }
    });
    let options = ReleaseOptions {
        target: Some(Target::Local),
        confirm_dirty: false,
        confirmed_plan: None,
        ..ReleaseOptions::default()
    };
    let summary = pipeline::release(
        &fixture.context,
        &fixture.root,
        &options,
        &CancellationToken::new(),
        sink,
    )
    .await?;
    assert!(
        filled.load(std::sync::atomic::Ordering::SeqCst),
        "the disk was filled mid-release"
    );
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    let message = summary.message.clone().unwrap_or_default();
    assert!(message.contains("The disk is full"), "{message}");
    let stored = record(&fixture, &summary.release_id)?;
    assert_eq!(stored.outcome, Outcome::Live, "recorded as what happened");

    // Read on the full disk, by a new process.
    let root = fixture.root.display().to_string();
    let output = cli(&fixture, &["history", "--json", "--project", &root]).output()?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let history: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(history[0]["outcome"], "live", "{history}");
    drop(disk);
    remove_project_containers(&fixture.root).await
}

/// A keyring of the test's own: the pipeline must read every secret through the store its
/// context was given, never the OS keyring behind its back.
#[derive(Default)]
struct GivenKeyring(std::sync::Mutex<std::collections::HashMap<String, String>>);

impl slipway::secrets::SecretBackend for GivenKeyring {
    fn set(&self, entry: &str, secret: &str) -> Result<(), slipway::secrets::KeyringError> {
        if let Ok(mut kept) = self.0.lock() {
            kept.insert(entry.to_owned(), secret.to_owned());
        }
        Ok(())
    }
    fn get(&self, entry: &str) -> Result<Option<String>, slipway::secrets::KeyringError> {
        Ok(self.0.lock().ok().and_then(|kept| kept.get(entry).cloned()))
    }
    fn delete(&self, entry: &str) -> Result<(), slipway::secrets::KeyringError> {
        if let Ok(mut kept) = self.0.lock() {
            kept.remove(entry);
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_release_reads_its_secrets_from_the_store_it_was_given() -> TestResult {
    use slipway::secrets::{SecretStore, Service};
    let mut fixture = fixture("given-store", |_| Ok(()))?;
    let registry = test_registry();
    // The registry login leaves the OS keyring and goes to the test's own store only.
    SecretStore::os(&fixture.data).delete(Service::Registry, &registry.address)?;
    let given = SecretStore::new(&fixture.data, Box::new(GivenKeyring::default()));
    let mut login = slipway::secrets::Account::new(Service::Registry, &registry.address, "test");
    login.username = Some(registry.user.clone());
    given.save(&login, &registry.password)?;
    assert!(
        SecretStore::os(&fixture.data)
            .secret(Service::Registry, &registry.address)
            .is_err(),
        "the OS keyring holds no login for the registry"
    );
    fixture.context.secrets = given;
    let (summary, _) = release(&fixture, Target::Local).await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    let pushed = step_record(&record(&fixture, &summary.release_id)?, "push")
        .map(|step| step.state)
        .ok_or("a push step")?;
    assert_eq!(pushed, StepState::Passed, "the password registry took the given login");
    Ok(())
}

/// Migrations added between two releases: rolling back past them says so before it asks (the
/// CLI's output), and the rollback's deploy step keeps the sentence; rolling forward says nothing.
#[tokio::test]
async fn a_rollback_past_migrations_names_them_first() -> TestResult {
    let fixture = fixture("migrations", |root| {
        let migrations = root.join("lettings/migrations");
        std::fs::create_dir_all(&migrations)?;
        std::fs::write(migrations.join("__init__.py"), "")?;
        std::fs::write(migrations.join("0001_initial.py"), "operations = []\n")
    })?;
    let (first, _) = release(&fixture, Target::Local).await?;
    assert_eq!(first.outcome, Outcome::Live, "{:?}", first.message);
    for name in ["0002_add_price", "0003_discount"] {
        std::fs::write(
            fixture.root.join(format!("lettings/migrations/{name}.py")),
            "operations = []\n",
        )?;
    }
    support::git(&fixture.root, &["add", "."])?;
    support::git(&fixture.root, &["commit", "-qm", "prices"])?;
    let (second, _) = release(&fixture, Target::Local).await?;
    assert_eq!(second.outcome, Outcome::Live, "{:?}", second.message);

    let sentence = "The database keeps the changes of lettings 0002_add_price and 0003_discount; \
                    the older code may not work with them.";
    let asked = pipeline::rollback_crossing(
        &fixture.context,
        &fixture.root,
        Some("local"),
        pipeline::RollbackTo::Release(first.release_id.clone()),
    )
    .await?;
    assert_eq!(asked.warning.as_deref(), Some(sentence));
    assert_eq!(asked.migrations.len(), 2);

    let root = fixture.root.display().to_string();
    let output = cli(
        &fixture,
        &["rollback", "--project", &root, "--to", &first.release_id, "--yes"],
    )
    .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let first_line = stdout.lines().next().unwrap_or_default();
    assert_eq!(first_line, sentence, "said before anything else:\n{stdout}");
    let rolled = fixture
        .context
        .ledger
        .list(&slipway::history::HistoryFilter {
            project_path: Some(root.clone()),
            limit: Some(1),
            ..slipway::history::HistoryFilter::default()
        })?
        .into_iter()
        .next()
        .ok_or("the rollback is in the ledger")?;
    assert_eq!(rolled.kind, "rollback");
    let deploy_lines = fixture.context.ledger.log_lines(&rolled.id, "deploy")?;
    assert!(
        deploy_lines.iter().any(|line| line.contains(sentence)),
        "{deploy_lines:?}"
    );

    // Forward again, to the release that has them: nothing is crossed, nothing said.
    let forward = pipeline::rollback_crossing(
        &fixture.context,
        &fixture.root,
        Some("local"),
        pipeline::RollbackTo::Release(second.release_id.clone()),
    )
    .await?;
    assert_eq!(forward.warning, None);
    assert!(forward.migrations.is_empty());
    Ok(())
}
