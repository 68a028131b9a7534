//! Who holds the ledger when SQLite waited for a lock in vain (a database browser, a sync or
//! backup tool, another Slipway), and whether anyone does before a damaged file is moved
//! aside. On Linux the programs with the file (or its WAL files) open
//! are found in `/proc/<pid>/fd` and named from `/proc/<pid>/comm`; elsewhere, or for
//! another user's processes, nobody is named and the message says so in general terms.

use std::path::Path;

/// The other programs that have the ledger at `path` open, as "sqlitebrowser (pid 4242)";
/// this process is left out (its own connections are not "another program").
pub(super) fn holders(path: &Path) -> Vec<String> {
    #[cfg(target_os = "linux")]
    {
        let files: Vec<std::path::PathBuf> = ["", "-wal", "-shm"]
            .iter()
            .filter_map(|suffix| {
                let mut name = path.as_os_str().to_owned();
                name.push(suffix);
                std::fs::canonicalize(name).ok()
            })
            .collect();
        let own = std::process::id().to_string();
        let Ok(processes) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        let mut found: Vec<String> = processes
            .flatten()
            .filter_map(|process| {
                let pid = process.file_name().into_string().ok()?;
                if pid == own || !pid.bytes().all(|byte| byte.is_ascii_digit()) {
                    return None;
                }
                // Another user's process is not ours to look into: skipped, not an error.
                let holds = std::fs::read_dir(process.path().join("fd"))
                    .ok()?
                    .flatten()
                    .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| files.contains(&target)));
                let name = std::fs::read_to_string(process.path().join("comm")).unwrap_or_default();
                holds.then(|| format!("{} (pid {pid})", name.trim()))
            })
            .collect();
        found.sort();
        found.truncate(3);
        found
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        Vec::new()
    }
}

/// ", held by sqlitebrowser (pid 4242)" for a message, or nothing when nobody was named.
pub(super) fn named(holders: &[String]) -> String {
    if holders.is_empty() {
        String::new()
    } else {
        format!(", held by {}", holders.join(", "))
    }
}

/// Says that Slipway waits for the file, and for whom, while it waits once more.
pub(super) fn warn_waiting(path: &Path) {
    tracing::warn!(
        "Another program holds the history file ({}{}): Slipway waits for it",
        path.display(),
        named(&holders(path))
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_program_with_the_file_open_is_named_and_this_one_is_not() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("history.sqlite3");
        std::fs::write(&path, b"")?;
        let _own = std::fs::File::open(&path)?;
        assert!(holders(&path).is_empty(), "this process is not another program");
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .stdin(std::fs::File::open(&path)?)
            .spawn()?;
        let found = holders(&path);
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        assert_eq!(found, [format!("sleep (pid {})", sleeper.id())]);
        assert_eq!(named(&found), format!(", held by sleep (pid {})", sleeper.id()));
        Ok(())
    }
}
