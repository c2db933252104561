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

# SQL settings to plan the feature query under (`vigie.session.sql_conf`, around the action). The
# window leaves each user's rows together and in time order, so the per-user aggregation can run as a
# sort aggregate over them instead of building a hash map of every user's arrays: about a tenth of
# the stage's JVM time. Spark makes this swap only when told to, and only where the input is already
# in the grouping order; results do not change.
FEATURE_SQL_CONF = {"spark.sql.execution.replaceHashWithSortAgg": "true"}


@dataclass(frozen=True)
class BotFeatureConfig:
    min_tweets: int = 5  # users with fewer tweets get no features (too little evidence)
    max_tweets: int = 1000  # latest tweets per user joined for compression (the study used 500-1,000)
    period_seconds: int = 600  # the posting grid: multiples of 10 minutes
    tolerance_seconds: int = 30  # how near a gap must be to a multiple of the grid
    min_bytes: int = 200  # below this many joined bytes the compression ratio is left null


def bz2_size(raw: bytes) -> int:
    """Size of `raw` compressed by bz2 at level 9, computed at the lowest level that gives the same size.

    A bz2 level only sets the block size (level x 100 kB). Input that fits one block at a lower level
    compresses to the same bytes but the level digit in the header, and level 9 spends its time setting
    up a 900 kB block: on tweet timelines (a few kB) the lower level is about 10% faster. The first
    pass of bz2 can grow input by up to 1.25x before blocking, hence the margin.
    """
    level = min(9, (len(raw) * 5 // 4 + 19) // 100_000 + 1)
    return len(bz2.compress(raw, level))


def bz2_ratio_of(text: str | bytes | None) -> float | None:
    """Compressed / raw size of one joined timeline, header overhead removed; None for no text."""
    if text is None:
        return None
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if not raw:
        return None
    return max(bz2_size(raw) - BZ2_OVERHEAD, 1) / len(raw)


@F.pandas_udf(T.DoubleType())
def bz2_ratio(texts: pd.Series) -> pd.Series:
    """`bz2_ratio_of` each joined timeline. Takes UTF-8 bytes (binary) or strings.

    A pandas UDF because Spark has no built-in compressor; vectorised batches keep the
    per-row Python cost to the bz2 call itself.
    """
    return pd.Series([bz2_ratio_of(t) for t in texts], index=texts.index, dtype="float64")


def joined_texts(timeline: Column) -> Column:
    """The texts of an array of (created_at, tweet_id, text) structs, in order, one per line: what bz2 compresses."""
    return F.array_join(F.transform(timeline, lambda s: s["text"]), "\n")


def compression_ratio(joined: Column, min_bytes: int) -> Column:
    """bz2 ratio of a joined timeline; null when it has fewer than `min_bytes` bytes (too little to judge)."""
    # bytes, not a string: the worker gets them as they are, without a decode and re-encode
    return F.when(F.octet_length(joined) >= min_bytes, bz2_ratio(F.encode(joined, "UTF-8")))


def template_text(text: Column) -> Column:
    """Text with URLs removed and digit runs masked: what a template with changing scores leaves constant.

    Two passes only, because this runs on every tweet and dominated the stage's JVM time. The URL
    regex runs only on texts that contain "http" (a byte search), and case and spacing are left
    alone: templates vary numbers and links, not letters.
    """
    no_urls = F.when(text.contains("http"), F.regexp_replace(text, r"https?://\S+", "")).otherwise(text)
    return F.regexp_replace(no_urls, r"\d+", "0")


def near_grid(gap_seconds: Column, period: int, tolerance: int) -> Column:
    """True when a gap is at least one period and within `tolerance` of a multiple of `period`."""
    off = F.abs(gap_seconds - F.round(gap_seconds / period) * period)
    return (gap_seconds >= period - tolerance) & (off <= tolerance)


def user_features(tweets: DataFrame, cfg: BotFeatureConfig) -> DataFrame:
    """One row per user with at least `cfg.min_tweets` tweets: tweet_count and the three features."""
    # One sort per user serves both the gaps (lag) and "the latest N" (position from the end), and the
    # aggregation below reuses the window's partitioning: a single shuffle of the tweets.
    # The three window functions share one partitioning and order (the count's frame is the whole
    # user), so Spark evaluates them in a single Window operator.
    by_user_time = Window.partitionBy("user_id").orderBy("created_at", "tweet_id")
    whole_user = by_user_time.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    seconds = F.col("created_at").cast("double")
    timed = (
        tweets.filter(F.col("user_id").isNotNull() & F.col("text").isNotNull())
        .select("user_id", "screen_name", "tweet_id", "created_at", "text")
        .withColumn("gap", seconds - F.lag(seconds).over(by_user_time))
        .withColumn("from_end", F.count("*").over(whole_user) - F.row_number().over(by_user_time))
        # a 64-bit hash of the template: the set of distinct templates holds longs, not strings
        .withColumn("template", F.xxhash64(template_text(F.col("text"))))
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
    return (
        per_user.filter(F.col("tweet_count") >= cfg.min_tweets)
        .withColumn("joined", joined_texts(F.col("recent")))
        .withColumn("compression_ratio", compression_ratio(F.col("joined"), cfg.min_bytes))
        .withColumn("is_near_rate", F.when(F.col("gaps") > 0, F.col("near") / F.col("gaps")))
        .withColumn("uniq_ratio", F.col("distinct_templates") / F.col("tweet_count"))
        .select("user_id", "screen_name", "tweet_count", "compression_ratio", "is_near_rate", "uniq_ratio")
    )
