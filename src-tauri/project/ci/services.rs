//! The services a CI starts for its tests: a GitHub Actions job's `services:`, a CircleCI
//! job's secondary images, and `docker compose up -d SERVICE` lines (read from the compose
//! file). Only the services of jobs that run checks count: a deploy job's are not the tests'.

use std::collections::BTreeMap;
use std::path::Path;

use serde_norway::Value;

use super::bounded::yaml_text;
use super::compose_file::compose_document;
use super::findings::{CiFindings, CiVariable};
use super::variables::collect_env;
use crate::project::gate_spec::SkippedCommand;
use crate::project::service_spec::{image_base_name, usual_port, ServiceSpec};

/// The services `job` starts (GitHub Actions' `services:`, CircleCI's images after the first).
pub(super) fn of_job(job: &Value, source: &str) -> Vec<ServiceSpec> {
    let mut found = Vec::new();
    for (name, service) in job.get("services").and_then(Value::as_mapping).into_iter().flatten() {
        let (Some(name), Some(image)) = (name.as_str(), service.get("image").and_then(Value::as_str)) else {
            continue;
        };
        let (port, ci_port) = first_port(service.get("ports"), image);
        found.push(ServiceSpec {
            name: name.to_owned(),
            image: image.to_owned(),
            env: literal_values(service.get("env"), source),
            port,
            ci_port,
            health_cmd: service.get("options").and_then(Value::as_str).and_then(health_command),
            port_variables: Vec::new(),
            source: source.to_owned(),
        });
    }
    // CircleCI: the first image runs the steps; every other one is a service on localhost.
    let images = job.get("docker").and_then(Value::as_sequence);
    for image in images.into_iter().flatten().skip(1) {
        let Some(name) = image.get("image").and_then(Value::as_str) else {
            continue;
        };
        let port = usual_port(name);
        found.push(ServiceSpec {
            name: image
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_else(|| image_base_name(name))
                .to_owned(),
            image: name.to_owned(),
            env: literal_values(image.get("environment"), source),
            port,
            ci_port: port,
            health_cmd: None,
            port_variables: Vec::new(),
            source: source.to_owned(),
        });
    }
    found
}

/// Adds `services` to the findings, once each, with the CI variables that take their ports.
pub(super) fn add(services: Vec<ServiceSpec>, findings: &mut CiFindings) {
    for mut service in services {
        if findings.services.iter().any(|known| known.name == service.name) {
            continue;
        }
        let pattern = format!("job.services.{}.ports", service.name);
        service.port_variables = findings
            .env
            .iter()
            .filter(|(_, variable)| variable.expression.as_deref().is_some_and(|e| e.contains(&pattern)))
            .map(|(name, _)| name.clone())
            .collect();
        findings.services.push(service);
    }
}

/// The values a service's block gives its container; a value the CI works out or takes from
/// its secrets is left to the image's default.
fn literal_values(block: Option<&Value>, source: &str) -> BTreeMap<String, String> {
    block_values(block, source)
        .into_iter()
        .filter_map(|(name, variable)| Some((name, variable.value?)))
        .collect()
}

/// A service block's values as the file writes them, in either of Compose's forms.
fn block_values(block: Option<&Value>, source: &str) -> Vec<(String, CiVariable)> {
    let mut variables: Vec<(String, CiVariable)> = Vec::new();
    match block {
        // Compose's list form: `- POSTGRES_DB=app`.
        Some(Value::Sequence(items)) => {
            for item in items.iter().filter_map(Value::as_str) {
                if let Some((name, value)) = item.split_once('=') {
                    variables.push((
                        name.trim().to_owned(),
                        CiVariable {
                            value: Some(value.to_owned()),
                            expression: None,
                            source: source.to_owned(),
                        },
                    ));
                }
            }
        }
        other => collect_env(other, source, &mut variables),
    }
    variables
}

/// The container port and the host port of the first `ports:` entry (`5432:5432`,
/// `127.0.0.1:6379:6379`, `5432/tcp`, `5432`), else the image's usual port.
fn first_port(ports: Option<&Value>, image: &str) -> (Option<u16>, Option<u16>) {
    let first = ports
        .and_then(Value::as_sequence)
        .and_then(|ports| ports.first())
        .and_then(|port| {
            yaml_text(port).or_else(|| {
                port.get("target").and_then(yaml_text).map(|target| {
                    // Compose's long form: `target:` in the container, `published:` on the host.
                    match port.get("published").and_then(yaml_text) {
                        Some(published) => format!("{published}:{target}"),
                        None => target,
                    }
                })
            })
        });
    let Some(text) = first else {
        return (usual_port(image), None);
    };
    let text = text.split('/').next().unwrap_or(&text);
    let parts: Vec<&str> = text.split(':').collect();
    let container = parts.last().and_then(|port| port.parse().ok());
    let host = (parts.len() >= 2)
        .then(|| parts[parts.len() - 2].parse().ok())
        .flatten();
    (container.or_else(|| usual_port(image)), host)
}

