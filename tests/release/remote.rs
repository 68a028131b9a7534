//! Releases of a commit and its remote: a local bare repository as `origin` (pushed to first,
//! a hook that says no, a branch someone else moved), and CircleCI's stand-in waited for
//! before the deploy and set beside Slipway's own test results.

use super::*;
use standin::{circle_test, circle_workflow, circleci_stand_in, CircleJob, CirclePipeline, CircleScenario, StandIn};

const SLUG: &str = "gh/acme/lettings";
const CIRCLE_TOKEN: &str = "circle_token_for_the_release_tests";

/// What git prints for `args` in `dir`, trimmed.
fn git_out(dir: &Path, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()?;
    if !output.status.success() {
        return Err(format!("git {args:?}: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// A bare repository beside the fixture's project, holding its commit, as the project's
/// `origin` with `main` tracking it.
fn bare_origin(fixture: &Fixture) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let parent = fixture.root.parent().ok_or("the project is in a folder")?;
    let bare = parent.join("origin.git");
    support::git(parent, &["init", "-q", "--bare", "-b", "main", "origin.git"])?;
    let bare = bare.canonicalize()?;
    let address = bare.display().to_string();
    support::git(&fixture.root, &["remote", "add", "origin", &address])?;
    support::git(&fixture.root, &["push", "-q", "-u", "origin", "main"])?;
    Ok(bare)
}

/// One more commit in `dir`, touching only a note (the tests and the image stay the same).
fn commit_note(dir: &Path, text: &str) -> TestResult {
    std::fs::write(dir.join("NOTES.md"), text)?;
    support::git(dir, &["add", "NOTES.md"])?;
    support::git(dir, &["commit", "-q", "-m", text])?;
    Ok(())
}

fn local_options() -> ReleaseOptions {
    ReleaseOptions {
        target: Some(Target::Local),
        ..ReleaseOptions::default()
    }
}

/// Where in the events a step first reached `state`.
fn first_at(events: &[ReleaseEvent], step: Step, state: StepState) -> Option<usize> {
    events
        .iter()
        .position(|event| matches!(event, ReleaseEvent::Step { step: s, state: at, .. } if *s == step && *at == state))
}

#[tokio::test]
async fn a_commit_only_here_is_pushed_first_then_released() -> TestResult {
    let fixture = fixture("pushed-first", |_| Ok(()))?;
    let bare = bare_origin(&fixture)?;
    commit_note(&fixture.root, "Only on this computer")?;
    let head = git_out(&fixture.root, &["rev-parse", "HEAD"])?;
    assert_ne!(git_out(&bare, &["rev-parse", "main"])?, head, "origin lacks it");

    let plan = pipeline::plan(&fixture.context, &fixture.root, &local_options()).await?;
    assert_eq!(plan.steps[0].step, Step::Git, "{:?}", plan.steps);
    assert_eq!(plan.steps[0].detail, "push main to origin");
    assert_eq!(plan.steps[0].skip, None);
    let standing = plan.remote.clone().ok_or("the plan knows the remote")?;
    assert_eq!((standing.state, standing.ahead), (project::SyncState::Ahead, 1));
    assert_eq!(
        plan.remote_words.as_deref(),
        Some("1 commit ahead of origin/main: it is not on origin yet.")
    );
    assert!(plan.blockers.is_empty(), "{:?}", plan.blockers);

    let (summary, events) = release(&fixture, Target::Local).await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    // The push came first: it ended before the tests began.
    let all = events.all();
    let pushed = first_at(&all, Step::Git, StepState::Passed).ok_or("the Git step passed")?;
    let tested = first_at(&all, Step::Tests, StepState::Running).ok_or("the tests ran")?;
    assert!(pushed < tested, "the push ended before the tests started");
    let first_step = all.iter().find_map(|event| match event {
        ReleaseEvent::Step { step, .. } => Some(*step),
        _ => None,
    });
    assert_eq!(first_step, Some(Step::Git));
    assert_eq!(
        git_out(&bare, &["rev-parse", "main"])?,
        head,
        "origin has the commit now"
    );

    let stored = record(&fixture, &summary.release_id)?;
    assert_eq!(stored.on_remote, Some(true));
    assert_eq!(stored.remote_url.as_deref(), Some(bare.display().to_string().as_str()));
    let git = step_record(&stored, "git").ok_or("the ledger has the Git step")?;
    assert_eq!(git.state, StepState::Passed);
    assert_eq!(git.summary.as_deref(), Some("Pushed main to origin."));

    // Now origin has it: the next plan skips the push, and says why.
    let again = pipeline::plan(&fixture.context, &fixture.root, &local_options()).await?;
    let standing = again.remote.clone().ok_or("the plan knows the remote")?;
    assert_eq!(standing.state, project::SyncState::UpToDate);
    let git = again
        .steps
        .iter()
        .find(|planned| planned.step == Step::Git)
        .ok_or("the plan still shows the Git step")?;
    assert_eq!(git.skip.as_deref(), Some("origin/main already has this commit."));
    remove_project_containers(&fixture.root).await
}

#[tokio::test]
async fn a_hook_that_says_no_stops_the_release_before_anything_else() -> TestResult {
    let fixture = fixture("frozen-main", |_| Ok(()))?;
    let bare = bare_origin(&fixture)?;
    let hook = bare.join("hooks").join("pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho \"main is frozen\"\nexit 1\n")?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))?;
    }
    let before = git_out(&bare, &["rev-parse", "main"])?;
    commit_note(&fixture.root, "Refused by the hook")?;

    let (summary, events) = release(&fixture, Target::Local).await?;
    assert_eq!(summary.outcome, Outcome::Failed);
    let message = summary.message.clone().unwrap_or_default();
    assert!(message.contains("main is frozen"), "{message}");
    assert!(
        message.starts_with("Origin refused the push: main is frozen"),
        "{message}"
    );
    let error = summary.error.clone().ok_or("the release keeps the error")?;
    assert!(error.hint.contains("repository's own rules"), "{}", error.hint);

    let stored = record(&fixture, &summary.release_id)?;
    let git = step_record(&stored, "git").ok_or("the ledger has the Git step")?;
    assert_eq!(git.state, StepState::Failed);
    assert!(
        git.summary
            .as_deref()
            .is_some_and(|said| said.contains("main is frozen")),
        "{:?}",
        git.summary
    );
    // Nothing after the push started: every later step stays as the ledger leaves what never ran.
    let states = step_states(&stored);
    assert_eq!(states[0], ("git".to_owned(), StepState::Failed), "{states:?}");
    for (name, state) in &states[1..] {
        assert_eq!(*state, StepState::Skipped, "{name}: {states:?}");
    }
    for step in [Step::Tests, Step::Lint, Step::Build, Step::Push, Step::Deploy] {
        assert_eq!(events.step_state(step), None, "{step:?} never started");
    }
    assert_eq!(git_out(&bare, &["rev-parse", "main"])?, before, "origin kept its main");
    let engine = slipway::docker::connect()?;
    let containers = slipway::docker::project_containers(&engine, &project::project_id(&fixture.root)).await?;
    assert!(containers.is_empty(), "{containers:?}");
    Ok(())
}

