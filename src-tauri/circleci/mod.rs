//! The CircleCI room: CircleCI's API v2 (`https://circleci.com/api/v2`, a setting), for teams
//! that keep CircleCI running beside Slipway while they move over.
//!
//! How to use it: [`me`] proves a token (the accounts wizard). A [`CircleClient`] then asks,
//! for the commit being released, what CircleCI said about it ([`CircleClient::verdict`]: the
//! pipeline, its workflows and their jobs), starts a pipeline when there is none
//! ([`CircleClient::trigger`]) and follows it to its end ([`CircleClient::follow`]); the test
//! results it stored for a job ([`CircleClient::job_tests`]) are set beside Slipway's own
//! with [`compare`]. Errors stay [`ApiError`] like every web client's; [`app_error`] says them
//! in CircleCI's terms (reconnect the account, check the project's slug).
//!
//! Why it reads as it does:
//! - Every list is `{items, next_page_token}`; the next page is asked with `page-token` set to
//!   that page's own token, never one from another list (CircleCI answers 400).
//! - A project slug is `gh/org/repo` (or `circleci/<org id>/<project id>`): its slashes stay
//!   path separators and each segment is escaped on its own.
//! - One file per concern: `pipelines` (finding the commit's pipeline, triggering one),
//!   `verdict` (what the workflows add up to, in words), `follow` (polling to the end),
//!   `results` (stored test results), `compare` (those beside Slipway's).

mod compare;
mod follow;
mod pipelines;
mod results;
mod verdict;

pub use compare::{compare, FailedOn, TestComparison, TestDisagreement};
pub use pipelines::TriggeredPipeline;
pub use results::CiTestResult;
pub use verdict::{CiJob, CiVerdict, CiWorkflow, VerdictState, WorkflowStatus};

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{AppError, ErrorAction, ErrorKind};
use crate::http::{ApiClient, ApiError, Auth};
use crate::secrets::Secret;

pub const DEFAULT_BASE_URL: &str = "https://circleci.com/api/v2";
const SERVICE: &str = "CircleCI";
/// A list asked page after page stops here, whatever its tokens say: a service that hands out
/// tokens forever cannot keep Slipway asking.
const MOST_PAGES: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CircleUser {
    pub id: String,
    pub login: String,
    #[serde(default)]
    pub name: String,
}

/// `GET /me`: the cheap call that proves a token works.
pub async fn me(base_url: &str, token: Secret) -> Result<CircleUser, ApiError> {
    let api = ApiClient::new(SERVICE, base_url, Auth::Header("Circle-Token", token))?;
    Ok(api.get_json::<CircleUser>("/me", "user").await?.0)
}

/// One page of any CircleCI list.
#[derive(Deserialize)]
struct Page<T> {
    items: Vec<T>,
    #[serde(default)]
    next_page_token: Option<String>,
}

/// A client for one CircleCI token.
pub struct CircleClient {
    api: ApiClient,
    /// Where CircleCI's own pages are (`https://app.circleci.com`), for links.
    app: String,
    /// The first wait between two reads of a followed pipeline, and the longest.
    poll_first: Duration,
    poll_longest: Duration,
}

impl CircleClient {
    pub fn new(base_url: &str, token: Secret) -> Result<Self, ApiError> {
        Ok(Self {
            api: ApiClient::new(SERVICE, base_url, Auth::Header("Circle-Token", token))?,
            app: app_base(base_url),
            poll_first: Duration::from_secs(2),
            poll_longest: Duration::from_secs(30),
        })
    }

    /// The client whose waits between tries (a 429's `Retry-After`) end at once when `cancel`
    /// fires.
    pub fn cancelled_by(self, cancel: tokio_util::sync::CancellationToken) -> Self {
        Self {
            api: self.api.cancelled_by(cancel),
            ..self
        }
    }

