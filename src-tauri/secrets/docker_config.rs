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

/// Reads the logins of the docker config folder `config_dir` (`~/.docker`, or `DOCKER_CONFIG`).
pub fn import_docker_logins(config_dir: &Path) -> (Vec<DockerLogin>, Vec<ImportProblem>) {
    let file = config_dir.join("config.json");
    let config: ConfigFile = match std::fs::read(&file) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(config) => config,
            Err(error) => {
                return (
                    Vec::new(),
                    vec![ImportProblem {
                        server: String::new(),
                        message: format!("{} is not valid JSON: {error}", file.display()),
                    }],
                )
            }
        },
        Err(_) => return (Vec::new(), Vec::new()),
    };
    let mut logins = Vec::new();
    let mut problems = Vec::new();
    let mut helpers: BTreeMap<String, String> = config.cred_helpers.clone();
    for (server, entry) in &config.auths {
        if let Some(auth) = entry.auth.as_deref().filter(|auth| !auth.is_empty()) {
            match decode_auth(auth) {
                Some((username, secret)) => {
                    register_secret(&secret, Some(&username));
                    logins.push(DockerLogin {
                        server: normalise(server),
                        username,
                        secret: Secret::new(secret),
                        source: "config.json".to_owned(),
                    });
                }
                None => problems.push(ImportProblem {
                    server: normalise(server),
                    message: "its auth entry is not base64 of user:token".to_owned(),
                }),
            }
        } else if entry.identitytoken.is_some() {
            problems.push(ImportProblem {
                server: normalise(server),
                message: "it uses an identity token (OAuth), which Slipway cannot use: log in with an access token"
                    .to_owned(),
            });
        } else if let Some(store) = &config.creds_store {
            helpers.entry(server.clone()).or_insert_with(|| store.clone());
        }
    }
    for (server, helper) in helpers {
        match ask_helper(&helper, &server) {
            Ok((username, secret)) => {
                register_secret(&secret, Some(&username));
                logins.push(DockerLogin {
                    server: normalise(&server),
                    username,
                    secret: Secret::new(secret),
                    source: format!("docker-credential-{helper}"),
                });
            }
            Err(message) => problems.push(ImportProblem {
                server: normalise(&server),
                message,
            }),
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
    ask_program(&format!("docker-credential-{helper}"), server, HELPER_WAIT)
}

/// Asks the helper `program` for `server`'s login, giving it `wait` to answer.
fn ask_program(program: &str, server: &str, wait: std::time::Duration) -> Result<(String, String), String> {
    let mut child = Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => format!("the credential helper {program} is not installed"),
            _ => format!("the credential helper {program} could not start: {error}"),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
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
            let _ = child.kill();
            let _ = child.wait();
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
    let answer: HelperAnswer = serde_json::from_slice(&output.stdout)
        .map_err(|error| format!("{program} answered something that is not its JSON: {error}"))?;
    Ok((answer.username, answer.secret))
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

    #[test]
    fn a_helper_that_does_not_answer_is_given_up() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let helper = dir.path().join("docker-credential-slow");
        std::fs::write(&helper, "#!/bin/sh\nsleep 30\n")?;
        std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        let started = std::time::Instant::now();
        let said = ask_program(
            &helper.display().to_string(),
            "docker.io",
            std::time::Duration::from_millis(300),
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "killed, not waited for"
        );
        assert_eq!(
            said,
            Err(format!(
                "the credential helper {} did not answer within 0.3 seconds",
                helper.display()
            ))
        );
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
