//! The headless CLI, run as a user would: the real binary against the real engine and keyring.

mod engines;
#[path = "../support/standin/mod.rs"]
mod standin;
#[path = "../support/mod.rs"]
mod support;

use std::process::{Command, Output};

use support::{slipway_binary, test_registry, TestResult};

fn slipway(args: &[&str], data_dir: &std::path::Path) -> std::io::Result<Output> {
    Command::new(slipway_binary())
        .args(args)
        .env("SLIPWAY_DATA_DIR", data_dir)
        .env_remove("SENTRY_DSN")
        .output()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_and_version_exit_zero_without_a_window() -> TestResult {
    let data = tempfile::tempdir()?;
    let help = slipway(&["--help"], data.path())?;
    assert_eq!(help.status.code(), Some(0), "{}", text(&help.stderr));
    assert!(text(&help.stdout).contains("doctor"), "{}", text(&help.stdout));
    let version = slipway(&["--version"], data.path())?;
    assert_eq!(version.status.code(), Some(0));
    assert_eq!(
        text(&version.stdout).trim(),
        format!("slipway {}", env!("CARGO_PKG_VERSION"))
    );
    Ok(())
}

#[test]
fn unknown_arguments_print_usage_and_exit_two() -> TestResult {
    let data = tempfile::tempdir()?;
    for args in [
        &["--frobnicate"][..],
        &["doctor", "--colour"][..],
        &["deploy-everything"][..],
    ] {
        let output = slipway(args, data.path())?;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            text(&output.stderr).contains("Usage"),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
    Ok(())
}

#[test]
fn doctor_reports_the_real_engine_and_keyring() -> TestResult {
    let _environment = test_registry();
    let data = tempfile::tempdir()?;
    let output = slipway(&["doctor", "--json"], data.path())?;
    let stdout = text(&output.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout)?;
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{}", text(&output.stderr));
    assert_eq!(report["ok"], true, "{stdout}");
    let check = |id: &str| {
        report["checks"]
            .as_array()
            .and_then(|checks| checks.iter().find(|c| c["id"] == id))
            .cloned()
    };
    let engine = check("dockerEngine").ok_or("no engine check")?;
    assert_eq!(engine["ok"], true);
    // The engine's own answer, not a guess: the same version the docker CLI reports.
    let cli_version = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()?;
    let cli_version = text(&cli_version.stdout).trim().to_owned();
    assert!(!cli_version.is_empty());
    assert!(
        engine["detail"].as_str().is_some_and(|d| d.contains(&cli_version)),
        "{engine}"
    );
    assert_eq!(check("keyring").ok_or("no keyring check")?["ok"], true);
    assert_eq!(check("git").ok_or("no git check")?["ok"], true);
    assert_eq!(check("python").ok_or("no python check")?["ok"], true);
    assert_eq!(report["dataDir"], data.path().display().to_string());
    assert_eq!(report["logDir"], data.path().join("logs").display().to_string());
    Ok(())
}

#[test]
fn doctor_without_an_engine_says_how_to_start_it_and_exits_one() -> TestResult {
    let data = tempfile::tempdir()?;
    let missing_socket = data.path().join("no-engine.sock");
    let output = Command::new(slipway_binary())
        .args(["doctor"])
        .env("SLIPWAY_DATA_DIR", data.path())
        .env("DOCKER_HOST", format!("unix://{}", missing_socket.display()))
        .output()?;
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL Docker Engine"), "{stdout}");
    assert!(stdout.contains("does not exist"), "{stdout}");
    assert!(stdout.contains("Start the Docker Engine"), "{stdout}");
    assert!(
        stdout.contains(&format!("Logs: {}", data.path().join("logs").display())),
        "{stdout}"
    );
    Ok(())
}

#[test]
fn doctor_without_a_secret_service_names_what_is_missing() -> TestResult {
    let data = tempfile::tempdir()?;
    let output = Command::new(slipway_binary())
        .args(["doctor", "--json"])
        .env("SLIPWAY_DATA_DIR", data.path())
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", data.path().join("no-bus").display()),
        )
        .output()?;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let keyring = report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["id"] == "keyring"))
        .ok_or("no keyring check")?;
    assert_eq!(keyring["ok"], false, "{keyring}");
    assert!(
        keyring["hint"].as_str().is_some_and(|h| h.contains("Secret Service")),
        "{keyring}"
    );
    Ok(())
}

#[test]
fn the_cli_writes_a_redacted_log_file() -> TestResult {
    let data = tempfile::tempdir()?;
    let output = Command::new(slipway_binary())
        .args(["doctor"])
        .env("SLIPWAY_DATA_DIR", data.path())
        // A secret-shaped value in the engine address must not reach the log file.
        .env("DOCKER_HOST", "tcp://user:leaked-pass-123@127.0.0.1:9")
        .env("SLIPWAY_LOG", "info")
        .output()?;
    assert_eq!(output.status.code(), Some(1));
    let logs: Vec<_> = std::fs::read_dir(data.path().join("logs"))?.collect::<Result<_, _>>()?;
    assert_eq!(logs.len(), 1, "one daily log file");
    let log = std::fs::read_to_string(logs[0].path())?;
    assert!(log.contains("doctor finished"), "{log}");
    for sink in [log.as_str(), &text(&output.stdout), &text(&output.stderr)] {
        assert!(!sink.contains("leaked-pass-123"), "{sink}");
    }
    Ok(())
}

