"""Study B's features on real timelines: the 41 Russian troll accounts (FiveThirtyEight, via shared/data).

    .venv/bin/python benchmarks/bots_real_timelines.py [--shared ../shared/data]

Computes compression_ratio, is_near_rate and uniq_ratio with the same Spark code as `vigie bots`,
and prints their distributions by `account_category` (also written to benchmarks/results/).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_SHARED = HERE.parents[1] / "shared" / "data"


def load_timelines(shared: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = shared / "russian-troll-tweets"
    authors = pd.read_csv(folder / "authors_all.csv", dtype=str)
    frames = []
    for path in sorted(glob.glob(str(folder / "tweets" / "*.csv"))):
        df = pd.read_csv(path, dtype=str, usecols=["author_id", "content", "publish_date"])
        frames.append(df.dropna(subset=["content", "publish_date"]))
    tweets = pd.concat(frames, ignore_index=True)
    return tweets, authors


def feature_table(spark, tweets: pd.DataFrame, authors: pd.DataFrame) -> pd.DataFrame:
    from pyspark.sql import functions as F

    from vigie.features.bots import FEATURE_SQL_CONF, BotFeatureConfig, user_features
    from vigie.session import sql_conf

    ids = {a: i for i, a in enumerate(sorted(tweets["author_id"].unique()))}
    rows = pd.DataFrame(
        {
            "user_id": tweets["author_id"].map(ids).astype("int64"),
            "screen_name": tweets["author_id"],
            "tweet_id": range(len(tweets)),
            "created_at": pd.to_datetime(tweets["publish_date"]),
            "text": tweets["content"],
        }
    )
    sdf = spark.createDataFrame(rows).withColumn("created_at", F.col("created_at").cast("timestamp"))
    with sql_conf(spark, FEATURE_SQL_CONF):  # as the stage runs its feature query
        feats = user_features(sdf, BotFeatureConfig(min_tweets=5)).toPandas()
    cats = authors[["author_id", "account_category"]].rename(columns={"author_id": "screen_name"})
    return feats.merge(cats, on="screen_name", how="left")


def summarise(feats: pd.DataFrame) -> pd.DataFrame:
    agg = feats.groupby("account_category").agg(
        accounts=("user_id", "count"),
        tweets=("tweet_count", "sum"),
        compression_median=("compression_ratio", "median"),
        near_rate_median=("is_near_rate", "median"),
        uniq_median=("uniq_ratio", "median"),
    )
    return agg.sort_values("compression_median").round(3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=os.environ.get("VIGIE_SHARED_DATA", str(DEFAULT_SHARED)))
    args = ap.parse_args()
    from vigie.session import get_spark

    spark = get_spark(app_name="vigie-bench-trolls", master="local[2]", shuffle_partitions=4)
    spark.sparkContext.setLogLevel("ERROR")
    tweets, authors = load_timelines(Path(args.shared))
    feats = feature_table(spark, tweets, authors)
    table = summarise(feats)
    print(f"{len(feats)} accounts, {len(tweets):,} tweets")
    print(table.to_string())
    out = HERE / "results" / "bots_real_timelines.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        "# Bot features on real troll timelines (by account_category)\n\n"
        f"`python benchmarks/bots_real_timelines.py`: {len(feats)} accounts, {len(tweets):,} tweets. Medians.\n\n"
        + table.to_markdown()
        + "\n\nPer account:\n\n"
        + feats.sort_values("compression_ratio")[
            ["screen_name", "account_category", "tweet_count", "compression_ratio", "is_near_rate", "uniq_ratio"]
        ]
        .round(3)
        .to_markdown(index=False)
        + "\n"
    )
    print(f"written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
