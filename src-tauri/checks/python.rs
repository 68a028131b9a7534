//! Which Python makes the environment: an installed interpreter that satisfies what the
//! project asks for (`.python-version`, `requires-python`), preferring the one its CI runs.
//! Interpreters are looked for where people have them: on PATH (`python3`, `python3.12`),
//! pyenv's versions and uv's managed Pythons.

use std::path::{Path, PathBuf};

use crate::project::PythonEnv;

/// An installed interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    pub path: PathBuf,
    /// The program that answered for `path`, as it said (`sys.executable`): a pyenv shim's
    /// interpreter. Slipway runs this one, sparing each call the shim (a quarter second).
    pub executable: PathBuf,
    pub version: (u32, u32, u32),
    /// The first `python3` on PATH: the machine's own default.
    pub default: bool,
}

impl Interpreter {
    pub fn version_text(&self) -> String {
        format!("{}.{}.{}", self.version.0, self.version.1, self.version.2)
    }
}

/// The version of the interpreter at `path` and the program that answered (`path` when it
/// does not say).
fn version_of(path: &Path) -> Option<((u32, u32, u32), PathBuf)> {
    let output = std::process::Command::new(path)
        .args([
            "-c",
            "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let mut parts = lines.next()?.trim().split('.').map(|part| part.parse::<u32>().ok());
    let version = (parts.next()??, parts.next()??, parts.next()??);
    let executable = lines
        .next()
        .map(|line| PathBuf::from(line.trim()))
        .filter(|said| said.is_absolute() && said.is_file())
        .unwrap_or_else(|| path.to_path_buf());
    Some((version, executable))
}

/// Every interpreter found, each once (by its real path), newest first.
pub fn installed() -> Vec<Interpreter> {
    let home = dirs::home_dir().unwrap_or_default();
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".pyenv"));
    let mut candidates: Vec<PathBuf> = Vec::new();
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        candidates.push(dir.join("python3"));
        // pyenv's shims stand for its versions, which are read below directly: asking each
        // shim costs a pyenv run (about 0.1 s) for nothing new. Only its `python3`, the
        // machine's default, is asked.
        if dir.starts_with(&pyenv) {
            continue;
        }
        for minor in 8..=15 {
            candidates.push(dir.join(format!("python3.{minor}")));
        }
    }
    let roots = [pyenv.join("versions"), home.join(".local/share/uv/python")];
    for root in roots {
        for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
            candidates.push(entry.path().join("bin/python3"));
        }
    }
    // Each interpreter (by its real path) is asked once, all at the same time: one by one,
    // ten of them and pyenv's shim took 0.5 s, as long as the rest of a first check.
    let mut unique: Vec<(PathBuf, PathBuf)> = Vec::new();
    for candidate in candidates {
        let Ok(real) = std::fs::canonicalize(&candidate) else {
            continue;
        };
        if !unique.iter().any(|(known, _)| *known == real) {
            unique.push((real, candidate));
        }
    }
    let versions: Vec<_> = std::thread::scope(|scope| {
        let asked: Vec<_> = unique
            .iter()
            .map(|(_, candidate)| scope.spawn(move || version_of(candidate)))
            .collect();
        asked.into_iter().map(|answer| answer.join().ok().flatten()).collect()
    });
    let mut interpreters: Vec<Interpreter> = Vec::new();
    for ((_, candidate), version) in unique.into_iter().zip(versions) {
        if let Some((version, executable)) = version {
            // PATH's first `python3` is looked at first: the machine's own default.
            let default = interpreters.is_empty() && candidate.file_name().is_some_and(|name| name == "python3");
            interpreters.push(Interpreter {
                path: candidate,
                executable,
                version,
                default,
            });
        }
    }
    interpreters.sort_by_key(|interpreter| std::cmp::Reverse(interpreter.version));
    interpreters
}

fn parts(text: &str) -> Vec<u32> {
    text.trim()
        .trim_end_matches(".*")
        .split('.')
        .map_while(|part| part.parse().ok())
        .collect()
}

fn compare(version: (u32, u32, u32), wanted: &[u32]) -> std::cmp::Ordering {
    let have = [version.0, version.1, version.2];
    let mut padded = wanted.to_vec();
    padded.resize(3, 0);
    have.as_slice().cmp(padded.as_slice())
}

