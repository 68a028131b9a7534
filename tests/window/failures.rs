//! A failed release in History shows its error as the release did: the same sentence, the
//! hint, the folded raw cause and the button that fixes it, which takes the person there.

use slipway::error::{AppError, ErrorAction, ErrorKind};
use slipway::history::{Ending, Ledger, NewRelease, Outcome, StepState};
use slipway::vocabulary::{Step, Target};

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_offers_the_button_a_failed_release_offered() -> TestResult {
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = support::example_project(projects.path(), "lettings", |_| Ok(()))?;
    let ledger = Ledger::open(data.path())?;
    let id = slipway::history::new_release_id();
    ledger.begin(&NewRelease {
        id: id.clone(),
        project_path: root.display().to_string(),
        project_name: "lettings".to_owned(),
        user: "ann".to_owned(),
        target: Target::Local,
        steps: vec![Step::Tests, Step::Build],
        environment: Some("local".to_owned()),
        ..NewRelease::default()
    })?;
    ledger.step(&id, Step::Tests, StepState::Passed, Some("5 passed"))?;
    let error = AppError::new(
        ErrorKind::Precondition,
        "The build context named in the project's settings is not a folder of the project.",
        "Pick the folder that holds the Dockerfile in the project's settings.",
    )
    .with_action(ErrorAction::OpenProjectSettings)
    .with_detail("context: ../elsewhere");
    ledger.finish(
        &id,
        Outcome::Error,
        &Ending {
            error: Some(error.clone()),
            ..Ending::default()
        },
    )?;
    drop(ledger);

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    open_page(&session, "History").await?;
    let row = format!("//*[@data-testid='history-row'][@data-release-id='{id}']");
    session
        .click(&wait_or_explain(&session, &row, UI_WAIT, "failure-not-listed").await?)
        .await?;
    let failure = "//*[@data-testid='history-failure']";
    let notice = wait_or_explain(
        &session,
        &format!("{failure}//*[@role='alert'][@data-kind='precondition']"),
        UI_WAIT,
        "failure-no-notice",
    )
    .await?;
    let shown = session.text(&notice).await?;
    assert!(shown.contains(&error.message), "{shown}");
    assert!(shown.contains(&error.hint), "{shown}");
    assert!(
        shown.contains("Technical details"),
        "the raw cause is there, folded: {shown}"
    );
    save_screenshot_as(&session, "history-failure-button").await?;
    let fix = wait_or_explain(
        &session,
        &format!("{failure}{}", button("Open project settings")),
        UI_WAIT,
        "failure-no-button",
    )
    .await?;
    session.click(&fix).await?;
    wait_or_explain(
        &session,
        "//main//h2[normalize-space()='Project settings']",
        UI_WAIT,
        "failure-button-went-nowhere",
    )
    .await?;
    Ok(())
}
