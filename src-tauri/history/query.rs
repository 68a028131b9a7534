//! Reading the ledger as History does: a filtered page of releases read from `releases`
//! alone, a release's structured results and a page of a step's log, and exports.

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{HistoryError, Ledger, Outcome, ReleaseRecord, StepRecord, StepState, Word, RELEASE_COLUMNS};
use crate::redact::redact;

/// Which releases to list. Every field narrows the list; none lists everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct HistoryFilter {
    /// One project (its folder), or every project.
    pub project_path: Option<String>,
    pub outcome: Option<Outcome>,
    /// `local` or `render`.
    pub target: Option<String>,
    /// One environment of the project (`staging`, `production`, `local`).
    #[serde(default)]
    #[ts(optional)]
    pub environment: Option<String>,
    /// Started at or after (RFC 3339, or a date `YYYY-MM-DD`).
    pub since: Option<String>,
    /// Started before.
    pub until: Option<String>,
    /// Text found in the commit, branch, image, digest, message or release id.
    pub search: Option<String>,
    /// One person's releases (their login, as History shows it).
    #[serde(default)]
    #[ts(optional)]
    pub user: Option<String>,
    /// The page's size (100 when not given).
    pub limit: Option<u32>,
    /// The next page: the releases after this one (the id of the last row shown).
    pub before: Option<String>,
}

/// A step's output, one page of it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LogPage {
    pub lines: Vec<String>,
    /// Lines of the step (that match the search, when there is one).
    pub total: u32,
    pub offset: u32,
}

/// One structured result kept with a release: a test, lint or check report as it was sent.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StepResult {
    pub step: String,
    #[ts(type = "unknown")]
    pub report: serde_json::Value,
}

