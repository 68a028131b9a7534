//! The Python environment checks run in: the project's own virtualenv when it has one,
//! else one Slipway makes in its data folder (never inside the project: a `.venv` in the
//! tree makes older flake8 walk site-packages), reused while the files it was installed from
//! are unchanged, and mended when a package in it was removed or broken by hand.
//!
//! A new one is made in the time the tools take: an empty `venv`, then one uv call for the
//! pip and setuptools that Python bundles and the requirements (`seed`), while uv is fetched
//! when none is here yet. pip fills it the way `venv` always did when uv cannot.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::installer::{self, Packager, UvSource};
use super::process::{supervise, ProcessSpec};
use super::sandbox::Sandbox;
use super::{now_ms, python, requirements, seed, CheckEvent, ChecksError, EventSink};
use crate::project::{decode_text, is_virtualenv, project_id, Installer, ProjectSettings, PythonEnv};
use crate::secrets::{Secret, SecretStore};

/// The secret values the project's settings name, read from the keyring.
fn secret_values(
    root: &Path,
    settings: &ProjectSettings,
    data_dir: &Path,
) -> Result<Vec<(String, std::sync::Arc<Secret>)>, ChecksError> {
    if settings.secret_env.is_empty() {
        return Ok(Vec::new());
    }
    let store = SecretStore::os(data_dir);
    let id = project_id(root);
    let mut values = Vec::new();
    for name in &settings.secret_env {
        match store.project_value(&id, name) {
            Ok(Some(value)) => values.push((name.clone(), std::sync::Arc::new(value))),
            Ok(None) => {
                return Err(ChecksError::Settings(format!(
                    "The value of {name} is not in the keyring any more: enter it again in the project's settings."
                )))
            }
            Err(error) => {
                return Err(ChecksError::Settings(format!(
                    "The value of {name} could not be read from the keyring: {}",
                    crate::error::AppError::from(error).message
                )))
            }
        }
    }
    Ok(values)
}

/// The project's secret values from the keyring, read off the async runtime (the keyring
/// answers over D-Bus and may block).
pub async fn project_secrets(
    root: &Path,
    settings: &ProjectSettings,
    data_dir: &Path,
) -> Result<Vec<(String, std::sync::Arc<Secret>)>, ChecksError> {
    let (root, settings, data_dir) = (root.to_path_buf(), settings.clone(), data_dir.to_path_buf());
    tokio::task::spawn_blocking(move || secret_values(&root, &settings, &data_dir))
        .await
        .map_err(|error| ChecksError::TempFile(error.to_string()))?
}

/// The environment a run would use, without making or changing anything: the project's
/// own virtualenv when it has every tool, else Slipway's. The gate cache reads its versions.
pub fn expected_venv(root: &Path, settings: &ProjectSettings, data_dir: &Path) -> PathBuf {
    let own = settings
        .venv
        .as_deref()
        .map(PathBuf::from)
        .filter(|path| is_virtualenv(path))
        .map(|venv| PreparedEnv {
            venv,
            managed: false,
            scratch: PathBuf::new(),
            secrets: Vec::new(),
            sandbox: None,
        });
    match own {
        Some(env) if missing_tools(&env, settings).is_empty() => env.venv,
        _ => data_dir.join("venvs").join(project_id(root)),
    }
}

const FINGERPRINT_FILE: &str = ".slipway-fingerprint";
/// The distributions the environment held when it was last ready, one `.dist-info` folder
/// name a line: one missing later was removed by hand and is installed again.
const INSTALLED_FILE: &str = ".slipway-installed";

/// A ready environment.
#[derive(Debug, Clone)]
pub struct PreparedEnv {
    pub venv: PathBuf,
    /// Slipway made it (and may remake it); the project's own is never recreated.
    pub managed: bool,
    /// Where the checks' own files go (coverage data, pytest's cache) instead of the project,
    /// in Slipway's data folder.
    pub scratch: PathBuf,
    /// The project's secret values from the keyring, for the checks' processes only.
    pub secrets: Vec<(String, std::sync::Arc<Secret>)>,
    /// Where the project's tests, lint and gates run; `None` when its settings turn the
    /// sandbox off.
    pub sandbox: Option<Sandbox>,
}

impl PreparedEnv {
    pub fn bin_dir(&self) -> PathBuf {
        self.venv.join("bin")
    }

