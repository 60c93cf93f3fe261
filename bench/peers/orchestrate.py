"""Runs every system the same way and writes one results JSON (run.sh calls it; see README.md).

Each system is one driver process speaking protocol.py's JSON lines (the memlane ones are the Rust `peer-bench`;
the memlane HTTP systems also have their `memlane serve` process). All drivers are started and preloaded first,
then, for each number of clients and each operation: WARMUP operations per system, then OPS operations in CHUNKS
chunks, the systems taking turns chunk by chunk (the order rotating each chunk) so that a change of machine load
falls on every system alike. Every input is used once per system (protocol.py says which input an operation takes).

Before the systems, `pg-floor` measures one PostgreSQL round trip (`SELECT 1`) and memlane's get over TCP and over
the Unix socket (the JSON's "floor").

Environment: PEERS_PRELOAD, PEERS_OPS, PEERS_WARMUP, PEERS_CHUNKS, PEERS_CLIENTS ("1,16"), PEERS_SYSTEMS (names,
comma-separated; default all), PEERS_TRANSPORT (`tcp`, the default, or `socket`: every system reaches PostgreSQL
the same way), and from run.sh: PEERS_PG (postgres://user@host:port, a database per system is created by run.sh),
PEERS_PG_SOCKET (the directory of its Unix socket), PEERS_REDIS (redis://host:port, for the composite systems),
PEERS_COMPARE_BIN (optional: another build's peer-bench, measured as `memlane-pg-before`),
PEERS_WORK, PEERS_MODEL, PEERS_BIN (the release binaries), PEERS_OUT (the JSON file).
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
OPS = ["add", "get", "list", "semantic", "hybrid"]
# Where the time goes, measured with 1 client only: memlane's add and semantic search with a vector given (the
# store's share), and the peers' embedding call alone.
DIAG_OPS = ["add_vec", "semantic_vec", "embed"]


def env(name, default=None):
    v = os.environ.get(name, default)
    if v is None:
        sys.exit(f"orchestrate: {name} is not set")
    return v


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_mem(pid):
    """VmRSS and VmHWM (peak) of a process, in MiB."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    k, v = line.split(":", 1)
                    out[k] = int(v.split()[0]) / 1024.0
    except OSError:
        pass
    return out.get("VmRSS", 0.0), out.get("VmHWM", 0.0)


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def settle(psql):
    """VACUUM ANALYZE every database of the run after the preload: what autovacuum would otherwise do during the
    first measured operations (vacuuming an HNSW index after 10,000 inserts takes the better part of a core for
    tens of seconds on this machine, and slowed every system's add 1.5-2x in a probe), so that no system is measured
    against another's maintenance. Returns the seconds it took."""
    t0 = time.time()
    pg = env("PEERS_PG")
    dbs = subprocess.run([psql, "-X", "-At", f"{pg}/postgres", "-c",
                          "SELECT datname FROM pg_database WHERE datname LIKE 'peers%' ORDER BY 1"],
                         check=True, stdout=subprocess.PIPE, text=True).stdout.split()
    for db in dbs:
        subprocess.run([psql, "-X", "-q", f"{pg}/{db}", "-c", "VACUUM (ANALYZE)"], check=True)
    return round(time.time() - t0, 1)


def pg_url(db, **opts):
    """The URL of database `db` on the run's PostgreSQL, over the transport of the run (PEERS_TRANSPORT): `tcp`
    (loopback, PEERS_PG) or `socket` (the Unix socket in the directory PEERS_PG_SOCKET; libpq, psycopg and memlane
    all read `host=/dir` from the URL's query)."""
    pg = env("PEERS_PG")
    if os.environ.get("PEERS_TRANSPORT", "tcp") == "socket":
        port = pg.rsplit(":", 1)[1]
        opts = {"host": env("PEERS_PG_SOCKET"), **opts}
        base = f"postgresql://postgres@:{port}/{db}"
    else:
        base = f"{pg}/{db}"
    query = "&".join(f"{k}={v}" for k, v in opts.items())
    return f"{base}?{query}" if query else base


