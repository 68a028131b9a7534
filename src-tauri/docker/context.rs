//! The build context: the files `.dockerignore` lets through, streamed to the engine as a
//! tar without ever holding it whole in memory.
//!
//! `.dockerignore` follows Docker's rules: one pattern a line, `#` comments, `!` re-includes,
//! `*`/`?`/`[...]` within one path segment, `**` across any number of them, and a pattern
//! that matches a folder excludes everything inside it. The last matching line wins. The
//! Dockerfile and `.dockerignore` are always sent, as the docker CLI does.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use regex::Regex;
use serde::Serialize;
use ts_rs::TS;

/// Above this, the context size comes with a warning (real projects commit databases,
/// static folders and coverage data and have no `.dockerignore`).
pub const LARGE_CONTEXT_BYTES: u64 = 100 * 1024 * 1024;
/// Size of the pieces the tar is streamed in.
const CHUNK_BYTES: usize = 64 * 1024;

struct Rule {
    regex: Regex,
    include: bool,
}

/// The compiled `.dockerignore` of one context.
pub struct IgnoreRules {
    rules: Vec<Rule>,
    has_exceptions: bool,
}

impl IgnoreRules {
    pub fn parse(text: &str) -> Self {
        let rules: Vec<Rule> = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .filter_map(|line| {
                let (include, pattern) = match line.strip_prefix('!') {
                    Some(rest) => (true, rest.trim()),
                    None => (false, line),
                };
                let cleaned = clean(pattern);
                (!cleaned.is_empty()).then(|| {
                    Regex::new(&glob_to_regex(&cleaned))
                        .ok()
                        .map(|regex| Rule { regex, include })
                })?
            })
            .collect();
        let has_exceptions = rules.iter().any(|rule| rule.include);
        Self { rules, has_exceptions }
    }

    pub fn load(context: &Path) -> Self {
        Self::parse(&std::fs::read_to_string(context.join(".dockerignore")).unwrap_or_default())
    }

    /// True when `relative` (slash-separated) is left out of the context.
    pub fn excludes(&self, relative: &str) -> bool {
        let mut excluded = false;
        for rule in &self.rules {
            // A pattern matches the path itself or any folder above it.
            let mut matched = rule.regex.is_match(relative);
            if !matched {
                let mut prefix = relative;
                while let Some((parent, _)) = prefix.rsplit_once('/') {
                    if rule.regex.is_match(parent) {
                        matched = true;
                        break;
                    }
                    prefix = parent;
                }
            }
            if matched {
                excluded = !rule.include;
            }
        }
        excluded
    }
}

