//! What one CI command is for, and how Slipway runs it: wrappers taken off (`poetry run`,
//! `python -m`, `docker exec app …`), options that only change where the output goes left
//! out, and the command sorted into a gate, a task runner to read, a step that deploys or
//! uploads (never run), or set-up Slipway does its own way.

use std::collections::BTreeMap;

use super::image_folder::{compose_files, Container, ContainerKind};
use super::shell::{commands, join, ShellCommand};
use crate::project::gate_spec::{GateKind, LintTool};

/// What a CI command is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    Tests,
    Lint(LintTool),
    /// A check beside tests and lint: its kind and the tool that decides it.
    Gate(GateKind, String),
    /// `just test`, `make lint`, `tox -e lint`, `nox -s tests`, `invoke test`: the recipe
    /// holds the real commands.
    Runner {
        program: String,
        targets: Vec<String>,
    },
    /// Deploys, uploads or notifies: listed in the plan, never run.
    NotAGate(String),
    /// `docker build`: the build step's business.
    Build,
    /// `pre-commit run`: its hooks are read from `.pre-commit-config.yaml`.
    PreCommit,
    /// Installs, prints, moves files: the environment Slipway prepares covers it.
    Setup,
}

/// A CI command made ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub role: Role,
    /// The command as Slipway runs it (with its `cd`).
    pub command: String,
    /// What was changed, in a person's words.
    pub notes: Vec<String>,
    /// Variables set for this command alone (`NAME=value cmd`, `docker run -e`).
    pub env: BTreeMap<String, String>,
    /// How the CI lets it fail, when it does.
    pub lets_fail: Option<String>,
    /// The CI's own line.
    pub line: String,
    /// The command without its `cd`, to run it in another folder.
    pub without_cd: String,
    /// The container the CI runs it in (or starts), when it does.
    pub container: Option<Container>,
}

/// Docker options that take a value, for `exec`, `run` and compose's `run`/`exec`.
const DOCKER_VALUE_OPTIONS: &[&str] = &[
    "-e",
    "--env",
    "--env-file",
    "-w",
    "--workdir",
    "-u",
    "--user",
    "--name",
    "-v",
    "--volume",
    "-p",
    "--publish",
    "--network",
    "--entrypoint",
    "--mount",
    "-l",
    "--label",
    "--platform",
    "--pull",
];
const COMPOSE_VALUE_OPTIONS: &[&str] = &["-f", "--file", "-p", "--project-name", "--env-file", "--profile"];

/// Programs whose step deploys, uploads or notifies, with the reason shown in the plan.
fn not_a_gate(program: &str, words: &[String]) -> Option<&'static str> {
    let second = words.get(1).map(String::as_str).unwrap_or_default();
    Some(match program {
        "docker" | "docker-compose" if matches!(second, "push" | "login" | "logout" | "tag") => {
            "pushes the image: the release's push step does that"
        }
        "curl" | "wget" | "http" => "calls a web address (a deploy hook or a notification): not a check",
        "codecov" | "coveralls" => "uploads coverage to a web service: not a check",
        "twine" | "sentry-cli" | "gh" | "aws" | "gcloud" | "az" | "heroku" | "flyctl" | "fly" | "render" | "ssh"
        | "scp" | "rsync" | "kubectl" | "helm" => "deploys, uploads or notifies: not a check",
        "git" if matches!(second, "push" | "tag") => "pushes to git: not a check",
        _ => return None,
    })
}

pub(super) fn is_python(word: &str) -> bool {
    let name = word.rsplit('/').next().unwrap_or(word);
    name == "python"
        || name == "python3"
        || (name.starts_with("python3.") && name[8..].chars().all(|c| c.is_ascii_digit()))
}

/// Reads one CI command; `None` for a command Slipway has nothing to say about.
pub fn prepare(command: &ShellCommand) -> Prepared {
    let mut notes = Vec::new();
    let mut env: BTreeMap<String, String> = command.env.iter().cloned().collect();
    let mut container = None;
    let words = unwrap(command.words.clone(), &mut notes, &mut env, &mut container);
    let (role, words) = classify(words, &mut notes);
    let mut prepared = Prepared {
        role,
        command: String::new(),
        notes,
        env,
        lets_fail: command.lets_fail.clone(),
        line: command.line.clone(),
        without_cd: String::new(),
        container: container.map(|container| Container {
            cd: command.cd.clone(),
            ..container
        }),
    };
    if !command.output_to.is_empty() && matches!(prepared.role, Role::Tests | Role::Lint(_) | Role::Gate(..)) {
        prepared.notes.push(format!(
            "Your CI sends the output elsewhere ({}); Slipway reads it and shows it instead.",
            command.output_to.join(" ")
        ));
    }
    let shown = ShellCommand {
        words,
        ..command.clone()
    };
    prepared.command = shown.to_line();
    prepared.without_cd = ShellCommand { cd: None, ..shown }.to_line();
    prepared
}

