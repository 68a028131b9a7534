//! Logging and error reporting.
//!
//! `tracing` writes to stderr and to a daily rolling file in the log folder; both writers go
//! through the redactor, line by line. Sentry starts only when a DSN is configured, with a
//! `before_send` that redacts every string of the event, and hooks into `tracing` so errors
//! carry their span. A panic is logged (and, with Sentry, reported) before the process ends.

use std::io::{self, Write};

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::paths::AppPaths;
use crate::secrets::redact;
use crate::settings::Settings;

/// How many daily log files are kept.
const KEPT_LOG_FILES: usize = 14;
pub const LOG_FILE_PREFIX: &str = "slipway";
/// Lines waiting for the log file's writer thread (32 bytes a line reserved).
const BUFFERED_LOG_LINES: usize = 4096;

/// Who is logging: the CLI keeps stderr for warnings so its output stays readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Cli,
    App,
}

/// Keeps the file writer and Sentry alive; drop it last, on the way out.
pub struct LoggingGuard {
    _file: Option<tracing_appender::non_blocking::WorkerGuard>,
    _sentry: Option<sentry::ClientInitGuard>,
}

/// Starts logging. Never fails: a log folder that cannot be written leaves stderr logging.
pub fn init(paths: &AppPaths, settings: &Settings, face: Face) -> LoggingGuard {
    let stderr_default = match face {
        Face::Cli => "warn",
        Face::App => "info",
    };
    let stderr_filter = EnvFilter::try_from_env("SLIPWAY_LOG").unwrap_or_else(|_| EnvFilter::new(stderr_default));
    // The panic hook prints its own line, whatever the level.
    let stderr_filter = match "panic=off".parse() {
        Ok(directive) => stderr_filter.add_directive(directive),
        Err(_) => stderr_filter,
    };
    // Colour only for a person at a terminal: a redirected stderr (a file, CI) gets plain text.
    let stderr_layer = tracing_subscriber::fmt::layer()
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
        .with_writer(Redacting(io::stderr))
        .with_filter(stderr_filter);

    let (file_layer, file_guard, file_problem) = match file_appender(paths) {
        Ok(appender) => {
            // The default holds 128,000 lines, allocated and written through at start: 4 MB
            // the window kept for its whole life. Slipway logs a few lines a minute at info, and
            // the writer thread drains them as they come; past the limit, lines are dropped and
            // the caller never waits.
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .buffered_lines_limit(BUFFERED_LOG_LINES)
                .finish(appender);
            let layer = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(Redacting(writer))
                .with_filter(EnvFilter::new("info"));
            (Some(layer), Some(guard), None)
        }
        Err(error) => (None, None, Some(error)),
    };

    let sentry_guard = settings.effective_sentry_dsn().and_then(init_sentry);
    // Errors become Sentry events carrying their span; lesser lines ride along as breadcrumbs.
    let sentry_layers = sentry_guard.as_ref().map(|_| {
        use sentry::integrations::tracing::{BreadcrumbLayer, ErrorLayer, SpanLayer};
        use tracing_subscriber::filter::LevelFilter;
        SpanLayer::new()
            .with_filter(LevelFilter::INFO)
            // A panic is reported by Sentry's own handler (see `install_panic_hook`), not twice.
            .and_then(
                ErrorLayer::new().with_filter(tracing_subscriber::filter::filter_fn(|meta| {
                    *meta.level() == tracing::Level::ERROR && meta.target() != "panic"
                })),
            )
            .and_then(BreadcrumbLayer::new().with_filter(LevelFilter::INFO))
    });

    // A second init (tests start the app several times in one process) keeps the first.
    let _ = tracing_subscriber::registry()
        .with(stderr_layer)
        .with(file_layer)
        .with(sentry_layers)
        .try_init();

    if let Some(problem) = file_problem {
        tracing::warn!("logging to stderr only: {problem}");
    }
    install_panic_hook();
    LoggingGuard {
        _file: file_guard,
        _sentry: sentry_guard,
    }
}

/// Sends a test event to Sentry and waits for it to leave; false when reporting is off.
pub fn send_test_event() -> bool {
    let Some(client) = sentry::Hub::current().client().filter(|client| client.is_enabled()) else {
        return false;
    };
    let id = sentry::capture_message("Slipway test event: error reporting works", sentry::Level::Info);
    let sent = client.flush(Some(std::time::Duration::from_secs(10)));
    println!(
        "Sent a test event to Sentry (event {id}){}",
        if sent { "" } else { "; it may not have arrived" }
    );
    sent
}

