#!/usr/bin/env bash
# The installers, tested as installed. Builds the .deb and .rpm of a release build with
# Tauri's bundler (the CLI from ui/node_modules), prints their sizes, then installs the .deb
# the way a user would (apt-get), runs `slipway --version` and `slipway doctor --json` from
# PATH, starts the app from its desktop entry under the display and checks through WebDriver
# that its window shows the Release page, removes the package with --purge and checks that
# nothing of it is left. Every check fails the run; the package is removed however it ends.
#
#   package.sh          build, then test the installed .deb (scripts/test runs this inside
#                       the keyring session, with the display, Docker and tauri-driver up)
#   package.sh build    build the bundles only (scripts/package)
#   package.sh installed  test the .deb built last, without building
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$SLIPWAY_ROOT"

# The size the .deb should stay under, in bytes (15 MB).
DEB_TARGET_BYTES=15000000
HICOLOR_SIZES=(16 32 48 64 128 256 512)
BUNDLE_DIR="${CARGO_TARGET_DIR:-$SLIPWAY_ROOT/target}/release/bundle"
PACKAGE="slipway"

VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
[ -n "$VERSION" ] || die "could not read the version from Cargo.toml"
# The bundles are named after the product name: Slipway_0.1.0_amd64.deb, Slipway-0.1.0-1.x86_64.rpm.
PRODUCT="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["productName"])' tauri.conf.json)"
DEB="$BUNDLE_DIR/deb/${PRODUCT}_${VERSION}_$(dpkg --print-architecture).deb"

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

apt_get() {
  # Waits for another apt run (a lock) instead of failing at once.
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 "$@"
}

mb() { awk -v bytes="$1" 'BEGIN { printf "%.1f MB", bytes / 1000000 }'; }

build_bundles() {
  local tauri="$SLIPWAY_ROOT/ui/node_modules/.bin/tauri" started
  [ -x "$tauri" ] || die "Tauri's CLI is missing ($tauri): run 'npm ci' in ui/ (scripts/test does)"
  # Bundles of an older version are never mistaken for this one's.
  rm -rf "$BUNDLE_DIR/deb" "$BUNDLE_DIR/rpm"

  # The public key updates must be signed with goes into the app's configuration at build
  # time; without one the build cannot update itself (and says so).
  local config=()
  if [ -n "${SLIPWAY_UPDATER_PUBKEY:-}" ]; then
    config=(--config "$(python3 -c 'import json, sys; print(json.dumps({"plugins": {"updater": {"pubkey": sys.argv[1]}}}))' "$SLIPWAY_UPDATER_PUBKEY")")
    say "updates: this build takes updates signed with the key whose public half is SLIPWAY_UPDATER_PUBKEY"
  else
    say "updates: no SLIPWAY_UPDATER_PUBKEY, so this build cannot update itself"
  fi

  say "release build of the app (the UI, then cargo build --release)"
  started=$SECONDS
  "$tauri" build --ci --no-bundle "${config[@]}" -- --locked
  say "release build: $((SECONDS - started)) s"

  say "bundling the .deb and the .rpm"
  started=$SECONDS
  "$tauri" bundle --ci --bundles deb,rpm "${config[@]}"
  say "bundling: $((SECONDS - started)) s"

  local rpm bytes
  [ -f "$DEB" ] || die "the bundler made no $DEB"
  rpm="$(find "$BUNDLE_DIR/rpm" -name "${PRODUCT}-${VERSION}-*.rpm" | head -n 1)"
  [ -n "$rpm" ] || die "the bundler made no ${PRODUCT}-${VERSION}-*.rpm in $BUNDLE_DIR/rpm"
  for bundle in "$DEB" "$rpm"; do
    bytes="$(stat -c %s "$bundle")"
    say "$(basename "$bundle"): $bytes bytes ($(mb "$bytes"))"
  done
  bytes="$(stat -c %s "$DEB")"
  if [ "$bytes" -lt "$DEB_TARGET_BYTES" ]; then
    say "the .deb is under its $(mb "$DEB_TARGET_BYTES") target"
  else
    say "the .deb MISSED its $(mb "$DEB_TARGET_BYTES") target: $(mb "$bytes")"
  fi
}

