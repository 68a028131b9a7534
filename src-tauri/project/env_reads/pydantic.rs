//! pydantic's settings classes: each field of a `BaseSettings` class is read from the
//! environment. A field with no default is required (pydantic refuses to build the settings
//! without it); the variable's name is the field's, after `env_prefix`, upper-cased unless
//! `case_sensitive` (matching is case-blind, and upper case is how people write it), or the
//! field's `alias`/`validation_alias` as it stands.

use std::sync::LazyLock;

use regex::Regex;

use super::calls::{arguments, keyword, split_arguments, Read};

/// What a settings class's configuration says.
#[derive(Debug, Default, Clone)]
struct Config {
    prefix: String,
    case_sensitive: bool,
}

/// What reading a file's settings classes found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct SettingsClasses {
    pub reads: Vec<Read>,
    /// A class loads a `.env` itself (`env_file=`).
    pub loads_dotenv: bool,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn string_literal(text: &str) -> Option<String> {
    static LITERAL: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r#"['"]([^'"]*)['"]"#).ok());
    LITERAL
        .as_ref()
        .and_then(|pattern| pattern.captures(text))
        .map(|capture| capture[1].to_owned())
}

/// The settings classes of `text`: those deriving from `BaseSettings`, or from a class of the
/// same file that does.
pub(super) fn settings_classes(text: &str) -> SettingsClasses {
    static CLASS: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"(?m)^([ \t]*)class\s+(\w+)\s*\(([^)]*)\)\s*:").ok());
    static FIELD: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"^([A-Za-z]\w*)\s*:\s*([^=]+?)\s*(?:=\s*(.*))?$").ok());
    let (Some(class), Some(field)) = (CLASS.as_ref(), FIELD.as_ref()) else {
        return SettingsClasses::default();
    };
    // Each settings class with its configuration, which a derived class starts from.
    let mut settings_names: Vec<(String, Config)> = vec![("BaseSettings".to_owned(), Config::default())];
    let mut found = SettingsClasses::default();
    for capture in class.captures_iter(text) {
        let bases = &capture[3];
        let Some(inherited) = bases.split(',').find_map(|base| {
            let base = base.trim().rsplit('.').next().unwrap_or_default();
            settings_names
                .iter()
                .find(|(known, _)| known == base)
                .map(|(_, config)| config.clone())
        }) else {
            continue;
        };
        let class_indent = capture[1].len();
        let Some(whole) = capture.get(0) else { continue };
        // The class's body: the lines indented deeper than its `class` line.
        let body_start = whole.end()
            + text[whole.end()..]
                .find('\n')
                .map_or(text.len() - whole.end(), |at| at + 1);
        let mut body_end = text.len();
        let mut offset = body_start;
        for line in text[body_start..].split_inclusive('\n') {
            if !line.trim().is_empty() && !line.trim_start().starts_with('#') && indent(line) <= class_indent {
                body_end = offset;
                break;
            }
            offset += line.len();
        }
        let body = &text[body_start..body_end];
        let field_indent = body
            .lines()
            .find(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
            .map_or(0, indent);
        let config = class_config(inherited, body, field_indent, &mut found.loads_dotenv);
        settings_names.push((capture[2].to_owned(), config.clone()));
        let mut offset = body_start;
        for line in body.split_inclusive('\n') {
            let line_at = offset;
            offset += line.len();
            if indent(line) != field_indent {
                continue;
            }
            let Some(capture) = field.captures(line.trim()) else {
                continue;
            };
            let name = &capture[1];
            let kind = &capture[2];
            if name == "model_config" || kind.contains("ClassVar") {
                continue;
            }
            let mut alias = None;
            let required = match capture.get(3).map(|value| value.as_str().trim()) {
                None | Some("") => true,
                Some(value) if value.starts_with("Field(") => {
                    let at = line_at + line.find("Field(").unwrap_or(0) + "Field(".len();
                    let inside = arguments(&text[at..]).unwrap_or_default();
                    let arguments = split_arguments(inside);
                    alias = arguments
                        .iter()
                        .find(|argument| matches!(keyword(argument), Some("validation_alias" | "alias")))
                        .and_then(|argument| string_literal(argument));
                    let positional: Vec<&&str> = arguments
                        .iter()
                        .filter(|argument| keyword(argument).is_none())
                        .collect();
                    match positional.first() {
                        Some(first) => **first == "...",
                        None => !arguments
                            .iter()
                            .any(|argument| matches!(keyword(argument), Some("default" | "default_factory"))),
                    }
                }
                Some(_) => false,
            };
            let variable = alias.unwrap_or_else(|| format!("{}{name}", config.prefix));
            found.reads.push(Read {
                name: if config.case_sensitive {
                    variable
                } else {
                    variable.to_uppercase()
                },
                required,
                setting: name.to_owned(),
                at: line_at,
            });
        }
    }
    found
}

