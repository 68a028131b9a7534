//! The app smoke test: the real configuration and capabilities on Tauri's mock runtime.

use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;

use super::list::COMMANDS;
use super::AppState;
use crate::paths::AppPaths;

fn request(cmd: &str, body: serde_json::Value) -> Result<InvokeRequest, Box<dyn std::error::Error>> {
    Ok(InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse()?,
        body: InvokeBody::Json(body),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    })
}

#[test]
fn every_listed_command_is_registered_and_granted_to_the_main_window() -> Result<(), Box<dyn std::error::Error>> {
    let data = tempfile::tempdir()?;
    let project = data.path().join("shop");
    std::fs::create_dir(&project)?;
    let state = AppState::new(AppPaths::under(data.path()));
    let app = crate::app::configure(mock_builder(), state, &Default::default()).build(tauri::generate_context!())?;
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build()?;

    let path = project.display().to_string();
    for command in COMMANDS {
        let body = match *command {
            "open_project" | "forget_recent_project" | "detect_project" | "cancel_checks" => {
                serde_json::json!({ "path": path })
            }
            _ => serde_json::json!({}),
        };
        // A command that needs more arguments answers that one is missing: it is registered
        // and the window may call it. Not found or not allowed would say so instead.
        match get_ipc_response(&window, request(command, body)?) {
            // Linux without Docker Desktop runs the engine as a service this app does not
            // start: it says the command for this system.
            Err(error) if *command == "open_docker_desktop" && cfg!(target_os = "linux") => {
                assert_eq!(error["kind"], "dockerUnavailable", "{error}");
                let hint = error["terminalHint"].as_str().unwrap_or_default();
                assert!(
                    ["sudo systemctl start docker", "sudo service docker start"].contains(&hint),
                    "{error}"
                );
            }
            // It asks Render with the connected key, and none is: it says so.
            Err(error) if *command == "render_services" => {
                assert_eq!(error["kind"], "precondition", "{error}");
                assert_eq!(error["action"], "openAccounts", "{error}");
            }
            Err(error) => {
                let text = error.to_string();
                assert!(text.contains("missing required key"), "{command} failed: {text}");
            }
            Ok(_) => {}
        }
    }

    let opened = get_ipc_response(&window, request("open_project", serde_json::json!({ "path": path }))?)
        .map_err(|error| error.to_string())?
        .deserialize::<serde_json::Value>()?;
    assert_eq!(opened["name"], "shop");

    let missing = get_ipc_response(
        &window,
        request("open_project", serde_json::json!({ "path": "/nonexistent/x" }))?,
    );
    let error = missing.err().ok_or("a missing folder must be an error")?;
    assert_eq!(error["kind"], "notFound");
    assert!(error["hint"].as_str().is_some_and(|hint| !hint.is_empty()));
    Ok(())
}

#[test]
fn a_command_outside_the_list_is_refused() -> Result<(), Box<dyn std::error::Error>> {
    let data = tempfile::tempdir()?;
    let state = AppState::new(AppPaths::under(data.path()));
    let app = crate::app::configure(mock_builder(), state, &Default::default()).build(tauri::generate_context!())?;
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build()?;
    assert!(get_ipc_response(&window, request("delete_everything", serde_json::json!({}))?).is_err());
    Ok(())
}

/// What `check_for_update` answers with `settings.json`'s update address set to `url`.
fn update_check_with(
    url: Option<&str>,
) -> Result<Result<serde_json::Value, serde_json::Value>, Box<dyn std::error::Error>> {
    let data = tempfile::tempdir()?;
    if let Some(url) = url {
        std::fs::write(
            data.path().join("settings.json"),
            serde_json::json!({ "updateUrl": url }).to_string(),
        )?;
    }
    let state = AppState::new(AppPaths::under(data.path()));
    let app = crate::app::configure(mock_builder(), state, &Default::default()).build(tauri::generate_context!())?;
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build()?;
    Ok(
        get_ipc_response(&window, request("check_for_update", serde_json::json!({}))?)
            .map(|answer| answer.deserialize::<serde_json::Value>().unwrap_or_default()),
    )
}

