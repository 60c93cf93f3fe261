#!/usr/bin/env bash
# memlane against its peers (LangGraph stores, mem0) on the same PostgreSQL and the same model: one command.
#
#   bash bench/peers/run.sh                                   the full run (10,000 memories, 500 ops, 20 warm-ups)
#   PEERS_PRELOAD=500 PEERS_OPS=50 bash bench/peers/run.sh    a smoke run (a minute or two)
#   PEERS_SYSTEMS=memlane-pg,mem0 bash bench/peers/run.sh     only these systems
#   PEERS_TRANSPORT=socket ...                                every system reaches PostgreSQL by its Unix socket
#   PEERS_COMPARE_BIN=/path/to/peer-bench ...                 also measure another build as memlane-pg-before
#   PEERS_SKIP_BUILD=1 ...                                    use the release binaries already built
#   PEERS_BIN=DIR ...                                         take `memlane`, `peer-bench` and `pg-floor` from DIR
#
# It installs the peers (bench/peers/requirements.txt, pinned) into the private venv ~/.cache/memlane/bench-venv,
# fetches the model if missing (scripts/fetch-model.sh), builds `memlane`, `peer-bench` and `pg-floor` from the
# current tree in release mode, starts a private PostgreSQL with pgvector (scripts/services/postgres.sh) with one
# database per system and a private Redis (scripts/services/redis.sh, for the composite systems), generates the
# workload, runs bench/peers/orchestrate.py, stops the services, and writes bench/peers/results/peers-DATE.json,
# the plots and the peers section of docs/benchmarks.md (report.py). See bench/peers/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${MEMLANE_CACHE:-$HOME/.cache/memlane}"
venv="$cache/bench-venv"
model="${MEMLANE_MODEL_DIR:-$cache/models/all-MiniLM-L6-v2}"
export PEERS_PRELOAD="${PEERS_PRELOAD:-10000}" PEERS_OPS="${PEERS_OPS:-500}" PEERS_WARMUP="${PEERS_WARMUP:-20}"
stamp="$(date -u +%Y%m%d-%H%M%S)"
work="${PEERS_WORK:-$cache/peers-runs/$stamp}"
# Only a full-size run writes into the repository (results/, the plots, docs/benchmarks.md); a smaller one keeps
# everything in its work directory.
if [[ "$PEERS_PRELOAD" -ge 10000 && "$PEERS_OPS" -ge 500 ]]; then
    results="$here/results" docs=(--docs "$root/docs/benchmarks.md")
else
    results="$work" docs=()
fi
out="${PEERS_OUT:-$results/peers-$stamp.json}"
say() { printf 'peers: %s\n' "$*" >&2; }

mkdir -p "$work" "$(dirname "$out")"
# -- the peers, in the private venv
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
if ! "$venv/bin/python" - "$here/requirements.txt" <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if line:
        name, want = line.split("==")
        if version(name.split("[")[0]) != want:
            sys.exit(1)
PY
    say "installing the pinned peers into $venv"
    "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$here/requirements.txt"
fi
# -- the model, the same files for everyone
[[ -f "$model/model.safetensors" ]] || bash "$root/scripts/fetch-model.sh" "$model"
# -- memlane, release builds of the current tree (one cargo invocation: the memlane library is built once)
if [[ -z "${PEERS_SKIP_BUILD:-}" ]]; then
    say "building memlane, peer-bench and pg-floor (release)"
    (cd "$root" && cargo build -q --release -p memlane-cli -p memlane-eval --bin memlane --bin peer-bench --bin pg-floor)
fi
target="$(cd "$root" && cargo metadata --format-version 1 --no-deps | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
# -- PostgreSQL with pgvector, private to this run
# (under /tmp: the server runs as the user postgres, who cannot enter root's home directory)
export MEMLANE_CI_DIR="$(mktemp -d /tmp/memlane-peers-pg.XXXXXX)"
export MEMLANE_CI_ENV="$MEMLANE_CI_DIR/env"
stop_pg() {
    bash "$root/scripts/services/postgres.sh" stop || true
    bash "$root/scripts/services/redis.sh" stop || true
    rm -rf "$MEMLANE_CI_DIR"
}
trap stop_pg EXIT
bash "$root/scripts/services/postgres.sh" start
bash "$root/scripts/services/redis.sh" start
set -a; . "$MEMLANE_CI_ENV"; set +a
pg="${MEMLANE_TEST_POSTGRES_URL%/*}"
port="${pg##*:}"
export PEERS_PG_SOCKET="$MEMLANE_CI_DIR/pg" PEERS_REDIS="$MEMLANE_TEST_REDIS_URL"
export PEERS_PSQL="$MEMLANE_TEST_POSTGRES_BIN/psql"
for db in peers_memlane_pg peers_memlane_pg_indexed peers_memlane_pg_before peers_memlane_http peers_memlane_composite \
    peers_memlane_http_composite peers_floor peers_lg_index peers_lg peers_mem0; do
    "$MEMLANE_TEST_POSTGRES_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -c "CREATE DATABASE $db"
    "$MEMLANE_TEST_POSTGRES_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" \
        -c "CREATE EXTENSION vector"
done
# -- the workload, then the run
export MEM0_TELEMETRY=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export MEM0_DIR="$work/mem0" OPENAI_API_KEY="unused-infer-is-false" MEMLANE_MODEL_DIR="$model"
say "generating the workload in $work/workload"
"$venv/bin/python" "$here/workload.py" "$work/workload" --preload "$PEERS_PRELOAD" --ops "$PEERS_OPS" \
    --warmup "$PEERS_WARMUP" --model "$model"
say "load before the run: $(cat /proc/loadavg)"
PEERS_PG="$pg" PEERS_WORK="$work" PEERS_MODEL="$model" PEERS_BIN="${PEERS_BIN:-$target/release}" PEERS_OUT="$out" \
    "$venv/bin/python" "$here/orchestrate.py"
stop_pg
trap - EXIT
"$venv/bin/python" "$here/report.py" "$out" "${docs[@]}" --plots "$results" > "$work/report.md"
say "done: $out (logs in $work)"