/// The command `sh -c SCRIPT` (or `bash -c`) runs for the checks: the first of the script's
/// commands that is a check (`wait_for_db && python manage.py test` runs the tests), else its
/// first.
fn shell_script_command(words: &[String]) -> Option<ShellCommand> {
    let [shell, flag, script, ..] = words else {
        return None;
    };
    if !matches!(shell.as_str(), "sh" | "bash") || flag != "-c" {
        return None;
    }
    let inner = commands(script);
    let checking = inner.iter().position(|command| {
        let mut words = command.words.clone();
        words = unwrap(words, &mut Vec::new(), &mut BTreeMap::new(), &mut None);
        !matches!(classify(words, &mut Vec::new()).0, Role::Setup)
    });
    let at = checking.unwrap_or(0);
    inner.into_iter().nth(at)
}

/// Takes off what only decides where or how the tool starts.
fn unwrap(
    mut words: Vec<String>,
    notes: &mut Vec<String>,
    env: &mut BTreeMap<String, String>,
    container: &mut Option<Container>,
) -> Vec<String> {
    for _ in 0..6 {
        let Some(first) = words.first().cloned() else {
            return words;
        };
        let second = words.get(1).map(String::as_str).unwrap_or_default();
        let runner = match (first.as_str(), second) {
            ("poetry" | "pipenv" | "pdm" | "rye", "run") => Some(2),
            ("uv", "run") => Some(
                2 + skip_options(
                    &words[2..],
                    &["--group", "--extra", "--with", "--python", "-p", "--package"],
                ),
            ),
            ("hatch", "run") => Some(2),
            ("uvx", _) => Some(1 + skip_options(&words[1..], &["--from", "--with", "--python", "-p"])),
            ("pipx", "run") => Some(2 + skip_options(&words[2..], &["--spec"])),
            ("xvfb-run", _) => Some(1),
            ("sudo", _) => Some(1 + skip_options(&words[1..], &["-u", "--user", "-g", "--group"])),
            ("timeout", _) => Some(2),
            ("env", _) => {
                let assigned = words[1..].iter().take_while(|word| word.contains('=')).count();
                for pair in &words[1..=assigned] {
                    if let Some((name, value)) = pair.split_once('=') {
                        env.insert(name.to_owned(), value.to_owned());
                    }
                }
                Some(1 + assigned)
            }
            _ => None,
        };
        if let Some(count) = runner {
            if matches!(
                first.as_str(),
                "poetry" | "pipenv" | "pdm" | "rye" | "uv" | "hatch" | "pipx"
            ) {
                notes.push(format!(
                    "Your CI starts this with `{first} run`; Slipway runs it directly in the environment it made for the project."
                ));
            } else if first == "uvx" {
                notes.push(
                    "Your CI starts this with `uvx`; Slipway runs it directly in the environment it made for the project."
                        .to_owned(),
                );
            }
            words.drain(..count.min(words.len()));
            continue;
        }
        // `python -m pytest` stays as it is (it puts the folder on sys.path); only `-m` of a
        // tool that has a program of its own is kept too. Nothing to take off.
        if let Some(command) = shell_script_command(&words) {
            env.extend(command.env.iter().cloned());
            words = command.words;
            continue;
        }
        if let Some((found, inner)) = container_command(&words, env) {
            // A container the CI starts with no command (`docker run -d --name app app`) is
            // kept too: a later `docker exec app` runs in it.
            let outermost = container.is_none();
            if outermost {
                *container = Some(found);
            }
            if inner.is_empty() {
                return words;
            }
            // `sh -c "python manage.py wait_for_db && python manage.py test"`: the check it runs.
            let runs = shell_script_command(&inner).map_or_else(|| join(&inner), |command| join(&command.words));
            notes.push(format!(
                "Your CI runs this inside a container (`{}`); Slipway runs `{runs}` in the project's Python environment.",
                join(&words[..words.len() - inner.len()]),
            ));
            words = inner;
            continue;
        }
        return words;
    }
    words
}

