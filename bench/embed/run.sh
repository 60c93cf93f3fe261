#!/usr/bin/env bash
# memlane-embed vs sentence-transformers: texts/s at batch 1 and 64 on the same texts, same machine, alternating
# runs. See README.md beside this file.
#
#   bench/embed/run.sh [--rounds N] [--count N] [--corpus synthetic|short|locomo] [--batch 1,64] [--threads 2]
#
# Sets up (once) a private venv with torch + sentence-transformers under ~/.cache/memlane/bench-venv
# ($MEMLANE_BENCH_VENV), fetches the model if needed, builds the Rust bench in release mode, then runs both
# benches ROUNDS times, alternating which goes first, and prints the median and best texts/s of each and the
# ratios. On a machine shared with other work, the best of several rounds is the figure closest to an idle machine.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${MEMLANE_BENCH_VENV:-$HOME/.cache/memlane/bench-venv}"
ROUNDS=3
COUNT=512
CORPUS=synthetic
BATCHES=1,64
THREADS=2

while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --count) COUNT="$2"; shift 2 ;;
        --corpus) CORPUS="$2"; shift 2 ;;
        --batch) BATCHES="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

"$ROOT/scripts/fetch-model.sh"

if ! "$VENV/bin/python" -c "import torch, sentence_transformers" >/dev/null 2>&1; then
    echo "run.sh: creating $VENV with torch and sentence-transformers (a large download, once) ..."
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --disable-pip-version-check torch sentence-transformers
fi

(cd "$ROOT" && cargo build --release --quiet -p memlane-embed --example embed_bench)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/embed_bench"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/memlane-embed-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
TEXTS="$WORK/texts.jsonl"
RESULTS="$WORK/results.jsonl"
python3 "$HERE/st_bench.py" --write-texts "$TEXTS" --corpus "$CORPUS" --count "$COUNT"

run_memlane() {
    RAYON_NUM_THREADS="$THREADS" "$BIN" --texts "$TEXTS" --batch "$BATCHES" --count "$COUNT" --json | tee -a "$RESULTS"
}
run_st() {
    "$VENV/bin/python" "$HERE/st_bench.py" --texts "$TEXTS" --batch "$BATCHES" --count "$COUNT" \
        --threads "$THREADS" --json 2>/dev/null | tee -a "$RESULTS"
}

echo "corpus: $CORPUS, $COUNT texts; batches $BATCHES; $THREADS threads; $ROUNDS rounds; $(nproc) cores"
for ((r = 1; r <= ROUNDS; r++)); do
    echo "round $r (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    if ((r % 2)); then run_memlane; run_st; else run_st; run_memlane; fi
done

python3 - "$RESULTS" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by, cpu = {}, {}
for r in rows:
    by.setdefault((r["impl"], r["batch"]), []).append(r["texts_per_s"])
    if r.get("cpu_seconds"):
        cpu.setdefault((r["impl"], r["batch"]), []).append(r["texts"] / r["cpu_seconds"])
nan = [float("nan")]
print()
print("texts/s (wall clock)")
print(f"{'batch':>5}  {'memlane':>21}  {'sentence-transformers':>21}  {'ratio':>14}")
print(f"{'':>5}  {'median':>10} {'best':>10}  {'median':>10} {'best':>10}  {'median':>6} {'best':>7}")
for batch in sorted({b for _, b in by}):
    m, s = by.get(("memlane", batch), nan), by.get(("sentence-transformers", batch), nan)
    mm, mb, sm, sb = statistics.median(m), max(m), statistics.median(s), max(s)
    print(f"{batch:>5}  {mm:>10.1f} {mb:>10.1f}  {sm:>10.1f} {sb:>10.1f}  {mm / sm:>5.2f}x {mb / sb:>6.2f}x")
print()
print("texts per CPU-second (median; with --threads 1 the figure least disturbed by other load)")
for batch in sorted({b for _, b in by}):
    m = statistics.median(cpu.get(("memlane", batch), nan))
    s = statistics.median(cpu.get(("sentence-transformers", batch), nan))
    print(f"{batch:>5}  memlane {m:>8.1f}  sentence-transformers {s:>8.1f}  ratio {m / s:>5.2f}x")
EOF
