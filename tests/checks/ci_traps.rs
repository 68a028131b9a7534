//! One fixture per trap real projects' CI configurations set, each through the real
//! `slipway check` and a release plan, with the counts compared to what the CI's own command
//! gives when run directly in the same environment.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use slipway::project;

use super::{check, violations, write, PASSING_TEST};
use crate::support::{slipway_binary, TestResult};

/// The environment `slipway check` made for `root`, to run the CI's command directly in it.
fn venv_bin(data: &Path, root: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let root = std::fs::canonicalize(root)?;
    Ok(data.join("venvs").join(project::project_id(&root)).join("bin"))
}

/// Runs `command` through the shell in `root` with the environment's tools first on PATH.
pub(crate) fn direct(
    data: &Path,
    root: &Path,
    command: &str,
    env: &[(&str, &str)],
) -> Result<(i32, String), Box<dyn std::error::Error>> {
    let bin = venv_bin(data, root)?;
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let output = Command::new("sh")
        .args(["-c", command])
        .current_dir(root)
        .env("PATH", path)
        .envs(env.iter().copied())
        .output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((output.status.code().unwrap_or(-1), text))
}

/// `slipway release --dry-run --json`'s plan.
pub(crate) fn plan(root: &Path, data: &Path, engine: Option<&str>) -> Result<Value, Box<dyn std::error::Error>> {
    let mut command = Command::new(slipway_binary());
    command
        .args(["release", "--dry-run", "--json", "--target", "local", "--project"])
        .arg(root)
        .env("SLIPWAY_DATA_DIR", data);
    if let Some(engine) = engine {
        command.env("DOCKER_HOST", engine);
    }
    let output = command.output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let plan = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|value| value["kind"] == "plan")
        .ok_or_else(|| format!("no plan: {stdout}{}", String::from_utf8_lossy(&output.stderr)))?;
    Ok(plan)
}

pub(crate) fn step<'a>(plan: &'a Value, name: &str) -> Option<&'a Value> {
    plan["steps"].as_array()?.iter().find(|step| step["step"] == name)
}

fn notes(step: Option<&Value>) -> String {
    step.map(|step| step["notes"].to_string()).unwrap_or_default()
}

fn flake8_count(output: &str) -> usize {
    output
        .lines()
        .filter(|line| line.split(':').count() >= 4 && line.contains(": "))
        .count()
}

const WORKFLOW_HEAD: &str = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: pip install -r requirements.txt\n";

fn workflow(steps: &str) -> String {
    format!("{WORKFLOW_HEAD}{steps}")
}

#[test]
fn a_lint_line_that_cannot_fail_is_a_gate_and_a_usage_error_is_no_verdict() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            (
                ".github/workflows/ci.yml",
                &workflow("      - run: pytest\n      - run: flake8 --format html --htmldir report || true\n"),
            ),
            ("requirements.txt", "pytest\nflake8\n"),
            ("shop/views.py", "import os\nx=1\n"),
            ("tests/test_ok.py", PASSING_TEST),
        ],
    )?;
    let (code, summary, _) = check(dir.path(), data.path())?;
    let (_, direct_output) = direct(data.path(), dir.path(), "flake8", &[])?;
    assert_eq!(flake8_count(&direct_output), 2, "{direct_output}");
    assert_eq!(violations(&summary), 2, "{summary}");
    assert_eq!(summary["lint"]["outcome"], "failed");
    assert_eq!(code, 1);
    let plan = plan(dir.path(), data.path(), None)?;
    let lint = step(&plan, "lint");
    assert_eq!(
        lint.map(|lint| lint["ciLine"].clone()),
        Some("flake8 --format html --htmldir report || true".into())
    );
    let said = notes(lint);
    assert!(
        said.contains("Your CI lets lint fail (`|| true`)") && said.contains("--htmldir report"),
        "{said}"
    );

    // Had the option reached flake8, it refuses it: that is no verdict on the code.
    let mut settings = project::ProjectSettings::from_detection(&project::detect(dir.path()));
    settings.lint_command = "flake8 --htmldir report".into();
    project::save_settings(data.path(), dir.path(), &settings)?;
    let (code, summary, _) = check(dir.path(), data.path())?;
    assert_eq!(summary["lint"]["outcome"], "couldNotRun", "{summary}");
    assert!(
        summary["lint"]["violations"].is_null(),
        "no count when lint could not run: {summary}"
    );
    assert!(
        summary["lint"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("unrecognized arguments"),
        "{summary}"
    );
    assert_eq!(code, 2);
    Ok(())
}

