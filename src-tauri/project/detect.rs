//! Detection: what Slipway finds in a project folder and will run for it.

use std::path::Path;

use regex::Regex;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::blueprint::{read_blueprint, Blueprint};
use super::build_args::BuildArg;
use super::ci::{configured_lint_tool, read_ci, CiCommand, CiFindings, Install, COMPOSE_FILES};
use super::env_reads::{env_vars, EnvVarNeed};
use super::files::{is_virtualenv, read_text, TreeFiles};
use super::gate_spec::{Gate, LintTool, SkippedCommand};
use super::service_spec::ServiceSpec;

/// How deep detection looks for `manage.py`, Dockerfiles and settings modules.
const SEARCH_DEPTH: usize = 3;

/// How the Python environment is made when the project has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Installer {
    Requirements,
    Poetry,
    /// `pyproject.toml`'s dependencies, extras and dependency groups.
    Pyproject,
    /// uv's lock: the versions it pins for the project, its extras and groups.
    UvLock,
    /// Pipenv's `Pipfile.lock` (default and develop packages).
    Pipenv,
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PythonEnv {
    /// An existing virtualenv the project uses (inside its folder or beside it).
    pub existing: Option<String>,
    /// The existing one lies inside the project folder (linters must skip it).
    pub in_tree: bool,
    /// Files the environment is installed from, relative to the project.
    pub install_from: Vec<String>,
    pub installer: Installer,
    /// Where the choice of files comes from: a CI line, or where they were found.
    pub install_source: String,
    /// Packages the CI installs by name (`pip install pytest==7.4.4`), after the files.
    pub packages: Vec<String>,
    /// The extras and dependency groups installed with the project's own dependencies.
    pub extras: Vec<String>,
    pub groups: Vec<String>,
    /// The Python the project asks for (`requires-python`, `.python-version`), if it does.
    pub requires_python: Option<Detected<String>>,
    /// The Python its CI runs (a preference, not a requirement).
    pub ci_python: Option<Detected<String>>,
}

/// Where a test or lint command came from in the CI, and what Slipway changed in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CiOrigin {
    /// The CI's line, as written.
    pub line: String,
    /// What Slipway changed, in a person's words.
    pub notes: Vec<String>,
    /// How the CI lets the command fail, when it does.
    pub lets_fail: Option<String>,
}