#[tokio::test]
async fn a_branch_both_sides_moved_is_refused_unless_the_push_is_off() -> TestResult {
    let fixture = fixture("diverged", |_| Ok(()))?;
    let bare = bare_origin(&fixture)?;
    // A teammate's clone pushes; this copy commits something else.
    let teammate = fixture.root.with_file_name("teammate");
    let parent = fixture.root.parent().ok_or("the project is in a folder")?;
    support::git(parent, &["clone", "-q", &bare.display().to_string(), "teammate"])?;
    commit_note(&teammate, "The teammate's change")?;
    support::git(&teammate, &["push", "-q", "origin", "main"])?;
    commit_note(&fixture.root, "This copy's change")?;
    support::git(&fixture.root, &["fetch", "-q", "origin"])?;

    let plan = pipeline::plan(&fixture.context, &fixture.root, &local_options()).await?;
    let standing = plan.remote.clone().ok_or("the plan knows the remote")?;
    assert_eq!(
        (standing.state, standing.ahead, standing.behind),
        (project::SyncState::Diverged, 1, 1)
    );
    let blocker = plan
        .blockers
        .iter()
        .find(|blocker| blocker.message.contains("Someone pushed to main"))
        .ok_or("the plan is blocked by the push that would be refused")?;
    assert!(
        blocker.hint.contains("Update your copy first (git pull)"),
        "{}",
        blocker.hint
    );

    let refused = release(&fixture, Target::Local).await;
    let error = refused.err().ok_or("the release does not start")?;
    assert_eq!(error.message, blocker.message);
    assert!(fixture
        .context
        .ledger
        .running(&fixture.root.display().to_string())?
        .is_empty());

    let without_push = ReleaseOptions {
        push_first: Some(false),
        ..local_options()
    };
    let plan = pipeline::plan(&fixture.context, &fixture.root, &without_push).await?;
    assert!(
        plan.blockers
            .iter()
            .all(|blocker| !blocker.message.contains("Someone pushed")),
        "{:?}",
        plan.blockers
    );
    assert!(
        plan.warnings
            .iter()
            .any(|warning| warning.contains("Update your copy first (git pull)")),
        "{:?}",
        plan.warnings
    );
    let git = plan
        .steps
        .iter()
        .find(|planned| planned.step == Step::Git)
        .ok_or("the Git step is shown")?;
    assert!(
        git.skip
            .as_deref()
            .is_some_and(|why| why.contains("Pushing to origin first is off")),
        "{:?}",
        git.skip
    );
    Ok(())
}

