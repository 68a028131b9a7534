//! A failing push leaks the token nowhere, and keeps its kind and hint.

use super::*;

/// The leak test of a release: a registry login whose token is a marker (and wrong), a
/// release whose push fails with it; then neither the marker nor its derived forms appear in
/// what the CLI printed, the log files, the history database or anything else in the data
/// folder.
#[tokio::test]
async fn a_failing_push_leaks_the_token_nowhere() -> TestResult {
    use base64::Engine as _;
    let marker = "leak-marker-push-73519";
    let fixture = fixture("leaky", |_| Ok(()))?;
    let registry = test_registry();
    support::save_registry_login(&fixture.data, &registry, marker)?;
    let root = fixture.root.display().to_string();
    let output = cli(
        &fixture,
        &["release", "--project", &root, "--target", "local", "--json"],
    )
    .env("SLIPWAY_LOG", "debug")
    .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stdout.contains(r#""step":"push","state":"failed""#),
        "the push failed: {stdout}"
    );
    // The refusal keeps its kind and hint: in the summary, the ledger and `history --json`.
    let summary: serde_json::Value = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .next_back()
        .ok_or("a summary line")?;
    assert_eq!(summary["error"]["kind"], "registryAuth", "{summary}");
    assert!(
        !summary["error"]["hint"].as_str().unwrap_or_default().is_empty(),
        "{summary}"
    );
    let history = cli(&fixture, &["history", "--json", "--project", &root]).output()?;
    let history: serde_json::Value = serde_json::from_slice(&history.stdout)?;
    assert_eq!(history[0]["error"]["kind"], "registryAuth", "{history}");
    assert_eq!(history[0]["error"]["hint"], summary["error"]["hint"], "{history}");

    // Exports, of the list and of the release with its logs, are searched too.
    for (format, name) in [("csv", "export.csv"), ("json", "export.json")] {
        let path = fixture.data.join(name);
        let exported = cli(
            &fixture,
            &[
                "history",
                "export",
                "--format",
                format,
                "--output",
                &path.display().to_string(),
            ],
        )
        .output()?;
        assert!(
            exported.status.success(),
            "{}",
            String::from_utf8_lossy(&exported.stderr)
        );
    }
    let release_id = summary["releaseId"].as_str().ok_or("the release id")?;
    let shown = cli(&fixture, &["history", "show", release_id, "--json"]).output()?;
    std::fs::write(fixture.data.join("show.json"), &shown.stdout)?;
    let logs = cli(&fixture, &["history", "show", release_id, "--logs", "push"]).output()?;
    std::fs::write(fixture.data.join("push-log.txt"), &logs.stdout)?;
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains(release_id),
        "the release was shown"
    );

    let user_and_token = format!("{}:{marker}", registry.user);
    let registry_auth = serde_json::json!({
        "username": registry.user, "password": marker, "serveraddress": registry.address,
    })
    .to_string();
    let forms = [
        marker.to_owned(),
        base64::engine::general_purpose::STANDARD.encode(&user_and_token),
        base64::engine::general_purpose::URL_SAFE.encode(&registry_auth),
        format!("Bearer {marker}"),
    ];
    let places = support::with_files_below(
        vec![("stdout".to_owned(), stdout), ("stderr".to_owned(), stderr)],
        &fixture.data,
    )?;
    assert!(
        places.iter().any(|(name, _)| name.ends_with("history.sqlite3")),
        "the ledger was searched"
    );
    assert!(
        places.iter().any(|(name, _)| name.contains("/logs/")),
        "the log files were searched"
    );
    assert!(
        places
            .iter()
            .any(|(name, text)| name.ends_with("export.csv") && text.contains(release_id)),
        "the CSV export holds the release and was searched"
    );
    for (place, text) in &places {
        for form in &forms {
            assert!(!text.contains(form.as_str()), "{place} holds a form of the token");
        }
    }
    Ok(())
}
