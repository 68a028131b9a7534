//! The services a CI starts for its tests (issue: tests against nothing). One fixture per way a
//! CI says it: GitHub Actions' `services:`, CircleCI's secondary image, `docker compose up -d
//! db`. Each runs the real `slipway check` against the real engine with the Postgres image the
//! scripts make from Debian's package, compared with the CI's command run directly against a
//! Postgres this test starts itself. No service container outlives a check: after a pass, a
//! failure, a cancel, and a killed CLI followed by the next start.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::ci_traps::{direct, plan};
use super::{run_check, write, Checked};
use crate::support::{slipway_binary, TestResult};

/// The image `scripts/lib/env.sh` makes (`ensure_postgres_service_image`).
const POSTGRES: &str = "postgres:15";

const REQUIREMENTS: &str = "pytest\npsycopg2-binary\n";

/// Tests that need the database: a row goes in and comes back, in the CI's own database.
const DB_TESTS: &str = r#"import os

import psycopg2


def connect():
    return psycopg2.connect(os.environ["DATABASE_URL"])


def test_a_row_goes_in_and_comes_back():
    with connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS prices (pence int)")
        cur.execute("INSERT INTO prices VALUES (450) RETURNING pence")
        assert cur.fetchone()[0] == 450


def test_it_is_the_ci_database():
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT current_database(), current_user")
        expected = (os.environ["EXPECTED_DB"], os.environ["EXPECTED_USER"])
        assert cur.fetchone() == expected
"#;

fn github_workflow(image: &str, extra_steps: &str) -> String {
    github_workflow_on(image, 5432, extra_steps)
}

/// The workflow with the service published on `port`: a test that takes its service away
/// uses a port of its own, so no other test's service, started on the freed port, answers.
fn github_workflow_on(image: &str, port: u16, extra_steps: &str) -> String {
    format!(
        r#"on: push
jobs:
  test:
    runs-on: ubuntu-latest
    services:
      postgres:
        image: {image}
        env:
          POSTGRES_USER: shop
          POSTGRES_PASSWORD: shop-password
          POSTGRES_DB: shop_test
        ports:
          - {port}:5432
        options: >-
          --health-cmd pg_isready
          --health-interval 10s
          --health-timeout 5s
          --health-retries 5
    env:
      DATABASE_URL: postgres://shop:shop-password@localhost:{port}/shop_test
      EXPECTED_DB: shop_test
      EXPECTED_USER: shop
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt
{extra_steps}      - run: pytest -q -p no:cacheprovider
"#
    )
}

/// The service containers the Slipway with process id `pid` started, running or not.
fn containers_of(pid: u32) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let output = Command::new("docker")
        .args(["ps", "-aq", "--filter"])
        .arg(format!("label=dev.slipway.service.owner={pid}"))
        .output()?;
    Ok(String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect())
}

/// Removes what a failed test may leave, so the engine is left as it was whatever happens.
struct Leftovers(Vec<u32>);

impl Drop for Leftovers {
    fn drop(&mut self) {
        for pid in &self.0 {
            for id in containers_of(*pid).unwrap_or_default() {
                let _ = Command::new("docker").args(["rm", "-f", &id]).output();
            }
        }
    }
}

