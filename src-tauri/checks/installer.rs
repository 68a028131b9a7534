//! How packages get into an environment Slipway makes: uv when it can be had (one on PATH,
//! or one installed once from PyPI into Slipway's tools folder), pip when it cannot or when
//! uv fails. uv resolves and installs in parallel, which turns a Django project's first check
//! from a minute of pip into seconds; pip stays the fallback because it is always there.
//!
//! The environment itself is made by the interpreter's own `venv` either way: it holds what
//! a CI's `python -m venv` holds (pip, and setuptools where that Python bundles it), so a test
//! that imports `pkg_resources` passes here as it does there. uv's own environments have
//! neither, and uv's seeded ones other versions. With uv, `venv` makes it empty and uv
//! installs those very wheels with the requirements (`seed`): seconds sooner.
//!
//! Which uv is trusted: the one `SLIPWAY_UV` names, one on PATH, or the one Slipway fetched
//! into its tools folder ([`locate_uv`]). A new data folder fetches one with `pip install
//! --target` while the environment is made, not before.
//!
//! uv does not read pip's configuration, so the person's index, extra indexes, find-links,
//! trusted hosts and certificate (from pip.conf or `PIP_*`, as `pip config list` reports
//! them) are handed to it as flags: both installers see the same packages.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::process::{supervise, ProcessSpec};
use super::{CheckEvent, EventSink};

/// Set to `off` to use pip alone (the benchmark and the comparison test do), or to a uv
/// binary to use that one.
pub const UV_VARIABLE: &str = "SLIPWAY_UV";
/// Getting uv the first time may take this long (one wheel from the index).
const FETCH_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// After uv could not be installed, pip alone works this long before uv is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// One pip install may take this long (a big requirements file on a slow mirror).
pub(super) const INSTALL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The installer an environment is made and filled with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packager {
    Uv {
        binary: PathBuf,
        pip_options: Vec<String>,
        cert: Option<String>,
    },
    Pip,
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

/// Where Slipway keeps the uv it installs.
fn tools_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("tools").join("uv")
}

/// A quiet child: its output is not shown unless it fails.
async fn quiet(program: &Path, args: &[&str], cancel: &CancellationToken) -> Result<Vec<String>, String> {
    let spec = ProcessSpec {
        program: program.display().to_string(),
        args: args.iter().map(|arg| (*arg).to_owned()).collect(),
        cwd: std::env::temp_dir(),
        env: vec![("PIP_DISABLE_PIP_VERSION_CHECK".to_owned(), "1".to_owned())],
        timeout: FETCH_TIMEOUT,
        sandbox: None,
    };
    let outcome = supervise(&spec, cancel, &mut |_, _| {})
        .await
        .map_err(|error| error.to_string())?;
    if outcome.code == Some(0) {
        Ok(outcome.stdout)
    } else {
        Err(last_words(&outcome.stderr))
    }
}

/// What a failed child said, in a line: its first `ERROR:` line, else its last line (a
/// traceback's last line is the exception), else that it said nothing.
pub(super) fn last_words(lines: &[String]) -> String {
    let said = lines
        .iter()
        .map(|line| line.trim())
        .find(|line| line.starts_with("ERROR:") || line.starts_with("error:"))
        .or_else(|| lines.iter().map(|line| line.trim()).rfind(|line| !line.is_empty()));
    said.map(str::to_owned)
        .unwrap_or_else(|| "it stopped without saying why".to_owned())
}

/// Where the uv for a new environment comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UvSource {
    /// Given (`SLIPWAY_UV`), on PATH, or fetched into the tools folder before.
    Found(PathBuf),
    /// Not here yet: it is fetched into the tools folder ([`fetch_uv`]).
    Fetch,
    /// Turned off, named wrongly, or a fetch failed lately: pip does the work.
    Pip,
}

