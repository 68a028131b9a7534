//! The plan: what a release of a project would do and what stops it, decided from the
//! project's files, its saved settings, the accounts and the engine, before anything runs.

use std::path::Path;

use serde::Serialize;
use ts_rs::TS;

use super::{Context, Plan, PlannedStep, ReleaseOptions, Step, Target};
use crate::docker::{self, ImageReference, Registry};
use crate::error::{AppError, ErrorAction, ErrorKind};
use crate::project::{self, needed_values, Environment, NeededValue, ProjectSettings, PythonEnv};
use crate::secrets::{Account, SecretStore, Service};

/// How long a plan waits for the background `git fetch` before it uses what it knows.
const REMOTE_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

/// The credentials a target needs, read from the store when the plan is made.
fn account(store: &SecretStore, service: Service, name: &str) -> Option<Account> {
    store.account(service, name)
}

/// How Slipway can deploy to `service`: the Render API key, else a deploy hook made for
/// that very service; `None` when neither is connected.
pub(super) fn render_access(store: &SecretStore, service: &str) -> Option<Account> {
    account(store, Service::Render, "default").or_else(|| {
        account(store, Service::Render, "deploy-hook").filter(|hook| hook.render_service.as_deref() == Some(service))
    })
}

/// The project's environment a release goes to: the one named, else the one an older
/// `target` meant, else the project's default. An unknown name is an error, never a guess.
pub(crate) fn choose_environment(
    settings: &ProjectSettings,
    options: &ReleaseOptions,
) -> Result<Environment, AppError> {
    let environments = &settings.environments;
    if let Some(name) = options.environment.as_deref().filter(|name| !name.trim().is_empty()) {
        return Ok(environments.resolve(name)?);
    }
    Ok(match options.target {
        Some(Target::Local) => environments.all().remove(0),
        Some(Target::Render) => environments.resolve("render")?,
        None => environments.default_environment(),
    })
}

/// The port the app listens on: the setting, the Dockerfile's first `EXPOSE`, else 8000.
pub(super) fn container_port(root: &Path, settings: &ProjectSettings) -> u16 {
    if let Some(port) = settings.container_port {
        return port;
    }
    settings
        .dockerfile
        .as_ref()
        .and_then(|dockerfile| std::fs::read_to_string(root.join(dockerfile)).ok())
        .and_then(|text| {
            text.lines().find_map(|line| {
                let mut words = line.split_whitespace();
                let instruction = words.next()?;
                if !instruction.eq_ignore_ascii_case("expose") {
                    return None;
                }
                words.next()?.split('/').next()?.parse().ok()
            })
        })
        .unwrap_or(8000)
}

/// What the plan read of the project, kept for the run so the project is scanned once.
pub(crate) struct Scanned {
    /// The project's settings as the chosen environment uses them.
    pub settings: ProjectSettings,
    /// The environment the release goes to.
    pub environment: Environment,
    pub python: PythonEnv,
    pub needs: Vec<NeededValue>,
    /// The services the CI starts for the tests.
    pub services: Vec<project::ServiceSpec>,
    /// Why the Dockerfile is that one, when detection chose it.
    pub dockerfile_source: Option<String>,
    /// `render.yaml`'s web service, when there is one.
    pub blueprint: Option<project::Blueprint>,
    /// The build arguments the CI or Compose file passes, with where each was found.
    pub build_args: Vec<project::BuildArg>,
    /// Steps the CI does not run, with what Slipway runs instead.
    pub silent_ci: Vec<(Step, String)>,
    /// Why lint is off when it is because the CI lints nothing (its files named).
    pub lint_off_as_ci: Option<String>,
    /// Where the test and lint commands came from in the CI, and the CI lines not run.
    pub detection_ci: (
        Option<project::CiOrigin>,
        Option<project::CiOrigin>,
        Vec<crate::project::SkippedCommand>,
    ),
}

