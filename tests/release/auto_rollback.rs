//! Rolling back by itself, when the environment asks for it: a Render release that fails its
//! live check after Render made it live, and a release followed by enough new Sentry issues
//! soon after it went live, each roll back once to the release live before, recorded as a
//! rollback with its reason.

use super::render::render_setup;
use super::sentry::connect_sentry;
use super::*;
use slipway::monitor;
use slipway::project::AutoRollback;
use standin::{sentry_issues_stand_in, NewIssue, SentryScenario};

fn auto_rollback(fixture: &Fixture, environment: &str, auto: AutoRollback) -> TestResult {
    let mut changed = Ok(());
    change_settings(fixture, |settings| {
        changed = settings
            .environments
            .update(environment, |chosen| {
                chosen.auto_rollback = Some(auto);
                // The rehearsal would pass here: it is not what these tests are about.
                chosen.rehearse = Some(false);
            })
            .map(|_| ());
        settings.health_timeout_secs = Some(3);
    })?;
    Ok(changed?)
}

/// A watch of `release_id` for up to 10 minutes, given 2 to end.
async fn watch(
    fixture: &Fixture,
    release_id: &str,
    sink: monitor::WatchSink,
) -> Result<monitor::WatchSummary, Box<dyn std::error::Error>> {
    let cancel = CancellationToken::new();
    let watching = pipeline::watch_release(
        &fixture.context,
        &fixture.root,
        Some(release_id.to_owned()),
        Some(10),
        &cancel,
        sink,
    );
    Ok(tokio::time::timeout(Duration::from_secs(120), watching).await??)
}

fn newest_release(fixture: &Fixture) -> Result<ReleaseRecord, Box<dyn std::error::Error>> {
    Ok(fixture
        .context
        .ledger
        .list(&slipway::history::HistoryFilter {
            project_path: Some(fixture.root.display().to_string()),
            limit: Some(1),
            ..slipway::history::HistoryFilter::default()
        })?
        .into_iter()
        .next()
        .ok_or("a release in the ledger")?)
}

#[tokio::test]
async fn a_render_release_that_fails_its_live_check_rolls_back_by_itself_once() -> TestResult {
    let script = DeployScript::new(201, &["live"]);
    let broken = script.broken_deploys.clone();
    let setup = render_setup("auto-check", script).await?;
    auto_rollback(
        &setup.fixture,
        "production",
        AutoRollback {
            new_issues: 0,
            minutes: 1,
        },
    )?;
    let (first, _) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(first.outcome, Outcome::Live, "{:?}", first.message);
    let first_deploy = first.deploy_id.clone().ok_or("the first deploy")?;

    // The next image is broken: its deploy goes live on Render, and its site answers 503.
    broken.lock().map_err(|_| "lock")?.push("dep-2".to_owned());
    support::git(&setup.fixture.root, &["commit", "-q", "--allow-empty", "-m", "broken"])?;
    let (second, _) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(second.outcome, Outcome::Failed, "{:?}", second.message);
    let message = second.message.clone().unwrap_or_default();
    assert!(
        message.contains("Rolled back by itself to the release of ") && message.ends_with(": it is live again."),
        "{message}"
    );
    let rollbacks: Vec<_> = setup
        .render
        .received()
        .into_iter()
        .filter(|request| request.method == "POST" && request.path() == "/v1/services/srv-web/rollback")
        .collect();
    assert_eq!(rollbacks.len(), 1, "once");
    let body: serde_json::Value = serde_json::from_str(&rollbacks[0].body)?;
    assert_eq!(body["deployId"], first_deploy.as_str());

    let rolled = newest_release(&setup.fixture)?;
    assert_eq!(rolled.kind, "rollback");
    assert_eq!(rolled.outcome, Outcome::Live);
    assert_eq!(rolled.source_id.as_deref(), Some(first.release_id.as_str()));
    assert_eq!(
        rolled.message.as_deref(),
        Some("Rolled back automatically: its live check failed.")
    );
    let kept = setup.fixture.context.ledger.results(&second.release_id)?;
    let decision = kept
        .iter()
        .find(|result| result.step == "autoRollback")
        .ok_or("the decision is kept with the failed release")?;
    assert_eq!(decision.report["to"], first.release_id.as_str());
    Ok(())
}

