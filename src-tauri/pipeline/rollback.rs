//! Rolling back: a release that went live is shipped again, with no gate run. A rollback is
//! a release in the ledger (kind `rollback`, its source's id) with two steps, deploy and
//! verify, and takes the project's lock like any release.

use crate::vocabulary::ReleaseKind;
use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::bookends::{conclude, take_locks, Locking};
use super::deploy::{render_client, Deployer, Destination};
use super::recorder::Recorder;
use super::{current_user, machine_name};
use super::{Context, ReleaseEvent, ReleaseSink, ReleaseSummary, Step, Target};
use crate::docker;
use crate::error::{AppError, ErrorAction, ErrorKind};
use crate::history::{new_release_id, HistoryFilter, NewRelease, Outcome, ReleaseRecord};
use crate::http::ApiError;
use crate::project;

/// What to roll back to: a release id, or the last release that went live before the one
/// live now.
pub enum RollbackTo {
    Release(String),
    LastGood,
}

/// Rolls the project at `root` back on its environment `environment` (`None`: the one the
/// release named goes to, else the project's default). An `Err` means nothing was shipped
/// (the reason says what to do); a rollback that ran ends in `Ok` with its outcome.
pub async fn rollback(
    context: &Context,
    root: &Path,
    environment: Option<&str>,
    to: RollbackTo,
    cancel: &CancellationToken,
    sink: ReleaseSink,
) -> Result<ReleaseSummary, AppError> {
    rollback_because(context, root, environment, to, cancel, sink, None).await
}

/// [`rollback`], started by Slipway itself for `reason` ("5 new issues in 3 minutes"), which
/// its deploy step and its sentence keep; `None`: a person asked.
pub(super) async fn rollback_because(
    context: &Context,
    root: &Path,
    environment: Option<&str>,
    to: RollbackTo,
    cancel: &CancellationToken,
    sink: ReleaseSink,
    reason: Option<&str>,
) -> Result<ReleaseSummary, AppError> {
    let resolved = resolve(context, root, environment, to).await?;
    // Read before anything ships: what runs now is what the database was migrated for.
    let crossed = crossing(context, root, &resolved).await;
    let Resolved {
        project_path,
        project_settings,
        chosen,
        source,
    } = resolved;
    let target = chosen.target;
    let render_service = refuse_unless_shippable(context, &project_path, &chosen, &source).await?;

    // What the Local target needs, before anything is recorded.
    let engine = match target {
        Target::Local => Some(docker::connect_for(project_settings.docker_context.as_deref()).map_err(AppError::from)?),
        Target::Render => None,
    };
    let release_id = new_release_id();
    // A rollback is what a person reaches for when things are on fire: a team server that does
    // not answer never stops it (someone else releasing the environment still does).
    let _locks = take_locks(
        context,
        root,
        &Locking {
            project_name: &source.project_name,
            release_id: &release_id,
            target,
            service: render_service.as_deref(),
            environment: &chosen.name,
        },
        true,
    )
    .await?;
    let steps = [Step::Deploy, Step::Verify];
    let started_at = context.ledger.begin(&NewRelease {
        id: release_id.clone(),
        project_path: project_path.clone(),
        project_name: source.project_name.clone(),
        user: current_user(),
        commit: source.commit.clone(),
        branch: source.branch.clone(),
        dirty: source.dirty,
        target,
        image: source.image.clone(),
        steps: steps.to_vec(),
        kind: ReleaseKind::Rollback,
        source_id: Some(source.id.clone()),
        machine: machine_name(),
        environment: Some(chosen.name.clone()),
        service: render_service.clone().or_else(|| Some(project::container_name(root))),
        // The same commit, on the same remote as when it was first released.
        remote_url: source.remote_url.clone(),
        on_remote: source.on_remote,
    })?;
    tracing::info!(release = %release_id, source = %source.id, "rollback started");
    let recorder = Recorder::new(context.ledger.clone(), release_id.clone(), started_at, sink.clone());
    recorder.note(&crate::history::Ending {
        digest: source.digest.clone(),
        image_id: source.image_id.clone(),
        ..crate::history::Ending::default()
    });
    recorder.event(ReleaseEvent::RollbackStarted {
        release_id: release_id.clone(),
        source_id: source.id.clone(),
    });
    if let Some(reason) = reason {
        recorder.log(Step::Deploy, &format!("rolled back automatically: {reason}"));
    }
    if let Some(warning) = crossed.warning {
        recorder.log(Step::Deploy, &warning);
    }
    let environment_settings = project_settings.for_environment(&chosen);
    let destination = Destination {
        context,
        target,
        engine: engine.as_ref(),
        root,
        settings: &environment_settings,
        service: match target {
            Target::Local => project::container_name(root),
            Target::Render => render_service.unwrap_or_default(),
        },
        release_id: &release_id,
        commit: source.commit.clone(),
    };
    // The row is started: whatever happens ends it, never a `?` that leaves it running.
    let deployed = match destination.deployer() {
        Ok(deployer) => deployer.roll_back(&source, &recorder, cancel).await,
        Err(error) => Err(super::deploy::StepFailure::from_error(error.message.clone(), error)),
    };
    let (outcome, mut ending) = super::deploy::ending_after(deployed, crate::history::Ending::default());
    if let Some(reason) = reason {
        let said = format!("Rolled back automatically: {reason}.");
        ending.message = Some(match ending.message.take() {
            Some(more) => format!("{said} {more}"),
            None => said,
        });
    }
    conclude(
        context,
        &recorder,
        &release_id,
        source.image.as_deref().unwrap_or_default(),
        outcome,
        ending,
        &sink,
    )
}

