//! A desktop citizen: one window per data folder, which a later launch brings forward with the
//! folder it was given, and a window that comes back at the size and place it was left.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::*;

/// Runs `slipway` as a person would launch it again; a launch that opened a window of its own
/// (it never ends) is killed after `wait` and said so.
fn launch(args: &[&str], dir: &Path, data: &Path, wait: Duration) -> Result<Output, String> {
    let mut child = Command::new(slipway_binary())
        .args(args)
        .current_dir(dir)
        .env("SLIPWAY_DATA_DIR", data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| error.to_string())?;
    let deadline = Instant::now() + wait;
    while child.try_wait().map_err(|error| error.to_string())?.is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "slipway {args:?} did not end within {wait:?}: it opened a window of its own"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().map_err(|error| error.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_launch_opens_its_folder_in_the_window_already_open() -> TestResult {
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let first = support::example_project(projects.path(), "lettings", |_| Ok(()))?;
    support::example_project(projects.path(), "bookshelf", |_| Ok(()))?;
    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    let result = async {
        open_project(&session, &first).await?;
        session
            .wait_for(
                "//*[@data-testid='project-name'][normalize-space()='lettings']",
                UI_WAIT,
            )
            .await?;
        open_page(&session, "History").await?;

        // From a terminal in the projects' folder, with a relative path, as `slipway .` would be.
        let (dir, data_dir) = (projects.path().to_path_buf(), data.path().to_path_buf());
        let again =
            tokio::task::spawn_blocking(move || launch(&["bookshelf"], &dir, &data_dir, Duration::from_secs(20)))
                .await??;
        let said = String::from_utf8_lossy(&again.stdout);
        assert!(again.status.success(), "{again:?}");
        assert!(said.contains("Slipway is already open"), "{said}");
        // The window opened it, on the Release page.
        wait_or_explain(
            &session,
            "//*[@data-testid='project-name'][normalize-space()='bookshelf']",
            UI_WAIT,
            "second-launch-not-opened",
        )
        .await?;
        session
            .wait_for("//main//h2[normalize-space()='Release']", UI_WAIT)
            .await?;
        save_screenshot(&session, "second-launch-opened-its-folder").await?;

        // A folder that is not there (or a mistyped command): said, and the window is left alone.
        let (dir, data_dir) = (projects.path().to_path_buf(), data.path().to_path_buf());
        let wrong = tokio::task::spawn_blocking(move || launch(&["relase"], &dir, &data_dir, Duration::from_secs(20)))
            .await??;
        assert_eq!(wrong.status.code(), Some(2), "{wrong:?}");
        let said = String::from_utf8_lossy(&wrong.stderr);
        assert!(said.contains("There is no folder or command named relase."), "{said}");
        assert!(
            !session
                .absent("//*[@data-testid='project-name'][normalize-space()='bookshelf']")
                .await?,
            "the open project stays"
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    }
    .await;
    if result.is_err() {
        let _ = save_screenshot_as(&session, "second-launch-failed").await;
    }
    session.end().await?;
    drop(driver);
    result
}

#[tokio::test(flavor = "multi_thread")]
async fn the_window_comes_back_at_the_size_and_place_it_was_left() -> TestResult {
    let data = tempfile::tempdir()?;
    let env = [("SLIPWAY_DATA_DIR", data.path().display().to_string())];
    let driver = Driver::start(&env)?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    let left = async {
        session.wait_for("//main", UI_WAIT).await?;
        let [.., width, height] = session.window_rect().await?;
        assert_eq!(
            [width, height],
            [1100, 720],
            "the first start's size, from the configuration"
        );
        session.set_window_size(930, 610).await?;
        session.set_window_position(40, 30).await?;
        // Kept a moment after the window stops changing, not only when the app exits.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        session.window_rect().await
    }
    .await;
    session.end().await?;
    drop(driver);
    let left = left?;
    assert_eq!(left[2..], [930, 610], "the size the window was given: {left:?}");
    assert!(
        data.path().join("window-state.json").is_file(),
        "kept in the data folder"
    );

    let driver = Driver::start(&env)?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    let back = async {
        session.wait_for("//main", UI_WAIT).await?;
        session.window_rect().await
    }
    .await;
    session.end().await?;
    drop(driver);
    let back = back?;
    assert_eq!(back, left, "the window came back where it was left");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_guide_offers_the_docker_login_this_computer_already_has() -> TestResult {
    let registry = test_registry();
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let project = support::example_project(projects.path(), "lettings", |_| Ok(()))?;
    // What `docker login` left on this computer: its config folder, with the registry's login.
    let docker_config = tempfile::tempdir()?;
    let auth = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{}:{}", registry.user, registry.password),
    );
    std::fs::write(
        docker_config.path().join("config.json"),
        serde_json::json!({ "auths": { registry.address.clone(): { "auth": auth } } }).to_string(),
    )?;
    let driver = Driver::start(&[
        ("SLIPWAY_DATA_DIR", data.path().display().to_string()),
        ("DOCKER_CONFIG", docker_config.path().display().to_string()),
    ])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    let offer = format!(
        "//*[@data-testid='known-login-registry']//button[normalize-space()='Use the login to {} from Docker ({})']",
        registry.address, registry.user
    );
    let walked = async {
        let path_input = session.wait_for("//input[@id='project-path']", UI_WAIT).await?;
        session.type_text(&path_input, &project.display().to_string()).await?;
        session
            .click(&session.wait_for(&button("Open"), UI_WAIT).await?)
            .await?;
        session
            .click(
                &session
                    .wait_for("//button[.//strong[normalize-space()='On Render']]", UI_WAIT)
                    .await?,
            )
            .await?;
        session
            .click(&session.wait_for(&button("Connect Docker Hub"), UI_WAIT).await?)
            .await?;
        let offered = wait_or_explain(&session, &offer, UI_WAIT, "guide-no-docker-login").await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        save_screenshot(&session, "first-run-docker-login-offered").await?;
        session.click(&offered).await?;
        let connected = wait_or_explain(
            &session,
            "//*[@data-testid='first-run']//*[@data-testid='connected-registry']",
            60,
            "guide-docker-login-not-kept",
        )
        .await?;
        let shown = session.text(&connected).await?;
        assert!(shown.contains(&format!("as {}", registry.user)), "{shown}");
        save_screenshot(&session, "first-run-docker-login-used").await?;
        // The page never had the secret: not in its text, not in what it holds.
        let page = session.execute("return document.documentElement.outerHTML").await?;
        assert!(
            !page.to_string().contains(&registry.password),
            "the password reached the page"
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    }
    .await;
    session.end().await?;
    drop(driver);
    walked?;
    let kept = slipway::secrets::SecretStore::os(data.path())
        .account(slipway::secrets::Service::Registry, &registry.address)
        .ok_or("no registry account was kept")?;
    assert_eq!(kept.source, "Docker (config.json)");
    assert_eq!(kept.username.as_deref(), Some(registry.user.as_str()));
    assert!(kept.verified_at.is_some(), "checked before it was kept");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_next_start_says_slipway_stopped_unexpectedly_until_dismissed() -> TestResult {
    let data = tempfile::tempdir()?;
    // The command line breaks (on purpose) in the middle of a command.
    let broke = Command::new(slipway_binary())
        .args(["doctor", "--json"])
        .env("SLIPWAY_DATA_DIR", data.path())
        .env("SLIPWAY_TEST_PANIC", "1")
        .output()?;
    assert_eq!(broke.status.code(), Some(101), "{broke:?}");

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    let shown = async {
        let notice = wait_or_explain(
            &session,
            "//main//*[@data-testid='crash-notice']",
            UI_WAIT,
            "crash-not-shown",
        )
        .await?;
        let said = session.text(&notice).await?;
        assert!(said.starts_with("Slipway stopped unexpectedly"), "{said}");
        assert!(
            said.contains("The command line (`slipway doctor`) broke just now, during: Running `slipway doctor`."),
            "{said}"
        );
        assert!(
            said.contains("the command line broke on purpose (SLIPWAY_TEST_PANIC=1)"),
            "{said}"
        );
        assert!(said.contains(&data.path().join("logs").display().to_string()), "{said}");
        save_screenshot(&session, "crash-notice-at-next-start").await?;
        session
            .click(&session.wait_for(&button("Dismiss"), UI_WAIT).await?)
            .await?;
        let deadline = Instant::now() + Duration::from_secs(UI_WAIT);
        while !session.absent("//*[@data-testid='crash-notice']").await? {
            if Instant::now() > deadline {
                return Err("the notice stayed after Dismiss".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    }
    .await;
    session.end().await?;
    drop(driver);
    shown?;
    assert!(
        !data.path().join("crash.json").exists(),
        "dismissed: not shown at the next start"
    );
    Ok(())
}