#[tokio::test]
async fn new_issues_soon_after_a_release_roll_it_back_by_itself_once() -> TestResult {
    let scenario = SentryScenario::default();
    let handle = scenario.handle.clone();
    let sentry = sentry_issues_stand_in(scenario).await?;
    let mut fixture = fixture("auto-issues", |_| Ok(()))?;
    connect_sentry(&fixture, &sentry.base, "sntrys_full")?;
    link_sentry(&fixture, "acme", "web")?;
    fixture.context.settings.watch_interval_secs = Some(1);
    auto_rollback(
        &fixture,
        "local",
        AutoRollback {
            new_issues: 2,
            minutes: 5,
        },
    )?;
    let (first, _) = release(&fixture, Target::Local).await?;
    assert_eq!(first.outcome, Outcome::Live, "{:?}", first.message);
    support::git(&fixture.root, &["commit", "-q", "--allow-empty", "-m", "second"])?;
    std::fs::write(fixture.root.join("lettings/VERSION"), "2\n")?;
    support::git(&fixture.root, &["add", "."])?;
    support::git(&fixture.root, &["commit", "-q", "-m", "another image"])?;
    let (second, _) = release(&fixture, Target::Local).await?;
    assert_eq!(second.outcome, Outcome::Live, "{:?}", second.message);
    // The name Sentry knows the release by: its full commit id.
    let head = std::process::Command::new("git")
        .args(["-C", &fixture.root.display().to_string(), "rev-parse", "HEAD"])
        .output()?;
    let version = String::from_utf8(head.stdout)?.trim().to_owned();
    for title in ["ZeroDivisionError: division by zero", "KeyError: 'price'"] {
        handle.add_issue(NewIssue {
            title: title.to_owned(),
            first_release: Some(version.clone()),
            environments: vec!["local".to_owned()],
            ..NewIssue::default()
        });
    }
    let told = Arc::new(Mutex::new(Vec::new()));
    let heard = told.clone();
    let sink: monitor::WatchSink = Arc::new(move |event| {
        if let Ok(mut heard) = heard.lock() {
            heard.push(event);
        }
    });
    let watched = watch(&fixture, &second.release_id, sink).await?;
    assert_eq!(watched.new_issues.len(), 2);
    let said = watched.rolled_back.clone().ok_or("it rolled back by itself")?;
    assert!(said.live && said.message.ends_with(": it is live again."), "{said:?}");
    let events = told.lock().map(|events| events.clone()).unwrap_or_default();
    let rolled_at = events
        .iter()
        .position(|event| matches!(event, monitor::WatchEvent::RolledBack { .. }))
        .ok_or("the rollback is told")?;
    let ended_at = events
        .iter()
        .position(|event| matches!(event, monitor::WatchEvent::Ended(_)))
        .ok_or("the end is told")?;
    assert!(rolled_at < ended_at, "the end comes after the rollback");
    assert_eq!(
        events
            .iter()
            .filter(|event| matches!(event, monitor::WatchEvent::Ended(_)))
            .count(),
        1,
        "the end is told once"
    );

    let rolled = newest_release(&fixture)?;
    assert_eq!(rolled.kind, "rollback");
    assert_eq!(rolled.outcome, Outcome::Live, "{:?}", rolled.message);
    assert_eq!(rolled.source_id.as_deref(), Some(first.release_id.as_str()));
    assert_eq!(
        rolled.message.as_deref(),
        Some("Rolled back automatically: 2 new issues within 5 minutes of going live.")
    );
    let first_image = record(&fixture, &first.release_id)?.image_id.ok_or("an image")?;
    let engine = slipway::docker::connect()?;
    let running = engine
        .inspect_container(&project::container_name(&fixture.root), None)
        .await?;
    assert_eq!(
        running.image.as_deref(),
        Some(first_image.as_str()),
        "the first image runs again"
    );

    // Watched again, the same release rolls nothing back a second time.
    let again = watch(&fixture, &second.release_id, Arc::new(|_| {})).await?;
    let refused = again.rolled_back.ok_or("it fired again, and said why it did nothing")?;
    assert!(!refused.live);
    // The release watched is no longer the live one: nothing newer is ever rolled back.
    assert_eq!(
        refused.message,
        "No automatic rollback: a newer release went live after the one watched."
    );
    assert_eq!(newest_release(&fixture)?.id, rolled.id, "no second rollback");
    remove_project_containers(&fixture.root).await?;
    Ok(())
}
