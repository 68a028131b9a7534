//! The Docker room against the real engine and a real registry that asks for a password.

#[path = "../support/standin/mod.rs"]
mod standin;
#[path = "../support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};

use slipway::docker::{self, BuildRequest, DockerError, DockerEvent, ImageReference, RegistryCredentials};
use slipway::error::{AppError, ErrorKind};
use support::{test_registry, TestResult};
use tokio_util::sync::CancellationToken;

const BUSYBOX: &str = "/bin/busybox";

/// One engine test at a time: the memory test measures this whole process.
static ENGINE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A name no other run uses; the images made under it are removed when the test that asked
/// for it ends, passed or failed (its thread's [`Leftovers`]).
fn unique(name: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let name = format!("{name}-{}-{n}", std::process::id());
    LEFTOVERS.with(|leftovers| leftovers.0.borrow_mut().push(name.clone()));
    name
}

/// The image names one test made. Each test runs on its own thread, and a thread's locals are
/// dropped when it ends, after a panic too: so every image a test built, tagged or pulled back
/// under its names is removed with no line in the test.
struct Leftovers(std::cell::RefCell<Vec<String>>);

thread_local! {
    static LEFTOVERS: Leftovers = const { Leftovers(std::cell::RefCell::new(Vec::new())) };
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        let names = self.0.take();
        if names.is_empty() {
            return;
        }
        // Removing an image removes its untagged parents, the steps another test's build may be
        // reusing from the cache right now: wait until no test holds the engine. (A thread's locals
        // are dropped after its test returned and let go of it; `try_lock` never panics here.)
        let _engine = loop {
            match ENGINE.try_lock() {
                Ok(engine) => break engine,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        };
        let Ok(listed) = std::process::Command::new("docker")
            .args(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"])
            .output()
        else {
            return;
        };
        // Under any registry: `127.0.0.1:5000/slipway-test/web-1-2:1` is made under `slipway-test/web-1-2`.
        let made: Vec<String> = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .filter(|reference| {
                let repository = reference
                    .rsplit_once(':')
                    .map_or(*reference, |(repository, _)| repository);
                names
                    .iter()
                    .any(|name| repository == name || repository.ends_with(&format!("/{name}")))
            })
            .map(str::to_owned)
            .collect();
        if !made.is_empty() {
            let _ = std::process::Command::new("docker")
                .args(["image", "rm", "--force"])
                .args(&made)
                .output();
        }
    }
}

/// A context whose image needs no network: busybox in a `FROM scratch` image.
fn busybox_context(dockerfile: &str) -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    std::fs::copy(BUSYBOX, dir.path().join("busybox"))?;
    std::fs::write(dir.path().join("Dockerfile"), dockerfile)?;
    Ok(dir)
}

struct Recorder(Mutex<Vec<DockerEvent>>);

impl Recorder {
    fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(Vec::new())))
    }
    fn events(&self) -> Vec<DockerEvent> {
        self.0.lock().map(|events| events.clone()).unwrap_or_default()
    }
}

async fn build_in(context: &Path, tags: Vec<ImageReference>, recorder: &Arc<Recorder>) -> Result<String, DockerError> {
    let docker = docker::connect()?;
    let request = BuildRequest {
        context: context.to_path_buf(),
        dockerfile: "Dockerfile".into(),
        tags,
        build_args: Default::default(),
        target: None,
        buildkit: None,
    };
    let sink = recorder.clone();
    docker::build(&docker, &request, &CancellationToken::new(), &move |event| {
        if let Ok(mut events) = sink.0.lock() {
            events.push(event);
        }
    })
    .await
}

async fn push_as(
    reference: &ImageReference,
    user: &str,
    secret: &str,
    recorder: &Arc<Recorder>,
) -> Result<String, DockerError> {
    let credentials = RegistryCredentials {
        username: user.into(),
        secret: secret.into(),
        server: reference.registry.clone().unwrap_or_default(),
    };
    let sink = recorder.clone();
    docker::push(
        &docker::EngineEndpoint::from_env(),
        reference,
        &credentials,
        &CancellationToken::new(),
        &move |event| {
            if let Ok(mut events) = sink.0.lock() {
                events.push(event);
            }
        },
    )
    .await
}

