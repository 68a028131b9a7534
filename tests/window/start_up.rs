//! Start-up: the window shows the last project's kept plan at once, marked as being checked,
//! with the Release button waiting; the fresh plan then takes its place and the button is ready.

use std::os::unix::fs::PermissionsExt;

use super::*;

const READY_BUTTON: &str = "//main//button[starts-with(normalize-space(), 'Release to')][not(@disabled)]";
const IMAGE: &str = "//*[@data-testid='plan-image']";

async fn shown_image(session: &Session) -> webdriver::Result<String> {
    let image = session.wait_for(IMAGE, UI_WAIT).await?;
    session.text(&image).await
}

#[tokio::test(flavor = "multi_thread")]
async fn start_up_shows_the_kept_plan_at_once_then_the_fresh_one() -> TestResult {
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let mut roots = Vec::new();
    for name in ["lettings", "bookshelf"] {
        let root = support::example_project(projects.path(), name, |root| std::fs::write(root.join("NAME"), name))?;
        let mut settings = slipway::project::ProjectSettings::from_detection(&slipway::project::detect(&root));
        settings.venv = Some(support::shared_venv()?.display().to_string());
        slipway::project::save_settings(data.path(), &root, &settings)?;
        roots.push(root);
    }
    // The last project opened is lettings: the window opens it at start, without the guide.
    slipway::project::RecentProjects::load(data.path()).touch("lettings", &roots[0].display().to_string())?;
    let env = [("SLIPWAY_DATA_DIR", data.path().display().to_string())];

    // A first start: both projects planned, bookshelf last.
    let driver = Driver::start(&env)?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    let first = async {
        session.wait_for(READY_BUTTON, UI_WAIT).await?;
        switch_project(&session, &roots[1]).await?;
        session
            .wait_for(
                "//*[@data-testid='project-name'][normalize-space()='bookshelf']",
                UI_WAIT,
            )
            .await?;
        session.wait_for(READY_BUTTON, UI_WAIT).await?;
        shown_image(&session).await
    }
    .await;
    session.end().await?;
    drop(driver);
    let kept_image = first?;

    // A new commit since: the fresh plan builds another image than the kept one says. Git now
    // answers slowly (as on a big tree), so the kept plan shows for a while.
    std::fs::write(roots[1].join("NAME"), "bookshelf, second edition")?;
    git(&roots[1], &["commit", "-qam", "second edition"])?;
    let slow = tempfile::tempdir()?;
    let real_git = ["/usr/bin/git", "/usr/local/bin/git", "/bin/git"]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists())
        .ok_or("git was not found")?;
    let script = slow.path().join("git");
    std::fs::write(&script, format!("#!/bin/sh\nsleep 1\nexec {real_git} \"$@\"\n"))?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    let path = format!(
        "{}:{}",
        slow.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = [("SLIPWAY_DATA_DIR", data.path().display().to_string()), ("PATH", path)];

    let driver = Driver::start(&env)?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    let second = async {
        let refreshing = session.wait_for("//*[@data-testid='plan-refreshing']", UI_WAIT).await?;
        assert!(
            session.text(&refreshing).await?.starts_with("Checking for changes"),
            "the kept plan says it is being checked"
        );
        session
            .wait_for(
                "//*[@data-testid='project-name'][normalize-space()='bookshelf']",
                UI_WAIT,
            )
            .await?;
        assert_eq!(
            shown_image(&session).await?,
            kept_image,
            "the kept plan is the one shown"
        );
        assert!(
            session.absent(READY_BUTTON).await?,
            "the Release button waits for the fresh plan"
        );
        save_screenshot(&session, "start-up-kept-plan").await?;

        session.wait_for(READY_BUTTON, 60).await?;
        assert!(session.absent("//*[@data-testid='plan-refreshing']").await?);
        let fresh_image = shown_image(&session).await?;
        assert_ne!(fresh_image, kept_image, "the fresh plan builds the new commit");
        save_screenshot(&session, "start-up-fresh-plan").await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    }
    .await;
    if second.is_err() {
        let _ = save_screenshot_as(&session, "start-up-failed").await;
    }
    session.end().await?;
    drop(driver);
    second
}
