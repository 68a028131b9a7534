//! The window stays true about Docker and the project's container: a container removed
//! outside Slipway reads "Removed" within seconds, and Docker coming back turns the header's
//! badge green with no click.
//!
//! Docker "stops" here by taking away a unix socket in front of the shared engine (the app's
//! `DOCKER_HOST`), never by stopping the engine other tests use.

use std::time::{Duration, Instant};

use super::*;

/// What a person waits at most for the window to notice a change made outside it.
const NOTICED_WITHIN: Duration = Duration::from_secs(5);

/// Waits for `xpath` no longer than `within`; says how long it took.
async fn noticed(
    session: &Session,
    xpath: &str,
    within: Duration,
    shot: &str,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let started = Instant::now();
    loop {
        if !session.absent(xpath).await? {
            return Ok(started.elapsed());
        }
        if started.elapsed() > within {
            save_screenshot_as(session, shot).await?;
            let page = session.execute("return document.body.innerText").await?;
            return Err(format!("{xpath} did not appear within {within:?}; the window shows: {page}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const CARD: &str = "//*[@data-testid='local-app-card']";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_removed_outside_slipway_reads_removed_and_runs_again() -> TestResult {
    let registry = test_registry();
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = support::example_project(projects.path(), "lettings", |_| Ok(()))?;
    use_local_registry(data.path(), &registry)?;
    let project_id = slipway::project::project_id(&root);
    // Whatever happens below, the project's containers go with the test.
    let _containers = support::ProjectContainers(project_id.clone());
    release_locally(&root, data.path(), "release")?;

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    wait_or_explain(
        &session,
        &format!("{CARD}[@data-state='running']"),
        UI_WAIT,
        "container-not-running",
    )
    .await?;

    // Removed from outside, as `docker rm -f` would.
    let engine = slipway::docker::connect()?;
    for name in slipway::docker::project_containers(&engine, &project_id).await? {
        slipway::docker::remove_container(&engine, &name).await?;
    }
    let took = noticed(
        &session,
        &format!("{CARD}[@data-state='removed']"),
        NOTICED_WITHIN,
        "container-still-running",
    )
    .await?;
    session
        .execute(&format!(
            "document.evaluate(\"{CARD}\", document, null, 9, null).singleNodeValue.scrollIntoView()"
        ))
        .await?;
    save_screenshot(&session, "container-removed").await?;
    let card = session.wait_for(CARD, UI_WAIT).await?;
    let text = session.text(&card).await?;
    assert!(text.contains("Removed"), "{text}");
    assert!(
        !text.contains("started"),
        "no start time for a removed container: {text}"
    );
    for gone in ["Restart", "Stop", "Show its output"] {
        assert!(
            session.absent(&format!("{CARD}{}", button(gone))).await?,
            "{gone} cannot work on a removed container"
        );
    }
    eprintln!("removed noticed after {took:?}");

    // Run it again ships the release that was live here again.
    session
        .click(
            &session
                .wait_for(&format!("{CARD}{}", button("Run it again")), UI_WAIT)
                .await?,
        )
        .await?;
    wait_or_explain(
        &session,
        &format!("{CARD}[@data-state='running']"),
        180,
        "container-not-run-again",
    )
    .await?;
    let url = session
        .wait_for(&format!("{CARD}//a[@data-testid='local-app-url']"), UI_WAIT)
        .await?;
    let body = reqwest::get(&session.text(&url).await?).await?.text().await?;
    assert!(body.contains("Lettings"), "{body}");
    save_screenshot(&session, "container-run-again").await?;
    session.end().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_stopped_and_started_again_turns_the_badge_green_with_no_click() -> TestResult {
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = support::example_project(projects.path(), "lettings", |_| Ok(()))?;
    let docker = support::EngineProxy::start()?;

    let driver = Driver::start(&[
        ("SLIPWAY_DATA_DIR", data.path().display().to_string()),
        ("DOCKER_HOST", docker.docker_host()),
    ])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    let running = "//header//*[@data-testid='system-status']//*[normalize-space()='Docker running']";
    let down = "//header//*[@data-testid='system-status']//button[normalize-space()='Docker is not running']";
    wait_or_explain(&session, running, UI_WAIT, "docker-never-running").await?;
    open_project(&session, &root).await?;
    open_page(&session, "Images").await?;
    wait_or_explain(
        &session,
        "//main//*[@data-testid='image-repository']",
        UI_WAIT,
        "images-not-listed",
    )
    .await?;

    // Docker stops; the person comes back to the window (focus asks again).
    docker.stop();
    session.execute("window.dispatchEvent(new Event('focus'))").await?;
    noticed(&session, down, NOTICED_WITHIN, "docker-down-not-noticed").await?;
    // One notice on the page, in the one wording.
    wait_or_explain(&session, "//main//*[@role='alert']", UI_WAIT, "images-no-notice").await?;
    let notices = session
        .execute("return document.querySelectorAll(\"main [role='alert']\").length")
        .await?;
    assert_eq!(notices.as_u64(), Some(1), "one notice about Docker on the Images page");
    let said = session
        .execute("return document.querySelector(\"main [role='alert']\").innerText.split('Docker is not running').length - 1")
        .await?;
    assert_eq!(said.as_u64(), Some(1), "the notice says it once");
    save_screenshot(&session, "docker-down").await?;
    // Start Docker: without Docker Desktop, the command for this system, with Copy.
    session
        .click(
            &session
                .wait_for(&format!("//main{}", button("Start Docker")), UI_WAIT)
                .await?,
        )
        .await?;
    let how = wait_or_explain(
        &session,
        "//main//*[@data-testid='docker-how-to'][.//code][.//button[normalize-space()='Copy']]",
        UI_WAIT,
        "docker-no-how-to",
    )
    .await?;
    let how = session.text(&how).await?;
    assert!(how.contains("sudo "), "{how}");
    save_screenshot(&session, "docker-start-how").await?;

    // Docker is back: no click, no focus.
    docker.resume()?;
    let took = noticed(&session, running, NOTICED_WITHIN, "docker-back-not-noticed").await?;
    eprintln!("Docker's return noticed after {took:?}");
    // The open page asked again by itself: its notice is gone.
    let deadline = Instant::now() + NOTICED_WITHIN;
    while !session.absent("//main//*[@role='alert']").await? {
        if Instant::now() > deadline {
            save_screenshot_as(&session, "images-still-down").await?;
            return Err("the Images page still shows a Docker notice after Docker came back".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    save_screenshot(&session, "docker-back").await?;
    session.end().await?;
    Ok(())
}

/// Issue 29: a project names its Docker context in its settings (`team`, the test engine over
/// TCP); the plan then says which engine it builds and runs on, and that `DOCKER_HOST` is
/// passed over for it, as `docker --context team` would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_project_s_docker_context_is_chosen_in_its_settings_and_named_in_the_plan() -> TestResult {
    let _environment = test_registry();
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = support::example_project(projects.path(), "lettings", |_| Ok(()))?;
    let (_socat, address) = support::engine_over_tcp()?;
    let config = tempfile::tempdir()?;
    support::docker_context(config.path(), "team", &address)?;

    let driver = Driver::start(&[
        ("SLIPWAY_DATA_DIR", data.path().display().to_string()),
        ("DOCKER_CONFIG", config.path().display().to_string()),
        ("DOCKER_HOST", format!("unix://{}", support::engine_socket())),
    ])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    open_page(&session, "Project settings").await?;
    let field = session.wait_for("//input[@id='docker-context']", UI_WAIT).await?;
    session.type_text(&field, "team").await?;
    session
        .execute("document.getElementById('docker-context').scrollIntoView({block: 'center'})")
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    save_screenshot_as(&session, "docker-context-setting").await?;
    session
        .click(&session.wait_for(&button("Save settings"), UI_WAIT).await?)
        .await?;
    wait_or_explain(&session, &button("Saved"), UI_WAIT, "docker-context-not-saved").await?;
    let settings = slipway::project::current_settings(data.path(), &root)?;
    assert_eq!(settings.docker_context.as_deref(), Some("team"));

    open_page(&session, "Release").await?;
    let engine_line = format!("//*[@data-testid='plan-engine'][contains(., '{address} (Docker context team)')]");
    wait_or_explain(&session, &engine_line, UI_WAIT, "docker-context-not-in-plan").await?;
    wait_or_explain(
        &session,
        "//*[contains(normalize-space(), \"the project's Docker context team is used, as docker --context team would.\")]",
        UI_WAIT,
        "docker-host-passed-over-not-said",
    )
    .await?;
    session
        .execute("document.querySelector(\"[data-testid='plan-engine']\").scrollIntoView({block: 'center'})")
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    save_screenshot_as(&session, "docker-context-plan").await?;
    session.end().await?;
    Ok(())
}
