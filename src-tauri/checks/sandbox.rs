//! The sandbox the project's tests, lint and gates run in on Linux, made with bubblewrap
//! (`bwrap`) when it is installed and allowed to make namespaces.
//!
//! Inside, the system is as it is, but the places where the person's secrets live are empty:
//! the runtime folder (the keyring's bus, the SSH agent), `~/.ssh`, `~/.docker`, `~/.config`,
//! the keyrings, the engine's socket, Slipway's data folder (but for the run's virtualenv and
//! scratch folder) and `/tmp` (a session bus or an agent may listen there); the project folder
//! stays writable. The network is shared on purpose: services on 127.0.0.1 (a Postgres the
//! tests use) must answer, so an abstract socket stays reachable; the session buses and
//! agents Slipway knows of listen on paths, which are hidden.
//!
//! A new PID namespace keeps Slipway's own `/proc/<pid>/environ` (its DSN) out of reach, and
//! ends every process inside when its first one ends: with `--die-with-parent`, the SIGTERM
//! and SIGKILL `supervise` sends to bwrap's group end the whole tree, even a daemonised
//! grandchild that left the group. `--new-session` keeps a test from typing into the
//! terminal Slipway runs in.
//!
//! Installs (pip, uv) run outside: pip reads its index credentials from `~/.config/pip` and
//! `~/.netrc`, which the sandbox hides. They still get the built environment.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Folders and files below the home folder where keys and tokens usually live.
const HOME_SECRETS: &[&str] = &[
    ".ssh",
    ".docker",
    ".config",
    ".local/share/keyrings",
    ".local/share/kwalletd",
    ".gnupg",
    ".password-store",
    ".aws",
    ".kube",
    ".netrc",
    ".git-credentials",
    ".pypirc",
];

/// The engine's usual sockets: a client of the engine can read any file through a container.
const ENGINE_SOCKETS: &[&str] = &["/run/docker.sock", "/var/run/docker.sock", "/run/podman/podman.sock"];

/// What every sandbox starts from; the probe runs exactly this.
const BASE: &[&str] = &[
    "--die-with-parent",
    "--unshare-pid",
    "--new-session",
    "--dev-bind",
    "/",
    "/",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
];

/// Whether bubblewrap can make a sandbox on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Ready(PathBuf),
    NotInstalled,
    /// Installed, but it may not make namespaces here (user namespaces turned off, a
    /// container without the rights); the checks run with the built environment only.
    Refused,
}

/// Asked once per process (a few milliseconds): bubblewrap on `PATH`, tried with the options
/// every sandbox uses.
pub fn availability() -> &'static Availability {
    static FOUND: OnceLock<Availability> = OnceLock::new();
    FOUND.get_or_init(probe)
}

