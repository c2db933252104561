"""What a community is about, for analysts: its top members, its script and its language.

Scripts are counted letter by letter with Java's Unicode script classes (`\\p{IsHan}`...), built into
Spark's regexes, so no Python UDF runs. A community whose tags are mostly Han, kana or Hangul is
flagged `is_cjk`, which is how the study's Chinese-character community shows up.

Example:
    >>> tags.withColumn("script", script_col("hashtag"))  # doctest: +SKIP
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from vigie.columns import collect_in_order

SCRIPTS = {
    "Han": r"\p{IsHan}",
    "Kana": r"[\p{IsHiragana}\p{IsKatakana}]",
    "Hangul": r"\p{IsHangul}",
    "Latin": r"\p{IsLatin}",
    "Cyrillic": r"\p{IsCyrillic}",
    "Arabic": r"\p{IsArabic}",
    "Greek": r"\p{IsGreek}",
    "Hebrew": r"\p{IsHebrew}",
    "Devanagari": r"\p{IsDevanagari}",
    "Thai": r"\p{IsThai}",
}
CJK_SCRIPTS = ("Han", "Kana", "Hangul")


def script_col(col: str) -> Column:
    """The script most letters of `col` are written in; null when it has no letter of a known script."""
    text = F.coalesce(F.col(col), F.lit(""))
    counts = [
        F.struct((F.length(text) - F.length(F.regexp_replace(text, pattern, ""))).alias("n"), F.lit(name).alias("s"))
        for name, pattern in SCRIPTS.items()
    ]
    best = F.greatest(*counts)
    return F.when(best["n"] > 0, best["s"])


def dominant(df: DataFrame, key: str, weight: str | None = None) -> DataFrame:
    """community, <key>, <key>_share: the heaviest value of `key` in each community and its share of the weight."""
    w = F.col(weight) if weight else F.lit(1)
    totals = df.where(F.col(key).isNotNull()).groupBy("community", key).agg(F.sum(w).cast("double").alias("_w"))
    ranked = totals.withColumn("_share", F.col("_w") / F.sum("_w").over(Window.partitionBy("community"))).withColumn(
        "_r", F.row_number().over(Window.partitionBy("community").orderBy(F.col("_w").desc(), F.col(key)))
    )
    return ranked.where("_r = 1").select("community", key, F.col("_share").alias(f"{key}_share"))


def top_members(degree: DataFrame, labels: DataFrame, n: int, name_col: str = "name") -> DataFrame:
    """community, top_members: the `n` members with the largest weighted degree (degree: node, degree, name)."""
    by_degree = Window.partitionBy("community").orderBy(F.col("degree").desc(), F.col(name_col))
    return (
        labels.join(degree, "node")
        .withColumn("_r", F.row_number().over(by_degree))
        .where(F.col("_r") <= n)
        .groupBy("community")
        .agg(collect_in_order("_r", F.col(name_col).cast("string")).alias("top_members"))
    )