/// Which uv is trusted, in order: the one `SLIPWAY_UV` names, one on PATH, the one Slipway
/// fetched into its tools folder; else one is to be fetched (unless that failed within a
/// day). Looks at files only: it costs nothing.
pub fn locate_uv(data_dir: &Path, sink: &EventSink) -> UvSource {
    match std::env::var(UV_VARIABLE).ok().as_deref() {
        Some("off") => return UvSource::Pip,
        Some(path) if !path.is_empty() => {
            let given = PathBuf::from(path);
            if given.is_file() {
                return UvSource::Found(given);
            }
            sink(CheckEvent::Setup {
                message: format!("{UV_VARIABLE} names no uv program ({path}): pip installs the packages"),
            });
            return UvSource::Pip;
        }
        _ => {}
    }
    if let Some(found) = on_path("uv") {
        return UvSource::Found(found);
    }
    let binary = tools_dir(data_dir).join("bin").join("uv");
    if binary.is_file() {
        return UvSource::Found(binary);
    }
    // A failed install is not tried again for a day: each try costs a minute of pip.
    let failed_recently = std::fs::metadata(failed_mark(data_dir))
        .and_then(|meta| meta.modified())
        .is_ok_and(|at| at.elapsed().is_ok_and(|age| age < RETRY_AFTER));
    if failed_recently {
        UvSource::Pip
    } else {
        UvSource::Fetch
    }
}

fn failed_mark(data_dir: &Path) -> PathBuf {
    data_dir.join("tools").join("uv-failed")
}

