//! Build, tag and push.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use base64::Engine;
use bollard::query_parameters::{BuildImageOptionsBuilder, TagImageOptionsBuilder};
use bollard::Docker;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::context::{plan_context, stream_context, ContextSummary};
use super::reference::ImageReference;
use super::{classify, engine_address, DockerError, EngineEndpoint};

use crate::secrets::{redact, register_secret};

/// What the build, tag and push report while they run.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "event", content = "data", rename_all = "camelCase")]
pub enum DockerEvent {
    Context(ContextSummary),
    #[serde(rename_all = "camelCase")]
    Step {
        number: u32,
        total: u32,
        instruction: String,
    },
    #[serde(rename_all = "camelCase")]
    Output {
        line: String,
    },
    #[serde(rename_all = "camelCase")]
    Built {
        image_id: String,
    },
    #[serde(rename_all = "camelCase")]
    Layer {
        id: String,
        status: String,
        #[ts(type = "number")]
        current: u64,
        #[ts(type = "number")]
        total: u64,
    },
    #[serde(rename_all = "camelCase")]
    PushProgress {
        #[ts(type = "number")]
        done: u64,
        #[ts(type = "number")]
        total: u64,
        percent: f64,
    },
    #[serde(rename_all = "camelCase")]
    Pushed {
        reference: String,
        digest: String,
    },
}

pub type DockerSink<'a> = &'a (dyn Fn(DockerEvent) + Send + Sync);

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

