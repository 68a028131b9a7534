//! The environment reads written as calls in a Python file: `os.environ[…]`,
//! `os.environ.get`/`os.getenv`, and the wrappers projects read their settings through:
//! python-decouple's `config("X", default=…, cast=…)`, environs' and django-environ's
//! `env("X")`/`env.str("X")`/`env.bool("X", False)`/`env.dj_db_url("X")`, and parsenvy's
//! `parsenvy.str("X")`.
//!
//! Whether a read stops the app when the value is missing follows each library: decouple,
//! environs and django-environ raise without a default (a second positional argument or
//! `default=`; `cast=` is none), `os.environ[…]` raises, while `os.environ.get`, `os.getenv`
//! and parsenvy give `None`, which stops the app only when it is used at once (`.split()`) or
//! is Django's secret key.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

/// One read of an environment value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Read {
    pub name: String,
    /// The app cannot start without the value.
    pub required: bool,
    /// The setting it is assigned to (`SECRET_KEY = config(…)`), when it is.
    pub setting: String,
    /// Where the read starts in the text.
    pub at: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    /// `os.environ["X"]`: a KeyError without it.
    Subscript,
    /// `os.environ.get`, `os.getenv`, parsenvy: `None` without it.
    Optional,
    /// decouple, environs, django-environ: an error without it unless a default is given.
    Raising,
}

static READS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?P<subscript>os\.environ\[)\s*['"](?P<n1>\w+)['"]\s*\]"#,
        r#"|(?P<optional>os\.environ\.get\(|os\.getenv\(|\bparsenvy\.\w+\()\s*['"](?P<n2>\w+)['"]"#,
        // `env(`/`config(` not after a dot or a letter (`os.getenv`, `app.config`), or as
        // `decouple.config(`.
        r#"|(?:^|[^.\w])(?P<raising>(?:decouple\.)?config\(|env(?:\.\w+)?\()\s*['"](?P<n3>[A-Za-z_]\w*)['"]"#,
    ))
    .ok()
});

