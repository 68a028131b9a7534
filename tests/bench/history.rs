//! History at scale: a ledger of 100,000 releases (six steps each) and a million log lines,
//! read as the History page reads it. Prints p50 and p95 per query; targets: every list and
//! filter ≤ 50 ms p95, opening a release with a 100,000-line log ≤ 100 ms to its first page.
//!
//! Then the same history as a team's, on a private PostgreSQL: imported into it, fetched by a
//! new machine into its copy (the team's history is read from that copy), and every query
//! again on the copy, beside this machine's own file, with the ratio (target ≤ 2×); and the
//! first page asked of PostgreSQL directly, for comparison.
//!
//! `cargo run --release --example bench_history [-- RUNS]`

use std::time::{Duration, Instant};

#[path = "../support/postgres.rs"]
#[allow(dead_code)]
mod postgres;

use rusqlite::{params, Connection};
use slipway::history::{self, HistoryFilter, Ledger, Outcome};

const RELEASES: usize = 100_000;
const LOG_LINES: usize = 1_000_000;
const BIG_LOG: usize = 100_000;
const STEPS: [&str; 6] = ["tests", "lint", "build", "push", "deploy", "verify"];

pub fn seed(path: &std::path::Path) -> rusqlite::Result<String> {
    let mut connection = Connection::open(path)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "OFF")?;
    let transaction = connection.transaction()?;
    let start = chrono::Utc::now() - chrono::Duration::days(400);
    let mut big = String::new();
    let mut ids = Vec::with_capacity(RELEASES);
    {
        let mut release = transaction.prepare(
            "INSERT INTO releases (id, project_path, project_name, user, started_at, ended_at, commit_sha, branch, dirty,
                 target, image, digest, url, outcome, message, step_strip, kind, machine)
             VALUES (?1, ?2, ?3, 'ann', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 'release', 'bench')",
        )?;
        let mut step = transaction.prepare(
            "INSERT INTO steps (release_id, position, name, state, started_at, ended_at, summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for number in 0..RELEASES {
            let at = start + chrono::Duration::seconds(number as i64 * 300);
            let started = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let ended = (at + chrono::Duration::seconds(90)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let id = format!("{}-{number:08x}", at.format("%Y%m%dT%H%M%S%3fZ"));
            let project = format!("/home/ann/project-{}", number % 20);
            let outcome = match number % 10 {
                0 | 1 => Outcome::Failed,
                2 => Outcome::Canceled,
                _ => Outcome::Live,
            };
            let failed_step = (outcome == Outcome::Failed).then_some(number % 2);
            let states: Vec<&str> = (0..STEPS.len())
                .map(|position| match failed_step {
                    Some(failed) if position == failed => "failed",
                    Some(failed) if position > failed => "skipped",
                    _ if outcome == Outcome::Canceled && position > 3 => "canceled",
                    _ => "passed",
                })
                .collect();
            let strip = STEPS
                .iter()
                .zip(&states)
                .map(|(name, state)| format!("{name}={state}"))
                .collect::<Vec<_>>()
                .join(" ");
            let commit = format!("{:040x}", number as u128 * 2_654_435_761);
            release.execute(params![
                id,
                project,
                format!("project-{}", number % 20),
                started,
                ended,
                commit,
                if number % 7 == 0 { "feature/checkout" } else { "main" },
                number % 13 == 0,
                if number % 3 == 0 { "render" } else { "local" },
                format!("ann/project-{}:{}", number % 20, &commit[..7]),
                format!("sha256:{:064x}", number as u128 * 11_400_714_819_323_198_485),
                "http://127.0.0.1:8000/",
                outcome.as_str(),
                failed_step.map(|_| "Tests failed: 2 failed"),
                strip,
            ])?;
            for (position, (name, state)) in STEPS.iter().zip(&states).enumerate() {
                step.execute(params![id, position as i64, name, state, started, ended, "ok"])?;
            }
            if number == RELEASES / 2 {
                big = id.clone();
            }
            ids.push(id);
        }
        let mut line = transaction.prepare(
            "INSERT INTO step_logs (release_id, step, stream, line, at_ms) VALUES (?1, ?2, 'output', ?3, 0)",
        )?;
        for number in 0..BIG_LOG {
            line.execute(params![
                big,
                "tests",
                format!("tests/test_shop.py::test_case_{number} PASSED")
            ])?;
        }
        // The rest of the million spread over other releases.
        for number in BIG_LOG..LOG_LINES {
            let owner = &ids[number % ids.len()];
            line.execute(params![
                owner,
                STEPS[number % 6],
                format!("line {number} of the output")
            ])?;
        }
    }
    transaction.commit()?;
    Ok(big)
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |fraction: f64| samples[((samples.len() - 1) as f64 * fraction).round() as usize];
    (at(0.5), at(0.95))
}