/// Installs uv from the index into the tools folder with `python`'s pip; `None` (with the
/// reason told) when it cannot be had: pip does the work then.
///
/// `pip install --target` needs no environment of its own (making one with pip costs
/// seconds); an interpreter without pip gets one all the same. The files go to a folder
/// beside and are moved into place whole, so a fetch stopped halfway is never taken for uv.
pub async fn fetch_uv(data_dir: &Path, python: &Path, cancel: &CancellationToken, sink: &EventSink) -> Option<PathBuf> {
    let dir = tools_dir(data_dir);
    sink(CheckEvent::Setup {
        message: format!(
            "Getting uv, a faster installer, into {} (once; pip is used if this fails)",
            dir.display()
        ),
    });
    // One folder per fetch: two checks of this process fetching at once never share one.
    static FETCHES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let fetch = FETCHES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let partial = data_dir
        .join("tools")
        .join(format!("uv-partial-{}-{fetch}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    // Where a failure is noted, whatever pip got to.
    let _ = std::fs::create_dir_all(data_dir.join("tools"));
    let partial_text = partial.display().to_string();
    let pip_install = ["install", "--no-input", "--progress-bar", "off"];
    let mut installed = quiet(
        python,
        &[&["-m", "pip"], &pip_install[..], &["--target", &partial_text, "uv"]].concat(),
        cancel,
    )
    .await;
    if matches!(&installed, Err(why) if why.contains("No module named pip")) {
        // This interpreter has no pip: a virtualenv of its own brings one.
        installed = match quiet(python, &["-m", "venv", "--clear", &partial_text], cancel).await {
            Ok(_) => {
                quiet(
                    &partial.join("bin").join("python"),
                    &[&["-m", "pip"], &pip_install[..], &["uv"]].concat(),
                    cancel,
                )
                .await
            }
            Err(error) => Err(error),
        };
    }
    let moved = match installed {
        // Another fetch put uv in place meanwhile: that one is used.
        Ok(_) if dir.join("bin").join("uv").is_file() => {
            let _ = std::fs::remove_dir_all(&partial);
            Ok(())
        }
        Ok(_) if partial.join("bin").join("uv").is_file() => {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::rename(&partial, &dir).map_err(|error| error.to_string())
        }
        Ok(_) => Err("its program was not installed".to_owned()),
        Err(why) => Err(why),
    };
    let binary = dir.join("bin").join("uv");
    match moved {
        Ok(()) if binary.is_file() => Some(binary),
        outcome => {
            let why = outcome
                .err()
                .unwrap_or_else(|| "its program was not installed".to_owned());
            sink(CheckEvent::Setup {
                message: format!("uv could not be installed, so pip installs the packages. pip said: {why}"),
            });
            // Half an install would be found next time and fail again: start clean.
            let _ = std::fs::remove_dir_all(&partial);
            let _ = std::fs::write(failed_mark(data_dir), why);
            None
        }
    }
}

/// uv, found or fetched once into the tools folder with `python`; `None` when it cannot be
/// had: pip does the work then.
async fn find_uv(data_dir: &Path, python: &Path, cancel: &CancellationToken, sink: &EventSink) -> Option<PathBuf> {
    match locate_uv(data_dir, sink) {
        UvSource::Found(binary) => Some(binary),
        UvSource::Fetch => fetch_uv(data_dir, python, cancel, sink).await,
        UvSource::Pip => None,
    }
}

/// pip's configuration as uv flags, and the certificate file pip is told to trust.
fn pip_options(config: &[String]) -> (Vec<String>, Option<String>) {
    let mut options = Vec::new();
    let mut cert = None;
    for line in config {
        // `global.index-url='https://…'`, `:env:.find-links='/opt/wheels'`
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let key = name.rsplit('.').next().unwrap_or_default();
        let value = value.trim().trim_matches('\'').trim_matches('"');
        let values = value.split_whitespace().map(str::to_owned);
        match key {
            "index-url" => options.extend(["--index-url".to_owned(), value.to_owned()]),
            "extra-index-url" => values.for_each(|url| options.extend(["--extra-index-url".to_owned(), url])),
            "find-links" => values.for_each(|place| options.extend(["--find-links".to_owned(), place])),
            "trusted-host" => values.for_each(|host| options.extend(["--allow-insecure-host".to_owned(), host])),
            "no-index" if matches!(value, "1" | "true" | "yes" | "on") => options.push("--no-index".to_owned()),
            "cert" => cert = Some(value.to_owned()),
            _ => {}
        }
    }
    (options, cert)
}

/// The installer for a new environment made with `python`: uv with pip's configuration, or
/// pip.
pub async fn choose(data_dir: &Path, python: &Path, cancel: &CancellationToken, sink: &EventSink) -> Packager {
    let Some(binary) = find_uv(data_dir, python, cancel, sink).await else {
        return Packager::Pip;
    };
    let (pip_options, cert) = read_pip_config(python, cancel).await;
    Packager::Uv {
        binary,
        pip_options,
        cert,
    }
}

/// The person's pip configuration, as `python`'s pip reports it, made uv flags and the
/// certificate to trust: none when that pip cannot tell.
pub async fn read_pip_config(python: &Path, cancel: &CancellationToken) -> (Vec<String>, Option<String>) {
    let config = quiet(python, &["-m", "pip", "config", "list"], cancel)
        .await
        .unwrap_or_default();
    pip_options(&config)
}

impl Packager {
    pub fn name(&self) -> &'static str {
        match self {
            Packager::Uv { .. } => "uv",
            Packager::Pip => "pip",
        }
    }

    /// What makes `venv` with `python`, emptied first: the interpreter's own `venv` for both
    /// installers (see the module's doc); without pip when uv installs it (`super::seed`).
    pub fn create(python: &Path, venv: &Path, cwd: &Path, with_pip: bool) -> ProcessSpec {
        let mut args = vec!["-m".to_owned(), "venv".to_owned(), "--clear".to_owned()];
        if !with_pip {
            args.push("--without-pip".to_owned());
        }
        args.push(venv.display().to_string());
        ProcessSpec {
            program: python.display().to_string(),
            args,
            cwd: cwd.to_path_buf(),
            env: Vec::new(),
            timeout: INSTALL_TIMEOUT,
            sandbox: None,
        }
    }

    /// What puts pip (and setuptools where bundled) into an environment made without it, as
    /// `venv` itself does: `python -m ensurepip --upgrade --default-pip`.
    pub fn ensurepip(venv_python: &Path, cwd: &Path) -> ProcessSpec {
        ProcessSpec {
            program: venv_python.display().to_string(),
            args: ["-m", "ensurepip", "--upgrade", "--default-pip"]
                .map(str::to_owned)
                .to_vec(),
            cwd: cwd.to_path_buf(),
            env: Vec::new(),
            timeout: INSTALL_TIMEOUT,
            sandbox: None,
        }
    }

    /// What runs `pip install ARGS` into the environment whose interpreter is `python`.
    pub fn install(&self, python: &Path, args: &[&str], cwd: &Path, activation: Vec<(String, String)>) -> ProcessSpec {
        let (program, mut all_args, mut env) = match self {
            Packager::Uv {
                binary, pip_options, ..
            } => {
                let mut all: Vec<String> = vec![
                    "pip".into(),
                    "install".into(),
                    "--python".into(),
                    python.display().to_string(),
                ];
                all.extend(pip_options.iter().cloned());
                (binary.display().to_string(), all, self.environment())
            }
            Packager::Pip => (
                python.display().to_string(),
                vec!["-m".into(), "pip".into(), "install".into()],
                Vec::new(),
            ),
        };
        all_args.extend(args.iter().map(|arg| (*arg).to_owned()));
        if *self == Packager::Pip {
            all_args.extend(["--no-input".to_owned(), "--progress-bar".to_owned(), "off".to_owned()]);
        }
        env.extend(activation);
        ProcessSpec {
            program,
            args: all_args,
            cwd: cwd.to_path_buf(),
            env,
            timeout: INSTALL_TIMEOUT,
            // Outside the sandbox: pip reads its index's credentials from the places it hides
            // (`~/.config/pip`, `~/.netrc`). The environment is built all the same.
            sandbox: None,
        }
    }

    /// uv's environment: plain output, no Python downloads (Slipway chose the interpreter),
    /// pip's certificate.
    fn environment(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("UV_NO_PROGRESS".to_owned(), "1".to_owned()),
            ("NO_COLOR".to_owned(), "1".to_owned()),
            ("UV_PYTHON_DOWNLOADS".to_owned(), "never".to_owned()),
        ];
        if let Packager::Uv { cert: Some(cert), .. } = self {
            env.push(("SSL_CERT_FILE".to_owned(), cert.clone()));
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_configuration_becomes_uv_flags_and_the_certificate_its_variable() {
        let config = [
            "global.index-url='https://mirror.example/simple'".to_owned(),
            "global.extra-index-url='https://a.example/simple https://b.example/simple'".to_owned(),
            ":env:.find-links='/opt/wheels'".to_owned(),
            "global.cert='/etc/ssl/certs/ca-certificates.crt'".to_owned(),
            "global.trusted-host='a.example'".to_owned(),
            ":env:.default-timeout='180'".to_owned(),
        ];
        let (options, cert) = pip_options(&config);
        assert_eq!(
            options,
            [
                "--index-url",
                "https://mirror.example/simple",
                "--extra-index-url",
                "https://a.example/simple",
                "--extra-index-url",
                "https://b.example/simple",
                "--find-links",
                "/opt/wheels",
                "--allow-insecure-host",
                "a.example",
            ]
        );
        assert_eq!(cert.as_deref(), Some("/etc/ssl/certs/ca-certificates.crt"));
    }

    #[test]
    fn a_failure_is_told_in_one_line() {
        let traceback = [
            "Traceback (most recent call last):".to_owned(),
            "  File \"ssl.py\", line 1004, in _create".to_owned(),
            "ValueError: check_hostname requires server_hostname".to_owned(),
            String::new(),
        ];
        assert_eq!(
            last_words(&traceback),
            "ValueError: check_hostname requires server_hostname"
        );
        let pip = [
            "Collecting uv".to_owned(),
            "ERROR: Could not find a version that satisfies the requirement uv".to_owned(),
            "ERROR: No matching distribution found for uv".to_owned(),
        ];
        assert_eq!(
            last_words(&pip),
            "ERROR: Could not find a version that satisfies the requirement uv"
        );
        assert_eq!(last_words(&[]), "it stopped without saying why");
    }

    #[test]
    fn uv_installs_into_the_environment_it_is_pointed_at_with_those_flags() {
        let uv = Packager::Uv {
            binary: PathBuf::from("/tools/uv"),
            pip_options: vec!["--find-links".into(), "/opt/wheels".into()],
            cert: Some("/ca.pem".into()),
        };
        let spec = uv.install(
            Path::new("/v/bin/python"),
            &["-r", "req.txt"],
            Path::new("/p"),
            Vec::new(),
        );
        assert_eq!(spec.program, "/tools/uv");
        assert_eq!(
            spec.args,
            [
                "pip",
                "install",
                "--python",
                "/v/bin/python",
                "--find-links",
                "/opt/wheels",
                "-r",
                "req.txt"
            ]
        );
        assert!(spec.env.contains(&("SSL_CERT_FILE".to_owned(), "/ca.pem".to_owned())));
        let pip = Packager::Pip.install(Path::new("/v/bin/python"), &["pytest"], Path::new("/p"), Vec::new());
        assert_eq!(pip.program, "/v/bin/python");
        assert_eq!(
            pip.args,
            ["-m", "pip", "install", "pytest", "--no-input", "--progress-bar", "off"]
        );
    }
}