/// django-environ's schemes: `environ.Env(DEBUG=(bool, False))` gives `env("DEBUG")` a default.
fn scheme_defaults(text: &str) -> BTreeSet<String> {
    static SCHEME: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\bEnv\(").ok());
    static ENTRY: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"(\w+)\s*=\s*\(\s*[\w.]+\s*,").ok());
    let (Some(scheme), Some(entry)) = (SCHEME.as_ref(), ENTRY.as_ref()) else {
        return BTreeSet::new();
    };
    scheme
        .find_iter(text)
        .filter_map(|found| arguments(&text[found.end()..]))
        .flat_map(|inside| {
            entry
                .captures_iter(inside)
                .map(|capture| capture[1].to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The text of a call's arguments, `rest` starting just after its `(`: up to the matching
/// `)`, skipping brackets and strings inside. `None` when the call never closes.
pub(super) fn arguments(rest: &str) -> Option<&str> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut comment = false;
    for (at, c) in rest.char_indices() {
        // A comment between the arguments ends at its line.
        if comment {
            comment = c != '\n';
            continue;
        }
        if let Some(open) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == open {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '#' => comment = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => return Some(&rest[..at]),
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// A call's arguments split at its own commas (not those inside brackets or strings), each
/// without its comments.
pub(super) fn split_arguments(inside: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    // Where a comment cut the current argument short.
    let mut cut: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut comment = false;
    for (at, c) in inside.char_indices() {
        if comment {
            if c == '\n' {
                comment = false;
                // A comment on a line of its own before an argument: the argument starts after it.
                if inside[start..cut.unwrap_or(at)].trim().is_empty() {
                    start = at + 1;
                    cut = None;
                }
            }
            continue;
        }
        if let Some(open) = quote {
            if c == open {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '#' => {
                comment = true;
                cut = cut.or(Some(at));
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(inside[start..cut.unwrap_or(at)].trim());
                start = at + 1;
                cut = None;
            }
            _ => {}
        }
    }
    parts.push(inside[start..cut.unwrap_or(inside.len())].trim());
    parts.retain(|part| !part.is_empty());
    parts
}

/// The keyword of a `name=value` argument, if it is one.
pub(super) fn keyword(argument: &str) -> Option<&str> {
    let (name, value) = argument.split_once('=')?;
    let name = name.trim();
    (!value.starts_with('=') && !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .then_some(name)
}

/// Whether the call's arguments give a default: a second positional one, or `default=`.
fn has_default(arguments: &[&str]) -> bool {
    arguments.iter().filter(|argument| keyword(argument).is_none()).count() > 1
        || arguments
            .iter()
            .any(|argument| matches!(keyword(argument), Some("default" | "default_factory")))
}

/// Whether the line at `at` runs only on a condition when the module is imported: inside an
/// `if`/`else` branch, a loop, a function or an `except` (as `if STRATEGY == "mailtrap":
/// EMAIL_HOST = env("MAILTRAP_EMAIL_HOST")`), where a missing value stops nothing unless that
/// branch is taken. A class body, `try` and `with` run at import.
fn conditional(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map_or(0, |found| found + 1);
    let indent_of = |line: &str| line.len() - line.trim_start().len();
    let mut threshold = indent_of(&text[line_start..]);
    for line in text[..line_start].lines().rev() {
        if threshold == 0 {
            break;
        }
        let code = line.split(" #").next().unwrap_or_default().trim_end();
        if code.trim().is_empty() || code.trim_start().starts_with('#') || indent_of(line) >= threshold {
            continue;
        }
        threshold = indent_of(line);
        let header = code.trim_start();
        let word = header.split([' ', ':', '(']).next().unwrap_or_default();
        if code.ends_with(':')
            && matches!(
                word,
                "if" | "elif" | "else" | "def" | "async" | "for" | "while" | "except" | "match" | "case"
            )
        {
            return true;
        }
    }
    false
}

/// Every environment read in `text`, in order.
pub(super) fn reads(text: &str) -> Vec<Read> {
    let Some(pattern) = READS.as_ref() else {
        return Vec::new();
    };
    let schemes = scheme_defaults(text);
    let mut found = Vec::new();
    for capture in pattern.captures_iter(text) {
        let (call, start, name) = if let (Some(call), Some(name)) = (capture.name("subscript"), capture.name("n1")) {
            (Call::Subscript, call, name)
        } else if let (Some(call), Some(name)) = (capture.name("optional"), capture.name("n2")) {
            (Call::Optional, call, name)
        } else if let (Some(call), Some(name)) = (capture.name("raising"), capture.name("n3")) {
            // environs' `env.prefixed("APP_")` and `env.read_env("…")` name no value.
            if matches!(call.as_str(), "env.prefixed(" | "env.read_env(" | "env.dump(") {
                continue;
            }
            (Call::Raising, call, name)
        } else {
            continue;
        };
        let line_start = text[..start.start()].rfind('\n').map_or(0, |at| at + 1);
        let assigned_to = text[line_start..start.start()].trim();
        let setting = assigned_to.split('=').next().unwrap_or_default().trim().to_owned();
        let inside = arguments(&text[start.end()..]).unwrap_or_default();
        let arguments = split_arguments(inside);
        let required = match call {
            Call::Subscript => true,
            Call::Raising => !has_default(&arguments) && !schemes.contains(name.as_str()),
            Call::Optional => {
                let after = text[start.end() + inside.len()..]
                    .strip_prefix(')')
                    .unwrap_or_default()
                    .trim_start();
                // Django refuses an empty secret key; `None.split()` fails at once.
                !has_default(&arguments) && (after.starts_with('.') || setting == "SECRET_KEY")
            }
        };
        found.push(Read {
            name: name.as_str().to_owned(),
            required: required && !conditional(text, start.start()),
            setting,
            at: start.start(),
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn required(text: &str) -> Vec<(String, bool)> {
        reads(text).into_iter().map(|read| (read.name, read.required)).collect()
    }

    fn pairs(expected: &[(&str, bool)]) -> Vec<(String, bool)> {
        expected
            .iter()
            .map(|(name, required)| ((*name).to_owned(), *required))
            .collect()
    }

    #[test]
    fn os_environ_reads_keep_their_rules() {
        let text = "import os\nSECRET_KEY = os.environ.get('SECRET_KEY')\nDEBUG = os.getenv('DEBUG', '0')\nHOSTS = os.environ.get('HOSTS').split(',')\nDB = os.environ['DATABASE_URL']\nX = os.environ.get(\"X\")\n";
        assert_eq!(
            required(text),
            pairs(&[
                ("SECRET_KEY", true),
                ("DEBUG", false),
                ("HOSTS", true),
                ("DATABASE_URL", true),
                ("X", false)
            ])
        );
    }

    #[test]
    fn decouple_raises_without_a_default_and_cast_is_no_default() {
        let text = "from decouple import config, Csv\nimport decouple\nSECRET_KEY = config('SECRET_KEY')\nDEBUG = config('DEBUG', default=False, cast=bool)\nHOSTS = config('ALLOWED_HOSTS', cast=Csv())\nPORT = config('PORT', '8000')\nEMAIL = decouple.config(\n    'EMAIL_HOST',\n    cast=str,\n)\nFLASK = app.config.get('NOT_ENV')\n";
        assert_eq!(
            required(text),
            pairs(&[
                ("SECRET_KEY", true),
                ("DEBUG", false),
                ("ALLOWED_HOSTS", true),
                ("PORT", false),
                ("EMAIL_HOST", true),
            ])
        );
        assert_eq!(reads(text)[0].setting, "SECRET_KEY");
    }

    #[test]
    fn environs_and_django_environ_raise_without_a_default() {
        let text = "from environs import Env\nenv = Env()\nenv.read_env()\nenv.read_env('local')\nwith env.prefixed('SHOP_'):\n    pass\nSECRET_KEY = env('SECRET_KEY')\nNAME = env.str('APP_NAME')\nDEBUG = env.bool('DEBUG', False)\nWORKERS = env.int('WORKERS', default=2)\nALLOWED_HOSTS = env.list('ALLOWED_HOSTS')\nDATABASES = {'default': env.dj_db_url('DATABASE_URL')}\n";
        assert_eq!(
            required(text),
            pairs(&[
                ("SECRET_KEY", true),
                ("APP_NAME", true),
                ("DEBUG", false),
                ("WORKERS", false),
                ("ALLOWED_HOSTS", true),
                ("DATABASE_URL", true),
            ])
        );
    }

    #[test]
    fn a_django_environ_scheme_is_a_default() {
        let text = "import environ\nenv = environ.Env(\n    DEBUG=(bool, False),\n    CACHE=(str, 'x'),\n)\nDEBUG = env('DEBUG')\nSECRET_KEY = env('SECRET_KEY')\n";
        assert_eq!(required(text), pairs(&[("DEBUG", false), ("SECRET_KEY", true)]));
    }

    #[test]
    fn parsenvy_gives_none_without_the_value() {
        let text = "import parsenvy\nDEBUG = parsenvy.bool('DEBUG')\nSECRET_KEY = parsenvy.str('SECRET_KEY')\nHOSTS = parsenvy.list('ALLOWED_HOSTS', ['localhost'])\nNAMES = parsenvy.str('NAMES').split()\n";
        assert_eq!(
            required(text),
            pairs(&[
                ("DEBUG", false),
                ("SECRET_KEY", true),
                ("ALLOWED_HOSTS", false),
                ("NAMES", true)
            ])
        );
    }

    #[test]
    fn a_read_in_a_branch_or_a_function_stops_nothing_at_import() {
        let text = "from config.env import env\n\nSTRATEGY = env('EMAIL_STRATEGY', default='local')\nif STRATEGY == 'mailtrap':\n    EMAIL_HOST = env('MAILTRAP_EMAIL_HOST')\n    DATABASES = {\n        'default': env.db('MAILTRAP_DB'),\n    }\nelse:  # local\n    PORT = env.int('LOCAL_PORT')\n\n\ndef storage():\n    return env('BUCKET')\n\n\ntry:\n    KEY = env('TRY_KEY')\nexcept ImportError:\n    KEY = env('FALLBACK_KEY')\nDATABASES = {\n    'default': env.db('DATABASE_URL'),\n}\n";
        assert_eq!(
            required(text),
            pairs(&[
                ("EMAIL_STRATEGY", false),
                ("MAILTRAP_EMAIL_HOST", false),
                ("MAILTRAP_DB", false),
                ("LOCAL_PORT", false),
                ("BUCKET", false),
                ("TRY_KEY", true),
                ("FALLBACK_KEY", false),
                ("DATABASE_URL", true),
            ])
        );
    }

    #[test]
    fn arguments_end_at_their_own_parenthesis() {
        assert_eq!(
            arguments("'X', cast=Csv(), default='a)b')\nrest"),
            Some("'X', cast=Csv(), default='a)b'")
        );
        assert_eq!(
            split_arguments("'X', cast=Csv(), default='a,b',"),
            ["'X'", "cast=Csv()", "default='a,b'"]
        );
        assert_eq!(arguments("'X'"), None);
        let commented =
            "\n    # the top .env (one level up)\n    env_file='../.env',  # beside it\n    extra='ignore',\n)";
        assert_eq!(
            split_arguments(arguments(commented).unwrap_or_default()),
            ["env_file='../.env'", "extra='ignore'"]
        );
    }
}
