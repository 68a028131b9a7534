//! Issue 29's engines reached otherwise than through this machine's socket: a project's own
//! Docker context over TCP, and an `ssh://` engine through a local sshd.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::support::{slipway_binary, TestResult};
use super::text;

/// A process the test started, killed when the test ends, however it ends.
pub(crate) struct Started(pub Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until something listens on 127.0.0.1:`port`.
pub(crate) fn listening(port: u16, what: &str) -> TestResult {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!("{what} never listened on 127.0.0.1:{port}").into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// The test engine's unix socket (the test environment's `DOCKER_HOST`, else Docker's own).
pub(crate) fn engine_socket() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|host| host.strip_prefix("unix://").map(str::to_owned))
        .unwrap_or_else(|| "/var/run/docker.sock".to_owned())
}

/// The test engine over TCP on 127.0.0.1 (socat in front of its socket), as a team's engine
/// would be reached; the address, and socat, stopped when dropped.
fn engine_over_tcp() -> Result<(Started, String), Box<dyn std::error::Error>> {
    let port = free_port()?;
    let socat = Command::new("socat")
        .arg(format!("TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr"))
        .arg(format!("UNIX-CONNECT:{}", engine_socket()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let socat = Started(socat);
    listening(port, "socat")?;
    Ok((socat, format!("tcp://127.0.0.1:{port}")))
}

/// `docker context create NAME --docker host=HOST` in the Docker config folder `config`.
pub(crate) fn docker_context(config: &Path, name: &str, host: &str) -> TestResult {
    let output = Command::new("docker")
        .args(["context", "create", name, "--docker", &format!("host={host}")])
        .env("DOCKER_CONFIG", config)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("docker context create {name}: {}", text(&output.stderr)).into())
    }
}

/// The project names the context `team`, an engine reached over TCP: its plan names it and
/// says `DOCKER_HOST` (a dead socket here) is passed over, as `docker --context team` would;
/// the release builds and runs there and the app is checked and shown at the engine's host,
/// on a port the engine chose (a TCP engine's ports are never probed here). A context the
/// project names that does not exist blocks the plan, naming those there are.
#[test]
fn a_project_releases_on_its_docker_context_over_tcp_whatever_docker_host_says() -> TestResult {
    let example = super::example("tcp-context")?;
    let (_socat, address) = engine_over_tcp()?;
    let config = tempfile::tempdir()?;
    docker_context(config.path(), "team", &address)?;
    let dead = format!("unix://{}", config.path().join("nobody.sock").display());
    let root = example.root.display().to_string();
    let slipway = |args: &[&str]| -> std::io::Result<Output> {
        Command::new(slipway_binary())
            .args(args)
            .env("SLIPWAY_DATA_DIR", &example.data)
            .env("DOCKER_CONFIG", config.path())
            .env("DOCKER_HOST", &dead)
            .env_remove("DOCKER_CONTEXT")
            .env_remove("SENTRY_DSN")
            .output()
    };
    let set = |value: &str| -> TestResult {
        let output = slipway(&["project", "set", "--project", &root, "docker-context", value])?;
        assert!(output.status.success(), "{}", text(&output.stderr));
        Ok(())
    };

    set("gone")?;
    let planned = slipway(&["release", "--project", &root, "--target", "local", "--dry-run"])?;
    let plan_text = text(&planned.stdout);
    assert_eq!(planned.status.code(), Some(2), "{plan_text}");
    assert!(
        plan_text.contains("blocked: The project builds on the Docker context \"gone\"")
            && plan_text.contains("(default, team;"),
        "{plan_text}"
    );

    set("team")?;
    let shown = slipway(&["project", "show", "--project", &root])?;
    assert!(
        text(&shown.stdout).contains("docker context: team"),
        "{}",
        text(&shown.stdout)
    );
    let planned = slipway(&["release", "--project", &root, "--target", "local", "--dry-run"])?;
    let plan_text = text(&planned.stdout);
    assert_eq!(planned.status.code(), Some(0), "{plan_text}");
    assert!(
        plan_text.contains(&format!("engine  {address} (Docker context team)")),
        "{plan_text}"
    );
    assert!(
        plan_text.contains("warning: DOCKER_HOST is set (")
            && plan_text.contains("the project's Docker context team is used, as `docker --context team` would."),
        "{plan_text}"
    );

    let released = slipway(&["release", "--project", &root, "--target", "local"])?;
    let out = text(&released.stdout);
    assert_eq!(released.status.code(), Some(0), "{out}{}", text(&released.stderr));
    let url = out
        .lines()
        .find_map(|line| line.strip_prefix("Released ").and_then(|rest| rest.split_once(" → ")))
        .map(|(_, url)| url.trim().to_owned())
        .ok_or(format!("no address: {out}"))?;
    let port: u16 = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.trim_end_matches('/').parse().ok())
        .ok_or(format!("the engine's host, 127.0.0.1: {url}"))?;
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        "the app answers at {url}"
    );
    Ok(())
}