/// The CircleCI account in the keyring, deleted when dropped (a failed test leaves none).
struct CircleAccount(SecretStore);

impl Drop for CircleAccount {
    fn drop(&mut self) {
        if let Err(error) = self.0.delete(Service::CircleCi, "default") {
            eprintln!("the CircleCI account could not be removed from the keyring: {error}");
        }
    }
}

/// The fixture's keyring holds a CircleCI account for `circle`, as the accounts wizard saves
/// it, and its project is CircleCI's `gh/acme/lettings`.
fn connect_circleci(fixture: &Fixture, circle: &StandIn) -> Result<CircleAccount, Box<dyn std::error::Error>> {
    let mut account = Account::new(Service::CircleCi, "default", "test");
    account.username = Some("ann".to_owned());
    account.circleci_project = Some(SLUG.to_owned());
    account.server = Some(format!("{}/api/v2", circle.base));
    fixture.context.secrets.save(&account, CIRCLE_TOKEN)?;
    let saved = CircleAccount(fixture.context.secrets.clone());
    change_settings(fixture, |settings| settings.circleci_project = Some(SLUG.to_owned()))?;
    Ok(saved)
}

/// A release of the fixture to this computer with "Wait for CircleCI" on, against a CircleCI
/// whose only pipeline is `pipeline` (the stand-in and the account go when it ends).
async fn release_waiting_for(
    fixture: &Fixture,
    pipeline: CirclePipeline,
) -> Result<(ReleaseSummary, Arc<Events>), Box<dyn std::error::Error>> {
    let circle = circleci_stand_in(CircleScenario::new(SLUG, CIRCLE_TOKEN, vec![pipeline])).await?;
    let _account = connect_circleci(fixture, &circle)?;
    change_settings(fixture, |settings| settings.wait_for_ci = true)?;
    Ok(release(fixture, Target::Local).await?)
}