fn file_appender(paths: &AppPaths) -> Result<RollingFileAppender, String> {
    std::fs::create_dir_all(&paths.log_dir).map_err(|error| format!("{}: {error}", paths.log_dir.display()))?;
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(LOG_FILE_PREFIX)
        .filename_suffix("log")
        .max_log_files(KEPT_LOG_FILES)
        .build(&paths.log_dir)
        .map_err(|error| format!("{}: {error}", paths.log_dir.display()))
}

fn init_sentry(dsn: String) -> Option<sentry::ClientInitGuard> {
    let dsn = match dsn.parse::<sentry::types::Dsn>() {
        Ok(dsn) => dsn,
        Err(error) => {
            eprintln!("Sentry is off: the DSN is not valid ({error}).");
            return None;
        }
    };
    let options = sentry::ClientOptions::new()
        .maybe_release(sentry::release_name!())
        .send_default_pii(false)
        .before_send(|event| Some(scrub_event(event)))
        .before_breadcrumb(|breadcrumb| Some(scrub_value(breadcrumb)));
    crate::http::install_tls();
    Some(sentry::init((dsn, options)))
}

/// Redacts every string inside a Sentry event, wherever the SDK or a library put it.
pub fn scrub_event(event: sentry::protocol::Event<'static>) -> sentry::protocol::Event<'static> {
    scrub_value(event)
}

fn scrub_value<T>(value: T) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let Ok(mut json) = serde_json::to_value(&value) else {
        return value;
    };
    scrub_json(&mut json);
    serde_json::from_value(json).unwrap_or(value)
}

fn scrub_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => {
            if let std::borrow::Cow::Owned(clean) = redact(text) {
                *text = clean;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(scrub_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(scrub_json),
        _ => {}
    }
}

/// A panic is logged redacted (to stderr and the file) and sent to Sentry, scrubbed. The hooks
/// before this one are not called: Rust's own prints the raw message to stderr, secrets and
/// all, and Sentry's calls Rust's after it reports.
fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let text = redact(&info.to_string()).into_owned();
            // Said on stderr whatever the log level (the stderr log leaves `panic` out), and
            // kept in the log file; Sentry gets it once, from its own handler.
            eprintln!("{text}");
            // RUST_BACKTRACE, as Rust's own hook would honour it (paths and names only).
            let backtrace = std::backtrace::Backtrace::capture();
            if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
                eprintln!("{backtrace}");
            }
            tracing::error!(target: "panic", "{text}");
            // Reports only when Sentry was started with a DSN.
            sentry::integrations::panic::panic_handler(info);
        }));
    });
}

/// A writer that redacts what one log event writes before it reaches the real sink.
#[derive(Clone)]
pub struct Redacting<M>(pub M);

impl<'a, M> MakeWriter<'a> for Redacting<M>
where
    M: MakeWriter<'a>,
{
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            inner: self.0.make_writer(),
            buffer: Vec::new(),
        }
    }
}

/// Buffers one event and writes it redacted when dropped (the formatter drops the writer
/// after each event, so nothing waits longer than one line).
pub struct RedactingWriter<W: Write> {
    inner: W,
    buffer: Vec<u8>,
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return self.inner.flush();
        }
        let text = String::from_utf8_lossy(&self.buffer);
        let clean = redact(&text).into_owned();
        self.buffer.clear();
        self.inner.write_all(clean.as_bytes())?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        // Nowhere to report a failing log sink; losing the line is the only option.
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn log_lines_are_redacted_before_they_are_written() {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(Redacting(move || sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                url = "https://x.test/deploy?key=hook-secret-1",
                "calling Authorization: Bearer tok-abcdefgh"
            );
        });
        let written = captured
            .0
            .lock()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        assert!(written.contains("calling"), "{written}");
        assert!(!written.contains("hook-secret-1"), "{written}");
        assert!(!written.contains("tok-abcdefgh"), "{written}");
    }

    #[test]
    fn sentry_events_are_scrubbed_everywhere() {
        let mut event = sentry::protocol::Event {
            message: Some("push failed: Authorization: Bearer tok-in-message".into()),
            ..Default::default()
        };
        event
            .extra
            .insert("url".into(), "https://h.test/?token=tok-in-extra".into());
        event.exception.values.push(sentry::protocol::Exception {
            ty: "Error".into(),
            value: Some(r#"{"password":"pw-in-exception"}"#.into()),
            ..Default::default()
        });
        let json = serde_json::to_string(&scrub_event(event)).unwrap_or_default();
        for secret in ["tok-in-message", "tok-in-extra", "pw-in-exception"] {
            assert!(!json.contains(secret), "{secret} leaked: {json}");
        }
        assert!(json.contains("push failed"));
    }
}
