//! A Local deploy that never takes the running app down.
//!
//! The new image first runs beside the running container, as a candidate on a port the
//! engine picks; only once it answered does the switch happen: the running container stops
//! (kept, renamed `<name>-retiring`), a container of the new image takes the project's
//! stable port, and once that one answers the retiring one goes. A failed check, a cancel or
//! an error puts the retiring one back under its name and starts it again; a Slipway killed
//! half-way is put right by [`put_right`] before the project's next deploy and at start.
//!
//! A port binding cannot move from one container to another, so the switch is a stop and a
//! start: the app is away for as long as the new container takes to start, never for a
//! failed release.

use std::collections::HashMap;

use bollard::query_parameters::{ListContainersOptionsBuilder, RenameContainerOptionsBuilder};
use bollard::Docker;

use super::container::{
    create_and_start, engine_error, port_is_free, project_container, RETIRING, ROLE_CANDIDATE, ROLE_LABEL,
};
use super::{remove_container, stop_container, DockerError, RunRequest, RunningContainer, PROJECT_LABEL};

const CANDIDATE: &str = "-next";

fn retiring_name(name: &str) -> String {
    format!("{name}{RETIRING}")
}

/// The name of `name`'s candidate: the new image under its check beside the running one.
pub fn candidate_name(name: &str) -> String {
    format!("{name}{CANDIDATE}")
}

fn port_key(request: &RunRequest) -> String {
    format!("{}/tcp", request.container_port)
}

/// Starts `request.image` beside the project's running container, on a port the engine
/// picks, for its live check; the running one is not touched.
pub async fn start_candidate(docker: &Docker, request: &RunRequest) -> Result<RunningContainer, DockerError> {
    let candidate = RunRequest {
        name: candidate_name(&request.name),
        ..request.clone()
    };
    remove_container(docker, &candidate.name).await?;
    create_and_start(docker, &candidate, &port_key(request), None, Some(ROLE_CANDIDATE)).await
}

/// Whether the project's container already runs `request.image` on the same port with the
/// request's values (and no others but the image's own), made with the engine's init: a candidate
/// of it would prove nothing its running twin does not, so the switch can go ahead at once.
pub async fn runs_already(docker: &Docker, request: &RunRequest) -> Result<bool, DockerError> {
    let Some(running) = project_container(docker, &request.project_id)
        .await?
        .filter(|container| container.running)
    else {
        return Ok(false);
    };
    let wanted = match docker.inspect_image(&request.image).await {
        Ok(image) => image,
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => return Ok(false),
        Err(error) => return Err(engine_error(error)),
    };
    if wanted.id.is_none() || wanted.id != running.image_id {
        return Ok(false);
    }
    let container = docker
        .inspect_container(&running.id, None)
        .await
        .map_err(engine_error)?;
    if !container.host_config.and_then(|host| host.init).unwrap_or(false) {
        return Ok(false);
    }
    let config = container.config.unwrap_or_default();
    // The app's port changed in the settings: the trial checks the new one.
    if !config
        .exposed_ports
        .as_ref()
        .is_some_and(|exposed| exposed.contains(&port_key(request)))
    {
        return Ok(false);
    }
    let mut has: Vec<String> = config.env.unwrap_or_default();
    let image_env = wanted.config.and_then(|config| config.env).unwrap_or_default();
    let mut expected: Vec<String> = request
        .env
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    let set: std::collections::HashSet<&str> = request.env.iter().map(|(key, _)| key.as_str()).collect();
    // The image's own values the request does not set are in every container of it.
    expected.extend(
        image_env
            .into_iter()
            .filter(|entry| !set.contains(entry.split_once('=').map_or(entry.as_str(), |(key, _)| key))),
    );
    has.sort();
    expected.sort();
    Ok(has == expected)
}

/// Removes the candidate (a failed or cancelled check): the running container is as it was.
pub async fn drop_candidate(docker: &Docker, name: &str) -> Result<(), DockerError> {
    remove_container(docker, &candidate_name(name)).await
}