#[tokio::test]
async fn builds_tags_and_pushes_with_per_layer_progress_and_the_registrys_digest() -> TestResult {
    let _engine = ENGINE.lock().await;
    let registry = test_registry();
    let context =
        busybox_context("FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"mkdir\", \"/app\"]\n")?;
    let name = unique("slipway-test/web");
    let sha = docker::parse_reference(&format!("{}/{name}:3f2a1bc", registry.address))?;
    let latest = docker::parse_reference(&format!("{}/{name}:latest", registry.address))?;
    let recorder = Recorder::new();
    let image_id = build_in(context.path(), vec![sha.clone(), latest.clone()], &recorder).await?;
    assert!(image_id.starts_with("sha256:"), "{image_id}");
    let events = recorder.events();
    assert!(events.iter().any(
        |e| matches!(e, DockerEvent::Step { number: 3, total: 3, instruction } if instruction.starts_with("RUN"))
    ));
    assert!(events
        .iter()
        .any(|e| matches!(e, DockerEvent::Context(summary) if summary.files == 2)));
    let tagged = docker::connect()?.inspect_image(&latest.full()).await?;
    assert_eq!(tagged.id.as_deref(), Some(image_id.as_str()));

    let pushing = Recorder::new();
    let digest = push_as(&sha, &registry.user, &registry.password, &pushing).await?;
    let events = pushing.events();
    let layers: std::collections::BTreeSet<String> = events
        .iter()
        .filter_map(|e| match e {
            DockerEvent::Layer { id, .. } => Some(id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(layers.len(), 2, "two layers (COPY and RUN): {events:?}");
    let last_percent = events.iter().rev().find_map(|e| match e {
        DockerEvent::PushProgress { percent, .. } => Some(*percent),
        _ => None,
    });
    assert_eq!(last_percent, Some(100.0));
    let registry_digest = slipway::registry::manifest_digest(&sha, &registry.user, &registry.password).await?;
    assert_eq!(digest, registry_digest);

    // The same layers pushed again are recognised as already there.
    let again = Recorder::new();
    push_as(&latest, &registry.user, &registry.password, &again).await?;
    assert!(again
        .events()
        .iter()
        .any(|e| matches!(e, DockerEvent::Layer { status, .. } if status == "Layer already exists")));
    Ok(())
}

#[tokio::test]
async fn wrong_credentials_are_a_login_error_and_never_leak() -> TestResult {
    let _engine = ENGINE.lock().await;
    let registry = test_registry();
    let context = busybox_context("FROM scratch\nCOPY busybox /bin/busybox\n")?;
    let reference = docker::parse_reference(&format!("{}/{}:1", registry.address, unique("slipway-test/denied")))?;
    build_in(context.path(), vec![reference.clone()], &Recorder::new()).await?;
    let secret = "wrong-Secret-7731";
    let error = push_as(&reference, &registry.user, secret, &Recorder::new())
        .await
        .err()
        .ok_or("the push must fail")?;
    assert!(matches!(error, DockerError::RegistryAuth { .. }), "{error:?}");
    let shown: AppError = error.into();
    assert_eq!(shown.kind, ErrorKind::RegistryAuth);
    assert!(shown.hint.contains("access token"));
    assert!(!format!("{shown:?}").contains(secret));
    Ok(())
}

#[tokio::test]
async fn a_registry_that_is_not_running_is_unreachable() -> TestResult {
    let _engine = ENGINE.lock().await;
    let context = busybox_context("FROM scratch\nCOPY busybox /bin/busybox\n")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let reference = docker::parse_reference(&format!("127.0.0.1:{port}/{}:1", unique("slipway-test/nowhere")))?;
    build_in(context.path(), vec![reference.clone()], &Recorder::new()).await?;
    let error = push_as(&reference, "user", "secret-xyz", &Recorder::new())
        .await
        .err()
        .ok_or("the push must fail")?;
    assert!(matches!(error, DockerError::RegistryUnreachable { .. }), "{error:?}");
    assert_eq!(AppError::from(error).kind, ErrorKind::Network);
    Ok(())
}

#[tokio::test]
async fn a_missing_engine_socket_says_to_start_the_engine() -> TestResult {
    let _engine = ENGINE.lock().await;
    let dir = tempfile::tempdir()?;
    let socket = format!("unix://{}", dir.path().join("docker.sock").display());
    let reference = docker::parse_reference("127.0.0.1:5999/slipway-test/x:1")?;
    let credentials = RegistryCredentials {
        username: "u".into(),
        secret: "s".into(),
        server: String::new(),
    };
    let endpoint = docker::EngineEndpoint {
        address: socket,
        tls_dir: None,
        context: None,
    };
    let error = docker::push(&endpoint, &reference, &credentials, &CancellationToken::new(), &|_| {})
        .await
        .err()
        .ok_or("must fail")?;
    let shown: AppError = error.into();
    assert_eq!(shown.kind, ErrorKind::DockerUnavailable);
    assert_eq!(shown.message, "Docker is not running.");
    assert!(shown.hint.starts_with("Start Docker"), "{}", shown.hint);
    assert!(
        !shown.hint.contains('`'),
        "no commands in the window's words: {}",
        shown.hint
    );
    let detail = shown.detail.clone().unwrap_or_default();
    assert!(detail.contains("does not exist"), "{detail}");
    assert!(
        shown.cli_hint().contains("sudo systemctl start docker"),
        "{}",
        shown.cli_hint()
    );
    Ok(())
}

#[tokio::test]
async fn a_failing_step_is_named_and_a_missing_base_image_is_named() -> TestResult {
    let _engine = ENGINE.lock().await;
    let context = busybox_context("FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"false\"]\n")?;
    let reference = docker::parse_reference(&format!("{}:1", unique("slipway-test/failing")))?;
    let error = build_in(context.path(), vec![reference], &Recorder::new())
        .await
        .err()
        .ok_or("must fail")?;
    match &error {
        DockerError::BuildFailed { step, .. } => assert!(step.starts_with("Step 3/3 : RUN"), "{step}"),
        other => return Err(format!("expected a failed step, got {other:?}").into()),
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let base = format!("127.0.0.1:{port}/nothing/base:1");
    let context = busybox_context(&format!("FROM {base}\nRUN true\n"))?;
    let reference = docker::parse_reference(&format!("{}:1", unique("slipway-test/nobase")))?;
    let error = build_in(context.path(), vec![reference], &Recorder::new())
        .await
        .err()
        .ok_or("must fail")?;
    match &error {
        DockerError::BaseImage { image, .. } => assert_eq!(image, &base),
        other => return Err(format!("expected the base image to be named, got {other:?}").into()),
    }

    // A line the engine cannot parse: the Dockerfile's line is named, never "start Docker".
    let context = busybox_context("FROM scratch\nRUNN true\n")?;
    let reference = docker::parse_reference(&format!("{}:1", unique("slipway-test/unparsable")))?;
    let error = build_in(context.path(), vec![reference], &Recorder::new())
        .await
        .err()
        .ok_or("must fail")?;
    let shown: AppError = error.into();
    assert_eq!(shown.kind, ErrorKind::Validation, "{shown:?}");
    assert!(
        shown.message.starts_with("The Dockerfile cannot be read"),
        "{}",
        shown.message
    );
    assert!(shown.message.contains("line 2"), "{}", shown.message);
    assert!(
        !shown.hint.contains("Docker Engine") && !shown.hint.starts_with("Start Docker"),
        "{}",
        shown.hint
    );
    Ok(())
}

/// What reaches the engine is what `.dockerignore` lets through: busybox lists the context.
/// A team builds the same Dockerfile with the docker CLI (or Compose) and with Slipway: the
/// engine's classic builder reuses the newest image made for a step, so once the CLI built, a
/// Slipway build whose context headers differ from the CLI's missed the cache from the first
/// `COPY` of a folder on and ran every later step again (a 3-second layer took 3 s on every
/// release of an unchanged tree). With the CLI's headers, every step comes from the cache.
#[tokio::test]
async fn a_build_after_the_docker_clis_reuses_every_step() -> TestResult {
    let _engine = ENGINE.lock().await;
    let context = busybox_context(
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY app /app\nRUN [\"/bin/busybox\", \"cp\", \"-r\", \"/app\", \"/built\"]\n",
    )?;
    for (file, text) in [
        ("app/main.py", "print(1)\n"),
        ("app/pkg/__init__.py", ""),
        ("app/pkg/run.sh", "#!/bin/sh\n"),
    ] {
        let path = context.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap_or(context.path()))?;
        std::fs::write(path, text)?;
    }
    let script = context.path().join("app/pkg/run.sh");
    let mut mode = std::fs::metadata(&script)?.permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut mode, 0o755);
    std::fs::set_permissions(&script, mode)?;
    // New content each run, so the first build is not itself from an earlier run's cache.
    std::fs::write(context.path().join("app/run-id.txt"), unique("run"))?;
    let name = unique("slipway-test/cli-cache");
    let recorder = Recorder::new();
    build_in(
        context.path(),
        vec![docker::parse_reference(&format!("{name}:slipway"))?],
        &recorder,
    )
    .await?;
    let cli = std::process::Command::new("docker")
        .args(["build", "-q", "--no-cache", "-t", &format!("{name}:cli"), "."])
        .env("DOCKER_BUILDKIT", "0")
        .current_dir(context.path())
        .output()?;
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    let cli_image = String::from_utf8_lossy(&cli.stdout).trim().to_owned();

    let recorder = Recorder::new();
    let again = build_in(
        context.path(),
        vec![docker::parse_reference(&format!("{name}:again"))?],
        &recorder,
    )
    .await?;
    let ran: Vec<String> = recorder
        .events()
        .iter()
        .filter_map(|event| match event {
            DockerEvent::Output { line } if line.contains("Running in") => Some(line.clone()),
            _ => None,
        })
        .collect();
    assert!(ran.is_empty(), "steps ran again: {ran:?}");
    assert_eq!(
        again.trim_start_matches("sha256:"),
        cli_image.trim_start_matches("sha256:"),
        "the image the CLI built last is the one reused"
    );
    Ok(())
}

#[tokio::test]
async fn dockerignore_decides_what_reaches_the_engine() -> TestResult {
    let _engine = ENGINE.lock().await;
    let context = busybox_context("FROM scratch\nCOPY busybox /bin/busybox\nCOPY . /ctx/\nRUN [\"/bin/busybox\", \"find\", \"/ctx\", \"-type\", \"f\"]\n")?;
    for file in [
        "app.py",
        "db.sqlite3",
        "static/site.css",
        "static/keep.txt",
        "shop/__pycache__/x.pyc",
        "shop/views.py",
        ".coverage",
    ] {
        let path = context.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap_or(context.path()))?;
        std::fs::write(path, "x")?;
    }
    // New content each run, so the engine's build cache cannot skip the listing step.
    std::fs::write(context.path().join("run-id.txt"), unique("run"))?;
    std::fs::write(
        context.path().join(".dockerignore"),
        "*.sqlite3\nstatic\n!static/keep.txt\n**/__pycache__\n.coverage\nDockerfile\n",
    )?;
    let recorder = Recorder::new();
    build_in(
        context.path(),
        vec![docker::parse_reference(&format!(
            "{}:1",
            unique("slipway-test/ignore")
        ))?],
        &recorder,
    )
    .await?;
    let mut listed: Vec<String> = recorder
        .events()
        .iter()
        .filter_map(|e| match e {
            DockerEvent::Output { line } if line.starts_with("/ctx/") => {
                Some(line.trim_start_matches("/ctx/").to_owned())
            }
            _ => None,
        })
        .collect();
    listed.sort();
    // The Dockerfile is sent so the engine can read it; the engine then drops it from the
    // context because .dockerignore names it, as Docker itself does.
    assert_eq!(
        listed,
        [
            ".dockerignore",
            "app.py",
            "busybox",
            "run-id.txt",
            "shop/views.py",
            "static/keep.txt"
        ]
    );
    Ok(())
}

fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Peak growth of this process's resident memory while a context of `mib` MiB is built.
async fn growth_while_building(mib: u64) -> Result<u64, Box<dyn std::error::Error>> {
    let context = busybox_context("FROM scratch\nCOPY busybox /bin/busybox\nCOPY big.bin /big.bin\n")?;
    let file = std::fs::File::create(context.path().join("big.bin"))?;
    file.set_len(mib * 1024 * 1024)?;
    std::fs::write(context.path().join("run-id.txt"), unique("run"))?;
    let before = resident_kib();
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(before));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let (peak_writer, running) = (peak.clone(), sampling.clone());
    let sampler = std::thread::spawn(move || {
        while running.load(std::sync::atomic::Ordering::SeqCst) {
            peak_writer.fetch_max(resident_kib(), std::sync::atomic::Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    });
    let recorder = Recorder::new();
    let built = build_in(
        context.path(),
        vec![docker::parse_reference(&format!("{}:1", unique("slipway-test/big")))?],
        &recorder,
    )
    .await;
    sampling.store(false, std::sync::atomic::Ordering::SeqCst);
    let _ = sampler.join();
    built?;
    let sent = recorder.events().iter().find_map(|e| match e {
        DockerEvent::Context(summary) => Some(summary.bytes),
        _ => None,
    });
    assert!(sent.is_some_and(|bytes| bytes > mib * 1024 * 1024));
    // Above 100 MiB the size comes with advice, naming the biggest file.
    let warning = recorder.events().iter().find_map(|e| match e {
        DockerEvent::Context(summary) => summary.warning.clone(),
        _ => None,
    });
    assert_eq!(warning.is_some(), mib > 100, "{warning:?}");
    assert!(warning.is_none_or(|text| text.contains("big.bin") && text.contains(".dockerignore")));
    Ok(peak.load(std::sync::atomic::Ordering::SeqCst).saturating_sub(before) / 1024)
}

/// Holding the context would make the growth follow its size; streaming keeps it flat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_context_streams_without_holding_it_in_memory() -> TestResult {
    let _engine = ENGINE.lock().await;
    let small = growth_while_building(50).await?;
    let large = growth_while_building(150).await?;
    println!("memory growth while streaming: 50 MiB context {small} MiB, 150 MiB context {large} MiB");
    assert!(small < 50, "a 50 MiB context grew the process by {small} MiB");
    assert!(
        large < small + 25,
        "100 MiB more context grew the process by {} MiB more",
        large.saturating_sub(small)
    );
    Ok(())
}

/// `RUN --mount` needs BuildKit: chosen by itself for such a Dockerfile; the classic builder
/// refuses it, and a failing BuildKit step is named.
#[tokio::test]
async fn a_buildkit_only_dockerfile_builds_with_buildkit() -> TestResult {
    let _engine = ENGINE.lock().await;
    let dockerfile = "FROM scratch\nCOPY busybox /bin/busybox\nRUN --mount=type=cache,target=/cache [\"/bin/busybox\", \"touch\", \"/cache/x\"]\n";
    assert!(docker::needs_buildkit(dockerfile));
    let context = busybox_context(dockerfile)?;
    std::fs::write(context.path().join("run-id.txt"), unique("run"))?;
    let reference = docker::parse_reference(&format!("{}:1", unique("slipway-test/buildkit")))?;
    let recorder = Recorder::new();
    let image_id = build_in(context.path(), vec![reference.clone()], &recorder).await?;
    assert!(image_id.starts_with("sha256:"), "{image_id}");
    assert!(recorder
        .events()
        .iter()
        .any(|e| matches!(e, DockerEvent::Step { instruction, .. } if instruction.starts_with("RUN --mount"))));
    let tagged = docker::connect()?.inspect_image(&reference.full()).await?;
    assert_eq!(tagged.id.as_deref(), Some(image_id.as_str()));

    let engine = docker::connect()?;
    let classic = BuildRequest {
        context: context.path().to_path_buf(),
        dockerfile: "Dockerfile".into(),
        tags: vec![reference.clone()],
        build_args: Default::default(),
        target: None,
        buildkit: Some(false),
    };
    let error = docker::build(&engine, &classic, &CancellationToken::new(), &|_| {})
        .await
        .err()
        .ok_or("classic must refuse")?;
    assert!(error.to_string().contains("requires BuildKit"), "{error}");

    let failing = busybox_context(
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN --mount=type=cache,target=/cache [\"/bin/busybox\", \"false\"]\n",
    )?;
    std::fs::write(failing.path().join("run-id.txt"), unique("run"))?;
    let error = build_in(failing.path(), vec![reference], &Recorder::new())
        .await
        .err()
        .ok_or("must fail")?;
    match &error {
        DockerError::BuildFailed { step, .. } => assert!(step.contains("RUN --mount"), "{step}"),
        other => return Err(format!("expected the failing step, got {other:?}").into()),
    }
    Ok(())
}

/// A stand-in for Docker Hub's web API: two pages of tags, the first pointing at the second
/// through `next`, as the Hub answers.
async fn hub_stand_in() -> std::io::Result<standin::StandIn> {
    let base = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let base_for_pages = base.clone();
    let hub = standin::StandIn::start(move |request| {
        if request.path() != "/v2/namespaces/ann/repositories/lettings/tags" {
            return standin::Response::json(404, serde_json::json!({"message": "object not found"}));
        }
        if request.query("page").as_deref() == Some("2") {
            return standin::Response::json(200, serde_json::json!({"count": 3, "next": null, "previous": "x", "results": [{"name": "1a2b3c4"}]}));
        }
        let next = format!("{}/v2/namespaces/ann/repositories/lettings/tags?page_size=100&page=2", base_for_pages.lock().map(|b| b.clone()).unwrap_or_default());
        standin::Response::json(200, serde_json::json!({"count": 3, "next": next, "previous": null, "results": [{"name": "latest"}, {"name": "3f2a1bc"}]}))
    })
    .await?;
    if let Ok(mut value) = base.lock() {
        *value = hub.base.clone();
    }
    Ok(hub)
}

#[tokio::test]
async fn docker_hub_tags_are_read_across_pages() -> TestResult {
    let server = hub_stand_in().await?;
    let hub = server.base.clone();
    let reference = docker::parse_reference("ann/lettings:latest")?;
    let tags = slipway::registry::list_tags(&reference, "ann", "token", &hub).await?;
    assert_eq!(tags, ["1a2b3c4", "3f2a1bc", "latest"]);
    let missing = docker::parse_reference("ann/nothing:latest")?;
    assert!(slipway::registry::list_tags(&missing, "ann", "token", &hub)
        .await?
        .is_empty());
    drop(server);
    Ok(())
}

#[tokio::test]
async fn the_registry_lists_pushed_tags() -> TestResult {
    let _engine = ENGINE.lock().await;
    let registry = test_registry();
    let context = busybox_context("FROM scratch\nCOPY busybox /bin/busybox\n")?;
    let name = unique("slipway-test/tags");
    let references: Vec<ImageReference> = ["b", "a"]
        .iter()
        .map(|tag| docker::parse_reference(&format!("{}/{name}:{tag}", registry.address)))
        .collect::<Result<_, _>>()?;
    build_in(context.path(), references.clone(), &Recorder::new()).await?;
    for reference in &references {
        push_as(reference, &registry.user, &registry.password, &Recorder::new()).await?;
    }
    let tags =
        slipway::registry::list_tags(&references[0], &registry.user, &registry.password, "http://unused").await?;
    assert_eq!(tags, ["a", "b"]);
    let wrong = slipway::registry::list_tags(&references[0], &registry.user, "wrong-pass", "http://unused").await;
    assert!(
        matches!(wrong, Err(slipway::registry::RegistryError::Auth(_))),
        "{wrong:?}"
    );
    Ok(())
}

#[tokio::test]
async fn an_image_a_container_uses_is_not_removed() -> TestResult {
    let _engine = ENGINE.lock().await;
    // An image of its own: another test's build may briefly hold a container of a shared one.
    let context = busybox_context("FROM scratch\nCOPY busybox /bin/busybox\nCOPY run-id.txt /run-id.txt\n")?;
    std::fs::write(context.path().join("run-id.txt"), unique("run"))?;
    let reference = docker::parse_reference(&format!("{}:1", unique("slipway-test/inuse")))?;
    build_in(context.path(), vec![reference.clone()], &Recorder::new()).await?;
    let engine = docker::connect()?;
    let config = bollard::models::ContainerCreateBody {
        image: Some(reference.full()),
        cmd: Some(vec!["/bin/busybox".into(), "true".into()]),
        ..Default::default()
    };
    let container = engine
        .create_container(None::<bollard::query_parameters::CreateContainerOptions>, config)
        .await?;
    let error = docker::remove(&engine, &reference.full())
        .await
        .err()
        .ok_or("the remove must be refused")?;
    assert!(matches!(error, DockerError::InUse(_)), "{error:?}");
    assert!(AppError::from(error).hint.contains("container"));
    engine
        .remove_container(&container.id, None::<bollard::query_parameters::RemoveContainerOptions>)
        .await?;
    docker::remove(&engine, &reference.full()).await?;
    let gone = docker::remove(&engine, &reference.full()).await.err();
    assert!(matches!(gone, Some(DockerError::NoSuchImage(_))), "{gone:?}");
    Ok(())
}

fn openssl(dir: &Path, args: &[&str]) -> Result<(), Box<dyn std::error::Error>> {
    let output = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr)).into())
    }
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate with a PKCS#1 key, laid
/// out as Docker's `DOCKER_CERT_PATH` (ca.pem, cert.pem, key.pem).
fn tls_files(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
            "-days",
            "1",
            "-subj",
            "/CN=slipway-test-ca",
        ],
    )?;
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server-key.pem",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    )?;
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "1",
            "-extfile",
            "server.ext",
        ],
    )?;
    openssl(dir, &["genrsa", "-traditional", "-out", "key.pem", "2048"])?;
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "key.pem",
            "-out",
            "client.csr",
            "-subj",
            "/CN=slipway-client",
        ],
    )?;
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n")?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "client.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-out",
            "cert.pem",
            "-days",
            "1",
            "-extfile",
            "client.ext",
        ],
    )?;
    Ok(())
}