/// The Ci step's events: every verdict the release showed while it waited.
fn verdicts(events: &Events) -> Vec<slipway::circleci::CiVerdict> {
    events
        .all()
        .into_iter()
        .filter_map(|event| match event {
            ReleaseEvent::CircleCi { verdict } => Some(verdict),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn the_release_waits_for_circleci_and_deploys_when_it_passed() -> TestResult {
    let fixture = fixture("circle-passes", |_| Ok(()))?;
    let head = git_out(&fixture.root, &["rev-parse", "HEAD"])?;
    let running = || {
        vec![circle_workflow(
            "build-and-test",
            "running",
            vec![CircleJob::build("test", "running")],
        )]
    };
    // Read by the two plans and the wait's first look, then followed: once running, then passed.
    let pipeline = CirclePipeline::new("main", &head, running())
        .then(running())
        .then(running())
        .then(running())
        .then(vec![circle_workflow(
            "build-and-test",
            "success",
            vec![CircleJob::build("test", "success")],
        )]);
    let circle = circleci_stand_in(CircleScenario::new(SLUG, CIRCLE_TOKEN, vec![pipeline])).await?;
    let _account = connect_circleci(&fixture, &circle)?;
    let options = ReleaseOptions {
        wait_for_ci: Some(true),
        ..local_options()
    };
    let plan = pipeline::plan(&fixture.context, &fixture.root, &options).await?;
    let names: Vec<Step> = plan.steps.iter().map(|planned| planned.step).collect();
    let ci = names
        .iter()
        .position(|step| *step == Step::Ci)
        .ok_or("the plan waits for CircleCI")?;
    assert_eq!(names.get(ci + 1), Some(&Step::Deploy), "{names:?}");

    let (summary, events) = release_with(&fixture, &options).await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    assert_eq!(events.step_state(Step::Ci), Some(StepState::Passed));
    let seen = verdicts(&events);
    assert_eq!(
        seen.first().map(|verdict| verdict.state),
        Some(slipway::circleci::VerdictState::Running),
        "the window saw it running"
    );
    assert_eq!(
        seen.last().map(|verdict| verdict.state),
        Some(slipway::circleci::VerdictState::Passed)
    );
    assert!(seen
        .iter()
        .all(|verdict| verdict.revision.as_deref() == Some(head.as_str())));
    let all = events.all();
    let passed = first_at(&all, Step::Ci, StepState::Passed).ok_or("the Ci step passed")?;
    let deployed = first_at(&all, Step::Deploy, StepState::Running).ok_or("the deploy ran")?;
    assert!(passed < deployed, "CircleCI passed before the deploy began");
    let stored = record(&fixture, &summary.release_id)?;
    assert_eq!(
        step_record(&stored, "ci").map(|step| step.state),
        Some(StepState::Passed),
        "{:?}",
        step_states(&stored)
    );
    remove_project_containers(&fixture.root).await
}

#[tokio::test]
async fn a_failed_circleci_workflow_stops_the_release_before_the_deploy() -> TestResult {
    let fixture = fixture("circle-fails", |_| Ok(()))?;
    let head = git_out(&fixture.root, &["rev-parse", "HEAD"])?;
    let pipeline = CirclePipeline::new(
        "main",
        &head,
        vec![circle_workflow(
            "build-and-test",
            "running",
            vec![CircleJob::build("test", "running")],
        )],
    )
    .then(vec![circle_workflow(
        "build-and-test",
        "failed",
        vec![CircleJob::build("test", "failed")],
    )]);
    let (summary, events) = release_waiting_for(&fixture, pipeline).await?;

    assert_eq!(summary.outcome, Outcome::Failed, "{:?}", summary.message);
    assert_eq!(events.step_state(Step::Ci), Some(StepState::Failed));
    let message = summary.message.clone().unwrap_or_default();
    assert!(
        message.contains("workflow build-and-test failed (job test failed)"),
        "{message}"
    );
    assert_eq!(events.step_state(Step::Deploy), None, "the deploy never started");
    let stored = record(&fixture, &summary.release_id)?;
    let ci = step_record(&stored, "ci").ok_or("the ledger has the Ci step")?;
    assert_eq!(ci.state, StepState::Failed);
    assert!(
        ci.summary
            .as_deref()
            .is_some_and(|said| said.contains("build-and-test")),
        "{:?}",
        ci.summary
    );
    assert_eq!(
        step_record(&stored, "deploy").map(|step| step.state),
        Some(StepState::Skipped)
    );
    let engine = slipway::docker::connect()?;
    let containers = slipway::docker::project_containers(&engine, &project::project_id(&fixture.root)).await?;
    assert!(containers.is_empty(), "{containers:?}");
    Ok(())
}

#[tokio::test]
async fn the_plan_names_a_test_that_failed_on_circleci_and_passed_here() -> TestResult {
    let fixture = fixture("circle-disagrees", |_| Ok(()))?;
    let head = git_out(&fixture.root, &["rev-parse", "HEAD"])?;
    let names = [
        "test_the_index_lists_every_letting",
        "test_a_letting_has_its_page",
        "test_an_unknown_letting_is_not_found",
        "test_health_answers_json",
        "test_find",
    ];
    let tests = names
        .iter()
        .map(|name| {
            let result = if *name == "test_find" { "failure" } else { "success" };
            circle_test("tests.test_app", name, result)
        })
        .collect();
    let pipeline = CirclePipeline::new(
        "main",
        &head,
        vec![circle_workflow(
            "build-and-test",
            "failed",
            vec![CircleJob::build("test", "failed").with_tests(tests)],
        )],
    );
    let circle = circleci_stand_in(CircleScenario::new(SLUG, CIRCLE_TOKEN, vec![pipeline])).await?;
    let _account = connect_circleci(&fixture, &circle)?;
    // Slipway's own tests of the commit, kept by a release (which does not wait for CircleCI).
    let (summary, _) = release(&fixture, Target::Local).await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    let plan = pipeline::plan(&fixture.context, &fixture.root, &local_options()).await?;

    let panel = plan.circleci.ok_or("the plan shows CircleCI")?;
    assert_eq!(panel.project, SLUG);
    assert_eq!(panel.problem, None);
    let verdict = panel.verdict.ok_or("CircleCI has a verdict on the commit")?;
    assert_eq!(verdict.state, slipway::circleci::VerdictState::Failed);
    let comparison = panel.comparison.ok_or("the results are set side by side")?;
    assert!(!comparison.agree);
    let disagreements: Vec<(&str, slipway::circleci::FailedOn)> = comparison
        .disagreements
        .iter()
        .map(|disagreement| (disagreement.name.as_str(), disagreement.failed_on))
        .collect();
    assert_eq!(
        disagreements,
        vec![("test_find", slipway::circleci::FailedOn::CircleCi)]
    );
    assert_eq!(
        comparison.words,
        "CircleCI: 4 passed, 1 failed: test_find; here: 5 passed"
    );
    remove_project_containers(&fixture.root).await
}

/// CircleCI says no while the checks still run: they finish (every failure is shown), but the
/// image is not pushed, and nothing is deployed.
#[tokio::test]
async fn circleci_s_no_before_the_checks_end_keeps_the_image_from_the_registry() -> TestResult {
    // Tests that take a few seconds: CircleCI's answer (failed at its first read) comes first.
    let fixture = fixture("circle-no-push", |root| {
        std::fs::write(
            root.join("tests/test_slow.py"),
            "import time\n\n\ndef test_slow():\n    time.sleep(4)\n",
        )
    })?;
    let head = git_out(&fixture.root, &["rev-parse", "HEAD"])?;
    let pipeline = CirclePipeline::new(
        "main",
        &head,
        vec![circle_workflow(
            "build-and-test",
            "failed",
            vec![CircleJob::build("test", "failed")],
        )],
    );
    let (summary, events) = release_waiting_for(&fixture, pipeline).await?;

    assert_eq!(summary.outcome, Outcome::Failed, "{:?}", summary.message);
    assert_eq!(events.step_state(Step::Ci), Some(StepState::Failed));
    assert_eq!(
        events.step_state(Step::Tests),
        Some(StepState::Passed),
        "the checks ran to their end"
    );
    let stored = record(&fixture, &summary.release_id)?;
    let push = step_record(&stored, "push").ok_or("the ledger has the push")?;
    assert_eq!(push.state, StepState::Skipped, "{:?}", step_states(&stored));
    assert!(
        push.summary.as_deref().is_some_and(|said| said.contains("CircleCI")),
        "{:?}",
        push.summary
    );
    assert_eq!(stored.digest, None, "no digest: nothing reached the registry");
    assert_eq!(events.step_state(Step::Deploy), None, "the deploy never started");
    remove_project_containers(&fixture.root).await
}