fn skip_options(words: &[String], with_value: &[&str]) -> usize {
    let mut index = 0;
    while let Some(word) = words.get(index) {
        if !word.starts_with('-') {
            break;
        }
        index += if with_value.contains(&word.as_str()) { 2 } else { 1 };
    }
    index
}

/// The container of `docker exec|run …` or `docker compose run|exec …` and the command run
/// in it (empty when there is none), with its `-e` values.
fn container_command(words: &[String], env: &mut BTreeMap<String, String>) -> Option<(Container, Vec<String>)> {
    let (start, kind): (usize, ContainerKind) = match words {
        [docker, verb, ..] if docker == "docker" && verb == "exec" => (2, ContainerKind::Exec),
        [docker, verb, ..] if docker == "docker" && verb == "run" => (2, ContainerKind::Run),
        [docker, compose, ..] if (docker == "docker" && compose == "compose") || docker == "docker-compose" => {
            let offset = if docker == "docker-compose" { 1 } else { 2 };
            let after = offset + skip_options(&words[offset..], COMPOSE_VALUE_OPTIONS);
            match words.get(after).map(String::as_str) {
                Some("run" | "exec") => (
                    after + 1,
                    ContainerKind::Compose {
                        files: compose_files(&words[offset..after]),
                    },
                ),
                _ => return None,
            }
        }
        _ => return None,
    };
    let value_options = DOCKER_VALUE_OPTIONS;
    let (mut workdir, mut volumes, mut named, mut values) = (None, Vec::new(), None, Vec::new());
    let mut index = start;
    while let Some(word) = words.get(index) {
        if !word.starts_with('-') {
            break;
        }
        let (option, inline) = match word.split_once('=') {
            Some((option, value)) => (option, Some(value.to_owned())),
            None => (word.as_str(), None),
        };
        let takes_value = value_options.contains(&option);
        let value = match (&inline, takes_value) {
            (Some(value), _) => Some(value.clone()),
            (None, true) => {
                index += 1;
                words.get(index).cloned()
            }
            (None, false) => None,
        };
        match option {
            "-e" | "--env" => {
                if let Some((name, value)) = value.as_deref().and_then(|pair| pair.split_once('=')) {
                    env.insert(name.to_owned(), value.to_owned());
                    values.push((name.to_owned(), value.to_owned()));
                }
            }
            "-w" | "--workdir" => workdir = value,
            "-v" | "--volume" => volumes.extend(value),
            "--name" => named = value,
            _ => {}
        }
        index += 1;
    }
    // The container (exec), image (run) or service (compose) name, then the command.
    let name = words.get(index)?.clone();
    let inner = words.get(index + 1..).unwrap_or_default().to_vec();
    let container = Container {
        kind,
        name,
        workdir,
        volumes,
        named,
        env: values,
        cd: None,
    };
    Some((container, inner))
}

/// Compose's verb and where it is: `docker compose -f ci.yml build web` → `build`.
pub(super) fn compose_verb(words: &[String]) -> Option<&str> {
    let offset = match words {
        [docker, compose, ..] if docker == "docker" && compose == "compose" => 2,
        [compose, ..] if compose == "docker-compose" => 1,
        _ => return None,
    };
    let at = offset + skip_options(&words[offset..], COMPOSE_VALUE_OPTIONS);
    words.get(at).map(String::as_str)
}

/// The tool's name: `pytest` for `python -m pytest`, `manage.py check` for Django's checks.
fn tool_of(words: &[String]) -> (String, usize) {
    let first = words.first().map(String::as_str).unwrap_or_default();
    if is_python(first) {
        match words.get(1).map(String::as_str) {
            Some("-m") => return (words.get(2).cloned().unwrap_or_default(), 3),
            Some(script) if script.ends_with("manage.py") => {
                return (format!("manage.py {}", words.get(2).cloned().unwrap_or_default()), 3)
            }
            _ => return (first.to_owned(), 1),
        }
    }
    if first.ends_with("manage.py") || first == "django-admin" {
        return (format!("manage.py {}", words.get(1).cloned().unwrap_or_default()), 2);
    }
    (first.rsplit('/').next().unwrap_or(first).to_owned(), 1)
}