#[cfg(target_os = "linux")]
fn probe() -> Availability {
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("bwrap"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let Some(bwrap) = on_path
        .into_iter()
        .chain([PathBuf::from("/usr/bin/bwrap")])
        .find(|candidate| candidate.is_file())
    else {
        return Availability::NotInstalled;
    };
    let tried = std::process::Command::new(&bwrap)
        .args(BASE)
        .arg("true")
        .env_clear()
        .stdin(std::process::Stdio::null())
        .output();
    match tried {
        Ok(output) if output.status.success() => Availability::Ready(bwrap),
        Ok(output) => {
            let said = String::from_utf8_lossy(&output.stderr);
            tracing::warn!(said = %said.trim(), "bubblewrap may not make a sandbox here: the checks run without one");
            Availability::Refused
        }
        Err(error) => {
            tracing::warn!(%error, "bubblewrap could not be started: the checks run without a sandbox");
            Availability::Refused
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn probe() -> Availability {
    Availability::NotInstalled
}

/// What the plan says about where the project's tests run.
pub fn note(enabled: bool) -> String {
    sentence(enabled, availability())
}

fn sentence(enabled: bool, availability: &Availability) -> String {
    const CLEAN_ONLY: &str = "your tests run with a clean environment but can read your files.";
    match (enabled, availability) {
        (false, _) => {
            "Sandbox off in this project's settings: its tests can reach your keyring, ~/.docker and ~/.ssh.".to_owned()
        }
        (true, Availability::Ready(_)) => {
            "Your tests run sandboxed: they cannot see your keyring or your keys.".to_owned()
        }
        (true, Availability::NotInstalled) => format!("bubblewrap is not installed: {CLEAN_ONLY}"),
        (true, Availability::Refused) => {
            format!("bubblewrap may not make a sandbox here (user namespaces are not allowed): {CLEAN_ONLY}")
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Hidden,
    Visible,
}

/// What a sandboxed process sees: the system, without the hidden places, but with the
/// visible ones even inside a hidden one (the virtualenv inside the data folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    places: Vec<(PathBuf, Seen)>,
}

impl Sandbox {
    /// The sandbox of the checks of the project at `root`, whose virtualenv and scratch
    /// folder are `venv` and `scratch`; `parent` is Slipway's own environment, which says
    /// where the home, the runtime folder, the session bus and the agent are.
    pub fn for_checks(
        root: &Path,
        data_dir: &Path,
        venv: &Path,
        scratch: &Path,
        parent: &[(OsString, OsString)],
    ) -> Self {
        let var = |name: &str| {
            parent
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_os_str())
                .filter(|value| !value.is_empty())
        };
        let mut hidden: Vec<PathBuf> = vec![PathBuf::from("/tmp"), data_dir.to_path_buf()];
        #[cfg(unix)]
        hidden.push(PathBuf::from(format!("/run/user/{}", nix::unistd::getuid())));
        hidden.extend(var("XDG_RUNTIME_DIR").map(PathBuf::from));
        hidden.extend(ENGINE_SOCKETS.iter().map(PathBuf::from));
        for name in ["SSH_AUTH_SOCK", "GNOME_KEYRING_CONTROL", "XDG_CONFIG_HOME"] {
            hidden.extend(var(name).map(PathBuf::from));
        }
        hidden.extend(var("XDG_DATA_HOME").map(|data| Path::new(data).join("keyrings")));
        hidden.extend(var("DBUS_SESSION_BUS_ADDRESS").into_iter().flat_map(bus_paths));
        hidden.extend(
            var("DOCKER_HOST")
                .and_then(OsStr::to_str)
                .and_then(|host| host.strip_prefix("unix://"))
                .map(PathBuf::from),
        );
        let mut visible = vec![root.to_path_buf(), venv.to_path_buf(), scratch.to_path_buf()];
        // The interpreter the virtualenv was made from, wherever it is installed.
        visible.extend(base_prefix(venv));
        if let Some(home) = var("HOME").map(PathBuf::from).filter(|home| home.parent().is_some()) {
            hidden.extend(HOME_SECRETS.iter().map(|place| home.join(place)));
            // A home inside `/tmp` (a test's, a CI's) stays.
            visible.push(home);
        }
        let places = hidden
            .into_iter()
            .map(|path| (path, Seen::Hidden))
            .chain(visible.into_iter().map(|path| (path, Seen::Visible)))
            .collect();
        Self { places }
    }

    /// bwrap's options for a run in `cwd`, the places as they are on disk now.
    pub(super) fn arguments(&self, cwd: &Path) -> Vec<OsString> {
        // One rule per real path; when a place is both, it stays visible (the project may
        // live in a hidden folder). A place that is not there has nothing to hide.
        let mut rules: BTreeMap<PathBuf, Seen> = BTreeMap::new();
        for (path, seen) in &self.places {
            let Ok(real) = std::fs::canonicalize(path) else {
                continue;
            };
            let entry = rules.entry(real).or_insert(*seen);
            if *seen == Seen::Visible {
                *entry = Seen::Visible;
            }
        }
        let places: Vec<Place> = rules
            .into_iter()
            .filter(|(path, _)| path.parent().is_some())
            .map(|(path, seen)| Place {
                folder: path.is_dir(),
                path,
                seen,
            })
            .collect();
        let mut arguments: Vec<OsString> = BASE.iter().map(OsString::from).collect();
        arguments.extend(mounts(places));
        arguments.extend(["--chdir".into(), cwd.as_os_str().into(), "--".into()]);
        arguments
    }
}

/// A place as found on disk.
struct Place {
    path: PathBuf,
    seen: Seen,
    folder: bool,
}

/// The mounts for `places` (one per path): each place that changes what its closest
/// enclosing place gives, outermost first, so a visible folder is bound back after the
/// hidden one around it. A hidden folder becomes an empty one, a hidden file or socket
/// `/dev/null`.
fn mounts(mut places: Vec<Place>) -> Vec<OsString> {
    places.sort_by(|one, other| {
        (one.path.components().count(), &one.path).cmp(&(other.path.components().count(), &other.path))
    });
    let mut mounts: Vec<OsString> = Vec::new();
    for place in &places {
        let around = places
            .iter()
            .filter(|outer| outer.path != place.path && place.path.starts_with(&outer.path))
            .max_by_key(|outer| outer.path.components().count())
            .map_or(Seen::Visible, |outer| outer.seen);
        if around == place.seen {
            continue;
        }
        let path = place.path.as_os_str();
        match (place.seen, place.folder) {
            (Seen::Hidden, true) => mounts.extend(["--tmpfs".into(), path.into()]),
            (Seen::Hidden, false) => mounts.extend(["--ro-bind".into(), "/dev/null".into(), path.into()]),
            (Seen::Visible, _) => mounts.extend(["--bind".into(), path.into(), path.into()]),
        }
    }
    mounts
}

/// The socket paths of a D-Bus address (`unix:path=/run/user/1000/bus,guid=…`; several
/// addresses are separated by `;`).
fn bus_paths(address: &OsStr) -> Vec<PathBuf> {
    address
        .to_string_lossy()
        .split(';')
        .filter_map(|one| one.strip_prefix("unix:"))
        .flat_map(|keys| keys.split(','))
        .filter_map(|pair| pair.strip_prefix("path="))
        .map(PathBuf::from)
        .collect()
}

/// The install prefix of the interpreter a virtualenv was made from (`home` in its
/// `pyvenv.cfg` is that interpreter's `bin`).
fn base_prefix(venv: &Path) -> Option<PathBuf> {
    let config = std::fs::read_to_string(venv.join("pyvenv.cfg")).ok()?;
    let home = config.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "home").then(|| PathBuf::from(value.trim()))
    })?;
    home.parent().map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use tokio_util::sync::CancellationToken;

    use crate::checks::process::{supervise, ProcessSpec};

    fn text(arguments: &[OsString]) -> String {
        arguments
            .iter()
            .map(|argument| argument.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn hidden_places_are_emptied_and_the_run_s_own_folders_bound_back() {
        let place = |path: &str, seen: Seen, folder: bool| Place {
            path: PathBuf::from(path),
            seen,
            folder,
        };
        let places = vec![
            place("/tmp/t/data/venvs/p", Seen::Visible, true),
            place("/tmp", Seen::Hidden, true),
            place("/tmp/t/home/.ssh", Seen::Hidden, true),
            place("/tmp/t/home/.netrc", Seen::Hidden, false),
            place("/tmp/t/home", Seen::Visible, true),
            place("/tmp/t/data", Seen::Hidden, true),
            place("/tmp/t/data/scratch/p", Seen::Visible, true),
            place("/tmp/dbus-x", Seen::Hidden, false),
            place("/run/user/1000", Seen::Hidden, true),
            place("/home/ann/code/shop", Seen::Visible, true),
        ];
        let got = text(&mounts(places));
        assert_eq!(
            got,
            "--tmpfs /tmp \
             --tmpfs /run/user/1000 \
             --bind /tmp/t/home /tmp/t/home \
             --ro-bind /dev/null /tmp/t/home/.netrc \
             --tmpfs /tmp/t/home/.ssh \
             --bind /tmp/t/data/scratch/p /tmp/t/data/scratch/p \
             --bind /tmp/t/data/venvs/p /tmp/t/data/venvs/p",
            "the dbus socket in the hidden /tmp, the data folder in it and the project outside \
             any hidden place need no mount of their own"
        );
    }

    #[test]
    fn the_plan_says_what_the_tests_can_reach() {
        let ready = Availability::Ready(PathBuf::from("/usr/bin/bwrap"));
        assert!(sentence(true, &ready).starts_with("Your tests run sandboxed"));
        assert!(sentence(false, &ready).starts_with("Sandbox off in this project's settings"));
        assert_eq!(
            sentence(true, &Availability::NotInstalled),
            "bubblewrap is not installed: your tests run with a clean environment but can read your files."
        );
        assert!(sentence(true, &Availability::Refused).contains("can read your files"));
    }

    #[test]
    fn the_places_follow_the_environment() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let top = dir.path().canonicalize()?;
        let venv = top.join("data/venvs/p");
        std::fs::create_dir_all(&venv)?;
        std::fs::create_dir_all(top.join("python/bin"))?;
        std::fs::write(
            venv.join("pyvenv.cfg"),
            format!("home = {}\n", top.join("python/bin").display()),
        )?;
        let parent = [
            ("HOME", "/home/ann"),
            (
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/run/user/1000/bus,guid=ab;unix:abstract=/tmp/x",
            ),
            ("SSH_AUTH_SOCK", "/tmp/ssh-x/agent.1"),
            ("DOCKER_HOST", "unix:///home/ann/.colima/docker.sock"),
        ]
        .map(|(name, value)| (OsString::from(name), OsString::from(value)));
        let sandbox = Sandbox::for_checks(&top.join("p"), &top.join("data"), &venv, &top.join("s"), &parent);
        let hidden: Vec<&Path> = sandbox
            .places
            .iter()
            .filter(|(_, seen)| *seen == Seen::Hidden)
            .map(|(path, _)| path.as_path())
            .collect();
        for expected in [
            "/tmp",
            "/run/user/1000/bus",
            "/tmp/ssh-x/agent.1",
            "/home/ann/.colima/docker.sock",
            "/home/ann/.docker",
            "/home/ann/.local/share/keyrings",
            "/run/docker.sock",
        ] {
            assert!(
                hidden.contains(&Path::new(expected)),
                "{expected} is not hidden: {hidden:?}"
            );
        }
        assert!(hidden.contains(&top.join("data").as_path()));
        let visible: Vec<PathBuf> = sandbox
            .places
            .iter()
            .filter(|(_, seen)| *seen == Seen::Visible)
            .map(|(path, _)| path.clone())
            .collect();
        assert_eq!(
            visible,
            [
                top.join("p"),
                venv.clone(),
                top.join("s"),
                top.join("python"),
                PathBuf::from("/home/ann")
            ]
        );
        Ok(())
    }

    fn sandboxed(command: &str, cwd: &Path, timeout: Duration) -> ProcessSpec {
        let parent: Vec<(OsString, OsString)> = std::env::vars_os().collect();
        let data = cwd.join("data");
        let sandbox = Sandbox::for_checks(cwd, &data, &data.join("venv"), &data.join("scratch"), &parent);
        ProcessSpec::shell(command, cwd.to_path_buf(), Vec::new(), timeout).in_sandbox(Some(sandbox))
    }

    /// The sandbox's own tests run where bubblewrap works; elsewhere they say so and pass.
    fn ready() -> bool {
        let ready = matches!(availability(), Availability::Ready(_));
        if !ready {
            eprintln!("bubblewrap cannot make a sandbox here: {:?}", availability());
        }
        ready
    }

    #[tokio::test]
    async fn inside_the_data_folder_only_the_run_s_folders_are_seen() -> Result<(), Box<dyn std::error::Error>> {
        if !ready() {
            return Ok(());
        }
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("venv"))?;
        std::fs::create_dir_all(data.join("scratch"))?;
        std::fs::write(data.join("accounts.json"), "{}")?;
        std::fs::write(data.join("venv/here"), "")?;
        let outcome = supervise(
            &sandboxed(
                "ls data; ls data/venv; touch made-inside; echo $$",
                dir.path(),
                Duration::from_secs(20),
            ),
            &CancellationToken::new(),
            &mut |_, _| {},
        )
        .await?;
        assert_eq!(outcome.code, Some(0), "{:?}", outcome.stderr);
        assert_eq!(
            outcome.stdout,
            ["scratch", "venv", "here", "2"],
            "a fresh PID namespace, the data folder emptied"
        );
        assert!(
            dir.path().join("made-inside").is_file(),
            "the project folder is writable"
        );
        Ok(())
    }

    #[tokio::test]
    async fn cancelling_a_sandboxed_run_ends_even_a_process_that_left_the_group(
    ) -> Result<(), Box<dyn std::error::Error>> {
        if !ready() {
            return Ok(());
        }
        let dir = tempfile::tempdir()?;
        let marker = format!("slipway-sandbox-cancel-{}", std::process::id());
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(800)).await;
            trigger.cancel();
        });
        // Two shells named by the marker, one in a session of its own, out of the group.
        let command = format!("setsid sh -c 'sleep 60; : {marker}' & sh -c 'sleep 60; : {marker}' & wait");
        let outcome = supervise(
            &sandboxed(&command, dir.path(), Duration::from_secs(30)),
            &cancel,
            &mut |_, _| {},
        )
        .await?;
        assert!(outcome.cancelled, "{outcome:?}");
        assert!(outcome.elapsed < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let left = std::process::Command::new("pgrep").args(["-f", &marker]).output()?;
        assert!(
            left.stdout.is_empty(),
            "left behind: {}",
            String::from_utf8_lossy(&left.stdout)
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_time_out_ends_a_sandboxed_run() -> Result<(), Box<dyn std::error::Error>> {
        if !ready() {
            return Ok(());
        }
        let dir = tempfile::tempdir()?;
        let outcome = supervise(
            &sandboxed("sleep 30", dir.path(), Duration::from_millis(500)),
            &CancellationToken::new(),
            &mut |_, _| {},
        )
        .await?;
        assert!(outcome.timed_out);
        assert!(outcome.elapsed < Duration::from_secs(10));
        Ok(())
    }
}
