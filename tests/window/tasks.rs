//! A rollback started from History is a task of the whole window: its steps are followed on
//! History like a release's, the header shows it with its step on any other page, and Cancel
//! there stops it; the ledger records it cancelled and Render was asked to cancel its deploy.

use serde_json::json;
use slipway::history::{Ending, Ledger, NewRelease, Outcome, StepState};

use super::*;

/// The image every deploy of the stand-in names (its digest is never pulled).
pub(super) const DIGEST: &str = "sha256:4f1c0a9e8d7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a";

/// The release that went live on Render: deploy `deploy_id` of `srv-lettings`, as a Render
/// release of the window records it.
pub(super) fn live_render_release(
    data: &Path,
    root: &Path,
    repository: &str,
    deploy_id: &str,
    url: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let ledger = Ledger::open(data)?;
    let id = slipway::history::new_release_id();
    use slipway::vocabulary::{ReleaseKind, Step, Target};
    let steps = [
        Step::Tests,
        Step::Lint,
        Step::Build,
        Step::Push,
        Step::Deploy,
        Step::Verify,
    ];
    ledger.begin(&NewRelease {
        id: id.clone(),
        project_path: root.display().to_string(),
        project_name: "lettings".to_owned(),
        user: "ann".to_owned(),
        commit: Some("3f2a1bc9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3".to_owned()),
        branch: Some("main".to_owned()),
        dirty: false,
        target: Target::Render,
        image: Some(format!("{repository}:3f2a1bc")),
        steps: steps.to_vec(),
        kind: ReleaseKind::Release,
        source_id: None,
        machine: None,
        environment: Some("production".to_owned()),
        service: Some("srv-lettings".to_owned()),
        remote_url: None,
        on_remote: None,
    })?;
    for step in steps {
        ledger.step(&id, step, StepState::Passed, None)?;
    }
    ledger.finish(
        &id,
        Outcome::Live,
        &Ending {
            digest: Some(DIGEST.to_owned()),
            deploy_id: Some(deploy_id.to_owned()),
            deploy_status: Some("live".to_owned()),
            url: Some(url.to_owned()),
            ..Ending::default()
        },
    )?;
    Ok(id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_started_from_history_is_cancelled_from_the_header_on_another_page() -> TestResult {
    let registry = test_registry();
    let repository = format!("{}/ann/lettings", registry.address);
    // Every deploy stays in progress until it is cancelled: the rollback runs until Cancel.
    let render = standin::render_services_stand_in(
        vec![standin::RenderServiceSpec::new(
            "srv-lettings",
            "lettings",
            &format!("{repository}:latest"),
        )],
        standin::DeployScript::new(201, &["update_in_progress"]),
    )
    .await?;
    // The deploy the live release made, on Render's side.
    slipway::http::install_tls();
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v1/services/srv-lettings/deploys", render.base))
        .bearer_auth("rnd_good")
        .json(&json!({ "imageUrl": format!("{repository}@{DIGEST}") }))
        .send()
        .await?
        .json()
        .await?;
    let first_deploy = created["id"].as_str().ok_or("the stand-in made no deploy")?.to_owned();

    let data = tempfile::tempdir()?;
    support::save_registry_login(data.path(), &registry, &registry.password)?;
    slipway::secrets::SecretStore::os(data.path()).save(
        &slipway::secrets::Account::new(slipway::secrets::Service::Render, "default", "test"),
        "rnd_good",
    )?;
    std::fs::write(
        data.path().join("settings.json"),
        json!({ "renderApiUrl": format!("{}/v1", render.base) }).to_string(),
    )?;
    let projects = tempfile::tempdir()?;
    let root = support::example_project(projects.path(), "lettings", |_| Ok(()))?;
    // Removed even when the test fails half-way.
    let _containers = support::ProjectContainers(slipway::project::project_id(&root));
    let mut settings = slipway::project::ProjectSettings::from_detection(&slipway::project::detect(&root));
    settings.image_repository = Some(repository.clone());
    settings.environments.add(slipway::project::Environment::render(
        "production",
        slipway::project::RenderLink {
            id: "srv-lettings".to_owned(),
            name: Some("lettings".to_owned()),
            image: Some(format!("{repository}:latest")),
        },
    ))?;
    slipway::project::save_settings(data.path(), &root, &settings)?;
    let source = live_render_release(
        data.path(),
        &root,
        &repository,
        &first_deploy,
        &format!("{}/site/srv-lettings", render.base),
    )?;
    // A newer release went live after it: the one a rollback goes back from.
    live_render_release(
        data.path(),
        &root,
        &repository,
        &first_deploy,
        &format!("{}/site/srv-lettings", render.base),
    )?;

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;

    // History: the live release, rolled back to. What runs now is drawn above the list; the
    // rows stay put once it is there.
    open_page(&session, "History").await?;
    wait_or_explain(
        &session,
        "//*[@data-testid='history-live'][@data-environment='production']",
        UI_WAIT,
        "rollback-no-live",
    )
    .await?;
    session
        .click(
            &wait_or_explain(
                &session,
                &format!("//li[@data-testid='history-row'][@data-release-id='{source}']"),
                UI_WAIT,
                "rollback-no-row",
            )
            .await?,
        )
        .await?;
    session
        .click(
            &session
                .wait_for("//button[@data-testid='history-rollback']", UI_WAIT)
                .await?,
        )
        .await?;
    // It asks first.
    session
        .click(&session.wait_for("//button[@data-testid='confirm-ok']", UI_WAIT).await?)
        .await?;
    // Followed on the page like a release: its bar, and its deploy step running.
    let bar = wait_or_explain(
        &session,
        "//section[@data-testid='history-run']//*[@data-testid='run-bar'][contains(normalize-space(.), 'Rolling back lettings · Deploy')]",
        UI_WAIT,
        "rollback-not-followed",
    )
    .await?;
    session
        .wait_for(
            "//section[@data-testid='history-run']//li[@data-step='deploy'][@data-state='running']",
            UI_WAIT,
        )
        .await?;
    let bar_text = session.text(&bar).await?;
    assert!(bar_text.ends_with("Cancel"), "its own Cancel: {bar_text}");
    session
        .wait_for(
            "//section[@data-testid='history-run']//*[contains(normalize-space(.), 'Render: update_in_progress')]",
            UI_WAIT,
        )
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot_as(&session, "rollback-followed-in-history").await?;

    // Another page: the header shows the rollback with its step, and cancels it.
    open_page(&session, "Images").await?;
    let status = wait_or_explain(
        &session,
        "//header//*[@role='status'][@aria-label='Running rollback'][contains(normalize-space(.), 'Rolling back lettings · Deploy')]",
        UI_WAIT,
        "rollback-not-in-header",
    )
    .await?;
    let status_text = session.text(&status).await?;
    assert!(
        status_text.starts_with("Rolling back lettings · Deploy"),
        "{status_text}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot_as(&session, "rollback-in-header").await?;
    session
        .click(
            &session
                .wait_for(
                    "//header//*[@aria-label='Running rollback']//button[normalize-space()='Cancel']",
                    UI_WAIT,
                )
                .await?,
        )
        .await?;
    let ended = wait_or_explain(
        &session,
        "//header//*[@role='status'][@aria-label='Last rollback'][contains(normalize-space(.), 'Rollback cancelled')]",
        UI_WAIT,
        "rollback-not-cancelled",
    )
    .await?;
    let ended_text = session.text(&ended).await?;
    assert!(ended_text.contains("Rollback cancelled · just now"), "{ended_text}");
    assert!(
        session.absent("//header//*[@aria-label='Running rollback']").await?,
        "nothing runs any more"
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot_as(&session, "rollback-cancelled-in-header").await?;

    // History lists it cancelled, first.
    open_page(&session, "History").await?;
    wait_or_explain(
        &session,
        "//li[@data-testid='history-row'][1][@data-outcome='canceled']",
        UI_WAIT,
        "rollback-not-listed-cancelled",
    )
    .await?;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot_as(&session, "rollback-cancelled-in-history").await?;
    session.end().await?;

    // The ledger: a rollback of the live release, cancelled.
    let ledger = Ledger::open(data.path())?;
    let releases = ledger.releases(Some(&root.display().to_string()), 10)?;
    let rollback = releases
        .iter()
        .find(|release| release.kind == "rollback")
        .ok_or_else(|| format!("no rollback in the ledger: {releases:?}"))?;
    assert_eq!(rollback.outcome, Outcome::Canceled, "{rollback:?}");
    assert_eq!(rollback.source_id.as_deref(), Some(source.as_str()));
    assert_eq!(rollback.environment.as_deref(), Some("production"));

    // Render: asked to roll back to the live release's deploy, then to cancel the new one.
    let received = render.received();
    eprintln!("Render stand-in request log:");
    for request in &received {
        eprintln!("  {} {} {}", request.method, request.path(), request.body);
    }
    let rolled = received
        .iter()
        .find(|request| request.method == "POST" && request.path().ends_with("/rollback"))
        .ok_or("Render was asked to roll back")?;
    let body: serde_json::Value = serde_json::from_str(&rolled.body)?;
    assert_eq!(body["deployId"], first_deploy.as_str());
    let new_deploy = rollback.deploy_id.clone().ok_or("the rollback's deploy is recorded")?;
    assert!(
        received.iter().any(|request| request.method == "POST"
            && request.path() == format!("/v1/services/srv-lettings/deploys/{new_deploy}/cancel")),
        "Render was asked to cancel the rollback's deploy {new_deploy}"
    );
    Ok(())
}
