//! CircleCI beside the release: its verdict on the commit in the plan (pipelines, workflows,
//! jobs, and its test results against Slipway's own for the same commit), and the step that
//! waits for its workflows before deploying when the project asks for it.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::recorder::Recorder;
use super::{Context, Plan, PlannedStep, ReleaseEvent, Step};
use crate::circleci::{CiVerdict, CircleClient, TestComparison, VerdictState};
use crate::error::{AppError, ErrorAction, ErrorKind};
use crate::history::StepState;
use crate::project::{ProjectSettings, RemoteStanding, SyncState};
use crate::secrets::Service;

/// Told each new verdict while a pipeline is followed.
pub type Seen<'a> = dyn Fn(&CiVerdict) + Send + Sync + 'a;

/// How long the plan waits for CircleCI's answer before it says it could not get one.
const PLAN_LIMIT: Duration = Duration::from_secs(8);
/// How long a release waits for CircleCI to start a pipeline for a commit just pushed.
const APPEAR_LIMIT: Duration = Duration::from_secs(180);
/// How long a release waits for CircleCI's workflows to end.
pub(super) const WORKFLOW_LIMIT: Duration = Duration::from_secs(60 * 60);

/// CircleCI's word on the commit, as the plan shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CiPanel {
    /// The CircleCI project (`gh/acme/shop`).
    pub project: String,
    /// Where the project was named: the project's settings, or its `origin` remote.
    pub project_source: String,
    pub verdict: Option<CiVerdict>,
    /// Why there is no verdict, in a person's words: no pipeline yet, CircleCI unreachable,
    /// the token refused.
    pub problem: Option<String>,
    /// CircleCI's test results beside Slipway's own for the same commit.
    pub comparison: Option<TestComparison>,
    /// CircleCI has no pipeline for the commit: the window offers to run one.
    pub can_run: bool,
}

/// The CircleCI project a project's commits run in, and where that was read: the project's
/// setting, else the `origin` remote on GitHub or Bitbucket.
pub(crate) fn ci_project(settings: &ProjectSettings, standing: Option<&RemoteStanding>) -> Option<(String, String)> {
    if let Some(slug) = settings
        .circleci_project
        .as_deref()
        .map(str::trim)
        .filter(|slug| !slug.is_empty())
    {
        return Some((slug.to_owned(), "the project's settings".to_owned()));
    }
    let url = standing?.remote_url.as_deref()?;
    crate::project::circleci_slug(url).map(|slug| (slug, "the project's origin remote".to_owned()))
}

/// The client of the connected CircleCI account; `None` when none is connected.
pub(crate) async fn client(context: &Context) -> Result<Option<CircleClient>, AppError> {
    crate::accounts::circleci_client(context.secrets.clone(), &context.settings).await
}

/// Whether the project runs on CircleCI at all: a config in the project, or a linked project.
pub(crate) fn uses_circleci(root: &Path, settings: &ProjectSettings) -> bool {
    root.join(".circleci").is_dir() || settings.circleci_project.is_some()
}

/// What a plan shows of CircleCI: `None` when the project does not use it or no account is
/// connected. Bounded: CircleCI slow or away never holds the plan up past [`PLAN_LIMIT`].
pub(super) async fn plan_panel(
    context: &Context,
    root: &Path,
    settings: &ProjectSettings,
    standing: Option<&RemoteStanding>,
) -> Option<CiPanel> {
    if !uses_circleci(root, settings) {
        return None;
    }
    let client = match client(context).await {
        Ok(Some(client)) => client,
        Ok(None) => return None,
        Err(error) => {
            return Some(CiPanel {
                project: settings.circleci_project.clone().unwrap_or_default(),
                project_source: String::new(),
                verdict: None,
                problem: Some(error.message),
                comparison: None,
                can_run: false,
            })
        }
    };
    let Some((project, project_source)) = ci_project(settings, standing) else {
        return Some(CiPanel {
            project: String::new(),
            project_source: String::new(),
            verdict: None,
            problem: Some(
                "Slipway cannot tell which CircleCI project runs this one: name it (gh/owner/repository) in the project's settings."
                    .to_owned(),
            ),
            comparison: None,
            can_run: false,
        });
    };
    let mut panel = CiPanel {
        project: project.clone(),
        project_source,
        verdict: None,
        problem: None,
        comparison: None,
        can_run: false,
    };
    let (Some(branch), Some(commit)) = (
        standing.and_then(|standing| standing.branch.clone()),
        crate::project::full_commit(root).await,
    ) else {
        panel.problem = Some("CircleCI runs branches: check out a branch to see what it says.".to_owned());
        return Some(panel);
    };
    let asked = async {
        let verdict = client.verdict(&project, &branch, &commit).await?;
        let comparison = match &verdict {
            Some(verdict) => compare_with_ours(context, root, &client, &project, verdict, &commit).await,
            None => None,
        };
        Ok::<_, crate::http::ApiError>((verdict, comparison))
    };
    match tokio::time::timeout(PLAN_LIMIT, asked).await {
        Ok(Ok((Some(verdict), comparison))) => {
            panel.verdict = Some(verdict);
            panel.comparison = comparison;
        }
        Ok(Ok((None, _))) => {
            panel.problem = Some(format!(
                "CircleCI has no pipeline for {} on {branch} yet.",
                commit.get(..7).unwrap_or(&commit)
            ));
            // CircleCI runs the remote branch's head: offered only when that is this commit.
            panel.can_run = standing.is_some_and(|standing| standing.state == SyncState::UpToDate);
        }
        Ok(Err(error)) => panel.problem = Some(crate::circleci::app_error(error).message),
        Err(_) => {
            panel.problem = Some(format!(
                "CircleCI did not answer within {} seconds.",
                PLAN_LIMIT.as_secs()
            ))
        }
    }
    Some(panel)
}

