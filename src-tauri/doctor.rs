//! `slipway doctor`: checks for real that what Slipway needs is here, in plain words.
//!
//! Every check runs, even after one fails, so one run tells the whole story. The report is
//! the same for the CLI (text or `--json`) and the Settings page.

use std::time::Duration;

use serde::Serialize;
use ts_rs::TS;

use crate::docker;
use crate::error::AppError;
use crate::paths::AppPaths;
use crate::secrets;

/// How long a tool's `--version` or the keyring may take before it counts as broken.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum CheckId {
    DockerEngine,
    Keyring,
    Git,
    Python,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DoctorCheck {
    pub id: CheckId,
    /// What was checked, for a person.
    pub name: String,
    pub ok: bool,
    /// A release cannot run without it.
    pub required: bool,
    /// What was found (a version) or what is wrong.
    pub detail: String,
    /// What to do when it is not ok.
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DoctorReport {
    pub version: String,
    /// True when every required check passed.
    pub ok: bool,
    pub checks: Vec<DoctorCheck>,
    pub data_dir: String,
    pub log_dir: String,
}

/// Runs every check concurrently.
pub async fn run(paths: &AppPaths) -> DoctorReport {
    let (docker, keyring, git, python) = tokio::join!(check_docker(), check_keyring(), check_git(), check_python());
    let checks = vec![docker, keyring, git, python];
    DoctorReport {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ok: checks.iter().all(|check| check.ok || !check.required),
        checks,
        data_dir: paths.data_dir.display().to_string(),
        log_dir: paths.log_dir.display().to_string(),
    }
}

fn passed(id: CheckId, name: &str, detail: String) -> DoctorCheck {
    DoctorCheck {
        id,
        name: name.to_owned(),
        ok: true,
        required: true,
        detail,
        hint: None,
    }
}

fn failed(id: CheckId, name: &str, error: AppError) -> DoctorCheck {
    DoctorCheck {
        id,
        name: name.to_owned(),
        ok: false,
        required: true,
        hint: Some(error.cli_hint().to_owned()),
        detail: error.detail.unwrap_or(error.message),
    }
}

async fn check_docker() -> DoctorCheck {
    const NAME: &str = "Docker Engine";
    match docker::engine_version().await {
        Ok(version) => passed(
            CheckId::DockerEngine,
            NAME,
            format!(
                "running at {}, version {} (API {})",
                docker::engine_address(),
                version.version,
                version.api_version
            ),
        ),
        Err(error) => failed(CheckId::DockerEngine, NAME, error.into()),
    }
}

async fn check_keyring() -> DoctorCheck {
    const NAME: &str = "OS keyring";
    match secrets::keyring_answers(PROBE_TIMEOUT).await {
        Ok(detail) => passed(CheckId::Keyring, NAME, detail),
        Err(error) => failed(CheckId::Keyring, NAME, error),
    }
}

/// What a release needs from this machine, asked when the window starts and when it
/// regains focus: the Docker Engine and the keyring, each with what to do when it fails.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SystemStatus {
    /// `None` when the engine answers.
    pub docker: Option<AppError>,
    /// The engine's version, when it answers.
    pub docker_version: Option<String>,
    /// `None` when the keyring answers.
    pub keyring: Option<AppError>,
    /// The Docker context the engine comes from, when one is chosen (`docker context use`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub docker_context: Option<String>,
}

pub async fn system_status() -> SystemStatus {
    let (engine, keyring) = tokio::join!(docker::engine_version(), secrets::keyring_answers(PROBE_TIMEOUT));
    let (docker_version, docker) = match engine {
        Ok(version) => (Some(version.version), None),
        Err(error) => (None, Some(error.into())),
    };
    SystemStatus {
        docker,
        docker_version,
        keyring: keyring.err(),
        docker_context: docker::EngineEndpoint::from_env().context,
    }
}

async fn check_git() -> DoctorCheck {
    let hint =
        "Install git (Debian/Ubuntu: `sudo apt install git`; macOS: `xcode-select --install`; Windows: git-scm.com).";
    tool_check(CheckId::Git, "git", &["git"], hint).await
}

