//! History tells now from then. After two releases on this computer, a Render release, a
//! promotion of the newest local release to Render and a rollback there, exactly one release
//! is "Live now" per environment, and rollbacks and promotions wear their kind. Actions that
//! change what is live ask first: dismissed, nothing runs (no ledger row, no call to Render);
//! confirmed, it runs.

use serde_json::json;
use slipway::history::Ledger;

// The Render release recorded as the window records one, and the digest Render's stand-in
// runs (never pulled): the same as the rollback test's.
use super::tasks::{live_render_release as render_release, DIGEST};
use super::*;

/// The rows History shows as `status` (`liveNow`, `wasLive`, …), by their environment's words.
async fn rows_with_status(session: &Session, status: &str) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let found = session
        .execute(&format!(
            "return Array.from(document.querySelectorAll(\"[data-testid='history-row'][data-status='{status}'] [data-testid='history-row-environment']\")).map((cell) => cell.textContent.trim())"
        ))
        .await?;
    Ok(found
        .as_array()
        .map(|cells| {
            cells
                .iter()
                .filter_map(|cell| cell.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

fn rollbacks_asked(render: &standin::StandIn) -> usize {
    render
        .received()
        .iter()
        .filter(|request| request.method == "POST" && request.path().ends_with("/rollback"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_shows_one_live_now_per_environment_and_asks_before_a_rollback() -> TestResult {
    let registry = test_registry();
    let repository = format!("{}/ann/lettings", registry.address);
    let render = standin::render_services_stand_in(
        vec![standin::RenderServiceSpec::new(
            "srv-lettings",
            "lettings",
            &format!("{repository}:latest"),
        )],
        standin::DeployScript::new(201, &["live"]),
    )
    .await?;

    let data = tempfile::tempdir()?;
    support::save_registry_login(data.path(), &registry, &registry.password)?;
    slipway::secrets::SecretStore::os(data.path()).save(
        &slipway::secrets::Account::new(slipway::secrets::Service::Render, "default", "test"),
        "rnd_good",
    )?;
    std::fs::write(
        data.path().join("settings.json"),
        json!({ "localRegistry": registry.address, "renderApiUrl": format!("{}/v1", render.base) }).to_string(),
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

    // Two releases on this computer, as the CLI makes them.
    let release_here = |tag: &str| release_locally(&root, data.path(), tag);
    let outcome = run_checked(&root, data.path(), &render, &repository, release_here).await;
    // Whatever happened, the project's containers go.
    let engine = slipway::docker::connect()?;
    for name in slipway::docker::project_containers(&engine, &slipway::project::project_id(&root)).await? {
        slipway::docker::remove_container(&engine, &name).await?;
    }
    outcome
}

async fn run_checked(
    root: &Path,
    data: &Path,
    render: &standin::StandIn,
    repository: &str,
    release_here: impl Fn(&str) -> Result<String, Box<dyn std::error::Error>>,
) -> TestResult {
    let first = release_here("first")?;
    std::fs::write(root.join("lettings/VERSION"), "2\n")?;
    let second = release_here("second")?;

    // A release that went live on Render's production: deploy 1 of the service.
    slipway::http::install_tls();
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v1/services/srv-lettings/deploys", render.base))
        .bearer_auth("rnd_good")
        .json(&json!({ "imageUrl": format!("{repository}@{DIGEST}") }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let first_deploy = created["id"].as_str().ok_or("the stand-in made no deploy")?.to_owned();
    let on_render = render_release(
        data,
        root,
        repository,
        &first_deploy,
        &format!("{}/site/srv-lettings", render.base),
    )?;

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, root).await?;
    session.wait_for("//*[@data-testid='plan-image']", UI_WAIT).await?;
    open_page(&session, "History").await?;
    let row = |id: &str| format!("//li[@data-testid='history-row'][@data-release-id='{id}']");
    wait_or_explain(&session, &row(&first), UI_WAIT, "now-not-listed").await?;
    // Before anything is rolled back: one live now per environment, the rest were live.
    wait_or_explain(
        &session,
        &format!("{}[@data-status='liveNow']", row(&second)),
        UI_WAIT,
        "now-second-not-live",
    )
    .await?;
    assert_eq!(
        rows_with_status(&session, "liveNow").await?,
        ["production", "This computer"]
    );
    assert_eq!(rows_with_status(&session, "wasLive").await?, ["This computer"]);

    // Promote the newest release here to production: asked first, then shipped. The rows stay
    // put once what runs now is drawn above them.
    wait_or_explain(
        &session,
        "//*[@data-testid='history-live'][@data-environment='production']",
        UI_WAIT,
        "now-no-live",
    )
    .await?;
    session.click(&session.wait_for(&row(&second), UI_WAIT).await?).await?;
    session
        .click(
            &wait_or_explain(
                &session,
                "//button[@data-testid='history-promote']",
                UI_WAIT,
                "now-no-promote",
            )
            .await?,
        )
        .await?;
    let question = session
        .wait_for("//*[@data-testid='confirm-question']", UI_WAIT)
        .await?;
    let asked = session.text(&question).await?;
    assert!(
        asked.starts_with("Promote ") && asked.contains(" from this computer to production, in place of 3f2a1bc ("),
        "{asked}"
    );
    session
        .click(&session.wait_for("//button[@data-testid='confirm-ok']", UI_WAIT).await?)
        .await?;
    wait_or_explain(
        &session,
        "//*[@data-testid='history-rollback-status'][starts-with(normalize-space(), 'Promoted: ')]",
        180,
        "now-promotion-not-live",
    )
    .await?;
    // The "On production" card follows the promotion.
    wait_or_explain(
        &session,
        "//*[@data-testid='history-live'][@data-environment='production'][contains(., 'a promotion')]",
        UI_WAIT,
        "now-card-not-on-promotion",
    )
    .await?;

    // Roll production back to the Render release: dismissed first, nothing runs.
    session
        .click(&session.wait_for(&row(&on_render), UI_WAIT).await?)
        .await?;
    wait_or_explain(
        &session,
        &format!("{}[@data-status='wasLive']", row(&on_render)),
        UI_WAIT,
        "now-render-not-was-live",
    )
    .await?;
    let rollback = wait_or_explain(
        &session,
        "//button[@data-testid='history-rollback']",
        UI_WAIT,
        "now-no-rollback",
    )
    .await?;
    session.click(&rollback).await?;
    let question = session
        .wait_for("//*[@data-testid='confirm-question']", UI_WAIT)
        .await?;
    let asked = session.text(&question).await?;
    assert!(asked.starts_with("Roll back production from "), "{asked}");
    assert!(asked.contains(" to 3f2a1bc ("), "{asked}");
    assert!(!asked.contains(&on_render), "no release id in the question: {asked}");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    save_screenshot_as(&session, "history-rollback-asks").await?;
    let rows_before = Ledger::open(data)?.releases(None, 50)?.len();
    session
        .click(
            &session
                .wait_for("//button[@data-testid='confirm-cancel']", UI_WAIT)
                .await?,
        )
        .await?;
    assert!(
        session.absent("//*[@data-testid='confirm-dialog']").await?,
        "the question is gone"
    );
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(
        Ledger::open(data)?.releases(None, 50)?.len(),
        rows_before,
        "dismissed: no new release"
    );
    assert_eq!(
        rollbacks_asked(render),
        0,
        "dismissed: Render was not asked to roll back"
    );

    // Asked again and confirmed: Render rolls back to deploy 1.
    session
        .click(
            &session
                .wait_for("//button[@data-testid='history-rollback']", UI_WAIT)
                .await?,
        )
        .await?;
    session
        .click(&session.wait_for("//button[@data-testid='confirm-ok']", UI_WAIT).await?)
        .await?;
    wait_or_explain(
        &session,
        "//*[@data-testid='history-rollback-status'][starts-with(normalize-space(), 'Rolled back: 3f2a1bc (')]",
        120,
        "now-rollback-not-live",
    )
    .await?;
    assert_eq!(rollbacks_asked(render), 1, "confirmed: Render was asked once");

    // Now: one live now per environment, and each kind wears its badge.
    let releases = Ledger::open(data)?.releases(None, 50)?;
    assert_eq!(releases.len(), rows_before + 1, "one rollback recorded");
    let rolled = releases.first().ok_or("the rollback")?;
    assert_eq!(rolled.kind, "rollback");
    wait_or_explain(
        &session,
        &format!("{}[@data-status='liveNow']", row(&rolled.id)),
        UI_WAIT,
        "now-rollback-not-live-now",
    )
    .await?;
    assert_eq!(
        rows_with_status(&session, "liveNow").await?,
        ["production", "This computer"]
    );
    let kinds = session
        .execute("return Array.from(document.querySelectorAll(\"[data-testid='history-row-kind']\")).map((cell) => cell.textContent.trim())")
        .await?;
    let kinds: Vec<String> = kinds
        .as_array()
        .map(|cells| {
            cells
                .iter()
                .filter_map(|cell| cell.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(kinds[0].starts_with("Rollback to 3f2a1bc ("), "{kinds:?}");
    assert_eq!(kinds[1], "Promotion from this computer", "{kinds:?}");
    let detail_kind = session
        .wait_for("//*[@data-testid='history-detail-kind']", UI_WAIT)
        .await?;
    assert!(session.text(&detail_kind).await?.starts_with("Rollback to 3f2a1bc ("));
    let main = session
        .execute("return document.querySelector('main').innerText")
        .await?;
    let main = main.as_str().unwrap_or_default();
    assert!(!main.contains("Rollbackof"), "{main}");
    for id in [&first, &second, &on_render, &rolled.id] {
        assert!(
            !main.contains(id.as_str()),
            "no release id outside Technical details: {id} in {main}"
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    save_screenshot_as(&session, "history-live-now").await?;
    session.set_window_size(1100, 800).await?;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    save_screenshot_as(&session, "history-1100").await?;

    // 800×600: the opened release takes the list's place, with a way back; the list then
    // scrolls with the page, no second scroll area inside it.
    session.set_window_size(800, 600).await?;
    let back = wait_or_explain(
        &session,
        "//button[@data-testid='history-back']",
        UI_WAIT,
        "now-small-no-back",
    )
    .await?;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    save_screenshot_as(&session, "history-800x600-detail").await?;
    session.click(&back).await?;
    let list = session.wait_for("//ul[@data-testid='history-list']", UI_WAIT).await?;
    drop(list);
    let overflow = session
        .execute("return getComputedStyle(document.querySelector(\"[data-testid='history-list']\")).overflowY")
        .await?;
    assert_eq!(overflow.as_str(), Some("visible"), "the list scrolls with the page");
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    save_screenshot_as(&session, "history-800x600").await?;
    session.end().await?;
    Ok(())
}

/// A rollback past Django migrations says which ones the database keeps, in the question,
/// before the person confirms; dismissed, nothing runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_past_migrations_names_them_in_the_question() -> TestResult {
    let registry = test_registry();
    let data = tempfile::tempdir()?;
    support::save_registry_login(data.path(), &registry, &registry.password)?;
    std::fs::write(
        data.path().join("settings.json"),
        json!({ "localRegistry": registry.address }).to_string(),
    )?;
    let projects = tempfile::tempdir()?;
    let root = support::example_project(projects.path(), "shop", |root| {
        let migrations = root.join("lettings/migrations");
        std::fs::create_dir_all(&migrations)?;
        std::fs::write(migrations.join("__init__.py"), "")?;
        std::fs::write(migrations.join("0001_initial.py"), "operations = []\n")
    })?;
    let _containers = support::ProjectContainers(slipway::project::project_id(&root));
    let first = release_locally(&root, data.path(), "first")?;
    for name in ["0002_add_price", "0003_discount"] {
        std::fs::write(root.join(format!("lettings/migrations/{name}.py")), "operations = []\n")?;
    }
    support::git(&root, &["add", "."])?;
    support::git(&root, &["commit", "-qm", "prices"])?;
    release_locally(&root, data.path(), "second")?;

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    session.wait_for("//*[@data-testid='plan-image']", UI_WAIT).await?;
    open_page(&session, "History").await?;
    wait_or_explain(
        &session,
        "//*[@data-testid='history-live']",
        UI_WAIT,
        "migrations-no-live",
    )
    .await?;
    let row = format!("//li[@data-testid='history-row'][@data-release-id='{first}']");
    session
        .click(&wait_or_explain(&session, &row, UI_WAIT, "migrations-no-row").await?)
        .await?;
    session
        .click(
            &wait_or_explain(
                &session,
                "//button[@data-testid='history-rollback']",
                UI_WAIT,
                "migrations-no-button",
            )
            .await?,
        )
        .await?;
    let warning = wait_or_explain(
        &session,
        "//*[@data-testid='confirm-warning']",
        UI_WAIT,
        "migrations-no-warning",
    )
    .await?;
    assert_eq!(
        session.text(&warning).await?,
        "⚠ The database keeps the changes of lettings 0002_add_price and 0003_discount; the older code may not work with them."
    );
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    save_screenshot_as(&session, "history-rollback-migrations").await?;
    let rows_before = Ledger::open(data.path())?.releases(None, 50)?.len();
    session
        .click(
            &session
                .wait_for("//button[@data-testid='confirm-cancel']", UI_WAIT)
                .await?,
        )
        .await?;
    assert!(session.absent("//*[@data-testid='confirm-dialog']").await?);
    assert_eq!(
        Ledger::open(data.path())?.releases(None, 50)?.len(),
        rows_before,
        "dismissed: nothing ran"
    );
    Ok(())
}
