//! Issue 27's files as the window shows them: a Compose file that builds `src/` with build
//! arguments (one secret), and a `make lint-check` target that runs ruff and mypy.

use super::driver::Driver;
use super::support::{git, slipway_binary, test_registry, TestResult};
use super::webdriver::Session;
use super::{button, open_page, open_project, save_screenshot_as, wait_or_explain, UI_WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_files_the_ci_reads_are_planned_and_a_build_secret_is_asked_for() -> TestResult {
    let _environment = test_registry();
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = projects.path().join("compose-shop");
    for (file, text) in [
        ("requirements.txt", "pytest\nruff\nmypy\n"),
        (".github/workflows/ci.yml", "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pip install -r requirements.txt\n      - run: make test\n      - run: make lint-check\n      - run: docker compose build web\n"),
        ("Makefile", "test: ## Run the tests\n\tpytest -q\n\nlint-check: ## Lint and type-check\n\truff check src\n\tmypy src\n"),
        ("setup.cfg", "[flake8]\nmax-line-length = 120\n"),
        ("Dockerfile", "FROM scratch\nCOPY app.txt /app.txt\n"),
        ("src/Dockerfile", "FROM scratch\nCOPY app.txt /app.txt\nARG APP_VERSION\nARG SENTRY_AUTH_TOKEN\n"),
        ("src/app.txt", "app\n"),
        ("docker-compose.yml", "services:\n  web:\n    build:\n      context: src\n      args:\n        APP_VERSION: \"2.7.1\"\n        SENTRY_AUTH_TOKEN: ${SENTRY_AUTH_TOKEN}\n    ports: [\"8000:8000\"]\n"),
        ("tests/test_ok.py", "def test_adds():\n    assert 1 + 1 == 2\n"),
    ] {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().ok_or("a folder")?)?;
        std::fs::write(path, text)?;
    }
    git(&root, &["init", "-q", "-b", "main"])?;
    git(&root, &["add", "-A"])?;
    git(&root, &["commit", "-q", "-m", "compose fixture"])?;
    let root = root.canonicalize()?;
    let token = format!("sntrys_window_{}", std::process::id());

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    session.wait_for("//*[@data-testid='plan-image']", UI_WAIT).await?;
    let page = session.wait_for("//main", UI_WAIT).await?;
    let text = session.text(&page).await?;
    for said in [
        "The image build needs SENTRY_AUTH_TOKEN, which docker-compose.yml (service web) passes to it",
        "src/Dockerfile (context src)",
        "mypy src",
    ] {
        assert!(text.contains(said), "the Release page says {said:?}: {text}");
    }
    session
        .execute("document.querySelectorAll('.origin, details').forEach((details) => details.open = true)")
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot_as(&session, "files-plan").await?;

    open_page(&session, "Project settings").await?;
    session.wait_for("//select[@id='lint-tool']", UI_WAIT).await?;
    let chosen = session
        .execute("return document.getElementById('lint-tool').value")
        .await?;
    assert_eq!(
        chosen.as_str(),
        Some("ruff"),
        "ruff, from the recipe, not the [flake8] section"
    );
    session
        .execute("document.getElementById('lint-tool').scrollIntoView({block: 'center'})")
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    save_screenshot_as(&session, "files-linter").await?;
    let group = wait_or_explain(
        &session,
        "//fieldset[legend[normalize-space()='Values the image build needs']]",
        UI_WAIT,
        "files-no-build-values",
    )
    .await?;
    assert!(session.text(&group).await?.contains("SENTRY_AUTH_TOKEN"));
    let input = session
        .wait_for("//input[@id='env-SENTRY_AUTH_TOKEN'][@type='password']", UI_WAIT)
        .await?;
    session.type_text(&input, &token).await?;
    session
        .click(
            &session
                .wait_for(
                    &format!(
                        "//fieldset[legend[normalize-space()='Values the image build needs']]{}",
                        button("Save to keyring")
                    ),
                    UI_WAIT,
                )
                .await?,
        )
        .await?;
    wait_or_explain(
        &session,
        "//*[@data-testid='secret-set-SENTRY_AUTH_TOKEN']",
        UI_WAIT,
        "files-secret-not-saved",
    )
    .await?;
    session
        .execute("document.querySelector(\"[data-testid='secret-set-SENTRY_AUTH_TOKEN']\").scrollIntoView({block: 'center'})")
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot_as(&session, "files-settings").await?;
    let html = session.execute("return document.documentElement.outerHTML").await?;
    session.end().await?;
    assert!(
        !html.as_str().unwrap_or_default().contains(&token),
        "the page never holds the value"
    );
    let stored = slipway::secrets::SecretStore::os(data.path())
        .project_value(&slipway::project::project_id(&root), "SENTRY_AUTH_TOKEN")?
        .ok_or("the value is in the keyring")?;
    assert_eq!(stored.expose(), token);
    Ok(())
}
