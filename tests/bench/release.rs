//! A release's time to the end of its gates (tests, lint and the image build at once) against
//! the same three steps run one after another, as the old CircleCI flow did; and the
//! pipeline's overhead over the slowest bare step. On the example project, and on a fixture
//! whose tests, lint and build each take a few seconds. Prints medians and ratios.
//!
//! Then the comparison a team moving from CircleCI cares about: from the same commit to the
//! image in the registry, the old flow as a CI machine runs it (a fresh venv and pip install,
//! pytest, flake8, `docker build --no-cache`, push, one after another) against Slipway's
//! second release of that commit on this machine (warm: environment, layer cache, gate cache),
//! on the example, on a fixture with a Django-sized dependency set and on one whose tests take
//! 3 s (where the gate cache shows against Run everything).
//!
//! `scripts/bench release [RUNS]`

#[path = "common.rs"]
mod common;

use common::{median, run, Result};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slipway::history::{Ledger, StepState};
use slipway::pipeline::{self, Context, ReleaseEvent, ReleaseOptions, ReleaseSink, Step, Target};
use slipway::project::{self, ProjectSettings};
use slipway::settings::Settings;
use tokio_util::sync::CancellationToken;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/lettings");

/// The example project in a repository of its own; with `slow`, tests, lint and build each
/// take about three seconds more.
fn project(parent: &Path, name: &str, slow: bool) -> Result<PathBuf> {
    let root = parent.join(name);
    run(Command::new("cp").arg("-R").arg(EXAMPLE).arg(&root))?;
    if slow {
        std::fs::write(
            root.join("tests/test_slow.py"),
            "import time\n\n\ndef test_takes_a_while():\n    time.sleep(3)\n",
        )?;
        let dockerfile = std::fs::read_to_string(root.join("Dockerfile"))?;
        std::fs::write(
            root.join("Dockerfile"),
            dockerfile.replace("EXPOSE 8000", "COPY stamp.txt /stamp.txt\nRUN sleep 3\nEXPOSE 8000"),
        )?;
        std::fs::write(root.join("stamp.txt"), "0")?;
    }
    run(Command::new("git")
        .args(["init", "-q", "-b", "main"])
        .current_dir(&root))?;
    run(Command::new("git").args(["add", "-A"]).current_dir(&root))?;
    run(Command::new("git")
        .args([
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.test",
            "commit",
            "-q",
            "-m",
            "bench",
        ])
        .current_dir(&root))?;
    Ok(root.canonicalize()?)
}

/// The engine's images when the bench started: every image made since (the builds one
/// after another, the CI flow's, Slipway's releases, the steps a busted cache built again)
/// is removed when the bench ends, however it ends. Run it with no tests beside it: an
/// image a test makes meanwhile would go too.
struct MadeImages(std::collections::HashSet<String>);

fn image_ids() -> std::io::Result<Vec<String>> {
    let listed = Command::new("docker").args(["images", "-aq", "--no-trunc"]).output()?;
    Ok(String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_owned)
        .collect())
}

impl MadeImages {
    fn since_now() -> std::io::Result<Self> {
        Ok(Self(image_ids()?.into_iter().collect()))
    }
}

impl Drop for MadeImages {
    fn drop(&mut self) {
        let Ok(now) = image_ids() else { return };
        let made: Vec<String> = now.into_iter().filter(|id| !self.0.contains(id)).collect();
        if !made.is_empty() {
            // Untagged by id with every name it has; an image a container still uses stays.
            let _ = Command::new("docker").args(["rmi", "--force"]).args(&made).output();
        }
    }
}

/// A fresh stamp, so the build cannot come from the cache.
fn bust_cache(root: &Path, run_number: usize) -> std::io::Result<()> {
    if root.join("stamp.txt").exists() {
        std::fs::write(root.join("stamp.txt"), format!("{run_number}-{:?}", Instant::now()))?;
    }
    Ok(())
}

