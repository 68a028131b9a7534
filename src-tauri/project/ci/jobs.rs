//! The jobs of one CI file, step by step. CircleCI's configuration and GitHub Actions'
//! workflows share their shape (`jobs:` of `steps:`, a step's `run:` script with its working
//! directory and environment), so one walk reads both; what only one of them says is read by
//! `github` (a step's `uses:`, a job's `services:`) and `circleci` (a job's `docker:` images).
//!
//! Each script is split into commands and each command filed (`commands`). Only a job that
//! checks something gives the checks its variables: a deploy job's values are for the deploy.

use std::borrow::Cow;
use std::path::Path;

use serde_norway::Value;

use super::commands::take;
use super::findings::CiFindings;
use super::tools::prepare;
use super::variables::collect_env;
use super::{circleci, github, services, shell};

/// A step's script with what the CI file says around it.
struct Script<'a> {
    text: Cow<'a, str>,
    working_directory: Option<&'a str>,
    /// Why a failure of this script does not fail the job, if it does not.
    lets_fail: Option<&'static str>,
    env: Option<&'a Value>,
}

/// Reads one CI file's jobs into `findings`.
pub(super) fn read_document(root: &Path, document: &Value, source: &str, findings: &mut CiFindings) {
    let Some(jobs) = document.get("jobs").and_then(Value::as_mapping) else {
        return;
    };
    let default_directory = working_directory(document.get("defaults"));
    let mut idle_installs = Vec::new();
    for (job_name, job) in jobs {
        let job_source = format!("{source} (job {})", job_name.as_str().unwrap_or("?"));
        let job_directory = working_directory(job.get("defaults")).or(default_directory);
        let mut scripts = Vec::new();
        for step in job.get("steps").and_then(Value::as_sequence).into_iter().flatten() {
            let run = step.get("run");
            let text = run
                .and_then(Value::as_str)
                .or_else(|| run.and_then(|run| run.get("command")).and_then(Value::as_str));
            if let Some(text) = text {
                scripts.push(Script {
                    text: Cow::Borrowed(text),
                    working_directory: step
                        .get("working-directory")
                        .or_else(|| run.and_then(|run| run.get("working_directory")))
                        .and_then(Value::as_str)
                        .or(job_directory),
                    lets_fail: continues_on_error(step),
                    env: step.get("env").or_else(|| step.get("environment")),
                });
            } else if let Some(action) = step.get("uses").and_then(Value::as_str) {
                github::action_step(job, step, action, &job_source, findings);
                if let Some(check) = github::action_command(step, action) {
                    let text = check.install.into_iter().chain([check.line]).collect::<Vec<_>>();
                    scripts.push(Script {
                        text: Cow::Owned(text.join("\n")),
                        // `defaults.run.working-directory` is for `run:` steps, not actions.
                        working_directory: step.get("working-directory").and_then(Value::as_str),
                        lets_fail: continues_on_error(step)
                            .or(check.lets_fail.then_some("only_warn: the action always passes")),
                        env: step.get("env"),
                    });
                }
            }
        }
        if findings.python_version.is_none() {
            findings.python_version = circleci::image_python(job, &job_source);
        }
        let job_services = services::of_job(job, &job_source);
        let mut checks_here = false;
        // What a job writes for the app (`echo X=1 >> .env`) is the tests' only when it checks.
        let values_before = findings.env.len();
        // So do the services its `docker compose up` lines start: a job that only starts the
        // stack to try it (`up -d --wait backend frontend`) gives the tests nothing.
        let services_before = findings.services.len();
        // And what it installs, when the checking jobs install for themselves: an upload job's
        // `uv sync --no-dev --group github-actions` is not how the tests' environment is made,
        // but a CircleCI job that installs for the next one (a workspace) is.
        let installs_before = findings.installs.len();
        for script in &scripts {
            let before = findings.checks_seen();
            let mut commands = shell::commands(&script.text);
            for command in &mut commands {
                if let Some(dir) = script
                    .working_directory
                    .filter(|dir| *dir != "." && command.cd.is_none())
                {
                    command.cd = Some(dir.to_owned());
                }
                if let (Some(reason), None) = (script.lets_fail, &command.lets_fail) {
                    command.lets_fail = Some(reason.to_owned());
                }
            }
            for command in commands {
                take(root, prepare(&command), &job_source, findings, 0);
            }
            if findings.checks_seen() > before {
                checks_here = true;
                collect_env(script.env, &job_source, &mut findings.env);
            }
        }
        if !checks_here {
            findings.env.truncate(values_before);
            findings.services.truncate(services_before);
            idle_installs.extend(findings.installs.drain(installs_before..));
        }
        if checks_here {
            collect_env(document.get("env"), source, &mut findings.env);
            collect_env(job.get("environment"), &job_source, &mut findings.env);
            collect_env(job.get("env"), &job_source, &mut findings.env);
            for environment in circleci::image_environments(job).take(1) {
                collect_env(environment, &job_source, &mut findings.env);
            }
            services::add(job_services, findings);
        }
    }
    if findings.installs.is_empty() {
        findings.installs = idle_installs;
    }
}