# Signs the bundles with TAURI_SIGNING_PRIVATE_KEY (its password in
# TAURI_SIGNING_PRIVATE_KEY_PASSWORD) and writes the latest.json the updater reads, for the
# bundles published at SLIPWAY_UPDATE_BASE_URL (where latest.json and the bundles go).
sign_bundles() {
  local tauri="$SLIPWAY_ROOT/ui/node_modules/.bin/tauri" rpm
  if [ -z "${TAURI_SIGNING_PRIVATE_KEY:-}" ]; then
    say "updates: no TAURI_SIGNING_PRIVATE_KEY, so the bundles are not signed for the updater"
    return 0
  fi
  rpm="$(find "$BUNDLE_DIR/rpm" -name "${PRODUCT}-${VERSION}-*.rpm" | head -n 1)"
  for bundle in "$DEB" "$rpm"; do
    # Bound to its version: the apps refuse a manifest that pairs a newer number with an older
    # package (requireSignedVersion).
    TAURI_SIGNING_PRIVATE_KEY_PASSWORD="${TAURI_SIGNING_PRIVATE_KEY_PASSWORD:-}" \
      "$tauri" signer sign --app-version "$VERSION" "$bundle" >/dev/null || die "could not sign $bundle"
  done
  update_manifest "$VERSION" "${SLIPWAY_UPDATE_BASE_URL:-https://updates.example.invalid/slipway}" \
    "Slipway $VERSION" "$DEB" "$rpm" >"$BUNDLE_DIR/latest.json"
  say "signed for the updater: $(basename "$DEB").sig, $(basename "$rpm").sig; manifest $BUNDLE_DIR/latest.json"
}

# The updater's latest.json: VERSION NOTES, and each bundle (with its .sig beside it) at
# BASE_URL/<its file name>, under the platform keys the updater looks for.
update_manifest() {
  python3 - "$@" <<'PY'
import datetime, json, os, sys
version, base, notes, deb, rpm = sys.argv[1:6]
def entry(path):
    with open(path + ".sig") as f:
        return {"signature": f.read().strip(), "url": f"{base.rstrip('/')}/{os.path.basename(path)}"}
platforms = {}
if deb:
    platforms["linux-x86_64-deb"] = entry(deb)
    # Read by an updater that cannot tell how it was installed.
    platforms["linux-x86_64"] = entry(deb)
if rpm:
    platforms["linux-x86_64-rpm"] = entry(rpm)
print(json.dumps({
    "version": version,
    "notes": notes,
    "pub_date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "platforms": platforms,
}, indent=2))
PY
}

# --- the installed package ---------------------------------------------------------------

work=""
driver_pid=""
update_server_pid=""

cleanup() {
  local status=$?
  if [ -n "$driver_pid" ]; then
    # SIGTERM: tauri-driver then stops WebKitWebDriver too (a SIGKILL would orphan it).
    kill -TERM "$driver_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$driver_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$driver_pid" 2>/dev/null || true
    driver_pid=""
  fi
  [ -z "$update_server_pid" ] || kill "$update_server_pid" 2>/dev/null || true
  local pid
  for pid in $(app_processes); do kill -TERM "$pid" 2>/dev/null || true; done
  if package_installed; then
    say "removing the $PACKAGE package (the test did not get to it)"
    apt_get remove --purge -y -qq "$PACKAGE" >/dev/null 2>&1 || echo "error: could not remove the $PACKAGE package" >&2
  fi
  [ -z "$work" ] || rm -rf "$work"
  [ -z "${update_keys:-}" ] || rm -rf "$update_keys"
  exit "$status"
}

# The processes that run the installed binary (only the test starts it on this machine).
app_processes() {
  local exe pids=()
  for exe in /proc/[0-9]*/exe; do
    [ "$(readlink "$exe" 2>/dev/null)" = "${EXEC_BINARY:-/nonexistent}" ] && pids+=("$(basename "$(dirname "$exe")")")
  done
  echo "${pids[*]}"
}

package_installed() {
  dpkg-query -W -f='${db:Status-Status}' "$PACKAGE" 2>/dev/null | grep -qx installed
}

