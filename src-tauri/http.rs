//! What every web API client shares: timeouts, retries with backoff and jitter on 429 and
//! 5xx (honouring `Retry-After` and the services' rate-limit reset headers), and errors whose
//! URLs and bodies pass through the redactor. Base URLs are always given, never built in, so
//! tests and self-hosted users point clients elsewhere.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{AppError, ErrorKind};
use crate::secrets::{redact, Secret};

const TIMEOUT: Duration = Duration::from_secs(30);
/// Retries after the first try, for 429 and 5xx answers and network errors.
const RETRIES: u32 = 3;
/// A `Retry-After` longer than this is not waited for: the error says when to try again.
/// Render's limits reset each minute: its whole window (and the jitter) is waited for.
const LONGEST_WAIT: Duration = Duration::from_secs(62);

/// The one TLS stack: rustls with ring, as the engine client uses. reqwest and Sentry are
/// built without a crypto provider of their own, so it is installed once for the process.
pub fn install_tls() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err only when one is already installed, which is what is wanted.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Every HTTP client starts here: the TLS stack installed and Slipway's user agent.
pub(crate) fn client_builder() -> reqwest::ClientBuilder {
    install_tls();
    reqwest::Client::builder().user_agent(concat!("slipway/", env!("CARGO_PKG_VERSION")))
}

/// Asks `url` once, without following redirects (a redirect already says the app answers):
/// its status, or why nothing answered. For the live check, which retries until its deadline.
pub async fn probe(url: &str) -> Result<StatusCode, String> {
    static CLIENT: std::sync::OnceLock<Result<reqwest::Client, String>> = std::sync::OnceLock::new();
    let client = CLIENT
        .get_or_init(|| {
            client_builder()
                .timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|error| error.to_string())
        })
        .as_ref()
        .map_err(Clone::clone)?;
    match client.get(url).send().await {
        Ok(response) => Ok(response.status()),
        Err(error) => Err(redact(&error.without_url().to_string()).into_owned()),
    }
}

