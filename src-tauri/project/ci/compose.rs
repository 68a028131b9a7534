//! The image build a Compose file describes for the app: the service that is the app (of the
//! ones that build Python, the one that publishes ports, else the one named like a web app), its `build:` context, Dockerfile
//! and `args`. A CI that builds with `docker compose build` builds exactly this, and a project
//! whose CI builds nothing still says here how its image is made: `build: ./src` means the
//! engine sees `src/` only, so the Dockerfile's `COPY` lines are written against that folder.

use std::path::Path;

use serde_norway::Value;

use super::bounded::{self, yaml_text};
use super::findings::DockerBuild;
use super::setup::build_arg;
use super::COMPOSE_FILES;

/// Names that say a service is the web app, when no service publishes ports.
const APP_NAMES: [&str; 7] = ["web", "app", "api", "django", "backend", "server", "site"];

/// The build of `service` (else the app's service) in `file` (else the first Compose file
/// found), relative to the project's folder.
pub(super) fn compose_build(root: &Path, file: Option<&str>, service: Option<&str>) -> Option<DockerBuild> {
    let file = match file {
        Some(file) => file.trim_start_matches("./").to_owned(),
        None => COMPOSE_FILES.iter().find(|name| root.join(name).is_file())?.to_string(),
    };
    let document = bounded::read(&root.join(&file)).ok()?;
    let services = document.get("services")?.as_mapping()?;
    let built: Vec<(&str, &Value)> = services
        .iter()
        .filter_map(|(name, body)| Some((name.as_str()?, body)))
        .filter(|(_, body)| body.get("build").is_some())
        .collect();
    let folder = file.rsplit_once('/').map_or("", |(folder, _)| folder);
    // The Python app's build, not the web server's in front of it (an nginx that publishes
    // the ports): a service whose build holds Python's project files or installs with pip.
    let python: Vec<(&str, &Value)> = built
        .iter()
        .copied()
        .filter(|(_, body)| {
            body.get("build")
                .is_some_and(|build| builds_python(root, &place(folder, build)))
        })
        .collect();
    let candidates = if python.is_empty() { &built } else { &python };
    let (name, body) = match service {
        Some(wanted) => *built.iter().find(|(name, _)| *name == wanted)?,
        None => *candidates
            .iter()
            .find(|(_, body)| body.get("ports").is_some())
            .or_else(|| candidates.iter().find(|(name, _)| APP_NAMES.contains(name)))
            .or(candidates.first())?,
    };
    let source = format!("{file} (service {name})");
    let build = body.get("build")?;
    let args = match build.get("args") {
        Some(Value::Mapping(args)) => args
            .iter()
            .filter_map(|(name, value)| {
                let name = name.as_str()?;
                Some(match yaml_text(value) {
                    Some(value) => build_arg(&format!("{name}={value}"), &source),
                    // `NAME:` with no value: Compose takes it from its environment.
                    None => build_arg(name, &source),
                })
            })
            .collect(),
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(yaml_text)
            .map(|item| build_arg(&item, &source))
            .collect(),
        _ => Vec::new(),
    };
    let (context, dockerfile) = place(folder, build);
    Some(DockerBuild {
        dockerfile,
        context: if context.is_empty() { ".".to_owned() } else { context },
        source,
        args,
    })
}

/// A `build:`'s context and Dockerfile (when it names one) in the project's terms: Compose
/// reads the context from the file's folder, the Dockerfile from the context.
fn place(folder: &str, build: &Value) -> (String, Option<String>) {
    let (context, dockerfile) = match build {
        Value::String(context) => (context.clone(), None),
        mapping => (
            mapping
                .get("context")
                .and_then(yaml_text)
                .unwrap_or_else(|| ".".to_owned()),
            mapping.get("dockerfile").and_then(yaml_text),
        ),
    };
    let context = join(folder, &context);
    let dockerfile = dockerfile.map(|dockerfile| join(&context, &dockerfile));
    (context, dockerfile)
}

