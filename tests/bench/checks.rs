//! Overhead of running pytest and flake8 through Slipway against running them directly, on
//! the same fixture and environment. Prints medians and the ratio.
//!
//! `cargo run --example bench_checks [-- RUNS]`

#[path = "common.rs"]
mod common;

use common::median;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use slipway::checks::{self, EventSink};
use slipway::project::{self, ProjectSettings};
use tokio_util::sync::CancellationToken;

fn write_fixture(root: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(root.join("tests"))?;
    std::fs::create_dir_all(root.join("shop"))?;
    std::fs::write(root.join("requirements.txt"), "pytest\nflake8\n")?;
    for module in 0..40 {
        let mut tests = String::new();
        for case in 0..25 {
            tests.push_str(&format!(
                "def test_{case}():\n    assert sum(range({case})) == {}\n\n\n",
                (0..case).sum::<i32>()
            ));
        }
        std::fs::write(root.join(format!("tests/test_m{module}.py")), tests)?;
        std::fs::write(
            root.join(format!("shop/m{module}.py")),
            "import os\n\n\ndef f(x):\n    return x+1\n",
        )?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(7);
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    write_fixture(dir.path())?;
    let detection = project::detect(dir.path());
    let settings = ProjectSettings::from_detection(&detection);
    let sink: EventSink = Arc::new(|_| {});
    let cancel = CancellationToken::new();
    let env = checks::prepare_env(dir.path(), &detection.python, &settings, data.path(), &cancel, &sink).await?;
    let junit = dir.path().join("direct-junit.xml");

    let (mut direct_tests, mut slipway_tests, mut direct_lint, mut slipway_lint) = (vec![], vec![], vec![], vec![]);
    for _ in 0..runs {
        let started = Instant::now();
        let status = Command::new(env.bin_dir().join("pytest"))
            .arg(format!("--junitxml={}", junit.display()))
            .current_dir(dir.path())
            .output()?;
        direct_tests.push(started.elapsed());
        assert!(status.status.success());

        let started = Instant::now();
        let report = checks::run_tests(dir.path(), &settings, &env, &cancel, &sink).await?;
        slipway_tests.push(started.elapsed());
        assert_eq!(report.counts.passed, 1000);

        let started = Instant::now();
        let lint = Command::new(env.bin_dir().join("flake8"))
            .arg("--format=default")
            .current_dir(dir.path())
            .output()?;
        direct_lint.push(started.elapsed());
        assert_eq!(lint.status.code(), Some(1));

        let started = Instant::now();
        let report = checks::run_lint(dir.path(), &settings, &env, &cancel, &sink).await?;
        slipway_lint.push(started.elapsed());
        assert_eq!(report.violations.len(), 80);
    }
    let print = |name: &str, direct: Vec<Duration>, through: Vec<Duration>| {
        let (direct, through) = (median(direct), median(through));
        println!(
            "{name}: direct {:.0} ms, through Slipway {:.0} ms, ratio {:.3} (+{:.0} ms)",
            direct.as_secs_f64() * 1e3,
            through.as_secs_f64() * 1e3,
            through.as_secs_f64() / direct.as_secs_f64(),
            (through.as_secs_f64() - direct.as_secs_f64()) * 1e3
        );
    };
    println!("medians of {runs} runs; 1000 tests in 40 files, 80 flake8 violations");
    print("pytest", direct_tests, slipway_tests);
    print("flake8", direct_lint, slipway_lint);
    Ok(())
}
