"""Does Study B's timeline length change the feature stage's ratio to raw bz2? Measured on real tweets.

    .venv/bin/python benchmarks/bots_speed_length.py [--lengths 20 200 1000] [--copies 20] [--cores 2]

`benchmarks/bots.py` measures the speed goal (the feature stage at most 1.3x raw bz2 on the same bytes)
on the generated dump, whose users have about 27 tweets each. Study B joined 500-1,000 tweets per user.
This script asks whether that shape moves the ratio. It keeps the bytes fixed and changes only the
timeline length.
- The tweets: each troll account of shared/data with at least 1,000 tweets, its first whole thousands
  in time order (17 accounts, 48,000 real tweets), copied `--copies` times (960,000 tweets by default).
- For each length n, every account's tweets are cut into consecutive timelines of n tweets, each one
  user. Every n divides 1,000, so each length holds the same tweets, and bz2 compresses the same text
  (only the n-1 line breaks per timeline differ).
- Each layout is written as a Delta table and read back, as the stage reads silver/tweets. Then it
  times, as `benchmarks/bots.py` does (medians after a warm-up, on `--cores` cores):
  - the feature stage's query;
  - the floor (group by user, join, the bz2 UDF);
  - raw bz2 of the same joined timelines in a pool of `--cores` processes.
  The floor's ratios are checked against raw bz2's, user by user, so both compress the same bytes.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from bots import median_cpu, noop, raw_bz2_seconds, timed_with_cpu, timeline_floor

HERE = Path(__file__).resolve().parent
DEFAULT_SHARED = HERE.parents[1] / "shared" / "data"
BLOCK = 1000  # tweets per account taken in whole blocks of this many; every length must divide it


def real_tweets(shared: Path) -> pd.DataFrame:
    """(account, created_at, text) of each troll account's first whole thousands of tweets, in time order."""
    frames = []
    for i, path in enumerate(sorted(glob.glob(str(shared / "russian-troll-tweets" / "tweets" / "*.csv")))):
        df = pd.read_csv(path, dtype=str, usecols=["content", "publish_date"]).dropna()
        df = df.sort_values("publish_date", kind="stable").head(len(df) // BLOCK * BLOCK)
        frames.append(
            pd.DataFrame({"account": i, "created_at": pd.to_datetime(df["publish_date"]), "text": df["content"]})
        )
    tweets = pd.concat(frames, ignore_index=True)
    if tweets.empty:
        sys.exit(f"no troll account with {BLOCK} tweets or more under {shared}/russian-troll-tweets")
    return tweets


def cut(tweets: pd.DataFrame, n: int) -> pd.DataFrame:
    """`tweets` as silver/tweets' columns, each account's tweets cut into consecutive timelines of n, one user each."""
    position = tweets.groupby("account").cumcount()
    return pd.DataFrame(
        {
            "user_id": tweets["account"] * 10**6 + position // n,
            "screen_name": "account_" + tweets["account"].astype(str),
            "tweet_id": tweets.index.astype("int64"),
            "created_at": tweets["created_at"],
            "text": tweets["text"],
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--lengths", type=int, nargs="+", default=[20, 200, 1000], help=f"tweets per timeline (divide {BLOCK})"
    )
    ap.add_argument("--copies", type=int, default=20, help="copies of the 48,000 tweets, each under other user ids")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each contender after the warm-up")
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "vigie-bench-bots-length"))
    args = ap.parse_args()
    wrong = [n for n in args.lengths if n < 1 or BLOCK % n]
    if wrong:
        sys.exit(f"--lengths must divide {BLOCK}: {wrong} do not")

    from pyspark.sql import functions as F

    from vigie.features.bots import FEATURE_SQL_CONF, BotFeatureConfig, bz2_ratio_of, user_features
    from vigie.session import get_spark, sql_conf

    cfg = BotFeatureConfig()
    if max(args.lengths) > cfg.max_tweets or min(args.lengths) < cfg.min_tweets:
        sys.exit(f"--lengths must lie between bots.min_tweets ({cfg.min_tweets}) and max_tweets ({cfg.max_tweets})")
    spark = get_spark(
        app_name="vigie-bench-bots-length", master=f"local[{args.cores}]", shuffle_partitions=args.cores * 4
    )
    spark.sparkContext.setLogLevel("ERROR")
    jvm_pid = spark.sparkContext._gateway.proc.pid
    tweets = real_tweets(args.shared)
    copies = spark.range(args.copies).withColumnRenamed("id", "copy")
    results = []
    with ProcessPoolExecutor(args.cores) as pool:
        for n in args.lengths:
            layout = cut(tweets, n)
            path = f"{args.data}/tweets-{n}-x{args.copies}"
            (
                spark.createDataFrame(layout)
                .crossJoin(copies)
                .select(
                    (F.col("copy") * 10**9 + F.col("user_id")).alias("user_id"),
                    "screen_name",
                    (F.col("copy") * 10**9 + F.col("tweet_id")).alias("tweet_id"),
                    "created_at",
                    "text",
                )
                .repartition(args.cores * 4)
                .write.format("delta")
                .mode("overwrite")
                .save(path)
            )
            table = spark.read.format("delta").load(path)
            joined = layout.groupby("user_id")["text"].agg("\n".join)  # the bytes the UDF compresses, per user
            timelines = joined.tolist() * args.copies

            with sql_conf(spark, FEATURE_SQL_CONF):  # as the stage runs its feature query
                runs = [
                    timed_with_cpu(lambda t=table: noop(user_features(t, cfg)), jvm_pid)
                    for _ in range(args.repeats + 1)
                ]
            floor = [
                timed_with_cpu(lambda t=table: noop(timeline_floor(t, cfg)), jvm_pid) for _ in range(args.repeats + 1)
            ]
            chunk = max(1, len(timelines) // (args.cores * 64))  # 960 long timelines need smaller chunks than 64
            raw_secs = raw_bz2_seconds(pool, timelines, args.repeats, chunk)

            # the floor must compress exactly these bytes: its ratio per user against raw bz2's
            ratios = timeline_floor(table, cfg).select((F.col("user_id") % 10**9).alias("user_id"), "compression_ratio")
            got = ratios.dropDuplicates(["user_id"]).toPandas().set_index("user_id")["compression_ratio"]
            want = joined.map(bz2_ratio_of)
            if not got.sort_index().equals(want.sort_index()):
                sys.exit(f"length {n}: the floor does not compress the bytes raw bz2 compresses")

            stage_secs = statistics.median(t for t, _ in runs[1:])
            floor_secs = statistics.median(t for t, _ in floor[1:])
            stage_cpu, floor_cpu = median_cpu([c for _, c in runs[1:]]), median_cpu([c for _, c in floor[1:]])
            mb = sum(len(t.encode("utf-8")) for t in timelines) / 2**20
            results.append(
                {
                    "tweets per timeline": n,
                    "users": len(timelines),
                    "MB joined": round(mb, 1),
                    "feature stage s": round(stage_secs, 1),
                    "floor s": round(floor_secs, 1),
                    f"raw bz2 s ({args.cores} proc.)": round(raw_secs, 1),
                    "raw bz2 MB/s": round(mb / raw_secs, 1),
                    "stage / bz2": round(stage_secs / raw_secs, 2),
                    "floor / bz2": round(floor_secs / raw_secs, 2),
                    "stage JVM CPU s": stage_cpu and round(stage_cpu[0], 1),
                    "stage Python CPU s": stage_cpu and round(stage_cpu[1], 1),
                    "floor JVM CPU s": floor_cpu and round(floor_cpu[0], 1),
                }
            )
            print(json.dumps(results[-1]), flush=True)

    print(
        f"\n{len(tweets) * args.copies:,} real tweets on {args.cores} cores; "
        f"medians of {args.repeats} runs after a warm-up"
    )
    print(pd.DataFrame(results).to_markdown(index=False))


if __name__ == "__main__":
    main()