/// The project's settings (saved, or what detection proposes) and its Python environment.
pub(super) async fn scan(data_dir: &Path, root: &Path) -> Result<Scanned, AppError> {
    let folder = root.to_path_buf();
    let detection = tokio::task::spawn_blocking(move || project::detect(&folder))
        .await
        .map_err(|error| AppError::new(ErrorKind::Unknown, error.to_string(), "Try again."))?;
    let (settings, _) = project::settings_or_detected(data_dir, root, &detection)?;
    // An edited command no longer comes from the CI line.
    let test_origin = detection
        .test_origin
        .clone()
        .filter(|_| settings.test_command == detection.test_command.value);
    let lint_origin = detection
        .lint_origin
        .clone()
        .filter(|_| settings.lint_command == detection.lint_command.value);
    let ci_files = detection.ci_files.join(", ");
    let mut silent = Vec::new();
    if !ci_files.is_empty() && detection.test_origin.is_none() {
        silent.push((
            Step::Tests,
            format!(
                "Your CI ({ci_files}) runs no tests Slipway could find; Slipway runs `{}` ({}) instead.",
                settings.test_command, detection.test_command.source
            ),
        ));
    }
    if !ci_files.is_empty() && detection.lint_origin.is_none() && settings.lint_enabled {
        silent.push((
            Step::Lint,
            format!(
                "Your CI ({ci_files}) runs no linter Slipway could find; Slipway runs `{}` ({}) instead.",
                settings.lint_command, detection.lint_command.source
            ),
        ));
    }
    let dockerfile_source = detection
        .dockerfile
        .as_ref()
        .filter(|chosen| settings.dockerfile.as_deref() == Some(chosen.value.as_str()))
        .map(|chosen| chosen.source.clone());
    Ok(Scanned {
        environment: Environment::local(),
        blueprint: detection.blueprint.clone(),
        build_args: detection.build_args.clone(),
        dockerfile_source,
        silent_ci: silent,
        lint_off_as_ci: (!settings.lint_enabled && detection.lints_nothing()).then(|| {
            format!(
                "Your CI ({ci_files}) runs no linter and the project sets none up, so lint is off here too: turn it on in the project's settings to run {}.",
                settings.lint_command
            )
        }),
        needs: needed_values(&detection, &settings),
        services: detection.services.clone(),
        detection_ci: (test_origin, lint_origin, detection.ci_skipped),
        settings,
        python: detection.python,
    })
}

/// Where a release of the project puts its image: the name (without tag) on the target the
/// plan would pick (or `target`), and whether that registry can be asked for its tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImageDestination {
    pub target: Target,
    /// `registry/namespace/name`, as the release tags and pushes it.
    pub name: String,
    /// The registry, as a person names it ("Docker Hub", "localhost:5000"); `None` when the
    /// image stays on this machine (no push).
    pub registry: Option<String>,
    /// The registry can be asked for its tags: an account is connected for it, or it is this
    /// machine's own registry. Docker Hub is never asked without an account.
    pub can_list_tags: bool,
    /// The project's own setting ("Where your image goes"), when the person set one.
    pub setting: Option<String>,
}

/// Where a release to `target` (or the target the plan would pick) puts the project's image.
pub async fn image_destination(
    context: &Context,
    root: &Path,
    target: Option<Target>,
) -> Result<ImageDestination, AppError> {
    let mut scanned = scan(&context.data_dir, root).await?;
    let options = ReleaseOptions {
        target,
        ..ReleaseOptions::default()
    };
    scanned.environment = choose_environment(&scanned.settings, &options)?;
    scanned.settings = scanned.settings.for_environment(&scanned.environment);
    let settings = &scanned.settings;
    let target = scanned.environment.target;
    let repository = settings.repository(root);
    let mut ignored = Vec::new();
    let Destination { registry, image, .. } =
        destination(context, root, &repository, "latest", &scanned.environment, &mut ignored);
    let name = image.strip_suffix(":latest").unwrap_or(&image).to_owned();
    let local_registry = context.settings.local_registry();
    let can_list_tags = match &registry {
        None => false,
        Some(host) if Some(host) == local_registry.as_ref() => true,
        Some(host) => account(&context.secrets, Service::Registry, host).is_some(),
    };
    Ok(ImageDestination {
        target,
        registry: registry.map(|host| Registry::named(&host).to_string()),
        name,
        can_list_tags,
        setting: settings
            .image_repository
            .clone()
            .filter(|value| !value.trim().is_empty()),
    })
}

/// What `{commit}` in an image tag stands for: the commit, and for a tree edited since it
/// `<commit>-dirty-<content>` (the first 8 of the tree's hash), so an edited tree never takes
/// the committed tree's tag, nor two edits each other's.
fn tag_commit(git: Option<&project::GitDetails>, digest: Option<&str>) -> Option<String> {
    let git = git?;
    let commit = git.commit.clone()?;
    if git.dirty_files.is_empty() {
        return Some(commit);
    }
    Some(match digest {
        Some(digest) => format!("{commit}-dirty-{}", digest.get(..8).unwrap_or(digest)),
        None => format!("{commit}-dirty"),
    })
}

/// Says what a release of the project at `root` would do, and what stops it.
pub async fn plan(context: &Context, root: &Path, options: &ReleaseOptions) -> Result<Plan, AppError> {
    Ok(plan_and_scan(context, root, options).await?.0)
}