impl From<&CiCommand> for CiOrigin {
    fn from(command: &CiCommand) -> Self {
        Self {
            line: command.line.clone(),
            notes: command.notes.clone(),
            lets_fail: command.lets_fail.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Detected<T> {
    pub value: T,
    /// Where it came from, in words: a file, or "Slipway's default".
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Detection {
    /// Where `manage.py` is, relative to the project (`""` for the top), if anywhere.
    pub app_root: Option<String>,
    pub test_command: Detected<String>,
    /// The CI line the test command comes from, when it does.
    pub test_origin: Option<CiOrigin>,
    pub lint_tool: Detected<LintTool>,
    pub lint_command: Detected<String>,
    pub lint_origin: Option<CiOrigin>,
    /// The other checks the CI runs: coverage, formatting, types, Django's checks.
    pub gates: Vec<Gate>,
    /// CI commands Slipway does not run (they deploy, upload or notify), with the reason.
    pub ci_skipped: Vec<SkippedCommand>,
    /// The CI files read, relative to the project.
    pub ci_files: Vec<String>,
    /// The linter version the project pins (CI first, then requirements), if any.
    pub lint_version: Option<Detected<String>>,
    pub python: PythonEnv,
    /// Dockerfiles found, relative to the project.
    pub dockerfiles: Vec<String>,
    /// The one to build, and why that one: the CI's, the one beside `manage.py`, the top one.
    pub dockerfile: Option<Detected<String>>,
    /// The folder sent to the engine as the build context, relative to the project (`.`).
    pub build_context: Detected<String>,
    /// The build arguments the CI or Compose file passes to that build.
    pub build_args: Vec<BuildArg>,
    pub dockerignore: bool,
    pub render_yaml: bool,
    /// What `render.yaml` says of the web service, when there is one.
    pub blueprint: Option<Blueprint>,
    pub env_vars: Vec<EnvVarNeed>,
    /// Folders the lint config already excludes.
    pub lint_excludes: Vec<String>,
    /// The services the CI starts for the tests (a database, a cache).
    #[serde(default)]
    pub services: Vec<ServiceSpec>,
}

/// The source of a value nothing in the project gave.
pub const DEFAULT_SOURCE: &str = "Slipway's default";

impl Detection {
    /// The project has a CI that lints nothing and no linter's configuration: lint would only be
    /// Slipway's own default, failing releases the CI passes, so it starts turned off.
    pub fn lints_nothing(&self) -> bool {
        !self.ci_files.is_empty() && self.lint_origin.is_none() && self.lint_tool.source == DEFAULT_SOURCE
    }
}

/// Looks at everything detection covers in `root`.
pub fn detect(root: &Path) -> Detection {
    let ci = read_ci(root);
    // One walk of the tree for `manage.py`, the Dockerfiles and the settings modules.
    let tree = TreeFiles::walk(root, SEARCH_DEPTH);
    let app_root = tree
        .manage_py
        .iter()
        .min_by_key(|path| path.components().count())
        .map(|path| {
            path.parent()
                .map(|parent| parent.display().to_string())
                .unwrap_or_default()
        });
    let (requirements, requirements_source) = requirement_files(root, &ci, app_root.as_deref());
    let requirement_text: String = requirements
        .iter()
        .filter_map(|file| read_text(&root.join(file)))
        .collect::<Vec<_>>()
        .join("\n");
    let lint_tool = lint_tool(root, &ci, &requirement_text);
    let lint_version = lint_version(lint_tool.value, &ci, &requirements, &requirement_text);
    let lint_command = match &ci.lint {
        Some((_, found)) => Detected {
            value: found.command.clone(),
            source: found.source.clone(),
        },
        None => Detected {
            value: match lint_tool.value {
                LintTool::Flake8 => "flake8".to_owned(),
                LintTool::Ruff => "ruff check".to_owned(),
            },
            source: lint_tool.source.clone(),
        },
    };
    let dockerfiles: Vec<String> = tree.dockerfiles.iter().map(|path| path.display().to_string()).collect();
    let blueprint = read_blueprint(root);
    let (dockerfile, build_context) = choose_dockerfile(&dockerfiles, &ci, app_root.as_deref(), blueprint.as_ref());
    // The CI's build arguments go with the CI's build, not with another Dockerfile.
    let build_args = ci
        .docker_build
        .as_ref()
        .filter(|build| build.context == build_context.value)
        .map(super::build_args::found)
        .unwrap_or_default();
    Detection {
        test_command: test_command(root, &ci),
        test_origin: ci.test.as_ref().map(CiOrigin::from),
        lint_origin: ci.lint.as_ref().map(|(_, found)| CiOrigin::from(found)),
        gates: ci.gates.clone(),
        ci_skipped: ci.skipped.clone(),
        ci_files: ci.files.clone(),
        lint_tool,
        lint_command,
        lint_version,
        python: python_env(root, &ci, requirements, requirements_source, dockerfile.as_ref()),
        dockerfiles,
        dockerfile,
        build_context,
        build_args,
        dockerignore: root.join(".dockerignore").is_file(),
        render_yaml: blueprint.is_some() || root.join("render.yaml").is_file(),
        blueprint,
        env_vars: env_vars(root, &tree, app_root.as_deref(), &ci),
        lint_excludes: flake8_excludes(root),
        services: ci.services.clone(),
        app_root,
    }
}

fn test_command(root: &Path, ci: &CiFindings) -> Detected<String> {
    if let Some(found) = &ci.test {
        return Detected {
            value: found.command.clone(),
            source: found.source.clone(),
        };
    }
    // Each file and the section that makes it a pytest configuration (any pytest.ini does).
    let configs = [
        ("pytest.ini", ""),
        ("pyproject.toml", "[tool.pytest.ini_options]"),
        ("tox.ini", "[pytest]"),
        ("setup.cfg", "[tool:pytest]"),
    ];
    for (file, section) in configs {
        if read_text(&root.join(file)).is_some_and(|text| text.contains(section)) {
            return Detected {
                value: "pytest".to_owned(),
                source: file.to_owned(),
            };
        }
    }
    Detected {
        value: "pytest".to_owned(),
        source: DEFAULT_SOURCE.to_owned(),
    }
}

fn lint_tool(root: &Path, ci: &CiFindings, requirement_text: &str) -> Detected<LintTool> {
    if let Some((tool, found)) = &ci.lint {
        return Detected {
            value: *tool,
            source: found.source.clone(),
        };
    }
    if let Some((value, source)) = configured_lint_tool(root) {
        return Detected { value, source };
    }
    // No configuration: the linter the project installs, never one it does not use.
    let installs = |package: &str| {
        Regex::new(&format!(r"(?im)^\s*{package}\b")).is_ok_and(|pattern| pattern.is_match(requirement_text))
            || read_text(&root.join("pyproject.toml")).is_some_and(|text| text.contains(&format!("\"{package}")))
            || read_text(&root.join(".pre-commit-config.yaml"))
                .is_some_and(|text| text.contains(&format!("/{package}")))
    };
    if installs("ruff") && !installs("flake8") {
        return Detected {
            value: LintTool::Ruff,
            source: "the project's dependencies".to_owned(),
        };
    }
    Detected {
        value: LintTool::Flake8,
        source: DEFAULT_SOURCE.to_owned(),
    }
}

fn lint_version(
    tool: LintTool,
    ci: &CiFindings,
    requirements: &[String],
    requirement_text: &str,
) -> Option<Detected<String>> {
    if let Some(found) = ci.pin(tool.package()) {
        return Some(Detected {
            value: found.value.clone(),
            source: found.source.clone(),
        });
    }
    let pin = Regex::new(&format!(r"(?im)^\s*{}\s*==\s*([0-9][A-Za-z0-9.]*)", tool.package())).ok()?;
    let version = pin.captures(requirement_text)?.get(1)?.as_str().to_owned();
    Some(Detected {
        value: version,
        source: requirements.join(", "),
    })
}

/// The requirement files to install, and why those: the ones the CI installs (`pip install -r
/// app/requirements.txt`), else `requirements*.txt` at the top, else beside `manage.py`.
fn requirement_files(root: &Path, ci: &CiFindings, app_root: Option<&str>) -> (Vec<String>, String) {
    let from_ci: Vec<(String, bool)> = ci
        .installs
        .iter()
        .filter_map(|install| match install {
            Install::Requirements(file) if root.join(file).is_file() => Some((file.clone(), false)),
            Install::ImageRequirements(file) if root.join(file).is_file() => Some((file.clone(), true)),
            _ => None,
        })
        .collect();
    if !from_ci.is_empty() {
        let source = match (
            from_ci.iter().any(|(_, image)| !image),
            from_ci.iter().any(|(_, image)| *image),
        ) {
            (true, true) => "what your CI and its image install",
            (false, true) => "what your CI's image installs",
            _ => "what your CI installs",
        };
        return (from_ci.into_iter().map(|(file, _)| file).collect(), source.to_owned());
    }
    let in_folder = |folder: &Path| -> Vec<String> {
        let mut files: Vec<String> = std::fs::read_dir(folder)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("requirements") && name.ends_with(".txt"))
            .collect();
        files.sort();
        files
    };
    let top = in_folder(root);
    if !top.is_empty() {
        return (top, "found in the project's folder".to_owned());
    }
    match app_root.filter(|app| !app.is_empty()) {
        Some(app) => {
            let files: Vec<String> = in_folder(&root.join(app))
                .into_iter()
                .map(|file| format!("{app}/{file}"))
                .collect();
            (files, format!("found beside manage.py in {app}"))
        }
        None => (Vec::new(), String::new()),
    }
}

/// The Dockerfile to build and its context: what the CI builds; else what `render.yaml`
/// names; else the app's own beside `manage.py` (built from that folder, as its `COPY . .`
/// expects); else the top one; else one that is not a proxy's or a front end's.
fn choose_dockerfile(
    found: &[String],
    ci: &CiFindings,
    app_root: Option<&str>,
    blueprint: Option<&Blueprint>,
) -> (Option<Detected<String>>, Detected<String>) {
    let detected = |value: &str, source: &str| Detected {
        value: value.to_owned(),
        source: source.to_owned(),
    };
    let top = |context: &str| detected(context, "the project's folder");
    if let Some(build) = &ci.docker_build {
        let file = build.dockerfile.clone().unwrap_or_else(|| {
            if build.context == "." {
                "Dockerfile".to_owned()
            } else {
                format!("{}/Dockerfile", build.context)
            }
        });
        if found.contains(&file) {
            let why = if COMPOSE_FILES.iter().any(|name| build.source.starts_with(name)) {
                format!("the one {} builds", build.source)
            } else {
                format!("the one your CI builds ({})", build.source)
            };
            return (Some(detected(&file, &why)), detected(&build.context, &why));
        }
    }
    // Render builds what the Blueprint names: the same image the release should ship.
    if let Some(file) = blueprint
        .and_then(|blueprint| blueprint.dockerfile.clone())
        .filter(|file| found.contains(file))
    {
        let context = blueprint
            .and_then(|blueprint| blueprint.docker_context.clone())
            .filter(|context| !context.is_empty())
            .unwrap_or_else(|| ".".to_owned());
        let why = "the one render.yaml names";
        return (Some(detected(&file, why)), detected(&context, why));
    }
    let is_dockerfile = |path: &str, folder: &str| {
        let name = path.rsplit('/').next().unwrap_or(path).to_lowercase();
        let parent = path.rsplit_once('/').map_or("", |(parent, _)| parent);
        parent == folder && (name == "dockerfile" || name == "dockerfile.prod" || name == "dockerfile.production")
    };
    if let Some(app) = app_root.filter(|app| !app.is_empty()) {
        if let Some(file) = found.iter().find(|path| is_dockerfile(path, app)) {
            let why = format!("beside manage.py in {app}");
            return (Some(detected(file, &why)), detected(app, &why));
        }
    }
    // With several, the sentence names the others, so the person sees there was a choice.
    let also = |chosen: &str| {
        let others: Vec<&str> = found
            .iter()
            .map(String::as_str)
            .filter(|path| *path != chosen)
            .collect();
        if others.is_empty() {
            String::new()
        } else {
            format!(
                " (also found: {}; pick another in the project's settings)",
                others.join(", ")
            )
        }
    };
    if let Some(file) = found.iter().find(|path| path.eq_ignore_ascii_case("dockerfile")) {
        let why = format!("the one at the top of the project{}", also(file));
        return (Some(detected(file, &why)), top("."));
    }
    let elsewhere = [
        "nginx",
        "proxy",
        "frontend",
        "front",
        "docs",
        ".devcontainer",
        "client",
        "web-client",
    ];
    let outside = |path: &&String| {
        !elsewhere
            .iter()
            .any(|folder| path.split('/').any(|part| part.eq_ignore_ascii_case(folder)))
    };
    let chosen = match (found, found.iter().find(outside)) {
        ([only], _) => Some((only, "the only Dockerfile in the project".to_owned())),
        (_, Some(file)) => Some((
            file,
            format!(
                "the first found outside a proxy's or a front end's folder{}",
                also(file)
            ),
        )),
        (_, None) => found.first().map(|file| {
            (
                file,
                format!(
                    "the first found; all are in a proxy's or a front end's folder{}",
                    also(file)
                ),
            )
        }),
    };
    (chosen.map(|(file, why)| detected(file, &why)), top("."))
}

/// The Python the project requires: `.python-version`, else `requires-python`.
fn requires_python(root: &Path) -> Option<Detected<String>> {
    if let Some(text) = read_text(&root.join(".python-version")) {
        if let Some(version) = text
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty() && !line.starts_with('#'))
        {
            return Some(Detected {
                value: version.to_owned(),
                source: ".python-version".to_owned(),
            });
        }
    }
    // Pipenv's `[requires] python_version = "3.13"`.
    if let Some(version) = read_text(&root.join("Pipfile"))
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|pipfile| {
            pipfile
                .get("requires")?
                .get("python_version")?
                .as_str()
                .map(str::to_owned)
        })
    {
        return Some(Detected {
            value: version,
            source: "Pipfile".to_owned(),
        });
    }
    let pyproject: toml::Table = read_text(&root.join("pyproject.toml"))?.parse().ok()?;
    let spec = pyproject
        .get("project")
        .and_then(|project| project.get("requires-python"))
        .and_then(toml::Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            // Poetry's `python = "^3.10"` in its dependencies.
            pyproject
                .get("tool")?
                .get("poetry")?
                .get("dependencies")?
                .get("python")?
                .as_str()
                .map(str::to_owned)
        })?;
    Some(Detected {
        value: spec,
        source: "pyproject.toml".to_owned(),
    })
}

