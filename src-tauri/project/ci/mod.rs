//! What a project's CI configuration says, read as the CI means it: every check it runs (the
//! commands behind task runners and containers too), how it lets some of them fail, the tool
//! versions it pins, and the environment its checking jobs set. CircleCI first, then GitHub
//! Actions, as the project's own pipeline is the best statement of how it is tested.
//!
//! Each file is parsed within bounds (size, nesting, time) and once per change (`bounded`); a
//! file refused is listed with the commands not run, in a sentence that says why.

mod bounded;
#[cfg(test)]
mod fuzz;
mod runners;
mod shell;
mod tools;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde_norway::Value;

use super::files::read_text;
use super::gate_spec::{Gate, GateKind, LintTool, SkippedCommand};
use bounded::Unread;
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
    /// What the CI installs before it checks, in order.
    pub installs: Vec<Install>,
    /// The Python version the CI sets up (`actions/setup-python`, a `cimg/python` image).
    pub python_version: Option<Found>,
    /// The Dockerfile and context the CI builds (`docker build -f … ctx`, build-push-action).
    pub docker_build: Option<DockerBuild>,
    /// The CI files that were read.
    pub files: Vec<String>,
}

/// One install step of the CI, in the terms Slipway prepares an environment with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Install {
    /// `pip install -r app/requirements.txt` (the path from the project's folder).
    Requirements(String),
    /// `pip install pytest==7.4.4 coverage`: packages by name.
    Packages(Vec<String>),
    /// `pip install -e .[test]`, `uv sync --group dev`, `poetry install --with test`: the
    /// project's own dependencies with these extras or groups.
    Project { extras: Vec<String>, groups: Vec<String> },
}

/// The image build the CI runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerBuild {
    /// Relative to the project's folder.
    pub dockerfile: Option<String>,
    pub context: String,
    pub source: String,
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
        let source = file.strip_prefix(root).unwrap_or(&file).display().to_string();
        let document = match bounded::read(&file) {
            Ok(document) => document,
            Err(Unread::Missing) => continue,
            Err(Unread::Invalid(why)) => {
                tracing::warn!("{} is not valid YAML ({why}); skipped", file.display());
                continue;
            }
            Err(Unread::Refused(refusal)) => {
                let name = if source.starts_with(".circleci") {
                    "The CircleCI file".to_owned()
                } else {
                    format!("The workflow {source}")
                };
                findings.skipped.push(SkippedCommand {
                    line: source,
                    source: "the whole file".to_owned(),
                    reason: refusal.sentence(&name),
                });
                continue;
            }
        };
        findings.files.push(source.clone());
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
    // The CI's lines are shown (the plan, the window, the CLI): a secret written into one (a
    // deploy hook's key, a token) is hidden there, as everywhere; what runs is untouched.
    let shown = |line: &mut String| *line = crate::redact::redact(line).into_owned();
    findings.skipped.iter_mut().for_each(|skipped| shown(&mut skipped.line));
    if let Some(test) = findings.test.as_mut() {
        shown(&mut test.line);
    }
    if let Some((_, lint)) = findings.lint.as_mut() {
        shown(&mut lint.line);
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
                let with = step.get("with");
                let input = |name: &str| with.and_then(|with| with.get(name)).and_then(yaml_text);
                if action.starts_with("actions/setup-python") && findings.python_version.is_none() {
                    findings.python_version = input("python-version")
                        .map(|version| matrix_values(job, &version).unwrap_or(version))
                        .map(|value| Found {
                            value,
                            source: job_source.clone(),
                        });
                }
                if action.starts_with("docker/build-push-action") && findings.docker_build.is_none() {
                    let context = input("context").unwrap_or_else(|| ".".to_owned());
                    findings.docker_build = Some(DockerBuild {
                        dockerfile: input("file").map(|file| file.trim_start_matches("./").to_owned()),
                        context: context.trim_start_matches("./").trim_end_matches('/').to_owned(),
                        source: job_source.clone(),
                    });
                }
                if let Some(reason) = action_reason(action) {
                    findings.skipped.push(SkippedCommand {
                        line: format!("uses: {action}"),
                        source: job_source.clone(),
                        reason: reason.to_owned(),
                    });
                }
            }
        }
        // CircleCI's `cimg/python:3.12` (or `circleci/python:3.9`) image is the Python it runs.
        for image in job.get("docker").and_then(Value::as_sequence).into_iter().flatten() {
            let name = image.get("image").and_then(Value::as_str).unwrap_or_default();
            if let Some((_, tag)) = name.split_once("python:") {
                let version: String = tag.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
                if !version.is_empty() && findings.python_version.is_none() {
                    findings.python_version = Some(Found {
                        value: version,
                        source: job_source.clone(),
                    });
                }
            }
        }
        for (name, service) in job.get("services").and_then(Value::as_mapping).into_iter().flatten() {
            let image = service.get("image").and_then(Value::as_str).unwrap_or_default();
            findings.skipped.push(SkippedCommand {
                line: format!("services: {} ({image})", name.as_str().unwrap_or("?")),
                source: job_source.clone(),
                reason: "your CI starts this service for the tests; Slipway does not start services, so tests that need it need it running here".to_owned(),
            });
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

fn yaml_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// `${{ matrix.python-version }}` → the matrix's values, `3.11, 3.12`.
fn matrix_values(job: &Value, expression: &str) -> Option<String> {
    let name = expression
        .trim()
        .strip_prefix("${{")?
        .strip_suffix("}}")?
        .trim()
        .strip_prefix("matrix.")?;
    let values = job.get("strategy")?.get("matrix")?.get(name)?.as_sequence()?;
    let values: Vec<String> = values.iter().filter_map(yaml_text).collect();
    (!values.is_empty()).then(|| values.join(", "))
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
                    "Your CI lets this check fail (`{how}`); here it is a gate: turn it off in the project's settings."
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
        Role::Setup => {
            collect_pins(&prepared.line, source, &mut findings.pins);
            dotenv_written(root, &prepared, source, &mut findings.env);
            if let Some(install) = install_step(&prepared.command) {
                if !findings.installs.contains(&install) {
                    findings.installs.push(install);
                }
            }
        }
        Role::PreCommit => pre_commit(root, &prepared, source, findings, depth),
        Role::Build => {
            if findings.docker_build.is_none() {
                findings.docker_build = docker_build(&prepared.command, source);
            }
        }
    }
}

