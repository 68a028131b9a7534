//! Which `.env` files reach the tests: one the settings load themselves (python-dotenv's
//! `load_dotenv()`, django-environ's `read_env()`, python-decouple, which reads `.env` and
//! `settings.ini` on its own), and one the CI's runner loads before the tests start
//! (`pipenv run`, `uv run --env-file`, `dotenv run`).

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::super::ci::CiFindings;
use super::super::files::read_text;

/// The settings load a `.env` themselves.
pub(super) fn loads_dotenv(text: &str) -> bool {
    static LOADERS: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"\bload_dotenv\(|\bread_dotenv\(|\bread_env\(|^\s*(?:from\s+decouple\s+import|import\s+decouple)")
            .ok()
    });
    LOADERS.as_ref().is_some_and(|loaders| {
        text.lines()
            .any(|line| !line.trim_start().starts_with('#') && loaders.is_match(line))
    })
}

/// The CI runs the tests through a runner that loads the project's `.env` first.
pub(super) fn runner_loads_dotenv(ci: &CiFindings) -> bool {
    ci.test.as_ref().is_some_and(|test| {
        let line = test.line.as_str();
        (line.contains("pipenv run") && !line.contains("PIPENV_DONT_LOAD_ENV"))
            || line.contains("dotenv run")
            || (line.contains("uv run") && line.contains("--env-file"))
    })
}

/// The `NAME=value` lines of `folder`'s `.env` (and decouple's `settings.ini`), quotes taken
/// off; comments and section lines skipped.
pub(super) fn values(folder: &Path) -> Vec<(String, String)> {
    let mut values = Vec::new();
    for file in [".env", "settings.ini"] {
        for line in read_text(&folder.join(file)).unwrap_or_default().lines() {
            let line = line.trim();
            if line.starts_with('#') || line.starts_with('[') {
                continue;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            let Some((name, value)) = line.split_once('=') else {
                continue;
            };
            let name = name.trim();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let value = value.trim();
            let value = if (value.starts_with('"') && value.ends_with('"') && value.len() > 1)
                || (value.starts_with('\'') && value.ends_with('\'') && value.len() > 1)
            {
                &value[1..value.len() - 1]
            } else {
                // An unquoted value ends at a comment.
                value.split(" #").next().unwrap_or_default().trim_end()
            };
            if !values.iter().any(|(known, _): &(String, String)| known == name) {
                values.push((name.to_owned(), value.to_owned()));
            }
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loaders_are_found_outside_comments() {
        assert!(loads_dotenv("from dotenv import load_dotenv\nload_dotenv()\n"));
        assert!(loads_dotenv(
            "import environ\nenv = environ.Env()\nenviron.Env.read_env(BASE_DIR / '.env')\n"
        ));
        assert!(loads_dotenv("from decouple import config\n"));
        assert!(!loads_dotenv("import os\n# load_dotenv()\n"));
    }

    #[test]
    fn values_are_read_with_quotes_and_comments() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join(".env"),
            "# local\nexport DEBUG=1 # on\nSECRET_KEY='a b'\nNAME = \"x\"\nbad line\n",
        )?;
        assert_eq!(
            values(dir.path()),
            [
                ("DEBUG".to_owned(), "1".to_owned()),
                ("SECRET_KEY".to_owned(), "a b".to_owned()),
                ("NAME".to_owned(), "x".to_owned()),
            ]
        );
        Ok(())
    }
}