/// How a service wants its credential.
pub enum Auth {
    Bearer(Secret),
    /// A named header (`Circle-Token`).
    Header(&'static str, Secret),
    /// The URL is the secret (a deploy hook).
    None,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{service} refused the credentials (401)")]
    Unauthorized { service: &'static str },
    #[error("{service} denied the request (403): {detail}")]
    Forbidden { service: &'static str, detail: String },
    #[error("{service} has no {what} (404)")]
    NotFound { service: &'static str, what: String },
    #[error("{service} is rate limiting requests; try again in {retry_after_secs} s")]
    RateLimited {
        service: &'static str,
        retry_after_secs: u64,
    },
    #[error("{service} answered {status}: {detail}")]
    Status {
        service: &'static str,
        status: u16,
        detail: String,
    },
    #[error("{service} could not be reached: {reason}")]
    Network { service: &'static str, reason: String },
    #[error("{service} answered something Slipway could not read: {detail}")]
    Unreadable { service: &'static str, detail: String },
    #[error("the call to {service} was cancelled while it waited to try again")]
    Cancelled { service: &'static str },
    /// A request that changes something (a deploy) may have reached the service, but no
    /// answer says what it did: it is never sent again; the caller looks for what happened.
    #[error("{service} did not confirm the request: {reason}")]
    Unconfirmed { service: &'static str, reason: String },
}

impl From<ApiError> for AppError {
    /// A plain sentence naming the service; the status code and the service's words go in
    /// the detail.
    fn from(error: ApiError) -> Self {
        use crate::error::ErrorAction;
        let detail = error.to_string();
        let plain = |kind, message: String, hint: &str| AppError::new(kind, message, hint).with_detail(detail.clone());
        match &error {
            ApiError::Unauthorized { service } => plain(
                ErrorKind::RegistryAuth,
                format!("{service} did not accept your token."),
                "The token is wrong or has expired: create a new one and enter it.",
            )
            .with_action(ErrorAction::ReenterToken),
            ApiError::Forbidden { service, .. } => plain(
                ErrorKind::RegistryDenied,
                format!("Your {service} token is missing a permission."),
                "Create a token with the permissions Settings lists and enter it.",
            )
            .with_action(ErrorAction::ReenterToken),
            ApiError::NotFound { service, what } => plain(
                ErrorKind::NotFound,
                format!("{service} has no {what}."),
                "Check the names chosen for this service in Settings (organization, project, service).",
            )
            .with_action(ErrorAction::OpenAccounts),
            ApiError::RateLimited {
                service,
                retry_after_secs,
            } => plain(
                ErrorKind::RateLimited,
                format!("{service} asked Slipway to slow down."),
                &format!("Wait {retry_after_secs} seconds, then try again."),
            )
            .with_action(ErrorAction::Retry),
            ApiError::Status { service, status, .. } if *status >= 500 => plain(
                ErrorKind::Network,
                format!("{service} is having trouble right now."),
                "Try again in a few minutes; the service's status page says when it is back.",
            )
            .with_action(ErrorAction::Retry),
            ApiError::Status { service, .. } | ApiError::Unreadable { service, .. } => plain(
                ErrorKind::Unknown,
                format!("{service} gave an answer Slipway did not expect."),
                "Try again; the technical details say what it answered.",
            )
            .with_action(ErrorAction::Retry),
            ApiError::Cancelled { .. } => plain(
                ErrorKind::Cancelled,
                "Cancelled.".to_owned(),
                "Run it again when you are ready.",
            ),
            ApiError::Network { service, .. } => plain(
                ErrorKind::Network,
                format!("{service} could not be reached."),
                "Check your internet connection, then try again.",
            )
            .with_action(ErrorAction::Retry),
            ApiError::Unconfirmed { service, .. } => plain(
                ErrorKind::Network,
                format!("{service} did not confirm the request, and it may have been done."),
                &format!("Look at what {service} shows before trying again, so nothing is done twice."),
            ),
        }
    }
}

/// One service's client.
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    auth: Auth,
    service: &'static str,
    /// Ends every wait between tries at once (a release's cancel): nothing is sent after it.
    cancel: Option<tokio_util::sync::CancellationToken>,
    /// Told every second of a wait between tries how long is left, for a countdown.
    on_wait: Option<WaitWatcher>,
}

/// What a long wait between tries is shown through.
pub type WaitWatcher = std::sync::Arc<dyn Fn(Duration) + Send + Sync>;

impl ApiClient {
    pub fn new(service: &'static str, base: &str, auth: Auth) -> Result<Self, ApiError> {
        let http = client_builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|error| ApiError::Network {
                service,
                reason: error.to_string(),
            })?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            auth,
            service,
            cancel: None,
            on_wait: None,
        })
    }

    /// The client that says, every second of a wait between tries, how long is left.
    pub fn watched_by(mut self, on_wait: WaitWatcher) -> Self {
        self.on_wait = Some(on_wait);
        self
    }

    /// Waits `wait` before another try, a second at a time when someone watches; `Err` when
    /// the cancel fired meanwhile.
    async fn wait_between_tries(&self, wait: Duration) -> Result<(), ApiError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            let slice = match &self.on_wait {
                Some(watch) => {
                    watch(left);
                    left.min(Duration::from_secs(1))
                }
                None => left,
            };
            match &self.cancel {
                Some(cancel) => tokio::select! {
                    () = cancel.cancelled() => return Err(ApiError::Cancelled { service: self.service }),
                    () = tokio::time::sleep(slice) => {}
                },
                None => tokio::time::sleep(slice).await,
            }
        }
    }

    /// The client whose waits between tries end when `cancel` fires, with
    /// [`ApiError::Cancelled`] instead of another try.
    pub fn cancelled_by(mut self, cancel: tokio_util::sync::CancellationToken) -> Self {
        self.cancel = Some(cancel);
        self
    }

    /// `path` is below the base URL (`/v1/owners`), or a full URL from a `next` link.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Sends a request, retrying 429 and 5xx answers and network errors, and returns the
    /// answer of any other status for the caller to read. For reads and other requests that
    /// may be repeated; a request that must happen at most once goes through [`Self::send_once`].
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response, ApiError> {
        self.send_with(method, path, body, true).await
    }

    /// Sends a request that must happen at most once (a deploy, a rollback, a cancel): it is
    /// tried again only when it surely never reached the service (a 429, which the service
    /// refused unread, or a connection that never opened). A 5xx, a time-out or a connection
    /// lost after sending is [`ApiError::Unconfirmed`]: the caller finds out what happened.
    pub async fn send_once(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response, ApiError> {
        self.send_with(method, path, body, false).await
    }

    async fn send_with(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        repeatable: bool,
    ) -> Result<reqwest::Response, ApiError> {
        let url = self.url(path);
        let mut attempt = 0;
        loop {
            let mut request = self.http.request(method.clone(), &url);
            request = match &self.auth {
                Auth::Bearer(secret) => request.bearer_auth(secret.expose()),
                Auth::Header(name, secret) => request.header(*name, secret.expose()),
                Auth::None => request,
            };
            if let Some(body) = body {
                request = request.json(body);
            }
            let outcome = request.send().await;
            if !repeatable {
                let unconfirmed = match &outcome {
                    Ok(response) if response.status().is_server_error() => {
                        Some(format!("it answered {}", response.status()))
                    }
                    // Said without the error's own words: they carry the URL, a hook's secret.
                    Err(error) if error.is_timeout() => Some("it did not answer in time".to_owned()),
                    Err(error) if !error.is_connect() => Some("the connection was lost".to_owned()),
                    _ => None,
                };
                if let Some(reason) = unconfirmed {
                    return Err(ApiError::Unconfirmed {
                        service: self.service,
                        reason,
                    });
                }
            }
            let retry_in = match &outcome {
                Ok(response)
                    if response.status() == StatusCode::TOO_MANY_REQUESTS || response.status().is_server_error() =>
                {
                    Some(wait_for(response.headers(), attempt))
                }
                Err(_) => Some(backoff(attempt)),
                Ok(_) => None,
            };
            match (retry_in, outcome) {
                (Some(wait), outcome) if attempt < RETRIES && wait <= LONGEST_WAIT => {
                    tracing::info!(
                        service = self.service,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "retrying"
                    );
                    self.wait_between_tries(wait).await?;
                    attempt += 1;
                    drop(outcome);
                }
                (_, Ok(response)) if response.status() == StatusCode::TOO_MANY_REQUESTS => {
                    return Err(ApiError::RateLimited {
                        service: self.service,
                        retry_after_secs: wait_for(response.headers(), attempt).as_secs().max(1),
                    })
                }
                (_, Ok(response)) => return Ok(response),
                (_, Err(error)) => {
                    return Err(ApiError::Network {
                        service: self.service,
                        reason: redact(&error.without_url().to_string()).into_owned(),
                    })
                }
            }
        }
    }

    /// GETs JSON; any status but 2xx becomes its error.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str, what: &str) -> Result<(T, HeaderMap), ApiError> {
        let response = self.send(Method::GET, path, None).await?;
        let response = self.check(response, what).await?;
        let headers = response.headers().clone();
        let value = response.json::<T>().await.map_err(|error| ApiError::Unreadable {
            service: self.service,
            detail: error.to_string(),
        })?;
        Ok((value, headers))
    }

    /// The answer if it is a success, else the error its status means.
    pub async fn check(&self, response: reqwest::Response, what: &str) -> Result<reqwest::Response, ApiError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let detail = redact(response.text().await.unwrap_or_default().trim()).into_owned();
        let detail: String = detail.chars().take(300).collect();
        Err(match status {
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized { service: self.service },
            StatusCode::FORBIDDEN => ApiError::Forbidden {
                service: self.service,
                detail,
            },
            StatusCode::NOT_FOUND => ApiError::NotFound {
                service: self.service,
                what: what.to_owned(),
            },
            other => ApiError::Status {
                service: self.service,
                status: other.as_u16(),
                detail,
            },
        })
    }
}

/// The next page from a `Link` header as Sentry sends it:
/// `<url>; rel="next"; results="true"; cursor="..."`. Sentry always sends a next link; only
/// `results="true"` means the page holds anything.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    page_link(headers, "next").map(|link| link.url)
}

