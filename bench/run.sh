#!/usr/bin/env bash
# Benchmarks behind BENCHMARKS.md: cardbridge (release build, `demo` = bridge + in-process Graph
# emulator) side by side with Radicale 3.9 serving the same cards and nginx serving the same bytes,
# driven by oha, pinned as reference/benchmarking.md describes (server on core 1, oha on core 0).
#
#   bench/run.sh [--only latency|graph|memory|coldstart]... [--write] [options of the parts]
#
# Parts (all of them without --only):
#   latency    bench.py: oha against cardbridge `demo`, Radicale and nginx (--contacts N, --seconds S)
#   graph      scale.py: Graph requests per scenario at 100..100,000 contacts (--sizes a,b,c)
#   memory     scale.py: RSS of `serve` alone, 10k / 100k / 100 users x 1k (--memory-sizes, --org UxN)
#   coldstart  scale.py: `serve` restarted on a 100,000-contact state file (--coldstart-contacts N)
# graph, memory and coldstart run `cardbridge emulator` and `cardbridge serve` as separate processes.
#
# Installs what it needs into bench/.work (git-ignored): oha 1.16.0 (cargo install, ~13 min once),
# Radicale 3.9.0 (venv), nginx-light (apt, when missing); only the latency part needs them.
# Prints Markdown sections; with --write it also replaces them in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=bench/.work
mkdir -p "$WORK"

LATENCY=0
SCALE=()
REST=()
while [ $# -gt 0 ]; do
  case "$1" in
    --only)
      case "$2" in
        latency) LATENCY=1 ;;
        graph | memory | coldstart) SCALE+=(--only "$2") ;;
        *) echo "unknown part $2" >&2; exit 2 ;;
      esac
      shift 2 ;;
    *) REST+=("$1"); shift ;;
  esac
done
if [ "$LATENCY" = 0 ] && [ ${#SCALE[@]} -eq 0 ]; then
  LATENCY=1
  SCALE=(--only graph --only memory --only coldstart)
fi
if [ "$LATENCY" = 1 ]; then

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
fi
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  echo "== cargo build --release"
  cargo build --release --locked
fi
if [ ${#SCALE[@]} -gt 0 ]; then
  python3 bench/scale.py --work "$WORK" --binary target/release/cardbridge "${SCALE[@]}" ${REST[@]+"${REST[@]}"}
fi
if [ "$LATENCY" = 1 ]; then
  python3 bench/bench.py --work "$WORK" --binary target/release/cardbridge ${REST[@]+"${REST[@]}"}
fi
