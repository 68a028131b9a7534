//! Sentry through its stand-in (written from the contract): every live release is recorded
//! as a release and a deploy; Sentry refusing never fails a live release; the watch finds
//! an issue first seen in the release while it runs; the issues list, detail and bulk
//! status as the Errors page and `slipway errors` read them.

use super::*;
use slipway::monitor;
use slipway::sentry_api::{IssueQuery, IssueStatus, IssueStatusFilter};
use standin::{sentry_issues_stand_in, NewIssue, SentryScenario, SENTRY_MESSAGE_ISSUE, SENTRY_SECRET_ISSUE};

/// Sentry's account `acme/web` at the stand-in `base`, with `token`, in the fixture's keyring.
pub(super) fn connect_sentry(fixture: &Fixture, base: &str, token: &str) -> TestResult {
    let mut account = Account::new(Service::Sentry, "acme/web", "test");
    account.server = Some(format!("{base}/api/0"));
    account.sentry_organization = Some("acme".to_owned());
    account.sentry_project = Some("web".to_owned());
    SecretStore::os(&fixture.data).save(&account, token)?;
    Ok(())
}

fn full_commit(root: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let output = std::process::Command::new("git")
        .args(["-C", &root.display().to_string(), "rev-parse", "HEAD"])
        .output()?;
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// A Local release with Sentry connected: Sentry received the release (named by the full
/// commit id, for the project) and its deploy to `local` with the URL; the step passed.
/// Then the watch sees an issue that appears in this release while it watches.
#[tokio::test]
async fn a_live_release_is_recorded_in_sentry_and_watched() -> TestResult {
    let scenario = SentryScenario::default();
    let handle = scenario.handle.clone();
    let sentry = sentry_issues_stand_in(scenario).await?;
    let mut fixture = fixture("sentry-release", |_| Ok(()))?;
    connect_sentry(&fixture, &sentry.base, "sntrys_full")?;
    link_sentry(&fixture, "acme", "web")?;
    fixture.context.settings.watch_interval_secs = Some(1);
    let (summary, events) = release(&fixture, Target::Local).await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    assert_eq!(events.step_state(Step::Sentry), Some(StepState::Passed));
    assert_eq!(summary.message, None, "no warning");
    let version = full_commit(&fixture.root)?;
    let created = handle.release_calls();
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0].version.as_deref(), Some(version.as_str()));
    assert_eq!(created[0].projects, ["web"]);
    assert_eq!(created[0].status, 201);
    let deploys = handle.deploy_calls();
    assert_eq!(deploys.len(), 1, "{deploys:?}");
    assert_eq!(deploys[0].version, version);
    assert_eq!(deploys[0].environment.as_deref(), Some("local"));
    assert_eq!(deploys[0].status, 201);
    assert_eq!(deploys[0].body["url"].as_str(), summary.url.as_deref());
    let stored = record(&fixture, &summary.release_id)?;
    assert_eq!(
        step_record(&stored, "sentry").map(|step| step.state),
        Some(StepState::Passed)
    );

    // A later commit checked out meanwhile: the watch still follows the release's own name.
    let committed = std::process::Command::new("git")
        .args([
            "-C",
            &fixture.root.display().to_string(),
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "later",
        ])
        .status()?;
    assert!(committed.success());
    assert_ne!(full_commit(&fixture.root)?, version);

    // The watch: nothing new at first; an issue first seen in this release arrives.
    let found = Arc::new(Mutex::new(Vec::new()));
    let seen = found.clone();
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let sink: monitor::WatchSink = Arc::new(move |event| {
        if let monitor::WatchEvent::NewIssue { issue } = event {
            if let Ok(mut seen) = seen.lock() {
                seen.push(issue.short_id.clone());
            }
            stop.cancel();
        }
    });
    let adder = handle.clone();
    let new_version = version.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        adder.add_issue(NewIssue {
            title: "ZeroDivisionError: division by zero".to_owned(),
            first_release: Some(new_version),
            environments: vec!["local".to_owned()],
            ..NewIssue::default()
        });
    });
    let watched = tokio::time::timeout(
        Duration::from_secs(60),
        pipeline::watch_release(&fixture.context, &fixture.root, None, Some(5), &cancel, sink),
    )
    .await??;
    assert_eq!(watched.release_id, summary.release_id);
    assert_eq!(watched.version, version);
    assert_eq!(watched.new_issues.len(), 1, "{:?}", watched.new_issues);
    assert_eq!(watched.new_issues[0].title, "ZeroDivisionError: division by zero");
    assert_eq!(watched.ended, "stopped");
    assert_eq!(found.lock().map(|found| found.len()).unwrap_or(0), 1);
    let kept = fixture.context.ledger.results(&summary.release_id)?;
    let watch = kept
        .iter()
        .find(|result| result.step == "watch")
        .ok_or("the watch is kept with the release")?;
    assert_eq!(watch.report["newIssues"], 1);
    remove_project_containers(&fixture.root).await?;
    Ok(())
}