def composite_config(work, name, db):
    """A composite store's TOML (PostgreSQL the record with its outbox, Redis the cache, memlane's vector index the
    semantic tier; each system its own database, key prefix and directory); returns its `composite://` URL."""
    path = os.path.join(work, f"{name}.toml")
    with open(path, "w") as f:
        f.write(f"""# {name}: written by bench/peers/orchestrate.py
[tiers.records]
url = "{pg_url(db, outbox='true')}"
role = "record"
timeout_ms = 10000

[tiers.cache]
url = "{env('PEERS_REDIS')}?prefix={name}"
role = "cache"
timeout_ms = 2000

[tiers.vectors]
url = "vector://{os.path.join(work, name + '-vectors')}"
role = "semantic"
timeout_ms = 5000
""")
    return f"composite://{path}"


def systems(work, model, bin_dir):
    py = sys.executable
    peer_bench = os.path.join(bin_dir, "peer-bench")
    memlane = os.path.join(bin_dir, "memlane")
    out = [
        {"name": "memlane-pg", "label": "memlane, PostgreSQL (library)", "family": "memlane", "pg": True,
         "cmd": [peer_bench, "--store", pg_url("peers_memlane_pg")]},
        {"name": "memlane-pg-indexed", "label": "memlane, PostgreSQL (library), `index_metadata=category`",
         "family": "memlane", "pg": True,
         "cmd": [peer_bench, "--store", pg_url("peers_memlane_pg_indexed", index_metadata="category")]},
        {"name": "memlane-http-pg", "label": "memlane serve, PostgreSQL (HTTP)", "family": "memlane", "pg": True,
         "server": [memlane, "serve", "--store", pg_url("peers_memlane_http")]},
        {"name": "memlane-embedded", "label": "memlane, embedded (library)", "family": "memlane", "pg": False,
         "cmd": [peer_bench, "--store", f"embedded://{work}/memlane-embedded"]},
        {"name": "memlane-http-embedded", "label": "memlane serve, embedded (HTTP)", "family": "memlane",
         "pg": False, "server": [memlane, "serve", "--store", f"embedded://{work}/memlane-http-embedded"]},
    ]
    if os.environ.get("PEERS_COMPARE_BIN"):
        # Another build of peer-bench (e.g. of the previous commit) on a database of its own: before/after in one run.
        out.append({"name": "memlane-pg-before", "label": "memlane, PostgreSQL (library), PEERS_COMPARE_BIN's build",
                    "family": "memlane", "pg": True,
                    "cmd": [env("PEERS_COMPARE_BIN"), "--store", pg_url("peers_memlane_pg_before")]})
    if os.environ.get("PEERS_REDIS"):
        out += [
            {"name": "memlane-composite", "label": "memlane composite: Redis + PostgreSQL + vector (library)",
             "family": "memlane", "pg": True,
             "cmd": [peer_bench, "--store", composite_config(work, "memlane-composite", "peers_memlane_composite")]},
            {"name": "memlane-http-composite", "label": "memlane serve, composite (HTTP)", "family": "memlane",
             "pg": True, "server": [memlane, "serve", "--store",
                                    composite_config(work, "memlane-http-composite", "peers_memlane_http_composite")]},
        ]
    return out + [
        {"name": "lg-pg-index", "label": "LangGraph PostgresStore + pgvector index", "family": "peer", "pg": True,
         "cmd": [py, os.path.join(HERE, "lg_driver.py"), "pg-index", pg_url("peers_lg_index"), model]},
        {"name": "lg-pg", "label": "LangGraph PostgresStore, no index", "family": "peer", "pg": True,
         "cmd": [py, os.path.join(HERE, "lg_driver.py"), "pg", pg_url("peers_lg"), model]},
        {"name": "lg-inmem", "label": "LangGraph InMemoryStore + index", "family": "peer", "pg": False,
         "cmd": [py, os.path.join(HERE, "lg_driver.py"), "inmem", "-", model]},
        {"name": "mem0", "label": "mem0 + pgvector (infer=False)", "family": "peer", "pg": True,
         "cmd": [py, os.path.join(HERE, "mem0_driver.py"), pg_url("peers_mem0"), model, work]},
    ]