#[test]
fn test_and_lint_steps_meant_for_a_container_run_their_inner_command() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let steps = "      - run: docker build -t app .\n      - run: docker run --rm -e GREETING=hello app pytest -q\n      - run: docker exec -it app flake8 shop\n";
    write(
        dir.path(),
        &[
            (".github/workflows/ci.yml", &workflow(steps)),
            ("requirements.txt", "pytest\nflake8\n"),
            ("Dockerfile", "FROM python:3.11-slim\n"),
            ("shop/views.py", "x=1\n"),
            (
                "tests/test_env.py",
                "import os\n\n\ndef test_greeting():\n    assert os.environ['GREETING'] == 'hello'\n",
            ),
        ],
    )?;
    let detection = project::detect(dir.path());
    assert_eq!(detection.test_command.value, "pytest -q");
    assert_eq!(detection.lint_command.value, "flake8 shop");
    let (code, summary, _) = check(dir.path(), data.path())?;
    let (direct_code, direct_output) = direct(data.path(), dir.path(), "pytest -q", &[("GREETING", "hello")])?;
    assert_eq!(direct_code, 0, "{direct_output}");
    assert_eq!(
        summary["tests"]["passed"], 1,
        "the -e value reached the tests: {summary}"
    );
    let (_, lint_output) = direct(data.path(), dir.path(), "flake8 shop", &[])?;
    assert_eq!(violations(&summary), flake8_count(&lint_output) as u64, "{summary}");
    assert_eq!(code, 1);
    let plan = plan(dir.path(), data.path(), None)?;
    assert!(notes(step(&plan, "tests")).contains("inside a container"), "{plan}");
    Ok(())
}

/// `docker exec app …` works in the image's WORKDIR, which `COPY project/ /app/` fills from
/// the repository's `project/`: its requirements, its setup.cfg (lines up to 120) and its
/// tests' imports hold there, not at the top.
#[test]
fn checks_the_ci_runs_in_its_image_run_in_the_folder_the_image_works_in() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let ci = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: docker build -t app .\n      - run: docker run -d --name app app sleep infinity\n      - run: docker exec app python -m pytest .\n      - run: docker exec app flake8 .\n";
    let long_line = format!("GREETING = '{}'\n", "x".repeat(87));
    assert_eq!(long_line.trim_end().len(), 100);
    let views = format!("import os\n\n{long_line}\n\ndef shout(text):\n    return text.upper()\n");
    let tests = "import six\n\nfrom shop.views import GREETING, shout\n\n\ndef test_shout():\n    assert shout('hi') == 'HI'\n\n\ndef test_greeting_is_text():\n    assert isinstance(GREETING, six.string_types)\n";
    write(
        dir.path(),
        &[
            (".github/workflows/ci.yml", ci),
            ("Dockerfile", "FROM python:3.12-slim\nWORKDIR /app\nCOPY project/requirements.txt .\nRUN pip install -r requirements.txt\nCOPY project/ /app/\n"),
            ("project/requirements.txt", "pytest\nflake8\nsix\n"),
            ("project/setup.cfg", "[flake8]\nmax-line-length = 120\n"),
            ("project/shop/__init__.py", ""),
            ("project/shop/views.py", &views),
            ("project/tests/test_views.py", tests),
        ],
    )?;
    let detection = project::detect(dir.path());
    assert_eq!(detection.test_command.value, "cd project && python -m pytest .");
    assert_eq!(detection.lint_command.value, "cd project && flake8 .");
    assert_eq!(detection.python.install_from, ["project/requirements.txt"]);
    assert_eq!(detection.python.install_source, "what your CI's image installs");
    let (code, summary, _) = check(dir.path(), data.path())?;
    // The CI's own commands, run where its container runs them.
    let (test_code, test_output) = direct(data.path(), dir.path(), "cd project && python -m pytest .", &[])?;
    assert_eq!(test_code, 0, "{test_output}");
    assert!(test_output.contains("2 passed"), "{test_output}");
    assert_eq!(summary["tests"]["passed"], 2, "{summary}");
    assert_eq!(summary["tests"]["outcome"], "passed", "{summary}");
    let (_, lint_output) = direct(data.path(), dir.path(), "cd project && flake8 .", &[])?;
    assert_eq!(flake8_count(&lint_output), 1, "only the unused import: {lint_output}");
    assert_eq!(violations(&summary), 1, "no E501 under setup.cfg's 120: {summary}");
    assert!(!summary.to_string().contains("E501"), "{summary}");
    assert_eq!(code, 1, "{summary}");
    let plan = plan(dir.path(), data.path(), None)?;
    for name in ["tests", "lint"] {
        let said = notes(step(&plan, name));
        assert!(
            said.contains(
                "Runs in project/, where your CI's container runs it: Dockerfile copies project/ to its WORKDIR /app."
            ),
            "{name}: {said}"
        );
    }
    Ok(())
}