/// CircleCI's stored test results for the verdict's finished jobs beside the newest tests
/// Slipway ran on the same commit; `None` when either side has none.
async fn compare_with_ours(
    context: &Context,
    root: &Path,
    client: &CircleClient,
    project: &str,
    verdict: &CiVerdict,
    commit: &str,
) -> Option<TestComparison> {
    let ledger = context.ledger.clone();
    let project_path = root.display().to_string();
    let commit_owned = commit.to_owned();
    let ours = tokio::task::spawn_blocking(move || ledger.tests_of_commit(&project_path, &commit_owned))
        .await
        .ok()?
        .ok()??;
    let ours: crate::checks::TestReport = serde_json::from_value(ours.1).ok()?;
    let mut theirs = Vec::new();
    for job in verdict.workflows.iter().flat_map(|workflow| &workflow.jobs) {
        let Some(number) = job.job_number.filter(|_| job.kind != "approval") else {
            continue;
        };
        if let Ok(Some(results)) = client.job_tests(project, number).await {
            theirs.extend(results);
        }
    }
    (!theirs.is_empty()).then(|| crate::circleci::compare(&theirs, &ours))
}

/// The Ci step, when the release waits for CircleCI; a blocker when it should and cannot.
pub(super) async fn planned_wait(
    context: &Context,
    settings: &ProjectSettings,
    standing: Option<&RemoteStanding>,
    wait: bool,
    push_first: bool,
    blockers: &mut Vec<AppError>,
) -> Option<PlannedStep> {
    if !wait {
        return None;
    }
    let connected = context.secrets.account(Service::CircleCi, "default").is_some();
    let Some((project, _)) = ci_project(settings, standing).filter(|_| connected) else {
        blockers.push(
            AppError::new(
                ErrorKind::Precondition,
                "The release waits for CircleCI, but no CircleCI account is connected or the project's CircleCI project is unknown.",
                "Connect CircleCI in Settings → Accounts and name the project's CircleCI project in its settings, or turn off \"Wait for CircleCI before deploying\".",
            )
            .with_action(ErrorAction::OpenProjectSettings)
            .in_terminal("Connect CircleCI (slipway accounts connect circleci) and set the project (slipway project set circleci-project gh/owner/repo), or release without --wait-for-ci."),
        );
        return None;
    };
    let Some(branch) = standing.and_then(|standing| standing.branch.clone()) else {
        blockers.push(AppError::new(
            ErrorKind::Precondition,
            "The release waits for CircleCI, which runs branches, and no branch is checked out.",
            "Check out the branch to release, or turn off \"Wait for CircleCI before deploying\".",
        ));
        return None;
    };
    // The commit must be on the remote branch once the Git step ran, or CircleCI never sees it.
    let unseen = standing.is_some_and(|standing| {
        matches!(
            standing.state,
            SyncState::Ahead | SyncState::NoUpstream | SyncState::Diverged
        ) && !push_first
    });
    if unseen {
        blockers.push(
            AppError::new(
                ErrorKind::Precondition,
                "The release waits for CircleCI, but this commit is not on the remote and will not be pushed: CircleCI would never run it.",
                "Turn \"Push the commit to GitHub first\" back on, or turn off \"Wait for CircleCI before deploying\".",
            )
            .with_action(ErrorAction::OpenProjectSettings)
            .in_terminal("Release with --push, or without --wait-for-ci."),
        );
        return None;
    }
    Some(PlannedStep::new(
        Step::Ci,
        format!("wait for CircleCI's workflows on {branch} ({project}) before deploying"),
    ))
}

