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

# Services (Redis, PostgreSQL, ...): each scripts/services/NAME.sh installs what is missing, starts the service on
# loopback under $MEMLANE_CI_DIR, waits until it answers, and appends the variables the tests read (e.g.
# MEMLANE_TEST_REDIS_URL) to $MEMLANE_CI_ENV; `NAME.sh stop` stops it. With MEMLANE_REQUIRE_SERVICES=1 a backend
# test whose variable is missing fails instead of skipping.
export MEMLANE_CI_DIR="${MEMLANE_CI_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/memlane-ci.XXXXXX")}"
export MEMLANE_CI_ENV="$MEMLANE_CI_DIR/env"
export MEMLANE_REQUIRE_SERVICES=1
: >"$MEMLANE_CI_ENV"
started=()
stop_services() {
    local s
    for s in "${started[@]}"; do
        bash "$s" stop || echo "warning: $s stop failed" >&2
    done
}
trap stop_services EXIT
for s in scripts/services/*.sh; do
    [[ -e "$s" ]] || continue
    step "service $(basename "$s" .sh)"
    started+=("$s")
    bash "$s" start
done
# Setup steps (tools and client libraries the tests drive): each scripts/setup/NAME.sh installs what is missing
# (cached under ~/.cache/memlane) and may append variables to $MEMLANE_CI_ENV.
for s in scripts/setup/*.sh; do
    [[ -e "$s" ]] || continue
    step "setup $(basename "$s" .sh)"
    bash "$s"
done
set -a
# shellcheck disable=SC1090
source "$MEMLANE_CI_ENV"
set +a

step "embedding model"
bash scripts/fetch-model.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "promtool: alert rules"
promtool check rules deploy/prometheus/alerts.yml
(cd deploy/prometheus && promtool test rules alerts.test.yml)

step "cargo test"
cargo test --workspace --no-fail-fast

step "fuzz the filter parser"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"

step "done"
