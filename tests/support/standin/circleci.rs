//! CircleCI (API v2) as `shared/contracts/circleci-openapi.json` describes it: a project's
//! pipelines (newest first, twenty to a page, filtered by `branch`), each pipeline's workflows
//! and each workflow's jobs, the test results a job stored, and a trigger that answers 201 with
//! the new pipeline. The test writes the scenario (`CircleScenario`); the answers follow the
//! contract, whatever a client expects:
//! - every list is `{items, next_page_token}`, and a token is good only for the list that
//!   handed it out: another list's token is a 400 with `{"message": …}`;
//! - a blocked job and an approval have no `job_number`; asking the tests of a number no
//!   build job has is a 404;
//! - a wrong `Circle-Token` is a 401; when the scenario says so, the first request is a 429
//!   with `Retry-After`;
//! - a pipeline moves through its stages, one per read of its workflows, the last one staying.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

use super::http::{percent_decode, Request, Response, StandIn};

/// CircleCI's page of pipelines.
const PIPELINE_PAGE: usize = 20;
const CREATED_AT: &str = "2026-11-02T10:00:00.000Z";

/// One test result as a job's JUnit file gave it.
#[derive(Debug, Clone)]
pub struct CircleTest {
    pub classname: String,
    pub name: String,
    /// `success`, `failure`, `skipped`, `error`.
    pub result: String,
    pub message: Option<String>,
}

pub fn circle_test(classname: &str, name: &str, result: &str) -> CircleTest {
    CircleTest {
        classname: classname.into(),
        name: name.into(),
        result: result.into(),
        message: (result == "failure").then(|| "AssertionError: assert 1 == 2".to_owned()),
    }
}

#[derive(Debug, Clone)]
pub struct CircleJob {
    pub name: String,
    /// The contract's job statuses: `success`, `running`, `failed`, `blocked`, `on_hold`, …
    pub status: String,
    pub approval: bool,
    pub tests: Vec<CircleTest>,
}

impl CircleJob {
    pub fn build(name: &str, status: &str) -> Self {
        Self {
            name: name.into(),
            status: status.into(),
            approval: false,
            tests: Vec::new(),
        }
    }

    pub fn approval(name: &str, status: &str) -> Self {
        Self {
            approval: true,
            ..Self::build(name, status)
        }
    }

    pub fn with_tests(mut self, tests: Vec<CircleTest>) -> Self {
        self.tests = tests;
        self
    }
}

#[derive(Debug, Clone)]
pub struct CircleWorkflow {
    pub name: String,
    /// `success, running, not_run, failed, error, failing, on_hold, canceled, unauthorized`.
    pub status: String,
    pub jobs: Vec<CircleJob>,
}

pub fn circle_workflow(name: &str, status: &str, jobs: Vec<CircleJob>) -> CircleWorkflow {
    CircleWorkflow {
        name: name.into(),
        status: status.into(),
        jobs,
    }
}

/// A pipeline: the commit it ran and what its workflows are at each read.
#[derive(Debug, Clone)]
pub struct CirclePipeline {
    pub branch: String,
    pub revision: String,
    /// `created`, or `errored` with `errors`.
    pub state: String,
    pub errors: Vec<String>,
    /// The workflows at the first read of them, the second, …; the last stays.
    pub stages: Vec<Vec<CircleWorkflow>>,
}

impl CirclePipeline {
    pub fn new(branch: &str, revision: &str, workflows: Vec<CircleWorkflow>) -> Self {
        Self {
            branch: branch.into(),
            revision: revision.into(),
            state: "created".into(),
            errors: Vec::new(),
            stages: vec![workflows],
        }
    }

    /// What its workflows are at the next read.
    pub fn then(mut self, workflows: Vec<CircleWorkflow>) -> Self {
        self.stages.push(workflows);
        self
    }
}