    /// The variables that activate it, as `source bin/activate` would, and that keep the
    /// tools' own files out of the project: coverage's data file and ruff's and mypy's caches go
    /// to the scratch folder.
    pub fn activation(&self) -> Vec<(String, String)> {
        let path = std::env::var("PATH").unwrap_or_default();
        vec![
            (
                "COVERAGE_FILE".to_owned(),
                self.scratch.join(".coverage").display().to_string(),
            ),
            ("VIRTUAL_ENV".to_owned(), self.venv.display().to_string()),
            ("PATH".to_owned(), format!("{}:{path}", self.bin_dir().display())),
            ("PIP_DISABLE_PIP_VERSION_CHECK".to_owned(), "1".to_owned()),
            // Plain text: the output is read and shown, not painted on a terminal.
            ("PIP_NO_COLOR".to_owned(), "1".to_owned()),
            // No `__pycache__` folders left in the project by the checks.
            ("PYTHONDONTWRITEBYTECODE".to_owned(), "1".to_owned()),
            // Nor ruff's and mypy's caches, which they keep where they run.
            (
                "RUFF_CACHE_DIR".to_owned(),
                self.scratch.join("ruff-cache").display().to_string(),
            ),
            (
                "MYPY_CACHE_DIR".to_owned(),
                self.scratch.join("mypy-cache").display().to_string(),
            ),
        ]
    }
}

/// Makes the environment ready: reuses or creates it, installs the project's requirements
/// and the tools the checks need (pytest; the linter at the project's pinned version).
pub async fn prepare_env(
    root: &Path,
    python: &PythonEnv,
    settings: &ProjectSettings,
    data_dir: &Path,
    cancel: &CancellationToken,
    sink: &EventSink,
) -> Result<PreparedEnv, ChecksError> {
    let say = |message: String| sink(CheckEvent::Setup { message });
    let scratch = data_dir.join("scratch").join(project_id(root));
    std::fs::create_dir_all(&scratch).map_err(|error| ChecksError::TempFile(error.to_string()))?;
    let secrets = project_secrets(root, settings, data_dir).await?;
    say(super::sandbox::note(settings.sandbox_enabled()));
    let sandbox_for = |venv: &Path| {
        let parent: Vec<_> = std::env::vars_os().collect();
        settings
            .sandbox_enabled()
            .then(|| Sandbox::for_checks(root, data_dir, venv, &scratch, &parent))
    };
    if let Some(own) = settings
        .venv
        .as_deref()
        .map(PathBuf::from)
        .filter(|path| is_virtualenv(path))
    {
        let env = PreparedEnv {
            sandbox: sandbox_for(&own),
            venv: own,
            managed: false,
            scratch: scratch.clone(),
            secrets: secrets.clone(),
        };
        // The person's own environment is never changed: when it lacks a tool (or has
        // another version), Slipway makes its own beside it.
        let missing = missing_tools(&env, settings);
        if missing.is_empty() {
            say(format!("Using the project's virtualenv {}", env.venv.display()));
            return Ok(env);
        }
        say(format!(
            "The project's virtualenv {} lacks {}: Slipway makes its own environment and leaves yours as it is",
            env.venv.display(),
            missing.join(", ")
        ));
    }
    let venv = data_dir.join("venvs").join(project_id(root));
    let env = PreparedEnv {
        sandbox: sandbox_for(&venv),
        venv,
        managed: true,
        scratch: scratch.clone(),
        secrets,
    };
    let found = tokio::task::spawn_blocking(python::installed)
        .await
        .map_err(|error| ChecksError::TempFile(error.to_string()))?;
    let interpreter = python::choose(python, &found).map_err(ChecksError::NoPython)?;
    let install_from = settings
        .install_from
        .clone()
        .unwrap_or_else(|| python.install_from.clone());
    let fingerprint = fingerprint(root, python, &install_from, settings, &interpreter);
    let stamp = env.venv.join(FINGERPRINT_FILE);
    if env.bin_dir().join("python").is_file() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&fingerprint) {
        // Where it lives is Slipway's business (the log file has it), not the person's.
        tracing::debug!(venv = %env.venv.display(), "reusing the Python environment");
        say(format!(
            "Reusing the Python environment (Python {}, requirements unchanged)",
            interpreter.version_text()
        ));
        // A package removed or broken by hand since is installed again, not left for the
        // tests to trip on; the gates may have changed since: their tools are checked every
        // time. Both read files only, unless something is missing.
        match repair(root, &env, data_dir, cancel, sink).await {
            Ok(()) => {
                ensure_tools(root, &env, settings, None, data_dir, cancel, sink).await?;
                record_installed(&env.venv)?;
                return Ok(env);
            }
            Err(ChecksError::Cancelled) => return Err(ChecksError::Cancelled),
            // A package from an index or an address only the requirements name cannot be
            // installed again by its version alone: the environment is made anew from them,
            // never left to fail every later check the same way.
            Err(error) => say(format!(
                "Installing the missing packages again did not work ({error}): the Python environment is made anew"
            )),
        }
    }
    let source = installer::locate_uv(data_dir, sink);
    // A folder of the project's own (`.venv`) is named; Slipway's data folder is not the
    // person's business (the log file has it).
    let place = env
        .venv
        .strip_prefix(root)
        .map(|inside| format!(" in {}", inside.display()))
        .unwrap_or_default();
    tracing::debug!(venv = %env.venv.display(), "creating the Python environment");
    say(format!(
        "Creating a Python environment{place} with Python {} ({}), installing with {}",
        interpreter.version_text(),
        interpreter.path.display(),
        if source == UvSource::Pip { "pip" } else { "uv" }
    ));
    // Nothing from before is trusted: a stamp left by a run stopped halfway must not let the
    // next one reuse half an environment.
    let _ = std::fs::remove_file(&stamp);
    let (packager, mut seed) = make_venv(root, &interpreter.executable, &env, source, data_dir, cancel, sink).await?;
    install_project(root, python, &install_from, &env, &packager, &mut seed, cancel, sink).await?;
    if !seed.is_empty() {
        install_seeded(root, &env, &packager, std::mem::take(&mut seed), &[], cancel, sink).await?;
    }
    if !python.packages.is_empty() {
        sink(CheckEvent::Setup {
            message: format!("Installing what the CI installs by name: {}", python.packages.join(" ")),
        });
        let args: Vec<&str> = python.packages.iter().map(String::as_str).collect();
        install(root, &env, &packager, &args, cancel, sink).await?;
    }
    ensure_tools(root, &env, settings, Some(&packager), data_dir, cancel, sink).await?;
    record_installed(&env.venv)?;
    std::fs::write(&stamp, fingerprint).map_err(|error| ChecksError::TempFile(error.to_string()))?;
    say("The Python environment is ready".to_owned());
    Ok(env)
}

