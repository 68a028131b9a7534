//! The baseline of `scripts/bench app`: a bare Tauri 2 window (one line of text) built from
//! this package, so it has Slipway's Tauri version, features and release profile.
//!
//! `cargo build --release --example bench_bare_window`

fn main() -> std::process::ExitCode {
    // Its own config and page, not Slipway's: no plugins, no commands, no capabilities.
    let context = tauri::generate_context!("tests/bench/bare/tauri.conf.json");
    match tauri::Builder::default().run(context) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("the bare window could not start: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
