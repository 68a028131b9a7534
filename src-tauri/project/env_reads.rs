//! The values a project's checks read from the environment: where each is named (`.env.example`,
//! the CI, the settings), whether the settings the tests load read it with no default, and
//! whether a `.env` the app or its runner loads gives it. `needs` turns these into the values
//! a person must give.
//!
//! Only the settings module the tests load counts: a value only the production settings read
//! can never stop the tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::ci::CiFindings;
use super::files::{find_files, read_text};

/// How deep the settings modules are looked for under the app's folder (as detection looks for
/// `manage.py`).
const SEARCH_DEPTH: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EnvVarNeed {
    pub name: String,
    /// Where it was seen: `.env.example`, a CI file, the settings module.
    pub sources: Vec<String>,
    /// A value found beside it (`.env.example`, CI), if any.
    pub example: Option<String>,
    /// The name suggests a secret (`SECRET`, `TOKEN`, `PASSWORD`, `KEY`, `DSN`).
    pub secret: bool,
    /// The literal value the CI's checking jobs set (a dummy secret for the tests is used as
    /// the CI uses it).
    pub ci_value: Option<String>,
    /// The CI computes it or takes it from its secrets (`${{ secrets.X }}`): a person must give
    /// a value.
    pub ci_expression: Option<String>,
    /// The settings the tests load read it with no default (`os.environ["X"]`,
    /// `.get("X").split()`): the app cannot start without it.
    pub required: bool,
    /// The project's settings read it (not only its CI or `.env.example` names it).
    pub read_by_code: bool,
    /// A `.env` file in the project gives it (the app's dotenv reads it there).
    pub in_dotenv: bool,
}

fn is_secret_name(name: &str) -> bool {
    let upper = name.to_uppercase();
    ["SECRET", "TOKEN", "PASSWORD", "PASSWD", "KEY", "DSN", "CREDENTIAL"]
        .iter()
        .any(|word| upper.contains(word))
}

