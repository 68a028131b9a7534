//! The values a project's checks read from the environment: where each is named (`.env.example`,
//! the CI, the settings), whether the settings the tests load read it with no default, and
//! whether a `.env` the app or its runner loads gives it. `needs` turns these into the values
//! a person must give.
//!
//! Only the settings module the tests load counts: a value only the production settings read
//! can never stop the tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::ci::CiFindings;
use super::files::{read_text, text_contains, text_contains_stamped, TreeFiles};

mod calls;
mod dotenv;
mod pydantic;

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
    /// A `.env` file in the project gives it, and something loads that file for the tests: the
    /// settings (`load_dotenv()`, `read_env()`, decouple, a pydantic `env_file`) or the CI's
    /// runner (`pipenv run`, whose values Slipway then gives the tests itself).
    pub in_dotenv: bool,
}

/// Names that look like a secret's: a test value or a build argument so named is kept in the
/// keyring.
pub(in crate::project) fn is_secret_name(name: &str) -> bool {
    let upper = name.to_uppercase();
    ["SECRET", "TOKEN", "PASSWORD", "PASSWD", "KEY", "DSN", "CREDENTIAL"]
        .iter()
        .any(|word| upper.contains(word))
}

/// `tree` is the project's tree as detection walked it, as deep as the settings are looked for.
pub(super) fn env_vars(root: &Path, tree: &TreeFiles, app_root: Option<&str>, ci: &CiFindings) -> Vec<EnvVarNeed> {
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
    let search_root = app_root.map(|app| root.join(app)).unwrap_or_else(|| root.to_path_buf());
    let settings = settings_files(tree, &search_root, Path::new(app_root.unwrap_or_default()));
    // Only the settings the tests load can stop them: the DJANGO_SETTINGS_MODULE's file and
    // the files it imports (`from .base import *`); production settings cannot.
    let loaded = tests_settings_files(root, &search_root, ci);
    // When that module cannot be told, production settings still do not count if the project
    // has development or test settings beside them: those are what tests load.
    let counts = |file: &PathBuf| match &loaded {
        Some(loaded) => loaded.contains(file),
        None => !(is_production(file) && settings.iter().any(|other| is_development(other))),
    };
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
    let mut dotenv_folders: Vec<PathBuf> = Vec::new();
    for file in &settings {
        let Some(text) = read_text(&search_root.join(file)) else {
            continue;
        };
        let counts = counts(file);
        let source = search_root.join(file);
        let source = source.strip_prefix(root).unwrap_or(&source).display().to_string();
        let classes = pydantic::settings_classes(&text);
        if counts && (classes.loads_dotenv || dotenv::loads_dotenv(&text)) {
            // The app loads a `.env` itself: from its settings' folder up to the project's.
            let mut folder = search_root.join(file).parent().map(Path::to_path_buf);
            while let Some(at) = folder.filter(|at| at.starts_with(root)) {
                folder = at.parent().map(Path::to_path_buf);
                dotenv_folders.push(at);
            }
        }
        let production_classes = production_classes(&text);
        for read in calls::reads(&text).into_iter().chain(classes.reads) {
            // A `ProductionConfig` class beside a `TestingConfig` one is production's alone.
            let counts = counts && !production_classes.iter().any(|range| range.contains(&read.at));
            let required = counts
                && read.required
                && !(read.setting.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                    && !read.setting.is_empty()
                    && overridden(&read.setting, file));
            let need = add(&mut needs, &read.name, &source, None);
            need.required |= required;
            // Production settings the tests never load do not make a value needed.
            need.read_by_code |= counts;
        }
    }
    // The CI's runner (`pipenv run`) loads the project's `.env` for the tests; Slipway gives its
    // values to the tests itself (see `runner_dotenv`).
    if dotenv::runner_loads_dotenv(ci) {
        dotenv_folders.push(root.to_path_buf());
    }
    for folder in &dotenv_folders {
        for (name, _) in dotenv::values(folder) {
            if let Some(need) = needs.get_mut(&name) {
                need.in_dotenv = true;
            }
        }
    }
    needs.into_values().collect()
}

/// The values of the `.env` the CI's test runner loads (`pipenv run`), which the tests get
/// when Slipway runs them without that runner; empty when the runner loads none.
pub fn runner_dotenv(root: &Path) -> Vec<(String, String)> {
    if dotenv::runner_loads_dotenv(&super::ci::read_ci(root)) {
        dotenv::values(root)
    } else {
        Vec::new()
    }
}