/// Sentry refusing the token never fails a live release: it is live, with a warning in its
/// summary and its record, and the Sentry step says why it was not done.
#[tokio::test]
async fn sentry_refusing_leaves_the_release_live_with_a_warning() -> TestResult {
    let sentry = sentry_issues_stand_in(SentryScenario::default()).await?;
    let fixture = fixture("sentry-refused", |_| Ok(()))?;
    connect_sentry(&fixture, &sentry.base, "sntrys_revoked")?;
    link_sentry(&fixture, "acme", "web")?;
    let (summary, events) = release(&fixture, Target::Local).await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    assert_eq!(events.step_state(Step::Sentry), Some(StepState::Skipped));
    let warning = summary.message.clone().unwrap_or_default();
    assert!(
        warning.starts_with("Live, but Sentry was not told about this release") && warning.contains("token"),
        "{warning}"
    );
    let stored = record(&fixture, &summary.release_id)?;
    assert_eq!(stored.outcome, Outcome::Live);
    assert_eq!(stored.message.as_deref(), Some(warning.as_str()));
    assert!(!warning.contains("sntrys_revoked"));
    remove_project_containers(&fixture.root).await?;
    Ok(())
}

/// The Errors page's reads and writes: a page of unresolved issues with cursors both ways,
/// the detail's events (one without an exception, one with a secret variable hidden), a
/// bulk resolve that the list then reflects, and a 403 that names the missing scope.
#[tokio::test]
async fn the_errors_page_reads_pages_events_and_resolves_in_bulk() -> TestResult {
    let scenario = SentryScenario::default();
    let handle = scenario.handle.clone();
    let sentry = sentry_issues_stand_in(scenario).await?;
    let data = tempfile::tempdir()?;
    let fixture_data = data.path().to_path_buf();
    let mut account = Account::new(Service::Sentry, "acme/web", "test");
    account.server = Some(format!("{}/api/0", sentry.base));
    account.sentry_organization = Some("acme".to_owned());
    account.sentry_project = Some("web".to_owned());
    SecretStore::os(&fixture_data).save(&account, "sntrys_full")?;
    // The Errors page asks the open project's own Sentry project.
    let project_dir = tempfile::tempdir()?;
    let root = project_dir.path();
    let mut linked = ProjectSettings::with_commands("pytest", project::LintTool::Flake8, "flake8");
    linked.sentry_project = Some(project::SentryLink {
        account: "acme/web".to_owned(),
        organization: "acme".to_owned(),
        project: "web".to_owned(),
    });
    project::save_settings(&fixture_data, root, &linked)?;

    let first = monitor::issues(fixture_data.clone(), root, &IssueQuery::default()).await?;
    assert_eq!(first.issues.len(), 25);
    assert!(first.issues.iter().all(|issue| issue.status == "unresolved"));
    assert!(first.previous.is_none(), "the first page has nothing before it");
    let next = first.next.clone().ok_or("28 unresolved issues make two pages")?;
    let second = monitor::issues(
        fixture_data.clone(),
        root,
        &IssueQuery {
            cursor: Some(next),
            ..IssueQuery::default()
        },
    )
    .await?;
    assert_eq!(second.issues.len(), 3);
    assert!(second.next.is_none());
    assert!(second.previous.is_some());

    let message_only = monitor::event(fixture_data.clone(), root, SENTRY_MESSAGE_ISSUE, None).await?;
    assert!(message_only.exceptions.is_empty());
    assert!(message_only.message.is_some());
    let with_secret = monitor::event(fixture_data.clone(), root, SENTRY_SECRET_ISSUE, None).await?;
    let frames: Vec<_> = with_secret
        .exceptions
        .iter()
        .flat_map(|exception| &exception.frames)
        .collect();
    assert!(!frames.is_empty());
    let shown = serde_json::to_string(&with_secret)?;
    assert!(
        !shown.contains("hunter2-sentry-secret"),
        "a password variable is hidden"
    );

    let chosen: Vec<String> = first.issues.iter().take(2).map(|issue| issue.id.clone()).collect();
    monitor::set_status(fixture_data.clone(), root, &chosen, IssueStatus::Resolved).await?;
    for id in &chosen {
        assert_eq!(handle.issue_status(id).as_deref(), Some("resolved"));
    }
    let resolved = monitor::issues(
        fixture_data.clone(),
        root,
        &IssueQuery {
            status: Some(IssueStatusFilter::Resolved),
            limit: Some(100),
            ..IssueQuery::default()
        },
    )
    .await?;
    assert!(chosen
        .iter()
        .all(|id| resolved.issues.iter().any(|issue| &issue.id == id)));

    SecretStore::os(&fixture_data).save(&account, "sntrys_nowrite")?;
    let refused = monitor::set_status(fixture_data.clone(), root, &chosen, IssueStatus::Unresolved)
        .await
        .err()
        .ok_or("a token without event:write is refused")?;
    assert!(refused.hint.contains("event:write"), "{}", refused.hint);
    assert_eq!(
        handle.issue_status(&chosen[0]).as_deref(),
        Some("resolved"),
        "nothing changed"
    );
    Ok(())
}

