//! The gate cache on whole releases: a second release of the same tree shows the gates'
//! earlier passes and does not run them; any change to the tree, "Run everything", or a
//! failure runs them again.

use super::*;

fn plan_options(no_cache: bool) -> ReleaseOptions {
    ReleaseOptions {
        target: Some(Target::Local),
        confirm_dirty: true,
        no_cache,
        ..ReleaseOptions::default()
    }
}

/// Whether `step` ran in release `id`: its log has the command it started.
fn ran(fixture: &Fixture, id: &str, step: &str) -> Result<bool, Box<dyn std::error::Error>> {
    let lines = fixture.context.ledger.log_lines(id, step)?;
    Ok(lines.iter().any(|line| line.starts_with("$ ")))
}

#[tokio::test]
async fn a_second_release_of_the_same_tree_reuses_the_gates_that_passed() -> TestResult {
    let fixture = fixture("cache", |_| Ok(()))?;
    let (first, _) = release(&fixture, Target::Local).await?;
    assert_eq!(first.outcome, Outcome::Live, "{:?}", first.message);
    assert!(
        ran(&fixture, &first.release_id, "tests")?,
        "the first release ran its tests"
    );

    // The plan says which gates will not run, and from which release.
    let plan = pipeline::plan(&fixture.context, &fixture.root, &plan_options(false)).await?;
    for step in [Step::Tests, Step::Lint] {
        let planned = plan
            .steps
            .iter()
            .find(|planned| planned.step == step)
            .ok_or("planned")?;
        let cached = planned
            .cached
            .as_ref()
            .ok_or(format!("{step:?} is cached in the plan"))?;
        assert_eq!(cached.from_release, first.release_id);
    }
    let build = plan
        .steps
        .iter()
        .find(|planned| planned.step == Step::Build)
        .ok_or("build")?;
    assert!(build.cached.is_none(), "the build is Docker's cache, not this one");

    let (second, events) = release(&fixture, Target::Local).await?;
    assert_eq!(second.outcome, Outcome::Live, "{:?}", second.message);
    let recorded = record(&fixture, &second.release_id)?;
    for name in ["tests", "lint"] {
        let step = step_record(&recorded, name).ok_or(name)?;
        assert_eq!(step.state, StepState::Passed, "{name}");
        assert_eq!(step.cached_from.as_deref(), Some(first.release_id.as_str()), "{name}");
        let summary = step.summary.as_deref().unwrap_or_default();
        assert!(summary.contains("on this exact tree"), "{summary}");
        assert!(!ran(&fixture, &second.release_id, name)?, "{name} was not run again");
    }
    // The results come with it: the tests' counts as the first run left them.
    let replayed = events.all().into_iter().find_map(|event| match event {
        ReleaseEvent::Tests { report } => Some(report),
        _ => None,
    });
    let replayed = replayed.ok_or("the cached test report was sent")?;
    assert!(replayed.counts.passed > 0, "{replayed:?}");
    let kept = fixture.context.ledger.results(&second.release_id)?;
    assert!(
        kept.iter().any(|result| result.step == "tests"),
        "kept with the release for History"
    );

    // "Run everything" runs them, and records them as run.
    let (everything, _) = release_with(&fixture, &plan_options(true)).await?;
    assert_eq!(everything.outcome, Outcome::Live, "{:?}", everything.message);
    let recorded = record(&fixture, &everything.release_id)?;
    assert!(step_record(&recorded, "tests").ok_or("tests")?.cached_from.is_none());
    assert!(ran(&fixture, &everything.release_id, "tests")?);

    // An untracked file is part of the tree: the gates run again.
    std::fs::write(
        fixture.root.join("tests/test_more.py"),
        "def test_more():\n    assert True\n",
    )?;
    let plan = pipeline::plan(&fixture.context, &fixture.root, &plan_options(false)).await?;
    assert!(
        plan.steps.iter().all(|planned| planned.cached.is_none()),
        "nothing cached for a changed tree"
    );
    let (changed, _) = release_with(&fixture, &plan_options(false)).await?;
    assert_eq!(changed.outcome, Outcome::Live, "{:?}", changed.message);
    assert!(
        ran(&fixture, &changed.release_id, "tests")?,
        "a changed tree runs its tests"
    );

    // The plan's fingerprint of the tree is reused only while nothing changes: a file already
    // edited, edited again after the plan (same size, same second) runs the gates again.
    let plan = pipeline::plan(&fixture.context, &fixture.root, &plan_options(false)).await?;
    let tests = plan
        .steps
        .iter()
        .find(|planned| planned.step == Step::Tests)
        .ok_or("tests")?;
    assert_eq!(
        tests.cached.as_ref().map(|cached| cached.from_release.as_str()),
        Some(changed.release_id.as_str()),
        "the edited tree, released, is cached in its turn"
    );
    std::fs::write(
        fixture.root.join("tests/test_more.py"),
        "def test_more():\n    assert 'ok'\n",
    )?;
    let (edited, _) = release_with(&fixture, &plan_options(false)).await?;
    assert_eq!(edited.outcome, Outcome::Live, "{:?}", edited.message);
    let recorded = record(&fixture, &edited.release_id)?;
    assert!(step_record(&recorded, "tests").ok_or("tests")?.cached_from.is_none());
    assert!(
        ran(&fixture, &edited.release_id, "tests")?,
        "a file edited between the plan and the release runs the tests"
    );
    Ok(())
}

#[tokio::test]
async fn a_failed_gate_is_never_reused() -> TestResult {
    let fixture = fixture("cache-fail", |root| {
        std::fs::write(root.join("lettings/bad.py"), "import os\nx=1\n")
    })?;
    let (first, _) = release(&fixture, Target::Local).await?;
    assert_eq!(first.outcome, Outcome::Failed, "{:?}", first.message);
    let (second, _) = release(&fixture, Target::Local).await?;
    assert_eq!(second.outcome, Outcome::Failed, "{:?}", second.message);
    let recorded = record(&fixture, &second.release_id)?;
    let lint = step_record(&recorded, "lint").ok_or("lint")?;
    assert_eq!(lint.state, StepState::Failed);
    assert!(
        lint.cached_from.is_none(),
        "a failure is run again, never taken from the cache"
    );
    assert!(ran(&fixture, &second.release_id, "lint")?);
    Ok(())
}
