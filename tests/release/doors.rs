//! The checks have one door: `slipway check`, a release's gates and the window's Run checks
//! report the same checks the same way for the same project, and each names the values the
//! checks need and nothing gives where a check could not start without them.

use super::*;

use serde_json::Value;
use slipway::checks::EventSink;
use slipway::commands::{checks_run, CheckSelection};

/// A value the project's settings read with no default, set nowhere.
const MISSING: &str = "DOORS_SECRET_KEY";

/// One check as a door reported it: its name, its outcome and what it said.
type Said = (String, String, String);

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// The tests' report (`TestReport` as serialized) as a line of [`Said`].
fn tests_said(report: &Value) -> Said {
    ("tests".to_owned(), text(&report["outcome"]), text(&report["problem"]))
}

/// Lint's report (`LintReport`) with its count of violations.
fn lint_said(report: &Value) -> Said {
    let count = report["violations"].as_array().map_or(0, Vec::len);
    (
        "lint".to_owned(),
        text(&report["outcome"]),
        format!("{count} violations; {}", text(&report["problem"])),
    )
}

/// A gate's report (`GateReport`).
fn gate_said(report: &Value) -> Said {
    (text(&report["id"]), text(&report["outcome"]), text(&report["message"]))
}

/// Tests, lint, then the gates by name: the order the doors finish them in is not theirs.
fn in_order(tests: Said, lint: Said, mut gates: Vec<Said>) -> Vec<Said> {
    gates.sort();
    [tests, lint].into_iter().chain(gates).collect()
}

/// A project whose settings read `MISSING` with no default, so its tests cannot start (its
/// conftest loads the settings), whose CI runs Django's checks (which load them too) and a
/// linter it does not have, and whose image build fails at once (no image is left behind).
fn doors_fixture() -> Result<Fixture, Box<dyn std::error::Error>> {
    let fixture = fixture("doors", |root| {
        std::fs::create_dir_all(root.join("shop"))?;
        std::fs::create_dir_all(root.join(".github/workflows"))?;
        std::fs::write(root.join("shop/__init__.py"), "")?;
        std::fs::write(
            root.join("shop/settings.py"),
            format!("import os\n\nSECRET_KEY = os.environ[\"{MISSING}\"]\n"),
        )?;
        std::fs::write(root.join("conftest.py"), "import shop.settings  # noqa: F401\n")?;
        std::fs::write(
            root.join("manage.py"),
            "import os\n\nif __name__ == \"__main__\":\n    os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"shop.settings\")\n    import shop.settings  # noqa: F401\n\n    print(\"System check identified no issues (0 silenced).\")\n",
        )?;
        std::fs::write(
            root.join(".github/workflows/ci.yml"),
            "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pip install -r requirements.txt\n      - run: pytest\n      - run: flake8\n      - run: python manage.py check\n      - run: pydocstyle lettings\n",
        )?;
        let dockerfile = std::fs::read_to_string(root.join("Dockerfile"))?;
        std::fs::write(
            root.join("Dockerfile"),
            dockerfile.replace(
                "WORKDIR /app",
                "RUN echo no image from this test && exit 3\nWORKDIR /app",
            ),
        )
    })?;
    // Every gate runs to its end, whatever the others do, as in the CLI and the window: the
    // release's default.
    Ok(fixture)
}