/// One side of a `Link` header (`rel` "next" or "previous"), when it says it has results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageLink {
    pub url: String,
    /// The `cursor` parameter, to ask for that page again later.
    pub cursor: Option<String>,
}

pub fn page_link(headers: &HeaderMap, rel: &str) -> Option<PageLink> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once(';')?;
        let mut wanted = false;
        let mut results = false;
        let mut cursor = None;
        for param in params.split(';') {
            match param.trim().split_once('=') {
                Some(("rel", value)) => wanted = value.trim_matches('"') == rel,
                Some(("results", value)) => results = value.trim_matches('"') == "true",
                Some(("cursor", value)) => cursor = Some(value.trim_matches('"').to_owned()),
                _ => {}
            }
        }
        (wanted && results).then(|| PageLink {
            url: url.trim().trim_start_matches('<').trim_end_matches('>').to_owned(),
            cursor,
        })
    })
}

/// How long a 429 or 5xx asks us to wait: `Retry-After`, Render's `Ratelimit-Reset`
/// (seconds), Sentry's `X-Sentry-Rate-Limit-Reset` (a Unix time), else exponential backoff.
pub fn wait_for(headers: &HeaderMap, attempt: u32) -> Duration {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<f64>().ok())
            .filter(|value| value.is_finite())
    };
    // A service's number is never trusted to be sane (`inf`, `1e400`): clamped to a day.
    let seconds = |value: f64| Duration::from_secs_f64(value.clamp(0.0, 86_400.0));
    if let Some(wait) = number("retry-after").or_else(|| number("ratelimit-reset")) {
        return seconds(wait) + jitter(attempt);
    }
    if let Some(reset) = number("x-sentry-rate-limit-reset") {
        let now = chrono::Utc::now().timestamp() as f64;
        return seconds(reset - now) + jitter(attempt);
    }
    backoff(attempt)
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250 * 2u64.pow(attempt.min(6))) + jitter(attempt)
}

