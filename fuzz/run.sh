#!/usr/bin/env bash
# Run every cardbridge fuzz target for a bounded time (issue 10 item 4).
#
#   fuzz/run.sh [SECONDS] [TARGET...]     default: 60 s each, all targets
#
# Installs cargo-fuzz into the git-ignored `.tools/` at the repository root on first
# use, builds with RUSTC_BOOTSTRAP=1 (cargo-fuzz needs `-Z` flags; reference/crates.md
# §7), and runs each target on a scratch corpus (fuzz/corpus/<target>, git-ignored)
# seeded from the checked-in fuzz/seeds/<target>. New crashes land in
# fuzz/artifacts/<target>/; turn each into a regression test beside the code it broke.
# Not run in CI: it needs a release build with sanitizers and minutes of CPU.
set -euo pipefail

secs="${1:-60}"
shift || true
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
tools="$root/.tools"
export PATH="$tools/bin:$PATH"
export RUSTC_BOOTSTRAP=1

if ! command -v cargo-fuzz >/dev/null; then
    cargo install cargo-fuzz --version 0.13.1 --locked --root "$tools"
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cd "$here" && cargo fuzz list)
fi

cd "$root"
# One build for all targets (sanitizer: address; debug assertions on).
cargo fuzz build --fuzz-dir "$here" >&2

status=0
for t in "${targets[@]}"; do
    corpus="$here/corpus/$t"
    mkdir -p "$corpus" "$here/artifacts/$t"
    echo "== $t: ${secs}s" >&2
    # -rss_limit_mb: calcard fuzzing sits near 500 MB (crates.md §7); leave headroom.
    if ! cargo fuzz run --fuzz-dir "$here" "$t" "$corpus" "$here/seeds/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        2> >(tee "$here/artifacts/$t/last-run.log" >&2); then
        echo "!! $t found a failure: see fuzz/artifacts/$t/" >&2
        status=1
    fi
done
exit $status
