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
    // 3: what History lists and filters without reading the steps (the steps' states as one
    // line, indexes per filter), where a release came from (a rollback's source), the
    // machine, and the structured results of tests, lint and checks.
    "ALTER TABLE releases ADD COLUMN step_strip TEXT NOT NULL DEFAULT '';
    ALTER TABLE releases ADD COLUMN kind TEXT NOT NULL DEFAULT 'release';
    ALTER TABLE releases ADD COLUMN source_id TEXT;
    ALTER TABLE releases ADD COLUMN machine TEXT;
    ALTER TABLE releases ADD COLUMN image_id TEXT;
    UPDATE releases SET step_strip = COALESCE(
        (SELECT group_concat(name || '=' || state, ' ' ORDER BY position) FROM steps WHERE steps.release_id = releases.id),
        '');
    CREATE INDEX releases_newest ON releases (started_at DESC, id DESC);
    CREATE INDEX releases_newest_by_project ON releases (project_path, started_at DESC, id DESC);
    CREATE INDEX releases_newest_by_outcome ON releases (outcome, started_at DESC, id DESC);
    CREATE INDEX releases_newest_by_target ON releases (target, started_at DESC, id DESC);
    CREATE TABLE step_results (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        release_id TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
        step       TEXT NOT NULL,
        body       TEXT NOT NULL
    );
    CREATE INDEX step_results_by_release ON step_results (release_id, seq);
    -- History's text search reads one column, kept by triggers.
    ALTER TABLE releases ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
    UPDATE releases SET search_text = lower(id || ' ' || COALESCE(commit_sha, '') || ' ' || COALESCE(branch, '') || ' '
        || COALESCE(image, '') || ' ' || COALESCE(digest, '') || ' ' || COALESCE(message, ''));
    CREATE TRIGGER releases_search_on_insert AFTER INSERT ON releases BEGIN
        UPDATE releases SET search_text = lower(NEW.id || ' ' || COALESCE(NEW.commit_sha, '') || ' ' || COALESCE(NEW.branch, '')
            || ' ' || COALESCE(NEW.image, '') || ' ' || COALESCE(NEW.digest, '') || ' ' || COALESCE(NEW.message, ''))
        WHERE id = NEW.id;
    END;
    CREATE TRIGGER releases_search_on_update AFTER UPDATE OF commit_sha, branch, image, digest, message ON releases BEGIN
        UPDATE releases SET search_text = lower(NEW.id || ' ' || COALESCE(NEW.commit_sha, '') || ' ' || COALESCE(NEW.branch, '')
            || ' ' || COALESCE(NEW.image, '') || ' ' || COALESCE(NEW.digest, '') || ' ' || COALESCE(NEW.message, ''))
        WHERE id = NEW.id;
    END;",
    // 4: the gate cache. A gate that ran records what it ran on (a hash of the tree, the
    // environment, the tools and its command); one taken from the cache names the release
    // whose run it reuses.
    "ALTER TABLE steps ADD COLUMN cache_key TEXT;
    ALTER TABLE steps ADD COLUMN cached_from TEXT;
    CREATE INDEX steps_by_cache_key ON steps (cache_key, name) WHERE cache_key IS NOT NULL;",
    // 5: each project's environments: the one a release went to (by the name the project
    // gives it) and the Render service it deployed to. Releases to this computer are `local`;
    // older Render releases are named when their project's links are set up.
    "ALTER TABLE releases ADD COLUMN environment TEXT;
    ALTER TABLE releases ADD COLUMN service TEXT;
    UPDATE releases SET environment = 'local' WHERE target = 'local';
    CREATE INDEX releases_newest_by_environment ON releases (environment, started_at DESC, id DESC);",
    // 6: the error that ended a release, whole: beside its kind, sentence (the message) and
    // hint, the button it offered and its raw cause, so History shows the same fix. Older
    // rows keep what they had; the window picks a button from the kind for them, as it did.
    "ALTER TABLE releases ADD COLUMN error_action TEXT;
    ALTER TABLE releases ADD COLUMN error_detail TEXT;",
    // Where the commit lives: the remote's URL without credentials, and whether the remote had
    // the released commit (NULL: not known, a release made before this or outside git).
    "ALTER TABLE releases ADD COLUMN remote_url TEXT;
    ALTER TABLE releases ADD COLUMN on_remote INTEGER;",
    // 8: the team's history (`history/team`). A release made here counts its changes
    // (`revision`), and `shared_revision` is the last one the team's server has; releases
    // fetched from the server are `from_team` (never sent back), their log lines fetched when
    // opened (`team_lines`); `team_marks` keeps how far sending and fetching have come.
    "ALTER TABLE releases ADD COLUMN from_team INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE releases ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE releases ADD COLUMN shared_revision INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE releases ADD COLUMN team_lines INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX releases_unsent ON releases (started_at) WHERE from_team = 0 AND revision > shared_revision;
    CREATE INDEX releases_by_user ON releases (user, started_at DESC, id DESC);
    CREATE INDEX releases_by_remote ON releases (remote_url, from_team) WHERE remote_url IS NOT NULL;
    CREATE TABLE team_marks (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TRIGGER releases_revision AFTER UPDATE OF project_path, project_name, user, started_at, ended_at, commit_sha, branch, dirty, target, image, digest, deploy_id, deploy_status, url, outcome, message, error_kind, error_hint, step_strip, kind, source_id, machine, image_id, environment, service, error_action, error_detail, remote_url, on_remote ON releases BEGIN
        UPDATE releases SET revision = revision + 1 WHERE id = NEW.id;
    END;
    CREATE TRIGGER steps_revision_on_insert AFTER INSERT ON steps BEGIN
        UPDATE releases SET revision = revision + 1 WHERE id = NEW.release_id;
    END;
    CREATE TRIGGER steps_revision_on_update AFTER UPDATE ON steps BEGIN
        UPDATE releases SET revision = revision + 1 WHERE id = NEW.release_id;
    END;",
];

pub fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    migrate_to(connection, latest())
}

pub(super) fn migrate_to(connection: &mut Connection, last: usize) -> rusqlite::Result<()> {
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
    for (index, migration) in MIGRATIONS.iter().enumerate().take(last).skip(done) {
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

    #[test]
    fn a_ledger_of_the_previous_version_keeps_its_releases_and_gains_the_strip() -> rusqlite::Result<()> {
        let mut connection = Connection::open_in_memory()?;
        migrate_to(&mut connection, 2)?;
        connection.execute_batch(
            "INSERT INTO releases (id, project_path, project_name, user, started_at, target, outcome)
                 VALUES ('r1', '/p', 'p', 'ann', '2026-11-01T10:00:00.000Z', 'local', 'live');
             INSERT INTO steps (release_id, position, name, state) VALUES ('r1', 1, 'lint', 'failed');
             INSERT INTO steps (release_id, position, name, state) VALUES ('r1', 0, 'tests', 'passed');",
        )?;
        migrate(&mut connection)?;
        let (strip, kind): (String, String) =
            connection.query_row("SELECT step_strip, kind FROM releases WHERE id = 'r1'", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?;
        assert_eq!(strip, "tests=passed lint=failed");
        assert_eq!(kind, "release");
        let environment: Option<String> =
            connection.query_row("SELECT environment FROM releases WHERE id = 'r1'", [], |row| row.get(0))?;
        assert_eq!(
            environment.as_deref(),
            Some("local"),
            "a Local release is this computer's"
        );
        Ok(())
    }
}