pub(super) async fn plan_and_scan(
    context: &Context,
    root: &Path,
    options: &ReleaseOptions,
) -> Result<(Plan, Scanned), AppError> {
    // What does not depend on the project's settings is asked while its tree is read: a big
    // tree's walk then costs no more than these, and the plan does not grow with the tree.
    // The Pythons installed here go on in the background even if the plan ends early.
    let interpreters = tokio::task::spawn_blocking(crate::checks::installed_pythons);
    let (scanned, (git, tree), standing) = tokio::join!(
        scan(&context.data_dir, root),
        async { project::git_details_and_digest(root).await.unzip() },
        project::standing(root, REMOTE_WAIT),
    );
    let mut scanned = scanned?;
    scanned.environment = choose_environment(&scanned.settings, options)?;
    scanned.settings = scanned.settings.for_environment(&scanned.environment);
    let settings = &scanned.settings;
    let environment = scanned.environment.clone();
    let target = environment.target;
    let tree = tree.flatten();
    let commit = git.as_ref().and_then(|git| git.commit.clone());
    let tags = settings.tags(tag_commit(git.as_ref(), tree.as_deref()).as_deref());
    let tag = tags[0].clone();
    let mut blockers = Vec::new();
    let repository = settings.repository(root);

    let Destination {
        registry,
        service,
        image,
    } = destination(context, root, &repository, &tag, &environment, &mut blockers);
    // Every token lives in the keyring: a target that needs one is blocked now, not half-way.
    let needs_keyring = target == Target::Render
        || registry
            .as_deref()
            .is_some_and(|host| account(&context.secrets, Service::Registry, host).is_some());
    if needs_keyring {
        if let Err(error) = crate::secrets::keyring_answers(std::time::Duration::from_secs(10)).await {
            blockers.push(error);
        }
    }
    if let Some(dockerfile) = settings.dockerfile.as_deref().filter(|path| !root.join(path).is_file()) {
        blockers.push(
            AppError::new(
                ErrorKind::Precondition,
                format!("The Dockerfile the project's settings name ({dockerfile}) is not in the project any more."),
                "Pick the Dockerfile to build in the project's settings, or put it back.",
            )
            .with_action(ErrorAction::OpenProjectSettings),
        );
    }
    if settings.dockerfile.is_none() {
        blockers.push(
            AppError::new(
                ErrorKind::Precondition,
                "The project has no Dockerfile.",
                "Add a Dockerfile to the project (or pick one in the project's settings): the release ships an image.",
            )
            .with_action(ErrorAction::OpenProjectSettings),
        );
    }

    // Read once: the project's Docker context and Docker's settings decide the engine, its
    // plan line and its blockers.
    let endpoint = docker::EngineEndpoint::for_project(settings.docker_context.as_deref());
    // The engine and Python here, CircleCI there: asked at once, each bounded.
    let engine_and_python = async {
        let mut found = Vec::new();
        match &endpoint {
            Ok(endpoint) => match docker::engine_version_at(endpoint).await {
                Ok(_) => found.extend(unavailable_service_images(&scanned.services).await),
                Err(error) => found.push(AppError::from(error)),
            },
            Err(why) if settings.docker_context.is_some() => found.push(unusable_context(why)),
            // Docker's own settings name a context that is not there: said as doctor says it.
            Err(_) => found.extend(docker::engine_version().await.err().map(AppError::from)),
        }
        let python = match python_line(&scanned, interpreters).await {
            Ok(line) => line,
            Err(error) => {
                found.push(error);
                None
            }
        };
        (found, python)
    };
    let ci_panel = super::ci_step::plan_panel(context, root, settings, standing.as_ref());
    let ((found, python), circleci) = tokio::join!(engine_and_python, ci_panel);
    blockers.extend(found);

    let dirty = git.as_ref().is_some_and(|git| !git.dirty_files.is_empty());
    let push_first = options.push_first.unwrap_or_else(|| settings.push_first_enabled());
    let remote = super::remote_step::plan_remote(standing.as_ref(), push_first, dirty);
    blockers.extend(remote.blockers);
    let mut steps: Vec<PlannedStep> = remote.step.into_iter().collect();
    steps.extend(planned_steps(
        root,
        &scanned,
        target,
        &image,
        registry.as_deref(),
        &mut blockers,
    ));
    let wait_for_ci = options.wait_for_ci.unwrap_or(settings.wait_for_ci);
    if let Some(wait) = super::ci_step::planned_wait(
        context,
        settings,
        standing.as_ref(),
        wait_for_ci,
        push_first,
        &mut blockers,
    )
    .await
    {
        let at = steps
            .iter()
            .position(|planned| planned.step == Step::Deploy)
            .unwrap_or(steps.len());
        steps.insert(at, wait);
    }
    steps.push(sentry_step(&context.secrets, root, settings, target, commit.as_deref()));
    if !options.no_cache {
        let keys = super::cache::planned_keys(context, root, tree.clone(), settings).await;
        for planned in steps.iter_mut() {
            planned.cached = keys.hit(planned.step).cloned();
        }
    }
    let team = super::team_step::plan_team(
        context,
        &super::team_step::identity(target, service.as_deref(), root, super::machine_name().as_deref()),
        options.without_team_history,
        &mut blockers,
    )
    .await;
    let mut warnings = remote.warnings;
    warnings.extend(docker_host_passed_over(
        settings.docker_context.as_deref(),
        endpoint.as_ref().ok(),
    ));
    let mut plan = Plan {
        project_path: root.display().to_string(),
        project_name: root
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default(),
        target,
        environment: environment.name.clone(),
        destination: environment.describe(),
        steps,
        image,
        registry,
        service,
        commit,
        branch: git.as_ref().and_then(|git| git.branch.clone()),
        dirty_files: git.map(|git| git.dirty_files).unwrap_or_default(),
        blockers,
        other_tags: tags[1..].to_vec(),
        gates: settings.enabled_gates().cloned().collect(),
        ci_skipped: scanned.detection_ci.2.clone(),
        needs: scanned.needs.clone(),
        python,
        remote_words: standing
            .as_ref()
            .filter(|standing| standing.state != project::SyncState::NoRemote)
            .map(project::RemoteStanding::words),
        remote: standing,
        engine: endpoint
            .as_ref()
            .ok()
            .filter(|endpoint| {
                endpoint.context.is_some() || std::env::var_os("DOCKER_HOST").is_some_and(|host| !host.is_empty())
            })
            // The window gets it: a password in `DOCKER_HOST` never does.
            .map(|endpoint| crate::secrets::redact(&endpoint.describe()).into_owned()),
        warnings,
        circleci,
        team,
        fingerprint: String::new(),
    };
    // Every name the build will give the image, checked before any call.
    for reference in plan.references() {
        if let Err(why) = docker::parse_reference(&reference) {
            plan.blockers.push(AppError::new(
                ErrorKind::Validation,
                format!("\"{reference}\" is not a valid image name: {why}."),
                "Correct the image repository or the image tags in the project's settings.",
            ));
        }
    }
    plan.fingerprint = plan.compute_fingerprint();
    Ok((plan, scanned))
}

