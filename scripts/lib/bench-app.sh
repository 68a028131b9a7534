# `scripts/bench app`: Slipway's window against a bare Tauri window, both release builds, under
# a virtual display with the keyring on a private D-Bus, driven through tauri-driver.
# Sourced by scripts/bench after env.sh; everything started is stopped on EXIT.

bench_app() {
  ensure_node_modules
  ensure_tauri_driver
  build_ui
  say "building Slipway, the bare Tauri window and the benchmark (release profile)"
  # One cargo call: the bare window links the same Tauri with the same features and profile.
  cargo build --release --quiet --bin slipway --example bench_bare_window --example bench_app
  local target="${CARGO_TARGET_DIR:-$SLIPWAY_ROOT/target}"
  mkdir -p "$SLIPWAY_ENV_DIR"
  trap stop_started EXIT
  # Slipway's Release button waits for the engine; the log part's release builds an image.
  ensure_docker_engine
  start_display
  export SLIPWAY_KEYRING_HOME="$SLIPWAY_ENV_DIR/bench-keyring"
  rm -rf "$SLIPWAY_KEYRING_HOME"
  in_keyring_session "$target/release/examples/bench_app" "$@"
}
