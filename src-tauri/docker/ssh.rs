//! `ssh://user@host[:port]` engines, reached the way the docker CLI reaches them: the system
//! `ssh` runs `docker system dial-stdio` on the engine's machine, and the engine's API is
//! spoken over that command's standard input and output.
//!
//! bollard (and the push's own HTTP client) speak to a unix socket, so Slipway listens on a
//! private one, `ssh-<address hash>-<pid>.sock` (mode 0600, in a 0700 folder of the runtime
//! dir), and for each connection made to it starts one `ssh` and pipes both ways. `ssh` runs
//! with `BatchMode=yes`: never a password or host-key prompt, only the person's own keys, agent
//! and `~/.ssh/config`. What `ssh` says on its error stream when it fails ("Permission denied
//! (publickey)") is kept per address and becomes the error a person reads.
//!
//! bollard's own `ssh` feature is not used: it failed to reach engines on ports other than 22,
//! and it does not read the person's ssh config as the `ssh` command does.
//!
//! One listener per address for the life of the process, on threads of its own, so it
//! outlives whichever async runtime first asked for it (the CLI's, or one test's). Unix only:
//! elsewhere `local_socket` refuses in words.
#![cfg_attr(not(unix), allow(dead_code, unused_imports))]

use std::collections::HashMap;
use std::io::{Read, Write};
#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
#[cfg(unix)]
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use super::DockerError;

/// Where an `ssh://` address leads: `ssh [-l user] [-p port] host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SshTarget {
    user: Option<String>,
    host: String,
    port: Option<u16>,
}

impl SshTarget {
    /// `ssh://build@10.0.0.5:2222` (a path after the host is ignored, as the docker CLI refuses
    /// one); `None` for any other address.
    pub(super) fn parse(address: &str) -> Option<Self> {
        let rest = address.strip_prefix("ssh://")?;
        let authority = rest.split('/').next().unwrap_or_default();
        let (user, host_port) = match authority.rsplit_once('@') {
            Some((user, host)) => (Some(user.to_owned()).filter(|user| !user.is_empty()), host),
            None => (None, authority),
        };
        let (host, port) = match host_port.strip_prefix('[') {
            // `[fd00::5]:2222`: ssh takes the address without its brackets.
            Some(inside) => {
                let (host, after) = inside.split_once(']')?;
                (host, after.strip_prefix(':'))
            }
            None => match host_port.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            },
        };
        let port = match port {
            Some(port) => Some(port.parse().ok()?),
            None => None,
        };
        (!host.is_empty()).then(|| Self {
            user,
            host: host.to_owned(),
            port,
        })
    }

    /// `build@10.0.0.5:2222`, as errors name it.
    pub(super) fn describe(&self) -> String {
        let user = self.user.as_deref().map(|user| format!("{user}@")).unwrap_or_default();
        let port = self.port.map(|port| format!(":{port}")).unwrap_or_default();
        format!("{user}{}{port}", self.host)
    }

    /// What to type to see for oneself: `ssh -p 2222 build@10.0.0.5 docker version`.
    fn try_it(&self) -> String {
        let port = self.port.map(|port| format!("-p {port} ")).unwrap_or_default();
        let user = self.user.as_deref().map(|user| format!("{user}@")).unwrap_or_default();
        format!("ssh {port}{user}{} docker version", self.host)
    }

    /// The command the docker CLI runs for this engine, with no prompt ever.
    fn command(&self) -> Command {
        let mut command = Command::new("ssh");
        command.args(["-o", "BatchMode=yes", "-o", "ConnectTimeout=30", "-T"]);
        if let Some(user) = &self.user {
            command.args(["-l", user]);
        }
        if let Some(port) = self.port {
            command.args(["-p", &port.to_string()]);
        }
        command
            .arg("--")
            .arg(&self.host)
            .args(["docker", "system", "dial-stdio"]);
        command
    }
}

#[cfg(unix)]
/// A listener started for one address, and what `ssh` last said when it failed there.
struct Bridge {
    socket: PathBuf,
    failure: Arc<Mutex<Option<String>>>,
}

#[cfg(unix)]
fn bridges() -> &'static Mutex<HashMap<String, Bridge>> {
    static BRIDGES: OnceLock<Mutex<HashMap<String, Bridge>>> = OnceLock::new();
    BRIDGES.get_or_init(Mutex::default)
}

