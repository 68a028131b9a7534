//! Render through its stand-in: deploys by digest, 201 and 202, failures, 429, cancel, the
//! deploy hook, and a service configured with another image.

use super::*;

pub(super) struct RenderSetup {
    pub(super) fixture: Fixture,
    pub(super) render: standin::StandIn,
}

pub(super) async fn render_setup(name: &str, script: DeployScript) -> Result<RenderSetup, Box<dyn std::error::Error>> {
    let registry = test_registry();
    let repository = format!("{}/ann/{name}", registry.address);
    let mut fixture = fixture(name, |_| Ok(()))?;
    change_settings(&fixture, |settings| {
        settings.image_repository = Some(repository.clone())
    })?;
    let service_image = format!("{repository}:latest");
    let render = render_deploy_stand_in(service_image.clone(), script).await?;
    SecretStore::os(&fixture.data).save(&Account::new(Service::Render, "default", "test"), "rnd_good")?;
    link_render(&fixture, "production", "srv-web", &service_image)?;
    fixture.context.settings.render_api_url = Some(format!("{}/v1", render.base));
    Ok(RenderSetup { fixture, render })
}

/// A Render release of `setup`, cancelled as soon as its deploy reports `status`.
async fn render_release_cancelled_at(
    setup: &RenderSetup,
    status: &str,
) -> Result<ReleaseSummary, slipway::error::AppError> {
    let events = Arc::new(Events::default());
    let cancel = CancellationToken::new();
    let options = ReleaseOptions {
        target: Some(Target::Render),
        confirm_dirty: false,
        confirmed_plan: None,
        ..ReleaseOptions::default()
    };
    let running = pipeline::release(
        &setup.fixture.context,
        &setup.fixture.root,
        &options,
        &cancel,
        events.sink(),
    );
    let watcher = async {
        while !deploy_statuses(&events).iter().any(|seen| seen == status) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        cancel.cancel();
    };
    let (summary, ()) = tokio::join!(running, watcher);
    summary
}

