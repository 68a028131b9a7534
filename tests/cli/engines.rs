//! Issue 29's engines reached otherwise than through this machine's socket: a project's own
//! Docker context over TCP, and an `ssh://` engine through a local sshd.

use std::process::{Command, Output, Stdio};

use super::support::{
    docker_context, engine_over_tcp, engine_socket, free_port, listening, slipway_binary, Started, TestResult,
};
use super::text;

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
            && plan_text.contains("the project's Docker context team is used, as docker --context team would."),
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

/// An sshd of the test's own on 127.0.0.1, with a host key and one authorized key made for
/// the test, and an `ssh` first in `PATH` that reads the test's client config (OpenSSH reads
/// `~/.ssh/config` from the account's home, whatever `HOME` says): the person's own `ssh`,
/// as Slipway runs it.
struct SshServer {
    _sshd: Started,
    port: u16,
    /// `PATH` with the test's `ssh` first.
    path: String,
    _dir: tempfile::TempDir,
}

fn ssh_server() -> Result<SshServer, Box<dyn std::error::Error>> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir()?;
    let at = |name: &str| dir.path().join(name);
    for (key, comment) in [("host_key", "slipway-test-host"), ("id_ed25519", "slipway-test-client")] {
        let made = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
            .arg(at(key))
            .output()?;
        assert!(made.status.success(), "ssh-keygen: {}", text(&made.stderr));
    }
    std::fs::copy(at("id_ed25519.pub"), at("authorized_keys"))?;
    let port = free_port()?;
    // sshd refuses to start without its privilege separation folder (Debian's service makes it).
    std::fs::create_dir_all("/run/sshd")?;
    std::fs::write(
        at("sshd_config"),
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nAuthorizedKeysFile {authorized}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             UsePAM no\nStrictModes no\nPidFile none\nSetEnv DOCKER_HOST=unix://{socket}\n",
            host_key = at("host_key").display(),
            authorized = at("authorized_keys").display(),
            socket = engine_socket(),
        ),
    )?;
    let log = std::fs::File::create(at("sshd.log"))?;
    let sshd = Started(
        Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(at("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?,
    );
    listening(port, "sshd").map_err(|error| {
        format!(
            "{error}: {}",
            std::fs::read_to_string(at("sshd.log")).unwrap_or_default()
        )
    })?;
    let host_key = std::fs::read_to_string(at("host_key.pub"))?;
    std::fs::write(at("known_hosts"), format!("[127.0.0.1]:{port} {host_key}"))?;
    std::fs::write(
        at("ssh_config"),
        format!(
            "Host 127.0.0.1\n  IdentityFile {key}\n  IdentitiesOnly yes\n  UserKnownHostsFile {known}\n  StrictHostKeyChecking yes\n",
            key = at("id_ed25519").display(),
            known = at("known_hosts").display(),
        ),
    )?;
    let bin = at("bin");
    std::fs::create_dir_all(&bin)?;
    let wrapper = bin.join("ssh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec /usr/bin/ssh -F {} \"$@\"\n",
            at("ssh_config").display()
        ),
    )?;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))?;
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    Ok(SshServer {
        _sshd: sshd,
        port,
        path,
        _dir: dir,
    })
}

/// Issue 29's `ssh://` engine: through a local sshd and the person's own `ssh` (a key made for
/// the test), `slipway doctor` reaches the engine and names it; a user the server refuses is
/// said in ssh's own words; a project on that context builds and runs its release there.
#[test]
fn an_ssh_engine_is_reached_with_the_persons_own_ssh_and_builds_a_release() -> TestResult {
    let server = ssh_server()?;
    let config = tempfile::tempdir()?;
    let address = format!("ssh://root@127.0.0.1:{}", server.port);
    docker_context(config.path(), "build", &address)?;
    docker_context(
        config.path(),
        "locked",
        &format!("ssh://nobody-here@127.0.0.1:{}", server.port),
    )?;
    let example = super::example("ssh-context")?;
    let root = example.root.display().to_string();
    // Where Slipway's private socket goes: the test's, so it leaves nothing behind.
    let runtime = tempfile::tempdir()?;
    let slipway = |args: &[&str], context: Option<&str>| -> std::io::Result<Output> {
        let mut command = Command::new(slipway_binary());
        command
            .args(args)
            .env("SLIPWAY_DATA_DIR", &example.data)
            .env("DOCKER_CONFIG", config.path())
            .env("PATH", &server.path)
            .env("XDG_RUNTIME_DIR", runtime.path())
            .env_remove("DOCKER_HOST")
            .env_remove("SENTRY_DSN");
        match context {
            Some(name) => command.env("DOCKER_CONTEXT", name),
            None => command.env_remove("DOCKER_CONTEXT"),
        };
        command.output()
    };
    let engine_check = |context: &str| -> Result<serde_json::Value, Box<dyn std::error::Error>> {
        let output = slipway(&["doctor", "--json"], Some(context))?;
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        report["checks"]
            .as_array()
            .and_then(|checks| checks.iter().find(|check| check["id"] == "dockerEngine"))
            .cloned()
            .ok_or_else(|| "no engine check".into())
    };

    let reached = engine_check("build")?;
    assert_eq!(reached["ok"], true, "{reached}");
    let detail = reached["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(&format!("running at {address} (Docker context build)")),
        "{detail}"
    );

    let refused = engine_check("locked")?;
    assert_eq!(refused["ok"], false, "{refused}");
    let said = refused.to_string();
    assert!(
        said.contains(&format!(
            "ssh could not log in to nobody-here@127.0.0.1:{}: Permission denied (publickey)",
            server.port
        )) && said.contains(&format!(
            "`ssh -p {} nobody-here@127.0.0.1 docker version`",
            server.port
        )),
        "{said}"
    );

    let set = slipway(&["project", "set", "--project", &root, "docker-context", "build"], None)?;
    assert!(set.status.success(), "{}", text(&set.stderr));
    let released = slipway(&["release", "--project", &root, "--target", "local"], None)?;
    let out = text(&released.stdout);
    assert_eq!(released.status.code(), Some(0), "{out}{}", text(&released.stderr));
    assert!(
        out.contains("Released ") && out.contains("→ http://127.0.0.1:"),
        "{out}"
    );

    // The socket ssh is reached through is this user's alone.
    use std::os::unix::fs::PermissionsExt;
    let folder = runtime.path().join("slipway");
    assert_eq!(std::fs::metadata(&folder)?.permissions().mode() & 0o777, 0o700);
    let sockets: Vec<_> = std::fs::read_dir(&folder)?.flatten().collect();
    assert!(!sockets.is_empty(), "a socket per Slipway that used the engine");
    for socket in sockets {
        let mode = socket.metadata()?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", socket.path().display());
    }
    Ok(())
}
