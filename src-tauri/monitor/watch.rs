//! The watch after a release: for a while (15 minutes by default) Sentry is asked, at a
//! pace well inside its limits, for unresolved issues first seen in this release. Each new
//! one is sent as it is found; the watch ends at its time, when stopped, or when Sentry
//! cannot be asked any more, and says how many it saw.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::error::AppError;
use crate::http::ApiError;
use crate::sentry_api::{IssueQuery, IssueSort, IssueStatusFilter, SentryIssue};

/// What to watch.
#[derive(Debug, Clone)]
pub struct WatchRequest {
    pub data_dir: std::path::PathBuf,
    /// The project's Sentry project: the only one the watch asks.
    pub link: crate::project::SentryLink,
    pub release_id: String,
    /// The release name the app reports to Sentry.
    pub version: String,
    pub environment: Option<String>,
    pub minutes: u32,
    /// Between two asks; Sentry's limits allow far more, the person needs no more.
    pub every: Duration,
}

/// What the watch says as it goes.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum WatchEvent {
    #[serde(rename_all = "camelCase")]
    Started {
        release_id: String,
        version: String,
        /// RFC 3339, when it will end by itself.
        until: String,
    },
    /// An issue first seen in this release, the first time the watch sees it.
    #[serde(rename_all = "camelCase")]
    NewIssue {
        issue: SentryIssue,
    },
    /// Sentry was asked; `new_issues` so far.
    #[serde(rename_all = "camelCase")]
    Checked {
        at: String,
        new_issues: u32,
    },
    /// Sentry could not be asked this time; the watch goes on.
    #[serde(rename_all = "camelCase")]
    Trouble {
        message: String,
    },
    /// The environment's automatic rollback fired; how it went.
    RolledBack(AutoRolledBack),
    Ended(WatchSummary),
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WatchSummary {
    pub release_id: String,
    pub version: String,
    pub new_issues: Vec<SentryIssue>,
    /// `time`, `stopped` or `failed`.
    pub ended: String,
    pub error: Option<AppError>,
    /// The environment's automatic rollback fired (too many new issues too soon): how it went.
    pub rolled_back: Option<AutoRolledBack>,
}

/// An automatic rollback a watch set off.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AutoRolledBack {
    /// "Rolled back by itself to the release of 9f8e7d6 (…): it is live again.", or why not.
    pub message: String,
    /// The release before is live again: nothing is left for a person to roll back.
    pub live: bool,
}

pub type WatchSink = Arc<dyn Fn(WatchEvent) + Send + Sync>;

/// Watches until the time is up or `cancel` fires; an `Err` means it could not start (no
/// Sentry project connected).
pub async fn watch(
    request: WatchRequest,
    cancel: &CancellationToken,
    sink: WatchSink,
) -> Result<WatchSummary, AppError> {
    let mut sentry =
        crate::accounts::linked_sentry(crate::secrets::SecretStore::os(&request.data_dir), &request.link).await?;
    sentry.client = sentry.client.cancelled_by(cancel.clone());
    let until = chrono::Utc::now() + chrono::Duration::minutes(i64::from(request.minutes));
    sink(WatchEvent::Started {
        release_id: request.release_id.clone(),
        version: request.version.clone(),
        until: until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    let query = IssueQuery {
        status: Some(IssueStatusFilter::Unresolved),
        first_release: Some(request.version.clone()),
        environment: request.environment.clone(),
        sort: Some(IssueSort::FirstSeen),
        limit: Some(100),
        ..IssueQuery::default()
    };
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
    let mut failures = 0;
    let ended = loop {
        let mut wait = request.every;
        // Stopping ends the ask under way too, not only the wait between two.
        let asked = tokio::select! {
            () = cancel.cancelled() => break ("stopped", None),
            asked = sentry.client.issues(&sentry.organization, &sentry.project, &query) => asked,
        };
        match asked {
            Ok(page) => {
                failures = 0;
                for issue in page.issues {
                    if seen.insert(issue.id.clone()) {
                        sink(WatchEvent::NewIssue { issue: issue.clone() });
                        found.push(issue);
                    }
                }
                sink(WatchEvent::Checked {
                    at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    new_issues: u32::try_from(found.len()).unwrap_or(u32::MAX),
                });
            }
            Err(error) => {
                // Sentry asked to slow down: wait as long as it says (the client already
                // retried the short waits).
                if let ApiError::RateLimited { retry_after_secs, .. } = &error {
                    wait = wait.max(Duration::from_secs(*retry_after_secs));
                }
                let refused = matches!(error, ApiError::Unauthorized { .. } | ApiError::Forbidden { .. });
                let error = AppError::from(error);
                sink(WatchEvent::Trouble {
                    message: error.message.clone(),
                });
                failures += 1;
                if refused || failures >= 5 {
                    break ("failed", Some(error));
                }
            }
        }
        let left = (until - chrono::Utc::now()).to_std().unwrap_or_default();
        if left.is_zero() {
            break ("time", None);
        }
        tokio::select! {
            () = cancel.cancelled() => break ("stopped", None),
            () = tokio::time::sleep(wait.min(left)) => {}
        }
    };
    let summary = WatchSummary {
        release_id: request.release_id,
        version: request.version,
        new_issues: found,
        ended: ended.0.to_owned(),
        error: ended.1,
        rolled_back: None,
    };
    sink(WatchEvent::Ended(summary.clone()));
    Ok(summary)
}
