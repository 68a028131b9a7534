//! What the CI's set-up commands tell, as far as Slipway can repeat them: what `pip install`,
//! `uv sync`, `poetry install` or `pipenv install` install, which versions `pip install x==1.2`
//! pins, and which Dockerfile and context `docker build` builds.

use std::sync::LazyLock;

use regex::Regex;

use super::findings::{CiVariable, DockerBuild, Found, Install};

/// The folder a prepared command runs in (its `cd`), and its words.
pub(super) fn split_cd(command: &str) -> (Option<String>, Vec<String>) {
    let (dir, rest) = match command.strip_prefix("cd ").and_then(|rest| rest.split_once(" && ")) {
        Some((dir, rest)) => (Some(dir.trim_matches(['\'', '"']).to_owned()), rest),
        None => (None, command),
    };
    (dir, shlex::split(rest).unwrap_or_default())
}

pub(super) fn under(dir: &Option<String>, path: &str) -> String {
    let path = path.trim_start_matches("./");
    let path = if path == "." { "" } else { path };
    let joined = match dir {
        Some(dir) if path.is_empty() => dir.trim_end_matches('/').to_owned(),
        Some(dir) if dir != "." => format!("{}/{path}", dir.trim_end_matches('/')),
        _ => path.to_owned(),
    };
    joined.trim_start_matches("./").to_owned()
}

/// A tool that makes and fills environments of its own (`pip install poetry`): the CI needs it
/// to install the project, Slipway installs the project itself, and put into the project's
/// environment it would replace the versions the project locked (poetry brings its own
/// `packaging`, `requests`, …).
fn is_environment_manager(requirement: &str) -> bool {
    let name = requirement
        .split(['=', '<', '>', '!', '~', ';', '[', ' '])
        .next()
        .unwrap_or_default()
        .to_lowercase()
        .replace('_', "-");
    matches!(name.as_str(), "poetry" | "pipenv" | "pdm" | "hatch" | "pipx" | "rye")
        || name.starts_with("poetry-plugin-")
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
pub(super) fn install_step(command: &str) -> Option<Install> {
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
                package if is_environment_manager(package) => {}
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
pub(super) fn docker_build(command: &str, source: &str) -> Option<DockerBuild> {
    let (dir, words) = split_cd(command);
    let start = words.iter().position(|word| word == "build")? + 1;
    let mut dockerfile = None;
    let mut context = None;
    let mut iter = words[start..].iter();
    let mut args = Vec::new();
    let with_value = [
        "-t",
        "--tag",
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
            option if option == "--build-arg" || option.starts_with("--build-arg=") => {
                let inline = option.strip_prefix("--build-arg=").map(str::to_owned);
                if let Some(mut pair) = inline.or_else(|| iter.next().cloned()) {
                    // `NAME=${{ secrets.X }}` unquoted: GitHub puts the value in before the
                    // shell splits it; the expression's words are one value.
                    while pair.contains("${{") && !pair.contains("}}") {
                        let Some(word) = iter.next() else { break };
                        pair = format!("{pair} {word}");
                    }
                    args.push(build_arg(&pair, source));
                }
            }
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
        args,
    })
}

/// `NAME=value`, or `NAME` alone (docker then takes the value from its own environment, which
/// on the CI is the job's: a value the person gives here).
pub(super) fn build_arg(pair: &str, source: &str) -> (String, CiVariable) {
    match pair.split_once('=') {
        Some((name, value)) => (name.trim().to_owned(), CiVariable::read(value.trim(), source)),
        None => (
            pair.trim().to_owned(),
            CiVariable::read(&format!("${}", pair.trim()), source),
        ),
    }
}

pub(super) fn collect_pins(line: &str, source: &str, pins: &mut Vec<(String, Found)>) {
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