install_deb() {
  if package_installed; then
    say "a $PACKAGE package is installed already (a run that was stopped?): removing it first"
    apt_get remove --purge -y -qq "$PACKAGE" >/dev/null
  fi
  say "installing $(basename "$DEB") with apt-get, as a user would"
  if ! apt_get install -y -qq "$DEB" >"$work/apt-install.log" 2>&1; then
    # The lists may be old or missing on a fresh machine: read them again once.
    apt_get update -qq
    apt_get install -y -qq "$DEB" >"$work/apt-install.log" 2>&1 \
      || { cat "$work/apt-install.log" >&2; die "apt-get could not install $DEB"; }
  fi
  package_installed || die "apt-get ended but dpkg does not list $PACKAGE as installed"
  [ "$(dpkg-query -W -f='${Version}' "$PACKAGE")" = "$VERSION" ] \
    || die "the installed package's version is $(dpkg-query -W -f='${Version}' "$PACKAGE"), Cargo.toml says $VERSION"
  dpkg -L "$PACKAGE" | grep -vx '/\.' >"$work/files"
}

check_command_line() {
  hash -r
  local binary version_line
  binary="$(command -v slipway)" || die "the installed package put no 'slipway' on PATH"
  grep -qx "$binary" "$work/files" || die "'slipway' on PATH is $binary, which is not from the $PACKAGE package"
  version_line="$("${private_home[@]}" slipway --version)" || die "'slipway --version' failed"
  [ "$version_line" = "slipway $VERSION" ] \
    || die "'slipway --version' printed '$version_line', expected 'slipway $VERSION' (Cargo.toml)"
  say "slipway --version: $version_line ($binary)"

  local status=0
  "${private_home[@]}" slipway doctor --json >"$work/doctor.json" 2>"$work/doctor.err" || status=$?
  python3 - "$work/doctor.json" "$status" "$VERSION" "$work/home" <<'PY' || die "'slipway doctor --json' failed its check (above)"
import json, sys
path, status, version, home = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
text = open(path).read()
try:
    report = json.loads(text)
except ValueError as error:
    sys.exit(f"'slipway doctor --json' printed no valid JSON ({error}): {text[:400]!r}")
problems = []
if report.get("version") != version:
    problems.append(f"its version is {report.get('version')!r}, Cargo.toml says {version}")
if not str(report.get("dataDir", "")).startswith(home + "/"):
    problems.append(f"its data folder {report.get('dataDir')!r} is not in the private HOME {home}")
failed = [f"{c.get('name')}: {c.get('detail')}" for c in report.get("checks", []) if not c.get("ok")]
if status != 0 or not report.get("ok"):
    problems.append(f"it exited {status}, ok={report.get('ok')}; failing checks: {failed}")
if problems:
    sys.exit("'slipway doctor --json': " + "; ".join(problems))
print("slipway doctor --json: valid JSON, ok, checks: "
      + ", ".join(f"{c['name']} {'ok' if c['ok'] else 'NOT ok'}" for c in report["checks"]), file=sys.stderr)
PY
}

# A fresh, private HOME and XDG folders for the installed app, so that it uses its default
# data folder there, never the user's: "${private_home[@]}" COMMAND... (an array, not a
# function, so that `... &` makes $! the command's own process, one SIGTERM can stop).
private_home=()
set_private_home() {
  private_home=(env -u SLIPWAY_DATA_DIR HOME="$work/home" XDG_DATA_HOME="$work/home/.local/share"
    XDG_CONFIG_HOME="$work/home/.config" XDG_CACHE_HOME="$work/home/.cache")
}