#[test]
fn justfile_and_makefile_recipes_give_the_real_commands() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let long_line = format!("GREETING = '{}'\n", "x".repeat(90));
    write(
        dir.path(),
        &[
            (
                ".github/workflows/ci.yml",
                &workflow("      - run: just lint\n      - run: make test\n"),
            ),
            ("requirements.txt", "pytest\nruff\n"),
            ("Justfile", "lint:\n    uv run ruff check .\n"),
            ("Makefile", ".PHONY: test\ntest:\n\tpython -m pytest -q\n"),
            ("pyproject.toml", "[tool.ruff]\nline-length = 100\n"),
            ("shop/views.py", &long_line),
            ("tests/test_ok.py", PASSING_TEST),
        ],
    )?;
    let detection = project::detect(dir.path());
    assert_eq!(
        detection.lint_tool.value,
        project::LintTool::Ruff,
        "never flake8 on a ruff project"
    );
    assert_eq!(detection.lint_command.value, "ruff check .");
    assert_eq!(detection.test_command.value, "python -m pytest -q");
    let (code, summary, _) = check(dir.path(), data.path())?;
    let (ruff_code, ruff_output) = direct(data.path(), dir.path(), "ruff check .", &[])?;
    assert_eq!(ruff_code, 0, "{ruff_output}");
    assert_eq!(summary["lint"]["tool"], "ruff");
    assert_eq!(violations(&summary), 0, "{summary}");
    assert_eq!(summary["tests"]["passed"], 1);
    assert_eq!(code, 0, "{summary}");
    Ok(())
}

#[test]
fn a_tox_environment_is_read_for_its_commands() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            (".github/workflows/ci.yml", &workflow("      - run: tox -e py,lint\n")),
            ("requirements.txt", "pytest\nflake8\n"),
            ("tox.ini", "[tox]\nenvlist = py\n\n[testenv]\ncommands = pytest {posargs:-q}\n\n[testenv:lint]\ncommands =\n    flake8 shop\n"),
            ("shop/views.py", "import os\n"),
            ("scripts/untidy.py", "import sys\nx=1\n"),
            ("tests/test_ok.py", PASSING_TEST),
        ],
    )?;
    let (_, summary, _) = check(dir.path(), data.path())?;
    let (_, lint_output) = direct(data.path(), dir.path(), "flake8 shop", &[])?;
    assert_eq!(violations(&summary), flake8_count(&lint_output) as u64, "{summary}");
    assert_eq!(violations(&summary), 1, "only the folder the recipe names: {summary}");
    assert_eq!(summary["tests"]["passed"], 1);
    Ok(())
}

