//! One release of an environment at a time across the team: a session-level advisory lock in
//! the team's PostgreSQL, keyed by the environment (the Render service, or the project and the
//! machine for this computer), held on a connection of its own for the whole release. When
//! the holder's process ends or its machine drops off, PostgreSQL ends the session and the
//! lock with it: a dead machine never blocks the team.

use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use super::{TeamError, TeamServer};

/// What the lock is for, and who takes it: the sentence others read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    pub release_id: String,
    pub user: String,
    pub machine: String,
    pub project_name: String,
    pub environment: String,
    /// RFC 3339.
    pub since: String,
}

impl Holding {
    /// "Alex is releasing lettings to production (since 14:02, from alex-laptop)".
    pub fn sentence(&self) -> String {
        match chrono::DateTime::parse_from_rfc3339(&self.since) {
            Ok(at) => format!(
                "{} is releasing {} to {} (since {}, from {})",
                self.user,
                self.project_name,
                self.environment,
                at.with_timezone(&chrono::Local).format("%H:%M"),
                self.machine
            ),
            // The lock is taken but its holder has not said who it is yet.
            Err(_) => format!(
                "Someone on another computer is releasing {} to {}",
                self.project_name, self.environment
            ),
        }
    }
}

/// The environment a lock is for: `render:srv-…` or `local:<project id>@<machine>`.
pub fn key_of(environment_identity: &str) -> i64 {
    let digest = Sha256::digest(environment_identity.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Held while the release runs; dropping it ends the session, which frees the lock.
pub struct TeamLock {
    _session: Client,
}

impl std::fmt::Debug for TeamLock {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("TeamLock")
    }
}

/// Takes the environment's lock without waiting, or says who holds it.
pub async fn acquire(server: &TeamServer, identity: &str, holding: &Holding) -> Result<TeamLock, TeamError> {
    let key = key_of(identity);
    let mut session = server.connect().await?;
    // A new team database may not have its tables yet (its first machine's worker makes them).
    super::schema::migrate(&mut session).await?;
    let taken: bool = session
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .await?
        .try_get(0)?;
    if !taken {
        let holder = holder_on(&session, key).await?;
        return Err(TeamError::Held(Box::new(holder.unwrap_or_else(|| Holding {
            release_id: String::new(),
            user: "Someone".to_owned(),
            machine: "another computer".to_owned(),
            project_name: holding.project_name.clone(),
            environment: holding.environment.clone(),
            since: String::new(),
        }))));
    }
    session
        .execute(
            "INSERT INTO release_locks (key, release_id, \"user\", machine, project_name, environment, since, pid)
             VALUES ($1, $2, $3, $4, $5, $6, $7, pg_backend_pid())
             ON CONFLICT (key) DO UPDATE SET release_id = EXCLUDED.release_id, \"user\" = EXCLUDED.\"user\",
                 machine = EXCLUDED.machine, project_name = EXCLUDED.project_name,
                 environment = EXCLUDED.environment, since = EXCLUDED.since, pid = EXCLUDED.pid",
            &[
                &key,
                &holding.release_id,
                &holding.user,
                &holding.machine,
                &holding.project_name,
                &holding.environment,
                &holding.since,
            ],
        )
        .await?;
    Ok(TeamLock { _session: session })
}

/// Who holds the environment's lock now, if anyone.
pub async fn holder(server: &TeamServer, identity: &str) -> Result<Option<Holding>, TeamError> {
    let mut session = server.connect().await?;
    super::schema::migrate(&mut session).await?;
    holder_on(&session, key_of(identity)).await
}

async fn holder_on(session: &Client, key: i64) -> Result<Option<Holding>, TeamError> {
    // The row is believed only while its session holds the lock.
    let row = session
        .query_opt(
            "SELECT l.release_id, l.\"user\", l.machine, l.project_name, l.environment, l.since
               FROM release_locks l JOIN pg_locks p
                 ON p.locktype = 'advisory' AND p.granted AND p.pid = l.pid
                AND ((p.classid::bigint << 32) | p.objid::bigint) = l.key
              WHERE l.key = $1",
            &[&key],
        )
        .await?;
    row.map(|row| {
        Ok(Holding {
            release_id: row.try_get(0)?,
            user: row.try_get(1)?,
            machine: row.try_get(2)?,
            project_name: row.try_get(3)?,
            environment: row.try_get(4)?,
            since: row.try_get(5)?,
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_same_on_every_machine_and_differs_per_environment() {
        let production = key_of("render:srv-abc");
        assert_eq!(production, key_of("render:srv-abc"));
        assert_ne!(production, key_of("render:srv-abd"));
        assert_ne!(key_of("local:p1@alex-laptop"), key_of("local:p1@bea-laptop"));
    }

    #[test]
    fn the_sentence_names_the_person_the_project_the_environment_and_the_machine() {
        let holding = Holding {
            release_id: "r1".to_owned(),
            user: "Alex".to_owned(),
            machine: "alex-laptop".to_owned(),
            project_name: "lettings".to_owned(),
            environment: "production".to_owned(),
            since: "2026-12-07T14:02:00Z".to_owned(),
        };
        let at = chrono::DateTime::parse_from_rfc3339(&holding.since)
            .map(|at| at.with_timezone(&chrono::Local).format("%H:%M").to_string())
            .unwrap_or_default();
        assert_eq!(
            holding.sentence(),
            format!("Alex is releasing lettings to production (since {at}, from alex-laptop)")
        );
    }
}
