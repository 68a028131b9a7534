//! Reading a CI file within bounds: its size, its nesting and the time its parse takes are
//! limited, and a file is parsed once per change.
//!
//! Use [`read`]: it gives the parsed document, or why the file was not read; a [`Refusal`]
//! has the sentence the plan shows. Why the limits are these:
//!
//! - **Size**: real workflows and CircleCI configs are a few to a few hundred KB; 1 MB leaves
//!   room for the largest and keeps the parse and the reading after it well under a second.
//!   A larger file is refused from its size, before it is read.
//! - **Nesting**: the YAML parser re-scans every open flow collection (`[`, `{`) at each
//!   token, so its time grows with the square of their depth: a 400 KB file of nested `[`
//!   took minutes. The depth is measured first on the raw text, in one pass (indentation and
//!   `- ` items for block levels, brackets for flow levels), and a file deeper than 200 levels
//!   is refused; the parser itself gives up past 128, so nothing readable is lost.
//! - **Time**: whatever else makes a parse slow (aliases expanded again and again), the parse
//!   runs on its own thread and a file not done in 2 seconds is ignored. The thread cannot be
//!   stopped; it ends on its own, bounded by the two limits above, and the cache keeps the
//!   refusal so a next plan does not start another.
//! - **Once per change**: the outcome is kept per (path, size, modification time), so repeated
//!   plans, releases and window refreshes of an unchanged project parse nothing.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde_norway::Value;

use crate::project::files::decode_text;

/// The largest CI file read.
const MAX_BYTES: u64 = 1024 * 1024;
/// The deepest nesting read; the parser's own limit (128) is below it.
const MAX_DEPTH: usize = 200;
/// The longest one file's parse may take.
const PARSE_TIME: Duration = Duration::from_secs(2);
/// How many files' outcomes are kept, and how many bytes of parsed files at most: a handful of
/// projects' CI files, never a memory leak.
const CACHE_ENTRIES: usize = 32;
const CACHE_BYTES: u64 = 8 * MAX_BYTES;

/// Why a CI file was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Unread {
    /// It is not there or cannot be opened.
    Missing,
    /// It is not YAML: the parser's message, for the log.
    Invalid(String),
    /// It is over a limit.
    Refused(Refusal),
}

/// A limit a CI file is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    Size { bytes: u64 },
    Nesting,
    Time,
}

impl Refusal {
    /// The plan's sentence: `file` names it ("The CircleCI file", "The workflow ci.yml").
    pub(super) fn sentence(self, file: &str) -> String {
        let megabytes = |bytes: u64| bytes as f64 / MAX_BYTES as f64;
        match self {
            Refusal::Size { bytes } => format!(
                "{file} is too large to read ({:.1} MB, the limit is {:.0} MB): Slipway ignores it",
                megabytes(bytes),
                megabytes(MAX_BYTES)
            ),
            Refusal::Nesting => {
                format!("{file} is too deeply nested to read (more than {MAX_DEPTH} levels): Slipway ignores it")
            }
            Refusal::Time => format!(
                "{file} takes too long to read (more than {} seconds): Slipway ignores it",
                PARSE_TIME.as_secs()
            ),
        }
    }
}

pub(super) type Outcome = Result<Arc<Value>, Unread>;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    path: PathBuf,
    bytes: u64,
    modified: SystemTime,
}

/// The outcomes of the files read last, the most recently used at the end.
static CACHE: Mutex<Vec<(Key, Outcome)>> = Mutex::new(Vec::new());

/// The YAML document in `path`, parsed within the limits, or why it was not read.
pub(super) fn read(path: &Path) -> Outcome {
    cached_read(path).0
}

/// A scalar of a read document as text: a string, or a number as written (`3.12`, `24`).
pub(super) fn yaml_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// [`read`], and whether the outcome came from the cache.
fn cached_read(path: &Path) -> (Outcome, bool) {
    let Ok(metadata) = std::fs::metadata(path) else {
        return (Err(Unread::Missing), false);
    };
    // Without a modification time a change cannot be seen: such a file is read every time.
    let Ok(modified) = metadata.modified() else {
        return (read_now(path), false);
    };
    let key = Key {
        path: path.to_path_buf(),
        bytes: metadata.len(),
        modified,
    };
    {
        let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = cache.iter().position(|(known, _)| *known == key) {
            let entry = cache.remove(at);
            let outcome = entry.1.clone();
            cache.push(entry);
            return (outcome, true);
        }
    }
    // Parsed outside the lock: another project's files are not held up by this one.
    let outcome = read_now(path);
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    cache.retain(|(known, _)| known.path != key.path);
    cache.push((key, outcome.clone()));
    // Refusals and errors weigh nothing: only parsed files count against the bytes.
    let weight = |cache: &Vec<(Key, Outcome)>| -> u64 {
        cache
            .iter()
            .filter(|(_, outcome)| outcome.is_ok())
            .map(|(key, _)| key.bytes)
            .sum()
    };
    while cache.len() > CACHE_ENTRIES || (cache.len() > 1 && weight(&cache) > CACHE_BYTES) {
        drop(cache.remove(0));
    }
    (outcome, false)
}

