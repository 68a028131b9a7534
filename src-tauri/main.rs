// Hide the console window of release builds on Windows; the CLI still prints when run from one.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    slipway::main_entry()
}