/// The project's settings, the environment a rollback goes to and the release it ships.
struct Resolved {
    project_path: String,
    project_settings: project::ProjectSettings,
    chosen: project::Environment,
    source: ReleaseRecord,
}

async fn resolve(
    context: &Context,
    root: &Path,
    environment: Option<&str>,
    to: RollbackTo,
) -> Result<Resolved, AppError> {
    let project_path = root.display().to_string();
    let folder = root.to_path_buf();
    let detection = tokio::task::spawn_blocking(move || project::detect(&folder))
        .await
        .map_err(|error| AppError::new(ErrorKind::Unknown, error.to_string(), "Try again."))?;
    let (project_settings, _) = project::settings_or_detected(&context.data_dir, root, &detection)?;
    let named = match (&to, environment) {
        (_, Some(name)) => Some(name.to_owned()),
        (RollbackTo::Release(id), None) => context.ledger.release(id)?.and_then(|release| release.environment),
        (RollbackTo::LastGood, None) => None,
    };
    let chosen = match named {
        Some(name) => project_settings.environments.resolve(&name)?,
        None => project_settings.environments.default_environment(),
    };
    let target = chosen.target;
    let source = match to {
        RollbackTo::Release(id) => context.ledger.release(&id)?.ok_or_else(|| {
            AppError::new(
                ErrorKind::NotFound,
                format!("No release {id} is in the history."),
                "Pick a release from the History page.",
            )
        })?,
        RollbackTo::LastGood => last_good(context, &project_path, &chosen.name, target).await?,
    };
    Ok(Resolved {
        project_path,
        project_settings,
        chosen,
        source,
    })
}

/// What a rollback would cross, said before the person confirms it.
#[derive(Debug, Clone, Default, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RollbackCrossing {
    /// The Django migrations the live release has and the target does not.
    pub migrations: Vec<project::migrations::Migration>,
    /// "The database keeps the changes of shop 0007_add_price; the older code may not work
    /// with them."; `None` when nothing is crossed (or it cannot be read here).
    pub warning: Option<String>,
}

/// What rolling the project at `root` back (as [`rollback`] would) crosses between the
/// release live now and its target.
pub async fn rollback_crossing(
    context: &Context,
    root: &Path,
    environment: Option<&str>,
    to: RollbackTo,
) -> Result<RollbackCrossing, AppError> {
    let resolved = resolve(context, root, environment, to).await?;
    Ok(crossing(context, root, &resolved).await)
}

async fn crossing(context: &Context, root: &Path, resolved: &Resolved) -> RollbackCrossing {
    let live = live_now(
        context,
        &resolved.project_path,
        &resolved.chosen.name,
        resolved.chosen.target,
    )
    .await
    .ok()
    .flatten()
    .and_then(|id| context.ledger.release(&id).ok().flatten());
    let (Some(live), Some(target)) = (live.and_then(|live| live.commit), resolved.source.commit.as_deref()) else {
        return RollbackCrossing::default();
    };
    let migrations = project::migrations::crossed(root, &live, target)
        .await
        .unwrap_or_default();
    RollbackCrossing {
        warning: project::migrations::crossing_sentence(&migrations),
        migrations,
    }
}

/// The release live now on `target`: the one the project's container was started by
/// (Local), else the newest that went live.
async fn live_now(
    context: &Context,
    project_path: &str,
    environment: &str,
    target: Target,
) -> Result<Option<String>, AppError> {
    if target == Target::Local {
        if let Ok(engine) = super::project_engine(&context.data_dir, Path::new(project_path)) {
            let id = project::project_id(Path::new(project_path));
            if let Ok(Some(release)) = docker::running_release(&engine, &id).await {
                return Ok(Some(release));
            }
        }
    }
    Ok(went_live(context, project_path, environment)?
        .first()
        .map(|release| release.id.clone()))
}

pub(super) fn went_live(
    context: &Context,
    project_path: &str,
    environment: &str,
) -> Result<Vec<ReleaseRecord>, AppError> {
    Ok(context.ledger.list(&HistoryFilter {
        project_path: Some(project_path.to_owned()),
        outcome: Some(Outcome::Live),
        environment: Some(environment.to_owned()),
        limit: Some(200),
        ..HistoryFilter::default()
    })?)
}