/// A remote engine over TCP with TLS and client certificates: the real engine behind socat,
/// which checks the client certificate as `dockerd --tlsverify` does.
#[tokio::test]
async fn a_remote_engine_over_tls_builds_and_pushes() -> TestResult {
    let _engine = ENGINE.lock().await;
    let registry = test_registry();
    let certs = tempfile::tempdir()?;
    tls_files(certs.path())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let dir = certs.path().display().to_string();
    let mut socat = std::process::Command::new("socat")
        .arg(format!(
            "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={dir}/server.pem,key={dir}/server-key.pem,cafile={dir}/ca.pem,verify=1"
        ))
        .arg("UNIX-CONNECT:/var/run/docker.sock")
        .spawn()?;
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let address = format!("tcp://127.0.0.1:{port}");
    let result = async {
        // The engine check as a user runs it, with the docker CLI's variables.
        let doctor = std::process::Command::new(support::slipway_binary())
            .args(["doctor", "--json"])
            .env("SLIPWAY_DATA_DIR", certs.path())
            .env("DOCKER_HOST", &address)
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", certs.path())
            .output()?;
        let report: serde_json::Value = serde_json::from_slice(&doctor.stdout)?;
        let engine_check = report["checks"]
            .as_array()
            .and_then(|checks| checks.iter().find(|c| c["id"] == "dockerEngine"))
            .cloned();
        assert_eq!(
            engine_check.as_ref().map(|c| c["ok"].clone()),
            Some(true.into()),
            "{report}"
        );

        let context = busybox_context("FROM scratch\nCOPY busybox /bin/busybox\n")?;
        let reference = docker::parse_reference(&format!("{}/{}:tls", registry.address, unique("slipway-test/tls")))?;
        build_in(context.path(), vec![reference.clone()], &Recorder::new()).await?;
        let endpoint = docker::EngineEndpoint {
            address: address.clone(),
            tls_dir: Some(certs.path().to_path_buf()),
            context: None,
        };
        let credentials = RegistryCredentials {
            username: registry.user.clone(),
            secret: registry.password.clone(),
            server: registry.address.clone(),
        };
        let digest = docker::push(&endpoint, &reference, &credentials, &CancellationToken::new(), &|_| {}).await?;
        assert_eq!(
            digest,
            slipway::registry::manifest_digest(&reference, &registry.user, &registry.password).await?
        );

        // Without the client certificate the engine is not reached, and the error says so.
        std::fs::remove_file(certs.path().join("cert.pem"))?;
        let refused = docker::push(&endpoint, &reference, &credentials, &CancellationToken::new(), &|_| {})
            .await
            .err();
        assert!(matches!(refused, Some(DockerError::Unreachable { .. })), "{refused:?}");
        Ok::<_, Box<dyn std::error::Error>>(())
    }
    .await;
    let _ = socat.kill();
    let _ = socat.wait();
    result
}

