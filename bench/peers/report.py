"""Tables, ratios and plots from one results JSON of orchestrate.py; writes the peers section of docs/benchmarks.md.

    python report.py RESULTS.json [--docs docs/benchmarks.md] [--plots DIR]

Without --docs it prints the markdown. With --docs it replaces the whole text between the markers
`<!-- peers:begin -->` and `<!-- peers:end -->` (appending them at the end the first time) with this run's
section, which ends with links to the earlier runs' JSON files beside RESULTS.json: the other sections of that page
belong to other benchmarks.
"""

import argparse
import json
import os

OPS = ["add", "get", "list", "semantic", "hybrid"]
OP_TITLES = {"add": "add one memory", "get": "get by id", "list": "list, scope + metadata filter",
             "semantic": "semantic top 5", "hybrid": "hybrid top 5"}
BEGIN, END = "<!-- peers:begin -->", "<!-- peers:end -->"
# The goals of issue 11: memlane on PostgreSQL against the faster PostgreSQL peer.
GOALS = [("get", 10.0), ("add", 3.0), ("semantic", 3.0), ("list", 10.0)]
# The system the goals are for, and the other memlane systems whose ratios are shown beside it.
GOAL_SYSTEM = "memlane-pg"
VARIANTS = ["memlane-http-pg", "memlane-composite", "memlane-http-composite"]
FLOOR_OPS = [("select1", "`SELECT 1` (one round trip)"), ("get", "memlane `get`"),
             ("get_raw", "the row without its embedding, nothing decoded")]


def fmt(v, digits=3):
    if v is None:
        return "n/a"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits}g}"


def cell(r, op, c):
    x = r["results"].get(str(c), {}).get(op)
    if not x or x["p50_ms"] is None:
        return "n/a"
    err = f" ({x['errors']} err)" if x["errors"] else ""
    return f"{fmt(x['p50_ms'])} / {fmt(x['p95_ms'])} / {fmt(x['p99_ms'])}{err}"


def stat(r, op, c, key="p50_ms"):
    x = r["results"].get(str(c), {}).get(op)
    return None if not x else x.get(key)


def embeds_on_add(name):
    return name != "lg-pg"  # PostgresStore without an index stores no vector


def peer_pool(res, op, c, pg_only=True):
    """The peers measured for op (on PostgreSQL when pg_only): name -> p50."""
    out = {}
    for name, r in res["systems"].items():
        if r["family"] != "peer" or (pg_only and not r["postgres"]):
            continue
        if op == "add" and not embeds_on_add(name):
            continue
        v = stat(r, op, c)
        if v is not None:
            out[name] = v
    return out


def ratio_rows(res, memlane_name, c):
    rows = []
    m = res["systems"].get(memlane_name)
    if not m:
        return rows
    for op, goal in GOALS:
        peers = peer_pool(res, op, c)
        mine = stat(m, op, c)
        if not peers or mine is None:
            continue
        best = min(peers, key=peers.get)
        ratio = peers[best] / mine
        rows.append((OP_TITLES[op], f"{fmt(mine)} ms", f"{best} {fmt(peers[best])} ms", ratio, goal))
    peer_rss = {n: r.get("rss_mib") for n, r in res["systems"].items()
                if r["family"] == "peer" and r["postgres"] and r.get("rss_mib")}
    if peer_rss and m.get("rss_mib"):
        best = min(peer_rss, key=peer_rss.get)
        rows.append(("RSS (process of the system)", f"{m['rss_mib']:.0f} MiB", f"{best} {peer_rss[best]:.0f} MiB",
                     peer_rss[best] / m["rss_mib"], 5.0))
    return rows