fn fingerprint(
    root: &Path,
    python: &PythonEnv,
    install_from: &[String],
    settings: &ProjectSettings,
    interpreter: &python::Interpreter,
) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
        python.installer,
        settings.lint_tool,
        settings.lint_version,
        python.packages,
        python.extras,
        python.groups,
        interpreter.path.display()
    ));
    for file in install_from {
        hasher.update(file.as_bytes());
        hasher.update(std::fs::read(root.join(file)).unwrap_or_default());
    }
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Writes requirement lines to a file in the environment and pip installs them (with the
/// `seed` wheels, which it takes).
#[allow(clippy::too_many_arguments)] // the environment, its installer and the run's sink
async fn install_lines(
    root: &Path,
    env: &PreparedEnv,
    packager: &Packager,
    seed: &mut Vec<PathBuf>,
    what: &str,
    lines: Result<Vec<String>, String>,
    cancel: &CancellationToken,
    sink: &EventSink,
) -> Result<(), ChecksError> {
    let lines = lines.map_err(|detail| ChecksError::EnvSetup {
        step: format!("reading {what}"),
        detail,
    })?;
    sink(CheckEvent::Setup {
        message: format!("Installing {} packages from {what}", lines.len()),
    });
    if lines.is_empty() {
        return Ok(());
    }
    let file = env.venv.join(".slipway-requirements.txt");
    std::fs::write(&file, lines.join("\n")).map_err(|error| ChecksError::TempFile(error.to_string()))?;
    let seed = std::mem::take(seed);
    install_seeded(
        root,
        env,
        packager,
        seed,
        &["-r", &file.display().to_string()],
        cancel,
        sink,
    )
    .await
}

/// Installs what the project declares. The first install takes the `seed` wheels with it
/// (one uv call for pip, setuptools and the requirements); later ones are their own calls,
/// as pip would run them one after the other.
#[allow(clippy::too_many_arguments)] // the environment, its installer and the run's sink
async fn install_project(
    root: &Path,
    python: &PythonEnv,
    install_from: &[String],
    env: &PreparedEnv,
    packager: &Packager,
    seed: &mut Vec<PathBuf>,
    cancel: &CancellationToken,
    sink: &EventSink,
) -> Result<(), ChecksError> {
    let installer = if install_from.iter().all(|file| file.ends_with(".txt")) && !install_from.is_empty() {
        Installer::Requirements
    } else {
        python.installer
    };
    match installer {
        Installer::Nothing => Ok(()),
        Installer::Requirements => {
            for (index, file) in install_from.iter().enumerate() {
                sink(CheckEvent::Setup {
                    message: format!("Installing {file}"),
                });
                let original = root.join(file);
                let bytes = std::fs::read(&original).map_err(|error| ChecksError::EnvSetup {
                    step: format!("reading {file}"),
                    detail: error.to_string(),
                })?;
                // pip reads UTF-8; a UTF-16 file (with its BOM) is handed over re-encoded.
                let requirement_file = if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
                    let copy = env.venv.join(format!(".slipway-requirements-{index}.txt"));
                    std::fs::write(&copy, decode_text(&bytes))
                        .map_err(|error| ChecksError::TempFile(error.to_string()))?;
                    copy
                } else {
                    original
                };
                // `-r` lines inside are read from the file's own folder, as pip does from
                // where the CI ran it.
                let cwd = root
                    .join(file)
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.to_path_buf());
                install_seeded(
                    &cwd,
                    env,
                    packager,
                    std::mem::take(seed),
                    &["-r", &requirement_file.display().to_string()],
                    cancel,
                    sink,
                )
                .await?;
            }
            Ok(())
        }
        // Slipway reads the lock or the declaration itself and pip installs the result: the
        // same set Poetry, Pipenv or uv would install, through the user's pip configuration
        // (index, proxy), with none of them on the machine.
        locked => {
            let (what, lines) = match locked {
                Installer::Poetry => ("the Poetry project", requirements::poetry_requirements(root)),
                Installer::Pipenv => ("Pipfile.lock", requirements::pipenv_requirements(root)),
                Installer::UvLock => (
                    "uv.lock",
                    requirements::uv_requirements(root, &python.extras, &python.groups),
                ),
                _ => (
                    "pyproject.toml",
                    requirements::pyproject_requirements(root, &python.extras, &python.groups),
                ),
            };
            install_lines(root, env, packager, seed, what, lines, cancel, sink).await
        }
    }
}

