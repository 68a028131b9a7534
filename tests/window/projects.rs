//! Two projects set up completely in the window: each gets its own Render service and its own
//! Sentry project from Project settings, then each is released; the stand-ins' request logs
//! show that nothing of one reached the other's service or Sentry project.

use super::*;

/// Picks `value` in the `<select>` found by `css` (as a person's choice: the change event).
async fn choose(session: &Session, css: &str, value: &str) -> webdriver::Result<()> {
    let script = format!(
        "const s = document.querySelector({css:?}); if (!s) return false; s.value = {value:?}; \
         s.dispatchEvent(new Event('change', {{bubbles: true}})); return s.value === {value:?};"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(UI_WAIT);
    loop {
        // The option comes once Render or Sentry answered.
        if session.execute(&script).await?.as_bool() == Some(true) || std::time::Instant::now() > deadline {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn main_text(session: &Session) -> webdriver::Result<String> {
    Ok(session
        .execute("return document.querySelector('main').innerText")
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// Project settings → Where it runs: a production environment on `service`, the default;
/// then Errors: the Sentry project `sentry_project`.
async fn link_in_project_settings(
    session: &Session,
    service: &str,
    service_name: &str,
    sentry_project: &str,
    shot: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    open_page(session, "Project settings").await?;
    session
        .click(&session.wait_for(&button("Add a Render environment…"), UI_WAIT).await?)
        .await?;
    let form = "form[aria-label='Add an environment']";
    session
        .wait_for("//form[@aria-label='Add an environment']//input[@type='text']", UI_WAIT)
        .await?;
    let offered = session
        .execute(&format!(
            "return document.querySelector(\"{form} input[type='text']\").value"
        ))
        .await?;
    assert_eq!(
        offered.as_str(),
        Some("production"),
        "the first Render environment is offered as production"
    );
    choose(session, &format!("{form} select[id^='service-']"), service).await?;
    let picked = wait_or_explain(
        session,
        "//*[@data-testid='service-picked']",
        UI_WAIT,
        &format!("{shot}-no-service"),
    )
    .await?;
    let picked = session.text(&picked).await?;
    assert!(
        picked.starts_with(&format!("Deploys go to {service_name}")),
        "the pick is said in words: {picked}"
    );
    session
        .click(&session.wait_for(&button("Add environment"), UI_WAIT).await?)
        .await?;
    wait_or_explain(
        session,
        "//ol[@aria-label='Environments']/li[contains(., 'production')]",
        UI_WAIT,
        &format!("{shot}-not-added"),
    )
    .await?;

    // The one Sentry account is chosen for the person; its organization's projects come next.
    choose(
        session,
        "form[aria-label='Link a Sentry project'] select[id^='sentry-project-']",
        sentry_project,
    )
    .await?;
    session
        .click(
            &session
                .wait_for(
                    "//form[@aria-label='Link a Sentry project']//button[normalize-space()='Link']",
                    UI_WAIT,
                )
                .await?,
        )
        .await?;
    let linked = wait_or_explain(
        session,
        "//*[@data-testid='sentry-link']",
        UI_WAIT,
        &format!("{shot}-not-linked"),
    )
    .await?;
    let linked = session.text(&linked).await?;
    assert!(
        linked.contains(&format!("acme/{sentry_project}")),
        "the project names its Sentry project: {linked}"
    );
    session.execute("window.scrollTo(0, 0)").await?;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    save_screenshot_as(session, shot).await?;
    Ok(())
}

/// The Release page releases the open project to production; its live address.
async fn release_to_production(
    session: &Session,
    service_name: &str,
    shot: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    open_page(session, "Release").await?;
    wait_or_explain(
        session,
        "//main//button[normalize-space()='Release to production']",
        UI_WAIT,
        &format!("{shot}-not-production"),
    )
    .await?;
    let destination = session
        .wait_for("//*[@data-testid='plan-destination']", UI_WAIT)
        .await?;
    let destination = session.text(&destination).await?;
    assert_eq!(
        destination,
        format!("Deploys to {service_name} (production) on Render"),
        "the plan names the environment and its service"
    );
    press_release(session).await?;
    let link = wait_or_explain(
        session,
        "//a[@data-testid='live-url']",
        300,
        &format!("{shot}-not-live"),
    )
    .await?;
    let url = session.text(&link).await?;
    let shown = main_text(session).await?;
    assert!(
        shown.contains(&format!("{service_name} is live on production")),
        "the result names the environment: {shown}"
    );
    session
        .execute("document.querySelector(\"[aria-label='Release summary']\")?.scrollIntoView()")
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    save_screenshot_as(session, shot).await?;
    Ok(url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_projects_each_link_their_own_service_and_sentry_project_in_the_window() -> TestResult {
    let registry = test_registry();
    let scenario = standin::SentryScenario::default();
    let sentry_handle = scenario.handle.clone();
    let sentry = standin::sentry_issues_stand_in(scenario).await?;
    let repository = |name: &str| format!("{}/ann/{name}", registry.address);
    let render = standin::render_services_stand_in(
        ["lettings", "bookshelf", "blog"]
            .into_iter()
            .map(|name| {
                standin::RenderServiceSpec::new(&format!("srv-{name}"), name, &format!("{}:latest", repository(name)))
            })
            .collect(),
        standin::DeployScript::new(201, &["update_in_progress", "live"]),
    )
    .await?;

    // Accounts are connected once (credentials only); no project is linked yet.
    let data = tempfile::tempdir()?;
    support::save_registry_login(data.path(), &registry, &registry.password)?;
    std::fs::write(
        data.path().join("settings.json"),
        serde_json::json!({ "renderApiUrl": format!("{}/v1", render.base) }).to_string(),
    )?;
    let store = slipway::secrets::SecretStore::os(data.path());
    store.save(
        &slipway::secrets::Account::new(slipway::secrets::Service::Render, "default", "test"),
        "rnd_good",
    )?;
    let mut sentry_account = slipway::secrets::Account::new(slipway::secrets::Service::Sentry, "acme", "test");
    sentry_account.server = Some(format!("{}/api/0", sentry.base));
    sentry_account.sentry_organization = Some("acme".to_owned());
    store.save(&sentry_account, "sntrys_full")?;

    let projects = tempfile::tempdir()?;
    let mut roots = Vec::new();
    for name in ["lettings", "bookshelf"] {
        // Each its own file, so its commit (the Sentry release's name) differs.
        let root = support::example_project(projects.path(), name, |root| std::fs::write(root.join("NAME"), name))?;
        let mut settings = slipway::project::ProjectSettings::from_detection(&slipway::project::detect(&root));
        settings.venv = Some(support::shared_venv()?.display().to_string());
        slipway::project::save_settings(data.path(), &root, &settings)?;
        roots.push(root);
    }

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &roots[0]).await?;
    link_in_project_settings(&session, "srv-lettings", "lettings", "web", "links-lettings").await?;
    let lettings_url = release_to_production(&session, "lettings", "released-lettings").await?;
    assert!(lettings_url.ends_with("/site/srv-lettings"), "{lettings_url}");

    // The second project: nothing of the first is offered as its own.
    switch_project(&session, &roots[1]).await?;
    session
        .wait_for(
            "//*[@data-testid='project-name'][normalize-space()='bookshelf']",
            UI_WAIT,
        )
        .await?;
    open_page(&session, "Project settings").await?;
    session
        .wait_for(
            "//*[normalize-space()='Not linked to a Sentry project: nothing of its releases is recorded in Sentry.']",
            UI_WAIT,
        )
        .await?;
    let unlinked = main_text(&session).await?;
    assert!(
        !unlinked.contains("acme/web"),
        "the first project's link is not the second's: {unlinked}"
    );
    link_in_project_settings(&session, "srv-bookshelf", "bookshelf", "shop", "links-bookshelf").await?;
    let bookshelf_url = release_to_production(&session, "bookshelf", "released-bookshelf").await?;
    assert!(bookshelf_url.ends_with("/site/srv-bookshelf"), "{bookshelf_url}");

    // History names each release's environment.
    open_page(&session, "History").await?;
    wait_or_explain(
        &session,
        "//main//*[contains(., 'production')]",
        UI_WAIT,
        "history-environment",
    )
    .await?;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    save_screenshot_as(&session, "history-environments").await?;
    session.end().await?;

    // Render's log: one deploy on each project's own service, with its own image; none on
    // the third service.
    let received = render.received();
    eprintln!("Render stand-in request log:");
    for request in &received {
        eprintln!("  {} {} {}", request.method, request.path(), request.body);
    }
    let triggers = standin::deploy_triggers(&received);
    assert_eq!(triggers.len(), 2, "one deploy per release: {triggers:?}");
    for (service, name) in [("srv-lettings", "lettings"), ("srv-bookshelf", "bookshelf")] {
        let on_it: Vec<&(String, String)> = triggers
            .iter()
            .filter(|(path, _)| path == &format!("/v1/services/{service}/deploys"))
            .collect();
        assert_eq!(on_it.len(), 1, "{service}: {triggers:?}");
        assert!(
            on_it[0].1.starts_with(&format!("{}@sha256:", repository(name))),
            "{service} got its own image: {}",
            on_it[0].1
        );
    }

    // Sentry's: each project's release in its own Sentry project.
    let calls = sentry_handle.release_calls();
    eprintln!(
        "Sentry stand-in releases: {:?}",
        calls
            .iter()
            .map(|call| (&call.version, &call.projects, call.status))
            .collect::<Vec<_>>()
    );
    let head = |root: &Path| -> Result<String, Box<dyn std::error::Error>> {
        let output = std::process::Command::new("git")
            .args(["-C", &root.display().to_string(), "rev-parse", "HEAD"])
            .output()?;
        Ok(String::from_utf8(output.stdout)?.trim().to_owned())
    };
    for (root, project) in [(&roots[0], "web"), (&roots[1], "shop")] {
        let version = head(root)?;
        let of_it: Vec<_> = calls
            .iter()
            .filter(|call| call.version.as_deref() == Some(version.as_str()))
            .collect();
        assert!(!of_it.is_empty(), "{project}: a release was recorded: {calls:?}");
        for call in of_it {
            assert_eq!(call.projects, [project], "{version}");
        }
    }

    // The ledger: each release with its environment and service.
    let ledger = slipway::history::Ledger::open(data.path())?;
    let releases = ledger.releases(None, 10)?;
    assert_eq!(releases.len(), 2, "{releases:?}");
    for release in &releases {
        assert_eq!(release.outcome, slipway::history::Outcome::Live, "{release:?}");
        assert_eq!(release.environment.as_deref(), Some("production"));
    }
    Ok(())
}
