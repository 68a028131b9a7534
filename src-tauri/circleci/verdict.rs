//! What CircleCI said about a commit: its pipeline, the workflows it ran and their jobs, and
//! the one state they add up to, in words a person reads in the plan.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ts_rs::TS;

/// What a pipeline's workflows add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum VerdictState {
    /// Every workflow succeeded.
    Passed,
    /// A workflow is still running (or the pipeline is still being set up).
    Running,
    /// A workflow failed, stopped with an error, is failing, or was not allowed to run; or the
    /// pipeline itself could not start (its configuration).
    Failed,
    /// A workflow waits for an approval, which Slipway cannot give.
    OnHold,
    Canceled,
    /// No workflow ran for it (filters left none, or they were not run).
    NotRun,
}

/// A workflow's status as CircleCI names it; a word this version does not know is kept and
/// shown as it came, never guessed into a known one.
#[derive(Debug, Clone, PartialEq, Eq, TS)]
#[ts(
    type = "\"success\" | \"running\" | \"not_run\" | \"failed\" | \"error\" | \"failing\" | \"on_hold\" | \"canceled\" | \"unauthorized\" | (string & {})"
)]
pub enum WorkflowStatus {
    Success,
    Running,
    NotRun,
    Failed,
    Error,
    /// A job failed while others still run: the workflow will fail.
    Failing,
    OnHold,
    Canceled,
    Unauthorized,
    Unknown(String),
}

impl WorkflowStatus {
    const KNOWN: [(WorkflowStatus, &'static str); 9] = [
        (WorkflowStatus::Success, "success"),
        (WorkflowStatus::Running, "running"),
        (WorkflowStatus::NotRun, "not_run"),
        (WorkflowStatus::Failed, "failed"),
        (WorkflowStatus::Error, "error"),
        (WorkflowStatus::Failing, "failing"),
        (WorkflowStatus::OnHold, "on_hold"),
        (WorkflowStatus::Canceled, "canceled"),
        (WorkflowStatus::Unauthorized, "unauthorized"),
    ];

    pub fn parse(word: &str) -> Self {
        Self::KNOWN.iter().find(|(_, known)| *known == word).map_or_else(
            || WorkflowStatus::Unknown(word.to_owned()),
            |(status, _)| status.clone(),
        )
    }

    /// CircleCI's word for it.
    pub fn as_str(&self) -> &str {
        match self {
            WorkflowStatus::Unknown(word) => word,
            known => Self::KNOWN
                .iter()
                .find(|(status, _)| status == known)
                .map_or("", |(_, word)| word),
        }
    }

    /// Still moving: a follower keeps reading.
    pub fn is_moving(&self) -> bool {
        matches!(self, WorkflowStatus::Running | WorkflowStatus::Failing)
    }

    /// What it did, after "workflow build".
    fn words(&self) -> &str {
        match self {
            WorkflowStatus::Success => "passed",
            WorkflowStatus::Running => "is running",
            WorkflowStatus::NotRun => "did not run",
            WorkflowStatus::Failed => "failed",
            WorkflowStatus::Error => "stopped with an error",
            WorkflowStatus::Failing => "is failing",
            WorkflowStatus::OnHold => "waits for an approval",
            WorkflowStatus::Canceled => "was canceled",
            WorkflowStatus::Unauthorized => "was not allowed to run",
            WorkflowStatus::Unknown(word) => word,
        }
    }
}

impl Serialize for WorkflowStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for WorkflowStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(deserializer)?))
    }
}

/// The pipeline CircleCI ran for a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CiVerdict {
    pub pipeline_id: String,
    #[ts(type = "number")]
    pub pipeline_number: u64,
    /// The pipeline's page in CircleCI's web app.
    pub pipeline_url: String,
    /// The commit it ran (`vcs.revision`), when CircleCI says.
    pub revision: Option<String>,
    pub state: VerdictState,
    pub workflows: Vec<CiWorkflow>,
    /// Why the pipeline could not start (a configuration CircleCI could not read), in
    /// CircleCI's words.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CiWorkflow {
    pub id: String,
    pub name: String,
    pub status: WorkflowStatus,
    pub url: String,
    pub jobs: Vec<CiJob>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CiJob {
    pub id: String,
    pub name: String,
    /// None for a job that has not started (blocked) and for an approval.
    #[ts(type = "number | null")]
    pub job_number: Option<u64>,
    /// CircleCI's word (`success`, `failed`, `blocked`, `on_hold`, `infrastructure_fail`, …).
    pub status: String,
    /// `build` or `approval`.
    pub kind: String,
    /// The job's page, once it has a number.
    pub url: Option<String>,
}