/// The project names a Docker context that is not there (or cannot be read): nothing can be
/// built until it is.
fn unusable_context(why: &str) -> AppError {
    AppError::new(
        ErrorKind::Precondition,
        format!("The project builds on {why}."),
        "Pick one of this computer's Docker contexts in the project's settings (or none, for Docker's own choice), or create it with `docker context create`.",
    )
    .with_action(ErrorAction::OpenProjectSettings)
}

/// The project's context wins over `DOCKER_HOST` as `docker --context` does: said, since a
/// person who set `DOCKER_HOST` expects it to be used.
fn docker_host_passed_over(context: Option<&str>, endpoint: Option<&docker::EngineEndpoint>) -> Option<String> {
    let name = endpoint?.context.as_deref()?;
    context?;
    let host = std::env::var("DOCKER_HOST")
        .ok()
        .filter(|host| !host.trim().is_empty())?;
    Some(crate::secrets::redact(&format!(
        "DOCKER_HOST is set ({host}), but the project's Docker context {name} is used, as docker --context {name} would."
    )).into_owned())
}

/// The service images the tests need that are not on this machine and that their registry
/// does not offer (asked without fetching: the plan downloads nothing).
async fn unavailable_service_images(services: &[project::ServiceSpec]) -> Vec<AppError> {
    let Ok(engine) = docker::connect() else {
        return Vec::new();
    };
    let mut blockers = Vec::new();
    for service in services {
        if docker::has_image(&engine, &service.image).await.unwrap_or(true) {
            continue;
        }
        let Err(why) = docker::image_offered(&engine, &service.image, std::time::Duration::from_secs(10)).await else {
            continue;
        };
        blockers.push(
            AppError::new(
                ErrorKind::Precondition,
                format!(
                    "The tests need the service {}, and its image {} is not on this machine and cannot be fetched.",
                    service.name, service.image
                ),
                format!(
                    "Fetch it when online (`docker pull {}`) or load it into Docker, then release again.",
                    service.image
                ),
            )
            .with_detail(why),
        );
    }
    blockers
}