#[cfg(unix)]
/// The unix socket that reaches the `ssh://` engine at `address`, listening from the first call.
pub(super) fn local_socket(address: &str) -> Result<PathBuf, DockerError> {
    let target = SshTarget::parse(address).ok_or_else(|| DockerError::Unreachable {
        address: address.to_owned(),
        reason: "the address reads ssh://user@host or ssh://user@host:port".to_owned(),
    })?;
    let mut bridges = bridges()
        .lock()
        .map_err(|_| DockerError::Engine("the ssh bridge is unusable".to_owned()))?;
    if let Some(bridge) = bridges.get(address) {
        return Ok(bridge.socket.clone());
    }
    let folder = private_folder().map_err(|error| DockerError::Unreachable {
        address: address.to_owned(),
        reason: format!("Slipway's folder for the ssh connection could not be made: {error}"),
    })?;
    let digest = Sha256::digest(address.as_bytes());
    let id: String = digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect();
    let socket = folder.join(format!("ssh-{id}-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&socket);
    let listener = UnixListener::bind(&socket)
        .and_then(|listener| {
            std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))?;
            Ok(listener)
        })
        .map_err(|error| DockerError::Unreachable {
            address: address.to_owned(),
            reason: format!("Slipway could not listen on {}: {error}", socket.display()),
        })?;
    let failure = Arc::new(Mutex::new(None));
    let kept = failure.clone();
    std::thread::Builder::new()
        .name("ssh-engine".to_owned())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let (target, failure) = (target.clone(), kept.clone());
                let _ = std::thread::Builder::new()
                    .name("ssh-dial".to_owned())
                    .spawn(move || dial(stream, &target, &failure));
            }
        })
        .map_err(|error| DockerError::Engine(format!("the ssh bridge could not start: {error}")))?;
    bridges.insert(
        address.to_owned(),
        Bridge {
            socket: socket.clone(),
            failure,
        },
    );
    Ok(socket)
}

#[cfg(unix)]
/// What `ssh` said the last time it failed for `address`, as the error a person reads; `None`
/// when it has not failed (or answered since).
pub(super) fn failure(address: &str) -> Option<DockerError> {
    let target = SshTarget::parse(address)?;
    let bridges = bridges().lock().ok()?;
    let said = bridges.get(address)?.failure.lock().ok()?.clone()?;
    Some(DockerError::Ssh {
        target: target.describe(),
        message: said,
        try_it: target.try_it(),
    })
}

/// Without unix sockets (Windows) there is no bridge for bollard to dial: an `ssh://` engine
/// is refused in words, and the Docker CLI's own context works there instead.
#[cfg(not(unix))]
pub(super) fn local_socket(address: &str) -> Result<PathBuf, DockerError> {
    Err(DockerError::Unreachable {
        address: address.to_owned(),
        reason: "an ssh:// engine is reached through a unix socket, which this system lacks; \
                 use a tcp:// context with TLS instead"
            .to_owned(),
    })
}

#[cfg(not(unix))]
pub(super) fn failure(_address: &str) -> Option<DockerError> {
    None
}

/// ssh's failure as a sentence: a refused login said as one.
pub(super) fn sentence(target: &str, message: &str) -> String {
    if message.contains("Permission denied") {
        format!("ssh could not log in to {target}: {message}")
    } else {
        format!("ssh could not reach the Docker Engine on {target}: {message}")
    }
}

