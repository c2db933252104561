"""Speed and memory of community detection on graphs of growing size: Spark LPA, Leiden, networkx Louvain.

Graphs: stochastic block models (communities of 50 nodes, mean degree about 10) with 10k, 100k and
300k nodes, and the user graph (retweets, quotes, replies, mentions) of a generated ~1M-tweet dump
(the one benchmarks/anomalies.py ingests; pass --lake). Each method runs in its own process on the
same edge list (Parquet), so its peak memory is its own; modularity is computed afterwards with
igraph for every method alike. GraphFrames' LPA runs too when its jar is on the classpath.

    python benchmarks/communities.py [--sizes 10000 100000 300000] [--lake /tmp/vigie-bench-anomalies/lake-1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# lpam_spark: LPA with the modularity penalty, what the stage runs when classic LPA lets one label take the graph
METHODS = ("lpa_spark", "lpam_spark", "graphframes_lpa", "leiden", "louvain_networkx")


def _sbm(n: int, path: str) -> None:
    import igraph as ig
    import pandas as pd

    blocks = [50] * (n // 50)
    k_in, k_out = 8.0, 2.0  # expected neighbours inside and outside a node's block
    p_in, p_out = k_in / 49, k_out / (n - 50)
    pref = [[p_out] * len(blocks) for _ in blocks]
    for i in range(len(blocks)):
        pref[i][i] = p_in
    g = ig.Graph.SBM(pref, blocks, directed=False, allowed_edge_types="simple")
    edges = pd.DataFrame(g.get_edgelist(), columns=["src", "dst"]).astype("int64")
    edges.assign(weight=1.0).to_parquet(path, index=False)


def _user_graph(lake: str, path: str) -> None:
    from vigie.communities.edges import LINK_KINDS, user_edges
    from vigie.session import get_spark

    spark = get_spark(app_name="vigie-bench-prepare", master="local[2]", shuffle_partitions=8)
    read = lambda t: spark.read.format("delta").load(f"{lake}/{t}")  # noqa: E731
    edges = user_edges(read("silver/tweet_links"), read("silver/tweets"), read("silver/users"), LINK_KINDS, 1)
    edges.select("src", "dst", "weight").toPandas().to_parquet(path, index=False)
    spark.stop()


def run_one(method: str, edges_path: str, out_path: str) -> None:
    """Child process: one method on one edge list; writes node, community as Parquet."""
    import pandas as pd

    started = time.perf_counter()
    if method in ("lpa_spark", "lpam_spark", "graphframes_lpa"):
        from vigie.communities import lpa
        from vigie.session import get_spark

        spark = get_spark(app_name="vigie-bench-lpa", master="local[2]", shuffle_partitions=8)
        spark.sparkContext.setLogLevel("ERROR")
        spark.sparkContext.setCheckpointDir(out_path + ".checkpoints")
        edges = spark.read.parquet(edges_path)
        if method == "graphframes_lpa":
            labels = lpa.graphframes_lpa(edges, 30)
        else:
            penalty = 1.0 if method == "lpam_spark" else 0.0
            labels = lpa.label_propagation(edges, max_iter=30, seed=1, penalty=penalty).labels
        result = labels.toPandas()
    else:
        e = pd.read_parquet(edges_path)
        if method == "leiden":
            from vigie.communities import leiden

            nodes = sorted(set(e["src"]) | set(e["dst"]))
            g = leiden.build_graph(nodes, e.itertuples(index=False, name=None))
            result = pd.DataFrame({"node": nodes, "community": leiden.leiden(g, seed=1)})
        else:
            import networkx as nx

            g = nx.Graph()
            g.add_weighted_edges_from(e.itertuples(index=False, name=None))
            found = nx.community.louvain_communities(g, weight="weight", seed=1)
            result = pd.DataFrame([(n, i) for i, c in enumerate(found) for n in c], columns=["node", "community"])
    result.to_parquet(out_path, index=False)
    print(json.dumps({"seconds_inside": time.perf_counter() - started}))


def _modularity(edges_path: str, labels_path: str) -> tuple[float, int]:
    import igraph as ig
    import pandas as pd

    e = pd.read_parquet(edges_path)
    labels = pd.read_parquet(labels_path)
    nodes = sorted(set(e["src"]) | set(e["dst"]))
    index = {n: i for i, n in enumerate(nodes)}
    g = ig.Graph(n=len(nodes), edges=[(index[s], index[d]) for s, d in zip(e["src"], e["dst"], strict=True)])
    comm = dict(zip(labels["node"], labels["community"], strict=True))
    ids = {c: i for i, c in enumerate(sorted(set(comm.values()), key=str))}
    membership = [ids[comm[n]] for n in nodes]
    return g.modularity(membership, weights=e["weight"].tolist()), len(ids)


def main(argv: list[str] | None = None) -> int:
    from _measure import run_measured

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 300_000])
    p.add_argument("--lake", default="/tmp/vigie-bench-anomalies/lake-1000000", help="lakehouse for the user graph")
    p.add_argument("--workdir", default="/tmp/vigie-bench-communities")
    p.add_argument("--methods", nargs="*", choices=METHODS, default=list(METHODS))
    p.add_argument("--nx-max-edges", type=int, default=1_000_000, help="networkx Louvain above this is skipped")
    p.add_argument("--one", nargs=3, metavar=("METHOD", "EDGES", "OUT"), help=argparse.SUPPRESS)
    p.add_argument("--user-graph", nargs=2, metavar=("LAKE", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        run_one(*args.one)
        return 0
    if args.user_graph:
        _user_graph(*args.user_graph)
        return 0
    import pandas as pd

    os.makedirs(args.workdir, exist_ok=True)
    graphs = []
    for n in args.sizes:
        path = os.path.join(args.workdir, f"sbm-{n}.parquet")
        if not os.path.exists(path):
            _sbm(n, path)
        graphs.append((f"SBM {n:,} nodes", path))
    if args.lake and os.path.exists(os.path.join(args.lake, "silver", "tweets")):
        path = os.path.join(args.workdir, "users-" + os.path.basename(args.lake.rstrip("/")) + ".parquet")
        if not os.path.exists(path):
            # in a child, like the methods: a stopped session deletes its jars but leaves them on sys.path,
            # and the Delta jar carries the `delta` Python package, so a later `import delta` fails on it
            cmd = [sys.executable, os.path.abspath(__file__), "--user-graph", args.lake, path]
            subprocess.run(cmd, check=True, env={**os.environ, "PYSPARK_PYTHON": sys.executable})
        graphs.append((f"user graph of {os.path.basename(args.lake.rstrip('/'))}", path))
    from vigie.communities.lpa import graphframes_available
    from vigie.session import get_spark

    spark = get_spark(app_name="vigie-bench-check", master="local[1]")
    with_gf = graphframes_available(spark)
    spark.stop()
    rows = []
    for name, path in graphs:
        e = pd.read_parquet(path)
        n_nodes, n_edges = len(set(e["src"]) | set(e["dst"])), len(e)
        for method in args.methods:
            if method == "graphframes_lpa" and not with_gf:
                rows.append((name, n_nodes, n_edges, method, None, None, None, None, "jar not reachable"))
                continue
            if method == "louvain_networkx" and n_edges > args.nx_max_edges:
                rows.append((name, n_nodes, n_edges, method, None, None, None, None, "skipped (too large)"))
                continue
            out = os.path.join(args.workdir, f"{os.path.basename(path)}.{method}.parquet")
            cmd = [sys.executable, os.path.abspath(__file__), "--one", method, path, out]
            secs, peak, _ = run_measured(cmd, env={**os.environ, "PYSPARK_PYTHON": sys.executable})
            q, k = _modularity(path, out)
            rows.append((name, n_nodes, n_edges, method, secs, peak, q, k, ""))
            print(f"{name:<34} {method:<17} {secs:>7.1f}s {peak:>7,.0f} MB  Q {q:.3f}  k {k:,}", flush=True)
    lines = [
        "| graph | nodes | edges | method | seconds | peak MB | modularity | communities | note |",
        "|---|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for name, n, m, method, secs, peak, q, k, note in rows:
        cells = [f"{secs:.1f}", f"{peak:,.0f}", f"{q:.3f}", f"{k:,}"] if secs is not None else ["", "", "", ""]
        lines.append(f"| {name} | {n:,} | {m:,} | {method} | " + " | ".join(cells) + f" | {note} |")
    base = {(r[0]): r[4] for r in rows if r[3] == "leiden"}
    lines += ["", "Time relative to Leiden (the baseline) per graph:"]
    for name, _, _, method, secs, *_ in rows:
        if secs is not None and base.get(name):
            lines.append(f"- {name}, {method}: {secs / base[name]:.1f}x")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