# The desktop entry: one, whose Exec is the package's binary and whose icon is installed in
# every size. Sets EXEC_BINARY and EXEC_ARGS (JSON).
check_desktop_entry() {
  local entries
  entries="$(grep -E '^/usr/share/applications/[^/]+\.desktop$' "$work/files" || true)"
  [ -n "$entries" ] || die "the package installs no desktop entry in /usr/share/applications"
  [ "$(wc -l <<<"$entries")" -eq 1 ] || die "the package installs more than one desktop entry: $entries"
  say "desktop entry: $entries"
  python3 - "$entries" "$work/exec" <<'PY' || die "the desktop entry $entries is not usable (above)"
import configparser, json, shlex, sys
entry, out = sys.argv[1], sys.argv[2]
parser = configparser.RawConfigParser(strict=False, interpolation=None)
parser.optionxform = str
parser.read(entry, encoding="utf-8")
if not parser.has_section("Desktop Entry"):
    sys.exit(f"{entry} has no [Desktop Entry] group")
group = parser["Desktop Entry"]
missing = [key for key in ("Type", "Name", "Exec", "Icon") if not group.get(key)]
if missing:
    sys.exit(f"{entry} lacks {', '.join(missing)}")
if group["Type"] != "Application":
    sys.exit(f"{entry}: Type is {group['Type']!r}, not Application")
# A file manager's "Open with Slipway" on a folder hands it over (%F); folders are what it opens.
if not group["Exec"].rstrip().endswith(" %F"):
    sys.exit(f"{entry}: Exec ({group['Exec']!r}) does not take the folders a file manager passes (%F)")
if "inode/directory" not in group.get("MimeType", "").split(";"):
    sys.exit(f"{entry}: not offered for folders (MimeType lacks inode/directory)")
# The launcher's "Open a project…": the window's folder picker.
if "open-project" not in group.get("Actions", "").split(";") or not parser.has_section("Desktop Action open-project"):
    sys.exit(f"{entry}: no 'Open a project…' action")
action = parser["Desktop Action open-project"]
if action.get("Name") != "Open a project…" or not action.get("Exec", "").endswith(" --choose-project"):
    sys.exit(f"{entry}: the 'Open a project…' action is {dict(action)!r}")
# Field codes (%f, %U, ...) stand for what the launcher passes: none here.
words = [w for w in shlex.split(group["Exec"]) if not (len(w) == 2 and w.startswith("%"))]
if not words:
    sys.exit(f"{entry}: Exec is empty")
with open(out, "w") as f:
    f.write(words[0] + "\n" + json.dumps(words[1:]) + "\n" + group["Icon"] + "\n")
print(f"Exec={group['Exec']!r} Icon={group['Icon']!r} Name={group['Name']!r}", file=sys.stderr)
PY
  desktop-file-validate "$entries" || die "desktop-file-validate refuses $entries (above)"
  local exec_word icon size
  exec_word="$(sed -n 1p "$work/exec")"
  EXEC_ARGS="$(sed -n 2p "$work/exec")"
  icon="$(sed -n 3p "$work/exec")"
  if [[ "$exec_word" == /* ]]; then
    EXEC_BINARY="$exec_word"
  else
    EXEC_BINARY="$(command -v "$exec_word")" || die "the desktop entry's Exec ($exec_word) is not on PATH"
  fi
  grep -qx "$EXEC_BINARY" "$work/files" || die "the desktop entry starts $EXEC_BINARY, which is not from the $PACKAGE package"
  for size in "${HICOLOR_SIZES[@]}"; do
    grep -qx "/usr/share/icons/hicolor/${size}x${size}/apps/$icon.png" "$work/files" \
      || die "the package installs no ${size}x${size} icon ($icon.png) in /usr/share/icons/hicolor"
  done
  say "icon $icon installed in ${HICOLOR_SIZES[*]} pixels"
}

# Every library the binary links (its NEEDED entries) comes from a package that the .deb
# depends on, directly or through the packages those depend on.
check_depends() {
  local depends
  depends="$(dpkg-query -W -f='${Depends}' "$PACKAGE")"
  say "Depends: $depends"
  objdump -p "$EXEC_BINARY" | awk '$1 == "NEEDED" { print $2 }' >"$work/needed"
  [ -s "$work/needed" ] || die "objdump found no NEEDED libraries in $EXEC_BINARY"
  ldd "$EXEC_BINARY" >"$work/ldd" || die "ldd could not read $EXEC_BINARY"
  if grep -q 'not found' "$work/ldd"; then
    grep 'not found' "$work/ldd" >&2
    die "the installed binary links libraries that are not on this machine"
  fi
  local library path owner
  : >"$work/library-packages"
  while read -r library; do
    # "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)", or the loader: "/lib64/ld-linux-x86-64.so.2 (0x...)".
    path="$(awk -v lib="$library" '
      $1 == lib && $2 == "=>" { print $3; exit }
      substr($1, length($1) - length(lib)) == "/" lib { print $1; exit }' "$work/ldd")"
    [ -n "$path" ] || die "ldd does not say where $library comes from"
    owner="$( { dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null || true; } \
      | grep -v '^diversion' | head -n 1)"
    [ -n "$owner" ] || die "no Debian package holds $path ($library)"
    # "libfoo1:amd64, libfoo1-extra:amd64: /usr/lib/..." -> the packages.
    printf '%s %s\n' "$library" "${owner%: *}" >>"$work/library-packages"
  done <"$work/needed"
  python3 - "$PACKAGE" "$work/library-packages" <<'PY' || die "the package does not declare everything its binary links (above)"
import re, subprocess, sys
package, libraries = sys.argv[1], sys.argv[2]

def depends_of(name):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", name],
                         capture_output=True, text=True).stdout
    found = set()
    for group in out.split(","):
        # One of "a | b" is enough; every installed alternative counts.
        for alternative in group.split("|"):
            alternative = re.sub(r"\(.*?\)|\[.*?\]", "", alternative).strip()
            if alternative:
                found.add(alternative.split(":")[0])
    return found

direct = depends_of(package)
reachable, todo = set(), list(direct)
while todo:
    name = todo.pop()
    if name not in reachable:
        reachable.add(name)
        todo.extend(depends_of(name))
missing = []
for line in open(libraries):
    library, owners = line.split(" ", 1)
    owners = [o.strip().split(":")[0] for o in owners.split(",")]
    how = [o for o in owners if o in reachable]
    if not how:
        missing.append(f"{library} ({', '.join(owners)})")
    else:
        route = "declared" if how[0] in direct else "through a declared package"
        print(f"  {library}: {how[0]}, {route}", file=sys.stderr)
if missing:
    sys.exit("linked but not declared in Depends, directly or indirectly: " + "; ".join(missing))
PY
}

# Starts the installed app from its desktop entry's Exec under the display, through
# tauri-driver, and checks that the window shows the Release page.
check_window() {
  [ -n "${DISPLAY:-}" ] || die "DISPLAY is not set: scripts/test starts the virtual display this check needs"
  [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || die "no D-Bus session: run this inside scripts/test's keyring session"
  export PATH="$HOME/.cargo/bin:$PATH"
  command -v tauri-driver >/dev/null || die "tauri-driver is not installed: scripts/test installs it"
  command -v WebKitWebDriver >/dev/null || die "WebKitWebDriver is not installed (Debian package webkit2gtk-driver)"
  local port native_port screenshot="$BUNDLE_DIR/installed-window.png"
  port="$(free_port)"
  native_port="$(free_port)"
  say "starting the installed app from its desktop entry ($EXEC_BINARY) through tauri-driver"
  "${private_home[@]}" tauri-driver --port "$port" --native-port "$native_port" >"$work/tauri-driver.log" 2>&1 &
  driver_pid=$!
  wait_for 20 "tauri-driver (see $work/tauri-driver.log)" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
  rm -f "$screenshot"
  PYTHONPATH="$SLIPWAY_ROOT/scripts/lib" python3 - "http://127.0.0.1:$port" "$EXEC_BINARY" "$EXEC_ARGS" "$screenshot" <<'PY' \
    || { cat "$work/tauri-driver.log" >&2; die "the installed app's window failed its check (above)"; }
import json, sys, time
from webdriver_client import WAIT, Window
driver, application, args, screenshot = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
window = Window(driver, application, args)
try:
    # A fresh data folder opens on the Release page with the first-run guide's first step.
    window.wait_for("//main//h2[normalize-space()='Release']", "the Release page")
    window.wait_for("//*[@data-testid='first-run']//h3[normalize-space()='Open your project']",
                    "the first-run guide's first step, Open your project")
    window.wait_for("//header//*[normalize-space()='No project open']", "'No project open' in the header")
    # The app's own side answers the window: it asked the Docker Engine and says so.
    window.wait_for("//*[@data-testid='system-status']//*[normalize-space()='Docker running']", "'Docker running' in the header")
    title = window.call("GET", "/title")
    if title != "Slipway":
        raise SystemExit(f"the window's title is {title!r}, not 'Slipway'")
    time.sleep(1)  # a screenshot right after a change may show the previous frame
    window.screenshot(screenshot)
    # Skipping the guide leaves the Release page, ready to open a project.
    window.click("//*[@data-testid='first-run']//button[normalize-space()='Skip']", "the guide's Skip")
    deadline = time.monotonic() + WAIT
    while window.find("//*[@data-testid='first-run']"):
        if time.monotonic() > deadline:
            raise SystemExit("the first-run guide is still there after Skip")
        time.sleep(0.25)
    window.wait_for("//main//h2[normalize-space()='Release']", "the Release page after the guide was skipped")
    print(f"the window shows the Release page and the first-run guide; screenshot: {screenshot}", file=sys.stderr)
finally:
    window.close()
PY
  kill -TERM "$driver_pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$driver_pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$driver_pid" 2>/dev/null && die "tauri-driver did not stop on SIGTERM"
  driver_pid=""
  # Ending the session closed the app: nothing runs the installed binary any more.
  local still=""
  for _ in $(seq 50); do
    still="$(app_processes)"
    [ -z "$still" ] && break
    sleep 0.2
  done
  [ -z "$still" ] || die "the app did not close with its WebDriver session (processes $still still run $EXEC_BINARY)"
  [ -d "$work/home/.local/share/dev.slipway.app" ] \
    || die "the app made no data folder in the private HOME ($work/home/.local/share/dev.slipway.app)"
}

# The installed app updates itself: a copy of the package with the next version in its control
# file, signed with the test's key, served with its latest.json on 127.0.0.1. Served first with
# a signature of another key, the update is refused in plain words and nothing is installed;
# then, signed right, the person's click installs it (the system's authorisation goes through
# sudo here: as root, with no desktop, pkexec has no agent) and the app starts again on it.
check_update() {
  local tauri="$SLIPWAY_ROOT/ui/node_modules/.bin/tauri" next port served="$work/served"
  # The next patch version (the updater compares semantic versions).
  next="$(python3 -c 'import sys; v = sys.argv[1].split("."); v[2] = str(int(v[2]) + 1); print(".".join(v))' "$VERSION")"
  mkdir -p "$served" "$work/next"
  say "update: a $next copy of the package, signed, served on 127.0.0.1"
  dpkg-deb -R "$DEB" "$work/next"
  sed -i "s/^Version: .*/Version: $next/" "$work/next/DEBIAN/control"
  local next_deb="$served/${PRODUCT}_${next}_$(dpkg --print-architecture).deb"
  dpkg-deb -b "$work/next" "$next_deb" >/dev/null
  port="$(free_port)"
  # Three manifests, served in turn: the package signed with another key; the package signed
  # with the right key but for another version (a manifest that dresses an older release as
  # newer); and the right one. The app must refuse the first two and take the third.
  local sign=(env TAURI_SIGNING_PRIVATE_KEY_PASSWORD= "$tauri" signer sign -p "")
  "$tauri" signer generate --ci -p "" -w "$work/other.key" >/dev/null
  "${sign[@]}" -f "$work/other.key" --app-version "$next" "$next_deb" >/dev/null
  update_manifest "$next" "http://127.0.0.1:$port" "Slipway $next: a test update" "$next_deb" "" >"$served/latest.json"
  "${sign[@]}" -f "$UPDATE_KEY" --app-version "$VERSION" "$next_deb" >/dev/null
  update_manifest "$next" "http://127.0.0.1:$port" "Slipway $next: a test update" "$next_deb" "" >"$work/latest-old.json"
  "${sign[@]}" -f "$UPDATE_KEY" --app-version "$next" "$next_deb" >/dev/null
  update_manifest "$next" "http://127.0.0.1:$port" "Slipway $next: a test update" "$next_deb" "" >"$work/latest-signed.json"
  python3 -m http.server "$port" --bind 127.0.0.1 --directory "$served" >"$work/update-server.log" 2>&1 &
  update_server_pid=$!
  wait_for 20 "the update server" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
  local data="$work/home/.local/share/dev.slipway.app"
  mkdir -p "$data"
  printf '{"updateUrl": "http://127.0.0.1:%s/latest.json"}\n' "$port" >"$data/settings.json"

  local driver_port native_port
  driver_port="$(free_port)"
  native_port="$(free_port)"
  "${private_home[@]}" tauri-driver --port "$driver_port" --native-port "$native_port" >"$work/tauri-driver-update.log" 2>&1 &
  driver_pid=$!
  wait_for 20 "tauri-driver (see $work/tauri-driver-update.log)" bash -c "exec 3<>/dev/tcp/127.0.0.1/$driver_port"
  PYTHONPATH="$SLIPWAY_ROOT/scripts/lib" python3 - "http://127.0.0.1:$driver_port" "$EXEC_BINARY" "$EXEC_ARGS" "$BUNDLE_DIR/update-offered.png" \
    "$next" "$work/latest-signed.json" "$served/latest.json" "$work/latest-old.json" <<'PY' \
    || { cat "$work/tauri-driver-update.log" >&2; die "the installed app did not update itself (above)"; }
import json, os, shutil, subprocess, sys, time
from webdriver_client import Window
driver, application, args, screenshot, next_version, signed_manifest, served_manifest, old_manifest = sys.argv[1:9]
window = Window(driver, application, json.loads(args))
wait_for, click, text = window.wait_for, window.click, window.text

def installed_version():
    return subprocess.run(["dpkg-query", "-W", "-f=${Version}", "slipway"], capture_output=True, text=True).stdout

def app_pids():
    pids = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/exe") == application:
                pids.add(int(pid))
        except OSError:
            pass
    return pids

before = installed_version()
offer = "//*[@data-testid='update-offer']"
update_button = f"{offer}//button[normalize-space()='Update and restart']"
confirm = "//button[@data-testid='confirm-ok']"
try:
    # Asked 10 s after start: the header offers it.
    wait_for(offer, "the update offer", 45)
    said = text(offer)
    if not said.startswith(f"Slipway {next_version} is available"):
        raise SystemExit(f"the offer says {said!r}")
    window.screenshot(screenshot)

    # Signed with another key: refused in plain words, nothing installed.
    click(update_button, "Update and restart")
    click(confirm, "the question before updating")
    wait_for(offer + "//*[@role='alert'][contains(., 'is not signed with')]", "the refusal of a wrongly signed update")
    if installed_version() != before:
        raise SystemExit(f"a wrongly signed update was installed: dpkg lists {installed_version()}")
    print("a wrongly signed update is refused, nothing installed", file=sys.stderr)

    # Signed right, but for another version than the manifest announces: refused too.
    shutil.copyfile(old_manifest, served_manifest)
    click(update_button, "Update and restart, after the refusal")
    click(confirm, "the question before updating, after the refusal")
    wait_for(offer + "//*[@role='alert'][contains(., 'was signed for another version')]", "the refusal of a package signed for another version")
    if installed_version() != before:
        raise SystemExit(f"a package signed for another version was installed: dpkg lists {installed_version()}")
    print("a package signed for another version than announced is refused, nothing installed", file=sys.stderr)

    # Signed with the key this build trusts: installed, and the app starts again on it.
    shutil.copyfile(signed_manifest, served_manifest)
    old_pids = app_pids()
    click(update_button, "Update and restart, again")
    click(confirm, "the question before updating, again")
    deadline = time.monotonic() + 120
    while installed_version() != next_version:
        if time.monotonic() > deadline:
            raise SystemExit(f"dpkg still lists {installed_version()} two minutes after the update was accepted")
        time.sleep(0.5)
    print(f"dpkg lists {next_version}: the update is installed", file=sys.stderr)
    deadline = time.monotonic() + 60
    while not (app_pids() - old_pids):
        if time.monotonic() > deadline:
            raise SystemExit(f"no new Slipway started after the update (before: {sorted(old_pids)}, now: {sorted(app_pids())})")
        time.sleep(0.5)
    print(f"the app started again on it (pid {sorted(app_pids() - old_pids)})", file=sys.stderr)
finally:
    window.close()
PY
  kill -TERM "$driver_pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$driver_pid" 2>/dev/null || break; sleep 0.2; done
  driver_pid=""
  # The app started again by the update is nobody's session: it is ended here.
  local pid
  for pid in $(app_processes); do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do [ -z "$(app_processes)" ] && break; sleep 0.2; done
  for pid in $(app_processes); do kill -KILL "$pid" 2>/dev/null || true; done
  kill "$update_server_pid" 2>/dev/null || true
  update_server_pid=""
  say "update: refused when wrongly signed; installed and restarted when signed right"
}

remove_and_check_gone() {
  say "removing the package with apt-get remove --purge"
  apt_get remove --purge -y -qq "$PACKAGE" >"$work/apt-remove.log" 2>&1 \
    || { cat "$work/apt-remove.log" >&2; die "apt-get could not remove $PACKAGE"; }
  ! package_installed || die "dpkg still lists $PACKAGE as installed after apt-get remove --purge"
  dpkg-query -W -f='${db:Status-Abbrev}' "$PACKAGE" 2>/dev/null | grep -q '^.c' \
    && die "dpkg still keeps $PACKAGE's configuration after --purge"
  local path left=()
  while read -r path; do
    [ -e "$path" ] || [ -L "$path" ] || continue
    # A folder other packages share stays, as it should.
    if [ -d "$path" ] && [ ! -L "$path" ] && dpkg -S "$path" >/dev/null 2>&1; then
      continue
    fi
    left+=("$path")
  done <"$work/files"
  ((${#left[@]} == 0)) || die "after apt-get remove --purge these are still there: ${left[*]}"
  hash -r
  if command -v slipway >/dev/null 2>&1; then
    die "'slipway' is still on PATH after removal: $(command -v slipway)"
  fi
  say "removed: none of the package's $(wc -l <"$work/files") paths is left (shared folders aside)"
}

test_installed_deb() {
  work="$(mktemp -d)"
  mkdir -p "$work/home"
  set_private_home
  trap cleanup EXIT
  local started=$SECONDS
  install_deb
  check_command_line
  check_desktop_entry
  check_depends
  check_window
  if [ -n "${UPDATE_KEY:-}" ]; then
    check_update
  else
    say "update: not tried (UPDATE_KEY names no key this build trusts; package.sh without arguments makes one)"
  fi
  remove_and_check_gone
  say "the installed .deb passed its checks in $((SECONDS - started)) s"
}

case "${1:-all}" in
  build)
    build_bundles
    sign_bundles
    ;;
  installed)
    [ -f "$DEB" ] || die "no $DEB: build it first (package.sh build)"
    test_installed_deb
    ;;
  all)
    # The test's own update key: the build trusts it, and the update test signs with it.
    update_keys="$(mktemp -d)"
    trap 'rm -rf "$update_keys"' EXIT
    "$SLIPWAY_ROOT/ui/node_modules/.bin/tauri" signer generate --ci -p "" -w "$update_keys/update.key" >/dev/null
    SLIPWAY_UPDATER_PUBKEY="$(cat "$update_keys/update.key.pub")"
    export SLIPWAY_UPDATER_PUBKEY UPDATE_KEY="$update_keys/update.key"
    build_bundles
    # Published as scripts/package does: each bundle signed, and the manifest that names them.
    TAURI_SIGNING_PRIVATE_KEY="$(cat "$UPDATE_KEY")" TAURI_SIGNING_PRIVATE_KEY_PASSWORD="" sign_bundles
    python3 - "$BUNDLE_DIR/latest.json" "$VERSION" <<'PY' || die "the update manifest is not what the updater reads (above)"
import json, sys
manifest = json.load(open(sys.argv[1]))
assert manifest["version"] == sys.argv[2], manifest
for key in ("linux-x86_64-deb", "linux-x86_64", "linux-x86_64-rpm"):
    entry = manifest["platforms"][key]
    assert entry["signature"] and entry["url"].startswith("https://"), (key, entry)
PY
    test_installed_deb
    rm -rf "$update_keys"
    # These bundles trust the test's throwaway key: never to be published. scripts/package
    # builds the ones to publish.
    rm -rf "$BUNDLE_DIR/deb" "$BUNDLE_DIR/rpm" "$BUNDLE_DIR/latest.json"
    say "the test build's bundles trust the test's key only: removed (scripts/package makes the ones to publish)"
    ;;
  *) die "usage: package.sh [build|installed]" ;;
esac
