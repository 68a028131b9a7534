//! The test's own PostgreSQL: what the team tests stand on, checked with psql alone.

use std::process::Command;

use crate::postgres::{PgOptions, PgServer, USER};
use crate::support::TestResult;

/// psql over TCP as the app's login, with `password`; with TLS, checking the server's
/// certificate against the test's authority as the app's URL asks.
fn psql_over_tcp(pg: &PgServer, password: &str, sql: &str) -> std::io::Result<std::process::Output> {
    let mut command = Command::new("/usr/lib/postgresql/15/bin/psql");
    command
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-h",
            "127.0.0.1",
            "-U",
            USER,
            "-d",
            "team",
            "-c",
            sql,
        ])
        .args(["-p", &pg.port().to_string()])
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "5");
    if pg.url("team").contains("sslmode=verify-full") {
        command
            .env("PGSSLMODE", "verify-full")
            .env("PGSSLROOTCERT", pg.ca_file());
    } else {
        command.env("PGSSLMODE", "disable");
    }
    command.output()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_owned()
}

#[test]
fn a_plain_and_a_tls_server_take_the_login_and_answer_queries() -> TestResult {
    for tls in [false, true] {
        let pg = PgServer::start(PgOptions { tls })?;
        pg.create_database("team")?;
        assert_eq!(
            pg.psql(
                "team",
                "SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'team'"
            )?,
            USER,
            "the app's login owns its database"
        );
        let output = psql_over_tcp(&pg, pg.password(), "SELECT current_user, 6 * 7")?;
        assert!(output.status.success(), "tls {tls}: {}", text(&output.stderr));
        assert_eq!(text(&output.stdout), format!("{USER}|42"));
        let ssl = psql_over_tcp(
            &pg,
            pg.password(),
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        )?;
        assert_eq!(
            text(&ssl.stdout),
            if tls { "t" } else { "f" },
            "tls {tls}: {}",
            text(&ssl.stderr)
        );
        let expected_url = format!("postgres://{USER}@127.0.0.1:{}/team", pg.port());
        if tls {
            assert_eq!(
                pg.url("team"),
                format!(
                    "{expected_url}?sslmode=verify-full&sslrootcert={}",
                    pg.ca_file().display()
                )
            );
            // The TLS server takes no connection without TLS.
            let plain = Command::new("/usr/lib/postgresql/15/bin/psql")
                .args(["-X", "-h", "127.0.0.1", "-U", USER, "-d", "team", "-c", "SELECT 1"])
                .args(["-p", &pg.port().to_string()])
                .env("PGPASSWORD", pg.password())
                .env("PGSSLMODE", "disable")
                .output()?;
            assert!(!plain.status.success());
            assert!(
                text(&plain.stderr).contains("no pg_hba.conf entry"),
                "{}",
                text(&plain.stderr)
            );
        } else {
            assert_eq!(pg.url("team"), expected_url);
        }
        assert!(pg
            .url_with_password("team")
            .contains(&format!("{USER}:{}@", pg.password())));
    }
    Ok(())
}

#[test]
fn a_wrong_password_is_refused() -> TestResult {
    let pg = PgServer::start(PgOptions::default())?;
    pg.create_database("team")?;
    let output = psql_over_tcp(&pg, "not-the-password", "SELECT 1")?;
    assert!(!output.status.success(), "{}", text(&output.stdout));
    assert!(
        text(&output.stderr).contains(&format!("password authentication failed for user \"{USER}\"")),
        "{}",
        text(&output.stderr)
    );
    Ok(())
}

#[test]
fn a_stopped_server_starts_again_with_its_data_and_port() -> TestResult {
    let pg = PgServer::start(PgOptions::default())?;
    pg.create_database("team")?;
    pg.psql("team", "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")?;
    pg.stop()?;
    let refused = psql_over_tcp(&pg, pg.password(), "SELECT 1")?;
    assert!(!refused.status.success(), "a stopped server answered");
    pg.start_again()?;
    assert_eq!(pg.psql("team", "SELECT n FROM kept")?, "7");
    Ok(())
}

#[test]
fn the_server_is_stopped_and_its_folder_removed_when_a_test_panics() -> TestResult {
    let (sender, receiver) = std::sync::mpsc::channel();
    let failed = std::thread::spawn(move || -> Result<(), String> {
        let pg = PgServer::start(PgOptions { tls: true }).map_err(|error| error.to_string())?;
        sender
            .send((pg.log_file(), pg.port()))
            .map_err(|error| error.to_string())?;
        panic!("a test that fails with its server running");
    })
    .join();
    assert!(failed.is_err(), "the test thread did not panic: {failed:?}");
    let (log, port) = receiver.recv()?;
    assert!(!log.exists(), "{} is still there", log.display());
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "something still listens on {port}"
    );
    Ok(())
}
