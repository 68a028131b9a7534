//! The services a project's tests need (a database, a cache), as containers on the engine:
//! published on 127.0.0.1 only, labelled with the Slipway that started them, removed after
//! the checks, and swept at the next start when a killed Slipway could not remove them.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{ContainerCreateBody, HealthConfig, HealthStatusEnum, HostConfig, PortBinding};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, ListContainersOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;

use super::container::{engine_error, remove_container, ContainerRun};
use super::{has_image, DockerError};

/// Every service container carries it, with the service's name as value.
pub const SERVICE_LABEL: &str = "dev.slipway.service";
/// The process id of the Slipway that started it, and its machine: a container whose
/// Slipway is gone is removed at the next start.
const OWNER_LABEL: &str = "dev.slipway.service.owner";
const HOST_LABEL: &str = "dev.slipway.service.host";

/// How often the engine runs the CI's health command: the CI's own interval (often 10 s) is
/// for a shared runner; here it only delays the tests.
const HEALTH_INTERVAL: Duration = Duration::from_secs(1);

/// A service container to start.
#[derive(Debug, Clone)]
pub struct ServiceRun {
    /// The service's name in the CI (`postgres`).
    pub service: String,
    pub image: String,
    pub env: Vec<(String, String)>,
    /// The port it listens on in its container; `None` reads the image's `EXPOSE`.
    pub port: Option<u16>,
    /// The port on 127.0.0.1 to publish it on, while free; else the engine picks one.
    pub preferred_host_port: Option<u16>,
    pub health_cmd: Option<String>,
}

/// A started service container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedService {
    pub id: String,
    /// The port it listens on in its container.
    pub port: u16,
    /// Where it answers here, on 127.0.0.1.
    pub host_port: u16,
}

/// What the engine says of a service container now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceHealth {
    /// Running; its health command has not passed yet (or it has none).
    Starting,
    /// Running and its health command passes.
    Healthy,
    /// Running, and its health command keeps failing.
    Unhealthy,
    /// Not running any more.
    Ended(ContainerRun),
}

fn hostname() -> String {
    crate::platform::host::machine_name().unwrap_or_default()
}

/// Fetches `image` from its registry, for a service image this machine lacks.
pub async fn fetch_image(docker: &Docker, image: &str) -> Result<(), DockerError> {
    let options = CreateImageOptionsBuilder::default().from_image(image).build();
    let mut stream = docker.create_image(Some(options), None, None);
    while let Some(progress) = stream.next().await {
        let progress = progress.map_err(engine_error)?;
        if let Some(error) = progress.error_detail.and_then(|detail| detail.message) {
            return Err(DockerError::Engine(error));
        }
    }
    if has_image(docker, image).await? {
        Ok(())
    } else {
        Err(DockerError::NoSuchImage(image.to_owned()))
    }
}

/// Whether `image`'s registry offers it, asked without fetching it (one request for its
/// manifest); `Err` says why not, in the registry's or the network's words.
pub async fn image_offered(docker: &Docker, image: &str, within: Duration) -> Result<(), String> {
    match tokio::time::timeout(within, docker.inspect_registry_image(image, None)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(bollard::errors::Error::DockerResponseServerError { message, .. })) => Err(message),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("its registry did not answer within {} s", within.as_secs())),
    }
}

/// The first port the image's configuration exposes.
async fn exposed_port(docker: &Docker, image: &str) -> Result<Option<u16>, DockerError> {
    let inspected = docker.inspect_image(image).await.map_err(engine_error)?;
    Ok(inspected
        .config
        .and_then(|config| config.exposed_ports)
        .and_then(|ports| {
            ports
                .iter()
                .filter_map(|port| port.split('/').next()?.parse().ok())
                .min()
        }))
}

/// Starts `run`'s container, named `name`, on 127.0.0.1; a preferred port that is taken
/// gives way to one the engine picks.
pub async fn start_service(docker: &Docker, name: &str, run: &ServiceRun) -> Result<StartedService, DockerError> {
    let port = match run.port {
        Some(port) => port,
        None => exposed_port(docker, &run.image).await?.ok_or_else(|| {
            DockerError::Engine(format!("the image {} exposes no port and the CI names none", run.image))
        })?,
    };
    match create_and_start(docker, name, run, port, run.preferred_host_port).await {
        Ok(started) => Ok(started),
        Err(_) if run.preferred_host_port.is_some() => create_and_start(docker, name, run, port, None).await,
        Err(error) => Err(error),
    }
}

