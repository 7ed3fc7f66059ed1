#!/usr/bin/env bash
# Run independent CardDAV clients and suites against cardbridge (or Radicale, for comparison).
#
#   conformance/run.sh                              build + start `cardbridge demo`, run every suite
#   conformance/run.sh --server radicale            start Radicale 3.9.0 instead (comparison)
#   conformance/run.sh BASE_URL USER PASSWORD       run against a server that is already running
#
# Environment:
#   CONFORMANCE_SUITES=a,b       only these suites (vdirsyncer-storage, vdirsyncer-cli, tsdav, smoke)
#   CONFORMANCE_SKIP_BUILD=1     do not run `cargo build --release` (reuse target/release/cardbridge)
#   CONFORMANCE_BINARY=PATH      the cardbridge binary to start (default target/release/cardbridge,
#                                under $CARGO_TARGET_DIR when that is set)
#   CONFORMANCE_LOGS=DIR         keep every suite's full log and the server's log in DIR
#
# Everything is installed into conformance/.work/ (git-ignored), pinned, and reused on the next run.
# Output: one line per suite `NAME: N passed, N failed` then `conformance: N passed, N failed`;
# the exit status is non-zero when anything failed. Tests listed in conformance/xfail.txt are expected
# failures (each with its reason): they count neither way, but one that starts passing is a failure,
# so that the list stays honest.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
WORK="$HERE/.work"
ALL_SUITES="vdirsyncer-storage,vdirsyncer-cli,tsdav,smoke"
VDIRSYNCER_VERSION=0.21.0
RADICALE_VERSION=3.9.0

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

SERVER=cardbridge
POSITIONAL=()
while [ $# -gt 0 ]; do
  case "$1" in
    --server) SERVER="${2:-}"; shift 2 ;;
    --server=*) SERVER="${1#--server=}"; shift ;;
    -h|--help) usage ;;
    *) POSITIONAL+=("$1"); shift ;;
  esac
