"""Bot stage speed: feature computation against raw bz2 on the same bytes, LightGBM against native lightgbm.

    .venv/bin/python benchmarks/bots.py [--tweets 1000000] [--cores 2]

1. The feature stage (Spark: windows + the bz2 pandas UDF) on every user of an ingested dump, set
   against compressing exactly the same joined timelines with bz2 in a process pool of as many
   workers as Spark has cores. Goal: at most 1.3x.
2. SynapseML LightGBMClassifier against native lightgbm: same rows, features, parameters and
   iterations (early stopping off, so both grow the same number of trees). Goal: at most 1.5x.
"""

from __future__ import annotations

import argparse
import bz2
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

PY = sys.executable


def _bz2_len(text: str) -> int:
    return len(bz2.compress(text.encode("utf-8"), 9))


def ensure_lakehouse(data: Path, tweets: int, cores: int) -> Path:
    dump, lake = data / f"dump-{tweets}", data / f"lake-{tweets}"
    if not (dump / "_truth.json").exists():
        subprocess.run(
            [PY, "-m", "vigie.cli", "generate", "--out", str(dump), "--tweets", str(tweets), "--files", str(cores)],
            check=True,
        )
    if not (lake / "silver" / "tweets" / "_delta_log").exists():
        env = {**os.environ, "PYSPARK_PYTHON": PY}
        subprocess.run(
            [PY, "-m", "vigie.cli", "ingest", str(dump), "--lakehouse", str(lake), "--master", f"local[{cores}]"],
            check=True,
            env=env,
        )
    return lake


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tweets", type=int, default=1_000_000)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--lgbm-rows", type=int, default=1_000_000, help="rows for the larger LightGBM comparison")
    ap.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "vigie-bench-bots"))
    args = ap.parse_args()
    lake = ensure_lakehouse(Path(args.data), args.tweets, args.cores)

    import lightgbm
    import numpy as np
    from pyspark.ml.feature import VectorAssembler

    from vigie.features.bots import BotFeatureConfig, user_features
    from vigie.models.bots import FEATURES, with_weak_label
    from vigie.session import get_spark

    spark = get_spark(app_name="vigie-bench-bots", master=f"local[{args.cores}]", shuffle_partitions=args.cores * 4)
    spark.sparkContext.setLogLevel("ERROR")
    tweets = spark.read.format("delta").load(f"{lake}/silver/tweets")
    n_tweets = tweets.count()
    cfg = BotFeatureConfig()

    # warm-up on a sample (Python UDF workers, JIT, Delta log), so the figure is the stage itself
    user_features(tweets.limit(50_000), cfg).write.format("noop").mode("overwrite").save()
    started = time.perf_counter()
    feats = user_features(tweets, cfg).cache()
    n_users = feats.count()
    spark_secs = time.perf_counter() - started

    # the same bytes the UDF compresses: each user's latest <= max_tweets tweets, joined in time order
    pdf = tweets.select("user_id", "created_at", "tweet_id", "text").toPandas()
    pdf = pdf.sort_values(["user_id", "created_at", "tweet_id"])
    pdf = pdf.groupby("user_id").tail(cfg.max_tweets)
    counts = pdf.groupby("user_id").size()
    joined = pdf.groupby("user_id")["text"].agg("\n".join)[counts[counts >= cfg.min_tweets].index].tolist()
    raw_mb = sum(len(t.encode("utf-8")) for t in joined) / 2**20
    started = time.perf_counter()
    with ProcessPoolExecutor(args.cores) as pool:
        list(pool.map(_bz2_len, joined, chunksize=64))
    bz2_secs = time.perf_counter() - started

    labelled = with_weak_label(feats, "_bot$")
    data = VectorAssembler(inputCols=FEATURES, outputCol="features", handleInvalid="keep").transform(labelled).cache()
    data.count()
    params = dict(
        objective="binary", numLeaves=3, maxDepth=3, numIterations=200, learningRate=0.05, minDataInLeaf=5, seed=1
    )
    from synapse.ml.lightgbm import LightGBMClassifier

    native_params = {"objective": "binary", "num_leaves": 3, "max_depth": 3, "learning_rate": 0.05,
                     "min_data_in_leaf": 5, "seed": 1, "num_threads": args.cores, "verbosity": -1}  # fmt: skip
    warm = data.limit(2000)  # both libraries load their native code once before timing
    LightGBMClassifier(
        featuresCol="features", labelCol="weak_label", verbosity=-1, **{**params, "numIterations": 5}
    ).fit(warm)
    warm_local = warm.select(*FEATURES, "weak_label").toPandas()
    lightgbm.train(
        native_params,
        lightgbm.Dataset(warm_local[FEATURES].to_numpy(dtype=float), label=warm_local["weak_label"].to_numpy()),
        5,
    )
    started = time.perf_counter()
    LightGBMClassifier(
        featuresCol="features", labelCol="weak_label", verbosity=-1, numThreads=args.cores, **params
    ).fit(data)
    synapse_secs = time.perf_counter() - started
    local = labelled.select(*FEATURES, "weak_label").toPandas()
    x, y = local[FEATURES].to_numpy(dtype=float), local["weak_label"].to_numpy()
    started = time.perf_counter()
    lightgbm.train(native_params, lightgbm.Dataset(x, label=y), num_boost_round=200)
    native_secs = time.perf_counter() - started

    # the same comparison at a larger row count (the rows replicated), to separate fixed from per-row cost
    copies = max(1, args.lgbm_rows // max(1, n_users))
    big = (
        data.crossJoin(spark.range(copies).withColumnRenamed("id", "_copy"))
        .drop("_copy")
        .repartition(args.cores)
        .cache()
    )
    big_n = big.count()
    started = time.perf_counter()
    LightGBMClassifier(
        featuresCol="features", labelCol="weak_label", verbosity=-1, numThreads=args.cores, **params
    ).fit(big)
    synapse_big = time.perf_counter() - started
    xb, yb = np.repeat(x, copies, axis=0), np.repeat(y, copies)
    started = time.perf_counter()
    lightgbm.train(native_params, lightgbm.Dataset(xb, label=yb), num_boost_round=200)
    native_big = time.perf_counter() - started

    rows = [
        ("feature stage (Spark, bz2 UDF)", spark_secs, f"{n_tweets:,} tweets -> {n_users:,} users"),
        (f"raw bz2 of the same {raw_mb:,.0f} MB ({args.cores} processes)", bz2_secs, f"{len(joined):,} timelines"),
        ("SynapseML LightGBM (200 trees)", synapse_secs, f"{n_users:,} rows"),
        ("native lightgbm (200 trees)", native_secs, f"{len(local):,} rows"),
        ("SynapseML LightGBM (200 trees)", synapse_big, f"{big_n:,} rows"),
        ("native lightgbm (200 trees)", native_big, f"{len(xb):,} rows"),
    ]
    print(f"\n{args.cores} cores")
    print(f"{'':48} {'seconds':>8}  {'what':30}")
    for name, secs, what in rows:
        print(f"{name:48} {secs:8.1f}  {what}")
    print(f"\nfeature stage / raw bz2: {spark_secs / bz2_secs:.2f}x (goal <= 1.3x)")
    print(f"SynapseML / native LightGBM: {synapse_secs / native_secs:.2f}x on {n_users:,} rows, "
          f"{synapse_big / native_big:.2f}x on {big_n:,} rows (goal <= 1.5x)")  # fmt: skip
    print(json.dumps({"feature_ratio": spark_secs / bz2_secs, "lightgbm_ratio": synapse_secs / native_secs,
                      "lightgbm_ratio_large": synapse_big / native_big}))  # fmt: skip


if __name__ == "__main__":
    main()
