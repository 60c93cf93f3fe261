"""Tables, ratios and plots from a results JSON of orchestrate.py; writes the peer sections of docs/benchmarks.md.

    python report.py RESULTS.json [--docs docs/benchmarks.md] [--plots DIR]

Without --docs it prints the markdown. With --docs it replaces only the text between the markers
`<!-- peers:begin -->` and `<!-- peers:end -->` (appending them at the end the first time): the other sections of
that page belong to other benchmarks.
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
    has_goals = any(ratio_rows(res, m, s["clients"][0]) for m in ("memlane-pg", "memlane-http-pg"))
    if has_goals:
        L.append(f"{sub} Goals: memlane on PostgreSQL against the faster PostgreSQL peer (ratios of p50, 1 client)")
        L.append("")
    L.append("A ratio is the peer's p50 divided by memlane's (the RSS row: the peer's RSS divided by memlane's). "
             "For `add` only peers that embed on write count (LangGraph's PostgresStore without an index stores no "
             "vector).")
    L.append("")
    if not has_goals:
        L.pop()
        L.pop()
    for mname in ("memlane-pg", "memlane-http-pg"):
        rows = ratio_rows(res, mname, s["clients"][0])
        if not rows:
            continue
        L.append(f"`{mname}`:")
        L.append("")
        L.append("| goal | memlane | faster peer | ratio | goal | met |")
        L.append("|---|---|---|---|---|---|")
        for title, mine, peer, ratio, goal in rows:
            L.append(f"| {title} | {mine} | {peer} | {ratio:.1f}x | >= {goal:.0f}x | {'yes' if ratio >= goal else 'NO'} |")
        L.append("")
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
    p.add_argument("more", nargs="*", help="further runs of the same day, reported after the first")
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
    for k, path in enumerate(a.more, start=2):
        with open(path) as f:
            more = json.load(f)
        made = plots(more, a.plots, prefix=f"peers-run{k}") if a.plots else []
        names = ", ".join(f"`{n}`" for n in more["systems"])
        section += "\n" + markdown(more, os.path.basename(path), rel, made,
                                    title=f"### Run {k}: {names}")
    if a.docs:
        write_docs(a.docs, section)
    else:
        print(section)


if __name__ == "__main__":
    main()
