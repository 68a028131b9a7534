//! Importing the logins `docker login` already made: `auths` entries in
//! `~/.docker/config.json` (base64 `user:token`), and credential helpers (`credsStore`,
//! `credHelpers`) through `docker-credential-<helper> get`. A helper that fails is reported by
//! name at import, not discovered by a failed release later.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::store::Secret;
use crate::redact::register_secret;

#[derive(Deserialize, Default)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(rename = "credHelpers", default)]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    auth: Option<String>,
    identitytoken: Option<String>,
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// One login found.
#[derive(Debug)]
pub struct DockerLogin {
    /// The registry, `docker.io` for Docker Hub.
    pub server: String,
    pub username: String,
    pub secret: Secret,
    /// `config.json`, or the helper's program name.
    pub source: String,
}

/// A login that could not be read, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportProblem {
    pub server: String,
    pub message: String,
}

/// Docker Hub's many spellings as one.
fn normalise(server: &str) -> String {
    crate::docker::Registry::named(server).host().to_owned()
}

/// A login Docker keeps, without its secret: what a window may show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerAccount {
    /// The registry, `docker.io` for Docker Hub.
    pub server: String,
    /// `None` when the helper that keeps it would not list it.
    pub username: Option<String>,
    /// `config.json`, or the helper's program name.
    pub source: String,
}

/// Where one server's login is kept, as Docker itself looks: the server's own credential
/// helper, else the store (`credsStore`), else the config file's own entry. An `auth` the file
/// still holds beside a store (written before the store was set up) is used when the store has
/// none for it.
#[derive(Debug, Clone)]
enum Kept {
    Helper {
        helper: String,
        asked_as: String,
        file_auth: Option<String>,
    },
    File {
        auth: String,
    },
    IdentityToken,
    Malformed,
}

impl Kept {
    fn source(&self) -> String {
        match self {
            Kept::Helper { helper, .. } => format!("docker-credential-{helper}"),
            _ => "config.json".to_owned(),
        }
    }
}

fn read_config(config_dir: &Path) -> Result<Option<ConfigFile>, ImportProblem> {
    let file = config_dir.join("config.json");
    match std::fs::read(&file) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|error| ImportProblem {
            server: String::new(),
            message: format!("{} is not valid JSON: {error}", file.display()),
        }),
        Err(_) => Ok(None),
    }
}

/// Every server's login place, one per server whatever its spelling (Docker Hub has several),
/// the way Docker picks it. With `store_servers`, the servers the store lists are added.
fn kept_logins(config: &ConfigFile, store_servers: &BTreeMap<String, String>) -> BTreeMap<String, Kept> {
    let mut kept = BTreeMap::new();
    for (server, entry) in &config.auths {
        let place = match (
            &config.creds_store,
            entry.auth.as_deref().filter(|auth| !auth.is_empty()),
        ) {
            (Some(store), auth) => Kept::Helper {
                helper: store.clone(),
                asked_as: server.clone(),
                file_auth: auth.filter(|auth| decode_auth(auth).is_some()).map(str::to_owned),
            },
            (None, Some(auth)) if decode_auth(auth).is_some() => Kept::File { auth: auth.to_owned() },
            (None, Some(_)) => Kept::Malformed,
            (None, None) if entry.identitytoken.is_some() => Kept::IdentityToken,
            (None, None) => continue,
        };
        // Two spellings of one registry: Docker's own (`https://index.docker.io/v1/` for
        // Docker Hub) is the one `docker login` keeps up to date.
        let own = crate::docker::Registry::named(server).login_server() == *server;
        match kept.entry(normalise(server)) {
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(place);
            }
            std::collections::btree_map::Entry::Occupied(mut slot) if own => {
                slot.insert(place);
            }
            std::collections::btree_map::Entry::Occupied(_) => {}
        }
    }
    if let Some(store) = &config.creds_store {
        for server in store_servers.keys() {
            kept.entry(normalise(server)).or_insert_with(|| Kept::Helper {
                helper: store.clone(),
                asked_as: server.clone(),
                file_auth: None,
            });
        }
    }
    // A server's own helper goes before everything else.
    for (server, helper) in &config.cred_helpers {
        kept.insert(
            normalise(server),
            Kept::Helper {
                helper: helper.clone(),
                asked_as: server.clone(),
                file_auth: None,
            },
        );
    }
    kept
}