done
case "$SERVER" in cardbridge|radicale) ;; *) echo "unknown --server '$SERVER'" >&2; usage ;; esac
if [ ${#POSITIONAL[@]} -ne 0 ] && [ ${#POSITIONAL[@]} -ne 3 ]; then usage; fi

log() { printf '[conformance] %s\n' "$*" >&2; }

mkdir -p "$WORK"
RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/cardbridge-conformance.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- installation (idempotent)

PYTHON="${PYTHON:-python3}"
VENV="$WORK/venv"
VPY="$VENV/bin/python"

stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# A virtual environment at $1; falls back to virtualenv (from PyPI) where the stdlib venv lacks
# ensurepip (Debian's python3 without python3-venv).
make_venv() {
  if "$PYTHON" -m venv "$1" 2>/dev/null; then return 0; fi
  rm -rf "$1"
  log "python3 -m venv failed; using virtualenv from PyPI"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --target "$WORK/virtualenv" "virtualenv==21.15.8"
  PYTHONPATH="$WORK/virtualenv" "$PYTHON" -m virtualenv --quiet "$1"
}

install_python() {
  local want; want="$(cat "$HERE/requirements.txt")-$VDIRSYNCER_VERSION"
  if ! stamp_ok "$WORK/venv.stamp" "$want"; then
    log "installing vdirsyncer $VDIRSYNCER_VERSION and its test dependencies into .work/venv"
    rm -rf "$VENV" "$WORK/venv.stamp"
    make_venv "$VENV"
    "$VPY" -m pip install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
    printf '%s' "$want" > "$WORK/venv.stamp"
  fi
  local src="$WORK/vdirsyncer-$VDIRSYNCER_VERSION"
  if [ ! -f "$src/tests/storage/dav/test_carddav.py" ]; then
    log "fetching the vdirsyncer $VDIRSYNCER_VERSION source distribution (for its tests/)"
    local dl; dl="$(mktemp -d "$WORK/sdist.XXXXXX")"
    "$VPY" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
      -d "$dl" "vdirsyncer==$VDIRSYNCER_VERSION"
    rm -rf "$src"
    tar -xzf "$dl/vdirsyncer-$VDIRSYNCER_VERSION.tar.gz" -C "$WORK"
    rm -rf "$dl"
  fi
}

install_node() {
  local dir="$WORK/node"
  mkdir -p "$dir"
  if ! cmp -s "$HERE/tsdav/package-lock.json" "$dir/package-lock.json" || [ ! -d "$dir/node_modules/tsdav" ]; then
    log "installing tsdav (npm ci) into .work/node"
    cp "$HERE/tsdav/package.json" "$HERE/tsdav/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --silent --no-audit --no-fund --ignore-scripts >/dev/null)
  fi
}

install_radicale() {
  local venv="$WORK/radicale-venv"
  if ! stamp_ok "$WORK/radicale.stamp" "$RADICALE_VERSION"; then
    log "installing Radicale $RADICALE_VERSION into .work/radicale-venv"
    rm -rf "$venv"
    make_venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "radicale==$RADICALE_VERSION"
    printf '%s' "$RADICALE_VERSION" > "$WORK/radicale.stamp"
  fi
}

# ---------------------------------------------------------------- server

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_ready() { # URL, what
  for _ in $(seq 1 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "$2 exited before it was ready; its log:"; cat "$RUN_DIR/server.log" >&2; exit 1
    fi
    if "$PYTHON" - "$1" <<'EOF' 2>/dev/null; then return 0; fi
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2)
EOF
    sleep 0.2
  done
  log "$2 not ready after 60 s; its log:"; cat "$RUN_DIR/server.log" >&2; exit 1
}

EMULATOR_URL=""
if [ ${#POSITIONAL[@]} -eq 3 ]; then
  DAV_URL="${POSITIONAL[0]}"; DAV_USER="${POSITIONAL[1]}"; DAV_PASS="${POSITIONAL[2]}"
  SERVER=external
fi

start_cardbridge() {
  local target="${CARGO_TARGET_DIR:-$ROOT/target}"
  local bin="${CONFORMANCE_BINARY:-$target/release/cardbridge}"
  if [ -z "${CONFORMANCE_BINARY:-}" ] && [ "${CONFORMANCE_SKIP_BUILD:-0}" != 1 ]; then
    log "cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet)
  fi
  [ -x "$bin" ] || { log "no cardbridge binary at $bin"; exit 1; }
  local port eport; port="$(free_port)"; eport="$(free_port)"
  DAV_USER=conformance; DAV_PASS="conf-$RANDOM-$RANDOM"
  DAV_URL="http://127.0.0.1:$port/"
  EMULATOR_URL="http://127.0.0.1:$eport"
  "$bin" demo --listen "127.0.0.1:$port" --emulator-listen "127.0.0.1:$eport" \
    --contacts 12 --user "$DAV_USER" --password "$DAV_PASS" --freshness-secs 0 --user-requests-per-sec 0 \
    > "$RUN_DIR/server.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "${DAV_URL}readyz" "cardbridge demo"
  log "cardbridge demo ready at $DAV_URL (emulator $EMULATOR_URL, pid $SERVER_PID)"
}

start_radicale() {
  install_radicale
  local port; port="$(free_port)"
  DAV_USER=conformance; DAV_PASS="conf-$RANDOM-$RANDOM"
  DAV_URL="http://127.0.0.1:$port/"
  mkdir -p "$RUN_DIR/radicale"
  printf '%s:%s\n' "$DAV_USER" "$DAV_PASS" > "$RUN_DIR/radicale/users"
  cat > "$RUN_DIR/radicale/config" <<EOF
[server]
hosts = 127.0.0.1:$port
[auth]
type = htpasswd
htpasswd_filename = $RUN_DIR/radicale/users
htpasswd_encryption = plain
[storage]
filesystem_folder = $RUN_DIR/radicale/collections
[logging]
level = warning
EOF
  "$WORK/radicale-venv/bin/python" -m radicale --config "$RUN_DIR/radicale/config" \
    > "$RUN_DIR/server.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "${DAV_URL}.web/" "Radicale"
  # Radicale has no address book until a client makes one; the fixed-book suites use this one.
  "$PYTHON" - "$DAV_URL" "$DAV_USER" "$DAV_PASS" <<'EOF'
import base64, sys, urllib.request
url, user, pw = sys.argv[1:]
body = b'''<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">
<D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype>
<D:displayname>Contacts</D:displayname></D:prop></D:set></D:mkcol>'''
req = urllib.request.Request(f"{url}{user}/contacts/", data=body, method="MKCOL")
req.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode())
req.add_header("Content-Type", "application/xml")
urllib.request.urlopen(req)
EOF
  log "Radicale $RADICALE_VERSION ready at $DAV_URL (pid $SERVER_PID)"
}

case "$SERVER" in
  cardbridge) start_cardbridge ;;
  radicale) start_radicale ;;
esac
export DAV_URL DAV_USER DAV_PASS EMULATOR_URL
export DAV_SERVER_KIND="$SERVER"

# ---------------------------------------------------------------- suites
# Each suite writes its log to $RUN_DIR/NAME.log with one line per check:
#   [PASS] <name>  |  [FAIL] <name>: <why>  |  [SKIP] <name>: <why>
# (the pytest suite is converted from its JUnit XML). tally.py applies xfail.txt and counts.

suite_vdirsyncer_storage() {
  install_python
  local src="$WORK/vdirsyncer-$VDIRSYNCER_VERSION"
  # The suite picks its server mixin by DAV_SERVER; ours reads DAV_URL/DAV_USER/DAV_PASS.
  # Against Radicale the mixin takes upstream's name, so upstream's Radicale skips apply.
  local mixin_name=cardbridge
  [ "$SERVER" = radicale ] && mixin_name=radicale
  mkdir -p "$src/tests/storage/servers/$mixin_name"
  cp "$HERE/vdirsyncer/server_mixin.py" "$src/tests/storage/servers/$mixin_name/__init__.py"
  (cd "$src" && DAV_SERVER="$mixin_name" timeout 600 "$VPY" -m pytest -p no:cacheprovider --no-cov \
      -q -o addopts= -o asyncio_mode=strict --junitxml="$RUN_DIR/vdirsyncer-storage.xml" \
      tests/storage/dav/test_carddav.py) || true
  "$VPY" "$HERE/lib/tally.py" junit "$RUN_DIR/vdirsyncer-storage.xml"
}

suite_vdirsyncer_cli() {
  install_python
  timeout 300 "$VPY" "$HERE/vdirsyncer/cli_roundtrip.py"
}

suite_tsdav() {
  install_node
  NODE_PATH="$WORK/node/node_modules" timeout 300 node "$HERE/tsdav/tsdav_check.cjs"
}

suite_smoke() {
  timeout 300 "$PYTHON" "$HERE/smoke.py"
}

SUITES="${CONFORMANCE_SUITES:-$ALL_SUITES}"
SUMMARY="$RUN_DIR/summary"
: > "$SUMMARY"
IFS=',' read -r -a SUITE_LIST <<< "$SUITES"
for suite in "${SUITE_LIST[@]}"; do
  fn="suite_${suite//-/_}"
  if ! declare -F "$fn" >/dev/null; then
    log "unknown suite '$suite' (known: $ALL_SUITES)"
    echo "$suite 0 1" >> "$SUMMARY"
    continue
  fi
  log "suite $suite"
  set +e
  ( set -euo pipefail; "$fn" ) > "$RUN_DIR/$suite.log" 2>&1
  rc=$?
  set -e
  "$PYTHON" "$HERE/lib/tally.py" count "$suite" "$rc" "$RUN_DIR/$suite.log" "$HERE/xfail.txt" \
    "$SERVER" >> "$SUMMARY" || echo "$suite 0 1" >> "$SUMMARY"
  if [ -n "${CONFORMANCE_LOGS:-}" ]; then
    mkdir -p "$CONFORMANCE_LOGS"; cp "$RUN_DIR/$suite.log" "$RUN_DIR/server.log" "$CONFORMANCE_LOGS/"
  fi
done

echo
total_pass=0; total_fail=0
while read -r name pass fail; do
  echo "$name: $pass passed, $fail failed"
  total_pass=$((total_pass + pass)); total_fail=$((total_fail + fail))
done < "$SUMMARY"
echo "conformance: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