/// A module half covered by its tests; the threshold decides.
fn coverage_project(dir: &Path, threshold: u32) -> std::io::Result<()> {
    let steps = format!("      - run: coverage run -m pytest\n      - run: coverage report --fail-under={threshold}\n");
    write(
        dir,
        &[
            (".github/workflows/ci.yml", &workflow(&steps)),
            ("requirements.txt", "pytest\ncoverage\nflake8\n"),
            ("shop/__init__.py", ""),
            ("shop/prices.py", "def total(items):\n    return sum(items)\n\n\ndef discount(price):\n    if price > 100:\n        return price * 0.9\n    return price\n"),
            ("tests/test_prices.py", "from shop.prices import total\n\n\ndef test_total():\n    assert total([1, 2]) == 3\n"),
        ],
    )
}

#[test]
fn a_coverage_threshold_is_a_gate_both_ways() -> TestResult {
    let data = tempfile::tempdir()?;
    let strict = tempfile::tempdir()?;
    coverage_project(strict.path(), 95)?;
    let (code, summary, _) = check(strict.path(), data.path())?;
    let gate = &summary["gates"][0];
    assert_eq!(gate["kind"], "coverage", "{summary}");
    assert_eq!(gate["outcome"], "failed", "{summary}");
    // Slipway keeps coverage's data in its own folder: the direct run reads it from there.
    let data_file = venv_bin(data.path(), strict.path())?
        .join("../../../scratch")
        .join(project::project_id(&std::fs::canonicalize(strict.path())?))
        .join(".coverage");
    let data_file = data_file.display().to_string();
    let (_, report) = direct(
        data.path(),
        strict.path(),
        "coverage report",
        &[("COVERAGE_FILE", &data_file)],
    )?;
    let total = report
        .lines()
        .find(|line| line.starts_with("TOTAL"))
        .and_then(|line| line.split_whitespace().last())
        .map(|percent| percent.trim_end_matches('%').to_owned())
        .ok_or(format!("no TOTAL in {report}"))?;
    assert_eq!(
        gate["message"].as_str(),
        Some(format!("coverage {total} % is below the 95 % your project requires").as_str()),
        "{summary}"
    );
    assert_eq!(code, 1);

    let lenient = tempfile::tempdir()?;
    coverage_project(lenient.path(), 10)?;
    let (code, summary, _) = check(lenient.path(), data.path())?;
    assert_eq!(summary["gates"][0]["outcome"], "passed", "{summary}");
    assert_eq!(code, 0, "{summary}");
    let plan = plan(lenient.path(), data.path(), None)?;
    assert_eq!(plan["gates"][0]["ciLine"], "coverage report --fail-under=10", "{plan}");
    assert!(step(&plan, "checks").is_some(), "{plan}");
    Ok(())
}

#[test]
fn a_formatter_check_lists_the_files_it_would_change() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            (
                ".github/workflows/ci.yml",
                &workflow("      - run: pytest\n      - run: black --check .\n"),
            ),
            ("requirements.txt", "pytest\nflake8\n"),
            ("shop/views.py", "x = {  'a':1 }\n"),
            ("shop/ok.py", "y = 1\n"),
            ("tests/test_ok.py", PASSING_TEST),
        ],
    )?;
    let (code, summary, _) = check(dir.path(), data.path())?;
    let (black_code, black_output) = direct(data.path(), dir.path(), "black --check .", &[])?;
    assert_eq!(black_code, 1, "{black_output}");
    let would = black_output
        .lines()
        .filter(|line| line.starts_with("would reformat"))
        .count();
    let gate = &summary["gates"][0];
    assert_eq!(gate["outcome"], "failed", "{summary}");
    assert_eq!(gate["findings"].as_array().map(Vec::len), Some(would), "{summary}");
    assert_eq!(gate["message"], "1 file needs formatting (black)");
    assert_eq!(code, 1);
    let before = std::fs::read_to_string(dir.path().join("shop/views.py"))?;
    assert_eq!(before, "x = {  'a':1 }\n", "Slipway never formats the project");
    Ok(())
}

