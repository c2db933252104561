"""The bots stage's account-level steps at the study's scale (24M accounts), against what each replaced.

Study B scored 24M accounts. The bots stage picks a threshold for the top 2% and gives each flagged
account the percentile ranks of its three features. Until 6a0be68 both came from Spark's quantile
sketches (relative error 1e-4), which are one pass each but move with the partitioning; vigie.ranks
counts them exactly. This prints, side by side on the same scores, for the baseline (the sketch code as
it was, reproduced here) and the exact code: seconds, and how far the baseline's answer is from exact.

    python benchmarks/bots_scale.py [--accounts 24000000] [--rate 0.02] [--driver-memory auto]

The scores are synthetic and given 6 decimals, so some tie; the features are uniform,
one of them in hundredths, like `is_near_rate`.

Two more sections compare, on the same accounts with a synthetic weak label at the flag rate:
the validation split (a window ranking every weak positive in one task, before b4dff60, against
`first_k`) and the ROC plot's data (every validation account collected for sklearn, before 4d60e8c,
against `roc_points`' counts by rounded score). The last writes the block list CSV for the
flagged accounts, with three 140-character Japanese tweets each: collected whole with toPandas,
before 8909691, against `tables.write_csv`, a partition at a time.
"""

from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lib"))

from _measure import timed  # noqa: E402

FEATURES = ["compression_ratio", "is_near_rate", "uniq_ratio"]


def sketch_threshold(scores, rate: float) -> float:
    """The baseline: models/bots.py _threshold before 6a0be68."""
    return float(scores.approxQuantile("score", [1 - rate], 0.0001)[0])


def sketch_ranks(scores, flagged):
    """The baseline: bots.feature_cuts and percentile_below before 6a0be68 (1,000 cut points per feature)."""
    from pyspark.sql import functions as F

    levels = 1000
    cuts = scores.approxQuantile(FEATURES, [i / levels for i in range(levels)], 1e-4)

    def below(feature, points):
        arr = F.array(*[F.lit(float(c)) for c in points])
        return F.round(F.size(F.filter(arr, lambda c: c < F.col(feature))) / F.lit(levels) * 100, 1)

    return flagged.select("user_id", *[below(f, c).alias(f"{f}_pct") for f, c in zip(FEATURES, cuts, strict=True)])


def window_split(labelled, fraction: float, seed: int):
    """The baseline: models/bots.py with_validation_split before b4dff60, which ranked every weak
    positive with a window that has no partitioning."""
    import math

    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from vigie.sampling import stable_uniform

    positives = labelled.filter("weak_label = 1").withColumn("_r", stable_uniform(seed, "user_id"))
    n_pos = positives.count()
    k = max(1, math.ceil(fraction * n_pos)) if n_pos > 1 else 0
    ranked = positives.withColumn("is_validation", F.row_number().over(Window.orderBy("_r", "user_id")) <= k)
    negatives = labelled.filter("weak_label = 0").withColumn(
        "is_validation", stable_uniform(seed + 1, "user_id") < fraction
    )
    return ranked.drop("_r").unionByName(negatives)


def collected_roc(val):
    """The baseline: bots._log_model before 4d60e8c, which brought every validation account to the driver."""
    from sklearn.metrics import roc_curve

    pdf = val.select("weak_label", "score", *FEATURES).toPandas()
    fpr, tpr, _ = roc_curve(pdf["weak_label"], pdf["score"])
    return fpr, tpr