/// `slipway check --json` as a child, its process id kept to find its containers.
fn spawn_check(project: &Path, data: &Path) -> std::io::Result<Child> {
    Command::new(slipway_binary())
        .args(["check", "--json", "--project"])
        .arg(project)
        .env("SLIPWAY_DATA_DIR", data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// Runs `slipway check` to the end; its summary, and the containers it left.
fn check_and_leftovers(
    project: &Path,
    data: &Path,
    leftovers: &mut Leftovers,
) -> Result<(Checked, Vec<String>), Box<dyn std::error::Error>> {
    let child = spawn_check(project, data)?;
    let pid = child.id();
    leftovers.0.push(pid);
    let output = child.wait_with_output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let summary = lines
        .last()
        .cloned()
        .ok_or_else(|| format!("no JSON output; stderr: {}", String::from_utf8_lossy(&output.stderr)))?;
    Ok((
        Ok((output.status.code().unwrap_or(-1), summary, lines)),
        containers_of(pid)?,
    ))
}

fn setup_lines(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter(|line| line["event"] == "setup")
        .filter_map(|line| line["data"]["message"].as_str().map(str::to_owned))
        .collect()
}

/// A Postgres this test starts itself, as the CI would, for the CI's command run directly.
struct OwnPostgres {
    id: String,
    port: u16,
}

impl OwnPostgres {
    fn start(env: &[(&str, &str)]) -> Result<Self, Box<dyn std::error::Error>> {
        let mut command = Command::new("docker");
        command.args([
            "run",
            "-d",
            "-p",
            "127.0.0.1::5432",
            "--health-cmd",
            "pg_isready",
            "--health-interval",
            "1s",
        ]);
        for (name, value) in env {
            command.args(["-e", &format!("{name}={value}")]);
        }
        let output = command.arg(POSTGRES).output()?;
        let id = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if id.is_empty() {
            return Err(format!("docker run: {}", String::from_utf8_lossy(&output.stderr)).into());
        }
        let mut own = Self { id, port: 0 };
        let port = Command::new("docker").args(["port", &own.id, "5432/tcp"]).output()?;
        own.port = String::from_utf8_lossy(&port.stdout)
            .lines()
            .next()
            .and_then(|line| line.rsplit(':').next())
            .and_then(|port| port.trim().parse().ok())
            .ok_or("no published port")?;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            let health = Command::new("docker")
                .args(["inspect", "-f", "{{.State.Health.Status}}", &own.id])
                .output()?;
            if String::from_utf8_lossy(&health.stdout).trim() == "healthy" {
                return Ok(own);
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Err("the test's own Postgres never became healthy".into())
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.id]).output();
    }
}

#[test]
fn a_github_actions_postgres_service_is_started_for_the_tests_as_the_ci_does() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let mut leftovers = Leftovers(Vec::new());
    write(
        dir.path(),
        &[
            (".github/workflows/ci.yml", &github_workflow(POSTGRES, "")),
            ("requirements.txt", REQUIREMENTS),
            ("tests/test_db.py", DB_TESTS),
        ],
    )?;
    let plan = plan(dir.path(), data.path(), None)?;
    let tests = super::ci_traps::step(&plan, "tests").ok_or("no tests step")?;
    assert!(
        tests["notes"]
            .to_string()
            .contains("Starts postgres:15 for the tests on this computer, as your CI does"),
        "{tests}"
    );
    // The fixture has no Dockerfile (a blocker of its own); nothing about the service blocks.
    assert!(
        !plan["blockers"].to_string().contains("postgres"),
        "{}",
        plan["blockers"]
    );

    let (checked, left) = check_and_leftovers(dir.path(), data.path(), &mut leftovers)?;
    let (code, summary, lines) = checked?;
    assert_eq!(summary["tests"]["passed"], 2, "{summary}\n{:?}", setup_lines(&lines));
    assert_eq!(code, 0, "{summary}");
    let said = setup_lines(&lines);
    assert!(
        said.iter()
            .any(|line| line.starts_with("postgres:15 answers on 127.0.0.1:")),
        "{said:?}"
    );
    assert!(left.is_empty(), "service containers left after a pass: {left:?}");

    // The CI's own command, run directly against a Postgres started as the CI starts it.
    let own = OwnPostgres::start(&[
        ("POSTGRES_USER", "shop"),
        ("POSTGRES_PASSWORD", "shop-password"),
        ("POSTGRES_DB", "shop_test"),
    ])?;
    let url = format!("postgres://shop:shop-password@127.0.0.1:{}/shop_test", own.port);
    let (direct_code, direct_output) = direct(
        data.path(),
        dir.path(),
        "pytest -q -p no:cacheprovider",
        &[
            ("DATABASE_URL", &url),
            ("EXPECTED_DB", "shop_test"),
            ("EXPECTED_USER", "shop"),
        ],
    )?;
    assert_eq!(direct_code, 0, "{direct_output}");
    assert!(direct_output.contains("2 passed"), "{direct_output}");
    Ok(())
}