#[test]
fn the_ci_environment_is_read_as_the_ci_means_it() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let ci = "on: push\nenv:\n  DJANGO_SECRET_KEY: dummy_secret\njobs:\n  test:\n    runs-on: ubuntu-latest\n    env:\n      DJANGO_DEBUG: ${{ vars.DJANGO_DEBUG }}\n      SENTRY_DSN: ${{ secrets.SENTRY_DSN }}\n    steps:\n      - run: pip install -r requirements.txt\n      - run: pytest\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n      RENDER_KEY: from-the-deploy-job\n    steps:\n      - run: curl -X POST \"$RENDER_HOOK\"\n";
    let test = "import os\n\n\ndef test_the_ci_environment():\n    assert os.environ['DJANGO_SECRET_KEY'] == 'dummy_secret'\n    assert 'RENDER_KEY' not in os.environ\n    assert 'DEBUG' not in os.environ\n    assert '${{' not in os.environ.get('DJANGO_DEBUG', '')\n";
    write(
        dir.path(),
        &[
            (".github/workflows/ci.yml", ci),
            (".env.example", "DEBUG=True\n"),
            ("requirements.txt", "pytest\nflake8\n"),
            ("manage.py", ""),
            ("shop/settings.py", "import os\n\nDEBUG = os.environ.get('DJANGO_DEBUG', '0') == '1'\nSENTRY_DSN = os.environ.get('SENTRY_DSN', '')\n"),
            ("tests/test_env.py", test),
        ],
    )?;
    let (code, summary, _) = check(dir.path(), data.path())?;
    assert_eq!(summary["tests"]["passed"], 1, "{summary}");
    assert_eq!(code, 0, "{summary}");
    let plan = plan(dir.path(), data.path(), None)?;
    let needed: Vec<&str> = plan["needs"]
        .as_array()
        .map(|needs| needs.iter().filter_map(|need| need["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(needed, ["DJANGO_DEBUG", "SENTRY_DSN"], "{plan}");
    let skipped = plan["ciSkipped"].to_string();
    assert!(skipped.contains("curl -X POST"), "{plan}");
    Ok(())
}

#[test]
fn the_values_the_settings_cannot_do_without_are_named() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let settings = "import os\n\nSECRET_KEY = os.environ.get('SECRET_KEY')\nALLOWED_HOSTS = os.environ.get('DJANGO_ALLOWED_HOSTS').split(' ')\nSENTRY_DSN = os.environ.get('SENTRY_DSN', '')\n";
    write(
        dir.path(),
        &[
            ("requirements.txt", "pytest\nflake8\n"),
            ("manage.py", ""),
            ("shop/__init__.py", ""),
            ("shop/settings.py", settings),
            ("conftest.py", "import shop.settings  # noqa: F401\n"),
            ("tests/test_ok.py", PASSING_TEST),
        ],
    )?;
    let (code, summary, _) = check(dir.path(), data.path())?;
    assert_eq!(code, 2, "{summary}");
    let message = summary["tests"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("The tests need DJANGO_ALLOWED_HOSTS and SECRET_KEY: set them in the project's settings."),
        "{message}"
    );
    let plan = plan(dir.path(), data.path(), Some("unix:///nonexistent/docker.sock"))?;
    let needed: Vec<&str> = plan["needs"]
        .as_array()
        .map(|needs| needs.iter().filter_map(|need| need["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        needed,
        ["DJANGO_ALLOWED_HOSTS", "SECRET_KEY"],
        "SENTRY_DSN has a default: {plan}"
    );
    // No Dockerfile: no build step above the blocker; no engine: a blocker that says so.
    assert!(step(&plan, "build").is_none(), "{plan}");
    let kinds: Vec<&str> = plan["blockers"]
        .as_array()
        .map(|blockers| blockers.iter().filter_map(|blocker| blocker["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(kinds.contains(&"dockerUnavailable"), "{plan}");
    Ok(())
}

/// ruff's violations read like flake8's: its JSON never reaches the output the person reads,
/// and a rule the plain-words table does not know is explained in ruff's own words, with
/// ruff's page for it.
#[test]
fn ruff_rules_are_explained_in_words_and_its_json_stays_out_of_the_output() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            (".github/workflows/ci.yml", &workflow("      - run: ruff check .\n      - run: pytest\n")),
            ("requirements.txt", "pytest\nruff\n"),
            ("pyproject.toml", "[tool.ruff.lint]\nselect = [\"F\", \"SIM\"]\n"),
            (
                "shop/rules.py",
                "import os\n\n\ndef is_open(hour):\n    if hour > 9:\n        return True\n    else:\n        return False\n",
            ),
            ("tests/test_ok.py", PASSING_TEST),
        ],
    )?;
    let (code, summary, lines) = check(dir.path(), data.path())?;
    assert_eq!(code, 1, "{summary}");
    let found = summary["lint"]["found"].as_array().ok_or("the violations are listed")?;
    let unused = found
        .iter()
        .find(|violation| violation["code"] == "F401")
        .ok_or(format!("F401 in {summary}"))?;
    assert_eq!(
        unused["explanation"],
        "A module is imported but never used: remove the import."
    );
    assert!(
        unused["helpUrl"]
            .as_str()
            .is_some_and(|url| url.starts_with("https://")),
        "ruff's own page: {unused}"
    );
    let simplify = found
        .iter()
        .find(|violation| violation["code"].as_str().is_some_and(|code| code.starts_with("SIM")))
        .ok_or(format!("a SIM rule in {summary}"))?;
    let words = simplify["explanation"]
        .as_str()
        .ok_or(format!("ruff explained it: {simplify}"))?;
    assert!(words.len() > 20 && !words.contains("##"), "{words}");
    let output: Vec<&str> = lines
        .iter()
        .filter(|line| line["event"] == "output" && line["data"]["check"] == "lint")
        .filter_map(|line| line["data"]["line"].as_str())
        .collect();
    assert!(
        output
            .iter()
            .any(|line| line.starts_with("shop/rules.py:1:") && line.contains("F401")),
        "{output:?}"
    );
    assert!(
        !output
            .iter()
            .any(|line| line.contains("\"code\"") || line.trim() == "["),
        "no JSON in the output: {output:?}"
    );
    Ok(())
}

/// The self-documenting Makefile (`test: ## Run the tests`): the help text is no prerequisite,
/// the recipes are read and run, and they give what the CI's own `make` targets give.
#[test]
fn a_makefile_with_help_comments_is_read_for_its_recipes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            (
                ".github/workflows/ci.yml",
                &workflow("      - run: make test\n      - run: make lint\n"),
            ),
            ("requirements.txt", "pytest\nflake8\n"),
            (
                "Makefile",
                ".PHONY: help install test lint\nhelp: ## Show this help\n\t@grep -E '^[a-z]+:.*## ' Makefile\n\ninstall: requirements.txt ## Install the tools\n\tpip install -r requirements.txt\n\ntest: ## Run the tests\n\tpython -m pytest -q tests\n\nlint: install ## Lint the shop\n\tflake8 shop\n",
            ),
            ("shop/views.py", "import os\nx=1\n"),
            ("tests/test_ok.py", PASSING_TEST),
        ],
    )?;
    let detection = project::detect(dir.path());
    assert_eq!(detection.test_command.value, "python -m pytest -q tests");
    assert_eq!(detection.lint_command.value, "flake8 shop");
    let (code, summary, _) = check(dir.path(), data.path())?;
    // The CI's own targets, run directly (make's recipes, without the install step).
    let (test_code, test_output) = direct(data.path(), dir.path(), "python -m pytest -q tests", &[])?;
    assert_eq!(test_code, 0, "{test_output}");
    assert_eq!(summary["tests"]["passed"], 1, "{summary}");
    let (_, lint_output) = direct(data.path(), dir.path(), "flake8 shop", &[])?;
    assert_eq!(flake8_count(&lint_output), 2, "{lint_output}");
    assert_eq!(violations(&summary), 2, "{summary}");
    assert_eq!(code, 1);
    let plan = plan(dir.path(), data.path(), None)?;
    assert!(notes(step(&plan, "tests")).contains("Makefile (recipe test)"), "{plan}");
    Ok(())
}