/// Installs pytest and the linter when the environment lacks them, the linter at the
/// project's pinned version: its rules and config reading differ between versions.
/// `packager` is the one the environment was just made with; for one reused it is chosen
/// only when something is missing (uv is fetched only when there is work for it).
async fn ensure_tools(
    root: &Path,
    env: &PreparedEnv,
    settings: &ProjectSettings,
    packager: Option<&Packager>,
    data_dir: &Path,
    cancel: &CancellationToken,
    sink: &EventSink,
) -> Result<(), ChecksError> {
    let wanted = missing_tools(env, settings);
    if wanted.is_empty() {
        return Ok(());
    }
    sink(CheckEvent::Setup {
        message: format!("Installing {}", wanted.join(", ")),
    });
    let chosen = match packager {
        Some(packager) => packager.clone(),
        None => installer::choose(data_dir, &env.bin_dir().join("python"), cancel, sink).await,
    };
    let args: Vec<&str> = wanted.iter().map(String::as_str).collect();
    install(root, env, &chosen, &args, cancel, sink).await
}

/// What the checks need that `env` lacks, as pip requirements.
fn missing_tools(env: &PreparedEnv, settings: &ProjectSettings) -> Vec<String> {
    let mut wanted = Vec::new();
    if runs_pytest(&settings.test_command) && !env.bin_dir().join("pytest").is_file() {
        wanted.push("pytest".to_owned());
    }
    // `pytest --cov` is pytest-cov's option: without the plugin pytest refuses the line.
    if settings.test_command.contains("--cov") && !has_package(&env.venv, "pytest-cov") {
        wanted.push("pytest-cov".to_owned());
    }
    let linter = settings.lint_tool.package();
    match &settings.lint_version {
        _ if !settings.lint_enabled => {}
        Some(version) if !has_distribution(&env.venv, linter, version) => wanted.push(format!("{linter}=={version}")),
        None if !env.bin_dir().join(linter).is_file() => wanted.push(linter.to_owned()),
        _ => {}
    }
    for gate in settings.enabled_gates() {
        let Some(package) = gate_package(&gate.tool) else {
            continue;
        };
        let wanted_package = match &gate.version {
            Some(version) if !has_distribution(&env.venv, package, version) => format!("{package}=={version}"),
            None if !env.bin_dir().join(package).is_file() => package.to_owned(),
            _ => continue,
        };
        if !wanted.contains(&wanted_package) {
            wanted.push(wanted_package);
        }
    }
    wanted
}

/// Whether the test command may need pytest: not Django's own runner or unittest, which a
/// project runs without it (a script that runs its own tests may call `pytest.main`).
fn runs_pytest(test_command: &str) -> bool {
    let words = shlex::split(test_command).unwrap_or_default();
    let own_runner = words.windows(2).any(|pair| {
        (pair[0].ends_with("manage.py") && pair[1] == "test") || (pair[0] == "-m" && pair[1] == "unittest")
    });
    !own_runner || words.iter().any(|word| word.contains("pytest"))
}

/// The PyPI package a gate's tool comes from; `None` for the project's own (Django).
fn gate_package(tool: &str) -> Option<&'static str> {
    Some(match tool {
        "black" => "black",
        "isort" => "isort",
        "ruff format" => "ruff",
        "mypy" => "mypy",
        "pyright" => "pyright",
        "basedpyright" => "basedpyright",
        "ty" => "ty",
        "coverage" => "coverage",
        _ => return None,
    })
}