/// A stand-in for Sentry's ingestion endpoint that keeps every envelope it receives.
fn sentry_stand_in() -> std::io::Result<(u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>)> {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut data = Vec::new();
            let mut buffer = [0u8; 65536];
            // Read headers, then the body by Content-Length.
            while let Ok(read) = stream.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                data.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&data).into_owned();
                if let Some(split) = text.find("\r\n\r\n") {
                    let length = text[..split]
                        .lines()
                        .find_map(|line| {
                            line.to_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if data.len() >= split + 4 + length {
                        break;
                    }
                }
            }
            if let Ok(mut all) = store.lock() {
                all.push(String::from_utf8_lossy(&data).into_owned());
            }
            let body = r#"{"id":"00000000000000000000000000000000"}"#;
            let _ = write!(stream, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
        }
    });
    Ok((port, received))
}

#[test]
fn error_reports_reach_sentry_with_secrets_scrubbed() -> TestResult {
    let data = tempfile::tempdir()?;
    let (port, received) = sentry_stand_in()?;
    let output = Command::new(slipway_binary())
        .args(["doctor", "--send-test-event"])
        .env("SLIPWAY_DATA_DIR", data.path())
        .env(
            "SENTRY_DSN",
            format!("http://0123456789abcdef0123456789abcdef@127.0.0.1:{port}/42"),
        )
        // A secret in the engine address reaches the report's breadcrumbs, redacted.
        .env("DOCKER_HOST", "tcp://deploy:leaked-pass-777@127.0.0.1:9")
        .output()?;
    assert!(
        text(&output.stdout).contains("Sent a test event to Sentry"),
        "{}",
        text(&output.stdout)
    );
    let envelopes = received.lock().map(|all| all.clone()).unwrap_or_default();
    let all = envelopes.join("\n");
    assert!(all.contains("POST /api/42/envelope/"), "{all}");
    assert!(all.contains("Slipway test event: error reporting works"), "{all}");
    assert!(all.contains("[redacted]"), "the breadcrumb is there, redacted: {all}");
    assert!(!all.contains("leaked-pass-777"), "{all}");

    let without = Command::new(slipway_binary())
        .args(["doctor", "--send-test-event"])
        .env("SLIPWAY_DATA_DIR", data.path())
        .env_remove("SENTRY_DSN")
        .output()?;
    assert_eq!(without.status.code(), Some(1));
    assert!(text(&without.stderr).contains("error reporting is off"));
    Ok(())
}

