//! Running a built image as a container here: the Local target's deploy.
//!
//! One container per project, named after it and labelled with the release that started
//! it, so a new release replaces the previous one and a cancelled one leaves nothing behind.
//! Its port is published on 127.0.0.1 only, on a port the engine picks.

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

pub struct RunRequest {
    pub image: String,
    pub name: String,
    pub container_port: u16,
    pub project_id: String,
    pub release_id: String,
    pub env: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningContainer {
    pub id: String,
    /// The port on 127.0.0.1 that reaches the container's port.
    pub host_port: u16,
}

fn engine_error(error: bollard::errors::Error) -> DockerError {
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
        .find_map(|container| container.labels.and_then(|labels| labels.get(RELEASE_LABEL).cloned())))
}

/// Replaces the project's container with a new one of `request.image` and starts it.
pub async fn replace_and_run(docker: &Docker, request: &RunRequest) -> Result<RunningContainer, DockerError> {
    remove_container(docker, &request.name).await?;
    let port_key = format!("{}/tcp", request.container_port);
    let bindings = HashMap::from([(
        port_key.clone(),
        Some(vec![PortBinding {
            host_ip: Some("127.0.0.1".to_owned()),
            // Empty: the engine picks a free port.
            host_port: Some(String::new()),
        }]),
    )]);
    let body = ContainerCreateBody {
        image: Some(request.image.clone()),
        exposed_ports: Some(vec![port_key.clone()]),
        env: Some(
            request
                .env
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect(),
        ),
        labels: Some(HashMap::from([
            (PROJECT_LABEL.to_owned(), request.project_id.clone()),
            (RELEASE_LABEL.to_owned(), request.release_id.clone()),
        ])),
        host_config: Some(HostConfig {
            port_bindings: Some(bindings),
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
    let host_port = inspected
        .network_settings
        .and_then(|settings| settings.ports)
        .and_then(|ports| ports.get(&port_key).cloned().flatten())
        .and_then(|bindings| bindings.into_iter().find_map(|binding| binding.host_port))
        .and_then(|port| port.parse().ok())
        .ok_or_else(|| DockerError::Engine(format!("the container's port {port_key} was not published")))?;
    Ok(RunningContainer {
        id: created.id,
        host_port,
    })
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