struct Case {
    name: &'static str,
    root: PathBuf,
    venv: PathBuf,
    lint_command: String,
}

/// The three steps one after another, with the same tools, in the same environment.
fn sequential(case: &Case, run_number: usize) -> Result<(Duration, [Duration; 3])> {
    bust_cache(&case.root, run_number)?;
    let started = Instant::now();
    let _ = Command::new(case.venv.join("bin/pytest"))
        .current_dir(&case.root)
        .output()?;
    let tests = started.elapsed();
    let _ = Command::new("sh")
        .arg("-c")
        .arg(&case.lint_command)
        .env(
            "PATH",
            format!(
                "{}:{}",
                case.venv.join("bin").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .current_dir(&case.root)
        .output()?;
    let lint = started.elapsed() - tests;
    run(Command::new("docker")
        .args([
            "build",
            "-q",
            "-t",
            &format!("bench-sequential-{}:latest", case.name),
            ".",
        ])
        .current_dir(&case.root))?;
    let build = started.elapsed() - tests - lint;
    Ok((started.elapsed(), [tests, lint, build]))
}

/// A release through Slipway; the time from its start to the end of its last gate.
async fn through_slipway(context: &Context, case: &Case, run_number: usize) -> Result<Duration> {
    bust_cache(&case.root, run_number)?;
    let gates_done: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let seen = gates_done.clone();
    let sink: ReleaseSink = Arc::new(move |event| {
        if let ReleaseEvent::Step { step, state, .. } = event {
            if matches!(step, Step::Tests | Step::Lint | Step::Build) && state.is_finished() {
                if let Ok(mut done) = seen.lock() {
                    done.push(Instant::now());
                }
            }
        }
    });
    // Every gate runs: this compares running them at once with one after another.
    let options = ReleaseOptions {
        target: Some(Target::Local),
        confirm_dirty: true,
        no_cache: true,
        ..ReleaseOptions::default()
    };
    let started = Instant::now();
    let summary = pipeline::release(context, &case.root, &options, &CancellationToken::new(), sink).await?;
    let done = gates_done.lock().map(|done| done.clone()).unwrap_or_default();
    let last_gate = done.iter().max().ok_or("no gate finished")?;
    let record = context.ledger.release(&summary.release_id)?.ok_or("recorded")?;
    if record.steps[..3].iter().any(|step| step.state != StepState::Passed) {
        return Err(format!("a gate did not pass: {:?}", record.steps).into());
    }
    Ok(*last_gate - started)
}

/// What a Django web app pins, for the fixture with a real-sized dependency set.
const DJANGO_SIZED: &str = "Django==5.1.4\ndjangorestframework==3.15.2\ndjango-environ==0.11.2\ndjango-cors-headers==4.6.0\ngunicorn==23.0.0\nwhitenoise==6.8.2\npsycopg2-binary==2.9.10\nrequests==2.32.3\nsentry-sdk==2.19.2\ncelery==5.4.0\nredis==5.2.1\nPillow==11.0.0\npytest==8.3.4\npytest-django==4.9.0\ncoverage==7.6.9\nflake8==7.1.1\n";

/// The old flow, one step after another, from a checkout to the image in `registry`.
fn ci_flow(root: &Path, registry: &str, scratch: &Path) -> Result<Duration> {
    let venv = scratch.join("ci-venv");
    let _ = std::fs::remove_dir_all(&venv);
    let name = root.file_name().and_then(|name| name.to_str()).unwrap_or("app");
    let image = format!("{registry}/ci-flow/{name}:bench");
    let started = Instant::now();
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "-q", "-r", "requirements.txt"])
        .current_dir(root))?;
    run(Command::new(venv.join("bin/pytest")).arg("-q").current_dir(root))?;
    run(Command::new(venv.join("bin/flake8")).current_dir(root))?;
    run(Command::new("docker")
        .args(["build", "-q", "--no-cache", "-t", &image, "."])
        .current_dir(root))?;
    run(Command::new("docker").args(["push", "-q", &image]))?;
    Ok(started.elapsed())
}

