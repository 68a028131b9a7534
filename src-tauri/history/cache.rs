//! The ledger's side of the gate cache: each gate that ran keeps the key of what it ran on,
//! and a later release of the same project finds the newest pass with the same key.
//! Only passes are ever found: a failed, cancelled or skipped gate is never reused.

use rusqlite::{params, OptionalExtension};

use super::{HistoryError, Ledger};

/// A gate's earlier pass on the very same inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedPass {
    /// The release whose run it was (the first one, when that pass was itself reused).
    pub release_id: String,
    /// When that run passed (RFC 3339).
    pub passed_at: String,
    /// What that run said ("42 passed").
    pub summary: Option<String>,
}

impl Ledger {
    /// Records the key a gate ran with, and for a reused gate the release it came from.
    pub fn keep_cache_key(
        &self,
        release_id: &str,
        step: &str,
        key: &str,
        cached_from: Option<&str>,
    ) -> Result<(), HistoryError> {
        self.write(|connection| {
            connection.execute(
                "UPDATE steps SET cache_key = ?3, cached_from = ?4 WHERE release_id = ?1 AND name = ?2",
                params![release_id, step, key, cached_from],
            )?;
            Ok(())
        })
    }

    /// The newest pass of `step` in a release of `project_path` whose key is `key`, traced
    /// back to the run that really happened.
    pub fn cached_pass(&self, project_path: &str, step: &str, key: &str) -> Result<Option<CachedPass>, HistoryError> {
        self.with(|connection| {
            let found: Option<(String, Option<String>)> = connection
                .query_row(
                    "SELECT steps.release_id, steps.cached_from FROM steps JOIN releases ON releases.id = steps.release_id
                     WHERE steps.cache_key = ?1 AND steps.name = ?2 AND steps.state = 'passed'
                       AND releases.project_path = ?3 AND releases.from_team = 0
                     ORDER BY steps.ended_at DESC LIMIT 1",
                    params![key, step, project_path],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            let Some((release_id, cached_from)) = found else {
                return Ok(None);
            };
            let origin = cached_from.unwrap_or(release_id);
            connection
                .query_row(
                    "SELECT ended_at, summary FROM steps WHERE release_id = ?1 AND name = ?2 AND state = 'passed'",
                    params![origin, step],
                    |row| {
                        Ok(row.get::<_, Option<String>>(0)?.map(|passed_at| CachedPass {
                            release_id: origin.clone(),
                            passed_at,
                            summary: row.get(1).ok().flatten(),
                        }))
                    },
                )
                .optional()
                .map(Option::flatten)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{NewRelease, StepState};
    use crate::vocabulary::{Step, Target};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn begin(ledger: &Ledger, id: &str, project: &str) -> TestResult {
        ledger.begin(&NewRelease {
            id: id.to_owned(),
            project_path: project.to_owned(),
            project_name: "p".to_owned(),
            user: "ann".to_owned(),
            target: Target::Local,
            steps: vec![Step::Tests, Step::Lint],
            ..NewRelease::default()
        })?;
        Ok(())
    }

    #[test]
    fn only_a_pass_of_the_same_project_step_and_key_is_found_and_traced_to_its_run() -> TestResult {
        let dir = tempfile::tempdir()?;
        let ledger = Ledger::open(dir.path())?;
        begin(&ledger, "r1", "/p")?;
        ledger.step("r1", Step::Tests, StepState::Passed, Some("3 passed"))?;
        ledger.keep_cache_key("r1", "tests", "k1", None)?;
        ledger.step("r1", Step::Lint, StepState::Failed, Some("2 violations"))?;
        ledger.keep_cache_key("r1", "lint", "k2", None)?;

        let found = ledger.cached_pass("/p", "tests", "k1")?.ok_or("a pass with k1")?;
        assert_eq!(found.release_id, "r1");
        assert_eq!(found.summary.as_deref(), Some("3 passed"));
        assert!(
            ledger.cached_pass("/p", "lint", "k2")?.is_none(),
            "a failure is never reused"
        );
        assert!(ledger.cached_pass("/p", "tests", "k2")?.is_none(), "another key");
        assert!(ledger.cached_pass("/p", "lint", "k1")?.is_none(), "another step");
        assert!(
            ledger.cached_pass("/other", "tests", "k1")?.is_none(),
            "another project"
        );

        // A release that reused r1's pass points back to r1, and so does the next lookup.
        begin(&ledger, "r2", "/p")?;
        ledger.step("r2", Step::Tests, StepState::Passed, Some("passed earlier"))?;
        ledger.keep_cache_key("r2", "tests", "k1", Some("r1"))?;
        let again = ledger.cached_pass("/p", "tests", "k1")?.ok_or("still found")?;
        assert_eq!(again.release_id, "r1");
        assert_eq!(again.summary.as_deref(), Some("3 passed"));
        let record = ledger.release("r2")?.ok_or("r2")?;
        assert_eq!(record.steps[0].cached_from.as_deref(), Some("r1"));
        Ok(())
    }
}
