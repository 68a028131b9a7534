use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;
use ts_rs::TS;

use super::AppState;
use crate::docker::{self, DockerEvent, ImageReference, LocalImage, RegistryCredentials};
use crate::error::{AppError, ErrorKind};
use crate::pipeline;
use crate::project::{self, ProjectSettings};
use crate::registry;
use crate::tasks::TaskKind;

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImagesOverview {
    /// The name a release gives the image (`destination.name`): what this page lists.
    pub repository: String,
    /// Where the release puts the image, and why the registry is or is not asked.
    pub destination: pipeline::ImageDestination,
    pub local: Vec<LocalImage>,
    /// The registry's tags; `None` when it is not asked (nothing is pushed, or no account is
    /// connected for it) or, with `remote_error`, when it could not be asked.
    pub remote: Option<Vec<String>>,
    pub remote_error: Option<AppError>,
    /// The engine id of the image the project's container runs, to mark it.
    pub live_image_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BuiltImage {
    pub image_id: String,
    pub references: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PushedImage {
    pub reference: String,
    pub digest: String,
    /// The registry's manifest has the same digest.
    pub verified: bool,
}

/// The connected login for the registry `reference` names.
async fn credentials(state: &AppState, reference: &ImageReference) -> Result<RegistryCredentials, AppError> {
    Ok(crate::accounts::registry_login(state.secrets.clone(), docker::Registry::of(reference)).await)
}

fn reference(text: &str) -> Result<ImageReference, AppError> {
    docker::parse_reference(text).map_err(|why| {
        AppError::new(
            ErrorKind::Validation,
            format!("\"{text}\" is not a valid image name: {why}."),
            "Correct the name and try again.",
        )
    })
}

async fn settings_of(state: &AppState, path: &str) -> Result<(std::path::PathBuf, ProjectSettings), AppError> {
    let root = project::resolve_folder(path)?;
    let settings = match project::load_settings(&state.paths.data_dir, &root)? {
        Some(settings) => settings,
        None => {
            let scan = root.clone();
            let detection = tokio::task::spawn_blocking(move || project::detect(&scan))
                .await
                .map_err(|error| AppError::new(ErrorKind::Unknown, error.to_string(), "Try again."))?;
            ProjectSettings::from_detection(&detection)
        }
    };
    Ok((root, settings))
}

/// The project's local images and its registry's tags. A registry problem is reported
/// beside the local list, never instead of it.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn images_overview(state: State<'_, AppState>, path: String) -> Result<ImagesOverview, AppError> {
    let root = project::resolve_folder(&path)?;
    let context = state.release_context()?;
    let destination = pipeline::image_destination(&context, &root, None).await?;
    let repository = destination.name.clone();
    let engine = pipeline::project_engine(&state.paths.data_dir, &root)?;
    let local = docker::local_images(&engine, &repository).await?;
    let live_image_id = docker::project_container(&engine, &project::project_id(&root))
        .await
        .ok()
        .flatten()
        .filter(|container| container.running)
        .and_then(|container| container.image_id);
    let (remote, remote_error) = if destination.can_list_tags {
        match reference(&format!("{repository}:latest")) {
            Ok(target) => {
                let login = credentials(&state, &target).await?;
                match registry::list_tags(
                    &target,
                    &login.username,
                    &login.secret,
                    &state.settings().docker_hub_api(),
                )
                .await
                {
                    Ok(tags) => (Some(tags), None),
                    Err(error) => (None, Some(error.into())),
                }
            }
            Err(error) => (None, Some(error)),
        }
    } else {
        (None, None)
    };
    Ok(ImagesOverview {
        repository,
        destination,
        local,
        remote,
        remote_error,
        live_image_id,
    })
}

/// Builds the project's Dockerfile with its tags (`<repository>:<short commit>` and
/// `:latest` unless set otherwise), build args and target stage, streaming build events to
/// `on_event`.
#[tauri::command]
#[tracing::instrument(skip(state, on_event), err(level = "warn"))]
pub async fn build_project_image(
    state: State<'_, AppState>,
    path: String,
    on_event: Channel<DockerEvent>,
) -> Result<BuiltImage, AppError> {
    let (root, settings) = settings_of(&state, &path).await?;
    // The names a release gives it, so the image built here is the one a release would ship.
    let repository = pipeline::image_destination(&state.release_context()?, &root, None)
        .await?
        .name;
    let commit = project::git_state(&root).await.and_then(|git| git.commit);
    let tags = settings
        .tags(commit.as_deref())
        .iter()
        .map(|tag| reference(&format!("{repository}:{tag}")))
        .collect::<Result<Vec<_>, _>>()?;
    let request = pipeline::build_request(&state.paths.data_dir, &root, &settings, tags.clone()).await?;
    let engine = pipeline::project_engine(&state.paths.data_dir, &root)?;
    // A task: listed, cancellable with cancel_task, and one build per project at a time.
    let task = state.tasks.start(TaskKind::Build, &root.display().to_string())?;
    let image_id = docker::build(&engine, &request, task.token(), &move |event| {
        let _ = on_event.send(event);
    })
    .await?;
    Ok(BuiltImage {
        image_id,
        references: tags.iter().map(ImageReference::full).collect(),
    })
}

/// Pushes `reference` from the engine of the project at `path` with per-layer progress to
/// `on_event`, then checks the registry holds the same digest.
#[tauri::command]
#[tracing::instrument(skip(state, on_event), err(level = "warn"))]
pub async fn push_image(
    state: State<'_, AppState>,
    reference_text: String,
    on_event: Channel<DockerEvent>,
    path: String,
) -> Result<PushedImage, AppError> {
    let target = reference(&reference_text)?;
    // The project's engine holds the image: its own Docker context when it names one.
    let engine = pipeline::project_engine(&state.paths.data_dir, &project::resolve_folder(&path)?)?;
    let credentials = credentials(&state, &target).await?;
    let task = state.tasks.start(TaskKind::Push, &target.full())?;
    let pushed = pipeline::push_verified(&engine.endpoint, &target, &credentials, task.token(), &move |event| {
        let _ = on_event.send(event);
    })
    .await?;
    Ok(PushedImage {
        reference: target.full(),
        verified: pushed.verified(),
        digest: pushed.digest,
    })
}

/// Gives the image `source` the name `target` (checked against the reference grammar), on the
/// engine of the project at `path`.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn retag_image(
    state: State<'_, AppState>,
    source: String,
    target: String,
    path: String,
) -> Result<(), AppError> {
    let target = reference(&target)?;
    let engine = pipeline::project_engine(&state.paths.data_dir, &project::resolve_folder(&path)?)?;
    Ok(docker::retag(&engine, &source, &target).await?)
}

/// Removes one tag or image from the engine of the project at `path`. An image a container
/// uses is refused with a clear message.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn remove_image(state: State<'_, AppState>, reference_text: String, path: String) -> Result<(), AppError> {
    let engine = pipeline::project_engine(&state.paths.data_dir, &project::resolve_folder(&path)?)?;
    Ok(docker::remove(&engine, &reference_text).await?)
}
