"""Distributed community detection and partition scores, in Spark DataFrames (any graph size).

`label_propagation` is label propagation (Raghavan et al. 2007) written with joins and group-bys,
so it runs wherever Spark runs, with or without the GraphFrames jar. It handles the two known traps
of synchronous LPA (GraphFrames' and GraphX's version included):
- oscillation on bipartite-like structure: each iteration updates a pseudo-random half of the nodes
  (semi-synchronous updates), and a node keeps its label when it is among the best;
- one giant label swallowing the graph: with `penalty` > 0 each vote is discounted by the label's
  volume, LPAm (Barber & Clark 2009): score(l) = w(i, l) - penalty * k_i * (D_l - k_i[l = own]) / 2m.
  penalty = 1 makes every move a modularity gain; 0 is classic LPA.
Lineage grows with every iteration, so labels are written to the SparkContext's checkpoint dir as
Parquet each time and read back (see `vigie.tables.materialize`).

`community_stats`, `modularity` and `agreement` score any partition (a DataFrame of node,
community), whichever method made it, with sums Spark can do on millions of nodes.

Example:
    >>> result = label_propagation(edges, max_iter=20, seed=1)  # doctest: +SKIP
    >>> modularity(edges, result.labels)  # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from vigie.tables import materialize


@dataclass
class LpaResult:
    labels: DataFrame  # node, community
    iterations: int
    converged: bool
    changed: list[int] = field(default_factory=list)  # nodes relabelled at each iteration


def _directed(edges: DataFrame) -> DataFrame:
    """Both directions of every undirected edge: node, nbr, weight."""
    return edges.select(F.col("src").alias("node"), F.col("dst").alias("nbr"), "weight").unionByName(
        edges.select(F.col("dst").alias("node"), F.col("src").alias("nbr"), "weight")
    )


def weighted_degree(edges: DataFrame) -> DataFrame:
    """node, degree: the summed weight of each node's edges."""
    return _directed(edges).groupBy("node").agg(F.sum("weight").alias("degree"))


@dataclass
class LpaGraph:
    """An edge list made ready for label propagation once, and shared by every seed."""

    both: DataFrame  # node, nbr, weight, k: each undirected edge in both directions, with the node's degree
    degree: DataFrame  # node, k: weighted degree
    n: int
    two_m: float


def prepare(edges: DataFrame) -> LpaGraph:
    """Both directions and the degrees of an undirected weighted graph (src, dst, weight), materialised."""
    degree = materialize(weighted_degree(edges).withColumnRenamed("degree", "k"))
    totals = degree.agg(F.count("*").alias("n"), F.sum("k").alias("two_m")).first()
    both = materialize(_directed(edges).join(degree, "node"))
    return LpaGraph(both, degree, totals["n"], float(totals["two_m"] or 0.0))


def _step(graph: LpaGraph, labels: DataFrame, seed: int, it: int, penalty: float) -> DataFrame:
    """One iteration: node, label (the next one), own (the current one), k, from labels (node, label, k).

    The votes are shuffled by node once. Every vote for a (node, label) pair is summed in one
    aggregate, the node's own label among them with weight 0 (it stays a candidate even when no
    neighbour carries it any more), and each node's best label is a `max` over the same partitions,
    so picking it moves no row again. LPAm joins the label volumes on label: broadcast, they keep
    that layout; too big to broadcast, the votes go to the labels and back to the nodes.
    """
    heard = graph.both.join(labels.select(F.col("node").alias("nbr"), "label"), "nbr").select(
        "node", "label", F.col("weight").alias("w"), "k", F.lit(False).alias("is_own")
    )
    kept = labels.select("node", "label", F.lit(0.0).alias("w"), "k", F.lit(True).alias("is_own"))
    votes = (
        heard.unionByName(kept)
        .repartition("node")
        .groupBy("node", "label")
        .agg(F.sum("w").alias("w"), F.max("k").alias("k"), F.max("is_own").alias("is_own"))
    )
    score = F.col("w")
    if penalty > 0 and graph.two_m > 0:
        volume = labels.groupBy("label").agg(F.sum("k").alias("vol"))
        votes = votes.join(volume, "label", "left")
        rest = F.coalesce(F.col("vol"), F.lit(0.0)) - F.when(F.col("is_own"), F.col("k")).otherwise(0.0)
        score = F.col("w") - F.lit(penalty) * F.col("k") * rest / F.lit(graph.two_m)
    # best score, then the own label, then a pseudo-random draw: the smallest hash, as ~hash is largest
    draw = F.bitwise_not(F.xxhash64(F.col("label"), F.lit(seed), F.lit(it)))
    chosen = votes.groupBy("node").agg(
        F.max(F.struct(score.alias("score"), "is_own", draw.alias("draw"), "label")).alias("best"),
        F.max(F.when(F.col("is_own"), F.col("label"))).alias("own"),
        F.max("k").alias("k"),
    )
    moves = F.pmod(F.xxhash64(F.col("node"), F.lit(seed), F.lit(it)), F.lit(2)) == 0
    return chosen.select("node", F.when(moves, F.col("best.label")).otherwise(F.col("own")).alias("label"), "own", "k")


