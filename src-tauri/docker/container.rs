//! Running a built image as a container here: the Local target's deploy.
//!
//! One container per project, named after it and labelled with the release that started
//! it; `switch` replaces it without taking the app down, and a cancelled release leaves
//! nothing behind.
//! Its port is published on 127.0.0.1 only when this machine reaches the engine's host there
//! (else on the engine's host's addresses, where this machine reaches it): the port it had
//! before, else the project's own port, while free, so the Local address stays the same from
//! one release to the next; the engine picks one when both are taken. Whether a port is free
//! is asked by binding it here only for an engine on this machine's socket; any other engine
//! is asked by trying it.

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
};
use bollard::Docker;

use super::{classify, engine_address, DockerError};

/// The label every container Slipway starts carries, with the project id as value.
pub const PROJECT_LABEL: &str = "dev.slipway.project";
pub const RELEASE_LABEL: &str = "dev.slipway.release";
/// A container's part in a deploy: `candidate` while the new image is checked beside the
/// running one (see `switch`); none on the container that serves.
pub(super) const ROLE_LABEL: &str = "dev.slipway.role";
pub(super) const ROLE_CANDIDATE: &str = "candidate";

#[derive(Debug, Clone)]
pub struct RunRequest {
    pub image: String,
    pub name: String,
    pub container_port: u16,
    pub project_id: String,
    pub release_id: String,
    pub env: Vec<(String, String)>,
    /// The project's own port, tried after the one its container had.
    pub preferred_port: Option<u16>,
    /// Where the engine is: its port is published on its loopback only when this machine
    /// reaches it there, and probed here only when the engine runs here.
    pub engine: super::EngineEndpoint,
}

/// Whether a container runs, as the engine says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerRun {
    Running,
    /// Created and never started, paused, or ended by a stop (exit 0, or the signal
    /// `docker stop` sends: 143, or 137 after its grace period when not killed for memory).
    Stopped,
    /// Ended by itself, with this exit code.
    Exited(i64),
}

impl ContainerRun {
    /// From the engine's `State`: its status word, exit code and whether memory ran out.
    pub fn from_state(state: &bollard::models::ContainerState) -> Self {
        use bollard::models::ContainerStateStatusEnum as Status;
        let code = state.exit_code.unwrap_or(0);
        let out_of_memory = state.oom_killed.unwrap_or(false);
        match state.status {
            Some(Status::RUNNING | Status::RESTARTING) => Self::Running,
            // The engine says `running: true` of a paused container: it answers nothing.
            Some(Status::PAUSED) => Self::Stopped,
            Some(Status::EXITED | Status::DEAD) if out_of_memory || !matches!(code, 0 | 137 | 143) => {
                Self::Exited(code)
            }
            _ if state.running.unwrap_or(false) => Self::Running,
            _ => Self::Stopped,
        }
    }
}

/// The project's container as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerState {
    pub id: String,
    pub name: String,
    pub running: bool,
    pub run: ContainerRun,
    /// RFC 3339, when it was last started.
    pub started_at: Option<String>,
    /// RFC 3339, when it last stopped or exited.
    pub finished_at: Option<String>,
    pub host_port: Option<u16>,
    pub release_id: Option<String>,
    /// The image as the container was created with it (a name:tag, usually).
    pub image: Option<String>,
    /// The engine's id of that image (`sha256:…`): what the Images page compares.
    pub image_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningContainer {
    pub id: String,
    /// The port on 127.0.0.1 that reaches the container's port.
    pub host_port: u16,
}

pub(super) fn engine_error(error: bollard::errors::Error) -> DockerError {
    match error {
        bollard::errors::Error::DockerResponseServerError { message, .. } => DockerError::Engine(message),
        other => classify(&other, &engine_address()),
    }
}

/// Removes the container `name` (running or not); a missing one is fine.
pub async fn remove_container(docker: &Docker, name: &str) -> Result<(), DockerError> {
    let options = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
    match docker.remove_container(name, Some(options)).await {
        Ok(()) => Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(()),
        Err(error) => Err(engine_error(error)),
    }
}

