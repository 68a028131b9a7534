//! What the deployed app's Sentry says: the connected project's issues, one issue and its
//! events, status changes, and the watch after a release (new issues first seen in it).
//! The Errors page, History and `slipway errors` / `slipway watch` read Sentry through here.

pub mod watch;

pub use watch::{watch, WatchEvent, WatchRequest, WatchSink, WatchSummary};

use std::path::PathBuf;

use crate::accounts::{self, SentryConnection};
use crate::error::{AppError, ErrorAction, ErrorKind};
use crate::http::ApiError;
use crate::sentry_api::{IssuePage, IssueQuery, IssueStatus, SentryEvent, SentryIssue};

/// The connected Sentry project, or why the Errors page has nothing to show.
pub async fn connection(data_dir: PathBuf) -> Result<SentryConnection, AppError> {
    accounts::connected_sentry(data_dir).await?.ok_or_else(|| {
        AppError::new(
            ErrorKind::Precondition,
            "No Sentry project is connected.",
            "Connect Sentry with a token that may read and change issues, and pick the project your app reports to.",
        )
        .with_action(ErrorAction::OpenAccounts)
    })
}

/// One page of the project's issues.
pub async fn issues(data_dir: PathBuf, query: &IssueQuery) -> Result<IssuePage, AppError> {
    let sentry = connection(data_dir).await?;
    Ok(sentry
        .client
        .issues(&sentry.organization, &sentry.project, query)
        .await?)
}

pub async fn issue(data_dir: PathBuf, issue_id: &str) -> Result<SentryIssue, AppError> {
    let sentry = connection(data_dir).await?;
    Ok(sentry.client.issue(&sentry.organization, issue_id).await?)
}

/// An event of the issue: the latest, or the one named (a previous or next link).
pub async fn event(data_dir: PathBuf, issue_id: &str, event_id: Option<&str>) -> Result<SentryEvent, AppError> {
    let sentry = connection(data_dir).await?;
    Ok(sentry
        .client
        .event(&sentry.organization, issue_id, event_id.unwrap_or("latest"))
        .await?)
}

/// Resolves, ignores or reopens issues; a 403 names the scope the token lacks.
pub async fn set_status(data_dir: PathBuf, issue_ids: &[String], status: IssueStatus) -> Result<(), AppError> {
    let sentry = connection(data_dir).await?;
    match sentry.client.set_status(&sentry.organization, issue_ids, status).await {
        Ok(()) => Ok(()),
        Err(error @ ApiError::Forbidden { .. }) => Err(AppError::new(
            ErrorKind::RegistryDenied,
            "Your Sentry token may read issues but not change them.",
            "Create a Sentry token with the event:write scope and enter it.",
        )
        .with_action(ErrorAction::ReenterToken)
        .with_detail(error.to_string())),
        Err(error) => Err(error.into()),
    }
}