fn classify(mut words: Vec<String>, notes: &mut Vec<String>) -> (Role, Vec<String>) {
    // `bash scripts/test.sh`, `./scripts/test.sh`: the project's script, read for its commands.
    let script = match words.as_slice() {
        [shell, script, ..] if matches!(shell.as_str(), "sh" | "bash") && script.ends_with(".sh") => Some(script),
        [script, ..] if script.ends_with(".sh") => Some(script),
        _ => None,
    };
    if let Some(script) = script {
        let targets = vec![script.trim_start_matches("./").to_owned()];
        return (
            Role::Runner {
                program: "sh".to_owned(),
                targets,
            },
            words,
        );
    }
    let (tool, args_at) = tool_of(&words);
    let has = |flag: &str| {
        words
            .iter()
            .skip(args_at)
            .any(|word| word == flag || word.starts_with(&format!("{flag}=")))
    };
    let role = match tool.as_str() {
        "pytest" | "py.test" => Role::Tests,
        // `python -m unittest [discover …]`: its results are read from what it prints.
        "unittest" => Role::Tests,
        "coverage" if words.get(args_at).is_some_and(|verb| verb == "run") => {
            // `coverage run -m pytest`, `coverage run manage.py test`: the tests, measured.
            let runs_tests = words.iter().any(|word| word == "pytest")
                || (words.iter().any(|word| word.ends_with("manage.py")) && words.iter().any(|word| word == "test"));
            if runs_tests {
                Role::Tests
            } else {
                Role::Setup
            }
        }
        "coverage" if words.get(args_at).is_some_and(|verb| verb == "report") => {
            Role::Gate(GateKind::Coverage, tool.clone())
        }
        "coverage" => Role::NotAGate("writes a coverage report file: not a check".to_owned()),
        "flake8" => Role::Lint(LintTool::Flake8),
        "ruff" if words.get(args_at).is_some_and(|verb| verb == "format") => {
            Role::Gate(GateKind::Format, "ruff format".to_owned())
        }
        "ruff" => Role::Lint(LintTool::Ruff),
        "black" | "isort" => Role::Gate(GateKind::Format, tool.clone()),
        "mypy" | "pyright" | "basedpyright" => Role::Gate(GateKind::Types, tool.clone()),
        "ty" if words.get(args_at).is_some_and(|verb| verb == "check") => Role::Gate(GateKind::Types, tool.clone()),
        "manage.py check" => Role::Gate(GateKind::Django, tool.clone()),
        "manage.py migrate" | "manage.py collectstatic" | "manage.py compilemessages" => Role::NotAGate(
            "prepares a database or static files: pytest-django and Django's test runner make their own test database"
                .to_owned(),
        ),
        // Unlike Django's runner and pytest-django, these leave the tests' database as it was.
        "alembic" if words.get(args_at).is_some_and(|verb| verb == "upgrade") => Role::NotAGate(
            "migrates the CI's database: Slipway does not run it, so tests that expect its tables will fail until it does".to_owned(),
        ),
        "flask" if words.get(args_at..args_at + 2).is_some_and(|verbs| verbs == ["db", "upgrade"]) => Role::NotAGate(
            "migrates the CI's database: Slipway does not run it, so tests that expect its tables will fail until it does".to_owned(),
        ),
        "pylint" | "bandit" | "pydocstyle" | "codespell" | "djlint" | "vulture" => {
            Role::Gate(GateKind::Lint, tool.clone())
        }
        // prek is pre-commit rewritten: the same file, the same `run`.
        "pre-commit" | "prek" if words.get(1).is_some_and(|verb| verb == "run") => Role::PreCommit,
        "apt-get" | "apt" | "apk" | "yum" | "dnf" | "brew"
            if words
                .iter()
                .skip(1)
                .find(|word| !word.starts_with('-'))
                .is_some_and(|verb| verb == "install" || verb == "add") =>
        {
            // `apt-get -y install libpq-dev`: the programs are the words after the verb.
            let programs: Vec<&str> = words
                .iter()
                .skip(1)
                .skip_while(|word| word.starts_with('-'))
                .skip(1)
                .map(String::as_str)
                .filter(|word| !word.starts_with('-'))
                .collect();
            Role::NotAGate(format!(
                "installs programs on the CI's machine ({}): Slipway does not install programs on your computer; if the project's packages or tests need them, install them first",
                programs.join(" ")
            ))
        }
        "manage.py makemigrations" if has("--check") => Role::Gate(GateKind::Django, tool.clone()),
        "manage.py test" => Role::Tests,
        "just" | "make" | "tox" | "nox" | "invoke" | "inv" => Role::Runner {
            program: tool.clone(),
            targets: runner_targets(&tool, &words[args_at..]),
        },
        "docker" | "docker-compose" if words.get(1).is_some_and(|verb| verb == "build" || verb == "buildx") => {
            Role::Build
        }
        // `docker compose [-f file] build [service]`: the Compose file's build.
        "docker" | "docker-compose" if compose_verb(&words) == Some("build") => Role::Build,
        program => match not_a_gate(program, &words) {
            Some(reason) => Role::NotAGate(reason.to_owned()),
            None => Role::Setup,
        },
    };
    match &role {
        Role::Tests => drop_options(&mut words, args_at, &PYTEST_REPORT_OPTIONS, "pytest", notes),
        Role::Lint(LintTool::Flake8) => drop_options(&mut words, args_at, &FLAKE8_REPORT_OPTIONS, "flake8", notes),
        Role::Lint(LintTool::Ruff) => {
            if words.get(args_at).is_none_or(|word| word != "check") {
                // `ruff .` is the old spelling of `ruff check .`.
                words.insert(args_at, "check".to_owned());
            }
            drop_options(&mut words, args_at + 1, &RUFF_REPORT_OPTIONS, "ruff", notes);
        }
        Role::Gate(GateKind::Format, formatter) => {
            let check = match formatter.as_str() {
                "isort" => ["--check-only", "--check", "-c", "--diff"].iter().any(|flag| has(flag)),
                _ => has("--check"),
            };
            if !check {
                words.insert(args_at + usize::from(formatter == "ruff format"), "--check".to_owned());
                notes.push(format!(
                    "Your CI rewrites the files with {formatter}; Slipway only checks them (`--check`) and never changes the project."
                ));
            }
        }
        _ => {}
    }
    (role, words)
}