#[test]
fn a_circleci_secondary_postgres_image_is_a_service_and_a_failure_removes_it_too() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let mut leftovers = Leftovers(Vec::new());
    // The URL names no port: CircleCI's services answer on their usual one on localhost.
    let config = format!(
        r#"version: 2.1
jobs:
  test:
    docker:
      - image: cimg/python:3.11
        environment:
          DATABASE_URL: postgresql://circle:circle-password@localhost/circle_test
          EXPECTED_DB: circle_test
          EXPECTED_USER: circle
      - image: {POSTGRES}
        environment:
          POSTGRES_USER: circle
          POSTGRES_PASSWORD: circle-password
          POSTGRES_DB: circle_test
    steps:
      - checkout
      - run: pip install -r requirements.txt
      - run: pytest -q -p no:cacheprovider
workflows:
  main:
    jobs: [test]
"#
    );
    let failing = format!("{DB_TESTS}\n\ndef test_prices_are_in_pounds():\n    assert 450 == 4.5\n");
    write(
        dir.path(),
        &[
            (".circleci/config.yml", &config),
            ("requirements.txt", REQUIREMENTS),
            ("tests/test_db.py", &failing),
        ],
    )?;
    let (checked, left) = check_and_leftovers(dir.path(), data.path(), &mut leftovers)?;
    let (code, summary, _) = checked?;
    assert_eq!(summary["tests"]["outcome"], "failed", "{summary}");
    assert_eq!(
        (summary["tests"]["passed"].clone(), summary["tests"]["failed"].clone()),
        (2.into(), 1.into()),
        "{summary}"
    );
    assert_eq!(code, 1);
    assert!(left.is_empty(), "service containers left after a failure: {left:?}");

    let own = OwnPostgres::start(&[
        ("POSTGRES_USER", "circle"),
        ("POSTGRES_PASSWORD", "circle-password"),
        ("POSTGRES_DB", "circle_test"),
    ])?;
    let url = format!("postgresql://circle:circle-password@127.0.0.1:{}/circle_test", own.port);
    let (_, direct_output) = direct(
        data.path(),
        dir.path(),
        "pytest -q -p no:cacheprovider",
        &[
            ("DATABASE_URL", &url),
            ("EXPECTED_DB", "circle_test"),
            ("EXPECTED_USER", "circle"),
        ],
    )?;
    assert!(direct_output.contains("1 failed, 2 passed"), "{direct_output}");
    Ok(())
}

/// `docker compose up -d db` with the database published on 5433, and tests that build their
/// address from a host and a port variable.
fn compose_project(root: &Path, tests: &str) -> std::io::Result<()> {
    write(
        root,
        &[
            (
                ".github/workflows/ci.yml",
                "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    env:\n      DB_HOST: localhost\n      DB_PORT: \"5433\"\n    steps:\n      - uses: actions/checkout@v4\n      - run: docker compose up -d db\n      - run: pip install -r requirements.txt\n      - run: pytest -q -p no:cacheprovider\n",
            ),
            (
                "docker-compose.yml",
                &format!("services:\n  web:\n    build: .\n    ports: [\"8000:8000\"]\n  db:\n    image: {POSTGRES}\n    environment:\n      - POSTGRES_USER=app\n      - POSTGRES_PASSWORD=app-password\n      - POSTGRES_DB=app\n    ports:\n      - \"5433:5432\"\n"),
            ),
            ("requirements.txt", REQUIREMENTS),
            ("tests/test_db.py", tests),
        ],
    )
}

const HOST_PORT_TESTS: &str = r#"import os
import time

import psycopg2


def test_the_database_answers():
    conn = psycopg2.connect(
        host=os.environ["DB_HOST"],
        port=os.environ["DB_PORT"],
        user="app",
        password="app-password",
        dbname="app",
    )
    with conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
    if os.environ.get("HOLD_SECONDS"):
        time.sleep(float(os.environ["HOLD_SECONDS"]))
"#;