/// The names of the containers Slipway started for a project, running or not.
pub async fn project_containers(docker: &Docker, project_id: &str) -> Result<Vec<String>, DockerError> {
    let filters = HashMap::from([("label".to_owned(), vec![format!("{PROJECT_LABEL}={project_id}")])]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let containers = docker.list_containers(Some(options)).await.map_err(engine_error)?;
    Ok(containers
        .into_iter()
        .filter_map(|container| container.names.and_then(|names| names.into_iter().next()))
        .map(|name| name.trim_start_matches('/').to_owned())
        .collect())
}

/// The release whose container runs for the project now (its release label), if one runs.
pub async fn running_release(docker: &Docker, project_id: &str) -> Result<Option<String>, DockerError> {
    let filters = HashMap::from([
        ("label".to_owned(), vec![format!("{PROJECT_LABEL}={project_id}")]),
        ("status".to_owned(), vec!["running".to_owned()]),
    ]);
    let options = ListContainersOptionsBuilder::default().filters(&filters).build();
    let containers = docker.list_containers(Some(options)).await.map_err(engine_error)?;
    Ok(containers
        .into_iter()
        .filter_map(|container| container.labels)
        .filter(|labels| !is_candidate(labels))
        .find_map(|labels| labels.get(RELEASE_LABEL).cloned()))
}

/// A new image under its live check beside the running container: not what the project runs.
fn is_candidate(labels: &HashMap<String, String>) -> bool {
    labels.get(ROLE_LABEL).is_some_and(|role| role == ROLE_CANDIDATE)
}

pub(super) fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Creates and starts `request`'s container, its port published (`host_port`,
/// else one the engine picks), labelled with its project, release and `role`.
pub(super) async fn create_and_start(
    docker: &Docker,
    request: &RunRequest,
    port_key: &str,
    host_port: Option<u16>,
    role: Option<&str>,
) -> Result<RunningContainer, DockerError> {
    let bindings = HashMap::from([(
        port_key.to_owned(),
        Some(vec![PortBinding {
            // Another machine's engine: its own addresses, or this machine could not reach it.
            host_ip: Some(
                if request.engine.publishes_on_loopback() {
                    "127.0.0.1"
                } else {
                    "0.0.0.0"
                }
                .to_owned(),
            ),
            // Empty: the engine picks a free port.
            host_port: Some(host_port.map(|port| port.to_string()).unwrap_or_default()),
        }]),
    )]);
    let body = ContainerCreateBody {
        image: Some(request.image.clone()),
        exposed_ports: Some(vec![port_key.to_owned()]),
        env: Some(
            request
                .env
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect(),
        ),
        labels: Some(
            [
                (PROJECT_LABEL.to_owned(), request.project_id.clone()),
                (RELEASE_LABEL.to_owned(), request.release_id.clone()),
            ]
            .into_iter()
            .chain(role.map(|role| (ROLE_LABEL.to_owned(), role.to_owned())))
            .collect(),
        ),
        host_config: Some(HostConfig {
            port_bindings: Some(bindings),
            // The engine's own init as PID 1 passes the stop signal on: an app run as PID 1
            // that sets no handler (`python -m app`) never sees it, and every switch and
            // stop waited the whole 10 s before the engine killed it.
            init: Some(true),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    let options = CreateContainerOptionsBuilder::default().name(&request.name).build();
    let created = docker
        .create_container(Some(options), body)
        .await
        .map_err(engine_error)?;
    if let Err(error) = docker.start_container(&created.id, None).await {
        let _ = remove_container(docker, &created.id).await;
        return Err(engine_error(error));
    }
    let inspected = docker
        .inspect_container(&created.id, None)
        .await
        .map_err(engine_error)?;
    let host_port = published_port(&inspected, port_key)
        .ok_or_else(|| DockerError::Engine(format!("the container's port {port_key} was not published")))?;
    Ok(RunningContainer {
        id: created.id,
        host_port,
    })
}

fn published_port(inspected: &bollard::models::ContainerInspectResponse, port_key: &str) -> Option<u16> {
    let ports = inspected.network_settings.as_ref()?.ports.as_ref()?;
    let bindings = match ports.get(port_key) {
        Some(Some(bindings)) => bindings.clone(),
        // The container stopped: its bindings are in its configuration only.
        _ => inspected
            .host_config
            .as_ref()?
            .port_bindings
            .as_ref()?
            .get(port_key)?
            .clone()?,
    };
    bindings
        .into_iter()
        .find_map(|binding| binding.host_port)
        .and_then(|port| port.parse().ok())
}

/// The suffix a release's switch gives the container it replaces until the new one answers.
pub(super) const RETIRING: &str = "-retiring";

/// Whether the container `id` runs, or how it ended; `None` when it is gone.
pub async fn container_run(docker: &Docker, id: &str) -> Result<Option<ContainerRun>, DockerError> {
    match docker.inspect_container(id, None).await {
        Ok(inspected) => Ok(Some(ContainerRun::from_state(&inspected.state.unwrap_or_default()))),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(None),
        Err(error) => Err(engine_error(error)),
    }
}

/// The project's container (the newest, running or not, never a candidate), with its port
/// and release.
pub async fn project_container(docker: &Docker, project_id: &str) -> Result<Option<ContainerState>, DockerError> {
    let filters = HashMap::from([("label".to_owned(), vec![format!("{PROJECT_LABEL}={project_id}")])]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let mut containers = docker.list_containers(Some(options)).await.map_err(engine_error)?;
    // A release's switch keeps the old one as `<name>-retiring` for a moment: not the app.
    containers.retain(|container| {
        !container.labels.as_ref().is_some_and(is_candidate)
            && !container.names.iter().flatten().any(|name| name.ends_with(RETIRING))
    });
    containers.sort_by_key(|container| std::cmp::Reverse(container.created.unwrap_or(0)));
    let Some(id) = containers.into_iter().find_map(|container| container.id) else {
        return Ok(None);
    };
    let inspected = match docker.inspect_container(&id, None).await {
        Ok(inspected) => inspected,
        // Removed between the list and now.
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => return Ok(None),
        Err(error) => return Err(engine_error(error)),
    };
    let state = inspected.state.clone().unwrap_or_default();
    let config = inspected.config.clone().unwrap_or_default();
    let host_port = config
        .exposed_ports
        .as_ref()
        .and_then(|exposed| exposed.first().cloned())
        .and_then(|key| published_port(&inspected, &key));
    Ok(Some(ContainerState {
        id,
        name: inspected
            .name
            .clone()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned(),
        running: state.running.unwrap_or(false),
        run: ContainerRun::from_state(&state),
        // The engine writes the zero time for "never".
        started_at: state.started_at.clone().filter(|at| !at.starts_with("0001-")),
        finished_at: state.finished_at.clone().filter(|at| !at.starts_with("0001-")),
        host_port,
        release_id: config
            .labels
            .as_ref()
            .and_then(|labels| labels.get(RELEASE_LABEL).cloned()),
        image: config.image,
        image_id: inspected.image.clone(),
    }))
}

/// Stops the container `name`; one already stopped is fine.
pub async fn stop_container(docker: &Docker, name: &str) -> Result<(), DockerError> {
    let options = bollard::query_parameters::StopContainerOptionsBuilder::default()
        .t(10)
        .build();
    match docker.stop_container(name, Some(options)).await {
        Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 304, .. }) => Ok(()),
        Err(error) => Err(engine_error(error)),
    }
}

/// Whether the engine has the image `image` (a name or an id).
pub async fn has_image(docker: &Docker, image: &str) -> Result<bool, DockerError> {
    match docker.inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(false),
        Err(error) => Err(engine_error(error)),
    }
}

/// Restarts the container `name` (starts it when it was stopped).
pub async fn restart_container(docker: &Docker, name: &str) -> Result<(), DockerError> {
    let options = bollard::query_parameters::RestartContainerOptionsBuilder::default()
        .t(10)
        .build();
    docker
        .restart_container(name, Some(options))
        .await
        .map_err(engine_error)
}

/// What the container printed after `since` (Unix seconds; everything when 0), its last
/// `tail` lines at most, each with the time the engine gave it.
pub async fn container_output(
    docker: &Docker,
    name: &str,
    since: i64,
    tail: usize,
) -> Result<Vec<String>, DockerError> {
    use futures_util::StreamExt;
    let options = bollard::query_parameters::LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .since(i32::try_from(since).unwrap_or(0))
        .tail(&tail.to_string())
        .build();
    let mut stream = docker.logs(name, Some(options));
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        text.push_str(&chunk.map_err(engine_error)?.to_string());
    }
    Ok(text.lines().map(str::to_owned).collect())
}

/// The last lines the container printed, for a failed health check.
pub async fn container_logs(docker: &Docker, id: &str, lines: usize) -> String {
    use futures_util::StreamExt;
    let options = bollard::query_parameters::LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .tail(&lines.to_string())
        .build();
    let mut stream = docker.logs(id, Some(options));
    let mut text = String::new();
    while let Some(Ok(chunk)) = stream.next().await {
        text.push_str(&chunk.to_string());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerState as EngineState, ContainerStateStatusEnum as Status};

    fn state(status: Status, code: i64, oom: bool) -> EngineState {
        EngineState {
            status: Some(status),
            running: Some(status == Status::RUNNING),
            exit_code: Some(code),
            oom_killed: Some(oom),
            ..EngineState::default()
        }
    }

    #[test]
    fn a_stop_reads_as_stopped_and_a_crash_as_exited_with_its_code() {
        assert_eq!(
            ContainerRun::from_state(&state(Status::RUNNING, 0, false)),
            ContainerRun::Running
        );
        assert_eq!(
            ContainerRun::from_state(&state(Status::EXITED, 0, false)),
            ContainerRun::Stopped
        );
        assert_eq!(
            ContainerRun::from_state(&state(Status::EXITED, 143, false)),
            ContainerRun::Stopped
        );
        assert_eq!(
            ContainerRun::from_state(&state(Status::EXITED, 137, false)),
            ContainerRun::Stopped
        );
        assert_eq!(
            ContainerRun::from_state(&state(Status::EXITED, 137, true)),
            ContainerRun::Exited(137)
        );
        assert_eq!(
            ContainerRun::from_state(&state(Status::EXITED, 1, false)),
            ContainerRun::Exited(1)
        );
        assert_eq!(
            ContainerRun::from_state(&state(Status::CREATED, 0, false)),
            ContainerRun::Stopped
        );
    }
}
