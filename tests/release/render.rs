//! Render through its stand-in: deploys by digest, 201 and 202, failures, 429, cancel, the
//! deploy hook, and a service configured with another image.

use super::*;

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
    };
    let (second, _) = release_with(&setup.fixture, &confirmed).await?;
    assert_eq!(second.outcome, Outcome::Live, "{:?}", second.message);
    assert_ne!(first.digest, second.digest);

    let events = Arc::new(Events::default());
    let rolled = pipeline::rollback(
        &setup.fixture.context,
        &setup.fixture.root,
        Target::Render,
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
