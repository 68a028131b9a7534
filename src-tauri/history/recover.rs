//! Recovering a damaged ledger ("database disk image is malformed"): the file is checked,
//! kept aside as it is, and every row that still reads is copied into a new ledger.
//!
//! SQLite's own recovery (`sqlite3_recover`, the shell's `.recover`) is not in the library
//! we bundle, so rows are read table by table in rowid order. A read that fails means the
//! cursor met a damaged page: the first rowid whose seek works again is searched for
//! (doubling steps, then halving), so one bad page loses only the rows on it. Releases are
//! copied first, and a step, log line or report whose release was lost is refused by the
//! foreign key. Rows are never deleted and rowids are handed out in order, so the rowids
//! missing below a table's highest one count what was lost.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, Statement, Transaction};

use super::{HistoryError, FILE_NAME};

/// What came back from a damaged ledger.
pub(super) struct Recovered {
    /// Where the damaged file is kept.
    pub kept: PathBuf,
    /// The releases copied into the new ledger.
    pub releases: usize,
    /// The releases known to have been lost: rowids missing below the highest, or referred
    /// to by a step, line or report that survived its release.
    pub lost: usize,
    /// Rows of the other tables (steps, log lines, reports) not recovered.
    pub rows_lost: usize,
    /// What SQLite said first.
    pub cause: String,
}

impl Recovered {
    /// The one-time notice the window and the CLI show.
    pub fn notice(&self) -> String {
        let start = format!(
            "The release history was damaged ({}); it is kept as {}",
            self.cause,
            self.kept.display()
        );
        let releases = |count: usize| if count == 1 { "release" } else { "releases" };
        match (self.releases, self.lost) {
            (0, 0) => format!("{start}, no release could be read from it, and a new history was started."),
            (recovered, 0) if self.rows_lost == 0 => format!(
                "{start}, and all {recovered} of its {} were recovered into a new history.",
                releases(recovered)
            ),
            (recovered, 0) => format!(
                "{start}, and its {recovered} {} were recovered into a new history ({} log lines or steps could not be read).",
                releases(recovered),
                self.rows_lost
            ),
            (recovered, lost) => format!(
                "{start}; {recovered} of its {} {} were recovered into a new history, {lost} could not be read.",
                recovered + lost,
                releases(recovered + lost)
            ),
        }
    }
}

/// Checks the ledger at `path`, moves it aside and copies what still reads into a new ledger
/// there, returned open. On failure the file is put back as it was. The caller has closed
/// its own connection to it.
pub(super) fn recover(path: &Path, cause: &rusqlite::Error) -> Result<(Connection, Recovered), HistoryError> {
    let damaged = |reason: String| HistoryError::Damaged {
        path: path.to_path_buf(),
        reason,
    };
    // Another Slipway writing to it would go on writing to the file set aside: that one
    // recovers it, or this one once it is alone.
    let holders = super::held::holders(path);
    if !holders.is_empty() {
        return Err(damaged(format!(
            "another program has it open ({}); it is recovered once that one closes it",
            holders.join(", ")
        )));
    }
    // The WAL files the check and the copy leave beside the kept file are removed after.
    let had_side_files = ["-wal", "-shm"].map(|suffix| with_suffix(path, suffix).exists());
    let check = quick_check(path);
    tracing::warn!(error = %cause, check = %check, "the release history is damaged: recovering it");
    let kept = set_aside(path).map_err(|error| damaged(format!("it could not be moved aside ({error})")))?;
    let copied = copy_into(&kept, path);
    for (suffix, had) in ["-wal", "-shm"].iter().zip(had_side_files) {
        if !had {
            let _ = std::fs::remove_file(with_suffix(&kept, suffix));
        }
    }
    match copied {
        Ok((connection, tally)) => {
            let recovered = Recovered {
                kept,
                releases: tally.releases,
                lost: tally.release_gap.max(tally.orphaned.len()),
                rows_lost: tally.rows_lost,
                cause: cause.to_string(),
            };
            tracing::warn!(
                kept = %recovered.kept.display(),
                releases = recovered.releases,
                lost = recovered.lost,
                rows_lost = recovered.rows_lost,
                "the release history was recovered into a new file"
            );
            Ok((connection, recovered))
        }
        Err(error) => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(with_suffix(path, suffix));
            }
            for suffix in ["", "-wal", "-shm"] {
                let from = with_suffix(&kept, suffix);
                if from.exists() {
                    let _ = std::fs::rename(&from, with_suffix(path, suffix));
                }
            }
            Err(damaged(error.to_string()))
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `PRAGMA quick_check` on the file, its first findings on one line (for the log).
fn quick_check(path: &Path) -> String {
    let findings = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).and_then(|connection| {
        let mut query = connection.prepare("PRAGMA quick_check(5)")?;
        let rows = query.query_map([], |row| row.get::<_, String>(0))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
    });
    match findings {
        Ok(lines) => lines.join("; "),
        Err(error) => error.to_string(),
    }
}

