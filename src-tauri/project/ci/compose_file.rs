//! Compose files read as Compose reads them: the `-f` files in order, else the first file
//! Compose looks for with its `.override` beside it, merged; and the `.env` in that folder,
//! which gives the values `${NAME}` takes.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_norway::Value;

use super::bounded;
use super::COMPOSE_FILES;

/// The compose files a line run in the folder `cd` reads, merged as Compose merges them: its
/// `-f` files in order, else the first file Compose looks for and its `.override` beside it.
/// The name says which files; `.env` in that folder gives the values `${NAME}` takes.
pub(super) fn compose_document(
    root: &Path,
    cd: Option<&str>,
    files: &[String],
) -> Option<(String, Arc<Value>, DotEnv)> {
    let folder = cd.map_or_else(|| root.to_path_buf(), |cd| root.join(cd));
    let read = |file: &str| bounded::read(&folder.join(file)).ok();
    let mut documents: Vec<(String, Arc<Value>)> = Vec::new();
    if files.is_empty() {
        let (file, document) = COMPOSE_FILES
            .iter()
            .find_map(|file| read(file).map(|document| ((*file).to_owned(), document)))?;
        let stem = file.rsplit_once('.').map_or(file.as_str(), |(stem, _)| stem).to_owned();
        documents.push((file, document));
        for extension in ["yaml", "yml"] {
            let name = format!("{stem}.override.{extension}");
            if let Some(document) = read(&name) {
                documents.push((name, document));
                break;
            }
        }
    } else {
        documents.extend(
            files
                .iter()
                .filter_map(|file| read(file).map(|document| (file.clone(), document))),
        );
    }
    let dotenv = DotEnv::read(&folder);
    let name = documents
        .iter()
        .map(|(file, _)| file.as_str())
        .collect::<Vec<_>>()
        .join(" + ");
    let mut documents = documents.into_iter().map(|(_, document)| document);
    let first = documents.next()?;
    let merged = documents.fold(first, |base, over| Arc::new(merge_compose(&base, &over)));
    Some((name, merged, dotenv))
}

/// `over`'s services laid over `base`'s: a service's keys replaced, its `environment` merged.
fn merge_compose(base: &Value, over: &Value) -> Value {
    let mut merged = base.clone();
    let Some(over_services) = over.get("services").and_then(Value::as_mapping) else {
        return merged;
    };
    let Some(Value::Mapping(root)) = Some(&mut merged) else {
        return over.clone();
    };
    let services = root
        .entry(Value::String("services".to_owned()))
        .or_insert_with(|| Value::Mapping(Default::default()));
    let Value::Mapping(services) = services else {
        return over.clone();
    };
    for (name, service) in over_services {
        match (services.get_mut(name), service) {
            (Some(Value::Mapping(known)), Value::Mapping(fields)) => {
                for (key, value) in fields {
                    let environment = key.as_str() == Some("environment");
                    match (known.get_mut(key), environment) {
                        (Some(existing), true) => {
                            let mut values = environment_map(existing);
                            values.extend(environment_map(value));
                            *existing = Value::Mapping(
                                values
                                    .into_iter()
                                    .map(|(name, value)| (Value::String(name), value))
                                    .collect(),
                            );
                        }
                        _ => {
                            known.insert(key.clone(), value.clone());
                        }
                    }
                }
            }
            _ => {
                services.insert(name.clone(), service.clone());
            }
        }
    }
    merged
}

