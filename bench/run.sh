#!/usr/bin/env bash
# Benchmarks behind BENCHMARKS.md: cardbridge (release build, `demo` = bridge + in-process Graph
# emulator) side by side with Radicale 3.9 serving the same cards and nginx serving the same bytes,
# driven by oha, pinned as reference/benchmarking.md describes (server on core 1, oha on core 0).
#
#   bench/run.sh [--contacts N] [--seconds S] [--quick]
#
# Installs what it needs into bench/.work (git-ignored): oha 1.16.0 (cargo install, ~13 min once),
# Radicale 3.9.0 (venv), nginx-light (apt, when missing). Prints a Markdown section; with
# --write it also replaces the "CardDAV latency and throughput" section of BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=bench/.work
mkdir -p "$WORK"

if [ ! -x "$WORK/tools/bin/oha" ]; then
  echo "== installing oha 1.16.0 (once; about 13 minutes on 2 cores)"
  nice -n 10 cargo install oha --version 1.16.0 --locked --root "$WORK/tools"
fi
if [ ! -x "$WORK/radicale-venv/bin/radicale" ]; then
  echo "== installing Radicale 3.9.0"
  python3 -m venv "$WORK/radicale-venv"
  "$WORK/radicale-venv/bin/pip" install -q "radicale==3.9.0"
fi
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "== installing nginx-light"
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q nginx-light >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q nginx-light >/dev/null; }
  else sudo apt-get install -y -q nginx-light >/dev/null; fi
fi
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  echo "== cargo build --release"
  cargo build --release --locked
fi
exec python3 bench/bench.py --work "$WORK" --binary target/release/cardbridge "$@"