/// `filepath.Clean` as Docker applies it: no leading `/` or `./`, no `//`, `..` resolved.
fn clean(pattern: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn glob_to_regex(pattern: &str) -> String {
    let mut regex = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut index = 0;
    while index < chars.len() {
        match chars[index] {
            '*' if chars.get(index + 1) == Some(&'*') => {
                index += 1;
                if chars.get(index + 1) == Some(&'/') {
                    index += 1;
                    regex.push_str("(?:.*/)?");
                } else {
                    regex.push_str(".*");
                }
            }
            '*' => regex.push_str("[^/]*"),
            '?' => regex.push_str("[^/]"),
            '[' => {
                let close = chars[index..]
                    .iter()
                    .position(|&c| c == ']')
                    .map(|offset| index + offset);
                match close {
                    Some(close) if close > index + 1 => {
                        let class: String = chars[index + 1..close].iter().collect();
                        let class = class
                            .strip_prefix(['!', '^'])
                            .map(|rest| format!("^{rest}"))
                            .unwrap_or(class);
                        regex.push('[');
                        regex.push_str(&class.replace('\\', "\\\\"));
                        regex.push(']');
                        index = close;
                    }
                    _ => regex.push_str("\\["),
                }
            }
            '\\' if index + 1 < chars.len() => {
                index += 1;
                regex.push_str(&regex::escape(&chars[index].to_string()));
            }
            other => regex.push_str(&regex::escape(&other.to_string())),
        }
        index += 1;
    }
    regex.push('$');
    regex
}

/// What will be sent, known before sending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ContextSummary {
    pub files: u64,
    #[ts(type = "number")]
    pub bytes: u64,
    /// The biggest files, largest first, for the warning.
    pub largest: Vec<ContextFile>,
    /// Set when the context is large, with what to do about it.
    pub warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ContextFile {
    pub path: String,
    #[ts(type = "number")]
    pub bytes: u64,
}

/// The files of a context, relative paths in a stable order.
pub struct ContextPlan {
    pub root: PathBuf,
    pub entries: Vec<(String, PathBuf)>,
    /// The folders that are not excluded, sent as entries of their own as the docker CLI
    /// does: the engine's cache key for a `COPY` of a folder covers its folders' entries.
    pub folders: Vec<(String, PathBuf)>,
    pub summary: ContextSummary,
}

/// Walks `root` and decides what goes in. `dockerfile` is relative to `root`.
pub fn plan_context(root: &Path, dockerfile: &str) -> std::io::Result<ContextPlan> {
    let rules = IgnoreRules::load(root);
    let always = [clean(dockerfile), ".dockerignore".to_owned()];
    let mut entries = Vec::new();
    let mut folders = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut children: Vec<_> = std::fs::read_dir(&dir)?.collect::<Result<_, _>>()?;
        children.sort_by_key(|entry| entry.file_name());
        for entry in children {
            let path = entry.path();
            let Ok(relative) = path.strip_prefix(root) else {
                continue;
            };
            let relative = relative.to_string_lossy().replace('\\', "/");
            let file_type = entry.file_type()?;
            let excluded = rules.excludes(&relative) && !always.contains(&relative);
            if file_type.is_dir() {
                if !excluded {
                    folders.push((relative, path.clone()));
                }
                // An excluded folder can still hold a re-included file; only then look inside.
                if !excluded || rules.has_exceptions {
                    stack.push(path);
                }
            } else if !excluded {
                entries.push((relative, path));
            }
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    folders.sort_by(|a, b| a.0.cmp(&b.0));
    let mut sizes: Vec<(String, u64)> = entries
        .iter()
        .map(|(relative, path)| {
            (
                relative.clone(),
                std::fs::symlink_metadata(path).map(|m| m.len()).unwrap_or(0),
            )
        })
        .collect();
    let bytes = sizes.iter().map(|(_, size)| size).sum();
    sizes.sort_by_key(|(_, size)| std::cmp::Reverse(*size));
    sizes.truncate(5);
    let warning = (bytes > LARGE_CONTEXT_BYTES).then(|| {
        format!(
            "The build context is {} MB. Add a .dockerignore for what the image does not need (databases, static and coverage files, virtualenvs); the largest files are {}.",
            bytes / (1024 * 1024),
            sizes.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>().join(", ")
        )
    });
    let largest = sizes
        .into_iter()
        .map(|(path, bytes)| ContextFile { path, bytes })
        .collect();
    Ok(ContextPlan {
        root: root.to_path_buf(),
        summary: ContextSummary {
            files: entries.len() as u64,
            bytes,
            largest,
            warning,
        },
        entries,
        folders,
    })
}

/// Streams the planned files as a tar, in chunks, from a blocking thread; memory stays at
/// a few chunks whatever the context's size.
pub fn stream_context(plan: ContextPlan) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let writer = ChunkWriter {
            sender: sender.clone(),
            buffer: Vec::with_capacity(CHUNK_BYTES),
        };
        let mut builder = tar::Builder::new(writer);
        builder.follow_symlinks(false);
        // The engine rejects GNU sparse headers ("unhandled tar header type 83").
        builder.sparse(false);
        let result = (|| {
            // Folders first, each before what it holds, as the engine unpacks in order.
            for (relative, path) in plan.folders.iter().chain(&plan.entries) {
                append_entry(&mut builder, relative, path)?;
            }
            builder.into_inner()?.finish()
        })();
        if let Err(error) = result {
            let _ = sender.blocking_send(Err(error));
        }
    });
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
}

