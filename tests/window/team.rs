//! The team's history in the window: connected in Settings (the password typed once, kept in
//! the keyring), named in the Release page's plan, and, once its server stops answering, the
//! plan offers to release without it after saying what that means.
//!
//! The server is a private PostgreSQL made for the test (Debian's postgresql-15: `initdb` into
//! a temporary folder, a free port on 127.0.0.1, a password), stopped when the test ends.

use std::path::PathBuf;
use std::process::Command;

use super::*;

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const PG_USER: &str = "slipway";
const PG_PASSWORD: &str = "team-s3cret-for-the-window";

/// A PostgreSQL cluster of its own, run as the system's `postgres` user (the server refuses
/// root); `pg_ctl stop` when dropped, whatever the test did.
struct PrivatePostgres {
    folder: tempfile::TempDir,
    data: PathBuf,
    port: u16,
    running: bool,
}

/// Runs a PostgreSQL program as `postgres`; its output in the error when it fails.
fn as_postgres(program: &str, args: &[&str]) -> Result<(), Box<dyn std::error::Error>> {
    let output = Command::new("runuser")
        .args(["-u", "postgres", "--", &format!("{PG_BIN}/{program}")])
        .args(args)
        .output()?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
    .into())
}

impl PrivatePostgres {
    /// A cluster whose superuser `slipway` has a password, with the database `team`.
    fn start() -> Result<Self, Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir()?;
        // The server's own user must reach its folder, the socket and the password file.
        std::fs::set_permissions(folder.path(), std::fs::Permissions::from_mode(0o777))?;
        let data = folder.path().join("data");
        let password_file = folder.path().join("password");
        std::fs::write(&password_file, PG_PASSWORD)?;
        std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o644))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let data_text = data.display().to_string();
        as_postgres(
            "initdb",
            &[
                "-D",
                &data_text,
                "-U",
                PG_USER,
                &format!("--pwfile={}", password_file.display()),
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        )?;
        let mut server = Self {
            folder: folder,
            data,
            port,
            running: false,
        };
        server.run()?;
        let socket_dir = server.folder.path().display().to_string();
        as_postgres(
            "createdb",
            &["-h", &socket_dir, "-p", &port.to_string(), "-U", PG_USER, "team"],
        )?;
        Ok(server)
    }

    fn run(&mut self) -> Result<(), Box<dyn std::error::Error>> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.folder.path().display()
        );
        let log = self.folder.path().join("log").display().to_string();
        as_postgres(
            "pg_ctl",
            &[
                "-D",
                &self.data.display().to_string(),
                "-l",
                &log,
                "-o",
                &options,
                "-w",
                "start",
            ],
        )?;
        self.running = true;
        Ok(())
    }

    /// Stops the server at once, as a crash or a network cut would leave it to the app.
    fn stop(&mut self) -> Result<(), Box<dyn std::error::Error>> {
        if self.running {
            self.running = false;
            as_postgres(
                "pg_ctl",
                &["-D", &self.data.display().to_string(), "-m", "immediate", "-w", "stop"],
            )?;
        }
        Ok(())
    }

    /// The address Settings is given (no password: that goes in its own field).
    fn url(&self) -> String {
        format!("postgres://{PG_USER}@127.0.0.1:{}/team", self.port)
    }

    fn place(&self) -> String {
        format!("127.0.0.1:{}/team", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if let Err(error) = self.stop() {
            eprintln!("the test's PostgreSQL did not stop: {error}");
        }
    }
}

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
    let mut postgres = PrivatePostgres::start()?;
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
    session.type_text(&address, &postgres.url()).await?;
    let password = session
        .wait_for(
            &format!("{form}//input[@id='team-password'][@type='password']"),
            UI_WAIT,
        )
        .await?;
    session.type_text(&password, PG_PASSWORD).await?;
    session
        .click(
            &session
                .wait_for(&format!("{form}{}", button("Connect")), UI_WAIT)
                .await?,
        )
        .await?;
    let place = wait_or_explain(
        &session,
        &format!("{form}//*[@data-testid='team-place']"),
        UI_WAIT,
        "team-not-connected",
    )
    .await?;
    assert_eq!(
        session.text(&place).await?,
        format!("Releases are kept in the team's history on {}.", postgres.place())
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
    assert!(!shown.as_str().unwrap_or_default().contains(PG_PASSWORD), "{shown}");
    let settings = std::fs::read_to_string(data.path().join("settings.json"))?;
    assert!(!settings.contains(PG_PASSWORD), "{settings}");
    assert!(settings.contains(&postgres.place()), "{settings}");
    scroll_to(&session, form).await?;
    save_screenshot(&session, "team-history-connected").await?;

    // The Release page plans again: its plan names the team's history.
    open_page(&session, "Release").await?;
    let line = wait_or_explain(&session, "//*[@data-testid='plan-team']", UI_WAIT, "team-no-plan-line").await?;
    assert_eq!(
        session.text(&line).await?,
        format!("Team history on {}: no one else is releasing here.", postgres.place())
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
    assert_eq!(
        session.text(&line).await?,
        format!("The team's history at {} cannot be reached.", postgres.place())
    );
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
