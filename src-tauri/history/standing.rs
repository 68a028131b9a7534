//! Where a release stands now, read from the ledger beside its own row: whether it is the one
//! live now on its environment, and, for a rollback or a promotion, the release it shipped
//! again (its commit, time and environment), so History names releases without their ids.
//!
//! Worked out here rather than in the window because History's list is filtered and paged:
//! the page that shows an old release may not hold the newer one that replaced it.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use ts_rs::TS;

use super::{Outcome, ReleaseRecord};

/// The release a rollback or a promotion shipped again, as a sentence names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseSource {
    pub id: String,
    pub commit: Option<String>,
    /// RFC 3339.
    pub started_at: String,
    pub ended_at: Option<String>,
    /// Where it went live (`None` for a Render release made before environments).
    pub environment: Option<String>,
}

/// The newest release that went live on one environment of one project: what the ledger says
/// runs there now. Environments are matched with their target, so an old Render release with
/// no environment is compared only with its like.
fn newest_live(
    connection: &Connection,
    project_path: &str,
    target: &str,
    environment: Option<&str>,
) -> rusqlite::Result<Option<String>> {
    connection
        .prepare_cached(
            "SELECT id FROM releases
             WHERE project_path = ?1 AND target = ?2 AND environment IS ?3 AND outcome = ?4
             ORDER BY started_at DESC, id DESC LIMIT 1",
        )?
        .query_row(
            params![project_path, target, environment, Outcome::Live.as_str()],
            |row| row.get(0),
        )
        .optional()
}

fn source(connection: &Connection, id: &str) -> rusqlite::Result<Option<ReleaseSource>> {
    connection
        .prepare_cached("SELECT id, commit_sha, started_at, ended_at, environment FROM releases WHERE id = ?1")?
        .query_row([id], |row| {
            Ok(ReleaseSource {
                id: row.get(0)?,
                commit: row.get(1)?,
                started_at: row.get(2)?,
                ended_at: row.get(3)?,
                environment: row.get(4)?,
            })
        })
        .optional()
}

/// Sets `live_now` and `source` on each release; each environment and each source is read once.
pub(super) fn fill(connection: &Connection, releases: &mut [ReleaseRecord]) -> rusqlite::Result<()> {
    let mut live: HashMap<(String, String, Option<String>), Option<String>> = HashMap::new();
    let mut sources: HashMap<String, Option<ReleaseSource>> = HashMap::new();
    for release in releases.iter_mut() {
        if release.outcome == Outcome::Live {
            let key = (
                release.project_path.clone(),
                release.target.to_string(),
                release.environment.clone(),
            );
            let newest = match live.get(&key) {
                Some(newest) => newest.clone(),
                None => {
                    let newest = newest_live(connection, &key.0, &key.1, key.2.as_deref())?;
                    live.insert(key, newest.clone());
                    newest
                }
            };
            release.live_now = newest.as_deref() == Some(release.id.as_str());
        }
        if let Some(id) = release.source_id.clone() {
            let found = match sources.get(&id) {
                Some(found) => found.clone(),
                None => {
                    let found = source(connection, &id)?;
                    sources.insert(id, found.clone());
                    found
                }
            };
            release.source = found;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::history::{Ending, Ledger, NewRelease, ReleaseKind, Target};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn went(
        ledger: &Ledger,
        id: &str,
        environment: &str,
        kind: ReleaseKind,
        source: Option<&str>,
        outcome: crate::history::Outcome,
    ) -> TestResult {
        ledger.begin(&NewRelease {
            id: id.to_owned(),
            project_path: "/p".to_owned(),
            project_name: "p".to_owned(),
            user: "ann".to_owned(),
            commit: Some(format!("{id}0000")),
            target: if environment == "local" {
                Target::Local
            } else {
                Target::Render
            },
            environment: Some(environment.to_owned()),
            kind,
            source_id: source.map(str::to_owned),
            ..NewRelease::default()
        })?;
        ledger.finish(id, outcome, &Ending::default())?;
        // Started one after the other, whatever the clock's resolution.
        std::thread::sleep(std::time::Duration::from_millis(3));
        Ok(())
    }

    /// After a release, a second one, a rollback to the first and a promotion of it, exactly
    /// one release is live now on each environment, on any page of the list.
    #[test]
    fn one_release_is_live_now_per_environment_and_a_rerun_names_its_source() -> TestResult {
        use crate::history::Outcome::{Failed, Live};
        let dir = tempfile::tempdir()?;
        let ledger = Ledger::open(dir.path())?;
        went(&ledger, "a1", "staging", ReleaseKind::Release, None, Live)?;
        went(&ledger, "b2", "staging", ReleaseKind::Release, None, Live)?;
        went(&ledger, "c3", "staging", ReleaseKind::Rollback, Some("a1"), Live)?;
        went(&ledger, "d4", "production", ReleaseKind::Promotion, Some("c3"), Live)?;
        went(&ledger, "e5", "staging", ReleaseKind::Release, None, Failed)?;
        let all = ledger.releases(None, 10)?;
        let live: Vec<&str> = all
            .iter()
            .filter(|release| release.live_now)
            .map(|release| release.id.as_str())
            .collect();
        assert_eq!(live, ["d4", "c3"]);

        let rollback = all.iter().find(|release| release.id == "c3").ok_or("c3 is listed")?;
        let source = rollback.source.as_ref().ok_or("a rollback names its source")?;
        assert_eq!((source.id.as_str(), source.commit.as_deref()), ("a1", Some("a10000")));
        let promotion = ledger.release("d4")?.ok_or("d4 is kept")?;
        assert!(promotion.live_now, "the detail says so too");
        assert_eq!(
            promotion.source.and_then(|source| source.environment).as_deref(),
            Some("staging")
        );

        // A page that holds only the older releases still knows they were replaced.
        let page = ledger.list(&crate::history::HistoryFilter {
            limit: Some(2),
            before: Some("c3".to_owned()),
            ..crate::history::HistoryFilter::default()
        })?;
        assert_eq!(page.len(), 2);
        assert!(page.iter().all(|release| !release.live_now), "{page:?}");
        Ok(())
    }
}
