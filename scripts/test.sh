#!/usr/bin/env bash
# Every check and test of memlane, on a fresh machine: installs what is missing, fetches the embedding model, runs
# formatting, lints, the whole workspace's tests (the conformance suite against every backend) and a short fuzz
# run, then stops whatever it started. `.ci/run` runs exactly this.
#
#   scripts/test.sh            # everything
#   FUZZ_SECONDS=0 scripts/test.sh   # skip the fuzz run
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n== %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

step "toolchain"
cargo --version
rustc --version

step "embedding model"
bash scripts/fetch-model.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test"
cargo test --workspace

step "fuzz the filter parser"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"

step "done"