fn prefix_matches(version: (u32, u32, u32), wanted: &[u32]) -> bool {
    let have = [version.0, version.1, version.2];
    !wanted.is_empty() && wanted.iter().zip(have.iter()).all(|(want, have)| want == have)
}

/// Whether `version` satisfies `spec`: a PEP 440 specifier list (`>=3.10,<4`, `~=3.11`), a
/// Poetry constraint (`^3.10`), a bare version (`3.12`, as `.python-version` writes it), or a
/// list of versions any of which will do (`3.11, 3.12`, a CI matrix).
pub fn satisfies(version: (u32, u32, u32), spec: &str) -> bool {
    let spec = spec.trim();
    if spec.is_empty() || spec == "*" {
        return true;
    }
    if let Some(rest) = spec.strip_prefix('^') {
        let wanted = parts(rest);
        let major = wanted.first().copied().unwrap_or(0);
        return compare(version, &wanted).is_ge() && version.0 == major;
    }
    let starts_with_digit = spec.starts_with(|c: char| c.is_ascii_digit());
    if starts_with_digit {
        // `3.12` or `3.11, 3.12`: any of them, as a prefix.
        return spec
            .split([',', ' '])
            .filter(|part| !part.is_empty())
            .any(|part| prefix_matches(version, &parts(part)));
    }
    spec.split(',').all(|clause| {
        let clause = clause.trim();
        let (op, rest) = ["~=", "==", "!=", ">=", "<=", ">", "<"]
            .iter()
            .find_map(|op| clause.strip_prefix(op).map(|rest| (*op, rest)))
            .unwrap_or(("==", clause));
        let wanted = parts(rest);
        match op {
            ">=" => compare(version, &wanted).is_ge(),
            "<=" => compare(version, &wanted).is_le(),
            ">" => compare(version, &wanted).is_gt(),
            "<" => compare(version, &wanted).is_lt(),
            "!=" => !prefix_matches(version, &wanted),
            "~=" => {
                let release = &wanted[..wanted.len().saturating_sub(1).max(1)];
                compare(version, &wanted).is_ge() && prefix_matches(version, release)
            }
            _ => prefix_matches(version, &wanted),
        }
    })
}

