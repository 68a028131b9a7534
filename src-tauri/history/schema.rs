//! The ledger's schema and its migrations. Each migration runs once, in order, inside a
//! transaction, and `user_version` remembers how far a file has come. Never edit a
//! migration that has shipped: add the next one. `docs/history.md` describes the tables.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: releases, their steps and the steps' output.
    "CREATE TABLE releases (
        id            TEXT PRIMARY KEY,
        project_path  TEXT NOT NULL,
        project_name  TEXT NOT NULL,
        user          TEXT NOT NULL,
        started_at    TEXT NOT NULL,
        ended_at      TEXT,
        commit_sha    TEXT,
        branch        TEXT,
        dirty         INTEGER NOT NULL DEFAULT 0,
        target        TEXT NOT NULL,
        image         TEXT,
        digest        TEXT,
        deploy_id     TEXT,
        deploy_status TEXT,
        url           TEXT,
        outcome       TEXT NOT NULL,
        message       TEXT
    );
    CREATE INDEX releases_by_project ON releases (project_path, started_at DESC);
    CREATE INDEX releases_by_start ON releases (started_at DESC);
    CREATE INDEX releases_running ON releases (outcome) WHERE outcome = 'running';
    CREATE TABLE steps (
        release_id TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
        position   INTEGER NOT NULL,
        name       TEXT NOT NULL,
        state      TEXT NOT NULL,
        started_at TEXT,
        ended_at   TEXT,
        summary    TEXT,
        PRIMARY KEY (release_id, name)
    );
    CREATE TABLE step_logs (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        release_id TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
        step       TEXT NOT NULL,
        stream     TEXT NOT NULL,
        line       TEXT NOT NULL,
        at_ms      INTEGER NOT NULL
    );
    CREATE INDEX step_logs_by_step ON step_logs (release_id, step, seq);",
    // 2: a failure's kind and hint beside its message, so "Start Docker" outlives the run.
    "ALTER TABLE releases ADD COLUMN error_kind TEXT;
    ALTER TABLE releases ADD COLUMN error_hint TEXT;",
];

pub fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    let done: usize = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if done > latest() {
        // A newer Slipway wrote it: reading is safe (migrations only add), writing new
        // columns is its business.
        tracing::warn!(
            version = done,
            known = latest(),
            "the release history was made by a newer Slipway"
        );
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(done) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", index + 1)?;
        transaction.commit()?;
    }
    Ok(())
}

/// How many migrations exist: a ledger at this version is current.
pub fn latest() -> usize {
    MIGRATIONS.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_changes_nothing() -> rusqlite::Result<()> {
        let mut connection = Connection::open_in_memory()?;
        migrate(&mut connection)?;
        migrate(&mut connection)?;
        let version: usize = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        assert_eq!(version, latest());
        Ok(())
    }
}