/// `pre-commit run`: each hook Slipway knows becomes the check it runs, at the hook's version;
/// the others are listed as not run.
fn pre_commit(root: &Path, prepared: &Prepared, source: &str, findings: &mut CiFindings, depth: usize) {
    let config = root.join(".pre-commit-config.yaml");
    let document = match bounded::read(&config) {
        Ok(document) => document,
        Err(unread) => {
            let name = "pre-commit's configuration (.pre-commit-config.yaml)";
            findings.skipped.push(SkippedCommand {
                line: prepared.line.clone(),
                source: source.to_owned(),
                reason: match unread {
                    Unread::Refused(refusal) => refusal.sentence(name),
                    Unread::Missing | Unread::Invalid(_) => format!("{name} could not be read"),
                },
            });
            return;
        }
    };
    for repo in document.get("repos").and_then(Value::as_sequence).into_iter().flatten() {
        let version = repo
            .get("rev")
            .and_then(yaml_text)
            .map(|rev| rev.trim_start_matches('v').to_owned());
        for hook in repo.get("hooks").and_then(Value::as_sequence).into_iter().flatten() {
            let Some(id) = hook.get("id").and_then(Value::as_str) else {
                continue;
            };
            let (package, command) = match id {
                "flake8" => ("flake8", "flake8"),
                "ruff" | "ruff-check" => ("ruff", "ruff check ."),
                "ruff-format" => ("ruff", "ruff format --check ."),
                "black" => ("black", "black --check ."),
                "isort" => ("isort", "isort --check-only ."),
                "mypy" => ("mypy", "mypy ."),
                other => {
                    findings.skipped.push(SkippedCommand {
                        line: format!("pre-commit hook {other}"),
                        source: format!(".pre-commit-config.yaml, from `pre-commit run` in {source}"),
                        reason: "a pre-commit hook Slipway does not run".to_owned(),
                    });
                    continue;
                }
            };
            // The hook's repository pins the tool (mirrors' revs are the tool's versions).
            if let Some(version) = version.as_ref().filter(|v| v.starts_with(|c: char| c.is_ascii_digit())) {
                if !findings.pins.iter().any(|(known, _)| known == package) {
                    findings.pins.push((
                        package.to_owned(),
                        Found {
                            value: version.clone(),
                            source: ".pre-commit-config.yaml".to_owned(),
                        },
                    ));
                }
            }
            for command in shell::commands(command) {
                let mut inner = prepare(&command);
                inner.notes.insert(
                    0,
                    format!("From `pre-commit run`: the {id} hook in .pre-commit-config.yaml."),
                );
                let via = format!(".pre-commit-config.yaml (hook {id}), from `pre-commit run` in {source}");
                take(root, inner, &via, findings, depth + 1);
            }
        }
    }
}

