//! What a project's CI configuration says: its test and lint commands, the tool versions it
//! pins, and the environment variables it sets. CircleCI first, then GitHub Actions, as the
//! project's own pipeline is the best statement of how it is tested.

use std::path::Path;

use regex::Regex;
use serde_yaml::Value;

use super::files::read_text;

/// A command found in a CI file, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub value: String,
    pub source: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct CiFindings {
    pub test_command: Option<Found>,
    pub lint_command: Option<Found>,
    /// `(tool, version)` pinned by a `pip install tool==version` step.
    pub pins: Vec<(String, Found)>,
    /// `(name, value)` from `environment:` / `env:` blocks.
    pub env: Vec<(String, Found)>,
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
        read_document(&document, &source, &mut findings);
    }
    findings
}

fn read_document(document: &Value, source: &str, findings: &mut CiFindings) {
    collect_env(document.get("env"), source, findings);
    let Some(jobs) = document.get("jobs").and_then(Value::as_mapping) else {
        return;
    };
    for (job_name, job) in jobs {
        let job_source = format!("{source} (job {})", job_name.as_str().unwrap_or("?"));
        collect_env(job.get("environment"), &job_source, findings);
        collect_env(job.get("env"), &job_source, findings);
        for image in job.get("docker").and_then(Value::as_sequence).into_iter().flatten() {
            collect_env(image.get("environment"), &job_source, findings);
        }
        for step in job.get("steps").and_then(Value::as_sequence).into_iter().flatten() {
            collect_env(step.get("env"), &job_source, findings);
            collect_env(step.get("environment"), &job_source, findings);
            let run = step.get("run");
            let script = run
                .and_then(Value::as_str)
                .or_else(|| run.and_then(|run| run.get("command")).and_then(Value::as_str));
            if let Some(script) = script {
                read_script(script, &job_source, findings);
            }
        }
    }
}

fn collect_env(block: Option<&Value>, source: &str, findings: &mut CiFindings) {
    let Some(map) = block.and_then(Value::as_mapping) else {
        return;
    };
    for (name, value) in map {
        let Some(name) = name.as_str() else { continue };
        let value = match value {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            Value::Bool(flag) => flag.to_string(),
            _ => String::new(),
        };
        if !findings.env.iter().any(|(known, _)| known == name) {
            findings.env.push((
                name.to_owned(),
                Found {
                    value,
                    source: source.to_owned(),
                },
            ));
        }
    }
}

/// Splits a run step into the commands it runs (lines, `&&` and `;` chains).
fn commands_in(script: &str) -> Vec<String> {
    script
        .replace("\\\n", " ")
        .lines()
        .flat_map(|line| {
            line.split("&&")
                .flat_map(|part| part.split(';'))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .map(|command| command.trim().to_owned())
        .filter(|command| !command.is_empty() && !command.starts_with('#'))
        .collect()
}

fn read_script(script: &str, source: &str, findings: &mut CiFindings) {
    let pin = Regex::new(r"(?i)\b(flake8|ruff|pytest)\s*==\s*([0-9][A-Za-z0-9.]*)").ok();
    // `cd app && pytest` runs pytest in `app`: keep the `cd` with the command it leads to.
    let mut cd_prefix: Option<String> = None;
    for command in commands_in(script) {
        if command.starts_with("cd ") {
            cd_prefix = Some(command);
            continue;
        }
        let words: Vec<&str> = command.split_whitespace().collect();
        let installs = words
            .windows(2)
            .any(|pair| pair == ["pip", "install"] || pair == ["-m", "pip"]);
        if installs {
            for capture in pin.iter().flat_map(|pin| pin.captures_iter(&command)) {
                let tool = capture[1].to_lowercase();
                if !findings.pins.iter().any(|(known, _)| *known == tool) {
                    let found = Found {
                        value: capture[2].to_owned(),
                        source: source.to_owned(),
                    };
                    findings.pins.push((tool, found));
                }
            }
            continue;
        }
        let runs = |tool: &str| words.contains(&tool);
        let found = || Found {
            value: match &cd_prefix {
                Some(cd) => format!("{cd} && {command}"),
                None => command.clone(),
            },
            source: source.to_owned(),
        };
        if findings.test_command.is_none() && (runs("pytest") || runs("py.test")) {
            findings.test_command = Some(found());
        } else if findings.lint_command.is_none() && (runs("flake8") || (runs("ruff") && !runs("format"))) {
            findings.lint_command = Some(found());
        }
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
"#;

    #[test]
    fn circleci_gives_the_exact_commands_pins_and_environment() -> Result<(), serde_yaml::Error> {
        let mut findings = CiFindings::default();
        read_document(&serde_yaml::from_str(CIRCLE)?, ".circleci/config.yml", &mut findings);
        let test = findings.test_command.as_ref().map(|found| found.value.as_str());
        assert_eq!(test, Some("pytest --nomigrations --disable-warnings"));
        assert_eq!(findings.lint_command.map(|found| found.value), Some("flake8".into()));
        assert_eq!(findings.pins.len(), 1);
        assert_eq!(findings.pins[0].0, "flake8");
        assert_eq!(findings.pins[0].1.value, "3.7.0");
        let names: Vec<_> = findings.env.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["SENTRY_DSN", "DJANGO_SETTINGS_MODULE"]);
        Ok(())
    }

    #[test]
    fn github_actions_steps_and_chains_are_read() -> Result<(), serde_yaml::Error> {
        let workflow = r#"
env:
  SECRET_KEY: test-only
jobs:
  test:
    steps:
      - uses: actions/checkout@v4
      - run: pip install ruff==0.4.1 && ruff check . && python -m pytest -q
"#;
        let mut findings = CiFindings::default();
        read_document(
            &serde_yaml::from_str(workflow)?,
            ".github/workflows/ci.yml",
            &mut findings,
        );
        assert_eq!(
            findings.test_command.map(|found| found.value),
            Some("python -m pytest -q".into())
        );
        assert_eq!(
            findings.lint_command.map(|found| found.value),
            Some("ruff check .".into())
        );
        assert_eq!(findings.pins[0].1.value, "0.4.1");
        assert_eq!(findings.env[0].0, "SECRET_KEY");
        Ok(())
    }

    #[test]
    fn a_cd_before_the_command_is_kept() {
        let mut findings = CiFindings::default();
        read_script("cd site && pytest --nomigrations", "ci", &mut findings);
        assert_eq!(
            findings.test_command.map(|found| found.value),
            Some("cd site && pytest --nomigrations".into())
        );
    }
}
