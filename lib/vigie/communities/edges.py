"""The two graphs the communities stage reads: hashtag co-occurrence and user interactions.

Hashtag graph: a node per lower-cased hashtag (the exclusion list applied, as in the anomalies
stage), an undirected edge per pair of tags that share at least `min_support` tweets. Each edge has
its count and its pointwise mutual information over tweets holding at least one kept tag:
    pmi = log(n_ab * N / (n_a * n_b)),  npmi = pmi / -log(n_ab / N)  (in [-1, 1]).
Counts favour popular tags; PMI favours tags that are rarely seen apart. Either can weigh the graph.

User graph: an undirected edge between two accounts that retweeted, quoted, replied to or mentioned
each other, weighted by how many times. Self-loops are dropped; mentions are resolved to user ids
through silver/users (screen names are matched case-insensitively, as Twitter does).

Example:
    >>> edges = hashtag_edges(tweets, ["worldcup"], min_support=3)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from vigie.anomalies.explore import hashtag_pairs, kept_tags

LINK_KINDS = ("retweet", "quote", "reply", "mention")
_COUNT_COLUMNS = {"retweet": "retweets", "quote": "quotes", "reply": "replies", "mention": "mentions"}


def hashtag_nodes(tweets: DataFrame, excluded: Sequence[str]) -> DataFrame:
    """hashtag, tweets, users: every kept tag with the tweets and accounts that used it."""
    return (
        tweets.select("user_id", F.explode(kept_tags(excluded)).alias("hashtag"))
        .groupBy("hashtag")
        .agg(F.count("*").alias("tweets"), F.countDistinct("user_id").alias("users"))
    )


def hashtag_edges(
    tweets: DataFrame, excluded: Sequence[str], min_support: int, nodes: DataFrame | None = None
) -> DataFrame:
    """src, dst (src < dst), tweets, pmi, npmi for tag pairs seen together in at least `min_support` tweets.

    `nodes` is `hashtag_nodes` of the same tweets when the caller has it already.
    """
    if min_support < 1:
        raise ValueError("min_support must be at least 1")
    tagged = tweets.where(F.size(kept_tags(excluded)) > 0)
    total = tagged.agg(F.count("*").alias("n"))
    nodes = hashtag_nodes(tagged, excluded) if nodes is None else nodes
    singles = nodes.select("hashtag", F.col("tweets").alias("n_tag"))
    pairs = hashtag_pairs(tagged, excluded).where(F.col("tweets") >= min_support)
    a = singles.select(F.col("hashtag").alias("tag_a"), F.col("n_tag").alias("n_a"))
    b = singles.select(F.col("hashtag").alias("tag_b"), F.col("n_tag").alias("n_b"))
    p_ab = F.col("tweets") / F.col("n")
    pmi = F.log(F.col("tweets") * F.col("n") / (F.col("n_a") * F.col("n_b")))
    npmi = F.when(p_ab < 1, pmi / -F.log(p_ab)).otherwise(F.lit(1.0))
    return (
        pairs.join(a, "tag_a")
        .join(b, "tag_b")
        .crossJoin(total)
        .select(
            F.col("tag_a").alias("src"),
            F.col("tag_b").alias("dst"),
            "tweets",
            pmi.alias("pmi"),
            npmi.alias("npmi"),
        )
    )


def with_weight(edges: DataFrame, weight: str) -> DataFrame:
    """Add `weight` from the tweet count or from positive PMI (edges whose PMI is not positive are dropped)."""
    if weight == "count":
        return edges.withColumn("weight", F.col("tweets").cast("double"))
    if weight == "pmi":
        return edges.where(F.col("pmi") > 0).withColumn("weight", F.col("pmi"))
    raise ValueError(f"edge weight must be 'count' or 'pmi', got {weight!r}")


def user_edges(
    links: DataFrame, tweets: DataFrame, users: DataFrame, kinds: Sequence[str], min_weight: int
) -> DataFrame:
    """src, dst (src < dst), weight and one count per kind, over retweets, quotes, replies and mentions."""
    unknown = sorted(set(kinds) - set(LINK_KINDS))
    if unknown:
        raise ValueError(f"unknown user link kinds {unknown}; known: {list(LINK_KINDS)}")
    parts = []
    linked = [k for k in kinds if k != "mention"]
    if linked:
        parts.append(
            links.where(F.col("link_type").isin(linked) & F.col("target_user_id").isNotNull()).select(
                F.col("source_user_id").alias("a"), F.col("target_user_id").alias("b"), F.col("link_type").alias("kind")
            )
        )
    if "mention" in kinds:
        # one id per screen name: the profile seen last
        latest = Window.partitionBy("name_key").orderBy(F.col("seen_at").desc_nulls_last(), F.col("user_id").desc())
        names = (
            users.select("user_id", F.lower("screen_name").alias("name_key"), "seen_at")
            .where(F.col("name_key").isNotNull())
            .withColumn("_r", F.row_number().over(latest))
            .where("_r = 1")
            .select(F.col("name_key"), F.col("user_id").alias("b"))
        )
        mentioned = tweets.select(
            F.col("user_id").alias("a"), F.explode(F.array_distinct(F.transform("mentions", F.lower))).alias("name_key")
        )
        parts.append(mentioned.join(names, "name_key").select("a", "b", F.lit("mention").alias("kind")))
    if not parts:
        raise ValueError("communities.user_links selects no kind of link")
    pairs = parts[0]
    for p in parts[1:]:
        pairs = pairs.unionByName(p)
    counts = [F.sum(F.when(F.col("kind") == k, 1).otherwise(0)).alias(_COUNT_COLUMNS[k]) for k in kinds]
    return (
        pairs.where(F.col("a").isNotNull() & F.col("b").isNotNull() & (F.col("a") != F.col("b")))
        .select(F.least("a", "b").alias("src"), F.greatest("a", "b").alias("dst"), "kind")
        .groupBy("src", "dst")
        .agg(F.count("*").cast("double").alias("weight"), *counts)
        .where(F.col("weight") >= min_weight)
    )