fn like(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// A date alone means from its first moment.
fn instant(text: &Option<String>) -> Option<String> {
    let text = text.as_deref()?.trim();
    if text.is_empty() {
        return None;
    }
    Some(if text.len() == 10 {
        format!("{text}T00:00:00.000Z")
    } else {
        text.to_owned()
    })
}

/// The steps' states read back from the one-line strip (`tests=passed lint=failed …`).
pub(super) fn strip_steps(strip: &str) -> Vec<StepRecord> {
    strip
        .split_whitespace()
        .filter_map(|pair| {
            let (name, state) = pair.split_once('=')?;
            Some(StepRecord {
                name: Word::read(name),
                state: StepState::parse(state).unwrap_or(StepState::Interrupted),
                started_at: None,
                ended_at: None,
                summary: None,
                cached_from: None,
            })
        })
        .collect()
}

impl Ledger {
    /// The newest releases first that match `filter`; in the list each step has its name and
    /// state only (`release` has the rest).
    pub fn list(&self, filter: &HistoryFilter) -> Result<Vec<ReleaseRecord>, HistoryError> {
        self.flush_lines()?;
        let search = filter
            .search
            .as_deref()
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(like);
        let sql = format!(
            "SELECT {RELEASE_COLUMNS}, step_strip FROM releases
             WHERE (?1 IS NULL OR project_path = ?1)
               AND (?2 IS NULL OR outcome = ?2)
               AND (?3 IS NULL OR target = ?3)
               AND (?4 IS NULL OR started_at >= ?4)
               AND (?5 IS NULL OR started_at < ?5)
               AND (?6 IS NULL OR (started_at, id) < (SELECT started_at, id FROM releases WHERE id = ?6))
               AND (?7 IS NULL OR search_text LIKE lower(?7) ESCAPE '\\')
               AND (?9 IS NULL OR environment = ?9)
               AND (?10 IS NULL OR user = ?10)
             ORDER BY started_at DESC, id DESC LIMIT ?8"
        );
        self.with(|connection| {
            let mut query = connection.prepare_cached(&sql)?;
            let mut rows = query
                .query_map(
                    params![
                        filter.project_path,
                        filter.outcome.map(Outcome::as_str),
                        filter.target,
                        instant(&filter.since),
                        instant(&filter.until),
                        filter.before,
                        search,
                        filter.limit.unwrap_or(100).clamp(1, 10_000),
                        filter.environment,
                        filter.user,
                    ],
                    |row| {
                        let mut release = super::release_from_row(row)?;
                        release.steps = strip_steps(&row.get::<_, String>(super::RELEASE_COLUMN_COUNT)?);
                        Ok(release)
                    },
                )?
                .collect::<Result<Vec<_>, _>>()?;
            super::standing::fill(connection, &mut rows)?;
            Ok(rows)
        })
    }

    /// A page of a step's output from line `offset`; with `search`, only the lines holding it.
    pub fn log_page(
        &self,
        release_id: &str,
        step: &str,
        offset: u32,
        limit: u32,
        search: Option<&str>,
    ) -> Result<LogPage, HistoryError> {
        self.flush_lines()?;
        self.fetch_team_lines(release_id);
        let pattern = search.map(str::trim).filter(|text| !text.is_empty()).map(like);
        self.with(|connection| {
            let total: u32 = connection.query_row(
                "SELECT count(*) FROM step_logs WHERE release_id = ?1 AND step = ?2
                   AND (?3 IS NULL OR line LIKE ?3 ESCAPE '\\')",
                params![release_id, step, pattern],
                |row| row.get(0),
            )?;
            let mut query = connection.prepare_cached(
                "SELECT line FROM step_logs WHERE release_id = ?1 AND step = ?2
                   AND (?3 IS NULL OR line LIKE ?3 ESCAPE '\\')
                 ORDER BY seq LIMIT ?4 OFFSET ?5",
            )?;
            let lines = query
                .query_map(params![release_id, step, pattern, limit, offset], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(LogPage { lines, total, offset })
        })
    }

    /// Keeps a step's structured result (a test, lint or check report) with the release.
    pub fn result(&self, release_id: &str, step: &str, report: &impl Serialize) -> Result<(), HistoryError> {
        let body = serde_json::to_string(report).map_err(|error| HistoryError::Encode(error.to_string()))?;
        let body = redact(&body).into_owned();
        self.write(|connection| {
            connection.execute(
                "INSERT INTO step_results (release_id, step, body) VALUES (?1, ?2, ?3)",
                params![release_id, step, body],
            )?;
            Ok(())
        })
    }

    /// The newest test report a release of the project kept for `commit` as committed (no
    /// uncommitted change), with that release's id: what Slipway's own tests said of it.
    pub fn tests_of_commit(
        &self,
        project_path: &str,
        commit: &str,
    ) -> Result<Option<(String, serde_json::Value)>, HistoryError> {
        self.with(|connection| {
            let mut query = connection.prepare_cached(
                "SELECT r.id, s.body FROM releases r JOIN step_results s ON s.release_id = r.id
                 WHERE r.project_path = ?1 AND r.dirty = 0 AND s.step = 'tests'
                   AND (r.commit_sha = ?2 OR substr(?2, 1, length(r.commit_sha)) = r.commit_sha)
                 ORDER BY r.started_at DESC, s.seq DESC LIMIT 1",
            )?;
            let mut rows = query.query(params![project_path, commit])?;
            let Some(row) = rows.next()? else {
                return Ok(None);
            };
            let body: String = row.get(1)?;
            Ok(serde_json::from_str(&body)
                .ok()
                .map(|report| (row.get::<_, String>(0).unwrap_or_default(), report)))
        })
    }

    /// The structured results kept with a release, in the order they came.
    pub fn results(&self, release_id: &str) -> Result<Vec<StepResult>, HistoryError> {
        self.with(|connection| read_results(connection, release_id))
    }
}

fn read_results(connection: &Connection, release_id: &str) -> rusqlite::Result<Vec<StepResult>> {
    let mut query =
        connection.prepare_cached("SELECT step, body FROM step_results WHERE release_id = ?1 ORDER BY seq")?;
    let results = query
        .query_map([release_id], |row| {
            let body: String = row.get(1)?;
            Ok(StepResult {
                step: row.get(0)?,
                report: serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)),
            })
        })?
        .collect();
    results
}

/// A release as History's detail shows it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseDetail {
    pub release: ReleaseRecord,
    pub results: Vec<StepResult>,
}