def label_propagation(
    edges: DataFrame | LpaGraph, *, max_iter: int = 20, seed: int = 0, penalty: float = 0.0, tol: float = 0.0
) -> LpaResult:
    """Communities of an undirected weighted graph (src, dst, weight), or of one `prepare`d for several runs.

    Stops when fewer than tol*n nodes move in two iterations in a row.
    """
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    graph = edges if isinstance(edges, LpaGraph) else prepare(edges)
    labels = graph.degree.select("node", F.col("node").alias("label"), "k")
    changed: list[int] = []
    converged = False
    for it in range(max_iter):
        nxt = materialize(_step(graph, labels, seed, it, penalty))
        moved = nxt.where(F.col("label") != F.col("own")).count()
        labels = nxt.select("node", "label", "k")
        changed.append(moved)
        # half the nodes sit out each iteration: stable only when two iterations in a row moved (almost) none
        if len(changed) >= 2 and changed[-1] <= tol * graph.n and changed[-2] <= tol * graph.n:
            converged = True
            break
    return LpaResult(labels.select("node", F.col("label").alias("community")), len(changed), converged, changed)


def graphframes_available(spark) -> bool:
    """Whether the GraphFrames jar is on the driver's classpath."""
    try:
        spark._jvm.java.lang.Class.forName("org.graphframes.GraphFrame")
        return True
    except Exception:  # py4j raises a Py4JJavaError wrapping ClassNotFoundException
        return False


def graphframes_lpa(edges: DataFrame, max_iter: int) -> DataFrame:
    """GraphFrames' own (synchronous) label propagation: node, community. Needs the GraphFrames jar."""
    from graphframes import GraphFrame

    vertices = _directed(edges).select(F.col("node").alias("id")).distinct()
    g = GraphFrame(vertices, edges.select("src", "dst"))
    return g.labelPropagation(maxIter=max_iter).select(F.col("id").alias("node"), F.col("label").alias("community"))


def community_stats(edges: DataFrame, labels: DataFrame) -> DataFrame:
    """Per community: size, internal_edges, internal_weight, volume, density, modularity (its contribution).

    Summed over communities, `modularity` is Newman's weighted modularity of the partition.
    """
    total = edges.agg(F.sum("weight").alias("total_weight"))
    a = labels.select(F.col("node").alias("src"), F.col("community").alias("ca"))
    b = labels.select(F.col("node").alias("dst"), F.col("community").alias("cb"))
    inside = (
        edges.join(a, "src")
        .join(b, "dst")
        .where(F.col("ca") == F.col("cb"))
        .groupBy(F.col("ca").alias("community"))
        .agg(F.count("*").alias("internal_edges"), F.sum("weight").alias("internal_weight"))
    )
    volume = weighted_degree(edges).join(labels, "node").groupBy("community").agg(F.sum("degree").alias("volume"))
    size = labels.groupBy("community").agg(F.count("*").alias("size"))
    pairs = F.col("size") * (F.col("size") - 1) / 2
    return (
        size.join(inside, "community", "left")
        .join(volume, "community", "left")
        .fillna(0, ["internal_edges", "internal_weight", "volume"])
        .crossJoin(total)
        .select(
            "community",
            "size",
            "internal_edges",
            "internal_weight",
            "volume",
            F.when(pairs > 0, F.col("internal_edges") / pairs).otherwise(F.lit(0.0)).alias("density"),
            (
                F.col("internal_weight") / F.col("total_weight")
                - F.pow(F.col("volume") / (2 * F.col("total_weight")), 2)
            ).alias("modularity"),
        )
    )