async fn check_python() -> DoctorCheck {
    let hint =
        "Install Python 3 with venv (Debian/Ubuntu: `sudo apt install python3 python3-venv`; others: python.org).";
    tool_check(CheckId::Python, "Python", &["python3", "python"], hint).await
}

/// Passes when the first of `programs` that runs prints a version.
async fn tool_check(id: CheckId, name: &str, programs: &[&str], hint: &str) -> DoctorCheck {
    let mut problems = Vec::new();
    for program in programs {
        match tool_version(program).await {
            Ok(version) => return passed(id, name, version),
            Err(problem) => problems.push(format!("{program}: {problem}")),
        }
    }
    DoctorCheck {
        id,
        name: name.to_owned(),
        ok: false,
        required: true,
        detail: problems.join("; "),
        hint: Some(hint.to_owned()),
    }
}

async fn tool_version(program: &str) -> Result<String, String> {
    let mut command = tokio::process::Command::new(program);
    command.arg("--version").kill_on_drop(true);
    let output = match tokio::time::timeout(PROBE_TIMEOUT, command.output()).await {
        Err(_) => return Err(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())),
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::NotFound => return Err("not found".to_owned()),
        Ok(Err(error)) => return Err(error.to_string()),
        Ok(Ok(output)) => output,
    };
    // Python 2 printed its version on stderr; take whichever has it.
    let text = [output.stdout, output.stderr]
        .iter()
        .map(|bytes| String::from_utf8_lossy(bytes).trim().to_owned())
        .find(|text| !text.is_empty())
        .unwrap_or_default();
    if output.status.success() && !text.is_empty() {
        Ok(text.lines().next().unwrap_or_default().to_owned())
    } else {
        Err(format!("`{program} --version` failed ({})", output.status))
    }
}

/// The report as the CLI prints it.
pub fn render_text(report: &DoctorReport) -> String {
    let mut out = format!("Slipway {}: system check\n", report.version);
    let width = report.checks.iter().map(|check| check.name.len()).max().unwrap_or(0);
    for check in &report.checks {
        let mark = if check.ok { "ok  " } else { "FAIL" };
        out.push_str(&format!("  {mark} {:width$}  {}\n", check.name, check.detail));
        if let (false, Some(hint)) = (check.ok, &check.hint) {
            out.push_str(&format!("       {:width$}  -> {hint}\n", ""));
        }
    }
    out.push_str(&format!("Data: {}\nLogs: {}\n", report.data_dir, report.log_dir));
    out.push_str(if report.ok {
        "Everything Slipway needs is here.\n"
    } else {
        "Something Slipway needs is missing: see FAIL above.\n"
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_tool_is_reported_with_its_hint() {
        let check = tool_check(CheckId::Git, "git", &["slipway-no-such-tool-xyz"], "Install it.").await;
        assert!(!check.ok);
        assert!(check.detail.contains("not found"), "{}", check.detail);
        assert_eq!(check.hint.as_deref(), Some("Install it."));
    }

    #[tokio::test]
    async fn the_first_working_program_wins() {
        let check = tool_check(CheckId::Git, "git", &["slipway-no-such-tool-xyz", "git"], "Install it.").await;
        assert!(check.ok, "{}", check.detail);
        assert!(check.detail.starts_with("git version"), "{}", check.detail);
    }

    #[test]
    fn text_report_shows_hints_only_for_failures() {
        let report = DoctorReport {
            version: "0.0.0".into(),
            ok: false,
            checks: vec![
                passed(CheckId::Git, "git", "git version 2".into()),
                DoctorCheck {
                    id: CheckId::Python,
                    name: "Python".into(),
                    ok: false,
                    required: true,
                    detail: "not found".into(),
                    hint: Some("Install Python".into()),
                },
            ],
            data_dir: "/d".into(),
            log_dir: "/d/logs".into(),
        };
        let text = render_text(&report);
        assert!(text.contains("FAIL Python"), "{text}");
        assert!(text.contains("-> Install Python"), "{text}");
        assert_eq!(text.matches("->").count(), 1, "{text}");
        assert!(text.contains("Logs: /d/logs"));
    }
}
