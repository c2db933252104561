"""Numbering the communities of a user graph with millions of nodes, against the window it replaced.

Every partition the communities stage reports has its communities renumbered 0, 1, 2, ... by
decreasing size (`communities.stage.renumber`). Until it used `vigie.ranks.numbered`, that was a
`row_number()` over a window with no partitioning, so one task sorted every community. LPA finds
about one community per 17 nodes of the 1M-tweet user graph (benchmarks/results/communities_speed.md);
at Study B's 24M accounts that is over a million communities.

This prints, side by side on the same labels, for the baseline (the window, reproduced here) and
`renumber`: seconds, the tasks that number the communities and the rows in the largest, and
whether both give every node the same community id. The largest task of `renumber` is counted on a
range partitioning like its own, whose bounds are sampled again, so it is about right.

    python benchmarks/communities_scale.py [--nodes 24000000] [--per-community 17] [--driver-memory auto]

The labels are synthetic: node i joins community floor(C * u_i^2), u_i uniform, C = nodes / 17, so
small ids get large communities and most communities are small, as with LPA.
"""

from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lib"))

from _measure import timed  # noqa: E402


def window_renumber(labels):
    """The baseline: communities/stage.py renumber before it used `numbered`."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    sizes = labels.groupBy("community").agg(F.count("*").alias("_n"), F.min(F.col("node").cast("string")).alias("_m"))
    ids = sizes.select(
        "community", (F.row_number().over(Window.orderBy(F.col("_n").desc(), "_m")) - 1).cast("long").alias("_id")
    )
    return labels.join(ids, "community").select("node", F.col("_id").alias("community"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, default=24_000_000)
    p.add_argument("--per-community", type=int, default=17, help="nodes per community, on average")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--workdir", default="/tmp/vigie-bench-communities-scale")
    p.add_argument("--driver-memory", default=None, help="the local JVM heap: a size or auto (default: Spark's 1g)")
    args = p.parse_args(argv)

    from pyspark.sql import functions as F

    from vigie.communities.stage import renumber
    from vigie.sampling import stable_uniform
    from vigie.session import get_spark

    spark = get_spark(
        app_name="vigie-bench-communities-scale",
        master=f"local[{args.cores}]",
        shuffle_partitions=args.cores * 4,
        driver_memory=args.driver_memory,
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(os.path.join(args.workdir, "checkpoints"))
    path = os.path.join(args.workdir, f"labels-{args.nodes}-{args.per_community}")
    if not os.path.exists(os.path.join(path, "_SUCCESS")):
        c = max(1, args.nodes // args.per_community)
        group = F.floor(F.lit(c) * F.pow(stable_uniform(7, "node"), 2)).cast("long")
        spark.range(args.nodes).select(F.col("id").alias("node"), group.alias("community")).write.parquet(path)
    labels = spark.read.parquet(path)
    n = labels.count()
    # what renumber orders the communities by, kept to count them and to estimate its tasks below
    order = [F.col("_n").desc(), F.col("_m")]
    keyed = (
        labels.groupBy("community")
        .agg(F.count("*").alias("_n"), F.min(F.col("node").cast("string")).alias("_m"))
        .cache()
    )
    n_comm, largest = keyed.agg(F.count("*"), F.max("_n")).first()
    heap = spark.conf.get("spark.driver.memory", "1g")
    print(f"{n:,} nodes in {n_comm:,} communities (largest {largest:,}); {args.cores} cores, heap {heap}")

    def run(fn, rows=labels):
        out = fn(rows)
        out.write.format("noop").mode("overwrite").save()
        return out

    warm = labels.filter(F.col("node") % 100 == 0)  # compile both plans' code on 1% of the nodes first
    run(window_renumber, warm), run(renumber, warm)

    t_old, old = timed(lambda: run(window_renumber))
    t_new, new = timed(lambda: run(renumber))
    tasks = keyed.repartitionByRange(*order).groupBy(F.spark_partition_id()).count().agg(F.count("*"), F.max("count"))
    new_tasks, new_largest = tasks.first()
    differ = (
        old.withColumnRenamed("community", "a").join(new.withColumnRenamed("community", "b"), "node", "full")
        .filter("a is null or b is null or a != b")
        .count()
    )  # fmt: skip
    print(f"\nrenumbering {n_comm:,} communities   seconds   tasks   communities in the largest")
    print(f"  window (baseline)    {t_old:10.1f}   {1:5}   {n_comm:,}")
    print(f"  renumber (numbered)  {t_new:10.1f}   {new_tasks:5}   {new_largest:,} (about)")
    print(f"  ratio numbered / window {t_new / t_old:5.2f}x; nodes whose id differs: {differ:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
