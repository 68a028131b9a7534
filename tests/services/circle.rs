//! The CircleCI client against the CircleCI stand-in: a commit's verdict across pages, jobs
//! without numbers, stored test results beside Slipway's, a trigger followed to its end, and
//! the errors a person is told how to fix.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slipway::checks::{CheckOutcome, TestCounts, TestFailure, TestReport};
use slipway::circleci::{CiVerdict, CircleClient, FailedOn, VerdictState, WorkflowStatus};
use slipway::http::ApiError;
use slipway::secrets::Secret;
use tokio_util::sync::CancellationToken;

use crate::standin::{
    circle_test, circle_workflow, circleci_stand_in, CircleJob, CirclePipeline, CircleScenario, StandIn,
};
use crate::support::TestResult;

const SLUG: &str = "gh/acme/web";
const TOKEN: &str = "circle_good";

fn sha(n: usize) -> String {
    format!("{n:040x}")
}

fn client(stand_in: &StandIn, token: &str) -> Result<CircleClient, ApiError> {
    Ok(
        CircleClient::new(&format!("{}/api/v2", stand_in.base), Secret::new(token.into()))?
            .polling(Duration::from_millis(20), Duration::from_millis(100)),
    )
}

/// Ten passing tests, one of them in a class.
fn ten_tests(failing: Option<&str>) -> Vec<crate::standin::CircleTest> {
    (0..9)
        .map(|n| format!("test_{n}"))
        .chain(["test_x".to_owned()])
        .map(|name| {
            let result = if Some(name.as_str()) == failing {
                "failure"
            } else {
                "success"
            };
            circle_test("tests.test_app", &name, result)
        })
        .collect()
}

/// `main`'s pipelines, newest first: 130 of them, interleaved with another branch's, the one
/// for commit 45 with a failed test job, a blocked deploy and an approval.
fn busy_project() -> CircleScenario {
    let mut pipelines = Vec::new();
    for n in 0..130 {
        pipelines.push(CirclePipeline::new(
            "feature",
            &sha(10_000 + n),
            vec![circle_workflow("build-and-test", "success", vec![])],
        ));
        let workflows = if n == 45 {
            vec![
                circle_workflow(
                    "build-and-test",
                    "failed",
                    vec![
                        CircleJob::build("lint", "success"),
                        CircleJob::build("test", "failed").with_tests(ten_tests(Some("test_x"))),
                        CircleJob::build("deploy", "blocked"),
                        CircleJob::approval("hold", "blocked"),
                    ],
                ),
                circle_workflow("docs", "success", vec![CircleJob::build("docs", "success")]),
                circle_workflow("nightly", "not_run", vec![]),
            ]
        } else {
            vec![circle_workflow("build-and-test", "success", vec![])]
        };
        pipelines.push(CirclePipeline::new("main", &sha(n), workflows));
    }
    let mut scenario = CircleScenario::new(SLUG, TOKEN, pipelines);
    // Workflows and jobs two to a page, so their pages are followed too.
    scenario.page_size = 2;
    scenario
}

fn report(passed: u32, failed: &[&str]) -> TestReport {
    TestReport {
        outcome: if failed.is_empty() {
            CheckOutcome::Passed
        } else {
            CheckOutcome::Failed
        },
        counts: TestCounts {
            passed,
            failed: failed.len() as u32,
            errors: 0,
            skipped: 0,
        },
        failures: failed
            .iter()
            .map(|node_id| TestFailure {
                node_id: (*node_id).into(),
                message: "assert 1 == 2".into(),
                traceback: String::new(),
                file: None,
                line: None,
                got: None,
                expected: None,
                explanation: None,
            })
            .collect(),
        summary_line: None,
        exit_code: Some(i32::from(!failed.is_empty())),
        problem: None,
        duration_ms: 10,
    }
}