fn read_now(path: &Path) -> Outcome {
    let Ok(file) = File::open(path) else {
        return Err(Unread::Missing);
    };
    let mut bytes = Vec::new();
    // One byte past the limit is enough to know it is over, even for a file still growing.
    if file.take(MAX_BYTES + 1).read_to_end(&mut bytes).is_err() {
        return Err(Unread::Missing);
    }
    if bytes.len() as u64 > MAX_BYTES {
        let bytes = std::fs::metadata(path).map_or(bytes.len() as u64, |metadata| metadata.len());
        return Err(Unread::Refused(Refusal::Size { bytes }));
    }
    let text = decode_text(&bytes);
    if depth(&text, MAX_DEPTH) > MAX_DEPTH {
        return Err(Unread::Refused(Refusal::Nesting));
    }
    parse_within(text, PARSE_TIME).map(Arc::new)
}

/// Parses `text` on its own thread; past `deadline` the file is refused and the thread is left
/// to finish alone.
fn parse_within(text: String, deadline: Duration) -> Result<Value, Unread> {
    let (send, receive) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new().name("ci-yaml".to_owned()).spawn(move || {
        // The receiver is gone when the deadline passed: nothing is waiting for the result.
        let _ = send.send(serde_norway::from_str::<Value>(&text));
    });
    if let Err(error) = spawned {
        return Err(Unread::Invalid(format!("no thread to parse it on: {error}")));
    }
    match receive.recv_timeout(deadline) {
        Ok(parsed) => parsed.map_err(|error| Unread::Invalid(error.to_string())),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Unread::Refused(Refusal::Time)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(Unread::Invalid("the YAML parser stopped".to_owned())),
    }
}

/// How deeply `text` nests, read from its shape in one pass without parsing it: block levels
/// from indentation and `- ` / `? ` items, flow levels from `[` and `{` where YAML opens a
/// collection (not inside a script, a comment or a quoted string). Counting stops past
/// `stop_above`. Close to the parser's depth (a scalar on its own line counts one more; aliases
/// are not expanded); what it cannot tell falls to the time limit.
fn depth(text: &str, stop_above: usize) -> usize {
    // Columns of the open block nodes.
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    // A quoted string open inside a flow collection, over lines.
    let mut quote: Option<char> = None;
    // Inside a `|` or `>` block: lines indented more than this are its text.
    let mut block_text_above: Option<usize> = None;
    // The column of a key with nothing after it on its line (`steps:`).
    let mut open_key: Option<usize> = None;
    let mut deepest = 0;
    for line in text.lines() {
        let content = line.trim_start_matches(' ');
        let indent = line.len() - content.len();
        if content.trim().is_empty() {
            continue;
        }
        if let Some(parent) = block_text_above {
            if indent > parent {
                continue;
            }
            block_text_above = None;
        }
        let rest = if flow > 0 || quote.is_some() {
            content
        } else {
            if content.starts_with('#') || content.starts_with('%') {
                continue;
            }
            let (content, indent) = match content.strip_prefix("---") {
                Some(after) if after.is_empty() || after.starts_with(' ') => {
                    indents.clear();
                    (
                        after.trim_start(),
                        indent + 3 + (after.len() - after.trim_start().len()),
                    )
                }
                _ => (content, indent),
            };
            while indents.last().is_some_and(|&top| top > indent) {
                indents.pop();
            }
            // `key:` then `- x` at the key's own column: the sequence is a level of its own, held
            // as the same column twice until a key at that column closes it.
            let item = content == "-" || content.starts_with("- ");
            if !item {
                while indents.len() > 1 && indents[indents.len() - 2..] == [indent, indent] {
                    indents.pop();
                }
            }
            if indents.last() != Some(&indent) || (item && open_key == Some(indent)) {
                indents.push(indent);
            }
            // `- - x`, `- key: v`, `? key`: each item opens a level where its content starts.
            let mut rest = content;
            let mut column = indent;
            while let Some(after) = rest
                .strip_prefix('-')
                .or_else(|| rest.strip_prefix('?'))
                .filter(|after| after.is_empty() || after.starts_with(' '))
            {
                let item = after.trim_start_matches(' ');
                column += rest.len() - item.len();
                rest = item;
                indents.push(column);
                if indents.len() > stop_above {
                    return indents.len();
                }
            }
            let value = value_of(rest);
            open_key = (value.is_empty() && !rest.is_empty()).then_some(column);
            let head = value.split(" #").next().unwrap_or_default().trim_end();
            if head.starts_with(['|', '>']) && head[1..].chars().all(|c| matches!(c, '+' | '-' | '0'..='9')) {
                block_text_above = Some(column);
                deepest = deepest.max(indents.len());
                continue;
            }
            if !value.starts_with(['[', '{']) {
                deepest = deepest.max(indents.len());
                if deepest > stop_above {
                    return deepest;
                }
                continue;
            }
            value
        };
        // Inside a flow collection: brackets, quoted strings and comments.
        let mut previous = ' ';
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            match quote {
                Some('\'') if c == '\'' => {
                    if chars.peek() == Some(&'\'') {
                        chars.next();
                    } else {
                        quote = None;
                    }
                }
                Some('"') if c == '\\' => {
                    chars.next();
                }
                Some('"') if c == '"' => quote = None,
                Some(_) => {}
                None => match c {
                    '[' | '{' => {
                        flow += 1;
                        deepest = deepest.max(indents.len() + flow);
                        if deepest > stop_above {
                            return deepest;
                        }
                    }
                    ']' | '}' => {
                        flow = flow.saturating_sub(1);
                        if flow == 0 {
                            break;
                        }
                    }
                    '"' | '\'' if previous.is_whitespace() || matches!(previous, '[' | '{' | ',' | ':') => {
                        quote = Some(c);
                    }
                    '#' if previous.is_whitespace() => break,
                    _ => {}
                },
            }
            previous = c;
        }
    }
    deepest
}

