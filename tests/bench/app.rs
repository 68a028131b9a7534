//! The app against a bare Tauri 2 window (`bench_bare_window`: one line of text, same Tauri,
//! features and release profile), both release builds run through tauri-driver under the
//! display `scripts/bench app` starts:
//!
//! 1. start-up: from the process's start (`/proc/<pid>/stat`) to the page's `app-ready` mark
//!    (Slipway sets it when the Release page shows the project's plan: the one kept from the
//!    last start, being checked again, or a fresh one; the bare page when its script runs).
//!    Target: at most 1.5 × the bare window. Also printed: Slipway's `release-ready` mark, when
//!    the Release button can first be pressed (the fresh plan is in). The first run of each
//!    set starts from a data folder with nothing kept; the others find the plan the run
//!    before kept.
//! 2. memory after 10 s idle: PSS of the app and every process below it (the web view's).
//!    Target: Slipway at most 1.25 × the bare window.
//! 3. 100,000 log lines from a release's test step into the Release page's log view: the
//!    longest gap between two animation frames (target under 50 ms) and the time to show them.
//! 4. History at 100,000 releases: time to the first rows, a filter's time to update, and the
//!    longest frame gap while scrolling.
//!
//! It prints figures and never fails on a missed target: it is not a timed test.
//!
//! With `SLIPWAY_BENCH_TRACE=1`, parts 3 and 4 also write what happened around the frames
//! (each gap over 34 ms, each run of the release channel's handler, each IPC fetch and the
//! page's performance marks, in ms from the page's start) to `slipway-bench-trace.json` and
//! `slipway-bench-trace-history.json` in the temporary folder: where to look when a gap is long.
//!
//! `scripts/bench app [RUNS]` (RUNS of 1 and 2 each, default 5)

#[path = "../window/driver.rs"]
#[allow(dead_code, reason = "shared with the window tests, which use all of it")]
mod driver;
#[path = "history.rs"]
#[allow(dead_code, reason = "only its seeder is used here; its own main is `bench_history`")]
mod ledger;
#[path = "../window/webdriver.rs"]
#[allow(dead_code, reason = "shared with the window tests, which use all of it")]
mod webdriver;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use driver::Driver;
use webdriver::Session;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const STARTUP_TARGET_RATIO: f64 = 1.5;
const MEMORY_TARGET_RATIO: f64 = 1.25;
const FRAME_GAP_TARGET_MS: f64 = 50.0;
const FIRST_ROWS_TARGET_MS: f64 = 100.0;
const FILTER_TARGET_MS: f64 = 50.0;
const IDLE: Duration = Duration::from_secs(10);
const LOG_LINES: u64 = 100_000;
const WAIT: u64 = 60;

fn verdict(met: bool) -> &'static str {
    if met {
        "target met"
    } else {
        "TARGET MISSED"
    }
}

/// Median, min and max.
fn spread(samples: &[f64]) -> (f64, f64, f64) {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    };
    let min = sorted.first().copied().unwrap_or(f64::NAN);
    let max = sorted.last().copied().unwrap_or(f64::NAN);
    (median, min, max)
}

// --- processes -------------------------------------------------------------------------

