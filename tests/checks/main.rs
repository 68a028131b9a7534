//! The checks against real pytest and flake8 from PyPI, on small fixture projects written
//! here, one per trap real Django projects set. Run through the real `slipway check`.

#[path = "../support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use slipway::checks::{self, CheckEvent, CheckOutcome, EventSink};
use slipway::project::{self, ProjectSettings};
use support::{slipway_binary, TestResult};

mod ci_traps;
mod env_traps;
mod installers;
mod sandbox;
mod services;
use tokio_util::sync::CancellationToken;

fn write(root: &Path, files: &[(&str, &str)]) -> std::io::Result<()> {
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap_or(root))?;
        std::fs::write(path, text)?;
    }
    Ok(())
}

const PASSING_TEST: &str = "def test_adds():\n    assert 1 + 1 == 2\n";

type Checked = Result<(i32, Value, Vec<Value>), Box<dyn std::error::Error>>;

/// Runs `slipway check --json` and returns the exit code and the summary line.
fn check(project: &Path, data: &Path) -> Checked {
    check_with_env(project, data, &[])
}

/// `check` with more environment variables.
fn check_with_env(project: &Path, data: &Path, env: &[(&str, &str)]) -> Checked {
    let mut command = Command::new(slipway_binary());
    command.envs(env.iter().copied());
    run_check(command, project, data)
}

/// `check` without `removed` in the environment, and without any `uv` on PATH: what a
/// machine that never had uv sees.
fn check_with_env_removed(project: &Path, data: &Path, removed: &[&str]) -> Checked {
    let mut command = Command::new(slipway_binary());
    for name in removed {
        command.env_remove(name);
    }
    if let Some(path) = std::env::var_os("PATH") {
        let kept: Vec<_> = std::env::split_paths(&path)
            .filter(|dir| !dir.join("uv").is_file())
            .collect();
        command.env("PATH", std::env::join_paths(kept)?);
    }
    run_check(command, project, data)
}

fn run_check(mut command: Command, project: &Path, data: &Path) -> Checked {
    let output = command
        .args(["check", "--json", "--project"])
        .arg(project)
        .env("SLIPWAY_DATA_DIR", data)
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let summary = lines
        .last()
        .cloned()
        .ok_or_else(|| format!("no JSON output; stderr: {}", String::from_utf8_lossy(&output.stderr)))?;
    assert_eq!(summary["kind"], "summary", "{stdout}");
    Ok((output.status.code().unwrap_or(-1), summary, lines))
}

fn violations(summary: &Value) -> u64 {
    summary["lint"]["violations"].as_u64().unwrap_or(u64::MAX)
}

#[test]
fn the_ci_config_command_is_run_and_passes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let ci = "version: 2.1\njobs:\n  test:\n    steps:\n      - checkout\n      - run: pip install -r requirements.txt\n      - run:\n          name: Tests\n          command: pytest -q --disable-warnings -p no:cacheprovider\n      - run: flake8\n";
    write(
        dir.path(),
        &[
            (".circleci/config.yml", ci),
            ("requirements.txt", "pytest\nflake8\n"),
            ("tests/test_ok.py", PASSING_TEST),
        ],
    )?;
    let detection = project::detect(dir.path());
    assert_eq!(
        detection.test_command.value,
        "pytest -q --disable-warnings -p no:cacheprovider"
    );
    assert!(detection.test_command.source.starts_with(".circleci/config.yml"));
    let (code, summary, events) = check(dir.path(), data.path())?;
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["outcome"], "passed");
    assert_eq!(summary["tests"]["passed"], 1);
    assert_eq!(violations(&summary), 0);
    let started: Vec<&Value> = events.iter().filter(|event| event["event"] == "started").collect();
    assert!(started
        .iter()
        .any(|event| event["data"]["command"] == "pytest -q --disable-warnings -p no:cacheprovider"));
    Ok(())
}

/// flake8 3.x merged `setup.cfg` and `tox.ini`; 4+ reads only the first with a `[flake8]`
/// section. The same code and config give different counts: the pinned version must run.
#[test]
fn the_pinned_flake8_version_decides_the_count() -> TestResult {
    let data = tempfile::tempdir()?;
    let code_files: &[(&str, &str)] = &[
        ("shop/views.py", "import os\n\n\ndef home():\n    return 'a fairly long line that is over seventy-nine characters but under 120'\n"),
        ("setup.cfg", "[flake8]\nmax-line-length = 120\n"),
        ("tox.ini", "[flake8]\nignore = F401\n"),
        ("tests/test_ok.py", PASSING_TEST),
    ];
    let old = tempfile::tempdir()?;
    write(old.path(), code_files)?;
    write(
        old.path(),
        &[(
            ".circleci/config.yml",
            "jobs:\n  lint:\n    steps:\n      - run: pip install flake8==3.7.0\n      - run: flake8\n",
        )],
    )?;
    let new = tempfile::tempdir()?;
    write(new.path(), code_files)?;
    write(new.path(), &[("requirements.txt", "flake8==7.1.1\npytest\n")])?;

    assert_eq!(
        project::detect(old.path()).lint_version.map(|v| v.value),
        Some("3.7.0".into())
    );
    let (old_code, old_summary, _) = check(old.path(), data.path())?;
    let (new_code, new_summary, _) = check(new.path(), data.path())?;
    assert_eq!(
        violations(&old_summary),
        0,
        "flake8 3.7 merges tox.ini's ignore: {old_summary}"
    );
    assert_eq!(old_code, 0);
    assert_eq!(
        violations(&new_summary),
        1,
        "flake8 7 reads setup.cfg only: {new_summary}"
    );
    assert_eq!(new_code, 1);
    Ok(())
}

