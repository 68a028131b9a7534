//! The requirement lines an environment is installed from when the project declares its
//! dependencies in `pyproject.toml`: Poetry's lock or constraints, PEP 621 dependencies with
//! extras and PEP 735 dependency groups, and uv's lock. Slipway reads them itself and pip
//! installs the result, so the project itself is never installed (nothing is written into
//! it: no `*.egg-info`) and no Poetry or uv is needed on the machine.

use std::collections::BTreeMap;
use std::path::Path;

use crate::project::decode_text;

fn read_toml(path: &Path) -> Result<toml::Table, String> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = decode_text(&std::fs::read(path).map_err(|error| format!("{name} cannot be read: {error}"))?);
    text.parse()
        .map_err(|error| format!("{name} is not valid TOML: {error}"))
}

fn strings(value: Option<&toml::Value>) -> Vec<String> {
    value
        .and_then(toml::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(toml::Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The groups installed when the CI names none: `dev` (uv installs it by default) and the
/// test groups.
fn default_groups(available: &[String]) -> Vec<String> {
    available
        .iter()
        .filter(|group| matches!(group.as_str(), "dev" | "test" | "tests" | "testing"))
        .cloned()
        .collect()
}

fn chosen(wanted: &[String], available: Vec<String>) -> Vec<String> {
    if wanted.iter().any(|name| name == "*") {
        available
    } else if wanted.is_empty() {
        default_groups(&available)
    } else {
        wanted.to_vec()
    }
}

/// The extras to install: those named, or every one the table has for `*` (`--all-extras`).
fn wanted_extras(optional: Option<&toml::Table>, extras: &[String]) -> Vec<String> {
    if extras.iter().any(|extra| extra == "*") {
        optional
            .map(|table| table.keys().cloned().collect())
            .unwrap_or_default()
    } else {
        extras.to_vec()
    }
}

/// `[project].dependencies`, the optional dependencies of `extras` and the dependency
/// groups `groups` (`include-group` followed), as pip requirement lines.
pub fn pyproject_requirements(root: &Path, extras: &[String], groups: &[String]) -> Result<Vec<String>, String> {
    let pyproject = read_toml(&root.join("pyproject.toml"))?;
    let project = pyproject.get("project");
    let mut lines = strings(project.and_then(|project| project.get("dependencies")));
    let optional = project
        .and_then(|project| project.get("optional-dependencies"))
        .and_then(toml::Value::as_table);
    for extra in &wanted_extras(optional, extras) {
        lines.extend(strings(optional.and_then(|table| table.get(extra))));
    }
    let table = pyproject.get("dependency-groups").and_then(toml::Value::as_table);
    let available: Vec<String> = table.map(|table| table.keys().cloned().collect()).unwrap_or_default();
    for group in chosen(groups, available) {
        group_lines(table, &group, &mut lines, 0)?;
    }
    Ok(lines)
}

fn group_lines(table: Option<&toml::Table>, group: &str, lines: &mut Vec<String>, depth: usize) -> Result<(), String> {
    if depth > 8 {
        return Err(format!("the dependency group {group} includes itself"));
    }
    let Some(items) = table.and_then(|table| table.get(group)).and_then(toml::Value::as_array) else {
        return Err(format!("pyproject.toml has no dependency group {group}"));
    };
    for item in items {
        match item {
            toml::Value::String(line) => lines.push(line.clone()),
            toml::Value::Table(include) => {
                if let Some(other) = include.get("include-group").and_then(toml::Value::as_str) {
                    group_lines(table, other, lines, depth + 1)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The versions `uv.lock` pins for the project's dependencies, its `extras` and its dependency
/// groups `groups`, each with the marker of the edge that brought it in.
pub fn uv_requirements(root: &Path, extras: &[String], groups: &[String]) -> Result<Vec<String>, String> {
    let lock = read_toml(&root.join("uv.lock"))?;
    let packages = lock
        .get("package")
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let is_local = |package: &toml::Value| {
        package
            .get("source")
            .and_then(toml::Value::as_table)
            .is_some_and(|source| {
                ["editable", "virtual", "directory", "path"]
                    .iter()
                    .any(|key| source.contains_key(*key))
            })
    };
    let project_name = read_toml(&root.join("pyproject.toml"))
        .ok()
        .and_then(|pyproject| pyproject.get("project")?.get("name")?.as_str().map(str::to_owned));
    // Names compare as PyPI does: `Starminder` in pyproject.toml is `starminder` in the lock.
    let normal = |name: &str| name.to_lowercase().replace(['_', '.'], "-");
    let project = packages
        .iter()
        .find(|package| {
            is_local(package)
                && project_name.as_deref().is_none_or(|wanted| {
                    package.get("name").and_then(toml::Value::as_str).map(normal) == Some(normal(wanted))
                })
        })
        .ok_or("uv.lock has no entry for the project itself")?;
    let by_name = |name: &str| {
        packages
            .iter()
            .find(|package| package.get("name").and_then(toml::Value::as_str) == Some(name))
    };
    // Edges to follow: (name, marker, extras of that package).
    let edges = |list: Option<&toml::Value>| -> Vec<(String, Option<String>, Vec<String>)> {
        list.and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|edge| {
                Some((
                    edge.get("name")?.as_str()?.to_owned(),
                    edge.get("marker").and_then(toml::Value::as_str).map(str::to_owned),
                    strings(edge.get("extra")),
                ))
            })
            .collect()
    };
    let mut queue = edges(project.get("dependencies"));
    let optional = project.get("optional-dependencies").and_then(toml::Value::as_table);
    for extra in &wanted_extras(optional, extras) {
        queue.extend(edges(optional.and_then(|table| table.get(extra))));
    }
    let dev = project.get("dev-dependencies").and_then(toml::Value::as_table);
    let available: Vec<String> = dev.map(|table| table.keys().cloned().collect()).unwrap_or_default();
    for group in chosen(groups, available) {
        queue.extend(edges(dev.and_then(|table| table.get(&group))));
    }
    // name → (version, markers; `None` once an edge without a marker reaches it).
    let mut chosen_packages: BTreeMap<String, (String, Option<Vec<String>>)> = BTreeMap::new();
    let mut seen_extras: Vec<(String, String)> = Vec::new();
    while let Some((name, marker, package_extras)) = queue.pop() {
        let Some(package) = by_name(&name) else { continue };
        if is_local(package) {
            continue;
        }
        let version = package
            .get("version")
            .and_then(toml::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let first_visit = !chosen_packages.contains_key(&name);
        let entry = chosen_packages
            .entry(name.clone())
            .or_insert((version, Some(Vec::new())));
        match (&mut entry.1, marker) {
            (Some(markers), Some(marker)) if !markers.contains(&marker) => markers.push(marker),
            (markers, None) => *markers = None,
            _ => {}
        }
        if first_visit {
            queue.extend(edges(package.get("dependencies")));
        }
        for extra in package_extras {
            if !seen_extras.contains(&(name.clone(), extra.clone())) {
                seen_extras.push((name.clone(), extra.clone()));
                queue.extend(edges(
                    package.get("optional-dependencies").and_then(|table| table.get(&extra)),
                ));
            }
        }
    }
    Ok(chosen_packages
        .into_iter()
        .map(
            |(name, (version, markers))| match markers.filter(|markers| !markers.is_empty()) {
                Some(markers) if markers.len() == 1 => format!("{name}=={version} ; {}", markers[0]),
                Some(markers) => format!(
                    "{name}=={version} ; {}",
                    markers
                        .iter()
                        .map(|marker| format!("({marker})"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
                None => format!("{name}=={version}"),
            },
        )
        .collect())
}

/// pip requirement lines for a Poetry project: the lock's pinned packages, else the
/// constraints of `pyproject.toml` (main and every group) turned into pip's syntax.
pub fn poetry_requirements(root: &Path) -> Result<Vec<String>, String> {
    if let Ok(lock) = std::fs::read_to_string(root.join("poetry.lock")) {
        let lock: toml::Table = lock
            .parse()
            .map_err(|error| format!("poetry.lock is not valid TOML: {error}"))?;
        let packages = lock
            .get("package")
            .and_then(toml::Value::as_array)
            .cloned()
            .unwrap_or_default();
        return Ok(packages
            .iter()
            .filter_map(|package| {
                let name = package.get("name")?.as_str()?;
                let version = package.get("version")?.as_str()?;
                let marker = package.get("markers").and_then(toml::Value::as_str);
                Some(match marker {
                    Some(marker) => format!("{name}=={version} ; {marker}"),
                    None => format!("{name}=={version}"),
                })
            })
            .collect());
    }
    let text = decode_text(&std::fs::read(root.join("pyproject.toml")).map_err(|e| e.to_string())?);
    let pyproject: toml::Table = text
        .parse()
        .map_err(|error| format!("pyproject.toml is not valid TOML: {error}"))?;
    let poetry = pyproject.get("tool").and_then(|tool| tool.get("poetry"));
    let mut tables = Vec::new();
    if let Some(poetry) = poetry {
        tables.extend(poetry.get("dependencies").cloned());
        tables.extend(poetry.get("dev-dependencies").cloned());
        if let Some(groups) = poetry.get("group").and_then(toml::Value::as_table) {
            tables.extend(groups.values().filter_map(|group| group.get("dependencies").cloned()));
        }
    }
    let mut requirements = Vec::new();
    for table in tables.iter().filter_map(toml::Value::as_table) {
        for (name, constraint) in table {
            if name == "python" {
                continue;
            }
            let version = match constraint {
                toml::Value::String(version) => version.clone(),
                toml::Value::Table(details) => details
                    .get("version")
                    .and_then(toml::Value::as_str)
                    .unwrap_or("*")
                    .to_owned(),
                _ => "*".to_owned(),
            };
            requirements.push(format!("{name}{}", pip_specifier(&version)));
        }
    }
    Ok(requirements)
}

/// Poetry's `^1.2`, `~1.2.3`, `1.2.3` and `*` in pip's words.
fn pip_specifier(constraint: &str) -> String {
    let constraint = constraint.trim();
    let numbers = |text: &str| -> Vec<u64> { text.split('.').map(|part| part.parse().unwrap_or(0)).collect() };
    if constraint.is_empty() || constraint == "*" {
        String::new()
    } else if let Some(version) = constraint.strip_prefix('^') {
        let parts = numbers(version);
        let upper = match parts.as_slice() {
            [0, 0, patch, ..] => format!("0.0.{}", patch + 1),
            [0, minor, ..] => format!("0.{}.0", minor + 1),
            [major, ..] => format!("{}.0.0", major + 1),
            [] => return String::new(),
        };
        format!(">={version},<{upper}")
    } else if let Some(version) = constraint.strip_prefix('~').filter(|v| !v.starts_with('=')) {
        let parts = numbers(version);
        let upper = match parts.as_slice() {
            [major] => format!("{}.0", major + 1),
            [major, minor, ..] => format!("{major}.{}", minor + 1),
            [] => return String::new(),
        };
        format!(">={version},<{upper}")
    } else if constraint.starts_with(|c: char| c.is_ascii_digit()) {
        format!("=={constraint}")
    } else {
        constraint.to_owned()
    }
}

/// Pipenv's lock: the default packages and the development ones, at their locked versions.
pub fn pipenv_requirements(root: &Path) -> Result<Vec<String>, String> {
    let text = decode_text(
        &std::fs::read(root.join("Pipfile.lock")).map_err(|error| format!("Pipfile.lock cannot be read: {error}"))?,
    );
    let lock: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| format!("Pipfile.lock is not valid JSON: {error}"))?;
    let mut lines = Vec::new();
    for section in ["default", "develop"] {
        for (name, package) in lock
            .get(section)
            .and_then(serde_json::Value::as_object)
            .into_iter()
            .flatten()
        {
            let Some(version) = package.get("version").and_then(serde_json::Value::as_str) else {
                continue; // a path or VCS requirement: nothing to pin
            };
            let line = match package.get("markers").and_then(serde_json::Value::as_str) {
                Some(markers) => format!("{name}{version} ; {markers}"),
                None => format!("{name}{version}"),
            };
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poetry_constraints_in_pip_words() {
        assert_eq!(pip_specifier("^1.2.3"), ">=1.2.3,<2.0.0");
        assert_eq!(pip_specifier("^0.4"), ">=0.4,<0.5.0");
        assert_eq!(pip_specifier("~1.2.3"), ">=1.2.3,<1.3");
        assert_eq!(pip_specifier("1.16.0"), "==1.16.0");
        assert_eq!(pip_specifier("*"), "");
        assert_eq!(pip_specifier(">=2,<3"), ">=2,<3");
    }

    #[test]
    fn the_lock_wins_over_the_constraints() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("pyproject.toml"), "[tool.poetry.dependencies]\npython = \"^3.9\"\nsix = \"^1.0\"\n[tool.poetry.group.dev.dependencies]\npytest = {version = \"~8.3\"}\n")?;
        assert_eq!(
            poetry_requirements(dir.path())?,
            ["six>=1.0,<2.0.0", "pytest>=8.3,<8.4"]
        );
        std::fs::write(dir.path().join("poetry.lock"), "[[package]]\nname = \"six\"\nversion = \"1.16.0\"\n\n[[package]]\nname = \"tomli\"\nversion = \"2.0.1\"\nmarkers = \"python_version < \\\"3.11\\\"\"\n")?;
        assert_eq!(
            poetry_requirements(dir.path())?,
            ["six==1.16.0", "tomli==2.0.1 ; python_version < \"3.11\""]
        );
        Ok(())
    }

    #[test]
    fn pipfile_lock_default_and_develop() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("Pipfile.lock"),
            r#"{"_meta": {}, "default": {"django": {"version": "==5.1.2"}, "tzdata": {"version": "==2024.2", "markers": "sys_platform == 'win32'"}}, "develop": {"pytest": {"version": "==8.3.3"}, "local": {"path": "."}}}"#,
        )?;
        assert_eq!(
            pipenv_requirements(dir.path())?,
            [
                "django==5.1.2",
                "tzdata==2024.2 ; sys_platform == 'win32'",
                "pytest==8.3.3"
            ]
        );
        Ok(())
    }

    #[test]
    fn pyproject_dependencies_extras_and_groups() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"shop\"\ndependencies = [\"django>=5\"]\n[project.optional-dependencies]\napi = [\"djangorestframework\"]\n[dependency-groups]\ntest = [\"pytest-django\"]\ndev = [{include-group = \"test\"}, \"ruff\"]\ndocs = [\"sphinx\"]\n",
        )?;
        // Nothing named: `dev` (which includes `test`) and `test`, never `docs`.
        let default = pyproject_requirements(dir.path(), &[], &[])?;
        assert_eq!(default, ["django>=5", "pytest-django", "ruff", "pytest-django"]);
        let named = pyproject_requirements(dir.path(), &["api".into()], &["docs".into()])?;
        assert_eq!(named, ["django>=5", "djangorestframework", "sphinx"]);
        assert!(pyproject_requirements(dir.path(), &[], &["nope".into()]).is_err());
        Ok(())
    }

    #[test]
    fn uv_lock_gives_the_locked_versions_with_their_markers() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("pyproject.toml"), "[project]\nname = \"Shop\"\n")?;
        std::fs::write(
            dir.path().join("uv.lock"),
            r#"version = 1
[[package]]
name = "shop"
version = "0.1.0"
source = { virtual = "." }
dependencies = [{ name = "django" }]
[package.dev-dependencies]
dev = [{ name = "pytest-django" }]
docs = [{ name = "sphinx" }]

[[package]]
name = "django"
version = "6.0"
source = { registry = "https://example.invalid/simple" }
dependencies = [{ name = "asgiref" }, { name = "tzdata", marker = "sys_platform == 'win32'" }]

[[package]]
name = "asgiref"
version = "3.8.1"
source = { registry = "https://example.invalid/simple" }

[[package]]
name = "tzdata"
version = "2024.1"
source = { registry = "https://example.invalid/simple" }

[[package]]
name = "pytest-django"
version = "4.9.0"
source = { registry = "https://example.invalid/simple" }
dependencies = [{ name = "pytest" }]

[[package]]
name = "pytest"
version = "8.3.3"
source = { registry = "https://example.invalid/simple" }

[[package]]
name = "sphinx"
version = "8.0"
source = { registry = "https://example.invalid/simple" }
"#,
        )?;
        let lines = uv_requirements(dir.path(), &[], &[])?;
        assert_eq!(
            lines,
            [
                "asgiref==3.8.1",
                "django==6.0",
                "pytest==8.3.3",
                "pytest-django==4.9.0",
                "tzdata==2024.1 ; sys_platform == 'win32'"
            ]
        );
        Ok(())
    }
}
