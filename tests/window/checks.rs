//! One release shows every failing check, each as a colleague would explain it, and opens the
//! file at the line: the person fixes a failing test and a lint violation in one round trip,
//! without a terminal and without reading a log.

use super::*;

/// A price that drops its trailing zero, and an import nothing uses: one failing test, one
/// lint violation, as in a small Flask app.
const PRICE_TEST: &str = "def format_price(amount):\n    return f\"£{amount}\"\n\n\ndef test_price_has_two_decimals():\n    assert format_price(4.5) == \"£4.50\"\n";

async fn wait_for_file(path: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(UI_WAIT);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if !text.is_empty() || std::time::Instant::now() > deadline {
            return Ok(text);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_test_and_a_lint_violation_show_together_and_open_in_the_editor() -> TestResult {
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = support::example_project(projects.path(), "prices", |root| {
        std::fs::write(root.join("tests/test_prices.py"), PRICE_TEST)?;
        let app = std::fs::read_to_string(root.join("lettings/app.py"))?;
        std::fs::write(root.join("lettings/app.py"), format!("import os\n{app}"))
    })?;
    // The image goes to the run's registry, whose images the run removes.
    let registry = test_registry();
    use_local_registry(data.path(), &registry)?;
    let tools = tempfile::tempdir()?;
    let editor_log = tools.path().join("editor.log");
    let editor = tools.path().join("my-editor");
    std::fs::write(
        &editor,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\n", editor_log.display()),
    )?;
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    press_release(&session).await?;

    // Both failures, from one release: no check stopped the other.
    let heading = wait_or_explain(
        &session,
        "//h4[normalize-space()='Release failed at Tests and Lint']",
        300,
        "both-failures-not-shown",
    )
    .await?;
    assert!(session.text(&heading).await?.contains("Tests and Lint"));
    for step in ["tests", "lint"] {
        session
            .wait_for(&format!("//li[@data-step='{step}'][@data-state='failed']"), UI_WAIT)
            .await?;
    }
    // The failing test: where, and what was expected against what came, pytest's diff kept.
    let failure = "//li[@data-step='tests']//*[@data-testid='test-failure']";
    let what = session.text(&session.wait_for(failure, UI_WAIT).await?).await?;
    assert!(
        what.contains("test_price_has_two_decimals in tests/test_prices.py, line 6"),
        "{what}"
    );
    for (side, value) in [("Expected", "'£4.50'"), ("Got", "'£4.5'")] {
        let shown =
            format!("{failure}//dl[@data-testid='test-sides']/dt[normalize-space()='{side}']/following-sibling::dd[1]");
        assert_eq!(
            session.text(&session.wait_for(&shown, UI_WAIT).await?).await?,
            value,
            "{side}"
        );
    }
    let explanation = session
        .execute(&format!(
            "return document.evaluate(\"{failure}//*[@data-testid='test-explanation']\", document, null, 9, null).singleNodeValue.textContent"
        ))
        .await?;
    let explanation = explanation.as_str().unwrap_or_default();
    assert!(
        explanation.contains("\n") && explanation.contains("- £4.50") && explanation.contains("+ £4.5"),
        "pytest's diff on its own lines: {explanation:?}"
    );
    // The lint violation in plain words, with its rule's page.
    let violation = "//li[@data-step='lint']//*[@data-testid='violation'][@data-code='F401']";
    let plain = session
        .text(
            &wait_or_explain(
                &session,
                &format!("{violation}//*[@data-testid='violation-explanation']"),
                UI_WAIT,
                "lint-not-explained",
            )
            .await?,
        )
        .await?;
    assert_eq!(plain, "A module is imported but never used: remove the import.");
    session
        .wait_for(&format!("{violation}//a[normalize-space()='About F401']"), UI_WAIT)
        .await?;
    // The output is there, folded below the results.
    session
        .wait_for(
            "//li[@data-step='tests']//details[not(@open)]/summary[starts-with(normalize-space(), 'Tests output')]",
            UI_WAIT,
        )
        .await?;
    session
        .execute("document.querySelector(\"[data-step='tests']\").scrollIntoView()")
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    save_screenshot_as(&session, "checks-both-failures").await?;

    // Open in editor, with no editor set: the system's opener gets the file, and the window
    // says which line to go to.
    session
        .click(
            &session
                .wait_for(
                    &format!("{violation}//button[normalize-space()='Open in editor']"),
                    UI_WAIT,
                )
                .await?,
        )
        .await?;
    let opened = wait_for_file(&driver.opened_log).await?;
    let app_file = root.canonicalize()?.join("lettings/app.py");
    assert_eq!(opened.trim(), app_file.display().to_string());
    session
        .wait_for(
            &format!("{violation}//*[@role='status'][normalize-space()='Opened lettings/app.py: go to line 1.']"),
            UI_WAIT,
        )
        .await?;

    // The person's editor, set in Settings → This computer, gets the file and the line.
    open_page(&session, "Settings").await?;
    let field = session.wait_for("//input[@id='editor-command']", UI_WAIT).await?;
    session
        .type_text(&field, &format!("{} --goto {{file}}:{{line}}", editor.display()))
        .await?;
    session
        .click(
            &session
                .wait_for(
                    "//form[@aria-label='This computer']//button[normalize-space()='Save']",
                    UI_WAIT,
                )
                .await?,
        )
        .await?;
    session
        .wait_for(
            "//*[normalize-space()='Saved. The next plan and release use it.']",
            UI_WAIT,
        )
        .await?;
    open_page(&session, "Release").await?;
    session
        .click(
            &session
                .wait_for(
                    &format!("{failure}//button[normalize-space()='Open in editor']"),
                    UI_WAIT,
                )
                .await?,
        )
        .await?;
    let edited = wait_for_file(&editor_log).await?;
    let test_file = root.canonicalize()?.join("tests/test_prices.py");
    assert_eq!(edited, format!("--goto\n{}:6\n", test_file.display()));
    session
        .wait_for(
            &format!(
                "{failure}//*[@role='status'][normalize-space()='Opened tests/test_prices.py at line 6 in my-editor.']"
            ),
            UI_WAIT,
        )
        .await?;
    save_screenshot_as(&session, "checks-opened-in-editor").await?;
    Ok(())
}

/// A CI that runs its checks inside its image (`docker exec app …`, the image's WORKDIR
/// filled from `project/`): the plan says, before anything runs, that the checks run in
/// project/ and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_says_a_check_runs_in_the_folder_the_ci_image_works_in() -> TestResult {
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = projects.path().join("in-image");
    let ci = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: docker build -t app .\n      - run: docker run -d --name app app sleep infinity\n      - run: docker exec app python -m pytest .\n      - run: docker exec app flake8 .\n";
    for (file, text) in [
        (".github/workflows/ci.yml", ci),
        (
            "Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY project/ /app/\nRUN pip install -r requirements.txt\n",
        ),
        ("project/requirements.txt", "pytest\nflake8\n"),
        ("project/setup.cfg", "[flake8]\nmax-line-length = 120\n"),
        ("project/tests/test_ok.py", "def test_ok():\n    assert True\n"),
    ] {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap_or(&root))?;
        std::fs::write(path, text)?;
    }
    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    let said = "Runs in project/, where your CI's container runs it: Dockerfile copies project/ to its WORKDIR /app.";
    for step in ["tests", "lint"] {
        let origin = format!("//li[@data-step='{step}']//details[contains(@class, 'origin')]");
        let summary = wait_or_explain(
            &session,
            &format!("{origin}/summary"),
            UI_WAIT,
            "image-folder-no-ci-origin",
        )
        .await?;
        session.click(&summary).await?;
        session
            .wait_for(&format!("{origin}//li[normalize-space()=\"{said}\"]"), UI_WAIT)
            .await?;
        let detail = session
            .text(
                &session
                    .wait_for(
                        &format!("//li[@data-step='{step}']//span[contains(@class, 'detail')]"),
                        UI_WAIT,
                    )
                    .await?,
            )
            .await?;
        assert!(detail.starts_with("cd project && "), "{step}: {detail}");
    }
    session
        .execute("document.querySelector(\"[data-step='tests']\").scrollIntoView()")
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    save_screenshot_as(&session, "plan-image-folder").await?;
    Ok(())
}
