//! The team's history in the window: connected in Settings (the password typed once, kept in
//! the keyring), named in the Release page's plan, and, once its server stops answering, the
//! plan offers to release without it after saying what that means.
//!
//! The server is a private PostgreSQL made for the test (tests/support/postgres.rs), stopped
//! when the test ends.

use super::*;
use crate::postgres::{PgOptions, PgServer};

/// Brings the element at `xpath` into view, for a screenshot that shows it.
async fn scroll_to(session: &Session, xpath: &str) -> webdriver::Result<()> {
    session
        .execute(&format!(
            "document.evaluate(\"{xpath}\", document, null, 9, null).singleNodeValue.scrollIntoView({{block: 'center'}})"
        ))
        .await
        .map(drop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_connects_the_team_history_and_the_plan_names_it() -> TestResult {
    let postgres = PgServer::start(PgOptions::default())?;
    postgres.create_database("team")?;
    let place = format!("127.0.0.1:{}/team", postgres.port());
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = support::example_project(projects.path(), "lettings", |_| Ok(()))?;

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    wait_or_explain(&session, "//*[@data-testid='plan-image']", UI_WAIT, "team-no-plan").await?;
    assert!(
        session.absent("//*[@data-testid='plan-team']").await?,
        "no team line while releases are kept on this computer"
    );

    // Settings → Team history: the address, the password, Connect.
    open_page(&session, "Settings").await?;
    let form = "//form[@aria-label='Team history']";
    let address = session
        .wait_for(&format!("{form}//input[@id='team-url']"), UI_WAIT)
        .await?;
    session.type_text(&address, &postgres.url("team")).await?;
    let password = session
        .wait_for(
            &format!("{form}//input[@id='team-password'][@type='password']"),
            UI_WAIT,
        )
        .await?;
    session.type_text(&password, postgres.password()).await?;
    session
        .click(
            &session
                .wait_for(&format!("{form}{}", button("Connect")), UI_WAIT)
                .await?,
        )
        .await?;
    let standing = wait_or_explain(
        &session,
        &format!("{form}//*[@data-testid='team-place']"),
        UI_WAIT,
        "team-not-connected",
    )
    .await?;
    assert_eq!(
        session.text(&standing).await?,
        format!("Releases are kept in the team's history on {place}.")
    );
    // Said once the app's link has exchanged with the server, a moment after connecting.
    wait_or_explain(
        &session,
        &format!("{form}//*[@data-testid='team-answer'][normalize-space()='The server is answering.']"),
        UI_WAIT,
        "team-not-answering",
    )
    .await?;
    // The password went to the keyring: never back into the field, never into the page or a file.
    let shown = session
        .execute("return document.getElementById('team-password').value + document.body.innerText")
        .await?;
    assert!(
        !shown.as_str().unwrap_or_default().contains(postgres.password()),
        "{shown}"
    );
    let settings = std::fs::read_to_string(data.path().join("settings.json"))?;
    assert!(!settings.contains(postgres.password()), "{settings}");
    assert!(settings.contains(&place), "{settings}");
    scroll_to(&session, form).await?;
    save_screenshot(&session, "team-history-connected").await?;

    // The Release page plans again: its plan names the team's history.
    open_page(&session, "Release").await?;
    let line = wait_or_explain(&session, "//*[@data-testid='plan-team']", UI_WAIT, "team-no-plan-line").await?;
    assert_eq!(
        session.text(&line).await?,
        format!("Team history on {place}: no one else is releasing here.")
    );
    scroll_to(&session, "//*[@data-testid='plan-team']").await?;
    save_screenshot(&session, "team-plan-line").await?;

    // The server stops: the next plan says so and offers to release without it, asking first.
    postgres.stop()?;
    open_page(&session, "History").await?;
    open_page(&session, "Release").await?;
    let without = wait_or_explain(
        &session,
        // In double quotes: the label's apostrophe would end a single-quoted XPath string.
        "//main//*[@role='alert']//button[normalize-space()=\"Release without the team's history\"]",
        UI_WAIT,
        "team-no-release-without",
    )
    .await?;
    let line = session.wait_for("//*[@data-testid='plan-team']", UI_WAIT).await?;
    assert_eq!(session.text(&line).await?, format!("Team history on {place}."));
    assert!(
        !session
            .absent("//main//button[starts-with(normalize-space(), 'Release to ')][@disabled]")
            .await?,
        "Release waits while the team's history cannot be reached"
    );
    session.click(&without).await?;
    let dialog = session.wait_for("//*[@data-testid='confirm-dialog']", UI_WAIT).await?;
    let question = session.text(&dialog).await?;
    assert!(
        question.contains(
            "No one else will see this release until the server is back, and no one is stopped from releasing this environment meanwhile."
        ),
        "{question}"
    );
    save_screenshot(&session, "team-release-without").await?;
    session
        .click(&session.wait_for("//*[@data-testid='confirm-cancel']", UI_WAIT).await?)
        .await?;
    assert!(
        session.absent("//*[@data-testid='confirm-dialog']").await?,
        "Cancel closes the question"
    );
    session.end().await?;
    Ok(())
}