/// The Python files that may hold settings, relative to `search_root`: Django's
/// `settings.py` and `settings/`, Flask's and FastAPI's `config.py` and `config/`, and any
/// file with a pydantic settings class. `app_folder` is `search_root` relative to the tree's root.
fn settings_files(tree: &TreeFiles, search_root: &Path, app_folder: &Path) -> Vec<PathBuf> {
    // A file under a `tests` or `test` folder never counts: those folders are not entered.
    tree.python_files_under(app_folder, &["tests", "test"], &|name, folder, stamp| {
        if !name.ends_with(".py") {
            return false;
        }
        let named = matches!(name, "settings.py" | "config.py" | "conf.py")
            || folder
                .strip_prefix(search_root)
                .is_ok_and(|folder| folder.ends_with("settings") || folder.ends_with("config"));
        named
            || match stamp {
                Some((stamp, started)) => text_contains_stamped(folder, name, Some(stamp), started, "BaseSettings"),
                None => text_contains(&folder.join(name), "BaseSettings"),
            }
    })
}

fn stem(file: &Path) -> String {
    file.file_stem()
        .map(|stem| stem.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

/// `production.py`, `settings_prod.py`, `live.py`: settings only a deploy loads.
fn is_production(file: &Path) -> bool {
    stem(file)
        .split(['_', '-', '.'])
        .any(|word| matches!(word, "production" | "prod" | "live" | "deploy" | "staging"))
}

/// `dev.py`, `local.py`, `test.py`, `settings_ci.py`: settings tests and people run with.
fn is_development(file: &Path) -> bool {
    stem(file).split(['_', '-', '.']).any(|word| {
        matches!(
            word,
            "dev" | "development" | "local" | "test" | "tests" | "testing" | "ci"
        )
    })
}

/// The text ranges of production classes (`class ProductionConfig(Config):`) in a file that
/// also has a test or development class: the tests load the other.
fn production_classes(text: &str) -> Vec<std::ops::Range<usize>> {
    static CLASS: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"(?m)^class\s+(\w+)").ok());
    let Some(class) = CLASS.as_ref() else {
        return Vec::new();
    };
    let classes: Vec<(String, usize)> = class
        .captures_iter(text)
        .filter_map(|capture| Some((capture[1].to_lowercase(), capture.get(0)?.start())))
        .collect();
    let has_other = classes
        .iter()
        .any(|(name, _)| name.contains("test") || name.contains("dev") || name.contains("local"));
    if !has_other {
        return Vec::new();
    }
    classes
        .iter()
        .filter(|(name, _)| name.contains("prod") || name.contains("live"))
        .map(|(_, start)| {
            // Up to the next top-level line that is not blank, a comment or indented.
            let body = text[*start..].find('\n').map_or(text.len(), |at| start + at + 1);
            let end = text[body..]
                .split_inclusive('\n')
                .scan(body, |offset, line| {
                    let at = *offset;
                    *offset += line.len();
                    Some((at, line))
                })
                .find(|(_, line)| !line.trim().is_empty() && !line.starts_with([' ', '\t', '#']))
                .map_or(text.len(), |(at, _)| at);
            *start..end
        })
        .collect()
}