    /// The client that says, every second of a wait for CircleCI's limits, how long is left.
    pub fn watched_by(self, on_wait: crate::http::WaitWatcher) -> Self {
        Self {
            api: self.api.watched_by(on_wait),
            ..self
        }
    }

    /// How often [`Self::follow`] reads a pipeline: `first` after the first read, growing to
    /// `longest`. Tests follow in milliseconds.
    pub fn polling(self, first: Duration, longest: Duration) -> Self {
        Self {
            poll_first: first,
            poll_longest: longest.max(first),
            ..self
        }
    }

    /// Every item of a list, page by page (`path` may already hold a query).
    async fn all_pages<T: serde::de::DeserializeOwned>(&self, path: &str, what: &str) -> Result<Vec<T>, ApiError> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MOST_PAGES {
            let page: Page<T> = self.page(path, token.as_deref(), what).await?;
            all.extend(page.items);
            match next_token(page.next_page_token, token.as_deref()) {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        Ok(all)
    }

    /// One page of a list: the first, or the one `token` (that list's own) names.
    async fn page<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        what: &str,
    ) -> Result<Page<T>, ApiError> {
        let path = match token {
            Some(token) => {
                let separator = if path.contains('?') { '&' } else { '?' };
                format!("{path}{separator}page-token={}", escape(token))
            }
            None => path.to_owned(),
        };
        Ok(self.api.get_json::<Page<T>>(&path, what).await?.0)
    }
}

/// The token of the page after this one: none when the list ended (no token, an empty one)
/// or when a page hands back the token it was asked with, which would ask it again forever.
fn next_token(next: Option<String>, asked_with: Option<&str>) -> Option<String> {
    next.filter(|next| !next.is_empty() && Some(next.as_str()) != asked_with)
}

/// A value escaped for a URL path segment or a query value: everything but RFC 3986's
/// unreserved characters is percent-encoded.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A project slug as a path: `gh/o/r` keeps its slashes as separators, each segment escaped
/// (a repository named `a b` is `a%20b`).
fn slug_path(slug: &str) -> String {
    slug.trim_matches('/')
        .split('/')
        .map(escape)
        .collect::<Vec<_>>()
        .join("/")
}

/// CircleCI's web app for an API base: `app.circleci.com` for circleci.com, the server itself
/// for a self-hosted one (and a stand-in).
fn app_base(base_url: &str) -> String {
    let origin = base_url
        .split_once("://")
        .map(|(scheme, rest)| format!("{scheme}://{}", rest.split('/').next().unwrap_or_default()))
        .unwrap_or_default();
    if origin == "https://circleci.com" {
        "https://app.circleci.com".to_owned()
    } else {
        origin
    }
}

/// A pipeline's page in CircleCI's web app. The app spells the slug's provider in full
/// (`gh` is `github`, `bb` is `bitbucket`).
fn pipeline_page(app: &str, slug: &str, number: u64) -> String {
    let path = slug_path(slug);
    let path = match path.split_once('/') {
        Some(("gh", rest)) => format!("github/{rest}"),
        Some(("bb", rest)) => format!("bitbucket/{rest}"),
        _ => path,
    };
    format!("{app}/pipelines/{path}/{number}")
}

