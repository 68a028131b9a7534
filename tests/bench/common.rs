//! What the benchmarks share: each is an example of its own, and takes what it needs.
#![allow(dead_code)] // Not every benchmark uses every piece.

use std::process::Command;
use std::time::Duration;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The middle sample (the upper one of an even count).
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Runs `command`; its standard error when it fails.
pub fn run(command: &mut Command) -> Result<()> {
    let output = command.output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr)).into())
    }
}