/// The steps the release takes, each with what it runs, where that came from in the CI,
/// and why it is skipped.
fn planned_steps(
    root: &Path,
    scanned: &Scanned,
    target: Target,
    image: &str,
    registry: Option<&str>,
    blockers: &mut Vec<AppError>,
) -> Vec<PlannedStep> {
    let settings = &scanned.settings;
    let port = container_port(root, settings);
    let health = settings.health_path();
    let (test_origin, lint_origin, _) = &scanned.detection_ci;
    let mut steps = Vec::new();
    let mut tests = PlannedStep::new(Step::Tests, settings.test_command.clone());
    if let Some(found) = test_origin.clone() {
        tests.ci_line = Some(found.line);
        tests.notes = found.notes;
    }
    tests
        .notes
        .push(crate::checks::sandbox_note(settings.sandbox_enabled()));
    for service in &scanned.services {
        tests.notes.push(format!(
            "Starts {} for the tests on this computer, as your CI does in {}, and removes it after the checks.",
            service.words(),
            service.source
        ));
    }
    steps.push(tests);
    let mut lint = PlannedStep::new(Step::Lint, settings.lint_command.clone());
    if settings.lint_enabled {
        if let Some(found) = lint_origin.clone() {
            if let Some(how) = &found.lets_fail {
                lint.notes.push(format!(
                    "Your CI lets lint fail (`{how}`); here it is a gate: turn it off in the project's settings."
                ));
            }
            lint.ci_line = Some(found.line);
            lint.notes.extend(found.notes);
        }
    } else {
        lint.skip = Some(
            scanned
                .lint_off_as_ci
                .clone()
                .unwrap_or_else(|| "Lint is turned off in the project's settings.".to_owned()),
        );
    }
    steps.push(lint);
    for (step, note) in &scanned.silent_ci {
        if let Some(planned) = steps.iter_mut().find(|planned| planned.step == *step) {
            planned.notes.push(note.clone());
        }
    }
    let gates: Vec<crate::project::Gate> = settings.enabled_gates().cloned().collect();
    if !gates.is_empty() {
        let names: Vec<String> = gates.iter().map(|gate| gate.command.clone()).collect();
        steps.push(PlannedStep::new(Step::Checks, names.join(" · ")));
    }
    if let Some(dockerfile) = &settings.dockerfile {
        let context = settings.build_context.clone().unwrap_or_else(|| ".".to_owned());
        let mut build = PlannedStep::new(Step::Build, format!("{dockerfile} (context {context}) → {image}"));
        if let Some(why) = &scanned.dockerfile_source {
            build.notes.push(format!("Why this Dockerfile: {why}."));
        }
        if let Some(words) = build_args_words(settings, &scanned.build_args) {
            build.notes.push(words);
        }
        if let Some(sentence) = project::missing_build_args_sentence(
            &settings.missing_build_args(),
            &scanned.build_args,
            &root.display().to_string(),
        ) {
            blockers.push(
                AppError::new(
                    ErrorKind::Precondition,
                    sentence,
                    "A secret value stays in the keyring and is passed to the build only, never written to a file.",
                )
                .with_action(ErrorAction::OpenProjectSettings),
            );
        }
        if let Err(why) = settings.build_paths(root) {
            blockers.push(AppError::new(
                ErrorKind::Validation,
                why,
                "Choose a build context that holds the Dockerfile in the project's settings.",
            ));
        }
        steps.push(build);
    }
    if target == Target::Render && scanned.environment.rehearses() && settings.dockerfile.is_some() {
        let limit = settings
            .health_timeout_secs
            .unwrap_or(super::verify::DEFAULT_HEALTH_TIMEOUT_SECS);
        steps.push(PlannedStep::new(
            Step::Rehearsal,
            format!(
                "run the image on this computer as {} will (port {port}, PORT set): {} must answer within {limit} s before anything is pushed",
                scanned.environment.name,
                settings.health_path()
            ),
        ));
    }
    let mut push = PlannedStep::new(
        Step::Push,
        match (&registry, target) {
            (Some(registry), Target::Local) => format!("to the local registry {registry}"),
            (Some(registry), Target::Render) => format!("to {}", Registry::named(registry)),
            (None, _) => String::new(),
        },
    );
    push.skip = registry.is_none().then(|| {
        "No push: no local registry is set (Settings → This computer), so the container runs the image as built here.".to_owned()
    });
    steps.push(push);
    let mut deploy = PlannedStep::new(
        Step::Deploy,
        match target {
            Target::Local => format!("run as a container here, port {port} on 127.0.0.1"),
            Target::Render => render_deploy_words(&scanned.environment),
        },
    );
    if let Some(blueprint) = scanned.blueprint.as_ref().filter(|blueprint| blueprint.is_native()) {
        deploy.notes.push(format!(
            "render.yaml describes {} as a {} service: Render builds it from source, and an image cannot be deployed to it. Slipway deploys images: use an image-backed web service on Render, or the Local target.",
            blueprint.service_name.as_deref().unwrap_or("the web service"),
            blueprint.runtime.as_deref().unwrap_or("native")
        ));
    }
    steps.push(deploy);
    let mut verify = PlannedStep::new(Step::Verify, format!("wait for {health} to answer"));
    if settings.health_path.is_some()
        && scanned
            .blueprint
            .as_ref()
            .and_then(|blueprint| blueprint.health_check_path.as_ref())
            == settings.health_path.as_ref()
    {
        verify
            .notes
            .push("The health check path render.yaml gives Render.".to_owned());
    }
    steps.push(verify);
    steps
}