/// `make lint-check` runs ruff and mypy: lint is ruff (not flake8, although setup.cfg has a
/// `[flake8]` section) and mypy is a type gate, each giving what it gives run directly.
#[test]
fn a_make_target_running_ruff_and_mypy_is_two_gates() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            (
                ".github/workflows/ci.yml",
                &workflow("      - run: make lint-check\n      - run: pytest\n"),
            ),
            ("requirements.txt", "pytest\nruff\nmypy\n"),
            (
                "Makefile",
                "lint-check: ## Lint and type-check\n\truff check shop\n\tmypy shop\n",
            ),
            ("setup.cfg", "[flake8]\nmax-line-length = 120\n"),
            (
                "shop/prices.py",
                "import os\n\n\ndef total(items: list[int]) -> int:\n    return 'none'\n",
            ),
            ("tests/test_ok.py", PASSING_TEST),
        ],
    )?;
    let detection = project::detect(dir.path());
    assert_eq!(detection.lint_tool.value, project::LintTool::Ruff);
    assert_eq!(detection.lint_command.value, "ruff check shop");
    let (code, summary, _) = check(dir.path(), data.path())?;
    assert_eq!(summary["lint"]["tool"], "ruff", "{summary}");
    // ruff's and mypy's caches are kept out of the project, as pytest's are.
    for cache in [".ruff_cache", ".mypy_cache"] {
        assert!(!dir.path().join(cache).exists(), "{cache} left in the project");
    }
    let (ruff_code, ruff_output) = direct(data.path(), dir.path(), "ruff check shop", &[])?;
    assert_eq!(ruff_code, 1, "{ruff_output}");
    assert_eq!(violations(&summary), 1, "F401, as ruff says run directly: {summary}");
    let (mypy_code, mypy_output) = direct(data.path(), dir.path(), "mypy shop", &[])?;
    assert_eq!(mypy_code, 1, "{mypy_output}");
    let mypy = summary["gates"]
        .as_array()
        .and_then(|gates| gates.iter().find(|gate| gate["kind"] == "types"))
        .ok_or(format!("a type gate: {summary}"))?;
    assert_eq!(mypy["outcome"], "failed", "{summary}");
    assert_eq!(code, 1);
    Ok(())
}