/// A compose `environment:` in its map form, whichever form it was written in.
fn environment_map(block: &Value) -> BTreeMap<String, Value> {
    match block {
        Value::Sequence(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|item| match item.split_once('=') {
                Some((name, value)) => (name.trim().to_owned(), Value::String(value.to_owned())),
                None => (item.trim().to_owned(), Value::Null),
            })
            .collect(),
        Value::Mapping(map) => map
            .iter()
            .filter_map(|(name, value)| Some((name.as_str()?.to_owned(), value.clone())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// The values of the `.env` file Compose reads in its project folder, for `${NAME}`.
#[derive(Debug, Default)]
pub(super) struct DotEnv(BTreeMap<String, String>);

impl DotEnv {
    fn read(folder: &Path) -> Self {
        let text = crate::project::files::read_text(&folder.join(".env")).unwrap_or_default();
        Self(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.starts_with('#'))
                .filter_map(|line| line.strip_prefix("export ").unwrap_or(line).split_once('='))
                .map(|(name, value)| {
                    (
                        name.trim().to_owned(),
                        value.trim().trim_matches(['"', '\'']).to_owned(),
                    )
                })
                .collect(),
        )
    }

    /// `text` with Compose's `$NAME`, `${NAME}` (empty when unset, as Compose leaves it),
    /// `${NAME:-default}`, `${NAME-default}`, `${NAME:+other}`, `${NAME+other}`, `${NAME:?err}`,
    /// `${NAME?err}` and `$$` filled in; `Err` says, in words, why it cannot be.
    pub(super) fn fill(&self, text: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(tail) = after.strip_prefix('$') {
                out.push('$');
                rest = tail;
            } else if let Some(inner) = after.strip_prefix('{') {
                // The closing brace of this `${`, past any nested in its default.
                let mut depth = 0usize;
                let end = inner
                    .char_indices()
                    .find(|(_, c)| {
                        match c {
                            '{' => depth += 1,
                            '}' if depth == 0 => return true,
                            '}' => depth -= 1,
                            _ => {}
                        }
                        false
                    })
                    .map(|(at, _)| at)
                    .ok_or_else(|| format!("a ${{ in {text} is never closed"))?;
                let expression = &inner[..end];
                let split = expression.find([':', '-', '?', '+']).unwrap_or(expression.len());
                let (name, operator) = expression.split_at(split);
                let value = self.0.get(name);
                // With `:`, an empty value counts as unset.
                let set = value.is_some_and(|value| !value.is_empty() || !operator.starts_with(':'));
                let operator = operator.trim_start_matches(':');
                let word = operator.get(1..).unwrap_or_default();
                match (operator.chars().next(), set) {
                    (None, _) => out.push_str(value.map_or("", String::as_str)),
                    (Some('-'), true) | (Some('?'), true) => out.push_str(value.map_or("", String::as_str)),
                    (Some('-'), false) => out.push_str(&self.fill(word)?),
                    (Some('+'), true) => out.push_str(&self.fill(word)?),
                    (Some('+'), false) => {}
                    _ => return Err(format!("it needs {name}, which .env does not give")),
                }
                rest = &inner[end + 1..];
            } else {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                let name = &after[..end];
                if name.is_empty() {
                    out.push('$');
                } else {
                    out.push_str(self.0.get(name).map_or("", String::as_str));
                }
                rest = &after[end..];
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_fills_values_as_compose_does() {
        let dotenv = DotEnv([("A".to_owned(), "1".to_owned()), ("E".to_owned(), String::new())].into());
        assert_eq!(
            dotenv.fill("x$A-${A}-${B:-d}-${E:-e}-${E-f}-$$A"),
            Ok("x1-1-d-e--$A".to_owned())
        );
        assert_eq!(
            dotenv.fill("${B?must}"),
            Err("it needs B, which .env does not give".to_owned())
        );
        assert_eq!(
            dotenv.fill("${E:?must}"),
            Err("it needs E, which .env does not give".to_owned())
        );
        assert_eq!(dotenv.fill("${A:?must}"), Ok("1".to_owned()));
        assert_eq!(dotenv.fill("${B-${A}}"), Ok("1".to_owned()));
        // Unset plain values are empty, as Compose leaves them (with a warning).
        assert_eq!(dotenv.fill("${REGISTRY}postgres:15"), Ok("postgres:15".to_owned()));
        assert_eq!(dotenv.fill("a$B"), Ok("a".to_owned()));
        assert_eq!(dotenv.fill("${A:+on}${E:+on}${E+set}${B+set}"), Ok("onset".to_owned()));
        assert_eq!(dotenv.fill("cost $ 5 $"), Ok("cost $ 5 $".to_owned()));
        assert_eq!(dotenv.fill("${A"), Err("a ${ in ${A is never closed".to_owned()));
    }
}
