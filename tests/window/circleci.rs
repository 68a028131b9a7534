//! The commit on its remote and CircleCI's verdict on it, in the window: the example project
//! with a local bare repository as `origin` and a CircleCI account connected to the CircleCI
//! stand-in. Its plan shows where the commit stands, the Git step that pushes it, and
//! CircleCI's pipeline with its workflow and jobs, each a link; a second project with neither
//! shows nothing of them. With no pipeline for the commit, "Run on CircleCI" starts one once
//! the remote has the commit; and the project's settings keep the GitHub and CircleCI choices.

use std::path::{Path, PathBuf};

use super::*;
use crate::standin::{circle_test, circle_workflow, circleci_stand_in, CircleJob, CirclePipeline, CircleScenario};

/// The CircleCI project the settings name: the remote is a folder, so nothing is read from it.
const SLUG: &str = "gh/acme/lettings";
const TOKEN: &str = "circle_window_token";

/// The CircleCI account, against the stand-in at `base`, as Settings → Accounts keeps it.
fn connect_circleci(data: &Path, base: &str) -> TestResult {
    let mut account = slipway::secrets::Account::new(slipway::secrets::Service::CircleCi, "default", "test");
    account.server = Some(format!("{base}/api/v2"));
    account.circleci_project = Some(SLUG.to_owned());
    slipway::secrets::SecretStore::os(data).save(&account, TOKEN)?;
    Ok(())
}

/// A bare repository beside the project as its `origin`, with `main` pushed and tracked.
fn with_origin(root: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let parent = root.parent().ok_or("the project has a parent folder")?;
    let name = root.file_name().ok_or("the project has a name")?.to_string_lossy();
    let bare = parent.join(format!("{name}-origin.git"));
    git(
        parent,
        &["init", "-q", "--bare", "-b", "main", &bare.display().to_string()],
    )?;
    git(root, &["remote", "add", "origin", &bare.display().to_string()])?;
    git(root, &["push", "-q", "-u", "origin", "main"])?;
    Ok(bare)
}

/// A second commit, which `origin` does not have yet.
fn commit_a_change(root: &Path) -> Result<String, Box<dyn std::error::Error>> {
    std::fs::write(root.join("lettings/VERSION"), "2\n")?;
    git(root, &["add", "-A"])?;
    git(root, &["commit", "-q", "-m", "a change"])?;
    head(root)
}

fn head(root: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "HEAD"])
        .output()?;
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// The project's settings as Slipway found them, with the CircleCI project named.
fn link_circleci_project(data: &Path, root: &Path) -> TestResult {
    let mut settings = slipway::project::ProjectSettings::from_detection(&slipway::project::detect(root));
    settings.circleci_project = Some(SLUG.to_owned());
    slipway::project::save_settings(data, root, &settings)?;
    Ok(())
}

async fn text_of(session: &Session, xpath: &str, shot: &str) -> Result<String, Box<dyn std::error::Error>> {
    let element = wait_or_explain(session, xpath, UI_WAIT, shot).await?;
    session.text(&element).await
}

/// The `href` of the first element `xpath` finds.
async fn href(session: &Session, xpath: &str) -> webdriver::Result<String> {
    let found = session
        .execute(&format!(
            "const a = document.evaluate({xpath:?}, document, null, 9, null).singleNodeValue; \
             return a ? a.getAttribute('href') : null;"
        ))
        .await?;
    Ok(found.as_str().unwrap_or_default().to_owned())
}

