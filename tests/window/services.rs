//! A project whose tests need the database its CI starts: opened in the window, its plan says
//! which service the tests get, and one release starts it, passes the tests against it and
//! removes it, with nothing typed.

use super::*;

/// The CI's service, under a name no other test uses, so its containers can be told apart.
const SERVICE: &str = "bookings-db";

const DB_TEST: &str = r#"import os

import psycopg2


def test_a_booking_is_kept():
    with psycopg2.connect(os.environ["DATABASE_URL"]) as conn:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS bookings (nights int)")
            cur.execute("INSERT INTO bookings VALUES (3) RETURNING nights")
            assert cur.fetchone() == (3,)
"#;

fn workflow() -> String {
    format!(
        r#"on: push
jobs:
  test:
    runs-on: ubuntu-latest
    services:
      {SERVICE}:
        image: postgres:15
        env:
          POSTGRES_USER: bookings
          POSTGRES_PASSWORD: bookings-password
          POSTGRES_DB: bookings_test
        ports: ["5432:5432"]
        options: --health-cmd pg_isready --health-interval 10s
    env:
      DATABASE_URL: postgres://bookings:bookings-password@{SERVICE}:5432/bookings_test
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt
      - run: pytest
      - run: flake8
"#
    )
}

fn service_containers() -> Vec<String> {
    std::process::Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("label=dev.slipway.service={SERVICE}")])
        .output()
        .map(|output| {
            String::from_utf8_lossy(&output.stdout)
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Removes the service's containers whatever the test's end.
struct ServiceLeftovers;

impl Drop for ServiceLeftovers {
    fn drop(&mut self) {
        for id in service_containers() {
            let _ = std::process::Command::new("docker").args(["rm", "-f", &id]).output();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_whose_tests_need_its_ci_database_releases_with_nothing_typed() -> TestResult {
    let _leftovers = ServiceLeftovers;
    let data = tempfile::tempdir()?;
    let projects = tempfile::tempdir()?;
    let root = support::example_project(projects.path(), "bookings", |root| {
        std::fs::create_dir_all(root.join(".github/workflows"))?;
        std::fs::write(root.join(".github/workflows/ci.yml"), workflow())?;
        std::fs::write(root.join("tests/test_db.py"), DB_TEST)?;
        let requirements = std::fs::read_to_string(root.join("requirements.txt"))?;
        std::fs::write(
            root.join("requirements.txt"),
            format!("{requirements}psycopg2-binary\n"),
        )
    })?;
    let _containers = support::ProjectContainers(slipway::project::project_id(&root));
    let registry = test_registry();
    use_local_registry(data.path(), &registry)?;

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.path().display().to_string())])?;
    let session = Session::start(&driver.url, &slipway_binary()).await?;
    open_project(&session, &root).await?;
    // The plan says, before anything runs, which service the tests get and from where.
    let notes = "//li[@data-step='tests']//details[summary[starts-with(normalize-space(), 'From your CI')]]";
    let details = wait_or_explain(&session, notes, UI_WAIT, "services-plan-not-shown").await?;
    session
        .click(&session.wait_for(&format!("{notes}/summary"), UI_WAIT).await?)
        .await?;
    let said = session.text(&details).await?;
    assert!(
        said.contains(&format!(
            "Starts {SERVICE} (postgres:15) for the tests on this computer, as your CI does in .github/workflows/ci.yml (job test)"
        )),
        "{said}"
    );
    save_screenshot_as(&session, "services-in-the-plan").await?;

    press_release(&session).await?;
    wait_or_explain(
        &session,
        "//li[@data-step='tests'][@data-state='passed']",
        600,
        "services-tests-not-passed",
    )
    .await?;
    wait_or_explain(
        &session,
        "//a[@data-testid='live-url']",
        300,
        "services-release-not-live",
    )
    .await?;
    // The example's five tests and the one that needs the database, all against it.
    let tests = session
        .text(&session.wait_for("//li[@data-step='tests']", UI_WAIT).await?)
        .await?;
    assert!(tests.contains("6 passed, 0 failed, 0 errors"), "{tests}");
    session
        .execute("document.querySelector(\"[data-step='tests']\").scrollIntoView()")
        .await?;
    save_screenshot_as(&session, "services-release-passed").await?;
    assert!(service_containers().is_empty(), "the service outlived the release");
    Ok(())
}
