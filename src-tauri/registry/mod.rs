//! The registry room: what a registry itself says about an image, over its HTTP API (v2),
//! with the token flow Docker Hub and most registries use, or basic auth.

use std::time::Duration;

use crate::docker::{ImageReference, Registry};
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
fn base_url(registry: Option<&str>) -> String {
    registry.map_or_else(Registry::docker_hub, Registry::named).api_base()
}

fn client(registry: &str) -> Result<reqwest::Client, RegistryError> {
    crate::http::client_builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|error| RegistryError::Unreachable(registry.to_owned(), error.to_string()))
}

fn registry_label(reference: &ImageReference) -> String {
    Registry::of(reference).to_string()
}

/// The repository path on the registry (Docker Hub puts official images under `library/`).
fn remote_repository(reference: &ImageReference) -> String {
    if reference.registry.is_none() && !reference.repository.contains('/') {
        format!("library/{}", reference.repository)
    } else {
        reference.repository.clone()
    }
}

/// Sends `build()`; on a 401 answers the registry's challenge (basic, or the bearer token
/// flow) and sends it again.
async fn authorized(
    http: &reqwest::Client,
    build: impl Fn() -> reqwest::RequestBuilder,
    username: &str,
    secret: &str,
    registry: &str,
) -> Result<reqwest::Response, RegistryError> {
    let unreachable = |error: reqwest::Error| {
        RegistryError::Unreachable(registry.to_owned(), redact(&error.to_string()).into_owned())
    };
    let first = build().send().await.map_err(unreachable)?;
    if first.status() != reqwest::StatusCode::UNAUTHORIZED {
        return Ok(first);
    }
    let challenge = first
        .headers()
        .get("www-authenticate")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let request = if challenge.to_lowercase().starts_with("bearer") {
        build().bearer_auth(bearer_token(http, &challenge, username, secret, registry).await?)
    } else {
        build().basic_auth(username, Some(secret))
    };
    request.send().await.map_err(unreachable)
}

/// The digest the registry holds for `reference`'s tag.
pub async fn manifest_digest(
    reference: &ImageReference,
    username: &str,
    secret: &str,
) -> Result<String, RegistryError> {
    let registry = registry_label(reference);
    let http = client(&registry)?;
    let url = format!(
        "{}/v2/{}/manifests/{}",
        base_url(reference.registry.as_deref()),
        remote_repository(reference),
        reference.tag
    );
    let response = authorized(
        &http,
        || http.head(&url).header("Accept", MANIFEST_TYPES),
        username,
        secret,
        &registry,
    )
    .await?;
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

/// The tags the registry holds for `reference`'s repository, sorted. Docker Hub through its
/// web API (`hub_api` is its base URL, a setting so tests point it at a stand-in); any other
/// registry through `/v2/<name>/tags/list`. Both paginate; every page is read.
pub async fn list_tags(
    reference: &ImageReference,
    username: &str,
    secret: &str,
    hub_api: &str,
) -> Result<Vec<String>, RegistryError> {
    let registry = registry_label(reference);
    let http = client(&registry)?;
    let mut tags = Vec::new();
    let mut next = Some(match &reference.registry {
        None => {
            let (namespace, name) = remote_repository(reference)
                .split_once('/')
                .map(|(n, r)| (n.to_owned(), r.to_owned()))
                .unwrap_or_default();
            format!("{hub_api}/v2/namespaces/{namespace}/repositories/{name}/tags?page_size=100")
        }
        Some(host) => format!(
            "{}/v2/{}/tags/list?n=100",
            base_url(Some(host)),
            remote_repository(reference)
        ),
    });
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > 1000 {
            break;
        }
        let response = authorized(&http, || http.get(&url), username, secret, &registry).await?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            break; // nothing pushed yet
        }
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(RegistryError::Auth(registry));
        }
        if !status.is_success() {
            return Err(RegistryError::Unexpected(registry, status.to_string()));
        }
        let link = response
            .headers()
            .get("link")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|error| RegistryError::Unexpected(registry.clone(), error.to_string()))?;
        if reference.registry.is_none() {
            tags.extend(
                body["results"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|tag| tag["name"].as_str().map(str::to_owned)),
            );
            next = body["next"].as_str().filter(|url| !url.is_empty()).map(str::to_owned);
        } else {
            tags.extend(
                body["tags"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|tag| tag.as_str().map(str::to_owned)),
            );
            // `Link: </v2/name/tags/list?last=x&n=100>; rel="next"`
            next = link
                .and_then(|link| {
                    link.split(';')
                        .next()
                        .map(|url| url.trim().trim_matches(['<', '>']).to_owned())
                })
                .map(|path| format!("{}{path}", base_url(reference.registry.as_deref())));
        }
    }
    tags.sort();
    tags.dedup();
    Ok(tags)
}

