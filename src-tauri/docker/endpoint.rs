//! Which engine to talk to, chosen as the docker CLI chooses it: `DOCKER_HOST` (with
//! `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`) first, then the context `DOCKER_CONTEXT` names,
//! then the current context of `config.json` (`docker context use`), else the local socket.
//! A context is read from Docker's own files: `contexts/meta/<sha256 of its name>/meta.json`
//! for its address, `contexts/tls/<same>/docker/` for its certificates, under `DOCKER_CONFIG`
//! or `~/.docker`.
//!
//! A project may name its own context (`docker_context` in its settings): that one wins over
//! `DOCKER_HOST`, `DOCKER_CONTEXT` and the current context, as `docker --context NAME` does.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The engine on this machine when nothing names another, where the Docker CLI looks.
#[cfg(not(windows))]
pub(super) const LOCAL_SOCKET: &str = "unix:///var/run/docker.sock";
#[cfg(windows)]
pub(super) const LOCAL_SOCKET: &str = "npipe:////./pipe/docker_engine";

/// A socket or pipe on this machine: never TLS.
fn is_local(address: &str) -> bool {
    address.starts_with("unix://") || address.starts_with("npipe://")
}

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
        Self::for_project(None).unwrap_or_else(|why| Self {
            address: why,
            tls_dir: None,
            context: None,
        })
    }

    /// The engine a project's releases use: the context the project names (as
    /// `docker --context NAME`, over `DOCKER_HOST` too), else this process's. `Err` says why the
    /// context cannot be used, naming the contexts there are.
    pub fn for_project(context: Option<&str>) -> Result<Self, String> {
        resolve(&|name| std::env::var(name).ok(), dirs::home_dir().as_deref(), context)
    }

    /// The engine's host name or address as its URL writes it (`10.0.0.5`, `build`), `None`
    /// for a socket on this machine.
    fn host(&self) -> Option<&str> {
        let address = self.address.as_str();
        let (scheme, rest) = address.split_once("://")?;
        if matches!(scheme, "unix" | "npipe") {
            return None;
        }
        let authority = rest.split('/').next().unwrap_or_default();
        let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let host = match authority.strip_prefix('[') {
            // An IPv6 address keeps its brackets: it goes into a URL as it is.
            Some(inside) => inside
                .split_once(']')
                .map_or(authority, |(ip, _)| &authority[..ip.len() + 2]),
            None => authority.split(':').next().unwrap_or_default(),
        };
        (!host.is_empty()).then_some(host)
    }

    /// The engine's socket is on this machine, so a port free here is free there. An engine
    /// over TCP may be a tunnel to another machine even at 127.0.0.1: never assumed.
    pub fn on_this_machine(&self) -> bool {
        self.host().is_none()
    }

    /// Where the containers' published ports are reached from here: `127.0.0.1` for an engine
    /// on this machine or on loopback, else the engine's own host (`tcp://10.0.0.5:2376` runs
    /// the app at `http://10.0.0.5:PORT`).
    pub fn app_host(&self) -> String {
        match self.host() {
            None | Some("localhost" | "127.0.0.1" | "[::1]") => "127.0.0.1".to_owned(),
            Some(host) => host.to_owned(),
        }
    }

    /// Whether the app's port is published on the engine's host's loopback only: only when
    /// this machine reaches it there.
    pub fn publishes_on_loopback(&self) -> bool {
        self.app_host() == "127.0.0.1"
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

/// The endpoint `env`, the Docker config folder under `home` and the project's own `context`
/// choose; `Err` says why a named context cannot be used (its sentence is shown where an
/// address would be).
pub(super) fn resolve(
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
    context: Option<&str>,
) -> Result<EngineEndpoint, String> {
    let set = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    let config_dir = set("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| home.map(|home| home.join(".docker")));
    // The project's context, as `--context` on the docker CLI: before `DOCKER_HOST`.
    let project = context
        .map(str::trim)
        .filter(|name| !name.is_empty() && *name != "default");
    if let (Some(name), Some(config_dir)) = (project, &config_dir) {
        return named_context(config_dir, name);
    }
    if let Some(name) = project {
        return Err(format!(
            "the Docker context \"{name}\", which cannot be looked for (no home folder, no DOCKER_CONFIG)"
        ));
    }
    if let Some(address) = set("DOCKER_HOST") {
        let tls = set("DOCKER_TLS_VERIFY").is_some_and(|value| value != "0");
        let tls_dir = (tls && !is_local(&address)).then(|| {
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
    let Some(config_dir) = config_dir else {
        return Ok(local);
    };
    let chosen = set("DOCKER_CONTEXT").or_else(|| current_context(&config_dir));
    match chosen.filter(|name| name != "default") {
        Some(name) => named_context(&config_dir, &name),
        None => Ok(local),
    }
}

/// The context `name` of the Docker config folder `config_dir`.
fn named_context(config_dir: &Path, name: &str) -> Result<EngineEndpoint, String> {
    let id = context_id(name);
    let meta = config_dir.join("contexts/meta").join(&id).join("meta.json");
    let text = std::fs::read_to_string(&meta).map_err(|_| {
        let mut known = context_names(config_dir);
        known.insert(0, "default".to_owned());
        format!(
            "the Docker context \"{name}\", which is not one of this computer's ({}; see `docker context ls`)",
            known.join(", ")
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
    let tls_dir = (!is_local(&address) && tls_dir.join("ca.pem").is_file()).then_some(tls_dir);
    Ok(EngineEndpoint {
        address,
        tls_dir,
        context: Some(name.to_owned()),
    })
}

/// The folder name Docker keeps a context under: the SHA-256 of its name.
fn context_id(name: &str) -> String {
    Sha256::digest(name.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The contexts `docker context create` made in `config_dir`, by name, sorted.
fn context_names(config_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(config_dir.join("contexts/meta")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("meta.json")).ok())
        .filter_map(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .filter_map(|value| value["Name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
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

        let current = resolve(&env_of(&[]), Some(home.path()), None)?;
        assert_eq!(current.address, "unix:///run/user/1000/docker.sock");
        assert_eq!(current.context.as_deref(), Some("laptop"));
        assert_eq!(current.tls_dir, None, "a socket needs no certificates");

        let named = resolve(&env_of(&[("DOCKER_CONTEXT", "team")]), Some(home.path()), None)?;
        assert_eq!(named.address, "tcp://10.0.0.5:2376");
        assert!(named.tls_dir.as_ref().is_some_and(|dir| dir.join("key.pem").is_file()));
        assert_eq!(named.describe(), "tcp://10.0.0.5:2376 (Docker context team)");
        // What the plan shows the window: the one redactor takes a password out of the address.
        let with_password = resolve(
            &env_of(&[("DOCKER_HOST", "tcp://ann:s3cret-4242@build:2375")]),
            None,
            None,
        )?;
        let shown = crate::secrets::redact(&with_password.describe()).into_owned();
        assert!(
            !shown.contains("s3cret-4242") && shown.contains("build:2375"),
            "{shown}"
        );

        let host = resolve(
            &env_of(&[("DOCKER_HOST", "tcp://build:2375"), ("DOCKER_CONTEXT", "team")]),
            Some(home.path()),
            None,
        )?;
        assert_eq!((host.address.as_str(), host.context), ("tcp://build:2375", None));

        let default = resolve(&env_of(&[("DOCKER_CONTEXT", "default")]), Some(home.path()), None)?;
        assert_eq!(default.address, LOCAL_SOCKET);
        Ok(())
    }

    #[test]
    fn docker_config_moves_the_folder_and_a_missing_context_is_named() -> Result<(), Box<dyn std::error::Error>> {
        let elsewhere = tempfile::tempdir()?;
        with_context(elsewhere.path(), "ci", "tcp://ci:2376", false)?;
        let config = elsewhere.path().display().to_string();
        let found = resolve(
            &env_of(&[("DOCKER_CONFIG", &config), ("DOCKER_CONTEXT", "ci")]),
            None,
            None,
        )?;
        assert_eq!((found.address.as_str(), found.tls_dir), ("tcp://ci:2376", None));
        let missing = resolve(
            &env_of(&[("DOCKER_CONFIG", &config), ("DOCKER_CONTEXT", "gone")]),
            None,
            None,
        );
        let why = missing.err().unwrap_or_default();
        assert!(why.contains("\"gone\"") && why.contains("docker context ls"), "{why}");
        let nothing = resolve(&env_of(&[]), None, None)?;
        assert_eq!(nothing.address, LOCAL_SOCKET, "no home, no config: the local socket");
        Ok(())
    }

    #[test]
    fn a_projects_context_wins_as_the_clis_context_flag_and_an_unknown_one_lists_those_there_are(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let home = tempfile::tempdir()?;
        let config = home.path().join(".docker");
        with_context(&config, "team", "tcp://10.0.0.5:2376", false)?;
        with_context(&config, "laptop", "unix:///run/user/1000/docker.sock", false)?;
        std::fs::write(config.join("config.json"), r#"{"currentContext":"laptop"}"#)?;
        let env = env_of(&[("DOCKER_HOST", "tcp://build:2375"), ("DOCKER_CONTEXT", "laptop")]);
        let team = resolve(&env, Some(home.path()), Some("team"))?;
        assert_eq!(
            (team.address.as_str(), team.context.as_deref()),
            ("tcp://10.0.0.5:2376", Some("team"))
        );
        let default = resolve(&env, Some(home.path()), Some("default"))?;
        assert_eq!(
            default.address, "tcp://build:2375",
            "the default context is DOCKER_HOST's"
        );
        let unset = resolve(&env, Some(home.path()), Some(" "))?;
        assert_eq!(unset.address, "tcp://build:2375");
        let why = resolve(&env, Some(home.path()), Some("gone")).err().unwrap_or_default();
        assert!(
            why.contains("\"gone\"") && why.contains("(default, laptop, team;"),
            "{why}"
        );
        Ok(())
    }

    #[test]
    fn the_app_is_reached_at_the_engines_host() {
        let at = |address: &str| EngineEndpoint {
            address: address.to_owned(),
            tls_dir: None,
            context: None,
        };
        let cases = [
            ("unix:///var/run/docker.sock", "127.0.0.1", true),
            ("tcp://127.0.0.1:2375", "127.0.0.1", false),
            ("tcp://localhost:2376", "127.0.0.1", false),
            ("tcp://10.0.0.5:2376", "10.0.0.5", false),
            ("tcp://ann:pw@build.example.org:2376", "build.example.org", false),
            ("ssh://build@10.0.0.5:2222", "10.0.0.5", false),
            ("ssh://build@[fd00::5]:22", "[fd00::5]", false),
        ];
        for (address, host, here) in cases {
            let endpoint = at(address);
            assert_eq!(
                (endpoint.app_host().as_str(), endpoint.on_this_machine()),
                (host, here),
                "{address}"
            );
        }
        assert!(at("tcp://127.0.0.1:2375").publishes_on_loopback());
        assert!(!at("tcp://10.0.0.5:2376").publishes_on_loopback());
    }
}