/// Whether a `.dist-info` folder in the environment's site-packages satisfies `wanted`
/// (its name, lowercased).
fn any_dist_info(venv: &Path, wanted: impl Fn(&str) -> bool) -> bool {
    let Ok(lib) = std::fs::read_dir(venv.join("lib")) else {
        return false;
    };
    lib.flatten().any(|python| {
        std::fs::read_dir(python.path().join("site-packages"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| wanted(&entry.file_name().to_string_lossy().to_lowercase()))
    })
}

/// The `.dist-info` folders of every package installed in the environment (name and
/// version), sorted.
pub fn installed_distributions(venv: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(venv.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|python| {
            std::fs::read_dir(python.path().join("site-packages"))
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".dist-info"))
        .collect();
    found.sort();
    found
}

/// True when any version of `name` is installed.
fn has_package(venv: &Path, name: &str) -> bool {
    let prefix = format!("{}-", name.replace('-', "_")).to_lowercase();
    any_dist_info(venv, |found| {
        found.starts_with(&prefix) && found.ends_with(".dist-info")
    })
}

/// True when `name==version` is installed (its `.dist-info` folder is there).
fn has_distribution(venv: &Path, name: &str, version: &str) -> bool {
    let wanted = format!("{}-{version}.dist-info", name.replace('-', "_")).to_lowercase();
    any_dist_info(venv, |found| found == wanted)
}

/// Notes which distributions the ready environment holds ([`INSTALLED_FILE`]).
fn record_installed(venv: &Path) -> Result<(), ChecksError> {
    let mut list = installed_distributions(venv).join("\n");
    list.push('\n');
    std::fs::write(venv.join(INSTALLED_FILE), list).map_err(|error| ChecksError::TempFile(error.to_string()))
}

/// `name==version` for a `.dist-info` folder's name (`pytest-8.3.4.dist-info`): a version
/// holds no `-`, so the last one parts them.
fn pin_of(dist_info: &str) -> Option<String> {
    let (name, version) = dist_info.strip_suffix(".dist-info")?.rsplit_once('-')?;
    Some(format!("{name}=={version}"))
}

/// Whether every file a distribution's RECORD lists in site-packages is there. Scripts
/// (`../../bin`) and byte-code (which uv does not write, and Python writes again) are not
/// looked at. A distribution without a RECORD is taken as it is.
fn files_present(site_packages: &Path, dist_info: &Path) -> bool {
    let Ok(record) = std::fs::read_to_string(dist_info.join("RECORD")) else {
        return true;
    };
    record.lines().all(|line| {
        // `path,hash,size`; a path with a comma in it is quoted.
        let path = match line.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next().unwrap_or_default(),
            None => line.split(',').next().unwrap_or_default(),
        };
        path.is_empty()
            || path.starts_with("..")
            || path.contains("__pycache__")
            || path.ends_with(".pyc")
            || site_packages.join(path).exists()
    })
}

