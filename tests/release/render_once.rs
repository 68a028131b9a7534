//! Render gets at most one deploy per intent: a deploy or rollback whose answer is lost (a
//! 502 after Render made it, a time-out) is followed, never sent again; a cancel during a
//! rollback's rate-limit wait sends nothing more; a release killed after Render made its
//! deploy resumes by following that deploy.

use super::render::{deploy_statuses, render_setup};
use super::*;

/// How many `POST`s to paths ending in `tail` the stand-in received.
fn posts(render: &standin::StandIn, tail: &str) -> usize {
    render
        .received()
        .iter()
        .filter(|request| request.method == "POST" && request.path().ends_with(tail))
        .count()
}

/// A second commit of the fixture, so the next release builds another image.
fn second_version(fixture: &Fixture) -> TestResult {
    std::fs::write(fixture.root.join("lettings/VERSION"), "2\n")?;
    support::git(&fixture.root, &["add", "-A"])?;
    support::git(&fixture.root, &["commit", "-qm", "version 2"])
}

#[tokio::test]
async fn a_lost_answer_is_followed_never_sent_again() -> TestResult {
    let script = DeployScript::new(201, &["update_in_progress", "live"]);
    let lose = script.lose_answer.clone();
    let setup = render_setup("render-once", script).await?;

    // 502 after Render made the deploy.
    lose.store(502, std::sync::atomic::Ordering::SeqCst);
    let (first, _) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(first.outcome, Outcome::Live, "{:?}", first.message);
    assert_eq!(
        first.deploy_id.as_deref(),
        Some("dep-1"),
        "the deploy Render made is followed"
    );
    assert_eq!(posts(&setup.render, "/deploys"), 1, "one deploy for one release");

    // No answer at all.
    lose.store(1, std::sync::atomic::Ordering::SeqCst);
    second_version(&setup.fixture)?;
    let (second, _) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(second.outcome, Outcome::Live, "{:?}", second.message);
    assert_eq!(second.deploy_id.as_deref(), Some("dep-2"));
    assert_eq!(posts(&setup.render, "/deploys"), 2, "one deploy for one release");

    // A rollback whose 502 hid the deploy it made.
    lose.store(502, std::sync::atomic::Ordering::SeqCst);
    let rolled = pipeline::rollback(
        &setup.fixture.context,
        &setup.fixture.root,
        Some("production"),
        pipeline::RollbackTo::Release(first.release_id.clone()),
        &CancellationToken::new(),
        Arc::new(Events::default()).sink(),
    )
    .await?;
    assert_eq!(rolled.outcome, Outcome::Live, "{:?}", rolled.message);
    assert_eq!(rolled.deploy_id.as_deref(), Some("dep-3"));
    assert_eq!(posts(&setup.render, "/rollback"), 1, "one rollback for one intent");
    eprintln!("Render stand-in request log:");
    for request in setup.render.received() {
        eprintln!("  {} {}", request.method, request.path());
    }
    Ok(())
}

#[tokio::test]
async fn a_cancel_during_a_rollbacks_rate_limit_wait_sends_nothing_more() -> TestResult {
    let script = DeployScript::new(201, &["live"]);
    let (fault, reset) = (script.rollback_fault.clone(), script.rollback_rate_limit_reset.clone());
    let setup = render_setup("render-rollback-wait", script).await?;
    let (first, _) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(first.outcome, Outcome::Live, "{:?}", first.message);
    second_version(&setup.fixture)?;
    let (second, _) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(second.outcome, Outcome::Live, "{:?}", second.message);

    reset.store(20, std::sync::atomic::Ordering::SeqCst);
    fault.store(429, std::sync::atomic::Ordering::SeqCst);
    let events = Arc::new(Events::default());
    let cancel = CancellationToken::new();
    let started = Instant::now();
    let rolling = pipeline::rollback(
        &setup.fixture.context,
        &setup.fixture.root,
        Some("production"),
        pipeline::RollbackTo::Release(first.release_id.clone()),
        &cancel,
        events.sink(),
    );
    let watcher = async {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !deploy_statuses(&events)
            .iter()
            .any(|status| status.starts_with("Render rate limit: waiting"))
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        cancel.cancel();
    };
    let (rolled, ()) = tokio::join!(rolling, watcher);
    let rolled = rolled?;
    assert_eq!(rolled.outcome, Outcome::Canceled, "{:?}", rolled.message);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the cancel ended the 20 s wait: {:?}",
        started.elapsed()
    );
    // Past the reset, Render never heard of the rollback again.
    fault.store(0, std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(posts(&setup.render, "/rollback"), 1, "only the refused one");
    Ok(())
}

#[tokio::test]
async fn a_release_killed_after_render_made_its_deploy_resumes_by_following_it() -> TestResult {
    let setup = render_setup(
        "render-resume",
        DeployScript::new(
            201,
            &["update_in_progress", "update_in_progress", "update_in_progress", "live"],
        ),
    )
    .await?;
    let events = Arc::new(Events::default());
    let options = ReleaseOptions {
        target: Some(Target::Render),
        ..ReleaseOptions::default()
    };
    // The release goes away (as a killed Slipway) once Render made its deploy.
    let never = CancellationToken::new();
    tokio::select! {
        summary = pipeline::release(&setup.fixture.context, &setup.fixture.root, &options, &never, events.sink()) => {
            return Err(format!("the release ended before it was stopped: {summary:?}").into());
        }
        () = async {
            while !events.saw(|event| matches!(event, ReleaseEvent::Deploy { deploy_id: Some(_), .. })) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        } => {}
    }
    let id = events
        .all()
        .iter()
        .find_map(|event| match event {
            ReleaseEvent::Started { release_id, .. } => Some(release_id.clone()),
            _ => None,
        })
        .ok_or("the release started")?;
    assert_eq!(pipeline::mark_interrupted(&setup.fixture.context)?, 1);
    assert_eq!(record(&setup.fixture, &id)?.deploy_id.as_deref(), Some("dep-1"));

    let resumed = pipeline::resume(
        &setup.fixture.context,
        &id,
        &CancellationToken::new(),
        Arc::new(Events::default()).sink(),
    )
    .await?;
    assert_eq!(resumed.outcome, Outcome::Live, "{:?}", resumed.message);
    assert_eq!(resumed.deploy_id.as_deref(), Some("dep-1"), "the deploy Render made");
    assert_eq!(posts(&setup.render, "/deploys"), 1, "no second deploy");
    assert_eq!(
        record(&setup.fixture, &id)?.deploy_status.as_deref(),
        Some("live"),
        "the interrupted row says what became of its deploy"
    );
    Ok(())
}