/// Options that only change the output's form or destination: `(option, takes a value)`.
type ReportOptions = [(&'static str, bool)];
const PYTEST_REPORT_OPTIONS: [(&str, bool); 6] = [
    ("--cov-report", true),
    ("--junitxml", true),
    ("--junit-xml", true),
    ("--html", true),
    ("--self-contained-html", false),
    ("--resultlog", true),
];
const FLAKE8_REPORT_OPTIONS: [(&str, bool); 6] = [
    ("--format", true),
    ("--htmldir", true),
    ("--output-file", true),
    ("--tee", false),
    ("--exit-zero", false),
    ("-q", false),
];
const RUFF_REPORT_OPTIONS: [(&str, bool); 9] = [
    ("--output-format", true),
    ("--format", true),
    ("--output-file", true),
    ("-o", true),
    ("--exit-zero", false),
    ("--fix", false),
    // Only means something with `--fix`, which is left out.
    ("--exit-non-zero-on-fix", false),
    ("--statistics", false),
    ("--watch", false),
];

fn drop_options(words: &mut Vec<String>, from: usize, options: &ReportOptions, tool: &str, notes: &mut Vec<String>) {
    let mut dropped = Vec::new();
    let mut index = from.min(words.len());
    while index < words.len() {
        let word = words[index].clone();
        let (name, inline) = match word.split_once('=') {
            Some((name, _)) => (name.to_owned(), true),
            None => (word.clone(), false),
        };
        match options.iter().find(|(option, _)| *option == name) {
            // flake8's own default format is the one Slipway reads.
            Some(_) if tool == "flake8" && word == "--format=default" => index += 1,
            Some((_, takes_value)) => {
                let count = if *takes_value && !inline { 2 } else { 1 };
                let end = (index + count).min(words.len());
                dropped.push(words[index..end].join(" "));
                words.drain(index..end);
            }
            None => index += 1,
        }
    }
    if dropped.is_empty() {
        return;
    }
    let exit_zero = dropped.iter().any(|option| option == "--exit-zero");
    let fix = dropped.iter().any(|option| option == "--fix");
    let mut note = format!(
        "`{}` is left out: Slipway reads {tool}'s own output and shows it",
        dropped.join(" ")
    );
    if exit_zero {
        note.push_str("; `--exit-zero` made the CI pass whatever it found, here findings count (turn the gate off in the project's settings if you want it so)");
    }
    if fix {
        note.push_str("; `--fix` would change the project's files, which Slipway never does");
    }
    note.push('.');
    notes.push(note);
}

/// `make test lint` → [test, lint]; `tox -e py311,lint` → [py311, lint]; `nox -s tests`.
fn runner_targets(program: &str, args: &[String]) -> Vec<String> {
    let mut targets = Vec::new();
    let mut iter = args.iter();
    while let Some(word) = iter.next() {
        match (program, word.as_str()) {
            ("tox", "-e") | ("nox", "-s" | "--session" | "--sessions" | "-e") => {
                if let Some(list) = iter.next() {
                    targets.extend(list.split(',').map(str::to_owned));
                }
            }
            ("make", "-C" | "-f" | "--directory" | "--file" | "-j") => {
                iter.next();
            }
            ("tox" | "nox", _) if word.starts_with("-e") && word.len() > 2 => {
                targets.extend(word[2..].trim_start_matches('=').split(',').map(str::to_owned));
            }
            ("just", target) if !target.starts_with('-') && !target.contains('=') => {
                // `just mng migrate`: the recipe, then its arguments.
                targets.push(target.to_owned());
                break;
            }
            (_, "--") => break,
            (_, option) if option.starts_with('-') => {}
            ("tox" | "nox", _) => {}
            (_, target) if !target.contains('=') => targets.push(target.to_owned()),
            _ => {}
        }
    }
    targets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Prepared {
        let found = commands(line);
        assert_eq!(found.len(), 1, "{line}");
        prepare(&found[0])
    }

    #[test]
    fn report_options_and_fallbacks_are_taken_off_flake8() {
        let prepared = one("flake8 --format html --htmldir report || true");
        assert_eq!(prepared.role, Role::Lint(LintTool::Flake8));
        assert_eq!(prepared.command, "flake8");
        assert_eq!(prepared.lets_fail.as_deref(), Some("|| true"));
        assert!(
            prepared.notes[0].contains("--format html --htmldir report"),
            "{:?}",
            prepared.notes
        );
        assert_eq!(one("flake8 . --exit-zero").command, "flake8 .");
        assert_eq!(one("flake8 --format=default").command, "flake8 --format=default");
    }

    #[test]
    fn wrappers_are_taken_off() {
        assert_eq!(one("poetry run pytest -q").command, "pytest -q");
        assert_eq!(one("uv run --frozen ruff check src").command, "ruff check src");
        assert_eq!(one("python -m pytest").command, "python -m pytest");
        assert_eq!(one("ruff .").command, "ruff check .");
        assert_eq!(one("ruff check --output-format=github .").command, "ruff check .");
        let shell = one("bash -c 'DEBUG=1 pytest -x'");
        assert_eq!(shell.command, "pytest -x");
        assert_eq!(shell.env.get("DEBUG").map(String::as_str), Some("1"));
    }

    #[test]
    fn a_shell_script_in_a_container_runs_its_check_not_its_set_up() {
        let tests = one("docker compose run --rm app sh -c \"python manage.py wait_for_db && python manage.py test\"");
        assert_eq!(tests.role, Role::Tests);
        assert!(tests.command.ends_with("python manage.py test"), "{}", tests.command);
        assert!(
            tests
                .notes
                .iter()
                .any(|note| note.contains("Slipway runs `python manage.py test`")),
            "{:?}",
            tests.notes
        );
        let lint = one("docker compose run --rm app sh -c flake8");
        assert!(matches!(lint.role, Role::Lint(LintTool::Flake8)));
        assert!(
            lint.notes.iter().any(|note| note.contains("Slipway runs `flake8`")),
            "{:?}",
            lint.notes
        );
    }

    #[test]
    fn container_forms_run_their_inner_command_with_its_values() {
        let exec = one("docker exec -e SECRET_KEY=dummy -it app pytest --maxfail=1");
        assert_eq!(exec.role, Role::Tests);
        assert_eq!(exec.command, "pytest --maxfail=1");
        assert_eq!(exec.env.get("SECRET_KEY").map(String::as_str), Some("dummy"));
        assert!(
            exec.notes[0].contains("docker exec -e SECRET_KEY=dummy -it app"),
            "{:?}",
            exec.notes
        );
        let run = one("docker run --rm --env DEBUG=0 -v $PWD:/app myimage:latest python -m flake8");
        assert_eq!(run.role, Role::Lint(LintTool::Flake8));
        assert_eq!(run.command, "python -m flake8");
        assert_eq!(run.env.get("DEBUG").map(String::as_str), Some("0"));
        let compose = one("docker compose -f docker-compose.ci.yml run --rm -T web python manage.py check");
        assert_eq!(compose.role, Role::Gate(GateKind::Django, "manage.py check".to_owned()));
        assert_eq!(compose.command, "python manage.py check");
        assert_eq!(one("docker-compose exec -T web pytest").command, "pytest");
    }

    #[test]
    fn each_kind_of_check_is_known() {
        assert_eq!(
            one("black --check .").role,
            Role::Gate(GateKind::Format, "black".into())
        );
        let black = one("black .");
        assert_eq!(black.command, "black --check .");
        assert!(black.notes[0].contains("only checks"));
        assert_eq!(
            one("ruff format --check").role,
            Role::Gate(GateKind::Format, "ruff format".into())
        );
        assert_eq!(one("ruff format .").command, "ruff format --check .");
        assert_eq!(
            one("isort --check-only --diff .").command,
            "isort --check-only --diff ."
        );
        assert_eq!(one("mypy src").role, Role::Gate(GateKind::Types, "mypy".into()));
        assert_eq!(
            one("coverage report --fail-under=80").role,
            Role::Gate(GateKind::Coverage, "coverage".into())
        );
        assert_eq!(one("coverage run -m pytest").role, Role::Tests);
        assert_eq!(
            one("coverage run --source=. manage.py test --settings x").role,
            Role::Tests
        );
        assert_eq!(one("python manage.py test").role, Role::Tests);
        assert!(matches!(one("coverage xml").role, Role::NotAGate(_)));
        assert!(matches!(
            one("python manage.py check --deploy").role,
            Role::Gate(GateKind::Django, _)
        ));
        assert!(matches!(
            one("curl -X POST $RENDER_DEPLOY_HOOK").role,
            Role::NotAGate(_)
        ));
        assert!(matches!(one("docker push me/app:latest").role, Role::NotAGate(_)));
        assert_eq!(one("docker build -t app .").role, Role::Build);
        assert_eq!(one("pip install -r requirements.txt").role, Role::Setup);
        assert_eq!(
            one("tox -e lint,py311").role,
            Role::Runner {
                program: "tox".into(),
                targets: vec!["lint".into(), "py311".into()]
            }
        );
        assert_eq!(
            one("just mng migrate").role,
            Role::Runner {
                program: "just".into(),
                targets: vec!["mng".into()]
            }
        );
        assert_eq!(one("uvx ruff check").command, "ruff check");
        assert_eq!(one("pytest --cov=shop --cov-report=xml").command, "pytest --cov=shop");
        assert!(matches!(
            one("python manage.py migrate --noinput").role,
            Role::NotAGate(_)
        ));
        for migrate in [
            "alembic upgrade head",
            "uv run alembic upgrade head",
            "flask db upgrade",
        ] {
            assert!(
                matches!(&one(migrate).role, Role::NotAGate(why) if why.contains("tables")),
                "{migrate}"
            );
        }
        assert_eq!(one("alembic revision -m x").role, Role::Setup);
        assert_eq!(
            one("sudo apt-get install -y libpq-dev").line,
            "sudo apt-get install -y libpq-dev"
        );
        for line in [
            "sudo apt-get install -y libpq-dev ffmpeg",
            "apt-get -y install libpq-dev ffmpeg",
        ] {
            assert!(
                matches!(&one(line).role, Role::NotAGate(why) if why.contains("(libpq-dev ffmpeg)")),
                "{line}"
            );
        }
        assert_eq!(one("pylint shop").role, Role::Gate(GateKind::Lint, "pylint".into()));
        assert_eq!(one("pre-commit run --all-files").role, Role::PreCommit);
        assert_eq!(
            one("make -C app test").role,
            Role::Runner {
                program: "make".into(),
                targets: vec!["test".into()]
            }
        );
    }
}