/// Compose builds `src/` with build arguments: the plan builds the Dockerfile Compose names,
/// from `src/`, shows the literal argument, and names the secret one nobody gave yet as a
/// blocker in a sentence; once given (in the keyring) the blocker is gone.
#[test]
fn a_compose_given_context_and_build_arguments_are_planned() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            (
                ".github/workflows/ci.yml",
                &workflow("      - run: pytest\n      - run: docker compose build web\n"),
            ),
            ("requirements.txt", "pytest\n"),
            ("Dockerfile", "FROM scratch\nCOPY app.txt /app.txt\n"),
            ("src/Dockerfile", "FROM scratch\nCOPY app.txt /app.txt\nARG APP_VERSION\n"),
            ("src/app.txt", "app\n"),
            (
                "docker-compose.yml",
                "services:\n  web:\n    build:\n      context: src\n      args:\n        APP_VERSION: \"2.7.1\"\n        SENTRY_AUTH_TOKEN: ${SENTRY_AUTH_TOKEN}\n    ports: [\"8000:8000\"]\n",
            ),
            ("tests/test_ok.py", PASSING_TEST),
        ],
    )?;
    let planned = plan(dir.path(), data.path(), None)?;
    let build = step(&planned, "build").ok_or(format!("a build step: {planned}"))?;
    assert!(
        build["detail"]
            .as_str()
            .unwrap_or_default()
            .starts_with("src/Dockerfile (context src)"),
        "{build}"
    );
    let said = notes(Some(build));
    assert!(
        said.contains("the one docker-compose.yml (service web) builds"),
        "{said}"
    );
    assert!(
        said.contains("Build arguments from docker-compose.yml (service web): APP_VERSION=2.7.1, SENTRY_AUTH_TOKEN not given yet."),
        "{said}"
    );
    let blockers = planned["blockers"].to_string();
    assert!(
        blockers.contains("The image build needs SENTRY_AUTH_TOKEN, which docker-compose.yml (service web) passes to it: give it in the project's values"),
        "{blockers}"
    );
    project::set_value(data.path(), dir.path(), "SENTRY_AUTH_TOKEN", "sntrys_given_here", true)?;
    let planned = plan(dir.path(), data.path(), None)?;
    assert!(
        !planned["blockers"].to_string().contains("SENTRY_AUTH_TOKEN"),
        "{planned}"
    );
    assert!(
        notes(step(&planned, "build")).contains("SENTRY_AUTH_TOKEN from the keyring"),
        "{planned}"
    );
    assert!(!planned.to_string().contains("sntrys_given_here"), "{planned}");
    Ok(())
}

