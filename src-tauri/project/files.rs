//! Reading a project's files the way its tools do: text in any of the encodings found in
//! real repositories, and a bounded walk that never descends into virtualenvs or caches.

use std::path::{Path, PathBuf};

/// Folders no detection looks inside.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "site-packages",
];

/// Reads a text file whatever its encoding: UTF-8 (with or without a BOM) or UTF-16 with a
/// BOM (Windows editors save `requirements.txt` that way), with CRLF turned into LF.
pub fn read_text(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(decode_text(&bytes))
}

pub fn decode_text(bytes: &[u8]) -> String {
    let text = match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    };
    text.replace("\r\n", "\n")
}

fn utf16(bytes: &[u8], from_bytes: fn([u8; 2]) -> u16) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| from_bytes([pair[0], pair[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// True for a Python virtualenv (it has `pyvenv.cfg` at its top).
pub fn is_virtualenv(dir: &Path) -> bool {
    dir.join("pyvenv.cfg").is_file()
}

/// Files below `root` (at most `max_depth` folders down) for which `wanted` is true, as
/// paths relative to `root`, sorted.
pub fn find_files(root: &Path, max_depth: usize, wanted: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut found = Vec::new();
    walk(root, root, max_depth, wanted, &mut found);
    found.sort();
    found
}

fn walk(root: &Path, dir: &Path, depth_left: usize, wanted: &dyn Fn(&str) -> bool, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            if depth_left > 0 && !SKIPPED_DIRS.contains(&name.as_str()) && !is_virtualenv(&path) {
                walk(root, &path, depth_left - 1, wanted, found);
            }
        } else if file_type.is_file() && wanted(&name) {
            if let Ok(relative) = path.strip_prefix(root) {
                found.push(relative.to_path_buf());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_with_bom_and_crlf_reads_as_plain_text() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "Django==4.2\r\npytest\r\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode_text(&bytes), "Django==4.2\npytest\n");
        let mut big_endian = vec![0xFE, 0xFF];
        for unit in "flake8".encode_utf16() {
            big_endian.extend_from_slice(&unit.to_be_bytes());
        }
        assert_eq!(decode_text(&big_endian), "flake8");
        assert_eq!(decode_text(b"\xEF\xBB\xBFx=1\r\n"), "x=1\n");
    }

    #[test]
    fn the_walk_skips_virtualenvs_and_git() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        for file in [
            "Dockerfile",
            "deploy/dockerfile",
            ".venv/lib/Dockerfile",
            ".git/Dockerfile",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap_or(dir.path()))?;
            std::fs::write(path, "FROM scratch")?;
        }
        std::fs::write(dir.path().join(".venv/pyvenv.cfg"), "home = /usr/bin")?;
        let found = find_files(dir.path(), 3, &|name| name.eq_ignore_ascii_case("dockerfile"));
        assert_eq!(found, [PathBuf::from("Dockerfile"), PathBuf::from("deploy/dockerfile")]);
        Ok(())
    }
}
