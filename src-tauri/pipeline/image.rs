//! The image's two doors, one each for the release and the Images page: the build request a
//! project's settings make, and the push whose digest the registry then confirms.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use crate::docker::{self, BuildRequest, DockerError, DockerSink, ImageReference, RegistryCredentials};
use crate::error::{AppError, ErrorKind};
use crate::project::ProjectSettings;

/// What the engine builds for the project, named `tags`: its Dockerfile in its context, its
/// build arguments and stage.
pub fn build_request(
    root: &Path,
    settings: &ProjectSettings,
    tags: Vec<ImageReference>,
) -> Result<BuildRequest, AppError> {
    if settings.dockerfile.is_none() {
        return Err(AppError::new(
            ErrorKind::Precondition,
            "The project has no Dockerfile.",
            "Add a Dockerfile to the project, or pick one on the Release page.",
        ));
    }
    let (context, dockerfile) = settings.build_paths(root).map_err(|why| {
        AppError::new(
            ErrorKind::Validation,
            why,
            "Choose a build context that holds the Dockerfile.",
        )
    })?;
    Ok(BuildRequest {
        context,
        dockerfile,
        tags,
        build_args: settings.build_args.clone().unwrap_or_default(),
        target: settings.build_target.clone().filter(|target| !target.trim().is_empty()),
        buildkit: None,
    })
}

/// A push and what the registry said of it afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The digest the engine pushed.
    pub digest: String,
    /// The digest the registry holds under the tag, when it answered.
    pub registry_digest: Option<String>,
}

impl Pushed {
    /// The registry holds this very image under the tag.
    pub fn verified(&self) -> bool {
        self.registry_digest.as_deref() == Some(self.digest.as_str())
    }

    /// What the registry holds instead, when it answered with another digest.
    pub fn other_digest(&self) -> Option<&str> {
        self.registry_digest.as_deref().filter(|found| *found != self.digest)
    }
}

/// Pushes `reference` with progress to `sink`, then asks the registry which digest the tag
/// names now.
pub async fn push_verified(
    reference: &ImageReference,
    credentials: &RegistryCredentials,
    cancel: &CancellationToken,
    sink: DockerSink<'_>,
) -> Result<Pushed, DockerError> {
    let digest = docker::push(
        &docker::EngineEndpoint::from_env(),
        reference,
        credentials,
        cancel,
        sink,
    )
    .await?;
    let registry_digest = crate::registry::manifest_digest(reference, &credentials.username, &credentials.secret)
        .await
        .ok();
    Ok(Pushed {
        digest,
        registry_digest,
    })
}