/// Waits for CircleCI's workflows on the released commit; `true` when they passed (or the
/// release does not wait). Runs beside the checks: the deploy waits for both.
pub(super) async fn wait_step(
    context: &Context,
    root: &Path,
    plan: &Plan,
    recorder: &Recorder,
    cancel: &CancellationToken,
) -> bool {
    if !plan.steps.iter().any(|planned| planned.step == Step::Ci) {
        return true;
    }
    recorder.step(Step::Ci, StepState::Running, None);
    let failed = |error: AppError| {
        recorder.fail_with(Step::Ci, StepState::Failed, "", error);
        false
    };
    let (Some(project), Some(branch), Some(commit)) = (
        // The plan's panel names it; a project with no CircleCI folder has no panel, and then its
        // remote does (as `planned_wait` found it).
        plan.circleci
            .as_ref()
            .map(|panel| panel.project.clone())
            .filter(|project| !project.is_empty())
            .or_else(|| {
                plan.remote
                    .as_ref()
                    .and_then(|remote| remote.remote_url.as_deref())
                    .and_then(crate::project::circleci_slug)
            }),
        plan.branch.clone(),
        crate::project::full_commit(root).await,
    ) else {
        return failed(AppError::new(
            ErrorKind::Precondition,
            "Slipway could not tell which CircleCI pipeline to wait for (no CircleCI project or no branch).",
            "Name the project's CircleCI project in its settings, and release from a branch.",
        ));
    };
    let client = match client(context).await {
        Ok(Some(client)) => client,
        Ok(None) => {
            return failed(
                AppError::new(
                    ErrorKind::Precondition,
                    "No CircleCI account is connected.",
                    "Connect CircleCI in Settings → Accounts.",
                )
                .with_action(ErrorAction::OpenAccounts),
            )
        }
        Err(error) => return failed(error),
    };
    let short = commit.get(..7).unwrap_or(&commit).to_owned();
    recorder.log(
        Step::Ci,
        &format!("Looking for CircleCI's pipeline for {short} on {branch} ({project})"),
    );
    // A commit just pushed gets its pipeline a few seconds later.
    let appeared = tokio::time::Instant::now();
    let mut pause = Duration::from_secs(2);
    let pipeline = loop {
        let found = tokio::select! {
            found = client.verdict(&project, &branch, &commit) => found,
            () = cancel.cancelled() => {
                recorder.step(Step::Ci, StepState::Canceled, Some("Cancelled while waiting for CircleCI.".to_owned()));
                return false;
            }
        };
        match found {
            Ok(Some(verdict)) => break verdict,
            Ok(None) if appeared.elapsed() < APPEAR_LIMIT => {}
            Ok(None) => {
                return failed(AppError::new(
                    ErrorKind::Precondition,
                    format!(
                        "CircleCI started no pipeline for {short} on {branch} within {} minutes.",
                        APPEAR_LIMIT.as_secs() / 60
                    ),
                    format!("Check that CircleCI follows {project}, or run a pipeline for it (slipway ci run), then release again."),
                ))
            }
            Err(error) => return failed(crate::circleci::app_error(error)),
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = cancel.cancelled() => {
                recorder.step(Step::Ci, StepState::Canceled, Some("Cancelled while waiting for CircleCI.".to_owned()));
                return false;
            }
        }
        pause = (pause * 2).min(Duration::from_secs(15));
    };
    // A failed workflow ends the wait at once, though others still run: CircleCI has said no.
    let said_no = cancel.child_token();
    let last = std::sync::Mutex::new(pipeline.clone());
    let seen = |verdict: &CiVerdict| {
        recorder.log(Step::Ci, &verdict.words());
        recorder.event(ReleaseEvent::CircleCi {
            verdict: verdict.clone(),
        });
        if let Ok(mut last) = last.lock() {
            last.clone_from(verdict);
        }
        if verdict.state == VerdictState::Failed {
            said_no.cancel();
        }
    };
    seen(&pipeline);
    let ended = client
        .follow(&project, &pipeline.pipeline_id, WORKFLOW_LIMIT, said_no.clone(), &seen)
        .await;
    let ended = match ended {
        Err(_) if said_no.is_cancelled() && !cancel.is_cancelled() => {
            Ok(last.lock().map(|last| last.clone()).unwrap_or(pipeline))
        }
        other => other,
    };
    if cancel.is_cancelled() {
        recorder.step(
            Step::Ci,
            StepState::Canceled,
            Some("Cancelled while waiting for CircleCI.".to_owned()),
        );
        return false;
    }
    match ended {
        Ok(verdict) if verdict.state == VerdictState::Passed => {
            recorder.step(Step::Ci, StepState::Passed, Some(verdict.words()));
            true
        }
        Ok(verdict) => failed(
            AppError::new(
                ErrorKind::Precondition,
                verdict.words(),
                match verdict.state {
                    VerdictState::OnHold => "CircleCI waits for an approval Slipway cannot give: approve it on CircleCI, then release again.".to_owned(),
                    VerdictState::Running => format!(
                        "CircleCI was still running after {} minutes: release again once it has finished.",
                        WORKFLOW_LIMIT.as_secs() / 60
                    ),
                    _ => "See the workflow on CircleCI (linked on the Release page), fix what failed, then release again.".to_owned(),
                },
            )
            .with_detail(verdict.pipeline_url.clone()),
        ),
        Err(error) => failed(crate::circleci::app_error(error)),
    }
}