/// The logins Docker keeps in `config_dir` (`~/.docker`, or `DOCKER_CONFIG`), who and where,
/// without asking any helper for a secret: helpers are asked to `list`, which shows names only
/// and prompts for nothing.
pub fn list_docker_logins(config_dir: &Path) -> (Vec<DockerAccount>, Vec<ImportProblem>) {
    let config = match read_config(config_dir) {
        Ok(Some(config)) => config,
        Ok(None) => return (Vec::new(), Vec::new()),
        Err(problem) => return (Vec::new(), vec![problem]),
    };
    // What the store listed, when it could: then a server it does not name has no login there
    // (Docker Desktop leaves empty `auths` entries behind after a logout).
    let store_listed = config.creds_store.as_deref().and_then(|store| list_helper(store).ok());
    let store_servers = store_listed.clone().unwrap_or_default();
    let mut listed: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    if let (Some(store), Some(names)) = (&config.creds_store, &store_listed) {
        listed.insert(store.clone(), names.clone());
    }
    let mut list = |helper: &str| -> BTreeMap<String, String> {
        listed
            .entry(helper.to_owned())
            .or_insert_with(|| {
                list_helper(helper).unwrap_or_else(|message| {
                    tracing::info!(helper, %message, "a credential helper would not list its logins");
                    BTreeMap::new()
                })
            })
            .clone()
    };
    let mut accounts = Vec::new();
    let mut problems = Vec::new();
    for (server, place) in kept_logins(&config, &store_servers) {
        if let (
            Kept::Helper {
                helper,
                file_auth: None,
                ..
            },
            Some(listed),
        ) = (&place, &store_listed)
        {
            let from_store = config.creds_store.as_deref() == Some(helper.as_str())
                && !config.cred_helpers.keys().any(|own| normalise(own) == server);
            if from_store && !listed.keys().any(|known| normalise(known) == server) {
                continue;
            }
        }
        let username = match &place {
            Kept::File { auth } => decode_auth(auth).map(|(username, _)| username),
            Kept::Helper { helper, file_auth, .. } => list(helper)
                .into_iter()
                .find_map(|(listed, username)| (normalise(&listed) == server).then_some(username))
                .or_else(|| file_auth.as_deref().and_then(decode_auth).map(|(username, _)| username)),
            Kept::IdentityToken | Kept::Malformed => {
                problems.push(problem_of(&server, &place));
                continue;
            }
        };
        accounts.push(DockerAccount {
            source: place.source(),
            server,
            username,
        });
    }
    (accounts, problems)
}

fn problem_of(server: &str, place: &Kept) -> ImportProblem {
    let message = match place {
        Kept::IdentityToken => {
            "it uses an identity token (OAuth), which Slipway cannot use: log in with an access token"
        }
        _ => "its auth entry is not base64 of user:token",
    };
    ImportProblem {
        server: server.to_owned(),
        message: message.to_owned(),
    }
}

/// What `docker_login` says of a server Docker keeps no login for.
pub const NO_LOGIN: &str = "Docker keeps no login for it";

/// The login Docker keeps for `server` (any spelling), with its secret: from the file, or
/// asked of its helper (which may prompt the person).
pub fn docker_login(config_dir: &Path, server: &str) -> Result<DockerLogin, ImportProblem> {
    let wanted = normalise(server);
    let missing = || ImportProblem {
        server: wanted.clone(),
        message: NO_LOGIN.to_owned(),
    };
    let config = read_config(config_dir)?.ok_or_else(missing)?;
    let store_servers = match &config.creds_store {
        Some(store) if !config.auths.keys().any(|known| normalise(known) == wanted) => {
            list_helper(store).unwrap_or_default()
        }
        _ => BTreeMap::new(),
    };
    let place = kept_logins(&config, &store_servers)
        .remove(&wanted)
        .ok_or_else(missing)?;
    let mut source = place.source();
    let (username, secret) = match &place {
        Kept::File { auth } => decode_auth(auth).ok_or_else(|| problem_of(&wanted, &place))?,
        Kept::Helper {
            helper,
            asked_as,
            file_auth,
        } => match (ask_helper(helper, asked_as), file_auth.as_deref().and_then(decode_auth)) {
            (Ok(login), _) => login,
            // The store has none for it; the file's own still works.
            (Err(_), Some(login)) => {
                source = "config.json".to_owned();
                login
            }
            (Err(message), None) => {
                return Err(ImportProblem {
                    server: wanted.clone(),
                    message,
                })
            }
        },
        Kept::IdentityToken | Kept::Malformed => return Err(problem_of(&wanted, &place)),
    };
    register_secret(&secret, Some(&username));
    Ok(DockerLogin {
        server: wanted,
        username,
        secret: Secret::new(secret),
        source,
    })
}