/// Opens the page `away`, then Release again: the Release page plans again when shown.
async fn plan_again(session: &Session, away: &str) -> webdriver::Result<()> {
    open_page(session, away).await?;
    open_page(session, "Release").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_shows_the_remote_and_circleci_jobs_and_another_project_shows_neither() -> TestResult {
    let _environment = test_registry();
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = support::example_project(projects.path(), "lettings", |_| Ok(()))?;
    with_origin(&root)?;
    let commit = commit_a_change(&root)?;
    // The second project: no remote, no CircleCI project.
    let plain = support::example_project(projects.path(), "bookshelf", |root| {
        std::fs::write(root.join("NAME"), "bookshelf")
    })?;

    let tests = (1..=5)
        .map(|n| circle_test("tests.test_app", &format!("test_{n}"), "success"))
        .collect();
    let scenario = CircleScenario::new(
        SLUG,
        TOKEN,
        vec![CirclePipeline::new(
            "main",
            &commit,
            vec![circle_workflow(
                "build-and-test",
                "on_hold",
                vec![
                    CircleJob::build("test", "success").with_tests(tests),
                    CircleJob::build("lint", "success"),
                    CircleJob::approval("hold-deploy", "on_hold"),
                ],
            )],
        )],
    );
    let circle = circleci_stand_in(scenario).await?;
    connect_circleci(data.path(), &circle.base)?;
    link_circleci_project(data.path(), &root)?;

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;

    // Where the commit stands, and the Git step that pushes it first.
    let remote = text_of(&session, "//*[@data-testid='plan-remote']", "circleci-no-remote-line").await?;
    assert!(
        remote.contains("1 commit ahead of origin/main") && remote.contains("not on origin yet"),
        "{remote}"
    );
    let git_step = text_of(&session, "//li[@data-step='git']", "circleci-no-git-step").await?;
    assert!(git_step.contains("push main to origin"), "{git_step}");

    // CircleCI's pipeline for the commit, its workflow and its three jobs with their states.
    let section = "//section[@data-testid='plan-circleci']";
    let verdict = format!("{section}//*[@data-testid='circleci-verdict']");
    wait_or_explain(&session, &verdict, UI_WAIT, "circleci-no-verdict").await?;
    let heading = text_of(&session, &format!("{section}//h3"), "circleci-no-heading").await?;
    assert_eq!(heading, format!("CircleCI · {SLUG}"));
    let pipeline = text_of(
        &session,
        "//a[@data-testid='circleci-pipeline-link']",
        "circleci-no-pipeline-link",
    )
    .await?;
    assert_eq!(pipeline, "Pipeline 101");
    let pipeline_url = href(&session, "//a[@data-testid='circleci-pipeline-link']").await?;
    assert!(
        pipeline_url.starts_with(&circle.base) && pipeline_url.ends_with("/github/acme/lettings/101"),
        "{pipeline_url}"
    );
    let workflow = format!("{verdict}//li[@data-workflow='build-and-test']");
    wait_or_explain(
        &session,
        &format!("{workflow}/span[normalize-space()='on hold']"),
        UI_WAIT,
        "circleci-no-workflow",
    )
    .await?;
    for (job, status) in [("test", "success"), ("lint", "success"), ("hold-deploy", "on_hold")] {
        let row = format!("{workflow}//li[@data-job='{job}'][@data-status='{status}']");
        wait_or_explain(&session, &row, UI_WAIT, &format!("circleci-no-job-{job}")).await?;
        let link = href(&session, &format!("{row}//a")).await?;
        assert!(link.starts_with(&pipeline_url), "{job} links to CircleCI: {link}");
    }
    let state = session
        .execute("return document.querySelector(\"[data-testid='circleci-verdict']\").dataset.state")
        .await?;
    assert_eq!(state, "onHold", "the approval holds the pipeline");
    let verdict_text = text_of(&session, &verdict, "circleci-no-verdict-text").await?;
    assert!(verdict_text.contains("waits for an approval"), "{verdict_text}");
    // A pipeline is there: nothing to run.
    assert!(session.absent("//button[@data-testid='circleci-run']").await?);

    // A job's link opens CircleCI's page in the browser, never in the window.
    session
        .click(
            &session
                .wait_for(&format!("{workflow}//li[@data-job='test']//a"), UI_WAIT)
                .await?,
        )
        .await?;
    let opened = wait_for_text(&driver.opened_log).await?;
    let test_link = href(&session, &format!("{workflow}//li[@data-job='test']//a")).await?;
    assert_eq!(opened.trim(), test_link);

    session
        .execute("document.querySelector(\"[data-testid='plan-circleci']\").scrollIntoView({block: 'center'})")
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot_as(&session, "circleci-plan").await?;

    // The second project: nothing of the first one's remote or CircleCI.
    switch_project(&session, &plain).await?;
    wait_or_explain(
        &session,
        "//*[@data-testid='project-name'][normalize-space()='bookshelf']",
        UI_WAIT,
        "circleci-second-not-open",
    )
    .await?;
    let image = text_of(&session, "//*[@data-testid='plan-image']", "circleci-second-no-plan").await?;
    assert!(image.starts_with("bookshelf"), "the second project's plan: {image}");
    assert!(
        session.absent("//*[@data-testid='plan-remote']").await?,
        "no remote line"
    );
    assert!(
        session.absent("//*[@data-testid='plan-circleci']").await?,
        "no CircleCI section"
    );
    assert!(session.absent("//li[@data-step='git']").await?, "no Git step");
    let page = session
        .execute("return document.querySelector('main').innerText")
        .await?;
    let page = page.as_str().unwrap_or_default();
    assert!(
        !page.contains("CircleCI") && !page.contains("origin") && !page.contains(SLUG),
        "nothing of lettings shows on bookshelf: {page}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    save_screenshot_as(&session, "circleci-other-project").await?;
    session.end().await?;
    Ok(())
}

/// What the system's opener was asked to open, once it was.
async fn wait_for_text(path: &Path) -> Result<String, Box<dyn std::error::Error>> {
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
async fn with_no_pipeline_for_the_commit_run_on_circleci_starts_one_once_the_remote_has_it() -> TestResult {
    let _environment = test_registry();
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = support::example_project(projects.path(), "lettings", |_| Ok(()))?;
    with_origin(&root)?;
    let commit = commit_a_change(&root)?;

    // CircleCI has nothing for the commit; a pipeline started on main runs it, running at the
    // first look and passed at the next.
    let running = vec![circle_workflow(
        "build-and-test",
        "running",
        vec![CircleJob::build("test", "running"), CircleJob::build("lint", "success")],
    )];
    let passed = vec![circle_workflow(
        "build-and-test",
        "success",
        vec![CircleJob::build("test", "success"), CircleJob::build("lint", "success")],
    )];
    let mut scenario = CircleScenario::new(SLUG, TOKEN, Vec::new());
    scenario.on_trigger = Some(CirclePipeline::new("main", "", running).then(passed));
    scenario.heads.insert("main".to_owned(), commit.clone());
    let circle = circleci_stand_in(scenario).await?;
    connect_circleci(data.path(), &circle.base)?;
    link_circleci_project(data.path(), &root)?;

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    let problem = text_of(&session, "//*[@data-testid='circleci-problem']", "circleci-no-problem").await?;
    assert_eq!(
        problem,
        format!("CircleCI has no pipeline for {} on main yet.", &commit[..7])
    );
    // The commit is only here: CircleCI would run main as origin has it, so nothing is offered.
    assert!(
        session.absent("//button[@data-testid='circleci-run']").await?,
        "Run on CircleCI waits for the commit to be on the remote"
    );

    // Pushed: up to date, and CircleCI can be asked to run it.
    git(&root, &["push", "-q", "origin", "main"])?;
    plan_again(&session, "History").await?;
    wait_or_explain(
        &session,
        "//*[@data-testid='plan-remote'][contains(., 'Up to date with origin/main')]",
        UI_WAIT,
        "circleci-not-up-to-date",
    )
    .await?;
    let run = wait_or_explain(
        &session,
        "//button[@data-testid='circleci-run'][normalize-space()='Run on CircleCI']",
        UI_WAIT,
        "circleci-no-run-button",
    )
    .await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    save_screenshot_as(&session, "circleci-no-pipeline").await?;
    assert!(
        !circle.received().iter().any(|request| request.method == "POST"),
        "nothing was started before the click"
    );
    session.click(&run).await?;

    // The stand-in got the trigger for main, and the section shows the new pipeline, followed
    // until its workflow passed.
    let verdict = "//section[@data-testid='plan-circleci']//*[@data-testid='circleci-verdict']";
    let pipeline = text_of(
        &session,
        &format!("{verdict}//a[@data-testid='circleci-pipeline-link']"),
        "circleci-run-not-shown",
    )
    .await?;
    assert_eq!(pipeline, "Pipeline 101");
    let triggers: Vec<_> = circle
        .received()
        .into_iter()
        .filter(|request| request.method == "POST")
        .collect();
    assert_eq!(triggers.len(), 1, "one pipeline started");
    assert_eq!(triggers[0].path(), format!("/api/v2/project/{SLUG}/pipeline"));
    let body: serde_json::Value = serde_json::from_str(&triggers[0].body)?;
    assert_eq!(body["branch"], "main", "{body}");
    assert!(session.absent("//*[@data-testid='circleci-problem']").await?);
    assert!(session.absent("//button[@data-testid='circleci-run']").await?);
    wait_or_explain(
        &session,
        &format!("{verdict}[@data-state='passed']//li[@data-workflow='build-and-test']//li[@data-job='test'][@data-status='success']"),
        60,
        "circleci-run-not-followed",
    )
    .await?;
    session
        .execute("document.querySelector(\"[data-testid='plan-circleci']\").scrollIntoView({block: 'center'})")
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot_as(&session, "circleci-run").await?;
    session.end().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_project_settings_keep_the_github_and_circleci_choices() -> TestResult {
    let _environment = test_registry();
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = support::example_project(projects.path(), "lettings", |_| Ok(()))?;
    with_origin(&root)?;

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    open_page(&session, "Project settings").await?;
    let fieldset = "//fieldset[@data-testid='remote-settings']";
    wait_or_explain(
        &session,
        &format!("{fieldset}/legend[normalize-space()='GitHub and CircleCI']"),
        UI_WAIT,
        "circleci-settings-not-shown",
    )
    .await?;
    let push_first = format!("{fieldset}//label[contains(., 'Push the commit to GitHub first')]/input");
    let wait_for_ci = format!("{fieldset}//label[contains(., 'Wait for CircleCI before deploying')]/input");
    let checked = |xpath: String| {
        let session = &session;
        async move {
            session
                .execute(&format!(
                    "return document.evaluate({xpath:?}, document, null, 9, null).singleNodeValue.checked"
                ))
                .await
        }
    };
    assert_eq!(
        checked(push_first.clone()).await?,
        true,
        "pushing first is on by default"
    );
    assert_eq!(checked(wait_for_ci.clone()).await?, false);

    session.click(&session.wait_for(&push_first, UI_WAIT).await?).await?;
    session
        .wait_for(
            &format!("{fieldset}//small[starts-with(normalize-space(), 'Off: a commit only on this computer')]"),
            UI_WAIT,
        )
        .await?;
    let project = session
        .wait_for(&format!("{fieldset}//input[@id='circleci-project']"), UI_WAIT)
        .await?;
    session.type_text(&project, SLUG).await?;
    session.click(&session.wait_for(&wait_for_ci, UI_WAIT).await?).await?;
    session
        .execute(&format!(
            "document.evaluate({fieldset:?}, document, null, 9, null).singleNodeValue.scrollIntoView({{block: 'center'}})"
        ))
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    save_screenshot_as(&session, "circleci-settings").await?;
    session
        .click(&session.wait_for(&button("Save settings"), UI_WAIT).await?)
        .await?;
    wait_or_explain(&session, &button("Saved"), UI_WAIT, "circleci-settings-not-saved").await?;
    session.end().await?;

    let file = data
        .path()
        .join("projects")
        .join(format!("{}.json", slipway::project::project_id(&root)));
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
    assert_eq!(saved["pushFirst"], false, "{saved}");
    assert_eq!(saved["circleciProject"], SLUG, "{saved}");
    assert_eq!(saved["waitForCi"], true, "{saved}");
    let settings = slipway::project::current_settings(data.path(), &root)?;
    assert!(!settings.push_first_enabled());
    assert!(settings.wait_for_ci);
    Ok(())
}
