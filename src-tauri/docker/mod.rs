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
mod endpoint;
mod engine_http;
mod events;
mod failure;
mod local_images;
mod push;
mod reference;
mod registry;
mod service;
mod ssh;
mod start;
mod switch;

pub use build::{build, needs_buildkit, tag, BuildRequest};
pub use container::{
    container_logs, container_output, container_run, has_image, project_container, project_containers,
    remove_container, restart_container, running_release, stop_container, ContainerRun, ContainerState, RunRequest,
    RunningContainer, PROJECT_LABEL, RELEASE_LABEL,
};
pub use context::{
    plan_context, stream_context, ContextFile, ContextPlan, ContextSummary, IgnoreRules, LARGE_CONTEXT_BYTES,
};
pub use endpoint::EngineEndpoint;
pub use events::{DockerEvent, DockerSink};
pub use local_images::{local_images, remove, retag, LocalImage};
pub use push::{engine_login, push, RegistryCredentials};
pub use reference::{parse_reference, split_registry, ImageReference};
pub use registry::Registry;
pub use service::{
    fetch_image, image_offered, service_containers, service_health, start_service, sweep_services, ServiceHealth,
    ServiceRun, StartedService, SERVICE_LABEL,
};
pub use start::start_docker;
pub use switch::{
    candidate_name, drop_candidate, finish_switch, projects_to_put_right, put_right, restore, runs_already,
    start_candidate, switch_to,
};