fn measure(name: &str, runs: usize, mut work: impl FnMut() -> usize) -> Duration {
    let mut samples = Vec::with_capacity(runs);
    let mut rows = 0;
    for _ in 0..runs {
        let start = Instant::now();
        rows = work();
        samples.push(start.elapsed());
    }
    let (p50, p95) = percentiles(samples);
    println!(
        "{name:<44} p50 {:>7.2} ms   p95 {:>7.2} ms   ({rows} rows)",
        p50.as_secs_f64() * 1000.0,
        p95.as_secs_f64() * 1000.0
    );
    p95
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args().nth(1).and_then(|text| text.parse().ok()).unwrap_or(30);
    let dir = tempfile::tempdir()?;
    // The schema as the app makes it, then the rows straight in.
    drop(Ledger::open(dir.path())?);
    let seeding = Instant::now();
    let big = seed(&dir.path().join("history.sqlite3"))?;
    println!(
        "seeded {RELEASES} releases, {} steps, {LOG_LINES} log lines in {:.1} s",
        RELEASES * STEPS.len(),
        seeding.elapsed().as_secs_f64()
    );
    let ledger = Ledger::open(dir.path())?;
    println!("\n-- this machine's own history (SQLite)");
    let own = queries(&ledger, &big, runs)?;
    drop(ledger);
    team(dir.path(), &big, runs, &own)
}

/// Every query History asks, on `ledger`; their p95 in order.
fn queries(ledger: &Ledger, big: &str, runs: usize) -> Result<Vec<(String, Duration)>, Box<dyn std::error::Error>> {
    let mut p95s = Vec::new();
    let mut measure = |name: &str, runs: usize, work: &mut dyn FnMut() -> usize| {
        let p95 = measure(name, runs, work);
        p95s.push((name.to_owned(), p95));
    };
    let list = |filter: HistoryFilter| -> usize { ledger.list(&filter).map(|rows| rows.len()).unwrap_or(0) };
    measure(
        "first page (all projects)",
        runs,
        &mut || list(HistoryFilter::default()),
    );
    let project = HistoryFilter {
        project_path: Some("/home/ann/project-7".into()),
        ..HistoryFilter::default()
    };
    measure("one project", runs, &mut || list(project.clone()));
    measure("outcome failed", runs, &mut || {
        list(HistoryFilter {
            outcome: Some(Outcome::Failed),
            ..HistoryFilter::default()
        })
    });
    measure("target render", runs, &mut || {
        list(HistoryFilter {
            target: Some("render".into()),
            ..HistoryFilter::default()
        })
    });
    let last_month = (chrono::Utc::now() - chrono::Duration::days(60))
        .format("%Y-%m-%d")
        .to_string();
    measure("since a date", runs, &mut || {
        list(HistoryFilter {
            since: Some(last_month.clone()),
            ..HistoryFilter::default()
        })
    });
    measure("one project, interrupted (rare: no match)", runs, &mut || {
        list(HistoryFilter {
            outcome: Some(Outcome::Interrupted),
            ..project.clone()
        })
    });
    measure("text search, common (branch)", runs, &mut || {
        list(HistoryFilter {
            search: Some("feature/checkout".into()),
            ..HistoryFilter::default()
        })
    });
    measure("text search, one commit", runs, &mut || {
        list(HistoryFilter {
            search: Some(format!("{:040x}", 77_777u128 * 2_654_435_761)[30..].to_owned()),
            ..HistoryFilter::default()
        })
    });
    measure("text search, no match (reads every row)", runs, &mut || {
        list(HistoryFilter {
            search: Some("no-such-text".into()),
            ..HistoryFilter::default()
        })
    });
    let page = ledger.list(&HistoryFilter::default())?;
    let last = page.last().map(|release| release.id.clone());
    measure("next page", runs, &mut || {
        list(HistoryFilter {
            before: last.clone(),
            ..HistoryFilter::default()
        })
    });
    measure("open a release with a 100,000-line log", runs, &mut || {
        let detail = history::detail(ledger, big).ok().flatten();
        let lines = ledger.log_page(big, "tests", 0, 200, None).map(|page| page.lines.len());
        usize::from(detail.is_some()) + lines.unwrap_or(0)
    });
    measure("search that log", runs, &mut || {
        ledger
            .log_page(big, "tests", 0, 200, Some("test_case_9999"))
            .map(|page| page.total as usize)
            .unwrap_or(0)
    });
    Ok(p95s)
}

