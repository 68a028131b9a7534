//! Shared by the integration test binaries: the environment `scripts/test` prepares, and
//! fixture folders.
#![allow(dead_code, reason = "each test binary uses a different part of the support module")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The local registry with a password that `scripts/test` started.
pub struct TestRegistry {
    pub address: String,
    pub user: String,
    pub password: String,
}

/// These tests use the real engine, registry, keyring and display that `scripts/test`
/// starts; outside it they fail with that instruction rather than skip.
pub fn test_registry() -> TestRegistry {
    let read = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!(
                "{name} is not set: run the tests through `scripts/test`, which starts the real components they need"
            )
        })
    };
    TestRegistry {
        address: read("SLIPWAY_TEST_REGISTRY"),
        user: read("SLIPWAY_TEST_REGISTRY_USER"),
        password: read("SLIPWAY_TEST_REGISTRY_PASSWORD"),
    }
}

/// The `slipway` binary cargo built for these tests.
pub fn slipway_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_slipway"))
}

/// Runs git in `dir` with a fixed identity, failing the test on error.
pub fn git(dir: &Path, args: &[&str]) -> Result<(), Box<dyn std::error::Error>> {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Slipway Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.test")
        .env("GIT_COMMITTER_NAME", "Slipway Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.test")
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("git {args:?} failed with {status}").into())
    }
}

/// A small Django-shaped project in a git repository on `branch`, with one commit.
pub fn git_project(parent: &Path, name: &str, branch: &str) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let dir = parent.join(name);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("manage.py"), "print('manage')\n")?;
    std::fs::write(dir.join("requirements.txt"), "pytest\nflake8\n")?;
    std::fs::create_dir_all(dir.join("tests"))?;
    std::fs::write(
        dir.join("tests/test_home.py"),
        "def test_home():\n    assert 'home'.upper() == 'HOME'\n",
    )?;
    git(&dir, &["init", "-q", "-b", branch])?;
    git(&dir, &["add", "."])?;
    git(&dir, &["commit", "-q", "-m", "first"])?;
    Ok(dir)
}

/// Every file below `dir`, for searching what Slipway wrote. Only regular files: the open
/// window's socket (`window.sock`) holds nothing, and opening it fails.
pub fn files_below(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(files_below(&path)?);
        } else if path.is_file() {
            files.push(path);
        }
    }
    Ok(files)
}

/// The example project shipped in `examples/lettings`.
pub const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/lettings");

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

/// A copy of the example project as `parent/name`, with `change` applied, committed in a
/// repository of its own; its canonical path.
pub fn example_project(
    parent: &Path,
    name: &str,
    change: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let root = parent.join(name);
    copy_dir(Path::new(EXAMPLE), &root)?;
    change(&root)?;
    git(&root, &["init", "-q", "-b", "main"])?;
    git(&root, &["add", "-A"])?;
    git(&root, &["commit", "-q", "-m", "release me"])?;
    Ok(root.canonicalize()?)
}

/// Keeps a login for the test registry in the real keyring, as the accounts wizard does,
/// with `secret` as its token.
pub fn save_registry_login(
    data: &Path,
    registry: &TestRegistry,
    secret: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut login = slipway::secrets::Account::new(slipway::secrets::Service::Registry, &registry.address, "test");
    login.username = Some(registry.user.clone());
    slipway::secrets::SecretStore::os(data).save(&login, secret)?;
    Ok(())
}

/// Processes whose command line holds `marker`.
pub fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(marker) {
                found.push(cmdline);
            }
        }
    }
    found
}

/// Places a leak search reads: `places` and every file below `dir`, each with its text.
pub fn with_files_below(mut places: Vec<(String, String)>, dir: &Path) -> std::io::Result<Vec<(String, String)>> {
    for file in files_below(dir)? {
        places.push((
            file.display().to_string(),
            String::from_utf8_lossy(&std::fs::read(&file)?).into_owned(),
        ));
    }
    Ok(places)
}

/// A unix socket in front of the real Docker Engine that can be taken away mid-run, and put
/// back at the same path: "the engine stopped (and started again)" without stopping the
/// engine other tests share.
pub struct EngineProxy {
    pub socket: PathBuf,
    engine: PathBuf,
    running: std::sync::Mutex<Option<tokio_util::sync::CancellationToken>>,
    _dir: tempfile::TempDir,
}