impl CiJob {
    pub fn is_approval(&self) -> bool {
        self.kind == "approval"
    }

    fn failed(&self) -> bool {
        matches!(
            self.status.as_str(),
            "failed" | "infrastructure_fail" | "timedout" | "terminated-unknown" | "unauthorized"
        )
    }
}

/// The state a pipeline's workflows add up to. With no workflow, the pipeline's own state
/// decides: `errored` could not start, `setup`/`pending` is still making its workflows.
pub(super) fn fold(workflows: &[CiWorkflow], pipeline_state: &str) -> VerdictState {
    if workflows.is_empty() {
        return match pipeline_state {
            "errored" => VerdictState::Failed,
            "setup-pending" | "setup" | "pending" => VerdictState::Running,
            _ => VerdictState::NotRun,
        };
    }
    let any = |wanted: &[WorkflowStatus]| workflows.iter().any(|workflow| wanted.contains(&workflow.status));
    use WorkflowStatus as S;
    if any(&[S::Failed, S::Error, S::Failing, S::Unauthorized]) {
        VerdictState::Failed
    } else if any(&[S::Running]) {
        VerdictState::Running
    } else if any(&[S::OnHold]) {
        VerdictState::OnHold
    } else if any(&[S::Canceled]) {
        VerdictState::Canceled
    } else if workflows.iter().all(|workflow| workflow.status == S::Success) {
        VerdictState::Passed
    } else {
        VerdictState::NotRun
    }
}

impl CiVerdict {
    /// Nothing will change any more: no workflow runs (an approval left waiting counts as an
    /// end, since Slipway cannot give it).
    pub fn is_settled(&self) -> bool {
        self.state != VerdictState::Running && !self.workflows.iter().any(|workflow| workflow.status.is_moving())
    }

    /// One sentence for the plan: "CircleCI pipeline 42: workflow build-and-test failed (job
    /// test failed)".
    pub fn words(&self) -> String {
        let number = self.pipeline_number;
        if !self.errors.is_empty() {
            return format!("CircleCI pipeline {number} could not start: {}", self.errors.join("; "));
        }
        if self.workflows.is_empty() {
            return match self.state {
                VerdictState::Running => format!("CircleCI pipeline {number} is starting"),
                _ => format!("CircleCI pipeline {number} ran no workflow"),
            };
        }
        let passed: Vec<&str> = self
            .workflows
            .iter()
            .filter(|workflow| workflow.status == WorkflowStatus::Success)
            .map(|workflow| workflow.name.as_str())
            .collect();
        if passed.len() == self.workflows.len() {
            let noun = if passed.len() == 1 { "workflow" } else { "workflows" };
            return format!("CircleCI pipeline {number}: {noun} {} passed", list(&passed));
        }
        let parts: Vec<String> = self
            .workflows
            .iter()
            .filter(|workflow| workflow.status != WorkflowStatus::Success)
            .map(workflow_words)
            .collect();
        format!("CircleCI pipeline {number}: {}", parts.join("; "))
    }
}

/// "workflow deploy waits for an approval (job hold)".
fn workflow_words(workflow: &CiWorkflow) -> String {
    let names = |keep: &dyn Fn(&CiJob) -> bool| -> Vec<&str> {
        workflow
            .jobs
            .iter()
            .filter(|job| keep(job))
            .map(|job| job.name.as_str())
            .collect()
    };
    // The jobs that say why, and what to add after their names ("failed"; nothing after an
    // approval's name: the workflow's words already say it waits).
    let (jobs, after) = match workflow.status {
        WorkflowStatus::Failed | WorkflowStatus::Failing | WorkflowStatus::Error => {
            (names(&|job| job.failed()), " failed")
        }
        WorkflowStatus::Running => (names(&|job| job.status == "running"), " running"),
        WorkflowStatus::OnHold => (names(&|job| job.is_approval() && job.status == "on_hold"), ""),
        _ => (Vec::new(), ""),
    };
    let mut words = format!("workflow {} {}", workflow.name, workflow.status.words());
    if !jobs.is_empty() {
        let noun = if jobs.len() == 1 { "job" } else { "jobs" };
        words.push_str(&format!(" ({noun} {}{after})", list(&jobs)));
    }
    words
}