/// Whether a build at `(context, dockerfile)` makes a Python app: its context holds a Python
/// project's file, or its Dockerfile installs with pip, poetry or uv.
fn builds_python(root: &Path, (context, dockerfile): &(String, Option<String>)) -> bool {
    let dockerfile = dockerfile.clone().unwrap_or_else(|| join(context, "Dockerfile"));
    let markers = ["manage.py", "requirements.txt", "pyproject.toml", "Pipfile", "setup.py"];
    markers.iter().any(|marker| root.join(context).join(marker).is_file())
        || crate::project::files::read_text(&root.join(dockerfile)).is_some_and(|text| {
            ["pip install", "poetry install", "uv sync", "uv pip", "pipenv install"]
                .iter()
                .any(|installer| text.contains(installer))
        })
}

/// `folder/path` in the project's terms: no `./`, no trailing slash, `..` taken back (a Compose
/// file in `deploy/` that builds `../app` builds `app`); `""` is the project's folder.
fn join(folder: &str, path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in folder.split('/').chain(path.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_services_context_dockerfile_and_args_are_read() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("docker-compose.yml"),
            "services:\n  db:\n    image: postgres:16\n  worker:\n    build: ./src\n  web:\n    build:\n      context: src\n      dockerfile: docker/Dockerfile.web\n      args:\n        APP_VERSION: \"1.4\"\n        SENTRY_AUTH_TOKEN: ${SENTRY_AUTH_TOKEN}\n        PLAIN:\n    ports:\n      - \"8000:8000\"\n",
        )?;
        let build = compose_build(dir.path(), None, None).ok_or("no build")?;
        assert_eq!(build.context, "src");
        assert_eq!(build.dockerfile.as_deref(), Some("src/docker/Dockerfile.web"));
        assert_eq!(build.source, "docker-compose.yml (service web)");
        let args: Vec<(&str, Option<&str>)> = build
            .args
            .iter()
            .map(|(name, variable)| (name.as_str(), variable.value.as_deref()))
            .collect();
        assert_eq!(
            args,
            [
                ("APP_VERSION", Some("1.4")),
                ("SENTRY_AUTH_TOKEN", None),
                ("PLAIN", None)
            ]
        );
        // A named service, the short form: the folder is the context.
        let worker = compose_build(dir.path(), Some("docker-compose.yml"), Some("worker")).ok_or("no worker")?;
        assert_eq!((worker.context.as_str(), worker.dockerfile), ("src", None));
        assert!(
            compose_build(dir.path(), None, Some("db")).is_none(),
            "db builds nothing"
        );
        // A Compose file in a folder: its paths are read from there.
        std::fs::create_dir_all(dir.path().join("deploy"))?;
        std::fs::write(
            dir.path().join("deploy/compose.yaml"),
            "services:\n  site:\n    build:\n      context: ../app\n      dockerfile: Dockerfile.prod\n",
        )?;
        let deploy = compose_build(dir.path(), Some("deploy/compose.yaml"), None).ok_or("no deploy build")?;
        assert_eq!(
            (deploy.context.as_str(), deploy.dockerfile.as_deref()),
            ("app", Some("app/Dockerfile.prod"))
        );
        Ok(())
    }

    /// bayanat's shape: nginx publishes the ports and is built from `./nginx`; the Flask app,
    /// built from `./flask/Dockerfile`, publishes none. The app is the one that builds Python.
    #[test]
    fn the_python_app_is_chosen_over_the_web_server_in_front_of_it() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(dir.path().join("nginx"))?;
        std::fs::create_dir_all(dir.path().join("flask"))?;
        std::fs::write(
            dir.path().join("nginx/Dockerfile"),
            "FROM nginx\nCOPY nginx.conf /etc/nginx/\n",
        )?;
        std::fs::write(
            dir.path().join("flask/Dockerfile"),
            "FROM python:3.12\nCOPY . /app\nRUN pip install --no-cache-dir -e /app\n",
        )?;
        std::fs::write(
            dir.path().join("docker-compose.yml"),
            "services:\n  bayanat:\n    build:\n      context: .\n      dockerfile: ./flask/Dockerfile\n  nginx:\n    build: ./nginx\n    ports:\n      - \"80:80\"\n",
        )?;
        let build = compose_build(dir.path(), None, None).ok_or("no build")?;
        assert_eq!(build.source, "docker-compose.yml (service bayanat)");
        assert_eq!(build.dockerfile.as_deref(), Some("flask/Dockerfile"));
        Ok(())
    }
}