/// Whether the credentials may push to `repository` (`namespace/name` on `registry`, `None`
/// for Docker Hub). A read-only token is the most common failure of first pushes, so it is
/// found here, before any release: with the token flow, the token the registry grants for
/// `pull,push` must list `push`; with basic auth, an upload is started and abandoned.
pub async fn can_push(
    registry: Option<&str>,
    repository: &str,
    username: &str,
    secret: &str,
) -> Result<bool, RegistryError> {
    let label = registry.map_or_else(Registry::docker_hub, Registry::named).to_string();
    let http = client(&label)?;
    let base = base_url(registry);
    let unreachable =
        |error: reqwest::Error| RegistryError::Unreachable(label.clone(), redact(&error.to_string()).into_owned());
    let probe = http.get(format!("{base}/v2/")).send().await.map_err(unreachable)?;
    let challenge = probe
        .headers()
        .get("www-authenticate")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if challenge.to_lowercase().starts_with("bearer") {
        let scoped = replace_scope(&challenge, &format!("repository:{repository}:pull,push"));
        let token = bearer_token(&http, &scoped, username, secret, &label).await?;
        if let Some(actions) = granted_actions(&token, repository) {
            return Ok(actions.iter().any(|action| action == "push" || action == "*"));
        }
        return upload_probe(&http, &base, repository, |request| request.bearer_auth(&token), &label).await;
    }
    upload_probe(
        &http,
        &base,
        repository,
        |request| request.basic_auth(username, Some(secret)),
        &label,
    )
    .await
}

fn replace_scope(challenge: &str, scope: &str) -> String {
    let without = regex::Regex::new(r#",?\s*scope="[^"]*""#)
        .map(|pattern| pattern.replace_all(challenge, "").into_owned())
        .unwrap_or_else(|_| challenge.to_owned());
    format!("{without},scope=\"{scope}\"")
}

/// The actions a registry JWT grants on `repository` (its `access` claim), if it is a JWT.
fn granted_actions(token: &str, repository: &str) -> Option<Vec<String>> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let access = claims["access"].as_array()?;
    Some(
        access
            .iter()
            .filter(|entry| entry["name"].as_str() == Some(repository))
            .flat_map(|entry| entry["actions"].as_array().cloned().unwrap_or_default())
            .filter_map(|action| action.as_str().map(str::to_owned))
            .collect(),
    )
}

async fn upload_probe(
    http: &reqwest::Client,
    base: &str,
    repository: &str,
    authorize: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    label: &str,
) -> Result<bool, RegistryError> {
    let unreachable =
        |error: reqwest::Error| RegistryError::Unreachable(label.to_owned(), redact(&error.to_string()).into_owned());
    let started = authorize(http.post(format!("{base}/v2/{repository}/blobs/uploads/")))
        .send()
        .await
        .map_err(unreachable)?;
    match started.status() {
        reqwest::StatusCode::ACCEPTED => {
            if let Some(location) = started.headers().get("location").and_then(|value| value.to_str().ok()) {
                let url = if location.starts_with("http") {
                    location.to_owned()
                } else {
                    format!("{base}{location}")
                };
                // Nothing was uploaded; cancelling leaves the registry as it was.
                let _ = authorize(http.delete(url)).send().await;
            }
            Ok(true)
        }
        reqwest::StatusCode::UNAUTHORIZED => Err(RegistryError::Auth(label.to_owned())),
        reqwest::StatusCode::FORBIDDEN => Ok(false),
        status => Err(RegistryError::Unexpected(label.to_owned(), status.to_string())),
    }
}

async fn bearer_token(
    http: &reqwest::Client,
    challenge: &str,
    username: &str,
    secret: &str,
    registry: &str,
) -> Result<String, RegistryError> {
    // `key="value"` pairs; a value may hold commas (`scope="repository:a/b:pull,push"`).
    let pairs: Vec<(String, String)> = regex::Regex::new(r#"(\w+)="([^"]*)""#)
        .map(|pattern| {
            pattern
                .captures_iter(challenge)
                .map(|capture| (capture[1].to_lowercase(), capture[2].to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_with_commas_survives_the_challenge() {
        let challenge = r#"Bearer realm="https://auth.example.test/token",service="registry.example.test",scope="repository:a/b:pull""#;
        let replaced = replace_scope(challenge, "repository:a/b:pull,push");
        assert_eq!(
            replaced,
            r#"Bearer realm="https://auth.example.test/token",service="registry.example.test",scope="repository:a/b:pull,push""#
        );
    }
}
