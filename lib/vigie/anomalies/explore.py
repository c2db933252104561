"""The exploration tables Study A's analysts looked at, and the activity series the detectors read.

All hashtags are lower-cased. The exclusion list (`worldcup` by default) is applied everywhere but
in `hashtag_counts`, which keeps every tag with an `excluded` column, so that an analyst still sees
how over-represented the excluded tag is.

Windows are fixed-length and aligned on the epoch (UTC): `window_start` and `phase`, the window's
index within its day, which is the season of the volume detector.

Example:
    >>> w = with_windows(tweets, 3600)  # doctest: +SKIP
    >>> activity(w, 3600).show()  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

DAY = 86_400
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": DAY}


def window_seconds(spec: str) -> int:
    """'1 hour', '15 minutes', '30 min', '1h' -> seconds; the window must divide a day."""
    m = re.fullmatch(r"\s*(\d+)\s*([a-z]+)\s*", spec.lower())
    unit = None
    if m:
        word = m.group(2).rstrip("s")
        unit = {"h": "hour", "hr": "hour", "min": "minute", "m": "minute", "sec": "second", "d": "day"}.get(word, word)
    if not m or unit not in _UNITS:
        raise ValueError(f"window must look like '1 hour' or '15 minutes', got {spec!r}")
    seconds = int(m.group(1)) * _UNITS[unit]
    if seconds <= 0 or DAY % seconds:
        raise ValueError(f"window {spec!r} must divide a day evenly (the detector's season is one day)")
    return seconds


def excluded_list(spec: str) -> list[str]:
    return [t.strip().lstrip("#").lower() for t in spec.split(",") if t.strip()]


def lower_tags(col: str = "hashtags") -> Column:
    return F.array_distinct(F.transform(F.coalesce(F.col(col), F.array()), lambda x: F.lower(x)))


def kept_tags(excluded: Sequence[str], col: str = "hashtags") -> Column:
    drop = F.array(*[F.lit(t) for t in excluded]) if excluded else F.array().cast("array<string>")
    return F.array_except(lower_tags(col), drop)


def with_windows(tweets: DataFrame, seconds: int) -> DataFrame:
    epoch = F.unix_timestamp("created_at")
    start = F.floor(epoch / seconds) * seconds
    return tweets.withColumn("window_start", F.timestamp_seconds(start)).withColumn(
        "phase", (F.pmod(start, F.lit(DAY)) / seconds).cast("int")
    )


def hashtag_counts(tweets: DataFrame, excluded: Sequence[str], total: int | None = None) -> DataFrame:
    """Every hashtag, excluded ones flagged; `total` (the tweets in `tweets`) saves a pass when known."""
    total = tweets.count() if total is None else total
    return (
        tweets.select("user_id", "created_at", F.explode(lower_tags()).alias("hashtag"))
        .groupBy("hashtag")
        .agg(
            F.count("*").alias("tweets"),
            F.countDistinct("user_id").alias("users"),
            F.min("created_at").alias("first_seen"),
            F.max("created_at").alias("last_seen"),
        )
        .withColumn("share_of_tweets", F.col("tweets") / F.lit(max(total, 1)))
        .withColumn("excluded", F.col("hashtag").isin(list(excluded)) if excluded else F.lit(False))
    )


def hashtag_hourly(tweets_w: DataFrame, excluded: Sequence[str], n_windows: int) -> DataFrame:
    """Tweets per hashtag and window, and each hashtag's mean per window over the whole period."""
    per = tweets_w.select("window_start", "phase", F.explode(kept_tags(excluded)).alias("hashtag"))
    counts = per.groupBy("hashtag", "window_start", "phase").agg(F.count("*").alias("tweets"))
    return counts.withColumn(
        "mean_per_window", F.sum("tweets").over(Window.partitionBy("hashtag")) / F.lit(max(n_windows, 1))
    ).withColumn("hour_of_day", utc_hour("window_start"))


def utc_hour(col: str) -> Column:
    """Hour of day in UTC whatever spark.sql.session.timeZone says."""
    return (F.pmod(F.unix_timestamp(col), F.lit(DAY)) / 3600).cast("int")


def user_activity(tweets: DataFrame) -> DataFrame:
    n_tags = F.size(F.coalesce("hashtags", F.array()))
    return tweets.groupBy("user_id").agg(
        F.max("screen_name").alias("screen_name"),
        F.count("*").alias("tweets"),
        F.sum(F.col("is_retweet").cast("int")).alias("retweets"),
        F.avg(n_tags).alias("hashtags_per_tweet"),
        F.max(n_tags).alias("max_hashtags_per_tweet"),
        F.min("created_at").alias("first_tweet"),
        F.max("created_at").alias("last_tweet"),
    )


def hashtag_pairs(tweets: DataFrame, excluded: Sequence[str]) -> DataFrame:
    """Co-occurrence: tweets holding both tags, each unordered pair once (tag_a < tag_b)."""
    tags = F.array_sort(kept_tags(excluded))
    pairs = F.flatten(
        F.transform(
            tags,
            lambda x, i: F.transform(
                F.slice(tags, i + 2, F.greatest(F.size(tags) - i - 1, F.lit(0))),
                lambda y: F.struct(x.alias("tag_a"), y.alias("tag_b")),
            ),
        )
    )
    return (
        tweets.select(F.explode(pairs).alias("p"))
        .select("p.tag_a", "p.tag_b")
        .groupBy("tag_a", "tag_b")
        .agg(F.count("*").alias("tweets"))
    )


def activity(tweets_w: DataFrame, seconds: int) -> DataFrame:
    """Per window: tweets, users, retweets, quotes, replies; windows without a tweet are there with zeros."""
    counted = tweets_w.groupBy("window_start").agg(
        F.count("*").alias("tweets"),
        F.countDistinct("user_id").alias("users"),
        F.sum(F.col("is_retweet").cast("int")).alias("retweets"),
        F.sum(F.col("is_quote").cast("int")).alias("quotes"),
        F.sum(F.col("is_reply").cast("int")).alias("replies"),
    )
    epoch = F.unix_timestamp("window_start")
    lo, hi = counted.agg(F.min(epoch), F.max(epoch)).first()
    if lo is None:
        return counted.withColumn("phase", F.lit(0))
    grid = tweets_w.sparkSession.range(lo, hi + 1, seconds).select(F.timestamp_seconds("id").alias("window_start"))
    filled = grid.join(counted, "window_start", "left").fillna(0, ["tweets", "users", "retweets", "quotes", "replies"])
    return filled.withColumn(
        "phase", (F.pmod(F.unix_timestamp("window_start"), F.lit(DAY)) / seconds).cast("int")
    ).orderBy("window_start")
