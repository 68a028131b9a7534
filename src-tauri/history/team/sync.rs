//! Keeping this machine's copy and the team's PostgreSQL in step.
//!
//! Every release is written here first (a lost connection loses nothing, and a release made
//! without the team's server is an ordinary release still to send), then sent: the releases
//! and steps changed since they were last sent (`revision` against `shared_revision`), and
//! the log lines and results past the last one sent. Keys make a resend land once. Then what
//! the others sent is fetched: every row with a `change` number past the last one seen, read
//! in one snapshot under the lock that uploads take, so no row can be skipped. Their log
//! lines are fetched when a release's log is opened.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension};
use tokio_postgres::Client;

use super::copy::{Cell, Row, Table, BATCH, LOGS, RELEASES, RESULTS, STEPS};
use super::schema::WRITE_LOCK;
use super::TeamError;

/// Releases sent per round; the next round sends the rest.
const RELEASES_PER_ROUND: usize = 200;
const LINES_PER_ROUND: usize = 20_000;
const PAGE: i64 = 2_000;

fn mark(local: &Connection, name: &str) -> rusqlite::Result<i64> {
    Ok(local
        .query_row("SELECT value FROM team_marks WHERE name = ?1", [name], |row| row.get(0))
        .optional()?
        .unwrap_or(0))
}

fn set_mark(local: &Connection, name: &str, value: i64) -> rusqlite::Result<()> {
    local.execute(
        "INSERT INTO team_marks (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
        params![name, value],
    )?;
    Ok(())
}

fn read_rows(
    local: &Connection,
    table: &Table,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> rusqlite::Result<Vec<Row>> {
    let sql = format!("SELECT {} FROM {} {filter}", table.column_list(), table.name);
    let mut query = local.prepare(&sql)?;
    let rows = query.query_map(args, |row| table.read_sqlite(row, 0))?;
    rows.collect()
}

/// What one upload sent.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sent {
    pub releases: usize,
    pub lines: usize,
}