pub(super) fn env_vars(root: &Path, app_root: Option<&str>, ci: &CiFindings) -> Vec<EnvVarNeed> {
    let mut needs: BTreeMap<String, EnvVarNeed> = BTreeMap::new();
    fn add<'a>(
        needs: &'a mut BTreeMap<String, EnvVarNeed>,
        name: &str,
        source: &str,
        example: Option<String>,
    ) -> &'a mut EnvVarNeed {
        let need = needs.entry(name.to_owned()).or_insert_with(|| EnvVarNeed {
            name: name.to_owned(),
            sources: Vec::new(),
            example: None,
            secret: is_secret_name(name),
            ci_value: None,
            ci_expression: None,
            required: false,
            read_by_code: false,
            in_dotenv: false,
        });
        if !need.sources.iter().any(|known| known == source) {
            need.sources.push(source.to_owned());
        }
        if need.example.is_none() {
            need.example = example.filter(|value| !value.is_empty());
        }
        need
    }
    for file in [".env.example", ".env.sample", ".env.template"] {
        let Some(text) = read_text(&root.join(file)) else {
            continue;
        };
        for line in text.lines().map(str::trim).filter(|line| !line.starts_with('#')) {
            let line = line.strip_prefix("export ").unwrap_or(line);
            if let Some((name, value)) = line.split_once('=') {
                let name = name.trim();
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    add(
                        &mut needs,
                        name,
                        file,
                        Some(value.trim().trim_matches(['"', '\'']).to_owned()),
                    );
                }
            }
        }
    }
    for (name, variable) in &ci.env {
        let need = add(&mut needs, name, &variable.source, None);
        need.ci_value = variable.value.clone();
        need.ci_expression = variable.expression.clone();
    }
    for command in ci.test.iter().chain(ci.lint.iter().map(|(_, lint)| lint)) {
        for (name, value) in &command.env {
            add(&mut needs, name, &command.source, None)
                .ci_value
                .get_or_insert_with(|| value.clone());
        }
    }
    let reads = Regex::new(
        r#"os\.environ\[\s*['"](\w+)['"]\s*\]|os\.environ\.get\(\s*['"](\w+)['"]|os\.getenv\(\s*['"](\w+)['"]|\benv(?:\.\w+)?\(\s*['"]([A-Z][A-Z0-9_]*)['"]"#,
    );
    let search_root = app_root.map(|app| root.join(app)).unwrap_or_else(|| root.to_path_buf());
    let settings: Vec<PathBuf> = find_files(&search_root, SEARCH_DEPTH, &|name| name.ends_with(".py"))
        .into_iter()
        .filter(|path| {
            path.file_name().is_some_and(|name| name == "settings.py")
                || path.parent().is_some_and(|parent| parent.ends_with("settings"))
        })
        .collect();
    // Only the settings the tests load can stop them: the DJANGO_SETTINGS_MODULE's file and
    // the files it imports (`from .base import *`); production settings cannot.
    let loaded = tests_settings_files(root, &search_root, ci);
    // The settings module the tests load may set a value outright (`SECRET_KEY = "ci-only"`)
    // after importing the base that reads it from the environment: then it is not needed.
    let overridden = |setting: &str, file: &Path| -> bool {
        let Some(own) = loaded
            .as_ref()
            .and_then(|loaded| loaded.first())
            .filter(|own| own.as_path() != file)
        else {
            return false;
        };
        let text = read_text(&search_root.join(own)).unwrap_or_default();
        Regex::new(&format!(
            r#"(?m)^{}\s*=\s*(?:["'\[\(]|True|False|\d)"#,
            regex::escape(setting)
        ))
        .is_ok_and(|pattern| pattern.is_match(&text))
    };
    if let Ok(reads) = reads {
        for file in settings {
            let counts = loaded.as_ref().is_none_or(|loaded| loaded.contains(&file));
            let Some(text) = read_text(&search_root.join(&file)) else {
                continue;
            };
            let source = search_root.join(&file);
            let source = source.strip_prefix(root).unwrap_or(&source).display().to_string();
            for capture in reads.captures_iter(&text) {
                let Some(whole) = capture.get(0) else { continue };
                if let Some(name) = capture.iter().skip(1).flatten().next() {
                    let line_start = text[..whole.start()].rfind('\n').map_or(0, |at| at + 1);
                    let setting = text[line_start..whole.start()]
                        .split('=')
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .to_owned();
                    let required = counts
                        && read_without_default(&text, whole.start(), whole.end())
                        && !(setting.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                            && !setting.is_empty()
                            && overridden(&setting, &file));
                    let need = add(&mut needs, name.as_str(), &source, None);
                    need.required |= required;
                    // Production settings the tests never load do not make a value needed.
                    need.read_by_code |= counts;
                }
            }
        }
    }
    for folder in [Some(root.to_path_buf()), app_root.map(|app| root.join(app))]
        .into_iter()
        .flatten()
    {
        for line in read_text(&folder.join(".env")).unwrap_or_default().lines() {
            let line = line.trim();
            let line = line.strip_prefix("export ").unwrap_or(line);
            if let Some((name, _)) = line.split_once('=').filter(|_| !line.starts_with('#')) {
                if let Some(need) = needs.get_mut(name.trim()) {
                    need.in_dotenv = true;
                }
            }
        }
    }
    needs.into_values().collect()
}