#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("no Docker Engine answers at {address}: {reason}")]
    Unreachable { address: String, reason: String },
    /// `ssh` to an `ssh://` engine failed: its own words ("Permission denied (publickey)").
    #[error("{}", ssh::sentence(.target, .message))]
    Ssh {
        target: String,
        message: String,
        /// The same command, to try in a terminal: `ssh -p 2222 build@10.0.0.5 docker version`.
        try_it: String,
    },
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
    /// The engine refused the Dockerfile itself (a 4xx before any step ran: a parse error).
    #[error("the Dockerfile was refused: {0}")]
    InvalidDockerfile(String),
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
    /// One plain sentence and what to do for the window; the engine's own words in the
    /// detail; the command to type for the CLI.
    fn from(error: DockerError) -> Self {
        use crate::error::ErrorAction;
        let detail = error.to_string();
        let plain = |kind, message: &str, hint: &str| AppError::new(kind, message, hint).with_detail(detail.clone());
        match &error {
            DockerError::Unreachable { .. } | DockerError::Timeout { .. } => plain(
                ErrorKind::DockerUnavailable,
                "Docker is not running.",
                "Start Docker (Docker Desktop on macOS and Windows); the window notices by itself once it runs.",
            )
            .with_action(ErrorAction::StartDocker)
            .in_terminal(
                "Start the Docker Engine (Linux: `sudo systemctl start docker`; macOS and Windows: open Docker Desktop), then try again. To use another engine, set DOCKER_HOST.",
            ),
            DockerError::Ssh { target, message, try_it } => plain(
                ErrorKind::DockerUnavailable,
                &format!("{}.", ssh::sentence(target, message)),
                &format!(
                    "Slipway runs your own ssh, never with a password prompt: `{try_it}` must work from a terminal without one (your key loaded with ssh-add, the machine in known_hosts)."
                ),
            )
            .with_action(ErrorAction::Retry),
            DockerError::PermissionDenied { .. } => plain(
                ErrorKind::DockerUnavailable,
                "Docker is running but your account may not use it.",
                "Add your account to the docker group, then log out and back in.",
            )
            .with_action(ErrorAction::StartDocker)
            .in_terminal("Allow your user to use Docker: `sudo usermod -aG docker $USER`, then log out and back in."),
            DockerError::InvalidReference(_) => plain(
                ErrorKind::Validation,
                "The image name is not valid.",
                "Correct where your image goes in the project's settings.",
            )
            .with_action(ErrorAction::OpenProjectSettings),
            DockerError::Context(_) => plain(
                ErrorKind::Io,
                "The project's files could not be read for the build.",
                "Check the Dockerfile in the project's settings and that the project's files can be read.",
            )
            .with_action(ErrorAction::OpenProjectSettings),
            DockerError::BaseImage { image, .. } => plain(
                ErrorKind::Precondition,
                &format!("The image the Dockerfile starts from ({image}) could not be fetched."),
                "Check the FROM line's image name and that you are online; a private image needs its registry connected.",
            )
            .with_action(ErrorAction::Retry)
            .in_terminal("Check the FROM line: the image name, that you are online, and that your account may pull it (docker login)."),
            // The step and its exit say which line to fix: they stay in the sentence.
            DockerError::BuildFailed { step, message } => plain(
                ErrorKind::Precondition,
                &format!("The Dockerfile step {step} failed ({message})."),
                "Fix the failing step (its output is in the build's log), then release again.",
            ),
            DockerError::InvalidDockerfile(message) => plain(
                ErrorKind::Validation,
                &format!("The Dockerfile cannot be read: {message}."),
                "Correct that line of the Dockerfile, then release again.",
            )
            .with_action(ErrorAction::OpenProjectSettings),
            DockerError::RegistryAuth { .. } => plain(
                ErrorKind::RegistryAuth,
                "The registry refused your login.",
                "Enter your registry username and a new access token.",
            )
            .with_action(ErrorAction::ReenterToken),
            DockerError::RegistryDenied { .. } => plain(
                ErrorKind::RegistryDenied,
                "The registry accepted your login but refused the push.",
                "Use an access token that may read and write, for a repository your account owns.",
            )
            .with_action(ErrorAction::ReenterToken),
            DockerError::RegistryUnreachable { .. } => plain(
                ErrorKind::Network,
                "The registry could not be reached.",
                "Check your connection and the registry's address, then try again.",
            )
            .with_action(ErrorAction::Retry),
            DockerError::DiskFull(_) => plain(
                ErrorKind::Io,
                "The disk is full.",
                "Free some disk space (remove old images on the Images page), then try again.",
            )
            .with_action(ErrorAction::Retry)
            .in_terminal("Free disk space (for example `docker system prune`), then try again."),
            DockerError::Engine(_) => plain(
                ErrorKind::Unknown,
                "Docker could not do it.",
                "Try again; the technical details say what Docker answered.",
            )
            .with_action(ErrorAction::Retry),
            DockerError::InUse(_) => plain(
                ErrorKind::Precondition,
                "A container still uses this image.",
                "Stop the project's container first (on the Release page), then remove the image.",
            )
            .in_terminal("Stop and remove the container that uses it (docker ps -a shows it), then remove the image."),
            DockerError::NoSuchImage(_) => plain(
                ErrorKind::NotFound,
                "The image is already gone.",
                "Refresh the list.",
            )
            .with_action(ErrorAction::Retry),
            DockerError::Cancelled => plain(ErrorKind::Cancelled, "Cancelled.", "Run it again when you are ready."),
        }
    }
}

/// The engine's version, as `doctor` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineVersion {
    pub version: String,
    pub api_version: String,
}

/// Where the engine is expected, as a person would write it: its address, and the Docker
/// context that names it when one does.
pub fn engine_address() -> String {
    EngineEndpoint::from_env().describe()
}

/// Connects to the engine the docker CLI would use (`DOCKER_HOST`, else the Docker context
/// `DOCKER_CONTEXT` or `docker context use` chose, else the local socket), over TLS when the
/// context or `DOCKER_TLS_VERIFY` says so. Connecting does not talk to the engine yet; the
/// first call does.
pub fn connect() -> Result<Docker, DockerError> {
    connect_to(&EngineEndpoint::for_project(None).map_err(unusable_context)?)
}

/// A connected engine and where it is: what needs the address beside the client (a push over
/// the engine's own HTTP, the host the Local target's app is reached at) takes this.
pub struct Engine {
    pub client: Docker,
    pub endpoint: EngineEndpoint,
}

