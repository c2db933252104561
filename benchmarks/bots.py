"""Bot stage speed: feature computation against raw bz2 on the same bytes, LightGBM against native lightgbm.

    .venv/bin/python benchmarks/bots.py [--tweets 1000000] [--cores 2]

1. The feature stage (Spark: windows + the bz2 pandas UDF) on every user of an ingested dump, set
   against compressing exactly the same joined timelines with bz2 in a process pool of as many
   workers as Spark has cores. Goal: at most 1.3x. Also timed: the floor of any Spark plan for
   this UDF (scan, group by user, join each timeline, bz2 UDF; no features), which checks that it
   compresses the same bytes as the stage. Its ratio to raw bz2 is what Spark costs before the
   features do any work.
2. SynapseML LightGBMClassifier against native lightgbm: same rows, features, parameters and
   iterations (early stopping off, so both grow the same number of trees), with the stage's bulk
   transfer and, for comparison, SynapseML's default streaming transfer. Goal: at most 1.5x. Also
   timed: a 1-tree SynapseML fit, its fixed cost (Spark jobs, Python-to-JVM parameters, set-up), and
   two layouts that could cut it: the rows in one partition (one LightGBM worker, no network between
   tasks) and barrier execution.

Where /proc exists (Linux), each timed Spark run also counts the CPU seconds of the Spark JVM and of
its Python workers. Both sides keep every core busy, so a run takes at least their sum over the cores:
that gives the JVM's CPU budget under the goal, set against what the floor's and the stage's JVM use.

With --floor-breakdown, also splits the floor's CPU seconds into its steps (scan, shuffle, group and
join, the hand-off to the UDF), and times the floor on the table's Parquet files read without Delta.

With --lgbm-timeline, also splits SynapseML's 1-tree and 200-tree fits on the stage's rows into where
their wall time goes, from the driver's record of its Spark jobs: on the driver before the first job
(parameters to the JVM, checks), the training job, the other jobs, the gaps between jobs, and on the
driver after the last (building the model).

With --other-plans, also times once the other natural plan for the floor, `timeline_in_pandas`:
the tweets grouped by user straight into pandas (`applyInPandas`), sorted, joined and compressed
there. It is checked to compress the same bytes, and shows why the floor sorts and joins in the JVM.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

PY = sys.executable


def _bz2_len(text: str) -> int:
    from vigie.features.bots import bz2_size

    return bz2_size(text.encode("utf-8"))


def raw_bz2_seconds(pool, timelines: list[str], repeats: int, chunksize: int = 64) -> float:
    """The goal's baseline: median seconds for `pool` (a process pool, one worker per Spark core) to bz2 every
    joined timeline, as the stage's UDF does, after a warm-up that starts the workers."""
    list(pool.map(_bz2_len, timelines[:2000], chunksize=chunksize))
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        list(pool.map(_bz2_len, timelines, chunksize=chunksize))
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def process_tree_cpu(root: int) -> tuple[float, float] | None:
    """CPU seconds used so far by process `root` (the Spark JVM) and, apart, by the Python processes under it
    (the UDF workers, with their reaped children); None without /proc."""
    if not os.path.isdir(f"/proc/{root}"):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                name, rest = f.read().rsplit(")", 1)
        except OSError:  # the process ended while we looked
            continue
        fields = rest.split()  # from field 3 on: state, ppid, ... utime (14), stime, cutime, cstime
        stats[int(pid)] = (name.split("(", 1)[1], int(fields[1]), [int(x) / tick for x in fields[11:15]])
    children: dict[int, list[int]] = {}
    for pid, (_, ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    jvm, python, todo = 0.0, 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid not in stats:
            continue
        name, _, (utime, stime, cutime, cstime) = stats[pid]
        if pid == root:
            jvm += utime + stime  # its reaped children are not the JVM's work
        elif name.startswith("python"):
            python += utime + stime + cutime + cstime
        todo.extend(children.get(pid, []))
    return jvm, python


def timed_with_cpu(run, jvm_pid: int) -> tuple[float, tuple[float, float] | None]:
    """Seconds `run()` takes and the (JVM, Python) CPU seconds it used, when they can be counted."""
    before = process_tree_cpu(jvm_pid)
    started = time.perf_counter()
    run()
    secs = time.perf_counter() - started
    after = process_tree_cpu(jvm_pid)
    if before is None or after is None:
        return secs, None
    return secs, (after[0] - before[0], after[1] - before[1])


def median_cpu(samples: list) -> tuple[float, float] | None:
    """Per-side median of (JVM, Python) CPU samples; None when they were not counted."""
    if not samples or any(s is None for s in samples):
        return None
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def noop(df) -> None:
    """Run a plan to the end and throw its rows away: what every timed run does."""
    df.write.format("noop").mode("overwrite").save()


def timeline_rows(tweets):
    """The rows every timeline is built from: tweets with a user and a text, and the four columns used."""
    from pyspark.sql import functions as F

    return tweets.filter(F.col("user_id").isNotNull() & F.col("text").isNotNull()).select(
        "user_id", "created_at", "tweet_id", "text"
    )


def timeline_joined(tweets, cfg):
    """Per user, the latest `cfg.max_tweets` texts joined in time order, as the feature stage joins them: the
    floor's work before the UDF."""
    from pyspark.sql import functions as F

    from vigie.features.bots import joined_texts

    timeline = F.array_sort(F.collect_list(F.struct("created_at", "tweet_id", "text")))
    per_user = timeline_rows(tweets).groupBy("user_id").agg(F.count("*").alias("n"), timeline.alias("all"))
    start = F.greatest(F.lit(1), F.size("all") - cfg.max_tweets + 1)
    return per_user.filter(F.col("n") >= cfg.min_tweets).select(
        "user_id", joined_texts(F.slice("all", start, F.lit(cfg.max_tweets))).alias("joined")
    )


def timeline_floor(tweets, cfg):
    """The least a Spark plan does to feed the bz2 UDF: `timeline_joined`, then the stage's UDF, with no other
    feature. Same column name as the stage."""
    from pyspark.sql import functions as F

    from vigie.features.bots import compression_ratio

    joined = timeline_joined(tweets, cfg)
    return joined.select("user_id", compression_ratio(F.col("joined"), cfg.min_bytes).alias("compression_ratio"))


def timeline_in_pandas(tweets, cfg):
    """The floor's work done in pandas: each user's tweets sent to Python as a group (`applyInPandas`),
    sorted, the latest `cfg.max_tweets` joined and compressed there. Same output as `timeline_floor`."""
    import pandas as pd

    from vigie.features.bots import bz2_ratio_of

    def one_user(group: pd.DataFrame) -> pd.DataFrame:
        if len(group) < cfg.min_tweets:
            return pd.DataFrame(
                {"user_id": pd.Series([], dtype="int64"), "compression_ratio": pd.Series([], dtype="float64")}
            )
        latest = group.sort_values(["created_at", "tweet_id"]).tail(cfg.max_tweets)
        raw = "\n".join(latest["text"]).encode("utf-8")
        ratio = bz2_ratio_of(raw) if len(raw) >= cfg.min_bytes else None
        return pd.DataFrame({"user_id": [group["user_id"].iloc[0]], "compression_ratio": [ratio]})

    return timeline_rows(tweets).groupBy("user_id").applyInPandas(one_user, "user_id long, compression_ratio double")


def _jobs_from(spark, first: int) -> list[tuple[int, str, float, float]]:
    """(id, name, start, end) of the finished Spark jobs numbered `first` or more, times in seconds since
    the epoch, from the driver's status store (what the Spark UI shows)."""
    jobs = spark.sparkContext._jsc.sc().statusStore().jobsList(None)
    found = []
    for i in range(jobs.size()):
        j = jobs.apply(i)
        if j.jobId() >= first and j.completionTime().isDefined():
            start, end = j.submissionTime().get().getTime(), j.completionTime().get().getTime()
            found.append((j.jobId(), j.name(), start / 1000, end / 1000))
    return sorted(found)


def fit_timeline(spark, fit) -> dict[str, float]:
    """Seconds of one `fit()` spent: on the driver before its first Spark job, in its longest job (the
    training), in its other jobs, between jobs, and on the driver after the last one."""
    first = max((j[0] for j in _jobs_from(spark, 0)), default=-1) + 1
    started = time.time()
    fit()
    ended = time.time()
    jobs = _jobs_from(spark, first)
    spans = [end - start for _, _, start, end in jobs]
    gaps = [b[2] - a[3] for a, b in itertools.pairwise(jobs)]
    return {
        "total": ended - started,
        "before the first job": jobs[0][2] - started,
        "training job": max(spans),
        "other jobs": sum(spans) - max(spans),
        "between jobs": sum(gaps),
        "after the last job": ended - jobs[-1][3],
        "jobs": float(len(jobs)),
    }


def floor_breakdown(spark, tweets, cfg, jvm_pid: int, repeats: int) -> list[tuple[str, float, tuple, bool]]:
    """Where the floor's CPU goes: cumulative steps up to the floor, each timed `repeats` times after a warm-up,
    interleaved so a slow spell hits every step alike; then the floor over the table's Parquet files read
    without Delta, set against the floor rather than the step before. Returns (step, median seconds, median
    (JVM, Python) CPU seconds, whether it is a step on the way) per step."""
    from pyspark.sql import functions as F

    rows = timeline_rows(tweets)
    parquet = spark.read.parquet(*tweets.inputFiles())  # the files of the table's current version
    steps = {
        "scan the 4 columns": (rows, True),
        "+ shuffle the rows by user": (rows.repartition("user_id"), True),
        "+ group, sort, join each timeline (no UDF)": (timeline_joined(tweets, cfg).select(F.length("joined")), True),
        "+ hand to Python, bz2 UDF: the floor": (timeline_floor(tweets, cfg), True),
        "the floor on the same Parquet files, no Delta": (timeline_floor(parquet, cfg), False),
    }
    runs: dict[str, list] = {name: [] for name in steps}
    for df, _ in steps.values():
        noop(df)
    for _ in range(repeats):
        for name, (df, _) in steps.items():
            runs[name].append(timed_with_cpu(lambda df=df: noop(df), jvm_pid))
    return [
        (name, statistics.median(t for t, _ in runs[name]), median_cpu([c for _, c in runs[name]]), on_the_way)
        for name, (_, on_the_way) in steps.items()
    ]


def differing_ratios(a, b) -> int:
    """Users whose compression ratio differs between two plans (a user missing from one counts)."""
    from pyspark.sql import functions as F

    joined = a.alias("a").join(b.alias("b"), "user_id", "full_outer")
    return joined.filter(~F.col("a.compression_ratio").eqNullSafe(F.col("b.compression_ratio"))).count()


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
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each contender after the warm-up")
    ap.add_argument("--other-plans", action="store_true", help="also time the floor's work done in pandas, once")
    ap.add_argument("--floor-breakdown", action="store_true", help="also split the floor's CPU into its steps")
    ap.add_argument("--lgbm-timeline", action="store_true", help="also split SynapseML's fits into driver and jobs")
    ap.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "vigie-bench-bots"))
    args = ap.parse_args()
    lake = ensure_lakehouse(Path(args.data), args.tweets, args.cores)

    import lightgbm
    import numpy as np
    from pyspark.ml.feature import VectorAssembler

    from vigie.features.bots import FEATURE_SQL_CONF, BotFeatureConfig, user_features
    from vigie.models.bots import FEATURES, BotModelConfig, with_weak_label
    from vigie.session import get_spark, sql_conf

    spark = get_spark(app_name="vigie-bench-bots", master=f"local[{args.cores}]", shuffle_partitions=args.cores * 4)
    spark.sparkContext.setLogLevel("ERROR")
    tweets = spark.read.format("delta").load(f"{lake}/silver/tweets")
    n_tweets = tweets.count()
    cfg = BotFeatureConfig()

    # warm-up on a sample (Python UDF workers, Delta log), so the figure is the stage itself. The first
    # full run still pays for the JVM compiling its code paths, a fixed cost reported on its own.
    jvm_pid = spark.sparkContext._gateway.proc.pid  # local mode: the JVM this driver launched
    noop(timeline_floor(tweets.limit(50_000), cfg))
    with sql_conf(spark, FEATURE_SQL_CONF):  # as the stage runs its feature query
        noop(user_features(tweets.limit(50_000), cfg))
        spark_runs = [
            timed_with_cpu(lambda: noop(user_features(tweets, cfg)), jvm_pid) for _ in range(args.repeats + 1)
        ]
        feats = user_features(tweets, cfg).cache()
        n_users = feats.count()
    spark_first, spark_secs = spark_runs[0][0], statistics.median(t for t, _ in spark_runs[1:])
    spark_cpu = median_cpu([c for _, c in spark_runs[1:]])
    floor_runs = [timed_with_cpu(lambda: noop(timeline_floor(tweets, cfg)), jvm_pid) for _ in range(args.repeats)]
    floor_secs, floor_cpu = statistics.median(t for t, _ in floor_runs), median_cpu([c for _, c in floor_runs])
    # the floor must compress the very bytes the stage compresses, or it proves nothing
    differ = differing_ratios(feats, timeline_floor(tweets, cfg))
    if differ:
        sys.exit(f"the floor plan disagrees with the stage on {differ:,} users' compression ratio")
    pandas_secs = None
    if args.other_plans:  # one run: it is an order of magnitude slower than the floor
        differ = differing_ratios(feats, timeline_in_pandas(tweets, cfg))
        if differ:
            sys.exit(f"the applyInPandas plan disagrees with the stage on {differ:,} users' compression ratio")
        started = time.perf_counter()
        timeline_in_pandas(tweets, cfg).write.format("noop").mode("overwrite").save()
        pandas_secs = time.perf_counter() - started

    # the same bytes the UDF compresses: each user's latest <= max_tweets tweets, joined in time order
    pdf = tweets.select("user_id", "created_at", "tweet_id", "text").toPandas()
    pdf = pdf.sort_values(["user_id", "created_at", "tweet_id"])
    pdf = pdf.groupby("user_id").tail(cfg.max_tweets)
    counts = pdf.groupby("user_id").size()
    joined = pdf.groupby("user_id")["text"].agg("\n".join)[counts[counts >= cfg.min_tweets].index].tolist()
    raw_mb = sum(len(t.encode("utf-8")) for t in joined) / 2**20
    with ProcessPoolExecutor(args.cores) as pool:
        bz2_secs = raw_bz2_seconds(pool, joined, args.repeats)
    one_process = []  # context, not the goal: what a plain single-process loop over the timelines takes
    for _ in range(args.repeats):
        started = time.perf_counter()
        for text in joined:
            _bz2_len(text)
        one_process.append(time.perf_counter() - started)
    bz2_one = statistics.median(one_process)

    labelled = with_weak_label(feats, "_bot$")
    data = VectorAssembler(inputCols=FEATURES, outputCol="features", handleInvalid="keep").transform(labelled).cache()
    data.count()
    stage = BotModelConfig()  # the stage's hand-over of rows to LightGBM
    params = dict(
        objective="binary", numLeaves=3, maxDepth=3, numIterations=200, learningRate=0.05, minDataInLeaf=5, seed=1,
        dataTransferMode=stage.data_transfer, matrixType="dense",
    )  # fmt: skip
    from synapse.ml.lightgbm import LightGBMClassifier

    native_params = {"objective": "binary", "num_leaves": 3, "max_depth": 3, "learning_rate": 0.05,
                     "min_data_in_leaf": 5, "seed": 1, "num_threads": args.cores, "verbosity": -1}  # fmt: skip
    port = iter(range(12600, 13600, 10))  # a fresh port for each back-to-back fit

    def synapse_fit(df, **extra) -> float:
        started = time.perf_counter()
        LightGBMClassifier(
            featuresCol="features", labelCol="weak_label", verbosity=-1, defaultListenPort=next(port),
            **{**params, **extra},
        ).fit(df)  # fmt: skip
        return time.perf_counter() - started

    def native_fit(x, y, rounds: int = 200) -> float:
        started = time.perf_counter()
        lightgbm.train(native_params, lightgbm.Dataset(x, label=y), num_boost_round=rounds)
        return time.perf_counter() - started

    local = labelled.select(*FEATURES, "weak_label").toPandas()
    x, y = local[FEATURES].to_numpy(dtype=float), local["weak_label"].to_numpy()
    synapse_fit(data.limit(2000), numIterations=5, numThreads=args.cores)  # both load their native code first
    native_fit(x[:2000], y[:2000], 5)
    # the same comparison at a larger row count (the rows replicated), to separate fixed from per-row cost
    copies = max(1, args.lgbm_rows // max(1, n_users))
    big = (
        data.crossJoin(spark.range(copies).withColumnRenamed("id", "_copy"))
        .drop("_copy")
        .repartition(args.cores)
        .cache()
    )
    big_n = big.count()
    xb, yb = np.repeat(x, copies, axis=0), np.repeat(y, copies)
    reps = range(args.repeats)
    synapse_secs = statistics.median([synapse_fit(data, numThreads=args.cores) for _ in reps])
    synapse_one_tree = statistics.median([synapse_fit(data, numThreads=args.cores, numIterations=1) for _ in reps])
    native_secs = statistics.median([native_fit(x, y) for _ in reps])
    synapse_big = statistics.median([synapse_fit(big, numThreads=args.cores) for _ in reps])
    synapse_big_guess = statistics.median([synapse_fit(big) for _ in reps])  # numThreads left to LightGBM
    streaming = dict(numThreads=args.cores, dataTransferMode="streaming", matrixType="auto")  # SynapseML's defaults
    synapse_streaming = statistics.median([synapse_fit(data, **streaming) for _ in reps])
    synapse_big_streaming = statistics.median([synapse_fit(big, **streaming) for _ in reps])
    # where SynapseML's fixed cost is not: one partition (one LightGBM worker, no network between tasks),
    # and barrier execution (all tasks started together), on the stage's bulk transfer
    one_part = data.coalesce(1).cache()
    one_part.count()
    synapse_one_part = statistics.median([synapse_fit(one_part, numThreads=args.cores) for _ in reps])
    synapse_barrier = statistics.median(
        [synapse_fit(data, numThreads=args.cores, useBarrierExecutionMode=True) for _ in reps]
    )
    native_big = statistics.median([native_fit(xb, yb) for _ in reps])
    timelines = {1: [], 200: []}
    for _ in reps if args.lgbm_timeline else ():  # interleaved, so a slow spell hits both alike
        for trees, found in timelines.items():
            found.append(fit_timeline(spark, lambda t=trees: synapse_fit(data, numThreads=args.cores, numIterations=t)))

    ours = f"SynapseML LightGBM, 200 trees, {args.cores} threads, {stage.data_transfer}"
    rows = [
        ("feature stage (Spark, bz2 UDF), first run", spark_first, f"{n_tweets:,} tweets -> {n_users:,} users"),
        (f"feature stage, median of {args.repeats} more", spark_secs, ", ".join(f"{t:.1f}" for t, _ in spark_runs[1:])),
        (f"raw bz2 of the same {raw_mb:,.0f} MB ({args.cores} processes)", bz2_secs, f"{len(joined):,} timelines"),
        ("raw bz2, one process (context only)", bz2_one, "a plain loop"),
        ("floor: group by user, join, bz2 UDF (no features)", floor_secs, "same bytes as the stage, checked"),
        *(
            [("the floor's work in pandas (applyInPandas), one run", pandas_secs, "same bytes, checked")]
            if pandas_secs is not None
            else []
        ),
        (ours, synapse_secs, f"{n_users:,} rows, {data.rdd.getNumPartitions()} tasks"),
        ("SynapseML LightGBM, 1 tree (its fixed cost)", synapse_one_tree, f"{n_users:,} rows"),
        ("SynapseML LightGBM, streaming (SynapseML's default)", synapse_streaming, f"{n_users:,} rows"),
        ("SynapseML LightGBM, one partition", synapse_one_part, f"{n_users:,} rows, 1 task"),
        ("SynapseML LightGBM, barrier execution", synapse_barrier, f"{n_users:,} rows"),
        ("native lightgbm, 200 trees", native_secs, f"{len(local):,} rows"),
        (ours, synapse_big, f"{big_n:,} rows"),
        ("SynapseML LightGBM, threads left to LightGBM", synapse_big_guess, f"{big_n:,} rows"),
        ("SynapseML LightGBM, streaming (SynapseML's default)", synapse_big_streaming, f"{big_n:,} rows"),
        ("native lightgbm, 200 trees", native_big, f"{len(xb):,} rows"),
    ]
    print(f"\n{args.cores} cores; medians of {args.repeats} runs after a warm-up")
    print(f"{'':60} {'seconds':>8}  {'what':30}")
    for name, secs, what in rows:
        print(f"{name:60} {secs:8.1f}  {what}")
    print(f"\nfeature stage / raw bz2: {spark_secs / bz2_secs:.2f}x, first run {spark_first / bz2_secs:.2f}x "
          "(goal <= 1.3x)")  # fmt: skip
    print(f"floor / raw bz2: {floor_secs / bz2_secs:.2f}x; feature stage / floor: {spark_secs / floor_secs:.2f}x")
    if pandas_secs is not None:
        print(f"the floor's work in pandas / floor: {pandas_secs / floor_secs:.2f}x")
    budget = None
    if spark_cpu and floor_cpu:
        # a run takes at least (JVM + Python CPU) / cores, so at 1.3x raw bz2 the JVM may use at most this
        budget = 1.3 * args.cores * bz2_secs - spark_cpu[1]
        print(f"CPU seconds per run: feature stage JVM {spark_cpu[0]:.1f} + Python {spark_cpu[1]:.1f}; "
              f"floor JVM {floor_cpu[0]:.1f} + Python {floor_cpu[1]:.1f}; raw bz2 {bz2_one:.1f} (one process)\n"
              f"JVM budget at the goal: 1.3 x {args.cores} cores x {bz2_secs:.1f} s - the stage's Python "
              f"{spark_cpu[1]:.1f} = {budget:.1f} CPU s; the floor's JVM uses {floor_cpu[0] / budget:.2f}x it, "
              f"the stage's {spark_cpu[0] / budget:.2f}x")  # fmt: skip
    if args.floor_breakdown:
        print(f"\nthe floor step by step, CPU seconds (medians of {args.repeats} interleaved runs):")
        print(f"{'':48} {'seconds':>8} {'JVM':>6} {'added':>6} {'Python':>7}")
        jvm_before = 0.0
        for name, secs, cpu, on_the_way in floor_breakdown(spark, tweets, cfg, jvm_pid, args.repeats):
            jvm, python = cpu or (float("nan"), float("nan"))
            added, jvm_before = (jvm - jvm_before, jvm) if on_the_way else (float("nan"), jvm_before)
            print(f"{name:48} {secs:8.1f} {jvm:6.1f} {added:6.1f} {python:7.1f}")
        if budget is not None:
            print(f"the JVM's budget at the goal: {budget:.1f} CPU s")
    print(f"SynapseML / native LightGBM: {synapse_secs / native_secs:.2f}x on {n_users:,} rows, "
          f"{synapse_big / native_big:.2f}x on {big_n:,} rows (goal <= 1.5x); a 1-tree fit alone is "
          f"{synapse_one_tree / native_secs:.2f}x native's 200 trees on {n_users:,} rows")  # fmt: skip
    if args.lgbm_timeline:
        print(f"\nwhere SynapseML's fits on {n_users:,} rows spend their time, seconds (medians of {args.repeats})")
        print(f"{'':24} {'1 tree':>8} {'200 trees':>10}")
        for part in timelines[1][0]:
            one, full = (statistics.median(t[part] for t in timelines[n]) for n in (1, 200))
            print(f"{part:24} {one:8.2f} {full:10.2f}" if part != "jobs" else f"{part:24} {one:8.0f} {full:10.0f}")
        print(f"{'native lightgbm':24} {'':8} {native_secs:10.2f}")
    print(json.dumps({"feature_ratio": spark_secs / bz2_secs, "feature_ratio_first_run": spark_first / bz2_secs,
                      "floor_ratio": floor_secs / bz2_secs, "lightgbm_one_tree_ratio": synapse_one_tree / native_secs,
                      "jvm_cpu_stage": spark_cpu and spark_cpu[0], "python_cpu_stage": spark_cpu and spark_cpu[1],
                      "jvm_cpu_floor": floor_cpu and floor_cpu[0], "jvm_cpu_budget": budget,
                      "lightgbm_ratio": synapse_secs / native_secs,
                      "lightgbm_ratio_large": synapse_big / native_big,
                      "lightgbm_ratio_streaming": synapse_streaming / native_secs,
                      "lightgbm_ratio_one_partition": synapse_one_part / native_secs,
                      "lightgbm_ratio_barrier": synapse_barrier / native_secs,
                      "lightgbm_ratio_large_streaming": synapse_big_streaming / native_big}))  # fmt: skip


if __name__ == "__main__":
    main()
