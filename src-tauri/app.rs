//! The window face of the binary: builds the Tauri app and runs it.
//!
//! Setup only constructs state; every slow thing (doctor, git) runs when the UI asks.

use std::process::ExitCode;

use crate::commands::{self, AppState};
use crate::logging::{self, Face};
use crate::paths::AppPaths;
use crate::settings::Settings;

/// Adds Slipway's plugins, state and commands to a builder. The real app and the mock-runtime
/// test both go through here, so they cannot drift apart.
pub fn configure<R: tauri::Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    let tasks = state.tasks.clone();
    builder
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .manage(state)
        .setup(move |app| {
            // Every change to the running tasks reaches every window, whatever page it shows.
            let handle = app.handle().clone();
            tasks.on_change(std::sync::Arc::new(move |list| {
                use tauri::Emitter;
                if let Err(error) = handle.emit("slipway://tasks", list) {
                    tracing::info!(%error, "the task list could not be sent to the window");
                }
            }));
            Ok(())
        })
        .invoke_handler(commands::handler())
}

/// Opens the window and returns when it closes.
pub fn run() -> ExitCode {
    let paths = match AppPaths::resolve() {
        Ok(paths) => paths,
        Err(error) => {
            eprintln!("error: {}\nhint: {}", error.message, error.hint);
            return ExitCode::FAILURE;
        }
    };
    let folders_problem = paths.ensure().err();
    let (settings, settings_problem) = Settings::load(&paths);
    let _logging = logging::init(&paths, &settings, Face::App);
    for problem in folders_problem.map(|e| e.message).into_iter().chain(settings_problem) {
        tracing::warn!("{problem}");
    }
    tracing::info!(version = env!("CARGO_PKG_VERSION"), data = %paths.data_dir.display(), "starting the window");
    crate::checks::look_after_children(&paths.data_dir);

    let state = AppState::new(paths);
    // Releases a killed Slipway left "running" are marked interrupted off the window's first
    // paint: the ledger may be slow to open, the window never waits for it.
    match state.release_context() {
        Ok(context) => {
            let spawned = std::thread::Builder::new()
                .name("mark-interrupted".to_owned())
                .spawn(move || {
                    if let Err(error) = crate::pipeline::start_up(&context) {
                        tracing::warn!("could not check for interrupted releases: {}", error.message);
                    }
                    tauri::async_runtime::block_on(crate::checks::remove_orphaned_services());
                    // A Local deploy a killed Slipway left half-done: the app that ran before runs again.
                    let mended =
                        tauri::async_runtime::block_on(crate::pipeline::put_right_containers(&context.data_dir));
                    if mended > 0 {
                        tracing::warn!(projects = mended, "half-done Local deploys were put right");
                    }
                });
            if let Err(error) = spawned {
                tracing::warn!(%error, "could not check for interrupted releases");
            }
        }
        Err(error) => tracing::warn!("the release history is unavailable: {}", error.message),
    }
    let result = configure(tauri::Builder::default(), state).run(tauri::generate_context!());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("the window could not start: {error}");
            eprintln!("Slipway could not open its window: {error}");
            ExitCode::FAILURE
        }
    }
}
