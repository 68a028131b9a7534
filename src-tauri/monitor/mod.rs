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
use crate::sentry_api::{is_numeric_id, IssuePage, IssueQuery, IssueStatus, SentryEvent, SentryIssue};

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
    accounts::linked_sentry(crate::secrets::SecretStore::os(&data_dir), &link).await
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

/// Resolves, ignores or reopens issues, named by their numeric ids or the short ids lists
/// print (`LETTINGS-WEB-P`); a 403 names the scope the token lacks.
pub async fn set_status(
    data_dir: PathBuf,
    root: &Path,
    issue_ids: &[String],
    status: IssueStatus,
) -> Result<(), AppError> {
    let sentry = connection(data_dir, root).await?;
    let issue_ids = numeric_ids(&sentry, issue_ids).await?;
    match sentry.client.set_status(&sentry.organization, &issue_ids, status).await {
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

/// The numeric ids the bulk update takes: short ids are looked up, one call each, and must name
/// an issue of the linked Sentry project; numeric ids are kept as they are.
async fn numeric_ids(sentry: &SentryConnection, issue_ids: &[String]) -> Result<Vec<String>, AppError> {
    let linked = format!("{}/{}", sentry.organization, sentry.project);
    let mut numeric = Vec::with_capacity(issue_ids.len());
    for id in issue_ids {
        if is_numeric_id(id) {
            numeric.push(id.clone());
            continue;
        }
        let found = sentry.client.short_id(&sentry.organization, id).await?;
        let refused = match found {
            Some(found) if found.project == sentry.project => {
                numeric.push(found.issue_id);
                continue;
            }
            Some(found) => AppError::new(
                ErrorKind::Validation,
                format!(
                    "{id} is an issue of the Sentry project {}/{}, not of {linked}, which this project is linked to.",
                    sentry.organization, found.project
                ),
                "Give the ids `slipway errors` lists for this project.",
            ),
            None => AppError::new(
                ErrorKind::NotFound,
                format!("Sentry has no issue {id} in {linked}."),
                "Check the id: `slipway errors` lists the project's issues with their ids.",
            ),
        };
        return Err(refused);
    }
    Ok(numeric)
}