/// Headless, as a script would: Sentry connected with the token on standard input, a
/// release that then watches and stops at the first new issue (exit 1, the issue in the
/// JSON lines), the issue resolved with `slipway errors resolve`; and the token is nowhere
/// in what was printed or kept.
// The CLI runs as a child while the stand-in answers on this runtime: two threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_connects_sentry_watches_a_release_and_leaks_the_token_nowhere() -> TestResult {
    use std::io::Write;
    let token = "sntrys_full";
    let scenario = SentryScenario::default();
    let handle = scenario.handle.clone();
    let sentry = sentry_issues_stand_in(scenario).await?;
    let fixture = fixture("sentry-cli", |_| Ok(()))?;
    std::fs::write(fixture.data.join("settings.json"), r#"{"watchIntervalSecs": 1}"#)?;
    let mut connect = cli(
        &fixture,
        &[
            "accounts",
            "connect",
            "sentry",
            "--org",
            "acme",
            "--project",
            "web",
            "--url",
            &format!("{}/api/0", sentry.base),
        ],
    )
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()?;
    connect.stdin.take().ok_or("stdin")?.write_all(token.as_bytes())?;
    let connected = connect.wait_with_output()?;
    let connected_out = String::from_utf8_lossy(&connected.stdout).into_owned();
    assert!(
        connected.status.success(),
        "{connected_out}{}",
        String::from_utf8_lossy(&connected.stderr)
    );
    assert!(connected_out.contains("Connected Sentry acme/web"), "{connected_out}");
    // The account is a credential; the project reports to Sentry once it is linked.
    let project_root = fixture.root.display().to_string();
    let refused = cli(
        &fixture,
        &[
            "project",
            "set",
            "--project",
            &project_root,
            "sentry-project",
            "acme/nothere",
        ],
    )
    .output()?;
    assert_eq!(
        refused.status.code(),
        Some(2),
        "acme/nothere is not a project the token sees"
    );
    let linked = cli(
        &fixture,
        &[
            "project",
            "set",
            "--project",
            &project_root,
            "sentry-project",
            "acme/web",
        ],
    )
    .output()?;
    assert!(linked.status.success(), "{}", String::from_utf8_lossy(&linked.stderr));

    let version = full_commit(&fixture.root)?;
    let new_id = handle.add_issue(NewIssue {
        title: "TypeError: 'NoneType' object is not subscriptable".to_owned(),
        first_release: Some(version.clone()),
        environments: vec!["local".to_owned()],
        ..NewIssue::default()
    });
    let root = fixture.root.display().to_string();
    let released = cli(
        &fixture,
        &[
            "release",
            "--project",
            &root,
            "--target",
            "local",
            "--watch",
            "--stop-at-first",
            "--json",
        ],
    )
    .output()?;
    let stdout = String::from_utf8_lossy(&released.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&released.stderr).into_owned();
    assert_eq!(released.status.code(), Some(1), "new issues came: {stdout}{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    assert!(
        lines
            .iter()
            .any(|line| line["kind"] == "summary" && line["outcome"] == "live"),
        "{stdout}"
    );
    let new_issue = lines
        .iter()
        .find(|line| line["kind"] == "newIssue")
        .ok_or("the new issue is printed")?;
    assert_eq!(new_issue["issue"]["id"], new_id.as_str());
    let ended = lines.last().ok_or("a last line")?;
    assert_eq!(ended["kind"], "ended", "{ended}");
    assert_eq!(ended["newIssues"].as_array().map(Vec::len), Some(1), "{ended}");

    let listed = cli(&fixture, &["errors", "--project", &root, "--json", "--limit", "100"]).output()?;
    let page: serde_json::Value = serde_json::from_slice(&listed.stdout)?;
    assert!(
        page["issues"]
            .as_array()
            .is_some_and(|issues| issues.iter().any(|issue| issue["id"] == new_id.as_str())),
        "{page}"
    );
    let resolved = cli(&fixture, &["errors", "resolve", "--project", &root, &new_id]).output()?;
    assert!(
        resolved.status.success(),
        "{}",
        String::from_utf8_lossy(&resolved.stderr)
    );
    assert_eq!(handle.issue_status(&new_id).as_deref(), Some("resolved"));

    let places = support::with_files_below(
        vec![
            ("connect".to_owned(), connected_out),
            ("release stdout".to_owned(), stdout),
            ("release stderr".to_owned(), stderr),
            (
                "errors".to_owned(),
                String::from_utf8_lossy(&listed.stdout).into_owned(),
            ),
        ],
        &fixture.data,
    )?;
    assert!(places.iter().any(|(name, _)| name.ends_with("history.sqlite3")));
    for (place, text) in &places {
        assert!(!text.contains(token), "{place} holds the Sentry token");
    }
    remove_project_containers(&fixture.root).await?;
    Ok(())
}
