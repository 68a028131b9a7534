//! The Docker Engine room: a bollard client and what Slipway asks of the engine.
//!
//! The client honours `DOCKER_HOST` (a unix socket by default) and negotiates the API
//! version, so Debian's engine 20.10 (API 1.41) and newer engines both work. Every engine
//! error is folded here into [`DockerError`], which knows the hint a person needs.

use std::time::Duration;

use bollard::Docker;

use crate::error::{AppError, ErrorKind};

/// How long a quick question to the engine may take before it counts as not answering.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(5);

mod build;
mod buildkit;
mod container;
mod context;
mod engine_http;
mod local_images;
mod push;
mod reference;
mod registry;

pub use build::{build, needs_buildkit, tag, BuildRequest, DockerEvent, DockerSink};
pub use container::{
    container_logs, project_containers, remove_container, replace_and_run, running_release, RunRequest,
    RunningContainer, PROJECT_LABEL, RELEASE_LABEL,
};
pub use context::{
    plan_context, stream_context, ContextFile, ContextPlan, ContextSummary, IgnoreRules, LARGE_CONTEXT_BYTES,
};
pub use local_images::{local_images, remove, retag, LocalImage};
pub use push::{engine_login, push, RegistryCredentials};
pub use reference::{parse_reference, split_registry, ImageReference};
pub use registry::Registry;

#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("no Docker Engine answers at {address}: {reason}")]
    Unreachable { address: String, reason: String },
    #[error("permission denied on the Docker socket {address}")]
    PermissionDenied { address: String },
    #[error("the Docker Engine at {address} did not answer within {seconds} s")]
    Timeout { address: String, seconds: u64 },
    #[error("the image name is not valid: {0}")]
    InvalidReference(String),
    #[error("the build context could not be read: {0}")]
    Context(String),
    #[error("the base image {image} could not be pulled: {message}")]
    BaseImage { image: String, message: String },
    #[error("the build failed at {step}: {message}")]
    BuildFailed { step: String, message: String },
    #[error("{registry} refused the login: {message}")]
    RegistryAuth { registry: String, message: String },
    #[error("{registry} refused the push: {message}")]
    RegistryDenied { registry: String, message: String },
    #[error("{registry} could not be reached: {message}")]
    RegistryUnreachable { registry: String, message: String },
    #[error("the disk is full: {0}")]
    DiskFull(String),
    #[error("the Docker Engine answered with an error: {0}")]
    Engine(String),
    #[error("the image is used by a container: {0}")]
    InUse(String),
    #[error("no such image: {0}")]
    NoSuchImage(String),
    #[error("cancelled")]
    Cancelled,
}

impl From<DockerError> for AppError {
    fn from(error: DockerError) -> Self {
        let (kind, hint) = match &error {
            DockerError::Unreachable { .. } | DockerError::Timeout { .. } => (
                ErrorKind::DockerUnavailable,
                "Start the Docker Engine (Linux: `sudo systemctl start docker`; macOS and Windows: open Docker Desktop), then try again. To use another engine, set DOCKER_HOST.",
            ),
            DockerError::PermissionDenied { .. } => (
                ErrorKind::DockerUnavailable,
                "Allow your user to use Docker: `sudo usermod -aG docker $USER`, then log out and back in.",
            ),
            DockerError::InvalidReference(_) => (ErrorKind::Validation, "Correct the image name in the project's settings."),
            DockerError::Context(_) => (ErrorKind::Io, "Check the Dockerfile path and that the project's files can be read."),
            DockerError::BaseImage { .. } => (
                ErrorKind::Precondition,
                "Check the FROM line: the image name, that you are online, and that your account may pull it (docker login).",
            ),
            DockerError::BuildFailed { .. } => (ErrorKind::Precondition, "Fix the failing Dockerfile step (its output is above), then build again."),
            DockerError::RegistryAuth { .. } => (ErrorKind::RegistryAuth, "Re-enter the registry username and access token in Settings."),
            DockerError::RegistryDenied { .. } => (
                ErrorKind::RegistryDenied,
                "Use an access token with Read & Write permission, and check the repository belongs to that account.",
            ),
            DockerError::RegistryUnreachable { .. } => (ErrorKind::Network, "Check the registry address and your connection, then push again."),
            DockerError::DiskFull(_) => (ErrorKind::Io, "Free disk space (for example `docker system prune`), then try again."),
            DockerError::Engine(_) => (ErrorKind::Unknown, "Try again; the log folder has the engine's full answer."),
            DockerError::InUse(_) => (
                ErrorKind::Precondition,
                "Stop and remove the container that uses it (docker ps -a shows it), then remove the image.",
            ),
            DockerError::NoSuchImage(_) => (ErrorKind::NotFound, "Refresh the list: the image is already gone."),
            DockerError::Cancelled => (ErrorKind::Cancelled, "Run it again when you are ready."),
        };
        AppError::new(kind, error.to_string(), hint)
    }
}