#[test]
fn a_virtualenv_inside_the_project_is_used_and_not_linted() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write(
        dir.path(),
        &[("app/models.py", "x = 1\n"), ("tests/test_ok.py", PASSING_TEST)],
    )?;
    let venv = dir.path().join(".venv");
    let made = Command::new("python3").args(["-m", "venv"]).arg(&venv).status()?;
    assert!(made.success());
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "-q", "--disable-pip-version-check", "pytest", "flake8"])
        .status()?;
    assert!(installed.success());
    let detection = project::detect(dir.path());
    assert!(detection.python.in_tree);
    let (code, summary, events) = check(dir.path(), data.path())?;
    assert_eq!(code, 0, "site-packages must not be linted: {summary}");
    assert_eq!(violations(&summary), 0);
    assert!(events.iter().any(|event| event["data"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("project's virtualenv"))));
    assert!(!data.path().join("venvs").exists(), "no second environment was made");
    Ok(())
}

#[test]
fn utf16_requirements_with_crlf_install() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let mut requirements = vec![0xFF, 0xFE];
    for unit in "pytest\r\nflake8\r\nsix==1.16.0\r\n".encode_utf16() {
        requirements.extend_from_slice(&unit.to_le_bytes());
    }
    std::fs::write(dir.path().join("requirements.txt"), requirements)?;
    write(
        dir.path(),
        &[(
            "tests/test_six.py",
            "import six\n\n\ndef test_six():\n    assert six.PY3\n",
        )],
    )?;
    let (code, summary, _) = check(dir.path(), data.path())?;
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["tests"]["passed"], 1);
    // The second run reuses the environment: the requirements did not change.
    let (_, _, events) = check(dir.path(), data.path())?;
    assert!(events.iter().any(|event| event["data"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("Reusing"))));
    Ok(())
}

#[test]
fn a_project_in_a_subfolder_is_found() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            ("site/manage.py", "print(\"manage\")\n"),
            (
                "site/shop/settings.py",
                "import os\n\nDEBUG = os.getenv('DEBUG', '0')\n",
            ),
            ("site/Dockerfile", "FROM python:3.11\n"),
            ("site/tests/test_ok.py", PASSING_TEST),
        ],
    )?;
    let detection = project::detect(dir.path());
    assert_eq!(detection.app_root.as_deref(), Some("site"));
    assert_eq!(detection.dockerfiles, ["site/Dockerfile"]);
    assert_eq!(
        detection
            .env_vars
            .iter()
            .map(|need| need.name.as_str())
            .collect::<Vec<_>>(),
        ["DEBUG"]
    );
    let (code, summary, _) = check(dir.path(), data.path())?;
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["tests"]["passed"], 1);
    Ok(())
}

#[test]
fn tests_that_need_an_environment_variable_cannot_start_without_it() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            (".env.example", "SECRET_KEY=\nSHOP_NAME=Corner shop\n"),
            ("conftest.py", "import os\n\nSHOP = os.environ['SHOP_NAME']\n"),
            ("tests/test_ok.py", PASSING_TEST),
        ],
    )?;
    let detection = project::detect(dir.path());
    let mut settings = ProjectSettings::from_detection(&detection);
    // `.env.example`'s values are offered, never applied without the person.
    let offered = detection.env_vars.iter().find(|need| need.name == "SHOP_NAME");
    assert_eq!(offered.and_then(|need| need.example.as_deref()), Some("Corner shop"));
    assert!(settings.env.is_empty(), "{:?}", settings.env);
    project::save_settings(data.path(), dir.path(), &settings)?;
    let (code, summary, events) = check(dir.path(), data.path())?;
    assert_eq!(code, 2, "could not run, not failed: {summary}");
    assert_eq!(summary["outcome"], "error");
    let finished = events
        .iter()
        .find(|event| event["event"] == "finished" && event["data"]["check"] == "tests");
    assert_eq!(
        finished.map(|event| event["data"]["outcome"].clone()),
        Some("couldNotRun".into())
    );

    settings.env.insert("SHOP_NAME".into(), "Corner shop".into());
    project::save_settings(data.path(), dir.path(), &settings)?;
    let (code, summary, _) = check(dir.path(), data.path())?;
    assert_eq!(code, 0, "{summary}");
    Ok(())
}