#[tokio::test]
async fn the_cli_a_release_and_the_window_report_the_checks_alike() -> TestResult {
    let fixture = doors_fixture()?;
    let settings = project::load_settings(&fixture.data, &fixture.root)?.ok_or("the settings were saved")?;
    let gate_ids: Vec<&str> = settings.gates.iter().map(|gate| gate.id.as_str()).collect();
    assert_eq!(gate_ids, ["manage-check", "pydocstyle"], "the CI's gates were found");

    // `slipway check`.
    let root = fixture.root.display().to_string();
    let output = cli(&fixture, &["check", "--json", "--project", &root]).output()?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(2), "could not run: {stdout}");
    let summary: Value = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .next_back()
        .ok_or("a summary line")?;
    let violations = summary["lint"]["violations"].as_u64().ok_or("a count of violations")?;
    let from_cli = in_order(
        (
            "tests".to_owned(),
            text(&summary["tests"]["outcome"]),
            text(&summary["tests"]["message"]),
        ),
        (
            "lint".to_owned(),
            text(&summary["lint"]["outcome"]),
            format!("{violations} violations; {}", text(&summary["lint"]["message"])),
        ),
        summary["gates"]
            .as_array()
            .into_iter()
            .flatten()
            .map(gate_said)
            .collect(),
    );

    // The window's Run checks, everything selected.
    let sink: EventSink = Arc::new(|_| {});
    let run = checks_run(
        &fixture.data,
        &fixture.root,
        CheckSelection::Both,
        &CancellationToken::new(),
        &sink,
    )
    .await?;
    let run = serde_json::to_value(&run)?;
    let from_window = in_order(
        tests_said(&run["tests"]),
        lint_said(&run["lint"]),
        run["gates"].as_array().into_iter().flatten().map(gate_said).collect(),
    );

    // A release's gates, as the ledger keeps them for History.
    let (released, _) = release(&fixture, Target::Local).await?;
    assert_eq!(released.outcome, Outcome::Failed);
    let results = fixture.context.ledger.results(&released.release_id)?;
    let kept = |step: &str| -> Vec<&Value> {
        results
            .iter()
            .filter(|result| result.step == step)
            .map(|result| &result.report)
            .collect()
    };
    let (tests, lint) = (kept("tests"), kept("lint"));
    assert_eq!((tests.len(), lint.len()), (1, 1), "one report each: {results:?}");
    let from_release = in_order(
        tests_said(tests[0]),
        lint_said(lint[0]),
        kept("checks").into_iter().map(gate_said).collect(),
    );

    let named = format!("The tests need {MISSING}: set it in the project's settings.");
    let outcomes: Vec<(&str, &str)> = from_cli
        .iter()
        .map(|(name, outcome, _)| (name.as_str(), outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("tests", "couldNotRun"),
            ("lint", "passed"),
            ("manage-check", "couldNotRun"),
            ("pydocstyle", "couldNotRun")
        ],
        "{from_cli:?}"
    );
    let said = |wanted: &str| {
        from_cli
            .iter()
            .find(|(name, ..)| name == wanted)
            .map(|(_, _, said)| said.clone())
            .unwrap_or_default()
    };
    assert!(said("tests").starts_with(&named), "{from_cli:?}");
    assert_eq!(said("lint"), "0 violations; ");
    // Django's checks load the same settings: the same values are named there.
    assert!(
        said("manage-check").starts_with(&format!("{named} Django could not start")),
        "{from_cli:?}"
    );
    assert_eq!(
        said("pydocstyle"),
        "`pydocstyle` was not found in the project's environment."
    );
    assert_eq!(from_window, from_cli, "the window's run and `slipway check` differ");
    assert_eq!(from_release, from_cli, "the release's gates and `slipway check` differ");

    // The release's steps say it too: the first failure named, with the values it needs.
    let record = record(&fixture, &released.release_id)?;
    let step =
        |name: &str| step_record(&record, name).map(|step| (step.state, step.summary.clone().unwrap_or_default()));
    let (tests_state, tests_summary) = step("tests").ok_or("a tests step")?;
    assert_eq!(tests_state, StepState::Failed);
    assert!(
        tests_summary.starts_with(&format!("Tests failed: {named}")),
        "{tests_summary}"
    );
    assert_eq!(step("lint").map(|(state, _)| state), Some(StepState::Passed));
    let (checks_state, checks_summary) = step("checks").ok_or("a checks step")?;
    assert_eq!(checks_state, StepState::Failed);
    assert!(
        checks_summary.starts_with(&format!("Django checks failed: {named}")),
        "{checks_summary}"
    );
    assert_eq!(step("build").map(|(state, _)| state), Some(StepState::Failed));
    Ok(())
}
