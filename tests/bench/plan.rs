//! The plan of a big unchanged tree against the plan of the small example and `git status` on
//! the big tree, in one run: the example project alone, and the example with 50,000 more files
//! in 500 folders, each committed in a repository of its own. The plan is what the Release page
//! shows before the first click, worked out again whenever the window regains focus, so it
//! should cost about what git costs, not grow with the number of files. Prints medians and
//! the ratio big/small.
//!
//! `scripts/bench plan [RUNS]`

#[path = "common.rs"]
mod common;

use common::{median, run, Result};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use slipway::history::Ledger;
use slipway::pipeline::{self, Context, ReleaseOptions, Target};
use slipway::settings::Settings;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/lettings");
const FOLDERS: usize = 500;
const FILES_PER_FOLDER: usize = 100;

/// The example in a repository of its own, with `extra_files` more small Python files.
fn project(parent: &Path, name: &str, extra_files: bool) -> Result<PathBuf> {
    let root = parent.join(name);
    run(Command::new("cp").arg("-R").arg(EXAMPLE).arg(&root))?;
    if extra_files {
        for folder in 0..FOLDERS {
            let dir = root.join(format!("vendor/pkg{folder:03}"));
            std::fs::create_dir_all(&dir)?;
            for file in 0..FILES_PER_FOLDER {
                std::fs::write(
                    dir.join(format!("module{file:03}.py")),
                    format!(
                        "# generated for the benchmark\nVALUE = {}\n",
                        folder * FILES_PER_FOLDER + file
                    ),
                )?;
            }
        }
    }
    run(Command::new("git")
        .args(["init", "-q", "-b", "main"])
        .current_dir(&root))?;
    run(Command::new("git").args(["add", "-A"]).current_dir(&root))?;
    run(Command::new("git")
        .args(["-c", "user.name=bench", "-c", "user.email=bench@example.test"])
        .args(["commit", "-q", "-m", "bench"])
        .current_dir(&root))?;
    Ok(root.canonicalize()?)
}

async fn time_plan(context: &Context, root: &Path) -> Result<Duration> {
    let options = ReleaseOptions {
        target: Some(Target::Local),
        ..ReleaseOptions::default()
    };
    let started = Instant::now();
    let plan = pipeline::plan(context, root, &options).await?;
    let took = started.elapsed();
    if !plan.dirty_files.is_empty() {
        return Err(format!(
            "the tree at {} should be unchanged: {:?}",
            root.display(),
            plan.dirty_files
        )
        .into());
    }
    Ok(took)
}

fn time_git_status(root: &Path) -> Result<Duration> {
    let started = Instant::now();
    run(Command::new("git").args(["status", "--porcelain"]).current_dir(root))?;
    Ok(started.elapsed())
}

fn ms(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> Result<()> {
    let runs: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(7).max(1);
    let dir = tempfile::tempdir()?;
    let small = project(dir.path(), "small", false)?;
    let big = project(dir.path(), "big", true)?;
    let files = String::from_utf8_lossy(
        &Command::new("git")
            .args(["ls-files"])
            .current_dir(&big)
            .output()?
            .stdout,
    )
    .lines()
    .count();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    let context = Context {
        data_dir: data.clone(),
        settings: Settings {
            local_registry: std::env::var("SLIPWAY_LOCAL_REGISTRY").ok(),
            ..Settings::default()
        },
        ledger: Ledger::open(&data)?,
        secrets: slipway::secrets::SecretStore::os(&data),
    };
    println!("the plan of an unchanged tree, {runs} runs each after one warm-up, medians");
    // One warm-up each: the first plan of a project reads what later ones find ready.
    time_plan(&context, &small).await?;
    time_plan(&context, &big).await?;
    time_git_status(&big)?;
    let (mut small_times, mut big_times, mut git_times) = (Vec::new(), Vec::new(), Vec::new());
    // Interleaved, so a change in the machine's load falls on all three alike.
    for _ in 0..runs {
        small_times.push(time_plan(&context, &small).await?);
        big_times.push(time_plan(&context, &big).await?);
        git_times.push(time_git_status(&big)?);
    }
    let (small_plan, big_plan, git_status) = (median(small_times), median(big_times), median(git_times));
    println!("  plan of the example:              {}", ms(small_plan));
    println!("  plan of the {files}-file tree:     {}", ms(big_plan));
    println!("  git status on the {files}-file tree: {}", ms(git_status));
    println!(
        "  big/small: {:.2}× (target ≤ 2×); big plan / git status: {:.2}×",
        big_plan.as_secs_f64() / small_plan.as_secs_f64(),
        big_plan.as_secs_f64() / git_status.as_secs_f64()
    );
    Ok(())
}