/// `model_config = SettingsConfigDict(env_prefix=…, case_sensitive=…, env_file=…)` or the
/// older nested `class Config:` with the same names.
fn class_config(mut config: Config, body: &str, field_indent: usize, loads_dotenv: &mut bool) -> Config {
    let mut read = |name: &str, value: &str| match name {
        "env_prefix" => config.prefix = string_literal(value).unwrap_or_default(),
        "case_sensitive" => config.case_sensitive = value.trim() == "True",
        "env_file" => *loads_dotenv |= value.trim() != "None",
        _ => {}
    };
    if let Some(at) = body
        .find("SettingsConfigDict(")
        .or_else(|| body.find("model_config = dict("))
    {
        let open = at + body[at..].find('(').unwrap_or(0) + 1;
        for argument in split_arguments(arguments(&body[open..]).unwrap_or_default()) {
            if let Some((name, value)) = argument.split_once('=') {
                read(name.trim(), value);
            }
        }
    }
    let mut in_config = false;
    for line in body.lines() {
        if indent(line) == field_indent && !line.trim().is_empty() {
            in_config = line.trim_start().starts_with("class Config");
            continue;
        }
        if in_config {
            if let Some((name, value)) = line.trim().split_once('=') {
                read(name.trim(), value);
            }
        }
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(found: &SettingsClasses) -> Vec<(String, bool)> {
        found
            .reads
            .iter()
            .map(|read| (read.name.clone(), read.required))
            .collect()
    }

    fn pairs(expected: &[(&str, bool)]) -> Vec<(String, bool)> {
        expected
            .iter()
            .map(|(name, required)| ((*name).to_owned(), *required))
            .collect()
    }

    #[test]
    fn fields_without_a_default_are_required_with_the_prefix_upper_cased() {
        let text = r#"from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="app_",
        extra="ignore",
    )

    secret_key: str
    debug: bool = False
    database_url: str = Field(..., validation_alias="DATABASE_URL")
    workers: int = Field(default=2)
    api_token: str = Field(alias="API_TOKEN_VALUE")
    hosts: list[str] = Field(default_factory=list)
    _private: str = "x"


def helper():
    missing: str
"#;
        let found = settings_classes(text);
        assert_eq!(
            names(&found),
            pairs(&[
                ("APP_SECRET_KEY", true),
                ("APP_DEBUG", false),
                ("DATABASE_URL", true),
                ("APP_WORKERS", false),
                ("API_TOKEN_VALUE", true),
                ("APP_HOSTS", false),
            ])
        );
        assert!(!found.loads_dotenv);
    }

    #[test]
    fn the_older_config_class_and_a_derived_settings_class_count() {
        let text = "from pydantic import BaseSettings\n\nclass Common(BaseSettings):\n    sentry_dsn: str = ''\n\n    class Config:\n        env_prefix = 'SHOP_'\n        env_file = '.env'\n\n\nclass Settings(Common):\n    class Config:\n        case_sensitive = True\n\n    redis_url: str\n\n\nclass Plain:\n    name: str\n";
        let found = settings_classes(text);
        assert_eq!(
            names(&found),
            pairs(&[("SHOP_SENTRY_DSN", false), ("SHOP_redis_url", true)])
        );
        assert!(found.loads_dotenv);
    }
}
