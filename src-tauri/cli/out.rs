//! The CLI's standard output, which survives its reader: once the pipe closes
//! (`slipway history | head -1`), what is left to print is dropped and the command goes on to
//! its end, quietly. A release is never left half done because its reader went away.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// The reader went away (or stdout failed otherwise): nothing more is written.
static GONE: AtomicBool = AtomicBool::new(false);

/// `print!`: the text as it is.
pub fn text(args: std::fmt::Arguments<'_>) {
    write(args, false);
}

/// `println!`: the text and a new line.
pub fn line(args: std::fmt::Arguments<'_>) {
    write(args, true);
}

fn write(args: std::fmt::Arguments<'_>, newline: bool) {
    if GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = out
        .write_fmt(args)
        .and_then(|()| if newline { out.write_all(b"\n") } else { Ok(()) })
        .and_then(|()| out.flush());
    if let Err(error) = written {
        GONE.store(true, Ordering::Relaxed);
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            tracing::warn!(%error, "standard output failed; the rest of the output is dropped");
        }
    }
}

/// One value as a JSON line, its secrets redacted (`--json` output).
pub(super) fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string(value) {
        Ok(text) => line(format_args!("{}", crate::secrets::redact(&text))),
        Err(error) => eprintln!("could not write JSON: {error}"),
    }
}
