//! CircleCI (API v2, `https://circleci.com/api/v2`, a setting): who the token belongs to.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::http::{ApiClient, ApiError, Auth};
use crate::secrets::Secret;

pub const DEFAULT_BASE_URL: &str = "https://circleci.com/api/v2";

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
    let api = ApiClient::new("CircleCI", base_url, Auth::Header("Circle-Token", token))?;
    Ok(api.get_json::<CircleUser>("/me", "user").await?.0)
}
