//! tauri-driver as a child process in a process group of its own, stopped with SIGTERM so
//! it stops WebKitWebDriver too (a SIGKILL would leave that child running, holding pipes
//! open); whatever of the group is left then (the app of a test that failed before ending
//! its session) is killed with it.

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Driver {
    child: Child,
    pub url: String,
    /// The web view's own storage (local storage, caches), one per driver, so what one test
    /// leaves there (the first-run guide done, History's filters) never reaches another.
    _webview_data: tempfile::TempDir,
    /// Every URL the app asked the system to open, one a line (a stand-in `xdg-open`).
    pub opened_log: std::path::PathBuf,
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn find_on_path(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

impl Driver {
    /// Starts tauri-driver; the app it launches inherits `app_env` (a private data folder).
    pub fn start(app_env: &[(&str, String)]) -> Result<Self, Box<dyn std::error::Error>> {
        if std::env::var_os("DISPLAY").is_none() {
            return Err("DISPLAY is not set: window tests need the virtual display that `scripts/test` starts".into());
        }
        let cargo_bin = dirs_home().map(|home| home.join(".cargo/bin/tauri-driver"));
        let driver = find_on_path("tauri-driver")
            .or(cargo_bin.filter(|p| p.is_file()))
            .ok_or("tauri-driver is not installed: `scripts/test` installs it (cargo install tauri-driver --locked)")?;
        if find_on_path("WebKitWebDriver").is_none() {
            return Err(
                "WebKitWebDriver is not installed: `scripts/test` installs it (Debian package webkit2gtk-driver)"
                    .into(),
            );
        }
        let port = free_port()?;
        let native_port = free_port()?;
        let mut command = Command::new(driver);
        command
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0);
        for (key, value) in app_env {
            command.env(key, value);
        }
        let webview_data = tempfile::tempdir()?;
        command.env("XDG_DATA_HOME", webview_data.path());
        // The system browser is a script that writes down what it was asked to open.
        let bin = webview_data.path().join("bin");
        std::fs::create_dir_all(&bin)?;
        let opened_log = webview_data.path().join("opened.log");
        let opener = bin.join("xdg-open");
        std::fs::write(
            &opener,
            format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", opened_log.display()),
        )?;
        std::fs::set_permissions(&opener, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        // A test may give the app its own PATH (a slow git); the opener goes first either way.
        let path = app_env
            .iter()
            .find(|(key, _)| *key == "PATH")
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| std::env::var("PATH").unwrap_or_default());
        command.env("PATH", format!("{}:{path}", bin.display()));
        let child = command.spawn()?;
        let started = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _webview_data: webview_data,
            opened_log,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("tauri-driver did not listen within 20s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(started)
    }
}

fn dirs_home() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(std::path::PathBuf::from)
}

impl Drop for Driver {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let terminated = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        while terminated && Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The group's id is the driver's pid: the app and WebKitWebDriver, if still there.
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).status();
    }
}