impl EngineProxy {
    pub fn start() -> std::io::Result<Self> {
        let address = slipway::docker::engine_address();
        let engine = PathBuf::from(address.strip_prefix("unix://").unwrap_or("/var/run/docker.sock"));
        let dir = tempfile::tempdir()?;
        let proxy = Self {
            socket: dir.path().join("docker.sock"),
            engine,
            running: std::sync::Mutex::new(None),
            _dir: dir,
        };
        proxy.resume()?;
        Ok(proxy)
    }

    /// The engine answers again at the same socket.
    pub fn resume(&self) -> std::io::Result<()> {
        let listener = tokio::net::UnixListener::bind(&self.socket)?;
        let stop = tokio_util::sync::CancellationToken::new();
        let stopped = stop.clone();
        let engine = self.engine.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = stopped.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((mut client, _)) = accepted else { return };
                let engine = engine.clone();
                let stopped = stopped.clone();
                tokio::spawn(async move {
                    let Ok(mut upstream) = tokio::net::UnixStream::connect(&engine).await else {
                        return;
                    };
                    // Every open connection ends with the proxy, as with an engine that stops.
                    tokio::select! {
                        () = stopped.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                    }
                });
            }
        });
        if let Ok(mut running) = self.running.lock() {
            *running = Some(stop);
        }
        Ok(())
    }

    /// `DOCKER_HOST` for a client that goes through the proxy.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The engine goes away: open connections close and the socket is gone.
    pub fn stop(&self) {
        if let Some(stop) = self.running.lock().ok().and_then(|mut running| running.take()) {
            stop.cancel();
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Drop for EngineProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One virtualenv with pytest and flake8 shared by every project of the
/// tests (`CARGO_TARGET_TMPDIR` is one folder for every test binary), so each test does not
/// install its own.
pub fn shared_venv() -> Result<PathBuf, String> {
    static VENV: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    VENV.get_or_init(|| {
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("release-venv");
        if !venv.join("bin/flake8").exists() {
            let run = |program: &Path, args: &[&str]| -> Result<(), String> {
                let status = std::process::Command::new(program)
                    .args(args)
                    .status()
                    .map_err(|error| error.to_string())?;
                status
                    .success()
                    .then_some(())
                    .ok_or(format!("{program:?} {args:?} failed"))
            };
            run(Path::new("python3"), &["-m", "venv", &venv.display().to_string()])?;
            run(
                &venv.join("bin/pip"),
                &["install", "-q", "-r", &format!("{}/requirements.txt", EXAMPLE)],
            )?;
        }
        Ok(venv)
    })
    .clone()
}

/// Removes a project's containers when dropped, so a test that fails half-way leaves none
/// running on the engine (candidates and retiring ones included: they carry the label).
pub struct ProjectContainers(pub String);

impl Drop for ProjectContainers {
    fn drop(&mut self) {
        let project = self.0.clone();
        // A runtime of its own on a thread of its own: a drop may run inside a test's runtime.
        let removed = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let engine = slipway::docker::connect().ok()?;
                for name in slipway::docker::project_containers(&engine, &project).await.ok()? {
                    let _ = slipway::docker::remove_container(&engine, &name).await;
                }
                Some(())
            })
        })
        .join();
        if !matches!(removed, Ok(Some(()))) {
            eprintln!("the containers of project {} could not be removed", self.0);
        }
    }
}

/// A process a test started, killed when the test ends, however it ends.
pub struct Started(pub Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until something listens on 127.0.0.1:`port`.
pub fn listening(port: u16, what: &str) -> TestResult {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!("{what} never listened on 127.0.0.1:{port}").into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// The test engine's unix socket (the test environment's `DOCKER_HOST`, else Docker's own).
pub fn engine_socket() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|host| host.strip_prefix("unix://").map(str::to_owned))
        .unwrap_or_else(|| "/var/run/docker.sock".to_owned())
}

/// The test engine over TCP on 127.0.0.1 (socat in front of its socket), as a team's engine
/// would be reached; the address, and socat, stopped when dropped.
pub fn engine_over_tcp() -> Result<(Started, String), Box<dyn std::error::Error>> {
    let port = free_port()?;
    let socat = Command::new("socat")
        .arg(format!("TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr"))
        .arg(format!("UNIX-CONNECT:{}", engine_socket()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let socat = Started(socat);
    listening(port, "socat")?;
    Ok((socat, format!("tcp://127.0.0.1:{port}")))
}

/// `docker context create NAME --docker host=HOST` in the Docker config folder `config`.
pub fn docker_context(config: &Path, name: &str, host: &str) -> TestResult {
    let output = Command::new("docker")
        .args(["context", "create", name, "--docker", &format!("host={host}")])
        .env("DOCKER_CONFIG", config)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "docker context create {name}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into())
    }
}
