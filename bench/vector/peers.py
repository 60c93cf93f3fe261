"""GloVe-6B-50d peer comparison for memlane's vector index.

  peers.py prep  DATA_NPY OUT_DIR      split 1,000 held-out queries, write base/queries/gt .npy (cached)
  peers.py faiss OUT_DIR [--ef LIST]   faiss-cpu IndexHNSWFlat (M=16, efConstruction=100, inner product)
  peers.py hnswlib OUT_DIR [--ef LIST] hnswlib (M=16, ef_construction=100, space "ip")
  peers.py table RESULTS.jsonl         comparison table with ratios

  --index-cache DIR  save the built index there, and on later runs load it instead of building (search only)

Every engine gets the same L2-normalized vectors and inner product (= cosine). Builds use every core (faiss with
OpenMP, hnswlib with its threads, memlane with its batch threads); searches run on ONE thread, the whole query set
as one batch call. Output: one JSON object per line, the same shape as memlane's glove_bench example.
"""

import json
import os
import sys
import time

import numpy as np

K = 10
DEFAULT_EF = "16,24,32,48,64,96,128,192,256"


def normalize(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def prep(src, out):
    os.makedirs(out, exist_ok=True)
    if all(os.path.exists(os.path.join(out, f)) for f in ("base.npy", "queries.npy", "gt.npy")):
        print(f"cached: {out}", file=sys.stderr)
        return
    data = np.load(src).astype(np.float32)
    norms = np.linalg.norm(data, axis=1)
    data = data[norms > 0]
    rng = np.random.default_rng(42)
    q_idx = rng.choice(len(data), 1000, replace=False)
    mask = np.ones(len(data), dtype=bool)
    mask[q_idx] = False
    base, queries = data[mask], data[q_idx]
    nb, nq = normalize(base), normalize(queries)
    gt = np.zeros((len(nq), 100), dtype=np.int64)
    for s in range(0, len(nq), 50):
        sims = nq[s:s + 50] @ nb.T
        top = np.argpartition(-sims, 100, axis=1)[:, :100]
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1)
        gt[s:s + 50] = np.take_along_axis(top, order, axis=1)
    np.save(os.path.join(out, "base.npy"), base)
    np.save(os.path.join(out, "queries.npy"), queries)
    np.save(os.path.join(out, "gt.npy"), gt)
    print(f"wrote {out}: base {base.shape}, queries {queries.shape}", file=sys.stderr)


def load(out):
    base = normalize(np.load(os.path.join(out, "base.npy")))
    queries = normalize(np.load(os.path.join(out, "queries.npy")))
    gt = np.load(os.path.join(out, "gt.npy"))[:, :K]
    return base, queries, gt


def cached(name):
    """Path of a saved index under --index-cache DIR (search-only reruns), or None to build fresh."""
    if "--index-cache" not in sys.argv:
        return None
    d = sys.argv[sys.argv.index("--index-cache") + 1]
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, name)


def recall(found, gt):
    return float(np.mean([len(set(f) & set(g)) / K for f, g in zip(found, gt)]))