#[test]
fn no_tests_and_failing_tests_are_told_apart() -> TestResult {
    let data = tempfile::tempdir()?;
    let empty = tempfile::tempdir()?;
    write(empty.path(), &[("app.py", "x = 1\n")])?;
    let (code, summary, _) = check(empty.path(), data.path())?;
    assert_eq!(code, 2, "{summary}");
    assert_eq!(summary["outcome"], "error");

    let failing = tempfile::tempdir()?;
    write(
        failing.path(),
        &[("tests/test_cart.py", "def test_total():\n    assert sum([1, 2]) == 4, 'cart total is wrong'\n\n\ndef test_ok():\n    assert True\n")],
    )?;
    let output = Command::new(slipway_binary())
        .args(["check", "--project"])
        .arg(failing.path())
        .env("SLIPWAY_DATA_DIR", data.path())
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Tests: 1 passed, 1 failed, 0 errors, 0 skipped (failed)"),
        "{text}"
    );
    assert!(
        text.contains("FAIL tests/test_cart.py::test_total: AssertionError: cart total is wrong"),
        "{text}"
    );
    Ok(())
}

#[test]
fn a_poetry_lock_is_installed_at_its_pinned_versions() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let pyproject = "[tool.poetry]\nname = \"corner-shop\"\nversion = \"0.1.0\"\ndescription = \"\"\nauthors = [\"Test <test@example.test>\"]\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = \"^3.9\"\nsix = \"1.16.0\"\npytest = \"*\"\n\n[build-system]\nrequires = [\"poetry-core\"]\nbuild-backend = \"poetry.core.masonry.api\"\n";
    // The lock pins every package; Slipway installs exactly these versions.
    let lock = "[[package]]\nname = \"six\"\nversion = \"1.16.0\"\n\n[[package]]\nname = \"pytest\"\nversion = \"8.3.3\"\n\n[[package]]\nname = \"iniconfig\"\nversion = \"2.0.0\"\n\n[[package]]\nname = \"packaging\"\nversion = \"24.1\"\n\n[[package]]\nname = \"pluggy\"\nversion = \"1.5.0\"\n\n[metadata]\nlock-version = \"2.0\"\npython-versions = \"^3.9\"\n";
    write(
        dir.path(),
        &[
            ("pyproject.toml", pyproject),
            ("poetry.lock", lock),
            (
                "tests/test_six.py",
                "import six\n\n\ndef test_six():\n    assert six.PY3\n",
            ),
        ],
    )?;
    assert_eq!(project::detect(dir.path()).python.installer, project::Installer::Poetry);
    let (code, summary, events) = check(dir.path(), data.path())?;
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["tests"]["passed"], 1);
    let installed = events.iter().any(|event| {
        event["data"]["line"]
            .as_str()
            // pip says "Successfully installed … pytest-8.3.3", uv " + pytest==8.3.3".
            .is_some_and(|line| {
                (line.contains("Successfully installed") && line.contains("pytest-8.3.3"))
                    || line.trim() == "+ pytest==8.3.3"
            })
    });
    assert!(installed, "the locked pytest version was installed");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_long_test_leaves_no_process_behind() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let marker = format!("slipway-long-test-{}", std::process::id());
    let test = format!(
        "import subprocess, time\n\n\ndef test_slow():\n    subprocess.Popen(['python3', '-c', 'import time; time.sleep(600)', '{marker}'])\n    time.sleep(600)\n"
    );
    write(
        dir.path(),
        &[("requirements.txt", "pytest\nflake8\n"), ("tests/test_slow.py", &test)],
    )?;
    let detection = project::detect(dir.path());
    let settings = ProjectSettings::from_detection(&detection);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let sink: EventSink = Arc::new(move |event: CheckEvent| {
        if let Ok(mut events) = record.lock() {
            events.push(event);
        }
    });
    let cancel = CancellationToken::new();
    let env = checks::prepare_env(dir.path(), &detection.python, &settings, data.path(), &cancel, &sink).await?;
    let trigger = cancel.clone();
    let marker_for_wait = marker.clone();
    tokio::spawn(async move {
        // Cancel once the grandchild is really running.
        for _ in 0..300 {
            let found = Command::new("pgrep").args(["-f", &marker_for_wait]).output();
            if found.is_ok_and(|output| !output.stdout.is_empty()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        trigger.cancel();
    });
    let report = checks::run_tests(dir.path(), &settings, &env, &cancel, &sink).await?;
    assert_eq!(report.outcome, CheckOutcome::Cancelled);
    let left = Command::new("pgrep").args(["-f", &marker]).output()?;
    assert!(
        left.stdout.is_empty(),
        "left behind: {}",
        String::from_utf8_lossy(&left.stdout)
    );
    Ok(())
}