/// The value part of a block line: after `key: ` (a key may be quoted), or the whole line;
/// without the anchor or tag before it (`&name`, `!tag`).
fn value_of(rest: &str) -> &str {
    if rest.starts_with(['[', '{']) {
        return rest;
    }
    let key_end = match rest.chars().next() {
        // A quoted key: its `: ` comes after the closing quote.
        Some(quote @ ('"' | '\'')) => rest[1..].find(quote).map_or(0, |at| at + 2),
        _ => 0,
    };
    let after_key = &rest[key_end..];
    let mut value = match after_key.find(": ") {
        Some(at) => after_key[at + 2..].trim_start(),
        None if after_key.ends_with(':') => "",
        None => rest,
    };
    while value.starts_with(['&', '!']) {
        value = value.split_once(' ').map_or("", |(_, after)| after.trim_start());
    }
    value
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn depth_counts_blocks_items_and_flows_but_not_scripts_comments_or_strings() {
        let workflow = r#"
jobs:
  test:
    steps:
      - run: |
          [[[[[[[[[[ {{{{{{{{{{
      - run: echo [[[[[[[[[[ {{{{{{{{{{  # [[[[[[[[[[
        with: { a: "[[[[[[[[[[", b: '{{{{{{{{{{', c: [1, [2]] }
"#;
        // The mappings of the document, `jobs` and `test`, the steps, the step, `with`'s flow
        // mapping and the two flow sequences in it.
        assert_eq!(depth(workflow, MAX_DEPTH), 8);
        let flow = format!("jobs: {}{}", "[".repeat(300), "]".repeat(300));
        assert!(depth(&flow, MAX_DEPTH) > MAX_DEPTH);
        let indented: String = (0..300).map(|level| format!("{}k:\n", " ".repeat(level))).collect();
        assert!(depth(&indented, MAX_DEPTH) > MAX_DEPTH);
        let items = format!("steps:\n{}x", "- ".repeat(300));
        assert!(depth(&items, MAX_DEPTH) > MAX_DEPTH);
        // A flow over many lines, and one behind an anchor.
        let lines = |levels: usize| {
            format!(
                "key:\n{}  x\n{}next: 1\n",
                "  [\n".repeat(levels),
                "  ]\n".repeat(levels)
            )
        };
        assert!(depth(&lines(150), MAX_DEPTH) <= MAX_DEPTH);
        assert!(depth(&lines(250), MAX_DEPTH) > MAX_DEPTH);
        let anchored = format!("key: &a !!seq {}", "[".repeat(250));
        assert!(depth(&anchored, MAX_DEPTH) > MAX_DEPTH);
    }

    #[test]
    fn a_parse_past_its_deadline_is_refused() {
        // Quadratic in the parser, and not refused by depth here: it is parse_within's case.
        let slow = format!("a: {}{}", "[".repeat(20_000), "]".repeat(20_000));
        let start = Instant::now();
        assert_eq!(
            parse_within(slow, Duration::from_millis(20)),
            Err(Unread::Refused(Refusal::Time))
        );
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn an_unchanged_file_is_parsed_once_and_a_changed_one_again() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("ci.yml");
        std::fs::write(&path, "jobs:\n  test:\n    steps:\n      - run: pytest\n")?;
        let (first, hit) = cached_read(&path);
        assert!(!hit);
        let (again, hit) = cached_read(&path);
        assert!(hit);
        // The same parsed document, not a copy parsed again.
        assert!(matches!((&first, &again), (Ok(first), Ok(again)) if Arc::ptr_eq(first, again)));
        std::fs::write(&path, "jobs:\n  test:\n    steps:\n      - run: pytest -q\n")?;
        let (changed, hit) = cached_read(&path);
        assert!(!hit && changed.is_ok());
        Ok(())
    }
}
