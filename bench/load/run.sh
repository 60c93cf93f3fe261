#!/usr/bin/env bash
# HTTP load benchmark of `memlane serve` on the embedded default store (not a timed test: run it by hand).
#
#   bench/load/run.sh                      # build the release CLI, run the three loads, write results/<UTC time>.json
#   MEMLANE_BIN=path/to/memlane bench/load/run.sh   # use an existing binary instead of building one
#
# Steps: builds `memlane` (release), starts `memlane serve` on a fresh embedded store in a temp dir (loopback, no
# keys, `embedder=none`: no embedding model on the write path), preloads $PRELOAD memories, then drives it with wrk
# (Debian's `wrk`, installed if missing; Lua scripts beside this file make the POST bodies):
#   (a) GET /v1/memories/{id} of random preloaded ids: $GET_CONNS connections, $GET_SECS s
#   (b) POST /v1/memories, batches of $BATCH new memories: $ADD_CONNS connections, $ADD_SECS s
#   (c) $MIXED_CONNS connections held open for $MIXED_SECS s: 80% get, 10% list, 10% add of 10
# Each reports p50/p95/p99, throughput and errors (socket errors + non-2xx answers). The server's VmRSS is sampled
# from /proc every 0.2 s into results/<time>-rss.csv; its peak goes into the JSON. The server runs with
# MEMLANE_MAX_CONCURRENCY above the connection count (the default, 256, sheds load with 503 beyond it) and
# MEMLANE_LOG_LEVEL=warn (LOG_LEVEL=info to measure with a log line per request, written to a file).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
PRELOAD="${PRELOAD:-10000}"
BATCH="${BATCH:-100}"
THREADS="${THREADS:-2}"
GET_CONNS="${GET_CONNS:-64}" GET_SECS="${GET_SECS:-20}"
ADD_CONNS="${ADD_CONNS:-16}" ADD_SECS="${ADD_SECS:-20}"
MIXED_CONNS="${MIXED_CONNS:-1000}" MIXED_SECS="${MIXED_SECS:-60}"
LOG_LEVEL="${LOG_LEVEL:-warn}"
STORE_OPTS="${STORE_OPTS:-embedder=none}"   # e.g. embedder=none&sync=normal to take fsync out of the write path
RUNS="${RUNS:-get add mixed}"
say() { echo "load: $*" >&2; }

if ! command -v wrk >/dev/null 2>&1; then
    say "installing Debian's wrk"
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
fi
command -v curl >/dev/null 2>&1 || { say "curl is needed"; exit 1; }
# wrk and the server each need a descriptor per connection.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[[ $(ulimit -n) -ge $((MIXED_CONNS + 512)) ]] || { say "ulimit -n is $(ulimit -n): too low for $MIXED_CONNS connections"; exit 1; }

bin="${MEMLANE_BIN:-}"
if [[ -z $bin ]]; then
    say "building the release CLI"
    (cd "$root" && cargo build --release -q -p memlane-cli --bin memlane)
    bin="$(cd "$root" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/memlane"
fi

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$here/results"
rss_csv="$here/results/$stamp-rss.csv"
server_pid="" sampler_pid=""
cleanup() {
    [[ -n $sampler_pid ]] && kill "$sampler_pid" 2>/dev/null || true
    [[ -n $server_pid ]] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    [[ -f $work/server.log ]] && tail -n 200 "$work/server.log" >"$here/results/$stamp-server.log"
    rm -rf "$work"
}
trap cleanup EXIT

say "server on $base, store $work/store"
MEMLANE_LOG_LEVEL="$LOG_LEVEL" MEMLANE_MAX_CONCURRENCY=$((MIXED_CONNS * 4)) \
    "$bin" serve --store "$work/store?$STORE_OPTS" --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do
    curl -fsS "$base/health/ready" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$base/health/ready" >/dev/null || { say "the server did not start:"; cat "$work/server.log" >&2; exit 1; }

# Peak memory: VmRSS every 0.2 s.
(
    echo "unix_ms,vm_rss_kb"
    while kill -0 "$server_pid" 2>/dev/null; do
        rss="$(awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || true)"
        [[ -n $rss ]] && echo "$(date +%s%3N),$rss"
        sleep 0.2
    done
) >"$rss_csv" &
sampler_pid=$!

say "preloading $PRELOAD memories"
python3 - "$base" "$PRELOAD" "$work/ids" <<'PY'
import json, sys, urllib.request
base, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ids = []
for start in range(0, n, 100):
    batch = [{"scope": {"user": f"u{i % 50}"}, "kind": "fact",
              "content": f"preloaded memory {i} about topic {i % 97}", "metadata": {"n": i}}
             for i in range(start, min(n, start + 100))]
    req = urllib.request.Request(base + "/v1/memories", json.dumps({"memories": batch}).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        ids += [x["memory"]["id"] for x in json.load(r)["results"]]
open(out, "w").write("\n".join(ids) + "\n")
PY

export MEMLANE_BENCH_DIR="$here" MEMLANE_BENCH_IDS="$work/ids" MEMLANE_BENCH_BATCH="$BATCH"
results=()
run() {
    local conns=$1 secs=$2 script=$3 out
    say "wrk -t$THREADS -c$conns -d${secs}s $script"
    out="$(wrk -t"$THREADS" -c"$conns" -d"${secs}s" --timeout 10s -s "$here/$script" "$base")"
    echo "$out" | grep -v '^RESULT' >&2
    results+=("$(echo "$out" | sed -n 's/^RESULT //p')")
}
[[ " $RUNS " == *" get "* ]] && run "$GET_CONNS" "$GET_SECS" get.lua
[[ " $RUNS " == *" add "* ]] && run "$ADD_CONNS" "$ADD_SECS" add.lua
[[ " $RUNS " == *" mixed "* ]] && run "$MIXED_CONNS" "$MIXED_SECS" mixed.lua

kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""
peak_kb="$(tail -n +2 "$rss_csv" | cut -d, -f2 | sort -n | tail -1)"
python3 - "$here/results/$stamp.json" "$peak_kb" "$PRELOAD" "$LOG_LEVEL" "$STORE_OPTS" "${results[@]}" <<'PY'
import json, os, platform, sys
out, peak, preload, log_level, opts = sys.argv[1], int(sys.argv[2] or 0), int(sys.argv[3]), sys.argv[4], sys.argv[5]
runs = sys.argv[6:]
doc = {"machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "load_tool_on_same_machine": True,
                   "loadavg_at_end": os.getloadavg()},
       "server": {"store": "embedded, fresh temp dir, ?" + opts, "log_level": log_level, "preloaded": preload},
       "peak_rss_mb": round(peak / 1024, 1), "runs": [json.loads(r) for r in runs]}
open(out, "w").write(json.dumps(doc, indent=2) + "\n")
print(json.dumps(doc, indent=2))
PY
say "results: $here/results/$stamp.json, RSS samples: $rss_csv"