#[test]
fn a_panic_is_written_down_for_the_next_start_and_reported_redacted() -> TestResult {
    let data = tempfile::tempdir()?;
    let (port, received) = sentry_stand_in()?;
    let output = Command::new(slipway_binary())
        .args(["doctor", "--json"])
        .env("SLIPWAY_DATA_DIR", data.path())
        .env(
            "SENTRY_DSN",
            format!("http://0123456789abcdef0123456789abcdef@127.0.0.1:{port}/42"),
        )
        // The message carries a secret, as a real panic's might (an address with its password).
        .env(
            "SLIPWAY_TEST_PANIC",
            "pushing to https://deploy:leaked-pass-888@registry.example.test/v2/",
        )
        // Even with the log silenced, a panic is said.
        .env("SLIPWAY_LOG", "off")
        .output()?;
    assert_eq!(output.status.code(), Some(101), "a panic ends the command: {output:?}");
    let said = text(&output.stderr);
    assert!(
        said.contains("broke on purpose (SLIPWAY_TEST_PANIC=pushing to https://deploy:[redacted]@"),
        "{said}"
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(data.path().join("crash.json"))?)?;
    assert_eq!(report["face"], "the command line (`slipway doctor`)");
    assert_eq!(report["doing"], serde_json::json!(["Running `slipway doctor`"]));
    assert_eq!(report["stopped"], true);
    assert_eq!(report["version"], env!("CARGO_PKG_VERSION"));
    let message = report["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("the command line broke on purpose (SLIPWAY_TEST_PANIC=pushing to https://deploy:[redacted]@registry.example.test/v2/), at src-tauri/crash.rs:"),
        "{message}"
    );
    assert!(report["logFolder"]
        .as_str()
        .is_some_and(|folder| folder.starts_with(&data.path().display().to_string())));
    // The log has the panic too; nowhere is the password.
    let log = std::fs::read_dir(data.path().join("logs"))?
        .flatten()
        .map(|entry| std::fs::read_to_string(entry.path()).unwrap_or_default())
        .collect::<String>();
    assert!(log.contains("broke on purpose"), "{log}");
    let received = received.lock().map(|all| all.clone()).unwrap_or_default();
    let reports = received
        .iter()
        .filter(|envelope| envelope.contains("broke on purpose"))
        .count();
    let envelopes = received.join("\n");
    assert_eq!(reports, 1, "the panic reached Sentry, once: {envelopes}");
    for sink in [&log, &envelopes, &text(&output.stderr), &report.to_string()] {
        assert!(!sink.contains("leaked-pass-888"), "{sink}");
    }
    Ok(())
}

/// What the OS keyring holds for a registry account of the data folder `data`, read with
/// the desktop's own tool.
fn secret_tool_lookup(data: &std::path::Path, account: &str) -> std::io::Result<Option<String>> {
    let store = slipway::secrets::SecretStore::os(data);
    let entry = store.entry_name(slipway::secrets::Service::Registry, account);
    let output = Command::new("secret-tool")
        .args(["lookup", "service", "dev.slipway.app", "username", &entry])
        .output()?;
    Ok(output.status.success().then(|| text(&output.stdout)))
}

/// Logins from `docker login`, by `auth` entry and through a credential helper, land in the
/// real keyring; the account list holds no secret; a broken helper is named.
#[test]
fn docker_logins_are_imported_into_the_keyring() -> TestResult {
    let _environment = test_registry();
    use base64::Engine;
    let data = tempfile::tempdir()?;
    let docker_config = tempfile::tempdir()?;
    let helpers = tempfile::tempdir()?;
    let helper = helpers.path().join("docker-credential-slipwaytest");
    std::fs::write(
        &helper,
        "#!/bin/sh\nread server\nif [ \"$1\" = get ] && [ \"$server\" = 127.0.0.1:5999 ]; then\n  printf '{\"ServerURL\":\"%s\",\"Username\":\"helperuser\",\"Secret\":\"helper-secret-4471\"}' \"$server\"\nelse\n  echo 'credentials not found in native keychain'; exit 1\nfi\n",
    )?;
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    let auth = base64::engine::general_purpose::STANDARD.encode("ann:dckr_pat_cli-test-9931");
    std::fs::write(
        docker_config.path().join("config.json"),
        format!(
            r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}},"ghcr.io":{{}}}},"credsStore":"slipwaytest","credHelpers":{{"127.0.0.1:5999":"slipwaytest"}}}}"#
        ),
    )?;
    let path = format!(
        "{}:{}",
        helpers.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let import = Command::new(slipway_binary())
        .args(["accounts", "import-docker", "--config"])
        .arg(docker_config.path())
        .env("SLIPWAY_DATA_DIR", data.path())
        .env("PATH", &path)
        .output()?;
    let stdout = text(&import.stdout);
    assert_eq!(import.status.code(), Some(1), "one login could not be read: {stdout}");
    assert!(
        stdout.contains("Imported ann for docker.io from config.json"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Imported helperuser for 127.0.0.1:5999 from docker-credential-slipwaytest"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Could not import ghcr.io: the credential helper docker-credential-slipwaytest failed"),
        "{stdout}"
    );
    for secret in ["dckr_pat_cli-test-9931", "helper-secret-4471"] {
        assert!(!stdout.contains(secret));
        let stored = std::fs::read_to_string(data.path().join("accounts.json"))?;
        assert!(!stored.contains(secret), "no secret in the account list");
    }
    assert_eq!(
        secret_tool_lookup(data.path(), "docker.io")?.as_deref(),
        Some("dckr_pat_cli-test-9931")
    );
    assert_eq!(
        secret_tool_lookup(data.path(), "127.0.0.1:5999")?.as_deref(),
        Some("helper-secret-4471")
    );

    let list = Command::new(slipway_binary())
        .args(["accounts", "list", "--json"])
        .env("SLIPWAY_DATA_DIR", data.path())
        .output()?;
    let accounts: serde_json::Value = serde_json::from_slice(&list.stdout)?;
    assert_eq!(accounts.as_array().map(Vec::len), Some(2), "{accounts}");

    let removed = Command::new(slipway_binary())
        .args(["accounts", "remove", "--service", "registry", "--account", "docker.io"])
        .env("SLIPWAY_DATA_DIR", data.path())
        .output()?;
    assert_eq!(removed.status.code(), Some(0));
    assert_eq!(
        secret_tool_lookup(data.path(), "docker.io")?,
        None,
        "the secret left the keyring"
    );
    let _ = Command::new(slipway_binary())
        .args([
            "accounts",
            "remove",
            "--service",
            "registry",
            "--account",
            "127.0.0.1:5999",
        ])
        .env("SLIPWAY_DATA_DIR", data.path())
        .output()?;
    Ok(())
}

/// Without a Secret Service nothing is imported and nothing is written anywhere else.
#[test]
fn without_a_keyring_nothing_is_stored() -> TestResult {
    use base64::Engine;
    let data = tempfile::tempdir()?;
    let docker_config = tempfile::tempdir()?;
    let auth = base64::engine::general_purpose::STANDARD.encode("ann:dckr_pat_nokeyring-5512");
    std::fs::write(
        docker_config.path().join("config.json"),
        format!(r#"{{"auths":{{"docker.io":{{"auth":"{auth}"}}}}}}"#),
    )?;
    let import = Command::new(slipway_binary())
        .args(["accounts", "import-docker", "--config"])
        .arg(docker_config.path())
        .env("SLIPWAY_DATA_DIR", data.path())
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", data.path().join("no-bus").display()),
        )
        .output()?;
    assert_eq!(import.status.code(), Some(2));
    let stderr = text(&import.stderr);
    assert!(stderr.contains("Secret Service"), "{stderr}");
    assert!(!data.path().join("accounts.json").exists());
    let mut leaked = false;
    for entry in support::files_below(data.path())? {
        leaked |= std::fs::read(&entry)
            .is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains("dckr_pat_nokeyring-5512"));
    }
    assert!(!leaked, "the secret was written to a file");
    Ok(())
}