/// "a", "a and b", "a, b and c".
fn list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str, status: &str, kind: &str) -> CiJob {
        CiJob {
            id: format!("id-{name}"),
            name: name.into(),
            job_number: None,
            status: status.into(),
            kind: kind.into(),
            url: None,
        }
    }

    fn workflow(name: &str, status: &str, jobs: Vec<CiJob>) -> CiWorkflow {
        CiWorkflow {
            id: format!("wf-{name}"),
            name: name.into(),
            status: WorkflowStatus::parse(status),
            url: String::new(),
            jobs,
        }
    }

    fn verdict(workflows: Vec<CiWorkflow>) -> CiVerdict {
        CiVerdict {
            pipeline_id: "p".into(),
            pipeline_number: 42,
            pipeline_url: String::new(),
            revision: None,
            state: fold(&workflows, "created"),
            workflows,
            errors: Vec::new(),
        }
    }

    #[test]
    fn workflows_fold_into_one_state_and_one_sentence() {
        let failed = verdict(vec![
            workflow(
                "build-and-test",
                "failed",
                vec![job("lint", "success", "build"), job("test", "failed", "build")],
            ),
            workflow("nightly", "success", vec![]),
        ]);
        assert_eq!(failed.state, VerdictState::Failed);
        assert!(failed.is_settled());
        assert_eq!(
            failed.words(),
            "CircleCI pipeline 42: workflow build-and-test failed (job test failed)"
        );

        let held = verdict(vec![workflow(
            "deploy",
            "on_hold",
            vec![job("test", "success", "build"), job("hold", "on_hold", "approval")],
        )]);
        assert_eq!(held.state, VerdictState::OnHold);
        assert!(held.is_settled());
        assert_eq!(
            held.words(),
            "CircleCI pipeline 42: workflow deploy waits for an approval (job hold)"
        );

        let running = verdict(vec![
            workflow("a", "success", vec![]),
            workflow("b", "running", vec![job("test", "running", "build")]),
        ]);
        assert_eq!(running.state, VerdictState::Running);
        assert!(!running.is_settled());
        assert_eq!(
            running.words(),
            "CircleCI pipeline 42: workflow b is running (job test running)"
        );

        let passed = verdict(vec![workflow("a", "success", vec![]), workflow("b", "success", vec![])]);
        assert_eq!(passed.state, VerdictState::Passed);
        assert_eq!(passed.words(), "CircleCI pipeline 42: workflows a and b passed");

        // Failing is a verdict already, but the workflow still moves: a follower keeps reading.
        let failing = verdict(vec![workflow("a", "failing", vec![job("test", "failed", "build")])]);
        assert_eq!(failing.state, VerdictState::Failed);
        assert!(!failing.is_settled());
    }

    #[test]
    fn a_pipeline_without_workflows_says_why() {
        assert_eq!(fold(&[], "errored"), VerdictState::Failed);
        assert_eq!(fold(&[], "setup-pending"), VerdictState::Running);
        assert_eq!(fold(&[], "created"), VerdictState::NotRun);
        let mut broken = verdict(Vec::new());
        broken.errors = vec!["Config does not conform to schema".into()];
        assert_eq!(
            broken.words(),
            "CircleCI pipeline 42 could not start: Config does not conform to schema"
        );
    }

    #[test]
    fn an_unknown_status_is_kept_as_it_came() -> Result<(), serde_json::Error> {
        let status: WorkflowStatus = serde_json::from_str("\"paused_by_robots\"")?;
        assert_eq!(status, WorkflowStatus::Unknown("paused_by_robots".into()));
        assert_eq!(serde_json::to_string(&status)?, "\"paused_by_robots\"");
        assert_eq!(serde_json::to_string(&WorkflowStatus::OnHold)?, "\"on_hold\"");
        let odd = verdict(vec![workflow("a", "paused_by_robots", vec![])]);
        assert_eq!(odd.state, VerdictState::NotRun);
        assert_eq!(odd.words(), "CircleCI pipeline 42: workflow a paused_by_robots");
        Ok(())
    }
}
