//! What is live now, asked of the target itself (the project's container here, the
//! service's deploys on Render) and matched to the ledger; said plainly when they disagree.

use std::path::Path;

use serde::Serialize;
use ts_rs::TS;

use super::{Context, Target};
use crate::docker;
use crate::error::AppError;
use crate::history::{HistoryFilter, Outcome, ReleaseRecord};
use crate::project;
use crate::render::{deploy_phase, DeployPhase};

/// What runs on one target, as the target says, with the ledger's release when it knows it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LiveNow {
    pub target: Target,
    /// The project's environment ("local", "staging", "production").
    pub environment: String,
    /// The release that runs, when the ledger knows it.
    pub release: Option<ReleaseRecord>,
    /// When the target and the ledger disagree (or nothing runs), in a person's words.
    pub note: Option<String>,
}

/// What is live for the project at `root` on each of its environments it has been released
/// to, in chain order.
pub async fn live_now(context: &Context, root: &Path) -> Result<Vec<LiveNow>, AppError> {
    let project_path = root.display().to_string();
    let environments = project::load_settings(&context.data_dir, root)?
        .map(|settings| settings.environments)
        .unwrap_or_default();
    let mut found = Vec::new();
    for environment in environments.all() {
        let released = context.ledger.list(&HistoryFilter {
            project_path: Some(project_path.clone()),
            outcome: Some(Outcome::Live),
            environment: Some(environment.name.clone()),
            limit: Some(200),
            ..HistoryFilter::default()
        })?;
        let Some(last) = released.first() else { continue };
        let mut live = match environment.target {
            Target::Local => local(root, &released, last).await,
            Target::Render => {
                let service = environment
                    .service_id()
                    .map(str::to_owned)
                    .or_else(|| last.service.clone());
                render(context, service, &released, last).await
            }
        };
        live.environment = environment.name.clone();
        found.push(live);
    }
    Ok(found)
}

async fn local(root: &Path, released: &[ReleaseRecord], last: &ReleaseRecord) -> LiveNow {
    let answer = |release: Option<ReleaseRecord>, note: Option<String>| LiveNow {
        target: Target::Local,
        environment: project::LOCAL.to_owned(),
        release,
        note,
    };
    let running = match docker::connect() {
        Ok(engine) => docker::running_release(&engine, &project::project_id(root)).await,
        Err(error) => Err(error),
    };
    match running {
        Ok(Some(id)) => match released.iter().find(|release| release.id == id) {
            Some(release) => answer(Some(release.clone()), None),
            None => answer(
                None,
                Some(format!("A container of this project runs release {id}, which this history does not know.")),
            ),
        },
        Ok(None) => answer(
            None,
            Some(format!(
                "Nothing runs on this machine: the container of release {} was stopped or removed. Roll back or release to run one again.",
                last.id
            )),
        ),
        Err(error) => answer(
            Some(last.clone()),
            Some(format!(
                "Docker did not answer ({error}), so this is the history's word, not the engine's."
            )),
        ),
    }
}

async fn render(
    context: &Context,
    service: Option<String>,
    released: &[ReleaseRecord],
    last: &ReleaseRecord,
) -> LiveNow {
    let answer = |release: Option<ReleaseRecord>, note: Option<String>| LiveNow {
        target: Target::Render,
        environment: String::new(),
        release,
        note,
    };
    let Some(service) = service else {
        return answer(
            Some(last.clone()),
            Some("No Render service is picked for this environment, so this is the history's word.".to_owned()),
        );
    };
    let client = match super::deploy::render_client(context).await {
        Ok(Some(client)) => client,
        Ok(None) => {
            return answer(
                Some(last.clone()),
                Some(
                    "Render is not connected with an API key, so this is the history's word, not Render's.".to_owned(),
                ),
            )
        }
        Err(error) => {
            return answer(
                Some(last.clone()),
                Some(format!(
                    "Render could not be asked ({}): this is the history's word.",
                    error.message
                )),
            )
        }
    };
    let deploys = client.deploys(&service, None).await;
    match deploys {
        Ok(deploys) => {
            let live = deploys
                .into_iter()
                .filter(|deploy| deploy_phase(&deploy.status) == DeployPhase::Live)
                .max_by(|a, b| a.created_at.cmp(&b.created_at));
            match live {
                Some(deploy) => match released.iter().find(|release| release.deploy_id.as_deref() == Some(&deploy.id)) {
                    Some(release) => answer(Some(release.clone()), None),
                    None => answer(
                        None,
                        Some(format!(
                            "Render runs deploy {}, which Slipway did not make (from Render's dashboard, or a rollback there).",
                            deploy.id
                        )),
                    ),
                },
                None => answer(None, Some("Render reports no live deploy of the service.".to_owned())),
            }
        }
        Err(error) => answer(
            Some(last.clone()),
            Some(format!(
                "Render could not be asked ({}), so this is the history's word, not Render's.",
                AppError::from(error).message
            )),
        ),
    }
}

/// Where the project's app on this machine stands, as the engine says it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum LocalAppState {
    Running,
    /// Stopped (by Stop, `docker stop`, or never started): Start runs it again.
    Stopped,
    /// Ended by itself; `exit_code` says how.
    Exited,
    /// The container is gone, though the history says a release went live here.
    Removed,
}

/// The project's app on this machine: its container, where it answers and since when.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LocalApp {
    /// The container's name (named after the project).
    pub name: String,
    pub state: LocalAppState,
    pub running: bool,
    /// RFC 3339, when it was last started.
    pub since: Option<String>,
    /// RFC 3339, when it stopped or exited.
    pub ended_at: Option<String>,
    /// How it ended, when it exited by itself.
    #[ts(type = "number | null")]
    pub exit_code: Option<i64>,
    /// Where it answers, while it runs.
    pub url: Option<String>,
    /// The release that started it, and that release's record when the ledger has it.
    pub release_id: Option<String>,
    pub release: Option<ReleaseRecord>,
    pub image: Option<String>,
    /// *Run it again* can work: the container can start again, or (removed) the image of
    /// the release that was live here is still on this machine.
    pub can_run_again: bool,
}

