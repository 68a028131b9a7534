//! A panic, written down where the next start finds it: what broke (redacted, as every sink
//! is), what Slipway was doing, and where the log is. The window shows it once at its next
//! start ("Slipway stopped unexpectedly") until the person dismisses it. Sentry, when a DSN is
//! set, gets the panic through its own hook (see `logging`), scrubbed by `before_send`.
//!
//! Only the last crash is kept: it is a prompt for the person, not a history (the log is).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::redact::redact;

/// The last panic, as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CrashReport {
    /// RFC 3339.
    pub at: String,
    pub version: String,
    /// Which face broke: "the window", or the command (`slipway release`).
    pub face: String,
    /// The panic's message and where in the code, redacted.
    pub message: String,
    /// What was running then, in a person's words ("A release of /home/ann/lettings").
    pub doing: Vec<String>,
    pub log_folder: String,
    /// The process ended with it; `false` when a background job broke and the app went on.
    pub stopped: bool,
}

const FILE: &str = "crash.json";

/// What Slipway is doing now, asked at the moment of a panic: it must not block.
pub type Doing = Box<dyn Fn() -> Vec<String> + Send + Sync>;

struct Watch {
    data_dir: PathBuf,
    log_folder: String,
    face: String,
    doing: Doing,
}

static WATCH: Mutex<Option<Watch>> = Mutex::new(None);
/// A report was written by this process: at a clean exit it went on.
static WROTE: AtomicBool = AtomicBool::new(false);

/// Writes every later panic of this process down for the next start. Called once the log is
/// set up (its hook, which logs the panic, runs after this one).
pub fn watch(data_dir: &Path, log_dir: &Path, face: &str, doing: Doing) {
    if let Ok(mut watch) = WATCH.lock() {
        *watch = Some(Watch {
            data_dir: data_dir.to_path_buf(),
            log_folder: log_dir.display().to_string(),
            face: face.to_owned(),
            doing,
        });
    }
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            write_down(info);
            previous(info);
        }));
    });
}

fn write_down(info: &std::panic::PanicHookInfo<'_>) {
    // try_lock: a panic while the watch is being set (or a second panic meanwhile) is logged,
    // never waited on.
    let Ok(watch) = WATCH.try_lock() else { return };
    let Some(watch) = watch.as_ref() else { return };
    let report = CrashReport {
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        face: watch.face.clone(),
        message: redact(&panic_text(info)).into_owned(),
        doing: (watch.doing)().iter().map(|line| redact(line).into_owned()).collect(),
        log_folder: watch.log_folder.clone(),
        stopped: true,
    };
    if save(&watch.data_dir, &report).is_ok() {
        WROTE.store(true, Ordering::SeqCst);
    }
}

/// "message, at src/file.rs:10:5, on thread 'name'".
fn panic_text(info: &std::panic::PanicHookInfo<'_>) -> String {
    let payload = info
        .payload()
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    let place = info
        .location()
        .map(|place| format!(", at {}:{}:{}", place.file(), place.line(), place.column()))
        .unwrap_or_default();
    let thread = std::thread::current();
    let thread = thread
        .name()
        .map(|name| format!(", on thread '{name}'"))
        .unwrap_or_default();
    format!("{payload}{place}{thread}")
}

fn save(data_dir: &Path, report: &CrashReport) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    // Whole or not at all: a half-written report would read as none.
    let temporary = data_dir.join(format!("{FILE}.tmp"));
    std::fs::write(&temporary, json)?;
    std::fs::rename(temporary, data_dir.join(FILE))
}

/// The last crash not yet dismissed.
pub fn last(data_dir: &Path) -> Option<CrashReport> {
    let bytes = std::fs::read(data_dir.join(FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The person has read it.
pub fn dismiss(data_dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(data_dir.join(FILE)) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// A clean exit: a panic this process wrote down did not stop it (a background job broke).
pub fn went_on(data_dir: &Path) {
    if !WROTE.load(Ordering::SeqCst) {
        return;
    }
    if let Some(mut report) = last(data_dir) {
        report.stopped = false;
        let _ = save(data_dir, &report);
    }
}

/// `SLIPWAY_TEST_PANIC`: breaks on purpose, with its value in the message, so crash reporting
/// can be tried end to end (by the tests, or by a person checking their Sentry DSN).
pub fn panic_if_asked(face: &str) {
    if let Some(value) = std::env::var_os("SLIPWAY_TEST_PANIC").filter(|value| !value.is_empty()) {
        panic!(
            "the {face} broke on purpose (SLIPWAY_TEST_PANIC={})",
            value.to_string_lossy()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_kept_whole_until_dismissed() -> Result<(), Box<dyn std::error::Error>> {
        let data = tempfile::tempdir()?;
        assert_eq!(last(data.path()), None);
        let report = CrashReport {
            at: "2026-12-07T21:00:00Z".to_owned(),
            version: "0.1.0".to_owned(),
            face: "the window".to_owned(),
            message: "index out of bounds, at src-tauri/x.rs:1:1".to_owned(),
            doing: vec!["A release of /p/lettings".to_owned()],
            log_folder: "/logs".to_owned(),
            stopped: true,
        };
        save(data.path(), &report)?;
        assert_eq!(last(data.path()), Some(report));
        assert!(!data.path().join("crash.json.tmp").exists());
        dismiss(data.path())?;
        assert_eq!(last(data.path()), None);
        dismiss(data.path())?;
        Ok(())
    }
}