def plots(res, out_dir, prefix="peers"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(res["systems"])
    made = []
    for c in res["sizes"]["clients"]:
        for key, title, fname, log in [("p50_ms", f"p50 latency, {c} client(s) (ms, log scale)",
                                        f"{prefix}-p50-{c}.png", True),
                                       ("throughput_ops_s", f"throughput, {c} client(s) (operations/s, log scale)",
                                        f"{prefix}-throughput-{c}.png", True)]:
            fig, ax = plt.subplots(figsize=(11, 4.8))
            width = 0.8 / len(names)
            for k, name in enumerate(names):
                r = res["systems"][name]
                xs, ys = [], []
                for j, op in enumerate(OPS):
                    v = stat(r, op, c, key)
                    if v:
                        xs.append(j + k * width)
                        ys.append(v)
                hatch = "" if r["family"] == "memlane" else "//"
                ax.bar(xs, ys, width, label=name, hatch=hatch)
            ax.set_xticks([j + 0.4 - width / 2 for j in range(len(OPS))], [OP_TITLES[o] for o in OPS])
            if log:
                ax.set_yscale("log")
            ax.set_title(title)
            ax.legend(fontsize=7, ncol=4)
            ax.grid(axis="y", alpha=0.3)
            fig.tight_layout()
            fig.savefig(os.path.join(out_dir, fname), dpi=90)
            plt.close(fig)
            made.append(fname)
    fig, ax = plt.subplots(figsize=(9, 4))
    rss = [(n, r.get("rss_mib") or 0) for n, r in res["systems"].items()]
    ax.barh([n for n, _ in rss], [v for _, v in rss],
            color=["tab:blue" if res["systems"][n]["family"] == "memlane" else "tab:gray" for n, _ in rss])
    ax.set_xlabel("RSS at the end of the run (MiB)")
    ax.set_title("memory of each system's process")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, f"{prefix}-rss.png"), dpi=90)
    plt.close(fig)
    made.append(f"{prefix}-rss.png")
    return made