#[tokio::test]
async fn circle_verdict_of_a_commit_found_on_the_third_page() -> TestResult {
    let circle = circleci_stand_in(busy_project()).await?;
    let client = client(&circle, TOKEN)?;
    let verdict = client
        .verdict(SLUG, "main", &sha(45))
        .await?
        .ok_or("commit 45 has a pipeline")?;
    assert_eq!(verdict.revision.as_deref(), Some(sha(45).as_str()));
    assert_eq!(verdict.state, VerdictState::Failed);
    assert_eq!(
        verdict.words(),
        format!(
            "CircleCI pipeline {}: workflow build-and-test failed (job test failed); workflow nightly did not run",
            verdict.pipeline_number
        )
    );
    assert_eq!(
        verdict.pipeline_url,
        format!("{}/pipelines/github/acme/web/{}", circle.base, verdict.pipeline_number)
    );
    let names: Vec<&str> = verdict
        .workflows
        .iter()
        .map(|workflow| workflow.name.as_str())
        .collect();
    assert_eq!(names, ["build-and-test", "docs", "nightly"], "every page of workflows");
    let build = &verdict.workflows[0];
    assert_eq!(build.status, WorkflowStatus::Failed);
    let jobs: Vec<(&str, Option<u64>, &str)> = build
        .jobs
        .iter()
        .map(|job| (job.name.as_str(), job.job_number, job.kind.as_str()))
        .collect();
    assert_eq!(jobs.len(), 4, "every page of jobs: {jobs:?}");
    assert!(jobs[0].1.is_some() && jobs[1].1.is_some());
    assert_eq!(
        (jobs[2].1, jobs[3].1),
        (None, None),
        "a blocked job and an approval have no number"
    );
    assert_eq!(jobs[3].2, "approval");
    assert_eq!(build.jobs[2].url, None);
    assert_eq!(
        build.jobs[1].url.as_deref(),
        Some(format!("{}/jobs/{}", build.url, jobs[1].1.unwrap_or_default()).as_str())
    );
    assert!(build.url.starts_with(&verdict.pipeline_url));

    let asked: Vec<_> = circle
        .received()
        .into_iter()
        .filter(|request| request.path() == "/api/v2/project/gh/acme/web/pipeline")
        .collect();
    assert_eq!(
        asked.len(),
        3,
        "commit 45 is on the third page of main's twenty-a-page list"
    );
    assert!(asked
        .iter()
        .all(|request| request.query("branch").as_deref() == Some("main")));
    assert!(asked[0].query("page-token").is_none() && asked[2].query("page-token").is_some());
    assert!(circle
        .received()
        .iter()
        .all(|request| request.header("circle-token") == Some(TOKEN)));
    Ok(())
}

#[tokio::test]
async fn circle_commit_without_a_pipeline_is_none_after_a_hundred() -> TestResult {
    let circle = circleci_stand_in(busy_project()).await?;
    let client = client(&circle, TOKEN)?;
    // On main, but further back than the hundred newest: not looked for.
    assert_eq!(client.verdict(SLUG, "main", &sha(120)).await?, None);
    // Never pushed.
    assert_eq!(client.verdict(SLUG, "main", &sha(99_999)).await?, None);
    let pages = circle
        .received()
        .iter()
        .filter(|request| request.path().ends_with("/pipeline"))
        .count();
    assert_eq!(pages, 10, "five pages for each commit, no more");
    // A branch with no pipeline at all: one page, empty, no token.
    assert_eq!(client.verdict(SLUG, "nowhere", &sha(1)).await?, None);
    Ok(())
}

#[tokio::test]
async fn circle_job_tests_are_read_and_set_beside_slipways() -> TestResult {
    let circle = circleci_stand_in(busy_project()).await?;
    let client = client(&circle, TOKEN)?;
    let verdict = client.verdict(SLUG, "main", &sha(45)).await?.ok_or("found")?;
    let jobs = &verdict.workflows[0].jobs;
    let test_job = jobs[1].job_number.ok_or("the test job ran")?;
    let results = client
        .job_tests(SLUG, test_job)
        .await?
        .ok_or("the test job stored results")?;
    assert_eq!(results.len(), 10, "five pages of two");
    assert_eq!(results[9].name, "test_x");
    assert_eq!(results[9].result, "failure");
    assert_eq!(results[9].file.as_deref(), Some("tests/test_app.py"));

    // The lint job stored nothing; a number no build job has (an approval's) is a 404.
    let lint = jobs[0].job_number.ok_or("lint ran")?;
    assert_eq!(client.job_tests(SLUG, lint).await?, None);
    assert_eq!(client.job_tests(SLUG, 987_654).await?, None);

    // CircleCI failed test_x; Slipway too: they agree. Slipway passing it is named.
    let both = slipway::circleci::compare(&results, &report(9, &["tests/test_app.py::test_x"]));
    assert!(both.agree, "{both:?}");
    assert_eq!(both.sentence(), "CircleCI and Slipway agree: 9 passed, 1 failed");
    let apart = slipway::circleci::compare(&results, &report(10, &[]));
    assert!(!apart.agree);
    assert_eq!(apart.disagreements.len(), 1);
    assert_eq!(apart.disagreements[0].failed_on, FailedOn::CircleCi);
    assert_eq!(
        apart.sentence(),
        "CircleCI: 9 passed, 1 failed: test_x; here: 10 passed"
    );
    Ok(())
}

