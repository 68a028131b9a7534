//! Whole releases of the example project: the real engine, the registry with a password, the
//! real keyring, real pytest and flake8; Render through its stand-in.

#[path = "../support/standin/mod.rs"]
mod standin;
#[path = "../support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slipway::history::{Ledger, Outcome, ReleaseRecord, StepState};
use slipway::pipeline::{self, Context, ReleaseEvent, ReleaseOptions, ReleaseSink, ReleaseSummary, Step, Target};
use slipway::project::{self, ProjectSettings};
use slipway::secrets::{Account, SecretStore, Service};
use slipway::settings::Settings;
use standin::{render_deploy_stand_in, DeployScript};
use support::{test_registry, TestResult};
use tokio_util::sync::CancellationToken;

struct Fixture {
    /// Dropped first: the project's containers go even when the test failed.
    _containers: support::ProjectContainers,
    _dirs: tempfile::TempDir,
    root: PathBuf,
    data: PathBuf,
    context: Context,
}

/// A copy of the example project in its own repository, with `change` applied before the
/// commit, a data folder, and the test registry's login in the keyring.
fn fixture(
    name: &str,
    change: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<Fixture, Box<dyn std::error::Error>> {
    let dirs = tempfile::tempdir()?;
    let root = support::example_project(dirs.path(), name, change)?;
    let data = dirs.path().join("data");
    std::fs::create_dir_all(&data)?;
    let registry = test_registry();
    support::save_registry_login(&data, &registry, &registry.password)?;
    let detection = project::detect(&root);
    let mut settings = ProjectSettings::from_detection(&detection);
    settings.venv = Some(support::shared_venv()?.display().to_string());
    settings.health_timeout_secs = Some(20);
    project::save_settings(&data, &root, &settings)?;
    let context = Context {
        data_dir: data.clone(),
        settings: Settings {
            local_registry: Some(registry.address.clone()),
            ..Settings::default()
        },
        ledger: Ledger::open(&data)?,
        secrets: slipway::secrets::SecretStore::os(&data),
    };
    Ok(Fixture {
        _containers: support::ProjectContainers(project::project_id(&root)),
        _dirs: dirs,
        root,
        data,
        context,
    })
}

/// The example with one more test file, `tests/<file>`.
fn with_test_file(name: &str, file: &str, body: &str) -> Result<Fixture, Box<dyn std::error::Error>> {
    fixture(name, |root| std::fs::write(root.join("tests").join(file), body))
}

fn change_settings(fixture: &Fixture, change: impl FnOnce(&mut ProjectSettings)) -> TestResult {
    let mut settings = project::load_settings(&fixture.data, &fixture.root)?.ok_or("settings were saved")?;
    change(&mut settings);
    project::save_settings(&fixture.data, &fixture.root, &settings)?;
    Ok(())
}

/// Links the fixture's project to the Render service `service` (running `image`) as its
/// environment `environment`, as Project settings → Where it runs does.
fn link_render(fixture: &Fixture, environment: &str, service: &str, image: &str) -> TestResult {
    let mut added = Ok(());
    change_settings(fixture, |settings| {
        added = settings.environments.add(project::Environment::render(
            environment,
            project::RenderLink {
                id: service.to_owned(),
                name: Some(service.trim_start_matches("srv-").to_owned()),
                image: Some(image.to_owned()),
            },
        ));
    })?;
    Ok(added?)
}

/// Links the fixture's project to the Sentry project `acme/web` through account `acme/web`.
fn link_sentry(fixture: &Fixture, organization: &str, project_slug: &str) -> TestResult {
    change_settings(fixture, |settings| {
        settings.sentry_project = Some(project::SentryLink {
            account: "acme/web".to_owned(),
            organization: organization.to_owned(),
            project: project_slug.to_owned(),
        });
    })
}

/// Every event a release sent.
#[derive(Default)]
struct Events(Mutex<Vec<ReleaseEvent>>);

impl Events {
    fn sink(self: &Arc<Self>) -> ReleaseSink {
        let events = self.clone();
        Arc::new(move |event| {
            if let Ok(mut all) = events.0.lock() {
                all.push(event);
            }
        })
    }

    fn all(&self) -> Vec<ReleaseEvent> {
        self.0.lock().map(|all| all.clone()).unwrap_or_default()
    }

    fn step_state(&self, step: Step) -> Option<StepState> {
        self.all().iter().rev().find_map(|event| match event {
            ReleaseEvent::Step { step: s, state, .. } if *s == step => Some(*state),
            _ => None,
        })
    }

    fn saw(&self, wanted: impl Fn(&ReleaseEvent) -> bool) -> bool {
        self.all().iter().any(wanted)
    }
}

async fn release(fixture: &Fixture, target: Target) -> Result<(ReleaseSummary, Arc<Events>), slipway::error::AppError> {
    let options = ReleaseOptions {
        target: Some(target),
        confirm_dirty: false,
        confirmed_plan: None,
        ..ReleaseOptions::default()
    };
    release_with(fixture, &options).await
}

/// A release of the fixture with `options`, every event kept.
async fn release_with(
    fixture: &Fixture,
    options: &ReleaseOptions,
) -> Result<(ReleaseSummary, Arc<Events>), slipway::error::AppError> {
    let events = Arc::new(Events::default());
    let summary = pipeline::release(
        &fixture.context,
        &fixture.root,
        options,
        &CancellationToken::new(),
        events.sink(),
    )
    .await?;
    Ok((summary, events))
}

fn record(fixture: &Fixture, id: &str) -> Result<ReleaseRecord, Box<dyn std::error::Error>> {
    Ok(fixture
        .context
        .ledger
        .release(id)?
        .ok_or("the release is in the ledger")?)
}

/// One step of a recorded release, by name.
fn step_record<'a>(record: &'a ReleaseRecord, name: &str) -> Option<&'a slipway::history::StepRecord> {
    record.steps.iter().find(|step| step.name == name)
}

fn step_states(record: &ReleaseRecord) -> Vec<(String, StepState)> {
    record
        .steps
        .iter()
        .map(|step| (step.name.to_string(), step.state))
        .collect()
}

async fn remove_project_containers(root: &Path) -> TestResult {
    let engine = slipway::docker::connect()?;
    for name in slipway::docker::project_containers(&engine, &project::project_id(root)).await? {
        slipway::docker::remove_container(&engine, &name).await?;
    }
    Ok(())
}

async fn fetch(url: &str) -> Result<(u16, String), reqwest::Error> {
    slipway::http::install_tls();
    let response = reqwest::get(url).await?;
    let status = response.status().as_u16();
    Ok((status, response.text().await?))
}

/// The CLI on the fixture's data folder, with the registry the tests use.
fn cli(fixture: &Fixture, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(support::slipway_binary());
    command
        .args(args)
        .env("SLIPWAY_DATA_DIR", &fixture.data)
        .env("SLIPWAY_LOCAL_REGISTRY", test_registry().address)
        .env_remove("SENTRY_DSN");
    command
}

mod auto_rollback;
mod cache;
mod cancel;
mod doors;
mod leaks;
mod local;
mod projects;
mod rehearsal;
mod remote;
mod render;
mod render_once;
mod sentry;
mod switch;