/// A settings file that cannot be trusted stops every release before anything runs (never
/// defaults in its place), and says which file and what is wrong: a broken file, and a
/// service address that would send a key over plain http to another machine.
#[test]
fn untrusted_settings_stop_a_release_and_say_why() -> TestResult {
    let data = tempfile::tempdir()?;
    let project = tempfile::tempdir()?;
    let project_dir = project.path().display().to_string();
    for (content, why) in [
        ("{ not json", "not valid settings JSON"),
        (
            r#"{"renderApiUrl": "http://api.render.example/v1"}"#,
            "only sent over https",
        ),
    ] {
        std::fs::write(data.path().join("settings.json"), content)?;
        let output = slipway(
            &["release", "--project", &project_dir, "--target", "local", "--dry-run"],
            data.path(),
        )?;
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("settings file cannot be used"), "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
        assert!(stderr.contains("settings.json"), "the file is named: {stderr}");
    }
    Ok(())
}

/// An engine that does not answer is found by the plan, before any gate runs, whichever way
/// it is gone (no socket, or a port that refuses): exit 2, with what to type to start it.
#[test]
fn a_release_without_an_engine_is_refused_up_front_with_the_hint() -> TestResult {
    let data = tempfile::tempdir()?;
    let project = tempfile::tempdir()?;
    std::fs::write(project.path().join("Dockerfile"), "FROM scratch\n")?;
    let refused_port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    for host in [
        format!("unix://{}", data.path().join("no-engine.sock").display()),
        format!("tcp://127.0.0.1:{refused_port}"),
    ] {
        let output = Command::new(slipway_binary())
            .args([
                "release",
                "--project",
                &project.path().display().to_string(),
                "--target",
                "local",
                "--yes",
            ])
            .env("SLIPWAY_DATA_DIR", data.path())
            .env("DOCKER_HOST", &host)
            .output()?;
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{host}: {stderr}");
        assert!(stderr.contains("Docker is not running"), "{host}: {stderr}");
        assert!(
            stderr.contains("Start the Docker Engine"),
            "the terminal's hint: {stderr}"
        );
        assert!(!project.path().join(".pytest_cache").exists(), "no gate ran");
    }
    Ok(())
}

/// A token is never sent over plain http to another machine: connecting Sentry at such an
/// address is refused before any call, and nothing is kept.
#[test]
fn a_sentry_address_without_https_is_refused_before_the_token_travels() -> TestResult {
    use std::io::Write;
    let data = tempfile::tempdir()?;
    let mut child = Command::new(slipway_binary())
        .args([
            "accounts",
            "connect",
            "sentry",
            "--org",
            "acme",
            "--project",
            "web",
            "--url",
            "http://sentry.example.test/api/0",
        ])
        .env("SLIPWAY_DATA_DIR", data.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    child.stdin.take().ok_or("stdin")?.write_all(b"sntrys_plain_http")?;
    let output = child.wait_with_output()?;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("That Sentry address cannot be used"), "{stderr}");
    assert!(stderr.contains("only sent over https"), "{stderr}");
    assert!(!data.path().join("accounts.json").exists(), "nothing was kept");
    Ok(())
}

/// `slipway errors resolve|ignore|unresolve` take the short ids `slipway errors` prints, as well
/// as numeric ids, against a Sentry stand-in that answers as the contract says (a short id in
/// the bulk update is a 400 there); an unknown short id is named and nothing is changed.
// The CLI runs as a child while the stand-in answers on this runtime: two threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_resolve_ignore_and_unresolve_take_the_short_ids_the_list_prints() -> TestResult {
    use std::io::Write;
    let scenario = standin::SentryScenario::default();
    let handle = scenario.handle.clone();
    let sentry = standin::sentry_issues_stand_in(scenario).await?;
    let data = tempfile::tempdir()?;
    let project = tempfile::tempdir()?;
    let root = project.path().display().to_string();
    let mut connect = Command::new(slipway_binary())
        .args([
            "accounts",
            "connect",
            "sentry",
            "--org",
            "acme",
            "--project",
            "web",
            "--url",
        ])
        .arg(format!("{}/api/0", sentry.base))
        .env("SLIPWAY_DATA_DIR", data.path())
        .env_remove("SENTRY_DSN")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    connect.stdin.take().ok_or("stdin")?.write_all(b"sntrys_full")?;
    let connected = connect.wait_with_output()?;
    assert!(connected.status.success(), "{}", text(&connected.stderr));
    let linked = slipway(
        &["project", "set", "--project", &root, "sentry-project", "acme/web"],
        data.path(),
    )?;
    assert!(linked.status.success(), "{}", text(&linked.stderr));

    // The ids as the list prints them.
    let listed = slipway(&["errors", "--project", &root, "--json", "--limit", "100"], data.path())?;
    let page: serde_json::Value = serde_json::from_slice(&listed.stdout)?;
    let short_id = |id: &str| {
        page["issues"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|issue| issue["id"] == id)
            .and_then(|issue| issue["shortId"].as_str())
            .map(str::to_owned)
            .ok_or(format!("issue {id} is listed with its short id: {page}"))
    };
    let (first, second) = (standin::SENTRY_SECRET_ISSUE, standin::SENTRY_MESSAGE_ISSUE);
    let (first_short, second_short) = (short_id(first)?, short_id(second)?);

    let resolved = slipway(&["errors", "resolve", "--project", &root, &first_short], data.path())?;
    assert!(resolved.status.success(), "{}", text(&resolved.stderr));
    let said = text(&resolved.stdout);
    assert!(said.contains("1 issue now resolved"), "{said}");
    assert_eq!(handle.issue_status(first).as_deref(), Some("resolved"));
    // A numeric id and a short id together.
    let ignored = slipway(
        &["errors", "ignore", "--project", &root, first, &second_short],
        data.path(),
    )?;
    assert!(ignored.status.success(), "{}", text(&ignored.stderr));
    assert_eq!(handle.issue_status(first).as_deref(), Some("ignored"));
    assert_eq!(handle.issue_status(second).as_deref(), Some("ignored"));
    let reopened = slipway(
        &["errors", "unresolve", "--project", &root, &first_short.to_lowercase()],
        data.path(),
    )?;
    assert!(reopened.status.success(), "{}", text(&reopened.stderr));
    assert_eq!(handle.issue_status(first).as_deref(), Some("unresolved"));

    // An unknown short id is named, and the known one beside it is left as it was.
    let unknown = slipway(
        &["errors", "resolve", "--project", &root, &first_short, "WEB-NOSUCH"],
        data.path(),
    )?;
    let stderr = text(&unknown.stderr);
    assert_eq!(unknown.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("Sentry has no issue WEB-NOSUCH in acme/web."),
        "{stderr}"
    );
    assert_eq!(handle.issue_status(first).as_deref(), Some("unresolved"));
    Ok(())
}