/// `FROM python:3.9-slim` → `3.9`: the Python the image (and often the CI) runs.
fn dockerfile_python(root: &Path, dockerfile: &str) -> Option<String> {
    let text = read_text(&root.join(dockerfile))?;
    text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        if !words.next()?.eq_ignore_ascii_case("from") {
            return None;
        }
        let image = words.find(|word| !word.starts_with("--"))?;
        let tag = image
            .strip_prefix("python:")
            .or_else(|| image.split_once("/python:").map(|(_, tag)| tag))?;
        let version: String = tag.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
        let version = version.trim_end_matches('.').to_owned();
        (version.contains('.')).then_some(version)
    })
}

fn python_env(
    root: &Path,
    ci: &CiFindings,
    requirements: Vec<String>,
    requirements_source: String,
    dockerfile: Option<&Detected<String>>,
) -> PythonEnv {
    let inside = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| is_virtualenv(path))
        .min();
    let name = root
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let beside = root.parent().and_then(|parent| {
        [
            "venv".to_owned(),
            ".venv".to_owned(),
            format!("{name}-venv"),
            format!("{name}_venv"),
            format!("{name}-env"),
        ]
        .into_iter()
        .map(|candidate| parent.join(candidate))
        .find(|path| is_virtualenv(path))
    });
    let existing = inside.clone().or(beside);
    let mut install_source = requirements_source;
    let (installer, install_from) = if !requirements.is_empty() {
        (Installer::Requirements, requirements)
    } else if root.join("Pipfile.lock").is_file() {
        install_source = "Pipfile.lock".to_owned();
        (Installer::Pipenv, vec!["Pipfile.lock".to_owned()])
    } else if root.join("uv.lock").is_file() {
        install_source = "uv's lock".to_owned();
        (
            Installer::UvLock,
            vec!["pyproject.toml".to_owned(), "uv.lock".to_owned()],
        )
    } else if root.join("poetry.lock").is_file()
        || read_text(&root.join("pyproject.toml")).is_some_and(|text| text.contains("[tool.poetry"))
    {
        (
            Installer::Poetry,
            vec!["pyproject.toml".to_owned(), "poetry.lock".to_owned()],
        )
    } else if root.join("pyproject.toml").is_file() {
        (Installer::Pyproject, vec!["pyproject.toml".to_owned()])
    } else {
        (Installer::Nothing, Vec::new())
    };
    if matches!(installer, Installer::Poetry | Installer::Pyproject) {
        install_source = "pyproject.toml".to_owned();
    }
    let mut packages = Vec::new();
    let mut extras = Vec::new();
    let mut groups = Vec::new();
    for install in &ci.installs {
        match install {
            Install::Packages(names) => packages.extend(names.iter().cloned()),
            Install::Project {
                extras: more_extras,
                groups: more_groups,
            } => {
                extras.extend(more_extras.iter().cloned());
                groups.extend(more_groups.iter().cloned());
            }
            Install::Requirements(_) | Install::ImageRequirements(_) => {}
        }
    }
    PythonEnv {
        existing: existing.map(|path| path.display().to_string()),
        in_tree: inside.is_some(),
        install_from,
        installer,
        install_source,
        packages,
        extras,
        groups,
        requires_python: requires_python(root),
        // The CI's Python, else the image's (`FROM python:3.9`): a preference, never a rule.
        ci_python: ci
            .python_version
            .as_ref()
            .filter(|found| !found.value.contains('$'))
            .map(|found| Detected {
                value: found.value.clone(),
                source: found.source.clone(),
            })
            .or_else(|| {
                let dockerfile = dockerfile?;
                dockerfile_python(root, &dockerfile.value).map(|version| Detected {
                    value: version,
                    source: format!("the base image of {}", dockerfile.value),
                })
            }),
    }
}