/// Per-build state of what BuildKit reported, to name a failing step.
#[derive(Default)]
struct BuildKitProgress {
    announced: std::collections::HashSet<String>,
    names: HashMap<String, String>,
    failed: Option<(String, String)>,
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
                    recent_output.push(line.to_owned());
                    if recent_output.len() > 20 {
                        recent_output.remove(0);
                    }
                    sink(DockerEvent::Output {
                        line: redact(line).into_owned(),
                    });
                }
            }
        }
        if let Some(status) = info.status {
            sink(DockerEvent::Output { line: status });
        }
        match info.aux {
            Some(bollard::models::BuildInfoAux::Default(image)) => image_id = image.id.or(image_id),
            Some(bollard::models::BuildInfoAux::BuildKit(status)) => {
                read_buildkit_status(&status, &step_pattern_kit(), &mut kit, &mut recent_output, sink);
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

fn step_pattern_kit() -> Option<regex::Regex> {
    // `[2/3] RUN ...`, or `[stage 2/3] RUN ...` in multi-stage builds.
    regex::Regex::new(r"^\[(?:[^\]]*\s)?(\d+)/(\d+)\] (.*)$").ok()
}

fn read_buildkit_status(
    status: &bollard::moby::buildkit::v1::StatusResponse,
    step: &Option<regex::Regex>,
    kit: &mut BuildKitProgress,
    recent_output: &mut Vec<String>,
    sink: DockerSink<'_>,
) {
    for vertex in &status.vertexes {
        kit.names.insert(vertex.digest.clone(), vertex.name.clone());
        if vertex.started.is_some() && kit.announced.insert(vertex.digest.clone()) {
            match step.as_ref().and_then(|step| step.captures(&vertex.name)) {
                Some(capture) => {
                    recent_output.clear();
                    sink(DockerEvent::Step {
                        number: capture[1].parse().unwrap_or(0),
                        total: capture[2].parse().unwrap_or(0),
                        instruction: capture[3].to_owned(),
                    });
                }
                None => sink(DockerEvent::Output {
                    line: vertex.name.clone(),
                }),
            }
        }
        if !vertex.error.is_empty() && kit.failed.is_none() {
            kit.failed = Some((vertex.name.clone(), redact(&vertex.error).into_owned()));
        }
    }
    for log in &status.logs {
        for line in String::from_utf8_lossy(&log.msg)
            .lines()
            .map(str::trim_end)
            .filter(|line| !line.is_empty())
        {
            recent_output.push(line.to_owned());
            if recent_output.len() > 20 {
                recent_output.remove(0);
            }
            sink(DockerEvent::Output {
                line: redact(line).into_owned(),
            });
        }
    }
}

/// BuildKit names the failing vertex; pulling a base image is `[internal] load metadata for <image>`.
fn buildkit_failure(vertex: &str, message: &str, output: &[String]) -> DockerError {
    if let Some(image) = vertex.strip_prefix("[internal] load metadata for ") {
        return DockerError::BaseImage {
            image: image.trim().to_owned(),
            message: message.to_owned(),
        };
    }
    let base = vertex
        .split_once("] ")
        .map(|(_, instruction)| instruction)
        .and_then(|instruction| instruction.strip_prefix("FROM "))
        .and_then(|rest| rest.split_whitespace().next());
    if let Some(image) = base {
        return DockerError::BaseImage {
            image: image.to_owned(),
            message: message.to_owned(),
        };
    }
    build_failure(&format!("step {vertex}"), message, output)
}

/// A failure in the FROM step names the base image; anything else names its step.
fn build_failure(step: &str, message: &str, output: &[String]) -> DockerError {
    let instruction = step
        .split_once(" : ")
        .map(|(_, instruction)| instruction.trim())
        .unwrap_or_default();
    let base = instruction
        .split_once(char::is_whitespace)
        .filter(|(keyword, _)| keyword.eq_ignore_ascii_case("FROM"))
        .and_then(|(_, rest)| rest.split_whitespace().next());
    if let Some(image) = base {
        return DockerError::BaseImage {
            image: image.to_owned(),
            message: message.to_owned(),
        };
    }
    let message = if output.is_empty() {
        message.to_owned()
    } else {
        format!("{message}\n{}", output.join("\n"))
    };
    DockerError::BuildFailed {
        step: step.to_owned(),
        message,
    }
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

/// Registry credentials for one push; the secret never leaves this struct but for the
/// `X-Registry-Auth` header.
pub struct RegistryCredentials {
    pub username: String,
    pub secret: String,
    pub server: String,
}

impl RegistryCredentials {
    fn header(&self) -> String {
        let json = serde_json::json!({
            "username": self.username,
            "password": self.secret,
            "serveraddress": self.server,
        });
        let header = base64::engine::general_purpose::URL_SAFE.encode(json.to_string());
        register_secret(&self.secret, Some(&self.username));
        register_secret(&header, None);
        header
    }
}

#[derive(Deserialize)]
struct PushMessage {
    status: Option<String>,
    id: Option<String>,
    #[serde(rename = "progressDetail")]
    progress: Option<Progress>,
    #[serde(rename = "errorDetail")]
    error_detail: Option<ErrorMessage>,
    error: Option<String>,
    aux: Option<PushAux>,
}

#[derive(Deserialize)]
struct Progress {
    current: Option<u64>,
    total: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorMessage {
    message: Option<String>,
}

#[derive(Deserialize)]
struct PushAux {
    #[serde(rename = "Digest")]
    digest: Option<String>,
}

/// Pushes `reference` with per-layer progress and returns the pushed digest.
///
/// bollard's push model drops each message's layer `id`, so the push talks to the engine's
/// API directly (unix socket or plain TCP) and reads the JSON stream itself.
pub async fn push(
    engine: &EngineEndpoint,
    reference: &ImageReference,
    credentials: &RegistryCredentials,
    cancel: &CancellationToken,
    sink: DockerSink<'_>,
) -> Result<String, DockerError> {
    let path = format!(
        "/images/{}/push?tag={}",
        reference.name().replace('/', "%2F"),
        reference.tag
    );
    let request = hyper::Request::post(path.clone())
        .header("X-Registry-Auth", credentials.header())
        .header("Host", "docker")
        .body(Full::new(bytes::Bytes::new()))
        .map_err(|error| DockerError::Engine(error.to_string()))?;
    let response = send_to_engine(engine, request).await?;
    let status = response.status();
    let mut body = response.into_body();
    if !status.is_success() {
        let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        return Err(registry_error(&text, reference));
    }
    let mut layers: BTreeMap<String, (u64, u64, bool)> = BTreeMap::new();
    let mut shown_percent = 0.0_f64;
    let mut pending = Vec::new();
    let mut digest = None;
    loop {
        let frame = tokio::select! {
            frame = body.frame() => frame,
            () = cancel.cancelled() => return Err(DockerError::Cancelled),
        };
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|error| DockerError::Engine(error.to_string()))?;
        let Ok(data) = frame.into_data() else { continue };
        pending.extend_from_slice(&data);
        while let Some(newline) = pending.iter().position(|byte| *byte == b'\n') {
            let line: Vec<u8> = pending.drain(..=newline).collect();
            let Ok(message) = serde_json::from_slice::<PushMessage>(&line) else {
                continue;
            };
            if let Some(error) = message.error_detail.and_then(|detail| detail.message).or(message.error) {
                return Err(registry_error(&error, reference));
            }
            if let Some(found) = message.aux.and_then(|aux| aux.digest) {
                digest = Some(found);
            }
            let (Some(id), Some(status)) = (message.id, message.status) else {
                continue;
            };
            let entry = layers.entry(id.clone()).or_insert((0, 0, false));
            if let Some(progress) = message.progress {
                if let Some(total) = progress.total {
                    entry.1 = total;
                }
                if let Some(current) = progress.current {
                    entry.0 = current;
                }
            }
            if status == "Pushed" || status == "Layer already exists" || status.starts_with("Mounted from") {
                entry.2 = true;
                entry.0 = entry.1;
            }
            sink(DockerEvent::Layer {
                id,
                status,
                current: entry.0,
                total: entry.1,
            });
            let done: u64 = layers.values().map(|(current, _, _)| current).sum();
            let total: u64 = layers.values().map(|(_, total, _)| total).sum();
            let all_sized = layers.values().all(|(_, total, finished)| *finished || *total > 0);
            // By bytes once every layer's size is known; before that each layer counts the
            // same. Never backwards: a bar that shrinks is worse than one that waits.
            let measured = if all_sized && total > 0 {
                done as f64 * 100.0 / total as f64
            } else {
                let fractions: f64 = layers
                    .values()
                    .map(|(current, total, finished)| match (*finished, *total) {
                        (true, _) => 1.0,
                        (false, 0) => 0.0,
                        (false, total) => *current as f64 / total as f64,
                    })
                    .sum();
                fractions * 100.0 / layers.len().max(1) as f64
            };
            shown_percent = shown_percent.max(measured.min(100.0));
            let percent = shown_percent;
            sink(DockerEvent::PushProgress { done, total, percent });
        }
    }
    let digest = digest.ok_or_else(|| DockerError::Engine("the engine did not report the pushed digest".to_owned()))?;
    let total: u64 = layers.values().map(|(_, total, _)| total).sum();
    sink(DockerEvent::PushProgress {
        done: total,
        total,
        percent: 100.0,
    });
    sink(DockerEvent::Pushed {
        reference: reference.full(),
        digest: digest.clone(),
    });
    Ok(digest)
}

/// Asks the engine to log in to the registry (`POST /auth`), as `docker login` does: the
/// engine runs the registry's own token flow, so a success means a push would authenticate.
pub async fn engine_login(engine: &EngineEndpoint, credentials: &RegistryCredentials) -> Result<(), DockerError> {
    let body = serde_json::json!({
        "username": credentials.username,
        "password": credentials.secret,
        "serveraddress": credentials.server,
    });
    register_secret(&credentials.secret, Some(&credentials.username));
    let request = hyper::Request::post("/auth")
        .header("Host", "docker")
        .header("Content-Type", "application/json")
        .body(Full::new(bytes::Bytes::from(body.to_string())))
        .map_err(|error| DockerError::Engine(error.to_string()))?;
    let response = send_to_engine(engine, request).await?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    if status.is_success() {
        return Ok(());
    }
    let text = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|value| value["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
    let reference = ImageReference {
        registry: Some(credentials.server.clone()),
        repository: String::new(),
        tag: String::new(),
    };
    Err(match registry_error(&text, &reference) {
        DockerError::Engine(message) if status.as_u16() == 401 || message.contains("401") => {
            DockerError::RegistryAuth {
                registry: credentials.server.clone(),
                message,
            }
        }
        other => other,
    })
}

fn registry_error(text: &str, reference: &ImageReference) -> DockerError {
    let registry = reference.registry.clone().unwrap_or_else(|| "Docker Hub".to_owned());
    let message = redact(text.trim()).into_owned();
    let lower = message.to_lowercase();
    if lower.contains("unauthorized") || lower.contains("authentication required") || lower.contains("401") {
        DockerError::RegistryAuth { registry, message }
    } else if lower.contains("denied") || lower.contains("forbidden") || lower.contains("insufficient_scope") {
        DockerError::RegistryDenied { registry, message }
    } else if lower.contains("connection refused")
        || lower.contains("no such host")
        || lower.contains("i/o timeout")
        || lower.contains("dial tcp")
    {
        DockerError::RegistryUnreachable { registry, message }
    } else if lower.contains("no space left") {
        DockerError::DiskFull(message)
    } else {
        DockerError::Engine(message)
    }
}

async fn send_to_engine(
    engine: &EngineEndpoint,
    request: hyper::Request<Full<bytes::Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, DockerError> {
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let address = engine.address.as_str();
    let unreachable = |reason: String| DockerError::Unreachable {
        address: address.to_owned(),
        reason,
    };
    let failed =
        |error: hyper_util::client::legacy::Error| unreachable(super::plain_reason(&super::error_chain(&error)));
    if let Some(socket) = address.strip_prefix("unix://") {
        let uri: hyper::Uri = hyperlocal::Uri::new(socket, &request.uri().to_string()).into();
        let (mut parts, body) = request.into_parts();
        parts.uri = uri;
        let client: Client<hyperlocal::UnixConnector, Full<bytes::Bytes>> =
            Client::builder(TokioExecutor::new()).build(hyperlocal::UnixConnector);
        return client
            .request(hyper::Request::from_parts(parts, body))
            .await
            .map_err(failed);
    }
    let host = address
        .strip_prefix("tcp://")
        .or_else(|| address.strip_prefix("http://"))
        .or_else(|| address.strip_prefix("https://"))
        .ok_or_else(|| unreachable("the address must start with unix://, tcp:// or https://".to_owned()))?;
    let scheme = if engine.tls_dir.is_some() { "https" } else { "http" };
    let uri: hyper::Uri = format!("{scheme}://{host}{}", request.uri())
        .parse()
        .map_err(|error: hyper::http::uri::InvalidUri| unreachable(error.to_string()))?;
    let (mut parts, body) = request.into_parts();
    parts.uri = uri;
    let request = hyper::Request::from_parts(parts, body);
    match &engine.tls_dir {
        None => {
            let client: Client<_, Full<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
            client.request(request).await.map_err(failed)
        }
        Some(dir) => {
            let config = tls_config(dir)
                .map_err(|reason| unreachable(format!("the TLS files in {}: {reason}", dir.display())))?;
            let mut http = HttpConnector::new();
            http.enforce_http(false);
            let connector = hyper_rustls::HttpsConnector::from((http, config));
            let client: Client<_, Full<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
            client.request(request).await.map_err(failed)
        }
    }
}

/// The engine's CA and this client's certificate and key, from Docker's cert folder.
fn tls_config(dir: &std::path::Path) -> Result<rustls::ClientConfig, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(dir.join("ca.pem")).map_err(|error| format!("ca.pem: {error}"))? {
        roots
            .add(cert.map_err(|error| format!("ca.pem: {error}"))?)
            .map_err(|error| format!("ca.pem: {error}"))?;
    }
    let chain = CertificateDer::pem_file_iter(dir.join("cert.pem"))
        .map_err(|error| format!("cert.pem: {error}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("cert.pem: {error}"))?;
    let key = PrivateKeyDer::from_pem_file(dir.join("key.pem")).map_err(|error| format!("key.pem: {error}"))?;
    rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|error| error.to_string())
}