#[test]
fn a_compose_database_is_started_and_a_cancel_or_a_killed_cli_leaves_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let mut leftovers = Leftovers(Vec::new());
    compose_project(dir.path(), HOST_PORT_TESTS)?;
    let (checked, left) = check_and_leftovers(dir.path(), data.path(), &mut leftovers)?;
    let (code, summary, lines) = checked?;
    assert_eq!(
        (code, summary["tests"]["passed"].clone()),
        (0, 1.into()),
        "{summary}\n{:?}",
        setup_lines(&lines)
    );
    assert!(left.is_empty(), "{left:?}");
    let plan = plan(dir.path(), data.path(), None)?;
    let skipped = plan["ciSkipped"].to_string();
    assert!(
        !skipped.contains("docker compose up -d db"),
        "the line is run, not skipped: {skipped}"
    );

    // Cancelled (Ctrl-C) while the tests hold the database: the service goes with them.
    let mut settings = slipway::project::current_settings(data.path(), dir.path())?;
    settings.env.insert("HOLD_SECONDS".into(), "60".into());
    slipway::project::save_settings(data.path(), dir.path(), &settings)?;
    let child = spawn_check(dir.path(), data.path())?;
    let pid = child.id();
    leftovers.0.push(pid);
    let running = wait_for_service(pid)?;
    std::thread::sleep(Duration::from_secs(2));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(pid)?),
        nix::sys::signal::Signal::SIGINT,
    )?;
    let output = child.wait_with_output()?;
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("\"canceled\""), "{summary}");
    assert!(containers_of(pid)?.is_empty(), "{running:?} outlived a cancel");

    // Killed outright: nothing can remove it then; the next start does.
    let mut child = spawn_check(dir.path(), data.path())?;
    let killed = child.id();
    leftovers.0.push(killed);
    wait_for_service(killed)?;
    child.kill()?;
    child.wait()?;
    assert!(
        !containers_of(killed)?.is_empty(),
        "the killed CLI's service is there until the next start"
    );
    let other = tempfile::tempdir()?;
    write(
        other.path(),
        &[
            ("tests/test_ok.py", super::PASSING_TEST),
            ("requirements.txt", "pytest\n"),
        ],
    )?;
    let mut next = Command::new(slipway_binary());
    next.env("SLIPWAY_DATA_DIR", data.path());
    run_check(next, other.path(), data.path())?;
    assert!(
        containers_of(killed)?.is_empty(),
        "the next start removed the killed CLI's service"
    );
    Ok(())
}

/// The first service container `pid` started, once it runs.
fn wait_for_service(pid: u32) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(300) {
        let running = containers_of(pid)?;
        if !running.is_empty() {
            return Ok(running);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!("slipway ({pid}) started no service").into())
}

#[test]
fn a_service_that_stops_during_the_tests_makes_them_an_error_and_a_missing_image_blocks() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let mut leftovers = Leftovers(Vec::new());
    // The last test says it runs, then waits until this test has taken the database away.
    let slow = format!(
        "{DB_TESTS}\n\n{}",
        "def test_later():\n    import pathlib\n    import time\n\n    here = pathlib.Path(__file__).parent\n    (here / \"running\").write_text(\"1\")\n    for _ in range(1200):\n        if (here / \"gone\").exists():\n            break\n        time.sleep(0.1)\n    with connect() as conn, conn.cursor() as cur:\n        cur.execute(\"SELECT 1\")\n"
    );
    let own_port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    write(
        dir.path(),
        &[
            (".github/workflows/ci.yml", &github_workflow_on(POSTGRES, own_port, "")),
            ("requirements.txt", REQUIREMENTS),
            ("tests/test_db.py", &slow),
        ],
    )?;
    let child = spawn_check(dir.path(), data.path())?;
    let pid = child.id();
    leftovers.0.push(pid);
    let service = wait_for_service(pid)?;
    let started = Instant::now();
    while !dir.path().join("tests/running").exists() && started.elapsed() < Duration::from_secs(300) {
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("docker").args(["kill", &service[0]]).output()?;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let state = Command::new("docker")
            .args(["inspect", "-f", "{{.State.Running}}", &service[0]])
            .output()?;
        if String::from_utf8_lossy(&state.stdout).trim() == "false" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::write(dir.path().join("tests/gone"), "1")?;
    let output = child.wait_with_output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: Value = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .next_back()
        .ok_or("no summary")?;
    assert_eq!(summary["tests"]["outcome"], "couldNotRun", "{summary}");
    let message = summary["tests"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("The service postgres:15 stopped during the tests"),
        "{message}"
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(containers_of(pid)?.is_empty());

    // A service image that is not here and cannot be fetched: the plan blocks, and the checks
    // say which image before any test runs.
    let missing = "slipway-test/no-such-postgres:1";
    write(
        dir.path(),
        &[(".github/workflows/ci.yml", &github_workflow(missing, ""))],
    )?;
    let plan = plan(dir.path(), data.path(), None)?;
    let blockers = plan["blockers"].to_string();
    assert!(
        blockers.contains(&format!("its image {missing} is not on this machine")),
        "{blockers}"
    );
    let (checked, left) = check_and_leftovers(dir.path(), data.path(), &mut leftovers)?;
    let (code, summary, _) = checked?;
    assert_eq!(
        (code, summary["tests"]["outcome"].clone()),
        (2, "couldNotRun".into()),
        "{summary}"
    );
    let message = summary["tests"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!(
            "The tests need postgres, which your CI starts, and its image {missing} is not on this computer"
        )),
        "{message}"
    );
    assert_eq!(summary["tests"]["passed"], 0);
    assert!(left.is_empty());
    Ok(())
}