/// The files of the settings module the tests load (relative to `search_root`), when it can
/// be told: DJANGO_SETTINGS_MODULE from the CI, the pytest configuration or `manage.py`, and
/// the modules it star-imports.
fn tests_settings_files(root: &Path, search_root: &Path, ci: &CiFindings) -> Option<Vec<PathBuf>> {
    // `DJANGO_SETTINGS_MODULE = x.settings`, pytest-django's `--ds=x.settings`, Django's own
    // `--settings x.settings` (in the test command).
    let assignment =
        Regex::new(r#"(?:DJANGO_SETTINGS_MODULE['"]?\s*[=:,]\s*['"]?|--ds[= ]|--settings[= ])([A-Za-z_][\w.-]*)"#)
            .ok()?;
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

    fn need(needs: &[EnvVarNeed], name: &str) -> Option<EnvVarNeed> {
        needs.iter().find(|need| need.name == name).cloned()
    }

    #[test]
    fn production_settings_do_not_count_when_development_ones_exist() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        write(root, "manage.py", "import os\n")?;
        write(
            root,
            "shop/settings/base.py",
            "from decouple import config\nSECRET_KEY = config('DJANGO_SECRET_KEY', default='dev-only')\n",
        )?;
        write(root, "shop/settings/dev.py", "from .base import *\nDEBUG = True\n")?;
        write(
            root,
            "shop/settings/production.py",
            "from .base import *\nfrom decouple import config\nSECRET_KEY = config('DJANGO_SECRET_KEY')\nBUCKET = config('AWS_BUCKET')\n",
        )?;
        let needs = detect(root).env_vars;
        assert!(
            need(&needs, "DJANGO_SECRET_KEY").is_some_and(|need| !need.required && need.read_by_code),
            "{needs:?}"
        );
        assert!(
            need(&needs, "AWS_BUCKET").is_some_and(|need| !need.required && !need.read_by_code),
            "{needs:?}"
        );
        Ok(())
    }

    #[test]
    fn manage_py_names_the_settings_the_tests_load() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        write(
            root,
            "manage.py",
            "import os\nos.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"shop.settings.local\")\n",
        )?;
        write(
            root,
            "shop/settings/base.py",
            "import os\nNAME = os.environ['SHOP_NAME']\n",
        )?;
        write(root, "shop/settings/local.py", "from .base import *\n")?;
        // Named like neither production nor development: only manage.py says it is not loaded.
        write(
            root,
            "shop/settings/heroku.py",
            "import os\nKEY = os.environ['HEROKU_KEY']\n",
        )?;
        let needs = detect(root).env_vars;
        assert!(need(&needs, "SHOP_NAME").is_some_and(|need| need.required), "{needs:?}");
        assert!(
            need(&needs, "HEROKU_KEY").is_some_and(|need| !need.required),
            "{needs:?}"
        );
        Ok(())
    }

    #[test]
    fn a_production_config_class_beside_a_testing_one_does_not_count() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        write(
            root,
            "config.py",
            "import os\n\nclass Config:\n    DEBUG = False\n\n\nclass ProductionConfig(Config):\n    SECRET_KEY = os.environ['SECRET_KEY']\n\n\nclass TestingConfig(Config):\n    TESTING = True\n    MAIL = os.environ['MAIL_SERVER']\n",
        )?;
        let needs = detect(root).env_vars;
        assert!(
            need(&needs, "SECRET_KEY").is_some_and(|need| !need.required),
            "{needs:?}"
        );
        assert!(
            need(&needs, "MAIL_SERVER").is_some_and(|need| need.required),
            "{needs:?}"
        );
        Ok(())
    }

    #[test]
    fn pydantic_settings_in_any_module_are_read() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        write(
            root,
            "app/core/options.py",
            "from pydantic_settings import BaseSettings, SettingsConfigDict\n\nclass Settings(BaseSettings):\n    model_config = SettingsConfigDict(env_prefix='API_')\n    secret_key: str\n    debug: bool = False\n",
        )?;
        let needs = detect(root).env_vars;
        assert!(
            need(&needs, "API_SECRET_KEY").is_some_and(|need| need.required && need.secret && need.read_by_code),
            "{needs:?}"
        );
        assert!(
            need(&needs, "API_DEBUG").is_some_and(|need| !need.required),
            "{needs:?}"
        );
        Ok(())
    }

    #[test]
    fn a_dotenv_counts_only_when_something_loads_it() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        write(root, ".env", "SECRET_KEY=from-dotenv\nDEBUG=1\n")?;
        write(
            root,
            "settings.py",
            "import os\nSECRET_KEY = os.environ['SECRET_KEY']\n",
        )?;
        assert!(
            need(&detect(root).env_vars, "SECRET_KEY").is_some_and(|need| need.required && !need.in_dotenv),
            "nothing loads the .env"
        );
        write(
            root,
            "settings.py",
            "import os\nfrom dotenv import load_dotenv\nload_dotenv()\nSECRET_KEY = os.environ['SECRET_KEY']\n",
        )?;
        assert!(need(&detect(root).env_vars, "SECRET_KEY").is_some_and(|need| need.in_dotenv));
        assert!(runner_dotenv(root).is_empty(), "the settings load it, not a runner");
        write(
            root,
            "settings.py",
            "import os\nSECRET_KEY = os.environ['SECRET_KEY']\n",
        )?;
        write(
            root,
            ".github/workflows/ci.yml",
            "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pipenv install --dev\n      - run: pipenv run pytest\n",
        )?;
        assert!(
            need(&detect(root).env_vars, "SECRET_KEY").is_some_and(|need| need.in_dotenv),
            "pipenv run loads it"
        );
        assert_eq!(
            runner_dotenv(root),
            [
                ("SECRET_KEY".to_owned(), "from-dotenv".to_owned()),
                ("DEBUG".to_owned(), "1".to_owned())
            ]
        );
        Ok(())
    }
}