#[test]
fn updates_are_asked_for_only_with_an_address_and_a_key() -> Result<(), Box<dyn std::error::Error>> {
    // No address (a build from a clone): nothing is asked, nothing offered.
    assert_eq!(update_check_with(None)?, Ok(serde_json::Value::Null));
    assert_eq!(update_check_with(Some("  "))?, Ok(serde_json::Value::Null));
    // Plain http to another machine: refused before anything is asked.
    let refused = update_check_with(Some("http://updates.example.test/latest.json"))?
        .err()
        .ok_or("an http address was used")?;
    assert_eq!(refused["kind"], "validation", "{refused}");
    assert_eq!(refused["message"], "Slipway's update address cannot be used.");
    // This configuration has no update key (tauri.conf.json's is empty): said, not tried.
    let keyless = update_check_with(Some("https://updates.example.test/latest.json"))?
        .err()
        .ok_or("a build without a key asked for an update")?;
    assert_eq!(keyless["kind"], "precondition", "{keyless}");
    assert_eq!(
        keyless["message"],
        "This Slipway was built without an update key, so it cannot update itself."
    );
    Ok(())
}

#[test]
fn the_capability_grants_exactly_the_listed_commands() -> Result<(), Box<dyn std::error::Error>> {
    let capability: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/capabilities/main.json"
    )))?;
    assert_eq!(
        capability["windows"],
        serde_json::json!(["main"]),
        "one window, no wildcard"
    );
    let granted: Vec<String> = capability["permissions"]
        .as_array()
        .ok_or("permissions must be a list")?
        .iter()
        .filter_map(|permission| permission.as_str())
        .filter(|permission| !permission.contains(':'))
        .map(str::to_owned)
        .collect();
    let expected: Vec<String> = COMMANDS
        .iter()
        .map(|name| format!("allow-{}", name.replace('_', "-")))
        .collect();
    assert_eq!(granted, expected);
    let plugins: Vec<&str> = capability["permissions"]
        .as_array()
        .ok_or("permissions must be a list")?
        .iter()
        .filter_map(|permission| permission.as_str())
        .filter(|permission| permission.contains(':'))
        .collect();
    assert_eq!(
        plugins,
        [
            "core:event:allow-listen",
            "core:event:allow-unlisten",
            "dialog:allow-open",
            "dialog:allow-save"
        ],
        "only hearing the app's broadcasts (no emitting), the folder picker and the export save dialog, no plugin defaults"
    );
    Ok(())
}

/// A command's error is the person's to fix unless it is a bug: logged at warn, so the
/// Sentry layer (which reports error level) never turns a wrong token into an event.
#[test]
fn command_errors_are_logged_below_error_level() -> Result<(), Box<dyn std::error::Error>> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri/commands");
    for entry in std::fs::read_dir(&folder)? {
        let path = entry?.path();
        let text = std::fs::read_to_string(&path)?;
        for line in text
            .lines()
            .filter(|line| line.trim_start().starts_with("#[tracing::instrument("))
        {
            let plain_err = line.contains(", err)") || line.contains("(err)");
            assert!(!plain_err, "{}: {line} logs its error at error level", path.display());
        }
    }
    Ok(())
}

/// The UI calls the backend by name: every name its IPC module uses is a listed command,
/// and every listed command is used, so the two lists cannot drift apart.
#[test]
fn the_ui_calls_exactly_the_listed_commands() -> Result<(), Box<dyn std::error::Error>> {
    let ipc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/ipc/index.ts");
    let text = std::fs::read_to_string(ipc)?;
    let called = regex::Regex::new(r#"call<[^(]*>\(\s*"([a-z_]+)""#)?;
    let mut names: Vec<String> = called
        .captures_iter(&text)
        .map(|capture| capture[1].to_owned())
        .collect();
    names.sort();
    names.dedup();
    let mut listed: Vec<String> = COMMANDS.iter().map(|name| (*name).to_owned()).collect();
    listed.sort();
    let unknown: Vec<&String> = names.iter().filter(|name| !listed.contains(name)).collect();
    let unused: Vec<&String> = listed.iter().filter(|name| !names.contains(name)).collect();
    assert!(
        unknown.is_empty(),
        "the UI calls commands the backend does not list: {unknown:?}"
    );
    assert!(unused.is_empty(), "listed commands the UI never calls: {unused:?}");
    Ok(())
}