/// An [`ApiError`] from this room said in CircleCI's terms where that helps the person more
/// than the shared words: a refused token is reconnected in Settings → Accounts, an unknown
/// project is a slug to check in the project's settings. Anything else is said as every web
/// client's error is.
pub fn app_error(error: ApiError) -> AppError {
    let detail = error.to_string();
    match &error {
        ApiError::Unauthorized { .. } => AppError::new(
            ErrorKind::RegistryAuth,
            "CircleCI refused the token Slipway has for it.",
            "Reconnect CircleCI in Settings → Accounts with a new personal API token.",
        )
        .with_action(ErrorAction::ReenterToken)
        .with_detail(detail),
        ApiError::Forbidden { .. } => AppError::new(
            ErrorKind::RegistryDenied,
            "CircleCI refused the token Slipway has for it for this project.",
            "Reconnect CircleCI in Settings → Accounts with a token of someone who can see the project.",
        )
        .with_action(ErrorAction::ReenterToken)
        .with_detail(detail),
        ApiError::NotFound { what, .. } if what.starts_with("project ") => AppError::new(
            ErrorKind::NotFound,
            format!("CircleCI does not know {what}."),
            "Check the CircleCI project slug in the project's settings (it reads like gh/your-org/your-repo).",
        )
        .with_action(ErrorAction::OpenProjectSettings)
        .with_detail(detail),
        _ => AppError::from(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_their_slashes_and_escape_each_segment() {
        assert_eq!(slug_path("gh/acme/web"), "gh/acme/web");
        assert_eq!(slug_path("/gh/acme/my app/"), "gh/acme/my%20app");
        assert_eq!(slug_path("gh/acme/a?b#c%"), "gh/acme/a%3Fb%23c%25");
        assert_eq!(escape("main/feature x"), "main%2Ffeature%20x");
    }

    #[test]
    fn pages_link_to_circlecis_web_app() {
        let app = app_base(DEFAULT_BASE_URL);
        assert_eq!(app, "https://app.circleci.com");
        assert_eq!(
            pipeline_page(&app, "gh/acme/web", 42),
            "https://app.circleci.com/pipelines/github/acme/web/42"
        );
        assert_eq!(
            pipeline_page(&app, "circleci/abc/def", 7),
            "https://app.circleci.com/pipelines/circleci/abc/def/7"
        );
        assert_eq!(app_base("http://127.0.0.1:4000/api/v2"), "http://127.0.0.1:4000");
    }

    #[test]
    fn a_page_that_hands_back_its_own_token_ends_the_list() {
        assert_eq!(next_token(Some("b".into()), Some("a")), Some("b".into()));
        assert_eq!(next_token(Some("a".into()), Some("a")), None);
        assert_eq!(next_token(Some(String::new()), None), None);
        assert_eq!(next_token(None, Some("a")), None);
    }

    /// The wire types as the window will read them, once the bindings list them.
    #[test]
    fn wire_types_reach_typescript_in_camel_case() {
        use ts_rs::TS;
        let cfg = ts_rs::Config::default();
        let verdict = CiVerdict::decl(&cfg);
        assert!(
            verdict.contains("pipelineNumber: number") && verdict.contains("pipelineUrl: string"),
            "{verdict}"
        );
        let job = CiJob::decl(&cfg);
        assert!(job.contains("jobNumber: number | null"), "{job}");
        let status = WorkflowStatus::decl(&cfg);
        assert!(
            status.contains("\"on_hold\"") && status.contains("string & {}"),
            "{status}"
        );
        let comparison = TestComparison::decl(&cfg);
        assert!(
            comparison.contains("disagreements: Array<TestDisagreement>"),
            "{comparison}"
        );
        assert!(TriggeredPipeline::decl(&cfg).contains("number: number"));
    }

    #[test]
    fn circleci_errors_say_where_to_fix_them() {
        let refused = app_error(ApiError::Unauthorized { service: SERVICE });
        assert!(
            refused.hint.contains("Reconnect CircleCI in Settings → Accounts"),
            "{refused:?}"
        );
        assert_eq!(refused.action, Some(ErrorAction::ReenterToken));
        let unknown = app_error(ApiError::NotFound {
            service: SERVICE,
            what: "project gh/acme/web".into(),
        });
        assert_eq!(unknown.message, "CircleCI does not know project gh/acme/web.");
        assert!(unknown.hint.contains("project's settings"));
        let busy = app_error(ApiError::RateLimited {
            service: SERVICE,
            retry_after_secs: 5,
        });
        assert_eq!(busy.kind, ErrorKind::RateLimited);
    }
}