/// `3.10.1` → `3.10`, `3.10.1, 3.11.2` → `3.10, 3.11`: the release series of a CI's bare
/// versions; a specifier (`>=3.10`) is kept as it is.
pub fn release_series(spec: &str) -> String {
    if !spec.trim().starts_with(|c: char| c.is_ascii_digit()) {
        return spec.to_owned();
    }
    spec.split([',', ' '])
        .filter(|part| !part.is_empty())
        .map(|part| {
            parts(part)
                .iter()
                .take(2)
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The interpreter to make the environment with, or why there is none.
pub fn choose(python: &PythonEnv, installed: &[Interpreter]) -> Result<Interpreter, String> {
    let allowed: Vec<&Interpreter> = installed
        .iter()
        .filter(|interpreter| {
            python
                .requires_python
                .as_ref()
                .is_none_or(|requires| satisfies(interpreter.version, &requires.value))
        })
        .collect();
    // A value the CI computes (`${{ env.PY_VER }}`) says nothing here.
    let preferred = python
        .ci_python
        .as_ref()
        .filter(|ci| !ci.value.contains('$'))
        .and_then(|ci| {
            // The CI's exact patch (`cimg/python:3.10.1`) is seldom the one installed here:
            // the same minor version is what it means, far more than the machine's default.
            let same_minor = release_series(&ci.value);
            allowed
                .iter()
                .find(|interpreter| satisfies(interpreter.version, &ci.value))
                .or_else(|| {
                    allowed
                        .iter()
                        .find(|interpreter| satisfies(interpreter.version, &same_minor))
                })
                .copied()
        });
    // Without a preference, the machine's own `python3` when it will do, else the newest.
    let default = installed
        .iter()
        .find(|interpreter| interpreter.default)
        .filter(|default| allowed.contains(default));
    if let Some(choice) = preferred.or(default).or_else(|| allowed.first().copied()) {
        return Ok(choice.clone());
    }
    let found = installed
        .iter()
        .map(Interpreter::version_text)
        .collect::<Vec<_>>()
        .join(", ");
    match &python.requires_python {
        Some(requires) => Err(format!(
            "This project needs Python {} ({}), and none is installed here{}. Install it (for example `pyenv install {}` or `uv python install {}`), then try again.",
            requires.value,
            requires.source,
            if found.is_empty() { String::new() } else { format!(" (found {found})") },
            suggestion(&requires.value),
            suggestion(&requires.value),
        )),
        None => Err("No Python 3 was found: install Python 3 (python3 on PATH), then try again.".to_owned()),
    }
}

/// A version to name in "install it": the first one the spec mentions.
fn suggestion(spec: &str) -> String {
    let digits: String = spec
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let wanted = parts(&digits);
    match wanted.as_slice() {
        [major, minor, ..] => format!("{major}.{minor}"),
        [major] => format!("{major}"),
        [] => "3".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::{Detected, Installer};

    #[test]
    fn specifiers_as_projects_write_them() {
        assert!(satisfies((3, 11, 7), ">=3.10,<4"));
        assert!(!satisfies((3, 11, 7), ">=3.13"));
        assert!(satisfies((3, 12, 1), "~=3.12"));
        assert!(!satisfies((3, 11, 0), "~=3.12"));
        assert!(satisfies((3, 11, 7), "^3.10"));
        assert!(satisfies((3, 12, 3), "3.12"));
        assert!(!satisfies((3, 12, 3), "3.12.1"));
        assert!(satisfies((3, 11, 2), "3.10, 3.11"));
        assert!(satisfies((3, 11, 2), "==3.11.*"));
        assert!(!satisfies((3, 11, 2), "!=3.11.*"));
    }

    fn env(requires: Option<&str>, ci: Option<&str>) -> PythonEnv {
        let detected = |value: &str, source: &str| Detected {
            value: value.to_owned(),
            source: source.to_owned(),
        };
        PythonEnv {
            existing: None,
            in_tree: false,
            install_from: Vec::new(),
            installer: Installer::Nothing,
            install_source: String::new(),
            packages: Vec::new(),
            extras: Vec::new(),
            groups: Vec::new(),
            requires_python: requires.map(|value| detected(value, "pyproject.toml")),
            ci_python: ci.map(|value| detected(value, "ci.yml")),
        }
    }

    #[test]
    fn the_choice_honours_the_project_then_its_ci() {
        // Newest first, as `installed` sorts them; a pyenv version's binary is `python3` too.
        let installed = vec![
            Interpreter {
                path: "/home/ann/.pyenv/versions/3.13.0/bin/python3".into(),
                executable: "/home/ann/.pyenv/versions/3.13.0/bin/python3".into(),
                version: (3, 13, 0),
                default: false,
            },
            Interpreter {
                path: "/opt/py312/bin/python3.12".into(),
                executable: "/opt/py312/bin/python3.12".into(),
                version: (3, 12, 4),
                default: false,
            },
            Interpreter {
                path: "/usr/bin/python3".into(),
                executable: "/usr/bin/python3".into(),
                version: (3, 11, 7),
                default: true,
            },
        ];
        assert_eq!(choose(&env(None, None), &installed).map(|i| i.version), Ok((3, 11, 7)));
        assert_eq!(
            choose(&env(None, Some("3.12")), &installed).map(|i| i.version),
            Ok((3, 12, 4))
        );
        // CircleCI's `cimg/python:3.12.1`: the installed 3.12.4, not the default 3.11.
        assert_eq!(
            choose(&env(None, Some("3.12.1")), &installed).map(|i| i.version),
            Ok((3, 12, 4))
        );
        assert_eq!(release_series("3.12.1, 3.13.0"), "3.12, 3.13");
        assert_eq!(release_series(">=3.10"), ">=3.10");
        assert_eq!(
            choose(&env(Some(">=3.12"), None), &installed).map(|i| i.version),
            Ok((3, 13, 0))
        );
        assert_eq!(
            choose(&env(None, Some("${{ env.PY_VER }}")), &installed).map(|i| i.version),
            Ok((3, 11, 7)),
            "an expression is no preference"
        );
        let missing = choose(&env(Some(">=3.14"), None), &installed).err().unwrap_or_default();
        assert!(
            missing.contains("needs Python >=3.14 (pyproject.toml)") && missing.contains("pyenv install 3.14"),
            "{missing}"
        );
    }
}