#[derive(Debug, Clone)]
pub struct CircleScenario {
    /// `gh/acme/web`.
    pub slug: String,
    pub token: String,
    /// Newest first, as CircleCI lists them.
    pub pipelines: Vec<CirclePipeline>,
    /// Items per page of workflows, jobs and tests (CircleCI's is 20; a test asks for less to
    /// see pages followed).
    pub page_size: usize,
    /// The first request is answered 429 with this `Retry-After`.
    pub rate_limit_once: Option<u64>,
    /// What a triggered pipeline runs; its revision is the branch's newest commit.
    pub on_trigger: Option<CirclePipeline>,
    /// The newest commit of each branch as the repository's host has it (what a trigger
    /// runs); a branch not named here runs its newest pipeline's commit again.
    pub heads: HashMap<String, String>,
}

impl CircleScenario {
    pub fn new(slug: &str, token: &str, pipelines: Vec<CirclePipeline>) -> Self {
        Self {
            slug: slug.into(),
            token: token.into(),
            pipelines,
            page_size: 20,
            rate_limit_once: None,
            on_trigger: None,
            heads: HashMap::new(),
        }
    }
}

struct Stored {
    pipeline: CirclePipeline,
    number: u64,
    /// Reads of its workflows so far: the stage shown is the one of the latest read.
    reads: usize,
}

impl Stored {
    fn id(&self) -> String {
        format!("5034460f-c7c4-4c43-9457-{:012}", self.number)
    }

    fn workflows(&self) -> &[CircleWorkflow] {
        let stage = self
            .reads
            .saturating_sub(1)
            .min(self.pipeline.stages.len().saturating_sub(1));
        self.pipeline.stages.get(stage).map(Vec::as_slice).unwrap_or_default()
    }
}

fn workflow_id(number: u64, index: usize) -> String {
    format!("a7b1c2d3-0000-4000-8000-{number:08}{index:04}")
}

/// A build job's number: fixed by its place, so it stays the same as the pipeline moves on.
fn job_number(number: u64, workflow: usize, job: usize) -> u64 {
    number * 1000 + workflow as u64 * 50 + job as u64 + 1
}

struct State {
    scenario: CircleScenario,
    pipelines: Vec<Stored>,
    /// Page tokens handed out: the list each belongs to and where its page starts.
    tokens: HashMap<String, (String, usize)>,
}

impl State {
    /// One page of `items` of the list `list`, from the offset `token` names.
    fn page(&mut self, list: &str, items: Vec<Value>, size: usize, request: &Request) -> Response {
        let start = match request.query("page-token").filter(|token| !token.is_empty()) {
            None => 0,
            Some(token) => match self.tokens.get(&token) {
                Some((owner, start)) if owner == list => *start,
                _ => return Response::json(400, json!({"message": "Invalid page token."})),
            },
        };
        let end = items.len().min(start + size);
        let next = (end < items.len()).then(|| {
            let token = format!("AARL{:x}", 0x5eed_u64 + self.tokens.len() as u64 * 7919);
            self.tokens.insert(token.clone(), (list.to_owned(), end));
            token
        });
        let page: Vec<Value> = items.into_iter().skip(start).take(size).collect();
        Response::json(200, json!({"items": page, "next_page_token": next}))
    }

    fn pipeline_json(&self, stored: &Stored) -> Value {
        let pipeline = &stored.pipeline;
        json!({
            "id": stored.id(),
            "errors": pipeline.errors.iter().map(|message| json!({"type": "config", "message": message})).collect::<Vec<_>>(),
            "project_slug": self.scenario.slug,
            "updated_at": CREATED_AT,
            "number": stored.number,
            "trigger_parameters": {},
            "state": pipeline.state,
            "created_at": CREATED_AT,
            "trigger": {"type": "webhook", "received_at": CREATED_AT, "actor": {"login": "ann", "avatar_url": null}},
            "vcs": {
                "provider_name": "GitHub",
                "origin_repository_url": "https://github.com/acme/web",
                "target_repository_url": "https://github.com/acme/web",
                "revision": pipeline.revision,
                "branch": pipeline.branch,
                "commit": {"subject": "A change", "body": ""}
            }
        })
    }

