//! The project's tests cannot read Slipway's tokens: a fixture test that tries every way in
//! (the Secret Service on each session bus it can find, the data folder's `accounts.json`,
//! `~/.docker/config.json`, `~/.ssh`, its own environment and every process's) finds nothing
//! in the sandbox, and finds them all with the sandbox turned off, so the first finding
//! means something. A service on 127.0.0.1 answers inside.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use slipway::checks::{sandbox_availability, SandboxAvailability};
use slipway::secrets::{Account, SecretStore, Service};

use super::ci_traps::{plan, step};
use super::{run_check, write, Checked};
use crate::support::{slipway_binary, TestResult};

/// The fixture test: records what it could read in `findings.json` (never the values) and
/// passes either way.
const PROBE: &str = r#"import glob, json, os, subprocess

PLANTED = __PLANTED__
DATA = __DATA__
NAMES = ["DBUS_SESSION_BUS_ADDRESS", "SSH_AUTH_SOCK", "XDG_RUNTIME_DIR", "SENTRY_DSN", "GNOME_KEYRING_CONTROL"]


def buses():
    found = [os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")]
    runtime = os.environ.get("XDG_RUNTIME_DIR") or "/run/user/%d" % os.getuid()
    found += ["unix:path=" + path for path in [os.path.join(runtime, "bus")] + glob.glob("/tmp/dbus-*")]
    try:
        with open("/proc/net/unix") as table:
            found += ["unix:abstract=" + line.split()[-1][1:] for line in table if "@/tmp/dbus-" in line]
    except OSError:
        pass
    return [address for address in found if address]


def readable(path):
    try:
        with open(path, errors="replace") as file:
            return file.read()
    except OSError:
        return ""


def keyring(address):
    """What `secret-tool` reads on that bus; tried again when an item went away meanwhile."""
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address)
    for _ in range(5):
        try:
            out = subprocess.run(["secret-tool", "search", "--all", "service", "dev.slipway.app"],
                                 env=env, capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.SubprocessError):
            return ""
        if out.returncode == 0 or "Could not connect" in out.stderr:
            return out.stdout + out.stderr
    return ""


def test_probe():
    found, items = [], set()
    for address in buses():
        said = keyring(address)
        items.update(line for line in said.splitlines() if line.startswith("label = "))
        if any(value in said for value in PLANTED):
            found.append("keyring")
    if readable(os.path.join(DATA, "accounts.json")):
        found.append("accounts.json")
    if any(value in readable(os.path.expanduser("~/.docker/config.json")) for value in PLANTED):
        found.append("docker config")
    if any(value in readable(os.path.expanduser("~/.ssh/id_ed25519")) for value in PLANTED):
        found.append("ssh key")
    for name, value in os.environ.items():
        if name in NAMES or any(planted in value for planted in PLANTED):
            found.append("environment: " + name)
    for environ in glob.glob("/proc/[0-9]*/environ"):
        if any(value in readable(environ) for value in PLANTED):
            found.append("a process's environment")
            break
    with open("findings.json", "w") as out:
        json.dump({"found": sorted(set(found)), "keyringItems": len(items)}, out)
"#;

const SERVICE: &str = r#"import socket

PORT = __PORT__


def test_a_service_on_loopback_answers():
    with socket.create_connection(("127.0.0.1", PORT), timeout=10) as connection:
        connection.sendall(b"ping\n")
        assert connection.makefile().readline() == "pong\n"
"#;

/// Answers `pong` to every line on 127.0.0.1, as a local database would answer its clients.
fn start_service() -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for mut client in listener.incoming().flatten() {
            let mut line = String::new();
            if BufReader::new(&client).read_line(&mut line).is_ok() {
                let _ = client.write_all(b"pong\n");
            }
        }
    });
    Ok(port)
}

const REGISTRY: &str = "registry.sandbox.invalid";

/// Takes the planted login out of the keyring however the test ends.
struct Forget<'a>(&'a SecretStore);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        let _ = self.0.delete(Service::Registry, REGISTRY);
    }
}

/// `slipway project set --project DIR FIELD VALUE`.
fn set(home: &Path, data: &Path, project: &Path, field: &str, value: &str) -> std::io::Result<std::process::Output> {
    Command::new(slipway_binary())
        .args(["project", "set", "--project"])
        .arg(project)
        .args([field, value])
        .env("HOME", home)
        .env("SLIPWAY_DATA_DIR", data)
        .output()
}

/// `slipway check` as a person runs it, Slipway's own environment holding its DSN (and, from
/// the test environment, the session bus address).
fn check(home: &Path, data: &Path, project: &Path, dsn: &str) -> Checked {
    let mut command = Command::new(slipway_binary());
    command
        .env("HOME", home)
        .env("SENTRY_DSN", dsn)
        .env(slipway::checks::UV_VARIABLE, "off");
    run_check(command, project, data)
}

