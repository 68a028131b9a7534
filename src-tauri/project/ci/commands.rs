//! What each command of the CI adds to the findings, once `tools` has said what it is: the
//! test or lint command, another gate, the recipes of a task runner followed (up to three
//! deep), pre-commit's hooks as the checks they run, a step not to run with its reason, or
//! set-up that tells what to install, which versions are pinned and which image is built.

use std::path::Path;

use serde_norway::Value;

use super::bounded::{self, yaml_text, Unread};
use super::compose::compose_build;
use super::findings::{CiCommand, CiFindings, Found, Install};
use super::image_folder::{build_tags, place, ContainerKind, Placement};
use super::setup::{collect_pins, docker_build, install_step, split_cd, under};
use super::shell::quote;
use super::tools::{compose_verb, is_python, prepare, Prepared, Role};
use super::variables::dotenv_written;
use super::COMPOSE_FILES;
use super::{runners, services, shell};
use crate::project::files::read_text;
use crate::project::gate_spec::{Gate, GateKind, LintTool, SkippedCommand};

/// `python path/to/script.py`: a script that runs its own tests (`unittest.main()`,
/// `pytest.main(`) is the tests; any other script of the project's (not `manage.py`, not
/// `setup.py`) is listed as not run, so the person sees it was read.
fn script_role(root: &Path, cd: &Option<String>, words: &[String], prepared: &mut Prepared) {
    let [python, script, ..] = words else {
        return;
    };
    let name = script.rsplit('/').next().unwrap_or(script);
    if !is_python(python) || !name.ends_with(".py") || matches!(name, "manage.py" | "setup.py") {
        return;
    }
    let text = runners::script_text(root, &under(cd, script)).unwrap_or_default();
    prepared.role = if text.contains("unittest.main(") || text.contains("pytest.main(") {
        prepared.notes.push(format!(
            "`{script}` runs its own tests when started; Slipway reads what it prints."
        ));
        Role::Tests
    } else {
        Role::NotAGate(format!(
            "runs the project's script {script}: not a check Slipway knows, so it does not run it"
        ))
    };
}

