"""Per-user bot features of Study B: compression ratio, near-10-minute posting rate, unique-tweet ratio.

Bots repeat themselves, so their joined tweets compress well; schedulers post at round intervals;
templates make few distinct texts. All three are computed per user over their latest tweets.

Example:
    >>> feats = user_features(tweets, BotFeatureConfig())  # doctest: +SKIP
"""

from __future__ import annotations

import bz2
from dataclasses import dataclass

import pandas as pd
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

# bz2's fixed framing (stream header, block header, CRCs, end-of-stream marker) measured on an empty
# input; subtracted so short timelines are not scored as incompressible.
BZ2_OVERHEAD = len(bz2.compress(b""))


@dataclass(frozen=True)
class BotFeatureConfig:
    min_tweets: int = 5  # users with fewer tweets get no features (too little evidence)
    max_tweets: int = 1000  # latest tweets per user joined for compression (the study used 500-1,000)
    period_seconds: int = 600  # the posting grid: multiples of 10 minutes
    tolerance_seconds: int = 30  # how near a gap must be to a multiple of the grid
    min_bytes: int = 200  # below this many joined bytes the compression ratio is left null


@F.pandas_udf(T.DoubleType())
def bz2_ratio(texts: pd.Series) -> pd.Series:
    """Compressed / raw size of each joined timeline, header overhead removed.

    A pandas UDF because Spark has no built-in compressor; vectorised batches keep the
    per-row Python cost to the bz2 call itself.
    """

    def ratio(text: str | None) -> float | None:
        if text is None:
            return None
        raw = text.encode("utf-8")
        if not raw:
            return None
        return max(len(bz2.compress(raw, 9)) - BZ2_OVERHEAD, 1) / len(raw)

    return texts.map(ratio).astype("float64")


def template_text(text: Column) -> Column:
    """Text with URLs removed, digits masked and spaces folded: what a template leaves constant."""
    no_urls = F.regexp_replace(text, r"https?://\S+", "")
    masked = F.regexp_replace(no_urls, r"\d+", "0")
    return F.trim(F.regexp_replace(F.lower(masked), r"\s+", " "))


def near_grid(gap_seconds: Column, period: int, tolerance: int) -> Column:
    """True when a gap is at least one period and within `tolerance` of a multiple of `period`."""
    off = F.abs(gap_seconds - F.round(gap_seconds / period) * period)
    return (gap_seconds >= period - tolerance) & (off <= tolerance)


def user_features(tweets: DataFrame, cfg: BotFeatureConfig) -> DataFrame:
    """One row per user with at least `cfg.min_tweets` tweets: tweet_count and the three features."""
    # One sort per user serves both the gaps (lag) and "the latest N" (position from the end), and the
    # aggregation below reuses the window's partitioning: a single shuffle of the tweets.
    by_user_time = Window.partitionBy("user_id").orderBy("created_at", "tweet_id")
    by_user = Window.partitionBy("user_id")
    seconds = F.col("created_at").cast("double")
    timed = (
        tweets.filter(F.col("user_id").isNotNull() & F.col("text").isNotNull())
        .select("user_id", "screen_name", "tweet_id", "created_at", "text")
        .withColumn("gap", seconds - F.lag(seconds).over(by_user_time))
        .withColumn("from_end", F.count("*").over(by_user) - F.row_number().over(by_user_time))
        .withColumn("template", template_text(F.col("text")))
    )
    per_user = timed.groupBy("user_id").agg(
        F.max_by("screen_name", "created_at").alias("screen_name"),
        F.count("*").alias("tweet_count"),
        F.count("gap").alias("gaps"),
        F.sum(near_grid(F.col("gap"), cfg.period_seconds, cfg.tolerance_seconds).cast("int")).alias("near"),
        F.size(F.collect_set("template")).alias("distinct_templates"),  # no Expand, unlike countDistinct
        F.array_sort(
            F.collect_list(F.when(F.col("from_end") < cfg.max_tweets, F.struct("created_at", "tweet_id", "text")))
        ).alias("recent"),
    )
    joined = F.array_join(F.transform("recent", lambda s: s["text"]), "\n")
    return (
        per_user.filter(F.col("tweet_count") >= cfg.min_tweets)
        .withColumn("joined", joined)
        .withColumn(
            "compression_ratio",
            F.when(F.length(F.encode("joined", "UTF-8")) >= cfg.min_bytes, bz2_ratio("joined")),
        )
        .withColumn("is_near_rate", F.when(F.col("gaps") > 0, F.col("near") / F.col("gaps")))
        .withColumn("uniq_ratio", F.col("distinct_templates") / F.col("tweet_count"))
        .select("user_id", "screen_name", "tweet_count", "compression_ratio", "is_near_rate", "uniq_ratio")
    )
