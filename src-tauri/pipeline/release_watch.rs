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
    let environment = release
        .environment
        .as_deref()
        .and_then(|name| settings.environments.find(name));
    let auto = environment
        .as_ref()
        .and_then(|environment| environment.auto_rollback)
        .filter(|auto| auto.new_issues > 0);
    let settings = match &environment {
        Some(environment) => settings.for_environment(environment),
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
    let (watching, trigger) = match auto {
        Some(auto) => {
            let trigger = Trigger::new(auto, release.ended_at.as_deref(), cancel.child_token(), sink.clone());
            (trigger.token.clone(), Some(trigger))
        }
        None => (cancel.clone(), None),
    };
    let heard = match &trigger {
        Some(trigger) => trigger.sink(),
        None => sink.clone(),
    };
    let mut summary = monitor::watch(request, &watching, heard).await?;
    if let Some(reason) = trigger.as_ref().and_then(Trigger::fired) {
        let done = if super::auto_rollback::still_live(context, &release) {
            super::auto_rollback::roll_back_after(context, root, &release.id, &reason, cancel).await
        } else {
            Err("a newer release went live after the one watched".to_owned())
        };
        let rolled = monitor::watch::AutoRolledBack {
            message: super::auto_rollback::sentence(&done),
            live: super::auto_rollback::went_live_again(&done),
        };
        sink(monitor::WatchEvent::RolledBack(rolled.clone()));
        summary.rolled_back = Some(rolled);
    }
    // The end is told once, after any automatic rollback.
    if trigger.is_some() {
        sink(monitor::WatchEvent::Ended(summary.clone()));
    }
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

/// The environment's automatic rollback on Sentry's new issues: counts those that come within
/// its minutes of the release going live, and stops the watch when there are enough. Holds
/// the watch's own end back, so it is told after the rollback.
struct Trigger {
    auto: project::AutoRollback,
    live_since: Option<chrono::DateTime<chrono::Utc>>,
    token: CancellationToken,
    sink: monitor::watch::WatchSink,
    state: std::sync::Arc<std::sync::Mutex<(u32, Option<String>)>>,
}

impl Trigger {
    fn new(
        auto: project::AutoRollback,
        live_since: Option<&str>,
        token: CancellationToken,
        sink: monitor::watch::WatchSink,
    ) -> Self {
        Self {
            auto,
            live_since: live_since
                .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
                .map(|time| time.with_timezone(&chrono::Utc)),
            token,
            sink,
            state: std::sync::Arc::default(),
        }
    }

    fn sink(&self) -> monitor::watch::WatchSink {
        let (auto, live_since, token, sink, state) = (
            self.auto,
            self.live_since,
            self.token.clone(),
            self.sink.clone(),
            self.state.clone(),
        );
        std::sync::Arc::new(move |event| {
            if let monitor::WatchEvent::NewIssue { issue } = &event {
                // When Sentry first saw it, not when the watch heard of it (a watch opened late).
                let seen = issue
                    .first_seen
                    .as_deref()
                    .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
                    .map_or_else(chrono::Utc::now, |time| time.with_timezone(&chrono::Utc));
                let minutes = live_since.map_or(0, |since| (seen - since).num_seconds().max(0) / 60);
                if minutes < i64::from(auto.minutes) {
                    if let Ok(mut state) = state.lock() {
                        state.0 += 1;
                        if state.0 >= auto.new_issues && state.1.is_none() {
                            state.1 = Some(format!(
                                "{} new issues within {} minutes of going live",
                                state.0, auto.minutes
                            ));
                            token.cancel();
                        }
                    }
                }
            }
            if !matches!(event, monitor::WatchEvent::Ended(_)) {
                sink(event);
            }
        })
    }

    /// Why it fired, when it did.
    fn fired(&self) -> Option<String> {
        self.state.lock().ok().and_then(|state| state.1.clone())
    }
}
