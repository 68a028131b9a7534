//! Window tests: the real app under Xvfb, driven through tauri-driver and WebKitWebDriver.
//!
//! They need the display and drivers that `scripts/test` provides, and fail (never skip)
//! without them.

#[path = "../support/mod.rs"]
mod support;

#[path = "../support/standin/mod.rs"]
mod standin;

#[path = "../support/postgres.rs"]
#[allow(dead_code, reason = "the window test needs a plain server, not TLS or psql")]
mod postgres;

mod checks;
mod circleci;
mod desktop;
mod driver;
mod engine;
mod failures;
mod files;
mod history_now;
mod projects;
mod services;
mod small_window;
mod start_up;
mod tasks;
mod team;
mod webdriver;

use std::path::Path;

use driver::Driver;
use support::{git, git_project, slipway_binary, test_registry, TestResult};
use webdriver::Session;

/// Waiting budget for the window to load and for a command to answer.
const UI_WAIT: u64 = 30;

fn button(label: &str) -> String {
    format!("//button[normalize-space()='{label}']")
}

async fn open_page(session: &Session, label: &str) -> webdriver::Result<()> {
    let nav_button = session.wait_for(&format!("//nav{}", button(label)), UI_WAIT).await?;
    session.click(&nav_button).await?;
    session
        .wait_for(&format!("//main//h2[normalize-space()='{label}']"), UI_WAIT)
        .await
        .map(drop)
}

/// The test registry as the Local target's registry, with its login in the keyring.
fn use_local_registry(data: &Path, registry: &support::TestRegistry) -> TestResult {
    support::save_registry_login(data, registry, &registry.password)?;
    std::fs::write(
        data.join("settings.json"),
        serde_json::json!({ "localRegistry": registry.address }).to_string(),
    )?;
    Ok(())
}

/// The Release page's button, which names the environment ("Release to this computer"),
/// not the navigation's "Release".
async fn press_release(session: &Session) -> webdriver::Result<()> {
    session
        .click(
            &session
                .wait_for("//main//button[starts-with(normalize-space(), 'Release to ')]", UI_WAIT)
                .await?,
        )
        .await
}

