//! The rehearsal: a Render release runs its image on this computer first, and a broken one
//! stops there, before anything reaches the registry or Render.

use super::render::render_setup;
use super::*;

/// The tags the test registry holds for `repository` (`ann/<name>`); none when it never got one.
async fn registry_tags(repository: &str) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    slipway::http::install_tls();
    let registry = test_registry();
    let response = reqwest::Client::new()
        .get(format!("http://{}/v2/{repository}/tags/list", registry.address))
        .basic_auth(&registry.user, Some(&registry.password))
        .send()
        .await?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(Vec::new());
    }
    let body: serde_json::Value = response.error_for_status()?.json().await?;
    Ok(body["tags"]
        .as_array()
        .map(|tags| tags.iter().filter_map(|tag| tag.as_str().map(str::to_owned)).collect())
        .unwrap_or_default())
}

/// A Render release of the example whose image runs `command` instead of the app: it fails at
/// the rehearsal, nothing is pushed, Render is never asked, no container is left.
async fn broken_image_stops_before_the_push(
    name: &str,
    command: &str,
) -> Result<ReleaseSummary, Box<dyn std::error::Error>> {
    let setup = render_setup(name, DeployScript::new(201, &["live"])).await?;
    let dockerfile = setup.fixture.root.join("Dockerfile");
    let original = std::fs::read_to_string(&dockerfile)?;
    let changed = original
        .lines()
        .map(|line| {
            if line.starts_with("CMD ") {
                format!("CMD {command}")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&dockerfile, changed + "\n")?;
    support::git(&setup.fixture.root, &["commit", "-qam", "a broken start"])?;
    change_settings(&setup.fixture, |settings| settings.health_timeout_secs = Some(4))?;

    let (summary, events) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(summary.outcome, Outcome::Failed, "{:?}", summary.message);
    assert_eq!(events.step_state(Step::Rehearsal), Some(StepState::Failed));
    assert_ne!(events.step_state(Step::Push), Some(StepState::Passed));
    let message = summary.message.clone().unwrap_or_default();
    assert!(message.contains("Nothing was pushed"), "{message}");
    assert_eq!(
        registry_tags(&format!("ann/{name}")).await?,
        Vec::<String>::new(),
        "nothing new in the registry"
    );
    assert!(
        !setup.render.received().iter().any(|request| request.method == "POST"),
        "the stand-in saw no deploy"
    );
    let engine = slipway::docker::connect()?;
    let left = slipway::docker::project_containers(&engine, &project::project_id(&setup.fixture.root)).await?;
    assert_eq!(left, Vec::<String>::new(), "the rehearsal's container is removed");
    let stored = record(&setup.fixture, &summary.release_id)?;
    let step = step_record(&stored, "rehearsal").ok_or("the rehearsal is in the ledger")?;
    assert_eq!(step.state, StepState::Failed);
    Ok(summary)
}

#[tokio::test]
async fn an_image_whose_server_exits_at_start_never_reaches_render() -> TestResult {
    let summary =
        broken_image_stops_before_the_push("rehearsal-exits", r#"["python3", "-c", "import gunicorn"]"#).await?;
    let message = summary.message.unwrap_or_default();
    assert!(message.contains("The app ended at start (exit code 1)"), "{message}");
    assert!(
        message.contains("No module named 'gunicorn'"),
        "its last words: {message}"
    );
    Ok(())
}

#[tokio::test]
async fn an_image_whose_health_path_answers_500_never_reaches_render() -> TestResult {
    let server = r#"["python3", "-c", "import http.server, os\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        print('RuntimeError: database unreachable', flush=True)\n        self.send_response(500)\n        self.end_headers()\nhttp.server.HTTPServer(('', int(os.environ['PORT'])), H).serve_forever()"]"#;
    let summary = broken_image_stops_before_the_push("rehearsal-fails", server).await?;
    let message = summary.message.unwrap_or_default();
    assert!(
        message.contains("did not answer within 4 s: it answered 500"),
        "{message}"
    );
    assert!(
        message.contains("Its last words: RuntimeError: database unreachable"),
        "{message}"
    );
    Ok(())
}

#[tokio::test]
async fn a_rehearsed_release_says_how_fast_the_image_answered_and_one_turned_off_runs_none() -> TestResult {
    let setup = render_setup("rehearsal-passes", DeployScript::new(201, &["live"])).await?;
    let (summary, events) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    let said = events.all().iter().find_map(|event| match event {
        ReleaseEvent::Step {
            step: Step::Rehearsal,
            state: StepState::Passed,
            summary,
            ..
        } => summary.clone(),
        _ => None,
    });
    let said = said.ok_or("the rehearsal passed")?;
    assert!(
        said.starts_with("the image answers / in ") && said.ends_with(" s on this computer"),
        "{said}"
    );

    let mut turned_off = Ok(());
    change_settings(&setup.fixture, |settings| {
        turned_off = settings
            .environments
            .update("production", |production| production.rehearse = Some(false))
            .map(|_| ());
    })?;
    turned_off?;
    support::git(&setup.fixture.root, &["commit", "-q", "--allow-empty", "-m", "again"])?;
    let (summary, events) = release(&setup.fixture, Target::Render).await?;
    assert_eq!(summary.outcome, Outcome::Live, "{:?}", summary.message);
    assert_eq!(events.step_state(Step::Rehearsal), None, "turned off: no rehearsal");
    Ok(())
}
