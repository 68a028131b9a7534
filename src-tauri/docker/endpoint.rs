//! Which engine to talk to, chosen as the docker CLI chooses it: `DOCKER_HOST` (with
//! `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`) first, then the context `DOCKER_CONTEXT` names,
//! then the current context of `config.json` (`docker context use`), else the local socket.
//! A context is read from Docker's own files: `contexts/meta/<sha256 of its name>/meta.json`
//! for its address, `contexts/tls/<same>/docker/` for its certificates, under `DOCKER_CONFIG`
//! or `~/.docker`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub(super) const LOCAL_SOCKET: &str = "unix:///var/run/docker.sock";

/// How to reach the engine: its address and, for a remote engine over TLS, the folder with
/// `ca.pem`, `cert.pem` and `key.pem` (Docker's `DOCKER_CERT_PATH` layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineEndpoint {
    pub address: String,
    pub tls_dir: Option<PathBuf>,
    /// The Docker context it comes from; `None` for `DOCKER_HOST` and the local socket.
    pub context: Option<String>,
}

impl EngineEndpoint {
    /// The engine this process uses, as the docker CLI would pick it; a context that is named
    /// but cannot be read is an error saying so.
    pub fn from_env() -> Self {
        resolve(&|name| std::env::var(name).ok(), dirs::home_dir().as_deref()).unwrap_or_else(|why| Self {
            address: why,
            tls_dir: None,
            context: None,
        })
    }

    /// The address as a person reads it: "tcp://10.0.0.5:2376 (Docker context team)".
    /// Credentials in `DOCKER_HOST` are kept here (errors and logs pass the one redactor); what
    /// goes to the window is redacted first.
    pub fn describe(&self) -> String {
        match &self.context {
            Some(context) => format!("{} (Docker context {context})", self.address),
            None => self.address.clone(),
        }
    }
}