/// Files one prepared command into the findings; runners are followed into their recipes.
pub(super) fn take(root: &Path, mut prepared: Prepared, source: &str, findings: &mut CiFindings, depth: usize) {
    let (cd, words) = split_cd(&prepared.command);
    if let Some((files, names)) = services::compose_up(&words) {
        // The stack's files say which images the CI's later `exec`s run in; the services it
        // names are started for the tests.
        findings
            .images
            .composed(files.iter().map(|file| under(&cd, file)).collect());
        let line = prepared.line.as_str();
        return services::from_compose(root, cd.as_deref(), &files, &names, line, source, findings);
    }
    if let Some(container) = &prepared.container {
        findings.images.started(container);
        // `docker compose run app pytest` starts what `app` depends on (its database) first.
        let checks = matches!(prepared.role, Role::Tests | Role::Gate(..) | Role::Runner { .. });
        if let (ContainerKind::Compose { files }, true) = (&container.kind, checks) {
            let (cd, line) = (container.cd.as_deref(), prepared.line.as_str());
            services::depends_on(root, cd, files, &container.name, line, source, findings);
        }
    }
    // A runner run in the image (`docker compose run web make test`) reads the recipe there.
    if matches!(
        prepared.role,
        Role::Tests | Role::Lint(_) | Role::Gate(..) | Role::Runner { .. }
    ) {
        in_image_folder(root, &mut prepared, findings);
    }
    if matches!(prepared.role, Role::Setup) {
        script_role(root, &cd, &words, &mut prepared);
    }
    let mut notes = prepared.notes.clone();
    let found = |notes: Vec<String>| CiCommand {
        command: prepared.command.clone(),
        line: prepared.line.clone(),
        source: source.to_owned(),
        notes,
        env: prepared.env.clone(),
        lets_fail: prepared.lets_fail.clone(),
    };
    if matches!(prepared.role, Role::Tests | Role::Lint(_) | Role::Gate(..)) {
        findings.checks_seen += 1;
    }
    match &prepared.role {
        Role::Tests => {
            if findings.test.is_none() {
                findings.test = Some(found(notes));
            }
        }
        Role::Lint(tool) => match &findings.lint {
            None => findings.lint = Some((*tool, found(notes))),
            // A second linter (`ruff check` then `flake8`) is a check of its own, not lost.
            Some((first, _)) if first != tool => {
                let gate = Prepared {
                    role: Role::Gate(GateKind::Lint, tool.package().to_owned()),
                    ..prepared.clone()
                };
                take(root, gate, source, findings, depth);
            }
            Some(_) => {}
        },
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
            // A script is named as the CI calls it (`bash scripts/test.sh`).
            let called = match program.as_str() {
                "sh" => prepared.without_cd.clone(),
                _ => format!("{program} {}", targets.join(" ")).trim().to_owned(),
            };
            // Three deep at most, and nothing read beyond: a script that runs itself ends here.
            let recipe = if depth < 3 {
                runners::recipe_lines(&dir, program, targets)
            } else {
                Ok(Vec::new())
            };
            match recipe {
                Ok(lines) => {
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
                            // Where the runner runs (its container's folder) is where these do.
                            inner.notes.extend(prepared.notes.iter().cloned());
                            inner
                                .notes
                                .insert(0, format!("From `{called}`: {} runs `{}`.", line.source, line.text));
                            take(root, inner, &via, findings, depth + 1);
                        }
                    }
                }
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
                        // The target's name, else the project's configuration, says which
                        // linter it runs; flake8 only when nothing says otherwise.
                        let tool = if targets.iter().any(|target| target.contains("ruff")) {
                            LintTool::Ruff
                        } else {
                            configured_lint_tool(root).map_or(LintTool::Flake8, |(tool, _)| tool)
                        };
                        findings.lint = Some((tool, found(notes)));
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
            let build = match compose_file_and_service(&prepared.command) {
                // `cd deploy && docker compose build`: Compose looks for its file there.
                Some((None, Some(dir), service)) => {
                    let file = COMPOSE_FILES
                        .iter()
                        .map(|name| format!("{}/{name}", dir.trim_end_matches('/')))
                        .find(|file| root.join(file).is_file());
                    compose_build(root, file.as_deref(), service.as_deref())
                }
                Some((file, _, service)) => compose_build(root, file.as_deref(), service.as_deref()),
                None => docker_build(&prepared.command, source).inspect(|build| {
                    // Its tag names the image a later `docker run IMAGE` check runs in.
                    let (_, words) = split_cd(&prepared.command);
                    findings
                        .images
                        .built(build_tags(&words), build.dockerfile.clone(), &build.context);
                }),
            };
            if findings.docker_build.is_none() {
                findings.docker_build = build;
            }
        }
    }
}

/// A check the CI runs inside its image runs in the repository folder the image works in,
/// with that folder's requirements installed; the plan says so, or why it could not be told.
fn in_image_folder(root: &Path, prepared: &mut Prepared, findings: &mut CiFindings) {
    let Some(container) = &prepared.container else {
        return;
    };
    let mut env = Vec::new();
    let placement = place(root, container, &findings.images, &mut env);
    prepared.notes.push(placement.note(container.cd.as_deref()));
    // The container's own values (`docker run -e`, compose's `environment:`) reach the check
    // there; the check's line decides where both give one.
    for (name, value) in env {
        prepared.env.entry(name).or_insert(value);
    }
    let Placement::Folder { folder, .. } = placement else {
        return;
    };
    prepared.command = if folder.is_empty() {
        prepared.without_cd.clone()
    } else {
        format!("cd {} && {}", quote(&folder), prepared.without_cd)
    };
    // The image installs its folder's requirements: the tools and the code's own packages.
    let requirements = if folder.is_empty() {
        "requirements.txt".to_owned()
    } else {
        format!("{folder}/requirements.txt")
    };
    let install = Install::ImageRequirements(requirements.clone());
    let listed = findings.installs.iter().any(|known| {
        matches!(known, Install::Requirements(file) | Install::ImageRequirements(file) if *file == requirements)
    });
    if root.join(&requirements).is_file() && !listed {
        findings.installs.push(install);
    }
}