#[tokio::test]
async fn build_args_and_a_target_stage_reach_the_engine() -> TestResult {
    let _engine = ENGINE.lock().await;
    let context = busybox_context(
        "FROM scratch AS base\nCOPY busybox /bin/busybox\nARG GREETING=unset\nLABEL greeting=$GREETING\n\
         FROM base AS final\nLABEL stage=final\n",
    )?;
    let tag = docker::parse_reference(&format!("slipway-test/{}:latest", unique("stages")))?;
    let engine = docker::connect()?;
    let request = BuildRequest {
        context: context.path().to_path_buf(),
        dockerfile: "Dockerfile".into(),
        tags: vec![tag.clone()],
        build_args: [("GREETING".to_owned(), "hello".to_owned())].into(),
        target: Some("base".to_owned()),
        buildkit: None,
    };
    docker::build(&engine, &request, &CancellationToken::new(), &|_| {}).await?;
    let labels = engine
        .inspect_image(&tag.full())
        .await?
        .config
        .and_then(|config| config.labels)
        .unwrap_or_default();
    assert_eq!(labels.get("greeting").map(String::as_str), Some("hello"));
    assert!(
        !labels.contains_key("stage"),
        "the build stopped at the target stage: {labels:?}"
    );
    docker::remove(&engine, &tag.full()).await?;
    Ok(())
}

