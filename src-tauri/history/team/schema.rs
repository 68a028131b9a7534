//! The team's tables in PostgreSQL: the ledger's own (the same columns and names as the SQLite
//! file, so one list of columns copies a release either way), a `change` number on every row
//! that tells each machine what it has not seen yet, and who holds which release lock.
//! Migrations run once, in order, under a lock, so two machines starting together do not
//! both run them. Never edit one that has shipped: add the next.

use tokio_postgres::Client;

use super::TeamError;

/// Taken (per transaction) around migrations and around every upload, so that `change`
/// numbers are handed out in the order their rows become visible: a machine that has read up
/// to change N never misses a row committed later with a smaller number.
pub(super) const WRITE_LOCK: i64 = 0x5117_9a7e_0000_0001;

const MIGRATIONS: &[&str] = &["CREATE SEQUENCE changes;
    CREATE TABLE releases (
        id            TEXT PRIMARY KEY,
        project_path  TEXT NOT NULL,
        project_name  TEXT NOT NULL,
        \"user\"        TEXT NOT NULL,
        started_at    TEXT NOT NULL,
        ended_at      TEXT,
        commit_sha    TEXT,
        branch        TEXT,
        dirty         BIGINT NOT NULL DEFAULT 0,
        target        TEXT NOT NULL,
        image         TEXT,
        digest        TEXT,
        deploy_id     TEXT,
        deploy_status TEXT,
        url           TEXT,
        outcome       TEXT NOT NULL,
        message       TEXT,
        error_kind    TEXT,
        error_hint    TEXT,
        step_strip    TEXT NOT NULL DEFAULT '',
        kind          TEXT NOT NULL DEFAULT 'release',
        source_id     TEXT,
        machine       TEXT,
        image_id      TEXT,
        environment   TEXT,
        service       TEXT,
        error_action  TEXT,
        error_detail  TEXT,
        remote_url    TEXT,
        on_remote     BIGINT,
        change        BIGINT NOT NULL DEFAULT nextval('changes')
    );
    CREATE INDEX releases_by_change ON releases (change);
    CREATE INDEX releases_newest ON releases (started_at DESC, id DESC);
    CREATE TABLE steps (
        release_id  TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
        position    BIGINT NOT NULL,
        name        TEXT NOT NULL,
        state       TEXT NOT NULL,
        started_at  TEXT,
        ended_at    TEXT,
        summary     TEXT,
        cache_key   TEXT,
        cached_from TEXT,
        change      BIGINT NOT NULL DEFAULT nextval('changes'),
        PRIMARY KEY (release_id, name)
    );
    CREATE INDEX steps_by_change ON steps (change);
    -- `seq` is the line's number on the machine that wrote it: with the release, it makes a
    -- line that is sent twice (a lost answer, a retry) land once.
    CREATE TABLE step_logs (
        release_id TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
        seq        BIGINT NOT NULL,
        step       TEXT NOT NULL,
        stream     TEXT NOT NULL,
        line       TEXT NOT NULL,
        at_ms      BIGINT NOT NULL,
        change     BIGINT NOT NULL DEFAULT nextval('changes'),
        PRIMARY KEY (release_id, seq)
    );
    CREATE INDEX step_logs_by_change ON step_logs (change);
    CREATE TABLE step_results (
        release_id TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
        seq        BIGINT NOT NULL,
        step       TEXT NOT NULL,
        body       TEXT NOT NULL,
        change     BIGINT NOT NULL DEFAULT nextval('changes'),
        PRIMARY KEY (release_id, seq)
    );
    CREATE INDEX step_results_by_change ON step_results (change);
    -- Who holds a release lock: written by the holder's own session after it took the lock,
    -- and believed only while that session still holds it (pg_locks), so a row left by a
    -- machine that died means nothing.
    CREATE TABLE release_locks (
        key          BIGINT PRIMARY KEY,
        release_id   TEXT NOT NULL,
        \"user\"       TEXT NOT NULL,
        machine      TEXT NOT NULL,
        project_name TEXT NOT NULL,
        environment  TEXT NOT NULL,
        since        TEXT NOT NULL,
        pid          INTEGER NOT NULL
    );"];

/// Brings the team's tables up to this version's schema.
pub(super) async fn migrate(client: &mut Client) -> Result<(), TeamError> {
    // Up to date, the common case, is read without the lock uploads wait on (an error here,
    // such as no table yet, is settled under the lock below).
    let current = client.query_opt("SELECT version FROM slipway_schema", &[]).await;
    if let Ok(Some(row)) = current {
        if usize::try_from(row.try_get::<_, i32>(0)?).is_ok_and(|version| version == MIGRATIONS.len()) {
            return Ok(());
        }
    }
    let transaction = client.transaction().await?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
        .await?;
    transaction
        .batch_execute("CREATE TABLE IF NOT EXISTS slipway_schema (version INTEGER NOT NULL)")
        .await?;
    let done: i32 = transaction
        .query_opt("SELECT version FROM slipway_schema", &[])
        .await?
        .map(|row| row.get(0))
        .unwrap_or(0);
    let done = usize::try_from(done).unwrap_or(0);
    if done > MIGRATIONS.len() {
        return Err(TeamError::Newer);
    }
    for migration in &MIGRATIONS[done..] {
        transaction.batch_execute(migration).await?;
    }
    if done < MIGRATIONS.len() {
        let version = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
        transaction.execute("DELETE FROM slipway_schema", &[]).await?;
        transaction
            .execute("INSERT INTO slipway_schema (version) VALUES ($1)", &[&version])
            .await?;
    }
    transaction.commit().await?;
    Ok(())
}