    fn workflow_json(&self, stored: &Stored, index: usize, workflow: &CircleWorkflow) -> Value {
        let settled = !matches!(workflow.status.as_str(), "running" | "failing" | "on_hold");
        json!({
            "pipeline_id": stored.id(),
            "id": workflow_id(stored.number, index),
            "name": workflow.name,
            "project_slug": self.scenario.slug,
            "status": workflow.status,
            "started_by": "0f1e2d3c-0000-4000-8000-000000000001",
            "pipeline_number": stored.number,
            "created_at": CREATED_AT,
            "stopped_at": if settled { json!(CREATED_AT) } else { Value::Null },
        })
    }

    fn job_json(&self, stored: &Stored, workflow: usize, index: usize, job: &CircleJob) -> Value {
        let number = job_number(stored.number, workflow, index);
        let mut value = json!({
            "dependencies": [],
            "id": format!("b8c9d0e1-0000-4000-8000-{number:012}"),
            "started_at": if job.status == "blocked" { Value::Null } else { json!(CREATED_AT) },
            "name": job.name,
            "project_slug": self.scenario.slug,
            "status": job.status,
            "type": if job.approval { "approval" } else { "build" },
            "stopped_at": Value::Null,
        });
        // Only a build job that started has a number; an approval has a request id instead.
        if job.approval {
            value["approval_request_id"] = json!(format!("c0d1e2f3-0000-4000-8000-{number:012}"));
        } else if job.status != "blocked" {
            value["job_number"] = json!(number);
        }
        value
    }

    /// The build job numbered `number`, if any job of any pipeline has it now.
    fn job(&self, number: u64) -> Option<&CircleJob> {
        self.pipelines.iter().find_map(|stored| {
            stored.workflows().iter().enumerate().find_map(|(w, workflow)| {
                workflow.jobs.iter().enumerate().find_map(|(j, job)| {
                    (job_number(stored.number, w, j) == number && !job.approval && job.status != "blocked")
                        .then_some(job)
                })
            })
        })
    }
}

fn message(status: u16, text: &str) -> Response {
    Response::json(status, json!({"message": text}))
}

/// Starts CircleCI as `scenario` says; its base URL is `{base}/api/v2`.
pub async fn circleci_stand_in(scenario: CircleScenario) -> std::io::Result<StandIn> {
    let count = scenario.pipelines.len() as u64;
    let pipelines = scenario
        .pipelines
        .iter()
        .enumerate()
        .map(|(index, pipeline)| Stored {
            pipeline: pipeline.clone(),
            number: 100 + count - index as u64,
            reads: 0,
        })
        .collect();
    let limited = AtomicBool::new(scenario.rate_limit_once.is_some());
    let state = Mutex::new(State {
        scenario,
        pipelines,
        tokens: HashMap::new(),
    });
    StandIn::start(move |request| {
        let Ok(mut state) = state.lock() else {
            return message(500, "stand-in state lost");
        };
        if limited.swap(false, Ordering::SeqCst) {
            let wait = state.scenario.rate_limit_once.unwrap_or(1);
            return message(429, "Rate limit exceeded").with_header("Retry-After", &wait.to_string());
        }
        if request.header("circle-token") != Some(state.scenario.token.as_str()) {
            return message(401, "You must log in first.");
        }
        let path = percent_decode(request.path());
        let Some(path) = path.strip_prefix("/api/v2") else {
            return message(404, "Not found");
        };
        answer(&mut state, request, path)
    })
    .await
}