/// "Build arguments from docker-compose.yml (service web): APP_VERSION=1.4, SENTRY_AUTH_TOKEN
/// from the keyring." Values the person gave are named, never shown; where each was found is
/// said once when they all come from one place.
fn build_args_words(settings: &ProjectSettings, found: &[project::BuildArg]) -> Option<String> {
    let mut sources: Vec<&str> = found.iter().map(|arg| arg.source.as_str()).collect();
    sources.dedup();
    let one_source = match sources.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    let from = |name: &str| match one_source {
        Some(_) => String::new(),
        None => found
            .iter()
            .find(|arg| arg.name == name)
            .map(|arg| format!(" ({})", arg.source))
            .unwrap_or_default(),
    };
    let mut words: Vec<String> = settings
        .build_args
        .iter()
        .flatten()
        .map(|(name, value)| format!("{name}={value}{}", from(name)))
        .collect();
    for name in settings.build_args_given.iter().flatten() {
        words.push(if settings.secret_env.contains(name) {
            format!("{name} from the keyring{}", from(name))
        } else if settings.env.contains_key(name) {
            format!("{name} from the project's values{}", from(name))
        } else {
            format!("{name} not given yet{}", from(name))
        });
    }
    let heading = one_source.map(|source| format!(" from {source}")).unwrap_or_default();
    (!words.is_empty()).then(|| format!("Build arguments{heading}: {}.", words.join(", ")))
}

/// Where a Render deploy goes, by the service's name; a link saved before names were kept
/// says which environment's service it is, never Render's id.
fn render_deploy_words(environment: &Environment) -> String {
    match &environment.render_service {
        Some(link) if link.name.as_deref().is_some_and(|name| !name.trim().is_empty()) => {
            format!(
                "deploy to {} on Render, for {}",
                environment.service_words(),
                environment.name
            )
        }
        Some(_) => format!("deploy to {}", environment.service_words()),
        None => format!("{}: no Render service picked", environment.name),
    }
}

/// The Sentry step: the release and its deploy recorded in the project's own Sentry
/// project, or skipped with why (a project with no link records nothing in Sentry).
fn sentry_step(
    secrets: &SecretStore,
    root: &Path,
    settings: &ProjectSettings,
    target: Target,
    commit: Option<&str>,
) -> PlannedStep {
    let environment = super::sentry_step::environment(settings, target);
    let version = sentry_release_words(settings.sentry_release.as_deref(), commit);
    let name = root
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "The project".to_owned());
    let Some(link) = &settings.sentry_project else {
        let mut step = PlannedStep::new(Step::Sentry, "record the release in Sentry");
        step.skip = Some(format!(
            "{name} is not linked to a Sentry project: nothing is recorded in Sentry (Project settings → Errors)."
        ));
        return step;
    };
    let mut step = PlannedStep::new(
        Step::Sentry,
        format!(
            "record {version} and its deploy to {environment} in Sentry project {}",
            link.label()
        ),
    );
    if account(secrets, Service::Sentry, &link.account).is_none() {
        step.skip = Some(format!(
            "The Sentry account {} that {name} is linked through is not connected any more (Settings → Accounts).",
            link.account
        ));
    } else {
        step.notes.push(
            "If Sentry is down or refuses, the release still counts as live; the history keeps a warning.".to_owned(),
        );
    }
    step
}