/// New output of the project's container, and the time to ask from next.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppOutput {
    pub lines: Vec<String>,
    /// Unix seconds: pass it back to get only what came after.
    #[ts(type = "number")]
    pub next_since: i64,
}

/// What to do with the project's container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum AppAction {
    Stop,
    Restart,
    /// Starts a stopped or exited container; a removed one is shipped again by
    /// [`run_local_again`], which the caller runs as a release task.
    RunAgain,
}

/// The project's container on this machine; when it is gone but a release went live here,
/// the app as `Removed`; `None` when Slipway never ran it here.
pub async fn local_app(context: &Context, root: &Path) -> Result<Option<LocalApp>, AppError> {
    let engine = docker::connect()?;
    let Some(container) = docker::project_container(&engine, &project::project_id(root)).await? else {
        return removed(context, &engine, root).await;
    };
    let release = match &container.release_id {
        Some(id) => context.ledger.release(id)?,
        None => None,
    };
    let (state, exit_code) = match container.run {
        docker::ContainerRun::Running => (LocalAppState::Running, None),
        docker::ContainerRun::Stopped => (LocalAppState::Stopped, None),
        docker::ContainerRun::Exited(code) => (LocalAppState::Exited, Some(code)),
    };
    Ok(Some(LocalApp {
        url: container
            .host_port
            .filter(|_| container.running)
            .map(|port| format!("http://127.0.0.1:{port}/")),
        name: container.name,
        state,
        running: state == LocalAppState::Running,
        since: container.started_at,
        ended_at: container.finished_at.filter(|_| state != LocalAppState::Running),
        exit_code,
        release_id: container.release_id,
        release,
        image: container.image,
        can_run_again: state != LocalAppState::Running,
    }))
}

/// The newest release that went live on this machine's Local target, per the history.
fn last_live_here(context: &Context, root: &Path) -> Result<Option<ReleaseRecord>, AppError> {
    let machine = super::machine_name();
    let releases = context.ledger.list(&HistoryFilter {
        project_path: Some(root.display().to_string()),
        outcome: Some(Outcome::Live),
        target: Some(Target::Local.as_str().to_owned()),
        limit: Some(50),
        ..HistoryFilter::default()
    })?;
    // A history shared between machines: a release elsewhere was never live here.
    Ok(releases
        .into_iter()
        .find(|release| release.machine.is_none() || release.machine == machine))
}

async fn removed(context: &Context, engine: &bollard::Docker, root: &Path) -> Result<Option<LocalApp>, AppError> {
    let Some(release) = last_live_here(context, root)? else {
        return Ok(None);
    };
    let can_run_again = match release.image_id.as_deref().or(release.image.as_deref()) {
        Some(image) => docker::has_image(engine, image).await?,
        None => false,
    };
    Ok(Some(LocalApp {
        name: project::container_name(root),
        state: LocalAppState::Removed,
        running: false,
        since: None,
        ended_at: None,
        exit_code: None,
        url: None,
        release_id: Some(release.id.clone()),
        image: release.image.clone(),
        release: Some(release),
        can_run_again,
    }))
}

/// Ships again the release that was live on this machine before its container was removed:
/// a rollback to that same release, so the history records it like any other.
pub async fn run_local_again(
    context: &Context,
    root: &Path,
    cancel: &tokio_util::sync::CancellationToken,
    sink: super::ReleaseSink,
) -> Result<super::ReleaseSummary, AppError> {
    let Some(release) = last_live_here(context, root)? else {
        return Err(nothing_here());
    };
    super::rollback::rollback(
        context,
        root,
        release.environment.as_deref(),
        super::rollback::RollbackTo::Release(release.id),
        cancel,
        sink,
    )
    .await
}

fn nothing_here() -> AppError {
    AppError::new(
        crate::error::ErrorKind::NotFound,
        "Nothing of this project runs on this machine.",
        "Release it to this machine (the Local target) to run it here.",
    )
    .with_action(crate::error::ErrorAction::ReviewPlan)
}

/// Stops, restarts or starts again the project's container; returns it as it is after. A
/// removed container is not here to act on: *Run it again* goes through [`run_local_again`].
pub async fn act_on_local_app(context: &Context, root: &Path, action: AppAction) -> Result<Option<LocalApp>, AppError> {
    let engine = docker::connect()?;
    let Some(container) = docker::project_container(&engine, &project::project_id(root)).await? else {
        return Err(nothing_here());
    };
    match action {
        AppAction::Stop => docker::stop_container(&engine, &container.name).await?,
        AppAction::Restart | AppAction::RunAgain => docker::restart_container(&engine, &container.name).await?,
    }
    local_app(context, root).await
}

/// What the project's container printed since `since` (Unix seconds; its last 200 lines
/// when 0), redacted like every other log.
pub async fn local_app_output(root: &Path, since: i64) -> Result<AppOutput, AppError> {
    let engine = docker::connect()?;
    let now = chrono::Utc::now().timestamp();
    let Some(container) = docker::project_container(&engine, &project::project_id(root)).await? else {
        return Ok(AppOutput {
            lines: Vec::new(),
            next_since: now,
        });
    };
    let lines = docker::container_output(&engine, &container.name, since, 200).await?;
    Ok(AppOutput {
        lines: lines
            .iter()
            .map(|line| crate::secrets::redact(line).into_owned())
            .collect(),
        next_since: now,
    })
}