def run_faiss(out, efs):
    import faiss
    base, queries, gt = load(out)
    cache = cached("faiss.index")
    if cache and os.path.exists(cache):
        index = faiss.read_index(cache)
    else:
        index = faiss.IndexHNSWFlat(base.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 100
        t = time.perf_counter()
        index.add(base)
        build = time.perf_counter() - t
        print(json.dumps({"lib": "faiss", "n": len(base), "build_s": round(build, 3),
                          "build_threads": faiss.omp_get_max_threads()}), flush=True)
        if cache:
            faiss.write_index(index, cache)
    faiss.omp_set_num_threads(1)
    for ef in efs:
        index.hnsw.efSearch = ef
        c = time.thread_time()
        t = time.perf_counter()
        _, found = index.search(queries, K)
        secs = time.perf_counter() - t
        cpu = time.thread_time() - c
        print(json.dumps({"lib": "faiss", "ef": ef, "recall": round(recall(found, gt), 4),
                          "qps": round(len(queries) / secs, 1), "cpu_qps": round(len(queries) / cpu, 1)}),
              flush=True)


def run_hnswlib(out, efs):
    import hnswlib
    base, queries, gt = load(out)
    index = hnswlib.Index(space="ip", dim=base.shape[1])
    cache = cached("hnswlib.index")
    if cache and os.path.exists(cache):
        index.load_index(cache)
    else:
        index.init_index(max_elements=len(base), M=16, ef_construction=100, random_seed=1)
        t = time.perf_counter()
        index.add_items(base, np.arange(len(base)), num_threads=-1)
        build = time.perf_counter() - t
        print(json.dumps({"lib": "hnswlib", "n": len(base), "build_s": round(build, 3)}), flush=True)
        if cache:
            index.save_index(cache)
    index.set_num_threads(1)
    for ef in efs:
        index.set_ef(max(ef, K))
        c = time.thread_time()
        t = time.perf_counter()
        found, _ = index.knn_query(queries, k=K, num_threads=1)
        secs = time.perf_counter() - t
        cpu = time.thread_time() - c
        print(json.dumps({"lib": "hnswlib", "ef": ef, "recall": round(recall(found, gt), 4),
                          "qps": round(len(queries) / secs, 1), "cpu_qps": round(len(queries) / cpu, 1)}),
              flush=True)


def table(path):
    rows = [json.loads(line) for line in open(path) if line.startswith("{")]
    libs = []
    for r in rows:
        if r["lib"] not in libs:
            libs.append(r["lib"])
    builds = {}
    points = {lib: {} for lib in libs}
    for r in rows:
        if "build_s" in r:
            builds.setdefault(r["lib"], []).append(r["build_s"])
        if "ef" in r:
            points[r["lib"]].setdefault(r["ef"], []).append(r)
    efs = sorted({ef for lib in libs for ef in points[lib]})
    # Several rounds: keep the best QPS per ef (recall is fixed per build: take its mean).
    for metric, title in (("qps", "wall-clock QPS, one thread"), ("cpu_qps", "QPS per CPU-second of the search thread")):
        if not all(metric in r for lib in libs for ps in points[lib].values() for r in ps):
            continue
        best = {lib: {ef: (float(np.mean([p["recall"] for p in ps])), max(p[metric] for p in ps))
                      for ef, ps in points[lib].items()} for lib in libs}
        print(f"== {title} (best of {max(len(ps) for lib in libs for ps in points[lib].values())} rounds)")
        print("ef".rjust(5) + "".join(f"  {lib + ' recall':>15} {lib + ' QPS':>12}" for lib in libs))
        for ef in efs:
            line = str(ef).rjust(5)
            for lib in libs:
                rec, qps = best[lib].get(ef, (float("nan"), float("nan")))
                line += f"  {rec:>15.4f} {qps:>12.1f}"
            print(line)

        def at(lib, target):
            ok = [(q, r, ef) for ef, (r, q) in best[lib].items() if r >= target]
            return max(ok) if ok else None

        for target in (0.90, 0.95, 0.98):
            found = {lib: at(lib, target) for lib in libs}
            line = f"recall>={target:.2f}: " + ", ".join(
                f"{lib} {v[0]:.0f} QPS (ef {v[2]}, recall {v[1]:.3f})" if v else f"{lib} n/a"
                for lib, v in found.items())
            if found.get("memlane"):
                for lib in libs:
                    if lib != "memlane" and found.get(lib):
                        line += f"; memlane/{lib} = {found['memlane'][0] / found[lib][0]:.2f}x"
            print(line)
        print()
    if builds:
        print("build seconds (all cores): " + ", ".join(f"{lib} {min(b):.1f}" for lib, b in builds.items()))
    if "memlane" in builds:
        print("build ratio: " + ", ".join(f"{lib}/memlane = {min(b) / min(builds['memlane']):.2f}x"
                                          for lib, b in builds.items() if lib != "memlane"))


def main():
    cmd = sys.argv[1]
    efs = [int(x) for x in (sys.argv[sys.argv.index("--ef") + 1] if "--ef" in sys.argv else DEFAULT_EF).split(",")]
    if cmd == "prep":
        prep(sys.argv[2], sys.argv[3])
    elif cmd == "faiss":
        run_faiss(sys.argv[2], efs)
    elif cmd == "hnswlib":
        run_hnswlib(sys.argv[2], efs)
    elif cmd == "table":
        table(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