/// What was removed or broken by hand since the environment was last ready, as
/// `name==version`, sorted: a distribution noted then whose `.dist-info` is gone, or one
/// whose files are not all there. Reads files only (a few milliseconds for a Django
/// project's hundred packages).
fn damaged(venv: &Path) -> Vec<String> {
    let recorded = std::fs::read_to_string(venv.join(INSTALLED_FILE)).unwrap_or_default();
    let now = installed_distributions(venv);
    let mut found: Vec<String> = recorded
        .lines()
        .filter(|line| !line.is_empty() && !now.iter().any(|have| have == line))
        .filter_map(pin_of)
        .collect();
    for python in std::fs::read_dir(venv.join("lib")).into_iter().flatten().flatten() {
        let site_packages = python.path().join("site-packages");
        for entry in std::fs::read_dir(&site_packages).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".dist-info") && !files_present(&site_packages, &entry.path()) {
                found.extend(pin_of(&name));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// Installs again, at the versions it had, what was removed or broken by hand in a reused
/// environment: the checks then run as they did, instead of failing on a missing import.
async fn repair(
    root: &Path,
    env: &PreparedEnv,
    data_dir: &Path,
    cancel: &CancellationToken,
    sink: &EventSink,
) -> Result<(), ChecksError> {
    let venv = env.venv.clone();
    let damaged = tokio::task::spawn_blocking(move || damaged(&venv))
        .await
        .map_err(|error| ChecksError::TempFile(error.to_string()))?;
    if damaged.is_empty() {
        return Ok(());
    }
    let named: Vec<String> = damaged.iter().map(|pin| pin.replace("==", " ")).collect();
    sink(CheckEvent::Setup {
        message: format!(
            "The Python environment lacks {} (removed or changed since it was made): installing again",
            named.join(", ")
        ),
    });
    let packager = installer::choose(data_dir, &env.bin_dir().join("python"), cancel, sink).await;
    // Both installers know `--force-reinstall`: a package whose files went but whose
    // `.dist-info` stayed counts as installed otherwise.
    let mut args = vec!["--force-reinstall", "--no-deps"];
    args.extend(damaged.iter().map(String::as_str));
    install(root, env, &packager, &args, cancel, sink).await
}

/// Makes the environment with the interpreter's own `venv`, whichever installer fills it.
async fn create_venv(
    root: &Path,
    python: &Path,
    env: &PreparedEnv,
    with_pip: bool,
    cancel: &CancellationToken,
    sink: &EventSink,
) -> Result<(), ChecksError> {
    run_step(
        "creating the virtualenv",
        Packager::create(python, &env.venv, root, with_pip),
        cancel,
        sink,
    )
    .await
}

/// Makes the environment and has its installer ready, at once, with `python` (the
/// interpreter's own program, no shim). With pip: the interpreter's
/// `venv` with pip in it, as before. With uv: an empty environment and pip's configuration
/// while uv is fetched (a new data folder), then the wheels of pip and setuptools for uv to
/// install with the requirements (returned, the seed). When uv or the wheels cannot be
/// had, pip goes in as `venv` puts it (`ensurepip`) and the seed is empty.
async fn make_venv(
    root: &Path,
    python: &Path,
    env: &PreparedEnv,
    source: UvSource,
    data_dir: &Path,
    cancel: &CancellationToken,
    sink: &EventSink,
) -> Result<(Packager, Vec<PathBuf>), ChecksError> {
    let uv = async {
        match &source {
            UvSource::Found(binary) => Some(binary.clone()),
            UvSource::Fetch => installer::fetch_uv(data_dir, python, cancel, sink).await,
            UvSource::Pip => None,
        }
    };
    let with_pip = source == UvSource::Pip;
    let config = async {
        if with_pip {
            (Vec::new(), None)
        } else {
            installer::read_pip_config(python, cancel).await
        }
    };
    let (made, uv, (pip_options, cert)) =
        tokio::join!(create_venv(root, python, env, with_pip, cancel, sink), uv, config);
    made?;
    if with_pip {
        return Ok((Packager::Pip, Vec::new()));
    }
    let wheels = uv.as_ref().and_then(|_| seed::bundled_wheels(&env.venv));
    let packager = match uv {
        Some(binary) => Packager::Uv {
            binary,
            pip_options,
            cert,
        },
        None => Packager::Pip,
    };
    match wheels {
        Some(wheels) => Ok((packager, wheels)),
        None => {
            put_pip_in(root, env, cancel, sink).await?;
            Ok((packager, Vec::new()))
        }
    }
}

/// pip (and setuptools where bundled) into an environment made without it, as `venv` does.
async fn put_pip_in(
    root: &Path,
    env: &PreparedEnv,
    cancel: &CancellationToken,
    sink: &EventSink,
) -> Result<(), ChecksError> {
    run_step(
        "installing pip into the virtualenv",
        Packager::ensurepip(&env.bin_dir().join("python"), root),
        cancel,
        sink,
    )
    .await
}

/// `install ARGS` with the `seed` wheels in the same uv call. When that call fails (the
/// project pins another pip or setuptools, say), the environment gets pip as `venv` gives it
/// and ARGS are installed on their own, uv then pip, as before: the seed never fails a check.
async fn install_seeded(
    root: &Path,
    env: &PreparedEnv,
    packager: &Packager,
    seed: Vec<PathBuf>,
    args: &[&str],
    cancel: &CancellationToken,
    sink: &EventSink,
) -> Result<(), ChecksError> {
    if seed.is_empty() {
        return install(root, env, packager, args, cancel, sink).await;
    }
    let wheels = seed::install_args(&seed);
    let all: Vec<&str> = wheels.iter().map(String::as_str).chain(args.iter().copied()).collect();
    let python = env.bin_dir().join("python");
    let step = format!("{} install {}", packager.name(), all.join(" "));
    match run_step(
        &step,
        packager.install(&python, &all, root, env.activation()),
        cancel,
        sink,
    )
    .await
    {
        Ok(()) => Ok(()),
        Err(error) if cancel.is_cancelled() || matches!(error, ChecksError::Cancelled) => Err(error),
        Err(error) => {
            let why = match error {
                ChecksError::EnvSetup { detail, .. } => {
                    installer::last_words(&detail.lines().map(str::to_owned).collect::<Vec<_>>())
                }
                other => other.to_string(),
            };
            sink(CheckEvent::Setup {
                message: format!(
                    "uv could not install pip and setuptools with the packages, so they go in one after the other. uv said: {why}"
                ),
            });
            put_pip_in(root, env, cancel, sink).await?;
            if args.is_empty() {
                return Ok(());
            }
            install(root, env, packager, args, cancel, sink).await
        }
    }
}

/// `pip install ARGS` into the environment, through `packager`; what uv cannot install, pip
/// tries before the install is called failed, so uv never fails a check pip would pass.
async fn install(
    root: &Path,
    env: &PreparedEnv,
    packager: &Packager,
    args: &[&str],
    cancel: &CancellationToken,
    sink: &EventSink,
) -> Result<(), ChecksError> {
    let python = env.bin_dir().join("python");
    let step = format!("{} install {}", packager.name(), args.join(" "));
    let done = run_step(
        &step,
        packager.install(&python, args, root, env.activation()),
        cancel,
        sink,
    )
    .await;
    match done {
        // Whatever stopped uv (it refused, or could not even start), pip gets its turn.
        Err(error) if *packager != Packager::Pip && !cancel.is_cancelled() => {
            let why = match error {
                ChecksError::EnvSetup { detail, .. } => {
                    installer::last_words(&detail.lines().map(str::to_owned).collect::<Vec<_>>())
                }
                other => other.to_string(),
            };
            sink(CheckEvent::Setup {
                message: format!("uv could not install it, so pip tries. uv said: {why}"),
            });
            let step = format!("pip install {}", args.join(" "));
            run_step(
                &step,
                Packager::Pip.install(&python, args, root, env.activation()),
                cancel,
                sink,
            )
            .await
        }
        other => other,
    }
}

/// A Python exception's last line, as a failed build prints it (`FileNotFoundError: …`).
static EXCEPTION: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"^[A-Za-z_.]*(?:Error|Exception): .+").ok());
/// A program a build could not find: `No such file or directory: 'exiftool'`, `gcc: not found`,
/// `pg_config executable not found`.
static MISSING_PROGRAM: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?:FileNotFoundError: \[Errno 2\] No such file or directory: '([A-Za-z0-9_.+-]+)'|\b([A-Za-z0-9_.+-]+): (?:command )?not found$|\b([A-Za-z0-9_.+-]+) executable not found)",
    )
    .ok()
});