#[cfg(unix)]
/// One connection: `ssh … docker system dial-stdio`, piped both ways until either side ends.
/// Its failure is kept before the connection closes, so whoever sees the closed connection
/// finds why.
fn dial(stream: UnixStream, target: &SshTarget, failure: &Mutex<Option<String>>) {
    let keep = |said: Option<String>| {
        if let Ok(mut kept) = failure.lock() {
            *kept = said;
        }
    };
    let spawned = target
        .command()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) => {
            keep(Some(format!("the ssh command could not be run ({error})")));
            return;
        }
    };
    let (Some(mut to_ssh), Some(mut from_ssh), Some(mut said), Ok(mut from_client), Ok(mut to_client)) = (
        child.stdin.take(),
        child.stdout.take(),
        child.stderr.take(),
        stream.try_clone(),
        stream.try_clone(),
    ) else {
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    // The client's bytes to ssh; its end closes ssh's input, which ends dial-stdio.
    let _ = std::thread::Builder::new().name("ssh-in".to_owned()).spawn(move || {
        pump(&mut from_client, &mut to_ssh);
    });
    let errors = std::thread::Builder::new().name("ssh-err".to_owned()).spawn(move || {
        let mut text = String::new();
        let _ = said.read_to_string(&mut text);
        text
    });
    pump(&mut from_ssh, &mut to_client);
    let status = child.wait();
    let text = errors.ok().and_then(|errors| errors.join().ok()).unwrap_or_default();
    match status {
        Ok(status) if status.success() => keep(None),
        Ok(status) => keep(Some(
            plain_words(&text).unwrap_or_else(|| format!("ssh ended with {status}")),
        )),
        Err(error) => keep(Some(format!("ssh could not be waited for ({error})"))),
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// Copies until `from` ends or `to` is gone, each piece as soon as it is read. Not
/// `std::io::copy`: on Linux it splices a socket into ssh's input pipe, and ssh was seen not to
/// read what was spliced there until the client hung up (the engine's answer then never came).
fn pump(from: &mut impl Read, to: &mut impl Write) {
    let mut buffer = vec![0_u8; 64 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) => return,
            Ok(read) => {
                if to.write_all(&buffer[..read]).and_then(|()| to.flush()).is_err() {
                    return;
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// The line of ssh's error stream that says what went wrong, without the `user@host: ` that
/// ssh puts before it (the error names the target already).
fn plain_words(said: &str) -> Option<String> {
    let line = said
        .lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty() && !line.starts_with("Warning: Permanently added"))?;
    let line = match line.split_once(": ") {
        Some((before, after)) if !before.contains(' ') => after,
        _ => line,
    };
    Some(line.trim_end_matches('.').to_owned())
}

#[cfg(unix)]
/// `$XDG_RUNTIME_DIR/slipway`, else `slipway-<uid>` in the temporary folder: 0700, this user's,
/// with the sockets of Slipway processes that ended removed.
fn private_folder() -> std::io::Result<PathBuf> {
    let folder = match dirs::runtime_dir() {
        Some(runtime) => runtime.join("slipway"),
        None => std::env::temp_dir().join(format!("slipway-{}", nix::unistd::getuid())),
    };
    match std::fs::DirBuilder::new().mode(0o700).create(&folder) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            // Someone else's folder of that name (in a shared /tmp) is never used.
            use std::os::unix::fs::MetadataExt;
            let metadata = std::fs::symlink_metadata(&folder)?;
            if !metadata.is_dir() || metadata.uid() != nix::unistd::getuid().as_raw() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("{} belongs to another user", folder.display()),
                ));
            }
            std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700))?;
        }
        Err(error) => return Err(error),
    }
    remove_ended(&folder);
    Ok(folder)
}

#[cfg(unix)]
/// The sockets whose Slipway process has ended.
fn remove_ended(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_suffix(".sock")
            .and_then(|stem| stem.rsplit_once('-'))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let ended = !crate::platform::process::is_running(pid);
        if ended {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_addresses_read_as_the_docker_cli_reads_them() {
        let parsed = SshTarget::parse("ssh://build@10.0.0.5:2222");
        assert_eq!(
            parsed,
            Some(SshTarget {
                user: Some("build".to_owned()),
                host: "10.0.0.5".to_owned(),
                port: Some(2222)
            })
        );
        let plain = SshTarget::parse("ssh://build.example.org").map(|target| target.describe());
        assert_eq!(plain.as_deref(), Some("build.example.org"));
        let v6 = SshTarget::parse("ssh://ann@[fd00::5]:22").map(|target| (target.host, target.port));
        assert_eq!(v6, Some(("fd00::5".to_owned(), Some(22))));
        assert_eq!(SshTarget::parse("ssh://build@host:port"), None);
        let try_it = SshTarget::parse("ssh://build@10.0.0.5:2222").map(|target| target.try_it());
        assert_eq!(try_it.as_deref(), Some("ssh -p 2222 build@10.0.0.5 docker version"));
        assert_eq!(SshTarget::parse("tcp://10.0.0.5:2376"), None);
        let args: Vec<String> = SshTarget::parse("ssh://build@10.0.0.5:2222")
            .map(|target| target.command())
            .map(|command| {
                command
                    .get_args()
                    .map(|arg| arg.to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            args.join(" "),
            "-o BatchMode=yes -o ConnectTimeout=30 -T -l build -p 2222 -- 10.0.0.5 docker system dial-stdio"
        );
    }

    #[test]
    fn ssh_s_complaint_is_kept_without_its_prefix() {
        assert_eq!(
            plain_words("Warning: Permanently added '[127.0.0.1]:2222' (ED25519) to the list of known hosts.\r\nbuild@127.0.0.1: Permission denied (publickey).\n")
                .as_deref(),
            Some("Permission denied (publickey)")
        );
        assert_eq!(
            plain_words("ssh: connect to host 10.0.0.5 port 2222: Connection refused\n").as_deref(),
            Some("connect to host 10.0.0.5 port 2222: Connection refused")
        );
        assert_eq!(plain_words("\n"), None);
    }
}
