"""The driver side of the JSON-lines protocol, shared by the Python drivers (the Rust one speaks the same).

One request per line on stdin, one answer per line on stdout (anything else a library prints goes to stderr):

  {"cmd": "init", "workload": DIR}                       -> {"ok": true, "ops": [...supported operations]}
  {"cmd": "preload"}                                     -> {"ok": true, "seconds": S, "count": N}
  {"cmd": "run", "op": OP, "start": I, "n": N, "concurrency": C}
        -> {"ok": true, "lat_us": [...], "wall_s": W, "errors": E, "error": "first error text"}
  {"cmd": "quit"}

Operation i of a run (i = start .. start + n) uses input i: `add` the text adds[i], `get` the preloaded memory
(i * 7919) mod N, `list` the category i mod 16, `semantic` and `hybrid` the query text queries[i], `embed` (a
diagnostic: the peer's embedding call alone) the query text queries[i]. Latency is taken
around the one library call, with `time.perf_counter_ns`; C clients are C threads taking the next i in turn.
"""

import json
import sys
import threading
import time
import traceback

OPS = ("add", "get", "list", "semantic", "hybrid")


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class Workload:
    """The files written by workload.py."""

    def __init__(self, path):
        import numpy as np

        with open(f"{path}/meta.json") as f:
            self.meta = json.load(f)
        self.preload = read_jsonl(f"{path}/preload.jsonl")
        self.adds = read_jsonl(f"{path}/adds.jsonl")
        self.queries = read_jsonl(f"{path}/queries.jsonl")
        self.vectors = np.fromfile(f"{path}/preload.f32", dtype="<f4").reshape(len(self.preload), -1)
        self.categories = self.meta["categories"]


def timed_run(call, start, n, concurrency):
    """Runs call(i) for i in start..start+n on `concurrency` threads; returns the protocol answer."""
    lat = []
    errors = [0, None]
    lock = threading.Lock()
    next_i = [start]
    end = start + n

    def worker():
        mine = []
        while True:
            with lock:
                i = next_i[0]
                if i >= end:
                    break
                next_i[0] = i + 1
            t0 = time.perf_counter_ns()
            try:
                call(i)
            except Exception as e:  # an error is counted and reported, never hidden
                with lock:
                    errors[0] += 1
                    if errors[1] is None:
                        errors[1] = f"{type(e).__name__}: {e}"
                        traceback.print_exc(file=sys.stderr)
                continue
            mine.append((time.perf_counter_ns() - t0) / 1000.0)
        with lock:
            lat.extend(mine)

    t0 = time.perf_counter()
    if concurrency <= 1:
        worker()
    else:
        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    wall = time.perf_counter() - t0
    return {"ok": True, "lat_us": lat, "wall_s": wall, "errors": errors[0], "error": errors[1]}


def configure_torch():
    """torch's intra-op threads: PEERS_TORCH_THREADS, default 1. On this shared 2-core machine one thread embeds
    one sentence several times faster than torch's default (one per core), whose threads wait for each other under
    load: the peers get their faster setting."""
    import os

    import torch

    torch.set_num_threads(int(os.environ.get("PEERS_TORCH_THREADS", "1")))


def serve(make_system):
    """The request loop. make_system(workload) returns an object with `ops` (a list), preload() and op(name, i)."""
    configure_torch()
    out = sys.stdout
    sys.stdout = sys.stderr  # library prints must not corrupt the protocol
    system = None
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            cmd = req["cmd"]
            if cmd == "init":
                system = make_system(Workload(req["workload"]))
                answer = {"ok": True, "ops": list(system.ops)}
            elif cmd == "preload":
                t0 = time.perf_counter()
                count = system.preload()
                answer = {"ok": True, "seconds": time.perf_counter() - t0, "count": count}
            elif cmd == "run":
                op = req["op"]
                if op not in system.ops:
                    raise ValueError(f"operation {op} is not offered")
                answer = timed_run(lambda i: system.op(op, i), req["start"], req["n"], req.get("concurrency", 1))
            elif cmd == "quit":
                out.write(json.dumps({"ok": True}) + "\n")
                out.flush()
                return
            else:
                raise ValueError(f"unknown command {cmd}")
        except Exception as e:
            traceback.print_exc(file=sys.stderr)
            answer = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()