/// `docker compose -f ci.yml build web` → the file (`-f`), the folder it runs in and the
/// service, when they are named; `None` for a command that is not Compose's build.
type ComposeBuild = (Option<String>, Option<String>, Option<String>);
fn compose_file_and_service(command: &str) -> Option<ComposeBuild> {
    let (dir, words) = split_cd(command);
    if compose_verb(&words) != Some("build") {
        return None;
    }
    let mut file = None;
    let mut service = None;
    let mut iter = words.iter().skip(1);
    let mut past_verb = false;
    while let Some(word) = iter.next() {
        match word.as_str() {
            "-f" | "--file" if !past_verb => file = iter.next().cloned(),
            "build" if !past_verb => past_verb = true,
            option if option.starts_with('-') => {}
            name if past_verb && service.is_none() => service = Some(name.to_owned()),
            _ => {}
        }
    }
    let file = match (file, &dir) {
        (Some(file), Some(dir)) => Some(format!(
            "{}/{}",
            dir.trim_end_matches('/'),
            file.trim_start_matches("./")
        )),
        (file, _) => file,
    };
    Some((file, dir, service))
}

/// The linter the project's configuration files set up, and the file that says so: a
/// `[flake8]` section first (it is only there to be used), then ruff's own files.
pub fn configured_lint_tool(root: &Path) -> Option<(LintTool, String)> {
    for file in [".flake8", "setup.cfg", "tox.ini"] {
        if read_text(&root.join(file)).is_some_and(|text| text.contains("[flake8]")) {
            return Some((LintTool::Flake8, file.to_owned()));
        }
    }
    for file in ["ruff.toml", ".ruff.toml"] {
        if root.join(file).is_file() {
            return Some((LintTool::Ruff, file.to_owned()));
        }
    }
    read_text(&root.join("pyproject.toml"))
        .is_some_and(|text| text.contains("[tool.ruff"))
        .then(|| (LintTool::Ruff, "pyproject.toml".to_owned()))
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
                _ if local_hook(root, hook, id, source, findings, depth) => continue,
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

/// A hook whose `entry` is the command (`repo: local`, `entry: uv run ruff check --fix`): when
/// it is a check Slipway knows, it is taken as that check over every file (pre-commit hands it
/// the files; `.` is all of them). `false` leaves the hook to be listed as not run.
fn local_hook(root: &Path, hook: &Value, id: &str, source: &str, findings: &mut CiFindings, depth: usize) -> bool {
    let Some(entry) = hook.get("entry").and_then(Value::as_str) else {
        return false;
    };
    // A hook of another stage (`pre-push`, `manual`) is not what `pre-commit run` runs.
    let stages: Vec<&str> = hook
        .get("stages")
        .and_then(Value::as_sequence)
        .map(|stages| stages.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !stages.is_empty() && !stages.iter().any(|stage| matches!(*stage, "pre-commit" | "commit")) {
        return false;
    }
    let args: Vec<String> = hook
        .get("args")
        .and_then(Value::as_sequence)
        .map(|args| args.iter().filter_map(yaml_text).collect())
        .unwrap_or_default();
    let quoted: Vec<String> = args
        .iter()
        .filter_map(|arg| shlex::try_quote(arg).ok().map(|quoted| quoted.into_owned()))
        .collect();
    let line = format!("{entry} {}", quoted.join(" ")).trim().to_owned();
    // pre-commit hands the hook its files; `.` stands for all of them, unless the entry names
    // its own paths (`mypy src`) or takes none.
    let last = shlex::split(&line)
        .and_then(|words| words.last().cloned())
        .unwrap_or_default();
    let names_no_path = last.starts_with('-')
        || [
            "ruff", "check", "format", "flake8", "mypy", "black", "isort", "pylint", "pyright",
        ]
        .contains(&last.as_str());
    let files = hook.get("pass_filenames").and_then(Value::as_bool) != Some(false) && names_no_path;
    let line = if files { format!("{line} .") } else { line };
    let commands = shell::commands(&line);
    let [command] = commands.as_slice() else {
        return false;
    };
    let mut inner = prepare(command);
    if !matches!(inner.role, Role::Lint(_) | Role::Gate(..)) {
        return false;
    }
    inner.notes.insert(
        0,
        format!("From `pre-commit run`: the {id} hook in .pre-commit-config.yaml runs `{entry}`."),
    );
    let via = format!(".pre-commit-config.yaml (hook {id}), from `pre-commit run` in {source}");
    take(root, inner, &via, findings, depth + 1);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_pre_commit_hook_is_the_check_its_entry_runs() -> Result<(), Box<dyn std::error::Error>> {
        let root = tempfile::tempdir()?;
        std::fs::write(
            root.path().join(".pre-commit-config.yaml"),
            r#"
repos:
  - repo: local
    hooks:
      - id: local-ruff-check
        entry: uv run ruff check --force-exclude --fix --exit-non-zero-on-fix
        language: unsupported
        types: [python]
      - id: local-mypy
        entry: uv run mypy
        args: [src]
        language: unsupported
      - id: push-pylint
        entry: pylint
        stages: [pre-push]
        language: system
      - id: generate-client
        entry: bash ./scripts/generate-client.sh
        pass_filenames: false
        language: unsupported
"#,
        )?;
        let mut findings = CiFindings::default();
        for command in shell::commands("prek run --all-files") {
            take(root.path(), prepare(&command), "pre-commit.yml", &mut findings, 0);
        }
        let lint = findings
            .lint
            .as_ref()
            .map(|(tool, found)| (*tool, found.command.as_str()));
        assert_eq!(lint, Some((LintTool::Ruff, "ruff check --force-exclude .")));
        let gates: Vec<&str> = findings.gates.iter().map(|gate| gate.command.as_str()).collect();
        assert_eq!(gates, ["mypy src"], "the hook's args are its paths");
        let skipped: Vec<&str> = findings.skipped.iter().map(|skip| skip.line.as_str()).collect();
        assert_eq!(
            skipped,
            ["pre-commit hook push-pylint", "pre-commit hook generate-client"]
        );
        Ok(())
    }

    /// The full-stack FastAPI template's test step: `uv run bash scripts/tests-start.sh` in
    /// `backend/`, whose script runs another that runs coverage over pytest.
    #[test]
    fn a_shell_script_the_ci_runs_is_read_for_its_commands() -> Result<(), Box<dyn std::error::Error>> {
        let root = tempfile::tempdir()?;
        std::fs::create_dir_all(root.path().join("backend/scripts"))?;
        std::fs::write(
            root.path().join("backend/scripts/tests-start.sh"),
            "#! /usr/bin/env bash\nset -e\nset -x\n\npython app/tests_pre_start.py\n\nbash scripts/test.sh \"$@\"\n",
        )?;
        std::fs::write(
            root.path().join("backend/scripts/test.sh"),
            "#!/usr/bin/env bash\n\nset -e\ncoverage run -m pytest \\\n  tests/\ncoverage report --fail-under=90\n",
        )?;
        let mut findings = CiFindings::default();
        let mut command = shell::commands("uv run bash scripts/tests-start.sh").remove(0);
        command.cd = Some("backend".to_owned());
        take(root.path(), prepare(&command), "test-backend.yml", &mut findings, 0);
        let test = findings.test.as_ref().ok_or("no tests")?;
        assert_eq!(test.command, "cd backend && coverage run -m pytest tests/");
        assert!(
            test.source.contains("from `bash scripts/tests-start.sh`"),
            "{}",
            test.source
        );
        let gates: Vec<&str> = findings.gates.iter().map(|gate| gate.command.as_str()).collect();
        assert_eq!(gates, ["cd backend && coverage report --fail-under=90"]);
        let skipped: Vec<&str> = findings.skipped.iter().map(|skip| skip.line.as_str()).collect();
        assert_eq!(skipped, ["python app/tests_pre_start.py"]);
        Ok(())
    }

    #[test]
    fn compose_builds_name_their_file_and_service() {
        assert_eq!(
            compose_file_and_service("docker compose -f ci/compose.yml build --pull worker"),
            Some((Some("ci/compose.yml".to_owned()), None, Some("worker".to_owned())))
        );
        assert_eq!(
            compose_file_and_service("cd deploy && docker-compose build"),
            Some((None, Some("deploy".to_owned()), None))
        );
        assert_eq!(compose_file_and_service("docker build -t app ."), None);
        assert_eq!(compose_file_and_service("docker compose up -d db"), None);
    }
}
