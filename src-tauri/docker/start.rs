//! Starting Docker for the person: Docker Desktop where it is installed (macOS, Windows, and
//! Linux with its user service), else the one command that starts the engine on this system.
//!
//! On Linux without Docker Desktop the engine is a system service that needs an administrator:
//! Slipway does not ask for a password, it says the command (the error's terminal hint, which
//! the window shows with a Copy button).

use std::path::Path;
use std::process::Command;

use crate::error::{AppError, ErrorKind};

/// Starts Docker Desktop when it is installed; otherwise an error whose message says how to
/// start the engine here and whose terminal hint is the command to type.
pub fn start_docker() -> Result<(), AppError> {
    if cfg!(target_os = "macos") {
        return launched(Command::new("open").args(["-a", "Docker"]).status());
    }
    if cfg!(target_os = "windows") {
        return launched(
            Command::new("cmd")
                .args(["/C", "start", "", r"C:\Program Files\Docker\Docker\Docker Desktop.exe"])
                .status(),
        );
    }
    if linux_desktop_installed() {
        return launched(
            Command::new("systemctl")
                .args(["--user", "start", "docker-desktop"])
                .status(),
        );
    }
    let command = linux_start_command(Path::new("/run/systemd/system").is_dir());
    Err(AppError::new(
        ErrorKind::DockerUnavailable,
        "Docker runs as a system service here; this command in a terminal starts it:",
        "Once it runs, the badge at the top turns green by itself.",
    )
    .in_terminal(command))
}

/// The command that starts the engine on a Linux system, with or without systemd.
fn linux_start_command(systemd: bool) -> &'static str {
    if systemd {
        "sudo systemctl start docker"
    } else {
        "sudo service docker start"
    }
}

/// Docker Desktop for Linux installs a systemd user service named `docker-desktop`.
fn linux_desktop_installed() -> bool {
    Command::new("systemctl")
        .args(["--user", "cat", "docker-desktop.service"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn launched(status: std::io::Result<std::process::ExitStatus>) -> Result<(), AppError> {
    let detail = match status {
        Ok(status) if status.success() => return Ok(()),
        Ok(status) => format!("the launcher ended with {status}"),
        Err(error) => error.to_string(),
    };
    Err(AppError::new(
        ErrorKind::DockerUnavailable,
        "Docker Desktop could not be started.",
        "Open Docker Desktop yourself; the badge at the top turns green once it runs.",
    )
    .with_detail(detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_fits_the_service_manager() {
        assert_eq!(linux_start_command(true), "sudo systemctl start docker");
        assert_eq!(linux_start_command(false), "sudo service docker start");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn without_docker_desktop_linux_says_the_command() {
        if linux_desktop_installed() {
            return;
        }
        let Err(error) = start_docker() else {
            panic!("nothing was started, so nothing may claim it was");
        };
        let command = error.terminal_hint.clone().unwrap_or_default();
        assert!(command.starts_with("sudo "), "{command}");
        assert!(error.message.ends_with("starts it:"), "{}", error.message);
    }
}
