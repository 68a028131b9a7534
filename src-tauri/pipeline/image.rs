//! The image's two doors, one each for the release and the Images page: the build request a
//! project's settings make, and the push whose digest the registry then confirms.

use std::collections::BTreeMap;
use std::path::Path;

use tokio_util::sync::CancellationToken;

use crate::docker::{self, BuildRequest, DockerError, DockerSink, ImageReference, RegistryCredentials};
use crate::error::{AppError, ErrorAction, ErrorKind};
use crate::project::{project_id, ProjectSettings};
use crate::secrets::SecretStore;

/// What the engine builds for the project, named `tags`: its Dockerfile in its context, its
/// build arguments (the given ones read now, a secret one from the keyring, which also hides
/// it in every log) and stage.
pub async fn build_request(
    data_dir: &Path,
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
    let mut build_args = settings.build_args.clone().unwrap_or_default();
    build_args.extend(given_build_args(data_dir, root, settings).await?);
    Ok(BuildRequest {
        context,
        dockerfile,
        tags,
        build_args,
        target: settings.build_target.clone().filter(|target| !target.trim().is_empty()),
        buildkit: None,
    })
}

/// The build arguments the person gave values for: from the settings, else (a secret one)
/// from the keyring, read off the async runtime. One not given is an error naming it.
async fn given_build_args(
    data_dir: &Path,
    root: &Path,
    settings: &ProjectSettings,
) -> Result<BTreeMap<String, String>, AppError> {
    if let Some(name) = settings.missing_build_args().first() {
        return Err(AppError::new(
            ErrorKind::Precondition,
            format!("The image build needs {name}, which your CI passes to it, and no value is given."),
            format!(
                "Give it in the project's values (`slipway env set --project {} {name}`).",
                root.display()
            ),
        )
        .with_action(ErrorAction::OpenProjectSettings));
    }
    let names: Vec<String> = settings.build_args_given.clone().unwrap_or_default();
    let (data_dir, root, settings) = (data_dir.to_path_buf(), root.to_path_buf(), settings.clone());
    tokio::task::spawn_blocking(move || {
        let store = SecretStore::os(&data_dir);
        let id = project_id(&root);
        let mut values = BTreeMap::new();
        for name in names {
            if let Some(value) = settings.env.get(&name) {
                values.insert(name, value.clone());
                continue;
            }
            // Registered with the redactor as it is read: the build's log never shows it.
            match store.project_value(&id, &name)? {
                Some(secret) => values.insert(name, secret.expose().to_owned()),
                None => {
                    return Err(AppError::new(
                        ErrorKind::Precondition,
                        format!("The value of {name} for the image build is not in the keyring any more."),
                        format!(
                            "Give it again (`slipway env set --project {} --secret {name}`).",
                            root.display()
                        ),
                    ))
                }
            };
        }
        Ok(values)
    })
    .await
    .map_err(|error| AppError::new(ErrorKind::Unknown, error.to_string(), "Try again."))?
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
    endpoint: &docker::EngineEndpoint,
    reference: &ImageReference,
    credentials: &RegistryCredentials,
    cancel: &CancellationToken,
    sink: DockerSink<'_>,
) -> Result<Pushed, DockerError> {
    let digest = docker::push(endpoint, reference, credentials, cancel, sink).await?;
    let registry_digest = crate::registry::manifest_digest(reference, &credentials.username, &credentials.secret)
        .await
        .ok();
    Ok(Pushed {
        digest,
        registry_digest,
    })
}
