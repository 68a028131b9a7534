//! The environment as projects declare it, one fixture per trap: requirements beside a
//! subfolder app, a Dockerfile the CI builds, dependency groups and uv's lock, Poetry run
//! through its CI line, a Python the machine lacks, tests that write into the tree.

use std::path::Path;
use std::process::Command;

use slipway::project;

use super::ci_traps::{direct, plan, step};
use super::{check, write, PASSING_TEST};
use crate::support::TestResult;

fn git_status(root: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let output = Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(root)
        .output()?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn commit_all(root: &Path) -> TestResult {
    crate::support::git(root, &["init", "-q", "-b", "main"])?;
    crate::support::git(root, &["add", "-A"])?;
    crate::support::git(root, &["commit", "-q", "-m", "fixture"])
}

#[test]
fn a_subfolder_app_gets_its_own_requirements_and_dockerfile() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            ("nginx/Dockerfile", "FROM nginx\n"),
            ("app/Dockerfile", "FROM python:3.11-slim\nCOPY . .\n"),
            ("app/manage.py", ""),
            ("app/requirements.txt", "pytest\nflake8\nsix==1.16.0\n"),
            (
                "app/tests/test_six.py",
                "import six\n\n\ndef test_six():\n    assert six.__version__ == '1.16.0'\n",
            ),
        ],
    )?;
    let detection = project::detect(dir.path());
    assert_eq!(detection.python.install_from, ["app/requirements.txt"]);
    assert_eq!(
        detection.dockerfile.as_ref().map(|d| d.value.as_str()),
        Some("app/Dockerfile")
    );
    assert_eq!(detection.build_context.value, "app");
    let (code, summary, _) = check(dir.path(), data.path())?;
    assert_eq!(
        summary["tests"]["passed"], 1,
        "the app's requirements were installed: {summary}"
    );
    assert_eq!(code, 0, "{summary}");
    let plan = plan(dir.path(), data.path(), None)?;
    let build = step(&plan, "build")
        .map(|step| step["detail"].to_string())
        .unwrap_or_default();
    assert!(build.contains("app/Dockerfile (context app)"), "{plan}");
    Ok(())
}

#[test]
fn the_dockerfile_the_ci_builds_is_the_one_built() -> TestResult {
    let dir = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            (
                ".github/workflows/ci.yml",
                "jobs:\n  image:\n    steps:\n      - run: docker build -f site/Dockerfile.prod -t shop site\n",
            ),
            ("Dockerfile", "FROM python:3.11-slim\n"),
            ("site/Dockerfile.prod", "FROM python:3.11-slim\n"),
        ],
    )?;
    let detection = project::detect(dir.path());
    let chosen = detection.dockerfile.ok_or("a Dockerfile is chosen")?;
    assert_eq!(chosen.value, "site/Dockerfile.prod");
    assert!(chosen.source.contains("your CI builds"), "{}", chosen.source);
    assert_eq!(detection.build_context.value, "site");
    let settings = project::ProjectSettings::from_detection(&project::detect(dir.path()));
    let (context, dockerfile) = settings.build_paths(dir.path())?;
    assert_eq!(
        (context, dockerfile.as_str()),
        (dir.path().join("site"), "Dockerfile.prod")
    );
    Ok(())
}

