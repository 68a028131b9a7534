//! The first check of a new project is mostly making its Python environment. This measures
//! that step through Slipway (`checks::prepare_env`, the code a release runs) with pip alone
//! and with uv, for a Django-sized requirements file, with a cold download cache and a warm
//! one. Prints each time and the ratio.
//!
//! `scripts/bench venv [WARM_RUNS]`

#[path = "common.rs"]
mod common;

use common::{median, Result};

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slipway::checks::{self, CheckEvent, EventSink};
use slipway::project::{self, ProjectSettings};
use tokio_util::sync::CancellationToken;

/// What a Django web app with an API, Postgres, Celery and the usual test tools pins.
const REQUIREMENTS: &str = "\
Django==5.1.4
djangorestframework==3.15.2
django-environ==0.11.2
django-cors-headers==4.6.0
gunicorn==23.0.0
whitenoise==6.8.2
psycopg2-binary==2.9.10
requests==2.32.3
sentry-sdk==2.19.2
celery==5.4.0
redis==5.2.1
Pillow==11.0.0
pytest==8.3.4
pytest-django==4.9.0
coverage==7.6.9
flake8==7.1.1
black==24.10.0
";

/// One environment made from nothing in a fresh data folder, with `cache` as both
/// installers' download cache: the whole time, the part spent making the empty environment
/// (Python's venv, the same for both), and how many packages it holds.
async fn make_env(root: &Path, cache: &Path, uv: Option<&str>) -> Result<(Duration, Duration, usize)> {
    let data = tempfile::tempdir()?;
    // The child processes inherit these: each installer reads its own.
    std::env::set_var("PIP_CACHE_DIR", cache);
    std::env::set_var("UV_CACHE_DIR", cache);
    std::env::set_var(checks::UV_VARIABLE, uv.unwrap_or("off"));
    let detection = project::detect(root);
    let settings = ProjectSettings::from_detection(&detection);
    // The first "Installing" line comes when the empty environment is there.
    let first_install: Arc<Mutex<Option<Instant>>> = Arc::default();
    let seen = first_install.clone();
    let sink: EventSink = Arc::new(move |event| {
        if let CheckEvent::Setup { message } = event {
            if message.starts_with("Installing") {
                if let Ok(mut at) = seen.lock() {
                    at.get_or_insert_with(Instant::now);
                }
            }
        }
    });
    let started = Instant::now();
    let env = checks::prepare_env(
        root,
        &detection.python,
        &settings,
        data.path(),
        &CancellationToken::new(),
        &sink,
    )
    .await?;
    let took = started.elapsed();
    let venv_part = first_install
        .lock()
        .ok()
        .and_then(|at| *at)
        .map(|at| at - started)
        .unwrap_or_default();
    Ok((took, venv_part, checks::installed_distributions(&env.venv).len()))
}

#[tokio::main]
async fn main() -> Result<()> {
    let warm_runs: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(3);
    let uv = std::env::var(checks::UV_VARIABLE)
        .ok()
        .filter(|value| !value.is_empty() && value != "off")
        .ok_or("set SLIPWAY_UV to a uv binary (scripts/bench venv does)")?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("shop");
    std::fs::create_dir_all(root.join("tests"))?;
    std::fs::write(root.join("requirements.txt"), REQUIREMENTS)?;
    std::fs::write(root.join("tests/test_ok.py"), "def test_ok():\n    assert True\n")?;
    println!(
        "a new project's Python environment through Slipway: {} pinned requirements (with their dependencies), pip vs uv",
        REQUIREMENTS.lines().count()
    );
    let installers = [("pip", None), ("uv", Some(uv.as_str()))];
    // Cold: an empty download cache, every wheel fetched from the index.
    let mut cold = Vec::new();
    for (name, installer) in installers {
        let cache = dir.path().join(format!("cache-{name}"));
        cold.push(make_env(&root, &cache, installer).await?);
    }
    // Warm: the cache each cold run filled; the two installers take turns, so a busy moment
    // of the machine falls on both.
    let mut warm: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..warm_runs {
        for (index, (name, installer)) in installers.iter().enumerate() {
            let cache = dir.path().join(format!("cache-{name}"));
            warm[index].push(make_env(&root, &cache, *installer).await?.0);
        }
    }
    let mut medians = Vec::new();
    for (index, (name, _)) in installers.iter().enumerate() {
        let (cold_time, venv_part, packages) = cold[index];
        let warm_time = median(warm[index].clone());
        println!(
            "{name:>4}: cold cache {:>6.2} s | warm cache {:>6.2} s (median of {warm_runs}) | of which making the empty venv {:.2} s | {packages} packages",
            cold_time.as_secs_f64(),
            warm_time.as_secs_f64(),
            venv_part.as_secs_f64()
        );
        medians.push((cold_time, warm_time));
    }
    let ratio = |pip: Duration, uv: Duration| pip.as_secs_f64() / uv.as_secs_f64().max(0.001);
    println!(
        "pip / uv: cold {:.1}x, warm {:.1}x",
        ratio(medians[0].0, medians[1].0),
        ratio(medians[0].1, medians[1].1)
    );
    Ok(())
}
