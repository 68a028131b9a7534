//! Finding the pipeline CircleCI ran for a commit, reading its workflows and jobs, and
//! starting a new one.
//!
//! CircleCI lists a branch's pipelines newest first, twenty to a page, and cannot be asked for
//! a revision: the commit is looked for in the first few pages only, since a commit further
//! back than a hundred pipelines is not the one being released.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::verdict::{fold, CiJob, CiVerdict, CiWorkflow, WorkflowStatus};
use super::{escape, next_token, pipeline_page, slug_path, CircleClient, Page, SERVICE};
use crate::http::ApiError;

/// Pages of a branch's pipelines looked through for a commit (twenty each).
const PIPELINE_PAGES: usize = 5;

#[derive(Deserialize)]
struct PipelineItem {
    id: String,
    number: u64,
    #[serde(default)]
    state: String,
    #[serde(default)]
    errors: Vec<PipelineErrorItem>,
    #[serde(default)]
    vcs: Option<Vcs>,
}

#[derive(Deserialize)]
struct PipelineErrorItem {
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct Vcs {
    #[serde(default)]
    revision: String,
}

#[derive(Deserialize)]
struct WorkflowItem {
    id: String,
    name: String,
    status: WorkflowStatus,
}

#[derive(Deserialize)]
struct JobItem {
    id: String,
    name: String,
    /// Absent for a blocked job and an approval.
    #[serde(default)]
    job_number: Option<u64>,
    #[serde(default)]
    status: String,
    #[serde(rename = "type", default)]
    kind: String,
}

/// The pipeline a trigger made (`201` with `{id, state, number, created_at}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TriggeredPipeline {
    pub id: String,
    #[ts(type = "number")]
    pub number: u64,
    #[serde(default)]
    pub state: String,
    /// Its page in CircleCI's web app.
    #[serde(default)]
    pub url: String,
}

impl CircleClient {
    /// The pipeline CircleCI ran for `commit` (its full sha) on `branch`, with its workflows and
    /// their jobs: the newest of the branch's pipelines whose `vcs.revision` is the commit,
    /// looked for in the newest hundred. `None` when none ran it.
    pub async fn verdict(&self, slug: &str, branch: &str, commit: &str) -> Result<Option<CiVerdict>, ApiError> {
        let list = format!("/project/{}/pipeline?branch={}", slug_path(slug), escape(branch));
        let what = format!("project {slug}");
        let mut token: Option<String> = None;
        for _ in 0..PIPELINE_PAGES {
            let page: Page<PipelineItem> = self.page(&list, token.as_deref(), &what).await?;
            let found = page.items.into_iter().find(|pipeline| {
                pipeline
                    .vcs
                    .as_ref()
                    .is_some_and(|vcs| vcs.revision.eq_ignore_ascii_case(commit.trim()))
            });
            if let Some(pipeline) = found {
                return Ok(Some(self.read(slug, pipeline).await?));
            }
            match next_token(page.next_page_token, token.as_deref()) {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        Ok(None)
    }

    /// A pipeline named by its id (`GET /pipeline/{id}`), with its workflows and their jobs.
    pub async fn pipeline_verdict(&self, slug: &str, pipeline_id: &str) -> Result<CiVerdict, ApiError> {
        let (pipeline, _) = self
            .api
            .get_json::<PipelineItem>(&format!("/pipeline/{}", escape(pipeline_id)), "pipeline")
            .await?;
        self.read(slug, pipeline).await
    }

    /// `POST /project/{slug}/pipeline` with the branch: the pipeline CircleCI made for the
    /// branch's newest commit. Sent once: a pipeline started twice runs (and deploys) twice.
    pub async fn trigger(&self, slug: &str, branch: &str) -> Result<TriggeredPipeline, ApiError> {
        let body = serde_json::json!({ "branch": branch });
        let response = self
            .api
            .send_once(
                reqwest::Method::POST,
                &format!("/project/{}/pipeline", slug_path(slug)),
                Some(&body),
            )
            .await?;
        let response = self.api.check(response, &format!("project {slug}")).await?;
        let mut pipeline = response
            .json::<TriggeredPipeline>()
            .await
            .map_err(|error| ApiError::Unreadable {
                service: SERVICE,
                detail: error.to_string(),
            })?;
        pipeline.url = pipeline_page(&self.app, slug, pipeline.number);
        Ok(pipeline)
    }

    /// A pipeline's workflows (every page) and each one's jobs (every page).
    async fn read(&self, slug: &str, pipeline: PipelineItem) -> Result<CiVerdict, ApiError> {
        let page = pipeline_page(&self.app, slug, pipeline.number);
        let items: Vec<WorkflowItem> = self
            .all_pages(&format!("/pipeline/{}/workflow", escape(&pipeline.id)), "pipeline")
            .await?;
        let mut workflows = Vec::with_capacity(items.len());
        for item in items {
            let url = format!("{page}/workflows/{}", escape(&item.id));
            let jobs: Vec<JobItem> = self
                .all_pages(&format!("/workflow/{}/job", escape(&item.id)), "workflow")
                .await?;
            let jobs = jobs
                .into_iter()
                .map(|job| CiJob {
                    url: job.job_number.map(|number| format!("{url}/jobs/{number}")),
                    id: job.id,
                    name: job.name,
                    job_number: job.job_number,
                    status: job.status,
                    kind: job.kind,
                })
                .collect();
            workflows.push(CiWorkflow {
                id: item.id,
                name: item.name,
                status: item.status,
                url,
                jobs,
            });
        }
        Ok(CiVerdict {
            state: fold(&workflows, &pipeline.state),
            pipeline_id: pipeline.id,
            pipeline_number: pipeline.number,
            pipeline_url: page,
            revision: pipeline
                .vcs
                .map(|vcs| vcs.revision)
                .filter(|revision| !revision.is_empty()),
            workflows,
            errors: pipeline
                .errors
                .into_iter()
                .map(|error| error.message)
                .filter(|message| !message.is_empty())
                .collect(),
        })
    }
}