/// `--health-cmd pg_isready --health-interval 10s` → `pg_isready`; quoted commands keep
/// their words (`--health-cmd "redis-cli ping"`).
fn health_command(options: &str) -> Option<String> {
    let words = shlex::split(options)?;
    let at = words
        .iter()
        .position(|word| word == "--health-cmd" || word.starts_with("--health-cmd="))?;
    match words[at].strip_prefix("--health-cmd=") {
        Some(inline) => Some(inline.to_owned()),
        None => words.get(at + 1).cloned(),
    }
    .filter(|command| !command.is_empty())
}

/// `docker compose [-f FILE] up [-d] [--wait] db redis` (or `docker-compose up …`), its
/// words after any `cd`: the compose files and the services it names.
pub(super) fn compose_up(words: &[String]) -> Option<(Vec<String>, Vec<String>)> {
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let rest = match words.as_slice() {
        ["docker", "compose", rest @ ..] | ["docker-compose", rest @ ..] => rest,
        _ => return None,
    };
    let mut files = Vec::new();
    let mut index = 0;
    while let Some(word) = rest.get(index) {
        match *word {
            "-f" | "--file" => {
                files.extend(rest.get(index + 1).map(|file| (*file).to_owned()));
                index += 2;
            }
            "-p" | "--project-name" | "--env-file" | "--profile" => index += 2,
            "up" => break,
            _ => return None,
        }
    }
    let after_up = rest.get(index + 1..)?;
    let mut services = Vec::new();
    let mut skip_next = false;
    for word in after_up {
        if skip_next {
            skip_next = false;
        } else if matches!(*word, "--wait-timeout" | "--timeout" | "-t" | "--scale" | "--pull") {
            skip_next = true;
        } else if !word.starts_with('-') {
            services.push((*word).to_owned());
        }
    }
    Some((files, services))
}

/// The services a `docker compose up` line starts, read from the compose file; one that is
/// built from the project (the app itself) or not named is listed as not run, with why.
pub(super) fn from_compose(
    root: &Path,
    cd: Option<&str>,
    files: &[String],
    names: &[String],
    line: &str,
    source: &str,
    findings: &mut CiFindings,
) {
    let skip = |reason: String, findings: &mut CiFindings| {
        findings.skipped.push(SkippedCommand {
            line: line.to_owned(),
            source: source.to_owned(),
            reason,
        });
    };
    let Some((file, document, dotenv)) = compose_document(root, cd, files) else {
        return skip("the compose file it names could not be read".to_owned(), findings);
    };
    if names.is_empty() {
        return skip(
            format!("it starts every service of {file}, the app's own too; Slipway starts the services your tests need when the CI names them (`docker compose up -d db`)"),
            findings,
        );
    }
    let compose_source = format!("{file}, from `{line}` in {source}");
    let mut found = Vec::new();
    for name in names {
        let Some(service) = document
            .get("services")
            .and_then(|services| services.get(name.as_str()))
        else {
            skip(format!("{file} has no service {name}"), findings);
            continue;
        };
        // A service Compose builds is the app, even when it also names the image it tags.
        let image = service.get("image").and_then(Value::as_str);
        let (None, Some(image)) = (service.get("build"), image) else {
            skip(
                format!(
                    "the service {name} is built from the project ({file}): it is the app, not a service the tests use"
                ),
                findings,
            );
            continue;
        };
        let image = match dotenv.fill(image) {
            Ok(image) => image,
            Err(why) => {
                skip(
                    format!("the image of the service {name} ({image}) cannot be told: {why}"),
                    findings,
                );
                continue;
            }
        };
        let (port, ci_port) = first_port(service.get("ports"), &image);
        // `${NAME}` is Compose's own, filled from `.env`; a value no one gives is left to the
        // image's default, as Compose would refuse it.
        let env = block_values(service.get("environment"), &compose_source)
            .into_iter()
            .filter_map(|(name, variable)| {
                let written = variable.value.or(variable.expression)?;
                Some((name, dotenv.fill(&written).ok()?))
            })
            .collect();
        found.push(ServiceSpec {
            name: name.clone(),
            image,
            env,
            port,
            ci_port,
            health_cmd: service.get("healthcheck").and_then(compose_health),
            port_variables: Vec::new(),
            source: compose_source.clone(),
        });
    }
    add(found, findings);
}