def markdown(res, results_name, plot_rel, made, title="## Against the peers: LangGraph stores and mem0"):
    s = res["sizes"]
    L = []
    sub = "#" * (title.split(" ")[0].count("#") + 1)
    L.append(title)
    L.append("")
    L.append(f"Run of {res['date']} (`{results_name}`), made by `bash bench/peers/run.sh` (method in "
             "`bench/peers/README.md`): {preload:,} memories preloaded per system from the same generated texts "
             "and vectors, then per operation {warmup} warm-ups and {ops} measured operations per system, the "
             "systems taking turns in {chunks} chunks; first 1 client, then {c16} concurrent clients. The same "
             "all-MiniLM-L6-v2 files for every system, the same PostgreSQL 15 + pgvector (one database each), no "
             "LLM anywhere (mem0 `infer=False`). Machine: {cpus} cores shared with other work; load average "
             "(1/5/15 min) at the start {l0}, at the {c16}-client phase {l16}, at the end {le}. Absolute "
             "figures move with that load; the ratios are taken within this one run."
             .format(preload=s["preload"], warmup=s["warmup"], ops=s["ops"], chunks=s["chunks"],
                     c16=s["clients"][-1], cpus=res["cpus"], l0=res["load"].get("start"),
                     l16=res["load"].get(f"clients_{s['clients'][-1]}"), le=res["load"].get("end")))
    L.append("")
    L.append("Versions: " + ", ".join(f"{k} {v}" for k, v in res["versions"].items()) + ".")
    L.append("")
    L.append(f"{sub} Systems")
    L.append("")
    L.append("| system | what | RSS end / peak (MiB) | preload (s) |")
    L.append("|---|---|---|---|")
    for name, r in res["systems"].items():
        rss = f"{r.get('rss_mib', 0):.0f} / {r.get('peak_rss_mib', 0):.0f}"
        if "client_rss_mib" in r:
            rss += f" (server; client {r['client_rss_mib']:.0f})"
        L.append(f"| `{name}` | {r['label']} | {rss} | {r.get('preload', {}).get('seconds', 'n/a')} |")
    L.append("")
    for c in s["clients"]:
        L.append(f"{sub} Latency, {c} client{'s' if c > 1 else ''}: p50 / p95 / p99 (ms)")
        L.append("")
        L.append("| system | " + " | ".join(OP_TITLES[o] for o in OPS) + " |")
        L.append("|---|" + "---|" * len(OPS))
        for name, r in res["systems"].items():
            L.append(f"| `{name}` | " + " | ".join(cell(r, o, c) for o in OPS) + " |")
        L.append("")
        L.append(f"Throughput, {c} client{'s' if c > 1 else ''} (operations/s):")
        L.append("")
        L.append("| system | " + " | ".join(OP_TITLES[o] for o in OPS) + " |")
        L.append("|---|" + "---|" * len(OPS))
        for name, r in res["systems"].items():
            L.append(f"| `{name}` | " + " | ".join(fmt(stat(r, o, c, "throughput_ops_s")) for o in OPS) + " |")
        L.append("")
    L += goals_table(res, s["clients"][0], sub)
    L += floor_table(res, sub)
    c16 = s["clients"][-1]
    c1 = s["clients"][0]
    L.append(f"{sub} Where the time goes ({c1} client, p50 ms)")
    L.append("")
    L.append("memlane's `add` and `semantic` again with the vector given (the store's share, without the embedding), "
             "and the peers' embedding call alone (sentence-transformers, as each peer calls it).")
    L.append("")
    L.append("| system | add | add, vector given | semantic | semantic, vector given | embedding alone |")
    L.append("|---|---|---|---|---|---|")
    for name, r in res["systems"].items():
        vals = [stat(r, op, c1) for op in ("add", "add_vec", "semantic", "semantic_vec", "embed")]
        L.append(f"| `{name}` | " + " | ".join(fmt(v) for v in vals) + " |")
    L.append("")
    tr = throughput_ratios(res, "memlane-pg", c16)
    if c16 != s["clients"][0] and tr:
        L.append(f"Throughput ratios at {c16} clients (memlane-pg / faster PostgreSQL peer): " + ", ".join(
            f"{OP_TITLES[op]} {r:.1f}x" for op, r in tr) + ".")
        L.append("")
    for f in made:
        L.append(f"![{f}]({plot_rel + '/' if plot_rel else ''}{f})")
        L.append("")
    return "\n".join(L)


def goals_table(res, c, sub):
    """The goals' ratios for GOAL_SYSTEM, with the same ratios of the other memlane systems beside them."""
    rows = ratio_rows(res, GOAL_SYSTEM, c)
    if not rows:
        return []
    variants = [v for v in VARIANTS if v in res["systems"]]
    other = {v: {r[0]: r for r in ratio_rows(res, v, c)} for v in variants}
    L = [f"{sub} Goals: memlane on PostgreSQL against the faster PostgreSQL peer (ratios of p50, {c} client)", "",
         "A ratio is the peer's p50 divided by memlane's (the RSS row: the peer's RSS divided by memlane's). "
         "For `add` only peers that embed on write count (LangGraph's PostgresStore without an index stores no "
         f"vector). The goals are `{GOAL_SYSTEM}`'s; the other memlane systems' ratios against the same peer are "
         "shown beside it.", "",
         "| goal | faster peer | `" + GOAL_SYSTEM + "` | ratio | goal | met |"
         + "".join(f" `{v}` |" for v in variants),
         "|---|---|---|---|---|---|" + "---|" * len(variants)]
    for title, mine, peer, ratio, goal in rows:
        cells = []
        for v in variants:
            r = other[v].get(title)
            cells.append(f"{r[1]} ({r[3]:.1f}x)" if r else "n/a")
        L.append(f"| {title} | {peer} | {mine} | {ratio:.1f}x | >= {goal:.0f}x | {'yes' if ratio >= goal else 'NO'} |"
                 + "".join(f" {x} |" for x in cells))
    L.append("")
    return L