async fn create_and_start(
    docker: &Docker,
    name: &str,
    run: &ServiceRun,
    port: u16,
    host_port: Option<u16>,
) -> Result<StartedService, DockerError> {
    let port_key = format!("{port}/tcp");
    let bindings = HashMap::from([(
        port_key.clone(),
        Some(vec![PortBinding {
            host_ip: Some("127.0.0.1".to_owned()),
            host_port: Some(host_port.map(|port| port.to_string()).unwrap_or_default()),
        }]),
    )]);
    let nanos = |duration: Duration| i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX);
    let body = ContainerCreateBody {
        image: Some(run.image.clone()),
        exposed_ports: Some(vec![port_key.clone()]),
        env: Some(run.env.iter().map(|(key, value)| format!("{key}={value}")).collect()),
        labels: Some(HashMap::from([
            (SERVICE_LABEL.to_owned(), run.service.clone()),
            (OWNER_LABEL.to_owned(), std::process::id().to_string()),
            (HOST_LABEL.to_owned(), hostname()),
        ])),
        healthcheck: run.health_cmd.as_ref().map(|command| HealthConfig {
            test: Some(vec!["CMD-SHELL".to_owned(), command.clone()]),
            interval: Some(nanos(HEALTH_INTERVAL)),
            timeout: Some(nanos(Duration::from_secs(5))),
            // The checks' own time limit decides when it is too late, not a count.
            retries: Some(1000),
            ..HealthConfig::default()
        }),
        host_config: Some(HostConfig {
            port_bindings: Some(bindings),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    let created = docker
        .create_container(Some(options), body)
        .await
        .map_err(engine_error)?;
    if let Err(error) = docker.start_container(&created.id, None).await {
        let _ = remove_container(docker, &created.id).await;
        return Err(engine_error(error));
    }
    let inspected = match docker.inspect_container(&created.id, None).await {
        Ok(inspected) => inspected,
        Err(error) => {
            let _ = remove_container(docker, &created.id).await;
            return Err(engine_error(error));
        }
    };
    let published = inspected
        .network_settings
        .and_then(|settings| settings.ports)
        .and_then(|ports| ports.get(&port_key).cloned().flatten())
        .and_then(|bindings| bindings.into_iter().find_map(|binding| binding.host_port?.parse().ok()));
    match published {
        Some(host_port) => Ok(StartedService {
            id: created.id,
            port,
            host_port,
        }),
        None => {
            let _ = remove_container(docker, &created.id).await;
            Err(DockerError::Engine(format!(
                "the service's port {port} was not published"
            )))
        }
    }
}

/// The service container's state and, when it runs, its health command's verdict.
pub async fn service_health(docker: &Docker, id: &str) -> Result<ServiceHealth, DockerError> {
    let inspected = docker.inspect_container(id, None).await.map_err(engine_error)?;
    let Some(state) = inspected.state else {
        return Ok(ServiceHealth::Starting);
    };
    let run = ContainerRun::from_state(&state);
    if run != ContainerRun::Running {
        return Ok(ServiceHealth::Ended(run));
    }
    Ok(match state.health.and_then(|health| health.status) {
        Some(HealthStatusEnum::HEALTHY) => ServiceHealth::Healthy,
        Some(HealthStatusEnum::UNHEALTHY) => ServiceHealth::Unhealthy,
        _ => ServiceHealth::Starting,
    })
}

/// The service containers on this engine that `owner` (a process id) started here.
pub async fn service_containers(docker: &Docker, owner: u32) -> Result<Vec<String>, DockerError> {
    let filters = HashMap::from([(
        "label".to_owned(),
        vec![format!("{OWNER_LABEL}={owner}"), format!("{HOST_LABEL}={}", hostname())],
    )]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let containers = docker.list_containers(Some(options)).await.map_err(engine_error)?;
    Ok(containers.into_iter().filter_map(|container| container.id).collect())
}

/// Removes the service containers a Slipway on this machine that is no longer running left
/// (killed before it could remove them); returns how many.
pub async fn sweep_services(docker: &Docker) -> Result<usize, DockerError> {
    let filters = HashMap::from([(
        "label".to_owned(),
        vec![SERVICE_LABEL.to_owned(), format!("{HOST_LABEL}={}", hostname())],
    )]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let containers = docker.list_containers(Some(options)).await.map_err(engine_error)?;
    let mut removed = 0;
    for container in containers {
        let owner = container
            .labels
            .as_ref()
            .and_then(|labels| labels.get(OWNER_LABEL))
            .and_then(|pid| pid.parse::<u32>().ok());
        let alive = owner.is_some_and(crate::platform::process::is_running);
        if let (false, Some(id)) = (alive, container.id) {
            remove_container(docker, &id).await?;
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::warn!(removed, "service containers a stopped Slipway left were removed");
    }
    Ok(removed)
}
