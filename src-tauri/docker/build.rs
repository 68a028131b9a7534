//! The image build: the context streamed to the engine, its progress read (classic or
//! BuildKit), the failing step named, and every tag applied.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use bollard::query_parameters::{BuildImageOptionsBuilder, TagImageOptionsBuilder};
use bollard::Docker;
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use super::buildkit::{read_buildkit_status, BuildKitProgress};
use super::context::{plan_context, stream_context};
use super::events::{DockerEvent, DockerSink};
use super::failure::{build_failure, buildkit_failure};
use super::reference::ImageReference;
use super::{classify, engine_address, DockerError};
use crate::redact::redact;

pub struct BuildRequest {
    pub context: PathBuf,
    /// Relative to the context, any case, any folder.
    pub dockerfile: String,
    pub tags: Vec<ImageReference>,
    pub build_args: BTreeMap<String, String>,
    pub target: Option<String>,
    /// `None` chooses: BuildKit when the Dockerfile needs it, else the classic builder.
    pub buildkit: Option<bool>,
}

/// Dockerfile syntax only BuildKit understands: `RUN --mount`, heredocs, a `# syntax=` line.
pub fn needs_buildkit(dockerfile: &str) -> bool {
    dockerfile.lines().any(|line| {
        let line = line.trim_start().to_lowercase();
        line.starts_with("# syntax=")
            || ((line.starts_with("run ") || line.starts_with("copy "))
                && (line.contains("--mount=") || line.contains("<<")))
    })
}

/// Builds the image and tags it with every reference of the request.
pub async fn build(
    docker: &Docker,
    request: &BuildRequest,
    cancel: &CancellationToken,
    sink: DockerSink<'_>,
) -> Result<String, DockerError> {
    let context = request.context.clone();
    let dockerfile = request.dockerfile.clone();
    let plan = tokio::task::spawn_blocking(move || plan_context(&context, &dockerfile))
        .await
        .map_err(|error| DockerError::Context(error.to_string()))?
        .map_err(|error| DockerError::Context(error.to_string()))?;
    if !plan.entries.iter().any(|(name, _)| *name == request.dockerfile) {
        return Err(DockerError::Context(format!(
            "there is no Dockerfile at {}",
            request.dockerfile
        )));
    }
    sink(DockerEvent::Context(plan.summary.clone()));

    let first_tag = request.tags.first().map(ImageReference::full).unwrap_or_default();
    let build_args: HashMap<String, String> = request.build_args.clone().into_iter().collect();
    let mut options = BuildImageOptionsBuilder::default()
        .dockerfile(&request.dockerfile)
        .t(&first_tag)
        .rm(true)
        .forcerm(true)
        .buildargs(&build_args);
    if let Some(target) = &request.target {
        options = options.target(target);
    }
    let dockerfile_text = std::fs::read_to_string(request.context.join(&request.dockerfile)).unwrap_or_default();
    let buildkit = request.buildkit.unwrap_or_else(|| needs_buildkit(&dockerfile_text));
    let session = format!(
        "slipway-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    );
    if buildkit {
        options = options
            .version(bollard::query_parameters::BuilderVersion::BuilderBuildKit)
            .session(&session);
    }
    let body = bollard::body_try_stream(stream_context(plan));
    let mut stream = docker.build_image(options.build(), None, Some(body));
    let step =
        regex::Regex::new(r"^Step (\d+)/(\d+) : (.*)$").map_err(|error| DockerError::Engine(error.to_string()))?;
    let mut last_step = String::new();
    let mut recent_output: Vec<String> = Vec::new();
    let mut image_id: Option<String> = None;
    let mut kit = BuildKitProgress::default();
    loop {
        let item = tokio::select! {
            item = stream.next() => item,
            () = cancel.cancelled() => return Err(DockerError::Cancelled),
        };
        let Some(item) = item else { break };
        let info = match item {
            Ok(info) => info,
            // bollard turns the engine's error message into an error item: name the step.
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                let message = redact(&error).into_owned();
                return Err(match kit.failed.take() {
                    Some((vertex, _)) => buildkit_failure(&vertex, &message, &recent_output),
                    None => build_failure(&last_step, &message, &recent_output),
                });
            }
            // A 4xx before any step: the engine refused the Dockerfile (a parse error names
            // its line). The engine answered, so it is not a reason to start Docker.
            Err(bollard::errors::Error::DockerResponseServerError { status_code, message })
                if (400..500).contains(&status_code) =>
            {
                return Err(DockerError::InvalidDockerfile(redact(&message).into_owned()));
            }
            Err(other) => return Err(classify(&other, &engine_address())),
        };
        if let Some(detail) = info.error_detail {
            let message = redact(&detail.message.unwrap_or_default()).into_owned();
            if let Some((vertex, error)) = kit.failed.take() {
                return Err(buildkit_failure(
                    &vertex,
                    &format!("{error}\n{message}"),
                    &recent_output,
                ));
            }
            return Err(build_failure(&last_step, &message, &recent_output));
        }
        if let Some(text) = info.stream {
            for line in text.lines().map(str::trim_end).filter(|line| !line.is_empty()) {
                if let Some(capture) = step.captures(line) {
                    last_step = line.to_owned();
                    recent_output.clear();
                    sink(DockerEvent::Step {
                        number: capture[1].parse().unwrap_or(0),
                        total: capture[2].parse().unwrap_or(0),
                        instruction: capture[3].to_owned(),
                    });
                } else {
                    // Redacted before it is kept: the failure's message quotes these lines, and
                    // a RUN may print a build argument that came from the keyring.
                    let line = redact(line).into_owned();
                    recent_output.push(line.clone());
                    if recent_output.len() > 20 {
                        recent_output.remove(0);
                    }
                    sink(DockerEvent::Output { line });
                }
            }
        }
        if let Some(status) = info.status {
            sink(DockerEvent::Output {
                line: redact(&status).into_owned(),
            });
        }
        match info.aux {
            Some(bollard::models::BuildInfoAux::Default(image)) => image_id = image.id.or(image_id),
            Some(bollard::models::BuildInfoAux::BuildKit(status)) => {
                read_buildkit_status(&status, &mut kit, &mut recent_output, sink);
            }
            None => {}
        }
    }
    let image_id =
        image_id.ok_or_else(|| build_failure(&last_step, "the engine did not report an image", &recent_output))?;
    for extra in request.tags.iter().skip(1) {
        tag(docker, &image_id, extra).await?;
    }
    sink(DockerEvent::Built {
        image_id: image_id.clone(),
    });
    Ok(image_id)
}

/// Adds `reference` as a name of `image`.
pub async fn tag(docker: &Docker, image: &str, reference: &ImageReference) -> Result<(), DockerError> {
    let options = TagImageOptionsBuilder::default()
        .repo(&reference.name())
        .tag(&reference.tag)
        .build();
    docker
        .tag_image(image, Some(options))
        .await
        .map_err(|error| classify(&error, &engine_address()))
}
