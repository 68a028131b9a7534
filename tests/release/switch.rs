//! Local deploys never take the running app down: a new image whose live check fails, a
//! cancel and a SIGKILL at the start of the live check (of a release and of a rollback) all
//! leave the app that answered before answering, at the same address; a good release then
//! takes that address.

use super::*;

/// The address answers 200 with the example's page.
async fn answers(url: &str) -> TestResult {
    let (status, body) = fetch(url).await?;
    assert_eq!(status, 200, "{url}: {body}");
    assert!(body.contains("Lettings"), "{url}: {body}");
    Ok(())
}

/// The image the project's serving container runs, and how many containers it has.
async fn running_image(fixture: &Fixture) -> Result<(String, usize), Box<dyn std::error::Error>> {
    let engine = slipway::docker::connect()?;
    let id = project::project_id(&fixture.root);
    let containers = slipway::docker::project_containers(&engine, &id).await?;
    let serving = engine
        .inspect_container(&project::container_name(&fixture.root), None)
        .await?;
    assert_eq!(
        serving.state.and_then(|state| state.running),
        Some(true),
        "the project's container runs"
    );
    Ok((serving.image.unwrap_or_default(), containers.len()))
}

/// Runs `start` and cancels it once the live check is under way.
async fn cancel_in_live_check<F>(
    start: F,
    events: &Events,
    cancel: CancellationToken,
) -> Result<ReleaseSummary, Box<dyn std::error::Error>>
where
    F: std::future::Future<Output = Result<ReleaseSummary, slipway::error::AppError>>,
{
    let in_check = |event: &ReleaseEvent| {
        matches!(
            event,
            ReleaseEvent::Step {
                step: Step::Verify,
                state: StepState::Running,
                ..
            }
        )
    };
    let watcher = async {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !events.saw(in_check) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        cancel.cancel();
    };
    let (summary, ()) = tokio::join!(start, watcher);
    Ok(summary?)
}

#[tokio::test]
async fn the_running_app_answers_through_a_failed_check_a_cancel_and_a_kill() -> TestResult {
    let fixture = fixture("switch", |_| Ok(()))?;
    let (first, _) = release(&fixture, Target::Local).await?;
    assert_eq!(first.outcome, Outcome::Live, "{:?}", first.message);
    let url = first.url.clone().ok_or("a live release has its address")?;
    answers(&url).await?;
    let (first_image, _) = running_image(&fixture).await?;

    // A new image whose live check never passes.
    std::fs::write(fixture.root.join("lettings/VERSION"), "2\n")?;
    support::git(&fixture.root, &["add", "-A"])?;
    support::git(&fixture.root, &["commit", "-qm", "version 2"])?;
    change_settings(&fixture, |settings| {
        settings.health_path = Some("/never-answers".to_owned());
        settings.health_timeout_secs = Some(3);
    })?;
    let (failed, _) = release(&fixture, Target::Local).await?;
    assert_eq!(failed.outcome, Outcome::Failed, "{:?}", failed.message);
    assert!(
        failed
            .message
            .as_deref()
            .is_some_and(|message| message.ends_with("The app that ran before was not touched.")),
        "{:?}",
        failed.message
    );
    answers(&url).await?;
    assert_eq!(
        running_image(&fixture).await?,
        (first_image.clone(), 1),
        "only the first runs"
    );

    // Cancelled (Ctrl-C) at the start of a release's live check.
    change_settings(&fixture, |settings| settings.health_timeout_secs = Some(60))?;
    let events = Arc::new(Events::default());
    let cancel = CancellationToken::new();
    let options = ReleaseOptions {
        target: Some(Target::Local),
        no_cache: true,
        ..ReleaseOptions::default()
    };
    let cancelled = cancel_in_live_check(
        pipeline::release(&fixture.context, &fixture.root, &options, &cancel, events.sink()),
        &events,
        cancel.clone(),
    )
    .await?;
    assert_eq!(cancelled.outcome, Outcome::Canceled, "{:?}", cancelled.message);
    answers(&url).await?;
    assert_eq!(running_image(&fixture).await?, (first_image.clone(), 1));

    // Cancelled at the start of a rollback's live check.
    let events = Arc::new(Events::default());
    let cancel = CancellationToken::new();
    let rolled = cancel_in_live_check(
        pipeline::rollback(
            &fixture.context,
            &fixture.root,
            Some("local"),
            pipeline::RollbackTo::Release(first.release_id.clone()),
            &cancel,
            events.sink(),
        ),
        &events,
        cancel.clone(),
    )
    .await?;
    assert_eq!(rolled.outcome, Outcome::Canceled, "{:?}", rolled.message);
    answers(&url).await?;
    assert_eq!(running_image(&fixture).await?, (first_image.clone(), 1));

    // Killed (SIGKILL) at the start of the live check: the new container is left beside the
    // running one, which still answers; the next start removes it.
    let root = fixture.root.display().to_string();
    let mut child = cli(
        &fixture,
        &["release", "--project", &root, "--target", "local", "--no-cache"],
    )
    .stdout(std::process::Stdio::piped())
    .spawn()?;
    let stdout = child.stdout.take().ok_or("stdout is piped")?;
    let mut seen = false;
    for line in BufReader::new(stdout).lines() {
        if line?.starts_with("[verify] running") {
            seen = true;
            break;
        }
    }
    child.kill()?;
    child.wait()?;
    assert!(seen, "the release reached its live check");
    answers(&url).await?;
    let engine = slipway::docker::connect()?;
    let id = project::project_id(&fixture.root);
    assert_eq!(
        slipway::docker::project_containers(&engine, &id).await?.len(),
        2,
        "the killed release's container is beside the running one"
    );
    // Another data folder (another user of the engine) leaves it: not its project.
    let stranger = tempfile::tempdir()?;
    assert_eq!(pipeline::put_right_containers(stranger.path()).await, 0);
    assert_eq!(slipway::docker::project_containers(&engine, &id).await?.len(), 2);
    assert_eq!(pipeline::put_right_containers(&fixture.data).await, 1);
    answers(&url).await?;
    assert_eq!(running_image(&fixture).await?, (first_image.clone(), 1));

    // A good release takes the same address, and only it runs.
    change_settings(&fixture, |settings| settings.health_path = None)?;
    let (good, _) = release(&fixture, Target::Local).await?;
    assert_eq!(good.outcome, Outcome::Live, "{:?}", good.message);
    assert_eq!(good.url.as_deref(), Some(url.as_str()), "the same address");
    answers(&url).await?;
    let (image, containers) = running_image(&fixture).await?;
    assert_ne!(image, first_image, "the new image runs");
    assert_eq!(containers, 1, "the previous container was retired");

    // The example runs as `python -m lettings`, which sets no handler for the stop signal:
    // under the engine's init it stops when asked, not after the engine's 10 s of grace.
    let stopping = Instant::now();
    slipway::docker::stop_container(&engine, &project::container_name(&fixture.root)).await?;
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "the app took {:?} to stop",
        stopping.elapsed()
    );
    Ok(())
}

