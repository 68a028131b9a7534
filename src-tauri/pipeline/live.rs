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
    /// The release that runs, when the ledger knows it.
    pub release: Option<ReleaseRecord>,
    /// When the target and the ledger disagree (or nothing runs), in a person's words.
    pub note: Option<String>,
}

/// What is live for the project at `root` on each target it has been released to.
pub async fn live_now(context: &Context, root: &Path) -> Result<Vec<LiveNow>, AppError> {
    let project_path = root.display().to_string();
    let mut found = Vec::new();
    for target in [Target::Local, Target::Render] {
        let released = context.ledger.list(&HistoryFilter {
            project_path: Some(project_path.clone()),
            outcome: Some(Outcome::Live),
            target: Some(target.as_str().to_owned()),
            limit: Some(200),
            ..HistoryFilter::default()
        })?;
        let Some(last) = released.first() else { continue };
        let live = match target {
            Target::Local => local(root, &released, last).await,
            Target::Render => render(context, &released, last).await,
        };
        found.push(live);
    }
    Ok(found)
}

async fn local(root: &Path, released: &[ReleaseRecord], last: &ReleaseRecord) -> LiveNow {
    let answer = |release: Option<ReleaseRecord>, note: Option<String>| LiveNow {
        target: Target::Local,
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

async fn render(context: &Context, released: &[ReleaseRecord], last: &ReleaseRecord) -> LiveNow {
    let answer = |release: Option<ReleaseRecord>, note: Option<String>| LiveNow {
        target: Target::Render,
        release,
        note,
    };
    let (client, service) = match super::deploy::connected_render(context).await {
        Ok(Some(connected)) => connected,
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
