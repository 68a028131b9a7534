//! What a project's CI configuration says, read as the CI means it: every check it runs (the
//! commands behind task runners and containers too), how it lets some of them fail, the tool
//! versions it pins, and the environment its checking jobs set. CircleCI first, then GitHub
//! Actions, as the project's own pipeline is the best statement of how it is tested.

mod runners;
mod shell;
mod tools;

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;
use serde_yaml::Value;

use super::detect::LintTool;
use super::files::read_text;
use super::gates::{Gate, GateKind, SkippedCommand};
use tools::{prepare, Prepared, Role};

/// A value found in a CI file, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub value: String,
    pub source: String,
}

/// The test or lint command the CI runs, made ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiCommand {
    pub command: String,
    /// The CI's line, as written.
    pub line: String,
    pub source: String,
    pub notes: Vec<String>,
    /// Values for this command alone.
    pub env: BTreeMap<String, String>,
    /// How the CI lets it fail, when it does.
    pub lets_fail: Option<String>,
}

/// A variable a checking job sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiVariable {
    /// The literal value; `None` when the CI computes it or takes it from its secrets
    /// (`${{ secrets.X }}`, `$(…)`): the person must give one.
    pub value: Option<String>,
    /// The CI's expression, when the value is one.
    pub expression: Option<String>,
    pub source: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct CiFindings {
    pub test: Option<CiCommand>,
    pub lint: Option<(LintTool, CiCommand)>,
    /// Coverage, formatting, type and Django checks.
    pub gates: Vec<Gate>,
    /// Commands that deploy, upload or notify, and recipes that could not be read.
    pub skipped: Vec<SkippedCommand>,
    /// `(package, version)` pinned by `pip install package==version` steps.
    pub pins: Vec<(String, Found)>,
    /// Variables of the jobs that run checks (never of deploy-only jobs).
    pub env: Vec<(String, CiVariable)>,
}

impl CiFindings {
    /// The version the CI pins for `package`, if it does.
    pub fn pin(&self, package: &str) -> Option<&Found> {
        self.pins
            .iter()
            .find(|(name, _)| name == package)
            .map(|(_, found)| found)
    }
}

/// Reads `.circleci/config.yml` and `.github/workflows/*.yml` under `root`.
pub fn read_ci(root: &Path) -> CiFindings {
    let mut findings = CiFindings::default();
    let mut files = vec![root.join(".circleci/config.yml"), root.join(".circleci/config.yaml")];
    if let Ok(entries) = std::fs::read_dir(root.join(".github/workflows")) {
        let mut workflows: Vec<_> = entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "yml" || ext == "yaml"))
            .collect();
        workflows.sort();
        files.extend(workflows);
    }
    for file in files {
        let Some(text) = read_text(&file) else { continue };
        let Ok(document) = serde_yaml::from_str::<Value>(&text) else {
            tracing::warn!("{} is not valid YAML; skipped", file.display());
            continue;
        };
        let source = file.strip_prefix(root).unwrap_or(&file).display().to_string();
        read_document(root, &document, &source, &mut findings);
    }
    // Pins may come after the check in the file (or in another job): matched at the end.
    for index in 0..findings.gates.len() {
        let package = findings.gates[index]
            .tool
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        findings.gates[index].version = findings.pin(&package).map(|found| found.value.clone());
    }
    findings
}

/// A step's script with what the CI file says around it.
struct Script<'a> {
    text: &'a str,
    working_directory: Option<&'a str>,
    lets_fail: bool,
    env: Option<&'a Value>,
}