/// A Slipway release of `root` to this machine: the time to the end of the push (the image in
/// the registry), the time until it is live, and how many gates were taken from the cache.
async fn to_the_registry(context: &Context, root: &Path, no_cache: bool) -> Result<(Duration, Duration, usize)> {
    let pushed: Arc<Mutex<Option<Instant>>> = Arc::default();
    let seen = pushed.clone();
    let sink: ReleaseSink = Arc::new(move |event| {
        if let ReleaseEvent::Step {
            step: Step::Push,
            state,
            ..
        } = event
        {
            if state.is_finished() {
                if let Ok(mut at) = seen.lock() {
                    at.get_or_insert_with(Instant::now);
                }
            }
        }
    });
    let options = ReleaseOptions {
        target: Some(Target::Local),
        confirm_dirty: true,
        no_cache,
        ..ReleaseOptions::default()
    };
    let started = Instant::now();
    let summary = pipeline::release(context, root, &options, &CancellationToken::new(), sink).await?;
    let live = started.elapsed();
    if summary.outcome != slipway::history::Outcome::Live {
        return Err(format!("the release did not go live: {:?}", summary.message).into());
    }
    let record = context.ledger.release(&summary.release_id)?.ok_or("recorded")?;
    let push = record
        .steps
        .iter()
        .find(|step| step.name == "push")
        .ok_or("a push step")?;
    if push.state != StepState::Passed {
        return Err(format!("the push did not pass: {:?} ({:?})", push.summary, summary.message).into());
    }
    let cached = record.steps.iter().filter(|step| step.cached_from.is_some()).count();
    let at = pushed.lock().ok().and_then(|at| *at).ok_or("the push finished")?;
    Ok((at - started, live, cached))
}