/// A CI file that would stall the YAML parser (400 KB of nesting: minutes before) or take
/// seconds to read on every plan (5 MB: 25 s before, in a debug build) is refused at once, and
/// the plan says so in a sentence; the rest of the plan is made as usual.
#[test]
fn a_deeply_nested_or_huge_workflow_is_refused_in_the_plan_at_once() -> TestResult {
    let data = tempfile::tempdir()?;
    let project = tempfile::tempdir()?;
    std::fs::create_dir_all(project.path().join(".circleci"))?;
    std::fs::create_dir_all(project.path().join(".github/workflows"))?;
    std::fs::write(project.path().join("Dockerfile"), "FROM scratch\n")?;
    std::fs::write(
        project.path().join(".circleci/config.yml"),
        format!(
            "version: 2.1\njobs:\n  build:\n    steps: {}{}\n",
            "[".repeat(200_000),
            "]".repeat(200_000)
        ),
    )?;
    let mut huge = String::from("on: push\njobs:\n");
    for job in 0.. {
        if huge.len() >= 5 * 1024 * 1024 {
            break;
        }
        huge.push_str(&format!(
            "  job{job}:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python -m pytest -q tests/test_{job}.py\n"
        ));
    }
    std::fs::write(project.path().join(".github/workflows/huge.yml"), huge)?;
    let start = std::time::Instant::now();
    let planned = slipway(
        &[
            "release",
            "--project",
            &project.path().display().to_string(),
            "--target",
            "local",
            "--dry-run",
        ],
        data.path(),
    )?;
    let took = start.elapsed();
    let stdout = text(&planned.stdout);
    assert!(planned.status.success(), "{stdout}{}", text(&planned.stderr));
    assert!(
        stdout.contains("The CircleCI file is too deeply nested to read (more than 200 levels): Slipway ignores it"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "The workflow .github/workflows/huge.yml is too large to read (5.0 MB, the limit is 1 MB): Slipway ignores it"
        ),
        "{stdout}"
    );
    // About a second on a shared machine (the process, the engine's answer, git); the files
    // themselves take milliseconds.
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    Ok(())
}

/// `slipway history | head -1`: the reader goes away after one line; the CLI ends quietly
/// (no panic, no backtrace) with its usual exit code.
#[test]
fn history_piped_into_a_reader_that_leaves_ends_quietly() -> TestResult {
    let data = tempfile::tempdir()?;
    let ledger = slipway::history::Ledger::open(data.path())?;
    // More than a pipe holds (64 KB), so the CLI writes after the reader left.
    for n in 0..1500 {
        let release = slipway::history::NewRelease {
            id: format!("20261201T{:06}000Z-pipe{n:04}", n * 7 % 240000),
            project_path: "/srv/lettings".to_owned(),
            project_name: "lettings".to_owned(),
            user: "ann".to_owned(),
            target: slipway::vocabulary::Target::Local,
            ..slipway::history::NewRelease::default()
        };
        ledger.begin(&release)?;
        ledger.finish(
            &release.id,
            slipway::history::Outcome::Live,
            &slipway::history::Ending::default(),
        )?;
    }
    drop(ledger);
    let (first, output) = piped_into_one_line_reader(data.path(), &["history", "--limit", "1500"])?;
    let stderr = text(&output.stderr);
    assert!(!first.is_empty(), "one line was read");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    Ok(())
}

/// The example project, committed in a repository of its own, with a data folder whose
/// settings use the shared virtualenv and whose keyring holds the test registry's login; the
/// guard removes the project's containers even when the test fails.
struct Example {
    _containers: support::ProjectContainers,
    _dirs: tempfile::TempDir,
    root: std::path::PathBuf,
    data: std::path::PathBuf,
}

