//! The watch after a release, as the release's project sees it: which release (the one
//! given, else the one live now on this project), the name Sentry knows it by, and the
//! result kept with the release in the ledger.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::{sentry_step, Context};
use crate::error::{AppError, ErrorKind};
use crate::history::{HistoryFilter, Outcome};
use crate::monitor::{self, WatchRequest, WatchSummary};
use crate::project;

/// Watches Sentry after release `release_id` (else the project's last live one) for
/// `minutes` (else the setting); keeps how many new issues were seen with the release.
pub async fn watch_release(
    context: &Context,
    root: &Path,
    release_id: Option<String>,
    minutes: Option<u32>,
    cancel: &CancellationToken,
    sink: monitor::watch::WatchSink,
) -> Result<WatchSummary, AppError> {
    let project_path = root.display().to_string();
    let release = match release_id {
        Some(id) => context.ledger.release(&id)?,
        None => context
            .ledger
            .list(&HistoryFilter {
                project_path: Some(project_path.clone()),
                outcome: Some(Outcome::Live),
                limit: Some(1),
                ..HistoryFilter::default()
            })?
            .into_iter()
            .next(),
    }
    .ok_or_else(|| {
        AppError::new(
            ErrorKind::NotFound,
            "This project has no release that went live to watch.",
            "Release it first; the watch follows a release that is live.",
        )
    })?;
    let folder = root.to_path_buf();
    let detection = tokio::task::spawn_blocking(move || project::detect(&folder))
        .await
        .map_err(|error| AppError::new(ErrorKind::Unknown, error.to_string(), "Try again."))?;
    let (settings, _) = project::settings_or_detected(&context.data_dir, root, &detection)?;
    // The name of the release watched, from its commit, not from what is checked out now.
    let version = sentry_step::version_of(root, &settings, release.commit.as_deref())
        .await
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::Precondition,
                "The project has no commit to name its release after in Sentry.",
                "Set the release name your app reports to Sentry in the project's settings.",
            )
            .with_action(crate::error::ErrorAction::OpenProjectSettings)
        })?;
    let target = release.target.known().ok_or_else(|| {
        AppError::new(
            ErrorKind::Precondition,
            format!(
                "The release went to \"{}\", which this version of Slipway does not know.",
                release.target
            ),
            "Update Slipway to watch it.",
        )
    })?;
    // The environment the release went to, as the project names it now.
    let settings = match release
        .environment
        .as_deref()
        .and_then(|name| settings.environments.find(name))
    {
        Some(environment) => settings.for_environment(&environment),
        None => settings,
    };
    let link = crate::monitor::link(&context.data_dir, root)?;
    let request = WatchRequest {
        data_dir: context.data_dir.clone(),
        link,
        release_id: release.id.clone(),
        version,
        environment: Some(sentry_step::environment(&settings, target)),
        minutes: minutes.unwrap_or_else(|| context.settings.watch_minutes()),
        every: context.settings.watch_interval(),
    };
    let summary = monitor::watch(request, cancel, sink).await?;
    let kept = serde_json::json!({
        "newIssues": summary.new_issues.len(),
        "issues": summary.new_issues.iter().map(|issue| &issue.short_id).collect::<Vec<_>>(),
        "version": summary.version,
        "ended": summary.ended,
    });
    if let Err(error) = context.ledger.result(&release.id, "watch", &kept) {
        tracing::error!(%error, "the watch's result could not be kept");
    }
    Ok(summary)
}