def floor(bin_dir, work):
    """pg-floor's answer: one round trip (`SELECT 1`) and memlane's get, over TCP and over the Unix socket."""
    pg = env("PEERS_PG")
    port = pg.rsplit(":", 1)[1]
    urls = ["--url", f"tcp={pg}/peers_floor"]
    if os.environ.get("PEERS_PG_SOCKET"):
        urls += ["--url", f"socket=postgresql://postgres@:{port}/peers_floor?host={env('PEERS_PG_SOCKET')}"]
    n = max(500, int(env("PEERS_OPS", "500")) * 4)
    with open(os.path.join(work, "pg-floor.log"), "w") as log:
        out = subprocess.run([os.path.join(bin_dir, "pg-floor"), *urls, "--n", str(n)], stdout=subprocess.PIPE,
                             stderr=log, text=True, check=True).stdout
    return json.loads(out)


class Driver:
    def __init__(self, spec, work, peer_bench):
        self.spec = spec
        self.name = spec["name"]
        self.server = None
        log = open(os.path.join(work, f"{self.name}.log"), "w")
        cmd = spec.get("cmd")
        if "server" in spec:
            port = free_port()
            self.server = subprocess.Popen(spec["server"] + ["--listen", f"127.0.0.1:{port}"], stdout=log,
                                           stderr=log, env=dict(os.environ, RUST_LOG="warn"))
            base = f"http://127.0.0.1:{port}"
            deadline = time.time() + 120
            while True:
                try:
                    urllib.request.urlopen(f"{base}/health/ready", timeout=2).read()
                    break
                except OSError:
                    if self.server.poll() is not None or time.time() > deadline:
                        raise RuntimeError(f"{self.name}: the server did not start (see {log.name})")
                    time.sleep(0.2)
            cmd = [peer_bench, "--server", base]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                                     bufsize=1)

    def call(self, **req):
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name}: the driver exited (see its log)")
        answer = json.loads(line)
        if not answer.get("ok"):
            raise RuntimeError(f"{self.name}: {req.get('cmd')} failed: {answer.get('error')}")
        return answer

    def measured_pid(self):
        """The process whose memory counts: the server for HTTP systems, else the driver (the library's process)."""
        return (self.server or self.proc).pid

    def close(self):
        try:
            self.call(cmd="quit")
        except Exception:
            pass
        for p in (self.proc, self.server):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def summarize(lat_us, wall_s, errors, first_error):
    s = sorted(lat_us)
    ms = lambda v: None if v is None else round(v / 1000.0, 4)
    return {"n": len(s), "errors": errors, "error": first_error,
            "p50_ms": ms(percentile(s, 0.50)), "p95_ms": ms(percentile(s, 0.95)), "p99_ms": ms(percentile(s, 0.99)),
            "mean_ms": ms(sum(s) / len(s)) if s else None,
            "throughput_ops_s": round(len(s) / wall_s, 1) if wall_s > 0 else None}


def versions():
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for p in ["langgraph", "langgraph-checkpoint-postgres", "mem0ai", "psycopg", "sentence-transformers", "torch"]:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            pass
    return out