/// An `Engine` is used as its client wherever the address is not needed.
impl std::ops::Deref for Engine {
    type Target = Docker;

    fn deref(&self) -> &Docker {
        &self.client
    }
}

/// Connects to the engine a project's releases use: its own Docker context when it names one
/// (see [`EngineEndpoint::for_project`]).
pub fn connect_for(context: Option<&str>) -> Result<Engine, DockerError> {
    let endpoint = EngineEndpoint::for_project(context).map_err(unusable_context)?;
    Ok(Engine {
        client: connect_to(&endpoint)?,
        endpoint,
    })
}

fn unusable_context(why: String) -> DockerError {
    DockerError::Unreachable {
        address: why,
        reason: "Docker's settings choose that context".to_owned(),
    }
}

/// Connects to `endpoint`; an `ssh://` engine through the local socket that runs `ssh` for
/// each connection (see `ssh.rs`).
pub fn connect_to(endpoint: &EngineEndpoint) -> Result<Docker, DockerError> {
    if endpoint.address.starts_with("ssh://") {
        // Refused in words where there is no unix socket to bridge through.
        let socket = ssh::local_socket(&endpoint.address)?;
        #[cfg(unix)]
        return Docker::connect_with_unix(&socket.to_string_lossy(), 120, bollard::API_DEFAULT_VERSION)
            .map_err(|error| classify(&error, &endpoint.describe()));
        #[cfg(not(unix))]
        return Err(DockerError::Unreachable {
            address: socket.display().to_string(),
            reason: "ssh:// engines need a unix socket".to_owned(),
        });
    }
    let connected = match (&endpoint.context, &endpoint.tls_dir) {
        // `DOCKER_HOST` or the local socket: bollard reads them as it always has.
        (None, _) => Docker::connect_with_defaults(),
        (Some(_), Some(certs)) => Docker::connect_with_ssl(
            &endpoint.address,
            &certs.join("key.pem"),
            &certs.join("cert.pem"),
            &certs.join("ca.pem"),
            120,
            bollard::API_DEFAULT_VERSION,
        ),
        (Some(_), None) => Docker::connect_with_host(&endpoint.address),
    };
    connected.map_err(|error| classify(&error, &endpoint.describe()))
}

/// Asks this process's engine for its version, which also proves it answers.
pub async fn engine_version() -> Result<EngineVersion, DockerError> {
    let endpoint = EngineEndpoint::for_project(None).map_err(unusable_context)?;
    engine_version_at(&endpoint).await
}

/// Asks the engine at `endpoint` for its version, which also proves it answers.
pub async fn engine_version_at(endpoint: &EngineEndpoint) -> Result<EngineVersion, DockerError> {
    let address = endpoint.describe();
    let docker = connect_to(endpoint)?;
    let version = tokio::time::timeout(ENGINE_TIMEOUT, docker.version())
        .await
        .map_err(|_| DockerError::Timeout {
            address: address.clone(),
            seconds: ENGINE_TIMEOUT.as_secs(),
        })?
        // An `ssh://` engine's failure is ssh's, in its own words.
        .map_err(|error| ssh::failure(&endpoint.address).unwrap_or_else(|| classify(&error, &address)))?;
    Ok(EngineVersion {
        version: version.version.unwrap_or_else(|| "unknown".to_owned()),
        api_version: version.api_version.unwrap_or_else(|| "unknown".to_owned()),
    })
}

pub(crate) fn classify(error: &bollard::errors::Error, address: &str) -> DockerError {
    let text = crate::error::error_chain(error);
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
        assert_eq!(error.action, Some(crate::error::ErrorAction::StartDocker));
        assert!(error.hint.starts_with("Start Docker"), "{}", error.hint);
        assert!(
            error.cli_hint().contains("Start the Docker Engine"),
            "{}",
            error.cli_hint()
        );
        assert!(error.detail.as_deref().is_some_and(|detail| detail.contains("gone")));
    }
}