/// One release and its results, or `None` when the id is not in the ledger.
pub fn detail(ledger: &Ledger, release_id: &str) -> Result<Option<ReleaseDetail>, HistoryError> {
    let Some(release) = ledger.release(release_id)? else {
        return Ok(None);
    };
    let results = ledger.results(release_id)?;
    Ok(Some(ReleaseDetail { release, results }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ExportFormat {
    Csv,
    Json,
}

/// The releases `filter` lists (all of them, not one page) as CSV or JSON, with their count.
pub fn export_text(
    ledger: &Ledger,
    filter: &HistoryFilter,
    format: ExportFormat,
) -> Result<(String, u32), HistoryError> {
    let releases = ledger.list(&HistoryFilter {
        limit: Some(filter.limit.unwrap_or(10_000)),
        ..filter.clone()
    })?;
    let text = match format {
        ExportFormat::Csv => export_csv(&releases),
        ExportFormat::Json => export_json(&releases)?,
    };
    Ok((text, u32::try_from(releases.len()).unwrap_or(u32::MAX)))
}

/// Writes [`export_text`] to `path`; returns how many releases it holds.
pub fn export_to(
    ledger: &Ledger,
    filter: &HistoryFilter,
    format: ExportFormat,
    path: &std::path::Path,
) -> Result<u32, crate::error::AppError> {
    let (text, count) = export_text(ledger, filter, format)?;
    write_export(path, &text)?;
    Ok(count)
}

/// One release as a file: its record, its results and every step's log.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReleaseExport {
    release: ReleaseRecord,
    results: Vec<StepResult>,
    /// Each step's output, in the order the steps ran.
    logs: Vec<StepLog>,
}

#[derive(Debug, Serialize)]
struct StepLog {
    step: String,
    lines: Vec<String>,
}

/// Release `release_id` with its results and logs as JSON; `None` when it is not in the ledger.
pub fn export_release_text(ledger: &Ledger, release_id: &str) -> Result<Option<String>, HistoryError> {
    let Some(ReleaseDetail { release, results }) = detail(ledger, release_id)? else {
        return Ok(None);
    };
    let logs = release
        .steps
        .iter()
        .map(|step| {
            Ok(StepLog {
                step: step.name.to_string(),
                lines: ledger.log_lines(release_id, step.name.as_str())?,
            })
        })
        .collect::<Result<Vec<_>, HistoryError>>()?;
    export_json(&ReleaseExport { release, results, logs }).map(Some)
}

/// Writes [`export_release_text`] to `path`.
pub fn export_release_to(
    ledger: &Ledger,
    release_id: &str,
    path: &std::path::Path,
) -> Result<(), crate::error::AppError> {
    let text = export_release_text(ledger, release_id)?.ok_or_else(|| {
        crate::error::AppError::new(
            crate::error::ErrorKind::NotFound,
            format!("No release {release_id} is in the history."),
            "Pick a release from the History page.",
        )
    })?;
    write_export(path, &text)
}

fn write_export(path: &std::path::Path, text: &str) -> Result<(), crate::error::AppError> {
    std::fs::write(path, text).map_err(|error| {
        crate::error::AppError::new(
            crate::error::ErrorKind::Io,
            format!("The export could not be saved to {}.", path.display()),
            "Choose a folder you can write to, with free space.",
        )
        .with_detail(error.to_string())
    })
}

/// The list as CSV, one release per line, every value through the redactor.
pub fn export_csv(releases: &[ReleaseRecord]) -> String {
    let header = "id,kind,project,started_at,ended_at,duration_s,outcome,target,environment,service,commit,branch,dirty,image,digest,deploy_id,url,user,machine,error_kind,message,steps";
    let mut out = String::from(header);
    out.push('\n');
    for release in releases {
        let duration = release.duration_secs().map(|secs| secs.to_string());
        let steps = release
            .steps
            .iter()
            .map(|step| format!("{}={}", step.name, step.state.as_str()))
            .collect::<Vec<_>>()
            .join(" ");
        let fields = [
            Some(release.id.clone()),
            Some(release.kind.to_string()),
            Some(release.project_name.clone()),
            Some(release.started_at.clone()),
            release.ended_at.clone(),
            duration,
            Some(release.outcome.as_str().to_owned()),
            Some(release.target.to_string()),
            release.environment.clone(),
            release.service.clone(),
            release.commit.clone(),
            release.branch.clone(),
            Some(release.dirty.to_string()),
            release.image.clone(),
            release.digest.clone(),
            release.deploy_id.clone(),
            release.url.clone(),
            Some(release.user.clone()),
            release.machine.clone(),
            release.error.as_ref().map(|error| error.kind.as_str().to_owned()),
            release.message.clone(),
            Some(steps),
        ];
        let line = fields
            .iter()
            .map(|field| csv_field(&redact(field.as_deref().unwrap_or_default())))
            .collect::<Vec<_>>()
            .join(",");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn csv_field(value: &str) -> String {
    // A leading =, +, - or @ would be a formula in a spreadsheet.
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) || value.starts_with('\'') {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// Any serialisable export as JSON, through the redactor.
pub fn export_json(value: &impl Serialize) -> Result<String, HistoryError> {
    let text = serde_json::to_string_pretty(value).map_err(|error| HistoryError::Encode(error.to_string()))?;
    Ok(redact(&text).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Ending, NewRelease};
    use crate::vocabulary::{Step, Target};

    fn seed(ledger: &Ledger, id: &str, project: &str, target: Target, commit: &str, outcome: Outcome) -> TestResult {
        ledger.begin(&NewRelease {
            id: id.to_owned(),
            project_path: project.to_owned(),
            project_name: project.trim_start_matches('/').to_owned(),
            user: "ann".to_owned(),
            commit: Some(commit.to_owned()),
            branch: Some("main".to_owned()),
            dirty: false,
            target,
            image: Some(format!("ann/app:{commit}")),
            steps: vec![Step::Tests, Step::Lint],
            ..NewRelease::default()
        })?;
        ledger.step(id, Step::Tests, StepState::Passed, Some("3 passed"))?;
        let failed = outcome == Outcome::Failed;
        ledger.step(
            id,
            Step::Lint,
            if failed { StepState::Failed } else { StepState::Passed },
            None,
        )?;
        ledger.finish(
            id,
            outcome,
            &Ending {
                message: failed.then(|| "Lint failed: 2 violations".to_owned()),
                ..Ending::default()
            },
        )?;
        Ok(())
    }

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn one_release_exports_with_its_results_and_every_steps_log_redacted() -> TestResult {
        let dir = tempfile::tempdir()?;
        let ledger = Ledger::open(dir.path())?;
        seed(&ledger, "r1", "/a", Target::Local, "aaa111", Outcome::Failed)?;
        ledger.log("r1", Step::Tests, "output", "collected 3 items", 1)?;
        ledger.log(
            "r1",
            Step::Lint,
            "output",
            "app.py:1:1: F401 'os' imported but unused",
            2,
        )?;
        ledger.log(
            "r1",
            Step::Lint,
            "output",
            "DATABASE_URL=postgres://ann:hunter2@db/app",
            3,
        )?;
        ledger.result("r1", "tests", &serde_json::json!({"passed": 3, "failed": 0}))?;
        let text = export_release_text(&ledger, "r1")?.ok_or("r1 is in the ledger")?;
        let exported: serde_json::Value = serde_json::from_str(&text)?;
        assert_eq!(exported["release"]["id"], "r1");
        assert_eq!(exported["results"][0]["report"]["passed"], 3);
        assert_eq!(exported["logs"][0]["step"], "tests");
        assert_eq!(exported["logs"][0]["lines"][0], "collected 3 items");
        assert_eq!(exported["logs"][1]["lines"].as_array().map(Vec::len), Some(2));
        assert!(
            !text.contains("hunter2"),
            "the password in a log line is redacted: {text}"
        );
        assert!(export_release_text(&ledger, "nope")?.is_none());
        let unwritable = dir.path().join("missing-folder").join("r1.json");
        let error = export_release_to(&ledger, "r1", &unwritable)
            .err()
            .ok_or("no such folder")?;
        assert_eq!(error.kind, crate::error::ErrorKind::Io);
        Ok(())
    }

    #[test]
    fn every_filter_narrows_the_list() -> TestResult {
        let dir = tempfile::tempdir()?;
        let ledger = Ledger::open(dir.path())?;
        seed(&ledger, "r1", "/a", Target::Local, "aaa111", Outcome::Live)?;
        seed(&ledger, "r2", "/a", Target::Render, "bbb222", Outcome::Failed)?;
        seed(&ledger, "r3", "/b", Target::Local, "ccc333", Outcome::Live)?;
        let ids = |filter: HistoryFilter| -> Result<Vec<String>, HistoryError> {
            Ok(ledger.list(&filter)?.into_iter().map(|release| release.id).collect())
        };
        assert_eq!(ids(HistoryFilter::default())?, ["r3", "r2", "r1"]);
        let project = HistoryFilter {
            project_path: Some("/a".into()),
            ..HistoryFilter::default()
        };
        assert_eq!(ids(project.clone())?, ["r2", "r1"]);
        assert_eq!(
            ids(HistoryFilter {
                outcome: Some(Outcome::Live),
                ..project.clone()
            })?,
            ["r1"]
        );
        assert_eq!(
            ids(HistoryFilter {
                target: Some("local".into()),
                ..HistoryFilter::default()
            })?,
            ["r3", "r1"]
        );
        assert_eq!(
            ids(HistoryFilter {
                search: Some("BBB2".into()),
                ..HistoryFilter::default()
            })?,
            ["r2"]
        );
        assert_eq!(
            ids(HistoryFilter {
                search: Some("violations".into()),
                ..HistoryFilter::default()
            })?,
            ["r2"]
        );
        // `%` is a character to find, not a wildcard.
        assert!(ids(HistoryFilter {
            search: Some("%".into()),
            ..HistoryFilter::default()
        })?
        .is_empty());
        let all = ledger.list(&HistoryFilter::default())?;
        let page = ids(HistoryFilter {
            limit: Some(1),
            before: Some(all[0].id.clone()),
            ..HistoryFilter::default()
        })?;
        assert_eq!(page, ["r2"]);
        assert!(ids(HistoryFilter {
            since: Some("2999-01-01".into()),
            ..HistoryFilter::default()
        })?
        .is_empty());
        assert_eq!(
            ids(HistoryFilter {
                until: Some("2999-01-01".into()),
                ..HistoryFilter::default()
            })?
            .len(),
            3
        );
        // The list's steps come from the strip, in order and with their states.
        let failed = &all[1];
        assert_eq!(
            failed
                .steps
                .iter()
                .map(|step| (step.name.as_str(), step.state))
                .collect::<Vec<_>>(),
            [("tests", StepState::Passed), ("lint", StepState::Failed)]
        );
        Ok(())
    }

    #[test]
    fn a_log_page_and_its_search() -> TestResult {
        let dir = tempfile::tempdir()?;
        let ledger = Ledger::open(dir.path())?;
        seed(&ledger, "r1", "/a", Target::Local, "aaa", Outcome::Live)?;
        for number in 0..250 {
            ledger.log("r1", Step::Tests, "stdout", &format!("line {number}"), 0)?;
        }
        let page = ledger.log_page("r1", "tests", 200, 200, None)?;
        assert_eq!((page.total, page.lines.len()), (250, 50));
        assert_eq!(page.lines[0], "line 200");
        let found = ledger.log_page("r1", "tests", 0, 200, Some("line 24"))?;
        assert_eq!(found.total, 11, "line 24 and 240–249");
        Ok(())
    }

    #[test]
    fn results_and_exports_keep_what_was_recorded() -> TestResult {
        let dir = tempfile::tempdir()?;
        let ledger = Ledger::open(dir.path())?;
        seed(&ledger, "r1", "/a", Target::Local, "=cmd", Outcome::Failed)?;
        ledger.result(
            "r1",
            "lint",
            &serde_json::json!({"violations": [{"file": "app.py", "line": 3}]}),
        )?;
        let results = ledger.results("r1")?;
        assert_eq!(results[0].step, "lint");
        assert_eq!(results[0].report["violations"][0]["line"], 3);
        let csv = export_csv(&ledger.list(&HistoryFilter::default())?);
        let mut lines = csv.lines();
        assert!(lines.next().is_some_and(|header| header.starts_with("id,kind,project")));
        let row = lines.next().ok_or("a row")?;
        assert!(row.contains("\"Lint failed: 2 violations\"") || row.contains("Lint failed: 2 violations"));
        assert!(row.contains("'=cmd"), "a formula is defused: {row}");
        assert!(row.contains("tests=passed lint=failed"), "{row}");
        // Times in ISO 8601 (RFC 3339, UTC), whatever the window shows.
        let started = row.split(',').nth(3).ok_or("a start")?;
        assert!(
            chrono::DateTime::parse_from_rfc3339(started).is_ok() && started.ends_with('Z'),
            "{started}"
        );
        Ok(())
    }
}