/// Every login of the docker config folder `config_dir`, with its secret (`slipway accounts
/// import-docker`).
pub fn import_docker_logins(config_dir: &Path) -> (Vec<DockerLogin>, Vec<ImportProblem>) {
    let (accounts, mut problems) = list_docker_logins(config_dir);
    let mut logins = Vec::new();
    for account in accounts {
        match docker_login(config_dir, &account.server) {
            Ok(login) => logins.push(login),
            Err(problem) => problems.push(problem),
        }
    }
    (logins, problems)
}

fn decode_auth(auth: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(auth.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, secret) = text.split_once(':')?;
    (!user.is_empty() && !secret.is_empty()).then(|| (user.to_owned(), secret.to_owned()))
}

/// How long a credential helper may take to answer.
const HELPER_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

fn ask_helper(helper: &str, server: &str) -> Result<(String, String), String> {
    let program = format!("docker-credential-{helper}");
    let said = run_helper(&program, "get", Some(server), HELPER_WAIT, helper_group())?;
    let answer: HelperAnswer = serde_json::from_slice(&said)
        .map_err(|error| format!("{program} answered something that is not its JSON: {error}"))?;
    Ok((answer.username, answer.secret))
}

/// The servers a helper keeps logins for, with their usernames: no secret, no prompt.
fn list_helper(helper: &str) -> Result<BTreeMap<String, String>, String> {
    let program = format!("docker-credential-{helper}");
    let said = run_helper(&program, "list", None, HELPER_WAIT, helper_group())?;
    serde_json::from_slice(&said).map_err(|error| format!("{program} listed something that is not its JSON: {error}"))
}

/// A helper gets a process group of its own, so one given up is ended with what it started
/// (gpg, pinentry); but not at a terminal, where a helper may ask on it (a background group
/// could not read it) and Ctrl-C must reach it.
fn helper_group() -> bool {
    !std::io::IsTerminal::is_terminal(&std::io::stdin())
}

