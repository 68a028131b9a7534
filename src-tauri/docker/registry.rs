//! Which registry an image goes to, with Docker Hub's many spellings as one.
//!
//! An image name without a registry host means Docker Hub, whose accounts are kept under
//! `docker.io`, whose engine login server is `https://index.docker.io/v1/` and whose API
//! answers at `registry-1.docker.io`. Everything that needs one of those asks this type.

use std::fmt;

use super::reference::ImageReference;

const DOCKER_HUB: &str = "docker.io";

/// A registry host (`host[:port]`), or Docker Hub.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registry {
    host: String,
}

impl Registry {
    pub fn docker_hub() -> Self {
        Self {
            host: DOCKER_HUB.to_owned(),
        }
    }

    /// A registry as a person or a config file names it: `docker.io`, `index.docker.io`,
    /// `https://index.docker.io/v1/` and an empty name are all Docker Hub.
    pub fn named(name: &str) -> Self {
        let host = name
            .trim()
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/');
        match host {
            "" | "docker.io" | "index.docker.io" | "index.docker.io/v1" | "registry-1.docker.io" => Self::docker_hub(),
            other => Self { host: other.to_owned() },
        }
    }

    /// The registry an image name points at (Docker Hub when it names none).
    pub fn of(reference: &ImageReference) -> Self {
        reference.registry.as_deref().map_or_else(Self::docker_hub, Self::named)
    }

    pub fn is_docker_hub(&self) -> bool {
        self.host == DOCKER_HUB
    }

    /// The name accounts are kept under: `docker.io` or the host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The server the engine's login (`POST /auth`, `X-Registry-Auth`) expects.
    pub fn login_server(&self) -> String {
        if self.is_docker_hub() {
            "https://index.docker.io/v1/".to_owned()
        } else {
            self.host.clone()
        }
    }

    /// The registry API's base URL: plain HTTP for this machine's registries, HTTPS elsewhere.
    pub fn api_base(&self) -> String {
        let host = self.host.as_str();
        if self.is_docker_hub() {
            "https://registry-1.docker.io".to_owned()
        } else if host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]") {
            format!("http://{host}")
        } else {
            format!("https://{host}")
        }
    }

    /// `repository` spelled with this registry in front, as Render and `docker pull` take it.
    pub fn qualify(&self, repository: &str) -> String {
        format!("{}/{repository}", self.host)
    }

    /// The prefix an image name needs to go here: none for Docker Hub.
    pub fn name_prefix(&self) -> String {
        if self.is_docker_hub() {
            String::new()
        } else {
            format!("{}/", self.host)
        }
    }
}

impl fmt::Display for Registry {
    /// As a person reads it: "Docker Hub" or the host.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_docker_hub() {
            formatter.write_str("Docker Hub")
        } else {
            formatter.write_str(&self.host)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_has_one_name_whatever_the_spelling() {
        for spelling in [
            "",
            "docker.io",
            "index.docker.io",
            "https://index.docker.io/v1/",
            "registry-1.docker.io",
        ] {
            let registry = Registry::named(spelling);
            assert!(registry.is_docker_hub(), "{spelling}");
            assert_eq!(registry.host(), "docker.io");
            assert_eq!(registry.login_server(), "https://index.docker.io/v1/");
            assert_eq!(registry.api_base(), "https://registry-1.docker.io");
            assert_eq!(registry.to_string(), "Docker Hub");
        }
    }

    #[test]
    fn other_registries_keep_their_host() {
        let local = Registry::named("127.0.0.1:5000");
        assert_eq!(local.api_base(), "http://127.0.0.1:5000");
        assert_eq!(local.login_server(), "127.0.0.1:5000");
        assert_eq!(local.name_prefix(), "127.0.0.1:5000/");
        let ghcr = Registry::named("https://ghcr.io/");
        assert_eq!(ghcr.api_base(), "https://ghcr.io");
        assert_eq!(ghcr.qualify("ann/app"), "ghcr.io/ann/app");
        assert_eq!(Registry::docker_hub().qualify("ann/app"), "docker.io/ann/app");
    }
}