def main():
    preload_n = int(env("PEERS_PRELOAD", "10000"))
    ops_n = int(env("PEERS_OPS", "500"))
    warmup = int(env("PEERS_WARMUP", "20"))
    chunks = max(1, int(env("PEERS_CHUNKS", "5")))
    clients = [int(c) for c in env("PEERS_CLIENTS", "1,16").split(",")]
    work, model, bin_dir, out = env("PEERS_WORK"), env("PEERS_MODEL"), env("PEERS_BIN"), env("PEERS_OUT")
    wanted = [s for s in env("PEERS_SYSTEMS", "").split(",") if s]
    specs = [s for s in systems(work, model, bin_dir) if not wanted or s["name"] in wanted]
    workload = os.path.join(work, "workload")
    per_phase = warmup + ops_n

    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "sizes": {"preload": preload_n, "ops": ops_n, "warmup": warmup, "chunks": chunks, "clients": clients},
              "versions": versions(), "cpus": os.cpu_count(), "load": {"start": loadavg()},
              "transport": os.environ.get("PEERS_TRANSPORT", "tcp"), "systems": {}}
    print("measuring one PostgreSQL round trip (pg-floor)", file=sys.stderr)
    result["floor"] = floor(bin_dir, work)
    print(f"floor: {json.dumps(result['floor'])}", file=sys.stderr)
    drivers = []
    try:
        for spec in specs:
            print(f"starting {spec['name']}", file=sys.stderr)
            d = Driver(spec, work, os.path.join(bin_dir, "peer-bench"))
            drivers.append(d)
            d.ops = d.call(cmd="init", workload=workload)["ops"]
            rec = {"label": spec["label"], "family": spec["family"], "postgres": spec["pg"], "ops": d.ops,
                   "results": {}}
            result["systems"][d.name] = rec
        for d in drivers:
            print(f"preloading {d.name}", file=sys.stderr)
            a = d.call(cmd="preload")
            rec = result["systems"][d.name]
            rec["preload"] = {"count": a["count"], "seconds": round(a["seconds"], 2)}
            rec["rss_after_preload_mib"] = round(proc_mem(d.measured_pid())[0], 1)
            if a["count"] != preload_n:
                raise RuntimeError(f"{d.name} preloaded {a['count']} of {preload_n}")
        if os.environ.get("PEERS_PSQL"):
            print("vacuuming and analyzing every database (steady state before measuring)", file=sys.stderr)
            result["settle_seconds"] = settle(env("PEERS_PSQL"))
        for phase, c in enumerate(clients):
            result["load"][f"clients_{c}"] = loadavg()
            for op in OPS + (DIAG_OPS if phase == 0 else []):
                if op in ("semantic", "hybrid", "semantic_vec", "embed"):
                    base = (phase * 2 + (op == "hybrid")) * per_phase
                else:
                    base = phase * per_phase
                ds = [d for d in drivers if op in d.ops]
                if not ds:
                    continue
                acc = {d.name: {"lat": [], "wall": 0.0, "errors": 0, "error": None} for d in ds}
                for d in ds:  # warm-up, not recorded
                    d.call(cmd="run", op=op, start=base, n=warmup, concurrency=c)
                sizes = [ops_n // chunks + (1 if k < ops_n % chunks else 0) for k in range(chunks)]
                start = base + warmup
                for k, size in enumerate(sizes):
                    order = ds[k % len(ds):] + ds[:k % len(ds)]
                    for d in order:
                        a = d.call(cmd="run", op=op, start=start, n=size, concurrency=c)
                        x = acc[d.name]
                        x["lat"] += a["lat_us"]
                        x["wall"] += a["wall_s"]
                        x["errors"] += a["errors"]
                        x["error"] = x["error"] or a.get("error")
                    start += size
                for d in ds:
                    x = acc[d.name]
                    s = summarize(x["lat"], x["wall"], x["errors"], x["error"])
                    result["systems"][d.name]["results"].setdefault(str(c), {})[op] = s
                    print(f"{c:>2} clients {op:<9} {d.name:<22} p50 {s['p50_ms']} ms  p95 {s['p95_ms']} ms  "
                          f"{s['throughput_ops_s']} ops/s  errors {s['errors']}", file=sys.stderr)
        result["load"]["end"] = loadavg()
        for d in drivers:
            rss, hwm = proc_mem(d.measured_pid())
            rec = result["systems"][d.name]
            rec["rss_mib"] = round(rss, 1)
            rec["peak_rss_mib"] = round(hwm, 1)
            if d.server is not None:
                rec["client_rss_mib"] = round(proc_mem(d.proc.pid)[0], 1)
    finally:
        for d in drivers:
            d.close()
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"results: {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