/// The release as Sentry will name it, said short: the commit's 7 characters, not its 40.
fn sentry_release_words(template: Option<&str>, commit: Option<&str>) -> String {
    let short = commit.map(|commit| commit.chars().take(7).collect::<String>());
    match (template.filter(|value| !value.trim().is_empty()), short) {
        (Some(template), Some(short)) if template.contains("{commit}") => {
            format!("release {}", template.replace("{commit}", &short))
        }
        (Some(template), None) if template.contains("{commit}") => "the release named after the commit".to_owned(),
        (Some(fixed), _) => format!("release {fixed}"),
        (None, Some(short)) => format!("release {short}"),
        (None, None) => "the release named after the commit".to_owned(),
    }
}

/// Where the image goes: the registry it is pushed to (none: it runs without a push), the
/// container or Render service, and the image's full name; with what stops that target.
struct Destination {
    registry: Option<String>,
    service: Option<String>,
    image: String,
}

fn destination(
    context: &Context,
    root: &Path,
    repository: &str,
    tag: &str,
    environment: &Environment,
    blockers: &mut Vec<AppError>,
) -> Destination {
    let repository = repository.to_owned();
    let (registry, service, image) = match environment.target {
        Target::Local => {
            let registry = context.settings.local_registry();
            // A repository naming another registry is for the real target: locally only its
            // path counts.
            let path = docker::split_registry(&repository).1;
            let name = match &registry {
                Some(registry) => format!("{registry}/{path}"),
                None => path.to_owned(),
            };
            let container = project::container_name(root);
            (registry, Some(container), format!("{name}:{tag}"))
        }
        Target::Render => {
            // Docker Hub unless the repository names another registry (GHCR, a company's).
            let (named_registry, path) = docker::split_registry(&repository);
            let registry = named_registry.map_or_else(Registry::docker_hub, Registry::named);
            let login = account(&context.secrets, Service::Registry, registry.host());
            if login.is_none() {
                blockers.push(
                    AppError::new(
                        ErrorKind::Precondition,
                        format!("No account is connected for the registry {registry}."),
                        "Connect it in Settings (Docker Hub: username and an access token with Read & Write).",
                    )
                    .with_action(ErrorAction::OpenAccounts),
                );
            }
            let image = match login.and_then(|login| login.username) {
                // A bare name goes into the account's namespace, as `docker push` would need.
                Some(user) if !path.contains('/') => {
                    format!("{}{user}/{path}:{tag}", registry.name_prefix())
                }
                _ => format!("{repository}:{tag}"),
            };
            let service = environment.render_service.as_ref();
            match service {
                None => blockers.push(
                    AppError::new(
                        ErrorKind::Precondition,
                        match crate::links::upgrade_question(&context.data_dir, root) {
                            Some(question) => format!(
                                "The environment {} has no Render service picked. {question}",
                                environment.name
                            ),
                            None => format!("The environment {} has no Render service picked.", environment.name),
                        },
                        format!("Pick the Render service {} deploys to.", environment.name),
                    )
                    .with_action(ErrorAction::PickRenderService)
                    .in_terminal(format!(
                        "slipway target set {} --render-service srv-… --project {}",
                        environment.name,
                        root.display()
                    )),
                ),
                Some(link) if render_access(&context.secrets, &link.id).is_none() => blockers.push(
                    AppError::new(
                        ErrorKind::Precondition,
                        "Render is not connected: Slipway has no API key (or deploy hook) to deploy with.",
                        "Connect Render with an API key in Settings → Accounts.",
                    )
                    .with_action(ErrorAction::OpenAccounts),
                ),
                Some(link) => {
                    if let Some(configured) = link.image.as_deref() {
                        if !same_repository(configured, &image) {
                            let service_name = link
                                .name
                                .clone()
                                .unwrap_or_else(|| format!("The Render service of {}", environment.name));
                            blockers.push(
                                AppError::new(
                                    ErrorKind::Validation,
                                    format!(
                                        "{service_name} runs {}, but {} pushes {image}: Render only accepts a new tag or digest of the image it is configured with.",
                                        project::strip_tag(configured),
                                        environment.name
                                    ),
                                    format!(
                                        "Use {service_name}'s image ({}) for {}, or pick another service.",
                                        project::strip_tag(configured),
                                        environment.name
                                    ),
                                )
                                .with_action(ErrorAction::UseServiceImage)
                                .in_terminal(format!(
                                    "slipway target set {} --image-repository {} --project {}",
                                    environment.name,
                                    project::strip_tag(configured),
                                    root.display()
                                )),
                            );
                        }
                    }
                }
            }
            (
                Some(registry.host().to_owned()),
                service.map(|link| link.id.clone()),
                image,
            )
        }
    };
    Destination {
        registry,
        service,
        image,
    }
}

