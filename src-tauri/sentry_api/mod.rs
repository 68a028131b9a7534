//! The Sentry room: Sentry's web API (`https://sentry.io/api/0`, a setting for self-hosted).

mod issues;

pub use issues::{
    event_from, is_numeric_id, issue_from, search_text, Breadcrumb, ContextLine, ExceptionView, FrameView, IssuePage,
    IssueQuery, IssueSort, IssueStatus, IssueStatusFilter, KeyValue, RequestView, SentryEvent, SentryIssue,
    ShortIdMatch,
};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::http::{ApiClient, ApiError, Auth};
use crate::secrets::Secret;

pub const DEFAULT_BASE_URL: &str = "https://sentry.io/api/0";

/// The scopes Slipway uses, each with the cheapest call that needs it.
pub const SCOPES: [&str; 5] = [
    "org:read",
    "project:read",
    "project:releases",
    "event:read",
    "event:write",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ScopeReport {
    pub present: Vec<String>,
    pub missing: Vec<String>,
}

/// A project of an organization, as the wizard offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SentryProject {
    pub id: String,
    pub slug: String,
    pub name: String,
}

pub struct SentryClient {
    api: ApiClient,
}

impl SentryClient {
    pub fn new(base_url: &str, token: Secret) -> Result<Self, ApiError> {
        Ok(Self {
            api: ApiClient::new("Sentry", base_url, Auth::Bearer(token))?,
        })
    }

    /// The client whose waits between tries (Sentry's rate limits) end when `cancel` fires.
    pub fn cancelled_by(self, cancel: tokio_util::sync::CancellationToken) -> Self {
        Self {
            api: self.api.cancelled_by(cancel),
        }
    }

    /// Every project of the organization, following the `Link` header page by page.
    pub async fn projects(&self, organization: &str) -> Result<Vec<SentryProject>, ApiError> {
        let mut all = Vec::new();
        let mut next = Some(format!("/organizations/{organization}/projects/?per_page=100"));
        while let Some(page) = next {
            let (projects, headers) = self
                .api
                .get_json::<Vec<SentryProject>>(&page, &format!("organization {organization}"))
                .await?;
            all.extend(projects);
            next = crate::http::next_link(&headers);
        }
        Ok(all)
    }

    /// One project of the organization (`GET projects/{org}/{slug}/`): a 404 when the token
    /// does not see it.
    pub async fn project(&self, organization: &str, slug: &str) -> Result<SentryProject, ApiError> {
        let (project, _) = self
            .api
            .get_json::<SentryProject>(
                &format!("/projects/{organization}/{slug}/"),
                &format!("Sentry project {organization}/{slug}"),
            )
            .await?;
        Ok(project)
    }

    /// One call per scope; a 403 means that scope is missing, a 401 that the token is bad.
    /// `event:write` is tried with a bulk update naming no issue, which changes nothing.
    pub async fn check_scopes(&self, organization: &str, project: &str) -> Result<ScopeReport, ApiError> {
        let mut report = ScopeReport {
            present: Vec::new(),
            missing: Vec::new(),
        };
        for scope in SCOPES {
            let (method, path) = match scope {
                "org:read" => (reqwest::Method::GET, format!("/organizations/{organization}/")),
                "project:read" => (reqwest::Method::GET, format!("/projects/{organization}/{project}/")),
                "project:releases" => (
                    reqwest::Method::GET,
                    format!("/organizations/{organization}/releases/?per_page=1"),
                ),
                "event:read" => (
                    reqwest::Method::GET,
                    format!("/organizations/{organization}/issues/?limit=1&query=is:unresolved"),
                ),
                _ => (
                    reqwest::Method::PUT,
                    format!("/organizations/{organization}/issues/?id=0"),
                ),
            };
            let body = (method == reqwest::Method::PUT).then(|| serde_json::json!({}));
            let response = self.api.send(method, &path, body.as_ref()).await?;
            match response.status() {
                reqwest::StatusCode::UNAUTHORIZED => return Err(ApiError::Unauthorized { service: "Sentry" }),
                reqwest::StatusCode::FORBIDDEN => report.missing.push(scope.to_owned()),
                reqwest::StatusCode::NOT_FOUND if scope == "org:read" || scope == "project:read" => {
                    return Err(ApiError::NotFound {
                        service: "Sentry",
                        what: if scope == "org:read" {
                            format!("organization {organization}")
                        } else {
                            format!("project {organization}/{project}")
                        },
                    })
                }
                _ => report.present.push(scope.to_owned()),
            }
        }
        Ok(report)
    }
}

/// A release or deploy Sentry already had is fine: `created` says which it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Created,
    AlreadyThere,
}

impl SentryClient {
    /// Tells Sentry about release `version` of `project` (201 new, 208 it had it: both fine).
    pub async fn create_release(&self, organization: &str, version: &str, project: &str) -> Result<Recorded, ApiError> {
        let body = serde_json::json!({ "version": version, "projects": [project] });
        let response = self
            .api
            .send(
                reqwest::Method::POST,
                &format!("/organizations/{organization}/releases/"),
                Some(&body),
            )
            .await?;
        let already = response.status() == reqwest::StatusCode::ALREADY_REPORTED;
        self.api
            .check(response, &format!("organization {organization}"))
            .await?;
        Ok(if already {
            Recorded::AlreadyThere
        } else {
            Recorded::Created
        })
    }

    /// Records that `version` was deployed to `environment`, from `started` to `finished`
    /// (RFC 3339), answering at `url`.
    pub async fn create_deploy(
        &self,
        organization: &str,
        version: &str,
        deploy: &DeployRecord,
    ) -> Result<(), ApiError> {
        let body = serde_json::json!({
            "environment": deploy.environment,
            "name": deploy.name,
            "url": deploy.url,
            "dateStarted": deploy.started,
            "dateFinished": deploy.finished,
        });
        let version = issues::encode(version);
        let response = self
            .api
            .send(
                reqwest::Method::POST,
                &format!("/organizations/{organization}/releases/{version}/deploys/"),
                Some(&body),
            )
            .await?;
        self.api.check(response, &format!("release {version}")).await?;
        Ok(())
    }
}

/// A deploy as Sentry records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployRecord {
    pub environment: String,
    pub name: Option<String>,
    pub url: Option<String>,
    pub started: String,
    pub finished: String,
}
