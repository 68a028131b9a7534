//! Task runners the CI calls instead of the tools: `just`, `make`, `tox`, `nox`, `invoke`, and
//! the project's own shell scripts (`bash scripts/test.sh`).
//! Their recipes are read to find the real commands, so a recipe's line counts as a CI line
//! would (a Makefile's `-flake8` lets lint fail as `|| true` does).

use std::path::Path;

use regex::Regex;

use crate::project::files::read_text;

/// One line a recipe runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipeLine {
    pub text: String,
    /// The recipe lets this line fail (`-` before it in a Justfile or Makefile).
    pub lets_fail: Option<String>,
    /// The file and recipe, in words: `Justfile (recipe lint)`.
    pub source: String,
}

/// The lines `program targets…` runs, read from its recipe file in `dir`; `Err` says why the
/// recipe could not be read.
pub fn recipe_lines(dir: &Path, program: &str, targets: &[String]) -> Result<Vec<RecipeLine>, String> {
    match program {
        "just" => just(dir, targets),
        "make" => make(dir, targets),
        "tox" => tox(dir, targets),
        "nox" => python_tasks(dir, "noxfile.py", targets, r#"session\.run\(([^)]*)\)"#, true),
        "sh" => shell_script(dir, targets),
        _ => python_tasks(
            dir,
            "tasks.py",
            targets,
            r#"\b(?:c|ctx|context)\.run\(([^)]*)\)"#,
            false,
        ),
    }
}

fn first_file(dir: &Path, names: &[&str]) -> Option<(String, String)> {
    names
        .iter()
        .find_map(|name| read_text(&dir.join(name)).map(|text| ((*name).to_owned(), text)))
}

/// A recipe line's prefixes: `@` (quiet) and `-` (ignore errors), in either order.
fn strip_prefixes(line: &str, marker: &str) -> (String, Option<String>) {
    let mut text = line.trim();
    let mut lets_fail = None;
    while let Some(first) = text.chars().next().filter(|c| matches!(c, '@' | '-' | '+')) {
        if first == '-' {
            lets_fail = Some(format!("`-` before the line in {marker}"));
        }
        text = text[1..].trim_start();
    }
    (text.to_owned(), lets_fail)
}

fn just(dir: &Path, targets: &[String]) -> Result<Vec<RecipeLine>, String> {
    let (file, text) = first_file(dir, &["justfile", "Justfile", ".justfile"]).ok_or("no Justfile was found")?;
    let header = Regex::new(r"^@?([A-Za-z0-9_-]+)((?:\s+[^:=\s][^:]*)?)\s*:([^=].*)?$").map_err(|e| e.to_string())?;
    let mut recipes: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    let mut default = None;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(recipe) = recipes.last_mut() {
                if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
                    recipe.2.push(line.trim().to_owned());
                }
            }
            continue;
        }
        if let Some(capture) = header.captures(line) {
            let dependencies = capture
                .get(3)
                .map(|deps| {
                    deps.as_str()
                        .split_whitespace()
                        .map(|dep| dep.trim_matches(['(', ')']).to_owned())
                        .filter(|dep| !dep.is_empty() && !dep.starts_with('#'))
                        .collect()
                })
                .unwrap_or_default();
            default.get_or_insert_with(|| capture[1].to_owned());
            recipes.push((capture[1].to_owned(), dependencies, Vec::new()));
        } else if !line.trim().is_empty() {
            recipes.push((String::new(), Vec::new(), Vec::new())); // settings, variables
        }
    }
    let wanted: Vec<String> = if targets.is_empty() {
        default.into_iter().collect()
    } else {
        targets.to_vec()
    };
    let mut lines = Vec::new();
    for target in &wanted {
        expand(&recipes, target, &file, &mut lines, 0)?;
    }
    Ok(lines)
}