fn example(name: &str) -> Result<Example, Box<dyn std::error::Error>> {
    example_with(name, |_| Ok(()))
}

fn example_with(
    name: &str,
    change: impl FnOnce(&std::path::Path) -> std::io::Result<()>,
) -> Result<Example, Box<dyn std::error::Error>> {
    use slipway::project;
    let dirs = tempfile::tempdir()?;
    let root = support::example_project(dirs.path(), name, change)?;
    let data = dirs.path().join("data");
    std::fs::create_dir_all(&data)?;
    let registry = test_registry();
    support::save_registry_login(&data, &registry, &registry.password)?;
    let mut settings = project::ProjectSettings::from_detection(&project::detect(&root));
    settings.venv = Some(support::shared_venv()?.display().to_string());
    settings.health_timeout_secs = Some(20);
    project::save_settings(&data, &root, &settings)?;
    Ok(Example {
        _containers: support::ProjectContainers(project::project_id(&root)),
        _dirs: dirs,
        root,
        data,
    })
}

/// Runs `slipway args` with its standard output read by a reader that takes one line and
/// leaves (`| head -1`); the line it read, and how the command ended.
fn piped_into_one_line_reader(
    data: &std::path::Path,
    args: &[&str],
) -> Result<(String, Output), Box<dyn std::error::Error>> {
    use std::io::BufRead;
    let mut child = Command::new(slipway_binary())
        .args(args)
        .env("SLIPWAY_DATA_DIR", data)
        .env("SLIPWAY_LOCAL_REGISTRY", test_registry().address)
        .env_remove("SENTRY_DSN")
        .env("RUST_BACKTRACE", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("stdout is piped")?;
    let mut first = String::new();
    std::io::BufReader::new(stdout).read_line(&mut first)?;
    // The reader leaves: the pipe's only read end is closed here, so every later write of the
    // command fails with a broken pipe.
    let output = child.wait_with_output()?;
    Ok((first, output))
}

/// Quiet on a closed pipe: no panic, no backtrace, no "Broken pipe" shown, and an exit code
/// a shell reads as success (0, or 141 for a death by SIGPIPE).
fn ended_quietly(output: &Output) -> Result<(), String> {
    let stderr = text(&output.stderr);
    for sign in ["panicked", "stack backtrace", "Broken pipe", "broken pipe"] {
        if stderr.contains(sign) {
            return Err(format!("{sign:?} on stderr: {stderr}"));
        }
    }
    match output.status.code() {
        Some(0) | Some(141) => Ok(()),
        other => Err(format!("exit {other:?}: {stderr}")),
    }
}

/// `slipway check | head -1`: the reader leaves after the first line while the tests still
/// run; the checks go on to their end (exit 0 is "passed": 2 would be could-not-run or
/// cancelled), and nothing on stderr says the pipe closed.
#[test]
fn check_piped_into_a_reader_that_leaves_ends_quietly() -> TestResult {
    let example = example("check-pipe")?;
    let root = example.root.display().to_string();
    let (first, output) = piped_into_one_line_reader(&example.data, &["check", "--project", &root])?;
    assert!(!first.trim().is_empty(), "one line was read");
    ended_quietly(&output)?;
    assert_eq!(output.status.code(), Some(0), "the checks ran and passed");
    Ok(())
}

/// `slipway check` reads a failure as the window does: where it failed, expected against got,
/// and a lint rule in plain words.
#[test]
fn check_prints_where_a_test_failed_its_two_sides_and_the_rule_in_words() -> TestResult {
    let example = example_with("check-words", |root| {
        std::fs::write(
            root.join("tests/test_prices.py"),
            "def test_price():\n    assert f\"£{4.5}\" == \"£4.50\"\n",
        )?;
        let app = std::fs::read_to_string(root.join("lettings/app.py"))?;
        std::fs::write(root.join("lettings/app.py"), format!("import os\n{app}"))
    })?;
    let root = example.root.display().to_string();
    let output = slipway(&["check", "--project", &root], &example.data)?;
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "failed: {stdout}");
    for expected in [
        "FAIL tests/test_prices.py::test_price",
        "at tests/test_prices.py:2",
        "expected '£4.50'",
        "got      '£4.5'",
        "lettings/app.py:1:1 F401",
        "A module is imported but never used: remove the import.",
    ] {
        assert!(stdout.contains(expected), "{expected:?} in: {stdout}");
    }
    Ok(())
}

/// `slipway release --json | head -1` on this machine: the reader leaves after the first
/// event; the release still runs to its end, goes live and is recorded so in the ledger (not
/// left running, nor interrupted), and the command ends quietly.
#[test]
fn a_release_piped_into_a_reader_that_leaves_goes_on_to_its_end() -> TestResult {
    let example = example("release-pipe")?;
    let root = example.root.display().to_string();
    let (first, output) = piped_into_one_line_reader(
        &example.data,
        &["release", "--project", &root, "--target", "local", "--json"],
    )?;
    let first: serde_json::Value = serde_json::from_str(&first)?;
    assert!(first["kind"].is_string(), "the first line is an event: {first}");
    ended_quietly(&output)?;
    assert_eq!(output.status.code(), Some(0), "live: {}", text(&output.stderr));
    let history = slipway(&["history", "--json", "--project", &root], &example.data)?;
    assert!(history.status.success(), "{}", text(&history.stderr));
    let history: serde_json::Value = serde_json::from_slice(&history.stdout)?;
    let [record] = history.as_array().map(Vec::as_slice).unwrap_or_default() else {
        return Err(format!("one release in a fresh data folder: {history}").into());
    };
    assert_eq!(record["outcome"], "live", "{record}");
    let steps = record["steps"].as_array().ok_or(format!("steps: {record}"))?;
    assert!(!steps.is_empty(), "{record}");
    assert!(
        steps.iter().all(|step| step["state"] != "running"),
        "no step left running: {record}"
    );
    Ok(())
}

