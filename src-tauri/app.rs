//! The window face of the binary: builds the Tauri app and runs it.
//!
//! Setup only constructs state; every slow thing (doctor, git) runs when the UI asks.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::commands::{self, AppState};
use crate::instance::{self, Claim, Launch};
use crate::logging::{self, Face};
use crate::paths::AppPaths;
use crate::settings::Settings;

/// Adds Slipway's plugins, state and commands to a builder. The real app and the mock-runtime
/// test both go through here, so they cannot drift apart.
/// `launch`: what the launch asked (a folder opened in place of the last project, the picker).
pub fn configure<R: tauri::Runtime>(builder: tauri::Builder<R>, state: AppState, launch: &Launch) -> tauri::Builder<R> {
    let tasks = state.tasks.clone();
    // Read now, before the window exists, and handed to the page with its first script.
    let start = commands::start_script(commands::start_view(&state, launch).as_ref());
    builder
        .plugin(
            tauri::plugin::Builder::<R>::new("slipway-start")
                .js_init_script(start)
                .build(),
        )
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        // Checks and installs only when the person asks (see `commands::update`).
        .plugin(tauri_plugin_updater::Builder::new().build())
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

/// Opens the window and returns when it closes; with a folder, that project in it. When a
/// window is open already on this data folder, it comes forward (and does what `launch`
/// asks) instead.
pub fn run(mut launch: Launch) -> ExitCode {
    // First, while this is the only thread: the web process reads it when it starts.
    paint_on_the_cpu_without_a_gpu();
    match launch.open.as_deref().map(launch_folder).transpose() {
        Ok(folder) => launch.open = folder,
        Err(message) => {
            // As clap says a usage error: a mistyped command lands here.
            eprintln!(
                "error: {message}\n\n{}\n\nGive a project's folder, or a command; for more information, try '--help'.",
                crate::cli::usage()
            );
            return ExitCode::from(2);
        }
    }
    let paths = match AppPaths::resolve() {
        Ok(paths) => paths,
        Err(error) => {
            eprintln!("error: {}\nhint: {}", error.message, error.hint);
            return ExitCode::FAILURE;
        }
    };
    let folders_problem = paths.ensure().err();
    let listener = match instance::claim(&paths.data_dir, &launch) {
        Ok(Claim::First(listener)) => listener,
        Ok(Claim::Handed) => {
            println!("Slipway is already open: its window came forward.");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!(
                "error: Slipway is already open on this data folder, but its window did not answer ({error}).\n\
                 hint: close that window, or end Slipway in the system monitor, and start it again."
            );
            return ExitCode::FAILURE;
        }
    };
    let (settings, settings_problem) = Settings::load(&paths);
    let _logging = logging::init(&paths, &settings, Face::App);
    for problem in folders_problem.map(|e| e.message).into_iter().chain(settings_problem) {
        tracing::warn!("{problem}");
    }
    tracing::info!(version = env!("CARGO_PKG_VERSION"), data = %paths.data_dir.display(), "starting the window");
    crate::checks::look_after_children(&paths.data_dir);

    let window_state = remembered_window(&paths.data_dir);
    let data_dir = paths.data_dir.clone();
    let state = AppState::new(paths);
    // Later launches are heard from now on: answered at once, and kept until the page takes them.
    let heard = std::sync::Arc::new(std::sync::OnceLock::<tauri::AppHandle>::new());
    if let Some(listener) = listener {
        let (launches, heard) = (state.launches.clone(), heard.clone());
        listener.serve(move |launch| {
            launches.push(launch);
            if let Some(app) = heard.get() {
                bring_forward(app);
            }
        });
    }
    let tasks = state.tasks.clone();
    crate::crash::watch(
        &state.paths.data_dir,
        &state.paths.log_dir,
        "the window",
        Box::new(move || tasks.describe_now()),
    );
    crate::crash::panic_if_asked("window");
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
    let builder = tauri::Builder::default()
        .plugin(window_state)
        .on_window_event(keep_window_state);
    let app = match configure(builder, state, &launch).build(tauri::generate_context!()) {
        Ok(app) => app,
        Err(error) => {
            tracing::error!("the window could not start: {error}");
            eprintln!("Slipway could not open its window: {error}");
            return ExitCode::FAILURE;
        }
    };
    // A launch heard while the window was being built waits for the page, which takes the
    // launches when it starts listening.
    let _ = heard.set(app.handle().clone());
    app.run(move |_, event| {
        if let tauri::RunEvent::Exit = event {
            instance::close(&data_dir);
            crate::crash::went_on(&data_dir);
        }
    });
    ExitCode::SUCCESS
}

/// What of the window comes back at the next start: its size, position and maximised state,
/// kept in the data folder (so two data folders, as the tests have, do not share a window).
const WINDOW_STATE: tauri_plugin_window_state::StateFlags = tauri_plugin_window_state::StateFlags::SIZE
    .union(tauri_plugin_window_state::StateFlags::POSITION)
    .union(tauri_plugin_window_state::StateFlags::MAXIMIZED);

fn remembered_window<R: tauri::Runtime>(data_dir: &Path) -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_window_state::Builder::new()
        // An absolute name: the plugin joins it to its folder, which it then replaces.
        .with_filename(data_dir.join("window-state.json").display().to_string())
        .with_state_flags(WINDOW_STATE)
        .build()
}

