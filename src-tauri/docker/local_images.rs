//! The project's local images: list, retag, remove.

use std::collections::HashMap;

use bollard::query_parameters::{ListContainersOptionsBuilder, ListImagesOptionsBuilder, RemoveImageOptionsBuilder};
use bollard::Docker;
use serde::Serialize;
use ts_rs::TS;

use super::reference::ImageReference;
use super::{classify, engine_address, tag, DockerError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LocalImage {
    pub id: String,
    pub tags: Vec<String>,
    #[ts(type = "number")]
    pub size_bytes: u64,
    /// RFC 3339.
    pub created: String,
    /// Containers using it (a remove then fails).
    #[ts(type = "number")]
    pub containers: i64,
}

/// The local images of `repository` (every tag of it), newest first.
pub async fn local_images(docker: &Docker, repository: &str) -> Result<Vec<LocalImage>, DockerError> {
    let filters = HashMap::from([("reference".to_owned(), vec![repository.to_owned()])]);
    let options = ListImagesOptionsBuilder::default().filters(&filters).build();
    let mut images: Vec<LocalImage> = docker
        .list_images(Some(options))
        .await
        .map_err(|error| classify(&error, &engine_address()))?
        .into_iter()
        .map(|summary| LocalImage {
            id: summary.id,
            tags: summary.repo_tags,
            size_bytes: u64::try_from(summary.size).unwrap_or(0),
            created: chrono::DateTime::from_timestamp(summary.created, 0)
                .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default(),
            containers: summary.containers,
        })
        .collect();
    images.sort_by(|a, b| b.created.cmp(&a.created));
    Ok(images)
}

/// Gives `source` (an id or a reference) the name `target`.
pub async fn retag(docker: &Docker, source: &str, target: &ImageReference) -> Result<(), DockerError> {
    tag(docker, source, target).await
}

/// Removes the tag (or image) `reference`. An image a container uses (running or stopped)
/// is refused, naming the containers: the engine would only untag it and keep the space.
pub async fn remove(docker: &Docker, reference: &str) -> Result<(), DockerError> {
    let image = match docker.inspect_image(reference).await {
        Ok(image) => image,
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            message,
        }) => return Err(DockerError::NoSuchImage(message)),
        Err(error) => return Err(classify(&error, &engine_address())),
    };
    if let Some(id) = image.id {
        let filters = HashMap::from([("ancestor".to_owned(), vec![id])]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let users = docker
            .list_containers(Some(options))
            .await
            .map_err(|error| classify(&error, &engine_address()))?;
        if !users.is_empty() {
            let names: Vec<String> = users
                .iter()
                .map(|container| {
                    let name = container
                        .names
                        .as_ref()
                        .and_then(|names| names.first())
                        .cloned()
                        .unwrap_or_default();
                    format!(
                        "{} ({})",
                        name.trim_start_matches('/'),
                        container
                            .state
                            .as_ref()
                            .map(|s| format!("{s:?}").to_lowercase())
                            .unwrap_or_default()
                    )
                })
                .collect();
            return Err(DockerError::InUse(format!(
                "{reference} is used by {}",
                names.join(", ")
            )));
        }
    }
    let options = RemoveImageOptionsBuilder::default().force(false).noprune(false).build();
    match docker.remove_image(reference, Some(options), None).await {
        Ok(_) => Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 409,
            message,
        }) => Err(DockerError::InUse(message)),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            message,
        }) => Err(DockerError::NoSuchImage(message)),
        Err(error) => Err(classify(&error, &engine_address())),
    }
}