/// Issue 28: `slipway ci` prints CircleCI's pipeline, workflows and jobs for the checked-out
/// commit (the project named per project, the account connected once), exits 0 only when it
/// passed; with no pipeline it says so and offers `slipway ci run`, which starts one for the
/// branch and follows it to its end. The release's plan says where the commit stands against
/// its remote, and `--no-push` turns the first push off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ci_prints_circleci_s_verdict_and_ci_run_starts_and_follows_one() -> TestResult {
    use standin::{circle_workflow, circleci_stand_in, CircleJob, CirclePipeline, CircleScenario};
    use std::io::Write;
    let dirs = tempfile::tempdir()?;
    let root = support::git_project(dirs.path(), "lettings", "main")?;
    let bare = dirs.path().join("lettings.git");
    support::git(dirs.path(), &["init", "-q", "--bare", "-b", "main", "lettings.git"])?;
    support::git(&root, &["remote", "add", "origin", &bare.display().to_string()])?;
    support::git(&root, &["push", "-q", "-u", "origin", "main"])?;
    let head = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["rev-parse", "HEAD"])
        .output()?;
    let commit = text(&head.stdout).trim().to_owned();
    let slug = "gh/acme/lettings";
    let done = |status: &str| {
        vec![circle_workflow(
            "build-and-test",
            status,
            vec![CircleJob::build("test", status), CircleJob::build("lint", "success")],
        )]
    };
    let running = vec![circle_workflow(
        "build-and-test",
        "running",
        vec![CircleJob::build("test", "running"), CircleJob::build("lint", "success")],
    )];
    let mut scenario = CircleScenario::new(
        slug,
        "circle_good",
        vec![CirclePipeline::new("main", &commit, done("success"))],
    );
    let passed = circleci_stand_in(scenario.clone()).await?;
    scenario.pipelines.clear();
    scenario.on_trigger = Some(CirclePipeline::new("main", &commit, running).then(done("failed")));
    let empty = circleci_stand_in(scenario).await?;

    for (circle, data) in [
        (&passed, dirs.path().join("data-passed")),
        (&empty, dirs.path().join("data-empty")),
    ] {
        std::fs::create_dir_all(&data)?;
        std::fs::write(
            data.join("settings.json"),
            serde_json::json!({ "circleciApiUrl": format!("{}/api/v2", circle.base) }).to_string(),
        )?;
        let mut connect = Command::new(slipway_binary())
            .args(["accounts", "connect", "circleci", "--slug", slug])
            .env("SLIPWAY_DATA_DIR", &data)
            .env_remove("SENTRY_DSN")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        connect.stdin.take().ok_or("stdin")?.write_all(b"circle_good")?;
        let connected = connect.wait_with_output()?;
        assert!(connected.status.success(), "{}", text(&connected.stderr));
        let set = slipway(
            &[
                "project",
                "set",
                "--project",
                &root.display().to_string(),
                "circleci-project",
                slug,
            ],
            &data,
        )?;
        assert!(set.status.success(), "{}", text(&set.stderr));
    }
    let project = root.display().to_string();
    let data_passed = dirs.path().join("data-passed");
    let data_empty = dirs.path().join("data-empty");

    // The verdict, as JSON and as text.
    let json = slipway(&["ci", "--project", &project, "--json"], &data_passed)?;
    assert_eq!(json.status.code(), Some(0), "passed is exit 0: {}", text(&json.stderr));
    let panel: serde_json::Value = serde_json::from_slice(&json.stdout)?;
    assert_eq!(panel["project"], slug);
    assert_eq!(panel["verdict"]["state"], "passed");
    let jobs: Vec<&str> = panel["verdict"]["workflows"][0]["jobs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|job| job["name"].as_str())
        .collect();
    assert_eq!(jobs, ["test", "lint"], "{panel}");
    let shown = slipway(&["ci", "--project", &project], &data_passed)?;
    let shown_text = text(&shown.stdout);
    assert!(shown_text.contains("workflow build-and-test: success"), "{shown_text}");
    assert!(
        shown_text.contains(&format!("circleci {slug} (from the project's settings)")),
        "{shown_text}"
    );

    // None yet: said, exit 1, and `ci run` starts one and follows it to its failure.
    let none = slipway(&["ci", "--project", &project], &data_empty)?;
    let none_text = text(&none.stdout);
    assert_eq!(none.status.code(), Some(1), "{none_text} {}", text(&none.stderr));
    assert!(
        none_text.contains(&format!("CircleCI has no pipeline for {} on main yet.", &commit[..7])),
        "{none_text}"
    );
    assert!(none_text.contains("Run one: slipway ci run"), "{none_text}");
    let run = slipway(&["ci", "run", "--project", &project], &data_empty)?;
    let run_text = text(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(1),
        "a failed pipeline is exit 1: {run_text} {}",
        text(&run.stderr)
    );
    assert!(
        run_text.contains("workflow build-and-test failed (job test failed)"),
        "{run_text}"
    );
    let started = empty
        .requests
        .lock()
        .map_err(|_| "the stand-in's requests")?
        .iter()
        .any(|request| request.method == "POST" && request.path() == format!("/api/v2/project/{slug}/pipeline"));
    assert!(started, "the pipeline was started on CircleCI");

    // A commit only here: the plan says so and pushes it first, unless told not to.
    std::fs::write(root.join("NOTES.md"), "one more\n")?;
    support::git(&root, &["add", "."])?;
    support::git(&root, &["commit", "-q", "-m", "notes"])?;
    let planned = slipway(&["release", "--project", &project, "--dry-run"], &data_empty)?;
    let planned_text = text(&planned.stdout);
    assert!(
        planned_text.contains("remote  1 commit ahead of origin/main"),
        "{planned_text}"
    );
    assert!(planned_text.contains("git     push main to origin"), "{planned_text}");
    let no_push = slipway(
        &["release", "--project", &project, "--dry-run", "--no-push"],
        &data_empty,
    )?;
    let no_push_text = text(&no_push.stdout);
    assert!(
        no_push_text.contains("git     skipped: Pushing to origin first is off"),
        "{no_push_text}"
    );
    Ok(())
}