#[test]
fn dependency_groups_and_uv_lock_are_installed_without_touching_the_project() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let pyproject = "[project]\nname = \"shop\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\ndependencies = [\"six\"]\n\n[dependency-groups]\ndev = [\"pytest\", \"flake8\"]\n";
    let lock = "version = 1\nrequires-python = \">=3.9\"\n\n[[package]]\nname = \"shop\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\ndependencies = [{ name = \"six\" }]\n\n[package.dev-dependencies]\ndev = [{ name = \"pytest\" }, { name = \"flake8\" }]\n\n[[package]]\nname = \"six\"\nversion = \"1.16.0\"\nsource = { registry = \"https://example.invalid/simple\" }\n\n[[package]]\nname = \"pytest\"\nversion = \"8.3.3\"\nsource = { registry = \"https://example.invalid/simple\" }\n\n[[package]]\nname = \"flake8\"\nversion = \"7.1.1\"\nsource = { registry = \"https://example.invalid/simple\" }\n";
    write(
        dir.path(),
        &[
            (
                ".github/workflows/ci.yml",
                "jobs:\n  test:\n    steps:\n      - run: uv sync --group dev\n      - run: uv run pytest -q\n",
            ),
            ("pyproject.toml", pyproject),
            ("uv.lock", lock),
            ("src/shop/__init__.py", "import six\n\nVERSION = six.__version__\n"),
            (
                "tests/test_shop.py",
                "import shop\n\n\ndef test_locked_six():\n    assert shop.VERSION == '1.16.0'\n",
            ),
        ],
    )?;
    commit_all(dir.path())?;
    let detection = project::detect(dir.path());
    assert_eq!(detection.python.installer, project::Installer::UvLock);
    assert_eq!(detection.test_command.value, "pytest -q");
    let (code, summary, _) = check(dir.path(), data.path())?;
    assert_eq!(summary["tests"]["passed"], 1, "{summary}");
    assert_eq!(code, 0, "{summary}");
    let (_, pytest_version) = direct(data.path(), dir.path(), "pytest --version", &[])?;
    assert!(pytest_version.contains("8.3.3"), "the locked pytest: {pytest_version}");
    assert_eq!(
        git_status(dir.path())?,
        "",
        "no egg-info, cache or coverage file in the project"
    );
    Ok(())
}

#[test]
fn a_poetry_ci_line_runs_without_poetry() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            (".circleci/config.yml", "jobs:\n  test:\n    steps:\n      - run: poetry install --with dev\n      - run: poetry run pytest -q\n      - run: poetry run flake8 shop\n"),
            ("pyproject.toml", "[tool.poetry]\nname = \"shop\"\n\n[tool.poetry.dependencies]\npython = \"^3.9\"\n\n[tool.poetry.group.dev.dependencies]\npytest = \"*\"\nflake8 = \"*\"\n"),
            ("shop/__init__.py", ""),
            ("tests/test_ok.py", PASSING_TEST),
        ],
    )?;
    let detection = project::detect(dir.path());
    assert_eq!(detection.test_command.value, "pytest -q");
    assert_eq!(detection.lint_command.value, "flake8 shop");
    let (code, summary, _) = check(dir.path(), data.path())?;
    assert_eq!(summary["tests"]["passed"], 1, "{summary}");
    assert_eq!(code, 0, "{summary}");
    Ok(())
}

#[test]
fn a_python_the_machine_lacks_is_named() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            (
                "pyproject.toml",
                "[project]\nname = \"shop\"\nversion = \"1\"\nrequires-python = \">=3.99\"\ndependencies = []\n",
            ),
            ("tests/test_ok.py", PASSING_TEST),
        ],
    )?;
    let output = Command::new(crate::support::slipway_binary())
        .args(["check", "--project"])
        .arg(dir.path())
        .env("SLIPWAY_DATA_DIR", data.path())
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("This project needs Python >=3.99 (pyproject.toml)"),
        "{stderr}"
    );
    assert!(stderr.contains("pyenv install 3.99"), "{stderr}");
    // The plan says so before anything runs.
    let plan = plan(dir.path(), data.path(), None)?;
    let blockers = plan["blockers"].to_string();
    assert!(blockers.contains("needs Python >=3.99"), "{plan}");
    Ok(())
}

#[test]
fn render_yaml_gives_the_health_path_and_the_python_is_named() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            (
                "render.yaml",
                "services:\n  - type: web\n    name: shop\n    runtime: docker\n    healthCheckPath: /healthz\n",
            ),
            ("Dockerfile", "FROM python:3.11-slim\n"),
            ("tests/test_ok.py", PASSING_TEST),
        ],
    )?;
    let plan = plan(dir.path(), data.path(), None)?;
    let verify = step(&plan, "verify").ok_or("a verify step")?;
    assert_eq!(verify["detail"], "wait for /healthz to answer", "{plan}");
    assert!(verify["notes"].to_string().contains("render.yaml"), "{plan}");
    assert!(
        plan["python"]
            .as_str()
            .is_some_and(|python| python.starts_with("Python 3.")),
        "{plan}"
    );

    std::fs::write(
        dir.path().join("render.yaml"),
        "services:\n  - type: web\n    name: shop\n    runtime: python\n",
    )?;
    let plan = super::ci_traps::plan(dir.path(), data.path(), None)?;
    let deploy = step(&plan, "deploy").ok_or("a deploy step")?;
    assert!(
        deploy["notes"]
            .to_string()
            .contains("an image cannot be deployed to it"),
        "{plan}"
    );
    Ok(())
}