/// A recipe's dependencies first, then its own lines.
fn expand(
    recipes: &[(String, Vec<String>, Vec<String>)],
    target: &str,
    file: &str,
    lines: &mut Vec<RecipeLine>,
    depth: usize,
) -> Result<(), String> {
    let Some((_, dependencies, body)) = recipes.iter().find(|(name, _, _)| name == target) else {
        // A Makefile's prerequisite with no rule is a file (`app: requirements.txt`).
        if depth > 0 && file.to_lowercase().ends_with("makefile") {
            return Ok(());
        }
        return Err(format!("{file} has no recipe `{target}`"));
    };
    if depth > 8 {
        return Err(format!("{file}'s recipes depend on each other in a loop"));
    }
    for dependency in dependencies {
        expand(recipes, dependency, file, lines, depth + 1)?;
    }
    let marker = format!("{file} (recipe {target})");
    let parameter = Regex::new(r"\{\{[^}]*\}\}").map_err(|e| e.to_string())?;
    for line in body {
        let (text, lets_fail) = strip_prefixes(line, &marker);
        // `{{args}}`-style parameters are empty when the CI gives none.
        let text = parameter.replace_all(&text, "").trim().to_owned();
        if text.starts_with("#!") {
            continue;
        }
        lines.push(RecipeLine {
            text,
            lets_fail,
            source: marker.clone(),
        });
    }
    Ok(())
}

fn make(dir: &Path, targets: &[String]) -> Result<Vec<RecipeLine>, String> {
    let (file, text) = first_file(dir, &["GNUmakefile", "makefile", "Makefile"]).ok_or("no Makefile was found")?;
    let text = text.replace("\\\n", " ");
    let variable = Regex::new(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\?=|:=|::=|=)\s*(.*)$").map_err(|e| e.to_string())?;
    let rule =
        Regex::new(r"^([A-Za-z0-9_./%-]+(?:\s+[A-Za-z0-9_./%-]+)*)\s*::?([^=].*)?$").map_err(|e| e.to_string())?;
    let mut variables: Vec<(String, String)> = Vec::new();
    let mut recipes: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    let mut default = None;
    for line in text.lines() {
        if line.starts_with('\t') {
            if let Some(recipe) = recipes.last_mut() {
                recipe.2.push(line.trim().to_owned());
            }
            continue;
        }
        // `test: install ## Run the tests`: the self-documenting style's help text is a
        // comment, not prerequisites (nor part of a variable's value).
        let line = line.split_once('#').map_or(line, |(before, _)| before.trim_end());
        if let Some(capture) = variable.captures(line) {
            variables.push((capture[1].to_owned(), capture[2].trim().to_owned()));
            continue;
        }
        // `target: deps ; command` has its recipe's first line after the `;`.
        let (line, inline_recipe) = match line.split_once(';') {
            Some((rule_part, recipe)) => (rule_part.trim_end(), Some(recipe.trim())),
            None => (line, None),
        };
        if let Some(capture) = rule.captures(line) {
            let dependencies: Vec<String> = capture
                .get(2)
                .map(|deps| deps.as_str().split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default();
            let body: Vec<String> = inline_recipe
                .filter(|recipe| !recipe.is_empty())
                .map(str::to_owned)
                .into_iter()
                .collect();
            for name in capture[1].split_whitespace() {
                if name.starts_with('.') {
                    continue; // .PHONY and other special targets
                }
                default.get_or_insert_with(|| name.to_owned());
                recipes.push((name.to_owned(), dependencies.clone(), body.clone()));
            }
        }
    }
    let wanted: Vec<String> = if targets.is_empty() {
        default.into_iter().collect()
    } else {
        targets.to_vec()
    };
    let mut lines = Vec::new();
    for target in &wanted {
        expand(&recipes, target, &file, &mut lines, 0)?;
    }
    let reference = Regex::new(r"\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]").map_err(|e| e.to_string())?;
    for line in &mut lines {
        for _ in 0..4 {
            let replaced = reference
                .replace_all(&line.text, |capture: &regex::Captures<'_>| {
                    if &capture[1] == "MAKE" {
                        return "make".to_owned();
                    }
                    variables
                        .iter()
                        .rev()
                        .find(|(name, _)| *name == capture[1])
                        .map(|(_, value)| value.clone())
                        .unwrap_or_default()
                })
                .into_owned();
            if replaced == line.text {
                break;
            }
            line.text = replaced;
        }
        line.text = line.text.replace("$$", "$");
    }
    Ok(lines)
}