/// Sends what this machine has that the team's server has not; `Sent` is empty when there was
/// nothing to send.
pub(super) async fn upload(local: &Connection, client: &mut Client) -> Result<Sent, TeamError> {
    let mut query = local.prepare(&format!(
        "SELECT {}, revision FROM releases WHERE from_team = 0 AND revision > shared_revision
         ORDER BY started_at LIMIT {RELEASES_PER_ROUND}",
        RELEASES.column_list()
    ))?;
    let changed: Vec<(Row, i64)> = query
        .query_map([], |row| {
            Ok((RELEASES.read_sqlite(row, 0)?, row.get(RELEASES.columns.len())?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let ids: Vec<String> = changed
        .iter()
        .filter_map(|(row, _)| row[0].text().map(str::to_owned))
        .collect();
    let mut steps = Vec::new();
    for id in &ids {
        steps.extend(read_rows(local, &STEPS, "WHERE release_id = ?1", &[id])?);
    }
    // Lines only once every release they may belong to is sent or in this batch.
    let whole = changed.len() < RELEASES_PER_ROUND;
    let own = "AND release_id IN (SELECT id FROM releases WHERE from_team = 0)";
    let (log_mark, result_mark) = (mark(local, "sent_log")?, mark(local, "sent_result")?);
    let (lines, results) = if whole {
        (
            read_rows(
                local,
                &LOGS,
                &format!("WHERE seq > ?1 {own} ORDER BY seq LIMIT {LINES_PER_ROUND}"),
                &[&log_mark],
            )?,
            read_rows(
                local,
                &RESULTS,
                &format!("WHERE seq > ?1 {own} ORDER BY seq LIMIT 1000"),
                &[&result_mark],
            )?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    if changed.is_empty() && lines.is_empty() && results.is_empty() {
        return Ok(Sent::default());
    }
    let transaction = client.transaction().await?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
        .await?;
    let releases: Vec<Row> = changed.iter().map(|(row, _)| row.clone()).collect();
    insert(&transaction, &RELEASES, &releases, true).await?;
    insert(&transaction, &STEPS, &steps, true).await?;
    insert(&transaction, &LOGS, &lines, false).await?;
    insert(&transaction, &RESULTS, &results, false).await?;
    transaction.commit().await?;
    // Sent: a release changed meanwhile keeps a newer revision and goes again next round.
    for (row, revision) in &changed {
        local.execute(
            "UPDATE releases SET shared_revision = ?2 WHERE id = ?1",
            params![row[0].text(), revision],
        )?;
    }
    let last_seq = |rows: &[Row], table: &Table| rows.iter().filter_map(|row| row[table.position("seq")].int()).max();
    if let Some(seq) = last_seq(&lines, &LOGS) {
        set_mark(local, "sent_log", seq)?;
    }
    if let Some(seq) = last_seq(&results, &RESULTS) {
        set_mark(local, "sent_result", seq)?;
    }
    Ok(Sent {
        releases: changed.len(),
        lines: lines.len(),
    })
}

/// Writes `rows` into the team's `table`, many per statement.
pub(super) async fn insert(
    transaction: &tokio_postgres::Transaction<'_>,
    table: &Table,
    rows: &[Row],
    update: bool,
) -> Result<u64, TeamError> {
    let mut written = 0;
    for chunk in rows.chunks(BATCH) {
        let sql = table.pg_insert(chunk.len(), update);
        let values: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            chunk.iter().flat_map(|row| row.iter().map(Cell::as_pg)).collect();
        written += transaction.execute(&sql, &values).await?;
    }
    Ok(written)
}

/// What one fetch brought.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Fetched {
    pub releases: usize,
}

/// Brings what the others sent since the last fetch into this machine's copy, and marks their
/// releases that are recorded as running but whose machine no longer holds its lock as
/// interrupted (the machine died or lost the server mid-release).
pub(super) async fn fetch(local: &mut Connection, client: &mut Client) -> Result<Fetched, TeamError> {
    let transaction = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    // Waits for an upload under way and keeps new ones out of this snapshot's way.
    transaction
        .execute("SELECT pg_advisory_xact_lock_shared($1)", &[&WRITE_LOCK])
        .await?;
    let mut fetched = Fetched::default();
    for table in [&RELEASES, &STEPS, &RESULTS] {
        let mark_name = format!("fetched_{}", table.name);
        loop {
            let from = mark(local, &mark_name)?;
            let rows = transaction
                .query(
                    &format!(
                        "SELECT {}, change FROM {} WHERE change > $1 ORDER BY change LIMIT {PAGE}",
                        table.column_list(),
                        table.name
                    ),
                    &[&from],
                )
                .await?;
            let mut page = Vec::with_capacity(rows.len());
            let mut last = from;
            for row in &rows {
                page.push(table.read_pg(row, 0)?);
                last = last.max(row.try_get::<_, i64>(table.columns.len())?);
            }
            let stored = keep_theirs(local, table, &page)?;
            if table.name == RELEASES.name {
                fetched.releases += stored;
            }
            // Nothing new writes nothing: a quiet round costs no disk sync.
            if last > from {
                set_mark(local, &mark_name, last)?;
            }
            if rows.len() < usize::try_from(PAGE).unwrap_or(usize::MAX) {
                break;
            }
        }
    }
    // A big fetch (a new machine's first) leaves a long WAL that every read would consult:
    // folded into the file now, as far as readers allow.
    if fetched.releases > 1_000 {
        local.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    }
    let holding: HashSet<String> = transaction
        .query(
            "SELECT l.release_id FROM release_locks l JOIN pg_locks p
               ON p.locktype = 'advisory' AND p.granted AND p.pid = l.pid
              AND ((p.classid::bigint << 32) | p.objid::bigint) = l.key",
            &[],
        )
        .await?
        .iter()
        .filter_map(|row| row.try_get::<_, String>(0).ok())
        .collect();
    transaction.commit().await?;
    let running: Vec<String> = {
        let mut query = local.prepare("SELECT id FROM releases WHERE from_team = 1 AND outcome = 'running'")?;
        let ids = query.query_map([], |row| row.get(0))?;
        ids.collect::<rusqlite::Result<_>>()?
    };
    for id in running.iter().filter(|id| !holding.contains(*id)) {
        local.execute(
            "UPDATE releases SET outcome = 'interrupted' WHERE id = ?1 AND from_team = 1",
            [id],
        )?;
    }
    Ok(fetched)
}

/// Stores rows another machine sent; this machine's own releases (sent back by the server)
/// are left as they are here. Returns how many were stored.
fn keep_theirs(local: &mut Connection, table: &Table, rows: &[Row]) -> rusqlite::Result<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    // Taken for writing at once: a read first would fail outright (not wait) if the ledger
    // wrote in between.
    let transaction = local.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let columns = table.column_list();
    let placeholders = (1..=table.columns.len())
        .map(|n| format!("?{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let updates = table
        .columns
        .iter()
        .map(|(name, _)| format!("\"{name}\" = excluded.\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let release_of = table.position(if table.name == RELEASES.name {
        "id"
    } else {
        "release_id"
    });
    let mut stored = 0;
    {
        let mut ours = transaction.prepare("SELECT from_team FROM releases WHERE id = ?1")?;
        let sql = if table.name == RELEASES.name {
            // Another machine's folder is not this one's: a release of a project this machine
            // also released (the same remote) is filed under this machine's folder, so History's
            // project view and the live-now card count the whole team's releases.
            let folder = table.position("project_path") + 1;
            let remote = table.position("remote_url") + 1;
            let placeholders = placeholders.replacen(
                &format!("?{folder},"),
                &format!(
                    "COALESCE((SELECT own.project_path FROM releases own WHERE own.from_team = 0 AND own.remote_url = ?{remote}
                       ORDER BY own.started_at DESC LIMIT 1), ?{folder}),"
                ),
                1,
            );
            format!(
                "INSERT INTO releases ({columns}, from_team) VALUES ({placeholders}, 1)
                 ON CONFLICT (id) DO UPDATE SET {updates} WHERE releases.from_team = 1"
            )
        } else if table.name == RESULTS.name {
            // Results keep this machine's own numbering: the sender's `seq` is dropped.
            "INSERT INTO step_results (release_id, step, body) VALUES (?1, ?3, ?4)".to_owned()
        } else {
            format!(
                "INSERT INTO {} ({columns}) VALUES ({placeholders}) ON CONFLICT ({}) DO UPDATE SET {updates}",
                table.name,
                table.key.join(", ")
            )
        };
        let mut write = transaction.prepare(&sql)?;
        for row in rows {
            let release = row[release_of].text().unwrap_or_default();
            let here: Option<i64> = ours.query_row([release], |found| found.get(0)).optional()?;
            match (table.name == RELEASES.name, here) {
                // This machine's own release: it is the one that writes it.
                (_, Some(0)) => continue,
                // A step or result of a release not here: not possible within one snapshot.
                (false, None) => continue,
                _ => {}
            }
            write.execute(rusqlite::params_from_iter(row.iter()))?;
            stored += 1;
        }
    }
    transaction.commit()?;
    Ok(stored)
}

/// Fetches the log lines of another machine's release that are not here yet: those past the
/// last one fetched (`team_lines` keeps its number), so a release still running, or one whose
/// last lines were sent late, gets the rest at the next opening.
pub(super) async fn fetch_lines(local: &mut Connection, client: &Client, release_id: &str) -> Result<usize, TeamError> {
    let fetched: Option<i64> = local
        .query_row(
            "SELECT team_lines FROM releases WHERE id = ?1 AND from_team = 1",
            [release_id],
            |row| row.get(0),
        )
        .optional()?;
    let Some(after) = fetched else {
        return Ok(0);
    };
    let rows = client
        .query(
            &format!(
                "SELECT {} FROM step_logs WHERE release_id = $1 AND seq > $2 ORDER BY seq",
                LOGS.column_list()
            ),
            &[&release_id, &after],
        )
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let transaction = local.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut last = after;
    {
        let mut write = transaction
            .prepare("INSERT INTO step_logs (release_id, step, stream, line, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for row in &rows {
            let row = LOGS.read_pg(row, 0)?;
            last = last.max(row[1].int().unwrap_or(last));
            write.execute(params![row[0], row[2], row[3], row[4], row[5]])?;
        }
    }
    transaction.execute(
        "UPDATE releases SET team_lines = ?2 WHERE id = ?1",
        params![release_id, last],
    )?;
    transaction.commit()?;
    Ok(rows.len())
}

/// What an import copied.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub releases: usize,
    /// Already in the team's history (an earlier import, or sent by this machine): left as is.
    pub already: usize,
}

/// Copies every release of `local` (a personal history) into the team's; one already there
/// is left as it is, with its steps and lines, so a second import copies nothing.
pub(super) async fn import(local: &Connection, client: &mut Client) -> Result<Imported, TeamError> {
    let releases = read_rows(local, &RELEASES, "ORDER BY started_at", &[])?;
    let transaction = client.transaction().await?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
        .await?;
    let mut new_ids = Vec::new();
    for chunk in releases.chunks(BATCH) {
        let sql = format!("{} RETURNING id", RELEASES.pg_insert(chunk.len(), false));
        let values: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            chunk.iter().flat_map(|row| row.iter().map(Cell::as_pg)).collect();
        for row in transaction.query(&sql, &values).await? {
            new_ids.push(row.try_get::<_, String>(0)?);
        }
    }
    // The new releases' rows, read table by table and sent many per statement.
    let new: HashSet<&str> = new_ids.iter().map(String::as_str).collect();
    for table in [&STEPS, &LOGS, &RESULTS] {
        let mut query = local.prepare(&format!("SELECT {} FROM {}", table.column_list(), table.name))?;
        let mut rows = query.query([])?;
        let mut batch = Vec::with_capacity(BATCH * 10);
        while let Some(row) = rows.next()? {
            let row = table.read_sqlite(row, 0)?;
            if row[0].text().is_some_and(|release| new.contains(release)) {
                batch.push(row);
            }
            if batch.len() == batch.capacity() {
                insert(&transaction, table, &batch, false).await?;
                batch.clear();
            }
        }
        insert(&transaction, table, &batch, false).await?;
    }
    transaction.commit().await?;
    Ok(Imported {
        releases: new_ids.len(),
        already: releases.len() - new_ids.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::copy::Kind;
    use super::*;
    use crate::history::{Ledger, NewRelease, Outcome};
    use crate::vocabulary::Target;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A release row as another machine would send it.
    fn theirs(id: &str, folder: &str, remote: &str, outcome: &str) -> Row {
        RELEASES
            .columns
            .iter()
            .map(|(name, kind)| match (*name, kind) {
                ("id", _) => Cell::Text(Some(id.to_owned())),
                ("project_path", _) => Cell::Text(Some(folder.to_owned())),
                ("project_name", _) => Cell::Text(Some("lettings".to_owned())),
                ("user", _) => Cell::Text(Some("alex".to_owned())),
                ("started_at", _) => Cell::Text(Some(format!("2026-12-07T10:00:0{}.000Z", id.len() % 10))),
                ("target", _) => Cell::Text(Some("local".to_owned())),
                ("environment", _) => Cell::Text(Some("local".to_owned())),
                ("outcome", _) => Cell::Text(Some(outcome.to_owned())),
                ("kind", _) => Cell::Text(Some("release".to_owned())),
                ("step_strip", _) => Cell::Text(Some(String::new())),
                ("remote_url", _) => Cell::Text(Some(remote.to_owned())),
                ("machine", _) => Cell::Text(Some("alex-laptop".to_owned())),
                (_, Kind::Int) => Cell::Int(Some(0)),
                (_, Kind::Text) => Cell::Text(None),
            })
            .collect()
    }

    #[test]
    fn another_machines_release_of_a_project_released_here_is_filed_under_this_folder() -> TestResult {
        let dir = tempfile::tempdir()?;
        let ledger = Ledger::open(dir.path())?;
        let remote = "https://github.com/acme/lettings.git";
        ledger.begin(&NewRelease {
            id: "mine".to_owned(),
            project_path: "/home/bea/lettings".to_owned(),
            project_name: "lettings".to_owned(),
            user: "bea".to_owned(),
            target: Target::Local,
            environment: Some("local".to_owned()),
            remote_url: Some(remote.to_owned()),
            ..NewRelease::default()
        })?;
        ledger.finish("mine", Outcome::Live, &crate::history::Ending::default())?;
        let mut local = Connection::open(dir.path().join("history.sqlite3"))?;
        let stored = keep_theirs(
            &mut local,
            &RELEASES,
            &[
                theirs("alex-1", "/home/alex/src/lettings", remote, "live"),
                theirs(
                    "alex-2",
                    "/home/alex/other",
                    "https://github.com/acme/other.git",
                    "live",
                ),
                // This machine's own release sent back by the server: left as this machine wrote it.
                theirs("mine", "/elsewhere", remote, "failed"),
            ],
        )?;
        assert_eq!(stored, 2);
        let folder = |id: &str| {
            local.query_row(
                "SELECT project_path, from_team FROM releases WHERE id = ?1",
                [id],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)),
            )
        };
        assert_eq!(folder("alex-1")?, ("/home/bea/lettings".to_owned(), 1));
        assert_eq!(
            folder("alex-2")?,
            ("/home/alex/other".to_owned(), 1),
            "a project not released here keeps its folder"
        );
        assert_eq!(folder("mine")?, ("/home/bea/lettings".to_owned(), 0));
        let mine = ledger.release("mine")?.ok_or("still there")?;
        assert_eq!(mine.outcome, Outcome::Live);
        // The team's newest live release of the project is the one live now, on every machine.
        let listed = ledger.releases(Some("/home/bea/lettings"), 10)?;
        let live: Vec<&str> = listed
            .iter()
            .filter(|release| release.live_now)
            .map(|release| release.id.as_str())
            .collect();
        assert_eq!(listed.len(), 2);
        assert_eq!(live.len(), 1, "{live:?}");
        Ok(())
    }
}
