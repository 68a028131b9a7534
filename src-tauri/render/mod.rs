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
            .map(|service| RenderService {
                id: service["id"].as_str().unwrap_or_default().to_owned(),
                name: service["name"].as_str().unwrap_or_default().to_owned(),
                kind: service["type"].as_str().unwrap_or_default().to_owned(),
                image: service["serviceDetails"]["image"]["imagePath"]
                    .as_str()
                    .or(service["image"]["imagePath"].as_str())
                    .map(str::to_owned),
                url: service["serviceDetails"]["url"].as_str().map(str::to_owned),
            })
            .collect())
    }
}