/// `echo "KEY=value" >> .env` and `cp .envs/ci.env .env`: values the CI writes for the app to
/// read, kept as the CI's values.
fn dotenv_written(root: &Path, prepared: &Prepared, source: &str, env: &mut Vec<(String, CiVariable)>) {
    let line = prepared.line.as_str();
    let mut found: Vec<(String, String)> = Vec::new();
    static ECHO: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r#"echo\s+["']?([A-Za-z_][A-Za-z0-9_]*)=([^"'>]*?)["']?\s*>>?\s*\S*\.env\b"#).ok());
    if let Some(echo) = ECHO.as_ref() {
        for capture in echo.captures_iter(line) {
            found.push((capture[1].to_owned(), capture[2].trim().to_owned()));
        }
    }
    let (_, words) = split_cd(&prepared.command);
    if let [cp, from, to] = words.as_slice() {
        if cp == "cp" && to.ends_with(".env") {
            for line in read_text(&root.join(from)).unwrap_or_default().lines() {
                let line = line.trim();
                if line.starts_with('#') {
                    continue;
                }
                if let Some((name, value)) = line.strip_prefix("export ").unwrap_or(line).split_once('=') {
                    found.push((
                        name.trim().to_owned(),
                        value.trim().trim_matches(['"', '\'']).to_owned(),
                    ));
                }
            }
        }
    }
    for (name, value) in found {
        if env.iter().any(|(known, _)| *known == name) || name.is_empty() {
            continue;
        }
        let computed = expression(&value);
        env.push((
            name,
            CiVariable {
                value: (!computed).then(|| value.clone()),
                expression: computed.then_some(value),
                source: format!("a .env your CI writes ({source})"),
            },
        ));
    }
}

/// The folder a prepared command runs in (its `cd`), and its words.
fn split_cd(command: &str) -> (Option<String>, Vec<String>) {
    let (dir, rest) = match command.strip_prefix("cd ").and_then(|rest| rest.split_once(" && ")) {
        Some((dir, rest)) => (Some(dir.trim_matches(['\'', '"']).to_owned()), rest),
        None => (None, command),
    };
    (dir, shlex::split(rest).unwrap_or_default())
}

fn under(dir: &Option<String>, path: &str) -> String {
    let path = path.trim_start_matches("./");
    let path = if path == "." { "" } else { path };
    let joined = match dir {
        Some(dir) if path.is_empty() => dir.trim_end_matches('/').to_owned(),
        Some(dir) if dir != "." => format!("{}/{path}", dir.trim_end_matches('/')),
        _ => path.to_owned(),
    };
    joined.trim_start_matches("./").to_owned()
}