/// Up to 250 ms, so clients that were refused together do not come back together.
fn jitter(attempt: u32) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or(0);
    Duration::from_millis(u64::from((nanos ^ attempt.wrapping_mul(2_654_435_761)) % 250))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absurd_wait_from_a_service_is_clamped_not_a_panic() {
        for value in ["inf", "1e400", "-5", "NaN", "99999999999999999999"] {
            let mut headers = HeaderMap::new();
            headers.insert("retry-after", reqwest::header::HeaderValue::from_static(value));
            let wait = wait_for(&headers, 0);
            assert!(wait <= Duration::from_secs(86_401), "{value}: {wait:?}");
        }
    }

    #[test]
    fn the_next_link_is_followed_only_while_it_has_results() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "link",
            reqwest::header::HeaderValue::from_static(
                "<https://sentry.io/api/0/x/?cursor=0:0:1>; rel=\"previous\"; results=\"false\"; cursor=\"0:0:1\", \
                 <https://sentry.io/api/0/x/?cursor=0:100:0>; rel=\"next\"; results=\"true\"; cursor=\"0:100:0\"",
            ),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://sentry.io/api/0/x/?cursor=0:100:0")
        );
        headers.insert(
            "link",
            reqwest::header::HeaderValue::from_static(
                "<https://sentry.io/api/0/x/?cursor=0:200:0>; rel=\"next\"; results=\"false\"; cursor=\"0:200:0\"",
            ),
        );
        assert_eq!(next_link(&headers), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn waits_follow_the_services_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "ratelimit-reset",
            "2".parse()
                .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("0")),
        );
        let wait = wait_for(&headers, 0);
        assert!(
            wait >= Duration::from_secs(2) && wait < Duration::from_millis(2250),
            "{wait:?}"
        );
        let mut sentry = HeaderMap::new();
        let reset = (chrono::Utc::now().timestamp() + 3).to_string();
        sentry.insert(
            "x-sentry-rate-limit-reset",
            reset
                .parse()
                .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("0")),
        );
        let wait = wait_for(&sentry, 0);
        assert!(
            wait >= Duration::from_secs(1) && wait <= Duration::from_secs(4),
            "{wait:?}"
        );
        assert!(wait_for(&HeaderMap::new(), 2) >= Duration::from_millis(1000));
    }
}