/// Removes the images a test made when it ends, however it ends.
struct RemovedImages(Vec<String>);

impl Drop for RemovedImages {
    fn drop(&mut self) {
        for image in &self.0 {
            let _ = std::process::Command::new("docker").args(["rmi", "-f", image]).output();
        }
    }
}

/// What `cat file` prints in a container of `image` (removed after).
fn read_from_image(image: &str, file: &str) -> Result<String, Box<dyn std::error::Error>> {
    let output = std::process::Command::new("docker")
        .args(["run", "--rm", "--entrypoint", "/bin/busybox", image, "cat", file])
        .output()?;
    if !output.status.success() {
        return Err(format!("cat {file} in {image}: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Issue 27: a Compose file that builds `src/` with build arguments, one of them secret. The
/// release's build uses `src/` as its context (the Dockerfile's `COPY` of a file only `src/`
/// holds succeeds), passes the literal argument from the settings and the secret from the
/// keyring, keeps the secret out of the build's log, and makes what the Compose build, run
/// directly with the same arguments, makes.
#[tokio::test]
async fn a_compose_given_context_and_build_arguments_reach_the_build() -> TestResult {
    let _engine = ENGINE.lock().await;
    let project = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let root = project.path();
    std::fs::create_dir_all(root.join("src"))?;
    std::fs::copy(BUSYBOX, root.join("src/busybox"))?;
    std::fs::write(root.join("src/app.txt"), "only in src\n")?;
    std::fs::write(
        root.join("src/Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY app.txt /app.txt\nARG APP_VERSION\nARG SENTRY_AUTH_TOKEN\n\
         RUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo $APP_VERSION > /version; echo ${#SENTRY_AUTH_TOKEN} > /token_length; echo token $SENTRY_AUTH_TOKEN\"]\n",
    )?;
    // A decoy at the top: built from the top, `COPY app.txt` would fail.
    std::fs::write(root.join("Dockerfile"), "FROM scratch\nCOPY app.txt /app.txt\n")?;
    std::fs::write(
        root.join("docker-compose.yml"),
        "services:\n  db:\n    image: postgres:16\n  web:\n    build:\n      context: ./src\n      args:\n        APP_VERSION: \"2.7.1\"\n        SENTRY_AUTH_TOKEN: ${SENTRY_AUTH_TOKEN}\n    ports:\n      - \"8000:8000\"\n",
    )?;
    let detection = slipway::project::detect(root);
    let settings = slipway::project::ProjectSettings::from_detection(&detection);
    assert_eq!(
        (settings.dockerfile.as_deref(), settings.build_context.as_deref()),
        (Some("src/Dockerfile"), Some("src"))
    );
    slipway::project::save_settings(data.path(), root, &settings)?;
    // Not given yet: the build refuses, naming it, before the engine is asked.
    let tag = docker::parse_reference(&format!("slipway-test/{}:latest", unique("compose-args")))?;
    let direct_tag = format!("slipway-test/{}:latest", unique("compose-args-direct"));
    let _cleanup = RemovedImages(vec![tag.full(), direct_tag.clone()]);
    let refused = slipway::pipeline::build_request(data.path(), root, &settings, vec![tag.clone()]).await;
    let refusal = refused.err().ok_or("a build with a value missing is refused")?;
    assert!(refusal.message.contains("SENTRY_AUTH_TOKEN"), "{}", refusal.message);

    let token = format!("sntrys_{}", unique("secret-token-value"));
    let settings = slipway::project::set_value(data.path(), root, "SENTRY_AUTH_TOKEN", &token, true)?;
    let written = std::fs::read_dir(data.path().join("projects"))?
        .flatten()
        .map(|entry| std::fs::read_to_string(entry.path()).unwrap_or_default())
        .collect::<String>();
    assert!(
        !written.contains(&token),
        "the secret is never in the settings file: {written}"
    );
    let request = slipway::pipeline::build_request(data.path(), root, &settings, vec![tag.clone()]).await?;
    let recorder = Recorder::new();
    let sink = recorder.clone();
    let engine = docker::connect()?;
    docker::build(&engine, &request, &CancellationToken::new(), &move |event| {
        if let Ok(mut events) = sink.0.lock() {
            events.push(event);
        }
    })
    .await?;
    let log: Vec<String> = recorder
        .events()
        .into_iter()
        .filter_map(|event| match event {
            DockerEvent::Output { line } => Some(line),
            _ => None,
        })
        .collect();
    assert!(
        log.iter().any(|line| line.contains("token [redacted]")),
        "the RUN line printed it, hidden: {log:?}"
    );
    assert!(!log.iter().any(|line| line.contains(&token)), "{log:?}");
    assert_eq!(read_from_image(&tag.full(), "/app.txt")?, "only in src");
    assert_eq!(read_from_image(&tag.full(), "/version")?, "2.7.1");
    assert_eq!(read_from_image(&tag.full(), "/token_length")?, token.len().to_string());

    // What Compose's build does, run directly: `src/` with the same arguments.
    let direct = std::process::Command::new("docker")
        .args([
            "build",
            "-q",
            "-t",
            &direct_tag,
            "--build-arg",
            "APP_VERSION=2.7.1",
            "--build-arg",
        ])
        .arg(format!("SENTRY_AUTH_TOKEN={token}"))
        .arg(root.join("src"))
        .output()?;
    assert!(direct.status.success(), "{}", String::from_utf8_lossy(&direct.stderr));
    for file in ["/app.txt", "/version", "/token_length"] {
        assert_eq!(
            read_from_image(&direct_tag, file)?,
            read_from_image(&tag.full(), file)?,
            "{file}"
        );
    }
    Ok(())
}