def _rss_mb() -> float:
    """This Python process's resident memory now, in MB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024


def _timed_growth(fn):
    """(seconds, how far this process's resident memory rose above where it started, in MB, result),
    sampled every 20 ms while `fn` runs."""
    import threading

    start, peak, done = _rss_mb(), [0.0], threading.Event()

    def watch():
        while not done.wait(0.02):
            peak[0] = max(peak[0], _rss_mb() - start)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        t, out = timed(fn)
    finally:
        done.set()
        watcher.join()
    return t, max(peak[0], _rss_mb() - start), out


def _split_and_roc(spark, scores, rate: float) -> None:
    """Sections 3 and 4: the validation split and the ROC plot's data, before and after."""
    import numpy as np
    from pyspark.sql import functions as F

    from vigie.models.bots import roc_points, with_validation_split
    from vigie.sampling import stable_uniform

    labelled = scores.withColumn("weak_label", (stable_uniform(5, "user_id") < rate).cast("double"))
    held = F.col("is_validation")

    def summary(split):
        return split.groupBy("weak_label").agg(
            F.sum(held.cast("long")).alias("held"), F.sum(F.when(held, F.col("user_id"))).alias("ids")
        )

    def positives_per_task(split):
        tasks = (
            split.filter("weak_label = 1")
            .groupBy(F.spark_partition_id())
            .agg(F.count("*").alias("n"), F.sum(held.cast("long")))
            .collect()
        )
        return len(tasks), max(t["n"] for t in tasks)

    t_old, old = timed(lambda: sorted(summary(window_split(labelled, 0.25, 42)).collect()))
    t_new, new = timed(lambda: sorted(summary(with_validation_split(labelled, 0.25, 42)).collect()))
    pos = labelled.filter("weak_label = 1").count()
    print(f"\nvalidation split, {pos:,} weak positives, a quarter held out")
    print("                         seconds   tasks   positives in the largest")
    for name, t, fn in (("window (baseline)", t_old, window_split), ("first_k (exact)", t_new, with_validation_split)):
        tasks, largest = positives_per_task(fn(labelled, 0.25, 42))
        print(f"  {name:<20} {t:7.1f}   {tasks:5}   {largest:,}")
    print(f"  ratio first_k / window {t_new / t_old:5.2f}x; the same accounts held out: {old == new}")

    val = labelled.filter(stable_uniform(6, "user_id") < 0.25).withColumn(
        "score", F.when(F.col("weak_label") == 1, F.col("score") * 0.5 + 0.5).otherwise(F.col("score"))
    )
    m = val.count()
    t_new, mb_new, (fpr, tpr) = _timed_growth(lambda: roc_points(val))
    t_old, mb_old, (fpr0, tpr0) = _timed_growth(lambda: collected_roc(val))
    print(f"\nROC of {m:,} validation accounts   seconds   points   driver (Python) memory rose by")
    print(f"  collected + sklearn (baseline) {t_old:7.1f}   {len(fpr0):>9,}   {mb_old:,.0f} MB")
    print(f"  roc_points (counts in Spark)   {t_new:7.1f}   {len(fpr):>9,}   {mb_new:,.0f} MB")
    print(f"  ratio roc_points / collected   {t_new / t_old:7.2f}x")
    print(f"  AUC: {np.trapz(tpr0, fpr0):.6f} collected, {np.trapz(tpr, fpr):.6f} from the counts")


def _export(scores, workdir: str):
    """Section 5: the block list CSV, collected whole with toPandas (before 8909691) against
    `tables.write_csv`, on the flagged accounts with three 140-character Japanese tweets each.

    `write_csv` runs first, before any other section has grown this process, so that its memory is
    measured from a clean start; the baseline, which a 1 GB heap does not survive, runs last, from the
    function this returns."""
    import filecmp
    import gc
    import math

    from pyspark.sql import functions as F

    from vigie.bots import BLOCKLIST_ROWS_PER_PART
    from vigie.tables import write_csv

    tweet = F.concat(F.col("user_id").cast("string"), F.lit(" "), F.repeat(F.lit("ボットの定期投稿です。"), 12))
    flagged = scores.filter("score >= 0.98").select(
        "user_id",
        F.concat(F.lit("user_"), F.col("user_id").cast("string"), F.lit("_bot")).alias("screen_name"),
        "score",
        F.lit(1).alias("has_bot_suffix"),
        (F.col("user_id") % 500 + 5).alias("tweet_count"),
        *[F.round(f, 4).alias(f) for f in FEATURES],
        *[F.round(F.col(f) * 100, 1).alias(f"{f}_pct") for f in FEATURES],
        F.concat_ws(" || ", tweet, tweet, tweet).alias("sample_tweets"),
    )
    order = [F.col("score").desc(), F.col("user_id")]
    parts = math.ceil(flagged.count() / BLOCKLIST_ROWS_PER_PART)
    old_path, new_path = os.path.join(workdir, "blocklist-pandas.csv"), os.path.join(workdir, "blocklist-stream.csv")
    gc.collect()
    t_new, mb_new, rows = _timed_growth(lambda: write_csv(flagged, new_path, order, parts))
    size = os.path.getsize(new_path) / 1e6

    def baseline() -> None:
        print(f"\nblock list CSV, {rows:,} accounts, {size:,.0f} MB   seconds   driver (Python) memory rose by")
        print(f"  write_csv, range partitions: {parts:<4} {t_new:7.1f}   {mb_new:,.0f} MB")
        gc.collect()
        try:  # last: when it runs out of heap, the JVM exits and takes the session with it
            t_old, mb_old, _ = _timed_growth(lambda: flagged.orderBy(*order).toPandas().to_csv(old_path, index=False))
        except Exception as exc:  # report the baseline's failure, whatever its kind
            print(f"  toPandas + to_csv (baseline) failed: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
            return
        print(f"  toPandas + to_csv (baseline) {t_old:7.1f}   {mb_old:,.0f} MB")
        same = filecmp.cmp(old_path, new_path, shallow=False)
        print(f"  ratio write_csv / toPandas {t_new / t_old:7.2f}x; the same bytes: {same}")

    return baseline


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--accounts", type=int, default=24_000_000)
    p.add_argument("--rate", type=float, default=0.02)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--workdir", default="/tmp/vigie-bench-bots-scale")
    p.add_argument("--driver-memory", default=None, help="the local JVM heap: a size or auto (default: Spark's 1g)")
    args = p.parse_args(argv)

    from pyspark.sql import functions as F

    from vigie.ranks import kth_largest, percent_below
    from vigie.sampling import stable_uniform
    from vigie.session import get_spark

    master = f"local[{args.cores}]"
    spark = get_spark(
        app_name="vigie-bench-bots-scale",
        master=master,
        shuffle_partitions=args.cores * 4,
        driver_memory=args.driver_memory,
    )
    spark.sparkContext.setLogLevel("ERROR")
    path = os.path.join(args.workdir, f"scores-{args.accounts}")
    if not os.path.exists(os.path.join(path, "_SUCCESS")):
        (
            spark.range(args.accounts)
            .withColumnRenamed("id", "user_id")
            .select(
                "user_id",
                F.round(stable_uniform(1, "user_id"), 6).alias("score"),
                stable_uniform(2, "user_id").alias("compression_ratio"),
                F.round(stable_uniform(3, "user_id"), 2).alias("is_near_rate"),
                stable_uniform(4, "user_id").alias("uniq_ratio"),
            )
            .write.mode("overwrite")
            .parquet(path)
        )
    scores = spark.read.parquet(path)
    n = scores.count()
    k = round(args.rate * n)
    parts = scores.rdd.getNumPartitions()
    heap = spark.conf.get("spark.driver.memory", "1g")
    print(f"{n:,} accounts, top {args.rate:.0%}: k = {k:,}; {parts} partitions, {args.cores} cores, heap {heap}")

    export_baseline = _export(scores, args.workdir)
    t_old, old = timed(lambda: sketch_threshold(scores, args.rate))
    t_new, new = timed(lambda: kth_largest(scores, "score", k))
    counts = scores.agg(
        F.sum((F.col("score") >= old).cast("long")).alias("ge_old"),
        F.sum((F.col("score") > old).cast("long")).alias("gt_old"),
        F.sum((F.col("score") >= new).cast("long")).alias("ge_new"),
        F.sum((F.col("score") > new).cast("long")).alias("gt_new"),
    ).first()
    print(f"\nthreshold for k = {k:,}   seconds   value      accounts > it   >= it")
    print(f"  sketch (baseline)    {t_old:7.1f}   {old:.6f}   {counts.gt_old:>12,}  {counts.ge_old:>6,}")
    print(f"  exact (kth_largest)  {t_new:7.1f}   {new:.6f}   {counts.gt_new:>12,}  {counts.ge_new:>6,}")
    print(f"  ratio exact / sketch {t_new / t_old:7.2f}x")

    flagged = scores.filter(F.col("score") >= new).cache()
    m = flagged.count()
    t_old, old_pct = timed(lambda: sketch_ranks(scores, flagged).toPandas().set_index("user_id").sort_index())
    t_new, new_pct = timed(
        lambda: (
            percent_below(scores, flagged, FEATURES)
            .select("user_id", *[f"{f}_pct" for f in FEATURES])
            .toPandas()
            .set_index("user_id")
            .sort_index()
        )
    )
    diff = (old_pct - new_pct).abs()
    print(f"\npercentile ranks of the {m:,} flagged accounts (3 features)")
    print(f"  sketch (baseline)    {t_old:7.1f} s")
    print(f"  exact (percent_below){t_new:7.1f} s")
    print(f"  ratio exact / sketch {t_new / t_old:7.2f}x")
    for f in FEATURES:
        col = diff[f"{f}_pct"]
        print(f"  {f}: baseline off by up to {col.max():.1f} points; {(col > 0).mean():.1%} of ranks differ")
    flagged.unpersist()
    _split_and_roc(spark, scores, args.rate)
    export_baseline()
    return 0


if __name__ == "__main__":
    sys.exit(main())
