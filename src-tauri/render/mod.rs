//! The Render room: Render's public API (`https://api.render.com/v1`, a setting).
//!
//! Lists are arrays of `{"<resource>": {...}, "cursor": "..."}`; the next page is asked with
//! the last item's cursor until a page comes back short.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::http::{ApiClient, ApiError, Auth};
use crate::secrets::Secret;

pub const DEFAULT_BASE_URL: &str = "https://api.render.com/v1";
/// Render's largest page.
const PAGE: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    pub id: String,
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RenderService {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The image an image-backed service deploys (`serviceDetails.image.imagePath`).
    pub image: Option<String>,
    pub url: Option<String>,
    /// The workspace it belongs to (`ownerId`): its logs are asked by it.
    #[serde(skip)]
    pub owner_id: Option<String>,
}

#[derive(Deserialize)]
struct Item<T> {
    cursor: Option<String>,
    #[serde(flatten)]
    fields: serde_json::Map<String, serde_json::Value>,
    #[serde(skip)]
    _marker: std::marker::PhantomData<T>,
}

pub struct RenderClient {
    api: ApiClient,
}

impl RenderClient {
    pub fn new(base_url: &str, api_key: Secret) -> Result<Self, ApiError> {
        Ok(Self {
            api: ApiClient::new("Render", base_url, Auth::Bearer(api_key))?,
        })
    }

    /// The client whose waits between tries (a 429's reset, a 5xx's backoff) end at once when
    /// `cancel` fires: nothing is sent after a cancel but the cancel itself.
    pub fn cancelled_by(self, cancel: tokio_util::sync::CancellationToken) -> Self {
        Self {
            api: self.api.cancelled_by(cancel),
        }
    }

    /// The client that says, every second of a wait for Render's limits, how long is left.
    pub fn watched_by(self, on_wait: crate::http::WaitWatcher) -> Self {
        Self {
            api: self.api.watched_by(on_wait),
        }
    }

    /// Every page of a list, each item's `resource` object.
    async fn list(&self, path: &str, resource: &str) -> Result<Vec<serde_json::Value>, ApiError> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let separator = if path.contains('?') { '&' } else { '?' };
            let page_path = match &cursor {
                Some(cursor) => format!("{path}{separator}limit={PAGE}&cursor={cursor}"),
                None => format!("{path}{separator}limit={PAGE}"),
            };
            let (page, _) = self.api.get_json::<Vec<Item<()>>>(&page_path, resource).await?;
            let count = page.len();
            cursor = page.last().and_then(|item| item.cursor.clone());
            all.extend(page.into_iter().filter_map(|mut item| item.fields.remove(resource)));
            if count < PAGE || cursor.is_none() {
                return Ok(all);
            }
        }
    }

    /// The workspaces the key sees: the cheap call that proves the key works.
    pub async fn owners(&self) -> Result<Vec<Owner>, ApiError> {
        self.list("/owners", "owner")
            .await?
            .into_iter()
            .map(|owner| {
                serde_json::from_value(owner).map_err(|error| ApiError::Unreadable {
                    service: "Render",
                    detail: error.to_string(),
                })
            })
            .collect()
    }

    /// Every service the key sees, with its image when it deploys one.
    pub async fn services(&self) -> Result<Vec<RenderService>, ApiError> {
        Ok(self
            .list("/services", "service")
            .await?
            .into_iter()
            .map(|service| service_from_json(&service))
            .collect())
    }
}

/// One deploy of a service, as Render reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Deploy {
    pub id: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
    /// What made it: `api`, `deploy_hook`, `rollback`, …
    #[serde(default)]
    pub trigger: Option<String>,
    /// The image it runs (image-backed services).
    #[serde(default)]
    pub image: Option<DeployImage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DeployImage {
    /// The image reference the deploy was created with.
    #[serde(rename = "ref", default)]
    pub reference: Option<String>,
}

/// Where a deploy status stands, by Render's definitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployPhase {
    Running,
    Live,
    Failed,
}

pub fn deploy_phase(status: &str) -> DeployPhase {
    match status {
        "live" => DeployPhase::Live,
        "build_failed" | "update_failed" | "pre_deploy_failed" | "canceled" | "deactivated" => DeployPhase::Failed,
        // created, queued, build_in_progress, update_in_progress, pre_deploy_in_progress,
        // and any status Render adds later: keep following it.
        _ => DeployPhase::Running,
    }
}

impl RenderClient {
    /// One service, with the image it is configured to run.
    pub async fn service(&self, service_id: &str) -> Result<RenderService, ApiError> {
        let (service, _) = self
            .api
            .get_json::<serde_json::Value>(&format!("/services/{service_id}"), "such service")
            .await?;
        Ok(service_from_json(&service))
    }

    /// Triggers a deploy of `image_url`: the deploy when Render answers 201, `None` when it
    /// answers 202 (queued, no body).
    pub async fn trigger_deploy(&self, service_id: &str, image_url: &str) -> Result<Option<Deploy>, ApiError> {
        let body = serde_json::json!({ "imageUrl": image_url });
        let response = self
            .api
            .send_once(
                reqwest::Method::POST,
                &format!("/services/{service_id}/deploys"),
                Some(&body),
            )
            .await?;
        let response = self.api.check(response, "such service").await?;
        if response.status() == reqwest::StatusCode::ACCEPTED {
            return Ok(None);
        }
        response
            .json::<Deploy>()
            .await
            .map(Some)
            .map_err(|error| ApiError::Unreadable {
                service: "Render",
                detail: error.to_string(),
            })
    }