fn findings(project: &Path) -> Result<(Vec<String>, u64), Box<dyn std::error::Error>> {
    let found: Value = serde_json::from_slice(&std::fs::read(project.join("findings.json"))?)?;
    let list = found["found"]
        .as_array()
        .ok_or("no list of findings")?
        .iter()
        .filter_map(|item| item.as_str().map(str::to_owned))
        .collect();
    Ok((list, found["keyringItems"].as_u64().unwrap_or(u64::MAX)))
}

fn tests_step_notes(project: &Path, data: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let plan = plan(project, data, None)?;
    Ok(step(&plan, "tests")
        .map(|tests| tests["notes"].to_string())
        .unwrap_or_default())
}

#[test]
fn the_projects_tests_find_no_token_in_the_sandbox_and_all_of_them_without() -> TestResult {
    if !matches!(sandbox_availability(), SandboxAvailability::Ready(_)) {
        return Err(format!(
            "bubblewrap cannot make a sandbox here ({:?}): run the tests through `scripts/test`, which installs it",
            sandbox_availability()
        )
        .into());
    }
    let marker = format!(
        "{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    );
    let token = format!("planted-registry-token-{marker}");
    let dsn = format!("https://planted-dsn-{marker}@o1.ingest.sentry.invalid/2");
    let ssh = format!("planted-ssh-key-{marker}");
    let docker = format!("planted-docker-auth-{marker}");

    // A home as a person has it: Slipway's data folder in its usual place, keys beside it.
    let outer = tempfile::tempdir()?;
    let home = outer.path().join("home");
    let data = home.join(".local/share/dev.slipway.app");
    std::fs::create_dir_all(&data)?;
    write(
        &home,
        &[
            (
                ".docker/config.json",
                &format!("{{\"auths\": {{\"registry.invalid\": {{\"auth\": \"{docker}\"}}}}}}"),
            ),
            (".ssh/id_ed25519", &ssh),
        ],
    )?;
    let store = SecretStore::os(&data);
    store.save(&Account::new(Service::Registry, REGISTRY, "test"), &token)?;
    let _forget = Forget(&store);

    let project = tempfile::tempdir()?;
    let planted = serde_json::to_string(&[&token, &dsn, &ssh, &docker])?;
    let port = start_service()?;
    write(
        project.path(),
        &[
            ("requirements.txt", "pytest\n"),
            (
                "tests/test_probe.py",
                &PROBE
                    .replace("__PLANTED__", &planted)
                    .replace("__DATA__", &serde_json::to_string(&data)?),
            ),
            ("tests/test_service.py", &SERVICE.replace("__PORT__", &port.to_string())),
        ],
    )?;
    let lint_off = set(&home, &data, project.path(), "lint", "off")?;
    assert!(
        lint_off.status.success(),
        "{}",
        String::from_utf8_lossy(&lint_off.stderr)
    );

    let (code, summary, events) = check(&home, &data, project.path(), &dsn)?;
    assert_eq!(code, 0, "{summary}");
    assert_eq!(
        summary["tests"]["passed"], 2,
        "the probe and the loopback service: {summary}"
    );
    let (found, items) = findings(project.path())?;
    eprintln!("sandboxed: found {found:?}, {items} keyring items");
    assert!(found.is_empty(), "the sandboxed tests read {found:?}");
    assert_eq!(items, 0);
    assert!(
        events
            .iter()
            .any(|event| event["data"]["message"]
                == "Your tests run sandboxed: they cannot see your keyring or your keys."),
        "the run says where the tests ran"
    );
    assert!(tests_step_notes(project.path(), &data)?.contains("Your tests run sandboxed"));

    // The control: the same probe with the sandbox off reads every place it tried.
    let off = set(&home, &data, project.path(), "sandbox", "off")?;
    assert!(off.status.success(), "{}", String::from_utf8_lossy(&off.stderr));
    std::fs::remove_file(project.path().join("findings.json"))?;
    let (code, summary, _) = check(&home, &data, project.path(), &dsn)?;
    assert_eq!(code, 0, "{summary}");
    let (found, items) = findings(project.path())?;
    eprintln!("sandbox off: found {found:?}, {items} keyring items");
    for place in [
        "keyring",
        "accounts.json",
        "docker config",
        "ssh key",
        "a process's environment",
    ] {
        assert!(
            found.iter().any(|item| item == place),
            "{place} not read with the sandbox off: {found:?}"
        );
    }
    assert!(items >= 1);
    // The environment is built either way: nothing of Slipway's own is handed down.
    assert!(!found.iter().any(|item| item.starts_with("environment")), "{found:?}");
    assert!(tests_step_notes(project.path(), &data)?.contains("Sandbox off in this project's settings"));
    Ok(())
}