/// The interpreter the checks' environment is made with, said as the plan shows it; `Err`
/// when the project asks for a Python that is not installed.
async fn python_line(
    scanned: &Scanned,
    interpreters: tokio::task::JoinHandle<Vec<crate::checks::Interpreter>>,
) -> Result<Option<String>, AppError> {
    if scanned.settings.venv.is_some() {
        return Ok(None);
    }
    let found = interpreters
        .await
        .map_err(|error| AppError::new(ErrorKind::Unknown, error.to_string(), "Try again."))?;
    let python = &scanned.python;
    let chosen = crate::checks::choose_python(python, &found).map_err(|why| {
        AppError::new(
            ErrorKind::Precondition,
            why,
            "Install that Python version (pyenv, uv or your system's packages), then plan again.",
        )
    })?;
    let why = match (&python.requires_python, &python.ci_python) {
        (Some(requires), _) => format!(", as {} asks ({})", requires.source, requires.value),
        (None, Some(ci)) if crate::checks::python_satisfies(chosen.version, &ci.value) => {
            format!(", as {} uses ({})", ci.source, ci.value)
        }
        (None, Some(ci))
            if crate::checks::python_satisfies(chosen.version, &crate::checks::python_release_series(&ci.value)) =>
        {
            format!(
                ": {} uses {}, which is not installed here; this is the nearest",
                ci.source, ci.value
            )
        }
        (None, Some(ci)) => format!(": {} uses {}, which is not installed here", ci.source, ci.value),
        (None, None) => String::new(),
    };
    Ok(Some(format!("Python {}{why}", chosen.version_text())))
}

/// Whether two image names are the same repository, ignoring tags, digests and Docker
/// Hub's implied `docker.io/` and `library/`.
fn same_repository(one: &str, other: &str) -> bool {
    let normal = |name: &str| -> Option<String> {
        let without_digest = name.split('@').next().unwrap_or(name);
        let reference: ImageReference = docker::parse_reference(without_digest).ok()?;
        let registry = Registry::of(&reference);
        let repository = reference
            .repository
            .strip_prefix("library/")
            .unwrap_or(&reference.repository)
            .to_owned();
        Some(registry.qualify(&repository))
    };
    matches!((normal(one), normal(other)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_compare_without_tags_and_hub_prefixes() {
        assert!(same_repository("docker.io/ann/lettings:latest", "ann/lettings"));
        assert!(same_repository(
            "ann/lettings@sha256:abc",
            "index.docker.io/ann/lettings:3f2a"
        ));
        assert!(same_repository("docker.io/library/nginx", "nginx:1"));
        assert!(!same_repository("docker.io/ann/lettings", "ann/lettings-web"));
        assert!(!same_repository("ghcr.io/ann/lettings", "ann/lettings"));
    }

    #[test]
    fn a_render_deploy_names_the_service_never_its_id() {
        let link = |name: Option<&str>| crate::project::RenderLink {
            id: "srv-acc0000".to_owned(),
            name: name.map(str::to_owned),
            image: None,
        };
        let named = Environment::render("production", link(Some("lettings-web")));
        assert_eq!(
            render_deploy_words(&named),
            "deploy to lettings-web on Render, for production"
        );
        let unnamed = Environment::render("production", link(None));
        assert_eq!(
            render_deploy_words(&unnamed),
            "deploy to the Render service picked for production"
        );
        assert!(!render_deploy_words(&unnamed).contains("srv-"));
    }

    #[test]
    fn the_sentry_release_is_said_with_a_short_commit() {
        let full = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(sentry_release_words(None, Some(full)), "release 0123456");
        assert_eq!(sentry_release_words(None, Some("0123456")), "release 0123456");
        assert_eq!(
            sentry_release_words(Some("shop@{commit}"), Some(full)),
            "release shop@0123456"
        );
        assert_eq!(sentry_release_words(Some("2.4.0"), Some(full)), "release 2.4.0");
        assert_eq!(sentry_release_words(None, None), "the release named after the commit");
    }

    #[test]
    fn the_port_comes_from_the_setting_then_expose() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\nexpose 5000/tcp\n")?;
        let mut settings = ProjectSettings {
            dockerfile: Some("Dockerfile".into()),
            ..ProjectSettings::with_commands("pytest", crate::project::LintTool::Flake8, "flake8")
        };
        assert_eq!(container_port(dir.path(), &settings), 5000);
        settings.container_port = Some(9000);
        assert_eq!(container_port(dir.path(), &settings), 9000);
        settings.container_port = None;
        settings.dockerfile = None;
        assert_eq!(container_port(dir.path(), &settings), 8000);
        Ok(())
    }
}