#[tokio::test]
async fn circle_page_tokens_belong_to_their_own_list() -> TestResult {
    let circle = circleci_stand_in(busy_project()).await?;
    let base = format!("{}/api/v2", circle.base);
    let http = reqwest::Client::new();
    let first: serde_json::Value = http
        .get(format!("{base}/project/{SLUG}/pipeline?branch=main"))
        .header("Circle-Token", TOKEN)
        .send()
        .await?
        .json()
        .await?;
    let token = first["next_page_token"].as_str().ok_or("a next page")?;
    let pipeline = first["items"][0]["id"].as_str().ok_or("an id")?;
    let wrong = http
        .get(format!("{base}/pipeline/{pipeline}/workflow?page-token={token}"))
        .header("Circle-Token", TOKEN)
        .send()
        .await?;
    assert_eq!(wrong.status(), 400);
    let body: serde_json::Value = wrong.json().await?;
    assert!(body["message"].is_string(), "CircleCI's error body: {body}");
    // Another branch's list is another list too.
    let other = http
        .get(format!(
            "{base}/project/{SLUG}/pipeline?branch=feature&page-token={token}"
        ))
        .header("Circle-Token", TOKEN)
        .send()
        .await?;
    assert_eq!(other.status(), 400);
    Ok(())
}

#[tokio::test]
async fn circle_refusals_say_what_to_fix() -> TestResult {
    let circle = circleci_stand_in(busy_project()).await?;
    let wrong = client(&circle, "circle_wrong-7731")?;
    let error = wrong
        .verdict(SLUG, "main", &sha(1))
        .await
        .err()
        .ok_or("a wrong token must fail")?;
    assert!(matches!(error, ApiError::Unauthorized { .. }), "{error:?}");
    let shown = slipway::circleci::app_error(error);
    assert!(
        shown.hint.contains("Reconnect CircleCI in Settings → Accounts"),
        "{shown:?}"
    );
    assert!(!format!("{shown:?}").contains("circle_wrong-7731"));

    let good = client(&circle, TOKEN)?;
    let error = good
        .verdict("gh/acme/nope", "main", &sha(1))
        .await
        .err()
        .ok_or("an unknown project must fail")?;
    let shown = slipway::circleci::app_error(error);
    assert_eq!(shown.message, "CircleCI does not know project gh/acme/nope.");
    assert!(shown.hint.contains("project's settings"), "{shown:?}");
    Ok(())
}

#[tokio::test]
async fn circle_rate_limit_is_waited_out() -> TestResult {
    let mut scenario = busy_project();
    scenario.rate_limit_once = Some(1);
    let circle = circleci_stand_in(scenario).await?;
    let started = Instant::now();
    let verdict = client(&circle, TOKEN)?.verdict(SLUG, "main", &sha(2)).await?;
    assert_eq!(verdict.map(|verdict| verdict.state), Some(VerdictState::Passed));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the Retry-After was waited for"
    );
    Ok(())
}