/// The switch: the running container stops (kept as `<name>-retiring`) and a container of
/// `request.image` takes its port (else the project's own, else one the engine picks). On an
/// error the retiring one is back. Follow with [`finish_switch`] once the new one answers,
/// or [`restore`].
pub async fn switch_to(docker: &Docker, request: &RunRequest) -> Result<RunningContainer, DockerError> {
    let previous = project_container(docker, &request.project_id)
        .await?
        .filter(|container| !container.name.ends_with(RETIRING));
    let mut ports: Vec<u16> = previous
        .as_ref()
        .and_then(|container| container.host_port)
        .into_iter()
        .collect();
    ports.extend(request.preferred_port.filter(|port| !ports.contains(port)));
    let retiring = retiring_name(&request.name);
    remove_container(docker, &retiring).await?;
    if let Some(previous) = &previous {
        rename(docker, &previous.name, &retiring).await?;
        if let Err(error) = stop_container(docker, &retiring).await {
            restore(docker, &request.name).await?;
            return Err(error);
        }
    }
    remove_container(docker, &request.name).await?;
    let port_key = port_key(request);
    let mut started = None;
    // A port is probed here only on this machine's engine; another engine is asked by trying.
    let probe_here = request.engine.on_this_machine();
    for port in ports.into_iter().filter(|port| !probe_here || port_is_free(*port)) {
        match create_and_start(docker, request, &port_key, Some(port), None).await {
            Ok(running) => {
                started = Some(Ok(running));
                break;
            }
            // Taken between the check and the start: the next choice.
            Err(DockerError::Engine(message)) if message.contains("allocated") || message.contains("in use") => {
                tracing::info!(port, "the project's port was taken; trying another");
            }
            Err(error) => {
                started = Some(Err(error));
                break;
            }
        }
    }
    let started = match started {
        Some(started) => started,
        None => create_and_start(docker, request, &port_key, None, None).await,
    };
    if started.is_err() {
        restore(docker, &request.name).await?;
    }
    started
}

/// The switched container answered: the retiring one and the candidate go.
pub async fn finish_switch(docker: &Docker, name: &str) -> Result<(), DockerError> {
    remove_container(docker, &retiring_name(name)).await?;
    drop_candidate(docker, name).await
}

/// Back to what ran before the switch: the new container and the candidate go, the
/// retiring one takes its name again and starts. False when there was nothing to put back.
pub async fn restore(docker: &Docker, name: &str) -> Result<bool, DockerError> {
    drop_candidate(docker, name).await?;
    let retiring = retiring_name(name);
    if !exists(docker, &retiring).await? {
        return Ok(false);
    }
    remove_container(docker, name).await?;
    rename(docker, &retiring, name).await?;
    docker.start_container(name, None).await.map_err(engine_error)?;
    Ok(true)
}

/// Puts right what a killed Slipway left: a candidate goes, a half-done switch is undone
/// (the release that started it never finished). The number of containers put right.
pub async fn put_right(docker: &Docker, project_id: &str) -> Result<usize, DockerError> {
    let filters = HashMap::from([("label".to_owned(), vec![format!("{PROJECT_LABEL}={project_id}")])]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let containers = docker.list_containers(Some(options)).await.map_err(engine_error)?;
    let mut mended = 0;
    for container in containers {
        let Some(name) = container
            .names
            .and_then(|names| names.into_iter().next())
            .map(|name| name.trim_start_matches('/').to_owned())
        else {
            continue;
        };
        let candidate = container
            .labels
            .as_ref()
            .and_then(|labels| labels.get(ROLE_LABEL))
            .is_some_and(|role| role == ROLE_CANDIDATE);
        if let Some(base) = name.strip_suffix(RETIRING) {
            tracing::warn!(container = %name, "a switch a killed Slipway left half-done is undone");
            restore(docker, base).await?;
            mended += 1;
        } else if candidate {
            tracing::warn!(container = %name, "a candidate a killed Slipway left is removed");
            remove_container(docker, &name).await?;
            mended += 1;
        }
    }
    Ok(mended)
}

/// The projects with something to put right: a candidate or a retiring container.
pub async fn projects_to_put_right(docker: &Docker) -> Result<Vec<String>, DockerError> {
    let filters = HashMap::from([("label".to_owned(), vec![PROJECT_LABEL.to_owned()])]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let containers = docker.list_containers(Some(options)).await.map_err(engine_error)?;
    let mut projects: Vec<String> = containers
        .into_iter()
        .filter(|container| {
            let retiring = container.names.iter().flatten().any(|name| name.ends_with(RETIRING));
            let candidate = container
                .labels
                .as_ref()
                .and_then(|labels| labels.get(ROLE_LABEL))
                .is_some_and(|role| role == ROLE_CANDIDATE);
            retiring || candidate
        })
        .filter_map(|container| container.labels?.get(PROJECT_LABEL).cloned())
        .collect();
    projects.sort();
    projects.dedup();
    Ok(projects)
}

async fn rename(docker: &Docker, from: &str, to: &str) -> Result<(), DockerError> {
    let options = RenameContainerOptionsBuilder::default().name(to).build();
    docker.rename_container(from, options).await.map_err(engine_error)
}

async fn exists(docker: &Docker, name: &str) -> Result<bool, DockerError> {
    match docker.inspect_container(name, None).await {
        Ok(_) => Ok(true),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(false),
        Err(error) => Err(engine_error(error)),
    }
}