/// Tests whose settings name the CI's port outright, with another program on that port here:
/// the service answers elsewhere, and the failure says why the tests reached the other one.
#[test]
fn a_port_held_by_another_program_is_named_in_the_failure() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let mut leftovers = Leftovers(Vec::new());
    // The other program: accepts and hangs up, as a server for something else would.
    let holder = std::net::TcpListener::bind("127.0.0.1:0")?;
    let held = holder.local_addr()?.port();
    std::thread::spawn(move || {
        for stream in holder.incoming() {
            drop(stream);
        }
    });
    let hard_coded = format!(
        "import psycopg2\n\n\ndef test_the_database_answers():\n    psycopg2.connect(\n        host=\"localhost\",\n        port={held},\n        user=\"app\",\n        password=\"app-password\",\n        dbname=\"app\",\n    ).close()\n"
    );
    write(
        dir.path(),
        &[
            (
                ".github/workflows/ci.yml",
                "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: docker compose up -d db\n      - run: pip install -r requirements.txt\n      - run: pytest -q -p no:cacheprovider\n",
            ),
            (
                "docker-compose.yml",
                &format!("services:\n  db:\n    image: {POSTGRES}\n    environment:\n      - POSTGRES_USER=app\n      - POSTGRES_PASSWORD=app-password\n      - POSTGRES_DB=app\n    ports:\n      - \"{held}:5432\"\n"),
            ),
            ("requirements.txt", REQUIREMENTS),
            ("tests/test_db.py", &hard_coded),
        ],
    )?;
    let (checked, left) = check_and_leftovers(dir.path(), data.path(), &mut leftovers)?;
    let (_, summary, _) = checked?;
    assert_eq!(summary["tests"]["outcome"], "failed", "{summary}");
    let message = summary["tests"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("because another program holds port {held} here")),
        "{message}"
    );
    assert!(left.is_empty(), "{left:?}");
    Ok(())
}

/// `docker compose run --rm app sh -c "wait && pytest"`, with `app` depending on its
/// database: the check runs in the folder the service mounts, with the database it depends on.
#[test]
fn a_compose_run_check_gets_the_database_its_service_depends_on() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let mut leftovers = Leftovers(Vec::new());
    write(
        dir.path(),
        &[
            (
                ".github/workflows/checks.yml",
                "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: docker compose run --rm app sh -c \"python wait_for_db.py && pytest -q -p no:cacheprovider\"\n",
            ),
            (
                "docker-compose.yml",
                &format!("services:\n  app:\n    build: .\n    volumes:\n      - ./app:/app\n    environment:\n      - DB_HOST=db\n      - DB_PORT=5432\n    depends_on:\n      - db\n  db:\n    image: {POSTGRES}\n    environment:\n      - POSTGRES_USER=app\n      - POSTGRES_PASSWORD=app-password\n      - POSTGRES_DB=app\n"),
            ),
            ("Dockerfile", "FROM python:3.11-slim\nWORKDIR /app\nCOPY ./app /app\n"),
            ("app/requirements.txt", REQUIREMENTS),
            ("app/wait_for_db.py", "print('waiting')\n"),
            ("app/tests/test_db.py", HOST_PORT_TESTS),
        ],
    )?;
    let (checked, left) = check_and_leftovers(dir.path(), data.path(), &mut leftovers)?;
    let (_, summary, lines) = checked?;
    assert_eq!(
        (summary["tests"]["outcome"].clone(), summary["tests"]["passed"].clone()),
        ("passed".into(), 1.into()),
        "{summary}\n{:?}",
        setup_lines(&lines)
    );
    assert!(left.is_empty(), "{left:?}");
    Ok(())
}
