"""Speed of the anomalies stage on a generated dump, and of the Isolation Forest's scoring against scikit-learn.

1. Generates `--tweets` tweets (cached under --workdir) and ingests them.
2. Runs `vigie anomalies` as its own process: wall time, peak memory of the process tree, time per
   step (from the stage's summary). Baseline, side by side: one Spark pass that counts tweets per
   hour over the same silver table (the least any stage must do).
3. Scoring throughput on the same rows and cores: the stage's fitted forest (SynapseML, reloaded from
   MLflow) against scikit-learn's IsolationForest with the same parameters, fitted on the same features.

    python benchmarks/anomalies.py [--tweets 1000000] [--trials 10] [--workdir /tmp/vigie-bench-anomalies]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _measure import run_measured  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tweets", type=int, default=1_000_000)
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--workdir", default="/tmp/vigie-bench-anomalies")
    p.add_argument("--score-rows", type=int, default=200_000, help="rows for the scoring comparison")
    p.add_argument("--reuse", action="store_true", help="skip the stage: score with its last run's model")
    args = p.parse_args(argv)
    vigie = os.path.join(os.path.dirname(sys.executable), "vigie")
    dump = os.path.join(args.workdir, f"dump-{args.tweets}")
    lake = os.path.join(args.workdir, f"lake-{args.tweets}")
    env = {**os.environ, "VIGIE_SPARK_MASTER": "local[2]"}
    if not os.path.exists(os.path.join(dump, "_truth.json")):
        secs, _, _ = run_measured([vigie, "generate", "--out", dump, "--tweets", str(args.tweets)], env=env)
        print(f"generate: {secs:.0f}s")
    if not os.path.exists(os.path.join(lake, "silver", "tweets")):
        secs, _, _ = run_measured([vigie, "ingest", dump, "--lakehouse", lake], env=env)
        print(f"ingest: {secs:.0f}s")

    summary_file = os.path.join(args.workdir, f"summary-{args.tweets}.json")
    if args.reuse and os.path.exists(summary_file):
        with open(summary_file, encoding="utf-8") as fh:
            secs, peak, summary = json.load(fh)
    else:
        cmd = [vigie, "anomalies", "--lakehouse", lake, "--trials", str(args.trials)]
        secs, peak, out = run_measured(cmd, env=env)
        summary = json.loads(out.strip().splitlines()[-1])
        with open(summary_file, "w", encoding="utf-8") as fh:
            json.dump([secs, peak, summary], fh)

    from pyspark.sql import functions as F

    from vigie.session import get_spark

    spark = get_spark(app_name="vigie-bench", master="local[2]", shuffle_partitions=8)
    spark.sparkContext.setLogLevel("ERROR")
    started = time.perf_counter()
    tweets = spark.read.format("delta").load(f"{lake}/silver/tweets")
    tweets.groupBy(F.date_trunc("hour", "created_at")).count().write.format("noop").mode("overwrite").save()
    baseline = time.perf_counter() - started

    n = summary["tweets"]
    print(f"\nanomalies stage on {n:,} tweets, {args.trials} trials, local[2]")
    print(f"  wall {secs:.0f}s ({n / secs:,.0f} tweets/s), peak memory {peak:,.0f} MB")
    print(f"  baseline (one pass: tweets per hour) {baseline:.1f}s; ratio stage/baseline {secs / baseline:.1f}")
    for step, s in summary.get("seconds", {}).items():
        print(f"    {step:<14} {s:>7.1f}s")
    print(f"  anomalous windows {summary['anomalous_windows']} of {summary['windows']}")
    score_throughput(spark, summary, lake, args.score_rows)
    return 0


def score_throughput(spark, summary: dict, lake: str, rows: int) -> None:
    import mlflow
    import numpy as np
    from pyspark.ml import PipelineModel
    from sklearn.ensemble import IsolationForest as SkForest

    from vigie.anomalies.stage import load_model

    mlflow.set_tracking_uri(f"file://{lake}/mlruns")
    model: PipelineModel = load_model(summary["model_uri"])
    features, forest = PipelineModel(stages=model.stages[:-1]), model.stages[-1]
    tweets = spark.read.format("delta").load(f"{lake}/silver/tweets").limit(rows)
    feats = features.transform(tweets).select("features").repartition(2).cache()
    n = feats.count()
    started = time.perf_counter()
    forest.transform(feats).select("outlier_score").write.format("noop").mode("overwrite").save()
    spark_secs = time.perf_counter() - started
    x = np.array([r[0].toArray() for r in feats.collect()])
    p = summary["best_params"]
    sk = SkForest(
        n_estimators=int(p["numEstimators"]), max_samples=min(int(p["maxSamples"]), n), random_state=0, n_jobs=2
    ).fit(x)
    started = time.perf_counter()
    sk.score_samples(x)
    sk_secs = time.perf_counter() - started
    print(f"\nIsolation Forest scoring, {n:,} rows x {x.shape[1]} features, {p['numEstimators']} trees, 2 cores")
    print(f"  SynapseML    {n / spark_secs:>10,.0f} rows/s  ({spark_secs:.1f}s)")
    print(f"  scikit-learn {n / sk_secs:>10,.0f} rows/s  ({sk_secs:.1f}s)")
    print(f"  ratio SynapseML/scikit-learn throughput {sk_secs / spark_secs:.2f}")


if __name__ == "__main__":
    sys.exit(main())