/// A switch a killed Slipway left half-done (the previous container stopped and renamed, the
/// new one not yet answering) is undone at the next start: the previous one answers again.
#[tokio::test]
async fn a_half_done_switch_is_put_right_at_the_next_start() -> TestResult {
    let fixture = fixture("half-switch", |_| Ok(()))?;
    let (first, _) = release(&fixture, Target::Local).await?;
    assert_eq!(first.outcome, Outcome::Live, "{:?}", first.message);
    let url = first.url.clone().ok_or("a live release has its address")?;
    let (first_image, _) = running_image(&fixture).await?;

    // What `switch_to` leaves when killed right after it started the new container.
    let engine = slipway::docker::connect()?;
    let name = project::container_name(&fixture.root);
    let request = slipway::docker::RunRequest {
        image: first_image.clone(),
        name: name.clone(),
        container_port: 8000,
        project_id: project::project_id(&fixture.root),
        release_id: "killed-half-way".to_owned(),
        env: vec![("PORT".to_owned(), "8000".to_owned())],
        preferred_port: None,
        engine: slipway::docker::EngineEndpoint::from_env(),
    };
    slipway::docker::switch_to(&engine, &request).await?;
    let retiring = engine.inspect_container(&format!("{name}-retiring"), None).await?;
    assert_eq!(
        retiring.state.and_then(|state| state.running),
        Some(false),
        "the previous one is stopped, kept aside"
    );

    assert_eq!(pipeline::put_right_containers(&fixture.data).await, 1);
    // Started again, it answers once its server is up.
    let deadline = Instant::now() + Duration::from_secs(30);
    while fetch(&url).await.is_err() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    answers(&url).await?;
    let serving = engine.inspect_container(&name, None).await?;
    assert_eq!(
        serving
            .config
            .and_then(|config| config.labels)
            .and_then(|labels| labels.get(slipway::docker::RELEASE_LABEL).cloned()),
        Some(first.release_id.clone()),
        "the release that went live runs again"
    );
    assert_eq!(running_image(&fixture).await?.1, 1);
    Ok(())
}

/// Whether the release's deploy ran a trial container of its image beside the running one.
fn tried_beside(events: &Events) -> bool {
    events.saw(
        |event| matches!(event, ReleaseEvent::Log { line, .. } if line.starts_with("the new container runs beside")),
    )
}

/// An unchanged tree released again: the very image with the same values runs already, so no
/// trial container is started; the switch still gives the new release its own container.
/// A changed value needs the trial again.
#[tokio::test]
async fn the_same_image_with_the_same_values_switches_without_a_trial() -> TestResult {
    let fixture = fixture("twin", |_| Ok(()))?;
    let (first, events) = release(&fixture, Target::Local).await?;
    assert_eq!(first.outcome, Outcome::Live, "{:?}", first.message);
    assert!(tried_beside(&events), "the first image is tried beside nothing");
    let url = first.url.clone().ok_or("a live release has its address")?;

    let (again, events) = release(&fixture, Target::Local).await?;
    assert_eq!(again.outcome, Outcome::Live, "{:?}", again.message);
    assert!(!tried_beside(&events), "no trial of the image that runs already");
    assert!(events.saw(
        |event| matches!(event, ReleaseEvent::Log { line, .. } if line.contains("runs already with the same values"))
    ));
    assert_eq!(again.url.as_deref(), Some(url.as_str()), "the same address");
    answers(&url).await?;
    let engine = slipway::docker::connect()?;
    let serving = slipway::docker::project_container(&engine, &project::project_id(&fixture.root))
        .await?
        .ok_or("the project's container")?;
    assert_eq!(
        serving.release_id.as_deref(),
        Some(again.release_id.as_str()),
        "the new release's container serves"
    );

    change_settings(&fixture, |settings| {
        settings.env.insert("GREETING".to_owned(), "hello".to_owned());
    })?;
    let (changed, events) = release(&fixture, Target::Local).await?;
    assert_eq!(changed.outcome, Outcome::Live, "{:?}", changed.message);
    assert!(tried_beside(&events), "a new value is tried before the switch");
    Ok(())
}