/// Runs the helper `program` with `action` (`get`, `list`), `input` on its stdin, giving it
/// `wait` to answer (in a group of its own with `own_group`); its output.
fn run_helper(
    program: &str,
    action: &str,
    input: Option<&str>,
    wait: std::time::Duration,
    own_group: bool,
) -> Result<Vec<u8>, String> {
    let mut command = Command::new(program);
    command
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if own_group {
        crate::platform::process::own_group_std(&mut command);
    }
    let mut child = command.spawn().map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => format!("the credential helper {program} is not installed"),
        _ => format!("the credential helper {program} could not start: {error}"),
    })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.unwrap_or_default().as_bytes());
    }
    // A helper may ask the person (a GPG passphrase for `pass`): a minute, then it is given up.
    // Its answer is a few bytes, which the pipe holds until it is read below.
    let deadline = std::time::Instant::now() + wait;
    while child
        .try_wait()
        .map_err(|error| format!("{program} failed: {error}"))?
        .is_none()
    {
        if std::time::Instant::now() > deadline {
            end_group(&mut child, own_group);
            return Err(format!(
                "the credential helper {program} did not answer within {} seconds",
                wait.as_secs_f32()
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = child
        .wait_with_output()
        .map_err(|error| format!("{program} failed: {error}"))?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let said = if said.is_empty() {
            String::from_utf8_lossy(&output.stderr).trim().to_owned()
        } else {
            said
        };
        return Err(format!(
            "the credential helper {program} failed ({}): {said}",
            output.status
        ));
    }
    Ok(output.stdout)
}

/// Ends a helper, and the processes it started when it has a group of its own.
fn end_group(child: &mut std::process::Child, own_group: bool) {
    if own_group {
        use crate::platform::process::{end_group, Ending, Group};
        end_group(Group::led_by(child.id()), Ending::Force);
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_spellings_are_one_server() {
        for server in [
            "https://index.docker.io/v1/",
            "index.docker.io",
            "docker.io",
            "registry-1.docker.io",
        ] {
            assert_eq!(normalise(server), "docker.io", "{server}");
        }
        assert_eq!(normalise("http://127.0.0.1:5000/"), "127.0.0.1:5000");
    }

    #[test]
    fn auth_entries_decode_and_bad_ones_are_named() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let auth = base64::engine::general_purpose::STANDARD.encode("ann:dckr_pat_abc123");
        std::fs::write(
            dir.path().join("config.json"),
            format!(
                r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}},"bad.example.test":{{"auth":"%%%"}}}}}}"#
            ),
        )?;
        let (logins, problems) = import_docker_logins(dir.path());
        assert_eq!(logins.len(), 1);
        assert_eq!(
            (logins[0].server.as_str(), logins[0].username.as_str()),
            ("docker.io", "ann")
        );
        assert_eq!(logins[0].secret.expose(), "dckr_pat_abc123");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].server, "bad.example.test");
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn a_helper_that_does_not_answer_is_given_up_with_what_it_started() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let helper = dir.path().join("docker-credential-slow");
        let child_pid = dir.path().join("child.pid");
        // It starts a child of its own (as `pass` starts gpg), then hangs.
        std::fs::write(
            &helper,
            format!("#!/bin/sh\nsleep 30 &\necho $! > '{}'\nwait\n", child_pid.display()),
        )?;
        std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        let started = std::time::Instant::now();
        let mut said = Err(String::new());
        // Another test's fork may still hold the script open for writing ("Text file busy").
        for _ in 0..20 {
            said = run_helper(
                &helper.display().to_string(),
                "get",
                Some("docker.io"),
                std::time::Duration::from_millis(500),
                true,
            );
            if !said.as_ref().is_err_and(|message| message.contains("Text file busy")) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "killed, not waited for"
        );
        assert_eq!(
            said,
            Err(format!(
                "the credential helper {} did not answer within 0.5 seconds",
                helper.display()
            ))
        );
        let pid: i32 = std::fs::read_to_string(&child_pid)?.trim().parse().unwrap_or(0);
        assert!(pid > 0, "the helper's child was started");
        std::thread::sleep(std::time::Duration::from_millis(100));
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| stat.split_whitespace().nth(2).is_none_or(|state| state != "Z"));
        assert!(!alive, "the helper's child {pid} was ended with it");
        Ok(())
    }

    #[test]
    fn one_login_a_server_as_docker_picks_it() {
        let config: ConfigFile = serde_json::from_str(
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YW5uOnRva2VuMTIz"},"docker.io":{"auth":"Ym9iOnRva2VuNDU2"},
                "ghcr.io":{"auth":"YW5uOnRva2VuMTIz"},"quay.io":{"identitytoken":"x"}},
                "credHelpers":{"ghcr.io":"gh"}}"#,
        )
        .unwrap_or_default();
        let kept = kept_logins(&config, &BTreeMap::new());
        assert_eq!(kept.keys().collect::<Vec<_>>(), ["docker.io", "ghcr.io", "quay.io"]);
        // Two spellings of Docker Hub: one login, Docker's own spelling's.
        assert!(matches!(&kept["docker.io"], Kept::File { auth } if auth == "YW5uOnRva2VuMTIz"));
        // The server's own helper goes before the file's entry.
        assert!(
            matches!(&kept["ghcr.io"], Kept::Helper { helper, asked_as, .. } if helper == "gh" && asked_as == "ghcr.io")
        );
        assert!(matches!(kept["quay.io"], Kept::IdentityToken));

        // With a store, the store keeps them all, and lists the ones the file does not name.
        let stored: ConfigFile =
            serde_json::from_str(r#"{"auths":{"docker.io":{"auth":"YW5uOnRva2VuMTIz"}},"credsStore":"desktop"}"#)
                .unwrap_or_default();
        let listed = BTreeMap::from([("https://registry.example.test".to_owned(), "ann".to_owned())]);
        let kept = kept_logins(&stored, &listed);
        assert!(matches!(&kept["docker.io"], Kept::Helper { helper, .. } if helper == "desktop"));
        assert!(
            matches!(&kept["registry.example.test"], Kept::Helper { asked_as, .. } if asked_as == "https://registry.example.test")
        );
    }

    #[test]
    fn listing_shows_who_without_a_secret() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let auth = base64::engine::general_purpose::STANDARD.encode("ann:dckr_pat_listed_only");
        std::fs::write(
            dir.path().join("config.json"),
            format!(
                r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}},"quay.io":{{"identitytoken":"x"}}}}}}"#
            ),
        )?;
        let (accounts, problems) = list_docker_logins(dir.path());
        assert_eq!(
            accounts,
            [DockerAccount {
                server: "docker.io".to_owned(),
                username: Some("ann".to_owned()),
                source: "config.json".to_owned(),
            }]
        );
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.starts_with("it uses an identity token"));
        let login = docker_login(dir.path(), "https://index.docker.io/v1/")
            .map_err(|problem| std::io::Error::other(problem.message))?;
        assert_eq!(login.secret.expose(), "dckr_pat_listed_only");
        assert!(docker_login(dir.path(), "ghcr.io").is_err_and(|problem| problem.message == NO_LOGIN));
        Ok(())
    }

    #[test]
    fn a_missing_helper_is_named() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{"ghcr.io":{}},"credsStore":"slipway-none"}"#,
        )?;
        let (logins, problems) = import_docker_logins(dir.path());
        assert!(logins.is_empty());
        assert_eq!(
            problems[0].message,
            "the credential helper docker-credential-slipway-none is not installed"
        );
        Ok(())
    }
}