pub(super) fn deploy_statuses(events: &Events) -> Vec<String> {
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
        Some(format!("{}/site/srv-web", setup.render.base).as_str())
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

/// Render's ordinary minute-long rate limit on the trigger is waited for with a countdown,
/// and a cancel during the wait ends it at once: nothing is sent after it.
#[tokio::test]
async fn a_cancel_during_renders_rate_limit_wait_ends_it_and_sends_nothing() -> TestResult {
    let mut script = DeployScript::new(201, &["live"]).rate_limited();
    script.rate_limit_reset = 58;
    let setup = render_setup("render-limit-cancel", script).await?;
    let events = Arc::new(Events::default());
    let cancel = CancellationToken::new();
    let options = ReleaseOptions {
        target: Some(Target::Render),
        confirm_dirty: false,
        confirmed_plan: None,
        ..ReleaseOptions::default()
    };
    let running = pipeline::release(
        &setup.fixture.context,
        &setup.fixture.root,
        &options,
        &cancel,
        events.sink(),
    );
    let cancelled_at = Arc::new(Mutex::new(None));
    let when = cancelled_at.clone();
    let watcher = async {
        while !deploy_statuses(&events)
            .iter()
            .any(|status| status.starts_with("Render rate limit: waiting"))
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        if let Ok(mut when) = when.lock() {
            *when = Some(Instant::now());
        }
        cancel.cancel();
    };
    let (summary, ()) = tokio::join!(running, watcher);
    let summary = summary?;
    let took = cancelled_at
        .lock()
        .ok()
        .and_then(|when| *when)
        .map(|when| when.elapsed())
        .ok_or("cancelled")?;
    assert_eq!(summary.outcome, Outcome::Canceled, "{:?}", summary.message);
    assert!(took < Duration::from_secs(5), "the wait ended at once: {took:?}");
    let countdown: Vec<String> = deploy_statuses(&events)
        .into_iter()
        .filter(|status| status.starts_with("Render rate limit"))
        .collect();
    assert!(countdown.len() >= 2, "a countdown: {countdown:?}");
    assert!(
        countdown[0].contains("58 s") || countdown[0].contains("59 s"),
        "{countdown:?}"
    );
    let triggers = setup
        .render
        .received()
        .iter()
        .filter(|request| request.method == "POST" && request.path().ends_with("/deploys"))
        .count();
    assert_eq!(triggers, 1, "nothing was sent after the cancel");
    assert_eq!(
        step_record(&record(&setup.fixture, &summary.release_id)?, "deploy").map(|step| step.state),
        Some(StepState::Canceled)
    );
    Ok(())
}

#[tokio::test]
async fn cancelling_a_render_deploy_cancels_it_on_render() -> TestResult {
    let setup = render_setup("render-cancel", DeployScript::new(201, &["update_in_progress"])).await?;
    let summary = render_release_cancelled_at(&setup, "update_in_progress").await?;
    assert_eq!(summary.outcome, Outcome::Canceled);
    assert_eq!(
        summary.deploy_id.as_deref(),
        Some("dep-1"),
        "the summary names the deploy"
    );
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

/// A cancel that reaches Render as the deploy goes live: Render refuses it, and the release
/// is recorded as what it is, live, saying the cancel came too late.
#[tokio::test]
async fn a_cancel_that_comes_too_late_records_the_release_live() -> TestResult {
    let mut script = DeployScript::new(201, &["update_in_progress", "live"]);
    script.cancel_too_late = true;
    let setup = render_setup("render-late-cancel", script).await?;
    let summary = render_release_cancelled_at(&setup, "update_in_progress").await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    let message = summary.message.clone().unwrap_or_default();
    assert!(message.contains("the cancel came too late"), "{message}");
    let stored = record(&setup.fixture, &summary.release_id)?;
    assert_eq!(stored.outcome, Outcome::Live);
    assert_eq!(stored.deploy_status.as_deref(), Some("live"));
    assert_eq!(
        step_record(&stored, "deploy").map(|step| step.state),
        Some(StepState::Passed)
    );
    assert!(setup
        .render
        .received()
        .iter()
        .any(|request| request.method == "POST" && request.path().ends_with("/cancel")));
    Ok(())
}

/// Render stops answering while the deploy builds: the record keeps the last status seen
/// (not the first), and says the deploy may still finish.
#[tokio::test]
async fn render_gone_mid_deploy_keeps_the_last_status_and_says_it_may_finish() -> TestResult {
    let mut script = DeployScript::new(201, &["build_in_progress", "update_in_progress", "live"]);
    script.unreachable_after_reads = Some(1);
    let setup = render_setup("render-gone", script).await?;
    let (summary, _) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(summary.outcome, Outcome::Failed, "{:?}", summary.message);
    let message = summary.message.clone().unwrap_or_default();
    assert!(message.contains("may still finish"), "{message}");
    assert!(message.contains("build_in_progress"), "{message}");
    let stored = record(&setup.fixture, &summary.release_id)?;
    assert_eq!(
        stored.deploy_status.as_deref(),
        Some("build_in_progress"),
        "the last status seen"
    );
    assert_eq!(stored.deploy_id.as_deref(), Some("dep-1"));
    Ok(())
}

#[tokio::test]
async fn a_deploy_hook_alone_deploys_the_digest_without_a_key() -> TestResult {
    let setup = render_setup("render-hook", DeployScript::new(201, &["live"])).await?;
    let store = SecretStore::os(&setup.fixture.data);
    store.delete(Service::Render, "default")?;
    let mut hook = Account::new(Service::Render, "deploy-hook", "test");
    hook.render_service = Some("srv-web".to_owned());
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
    let pushed = format!("{}/ann/render-mismatch", test_registry().address);
    change_settings(&setup.fixture, |settings| {
        settings.environments.list[0].image_repository = Some(pushed.clone());
        if let Some(service) = settings.environments.list[0].render_service.as_mut() {
            service.image = Some("docker.io/someone/else:latest".to_owned());
        }
    })?;
    let error = release(&setup.fixture, Target::Render)
        .await
        .err()
        .ok_or("a mismatch must be refused")?;
    assert!(
        error.message.contains("Render only accepts a new tag or digest"),
        "{}",
        error.message
    );
    assert_eq!(error.action, Some(slipway::error::ErrorAction::UseServiceImage));
    assert!(error.hint.contains("docker.io/someone/else"), "{}", error.hint);
    assert!(setup.render.received().iter().all(|request| request.method != "POST"));
    Ok(())
}

/// Two Render releases, then a rollback to the first: Render is asked to roll back to the
/// first's deploy (as the contract has it), the new deploy runs the first's image and is
/// followed to live, and the ledger records a rollback of the first.
#[tokio::test]
async fn a_render_rollback_returns_to_the_first_deploy() -> TestResult {
    let setup = render_setup("render-rollback", DeployScript::new(201, &["live"])).await?;
    let (first, _) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(first.outcome, Outcome::Live, "{:?}", first.message);
    std::fs::write(setup.fixture.root.join("lettings/VERSION"), "2\n")?;
    let confirmed = ReleaseOptions {
        target: Some(Target::Render),
        confirm_dirty: true,
        confirmed_plan: None,
        ..ReleaseOptions::default()
    };
    let (second, _) = release_with(&setup.fixture, &confirmed).await?;
    assert_eq!(second.outcome, Outcome::Live, "{:?}", second.message);
    assert_ne!(first.digest, second.digest);

    let events = Arc::new(Events::default());
    let rolled = pipeline::rollback(
        &setup.fixture.context,
        &setup.fixture.root,
        Some("production"),
        pipeline::RollbackTo::LastGood,
        &CancellationToken::new(),
        events.sink(),
    )
    .await?;
    assert_eq!(rolled.outcome, Outcome::Live, "{:?}", rolled.message);
    let asked = setup
        .render
        .received()
        .into_iter()
        .find(|request| request.path().ends_with("/rollback"))
        .ok_or("Render was asked to roll back")?;
    let body: serde_json::Value = serde_json::from_str(&asked.body)?;
    assert_eq!(
        body["deployId"],
        first.deploy_id.clone().ok_or("the first deploy's id")?
    );
    let new_deploy = rolled.deploy_id.clone().ok_or("the rollback's deploy")?;
    assert_eq!(new_deploy, "dep-3");
    assert!(
        setup
            .render
            .received()
            .iter()
            .any(|request| request.path().ends_with(&format!("/deploys/{new_deploy}"))),
        "the new deploy was followed"
    );
    let stored = record(&setup.fixture, &rolled.release_id)?;
    assert_eq!(stored.kind, "rollback");
    assert_eq!(stored.source_id.as_deref(), Some(first.release_id.as_str()));
    assert_eq!(stored.deploy_id.as_deref(), Some("dep-3"));
    assert_eq!(stored.digest, first.digest, "the first's image");
    // Render's own list says the rollback's deploy is live, and History matches it.
    let live = pipeline::live_now(&setup.fixture.context, &setup.fixture.root).await?;
    let on_render = live
        .iter()
        .find(|live| live.target == Target::Render)
        .ok_or("a Render answer")?;
    assert_eq!(
        on_render.release.as_ref().map(|release| release.id.as_str()),
        Some(rolled.release_id.as_str()),
        "{:?}",
        on_render.note
    );
    Ok(())
}

/// A release that went live on this machine is promoted to Render: no rebuild and no gate
/// run, the very image (same engine id, same registry digest) deployed by digest, and the
/// ledger records a promotion of it with its gate results carried over and marked.
#[tokio::test]
async fn promoting_a_local_release_ships_its_very_image_to_render() -> TestResult {
    let setup = render_setup("render-promote", DeployScript::new(201, &["live"])).await?;
    let (rehearsed, _) = release(&setup.fixture, Target::Local).await?;
    assert_eq!(rehearsed.outcome, Outcome::Live, "{:?}", rehearsed.message);
    let rehearsed_digest = rehearsed.digest.clone().ok_or("the local release pushed")?;

    let events = Arc::new(Events::default());
    let promoted = pipeline::promote(
        &setup.fixture.context,
        &rehearsed.release_id,
        None,
        &CancellationToken::new(),
        events.sink(),
    )
    .await?;
    assert_eq!(promoted.outcome, Outcome::Live, "{:?}", promoted.message);
    assert_eq!(promoted.digest.as_deref(), Some(rehearsed_digest.as_str()));
    assert!(
        !events.saw(|event| matches!(
            event,
            ReleaseEvent::Step {
                step: Step::Build | Step::Tests,
                state: StepState::Running,
                ..
            }
        )),
        "nothing was rebuilt or run again"
    );
    let triggered = setup
        .render
        .received()
        .into_iter()
        .find(|request| request.method == "POST" && request.path().ends_with("/deploys"))
        .ok_or("Render was asked to deploy")?;
    let body: serde_json::Value = serde_json::from_str(&triggered.body)?;
    let image_url = body["imageUrl"].as_str().unwrap_or_default();
    assert!(image_url.ends_with(&format!("@{rehearsed_digest}")), "{image_url}");

    let stored = record(&setup.fixture, &promoted.release_id)?;
    let source = record(&setup.fixture, &rehearsed.release_id)?;
    assert_eq!(stored.kind, "promote");
    assert_eq!(stored.target, "render");
    assert_eq!(stored.source_id.as_deref(), Some(rehearsed.release_id.as_str()));
    assert_eq!(stored.image_id, source.image_id, "the same image, byte for byte");
    let tests = step_record(&stored, "tests").ok_or("the tests step is carried over")?;
    assert_eq!(tests.state, StepState::Passed);
    assert!(
        tests
            .summary
            .as_deref()
            .is_some_and(|summary| summary.starts_with(&format!("carried over from {}", source.name()))),
        "{:?}",
        tests.summary
    );
    let carried_results = setup.fixture.context.ledger.results(&promoted.release_id)?;
    assert_eq!(
        carried_results.len(),
        setup.fixture.context.ledger.results(&rehearsed.release_id)?.len()
    );
    assert!(carried_results.iter().any(|result| result.step == "tests"));

    // A Render release is not a rehearsal: promoting it is refused, and nothing is recorded.
    let refused = pipeline::promote(
        &setup.fixture.context,
        &promoted.release_id,
        None,
        &CancellationToken::new(),
        Arc::new(|_| {}),
    )
    .await
    .err()
    .ok_or("promoting a Render release must be refused")?;
    assert!(
        refused.message.contains("is the last environment of the project"),
        "{}",
        refused.message
    );
    Ok(())
}

/// Render refuses or fails the rollback call (401, 429 an hour away, 500, 503): the rollback
/// ends failed with a plain message and the kind that says what to do, and the ledger says the
/// same; a 404 (the deploy is gone) ships the image again by digest. Then the connected service is another one: refused before any call.
#[tokio::test]
async fn a_render_rollback_that_render_refuses_ends_with_a_true_ledger() -> TestResult {
    let script = DeployScript::new(201, &["live"]);
    let fault = script.rollback_fault.clone();
    let setup = render_setup("render-rollback-faults", script).await?;
    let (first, _) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(first.outcome, Outcome::Live, "{:?}", first.message);
    let cancel = CancellationToken::new();
    let to_first = || {
        pipeline::rollback(
            &setup.fixture.context,
            &setup.fixture.root,
            Some("production"),
            pipeline::RollbackTo::Release(first.release_id.clone()),
            &cancel,
            Arc::new(|_| {}),
        )
    };
    for (status, kind, words) in [
        (401, "registryAuth", "did not accept your token"),
        (429, "rateLimited", "slow down"),
        (500, "network", "having trouble"),
        (503, "network", "having trouble"),
    ] {
        fault.store(status, std::sync::atomic::Ordering::SeqCst);
        let rolled = to_first().await?;
        assert_eq!(rolled.outcome, Outcome::Failed, "{status}: {:?}", rolled.message);
        let error = rolled.error.clone().ok_or("the error is kept")?;
        assert_eq!(error.kind.as_str(), kind, "{status}");
        let stored = record(&setup.fixture, &rolled.release_id)?;
        assert_eq!(stored.kind, "rollback");
        assert_eq!(stored.outcome, Outcome::Failed);
        // Kept whole: History shows the sentence, hint, button and detail the rollback did.
        assert_eq!(stored.error.as_ref(), Some(&error), "{status}");
        let message = stored.message.clone().unwrap_or_default();
        assert!(message.contains(words), "{status}: {message}");
        assert!(
            !message.contains(&status.to_string()),
            "no status code in the words: {message}"
        );
        assert_eq!(
            step_record(&stored, "deploy").map(|step| step.state),
            Some(StepState::Failed),
            "{status}"
        );
    }
    // A 404 is Render no longer having that deploy: its image goes again by digest.
    fault.store(404, std::sync::atomic::Ordering::SeqCst);
    let rolled = to_first().await?;
    assert_eq!(rolled.outcome, Outcome::Live, "{:?}", rolled.message);
    let said = rolled.message.clone().unwrap_or_default();
    assert!(said.contains("beyond Render's history"), "{said}");
    fault.store(0, std::sync::atomic::Ordering::SeqCst);

    change_settings(&setup.fixture, |settings| {
        if let Some(service) = settings.environments.list[0].render_service.as_mut() {
            service.id = "srv-other".to_owned();
        }
    })?;
    let rollbacks_before = setup
        .render
        .received()
        .iter()
        .filter(|request| request.path().ends_with("/rollback"))
        .count();
    let refused = to_first().await.err().ok_or("another service must be refused")?;
    assert!(
        refused
            .message
            .contains("went to another Render service; production deploys to"),
        "{}",
        refused.message
    );
    assert!(
        !refused.message.contains("srv-"),
        "no service id in the words: {}",
        refused.message
    );
    assert_eq!(
        refused.detail.as_deref(),
        Some("the release went to srv-web; the environment's service is srv-other"),
        "the ids are in the detail"
    );
    let rollbacks_after = setup
        .render
        .received()
        .iter()
        .filter(|request| request.path().ends_with("/rollback"))
        .count();
    assert_eq!(rollbacks_before, rollbacks_after, "no rollback was asked for");
    Ok(())
}

/// A deploy Render fails says why in Render's own words: the service's log for the deploy's
/// window, read page by page as the contract pages it, shown in the deploy step, and its
/// error line in the release's sentence.
#[tokio::test]
async fn a_failed_render_deploy_says_why_in_renders_log() -> TestResult {
    let mut log: Vec<String> = (1..=149).map(|n| format!("boot line {n}")).collect();
    log.push("ModuleNotFoundError: No module named 'gunicorn'".to_owned());
    let setup = render_setup(
        "render-log",
        DeployScript::new(201, &["build_in_progress", "update_failed"]).with_app_log(log),
    )
    .await?;
    let (summary, _) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(summary.outcome, Outcome::Failed);
    assert_eq!(
        summary.message.as_deref(),
        Some("The Render deploy dep-1 ended update_failed: ModuleNotFoundError: No module named 'gunicorn'")
    );
    let asked: Vec<_> = setup
        .render
        .received()
        .into_iter()
        .filter(|request| request.path() == "/v1/logs")
        .collect();
    assert_eq!(asked.len(), 2, "150 lines are two pages of 100");
    for request in &asked {
        assert_eq!(request.query("ownerId").as_deref(), Some("tea-1"));
        assert_eq!(request.query_all("resource"), ["srv-web"]);
    }
    assert_ne!(
        asked[0].query("endTime"),
        asked[1].query("endTime"),
        "the next page is asked by its times"
    );
    let lines = setup.fixture.context.ledger.log_lines(&summary.release_id, "deploy")?;
    let shown: Vec<&String> = lines.iter().filter(|line| line.starts_with("  ")).collect();
    assert_eq!(shown.len(), 40, "{lines:?}");
    assert_eq!(shown.first().map(|line| line.trim()), Some("boot line 111"));
    assert_eq!(
        shown.last().map(|line| line.trim()),
        Some("ModuleNotFoundError: No module named 'gunicorn'")
    );
    Ok(())
}

/// Render keeps a limited history: a rollback to a deploy it no longer has ships the release's
/// image again by its digest, and the ledger says the rollback went that way.
#[tokio::test]
async fn a_rollback_beyond_renders_history_deploys_the_digest_again() -> TestResult {
    let script = DeployScript::new(201, &["live"]);
    let forgotten = script.forgotten_deploys.clone();
    let setup = render_setup("render-beyond", script).await?;
    let (first, _) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(first.outcome, Outcome::Live, "{:?}", first.message);
    std::fs::write(setup.fixture.root.join("lettings/VERSION"), "2\n")?;
    support::git(&setup.fixture.root, &["add", "."])?;
    support::git(&setup.fixture.root, &["commit", "-qm", "two"])?;
    let (second, _) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(second.outcome, Outcome::Live, "{:?}", second.message);
    let first_deploy = first.deploy_id.clone().ok_or("the first deploy")?;
    forgotten.lock().map_err(|_| "lock")?.push(first_deploy.clone());

    let rolled = pipeline::rollback(
        &setup.fixture.context,
        &setup.fixture.root,
        Some("production"),
        pipeline::RollbackTo::Release(first.release_id.clone()),
        &CancellationToken::new(),
        Arc::new(Events::default()).sink(),
    )
    .await?;
    assert_eq!(rolled.outcome, Outcome::Live, "{:?}", rolled.message);
    let received = setup.render.received();
    assert!(
        received
            .iter()
            .any(|request| request.method == "POST" && request.path().ends_with("/rollback")),
        "Render was asked first"
    );
    let digest = first.digest.clone().ok_or("the first digest")?;
    let triggers = standin::deploy_triggers(&received);
    assert_eq!(
        triggers.last().map(|(_, image)| image.clone()),
        Some(format!("{}/ann/render-beyond@{digest}", test_registry().address)),
        "then its image by digest"
    );
    let stored = record(&setup.fixture, &rolled.release_id)?;
    assert_eq!(stored.digest.as_deref(), Some(digest.as_str()));
    let said = stored.message.unwrap_or_default();
    assert!(
        said.starts_with(&format!("Render no longer has deploy {first_deploy}: its image was deployed again by digest, beyond Render's history.")),
        "{said}"
    );
    let lines = setup.fixture.context.ledger.log_lines(&rolled.release_id, "deploy")?;
    assert!(
        lines
            .iter()
            .any(|line| line.contains("deploying its image by digest instead")),
        "{lines:?}"
    );
    Ok(())
}
