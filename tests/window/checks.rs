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

/// The values the tests read through decouple and environs, which the CI keeps in its
/// secrets: the plan names them, Fill with test values proposes a random key (described,
/// never shown) and `localhost` hosts, Save gives them, and the tests pass. The key itself
/// never reaches the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_values_the_plan_asks_for_are_filled_with_test_values_and_the_tests_pass() -> TestResult {
    let _environment = test_registry();
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = projects.path().join("values-shop");
    for (file, text) in [
        ("requirements.txt", "pytest\nflake8\npython-decouple\nenvirons\n"),
        ("manage.py", ""),
        ("Dockerfile", "FROM python:3.11-slim\nCOPY . /app\n"),
        ("shop/__init__.py", ""),
        (
            "shop/settings.py",
            "from decouple import config\nfrom environs import Env\n\nenv = Env()\n\nSECRET_KEY = config('DJANGO_SECRET_KEY')\nALLOWED_HOSTS = env.list('DJANGO_ALLOWED_HOSTS')\nDEBUG = config('DEBUG', default=False, cast=bool)\n",
        ),
        ("conftest.py", "from shop import settings  # noqa: F401\n"),
        (
            ".github/workflows/ci.yml",
            "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    env:\n      DJANGO_SECRET_KEY: ${{ secrets.DJANGO_SECRET_KEY }}\n      DJANGO_ALLOWED_HOSTS: ${{ vars.ALLOWED_HOSTS }}\n    steps:\n      - run: pip install -r requirements.txt\n      - run: pytest\n      - run: flake8 shop\n",
        ),
        (
            "tests/test_settings.py",
            "from shop import settings\n\n\ndef test_the_values_arrive():\n    assert len(settings.SECRET_KEY) == 50\n    assert 'localhost' in settings.ALLOWED_HOSTS\n",
        ),
    ] {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().ok_or("a folder")?)?;
        std::fs::write(path, text)?;
    }
    git(&root, &["init", "-q", "-b", "main"])?;
    git(&root, &["add", "-A"])?;
    git(&root, &["commit", "-q", "-m", "values fixture"])?;
    let root = root.canonicalize()?;

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    let needs = "//*[@aria-label='Values the checks need']";
    let note = wait_or_explain(&session, needs, UI_WAIT, "values-not-asked").await?;
    let said = session.text(&note).await?;
    assert!(
        said.contains(
            "The tests need DJANGO_ALLOWED_HOSTS and DJANGO_SECRET_KEY; your CI keeps DJANGO_SECRET_KEY in its secret store"
        ),
        "{said}"
    );
    assert!(!said.contains("DEBUG"), "DEBUG has a default: {said}");
    session
        .execute("document.querySelector(\"[aria-label='Values the checks need']\").scrollIntoView()")
        .await?;
    save_screenshot_as(&session, "values-asked").await?;

    session
        .click(&session.wait_for(&button("Fill with test values"), UI_WAIT).await?)
        .await?;
    let filled = wait_or_explain(
        &session,
        "//*[@data-testid='filled-DJANGO_SECRET_KEY']",
        UI_WAIT,
        "key-not-filled",
    )
    .await?;
    assert!(
        session.text(&filled).await?.contains("a random key, 50 characters"),
        "the key is described"
    );
    let hosts = session
        .execute("return document.querySelector(\"[aria-label='Values the checks need'] input[type='text']\").value")
        .await?;
    assert_eq!(
        hosts.as_str(),
        Some("localhost,127.0.0.1"),
        "the proposed hosts are shown"
    );
    save_screenshot_as(&session, "values-filled").await?;

    session
        .click(&session.wait_for(&button("Save 2 values"), UI_WAIT).await?)
        .await?;
    // Planned again: nothing is asked any more.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(UI_WAIT);
    while !session.absent(needs).await? {
        if std::time::Instant::now() > deadline {
            save_screenshot_as(&session, "values-still-asked").await?;
            return Err("the plan still asks for the values after Save".into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    open_page(&session, "Project settings").await?;
    wait_or_explain(
        &session,
        "//*[@data-testid='secret-set-DJANGO_SECRET_KEY']",
        UI_WAIT,
        "key-not-in-keyring",
    )
    .await?;
    session
        .click(&session.wait_for(&button("Run tests"), UI_WAIT).await?)
        .await?;
    let heading = wait_or_explain(
        &session,
        "//section[@aria-label='Test results']//h4",
        300,
        "values-checks-not-done",
    )
    .await?;
    assert_eq!(session.text(&heading).await?, "Tests passed");
    session
        .execute("document.querySelector(\"section[aria-label='Test results']\").scrollIntoView()")
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot_as(&session, "values-tests-passed").await?;
    let page = session.execute("return document.documentElement.outerHTML").await?;
    let page = page.as_str().unwrap_or_default().to_owned();
    session.end().await?;

    let id = slipway::project::project_id(&root);
    let store = slipway::secrets::SecretStore::os(data.path());
    let key = store
        .project_value(&id, "DJANGO_SECRET_KEY")?
        .ok_or("the random key is in the keyring")?;
    let key = key.expose().to_owned();
    store.delete_project_value(&id, "DJANGO_SECRET_KEY")?;
    assert_eq!(key.len(), 50);
    assert!(!page.contains(&key), "the random key never reaches the page");
    let settings = slipway::project::current_settings(data.path(), &root)?;
    assert_eq!(
        settings.env.get("DJANGO_ALLOWED_HOSTS").map(String::as_str),
        Some("localhost,127.0.0.1")
    );
    Ok(())
}
