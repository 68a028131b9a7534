//! The variables the CI's checking jobs set: literal values, kept as the CI's own; values it
//! works out or takes from its secrets (`${{ secrets.X }}`, `$(…)`), which a person must give;
//! and the `.env` lines a step writes for the app to read.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde_norway::Value;

use super::findings::{expression, CiVariable};
use super::setup::split_cd;
use super::tools::Prepared;
use crate::project::files::read_text;

pub(super) fn collect_env(block: Option<&Value>, source: &str, env: &mut Vec<(String, CiVariable)>) {
    let Some(map) = block.and_then(Value::as_mapping) else {
        return;
    };
    for (name, value) in map {
        let Some(name) = name.as_str() else { continue };
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            Value::Bool(flag) => flag.to_string(),
            _ => String::new(),
        };
        if env.iter().any(|(known, _)| known == name) {
            continue;
        }
        env.push((name.to_owned(), CiVariable::read(&text, source)));
    }
}

/// `echo "KEY=value" >> .env` and `cp .envs/ci.env .env`: values the CI writes for the app to
/// read, kept as the CI's values.
pub(super) fn dotenv_written(root: &Path, prepared: &Prepared, source: &str, env: &mut Vec<(String, CiVariable)>) {
    let line = prepared.line.as_str();
    let mut found: Vec<(String, String)> = Vec::new();
    static ECHO: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r#"echo\s+["']?([A-Za-z_][A-Za-z0-9_]*)=([^"'>]*?)["']?\s*>>?\s*\S*\.env\b"#).ok());
    if let Some(echo) = ECHO.as_ref() {
        for capture in echo.captures_iter(line) {
            found.push((capture[1].to_owned(), capture[2].trim().to_owned()));
        }
    }
    let (_, words) = split_cd(&prepared.command);
    if let [cp, from, to] = words.as_slice() {
        if cp == "cp" && to.ends_with(".env") {
            for line in read_text(&root.join(from)).unwrap_or_default().lines() {
                let line = line.trim();
                if line.starts_with('#') {
                    continue;
                }
                if let Some((name, value)) = line.strip_prefix("export ").unwrap_or(line).split_once('=') {
                    found.push((
                        name.trim().to_owned(),
                        value.trim().trim_matches(['"', '\'']).to_owned(),
                    ));
                }
            }
        }
    }
    for (name, value) in found {
        if env.iter().any(|(known, _)| *known == name) || name.is_empty() {
            continue;
        }
        let computed = expression(&value);
        env.push((
            name,
            CiVariable {
                value: (!computed).then(|| value.clone()),
                expression: computed.then_some(value),
                source: format!("a .env your CI writes ({source})"),
            },
        ));
    }
}