/// A workflow whose lint is `chartboost/ruff-action` (with a `.flake8` left beside it) and
/// whose tests are a unittest script (`python src/backend/app_tests.py`): lint is ruff, as the
/// action runs it, and the script is the tests, each giving what it gives run directly.
#[test]
fn a_ruff_action_and_a_unittest_script_are_the_lint_and_the_tests() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            (
                ".github/workflows/ci.yml",
                "on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: chartboost/ruff-action@v1\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: pip install -r requirements.txt\n      - run: python src/backend/app_tests.py\n",
            ),
            ("requirements.txt", "\n"),
            (".flake8", "[flake8]\nmax-line-length = 79\n"),
            (
                "src/backend/app.py",
                "import os\n\n\ndef greet(name):\n    return 'Hello, ' + name + '! This line is longer than flake8 would allow here.'\n",
            ),
            (
                "src/backend/app_tests.py",
                "import unittest\n\nfrom app import greet\n\n\nclass GreetTests(unittest.TestCase):\n    def test_greets(self):\n        self.assertTrue(greet('Ann').startswith('Hello, Ann'))\n\n    def test_shouts(self):\n        self.assertEqual(greet('Ann'), 'HELLO')\n\n\nif __name__ == '__main__':\n    unittest.main()\n",
            ),
        ],
    )?;
    let detection = project::detect(dir.path());
    assert_eq!(detection.lint_tool.value, project::LintTool::Ruff);
    assert_eq!(detection.lint_command.value, "ruff check .");
    assert_eq!(detection.test_command.value, "python src/backend/app_tests.py");
    let (code, summary, _) = check(dir.path(), data.path())?;
    assert_eq!(code, 1, "{summary}");
    let (ruff_code, ruff_output) = direct(data.path(), dir.path(), "ruff check .", &[])?;
    assert_eq!(ruff_code, 1, "{ruff_output}");
    assert_eq!(violations(&summary), 1, "F401 only, as ruff says (no E501): {summary}");
    let (test_code, test_output) = direct(data.path(), dir.path(), "python src/backend/app_tests.py", &[])?;
    assert_eq!(test_code, 1, "{test_output}");
    assert!(test_output.contains("FAILED (failures=1)"), "{test_output}");
    assert_eq!(summary["tests"]["passed"], 1, "{summary}");
    assert_eq!(summary["tests"]["failed"], 1, "{summary}");
    Ok(())
}
