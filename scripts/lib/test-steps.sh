# The test steps, run by scripts/test inside the keyring session. Each step fails the run.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$SLIPWAY_ROOT"

say "rustfmt"
cargo fmt --all -- --check

say "actionlint (the desktop release workflow)"
"$SLIPWAY_ACTIONLINT" .github/workflows/*.yml

say "svelte-check"
(cd ui && npm run --silent check)

say "UI unit tests (vitest)"
(cd ui && npm run --silent test)

build_ui

say "clippy (warnings are errors)"
cargo clippy --all-targets --locked -- -D warnings

say "cargo tests (unit, CLI, window)"
cargo test --locked -- --test-threads=2

say "generated files are current"
if ! git diff --exit-code --stat -- ui/src/lib/ipc/bindings.ts gen/schemas; then
  echo "generated files differ from the commit: rebuild and commit them" >&2
  exit 1
fi

say "installers: the .deb and .rpm of a release build, the .deb tested as installed"
bash scripts/lib/package.sh