/// `(ppid, starttime in clock ticks since boot)` from `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    let fields: Vec<&str> = text.get(text.rfind(')')? + 2..)?.split_whitespace().collect();
    Some((fields.get(1)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

fn all_pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The app's process: running `binary`, started (through tauri-driver) by this benchmark.
fn app_pid(binary: &Path) -> Option<u32> {
    let parents: HashMap<u32, u32> = all_pids()
        .into_iter()
        .filter_map(|pid| Some((pid, stat(pid)?.0)))
        .collect();
    let me = std::process::id();
    let ours = |mut pid: u32| {
        while let Some(&parent) = parents.get(&pid) {
            if parent == me {
                return true;
            }
            pid = parent;
        }
        false
    };
    parents
        .keys()
        .copied()
        .find(|&pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == binary) && ours(pid))
}

/// `pid` and every process below it.
fn tree(pid: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for child in all_pids() {
        if let Some((parent, _)) = stat(child) {
            children.entry(parent).or_default().push(child);
        }
    }
    let mut found = vec![pid];
    let mut index = 0;
    while let Some(&next) = found.get(index) {
        found.extend(children.get(&next).into_iter().flatten());
        index += 1;
    }
    found
}

/// Proportional set size in kB: shared pages (WebKit's libraries) split between their users.
fn pss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("Pss:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn command_line(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|bytes| {
            let text = String::from_utf8_lossy(&bytes).replace('\0', " ");
            text.split_whitespace()
                .next()
                .map(|program| program.rsplit('/').next().unwrap_or(program).to_owned())
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

fn now_ms() -> Result<f64> {
    Ok(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs_f64() * 1000.0)
}

/// When `pid` started, in ms since the epoch: its start in ticks since boot, plus when the
/// machine booted (now less the uptime). Both are good to 10 ms.
fn process_start_ms(pid: u32, ticks_per_second: f64) -> Result<f64> {
    let (_, start_ticks) = stat(pid).ok_or("the app's /proc/<pid>/stat could not be read")?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")?
        .split_whitespace()
        .next()
        .ok_or("/proc/uptime is empty")?
        .parse()?;
    let booted = now_ms()? - uptime * 1000.0;
    Ok(booted + start_ticks as f64 / ticks_per_second * 1000.0)
}

fn ticks_per_second() -> Result<f64> {
    let output = std::process::Command::new("getconf").arg("CLK_TCK").output()?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().parse()?)
}

// --- the page ----------------------------------------------------------------------------

/// A requestAnimationFrame loop in the page: the longest gap between two frames since the
/// last reset, and a `watch` called each frame that the phases below use to time what shows.
const FRAME_LOOP: &str = r#"
const bench = (window.__bench = { max: 0, last: performance.now(), watch: null, marks: {} });
const frame = () => {
  const now = performance.now();
  bench.max = Math.max(bench.max, now - bench.last);
  if (window.__trace && now - bench.last > 34) window.__trace.gaps.push([bench.last, now - bench.last]);
  bench.last = now;
  if (bench.watch) bench.watch(now);
  requestAnimationFrame(frame);
};
requestAnimationFrame(frame);
return true;
"#;

/// Dev trace: channel callbacks' run times and the IPC fetches, beside the frame gaps.
const TRACE: &str = r#"
const trace = (window.__trace = { go: performance.now(), gaps: [], calls: [], fetches: [] });
for (const [id, fn] of window.__TAURI_INTERNALS__.callbacks) {
  window.__TAURI_INTERNALS__.callbacks.set(id, (data) => {
    const start = performance.now();
    try { return fn(data); } finally { trace.calls.push([start, performance.now() - start, id]); }
  });
}
const original = window.fetch;
window.fetch = function (...args) {
  const start = performance.now();
  const answer = original.apply(this, args);
  answer.then(() => trace.fetches.push([start, performance.now() - start]));
  return answer;
};
return true;
"#;

fn tracing() -> bool {
    std::env::var_os("SLIPWAY_BENCH_TRACE").is_some()
}

/// Starts the dev trace in the page, when asked for.
async fn start_trace(session: &Session) -> Result<()> {
    if tracing() {
        session.execute(TRACE).await?;
    }
    Ok(())
}

/// Writes the page's trace to `<temp>/<name>.json`, when asked for.
async fn save_trace(session: &Session, name: &str) -> Result<()> {
    if tracing() {
        let trace = session
            .execute(
                "const marks = performance.getEntriesByType('mark').map((mark) => [mark.name, mark.startTime]); \
                 return JSON.stringify({ ...window.__trace, marks, bench: window.__bench?.marks })",
            )
            .await?;
        std::fs::write(
            std::env::temp_dir().join(format!("{name}.json")),
            trace.as_str().unwrap_or(""),
        )?;
    }
    Ok(())
}

async fn number(session: &Session, script: &str) -> Result<Option<f64>> {
    Ok(session.execute(script).await?.as_f64())
}

/// Polls `script` until it returns a number.
async fn wait_number(session: &Session, script: &str, seconds: u64, what: &str) -> Result<f64> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(value) = number(session, script).await? {
            return Ok(value);
        }
        if Instant::now() > deadline {
            return Err(format!("{what} did not happen within {seconds} s").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn screenshot(session: &Session, name: &str) -> Result<()> {
    let path = std::env::temp_dir().join(format!("slipway-bench-{name}.png"));
    std::fs::write(&path, session.screenshot().await?)?;
    println!("  screenshot: {}", path.display());
    Ok(())
}

// --- 1 and 2: start-up and memory --------------------------------------------------------

struct Start {
    ms: f64,
    /// To the Release button's first readiness (`release-ready`), when the page sets it.
    release_ms: Option<f64>,
    pss_mb: f64,
    processes: Vec<String>,
    /// What the page did when, in ms from the process's start: where start-up goes.
    timeline: String,
}

/// The page's own clock of its start: the navigation, the document, the first paint and the
/// ready mark, as epoch ms.
const TIMELINE: &str = r#"
const at = (ms) => performance.timeOrigin + ms;
const entries = [["page", at(0)]];
const nav = performance.getEntriesByType("navigation")[0];
if (nav) entries.push(["document", at(nav.responseEnd), at(nav.domContentLoadedEventEnd)]);
for (const paint of performance.getEntriesByType("paint")) entries.push([paint.name, at(paint.startTime)]);
for (const mark of performance.getEntriesByType("mark")) entries.push([mark.name, at(mark.startTime)]);
return entries;
"#;

async fn start_once(
    app: &Path,
    env: &[(&str, String)],
    shot: Option<&str>,
    ticks: f64,
    release_mark: bool,
) -> Result<Start> {
    let driver = Driver::start(env)?;
    let session = Session::start(&driver.url, app).await?;
    let result = async {
        let ready = wait_number(
            &session,
            "const mark = performance.getEntriesByName('app-ready')[0]; \
             return mark ? performance.timeOrigin + mark.startTime : null;",
            WAIT,
            "the app-ready mark",
        )
        .await?;
        let pid = app_pid(app).ok_or("the app's process was not found below tauri-driver")?;
        let started = process_start_ms(pid, ticks)?;
        let release_ready = if release_mark {
            Some(
                wait_number(
                    &session,
                    "const mark = performance.getEntriesByName('release-ready')[0]; \
                     return mark ? performance.timeOrigin + mark.startTime : null;",
                    WAIT,
                    "the release-ready mark",
                )
                .await?,
            )
        } else {
            None
        };
        let timeline = session.execute(TIMELINE).await?;
        let timeline = timeline
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|entry| {
                        let name = entry[0].as_str()?;
                        let at = |index: usize| entry[index].as_f64().map(|ms| ms - started);
                        Some(match (at(1), at(2)) {
                            (Some(from), Some(to)) if to > from => format!("{name} {from:.0}-{to:.0}"),
                            (Some(from), _) => format!("{name} {from:.0}"),
                            _ => return None,
                        })
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        tokio::time::sleep(IDLE).await;
        let processes = tree(pid);
        let pss: u64 = processes.iter().map(|&pid| pss_kb(pid)).sum();
        if let Some(name) = shot {
            screenshot(&session, name).await?;
        }
        Ok::<_, Box<dyn std::error::Error>>(Start {
            ms: ready - started,
            release_ms: release_ready.map(|at| at - started),
            pss_mb: pss as f64 / 1024.0,
            processes: processes
                .into_iter()
                .map(|pid| format!("{} {:.1} MB", command_line(pid), pss_kb(pid) as f64 / 1024.0))
                .collect(),
            timeline,
        })
    }
    .await;
    session.end().await?;
    drop(driver);
    result
}

/// Start-up's figures over `runs`: the medians of `app-ready`, of `release-ready` (when
/// `release_mark`) and of the PSS after the idle time.
async fn startup(
    name: &str,
    app: &Path,
    env: &[(&str, String)],
    runs: usize,
    ticks: f64,
    release_mark: bool,
) -> Result<(f64, Option<f64>, f64)> {
    let mut times = Vec::new();
    let mut release_times = Vec::new();
    let mut memory = Vec::new();
    for run in 0..runs {
        let shot = (run == 0).then(|| format!("{name}-ready"));
        let start = start_once(app, env, shot.as_deref(), ticks, release_mark).await?;
        if run == 0 {
            println!("  processes measured: {}", start.processes.join(", "));
        }
        println!(
            "  run {} timeline (ms from the process's start): {}",
            run + 1,
            start.timeline
        );
        let release = start
            .release_ms
            .map(|ms| format!(", Release button ready after {ms:.0} ms"))
            .unwrap_or_default();
        println!(
            "  run {}: interactive after {:.0} ms{release}, {:.1} MB PSS after {} s idle",
            run + 1,
            start.ms,
            start.pss_mb,
            IDLE.as_secs()
        );
        times.push(start.ms);
        release_times.extend(start.release_ms);
        memory.push(start.pss_mb);
    }
    let (median, min, max) = spread(&times);
    println!("{name}: interactive median {median:.0} ms (min {min:.0}, max {max:.0}) over {runs} runs");
    let release_median = (!release_times.is_empty()).then(|| {
        let (median, min, max) = spread(&release_times);
        println!("{name}: Release button ready median {median:.0} ms (min {min:.0}, max {max:.0})");
        median
    });
    let (pss, pss_min, pss_max) = spread(&memory);
    println!(
        "{name}: PSS after {} s idle median {pss:.1} MB (min {pss_min:.1}, max {pss_max:.1})",
        IDLE.as_secs()
    );
    Ok((median, release_median, pss))
}

// --- fixtures ----------------------------------------------------------------------------

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn run(program: &str, args: &[&str], dir: &Path) -> Result<()> {
    let status = std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Slipway bench")
        .env("GIT_AUTHOR_EMAIL", "bench@slipway.invalid")
        .env("GIT_COMMITTER_NAME", "Slipway bench")
        .env("GIT_COMMITTER_EMAIL", "bench@slipway.invalid")
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{program} {args:?} failed with {status}").into())
    }
}

/// A committed copy of the example project as `parent/lettings`, with `change` applied.
fn example_project(parent: &Path, change: impl FnOnce(&Path) -> std::io::Result<()>) -> Result<PathBuf> {
    let root = parent.join("lettings");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lettings"), &root)?;
    change(&root)?;
    run("git", &["init", "-q", "-b", "main"], &root)?;
    run("git", &["add", "-A"], &root)?;
    run("git", &["commit", "-q", "-m", "bench"], &root)?;
    Ok(root.canonicalize()?)
}

/// A data folder whose last project is `root`, so the window opens it (and skips the guide).
fn data_with_project(data: &Path, root: &Path) -> Result<()> {
    let mut recent = slipway::project::RecentProjects::load(data);
    recent.touch("lettings", &root.display().to_string())?;
    Ok(())
}

// --- 3: the log stream -------------------------------------------------------------------

/// A release of the example whose test step waits for a go-file, then prints 100,000 lines:
/// the real path from the child process through the pipeline's events to the log view.
async fn log_stream(app: &Path, work: &Path) -> Result<()> {
    let venv = work.join("venv");
    // In the project's environment: the tests run sandboxed, with a `/tmp` of their own.
    let go = venv.join("go");
    run(
        "python3",
        &["-m", "venv", "--without-pip", &venv.display().to_string()],
        work,
    )?;
    // The project's own environment is used when it has pytest; the test command never calls it.
    let pytest = venv.join("bin/pytest");
    std::fs::write(&pytest, "#!/bin/sh\nexit 0\n")?;
    std::fs::set_permissions(&pytest, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    // An image that builds in a moment, so the build is over before the lines start.
    let root = example_project(work, |root| {
        std::fs::write(root.join("Dockerfile"), "FROM scratch\nCOPY requirements.txt /\n")
    })?;
    let data = work.join("data");
    std::fs::create_dir_all(&data)?;
    let print = format!(
        "while [ ! -e {go} ]; do sleep 0.05; done; \
         python3 -c 'for n in range({LOG_LINES}): print(f\"tests/test_shop.py::test_case_{{n}} PASSED [{{n % 100:3d}}%]\")'; exit 1",
        go = go.display()
    );
    let mut settings = slipway::project::ProjectSettings::from_detection(&slipway::project::detect(&root));
    settings.test_command = print;
    settings.venv = Some(venv.display().to_string());
    settings.lint_enabled = false;
    settings.gates.clear();
    slipway::project::save_settings(&data, &root, &settings)?;
    data_with_project(&data, &root)?;

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.display().to_string())])?;
    let session = Session::start(&driver.url, app).await?;
    let result = async {
        // The button names where it releases to ("Release to this computer"); pressable once
        // the fresh plan is in.
        session
            .click(
                &session
                    .wait_for(
                        "//main//button[starts-with(normalize-space(), 'Release to')][not(@disabled)]",
                        WAIT,
                    )
                    .await?,
            )
            .await?;
        session
            .wait_for("//li[@data-step='tests'][@data-state='running']", WAIT)
            .await?;
        // The build runs beside the tests; once it is over the tests' output stays open.
        session
            .wait_for(
                "//li[@data-step='build'][@data-state='passed' or @data-state='failed']",
                WAIT,
            )
            .await?;
        if session
            .absent("//li[@data-step='tests']//button[@aria-expanded='true']")
            .await?
        {
            session
                .click(
                    &session
                        .wait_for("//li[@data-step='tests']//button[@aria-expanded]", WAIT)
                        .await?,
                )
                .await?;
        }
        session.execute(FRAME_LOOP).await?;
        // Counted from the lines already there (the environment's set-up messages).
        let watch = format!(
            "const view = () => document.querySelector('[role=log][aria-label=\"Tests output\"]'); \
             const base = view() ? Number(view().dataset.lines) : 0; \
             const bench = window.__bench; \
             bench.watch = (now) => {{ \
               const lines = view() ? Number(view().dataset.lines) - base : 0; \
               if (lines > 0 && bench.marks.first === undefined) bench.marks.first = now; \
               if (lines >= {LOG_LINES} && bench.marks.done === undefined) {{ \
                 bench.marks.done = now; bench.marks.max = bench.max; }} \
             }}; \
             bench.max = 0; bench.last = performance.now(); bench.marks.go = performance.now(); \
             return base;"
        );
        let before = session.execute(&watch).await?;
        start_trace(&session).await?;
        std::fs::write(&go, "")?;
        let done = wait_number(
            &session,
            "return window.__bench.marks.done ?? null",
            300,
            "all lines shown",
        )
        .await?;
        let marks = session.execute("return window.__bench.marks").await?;
        let at = |key: &str| marks[key].as_f64().unwrap_or(f64::NAN);
        let gap = at("max");
        println!(
            "log view: {LOG_LINES} lines ({} before) shown {:.2} s after the go (first line after {:.0} ms); \
             longest frame gap {gap:.0} ms: {}",
            before,
            (done - at("go")) / 1000.0,
            at("first") - at("go"),
            verdict(gap < FRAME_GAP_TARGET_MS)
        );
        save_trace(&session, "slipway-bench-trace").await?;
        screenshot(&session, "slipway-log").await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    }
    .await;
    if result.is_err() {
        let _ = screenshot(&session, "slipway-log-failed").await;
    }
    session.end().await?;
    drop(driver);
    result
}

// --- 4: History at 100,000 releases --------------------------------------------------------

async fn history(app: &Path, work: &Path) -> Result<()> {
    let data = work.join("history-data");
    std::fs::create_dir_all(&data)?;
    drop(slipway::history::Ledger::open(&data)?);
    let seeding = Instant::now();
    ledger::seed(&data.join("history.sqlite3"))?;
    println!(
        "history: seeded 100,000 releases in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let driver = Driver::start(&[("SLIPWAY_DATA_DIR", data.display().to_string())])?;
    let session = Session::start(&driver.url, app).await?;
    let result = async {
        let nav = session
            .wait_for("//nav//button[normalize-space()='History']", WAIT)
            .await?;
        session.execute(FRAME_LOOP).await?;
        // Settled: the window's own start-up is not History's.
        tokio::time::sleep(Duration::from_secs(2)).await;
        session
            .execute(
                "const bench = window.__bench; bench.marks = {}; \
                 bench.watch = (now) => { \
                   if (bench.marks.rows === undefined && document.querySelector('main [data-release-id]')) \
                     bench.marks.rows = now; }; \
                 document.addEventListener('click', (event) => { \
                   const now = performance.now(); \
                   bench.marks.click = event.timeStamp > 0 && event.timeStamp <= now ? event.timeStamp : now; \
                 }, { capture: true, once: true }); \
                 return true;",
            )
            .await?;
        start_trace(&session).await?;
        session.click(&nav).await?;
        let rows = wait_number(
            &session,
            "return window.__bench.marks.rows ?? null",
            WAIT,
            "History's first rows",
        )
        .await?;
        let click = number(&session, "return window.__bench.marks.click")
            .await?
            .unwrap_or(f64::NAN);
        let first_rows = rows - click;
        println!(
            "history: first rows {first_rows:.0} ms after the click on History: {}",
            verdict(first_rows <= FIRST_ROWS_TARGET_MS)
        );
        screenshot(&session, "slipway-history").await?;

        let filter = |outcome: &str| {
            format!(
                "const bench = window.__bench; \
                 const first = () => document.querySelector('main [data-release-id]')?.dataset.releaseId; \
                 const before = first(); bench.marks = {{}}; \
                 bench.watch = (now) => {{ \
                   const shown = first(); \
                   if (bench.marks.updated === undefined && shown && shown !== before) bench.marks.updated = now; }}; \
                 const select = document.querySelector('[data-testid=history-outcome]'); \
                 bench.marks.changed = performance.now(); \
                 select.value = '{outcome}'; select.dispatchEvent(new Event('change', {{ bubbles: true }})); \
                 return true;"
            )
        };
        let mut filters = Vec::new();
        for outcome in ["failed", "", "canceled", ""] {
            session.execute(&filter(outcome)).await?;
            let updated = wait_number(
                &session,
                "return window.__bench.marks.updated ?? null",
                WAIT,
                "the filtered list",
            )
            .await?;
            let changed = number(&session, "return window.__bench.marks.changed")
                .await?
                .unwrap_or(f64::NAN);
            filters.push(updated - changed);
        }
        let (median, min, max) = spread(&filters);
        println!(
            "history: a filter (outcome) updates the list in {median:.0} ms median (min {min:.0}, max {max:.0}): {}",
            verdict(median <= FILTER_TARGET_MS)
        );

        // Three seconds of scrolling, 20 rows a frame, through the pages as they load.
        session
            .execute(
                "const bench = window.__bench; bench.marks = {}; \
                 const list = document.querySelector('main [role=listbox]'); \
                 const end = performance.now() + 3000; \
                 bench.watch = (now) => { \
                   if (now < end) { list.scrollTop += 720; } \
                   else if (bench.marks.done === undefined) { \
                     bench.marks.done = now; bench.marks.max = bench.max; bench.marks.top = list.scrollTop; } }; \
                 bench.max = 0; bench.last = performance.now(); return true;",
            )
            .await?;
        wait_number(&session, "return window.__bench.marks.done ?? null", WAIT, "the scroll").await?;
        let marks = session.execute("return window.__bench.marks").await?;
        let gap = marks["max"].as_f64().unwrap_or(f64::NAN);
        let rows_down = marks["top"].as_f64().unwrap_or(0.0) / 36.0;
        println!(
            "history: scrolling 3 s ({rows_down:.0} rows down) longest frame gap {gap:.0} ms: {}",
            verdict(gap < FRAME_GAP_TARGET_MS)
        );
        save_trace(&session, "slipway-bench-trace-history").await?;
        screenshot(&session, "slipway-history-scrolled").await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    }
    .await;
    if result.is_err() {
        let _ = screenshot(&session, "slipway-history-failed").await;
    }
    session.end().await?;
    drop(driver);
    result
}

// --- main ----------------------------------------------------------------------------------

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().map(|text| text.parse()).transpose()?.unwrap_or(5);
    let parts: Vec<String> = args.collect();
    let wants = |part: &str| parts.is_empty() || parts.iter().any(|wanted| wanted == part);
    // Built beside this benchmark by `scripts/bench app`, release profile both.
    let examples = std::env::current_exe()?
        .parent()
        .ok_or("the benchmark has no folder")?
        .to_path_buf();
    let bare = examples.join("bench_bare_window").canonicalize()?;
    let slipway = examples
        .parent()
        .ok_or("the examples folder has no parent")?
        .join("slipway")
        .canonicalize()?;
    let work = tempfile::tempdir()?;
    let ticks = ticks_per_second()?;

    if wants("startup") {
        println!("start-up and memory ({runs} runs each)");
        println!("bare Tauri window ({})", bare.display());
        let (bare_ms, _, bare_mb) = startup("bare", &bare, &[], runs, ticks, false).await?;
        // Slipway paints on the CPU where there is no GPU: the bare window painting the same
        // way is the like-for-like reference (a bare window could set the switch as well).
        let switches: Vec<(&str, String)> = slipway::app::web_view_switches()
            .into_iter()
            .map(|(name, value)| (name, value.to_owned()))
            .collect();
        let like_for_like = if switches.is_empty() {
            None
        } else {
            let named: Vec<String> = switches.iter().map(|(name, value)| format!("{name}={value}")).collect();
            println!(
                "bare Tauri window with Slipway's web view switches ({})",
                named.join(" ")
            );
            Some(startup("bare-cpu", &bare, &switches, runs, ticks, false).await?)
        };
        let projects = work.path().join("startup");
        std::fs::create_dir_all(&projects)?;
        let root = example_project(&projects, |_| Ok(()))?;
        let data = projects.join("data");
        std::fs::create_dir_all(&data)?;
        data_with_project(&data, &root)?;
        println!("Slipway ({}), the example project open", slipway.display());
        let env = [("SLIPWAY_DATA_DIR", data.display().to_string())];
        let (app_ms, release_ms, app_mb) = startup("slipway", &slipway, &env, runs, ticks, true).await?;
        let time_ratio = app_ms / bare_ms;
        let ratio = app_mb / bare_mb;
        println!(
            "start-up: Slipway {app_ms:.0} ms, bare {bare_ms:.0} ms (+{:.0} ms), ratio {time_ratio:.2}: {}",
            app_ms - bare_ms,
            verdict(time_ratio <= STARTUP_TARGET_RATIO)
        );
        if let Some(release_ms) = release_ms {
            println!(
                "start-up: Slipway's Release button ready after {release_ms:.0} ms ({:.2} × the bare window)",
                release_ms / bare_ms
            );
        }
        println!(
            "memory: Slipway {app_mb:.1} MB, bare {bare_mb:.1} MB, ratio {ratio:.2}: {}",
            verdict(ratio <= MEMORY_TARGET_RATIO)
        );
        if let Some((same_ms, _, same_mb)) = like_for_like {
            println!(
                "like for like (the bare window with Slipway's switches): start-up {:.2} ({same_ms:.0} ms): {}; memory {:.2} ({same_mb:.1} MB): {}",
                app_ms / same_ms,
                verdict(app_ms / same_ms <= STARTUP_TARGET_RATIO),
                app_mb / same_mb,
                verdict(app_mb / same_mb <= MEMORY_TARGET_RATIO)
            );
        }
    }
    if wants("log") {
        let dir = work.path().join("log");
        std::fs::create_dir_all(&dir)?;
        log_stream(&slipway, &dir).await?;
    }
    if wants("history") {
        history(&slipway, work.path()).await?;
    }
    Ok(())
}