/// Folders excluded in the project's flake8 configuration (every file that has a
/// `[flake8]` section; the union is what matters for not walking a virtualenv).
pub fn flake8_excludes(root: &Path) -> Vec<String> {
    let mut excludes = Vec::new();
    for file in [".flake8", "setup.cfg", "tox.ini"] {
        let Some(text) = read_text(&root.join(file)) else {
            continue;
        };
        let mut in_section = false;
        let mut in_exclude = false;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with('[') {
                in_section = trimmed == "[flake8]";
                in_exclude = false;
                continue;
            }
            if !in_section {
                continue;
            }
            let continuation = line.starts_with([' ', '\t']) && in_exclude;
            let value = if let Some((key, value)) = trimmed.split_once('=').filter(|_| !continuation) {
                in_exclude = matches!(key.trim(), "exclude" | "extend-exclude" | "extend_exclude");
                if !in_exclude {
                    continue;
                }
                value
            } else if continuation {
                trimmed
            } else {
                in_exclude = false;
                continue;
            };
            excludes.extend(
                value
                    .split(',')
                    .map(|item| item.trim().trim_end_matches('/').to_owned())
                    .filter(|item| !item.is_empty()),
            );
        }
    }
    excludes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, file: &str, text: &str) -> std::io::Result<()> {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap_or(root))?;
        std::fs::write(path, text)
    }

    /// The files of issue 27's "Files": a `##` Makefile whose lint target runs ruff and mypy,
    /// two Dockerfiles of which Compose names the one in `src/`, and its build arguments.
    #[test]
    fn the_makefile_compose_file_and_build_arguments_are_read_as_the_ci_means_them() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        write(
            root,
            ".github/workflows/ci.yml",
            "on: push\njobs:\n  check:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n      - run: make lint-check\n",
        )?;
        write(
            root,
            "Makefile",
            "install: ## Install\n\tpip install -r requirements.txt\n\ntest: install ## Run the tests\n\tpytest -q\n\nlint-check: ## Lint and types\n\truff check src\n\tmypy src\n",
        )?;
        write(root, "setup.cfg", "[flake8]\nmax-line-length = 100\n")?;
        write(root, "Dockerfile", "FROM scratch\n")?;
        write(root, "src/Dockerfile", "FROM scratch\n")?;
        write(
            root,
            "docker-compose.yml",
            "services:\n  web:\n    build:\n      context: ./src\n      args:\n        APP_VERSION: '2.1'\n        SENTRY_AUTH_TOKEN: ${SENTRY_AUTH_TOKEN}\n    ports: ['8000:8000']\n",
        )?;
        let detection = detect(root);
        assert_eq!(detection.test_command.value, "pytest -q");
        assert_eq!(
            (detection.lint_tool.value, detection.lint_command.value.as_str()),
            (LintTool::Ruff, "ruff check src"),
            "what the recipe runs, not the [flake8] section"
        );
        let gates: Vec<(super::super::GateKind, &str)> = detection
            .gates
            .iter()
            .map(|gate| (gate.kind, gate.command.as_str()))
            .collect();
        assert_eq!(gates, [(super::super::GateKind::Types, "mypy src")]);
        let dockerfile = detection.dockerfile.clone().map(|chosen| (chosen.value, chosen.source));
        assert_eq!(
            dockerfile,
            Some((
                "src/Dockerfile".to_owned(),
                "the one docker-compose.yml (service web) builds".to_owned()
            ))
        );
        assert_eq!(detection.build_context.value, "src");
        let args: Vec<(&str, Option<&str>, bool)> = detection
            .build_args
            .iter()
            .map(|arg| (arg.name.as_str(), arg.value.as_deref(), arg.secret))
            .collect();
        assert_eq!(
            args,
            [("APP_VERSION", Some("2.1"), false), ("SENTRY_AUTH_TOKEN", None, true)]
        );

        // Without Compose: the top one, and the other is named.
        std::fs::remove_file(root.join("docker-compose.yml"))?;
        let detection = detect(root);
        assert_eq!(
            detection.dockerfile.map(|chosen| chosen.source),
            Some("the one at the top of the project (also found: src/Dockerfile; pick another in the project's settings)".to_owned())
        );
        assert!(detection.build_args.is_empty());
        Ok(())
    }

    #[test]
    fn a_bare_folder_gets_the_defaults() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let detection = detect(dir.path());
        assert_eq!(detection.test_command.value, "pytest");
        assert_eq!(detection.test_command.source, "Slipway's default");
        assert_eq!(detection.lint_tool.value, LintTool::Flake8);
        assert_eq!(detection.python.installer, Installer::Nothing);
        assert!(detection.dockerfiles.is_empty());
        assert_eq!(detection.app_root, None);
        Ok(())
    }

    #[test]
    fn finds_config_files_subfolders_and_dockerfiles() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        write(
            root,
            "pyproject.toml",
            "[tool.pytest.ini_options]\naddopts = \"-q\"\n[tool.ruff]\n",
        )?;
        write(root, "site/manage.py", "")?;
        write(root, "site/shop/settings.py", "import os\nSECRET_KEY = os.environ['SECRET_KEY']\nDEBUG = os.getenv('DEBUG', '0')\nDB = os.environ.get(\"DATABASE_URL\")\n")?;
        write(root, "dockerfile", "FROM python")?;
        write(root, "deploy/worker.Dockerfile", "FROM python")?;
        write(
            root,
            ".env.example",
            "# comment\nSECRET_KEY=change-me\nexport ALLOWED_HOSTS=localhost\n",
        )?;
        write(root, "requirements-dev.txt", "ruff==0.4.4\n")?;
        let detection = detect(root);
        assert_eq!(detection.test_command.source, "pyproject.toml");
        assert_eq!(detection.lint_tool.value, LintTool::Ruff);
        assert_eq!(detection.lint_command.value, "ruff check");
        assert_eq!(detection.lint_version.map(|v| v.value), Some("0.4.4".to_owned()));
        assert_eq!(detection.app_root.as_deref(), Some("site"));
        assert_eq!(detection.dockerfiles, ["deploy/worker.Dockerfile", "dockerfile"]);
        let names: Vec<_> = detection.env_vars.iter().map(|need| need.name.as_str()).collect();
        assert_eq!(names, ["ALLOWED_HOSTS", "DATABASE_URL", "DEBUG", "SECRET_KEY"]);
        let secret = detection.env_vars.iter().find(|need| need.name == "SECRET_KEY");
        assert!(secret.is_some_and(|need| need.secret
            && need.sources.len() == 2
            && need.example.as_deref() == Some("change-me")));
        assert_eq!(detection.python.installer, Installer::Requirements);
        Ok(())
    }

    #[test]
    fn flake8_excludes_are_read_with_continuations() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        write(
            dir.path(),
            "setup.cfg",
            "[flake8]\nmax-line-length = 99\nexclude =\n    migrations,\n    env/\n[other]\nexclude = nope\n",
        )?;
        write(dir.path(), "tox.ini", "[flake8]\nexclude = .venv,build\n")?;
        assert_eq!(flake8_excludes(dir.path()), ["migrations", "env", ".venv", "build"]);
        Ok(())
    }

    #[test]
    fn a_virtualenv_in_the_tree_or_beside_it_is_found() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let project = dir.path().join("shop");
        write(&project, ".venv/pyvenv.cfg", "home = /usr/bin\n")?;
        let env = detect(&project).python;
        assert!(env.in_tree);
        assert!(env.existing.is_some_and(|path| path.ends_with(".venv")));
        std::fs::remove_dir_all(project.join(".venv"))?;
        write(dir.path(), "shop-venv/pyvenv.cfg", "home = /usr/bin\n")?;
        let env = detect(&project).python;
        assert!(!env.in_tree);
        assert!(env.existing.is_some_and(|path| path.ends_with("shop-venv")));
        Ok(())
    }
}