/// The same history as a team's: imported into a private PostgreSQL, fetched by a new machine,
/// and read there.
fn team(
    own_dir: &std::path::Path,
    big: &str,
    runs: usize,
    own: &[(String, Duration)],
) -> Result<(), Box<dyn std::error::Error>> {
    use slipway::history::team::{self, TeamServer};
    let server = postgres::PgServer::start(postgres::PgOptions::default())?;
    server.create_database("team")?;
    let team_server = TeamServer::new(&server.url_with_password("team"), None)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let importing = Instant::now();
    let imported = runtime.block_on(team::import(&team_server, &own_dir.join("history.sqlite3")))?;
    println!(
        "\n-- the team's history (PostgreSQL {})\nimported {} releases with their steps and lines in {:.1} s",
        server.psql("team", "SHOW server_version")?,
        imported.releases,
        importing.elapsed().as_secs_f64()
    );
    let machine = tempfile::tempdir()?;
    let fetching = Instant::now();
    let ledger = Ledger::open_team(machine.path(), team_server.clone())?;
    let link = ledger.team().ok_or("a team ledger has its link")?.clone();
    link.settle(Duration::from_secs(600));
    let status = link.status();
    println!(
        "a new machine's first fetch of the team's history: {:.1} s ({})",
        fetching.elapsed().as_secs_f64(),
        status.problem.as_deref().unwrap_or("done")
    );
    let mut rounds = Vec::new();
    for _ in 0..runs.min(20) {
        let start = Instant::now();
        link.sync_now(Duration::from_secs(30));
        rounds.push(start.elapsed());
    }
    let (p50, p95) = percentiles(rounds);
    println!(
        "a round with nothing new (send, fetch, who holds locks): p50 {:.1} ms, p95 {:.1} ms",
        p50.as_secs_f64() * 1000.0,
        p95.as_secs_f64() * 1000.0
    );
    println!("\n-- the team's history, read from this machine's copy");
    let copy = queries(&ledger, big, runs)?;
    println!(
        "\n{:<44} {:>12} {:>12} {:>7}",
        "p95", "own (SQLite)", "team copy", "ratio"
    );
    let mut worst: f64 = 0.0;
    for ((name, mine), (_, theirs)) in own.iter().zip(&copy) {
        let ratio = theirs.as_secs_f64() / mine.as_secs_f64().max(1e-6);
        worst = worst.max(ratio);
        println!(
            "{name:<44} {:>9.2} ms {:>9.2} ms {ratio:>6.2}×",
            mine.as_secs_f64() * 1000.0,
            theirs.as_secs_f64() * 1000.0
        );
    }
    println!("worst ratio {worst:.2}× (target ≤ 2×)");
    // What reading PostgreSQL itself would cost, on this machine's loopback (a team's server
    // is further away).
    let direct = runtime.block_on(async {
        let client = team_server.connect().await?;
        let mut samples = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            client
                .query(
                    "SELECT * FROM releases ORDER BY started_at DESC, id DESC LIMIT 100",
                    &[],
                )
                .await?;
            samples.push(start.elapsed());
        }
        Ok::<_, Box<dyn std::error::Error>>(samples)
    })?;
    let (p50, p95) = percentiles(direct);
    println!(
        "first page asked of PostgreSQL directly (loopback): p50 {:.2} ms, p95 {:.2} ms",
        p50.as_secs_f64() * 1000.0,
        p95.as_secs_f64() * 1000.0
    );
    Ok(())
}