/// One entry with the headers the docker CLI sends: the file's permission bits, size and
/// time, owned by root, no user or group names. The classic builder's cache key for a `COPY` is a checksum of
/// those headers and the content: with the same headers, an image the docker CLI (or Compose)
/// built last from the same Dockerfile is reused, not built again from that step on.
fn append_entry<W: std::io::Write>(builder: &mut tar::Builder<W>, relative: &str, path: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    let mut header = tar::Header::new_gnu();
    header.set_metadata_in_mode(&meta, tar::HeaderMode::Complete);
    header.set_uid(0);
    header.set_gid(0);
    // The permission bits alone: tar's own header adds the file type's bits, the CLI does not.
    header.set_mode(crate::platform::files::mode(&meta));
    if meta.is_dir() {
        header.set_size(0);
        builder.append_data(&mut header, format!("{relative}/"), std::io::empty())
    } else if meta.file_type().is_symlink() {
        header.set_size(0);
        builder.append_link(&mut header, relative, std::fs::read_link(path)?)
    } else if meta.is_file() {
        // Never more than the header says, should the file grow while it is read.
        let file = std::io::Read::take(std::fs::File::open(path)?, meta.len());
        builder.append_data(&mut header, relative, file)
    } else {
        // A pipe or a device: tar's own header for it, never opened (a pipe would block).
        builder.append_path_with_name(path, relative)
    }
}

struct ChunkWriter {
    sender: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buffer: Vec<u8>,
}

impl ChunkWriter {
    fn send_buffer(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES)));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the engine stopped reading the context"))
    }

    fn finish(mut self) -> std::io::Result<()> {
        self.send_buffer()
    }
}

impl std::io::Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK_BYTES {
            self.send_buffer()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Docker's own semantics, case by case: (patterns, path, excluded).
    #[test]
    fn dockerignore_cases() {
        let cases: &[(&str, &str, bool)] = &[
            ("*.sqlite3", "db.sqlite3", true),
            ("*.sqlite3", "data/db.sqlite3", false),
            ("**/*.sqlite3", "data/db.sqlite3", true),
            ("**/*.sqlite3", "db.sqlite3", true),
            ("static", "static/css/site.css", true),
            ("/static/", "static/css/site.css", true),
            ("./venv", "venv/bin/python", true),
            ("docs/*.md", "docs/a.md", true),
            ("docs/*.md", "docs/sub/a.md", false),
            ("docs/**/*.md", "docs/sub/deep/a.md", true),
            ("*\n!keep.txt", "keep.txt", false),
            ("*\n!keep.txt", "other.txt", true),
            ("logs\n!logs/keep.log", "logs/keep.log", false),
            ("logs\n!logs/keep.log", "logs/drop.log", true),
            ("!a.txt\n*.txt", "a.txt", true),
            ("file?.py", "file1.py", true),
            ("file?.py", "file10.py", false),
            ("[a-c].py", "b.py", true),
            ("[!a-c].py", "b.py", false),
            ("# comment\n\n.coverage", ".coverage", true),
            ("__pycache__\n**/__pycache__", "shop/__pycache__/x.pyc", true),
            ("a/../b", "b/x", true),
        ];
        for (patterns, path, expected) in cases {
            assert_eq!(
                IgnoreRules::parse(patterns).excludes(path),
                *expected,
                "{patterns:?} on {path}"
            );
        }
    }

    #[test]
    fn the_dockerfile_and_dockerignore_are_always_sent() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        for file in ["Dockerfile", ".dockerignore", "app.py", "db.sqlite3", "static/site.css"] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap_or(dir.path()))?;
            std::fs::write(path, "x")?;
        }
        std::fs::write(
            dir.path().join(".dockerignore"),
            "Dockerfile\n.dockerignore\n*.sqlite3\nstatic\n",
        )?;
        let plan = plan_context(dir.path(), "Dockerfile")?;
        let names: Vec<&str> = plan.entries.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, [".dockerignore", "Dockerfile", "app.py"]);
        assert_eq!(plan.summary.files, 3);
        assert!(plan.summary.warning.is_none());
        Ok(())
    }
}