def floor_table(res, sub):
    """pg-floor's figures: where one PostgreSQL round trip puts the floor under `get`."""
    fl = res.get("floor")
    if not fl:
        return []
    transports = list(fl)
    L = [f"{sub} The floor: one PostgreSQL round trip (p50 / p95 ms, 1 client)", "",
         "Measured by `pg-floor` (`crates/memlane-eval/src/bin/pg-floor.rs`) in this run, before the systems start, "
         "through the connection pool memlane uses (the time includes taking a connection from it): a prepared "
         "`SELECT 1`, memlane's `get` (one prepared statement, one round trip, the row with its 384-float "
         "embedding decoded), and the same row by a prepared statement without the embedding column. Transports: "
         "loopback TCP and PostgreSQL's Unix socket. "
         f"This run's systems connect by {res.get('transport', 'tcp')}.", "",
         "| operation | " + " | ".join(transports) + " |",
         "|---|" + "---|" * len(transports)]
    for op, title in FLOOR_OPS:
        cells = []
        for t in transports:
            x = fl[t].get(op)
            cells.append(f"{fmt(x['p50_ms'])} / {fmt(x['p95_ms'])}" if x else "n/a")
        L.append(f"| {title} | " + " | ".join(cells) + " |")
    L.append("")
    get = res["systems"].get(GOAL_SYSTEM, {}).get("results", {}).get("1", {}).get("get")
    peers = peer_pool(res, "get", 1)
    tr = res.get("transport", "tcp")
    one = fl.get(tr, {}).get("select1", {}).get("p50_ms")
    if get and peers and one:
        best = min(peers, key=peers.get)
        L.append(f"A `get` {10:.0f}x faster than `{best}`'s ({fmt(peers[best])} ms) would take "
                 f"{fmt(peers[best] / 10)} ms; one `SELECT 1` over this run's transport takes {fmt(one)} ms, and "
                 f"`{GOAL_SYSTEM}`'s get {fmt(get['p50_ms'])} ms ({get['p50_ms'] / one:.1f} round trips' worth).")
        L.append("")
    return L


def previous_runs(results_path):
    """Links to the other results JSON files beside this one (newest first)."""
    d = os.path.dirname(os.path.abspath(results_path))
    this = os.path.basename(results_path)
    files = sorted((f for f in os.listdir(d) if f.startswith("peers-") and f.endswith(".json") and f != this),
                   reverse=True)
    return files


def throughput_ratios(res, mname, c):
    m = res["systems"].get(mname)
    out = []
    if not m:
        return out
    for op in OPS:
        mine = stat(m, op, c, "throughput_ops_s")
        peers = [stat(r, op, c, "throughput_ops_s") for n, r in res["systems"].items()
                 if r["family"] == "peer" and r["postgres"] and (op != "add" or embeds_on_add(n))]
        peers = [p for p in peers if p]
        if mine and peers:
            out.append((op, mine / max(peers)))
    return out


def write_docs(path, section):
    block = f"{BEGIN}\n{section}\n{END}"
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("results")
    p.add_argument("--docs")
    p.add_argument("--plots")
    a = p.parse_args()
    with open(a.results) as f:
        res = json.load(f)
    made, rel = [], ""
    if a.plots:
        made = plots(res, a.plots)
        if a.docs:
            rel = os.path.relpath(a.plots, os.path.dirname(os.path.abspath(a.docs)))
    section = markdown(res, os.path.basename(a.results), rel, made)
    earlier = previous_runs(a.results)
    if earlier:
        base = os.path.relpath(os.path.dirname(os.path.abspath(a.results)),
                               os.path.dirname(os.path.abspath(a.docs))) if a.docs else "."
        section += "\n### Previous runs\n\nEarlier runs' full results (`python bench/peers/report.py FILE` prints " \
                   "their tables):\n\n" + "\n".join(f"- [`{f}`]({base}/{f})" for f in earlier) + "\n"
    if a.docs:
        write_docs(a.docs, section)
    else:
        print(section)


if __name__ == "__main__":
    main()
