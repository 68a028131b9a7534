//! What the deployed app's Sentry says: the project's own linked Sentry project's issues, one issue and its
//! events, status changes, and the watch after a release (new issues first seen in it).
//! The Errors page, History and `slipway errors` / `slipway watch` read Sentry through here.

pub mod watch;

pub use watch::{watch, WatchEvent, WatchRequest, WatchSink, WatchSummary};

use std::path::{Path, PathBuf};

use crate::accounts::{self, SentryConnection};
use crate::error::{AppError, ErrorAction, ErrorKind};
use crate::http::ApiError;
use crate::project::{self, SentryLink};
use crate::sentry_api::{IssuePage, IssueQuery, IssueStatus, SentryEvent, SentryIssue};

/// The Sentry project the project at `root` is linked to, or why it has none. Only the
/// project's own link counts: the Errors page never shows another project's issues.
pub fn link(data_dir: &Path, root: &Path) -> Result<SentryLink, AppError> {
    let name = root
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "This project".to_owned());
    project::load_settings(data_dir, root)?
        .and_then(|settings| settings.sentry_project)
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::Precondition,
                format!("{name} is not linked to a Sentry project."),
                "Link it to the Sentry project your app reports to, in the project's settings under Errors.",
            )
            .with_action(ErrorAction::LinkSentry)
            .in_terminal(format!(
                "slipway project set --project {} sentry-project ORG/SLUG",
                root.display()
            ))
        })
}

/// The project's Sentry project, ready to ask.
pub async fn connection(data_dir: PathBuf, root: &Path) -> Result<SentryConnection, AppError> {
    let link = link(&data_dir, root)?;
    accounts::linked_sentry(data_dir, &link).await
}

/// One page of the project's issues.
pub async fn issues(data_dir: PathBuf, root: &Path, query: &IssueQuery) -> Result<IssuePage, AppError> {
    let sentry = connection(data_dir, root).await?;
    Ok(sentry
        .client
        .issues(&sentry.organization, &sentry.project, query)
        .await?)
}

pub async fn issue(data_dir: PathBuf, root: &Path, issue_id: &str) -> Result<SentryIssue, AppError> {
    let sentry = connection(data_dir, root).await?;
    Ok(sentry.client.issue(&sentry.organization, issue_id).await?)
}

/// An event of the issue: the latest, or the one named (a previous or next link).
pub async fn event(
    data_dir: PathBuf,
    root: &Path,
    issue_id: &str,
    event_id: Option<&str>,
) -> Result<SentryEvent, AppError> {
    let sentry = connection(data_dir, root).await?;
    Ok(sentry
        .client
        .event(&sentry.organization, issue_id, event_id.unwrap_or("latest"))
        .await?)
}

/// Resolves, ignores or reopens issues; a 403 names the scope the token lacks.
pub async fn set_status(
    data_dir: PathBuf,
    root: &Path,
    issue_ids: &[String],
    status: IssueStatus,
) -> Result<(), AppError> {
    let sentry = connection(data_dir, root).await?;
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