/// A tox environment's `commands`, from `tox.ini` (`[testenv:NAME]`, else `[testenv]`).
fn tox(dir: &Path, targets: &[String]) -> Result<Vec<RecipeLine>, String> {
    let text = read_text(&dir.join("tox.ini"))
        .ok_or("no tox.ini was found (tox's settings in pyproject.toml or tox.toml are not read yet)")?;
    let sections = ini_sections(&text);
    let envlist = sections
        .iter()
        .find(|(name, _)| name == "tox")
        .and_then(|(_, keys)| keys.iter().find(|(key, _)| key == "envlist" || key == "env_list"))
        .map(|(_, value)| {
            value
                .split([',', '\n'])
                .map(|env| env.trim().to_owned())
                .filter(|env| !env.is_empty())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let wanted = if targets.is_empty() { envlist } else { targets.to_vec() };
    let posargs = Regex::new(r"\{posargs(?::([^}]*))?\}").map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    for env in wanted.iter().chain(wanted.is_empty().then(String::new).iter()) {
        let own = format!("testenv:{env}");
        let section = sections
            .iter()
            .find(|(name, _)| *name == own)
            .or_else(|| sections.iter().find(|(name, _)| name == "testenv"))
            .ok_or_else(|| format!("tox.ini has no [{own}] or [testenv] section"))?;
        let Some((_, commands)) = section.1.iter().find(|(key, _)| key == "commands") else {
            continue;
        };
        let marker = format!("tox.ini ([{}])", section.0);
        for line in commands
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
        {
            let (text, lets_fail) = strip_prefixes(line, &marker);
            let text = posargs
                .replace_all(&text, "$1")
                .replace("{toxinidir}", ".")
                .trim()
                .to_owned();
            lines.push(RecipeLine {
                text,
                lets_fail,
                source: marker.clone(),
            });
        }
    }
    Ok(lines)
}

/// `[section]` → `key = value` with indented continuation lines joined by newlines.
fn ini_sections(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.starts_with(';') || trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            sections.push((trimmed[1..trimmed.len() - 1].trim().to_owned(), Vec::new()));
            continue;
        }
        let Some((_, keys)) = sections.last_mut() else { continue };
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = keys.last_mut() {
                value.push('\n');
                value.push_str(trimmed);
            }
        } else if let Some((key, value)) = trimmed.split_once('=') {
            keys.push((key.trim().to_owned(), value.trim().to_owned()));
        }
    }
    sections
}

/// The commands of a shell script of the project's, a line each (continuations joined); the
/// shell's own settings (`set -e`) and comments are not commands. A literal `cd DIR` or
/// `export NAME=value` line carries over to the lines after it, as the shell carries them.
fn shell_script(dir: &Path, targets: &[String]) -> Result<Vec<RecipeLine>, String> {
    let file = targets.first().ok_or("no script was named")?;
    let text = script_text(dir, file)?;
    let mut lines = Vec::new();
    let mut pending = String::new();
    let mut folder: Option<String> = None;
    let mut exported: Vec<String> = Vec::new();
    let literal = |word: &str| !word.contains(['$', '`', '(', '*']);
    for line in text.lines() {
        if let Some(start) = line.strip_suffix('\\') {
            pending.push_str(start);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let whole = std::mem::take(&mut pending);
        let command = whole.trim();
        if command.is_empty() || command.starts_with('#') || command.starts_with("set ") {
            continue;
        }
        let words = shlex::split(command).unwrap_or_default();
        match words.as_slice() {
            [cd, to] if cd == "cd" && literal(to) => {
                let to = to.trim_end_matches('/');
                folder = Some(match folder.take() {
                    Some(before) if !to.starts_with('/') => format!("{before}/{to}"),
                    _ => to.to_owned(),
                });
                continue;
            }
            // `cd "$(dirname "$0")/.."`: where it goes cannot be told, so none is assumed.
            [cd, ..] if cd == "cd" => {
                folder = None;
                continue;
            }
            [export, assignments @ ..] if export == "export" && !assignments.is_empty() => {
                exported.extend(assignments.iter().filter(|pair| literal(pair)).filter_map(|pair| {
                    let (name, value) = pair.split_once('=')?;
                    Some(format!("{name}={}", shlex::try_quote(value).ok()?))
                }));
                continue;
            }
            _ => {}
        }
        let mut text = command.to_owned();
        if !exported.is_empty() {
            text = format!("{} {text}", exported.join(" "));
        }
        if let Some(folder) = &folder {
            text = format!(
                "cd {} && {text}",
                shlex::try_quote(folder).map_err(|error| error.to_string())?
            );
        }
        lines.push(RecipeLine {
            text,
            lets_fail: None,
            source: file.clone(),
        });
    }
    Ok(lines)
}

/// A script of the project's, read only when it is a regular file of a sensible size inside
/// the folder the CI runs it from: a CI line can name any path (`bash /etc/x.sh`).
pub(super) fn script_text(dir: &Path, file: &str) -> Result<String, String> {
    let path = Path::new(file);
    let leaves = path.is_absolute()
        || path
            .components()
            .any(|part| matches!(part, std::path::Component::ParentDir));
    if leaves {
        return Err(format!("{file} is outside the project"));
    }
    let full = dir.join(path);
    let size = std::fs::metadata(&full)
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|metadata| metadata.len())
        .ok_or_else(|| format!("{file} was not found"))?;
    if size > 512 * 1024 {
        return Err(format!("{file} is too large to read ({} KB)", size / 1024));
    }
    read_text(&full).ok_or_else(|| format!("{file} could not be read"))
}

