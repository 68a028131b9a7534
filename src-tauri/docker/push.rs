//! The push and the engine's registry login, through the engine's HTTP API.

use std::collections::BTreeMap;

use base64::Engine;
use http_body_util::{BodyExt, Full};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::engine_http::send_to_engine;
use super::events::{DockerEvent, DockerSink};
use super::reference::ImageReference;
use super::{DockerError, EngineEndpoint};
use crate::redact::{redact, register_secret};

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

/// The push's progress over its layers, from the engine's per-layer messages.
#[derive(Default)]
struct PushProgress {
    /// Per layer: bytes sent, its size (0 until known), finished.
    layers: BTreeMap<String, (u64, u64, bool)>,
    shown_percent: f64,
}

impl PushProgress {
    /// Takes one layer message; returns that layer's bytes sent and size.
    fn update(&mut self, id: &str, status: &str, progress: Option<&Progress>) -> (u64, u64) {
        let entry = self.layers.entry(id.to_owned()).or_insert((0, 0, false));
        if let Some(progress) = progress {
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
        (entry.0, entry.1)
    }

    /// Bytes sent, bytes in all, and the percentage shown.
    ///
    /// By bytes once every layer's size is known; before that each layer counts the same.
    /// Never backwards: a bar that shrinks is worse than one that waits.
    fn figures(&mut self) -> (u64, u64, f64) {
        let done: u64 = self.layers.values().map(|(current, _, _)| current).sum();
        let total: u64 = self.layers.values().map(|(_, total, _)| total).sum();
        let all_sized = self.layers.values().all(|(_, total, finished)| *finished || *total > 0);
        let measured = if all_sized && total > 0 {
            done as f64 * 100.0 / total as f64
        } else {
            let fractions: f64 = self
                .layers
                .values()
                .map(|(current, total, finished)| match (*finished, *total) {
                    (true, _) => 1.0,
                    (false, 0) => 0.0,
                    (false, total) => *current as f64 / total as f64,
                })
                .sum();
            fractions * 100.0 / self.layers.len().max(1) as f64
        };
        self.shown_percent = self.shown_percent.max(measured.min(100.0));
        (done, total, self.shown_percent)
    }
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
    let mut progress = PushProgress::default();
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
            let (current, total) = progress.update(&id, &status, message.progress.as_ref());
            sink(DockerEvent::Layer {
                id,
                status,
                current,
                total,
            });
            let (done, total, percent) = progress.figures();
            sink(DockerEvent::PushProgress { done, total, percent });
        }
    }
    let digest = digest.ok_or_else(|| DockerError::Engine("the engine did not report the pushed digest".to_owned()))?;
    let total = progress.figures().1;
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
    let registry = super::Registry::of(reference).to_string();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(current: u64, total: u64) -> Progress {
        Progress {
            current: Some(current),
            total: Some(total),
        }
    }

    #[test]
    fn progress_counts_layers_evenly_until_every_size_is_known() {
        let mut progress = PushProgress::default();
        progress.update("a", "Preparing", None);
        progress.update("b", "Preparing", None);
        assert_eq!(progress.figures(), (0, 0, 0.0));
        // One layer half sent, the other's size unknown: a quarter.
        progress.update("a", "Pushing", Some(&sent(50, 100)));
        assert_eq!(progress.figures().2, 25.0);
        // Both sized: by bytes (50 of 1,100).
        progress.update("b", "Pushing", Some(&sent(0, 1000)));
        let (done, total, percent) = progress.figures();
        assert_eq!((done, total), (50, 1100));
        // Never backwards: 4.5 % by bytes is below the 25 % already shown.
        assert_eq!(percent, 25.0);
    }

    #[test]
    fn finished_layers_count_whole_and_the_bar_reaches_one_hundred() {
        let mut progress = PushProgress::default();
        assert_eq!(progress.update("a", "Layer already exists", None), (0, 0));
        progress.update("b", "Pushing", Some(&sent(400, 800)));
        assert_eq!(progress.figures().2, 50.0);
        progress.update("b", "Pushed", None);
        assert_eq!(
            progress.update("c", "Mounted from library/python", Some(&sent(0, 200))),
            (200, 200)
        );
        let (done, total, percent) = progress.figures();
        assert_eq!((done, total, percent), (1000, 1000, 100.0));
    }
}