/// `.[test,dev]` → `["test", "dev"]`.
fn extras_of(target: &str) -> Option<Vec<String>> {
    let target = target.trim_matches(['\'', '"']);
    let rest = target.strip_prefix('.')?.trim_start_matches('/');
    let extras = rest
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or("");
    Some(
        extras
            .split(',')
            .map(str::trim)
            .filter(|extra| !extra.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// What an install command installs, as far as Slipway can repeat it.
fn install_step(command: &str) -> Option<Install> {
    let (dir, words) = split_cd(command);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let install_at = words
        .windows(2)
        .position(|pair| matches!(pair, ["pip" | "pip3", "install"]))
        .map(|at| at + 2)
        .or_else(|| {
            words
                .windows(3)
                .position(|w| w == ["-m", "pip", "install"])
                .map(|at| at + 3)
        })
        .or_else(|| {
            words
                .windows(3)
                .position(|w| w == ["uv", "pip", "install"])
                .map(|at| at + 3)
        });
    if let Some(start) = install_at {
        let mut packages = Vec::new();
        let mut iter = words[start..].iter();
        while let Some(word) = iter.next() {
            match *word {
                "-r" | "--requirement" => {
                    if let Some(file) = iter.next() {
                        return Some(Install::Requirements(under(&dir, file)));
                    }
                }
                "-e" | "--editable" => {
                    if let Some(target) = iter.next() {
                        if let Some(extras) = extras_of(target) {
                            return Some(Install::Project {
                                extras,
                                groups: Vec::new(),
                            });
                        }
                    }
                }
                "-c" | "--constraint" | "-i" | "--index-url" | "--extra-index-url" | "-f" | "--find-links" => {
                    iter.next();
                }
                option if option.starts_with("-r") && option.len() > 2 => {
                    return Some(Install::Requirements(under(&dir, option[2..].trim_start_matches('='))));
                }
                option if option.starts_with('-') => {}
                target if target.starts_with('.') => {
                    return extras_of(target).map(|extras| Install::Project {
                        extras,
                        groups: Vec::new(),
                    });
                }
                package => packages.push(package.to_owned()),
            }
        }
        return (!packages.is_empty()).then_some(Install::Packages(packages));
    }
    // `uv sync --group dev --extra test`, `poetry install --with test`, `pipenv install --dev`.
    let (groups_flag, extras_flag): (&[&str], &[&str]) = match words.as_slice() {
        ["uv", "sync", ..] => (&["--group"], &["--extra"]),
        ["poetry", "install", ..] => (&["--with", "--only"], &["-E", "--extras"]),
        ["pipenv", "install", ..] | ["pipenv", "sync", ..] => {
            let dev = words.contains(&"--dev") || words.contains(&"-d");
            return Some(Install::Project {
                extras: Vec::new(),
                groups: if dev { vec!["dev".to_owned()] } else { Vec::new() },
            });
        }
        _ => return None,
    };
    let mut extras = Vec::new();
    let mut groups = Vec::new();
    let mut iter = words.iter().skip(2);
    while let Some(word) = iter.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) => (flag, Some(value)),
            None => (*word, None),
        };
        let into = if groups_flag.contains(&flag) {
            &mut groups
        } else if extras_flag.contains(&flag) {
            &mut extras
        } else {
            if flag == "--all-groups" {
                groups.push("*".to_owned());
            } else if flag == "--all-extras" {
                extras.push("*".to_owned());
            }
            continue;
        };
        if let Some(value) = inline.or_else(|| iter.next().copied()) {
            into.extend(value.split(',').map(str::to_owned));
        }
    }
    Some(Install::Project { extras, groups })
}

/// `docker build -f docker/Dockerfile.prod app` → that Dockerfile and context.
fn docker_build(command: &str, source: &str) -> Option<DockerBuild> {
    let (dir, words) = split_cd(command);
    let start = words.iter().position(|word| word == "build")? + 1;
    let mut dockerfile = None;
    let mut context = None;
    let mut iter = words[start..].iter();
    let with_value = [
        "-t",
        "--tag",
        "--build-arg",
        "--target",
        "--platform",
        "--label",
        "--cache-from",
        "--cache-to",
        "--secret",
        "--network",
        "--progress",
        "-o",
        "--output",
    ];
    while let Some(word) = iter.next() {
        match word.as_str() {
            "-f" | "--file" => dockerfile = iter.next().cloned(),
            option if option.starts_with("--file=") => dockerfile = Some(option["--file=".len()..].to_owned()),
            option if with_value.contains(&option) => {
                iter.next();
            }
            option if option.starts_with('-') => {}
            path => context = Some(path.to_owned()),
        }
    }
    let context = under(&dir, context.as_deref().unwrap_or("."));
    let context = if context.is_empty() || context == "." {
        ".".to_owned()
    } else {
        context.trim_end_matches('/').to_owned()
    };
    Some(DockerBuild {
        // `-f` is read from where the command runs, like the context.
        dockerfile: dockerfile.map(|file| under(&dir, &file)),
        context,
        source: source.to_owned(),
    })
}

fn collect_pins(line: &str, source: &str, pins: &mut Vec<(String, Found)>) {
    let installs = line.contains("pip install") || line.contains("pip3 install") || line.contains("-m pip");
    // This module's patterns are compiled once: compiled for each line, they took most of the
    // time a large workflow's reading took.
    static PIN: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"(?i)\b([a-z0-9][a-z0-9_.-]*)\s*==\s*([0-9][A-Za-z0-9.]*)").ok());
    let Some(pin) = PIN.as_ref().filter(|_| installs) else {
        return;
    };
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
    static VARIABLE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\$[A-Za-z_]").ok());
    value.contains("${{")
        || value.contains("$(")
        || value.contains("${")
        || VARIABLE.as_ref().is_some_and(|pattern| pattern.is_match(value))
}