/// nox sessions and invoke tasks: the `session.run(…)` / `c.run(…)` calls in the function
/// named like the target (the first one when none is named).
fn python_tasks(
    dir: &Path,
    file: &str,
    targets: &[String],
    call: &str,
    arguments: bool,
) -> Result<Vec<RecipeLine>, String> {
    let text = read_text(&dir.join(file)).ok_or_else(|| format!("no {file} was found"))?;
    let function = Regex::new(r"(?m)^def\s+([A-Za-z0-9_]+)\s*\(").map_err(|e| e.to_string())?;
    let call = Regex::new(call).map_err(|e| e.to_string())?;
    let literal = Regex::new(r#"f?(?:"([^"]*)"|'([^']*)')"#).map_err(|e| e.to_string())?;
    let keyword = Regex::new(r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*=").map_err(|e| e.to_string())?;
    let starts: Vec<(usize, String)> = function
        .captures_iter(&text)
        .filter_map(|capture| Some((capture.get(0)?.start(), capture[1].to_owned())))
        .collect();
    let wanted: Vec<String> = if targets.is_empty() {
        starts.first().map(|(_, name)| name.clone()).into_iter().collect()
    } else {
        targets.iter().map(|target| target.replace('-', "_")).collect()
    };
    let mut lines = Vec::new();
    for target in &wanted {
        let index = starts
            .iter()
            .position(|(_, name)| name == target)
            .ok_or_else(|| format!("{file} has no `{target}`"))?;
        let end = starts.get(index + 1).map_or(text.len(), |(start, _)| *start);
        let body = &text[starts[index].0..end];
        for capture in call.captures_iter(body) {
            let args = &capture[1];
            // Keyword arguments (`env=…`, `external=True`) are not words of the command.
            let positional = args
                .split(',')
                .take_while(|part| !keyword.is_match(part))
                .collect::<Vec<_>>()
                .join(",");
            let words: Vec<String> = literal
                .captures_iter(&positional)
                .filter_map(|word| word.get(1).or(word.get(2)).map(|m| m.as_str().to_owned()))
                .collect();
            if words.is_empty() {
                continue;
            }
            let text = if arguments {
                super::shell::join(&words)
            } else {
                words.join(" ")
            };
            lines.push(RecipeLine {
                text,
                lets_fail: None,
                source: format!("{file} ({target})"),
            });
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scripts_cd_and_exports_carry_to_its_later_lines_and_paths_outside_are_not_read(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("test.sh"),
            "#!/bin/sh\nset -e\ncd backend\nexport DJANGO_SETTINGS_MODULE=app.settings.test\npytest -q\ncd \"$(dirname \"$0\")\"\nflake8\n",
        )?;
        let lines = recipe_lines(dir.path(), "sh", &["test.sh".to_owned()])?;
        assert_eq!(
            texts(&lines),
            [
                "cd backend && DJANGO_SETTINGS_MODULE=app.settings.test pytest -q",
                "DJANGO_SETTINGS_MODULE=app.settings.test flake8",
            ]
        );
        for outside in ["/etc/hostname", "../test.sh"] {
            let refused = recipe_lines(&dir.path().join("sub"), "sh", &[outside.to_owned()]);
            assert!(
                refused.is_err_and(|why| why.contains("outside the project")),
                "{outside}"
            );
        }
        Ok(())
    }

    fn texts(lines: &[RecipeLine]) -> Vec<&str> {
        lines.iter().map(|line| line.text.as_str()).collect()
    }

    #[test]
    fn justfile_recipes_with_dependencies_and_parameters() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("Justfile"),
            "set dotenv-load\n\ndefault: test\n\nsetup:\n    pip install -r requirements.txt\n\n# lint it\nlint: setup\n    ruff check .\n    -ruff format --check .\n\ntest *args:\n    @uv run pytest {{args}}\n",
        )?;
        let lint = recipe_lines(dir.path(), "just", &["lint".into()])?;
        assert_eq!(
            texts(&lint),
            [
                "pip install -r requirements.txt",
                "ruff check .",
                "ruff format --check ."
            ]
        );
        assert!(lint[2].lets_fail.is_some());
        assert_eq!(lint[1].source, "Justfile (recipe lint)");
        assert_eq!(
            texts(&recipe_lines(dir.path(), "just", &["test".into()])?),
            ["uv run pytest"]
        );
        assert!(recipe_lines(dir.path(), "just", &["deploy".into()]).is_err());
        Ok(())
    }

    #[test]
    fn makefile_targets_and_variables() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("Makefile"),
            ".PHONY: test lint\nPY ?= python3\nSRC := app\n\ntest:\n\t$(PY) -m pytest $(SRC)\n\nlint:\n\t-@flake8 $(SRC) --format=html --htmldir=report\n\tblack --check $(SRC)\n",
        )?;
        let lines = recipe_lines(dir.path(), "make", &["test".into(), "lint".into()])?;
        assert_eq!(
            texts(&lines),
            [
                "python3 -m pytest app",
                "flake8 app --format=html --htmldir=report",
                "black --check app"
            ]
        );
        assert!(lines[1].lets_fail.is_some() && lines[2].lets_fail.is_none());
        Ok(())
    }

    /// The self-documenting style (`test: ## Run the tests`, read by a `help` target's grep):
    /// the help text is no prerequisite, the recipe is read, a prerequisite that is a file is
    /// passed over.
    #[test]
    fn makefile_help_comments_are_not_prerequisites() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("Makefile"),
            "SRC = app # the code\n\nhelp: ## Show this help\n\t@grep -E '^[a-z-]+:.*##' Makefile\n\ninstall: requirements.txt ## Install\n\tpip install -r requirements.txt\n\ntest: ## Run the tests\n\tpytest $(SRC)\n\nlint: install ## Lint\n\truff check $(SRC)\n\nfmt: ; black --check .\n",
        )?;
        assert_eq!(
            texts(&recipe_lines(dir.path(), "make", &["test".into()])?),
            ["pytest app"]
        );
        assert_eq!(
            texts(&recipe_lines(dir.path(), "make", &["lint".into()])?),
            ["pip install -r requirements.txt", "ruff check app"]
        );
        assert_eq!(
            texts(&recipe_lines(dir.path(), "make", &["fmt".into()])?),
            ["black --check ."]
        );
        assert!(recipe_lines(dir.path(), "make", &["deploy".into()]).is_err());
        Ok(())
    }

    #[test]
    fn tox_envs_nox_sessions_and_invoke_tasks() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("tox.ini"),
            "[tox]\nenvlist = py311\n\n[testenv]\ndeps = -rrequirements.txt\ncommands =\n    pytest {posargs:-q}\n\n[testenv:lint]\ncommands = flake8 {toxinidir}/app\n",
        )?;
        assert_eq!(
            texts(&recipe_lines(dir.path(), "tox", &["lint".into()])?),
            ["flake8 ./app"]
        );
        assert_eq!(texts(&recipe_lines(dir.path(), "tox", &[])?), ["pytest -q"]);
        std::fs::write(
            dir.path().join("noxfile.py"),
            "import nox\n\n@nox.session\ndef tests(session):\n    session.install('-r', 'requirements.txt')\n    session.run('pytest', '--maxfail=1', env={'X': '1'})\n\n@nox.session\ndef lint(session):\n    session.run(\"ruff\", \"check\", \".\")\n",
        )?;
        assert_eq!(
            texts(&recipe_lines(dir.path(), "nox", &["lint".into()])?),
            ["ruff check ."]
        );
        assert_eq!(
            texts(&recipe_lines(dir.path(), "nox", &["tests".into()])?),
            ["pytest --maxfail=1"]
        );
        std::fs::write(
            dir.path().join("tasks.py"),
            "from invoke import task\n\n@task\ndef test(c):\n    c.run(\"pytest -x\", pty=True)\n",
        )?;
        assert_eq!(
            texts(&recipe_lines(dir.path(), "invoke", &["test".into()])?),
            ["pytest -x"]
        );
        Ok(())
    }
}