def total_modularity(stats: DataFrame) -> float:
    """Newman's modularity of a partition, from its `community_stats`."""
    return float(stats.agg(F.sum("modularity")).first()[0] or 0.0)


def modularity(edges: DataFrame, labels: DataFrame) -> float:
    return total_modularity(community_stats(edges, labels))


def contingency(a: DataFrame, b: DataFrame) -> DataFrame:
    """n_ab, n_a, n_b for every pair of communities sharing a node (nodes in both partitions only)."""
    joint = (
        a.select("node", F.col("community").alias("ca"))
        .join(b.select("node", F.col("community").alias("cb")), "node")
        .groupBy("ca", "cb")
        .agg(F.count("*").alias("n_ab"))
    )
    return joint.withColumn("n_a", F.sum("n_ab").over(Window.partitionBy("ca"))).withColumn(
        "n_b", F.sum("n_ab").over(Window.partitionBy("cb"))
    )


def agreement(a: DataFrame, b: DataFrame) -> dict[str, float]:
    """NMI (arithmetic normalisation, as scikit-learn's default) and adjusted Rand index of two partitions."""
    c = contingency(a, b).cache()
    try:
        return agreement_of(c)
    finally:
        c.unpersist()


def agreement_of(c: DataFrame) -> dict[str, float]:
    """`agreement` from the contingency table of the two partitions (see `contingency`)."""
    first_a = F.row_number().over(Window.partitionBy("ca").orderBy("cb")) == 1
    first_b = F.row_number().over(Window.partitionBy("cb").orderBy("ca")) == 1
    sums = (
        c.withColumn("fa", first_a)
        .withColumn("fb", first_b)
        .agg(
            F.sum("n_ab").alias("n"),
            F.sum(F.col("n_ab") * F.log("n_ab")).alias("s_ab"),  # sum n_ab log n_ab
            F.sum(F.when(F.col("fa"), F.col("n_a") * F.log("n_a"))).alias("s_a"),
            F.sum(F.when(F.col("fb"), F.col("n_b") * F.log("n_b"))).alias("s_b"),
            F.sum(F.col("n_ab") * (F.col("n_ab") - 1) / 2).alias("c_ab"),
            F.sum(F.when(F.col("fa"), F.col("n_a") * (F.col("n_a") - 1) / 2)).alias("c_a"),
            F.sum(F.when(F.col("fb"), F.col("n_b") * (F.col("n_b") - 1) / 2)).alias("c_b"),
        )
        .first()
    )
    n = float(sums["n"] or 0)
    if n == 0:
        raise ValueError("the two partitions share no node")
    log_n = math.log(n)
    h_a, h_b = log_n - sums["s_a"] / n, log_n - sums["s_b"] / n
    mutual = sums["s_ab"] / n - sums["s_a"] / n - sums["s_b"] / n + log_n
    mean_h = (h_a + h_b) / 2
    nmi = 1.0 if mean_h <= 1e-12 else max(0.0, min(1.0, mutual / mean_h))
    pairs = n * (n - 1) / 2
    expected = sums["c_a"] * sums["c_b"] / pairs if pairs else 0.0
    top = (sums["c_a"] + sums["c_b"]) / 2
    ari = 1.0 if top == expected else (sums["c_ab"] - expected) / (top - expected)
    return {"nmi": float(nmi), "ari": float(ari)}


def community_stability(reference: DataFrame, others: list[DataFrame]) -> DataFrame:
    """community, stability: the mean over other runs of the best Jaccard match of each reference community."""
    if not others:
        return reference.select("community").distinct().withColumn("stability", F.lit(None).cast("double"))
    return stability_of([contingency(reference, other) for other in others])


def stability_of(contingencies: list[DataFrame]) -> DataFrame:
    """`community_stability` from the contingency tables of the reference against each other run."""
    jaccard = F.col("n_ab") / (F.col("n_a") + F.col("n_b") - F.col("n_ab"))
    best = [
        c.groupBy(F.col("ca").alias("community")).agg(F.max(jaccard).alias(f"j{i}"))
        for i, c in enumerate(contingencies)
    ]
    out = best[0]
    for b in best[1:]:
        out = out.join(b, "community", "full")
    cols = [F.coalesce(F.col(f"j{i}"), F.lit(0.0)) for i in range(len(contingencies))]
    return out.select("community", (sum(cols[1:], cols[0]) / len(contingencies)).alias("stability"))