fn answer(state: &mut State, request: &Request, path: &str) -> Response {
    let size = state.scenario.page_size.max(1);
    if path == "/me" {
        return Response::json(
            200,
            json!({"id": "9a8b7c6d-0000-4000-8000-000000000001", "login": "ann", "name": "Ann"}),
        );
    }
    if let Some(project) = path.strip_prefix("/project/") {
        if let Some(slug) = project.strip_suffix("/pipeline") {
            if slug != state.scenario.slug {
                return message(404, "Project not found");
            }
            return match request.method.as_str() {
                "GET" => list_pipelines(state, request),
                "POST" => trigger(state, request),
                _ => message(405, "Method not allowed"),
            };
        }
        if let Some(rest) = project.strip_suffix("/tests") {
            let Some((slug, number)) = rest.rsplit_once('/') else {
                return message(404, "Not found");
            };
            if slug != state.scenario.slug {
                return message(404, "Project not found");
            }
            let Some(job) = number.parse().ok().and_then(|number| state.job(number)) else {
                return message(404, "Job not found");
            };
            let items: Vec<Value> = job
                .tests
                .iter()
                .map(|test| {
                    json!({"message": test.message, "source": "unknown", "run_time": 0.01,
                        "file": format!("{}.py", test.classname.replace('.', "/")),
                        "result": test.result, "name": test.name, "classname": test.classname})
                })
                .collect();
            return state.page(&format!("tests {number}"), items, size, request);
        }
        return message(404, "Not found");
    }
    if let Some(rest) = path.strip_prefix("/pipeline/") {
        let (id, workflows) = match rest.strip_suffix("/workflow") {
            Some(id) => (id, true),
            None => (rest, false),
        };
        let Some(index) = state.pipelines.iter().position(|stored| stored.id() == id) else {
            return message(404, "Pipeline not found");
        };
        if !workflows {
            return Response::json(200, state.pipeline_json(&state.pipelines[index]));
        }
        // A new read of the list moves the pipeline on; its later pages do not.
        if request.query("page-token").is_none() {
            state.pipelines[index].reads += 1;
        }
        let stored = &state.pipelines[index];
        let items: Vec<Value> = stored
            .workflows()
            .iter()
            .enumerate()
            .map(|(w, workflow)| state.workflow_json(stored, w, workflow))
            .collect();
        return state.page(&format!("workflows {id}"), items, size, request);
    }
    if let Some(id) = path
        .strip_prefix("/workflow/")
        .and_then(|rest| rest.strip_suffix("/job"))
    {
        let found = state.pipelines.iter().find_map(|stored| {
            stored
                .workflows()
                .iter()
                .enumerate()
                .find(|(w, _)| workflow_id(stored.number, *w) == id)
                .map(|(w, workflow)| {
                    workflow
                        .jobs
                        .iter()
                        .enumerate()
                        .map(|(j, job)| state.job_json(stored, w, j, job))
                        .collect::<Vec<Value>>()
                })
        });
        return match found {
            Some(items) => state.page(&format!("jobs {id}"), items, size, request),
            None => message(404, "Workflow not found"),
        };
    }
    message(404, "Not found")
}

fn list_pipelines(state: &mut State, request: &Request) -> Response {
    let branch = request.query("branch").filter(|branch| !branch.is_empty());
    let items: Vec<Value> = state
        .pipelines
        .iter()
        .filter(|stored| branch.as_ref().is_none_or(|branch| &stored.pipeline.branch == branch))
        .map(|stored| state.pipeline_json(stored))
        .collect();
    let list = format!("pipelines {}", branch.unwrap_or_default());
    state.page(&list, items, PIPELINE_PAGE, request)
}

/// `POST`: `{branch}` (or `{tag}`) starts a pipeline of the branch's newest commit: 201 with
/// `{id, state, number, created_at}`.
fn trigger(state: &mut State, request: &Request) -> Response {
    let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
    let Some(branch) = body.get("branch").and_then(Value::as_str) else {
        return message(400, "Either branch or tag must be given.");
    };
    let revision = state
        .scenario
        .heads
        .get(branch)
        .cloned()
        .or_else(|| {
            state
                .pipelines
                .iter()
                .find(|stored| stored.pipeline.branch == branch)
                .map(|stored| stored.pipeline.revision.clone())
        })
        .unwrap_or_else(|| "0".repeat(40));
    let mut pipeline = state
        .scenario
        .on_trigger
        .clone()
        .unwrap_or_else(|| CirclePipeline::new(branch, &revision, Vec::new()));
    pipeline.branch = branch.to_owned();
    pipeline.revision = revision;
    let number = state.pipelines.iter().map(|stored| stored.number).max().unwrap_or(100) + 1;
    let stored = Stored {
        pipeline,
        number,
        reads: 0,
    };
    let answer = json!({"id": stored.id(), "state": "created", "number": number, "created_at": CREATED_AT});
    state.pipelines.insert(0, stored);
    Response::json(201, answer)
}