/// The files of the settings module the tests load (relative to `search_root`), when it can
/// be told: DJANGO_SETTINGS_MODULE from the CI, the pytest configuration or `manage.py`, and
/// the modules it star-imports.
fn tests_settings_files(root: &Path, search_root: &Path, ci: &CiFindings) -> Option<Vec<PathBuf>> {
    // `DJANGO_SETTINGS_MODULE = x.settings`, pytest-django's `--ds=x.settings`, Django's own
    // `--settings x.settings` (in the test command).
    let assignment =
        Regex::new(r#"(?:DJANGO_SETTINGS_MODULE\s*[=:,]\s*['"]?|--ds[= ]|--settings[= ])([A-Za-z_][\w.-]*)"#).ok()?;
    let from_ci = ci
        .env
        .iter()
        .find(|(name, _)| name == "DJANGO_SETTINGS_MODULE")
        .and_then(|(_, variable)| variable.value.clone());
    let from_command = ci
        .test
        .as_ref()
        .and_then(|test| assignment.captures(&test.command).map(|capture| capture[1].to_owned()));
    let from_files = || {
        ["pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini"]
            .iter()
            .map(|file| root.join(file))
            .chain(std::iter::once(search_root.join("manage.py")))
            .filter_map(|file| read_text(&file))
            .find_map(|text| assignment.captures(&text).map(|capture| capture[1].to_owned()))
    };
    let module = from_command.or(from_ci).or_else(from_files)?;
    let as_file = |module: &str| -> Option<PathBuf> {
        let path = PathBuf::from(module.replace('.', "/"));
        [path.with_extension("py"), path.join("__init__.py")]
            .into_iter()
            .find(|candidate| search_root.join(candidate).is_file())
    };
    let star = Regex::new(r"(?m)^from\s+(\.*)([\w.]*)\s+import\s+\*").ok()?;
    let mut files = vec![as_file(&module)?];
    let mut index = 0;
    while let Some(file) = files.get(index).cloned() {
        index += 1;
        let text = read_text(&search_root.join(&file)).unwrap_or_default();
        for capture in star.captures_iter(&text) {
            let (dots, name) = (&capture[1], &capture[2]);
            let imported = if dots.is_empty() {
                as_file(name)
            } else {
                // `from .base import *` is a sibling; each further dot climbs a folder.
                let mut folder = file.parent().map(Path::to_path_buf).unwrap_or_default();
                for _ in 1..dots.len() {
                    folder = folder.parent().map(Path::to_path_buf).unwrap_or_default();
                }
                let path = folder.join(name.replace('.', "/"));
                [path.with_extension("py"), path.join("__init__.py")]
                    .into_iter()
                    .find(|candidate| search_root.join(candidate).is_file())
            };
            if let Some(imported) = imported.filter(|imported| !files.contains(imported)) {
                files.push(imported);
            }
        }
    }
    Some(files)
}

/// Whether the read at `start..end` of `text` has no default and the app cannot do without
/// it: `os.environ["X"]` (a KeyError), `.get("X").split()` (None has no methods), or
/// `SECRET_KEY = os.environ.get("X")` (Django refuses an empty secret key), or
/// django-environ's `env("X")` without a default.
fn read_without_default(text: &str, start: usize, end: usize) -> bool {
    let matched = &text[start..end];
    if matched.starts_with("os.environ[") {
        return true;
    }
    let rest = &text[end..];
    // The call's own arguments: up to its closing parenthesis.
    let Some(close) = rest.find(')') else { return false };
    let arguments = &rest[..close];
    if arguments.contains(',') {
        return false; // a default, or django-environ's `default=`
    }
    let after = rest[close + 1..].trim_start();
    let line_start = text[..start].rfind('\n').map_or(0, |at| at + 1);
    let assigned_to = text[line_start..start].trim();
    after.starts_with('.') || assigned_to.starts_with("SECRET_KEY") || matched.starts_with("env")
}

#[cfg(test)]
mod tests {
    use super::super::detect::detect;
    use super::*;

    fn write(root: &Path, file: &str, text: &str) -> std::io::Result<()> {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap_or(root))?;
        std::fs::write(path, text)
    }

    #[test]
    fn only_the_settings_the_tests_load_make_a_value_required() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        write(root, "manage.py", "")?;
        write(
            root,
            "pytest.ini",
            "[pytest]\nDJANGO_SETTINGS_MODULE = shop.settings.ci\n",
        )?;
        write(root, "shop/__init__.py", "")?;
        write(
            root,
            "shop/settings/base.py",
            "import os\nSECRET_KEY = os.environ.get('SECRET_KEY')\nALLOWED_HOSTS = os.environ.get('DJANGO_ALLOWED_HOSTS').split(',')\n",
        )?;
        write(
            root,
            "shop/settings/ci.py",
            "from .base import *  # noqa\n\nSECRET_KEY = 'ci-only'\n",
        )?;
        write(
            root,
            "shop/settings/production.py",
            "import os\nBUCKET = os.environ['DO_STORAGE_BUCKET']\n",
        )?;
        let needs = detect(root).env_vars;
        let need = |name: &str| needs.iter().find(|need| need.name == name).cloned();
        assert!(
            need("SECRET_KEY").is_some_and(|need| !need.required),
            "the CI settings set it: {needs:?}"
        );
        assert!(
            need("DJANGO_ALLOWED_HOSTS").is_some_and(|need| need.required),
            "{needs:?}"
        );
        assert!(
            need("DO_STORAGE_BUCKET").is_some_and(|need| !need.required && !need.read_by_code),
            "production settings are not loaded: {needs:?}"
        );
        Ok(())
    }
}