/// Opens the project at `root` by typing its path on the Release page; on a fresh data
/// folder the first-run guide then asks where it runs: this machine.
async fn open_project(session: &Session, root: &Path) -> webdriver::Result<()> {
    let path_input = session.wait_for("//input[@id='project-path']", UI_WAIT).await?;
    session.type_text(&path_input, &root.display().to_string()).await?;
    session
        .click(&session.wait_for(&button("Open"), UI_WAIT).await?)
        .await?;
    session.wait_for("//*[@data-testid='project-name']", UI_WAIT).await?;
    let this_machine = "//button[.//strong[normalize-space()='On this computer']]";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(UI_WAIT);
    while std::time::Instant::now() < deadline {
        if !session.absent(this_machine).await? {
            return session.click(&session.wait_for(this_machine, UI_WAIT).await?).await;
        }
        if session.absent("//*[@data-testid='first-run']").await?
            && !session.absent("//*[@data-testid='plan-image']").await?
        {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Opens the project at `root` through the header's *Switch project* and its path field.
async fn switch_project(session: &Session, root: &Path) -> webdriver::Result<()> {
    session
        .click(&session.wait_for(&button("Switch project"), UI_WAIT).await?)
        .await?;
    let path_input = session
        .wait_for("//*[@id='project-switcher']//input[@type='text']", UI_WAIT)
        .await?;
    session.type_text(&path_input, &root.display().to_string()).await?;
    session
        .click(
            &session
                .wait_for(&format!("//*[@id='project-switcher']{}", button("Open")), UI_WAIT)
                .await?,
        )
        .await
}

/// One Local release of the project at `root` by the CLI into the data folder `data`, which
/// must go live; its release id. `tag` names it in a failure.
fn release_locally(root: &Path, data: &Path, tag: &str) -> Result<String, Box<dyn std::error::Error>> {
    let output = std::process::Command::new(slipway_binary())
        .args([
            "release",
            "--project",
            &root.display().to_string(),
            "--target",
            "local",
            "--yes",
            "--json",
        ])
        .env("SLIPWAY_DATA_DIR", data)
        .output()?;
    let summary: serde_json::Value = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .next_back()
        .ok_or_else(|| format!("{tag}: no summary; {}", String::from_utf8_lossy(&output.stderr)))?;
    assert_eq!(summary["outcome"], "live", "{tag}: {summary}");
    Ok(summary["releaseId"].as_str().unwrap_or_default().to_owned())
}

/// Waits for `xpath`; when it does not come, the error carries what the page shows and a
/// screenshot is saved as `name`.
async fn wait_or_explain(
    session: &Session,
    xpath: &str,
    seconds: u64,
    name: &str,
) -> Result<webdriver::Element, Box<dyn std::error::Error>> {
    match session.wait_for(xpath, seconds).await {
        Ok(element) => Ok(element),
        Err(error) => {
            save_screenshot_as(session, name).await?;
            let page = session
                .execute("return document.querySelector('main').innerText")
                .await?;
            Err(format!("{error}; the page shows: {page}").into())
        }
    }
}

/// Saves a screenshot for the reader of a failed run; never the README's.
async fn save_screenshot_as(session: &Session, name: &str) -> webdriver::Result<()> {
    let png = session.screenshot().await?;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("window-screenshots");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(format!("{name}.png")), &png)?;
    Ok(())
}

async fn save_screenshot(session: &Session, name: &str) -> webdriver::Result<()> {
    let png = session.screenshot().await?;
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("window-screenshots");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(format!("{name}.png")), &png)?;
    if let Some(readme_shot) = std::env::var_os("SLIPWAY_SCREENSHOT") {
        std::fs::write(readme_shot, &png)?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_visits_every_page_and_opens_a_project() -> TestResult {
    let _environment = test_registry();
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let project = git_project(projects.path(), "orange-lettings", "feature/window-test")?;
    let project_path = project.canonicalize()?.display().to_string();
    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;

    let session = Session::start(&driver.url, &slipway_binary()).await?;
    session
        .wait_for("//header//*[normalize-space()='No project open']", UI_WAIT)
        .await?;

    // Every page says what it will show and what to do first.
    let pages = [
        ("History", "No releases yet"),
        ("Errors", "No error reports to show"),
        ("Images", "No images yet"),
        ("Settings", "No accounts connected"),
        // A fresh data folder: the first-run guide, whose first step opens the project.
        ("Release", "Open your project"),
    ];
    for (label, empty_state) in pages {
        open_page(&session, label).await?;
        session
            .wait_for(&format!("//main//h3[normalize-space()='{empty_state}']"), UI_WAIT)
            .await?;
    }

    // The system check runs for real inside the window: engine and keyring are here.
    open_page(&session, "Settings").await?;
    session
        .click(&session.wait_for(&button("Run the system check"), UI_WAIT).await?)
        .await?;
    let status = session
        .wait_for("//p[@role='status'][contains(., 'Slipway needs')]", UI_WAIT)
        .await?;
    let results = session
        .wait_for("//ul[@aria-label='System check results']", UI_WAIT)
        .await?;
    let results_text = session.text(&results).await?;
    assert_eq!(
        session.text(&status).await?,
        "Everything Slipway needs is here.",
        "{results_text}"
    );
    assert!(results_text.contains("Docker Engine"), "{results_text}");

    // The frame stays put: scrolling the page scrolls the page alone (the header and the
    // navigation stay at the top, the document itself never scrolls), and the next page
    // opens at its top.
    let scrolled = session
        .execute(
            "const main = document.querySelector('main'); main.scrollTop = main.scrollHeight; \
             window.scrollTo(0, 10000); \
             return [main.scrollTop, document.scrollingElement.scrollTop, \
                     document.querySelector('header').getBoundingClientRect().top, \
                     document.querySelector('nav').getBoundingClientRect().top];",
        )
        .await?;
    let numbers: Vec<f64> = scrolled
        .as_array()
        .map(|values| values.iter().filter_map(serde_json::Value::as_f64).collect())
        .unwrap_or_default();
    assert_eq!(numbers.len(), 4, "{scrolled}");
    assert!(numbers[0] > 0.0, "the Settings page scrolls: {scrolled}");
    assert_eq!(numbers[1], 0.0, "the document never scrolls: {scrolled}");
    assert_eq!(numbers[2], 0.0, "the header stays at the top: {scrolled}");
    assert!(
        numbers[3] >= 0.0 && numbers[3] < 100.0,
        "the navigation stays in view: {scrolled}"
    );
    open_page(&session, "History").await?;
    let top = session
        .execute("return document.querySelector('main').scrollTop")
        .await?;
    assert_eq!(top.as_f64(), Some(0.0), "History opens at its top");
    open_page(&session, "Settings").await?;
    session
        .wait_for(
            &format!("//dd[normalize-space()='{}']", data.path().join("logs").display()),
            UI_WAIT,
        )
        .await?;

    // A folder that does not exist: a clear message, and nothing is opened or saved.
    open_page(&session, "Release").await?;
    let path_input = session.wait_for("//input[@id='project-path']", UI_WAIT).await?;
    session.type_text(&path_input, "/nonexistent/slipway-project").await?;
    session
        .click(&session.wait_for(&button("Open"), UI_WAIT).await?)
        .await?;
    let alert = session.wait_for("//*[@role='alert']", UI_WAIT).await?;
    let alert_text = session.text(&alert).await?;
    assert!(alert_text.contains("does not exist"), "{alert_text}");
    assert!(alert_text.contains("Check the path"), "{alert_text}");
    assert!(session.absent("//*[@data-testid='project-name']").await?);

    // The path a folder picker returns goes through the same command: type it.
    let path_input = session.wait_for("//input[@id='project-path']", UI_WAIT).await?;
    session
        .execute("const i = document.getElementById('project-path'); i.value = ''; i.dispatchEvent(new Event('input', {bubbles: true}));")
        .await?;
    session.type_text(&path_input, &project_path).await?;
    session
        .click(&session.wait_for(&button("Open"), UI_WAIT).await?)
        .await?;
    let name = session.wait_for("//*[@data-testid='project-name']", UI_WAIT).await?;
    assert_eq!(session.text(&name).await?, "orange-lettings");
    session.wait_for("//*[@data-testid='project-branch']", UI_WAIT).await?;
    // Its text, as a narrow header may cut it short on screen.
    let branch = session
        .execute("return document.querySelector(\"[data-testid='project-branch']\").textContent")
        .await?;
    assert!(
        branch.as_str().is_some_and(|text| text.contains("feature/window-test")),
        "{branch}"
    );
    // The guide's second step: this machine needs nothing more.
    session
        .wait_for("//main//h3[normalize-space()='Where should it run?']", UI_WAIT)
        .await?;
    save_screenshot_as(&session, "first-run").await?;
    session
        .click(
            &session
                .wait_for("//button[.//strong[normalize-space()='On this computer']]", UI_WAIT)
                .await?,
        )
        .await?;
    assert!(
        session.absent("//*[@data-testid='first-run']").await?,
        "the guide is done"
    );
    session.wait_for("//*[@data-testid='plan-image']", UI_WAIT).await?;
    // What Slipway found, editable, on the project's own settings page; then the project's
    // own tests run for real.
    open_page(&session, "Project settings").await?;
    session
        .wait_for(&format!("//main//dd[normalize-space()='{project_path}']"), UI_WAIT)
        .await?;
    let test_command = session.wait_for("//input[@id='test-command']", UI_WAIT).await?;
    let found = session
        .execute("return document.getElementById('test-command').value")
        .await?;
    assert_eq!(found, "pytest", "{found}");
    let _ = test_command;
    session
        .click(&session.wait_for(&button("Run tests"), UI_WAIT).await?)
        .await?;
    // Making the Python environment (pip) is most of this wait.
    let heading = wait_or_explain(
        &session,
        "//section[@aria-label='Test results']//h4",
        240,
        "checks-not-done",
    )
    .await?;
    let counts = session.wait_for("//*[@data-testid='test-counts']", UI_WAIT).await?;
    assert_eq!(session.text(&heading).await?, "Tests passed");
    assert!(session.text(&counts).await?.starts_with("1 passed"));
    let output = session.wait_for("//pre[@aria-label='Output']", UI_WAIT).await?;
    assert!(session.text(&output).await?.contains("$ pytest"));
    session
        .click(&session.wait_for(&button("Run lint"), UI_WAIT).await?)
        .await?;
    let lint = session
        .wait_for("//section[@aria-label='Lint results']//h4", 120)
        .await?;
    assert_eq!(session.text(&lint).await?, "Lint (flake8) passed");
    // A WebDriver screenshot right after a change can show the previous frame.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot_as(&session, "checks-with-project").await?;
    session.end().await?;

    // After a restart the last project is open again, and the guide does not come back.
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    let name = session.wait_for("//*[@data-testid='project-name']", UI_WAIT).await?;
    assert_eq!(session.text(&name).await?, "orange-lettings");
    session.end().await?;

    let recents = std::fs::read_to_string(data.path().join("recent-projects.json"))?;
    assert!(recents.contains(&project_path), "{recents}");
    assert!(
        !recents.contains("nonexistent"),
        "a bad folder is never saved: {recents}"
    );
    Ok(())
}

/// The Release page ships the example project on the Local target: every step passes and
/// the app answers at the URL it shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_release_page_ships_the_example_project() -> TestResult {
    let registry = test_registry();
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = support::example_project(projects.path(), "lettings", |_| Ok(()))?;
    // Removed even when the test fails half-way.
    let _containers = support::ProjectContainers(slipway::project::project_id(&root));
    use_local_registry(data.path(), &registry)?;

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    let image = session.wait_for("//*[@data-testid='plan-image']", UI_WAIT).await?;
    assert!(
        session
            .text(&image)
            .await?
            .starts_with(&format!("{}/lettings:", registry.address)),
        "the plan pushes to the local registry"
    );
    press_release(&session).await?;
    // Making the Python environment (pip) is most of this wait.
    let link = match session.wait_for("//a[@data-testid='live-url']", 300).await {
        Ok(link) => link,
        Err(error) => {
            save_screenshot_as(&session, "release-not-live").await?;
            let page = session
                .execute("return document.querySelector('main').innerText")
                .await?;
            return Err(format!("{error}; the page shows: {page}").into());
        }
    };
    let url = session.text(&link).await?;
    for step in ["tests", "lint", "build", "push", "deploy", "verify"] {
        session
            .wait_for(&format!("//li[@data-step='{step}'][@data-state='passed']"), UI_WAIT)
            .await?;
    }
    let body = reqwest::get(&url).await?.text().await?;
    assert!(body.contains("Lettings"), "{body}");
    // The README's picture: the result and the steps in view.
    session
        .execute("document.querySelector(\"[aria-label='Release summary']\").scrollIntoView()")
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot(&session, "release-live").await?;

    // The result's address opens in the system browser (here a script that writes it down).
    session
        .click(&session.wait_for(&button("Open in browser"), UI_WAIT).await?)
        .await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(UI_WAIT);
    let opened = loop {
        let opened = std::fs::read_to_string(&driver.opened_log).unwrap_or_default();
        if !opened.is_empty() || std::time::Instant::now() > deadline {
            break opened;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(
        opened.trim(),
        url,
        "the system browser was asked to open the live address"
    );

    // Released once, the same tree's tests and lint passed already: the next plan says so
    // and would not run them again; Run everything puts them back in.
    session
        .click(&session.wait_for(&button("Release again…"), UI_WAIT).await?)
        .await?;
    for step in ["tests", "lint"] {
        wait_or_explain(
            &session,
            &format!("//li[@data-step='{step}']//*[@data-testid='step-state'][normalize-space()='cached']"),
            UI_WAIT,
            "plan-not-cached",
        )
        .await?;
    }
    let note = session.wait_for("//*[@data-testid='cache-note']", UI_WAIT).await?;
    assert!(
        session.text(&note).await?.contains("passed on this exact tree before"),
        "the plan says why they will not run"
    );
    save_screenshot(&session, "plan-cached").await?;
    session
        .click(&session.wait_for(&button("Run everything"), UI_WAIT).await?)
        .await?;
    session
        .wait_for(
            "//li[@data-step='tests']//*[@data-testid='step-state'][normalize-space()='not started yet']",
            UI_WAIT,
        )
        .await?;

    // Another project, an empty folder: nothing of the released one stays on the page.
    let empty = projects.path().join("empty-folder");
    std::fs::create_dir_all(&empty)?;
    switch_project(&session, &empty).await?;
    session
        .wait_for(
            "//*[@data-testid='project-name'][normalize-space()='empty-folder']",
            UI_WAIT,
        )
        .await?;
    session
        .wait_for(
            "//*[@data-testid='last-release'][contains(., 'never been released')]",
            UI_WAIT,
        )
        .await?;
    session
        .wait_for("//main//*[contains(., 'has no Dockerfile')]", UI_WAIT)
        .await?;
    let main = session
        .execute("return document.querySelector('main').innerText")
        .await?;
    let main = main.as_str().unwrap_or_default().to_owned();
    assert!(main.contains("no Dockerfile"), "its own blocker: {main}");
    assert!(!main.contains(&url), "the other project's address is gone: {main}");
    assert!(session.absent("//*[@aria-label='Release summary']").await?, "{main}");
    assert!(
        session.absent("//li[@data-step][@data-state='passed']").await?,
        "{main}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    save_screenshot_as(&session, "switched-to-empty").await?;
    session.end().await?;

    let ledger = slipway::history::Ledger::open(data.path())?;
    let releases = ledger.releases(None, 10)?;
    assert_eq!(releases.len(), 1);
    assert_eq!(releases[0].outcome, slipway::history::Outcome::Live);
    let engine = slipway::docker::connect()?;
    for name in slipway::docker::project_containers(&engine, &slipway::project::project_id(&root)).await? {
        slipway::docker::remove_container(&engine, &name).await?;
    }
    Ok(())
}

/// The Images page builds the project's image and pushes it to the registry with a password,
/// the progress bar reaching 100% and the registry then listing the tag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_images_page_builds_and_pushes_with_progress() -> TestResult {
    let registry = test_registry();
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let project = git_project(projects.path(), "corner-shop", "main")?;
    std::fs::copy("/bin/busybox", project.join("busybox"))?;
    std::fs::write(
        project.join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"mkdir\", \"/app\"]\n",
    )?;
    git(&project, &["add", "."])?;
    git(&project, &["commit", "-q", "-m", "image"])?;
    let root = project.canonicalize()?;
    // The name a Local release gives the image: this machine's registry, then the path.
    let path = format!("slipway-window/shop-{}", std::process::id());
    let repository = format!("{}/{path}", registry.address);
    let mut settings = slipway::project::ProjectSettings::from_detection(&slipway::project::detect(&root));
    settings.image_repository = Some(path.clone());
    slipway::project::save_settings(data.path(), &root, &settings)?;

    // The registry's login, as the accounts wizard keeps it.
    use_local_registry(data.path(), &registry)?;
    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    session.wait_for("//*[@data-testid='project-name']", UI_WAIT).await?;

    open_page(&session, "Images").await?;
    // The overview loads after the page opens: wait for the project's repository.
    wait_or_explain(
        &session,
        &format!("//*[@data-testid='image-repository'][normalize-space()='{repository}']"),
        UI_WAIT,
        "images-no-repository",
    )
    .await?;
    session
        .click(&session.wait_for(&button("Build image"), UI_WAIT).await?)
        .await?;
    let latest = format!("{repository}:latest");
    let push = session
        .wait_for(&format!("//button[@aria-label='Push {latest}']"), 120)
        .await?;
    session.click(&push).await?;
    let bar = format!("//progress[@aria-label='Push progress for {latest}']");
    session.wait_for(&bar, UI_WAIT).await?;
    session
        .wait_for("//span[contains(., '(the registry has this digest)')]", 120)
        .await?;
    let value = session
        .execute(&format!(
            "return document.evaluate(\"{bar}\", document, null, 9, null).singleNodeValue.value"
        ))
        .await?;
    assert_eq!(value.as_f64(), Some(100.0), "{value}");
    let percent = session.wait_for("//*[@data-testid='push-percent']", UI_WAIT).await?;
    assert_eq!(session.text(&percent).await?, "100%");
    session
        .wait_for(
            "//ul[@aria-label='Registry tags']//code[normalize-space()='latest']",
            UI_WAIT,
        )
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot_as(&session, "images-pushed").await?;
    session.end().await?;
    Ok(())
}

async fn fill(session: &Session, section: &str, label: &str, text: &str) -> webdriver::Result<()> {
    let input = session
        .wait_for(
            &format!("//section[@aria-label='{section}']//label[contains(., '{label}')]//input"),
            UI_WAIT,
        )
        .await?;
    session.type_text(&input, text).await
}

async fn press(session: &Session, section: &str, name: &str) -> webdriver::Result<()> {
    let button = session
        .wait_for(&format!("//section[@aria-label='{section}']{}", button(name)), UI_WAIT)
        .await?;
    session.click(&button).await
}

/// The wizard in the real window against the local registry and the Render and Sentry
/// stand-ins: a good token is verified and kept, a bad one is told, a Sentry token without
/// `event:write` is named. Marker secrets typed into every step are then searched for in the
/// page, the log files and every file in the data folder: none may be found, in any form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accounts_wizard_checks_tokens_and_leaks_none() -> TestResult {
    let registry = test_registry();
    let render = standin::render_stand_in().await?;
    let sentry = standin::sentry_stand_in().await?;
    let data = tempfile::tempdir()?;
    std::fs::write(
        data.path().join("settings.json"),
        serde_json::json!({ "renderApiUrl": format!("{}/v1", render.base) }).to_string(),
    )?;
    let markers = [
        "wrong-MARKER-reg-5521",
        "rnd_MARKER-render-6632",
        "sntrys_MARKER-sentry-7743",
    ];
    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_page(&session, "Settings").await?;

    // Registry: a wrong token is refused in plain words, the right one is verified.
    fill(&session, "Docker registry", "Registry", &registry.address).await?;
    fill(&session, "Docker registry", "Username", &registry.user).await?;
    fill(&session, "Docker registry", "Access token", markers[0]).await?;
    press(&session, "Docker registry", "Check and save").await?;
    let refused = session
        .wait_for("//section[@aria-label='Docker registry']//*[@role='alert']", 60)
        .await?;
    let refused_text = session.text(&refused).await?;
    assert!(
        refused_text.contains("The registry refused your login."),
        "{refused_text}"
    );
    fill(&session, "Docker registry", "Access token", &registry.password).await?;
    press(&session, "Docker registry", "Check and save").await?;
    let connected = session.wait_for("//*[@data-testid='connected-registry']", 60).await?;
    assert!(session.text(&connected).await?.contains("pull, push"));

    // Render: a bad key is told; Sentry: a bad token, then one without event:write. One
    // service's form is open at a time.
    session
        .click(
            &session
                .wait_for("//*[@data-testid='account-row-render']", UI_WAIT)
                .await?,
        )
        .await?;
    fill(&session, "Render", "API key", markers[1]).await?;
    press(&session, "Render", "Check and save").await?;
    let render_error = session
        .wait_for("//section[@aria-label='Render']//*[@role='alert']", UI_WAIT)
        .await?;
    assert!(session
        .text(&render_error)
        .await?
        .contains("Render did not accept your token."));
    session
        .click(
            &session
                .wait_for("//*[@data-testid='account-row-sentry']", UI_WAIT)
                .await?,
        )
        .await?;
    fill(&session, "Sentry", "Organization", "acme").await?;
    fill(&session, "Sentry", "Project", "web").await?;
    fill(&session, "Sentry", "API address", &format!("{}/api/0", sentry.base)).await?;
    fill(&session, "Sentry", "Auth token", markers[2]).await?;
    press(&session, "Sentry", "Check and save").await?;
    session
        .wait_for(
            "//section[@aria-label='Sentry']//*[@role='alert'][contains(., 'Sentry did not accept your token.')]",
            UI_WAIT,
        )
        .await?;
    fill(&session, "Sentry", "Auth token", "sntrys_nowrite").await?;
    press(&session, "Sentry", "Check and save").await?;
    session
        .wait_for(
            "//section[@aria-label='Sentry']//*[@role='alert'][contains(., 'event:write')]",
            UI_WAIT,
        )
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot_as(&session, "accounts-wizard").await?;

    // The leak search: the page, every file Slipway wrote (logs, accounts, settings).
    let page = session.execute("return document.documentElement.outerHTML").await?;
    let page = page.as_str().unwrap_or_default().to_owned();
    session.end().await?;
    let mut forms: Vec<String> = Vec::new();
    for marker in markers.iter().copied().chain([registry.password.as_str()]) {
        use base64::Engine;
        forms.push(marker.to_owned());
        forms.push(
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{marker}", registry.user))
                .trim_end_matches('=')
                .to_owned(),
        );
    }
    let places = support::with_files_below(vec![("the page".to_owned(), page)], data.path())?;
    assert!(
        places.iter().any(|(name, _)| name.contains("logs")),
        "the log file was searched"
    );
    for (place, text) in &places {
        for form in &forms {
            assert!(!text.contains(form.as_str()), "a secret ({form}) was found in {place}");
        }
    }
    let accounts = std::fs::read_to_string(data.path().join("accounts.json"))?;
    assert!(
        accounts.contains(&registry.user),
        "the verified account is listed: {accounts}"
    );
    Ok(())
}

/// A secret value the tests need is typed in the window, kept in the keyring, given to the
/// tests (which pass with it), and found nowhere else: not the page, not a file Slipway wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_test_value_typed_in_the_window_reaches_the_tests_only() -> TestResult {
    let _environment = test_registry();
    let marker = format!("sk-window-{}", std::process::id());
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = projects.path().join("secret-shop");
    for (file, text) in [
        ("requirements.txt", "pytest\nflake8\n".to_owned()),
        ("manage.py", String::new()),
        ("Dockerfile", "FROM python:3.11-slim\nCOPY . /app\n".to_owned()),
        ("shop/__init__.py", String::new()),
        (
            "shop/settings.py",
            "import os\n\nSECRET_KEY = os.environ['DJANGO_SECRET_KEY']\nDEBUG = os.environ.get('DJANGO_DEBUG', '0') == '1'\n".to_owned(),
        ),
        // A CI as projects have it: tests in a container, lint that cannot fail, a formatter,
        // a value from the CI's variables, a deploy hook.
        (
            ".github/workflows/ci.yml",
            "on: push\nenv:\n  DJANGO_DEBUG: ${{ vars.DJANGO_DEBUG }}\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pip install -r requirements.txt\n      - run: docker exec app pytest\n      - run: flake8 --format html --htmldir report || true\n      - run: black --check .\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - run: curl -X POST \"$DEPLOY_HOOK\"\n".to_owned(),
        ),
        (
            "tests/test_secret.py",
            format!("import os\n\n\ndef test_the_secret_arrives():\n    assert os.environ['DJANGO_SECRET_KEY'] == '{marker}'\n"),
        ),
    ] {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().ok_or("a folder")?)?;
        std::fs::write(path, text)?;
    }
    git(&root, &["init", "-q", "-b", "main"])?;
    git(&root, &["add", "-A"])?;
    git(&root, &["commit", "-q", "-m", "secret fixture"])?;
    // The test file holds the marker by design; it is not Slipway's to leak.
    let root = root.canonicalize()?;

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    session.wait_for("//*[@data-testid='plan-image']", UI_WAIT).await?;
    // The plan says where each gate comes from and what it needs.
    // The plan with its steps: the nearest block that holds both.
    let plan = session
        .wait_for(
            "//*[@aria-label='Release plan']/ancestor::*[.//ol[contains(@class, 'steps')]][1]",
            UI_WAIT,
        )
        .await?;
    let plan_text = session.text(&plan).await?;
    for said in [
        "The tests need DJANGO_SECRET_KEY",
        "Your CI gives DJANGO_DEBUG",
        "Other checks",
        "black --check .",
        "Not run from your CI (1)",
    ] {
        assert!(plan_text.contains(said), "the plan says {said:?}: {plan_text}");
    }
    session
        .execute("document.querySelectorAll('.origin').forEach((details) => details.open = true); document.querySelector('ol.steps').scrollIntoView()")
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot_as(&session, "plan-from-ci").await?;
    open_page(&session, "Project settings").await?;
    let input = wait_or_explain(
        &session,
        "//input[@id='env-DJANGO_SECRET_KEY'][@type='password']",
        UI_WAIT,
        "no-secret-input",
    )
    .await?;
    session.type_text(&input, &marker).await?;
    session
        .click(&session.wait_for(&button("Save to keyring"), UI_WAIT).await?)
        .await?;
    wait_or_explain(
        &session,
        "//*[@data-testid='secret-set-DJANGO_SECRET_KEY']",
        UI_WAIT,
        "secret-not-saved",
    )
    .await?;
    session
        .click(&session.wait_for(&button("Run tests"), UI_WAIT).await?)
        .await?;
    let heading = wait_or_explain(
        &session,
        "//section[@aria-label='Test results']//h4",
        240,
        "secret-checks-not-done",
    )
    .await?;
    assert_eq!(session.text(&heading).await?, "Tests passed");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot_as(&session, "secret-test-value").await?;
    let page = session.execute("return document.documentElement.outerHTML").await?;
    let page = page.as_str().unwrap_or_default().to_owned();
    session.end().await?;

    // The keyring holds it; nothing else does.
    let stored = slipway::secrets::SecretStore::os(data.path())
        .project_value(&slipway::project::project_id(&root), "DJANGO_SECRET_KEY")?
        .ok_or("the value is in the keyring")?;
    assert_eq!(stored.expose(), marker);
    let places = support::with_files_below(vec![("the page".to_owned(), page)], data.path())?;
    assert!(
        places.iter().any(|(name, _)| name.contains("logs")),
        "the log file was searched"
    );
    assert!(
        places.iter().any(|(name, _)| name.contains("projects")),
        "the settings were searched"
    );
    for (place, text) in &places {
        assert!(!text.contains(&marker), "the secret was found in {place}");
    }
    Ok(())
}

/// A release keeps running while the person looks at another page: the header says so, the
/// Release page shows the same run when they come back, and Cancel stops it, leaving no
/// process and no container.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_survives_leaving_its_page_and_cancels_on_return() -> TestResult {
    let registry = test_registry();
    let marker = format!("slipway-window-cancel-{}", std::process::id());
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    // Clean for flake8 (lint must not fail first and stop the release itself).
    let slow = format!(
        "import subprocess\n\nMARKER = '{marker}'\nWAIT = 'import time; time.sleep(300)'\n\n\ndef test_slow():\n    subprocess.run(['python3', '-c', WAIT, MARKER])\n"
    );
    let root = support::example_project(projects.path(), "lettings", |root| {
        std::fs::write(root.join("tests/test_slow.py"), &slow)
    })?;
    // Removed even when the test fails half-way.
    let _containers = support::ProjectContainers(slipway::project::project_id(&root));
    use_local_registry(data.path(), &registry)?;
    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    session.wait_for("//*[@data-testid='plan-image']", UI_WAIT).await?;
    press_release(&session).await?;
    wait_or_explain(
        &session,
        "//li[@data-step='tests'][@data-state='running']",
        UI_WAIT,
        "release-not-running",
    )
    .await?;
    // Away, and the header still tells.
    open_page(&session, "History").await?;
    let status = session
        .wait_for("//*[@role='status'][@aria-label='Running release']", UI_WAIT)
        .await?;
    assert!(session.text(&status).await?.starts_with("Releasing lettings"));
    // Back: the same run, waiting on the slow test.
    open_page(&session, "Release").await?;
    session
        .wait_for("//li[@data-step='tests'][@data-state='running']", UI_WAIT)
        .await?;
    wait_or_explain(
        &session,
        "//*[@role='status'][@aria-label='Running release']",
        240,
        "slow-test-not-started",
    )
    .await?;
    // The slow test is running once its marker process is there (pip may come first).
    let started = std::time::Instant::now();
    while support::processes_with(&marker).is_empty() {
        if started.elapsed() > std::time::Duration::from_secs(240) {
            save_screenshot_as(&session, "slow-test-never-ran").await?;
            return Err("the slow test never started".into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    session
        .click(
            &session
                .wait_for(&format!("//main{}", button("Cancel")), UI_WAIT)
                .await?,
        )
        .await?;
    wait_or_explain(
        &session,
        "//section[@aria-label='Release summary']//h4[normalize-space()='Release cancelled']",
        60,
        "release-not-cancelled",
    )
    .await?;
    session.end().await?;
    assert!(
        support::processes_with(&marker).is_empty(),
        "the test's processes were stopped"
    );
    let engine = slipway::docker::connect()?;
    let containers = slipway::docker::project_containers(&engine, &slipway::project::project_id(&root)).await?;
    assert!(containers.is_empty(), "no container was left: {containers:?}");
    Ok(())
}

/// History after two releases of the example (the second with a changed file): both are
/// listed newest first, a filter narrows the list to nothing and clears, the first release's
/// detail shows its test results and its log, and "Roll back to this" puts the first
/// release's image back in the project's container.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_lists_releases_shows_one_and_rolls_back() -> TestResult {
    let registry = test_registry();
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = support::example_project(projects.path(), "lettings", |_| Ok(()))?;
    // Removed even when the test fails half-way.
    let _containers = support::ProjectContainers(slipway::project::project_id(&root));
    use_local_registry(data.path(), &registry)?;
    let release = |tag: &str| release_locally(&root, data.path(), tag);
    let first = release("first")?;
    std::fs::write(root.join("lettings/VERSION"), "2\n")?;
    let second = release("second")?;
    let ledger = slipway::history::Ledger::open(data.path())?;
    let first_image = ledger
        .release(&first)?
        .and_then(|release| release.image_id)
        .ok_or("first image")?;

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    session.wait_for("//*[@data-testid='plan-image']", UI_WAIT).await?;
    open_page(&session, "History").await?;
    let rows = "//*[@data-testid='history-row']";
    wait_or_explain(&session, &format!("({rows})[2]"), UI_WAIT, "history-not-listed").await?;
    let newest = session.wait_for(&format!("({rows})[1]"), UI_WAIT).await?;
    let newest_id = session
        .execute(&format!(
            "return document.evaluate(\"({rows})[1]\", document, null, 9, null).singleNodeValue.dataset.releaseId"
        ))
        .await?;
    assert_eq!(newest_id.as_str(), Some(second.as_str()), "newest first");
    assert!(session.text(&newest).await?.contains("uncommitted changes"));

    // A filter that matches nothing says so, and clearing it brings both back.
    let search = session.wait_for("//*[@data-testid='history-search']", UI_WAIT).await?;
    session.type_text(&search, "no-such-commit").await?;
    let clear = wait_or_explain(&session, &button("Clear filters"), UI_WAIT, "history-no-empty-state").await?;
    session.click(&clear).await?;
    wait_or_explain(&session, &format!("({rows})[2]"), UI_WAIT, "history-not-cleared").await?;

    // The first release: its tests and its log, then back to it.
    session
        .click(
            &session
                .wait_for(&format!("{rows}[@data-release-id='{first}']"), UI_WAIT)
                .await?,
        )
        .await?;
    let detail = "//*[@data-testid='history-detail']";
    wait_or_explain(
        &session,
        &format!("{detail}//h4[normalize-space()='Check results']"),
        UI_WAIT,
        "history-no-results",
    )
    .await?;
    wait_or_explain(
        &session,
        &format!("{detail}//*[@data-testid='history-log-status'][contains(., 'Showing')]"),
        UI_WAIT,
        "history-no-log",
    )
    .await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    save_screenshot_as(&session, "history").await?;
    if let Some(readme_shot) = std::env::var_os("SLIPWAY_HISTORY_SCREENSHOT") {
        std::fs::write(readme_shot, session.screenshot().await?)?;
    }
    session
        .click(
            &session
                .wait_for("//*[@data-testid='history-rollback']", UI_WAIT)
                .await?,
        )
        .await?;
    // It asks first.
    session
        .click(&session.wait_for("//button[@data-testid='confirm-ok']", UI_WAIT).await?)
        .await?;
    wait_or_explain(
        &session,
        "//*[@data-testid='history-rollback-status'][contains(., 'Rolled back')]",
        120,
        "history-rollback-not-live",
    )
    .await?;
    session.end().await?;
    let engine = slipway::docker::connect()?;
    let container = slipway::project::container_name(&root);
    let running = engine.inspect_container(&container, None).await?;
    assert_eq!(
        running.image.as_deref(),
        Some(first_image.as_str()),
        "the first image runs again"
    );
    let releases = ledger.releases(None, 10)?;
    assert_eq!(releases[0].kind, "rollback");
    assert_eq!(releases[0].source_id.as_deref(), Some(first.as_str()));
    for name in slipway::docker::project_containers(&engine, &slipway::project::project_id(&root)).await? {
        slipway::docker::remove_container(&engine, &name).await?;
    }
    Ok(())
}

/// The Errors page against the Sentry stand-in: the unresolved issues listed, a filter that
/// narrows them, an issue's latest event with its frames (the project's own open, the
/// failing line marked), and a resolve that the list shows at once and Sentry keeps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_errors_page_lists_filters_opens_and_resolves() -> TestResult {
    let _environment = test_registry();
    let scenario = standin::SentryScenario::default();
    let handle = scenario.handle.clone();
    let sentry = standin::sentry_issues_stand_in(scenario).await?;
    let data = tempfile::tempdir()?;
    let mut account = slipway::secrets::Account::new(slipway::secrets::Service::Sentry, "acme/web", "test");
    account.server = Some(format!("{}/api/0", sentry.base));
    account.sentry_organization = Some("acme".to_owned());
    account.sentry_project = Some("web".to_owned());
    slipway::secrets::SecretStore::os(data.path()).save(&account, "sntrys_full")?;
    // The Errors page shows the open project's own Sentry project: this one is linked.
    let projects = tempfile::tempdir()?;
    let project = git_project(projects.path(), "errors-shop", "main")?;
    let mut settings = slipway::project::ProjectSettings::from_detection(&slipway::project::detect(&project));
    settings.sentry_project = Some(slipway::project::SentryLink {
        account: "acme/web".to_owned(),
        organization: "acme".to_owned(),
        project: "web".to_owned(),
    });
    slipway::project::save_settings(data.path(), &project, &settings)?;

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &project).await?;
    open_page(&session, "Errors").await?;
    let rows = "//*[@data-testid='errors-row']";
    session.wait_for(rows, UI_WAIT).await?;
    let count_rows = || async {
        session
            .execute("return document.querySelectorAll(\"[data-testid='errors-row']\").length")
            .await
            .map(|count| count.as_u64().unwrap_or(0))
    };
    assert_eq!(count_rows().await?, 28, "every unresolved issue of the project");
    let page_text = session
        .execute("return document.querySelector('main')?.innerText ?? document.body.innerText")
        .await?;
    assert!(
        page_text.as_str().is_some_and(|text| text.contains("acme/web")),
        "the page names the Sentry project it shows: {page_text}"
    );

    // Ignored ones only: two.
    session
        .execute("const s = document.querySelector(\"[data-testid='errors-status']\"); s.value = 'ignored'; s.dispatchEvent(new Event('change', {bubbles: true}));")
        .await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(UI_WAIT);
    while count_rows().await? != 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(count_rows().await?, 2, "the ignored issues");
    session
        .execute("const s = document.querySelector(\"[data-testid='errors-status']\"); s.value = 'unresolved'; s.dispatchEvent(new Event('change', {bubbles: true}));")
        .await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(UI_WAIT);
    while count_rows().await? != 28 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // The issue with a stack trace: its frames, the project's own open with the failing line.
    let first = format!(
        "//*[@data-testid='errors-row'][@data-issue-id='{}']//button[contains(@class, 'title')]",
        standin::SENTRY_SECRET_ISSUE
    );
    let title = match session.wait_for(&first, 5).await {
        Ok(title) => title,
        Err(_) => {
            session
                .wait_for(
                    "(//*[@data-testid='errors-row']//button[contains(@class, 'title')])[1]",
                    UI_WAIT,
                )
                .await?
        }
    };
    session.click(&title).await?;
    session.wait_for("//*[@data-testid='errors-detail']", UI_WAIT).await?;
    session
        .wait_for("//*[@data-testid='errors-frame'][@data-in-app='true']", UI_WAIT)
        .await?;
    session
        .wait_for("//*[@data-testid='errors-context']//*[@data-current='true']", UI_WAIT)
        .await?;
    let detail = session.wait_for("//*[@data-testid='errors-detail']", UI_WAIT).await?;
    let detail_text = session.text(&detail).await?;
    assert!(
        !detail_text.contains("hunter2-sentry-secret"),
        "a password variable is hidden"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    save_screenshot_as(&session, "errors").await?;

    // Resolve it: the row leaves the unresolved list at once, and Sentry has it resolved.
    let opened_id = session
        .execute("return document.querySelector(\"[data-testid='errors-row'][aria-current='true']\")?.getAttribute('data-issue-id') ?? null")
        .await?;
    session
        .click(
            &session
                .wait_for("//*[@data-testid='errors-detail-resolved']", UI_WAIT)
                .await?,
        )
        .await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(UI_WAIT);
    while count_rows().await? != 27 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(count_rows().await?, 27, "the resolved issue left the unresolved list");
    // The list changes at once; Sentry hears of it a moment later.
    let resolved_now = || -> Vec<String> {
        handle
            .issue_ids()
            .into_iter()
            .filter(|id| handle.issue_status(id).as_deref() == Some("resolved"))
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(UI_WAIT);
    while resolved_now().len() < 7 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let resolved = resolved_now();
    assert_eq!(
        resolved.len(),
        7,
        "six were resolved before, one more now: {resolved:?}"
    );
    let opened_id = opened_id.as_str().ok_or("the open issue's row is marked")?;
    assert!(
        resolved.iter().any(|resolved| resolved == opened_id),
        "{opened_id} {resolved:?}"
    );
    session.end().await?;
    Ok(())
}

/// With the engine gone, the window says so before anything runs: Docker's status in the
/// header, the Release button disabled with the reason beside it, and the button that helps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_without_docker_is_blocked_with_the_reason_and_the_action() -> TestResult {
    let _environment = test_registry();
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = support::example_project(projects.path(), "lettings", |_| Ok(()))?;
    let driver = Driver::start(&[
        ("SLIPWAY_DATA_DIR", data.path().display().to_string()),
        (
            "DOCKER_HOST",
            format!("unix://{}", data.path().join("no-engine.sock").display()),
        ),
    ])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    session
        .wait_for("//header//*[contains(., \"Docker is not running\")]", UI_WAIT)
        .await?;
    let why = session.wait_for("//*[@data-testid='release-why']", UI_WAIT).await?;
    let why_text = session.text(&why).await?;
    assert!(why_text.contains("Docker is not running"), "{why_text}");
    let disabled = session
        .execute("const b = [...document.querySelectorAll('main button')].find((b) => b.textContent.trim().startsWith('Release to ')); return b ? b.disabled : null")
        .await?;
    assert_eq!(disabled, serde_json::Value::Bool(true), "Release waits for Docker");
    session
        .wait_for("//main//button[normalize-space()='Start Docker']", UI_WAIT)
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    save_screenshot_as(&session, "docker-not-running").await?;
    session.end().await?;
    Ok(())
}
