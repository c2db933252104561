"""Community quality on graphs with known communities: Leiden, Spark LPA and networkx Louvain, NMI and modularity.

Graphs from ../shared/data/community-graphs: football (12 conferences), the LFR benchmark at mixing
mu 0.1-0.4, karate and dolphins (social splits into two groups, which modularity methods cut finer).
Leiden runs as the stage runs it (resolution chosen by stability over 5 seeds); Louvain is
networkx's, the study's method, at resolution 1; LPA is vigie's distributed one (seed 1) in Spark.
GraphFrames' LPA is listed when its jar is on the classpath.

    python benchmarks/communities_quality.py [--out benchmarks/results/communities_quality.md]
"""

from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("VIGIE_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
sys.path.insert(0, os.path.join(ROOT, "lib"))


def main(argv: list[str] | None = None) -> int:
    import networkx as nx
    from sklearn.metrics import normalized_mutual_info_score as nmi

    from vigie.communities import leiden, lpa
    from vigie.communities.known import KNOWN, load_known
    from vigie.session import get_spark

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "communities_quality.md"))
    args = p.parse_args(argv)
    spark = get_spark(app_name="vigie-communities-quality", master="local[2]", shuffle_partitions=2)
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir("/tmp/vigie-communities-quality-checkpoints")
    with_gf = lpa.graphframes_available(spark)
    rows = []
    for name in KNOWN:
        g = load_known(name, os.path.join(SHARED, "community-graphs"))
        truth = [g.truth[n] for n in g.nodes]
        graph = leiden.build_graph(g.nodes, g.edges)
        choice = leiden.choose_resolution(graph, [1, 1.5, 2, 3], range(1, 6))
        nxg = nx.Graph()
        nxg.add_weighted_edges_from(g.edges)
        louvain = nx.community.louvain_communities(nxg, weight="weight", seed=1)
        lv = {n: i for i, c in enumerate(louvain) for n in c}
        lv_members = [lv[n] for n in g.nodes]
        edges = spark.createDataFrame(g.edges, "src string, dst string, weight double")
        result = lpa.label_propagation(edges, max_iter=30, seed=1)
        got = dict(result.labels.toPandas().itertuples(index=False, name=None))
        lpa_members = [got[n] for n in g.nodes]
        index = {v: i for i, v in enumerate(sorted(set(lpa_members)))}
        row = {
            "graph": name,
            "nodes": len(g.nodes),
            "edges": len(g.edges),
            "true": len(set(truth)),
            "leiden": (nmi(truth, choice.best), choice.modularity, len(set(choice.best)), choice.resolution),
            "louvain": (nmi(truth, lv_members), leiden.graph_modularity(graph, lv_members), len(louvain)),
            "lpa": (
                nmi(truth, lpa_members),
                leiden.graph_modularity(graph, [index[c] for c in lpa_members]),
                len(index),
                result.iterations,
            ),
        }
        if with_gf:
            gf = dict(lpa.graphframes_lpa(edges, 30).toPandas().itertuples(index=False, name=None))
            row["graphframes"] = nmi(truth, [gf[n] for n in g.nodes])
        rows.append(row)
        print(row, flush=True)
    lines = [
        "# Community detection against known communities",
        "",
        "Produced by `python benchmarks/communities_quality.py`. NMI against the true communities, Newman",
        "modularity (Q) and the number of communities found (k). Leiden at the resolution the stage chooses",
        "(most stable over 5 seeds among 1, 1.5, 2, 3); networkx Louvain at resolution 1 (the study's",
        "method); vigie's distributed LPA in Spark (seed 1, semi-synchronous). "
        + ("GraphFrames' LPA: NMI in the last column." if with_gf else "GraphFrames' LPA: not run, its jar "
           "is not reachable from this machine (no io.graphframes artifact on Maven Central)."),
        "",
        "| graph | nodes | edges | true k | Leiden NMI | Leiden Q | k | resolution | Louvain NMI | Louvain Q | k "
        "| LPA NMI | LPA Q | k | LPA iterations |" + (" GraphFrames NMI |" if with_gf else ""),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if with_gf else ""),
    ]  # fmt: skip
    for r in rows:
        le, lo, lp = r["leiden"], r["louvain"], r["lpa"]
        line = (
            f"| {r['graph']} | {r['nodes']:,} | {r['edges']:,} | {r['true']} | {le[0]:.3f} | {le[1]:.3f} | {le[2]} "
            f"| {le[3]:g} | {lo[0]:.3f} | {lo[1]:.3f} | {lo[2]} | {lp[0]:.3f} | {lp[1]:.3f} | {lp[2]} | {lp[3]} |"
        )
        lines.append(line + (f" {r['graphframes']:.3f} |" if with_gf else ""))
    lines += [
        "",
        "Goals: Leiden NMI >= 0.85 on football and >= 0.95 on LFR mu 0.1-0.4 (tests/test_communities.py keeps them).",
        "",
    ]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
