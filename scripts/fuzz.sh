#!/usr/bin/env bash
# Runs the cargo-fuzz targets for a while each (default 30 s): `scripts/fuzz.sh [SECONDS]`.
# Installs cargo-fuzz into ~/.cache/memlane/tools when missing. The toolchain here is stable, so
# RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags (sanitizer coverage).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-30}"
if [[ "$seconds" == 0 ]]; then
    echo "fuzz: skipped (0 seconds)"
    exit 0
fi
tools="${MEMLANE_TOOLS:-$HOME/.cache/memlane/tools}"
export PATH="$tools/bin:$PATH"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz into $tools"
    cargo install --locked --quiet cargo-fuzz --root "$tools"
fi
cd "$root/fuzz"
export RUSTC_BOOTSTRAP=1
# A fuzz build has its own target dir: its flags differ from the workspace's.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$root/target}/fuzz}"
for target in $(cargo fuzz list); do
    corpus="$(mktemp -d)"
    cp corpus_seed/* "$corpus"/ 2>/dev/null || true
    echo "fuzz: $target for ${seconds}s"
    log="$corpus.log"
    set +e
    cargo fuzz run "$target" "$corpus" -- -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
    rc=$?
    set -e
    grep -E "^(Done|stat::number_of_executed_units|SUMMARY|==[0-9]+==)|panicked" "$log" || tail -n 30 "$log"
    rm -rf "$corpus" "$log"
    if [[ "$rc" != 0 ]]; then
        echo "fuzz: $target FAILED (exit $rc); the crashing input is in fuzz/artifacts/$target/" >&2
        exit "$rc"
    fi
done