/// The plugin writes the window's state only when the app exits normally; a session that
/// ends (or a Slipway that is killed) would lose it. Written again a moment after the window
/// stops moving or changing size.
fn keep_window_state<R: tauri::Runtime>(window: &tauri::Window<R>, event: &tauri::WindowEvent) {
    use std::sync::atomic::{AtomicU64, Ordering};
    use tauri_plugin_window_state::AppHandleExt;
    static LAST_CHANGE: AtomicU64 = AtomicU64::new(0);
    if !matches!(event, tauri::WindowEvent::Moved(_) | tauri::WindowEvent::Resized(_)) {
        return;
    }
    let change = LAST_CHANGE.fetch_add(1, Ordering::SeqCst) + 1;
    let app = tauri::Manager::app_handle(window).clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        if LAST_CHANGE.load(Ordering::SeqCst) != change {
            return;
        }
        // On the main thread: the save holds the plugin's cache while it asks the window for
        // its state, which only the main thread answers, and the main thread's own move and
        // resize handler takes that cache. Saved from elsewhere, the two could wait on each
        // other for good.
        let saver = app.clone();
        let queued = app.run_on_main_thread(move || {
            if let Err(error) = saver.save_window_state(WINDOW_STATE) {
                tracing::info!(%error, "the window's size and place could not be kept");
            }
        });
        if let Err(error) = queued {
            tracing::info!(%error, "the window's size and place could not be kept");
        }
    });
}

/// The folder a launch was given, made absolute against where it was launched from: the open
/// window, which may get it, started elsewhere. A typo of a command lands here too.
fn launch_folder(given: &Path) -> Result<PathBuf, String> {
    match given.canonicalize() {
        Ok(folder) if folder.is_dir() => Ok(folder),
        Ok(_) => Err(format!("{} is a file, not a project's folder.", given.display())),
        Err(_) => Err(format!("There is no folder or command named {}.", given.display())),
    }
}

/// A later launch: the window comes forward and tells the page to take what it asked.
fn bring_forward<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    use tauri::{Emitter, Manager};
    if let Some(window) = app.get_webview_window("main") {
        // Each may be refused by the desktop (focus stealing prevention); the launch still counts.
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
    if let Err(error) = app.emit("slipway://launch", ()) {
        tracing::info!(%error, "a later launch could not be told to the window");
    }
}

/// WebKit's switches for a machine without a GPU: paint with Skia on the CPU instead of
/// through OpenGL, and draw the page as one picture instead of composited layers.
#[cfg(target_os = "linux")]
const NO_GPU_SWITCHES: [(&str, &str); 2] = [
    ("WEBKIT_SKIA_ENABLE_CPU_RENDERING", "1"),
    ("WEBKIT_DISABLE_COMPOSITING_MODE", "1"),
];

/// On a machine without a GPU (a VM, a remote desktop, CI), WebKit's GPU work runs on
/// llvmpipe, Mesa's emulation of a GPU on the CPU. Painting tiles through emulated shaders
/// held 40 MB more in the web process (162 MB against 122 MB on the example project), and
/// compositing layers through it kept the main threads of both processes busy: measured on
/// this project's benchmark, the longest frame of a 100,000-line log was 165 to 176 ms and of
/// History scrolled 83 to 111 ms, against 38 to 77 ms and 39 to 47 ms drawn as one picture on
/// the CPU, which also holds 50 MB less in all. With a GPU, or when the person set a switch
/// themselves, nothing changes.
fn paint_on_the_cpu_without_a_gpu() {
    #[cfg(target_os = "linux")]
    if NO_GPU_SWITCHES.iter().all(|(name, _)| std::env::var_os(name).is_none()) && no_gpu() {
        for (name, value) in NO_GPU_SWITCHES {
            // Before any other thread exists (see `run`), so nothing reads the environment meanwhile.
            std::env::set_var(name, value);
        }
    }
}

/// The switches Slipway sets for the web view on this machine, if any: `scripts/bench app`
/// gives the bare window the same, to compare like with like.
pub fn web_view_switches() -> Vec<(&'static str, &'static str)> {
    #[cfg(target_os = "linux")]
    if no_gpu() {
        return NO_GPU_SWITCHES.to_vec();
    }
    Vec::new()
}

#[cfg(target_os = "linux")]
fn no_gpu() -> bool {
    software_gl_only(
        std::path::Path::new("/dev/dri"),
        std::env::var_os("LIBGL_ALWAYS_SOFTWARE").as_deref(),
    )
}

/// Whether OpenGL can only be Mesa's software one: no render node in `dri` (no GPU the
/// session may use), or `LIBGL_ALWAYS_SOFTWARE` set to anything but 0 or empty.
#[cfg(target_os = "linux")]
fn software_gl_only(dri: &std::path::Path, always_software: Option<&std::ffi::OsStr>) -> bool {
    if always_software.is_some_and(|value| !value.is_empty() && value != "0") {
        return true;
    }
    let has_render_node = std::fs::read_dir(dri).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|entry| entry.file_name().to_string_lossy().starts_with("renderD"))
    });
    !has_render_node
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn software_gl_is_told_by_the_render_nodes_and_mesas_switch() -> std::io::Result<()> {
        let dri = tempfile::tempdir()?;
        let missing = dri.path().join("missing");
        assert!(software_gl_only(&missing, None), "no /dev/dri at all");
        std::fs::write(dri.path().join("card0"), "")?;
        assert!(
            software_gl_only(dri.path(), None),
            "a display card without a render node"
        );
        std::fs::write(dri.path().join("renderD128"), "")?;
        assert!(
            !software_gl_only(dri.path(), None),
            "a render node: a GPU to paint with"
        );
        assert!(!software_gl_only(dri.path(), Some("0".as_ref())));
        assert!(!software_gl_only(dri.path(), Some("".as_ref())));
        assert!(
            software_gl_only(dri.path(), Some("1".as_ref())),
            "Mesa told to use software"
        );
        Ok(())
    }
}