/// The endpoint `env` and the Docker config folder under `home` choose; `Err` says why a
/// named context cannot be used (its sentence is shown where an address would be).
pub(super) fn resolve(env: &dyn Fn(&str) -> Option<String>, home: Option<&Path>) -> Result<EngineEndpoint, String> {
    let set = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    if let Some(address) = set("DOCKER_HOST") {
        let tls = set("DOCKER_TLS_VERIFY").is_some_and(|value| value != "0");
        let tls_dir = (tls && !address.starts_with("unix://")).then(|| {
            set("DOCKER_CERT_PATH")
                .map(PathBuf::from)
                .or_else(|| home.map(|home| home.join(".docker")))
                .unwrap_or_default()
        });
        return Ok(EngineEndpoint {
            address,
            tls_dir,
            context: None,
        });
    }
    let local = EngineEndpoint {
        address: LOCAL_SOCKET.to_owned(),
        tls_dir: None,
        context: None,
    };
    let Some(config_dir) = set("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| home.map(|home| home.join(".docker")))
    else {
        return Ok(local);
    };
    let chosen = set("DOCKER_CONTEXT").or_else(|| current_context(&config_dir));
    let Some(name) = chosen.filter(|name| name != "default") else {
        return Ok(local);
    };
    let id: String = Sha256::digest(name.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let meta = config_dir.join("contexts/meta").join(&id).join("meta.json");
    let text = std::fs::read_to_string(&meta).map_err(|_| {
        format!(
            "the Docker context \"{name}\", which is not in {} (see `docker context ls`)",
            config_dir.join("contexts").display()
        )
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|error| {
        format!(
            "the Docker context \"{name}\", whose file {} cannot be read ({error})",
            meta.display()
        )
    })?;
    let address = value["Endpoints"]["docker"]["Host"]
        .as_str()
        .filter(|host| !host.trim().is_empty())
        .ok_or_else(|| format!("the Docker context \"{name}\", which names no engine address"))?
        .to_owned();
    let tls_dir = config_dir.join("contexts/tls").join(&id).join("docker");
    let tls_dir = (!address.starts_with("unix://") && tls_dir.join("ca.pem").is_file()).then_some(tls_dir);
    Ok(EngineEndpoint {
        address,
        tls_dir,
        context: Some(name),
    })
}

/// `currentContext` of `config.json`, as `docker context use` leaves it.
fn current_context(config_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(config_dir.join("config.json")).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["currentContext"]
        .as_str()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Docker config folder with a context `name` for `host`, as `docker context create` writes it.
    fn with_context(config: &Path, name: &str, host: &str, tls: bool) -> std::io::Result<()> {
        let id: String = Sha256::digest(name.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let meta = config.join("contexts/meta").join(&id);
        std::fs::create_dir_all(&meta)?;
        std::fs::write(
            meta.join("meta.json"),
            format!(
                r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
            ),
        )?;
        if tls {
            let certs = config.join("contexts/tls").join(&id).join("docker");
            std::fs::create_dir_all(&certs)?;
            for file in ["ca.pem", "cert.pem", "key.pem"] {
                std::fs::write(certs.join(file), "pem")?;
            }
        }
        Ok(())
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        }
    }

    #[test]
    fn docker_host_wins_then_docker_context_then_the_current_context() -> Result<(), Box<dyn std::error::Error>> {
        let home = tempfile::tempdir()?;
        let config = home.path().join(".docker");
        with_context(&config, "team", "tcp://10.0.0.5:2376", true)?;
        with_context(&config, "laptop", "unix:///run/user/1000/docker.sock", false)?;
        std::fs::write(config.join("config.json"), r#"{"auths":{},"currentContext":"laptop"}"#)?;

        let current = resolve(&env_of(&[]), Some(home.path()))?;
        assert_eq!(current.address, "unix:///run/user/1000/docker.sock");
        assert_eq!(current.context.as_deref(), Some("laptop"));
        assert_eq!(current.tls_dir, None, "a socket needs no certificates");

        let named = resolve(&env_of(&[("DOCKER_CONTEXT", "team")]), Some(home.path()))?;
        assert_eq!(named.address, "tcp://10.0.0.5:2376");
        assert!(named.tls_dir.as_ref().is_some_and(|dir| dir.join("key.pem").is_file()));
        assert_eq!(named.describe(), "tcp://10.0.0.5:2376 (Docker context team)");
        // What the plan shows the window: the one redactor takes a password out of the address.
        let with_password = resolve(&env_of(&[("DOCKER_HOST", "tcp://ann:s3cret-4242@build:2375")]), None)?;
        let shown = crate::secrets::redact(&with_password.describe()).into_owned();
        assert!(
            !shown.contains("s3cret-4242") && shown.contains("build:2375"),
            "{shown}"
        );

        let host = resolve(
            &env_of(&[("DOCKER_HOST", "tcp://build:2375"), ("DOCKER_CONTEXT", "team")]),
            Some(home.path()),
        )?;
        assert_eq!((host.address.as_str(), host.context), ("tcp://build:2375", None));

        let default = resolve(&env_of(&[("DOCKER_CONTEXT", "default")]), Some(home.path()))?;
        assert_eq!(default.address, LOCAL_SOCKET);
        Ok(())
    }

    #[test]
    fn docker_config_moves_the_folder_and_a_missing_context_is_named() -> Result<(), Box<dyn std::error::Error>> {
        let elsewhere = tempfile::tempdir()?;
        with_context(elsewhere.path(), "ci", "tcp://ci:2376", false)?;
        let config = elsewhere.path().display().to_string();
        let found = resolve(&env_of(&[("DOCKER_CONFIG", &config), ("DOCKER_CONTEXT", "ci")]), None)?;
        assert_eq!((found.address.as_str(), found.tls_dir), ("tcp://ci:2376", None));
        let missing = resolve(&env_of(&[("DOCKER_CONFIG", &config), ("DOCKER_CONTEXT", "gone")]), None);
        let why = missing.err().unwrap_or_default();
        assert!(why.contains("\"gone\"") && why.contains("docker context ls"), "{why}");
        let nothing = resolve(&env_of(&[]), None)?;
        assert_eq!(nothing.address, LOCAL_SOCKET, "no home, no config: the local socket");
        Ok(())
    }
}