/// Triggers `main` on a project whose triggered pipeline goes through `stages`, follows it,
/// and returns how it ended and every state `seen` was told.
async fn trigger_and_follow(
    stages: Vec<Vec<crate::standin::CircleWorkflow>>,
) -> Result<(CiVerdict, Vec<VerdictState>, StandIn), Box<dyn std::error::Error>> {
    let mut scenario = CircleScenario::new(
        SLUG,
        TOKEN,
        vec![CirclePipeline::new(
            "main",
            &sha(7),
            vec![circle_workflow("build-and-test", "success", vec![])],
        )],
    );
    let mut stages = stages.into_iter();
    let mut triggered = CirclePipeline::new("main", "", stages.next().unwrap_or_default());
    for stage in stages {
        triggered = triggered.then(stage);
    }
    scenario.on_trigger = Some(triggered);
    let circle = circleci_stand_in(scenario).await?;
    let client = client(&circle, TOKEN)?;
    let started = client.trigger(SLUG, "main").await?;
    assert_eq!(started.number, 102, "after the newest pipeline");
    assert!(
        started.url.ends_with("/pipelines/github/acme/web/102"),
        "{}",
        started.url
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let heard = seen.clone();
    let verdict = client
        .follow(
            SLUG,
            &started.id,
            Duration::from_secs(20),
            CancellationToken::new(),
            &move |verdict: &CiVerdict| {
                if let Ok(mut all) = heard.lock() {
                    all.push(verdict.state);
                }
            },
        )
        .await?;
    let seen = seen.lock().map(|all| all.clone()).unwrap_or_default();
    let posted = circle
        .received()
        .into_iter()
        .find(|request| request.method == "POST")
        .ok_or("the trigger was sent")?;
    let body: serde_json::Value = serde_json::from_str(&posted.body)?;
    assert_eq!(body, serde_json::json!({"branch": "main"}));
    Ok((verdict, seen, circle))
}

#[tokio::test]
async fn circle_trigger_followed_to_success() -> TestResult {
    let running = || {
        circle_workflow(
            "build-and-test",
            "running",
            vec![CircleJob::build("lint", "success"), CircleJob::build("test", "running")],
        )
    };
    let (verdict, seen, _circle) = trigger_and_follow(vec![
        vec![],
        vec![running()],
        vec![running()],
        vec![circle_workflow(
            "build-and-test",
            "success",
            vec![CircleJob::build("lint", "success"), CircleJob::build("test", "success")],
        )],
    ])
    .await?;
    assert_eq!(verdict.state, VerdictState::Passed);
    assert_eq!(
        verdict.revision.as_deref(),
        Some(sha(7).as_str()),
        "the branch's newest commit"
    );
    assert_eq!(verdict.words(), "CircleCI pipeline 102: workflow build-and-test passed");
    assert_eq!(
        seen,
        [VerdictState::NotRun, VerdictState::Running, VerdictState::Passed],
        "each new verdict once; the pipeline without workflows yet was waited through"
    );
    Ok(())
}

#[tokio::test]
async fn circle_trigger_followed_to_failure() -> TestResult {
    let (verdict, seen, _circle) = trigger_and_follow(vec![
        vec![circle_workflow(
            "build-and-test",
            "running",
            vec![CircleJob::build("test", "running")],
        )],
        vec![circle_workflow(
            "build-and-test",
            "failing",
            vec![CircleJob::build("test", "failed"), CircleJob::build("lint", "running")],
        )],
        vec![circle_workflow(
            "build-and-test",
            "failed",
            vec![CircleJob::build("test", "failed"), CircleJob::build("lint", "success")],
        )],
    ])
    .await?;
    assert_eq!(verdict.state, VerdictState::Failed);
    assert_eq!(
        verdict.workflows[0].status,
        WorkflowStatus::Failed,
        "followed past failing"
    );
    assert_eq!(
        verdict.words(),
        "CircleCI pipeline 102: workflow build-and-test failed (job test failed)"
    );
    assert_eq!(seen.last(), Some(&VerdictState::Failed));
    assert_eq!(seen.first(), Some(&VerdictState::Running));
    Ok(())
}

#[tokio::test]
async fn circle_approval_hold_ends_the_follow() -> TestResult {
    let (verdict, _seen, circle) = trigger_and_follow(vec![
        vec![circle_workflow(
            "deploy",
            "running",
            vec![CircleJob::build("test", "running")],
        )],
        vec![circle_workflow(
            "deploy",
            "on_hold",
            vec![
                CircleJob::build("test", "success"),
                CircleJob::approval("hold", "on_hold"),
                CircleJob::build("ship", "blocked"),
            ],
        )],
    ])
    .await?;
    assert_eq!(verdict.state, VerdictState::OnHold);
    assert_eq!(
        verdict.words(),
        "CircleCI pipeline 102: workflow deploy waits for an approval (job hold)"
    );
    let reads = circle
        .received()
        .iter()
        .filter(|request| request.path().ends_with("/workflow"))
        .count();
    assert_eq!(reads, 2, "the hold is an end: not read again");
    Ok(())
}

#[tokio::test]
async fn circle_follow_ends_at_its_cancel() -> TestResult {
    let mut scenario = CircleScenario::new(SLUG, TOKEN, Vec::new());
    scenario.on_trigger = Some(CirclePipeline::new(
        "main",
        "",
        vec![circle_workflow(
            "build",
            "running",
            vec![CircleJob::build("test", "running")],
        )],
    ));
    let circle = circleci_stand_in(scenario).await?;
    let client = client(&circle, TOKEN)?;
    let started = client.trigger(SLUG, "main").await?;
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let began = Instant::now();
    let error = client
        .follow(SLUG, &started.id, Duration::from_secs(60), cancel, &|_| {})
        .await
        .err()
        .ok_or("a cancel ends the follow")?;
    assert!(matches!(error, ApiError::Cancelled { .. }), "{error:?}");
    assert!(began.elapsed() < Duration::from_secs(5));

    // And the limit ends it with the pipeline as it stands.
    let still = client
        .follow(
            SLUG,
            &started.id,
            Duration::from_millis(200),
            CancellationToken::new(),
            &|_| {},
        )
        .await?;
    assert_eq!(still.state, VerdictState::Running);
    Ok(())
}