    /// The service's newest deploys, created after `created_after` (RFC 3339) when given.
    pub async fn deploys(&self, service_id: &str, created_after: Option<&str>) -> Result<Vec<Deploy>, ApiError> {
        let mut path = format!("/services/{service_id}/deploys?limit=20");
        if let Some(after) = created_after {
            path.push_str("&createdAfter=");
            path.push_str(&after.replace(':', "%3A").replace('+', "%2B"));
        }
        let (page, _) = self.api.get_json::<Vec<Item<()>>>(&path, "such service").await?;
        page.into_iter()
            .filter_map(|mut item| item.fields.remove("deploy"))
            .map(|deploy| {
                serde_json::from_value(deploy).map_err(|error| ApiError::Unreadable {
                    service: "Render",
                    detail: error.to_string(),
                })
            })
            .collect()
    }

    pub async fn deploy(&self, service_id: &str, deploy_id: &str) -> Result<Deploy, ApiError> {
        let (deploy, _) = self
            .api
            .get_json::<Deploy>(&format!("/services/{service_id}/deploys/{deploy_id}"), "such deploy")
            .await?;
        Ok(deploy)
    }

    /// The service's log lines from `start` to `end` (RFC 3339), oldest first: read newest
    /// first, following Render's pages (`hasMore`, then `nextStartTime`/`nextEndTime`) up to
    /// 500 lines, so a long window keeps its end, where a failure is.
    pub async fn logs(
        &self,
        owner_id: &str,
        service_id: &str,
        start: &str,
        end: &str,
    ) -> Result<Vec<String>, ApiError> {
        let (mut from, mut to) = (start.to_owned(), end.to_owned());
        let mut lines = Vec::new();
        for _ in 0..LOG_PAGES {
            let path = format!(
                "/logs?ownerId={}&resource={}&startTime={}&endTime={}&direction=backward&limit={PAGE}",
                query_value(owner_id),
                query_value(service_id),
                query_value(&from),
                query_value(&to)
            );
            let (page, _) = self.api.get_json::<LogPage>(&path, "such service's logs").await?;
            lines.extend(page.logs.into_iter().map(|entry| entry.message));
            match (page.has_more, page.next_start_time, page.next_end_time) {
                (true, Some(next_start), Some(next_end)) => (from, to) = (next_start, next_end),
                _ => break,
            }
        }
        lines.reverse();
        Ok(lines)
    }

    /// Rolls the service back to one of its earlier deploys (`POST …/rollback`); Render
    /// answers with the new deploy it made.
    pub async fn rollback(&self, service_id: &str, deploy_id: &str) -> Result<Deploy, ApiError> {
        let body = serde_json::json!({ "deployId": deploy_id });
        let response = self
            .api
            .send_once(
                reqwest::Method::POST,
                &format!("/services/{service_id}/rollback"),
                Some(&body),
            )
            .await?;
        let response = self.api.check(response, "such deploy of this service").await?;
        response.json::<Deploy>().await.map_err(|error| ApiError::Unreadable {
            service: "Render",
            detail: error.to_string(),
        })
    }

    pub async fn cancel_deploy(&self, service_id: &str, deploy_id: &str) -> Result<Deploy, ApiError> {
        let response = self
            .api
            .send_once(
                reqwest::Method::POST,
                &format!("/services/{service_id}/deploys/{deploy_id}/cancel"),
                None,
            )
            .await?;
        let response = self.api.check(response, "such deploy").await?;
        response.json::<Deploy>().await.map_err(|error| ApiError::Unreadable {
            service: "Render",
            detail: error.to_string(),
        })
    }
}

fn service_from_json(service: &serde_json::Value) -> RenderService {
    RenderService {
        id: service["id"].as_str().unwrap_or_default().to_owned(),
        name: service["name"].as_str().unwrap_or_default().to_owned(),
        kind: service["type"].as_str().unwrap_or_default().to_owned(),
        // The contract puts `imagePath` on the service; older answers nested it.
        image: service["imagePath"]
            .as_str()
            .or(service["serviceDetails"]["image"]["imagePath"].as_str())
            .filter(|path| !path.is_empty())
            .map(str::to_owned),
        url: service["serviceDetails"]["url"].as_str().map(str::to_owned),
        owner_id: service["ownerId"].as_str().map(str::to_owned),
    }
}

/// One page of `GET /logs`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogPage {
    has_more: bool,
    next_start_time: Option<String>,
    next_end_time: Option<String>,
    #[serde(default)]
    logs: Vec<LogEntry>,
}

#[derive(Deserialize)]
struct LogEntry {
    #[serde(default)]
    message: String,
}

/// Pages read at most for one window of a service's logs (500 lines).
const LOG_PAGES: usize = 5;

fn query_value(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Calls a deploy hook for `image_url`. Render answers without a deploy id: the caller
/// follows the service's deploys list.
pub async fn call_deploy_hook(hook: &Secret, image_url: &str) -> Result<(), ApiError> {
    let client = ApiClient::new("Render", "", Auth::None)?;
    let separator = if hook.expose().contains('?') { '&' } else { '?' };
    let encoded: String = image_url
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    let url = format!("{}{separator}imgURL={encoded}", hook.expose());
    let response = client.send_once(reqwest::Method::POST, &url, None).await?;
    client.check(response, "such deploy hook").await?;
    Ok(())
}
