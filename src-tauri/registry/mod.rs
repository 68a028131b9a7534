//! The registry room: what a registry itself says about an image, over its HTTP API (v2),
//! with the token flow Docker Hub and most registries use, or basic auth.

use std::time::Duration;

use crate::docker::ImageReference;
use crate::error::{AppError, ErrorKind};
use crate::secrets::redact;

const MANIFEST_TYPES: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0} refused the credentials")]
    Auth(String),
    #[error("{0} could not be reached: {1}")]
    Unreachable(String, String),
    #[error("{0} answered {1}")]
    Unexpected(String, String),
}

impl From<RegistryError> for AppError {
    fn from(error: RegistryError) -> Self {
        let (kind, hint) = match &error {
            RegistryError::Auth(_) => (
                ErrorKind::RegistryAuth,
                "Re-enter the registry username and access token in Settings.",
            ),
            RegistryError::Unreachable(..) => (ErrorKind::Network, "Check the registry address and your connection."),
            RegistryError::Unexpected(..) => (
                ErrorKind::Unknown,
                "Try again; the log folder has the registry's answer.",
            ),
        };
        AppError::new(kind, redact(&error.to_string()), hint)
    }
}

/// The registry's base URL: plain HTTP for this machine's registries, HTTPS elsewhere.
pub fn base_url(registry: Option<&str>) -> String {
    match registry {
        None | Some("docker.io") | Some("index.docker.io") => "https://registry-1.docker.io".to_owned(),
        Some(host) if host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]") => {
            format!("http://{host}")
        }
        Some(host) => format!("https://{host}"),
    }
}

/// The digest the registry holds for `reference`'s tag.
pub async fn manifest_digest(
    reference: &ImageReference,
    username: &str,
    secret: &str,
) -> Result<String, RegistryError> {
    let registry = reference.registry.clone().unwrap_or_else(|| "Docker Hub".to_owned());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|error| RegistryError::Unreachable(registry.clone(), error.to_string()))?;
    let repository = if reference.registry.is_none() && !reference.repository.contains('/') {
        format!("library/{}", reference.repository)
    } else {
        reference.repository.clone()
    };
    let url = format!(
        "{}/v2/{repository}/manifests/{}",
        base_url(reference.registry.as_deref()),
        reference.tag
    );
    let unreachable =
        |error: reqwest::Error| RegistryError::Unreachable(registry.clone(), redact(&error.to_string()).into_owned());
    let first = http
        .head(&url)
        .header("Accept", MANIFEST_TYPES)
        .send()
        .await
        .map_err(unreachable)?;
    let response = if first.status() == reqwest::StatusCode::UNAUTHORIZED {
        let challenge = first
            .headers()
            .get("www-authenticate")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let request = http.head(&url).header("Accept", MANIFEST_TYPES);
        let request = if challenge.to_lowercase().starts_with("bearer") {
            let token = bearer_token(&http, &challenge, username, secret, &registry).await?;
            request.bearer_auth(token)
        } else {
            request.basic_auth(username, Some(secret))
        };
        request.send().await.map_err(unreachable)?
    } else {
        first
    };
    match response.status() {
        status if status.is_success() => response
            .headers()
            .get("docker-content-digest")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| RegistryError::Unexpected(registry, "no Docker-Content-Digest header".to_owned())),
        reqwest::StatusCode::UNAUTHORIZED | reqwest::StatusCode::FORBIDDEN => Err(RegistryError::Auth(registry)),
        status => Err(RegistryError::Unexpected(registry, status.to_string())),
    }
}

async fn bearer_token(
    http: &reqwest::Client,
    challenge: &str,
    username: &str,
    secret: &str,
    registry: &str,
) -> Result<String, RegistryError> {
    let field = |name: &str| {
        challenge
            .split(',')
            .filter_map(|part| part.trim().trim_start_matches("Bearer ").split_once('='))
            .find(|(key, _)| key.trim().eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim().trim_matches('"').to_owned())
    };
    let realm = field("realm").ok_or_else(|| {
        RegistryError::Unexpected(registry.to_owned(), "a token challenge without a realm".to_owned())
    })?;
    let mut query = Vec::new();
    query.extend(field("service").map(|service| ("service", service)));
    query.extend(field("scope").map(|scope| ("scope", scope)));
    let answer: serde_json::Value = http
        .get(&realm)
        .query(&query)
        .basic_auth(username, Some(secret))
        .send()
        .await
        .map_err(|error| RegistryError::Unreachable(registry.to_owned(), redact(&error.to_string()).into_owned()))?
        .error_for_status()
        .map_err(|_| RegistryError::Auth(registry.to_owned()))?
        .json()
        .await
        .map_err(|error| RegistryError::Unexpected(registry.to_owned(), error.to_string()))?;
    answer["token"]
        .as_str()
        .or(answer["access_token"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| RegistryError::Unexpected(registry.to_owned(), "a token answer without a token".to_owned()))
}