fn collect_env(block: Option<&Value>, source: &str, env: &mut Vec<(String, CiVariable)>) {
    let Some(map) = block.and_then(Value::as_mapping) else {
        return;
    };
    static FALLBACK: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r#"^\$\{\{.*\|\|\s*['"]([^'"]*)['"]\s*\}\}$"#).ok());
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
        // `${{ secrets.X || 'literal' }}`: the CI falls back to the literal, and so do the checks.
        let fallback = FALLBACK
            .as_ref()
            .and_then(|pattern| pattern.captures(text.trim()).map(|capture| capture[1].to_owned()));
        let computed = expression(&text) && fallback.is_none();
        env.push((
            name.to_owned(),
            CiVariable {
                value: fallback.or_else(|| (!computed).then(|| text.clone())),
                expression: computed.then_some(text),
                source: source.to_owned(),
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deploy_hooks_key_in_a_ci_line_is_hidden_where_the_line_is_shown() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(dir.path().join(".circleci"))?;
        std::fs::write(
            dir.path().join(".circleci/config.yml"),
            "version: 2.1\njobs:\n  build:\n    steps:\n      - run: pytest\n      - run: curl -X GET https://api.render.com/deploy/srv-abc?key=hookKey12345\n",
        )?;
        let findings = read_ci(dir.path());
        let hook = findings
            .skipped
            .iter()
            .find(|skipped| skipped.line.contains("deploy/srv-abc"))
            .map(|skipped| skipped.line.clone())
            .unwrap_or_default();
        assert!(!hook.contains("hookKey12345"), "{hook}");
        assert!(hook.contains(crate::redact::REDACTED), "{hook}");
        Ok(())
    }

    /// A CI file that would stall the parser, or take seconds to read, is refused at once, in a
    /// sentence the plan shows (detection hands `skipped` to the plan as it is).
    #[test]
    fn a_deeply_nested_or_huge_ci_file_is_refused_within_a_second_with_the_sentence() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(dir.path().join(".circleci"))?;
        std::fs::create_dir_all(dir.path().join(".github/workflows"))?;
        // 400 KB of nested flow sequences: minutes of the parser's time, unbounded.
        let nested = format!(
            "version: 2.1\njobs:\n  build:\n    steps: {}{}\n",
            "[".repeat(200_000),
            "]".repeat(200_000)
        );
        std::fs::write(dir.path().join(".circleci/config.yml"), nested)?;
        // 5 MB of ordinary jobs: seconds to parse and read, on every plan.
        let mut huge = String::from("on: push\njobs:\n");
        let mut job = 0;
        while huge.len() < 5 * 1024 * 1024 {
            job += 1;
            huge.push_str(&format!(
                "  job{job}:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: python -m pytest -q tests/test_{job}.py\n"
            ));
        }
        std::fs::write(dir.path().join(".github/workflows/huge.yml"), huge)?;
        std::fs::write(
            dir.path().join(".github/workflows/ci.yml"),
            "jobs:\n  test:\n    steps:\n      - run: pytest\n",
        )?;
        let start = std::time::Instant::now();
        let findings = read_ci(dir.path());
        let took = start.elapsed();
        assert!(took < std::time::Duration::from_secs(1), "{took:?}");
        let reasons: Vec<&str> = findings.skipped.iter().map(|skipped| skipped.reason.as_str()).collect();
        assert!(
            reasons
                .contains(&"The CircleCI file is too deeply nested to read (more than 200 levels): Slipway ignores it"),
            "{reasons:?}"
        );
        assert!(
            reasons.contains(
                &"The workflow .github/workflows/huge.yml is too large to read (5.0 MB, the limit is 1 MB): Slipway ignores it"
            ),
            "{reasons:?}"
        );
        // The other workflow is still read.
        assert_eq!(findings.files, [".github/workflows/ci.yml"]);
        assert_eq!(findings.test.map(|test| test.command).as_deref(), Some("pytest"));
        Ok(())
    }

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
        let mut findings = CiFindings::default();
        read_document(
            Path::new("/nonexistent"),
            &serde_norway::from_str(text)?,
            source,
            &mut findings,
        );
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
        assert!(findings
            .skipped
            .iter()
            .any(|skipped| skipped.line == "services: postgres (postgres:16)"));
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
}
