//! The first check of a new project is mostly making its Python environment. This measures
//! that step through Slipway (`checks::prepare_env`, the code a release runs) with pip alone
//! and with uv, for a Django-sized requirements file, with a cold download cache and a warm
//! one. Prints each time and the ratio.
//!
//! `scripts/bench venv [WARM_RUNS]`

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use slipway::checks::{self, EventSink};
use slipway::project::{self, ProjectSettings};
use tokio_util::sync::CancellationToken;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

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

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// One environment made from nothing in a fresh data folder, with `cache` as both
/// installers' download cache; the time it took and how many packages it holds.
async fn make_env(root: &Path, cache: &Path, uv: Option<&str>) -> Result<(Duration, usize)> {
    let data = tempfile::tempdir()?;
    // The child processes inherit these: each installer reads its own.
    std::env::set_var("PIP_CACHE_DIR", cache);
    std::env::set_var("UV_CACHE_DIR", cache);
    std::env::set_var(checks::UV_VARIABLE, uv.unwrap_or("off"));
    let detection = project::detect(root);
    let settings = ProjectSettings::from_detection(&detection);
    let quiet: EventSink = Arc::new(|_| {});
    let started = Instant::now();
    let env = checks::prepare_env(
        root,
        &detection.python,
        &settings,
        data.path(),
        &CancellationToken::new(),
        &quiet,
    )
    .await?;
    let took = started.elapsed();
    let packages = checks::installed_distributions(&env.venv).len();
    Ok((took, packages))
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
    let mut figures = Vec::new();
    for (name, installer) in [("pip", None), ("uv", Some(uv.as_str()))] {
        let cache = dir.path().join(format!("cache-{name}"));
        // Cold: an empty download cache (every wheel fetched from the index).
        let (cold, packages) = make_env(&root, &cache, installer).await?;
        // Warm: the cache the cold run filled.
        let mut warm = Vec::new();
        for _ in 0..warm_runs {
            warm.push(make_env(&root, &cache, installer).await?.0);
        }
        let warm = median(warm);
        println!(
            "{name:>4}: cold cache {:>6.2} s | warm cache {:>6.2} s (median of {warm_runs}) | {packages} packages",
            cold.as_secs_f64(),
            warm.as_secs_f64()
        );
        figures.push((cold, warm));
    }
    let ratio = |pip: Duration, uv: Duration| pip.as_secs_f64() / uv.as_secs_f64().max(0.001);
    println!(
        "pip / uv: cold {:.1}x, warm {:.1}x",
        ratio(figures[0].0, figures[1].0),
        ratio(figures[0].1, figures[1].1)
    );
    Ok(())
}
