//! A new project's first check through Slipway against the same work done by hand with the
//! same uv, in one run so both see the same machine. Slipway: the example project's checks
//! (`checks::check`, the door the window, the CLI and a release use) with a fresh data folder,
//! so its environment is made from nothing. By hand: an empty venv (`uv venv`) with the same
//! interpreter, `uv pip install -r requirements.txt`, then pytest and flake8 one after the
//! other. Both read a package cache warmed once before the counted runs. Prints each median
//! and the ratio.
//!
//! `scripts/bench first-check [RUNS]` (uv is the tests' one, given through `SLIPWAY_UV`)

#[path = "common.rs"]
mod common;

use common::{median, Result};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use slipway::checks::{self, CheckOutcome, ChecksInput, EventSink, NoHooks, Scope};
use tokio_util::sync::CancellationToken;

/// The example project, copied so no run leaves anything in the repository's copy.
fn copy_example(to: &Path) -> Result<()> {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lettings");
    let status = Command::new("cp").arg("-r").arg(&from).arg(to).status()?;
    if !status.success() {
        return Err(format!("copying {} failed", from.display()).into());
    }
    Ok(())
}

/// Slipway's first check of `root` with a fresh data folder; fails unless tests and lint pass.
async fn through_slipway(root: &Path) -> Result<Duration> {
    let data = tempfile::tempdir()?;
    let sink: EventSink = Arc::new(|_| {});
    let started = Instant::now();
    let input = ChecksInput::read(data.path(), root)?;
    let done = checks::check(
        &input,
        data.path(),
        Scope::Everything,
        &CancellationToken::new(),
        &sink,
        &NoHooks,
    )
    .await?;
    let took = started.elapsed();
    let summary = done.summary()?;
    if summary.outcome() != CheckOutcome::Passed {
        return Err(format!("Slipway's check did not pass: {summary:?}").into());
    }
    Ok(took)
}

fn run(command: &mut Command) -> Result<()> {
    let output = command.output()?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(())
}

/// The same work by hand: an empty venv, one `uv pip install`, pytest, flake8.
fn by_hand(root: &Path, uv: &Path, python: &Path) -> Result<Duration> {
    let place = tempfile::tempdir()?;
    let venv = place.path().join("venv");
    let started = Instant::now();
    run(Command::new(uv)
        .args(["venv", "--quiet", "--python"])
        .arg(python)
        .arg(&venv))?;
    run(Command::new(uv)
        .args(["pip", "install", "--quiet", "--python"])
        .arg(venv.join("bin/python"))
        .args(["-r", "requirements.txt"])
        .current_dir(root))?;
    run(Command::new(venv.join("bin/pytest")).arg("-q").current_dir(root))?;
    run(Command::new(venv.join("bin/flake8")).current_dir(root))?;
    Ok(started.elapsed())
}

#[tokio::main]
async fn main() -> Result<()> {
    let runs: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(5);
    let uv = std::env::var(checks::UV_VARIABLE)
        .ok()
        .filter(|value| !value.is_empty() && value != "off")
        .map(PathBuf::from)
        .ok_or("set SLIPWAY_UV to a uv binary (scripts/bench first-check does)")?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("lettings");
    copy_example(&root)?;
    // One cache for both, warmed by the first run of each; child processes inherit it.
    std::env::set_var("UV_CACHE_DIR", dir.path().join("uv-cache"));
    let detection = slipway::project::detect(&root);
    let python = checks::choose_python(&detection.python, &checks::installed_pythons())?.path;
    println!(
        "the example's first check (fresh data folder, warm cache, Python {}) through Slipway and by hand with the same uv",
        python.display()
    );
    through_slipway(&root).await?;
    by_hand(&root, &uv, &python)?;
    // The two take turns, so a busy moment of the machine falls on both.
    let (mut slipway, mut hand) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        slipway.push(through_slipway(&root).await?);
        hand.push(by_hand(&root, &uv, &python)?);
    }
    let list = |samples: &[Duration]| {
        samples
            .iter()
            .map(|took| format!("{:.2}", took.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("through Slipway: {} s", list(&slipway));
    println!("by hand:         {} s", list(&hand));
    let (slipway, hand) = (median(slipway), median(hand));
    println!(
        "medians of {runs}: Slipway {:.2} s, by hand {:.2} s, ratio {:.2}x",
        slipway.as_secs_f64(),
        hand.as_secs_f64(),
        slipway.as_secs_f64() / hand.as_secs_f64().max(0.001)
    );
    Ok(())
}