/// The old flow against Slipway's second release of the same commit, on the example and on
/// a fixture with a Django-sized dependency set.
async fn seed_flow_side_by_side(dir: &Path, runs: usize) -> Result<()> {
    let registry = std::env::var("SLIPWAY_LOCAL_REGISTRY")
        .map_err(|_| "SLIPWAY_LOCAL_REGISTRY names the registry (scripts/bench release starts one)")?;
    let data = dir.join("seed-data");
    std::fs::create_dir_all(&data)?;
    let context = Context {
        data_dir: data.clone(),
        settings: Settings {
            local_registry: Some(registry.clone()),
            ..Settings::default()
        },
        ledger: Ledger::open(&data)?,
        secrets: slipway::secrets::SecretStore::os(&data),
    };
    println!();
    println!(
        "from the commit to the image in the registry: the CircleCI flow one step after another vs Slipway's second release (warm); {runs} runs each, medians"
    );
    // The gate cache pays where the tests take time: the fixture whose tests take 3 s.
    for (name, requirements, slow) in [
        ("example", None, false),
        ("django-sized", Some(DJANGO_SIZED), false),
        ("slow-tests", None, true),
    ] {
        let root = project(dir, &format!("seed-{name}"), slow)?;
        if let Some(requirements) = requirements {
            std::fs::write(root.join("requirements.txt"), requirements)?;
            run(Command::new("git")
                .args(["-c", "user.name=bench", "-c", "user.email=bench@example.test"])
                .args(["commit", "-qam", "Django-sized dependencies"])
                .current_dir(&root))?;
        }
        // Slipway's first release of the commit makes its environment and its image.
        to_the_registry(&context, &root, true).await?;
        let (mut ci, mut warm, mut live, mut everything, mut trial_live, mut cached) =
            (vec![], vec![], vec![], vec![], vec![], 0);
        for _ in 0..runs {
            ci.push(ci_flow(&root, &registry, dir)?);
            // The CI flow's `--no-cache` build made a newer image of the same tree on this
            // engine (a CI does that on its own machine, never on the person's), so the release
            // after it deploys another image: its new container is tried beside the running
            // one first. The warm release after it is the second release of the same tree and
            // image: it goes live without a trial.
            let (took, went_live, _) = to_the_registry(&context, &root, true).await?;
            everything.push(took);
            trial_live.push(went_live);
            let (took, went_live, reused) = to_the_registry(&context, &root, false).await?;
            warm.push(took);
            live.push(went_live);
            cached = reused;
        }
        let (ci, warm, live, everything, trial_live) = (
            median(ci),
            median(warm),
            median(live),
            median(everything),
            median(trial_live),
        );
        println!(
            "{name:>13}: CircleCI flow {:>6.2} s | Slipway warm {:>5.2} s ({cached} gates cached), ratio {:.1}x, live in {:.2} s (with a trial container: {:.2} s) | warm with Run everything {:>5.2} s, ratio {:.1}x | cached/running {:.2}",
            ci.as_secs_f64(),
            warm.as_secs_f64(),
            ci.as_secs_f64() / warm.as_secs_f64().max(0.001),
            live.as_secs_f64(),
            trial_live.as_secs_f64(),
            everything.as_secs_f64(),
            ci.as_secs_f64() / everything.as_secs_f64().max(0.001),
            warm.as_secs_f64() / everything.as_secs_f64().max(0.001),
        );
        let engine = slipway::docker::connect()?;
        for container in slipway::docker::project_containers(&engine, &project::project_id(&root)).await? {
            slipway::docker::remove_container(&engine, &container).await?;
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let runs: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(3);
    let _images = MadeImages::since_now()?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    let venv = dir.path().join("venv");
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin/pip")).args(["install", "-q", "-r", &format!("{EXAMPLE}/requirements.txt")]))?;
    // No registry: the push is not part of the gates, and a container run is enough after.
    let context = Context {
        data_dir: data.clone(),
        settings: Settings::default(),
        ledger: Ledger::open(&data)?,
        secrets: slipway::secrets::SecretStore::os(&data),
    };
    println!(
        "release gates through Slipway (concurrent) vs the same steps one after another; {runs} runs each, medians"
    );
    for (name, slow, lint_command) in [("example", false, "flake8"), ("slow-gates", true, "sleep 3 && flake8")] {
        let root = project(dir.path(), name, slow)?;
        let mut settings = ProjectSettings::from_detection(&project::detect(&root));
        settings.venv = Some(venv.display().to_string());
        settings.lint_command = lint_command.to_owned();
        project::save_settings(&data, &root, &settings)?;
        let case = Case {
            name,
            root,
            venv: venv.clone(),
            lint_command: format!("{lint_command} --format=default"),
        };
        // One warm-up each, so neither side pays for a cold cache.
        sequential(&case, 0)?;
        through_slipway(&context, &case, 0).await?;
        let (mut slipway_times, mut sequential_times, mut slowest_steps) = (vec![], vec![], vec![]);
        for run_number in 1..=runs {
            let (total, steps) = sequential(&case, run_number)?;
            sequential_times.push(total);
            slowest_steps.push(steps.into_iter().max().unwrap_or_default());
            slipway_times.push(through_slipway(&context, &case, run_number + 1000).await?);
        }
        let slipway = median(slipway_times);
        let one_after_another = median(sequential_times);
        let slowest = median(slowest_steps);
        println!(
            "{name:>10}: Slipway {:>6.2} s | one after another {:>6.2} s | ratio {:.2} | slowest bare step {:.2} s, overhead {:+.2} s",
            slipway.as_secs_f64(),
            one_after_another.as_secs_f64(),
            slipway.as_secs_f64() / one_after_another.as_secs_f64(),
            slowest.as_secs_f64(),
            slipway.as_secs_f64() - slowest.as_secs_f64(),
        );
        let engine = slipway::docker::connect()?;
        for container in slipway::docker::project_containers(&engine, &project::project_id(&case.root)).await? {
            slipway::docker::remove_container(&engine, &container).await?;
        }
    }
    seed_flow_side_by_side(dir.path(), runs).await
}