/// Moves the ledger (and its WAL files) to `history.sqlite3.damaged-<time>`, never over an
/// earlier one.
fn set_aside(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let kept = (1..)
        .map(|attempt| match attempt {
            1 => path.with_file_name(format!("{FILE_NAME}.damaged-{stamp}")),
            _ => path.with_file_name(format!("{FILE_NAME}.damaged-{stamp}-{attempt}")),
        })
        .find(|kept| !kept.exists())
        .unwrap_or_else(|| path.with_file_name(format!("{FILE_NAME}.damaged")));
    std::fs::rename(path, &kept)?;
    for suffix in ["-wal", "-shm"] {
        let side = with_suffix(path, suffix);
        if side.exists() {
            let _ = std::fs::rename(&side, with_suffix(&kept, suffix));
        }
    }
    Ok(kept)
}

/// What the copy met.
#[derive(Default)]
struct Tally {
    releases: usize,
    /// Releases missing below the highest rowid seen.
    release_gap: usize,
    /// Releases that steps, lines or reports refer to but that were not recovered.
    orphaned: HashSet<String>,
    rows_lost: usize,
}

/// Copies every table of a new ledger at `path` from the damaged file `kept`.
fn copy_into(kept: &Path, path: &Path) -> rusqlite::Result<(Connection, Tally)> {
    // The damaged file is only read, so it stays as it was found.
    let old = Connection::open_with_flags(kept, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut new = super::connect(path)?;
    let mut tally = Tally::default();
    {
        let transaction = new.transaction()?;
        // Releases first: the rest refer to them.
        let tables: Vec<String> = transaction
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                 ORDER BY name = 'releases' DESC, rowid",
            )?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for table in &tables {
            if let Err(error) = copy_table(&old, &transaction, table, &mut tally) {
                tracing::warn!(%error, table, "a table of the damaged history could not be read at all");
            }
        }
        transaction.commit()?;
    }
    Ok((new, tally))
}

/// Where a table's rows go, and what is counted on the way.
struct Sink<'a> {
    insert: Statement<'a>,
    /// The position of `release_id`, for a row refused because its release was lost.
    release_column: Option<usize>,
    copied: usize,
    /// The highest rowid seen or found: the rows below it that were not copied were lost.
    last_rowid: i64,
    orphaned: HashSet<String>,
}

impl Sink<'_> {
    fn put(&mut self, rowid: i64, values: &[Value]) {
        self.last_rowid = self.last_rowid.max(rowid);
        match self.insert.execute(rusqlite::params_from_iter(values)) {
            Ok(_) => self.copied += 1,
            Err(_) => {
                if let Some(Value::Text(id)) = self.release_column.and_then(|column| values.get(column)) {
                    self.orphaned.insert(id.clone());
                }
            }
        }
    }

    fn lost(&mut self, rowid: i64) {
        self.last_rowid = self.last_rowid.max(rowid);
    }

    fn missing(&self) -> usize {
        usize::try_from(self.last_rowid)
            .unwrap_or(0)
            .saturating_sub(self.copied)
    }
}