fn read_document(root: &Path, document: &Value, source: &str, findings: &mut CiFindings) {
    let Some(jobs) = document.get("jobs").and_then(Value::as_mapping) else {
        return;
    };
    let default_directory = working_directory(document.get("defaults"));
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
                    text,
                    working_directory: step
                        .get("working-directory")
                        .or_else(|| run.and_then(|run| run.get("working_directory")))
                        .and_then(Value::as_str)
                        .or(job_directory),
                    lets_fail: step.get("continue-on-error").and_then(Value::as_bool) == Some(true),
                    env: step.get("env").or_else(|| step.get("environment")),
                });
            } else if let Some(action) = step.get("uses").and_then(Value::as_str) {
                if let Some(reason) = action_reason(action) {
                    findings.skipped.push(SkippedCommand {
                        line: format!("uses: {action}"),
                        source: job_source.clone(),
                        reason: reason.to_owned(),
                    });
                }
            }
        }
        let mut checks_here = false;
        for script in &scripts {
            let before = gate_count(findings);
            let mut commands = shell::commands(script.text);
            for command in &mut commands {
                if let Some(dir) = script
                    .working_directory
                    .filter(|dir| *dir != "." && command.cd.is_none())
                {
                    command.cd = Some(dir.to_owned());
                }
                if script.lets_fail && command.lets_fail.is_none() {
                    command.lets_fail = Some("continue-on-error: true".to_owned());
                }
            }
            for command in commands {
                take(root, prepare(&command), &job_source, findings, 0);
            }
            if gate_count(findings) > before {
                checks_here = true;
                collect_env(script.env, &job_source, &mut findings.env);
            }
        }
        // Only jobs that check something give the checks their variables: a deploy job's
        // values are for the deploy.
        if checks_here {
            collect_env(document.get("env"), source, &mut findings.env);
            collect_env(job.get("environment"), &job_source, &mut findings.env);
            collect_env(job.get("env"), &job_source, &mut findings.env);
            for image in job.get("docker").and_then(Value::as_sequence).into_iter().flatten() {
                collect_env(image.get("environment"), &job_source, &mut findings.env);
            }
        }
    }
}

fn working_directory(defaults: Option<&Value>) -> Option<&str> {
    defaults?.get("run")?.get("working-directory")?.as_str()
}

fn gate_count(findings: &CiFindings) -> usize {
    usize::from(findings.test.is_some()) + usize::from(findings.lint.is_some()) + findings.gates.len()
}

/// GitHub Actions that deploy, upload or notify.
fn action_reason(action: &str) -> Option<&'static str> {
    let name = action.to_lowercase();
    if name.contains("codecov") || name.contains("coveralls") {
        Some("uploads coverage to a web service: not a check")
    } else if name.starts_with("docker/build-push-action") {
        Some("builds and pushes the image: the release's build and push steps do that")
    } else if name.contains("deploy")
        || name.contains("render")
        || name.contains("heroku")
        || name.contains("slack")
        || name.contains("notify")
    {
        Some("deploys or notifies: not a check")
    } else {
        None
    }
}

/// Files one prepared command into the findings; runners are followed into their recipes.
fn take(root: &Path, prepared: Prepared, source: &str, findings: &mut CiFindings, depth: usize) {
    let mut notes = prepared.notes.clone();
    let found = |notes: Vec<String>| CiCommand {
        command: prepared.command.clone(),
        line: prepared.line.clone(),
        source: source.to_owned(),
        notes,
        env: prepared.env.clone(),
        lets_fail: prepared.lets_fail.clone(),
    };
    match &prepared.role {
        Role::Tests => {
            if findings.test.is_none() {
                findings.test = Some(found(notes));
            }
        }
        Role::Lint(tool) => {
            if findings.lint.is_none() {
                findings.lint = Some((*tool, found(notes)));
            }
        }
        Role::Gate(kind, tool) => {
            if findings.gates.iter().any(|gate| gate.command == prepared.command) {
                return;
            }
            if let Some(how) = &prepared.lets_fail {
                notes.push(format!(
                    "Your CI lets this check fail ({how}); here it is a gate: turn it off in the project's settings."
                ));
            }
            let base = tool.replace(' ', "-").replace(".py", "");
            let repeats = findings
                .gates
                .iter()
                .filter(|gate| gate.id == base || gate.id.starts_with(&format!("{base}-")))
                .count();
            findings.gates.push(Gate {
                id: if repeats == 0 {
                    base
                } else {
                    format!("{base}-{}", repeats + 1)
                },
                kind: *kind,
                tool: tool.clone(),
                command: prepared.command.clone(),
                ci_line: Some(prepared.line.clone()),
                source: source.to_owned(),
                notes,
                env: prepared.env.clone(),
                after_tests: *kind == GateKind::Coverage,
                version: None,
                enabled: true,
            });
        }
        Role::Runner { program, targets } => {
            let dir = match prepared
                .command
                .strip_prefix("cd ")
                .and_then(|rest| rest.split(" && ").next())
            {
                Some(dir) => root.join(dir.trim_matches(['\'', '"'])),
                None => root.to_path_buf(),
            };
            let called = format!("{program} {}", targets.join(" ")).trim().to_owned();
            match runners::recipe_lines(&dir, program, targets) {
                Ok(lines) if depth < 3 => {
                    for line in lines {
                        let via = format!("{}, from `{called}` in {source}", line.source);
                        for mut command in shell::commands(&line.text) {
                            if command.lets_fail.is_none() {
                                command.lets_fail = line.lets_fail.clone().or_else(|| prepared.lets_fail.clone());
                            }
                            if let Some(cd) = prepared
                                .command
                                .strip_prefix("cd ")
                                .and_then(|rest| rest.split(" && ").next())
                            {
                                command
                                    .cd
                                    .get_or_insert_with(|| cd.trim_matches(['\'', '"']).to_owned());
                            }
                            let mut inner = prepare(&command);
                            inner.env.extend(prepared.env.clone());
                            inner
                                .notes
                                .insert(0, format!("From `{called}`: {} runs `{}`.", line.source, line.text));
                            take(root, inner, &via, findings, depth + 1);
                        }
                    }
                }
                Ok(_) => {}
                Err(why) => {
                    // The runner itself is the check; a person sees why.
                    notes.push(format!(
                        "Slipway could not read the recipe ({why}) and runs `{called}` itself."
                    ));
                    let testing = targets
                        .iter()
                        .any(|target| target.contains("test") || target.starts_with("py"));
                    let linting = targets.iter().any(|target| {
                        ["lint", "flake8", "ruff", "style"]
                            .iter()
                            .any(|word| target.contains(word))
                    });
                    if testing && findings.test.is_none() {
                        findings.test = Some(found(notes));
                    } else if linting && findings.lint.is_none() {
                        findings.lint = Some((LintTool::Flake8, found(notes)));
                    } else {
                        findings.skipped.push(SkippedCommand {
                            line: prepared.line.clone(),
                            source: source.to_owned(),
                            reason: format!("Slipway could not read what `{called}` runs: {why}"),
                        });
                    }
                }
            }
        }
        Role::NotAGate(reason) => findings.skipped.push(SkippedCommand {
            line: prepared.line.clone(),
            source: source.to_owned(),
            reason: reason.clone(),
        }),
        Role::Setup => collect_pins(&prepared.line, source, &mut findings.pins),
        Role::Build => {}
    }
}