async fn run_step(
    step: &str,
    spec: ProcessSpec,
    cancel: &CancellationToken,
    sink: &EventSink,
) -> Result<(), ChecksError> {
    let forward = sink.clone();
    let outcome = supervise(&spec, cancel, &mut |stream, line| {
        forward(CheckEvent::Output {
            check: None,
            stream,
            line: line.to_owned(),
            at_ms: now_ms(),
        })
    })
    .await?;
    if outcome.cancelled {
        return Err(ChecksError::Cancelled);
    }
    if outcome.code == Some(0) {
        return Ok(());
    }
    let lines: Vec<&str> = outcome
        .stdout
        .iter()
        .chain(outcome.stderr.iter())
        .map(String::as_str)
        .collect();
    let detail = failure_detail(&lines);
    Err(ChecksError::EnvSetup {
        step: step.to_owned(),
        detail: if outcome.timed_out {
            format!("it did not finish within {} minutes", spec.timeout.as_secs() / 60)
        } else {
            detail
        },
    })
}

/// What an installer's output says went wrong: its `ERROR:` lines, the package whose build
/// failed and the exception that failed it, led by the program a build could not find; else
/// its last lines.
fn failure_detail(lines: &[&str]) -> String {
    let mut errors: Vec<String> = lines
        .iter()
        .map(|line| line.trim())
        .filter(|line| {
            line.starts_with("ERROR:")
                || line.starts_with("error:")
                || line.contains("Failed to build")
                || EXCEPTION.as_ref().is_some_and(|pattern| pattern.is_match(line))
        })
        .map(str::to_owned)
        .collect();
    errors.dedup();
    let missing_program = lines.iter().find_map(|line| {
        MISSING_PROGRAM
            .as_ref()
            .and_then(|pattern| pattern.captures(line.trim()))
            .and_then(|capture| capture.iter().skip(1).flatten().next().map(|m| m.as_str().to_owned()))
            // A file the build could not find is no program.
            .filter(|name| {
                ![
                    ".txt", ".py", ".cfg", ".toml", ".in", ".lock", ".json", ".yml", ".yaml", ".md", ".rst", ".ini",
                ]
                .iter()
                .any(|extension| name.ends_with(extension))
            })
    });
    if let Some(program) = missing_program {
        // A package's build runs a program the CI installs on its machine (`apt-get install`).
        errors.insert(
            0,
            format!("A package needs the program {program}, which is not on this computer: install it (your CI may install it first: see what Slipway does not run from your CI), then check again."),
        );
    }
    if errors.is_empty() {
        lines[lines.len().saturating_sub(12)..].join("\n")
    } else {
        errors.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// bayanat's build of pyexifinfo, as uv prints it: the missing program leads.
    #[test]
    fn a_failed_build_says_which_program_it_needs() {
        let output = [
            "  × Failed to build `pyexifinfo==0.4.0`",
            "  ├─▶ The build backend returned an error",
            "      Traceback (most recent call last):",
            "      FileNotFoundError: [Errno 2] No such file or directory: 'exiftool'",
            "      hint: This usually indicates a problem with the package or the build environment.",
        ];
        let detail = failure_detail(&output);
        let said: Vec<&str> = detail.lines().collect();
        assert_eq!(
            said,
            [
                "A package needs the program exiftool, which is not on this computer: install it (your CI may install it first: see what Slipway does not run from your CI), then check again.",
                "× Failed to build `pyexifinfo==0.4.0`",
                "FileNotFoundError: [Errno 2] No such file or directory: 'exiftool'",
            ]
        );
        assert_eq!(failure_detail(&["sh: 1: pg_config: not found"]).lines().next(), Some("A package needs the program pg_config, which is not on this computer: install it (your CI may install it first: see what Slipway does not run from your CI), then check again."));
        assert_eq!(failure_detail(&["a", "b"]), "a\nb");
        let file = failure_detail(&["FileNotFoundError: [Errno 2] No such file or directory: 'requirements.txt'"]);
        assert!(!file.contains("program"), "{file}");
    }

    #[test]
    fn pytest_is_wanted_unless_the_tests_run_without_it() {
        assert!(runs_pytest("pytest -q"));
        assert!(runs_pytest("cd backend && coverage run -m pytest tests/"));
        assert!(runs_pytest("make test"));
        assert!(!runs_pytest("python manage.py test"));
        assert!(!runs_pytest("cd app && python manage.py test --parallel"));
        assert!(!runs_pytest("python -m unittest discover -s tests"));
        assert!(runs_pytest("python runtests.py"), "it may call pytest.main");
        assert!(runs_pytest("python -m pytest"));
    }

    /// An environment holding `dists` (`name-version.dist-info`), each with a RECORD listing
    /// its module file, which is there.
    fn venv_with(dists: &[&str]) -> std::io::Result<(tempfile::TempDir, PathBuf)> {
        let dir = tempfile::tempdir()?;
        let site = dir.path().join("lib/python3.11/site-packages");
        for dist in dists {
            let module = dist.split('-').next().unwrap_or_default();
            std::fs::create_dir_all(site.join(dist))?;
            std::fs::create_dir_all(site.join(module))?;
            std::fs::write(site.join(module).join("__init__.py"), "")?;
            std::fs::write(
                site.join(dist).join("RECORD"),
                format!(
                    "{module}/__init__.py,sha256=x,0\n{module}/__pycache__/__init__.cpython-311.pyc,,\n../../../bin/{module},sha256=y,1\n{dist}/RECORD,,\n"
                ),
            )?;
        }
        Ok((dir, site))
    }

    #[test]
    fn a_healthy_environment_has_nothing_damaged() -> Result<(), ChecksError> {
        let (dir, _) = venv_with(&["six-1.16.0.dist-info", "pytest-8.3.4.dist-info"]).map_err(temp)?;
        record_installed(dir.path())?;
        // Byte-code and scripts are not looked at: uv writes no byte-code.
        assert_eq!(damaged(dir.path()), Vec::<String>::new());
        Ok(())
    }

    #[test]
    fn a_package_uninstalled_or_a_folder_deleted_by_hand_is_found() -> Result<(), ChecksError> {
        let (dir, site) = venv_with(&[
            "six-1.16.0.dist-info",
            "pytest-8.3.4.dist-info",
            "flake8-7.1.1.dist-info",
        ])
        .map_err(temp)?;
        record_installed(dir.path())?;
        // `pip uninstall six` takes the `.dist-info` with it; a deleted folder leaves it.
        std::fs::remove_dir_all(site.join("six-1.16.0.dist-info")).map_err(temp)?;
        std::fs::remove_dir_all(site.join("pytest")).map_err(temp)?;
        assert_eq!(damaged(dir.path()), ["pytest==8.3.4", "six==1.16.0"]);
        Ok(())
    }

    #[test]
    fn an_environment_made_before_the_list_is_read_by_its_records_alone() -> Result<(), ChecksError> {
        let (dir, site) = venv_with(&["six-1.16.0.dist-info", "Django-5.1.4.dist-info"]).map_err(temp)?;
        std::fs::remove_file(site.join("Django/__init__.py")).map_err(temp)?;
        assert_eq!(damaged(dir.path()), ["Django==5.1.4"]);
        assert_eq!(
            pin_of("typing_extensions-4.12.2.dist-info").as_deref(),
            Some("typing_extensions==4.12.2")
        );
        assert_eq!(pin_of("six"), None);
        Ok(())
    }

    fn temp(error: std::io::Error) -> ChecksError {
        ChecksError::TempFile(error.to_string())
    }
}