/// Copies `table`'s rows that read, in rowid order, stepping over damaged pages.
fn copy_table(old: &Connection, new: &Transaction<'_>, table: &str, tally: &mut Tally) -> rusqlite::Result<()> {
    let columns: Vec<String> = new
        .prepare("SELECT name FROM pragma_table_info(?1)")?
        .query_map([table], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let list = columns
        .iter()
        .map(|column| format!("\"{column}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let marks = vec!["?"; columns.len()].join(", ");
    let mut sink = Sink {
        insert: new.prepare(&format!("INSERT INTO \"{table}\" ({list}) VALUES ({marks})"))?,
        release_column: columns.iter().position(|column| column == "release_id"),
        copied: 0,
        last_rowid: 0,
        orphaned: HashSet::new(),
    };
    // The highest rowid, when the path to it still reads: rows lost at the very end count too.
    if let Ok(Some(last)) = old.query_row(&format!("SELECT max(rowid) FROM \"{table}\""), [], |row| row.get(0)) {
        sink.lost(last);
    }
    let scan = format!("SELECT rowid, {list} FROM \"{table}\" WHERE rowid > ?1 ORDER BY rowid");
    let one = format!("SELECT rowid, {list} FROM \"{table}\" WHERE rowid = ?1");
    let seek = format!("SELECT rowid FROM \"{table}\" WHERE rowid > ?1 ORDER BY rowid LIMIT 1");
    let mut after = i64::MIN;
    loop {
        if read_rows(old, &scan, &mut after, columns.len(), &mut sink).is_ok() {
            break;
        }
        match old.query_row(&seek, [after], |row| row.get::<_, i64>(0)) {
            Err(rusqlite::Error::QueryReturnedNoRows) => break,
            // The cursor reaches the next row, but the scan failed there: that row alone.
            Ok(rowid) => {
                match old.query_row(&one, [rowid], |row| values(row, columns.len())) {
                    Ok(values) => sink.put(rowid, &values),
                    Err(_) => sink.lost(rowid),
                }
                after = rowid;
            }
            Err(_) => match step_over(old, &seek, after) {
                Some(next) => after = next,
                None => break,
            },
        }
    }
    if table == "releases" {
        tally.releases = sink.copied;
        tally.release_gap = sink.missing();
    } else {
        tally.rows_lost += sink.missing();
    }
    tally.orphaned.extend(sink.orphaned);
    Ok(())
}

/// Reads rows after `after` until the end (`Ok`) or a damaged page (`Err`), moving `after`.
fn read_rows(old: &Connection, scan: &str, after: &mut i64, width: usize, sink: &mut Sink<'_>) -> rusqlite::Result<()> {
    let mut query = old.prepare(scan)?;
    let mut rows = query.query([*after])?;
    while let Some(row) = rows.next()? {
        let rowid: i64 = row.get(0)?;
        let values = values(row, width)?;
        sink.put(rowid, &values);
        *after = rowid;
    }
    Ok(())
}

fn values(row: &rusqlite::Row<'_>, width: usize) -> rusqlite::Result<Vec<Value>> {
    (1..=width).map(|column| row.get::<_, Value>(column)).collect()
}

/// The smallest rowid past `after` from which a seek works again (the rows up to it are on
/// damaged pages); `None` when none does.
fn step_over(old: &Connection, seek: &str, after: i64) -> Option<i64> {
    let works = |from: i64| match old.query_row(seek, [from], |row| row.get::<_, i64>(0)) {
        Ok(_) | Err(rusqlite::Error::QueryReturnedNoRows) => true,
        Err(_) => false,
    };
    let (mut bad, mut step) = (after, 1i64);
    let mut good = loop {
        let from = bad.checked_add(step)?;
        if works(from) {
            break from;
        }
        bad = from;
        step = step.saturating_mul(2);
    };
    while good - bad > 1 {
        let middle = bad + (good - bad) / 2;
        if works(middle) {
            good = middle;
        } else {
            bad = middle;
        }
    }
    Some(good)
}

#[cfg(test)]
mod tests {
    use super::super::{Ending, Ledger, NewRelease, Outcome, StepState};
    use super::*;
    use crate::vocabulary::{Step, Target};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const PAGE: u64 = 4096;

    fn seed(ledger: &Ledger, count: usize) -> TestResult {
        for number in 0..count {
            let id = format!("r{number:03}");
            ledger.begin(&NewRelease {
                id: id.clone(),
                project_path: "/p".to_owned(),
                project_name: "p".to_owned(),
                user: "ann".to_owned(),
                target: Target::Local,
                steps: vec![Step::Tests, Step::Build],
                ..NewRelease::default()
            })?;
            ledger.step(&id, Step::Tests, StepState::Running, None)?;
            for line in 0..20 {
                ledger.log(
                    &id,
                    Step::Tests,
                    "output",
                    &format!("{id} line {line} {}", "x".repeat(100)),
                    0,
                )?;
            }
            ledger.step(&id, Step::Tests, StepState::Passed, Some("ok"))?;
            // Long enough that the releases fill many pages.
            let ending = Ending {
                message: Some("Deployed and answering on the first try. ".repeat(16)),
                ..Ending::default()
            };
            ledger.finish(&id, Outcome::Live, &ending)?;
        }
        Ok(())
    }

    /// The pages of the b-tree rooted at `root`, leaves of the `releases` table among them,
    /// found by reading the file as SQLite lays it out (no `dbstat` in the bundled library).
    fn table_leaves(file: &[u8], root: u32) -> Vec<u32> {
        let page = |number: u32| &file[(number as usize - 1) * PAGE as usize..number as usize * PAGE as usize];
        let mut leaves = Vec::new();
        let mut pending = vec![root];
        while let Some(number) = pending.pop() {
            let bytes = page(number);
            let header = if number == 1 { 100 } else { 0 };
            match bytes[header] {
                13 => leaves.push(number),
                5 => {
                    let cells = u16::from_be_bytes([bytes[header + 3], bytes[header + 4]]) as usize;
                    for cell in 0..cells {
                        let at = header + 12 + cell * 2;
                        let offset = u16::from_be_bytes([bytes[at], bytes[at + 1]]) as usize;
                        pending.push(u32::from_be_bytes([
                            bytes[offset],
                            bytes[offset + 1],
                            bytes[offset + 2],
                            bytes[offset + 3],
                        ]));
                    }
                    pending.push(u32::from_be_bytes([
                        bytes[header + 8],
                        bytes[header + 9],
                        bytes[header + 10],
                        bytes[header + 11],
                    ]));
                }
                _ => {}
            }
        }
        leaves.sort();
        leaves
    }

    /// Forty releases, then one page of the releases table in the middle of the file
    /// overwritten with garbage: the next read finds it, the file is kept aside, the releases
    /// on other pages come back, the person is told how many, and new releases are recorded.
    #[test]
    fn a_damaged_page_is_set_aside_and_the_releases_that_read_are_recovered() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(FILE_NAME);
        let total = 40;
        seed(&Ledger::open(dir.path())?, total)?;
        // Every change in the file itself, not in the WAL.
        Connection::open(&path)?.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;

        let mut file = std::fs::read(&path)?;
        let root: u32 = Connection::open(&path)?.query_row(
            "SELECT rootpage FROM sqlite_master WHERE name = 'releases'",
            [],
            |row| row.get(0),
        )?;
        let leaves = table_leaves(&file, root);
        assert!(leaves.len() >= 4, "the releases span pages: {leaves:?}");
        let victim = leaves[leaves.len() / 2];
        let start = (victim as u64 - 1) * PAGE;
        for (index, byte) in file[start as usize..(start + PAGE) as usize].iter_mut().enumerate() {
            *byte = (index as u8).wrapping_mul(31).wrapping_add(7);
        }
        std::fs::write(&path, &file)?;
        // Without recovery every read of the list fails.
        let plain = Connection::open(&path)?.query_row("SELECT group_concat(message) FROM releases", [], |_| Ok(()));
        assert!(plain.is_err_and(|error| error.to_string().contains("malformed")));

        let ledger = Ledger::open(dir.path())?;
        // While another program has the file open it is left where it is: that program would
        // go on writing to the file set aside.
        if cfg!(target_os = "linux") {
            let mut holder = std::process::Command::new("sleep")
                .arg("30")
                .stdin(std::fs::File::open(&path)?)
                .spawn()?;
            let refused = ledger.releases(None, 1000);
            let _ = holder.kill();
            let _ = holder.wait();
            assert!(
                matches!(&refused, Err(HistoryError::Damaged { reason, .. }) if reason.contains("sleep (pid")),
                "{refused:?}"
            );
            assert_eq!(std::fs::read(&path)?, file, "left as it was");
            assert!(ledger.notice().is_none());
        }
        let listed = ledger.releases(None, 1000)?;
        let notice = ledger.notice().ok_or("the person is told")?.to_owned();
        println!(
            "damaged page {victim} of {} ({} release leaves): {} of {total} releases recovered; notice: {notice}",
            file.len() as u64 / PAGE,
            leaves.len(),
            listed.len()
        );
        assert!(
            listed.len() < total && listed.len() >= total - total / 4,
            "one page's releases lost: {}",
            listed.len()
        );
        assert!(listed.iter().all(|release| release.outcome == Outcome::Live));
        let lost = total - listed.len();
        assert!(
            notice.contains(&format!("{} of its {total} releases were recovered", listed.len()))
                && notice.contains(&format!("{lost} could not be read")),
            "{notice}"
        );
        let kept: Vec<String> = std::fs::read_dir(dir.path())?
            .filter_map(|entry| entry.ok().map(|entry| entry.file_name().to_string_lossy().into_owned()))
            .filter(|name| name.starts_with("history.sqlite3.damaged-"))
            .collect();
        assert_eq!(kept.len(), 1, "the damaged file is kept, as it was, alone: {kept:?}");
        assert_eq!(std::fs::read(dir.path().join(&kept[0]))?, file);
        // What came back is whole: its steps and log lines.
        let first = ledger.release(&listed[0].id)?.ok_or("a recovered release")?;
        assert_eq!(first.steps[0].state, StepState::Passed);
        assert_eq!(ledger.log_lines(&first.id, "tests")?.len(), 20);

        ledger.begin(&NewRelease {
            id: "after".to_owned(),
            project_path: "/p".to_owned(),
            project_name: "p".to_owned(),
            user: "ann".to_owned(),
            target: Target::Local,
            ..NewRelease::default()
        })?;
        ledger.finish("after", Outcome::Live, &Ending::default())?;
        assert_eq!(ledger.releases(None, 1000)?.len(), listed.len() + 1);
        let check: String = Connection::open(&path)?.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
        assert_eq!(check, "ok", "the new file is whole");
        Ok(())
    }

    /// A damaged log page loses those lines only: every release comes back.
    #[test]
    fn a_damaged_log_page_loses_only_its_lines() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(FILE_NAME);
        seed(&Ledger::open(dir.path())?, 12)?;
        Connection::open(&path)?.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let mut file = std::fs::read(&path)?;
        let root: u32 = Connection::open(&path)?.query_row(
            "SELECT rootpage FROM sqlite_master WHERE name = 'step_logs'",
            [],
            |row| row.get(0),
        )?;
        let leaves = table_leaves(&file, root);
        let victim = leaves[leaves.len() / 2];
        let start = ((victim as u64 - 1) * PAGE) as usize;
        file[start..start + PAGE as usize].fill(0xA5);
        std::fs::write(&path, &file)?;

        let ledger = Ledger::open(dir.path())?;
        // The list does not read the logs; a log that sits on the page does.
        let listed = ledger.releases(None, 100)?;
        assert_eq!(listed.len(), 12);
        for release in &listed {
            ledger.log_lines(&release.id, "tests")?;
        }
        let notice = ledger.notice().ok_or("the person is told")?.to_owned();
        assert!(notice.contains("its 12 releases were recovered"), "{notice}");
        assert!(notice.contains("log lines or steps could not be read"), "{notice}");
        assert_eq!(ledger.releases(None, 100)?.len(), 12);
        Ok(())
    }
}