/// The engine's version, as `doctor` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineVersion {
    pub version: String,
    pub api_version: String,
}

/// How to reach the engine: its address and, for a remote engine over TLS, the folder with
/// `ca.pem`, `cert.pem` and `key.pem` (Docker's `DOCKER_CERT_PATH` layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineEndpoint {
    pub address: String,
    pub tls_dir: Option<std::path::PathBuf>,
}

impl EngineEndpoint {
    /// From `DOCKER_HOST`, `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`, as the docker CLI reads them.
    pub fn from_env() -> Self {
        let address = engine_address();
        let tls = std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|value| !value.is_empty() && value != "0");
        let tls_dir = (tls && !address.starts_with("unix://")).then(|| {
            std::env::var_os("DOCKER_CERT_PATH")
                .map(std::path::PathBuf::from)
                .or_else(|| dirs::home_dir().map(|home| home.join(".docker")))
                .unwrap_or_default()
        });
        Self { address, tls_dir }
    }
}

/// Where the engine is expected, as a person would write it.
pub fn engine_address() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned())
}

/// Connects to the engine named by `DOCKER_HOST` (or the default socket), over TLS when
/// `DOCKER_TLS_VERIFY` is set. Connecting does not talk to the engine yet; the first call does.
pub fn connect() -> Result<Docker, DockerError> {
    Docker::connect_with_defaults().map_err(|error| classify(&error, &engine_address()))
}

/// Asks the engine for its version, which also proves it answers.
pub async fn engine_version() -> Result<EngineVersion, DockerError> {
    let address = engine_address();
    let docker = connect()?;
    let version = tokio::time::timeout(ENGINE_TIMEOUT, docker.version())
        .await
        .map_err(|_| DockerError::Timeout {
            address: address.clone(),
            seconds: ENGINE_TIMEOUT.as_secs(),
        })?
        .map_err(|error| classify(&error, &address))?;
    Ok(EngineVersion {
        version: version.version.unwrap_or_else(|| "unknown".to_owned()),
        api_version: version.api_version.unwrap_or_else(|| "unknown".to_owned()),
    })
}

pub(crate) fn classify(error: &bollard::errors::Error, address: &str) -> DockerError {
    let text = error_chain(error);
    if text.to_lowercase().contains("permission denied") {
        DockerError::PermissionDenied {
            address: address.to_owned(),
        }
    } else {
        DockerError::Unreachable {
            address: address.to_owned(),
            reason: plain_reason(&text),
        }
    }
}

/// bollard's errors wrap the interesting cause (ENOENT, ECONNREFUSED) a few levels down.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    parts.join(": ")
}

pub(crate) fn plain_reason(chain: &str) -> String {
    let lower = chain.to_lowercase();
    if lower.contains("no such file") || lower.contains("not found") {
        "the socket does not exist (the engine is not running)".to_owned()
    } else if lower.contains("connection refused") {
        "the connection was refused (the engine is not running)".to_owned()
    } else {
        chain.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_errors_read_as_plain_words() {
        assert_eq!(
            plain_reason("error trying to connect: No such file or directory (os error 2)"),
            "the socket does not exist (the engine is not running)"
        );
        assert!(plain_reason("Connection refused (os error 111)").contains("refused"));
    }

    #[test]
    fn unreachable_engine_hints_how_to_start_it() {
        let error: AppError = DockerError::Unreachable {
            address: "unix:///nowhere.sock".into(),
            reason: "gone".into(),
        }
        .into();
        assert_eq!(error.kind, ErrorKind::DockerUnavailable);
        assert!(error.hint.contains("Start the Docker Engine"));
    }
}
