//! A new person's first minutes and a small window: the first-run guide is alone on the
//! Release page until it is answered, and at 800×600 the header keeps the project's name
//! (the branch gives way first).

use super::*;

/// A project a release could ship: its Dockerfile, its tests, a branch with a long name.
fn project_with_long_branch(parent: &Path) -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    let dir = git_project(
        parent,
        "orange-lettings",
        "feature/a-rather-long-branch-name-for-a-small-window",
    )?;
    std::fs::write(dir.join("Dockerfile"), "FROM python:3.12-slim\nCOPY . /app\n")?;
    git(&dir, &["add", "."])?;
    git(&dir, &["commit", "-q", "-m", "Dockerfile"])?;
    Ok(dir)
}

/// Where the element `css` is drawn and how much of its text fits: `[left, right, width,
/// scrollWidth, windowWidth]`.
async fn box_of(session: &Session, css: &str) -> Result<Vec<f64>, Box<dyn std::error::Error>> {
    let value = session
        .execute(&format!(
            "const e = document.querySelector({css:?}); if (!e) return []; const r = e.getBoundingClientRect(); \
             return [r.left, r.right, r.width, e.scrollWidth, window.innerWidth];"
        ))
        .await?;
    Ok(value
        .as_array()
        .map(|values| values.iter().filter_map(serde_json::Value::as_f64).collect())
        .unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_run_guide_is_alone_until_answered() -> TestResult {
    let _environment = test_registry();
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let project = project_with_long_branch(projects.path())?;
    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;

    session
        .wait_for("//main//h3[normalize-space()='Open your project']", UI_WAIT)
        .await?;
    let path_input = session.wait_for("//input[@id='project-path']", UI_WAIT).await?;
    session
        .type_text(&path_input, &project.canonicalize()?.display().to_string())
        .await?;
    session
        .click(&session.wait_for(&button("Open"), UI_WAIT).await?)
        .await?;
    wait_or_explain(
        &session,
        "//main//h3[normalize-space()='Where should it run?']",
        UI_WAIT,
        "first-run-alone-missing",
    )
    .await?;
    // Long enough for a plan to have come, were it planned below the question.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    save_screenshot_as(&session, "first-run-alone").await?;
    assert!(
        session.absent("//*[@data-testid='plan-image']").await?,
        "no plan below the guide's open question"
    );
    assert!(
        session
            .absent("//main//button[starts-with(normalize-space(), 'Release to ')]")
            .await?,
        "no Release button below the guide's open question"
    );

    // Answered: the guide goes, and the Release page is the usual one.
    session
        .click(
            &session
                .wait_for("//button[.//strong[normalize-space()='On this computer']]", UI_WAIT)
                .await?,
        )
        .await?;
    session.wait_for("//*[@data-testid='plan-image']", UI_WAIT).await?;
    assert!(session.absent("//*[@data-testid='first-run']").await?);
    session.end().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_800_by_600_the_header_keeps_the_project_name() -> TestResult {
    let _environment = test_registry();
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let project = project_with_long_branch(projects.path())?;
    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &project.canonicalize()?).await?;
    session.wait_for("//*[@data-testid='plan-image']", UI_WAIT).await?;

    let header_height = || async {
        Ok::<f64, Box<dyn std::error::Error>>(
            session
                .execute("return document.querySelector('header').getBoundingClientRect().height")
                .await?
                .as_f64()
                .unwrap_or(0.0),
        )
    };
    let wide_height = header_height().await?;
    session.set_window_size(800, 600).await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(UI_WAIT);
    let mut window_width = 0.0;
    while std::time::Instant::now() < deadline {
        window_width = session
            .execute("return window.innerWidth")
            .await?
            .as_f64()
            .unwrap_or(0.0);
        if window_width <= 800.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(window_width <= 800.0, "the window is 800 wide: {window_width}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot_as(&session, "header-800x600").await?;

    let name = box_of(&session, "[data-testid='project-name']").await?;
    assert_eq!(name.len(), 5, "the project's name is in the header: {name:?}");
    let (left, right, width, text_width, window) = (name[0], name[1], name[2], name[3], name[4]);
    assert!(
        left >= 0.0 && right <= window,
        "the name is inside the window: {name:?}"
    );
    assert!(width + 1.0 >= text_width, "the whole name shows, not cut: {name:?}");
    let shown = session
        .execute("return document.querySelector(\"[data-testid='project-name']\").innerText")
        .await?;
    assert_eq!(shown.as_str(), Some("orange-lettings"));
    // Found again if the header redrew it between finding and reading (a stale element).
    let mut read = Err("not read".into());
    for _ in 0..3 {
        let name_element = session.wait_for("//*[@data-testid='project-name']", UI_WAIT).await?;
        read = session.text(&name_element).await;
        if read.is_ok() {
            break;
        }
    }
    assert_eq!(read?, "orange-lettings", "as WebDriver reads it");
    // Nothing of the header is pushed out of the window (Switch project included).
    let overflow = session
        .execute(
            "const h = document.querySelector('header'); \
             return Array.from(h.children).filter(c => c.getBoundingClientRect().right > window.innerWidth + 0.5) \
               .map(c => c.className);",
        )
        .await?;
    assert_eq!(
        overflow.as_array().map(Vec::len),
        Some(0),
        "header items past the window's edge: {overflow}"
    );
    session
        .wait_for("//header//button[normalize-space()='Switch project']", UI_WAIT)
        .await?;
    // And nothing wraps onto a second line: the header stays one row high.
    let height = header_height().await?;
    assert!(
        (height - wide_height).abs() < 1.0,
        "the header is one row, as high as in a wide window ({wide_height}px), not {height}px"
    );
    // The branch is what gives way: shortened, its full name on hover.
    let branch = box_of(&session, "[data-testid='project-branch']").await?;
    assert_eq!(branch.len(), 5, "{branch:?}");
    assert!(branch[1] <= window, "the branch ends inside the window: {branch:?}");
    assert!(
        branch[2] < branch[3],
        "the long branch is shortened, not the name: {branch:?}"
    );

    // A busier header: the project's tests running, with their Cancel. The name still shows.
    open_page(&session, "Project settings").await?;
    session
        .click(&session.wait_for(&button("Run tests"), UI_WAIT).await?)
        .await?;
    let running = "//header//*[@role='status'][@aria-label='Running checks']";
    session.wait_for(running, UI_WAIT).await?;
    save_screenshot_as(&session, "header-800x600-running").await?;
    let name = box_of(&session, "[data-testid='project-name']").await?;
    assert_eq!(name.len(), 5, "{name:?}");
    assert!(
        name[1] <= name[4] && name[2] + 1.0 >= name[3],
        "the whole name shows beside the running tests: {name:?}"
    );
    let overflow = session
        .execute(
            "return Array.from(document.querySelector('header').children) \
               .filter(c => c.getBoundingClientRect().right > window.innerWidth + 0.5).map(c => c.className);",
        )
        .await?;
    assert_eq!(overflow.as_array().map(Vec::len), Some(0), "{overflow}");
    // Nothing is left running (the tests may have ended by themselves meanwhile).
    let cancel = format!("{running}//button[normalize-space()='Cancel']");
    if !session.absent(&cancel).await? {
        if let Ok(button) = session.wait_for(&cancel, 1).await {
            let _ = session.click(&button).await;
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(UI_WAIT);
    while !session.absent(running).await? && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(session.absent(running).await?, "nothing is left running");
    session.end().await?;
    Ok(())
}