/// The newest release that went live on `environment` before the one live there now.
async fn last_good(
    context: &Context,
    project_path: &str,
    environment: &str,
    target: Target,
) -> Result<ReleaseRecord, AppError> {
    let live = live_now(context, project_path, environment, target).await?;
    let releases = went_live(context, project_path, environment)?;
    let after_live = match &live {
        Some(id) => releases
            .iter()
            .position(|release| &release.id == id)
            .map_or(0, |at| at + 1),
        None => 0,
    };
    releases
        .into_iter()
        .skip(after_live)
        .find(|release| Some(&release.id) != live.as_ref())
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::NotFound,
                format!("There is no earlier release that went live on {environment} to roll back to."),
                "Release a good version instead; History lists what went live.",
            )
        })
}

/// Refuses, with the reason and what to do, a rollback that cannot ship `source`; on Render,
/// returns the service it goes to.
async fn refuse_unless_shippable(
    context: &Context,
    project_path: &str,
    environment: &crate::project::Environment,
    source: &ReleaseRecord,
) -> Result<Option<String>, AppError> {
    let target = environment.target;
    let refuse = |message: String, hint: &str| Err(AppError::new(ErrorKind::Precondition, message, hint));
    if source.project_path != project_path {
        return refuse(
            format!(
                "{} belongs to another project ({}).",
                source.named(),
                source.project_name
            ),
            "Open that project to roll it back.",
        );
    }
    if source.outcome != Outcome::Live {
        return refuse(
            format!("{} never went live ({}).", source.named(), source.outcome.as_str()),
            "Pick a release whose outcome is live.",
        );
    }
    let went_to = source.environment.clone().unwrap_or_else(|| source.target.to_string());
    if !went_to.eq_ignore_ascii_case(&environment.name) {
        return refuse(
            format!("{} went live on {went_to}, not {}.", source.named(), environment.name),
            "Roll back on the environment it went live on.",
        );
    }
    match target {
        Target::Local => {
            let image = source
                .image_id
                .clone()
                .or_else(|| source.image.clone())
                .unwrap_or_default();
            let engine = super::project_engine(&context.data_dir, Path::new(project_path))?;
            if engine.inspect_image(&image).await.is_err() {
                return refuse(
                    format!("The image of {} is no longer on this machine.", source.name()),
                    "Release that commit again instead: its image was removed.",
                );
            }
        }
        Target::Render => {
            // Without a deploy of Render's, its digest can still be deployed again.
            if source.deploy_id.is_none() && (source.digest.is_none() || source.image.is_none()) {
                return refuse(
                    format!(
                        "{} has no Render deploy to return to, and no image digest to deploy.",
                        source.named()
                    ),
                    "Pick a release that Slipway pushed and deployed to Render.",
                );
            }
            let Some(service) = environment.service_id().map(str::to_owned) else {
                return Err(AppError::new(
                    ErrorKind::Precondition,
                    format!("The environment {} has no Render service picked.", environment.name),
                    format!("Pick the Render service {} deploys to.", environment.name),
                )
                .with_action(ErrorAction::PickRenderService));
            };
            if let Some(went) = source.service.as_deref().filter(|went| *went != service) {
                return Err(AppError::new(
                    ErrorKind::Precondition,
                    format!(
                        "{} went to another Render service; {} deploys to {} now.",
                        source.named(),
                        environment.name,
                        environment.service_words()
                    ),
                    "Roll back to a release of the service the environment deploys to now.",
                )
                .with_detail(format!(
                    "the release went to {went}; the environment's service is {service}"
                )));
            }
            let Some(client) = render_client(context).await? else {
                return Err(AppError::new(
                    ErrorKind::Precondition,
                    "Render is not connected with an API key.",
                    "Connect Render with an API key in Settings → Accounts.",
                )
                .with_action(ErrorAction::OpenAccounts));
            };
            // Render answers 404 for a deploy of another service: the one connected now is
            // not the one the release went to.
            let deploy_id = source.deploy_id.as_deref().unwrap_or_default();
            match client.deploy(&service, deploy_id).await {
                Ok(_) => return Ok(Some(service)),
                Err(ApiError::NotFound { .. }) => {
                    return Err(AppError::new(
                        ErrorKind::Precondition,
                        format!(
                            "{} went to another Render service than {}, which {} deploys to now.",
                            source.named(),
                            environment.service_words(),
                            environment.name
                        ),
                        "Roll back to a release of this service, or pick the service that release went to for this environment.",
                    )
                    .with_action(ErrorAction::OpenProjectSettings)
                    .with_detail(format!("Render has no deploy {deploy_id} on {service}")))
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
    Ok(None)
}