/// The services a check run by `docker compose run|exec SERVICE` has with it: the ones
/// SERVICE `depends_on:` (list or map form), which Compose starts first.
pub(super) fn depends_on(
    root: &Path,
    cd: Option<&str>,
    files: &[String],
    service: &str,
    line: &str,
    source: &str,
    findings: &mut CiFindings,
) {
    let Some((_, document, _)) = compose_document(root, cd, files) else {
        return;
    };
    let names: Vec<String> = match document
        .get("services")
        .and_then(|services| services.get(service))
        .and_then(|service| service.get("depends_on"))
    {
        Some(Value::Sequence(names)) => names.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(Value::Mapping(names)) => names.keys().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let new: Vec<String> = names
        .into_iter()
        .filter(|name| !findings.services.iter().any(|known| known.name == *name))
        .collect();
    if !new.is_empty() {
        from_compose(root, cd, files, &new, line, source, findings);
    }
}

/// A compose `healthcheck:`'s `test` as a shell command: `["CMD-SHELL", "pg_isready"]`,
/// `["CMD", "redis-cli", "ping"]` or a plain string.
fn compose_health(healthcheck: &Value) -> Option<String> {
    match healthcheck.get("test")? {
        Value::String(text) => Some(text.clone()),
        Value::Sequence(items) => {
            let words: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            match words.as_slice() {
                ["CMD-SHELL", command] => Some((*command).to_owned()),
                ["CMD", rest @ ..] if !rest.is_empty() => Some(
                    rest.iter()
                        .map(|word| shlex::try_quote(word).map_or_else(|_| (*word).to_owned(), |q| q.into_owned()))
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Result<Value, serde_norway::Error> {
        serde_norway::from_str(text)
    }

    #[test]
    fn github_services_with_ports_env_and_a_health_command() -> Result<(), serde_norway::Error> {
        let job = yaml(
            r#"
services:
  postgres:
    image: postgres:15
    env:
      POSTGRES_PASSWORD: postgres
      POSTGRES_DB: ${{ secrets.DB }}
    ports: ["5432:5432"]
    options: >-
      --health-cmd "pg_isready -U postgres"
      --health-interval 10s
  redis:
    image: redis:7
    ports: [6379/tcp]
"#,
        )?;
        let services = of_job(&job, "ci.yml (job test)");
        assert_eq!(services.len(), 2);
        let postgres = &services[0];
        assert_eq!((postgres.port, postgres.ci_port), (Some(5432), Some(5432)));
        assert_eq!(postgres.health_cmd.as_deref(), Some("pg_isready -U postgres"));
        // The secret one is left to the image's default.
        assert_eq!(postgres.env.keys().collect::<Vec<_>>(), ["POSTGRES_PASSWORD"]);
        assert_eq!((services[1].port, services[1].ci_port), (Some(6379), None));
        Ok(())
    }

    #[test]
    fn circleci_secondary_images_are_services_on_their_usual_port() -> Result<(), serde_norway::Error> {
        let job = yaml(
            r#"
docker:
  - image: cimg/python:3.12
  - image: cimg/postgres:14.1
    environment:
      POSTGRES_USER: circle
  - image: redis:7
    name: cache
"#,
        )?;
        let services = of_job(&job, "config.yml");
        let described: Vec<(&str, Option<u16>)> = services
            .iter()
            .map(|service| (service.name.as_str(), service.ci_port))
            .collect();
        assert_eq!(described, [("postgres", Some(5432)), ("cache", Some(6379))]);
        assert_eq!(services[0].env.get("POSTGRES_USER").map(String::as_str), Some("circle"));
        Ok(())
    }

    #[test]
    fn compose_up_lines_name_their_files_and_services() {
        let up = |line: &str| compose_up(&shlex::split(line).unwrap_or_default());
        assert_eq!(
            up("docker compose -f ci/compose.yml up -d --wait db redis"),
            Some((vec!["ci/compose.yml".into()], vec!["db".into(), "redis".into()]))
        );
        assert_eq!(up("docker-compose up -d"), Some((vec![], vec![])));
        assert_eq!(up("docker compose run web pytest"), None);
        assert_eq!(up("docker build ."), None);
    }

    #[test]
    fn a_compose_run_check_gets_the_services_its_service_depends_on() -> Result<(), Box<dyn std::error::Error>> {
        let root = tempfile::tempdir()?;
        std::fs::write(
            root.path().join("docker-compose.yml"),
            "services:\n  app:\n    build: .\n    depends_on:\n      db:\n        condition: service_healthy\n  db:\n    image: postgres:13-alpine\n    environment:\n      POSTGRES_DB: devdb\n",
        )?;
        let mut findings = CiFindings::default();
        depends_on(
            root.path(),
            None,
            &[],
            "app",
            "docker compose run --rm app pytest",
            "ci.yml",
            &mut findings,
        );
        let names: Vec<&str> = findings.services.iter().map(|service| service.name.as_str()).collect();
        assert_eq!(names, ["db"]);
        assert_eq!(findings.services[0].port, Some(5432));
        Ok(())
    }

    #[test]
    fn compose_services_are_read_and_the_app_itself_is_not_a_service() -> Result<(), Box<dyn std::error::Error>> {
        let root = tempfile::tempdir()?;
        std::fs::write(
            root.path().join("docker-compose.yml"),
            r#"
services:
  web:
    build: .
  db:
    image: postgres:15
    environment:
      - POSTGRES_PASSWORD=secret
    ports:
      - "127.0.0.1:5433:5432"
    healthcheck:
      test: ["CMD", "pg_isready", "-U", "postgres"]
"#,
        )?;
        let mut findings = CiFindings::default();
        let names = ["db".to_owned(), "web".to_owned()];
        from_compose(
            root.path(),
            None,
            &[],
            &names,
            "docker compose up -d db web",
            "ci.yml",
            &mut findings,
        );
        let db = findings.services.first().ok_or("no service")?;
        assert_eq!((db.port, db.ci_port), (Some(5432), Some(5433)));
        assert_eq!(db.health_cmd.as_deref(), Some("pg_isready -U postgres"));
        assert_eq!(db.env.get("POSTGRES_PASSWORD").map(String::as_str), Some("secret"));
        assert_eq!(findings.services.len(), 1);
        assert!(findings.skipped[0].reason.contains("the app"), "{:?}", findings.skipped);
        Ok(())
    }

    /// Compose's own values and override file, as the full-stack FastAPI template has them:
    /// `${POSTGRES_USER?…}` from `.env`, a service only in `compose.override.yml`, and the
    /// backend, which names its image and is built, is the app.
    #[test]
    fn compose_values_come_from_dotenv_and_the_override_file_is_merged() -> Result<(), Box<dyn std::error::Error>> {
        let root = tempfile::tempdir()?;
        std::fs::write(
            root.path().join("compose.yml"),
            r#"
services:
  db:
    image: "postgres:${PG_VERSION:-15}"
    environment:
      - POSTGRES_USER=${POSTGRES_USER?Variable not set}
      - POSTGRES_PASSWORD=${POSTGRES_PASSWORD?Variable not set}
      - PGDATA=/var/lib/postgresql/data/$${SUB}
      - UNGIVEN=${NOBODY_GIVES_IT?Variable not set}
  backend:
    image: '${DOCKER_IMAGE_BACKEND?Variable not set}:${TAG-latest}'
    build:
      context: ./backend
"#,
        )?;
        std::fs::write(
            root.path().join("compose.override.yml"),
            "services:\n  db:\n    environment:\n      POSTGRES_DB: app_test\n  mailcatcher:\n    image: schickling/mailcatcher\n    ports:\n      - \"1025:1025\"\n",
        )?;
        std::fs::write(
            root.path().join(".env"),
            "# values\nPOSTGRES_USER=app\nPOSTGRES_PASSWORD='changethis'\n",
        )?;
        let mut findings = CiFindings::default();
        let names = ["db".to_owned(), "mailcatcher".to_owned(), "backend".to_owned()];
        let line = "docker compose up -d db mailcatcher backend";
        from_compose(root.path(), None, &[], &names, line, "ci.yml", &mut findings);
        let found: Vec<(&str, &str)> = findings
            .services
            .iter()
            .map(|service| (service.name.as_str(), service.image.as_str()))
            .collect();
        assert_eq!(
            found,
            [("db", "postgres:15"), ("mailcatcher", "schickling/mailcatcher")]
        );
        let db = &findings.services[0].env;
        let values: Vec<(&str, &str)> = db.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
        assert_eq!(
            values,
            [
                ("PGDATA", "/var/lib/postgresql/data/${SUB}"),
                ("POSTGRES_DB", "app_test"),
                ("POSTGRES_PASSWORD", "changethis"),
                ("POSTGRES_USER", "app"),
            ]
        );
        assert!(findings.services[0]
            .source
            .starts_with("compose.yml + compose.override.yml"));
        assert_eq!(findings.skipped.len(), 1, "{:?}", findings.skipped);
        assert!(findings.skipped[0].reason.contains("backend is built from the project"));
        // With `-f`, only the files named are read.
        let mut named = CiFindings::default();
        let files = ["compose.yml".to_owned()];
        from_compose(root.path(), None, &files, &names[1..2], line, "ci.yml", &mut named);
        assert!(named.services.is_empty());
        assert!(named.skipped[0].reason.contains("has no service mailcatcher"));
        Ok(())
    }
}
