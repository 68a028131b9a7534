include!("src-tauri/commands/list.rs");

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    let attributes = tauri_build::Attributes::new().app_manifest(manifest);
    if let Err(error) = tauri_build::try_build(attributes) {
        // build.rs has no caller to return to: print the reason where cargo shows it.
        eprintln!("tauri-build failed: {error:#}");
        std::process::exit(1);
    }
}