fn collect_pins(line: &str, source: &str, pins: &mut Vec<(String, Found)>) {
    let installs = line.contains("pip install") || line.contains("pip3 install") || line.contains("-m pip");
    let Ok(pin) = Regex::new(r"(?i)\b([a-z0-9][a-z0-9_.-]*)\s*==\s*([0-9][A-Za-z0-9.]*)") else {
        return;
    };
    if !installs {
        return;
    }
    for capture in pin.captures_iter(line) {
        let package = capture[1].to_lowercase().replace('_', "-");
        if !pins.iter().any(|(known, _)| *known == package) {
            pins.push((
                package,
                Found {
                    value: capture[2].to_owned(),
                    source: source.to_owned(),
                },
            ));
        }
    }
}

/// `${{ … }}`, `$(…)`, `$VAR`: a value the CI works out, not one to copy.
fn expression(value: &str) -> bool {
    value.contains("${{")
        || value.contains("$(")
        || value.contains("${")
        || Regex::new(r"\$[A-Za-z_]").is_ok_and(|pattern| pattern.is_match(value))
}

fn collect_env(block: Option<&Value>, source: &str, env: &mut Vec<(String, CiVariable)>) {
    let Some(map) = block.and_then(Value::as_mapping) else {
        return;
    };
    for (name, value) in map {
        let Some(name) = name.as_str() else { continue };
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            Value::Bool(flag) => flag.to_string(),
            _ => String::new(),
        };
        if env.iter().any(|(known, _)| known == name) {
            continue;
        }
        let computed = expression(&text);
        env.push((
            name.to_owned(),
            CiVariable {
                value: (!computed).then(|| text.clone()),
                expression: computed.then_some(text),
                source: source.to_owned(),
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn read(text: &str, source: &str) -> Result<CiFindings, serde_yaml::Error> {
        let mut findings = CiFindings::default();
        read_document(
            Path::new("/nonexistent"),
            &serde_yaml::from_str(text)?,
            source,
            &mut findings,
        );
        Ok(findings)
    }

    fn names(findings: &CiFindings) -> Vec<&str> {
        findings.env.iter().map(|(name, _)| name.as_str()).collect()
    }

    #[test]
    fn circleci_gives_the_exact_commands_pins_and_the_checking_jobs_environment() -> Result<(), serde_yaml::Error> {
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
    fn github_actions_values_expressions_and_chains() -> Result<(), serde_yaml::Error> {
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
    fn lint_that_cannot_fail_and_extra_checks_become_gates() -> Result<(), serde_yaml::Error> {
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
}
