// The one list of the app's IPC commands. `build.rs` includes this file to generate one
// `allow-*` permission per command, `capabilities/main.json` grants them, and a test checks
// that the handler list in `lib.rs` and the capability agree with it.
pub const COMMANDS: &[&str] = &[
    "app_info",
    "open_project",
    "recent_projects",
    "forget_recent_project",
    "run_doctor",
    "detect_project",
    "save_project_settings",
    "run_checks",
    "cancel_checks",
    "images_overview",
    "build_project_image",
    "push_image",
    "retag_image",
    "remove_image",
    "list_accounts",
    "connect_registry",
    "connect_render",
    "choose_render_service",
    "connect_render_hook",
    "connect_sentry",
    "connect_circleci",
    "remove_account",
    "check_all_accounts",
];