fn continues_on_error(step: &Value) -> Option<&'static str> {
    (step.get("continue-on-error").and_then(Value::as_bool) == Some(true)).then_some("continue-on-error: true")
}

fn working_directory(defaults: Option<&Value>) -> Option<&str> {
    defaults?.get("run")?.get("working-directory")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::ci::findings::Install;
    use crate::project::gate_spec::LintTool;

    const CIRCLE: &str = r#"
version: 2.1
jobs:
  build-and-test:
    docker:
      - image: cimg/python:3.9
        environment:
          DJANGO_SETTINGS_MODULE: oc_lettings_site.settings
    environment:
      SENTRY_DSN: ""
    steps:
      - checkout
      - run:
          name: Install
          command: |
            pip install -r requirements.txt
            pip install flake8==3.7.0
      - run:
          name: Test
          command: pytest --nomigrations --disable-warnings
      - run: flake8
  deploy:
    environment:
      RENDER_HOOK: https://example.invalid/hook
    steps:
      - run: docker push me/app:latest
      - run: curl -X POST "$RENDER_HOOK"
"#;

    fn read(text: &str, source: &str) -> Result<CiFindings, serde_norway::Error> {
        read_in(Path::new("/nonexistent"), text, source)
    }

    /// The findings of `text` read as a CI file of the project at `root`.
    fn read_in(root: &Path, text: &str, source: &str) -> Result<CiFindings, serde_norway::Error> {
        let mut findings = CiFindings::default();
        read_document(root, &serde_norway::from_str(text)?, source, &mut findings);
        Ok(findings)
    }

    fn names(findings: &CiFindings) -> Vec<&str> {
        findings.env.iter().map(|(name, _)| name.as_str()).collect()
    }

    #[test]
    fn circleci_gives_the_exact_commands_pins_and_the_checking_jobs_environment() -> Result<(), serde_norway::Error> {
        let findings = read(CIRCLE, ".circleci/config.yml")?;
        let test = findings.test.as_ref().map(|found| found.command.as_str());
        assert_eq!(test, Some("pytest --nomigrations --disable-warnings"));
        assert_eq!(
            findings.lint.as_ref().map(|(_, found)| found.command.as_str()),
            Some("flake8")
        );
        assert_eq!(findings.pin("flake8").map(|found| found.value.as_str()), Some("3.7.0"));
        // The deploy job's variables never reach the checks; its commands are listed as skipped.
        assert_eq!(names(&findings), ["SENTRY_DSN", "DJANGO_SETTINGS_MODULE"]);
        assert_eq!(findings.skipped.len(), 2, "{:?}", findings.skipped);
        assert!(findings.skipped[0].reason.contains("push"));
        Ok(())
    }

    #[test]
    fn github_actions_values_expressions_and_chains() -> Result<(), serde_norway::Error> {
        let workflow = r#"
env:
  DJANGO_SECRET_KEY: dummy_secret
  DJANGO_DEBUG: ${{ vars.DJANGO_DEBUG }}
  REPO: $(echo $GITHUB_REPOSITORY | tr A-Z a-z)
jobs:
  test:
    defaults:
      run:
        working-directory: app
    env:
      SENTRY_DSN: ${{ secrets.SENTRY_DSN }}
    steps:
      - uses: actions/checkout@v4
      - run: pip install ruff==0.4.1 && ruff check . && python -m pytest -q
      - uses: codecov/codecov-action@v4
"#;
        let findings = read(workflow, ".github/workflows/ci.yml")?;
        assert_eq!(
            findings.test.as_ref().map(|found| found.command.as_str()),
            Some("cd app && python -m pytest -q")
        );
        assert_eq!(
            findings
                .lint
                .as_ref()
                .map(|(tool, found)| (*tool, found.command.as_str())),
            Some((LintTool::Ruff, "cd app && ruff check ."))
        );
        assert_eq!(findings.pin("ruff").map(|found| found.value.as_str()), Some("0.4.1"));
        let value = |name: &str| {
            findings
                .env
                .iter()
                .find(|(known, _)| known == name)
                .map(|(_, variable)| variable.clone())
        };
        assert_eq!(
            value("DJANGO_SECRET_KEY").and_then(|v| v.value),
            Some("dummy_secret".into())
        );
        for computed in ["DJANGO_DEBUG", "REPO", "SENTRY_DSN"] {
            let variable = value(computed);
            assert!(
                variable
                    .as_ref()
                    .is_some_and(|v| v.value.is_none() && v.expression.is_some()),
                "{computed}: {variable:?}"
            );
        }
        assert!(findings.skipped.iter().any(|skipped| skipped.line.contains("codecov")));
        Ok(())
    }

    #[test]
    fn installs_python_and_the_image_build_are_read() -> Result<(), Box<dyn std::error::Error>> {
        let workflow = r#"
jobs:
  test:
    strategy:
      matrix:
        python-version: ["3.11", "3.12"]
    steps:
      - uses: actions/setup-python@v5
        with:
          python-version: ${{ matrix.python-version }}
      - run: |
          cd app
          pip install -r requirements.txt
      - run: pip install pytest==7.4.4 coverage
      # Poetry makes an environment of its own: not the project's package.
      - run: pip install poetry==1.8.3 && pip install --upgrade pipenv
      - run: pip install -e ".[test]"
      - run: uv sync --group dev --extra api
      - run: pytest
  image:
    steps:
      - uses: docker/build-push-action@v6
        with:
          context: ./project
          file: ./project/Dockerfile.prod
"#;
        let findings = read(workflow, "ci.yml")?;
        assert_eq!(
            findings.installs,
            [
                Install::Requirements("app/requirements.txt".into()),
                Install::Packages(vec!["pytest==7.4.4".into(), "coverage".into()]),
                Install::Project {
                    extras: vec!["test".into()],
                    groups: vec![]
                },
                Install::Project {
                    extras: vec!["api".into()],
                    groups: vec!["dev".into()]
                },
            ]
        );
        assert_eq!(
            findings.python_version.map(|found| found.value),
            Some("3.11, 3.12".into())
        );
        let build = findings.docker_build.ok_or("no build")?;
        assert_eq!(
            (build.dockerfile.as_deref(), build.context.as_str()),
            (Some("project/Dockerfile.prod"), "project")
        );
        let cli = read(
            "jobs:
  b:
    steps:
      - run: cd site && docker build -f docker/Dockerfile.prod -t x --build-arg A=1 .
",
            "ci",
        )?;
        let build = cli.docker_build.ok_or("no build")?;
        assert_eq!(
            (build.dockerfile.as_deref(), build.context.as_str()),
            (Some("site/docker/Dockerfile.prod"), "site")
        );
        Ok(())
    }

    #[test]
    fn build_arguments_and_a_second_linter_are_read() -> Result<(), Box<dyn std::error::Error>> {
        let cli = read(
            "jobs:\n  b:\n    steps:\n      - run: docker build --build-arg APP_VERSION=1.2 --build-arg=TOKEN=${{ secrets.T }} --build-arg HOME_URL -t x src\n",
            "ci",
        )?;
        let build = cli.docker_build.ok_or("no build")?;
        assert_eq!(build.context, "src");
        let args: Vec<(&str, Option<&str>, Option<&str>)> = build
            .args
            .iter()
            .map(|(name, variable)| (name.as_str(), variable.value.as_deref(), variable.expression.as_deref()))
            .collect();
        assert_eq!(
            args,
            [
                ("APP_VERSION", Some("1.2"), None),
                ("TOKEN", None, Some("${{ secrets.T }}")),
                ("HOME_URL", None, Some("$HOME_URL"))
            ]
        );
        let action = read(
            "jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          context: ./src\n          build-args: |\n            APP_VERSION=3\n            SENTRY_AUTH_TOKEN=${{ secrets.SENTRY }}\n",
            "ci",
        )?;
        let build = action.docker_build.ok_or("no build")?;
        let names: Vec<&str> = build.args.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["APP_VERSION", "SENTRY_AUTH_TOKEN"]);
        assert_eq!(build.args[0].1.value.as_deref(), Some("3"));

        let linters = read(
            "jobs:\n  l:\n    steps:\n      - run: ruff check .\n      - run: flake8 legacy\n",
            "ci",
        )?;
        assert_eq!(linters.lint.map(|(tool, _)| tool), Some(LintTool::Ruff));
        let gate = linters.gates.first().ok_or("flake8 is a gate")?;
        assert_eq!(
            (gate.kind, gate.tool.as_str(), gate.command.as_str()),
            (crate::project::GateKind::Lint, "flake8", "flake8 legacy")
        );
        Ok(())
    }

    #[test]
    fn a_deploy_jobs_dotenv_lines_are_not_the_tests() -> Result<(), serde_norway::Error> {
        let workflow = r#"
jobs:
  test:
    steps:
      - run: echo "DEBUG=1" >> .env
      - run: pytest
  deploy:
    steps:
      - run: |
          echo SQL_ENGINE=django.db.backends.postgresql >> .env
          echo DEBUG=0 >> .env
      - run: docker push me/app
"#;
        let findings = read(workflow, "ci.yml")?;
        let values: Vec<(&str, Option<&str>)> = findings
            .env
            .iter()
            .map(|(name, variable)| (name.as_str(), variable.value.as_deref()))
            .collect();
        assert_eq!(values, [("DEBUG", Some("1"))]);
        Ok(())
    }

    #[test]
    fn fallbacks_dotenv_lines_and_services_are_read() -> Result<(), serde_norway::Error> {
        let workflow = r#"
jobs:
  test:
    services:
      postgres:
        image: postgres:16
    env:
      SECRET_KEY: ${{ secrets.SECRET_KEY || 'insecure-test-key' }}
    steps:
      - run: |
          echo "DEBUG=1" >> .env
          echo DB_HOST=localhost >> .env
      - run: pytest
"#;
        let findings = read(workflow, "ci.yml")?;
        let value = |name: &str| {
            findings
                .env
                .iter()
                .find(|(known, _)| known == name)
                .and_then(|(_, variable)| variable.value.clone())
        };
        assert_eq!(value("SECRET_KEY").as_deref(), Some("insecure-test-key"));
        assert_eq!(value("DEBUG").as_deref(), Some("1"));
        assert_eq!(value("DB_HOST").as_deref(), Some("localhost"));
        let services: Vec<(&str, &str)> = findings
            .services
            .iter()
            .map(|service| (service.name.as_str(), service.image.as_str()))
            .collect();
        assert_eq!(services, [("postgres", "postgres:16")]);
        Ok(())
    }

    #[test]
    fn lint_that_cannot_fail_and_extra_checks_become_gates() -> Result<(), serde_norway::Error> {
        let workflow = r#"
jobs:
  quality:
    steps:
      - run: flake8 --format html --htmldir report || true
      - run: black --check .
      - run: mypy src
        continue-on-error: true
      - run: |
          coverage run -m pytest
          coverage report --fail-under=80
      - run: python manage.py check
"#;
        let findings = read(workflow, "ci.yml")?;
        let lint = findings.lint.as_ref().map(|(_, found)| found.clone());
        assert!(lint
            .as_ref()
            .is_some_and(|lint| lint.command == "flake8" && lint.lets_fail.as_deref() == Some("|| true")));
        assert_eq!(
            findings.test.as_ref().map(|t| t.command.as_str()),
            Some("coverage run -m pytest")
        );
        let ids: Vec<&str> = findings.gates.iter().map(|gate| gate.id.as_str()).collect();
        assert_eq!(ids, ["black", "mypy", "coverage", "manage-check"]);
        assert!(findings.gates[1]
            .notes
            .iter()
            .any(|note| note.contains("continue-on-error")));
        assert!(findings.gates[2].after_tests);
        Ok(())
    }

    #[test]
    fn a_linters_action_is_the_command_it_runs_with_its_inputs_and_pinned_version() -> Result<(), serde_norway::Error> {
        let workflow = r#"
jobs:
  lint:
    # For `run:` steps only: the actions run at the top.
    defaults:
      run:
        working-directory: backend
    steps:
      - uses: actions/checkout@v4
      - uses: chartboost/ruff-action@v1
        with:
          version: 0.4.4
          src: ./src
      - uses: psf/black@stable
      - uses: TrueBrain/actions-flake8@v2
        with:
          path: src
          max_line_length: 90
          only_warn: 1
      - uses: some/unknown-action@v1
      - uses: pre-commit/action@v3.0.1
"#;
        let findings = read(workflow, "lint.yml")?;
        let lint = findings
            .lint
            .as_ref()
            .map(|(tool, found)| (*tool, found.command.as_str()));
        assert_eq!(lint, Some((LintTool::Ruff, "ruff check ./src")));
        assert_eq!(findings.pin("ruff").map(|found| found.value.as_str()), Some("0.4.4"));
        let gates: Vec<(&str, &str)> = findings
            .gates
            .iter()
            .map(|gate| (gate.id.as_str(), gate.command.as_str()))
            .collect();
        assert_eq!(
            gates,
            [
                ("black", "black --check --diff ."),
                ("flake8", "flake8 --max-line-length=90 src")
            ]
        );
        assert!(findings.gates[1].notes.iter().any(|note| note.contains("only_warn")));
        // pre-commit's action is `pre-commit run --all-files`: its configuration is read (here
        // there is none, which the plan says).
        assert!(
            findings
                .skipped
                .iter()
                .any(|skip| skip.line == "pre-commit run --all-files" && skip.reason.contains("could not be read")),
            "{:?}",
            findings.skipped
        );
        // The default ruff action: `ruff check .`.
        let plain = read(
            "jobs:\n  lint:\n    steps:\n      - uses: astral-sh/ruff-action@v3\n",
            "lint.yml",
        )?;
        let command = plain.lint.as_ref().map(|(_, found)| found.command.as_str());
        assert_eq!(command, Some("ruff check ."));
        Ok(())
    }

    #[test]
    fn a_script_that_runs_its_own_unittests_is_the_tests_and_another_script_is_listed_not_run(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let root = tempfile::tempdir()?;
        std::fs::create_dir_all(root.path().join("src/backend"))?;
        std::fs::write(
            root.path().join("src/backend/app_tests.py"),
            "import unittest\n\nclass T(unittest.TestCase):\n    def test_a(self):\n        pass\n\nif __name__ == '__main__':\n    unittest.main()\n",
        )?;
        std::fs::write(root.path().join("seed.py"), "print('seeding')\n")?;
        let workflow =
            "jobs:\n  test:\n    steps:\n      - run: python seed.py\n      - run: python src/backend/app_tests.py\n";
        let findings = read_in(root.path(), workflow, "ci.yml")?;
        let test = findings.test.as_ref().map(|test| test.command.as_str());
        assert_eq!(test, Some("python src/backend/app_tests.py"));
        let skipped: Vec<&str> = findings.skipped.iter().map(|skip| skip.line.as_str()).collect();
        assert_eq!(skipped, ["python seed.py"]);
        // `python -m unittest discover` is the tests too.
        let discover = read(
            "jobs:\n  t:\n    steps:\n      - run: python -m unittest discover -s tests\n",
            "ci.yml",
        )?;
        let test = discover.test.as_ref().map(|test| test.command.as_str());
        assert_eq!(test, Some("python -m unittest discover -s tests"));
        Ok(())
    }

    #[test]
    fn a_job_that_only_starts_the_stack_gives_the_tests_no_service() -> Result<(), Box<dyn std::error::Error>> {
        let root = tempfile::tempdir()?;
        std::fs::write(
            root.path().join("compose.yml"),
            "services:\n  db:\n    image: postgres:15\n  adminer:\n    image: adminer\n",
        )?;
        let workflow = "jobs:\n  smoke:\n    steps:\n      - run: docker compose up -d --wait adminer\n      - run: uv sync --no-dev --group github-actions\n      - run: curl -f localhost:8080\n  test:\n    steps:\n      - run: docker compose up -d db\n      - run: uv sync\n      - run: pytest\n";
        let findings = read_in(root.path(), workflow, "ci.yml")?;
        let names: Vec<&str> = findings.services.iter().map(|service| service.name.as_str()).collect();
        assert_eq!(names, ["db"]);
        assert_eq!(
            findings.installs,
            [Install::Project {
                extras: vec![],
                groups: vec![]
            }],
            "the smoke job's install is not the tests'"
        );
        // CircleCI's workspace: one job installs, the next tests; and a second test job that
        // repeats pytest still starts its own services.
        let circle = "jobs:\n  install:\n    steps:\n      - run: pip install -r requirements/dev.txt\n      - persist_to_workspace: {root: ., paths: [.venv]}\n  unit:\n    steps:\n      - attach_workspace: {at: .}\n      - run: pytest tests/unit\n  integration:\n    steps:\n      - run: docker compose up -d db\n      - run: pytest tests/integration\n";
        let findings = read_in(root.path(), circle, "config.yml")?;
        assert_eq!(
            findings.installs,
            [Install::Requirements("requirements/dev.txt".into())]
        );
        let names: Vec<&str> = findings.services.iter().map(|service| service.name.as_str()).collect();
        assert_eq!(names, ["db"]);
        Ok(())
    }
}