#[test]
fn tests_that_write_into_the_tree_are_named_and_coverage_stays_out() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let writes = "from pathlib import Path\n\n\ndef test_writes_a_database():\n    Path('sqlite.db').write_text('x')\n";
    write(
        dir.path(),
        &[
            (".github/workflows/ci.yml", "jobs:\n  test:\n    steps:\n      - run: pip install -r requirements.txt\n      - run: coverage run -m pytest\n      - run: coverage report\n"),
            ("requirements.txt", "pytest\nflake8\ncoverage\n"),
            ("tests/test_writes.py", writes),
        ],
    )?;
    commit_all(dir.path())?;
    let (code, summary, _) = check(dir.path(), data.path())?;
    assert_eq!(code, 0, "{summary}");
    assert_eq!(
        summary["gates"][0]["outcome"], "passed",
        "coverage found its data: {summary}"
    );
    assert_eq!(summary["changedFiles"], serde_json::json!(["sqlite.db"]), "{summary}");
    assert!(
        !dir.path().join(".coverage").exists(),
        "coverage's data stays in Slipway's folder"
    );
    assert!(!dir.path().join(".pytest_cache").exists());
    Ok(())
}

/// The two settings readers the issue names: python-decouple's `config` (a Django settings
/// package with development and production modules) and a pydantic `BaseSettings` class, both
/// installed from the package index by the checks. The CI gives their values from its
/// secrets; only the production module reads the bucket. Before the values are given, the
/// tests cannot start, as the CI's command cannot, and the failure names exactly the two;
/// once given (a random key for the secret key), the tests pass, as the CI's command does
/// with the same values.
#[test]
fn values_read_through_decouple_and_pydantic_settings_are_named_then_given() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let ci = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    env:\n      DJANGO_SECRET_KEY: ${{ secrets.DJANGO_SECRET_KEY }}\n      APP_API_TOKEN: ${{ secrets.APP_API_TOKEN }}\n    steps:\n      - run: pip install -r requirements.txt\n      - run: pytest -q\n";
    let options = "from pydantic_settings import BaseSettings, SettingsConfigDict\n\n\nclass Options(BaseSettings):\n    model_config = SettingsConfigDict(env_prefix='APP_')\n\n    api_token: str\n    retries: int = 3\n";
    write(
        dir.path(),
        &[
            (".github/workflows/ci.yml", ci),
            ("requirements.txt", "pytest\nflake8\npython-decouple\npydantic-settings\n"),
            ("shop/__init__.py", ""),
            ("shop/settings/__init__.py", ""),
            (
                "shop/settings/base.py",
                "from decouple import config\n\nSECRET_KEY = config('DJANGO_SECRET_KEY')\nDEBUG = config('DEBUG', default=False, cast=bool)\n",
            ),
            ("shop/settings/dev.py", "from .base import *  # noqa: F401,F403\n"),
            (
                "shop/settings/production.py",
                "from decouple import config\n\nfrom .base import *  # noqa: F401,F403\n\nBUCKET = config('AWS_STORAGE_BUCKET')\n",
            ),
            ("shop/options.py", options),
            (
                "conftest.py",
                "from shop.options import Options\nfrom shop.settings import dev\n\nOPTIONS = Options()\nSECRET_KEY = dev.SECRET_KEY\n",
            ),
            (
                "tests/test_values.py",
                "import conftest\n\n\ndef test_values_arrive():\n    assert len(conftest.SECRET_KEY) >= 50\n    assert conftest.OPTIONS.api_token == 'token-for-tests'\n    assert conftest.OPTIONS.retries == 3\n",
            ),
        ],
    )?;
    let root = std::fs::canonicalize(dir.path())?;
    let plan_before = plan(&root, data.path(), Some("unix:///nonexistent/docker.sock"))?;
    let needed: Vec<&str> = plan_before["needs"]
        .as_array()
        .map(|needs| needs.iter().filter_map(|need| need["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        needed,
        ["APP_API_TOKEN", "DJANGO_SECRET_KEY"],
        "not the bucket only production reads, not the values with defaults: {plan_before}"
    );

    let (code, summary, _) = check(&root, data.path())?;
    assert_eq!(code, 2, "{summary}");
    let message = summary["tests"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(
            "The tests need APP_API_TOKEN and DJANGO_SECRET_KEY; your CI keeps them in its secret store: set them in the project's settings."
        ),
        "{message}"
    );
    let (direct_code, direct_output) = direct(data.path(), &root, "pytest -q", &[])?;
    assert_ne!(direct_code, 0, "the CI's command cannot start either: {direct_output}");
    assert!(direct_output.contains("DJANGO_SECRET_KEY"), "{direct_output}");

    // What the window's Fill with test values and Save send: a random key, and a typed token.
    project::give_values(
        data.path(),
        &root,
        &[
            project::GivenValue {
                name: "DJANGO_SECRET_KEY".to_owned(),
                secret: true,
                value: project::TestValue::RandomKey { length: 50 },
            },
            project::GivenValue {
                name: "APP_API_TOKEN".to_owned(),
                secret: true,
                value: project::TestValue::Text {
                    value: "token-for-tests".to_owned(),
                },
            },
        ],
    )?;
    let saved = project::current_settings(data.path(), &root)?;
    assert_eq!(saved.secret_env, ["DJANGO_SECRET_KEY", "APP_API_TOKEN"]);
    assert!(
        saved.env.is_empty(),
        "secrets stay out of the settings file: {:?}",
        saved.env
    );
    let result = check(&root, data.path());
    let forget = slipway::secrets::SecretStore::os(data.path());
    for name in ["DJANGO_SECRET_KEY", "APP_API_TOKEN"] {
        forget.delete_project_value(&project::project_id(&root), name)?;
    }
    let (code, summary, _) = result?;
    assert_eq!(summary["tests"]["passed"], 1, "{summary}");
    assert_eq!(code, 0, "{summary}");
    let key = "k".repeat(50);
    let (direct_code, direct_output) = direct(
        data.path(),
        &root,
        "pytest -q",
        &[("DJANGO_SECRET_KEY", &key), ("APP_API_TOKEN", "token-for-tests")],
    )?;
    assert_eq!(direct_code, 0, "{direct_output}");
    Ok(())
}

/// A CI that runs `pipenv run pytest` gets the committed `.env`'s values (pipenv loads it);
/// Slipway runs pytest itself, so it gives them to the tests, and does not ask for them.
#[test]
fn a_dotenv_the_ci_runner_loads_reaches_the_tests() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            (
                ".github/workflows/ci.yml",
                "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pip install -r requirements.txt\n      - run: pipenv run pytest -q\n",
            ),
            (".env", "SHOP_GREETING=\"hello from .env\"\nSHOP_SECRET_KEY='not-for-production'\n"),
            ("requirements.txt", "pytest\nflake8\n"),
            ("conftest.py", ""),
            ("shop/__init__.py", ""),
            (
                "shop/settings.py",
                "import os\n\nGREETING = os.environ['SHOP_GREETING']\nSECRET_KEY = os.environ['SHOP_SECRET_KEY']\n",
            ),
            (
                "tests/test_dotenv.py",
                "from shop import settings\n\n\ndef test_the_dotenv_arrives():\n    assert settings.GREETING == 'hello from .env'\n    assert settings.SECRET_KEY == 'not-for-production'\n",
            ),
        ],
    )?;
    let root = std::fs::canonicalize(dir.path())?;
    let detection = project::detect(&root);
    assert!(
        detection
            .env_vars
            .iter()
            .filter(|need| need.name.starts_with("SHOP_"))
            .all(|need| need.required && need.in_dotenv),
        "{:?}",
        detection.env_vars
    );
    let plan = plan(&root, data.path(), Some("unix:///nonexistent/docker.sock"))?;
    assert_eq!(plan["needs"], serde_json::json!([]), "{plan}");
    let (code, summary, lines) = check(&root, data.path())?;
    assert_eq!(summary["tests"]["passed"], 1, "{summary}");
    assert_eq!(code, 0, "{summary}");
    let everything = lines.iter().map(ToString::to_string).collect::<String>();
    assert!(
        !everything.contains("not-for-production"),
        "a secret-looking value is never echoed"
    );
    // What pipenv does before the CI's command: export the .env's lines.
    let (direct_code, direct_output) = direct(data.path(), &root, "set -a; . ./.env; set +a; pytest -q", &[])?;
    assert_eq!(direct_code, 0, "{direct_output}");
    Ok(())
}