/// Issue 29's engine choice: Slipway reaches the engine the docker CLI would, through the
/// contexts `docker context create` and `docker context use` wrote (Docker's own files), and
/// names the context; a context on a dead socket, or one that does not exist, is named in
/// the error. `DOCKER_HOST` still wins, as it does for the docker CLI.
#[test]
fn docker_contexts_are_honoured_and_named() -> TestResult {
    let _environment = test_registry();
    let data = tempfile::tempdir()?;
    let config = tempfile::tempdir()?;
    let engine = std::env::var("DOCKER_HOST")
        .ok()
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned());
    let dead = format!("unix://{}", config.path().join("dead.sock").display());
    let docker = |args: &[&str]| -> Result<(), Box<dyn std::error::Error>> {
        let output = Command::new("docker")
            .args(args)
            .env("DOCKER_CONFIG", config.path())
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .output()?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!("docker {args:?}: {}", text(&output.stderr)).into())
        }
    };
    docker(&["context", "create", "team", "--docker", &format!("host={engine}")])?;
    docker(&["context", "create", "dead", "--docker", &format!("host={dead}")])?;
    docker(&["context", "use", "team"])?;
    let doctor = |context: Option<&str>| -> Result<(Option<i32>, serde_json::Value), Box<dyn std::error::Error>> {
        let mut command = Command::new(slipway_binary());
        command
            .args(["doctor", "--json"])
            .env("SLIPWAY_DATA_DIR", data.path())
            .env("DOCKER_CONFIG", config.path())
            .env_remove("DOCKER_HOST")
            .env_remove("SENTRY_DSN");
        match context {
            Some(name) => command.env("DOCKER_CONTEXT", name),
            None => command.env_remove("DOCKER_CONTEXT"),
        };
        let output = command.output()?;
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        let engine = report["checks"]
            .as_array()
            .and_then(|checks| checks.iter().find(|check| check["id"] == "dockerEngine"))
            .cloned()
            .ok_or("no engine check")?;
        Ok((output.status.code(), engine))
    };

    // The current context (`docker context use team`) reaches the test engine, and says so.
    let (code, engine_check) = doctor(None)?;
    assert_eq!(engine_check["ok"], true, "{engine_check}");
    assert_eq!(code, Some(0));
    let detail = engine_check["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(&format!("{engine} (Docker context team)")), "{detail}");

    // The plan says which engine it builds on.
    let projects = tempfile::tempdir()?;
    let root = support::git_project(projects.path(), "lettings", "main")?;
    let planned = Command::new(slipway_binary())
        .args(["release", "--dry-run", "--project"])
        .arg(&root)
        .env("SLIPWAY_DATA_DIR", data.path())
        .env("DOCKER_CONFIG", config.path())
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env_remove("SENTRY_DSN")
        .output()?;
    let plan_text = text(&planned.stdout);
    assert!(
        plan_text.contains(&format!("engine  {engine} (Docker context team)")),
        "{plan_text}{}",
        text(&planned.stderr)
    );

    // DOCKER_CONTEXT wins over the current one: a dead socket, named.
    let (code, engine_check) = doctor(Some("dead"))?;
    assert_eq!(engine_check["ok"], false, "{engine_check}");
    assert_eq!(code, Some(1));
    let said = engine_check.to_string();
    assert!(
        said.contains("Docker context dead") && said.contains("dead.sock"),
        "{said}"
    );

    // A context that is not there is named, with where to look.
    let (_, engine_check) = doctor(Some("gone"))?;
    assert_eq!(engine_check["ok"], false, "{engine_check}");
    let said = engine_check.to_string();
    assert!(
        said.contains("\\\"gone\\\"") && said.contains("docker context ls"),
        "{said}"
    );
    Ok(())
}
