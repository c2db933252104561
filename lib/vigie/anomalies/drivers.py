"""What drives an anomalous window: hashtags, users, amplified tweets, keywords, countries and languages.

For every key (a hashtag, an author, a retweeted or quoted tweet, a country, a language, a YAKE
keyword) the count in the window is set against the key's baseline: the median count over every
window at the same time of day (the window itself included: with a week of days or more it cannot
move the median, and other bursts at the same hour do not inflate it as a mean would). With the
window's tweet total and its own median baseline this gives:
- `share`: count / tweets in the window;
- `expected`: baseline share x tweets in the window;
- `excess`: count - expected, the extra tweets the key brought; drivers are ranked by it;
- `lift`: (count + 1) / (expected + 1).

Keywords come from Spark NLP's rule-based annotators only (no pretrained downloads): one document
per anomalous window (a sample of its tweets, one per line), DocumentAssembler -> SentenceDetector
(a line is a sentence) -> Tokenizer -> Normalizer -> StopWordsCleaner -> YakeKeywordExtraction; each
keyword is then counted in tweets like any other key.

Example:
    >>> d = drivers(key_counts(tweets_w, ["worldcup"]), activity_df, anomalous, top_n=10)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from vigie.anomalies.explore import kept_tags
from vigie.columns import collect_in_order
from vigie.sampling import stable_uniform

KINDS = ("hashtag", "user", "tweet", "country", "lang", "keyword")
STOPWORD_LANGUAGES = ["english", "spanish", "portuguese", "french", "german", "russian", "italian", "dutch"]
EXTRA_STOPWORDS = ["rt", "amp", "https", "http", "co", "via"]


def _events(tweets_w: DataFrame, kind: str, key: Column, label: Column) -> DataFrame:
    return tweets_w.select(
        "window_start", "phase", F.lit(kind).alias("kind"), key.cast("string").alias("key"), label.alias("label")
    ).where(F.col("key").isNotNull() & (F.col("key") != ""))


def key_counts(tweets_w: DataFrame, excluded: Sequence[str]) -> DataFrame:
    """(window_start, phase, kind, key, label, count) for every key but keywords."""
    tag = F.explode(kept_tags(excluded))
    tags = tweets_w.select("window_start", "phase", tag.alias("key")).select(
        "window_start", "phase", F.lit("hashtag").alias("kind"), "key", F.concat(F.lit("#"), "key").alias("label")
    )
    amplified = F.coalesce("retweeted_tweet_id", "quoted_tweet_id")
    original_text = F.regexp_replace("text", r"^RT @\w+: ", "")
    events = (
        tags.unionByName(_events(tweets_w, "user", F.col("user_id"), F.concat(F.lit("@"), "screen_name")))
        .unionByName(_events(tweets_w, "tweet", amplified, F.substring(original_text, 1, 200)))
        .unionByName(_events(tweets_w, "country", F.col("country_code"), F.col("country_code")))
        .unionByName(_events(tweets_w, "lang", F.col("lang"), F.col("lang")))
    )
    return events.groupBy("window_start", "phase", "kind", "key").agg(
        F.count("*").alias("count"), F.max("label").alias("label")
    )


def clean_text() -> Column:
    """Tweet text for keywords: no RT prefix, URLs, mentions, hashtags or HTML entities."""
    t = F.regexp_replace("text", r"^RT @\w+:\s*", "")
    t = F.regexp_replace(t, r"https?://\S+", " ")
    t = F.regexp_replace(t, r"[@#＃]\w+", " ")
    t = F.regexp_replace(t, r"&\w+;", " ")
    return F.trim(F.regexp_replace(t, r"\s+", " "))


def keyword_pipeline(n_keywords: int):
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import StopWordsRemover
    from sparknlp.annotator import (
        Normalizer,
        SentenceDetector,
        StopWordsCleaner,
        Tokenizer,
        YakeKeywordExtraction,
    )
    from sparknlp.base import DocumentAssembler

    stop = sorted({w for lang in STOPWORD_LANGUAGES for w in StopWordsRemover.loadDefaultStopWords(lang)})
    stop += EXTRA_STOPWORDS
    return Pipeline(
        stages=[
            DocumentAssembler().setInputCol("doc").setOutputCol("document"),
            SentenceDetector()
            .setInputCols(["document"])
            .setOutputCol("sentence")
            .setCustomBounds(["\n"])
            .setUseCustomBoundsOnly(True),
            Tokenizer().setInputCols(["sentence"]).setOutputCol("token"),
            Normalizer().setInputCols(["token"]).setOutputCol("normal").setLowercase(True),
            StopWordsCleaner().setInputCols(["normal"]).setOutputCol("clean").setStopWords(stop),
            YakeKeywordExtraction()
            .setInputCols(["clean"])
            .setOutputCol("keywords")
            .setMinNGrams(1)
            .setMaxNGrams(2)
            .setNKeywords(n_keywords)
            .setStopWords(stop),
        ]
    )


def window_keywords(tweets_w: DataFrame, anomalous: DataFrame, n_keywords: int, max_tweets: int, seed: int):
    """YAKE keywords of each anomalous window: (window_start, phase, keyword, yake_score)."""
    ranked = (
        tweets_w.join(F.broadcast(anomalous.select("window_start")), "window_start")
        .select("window_start", "phase", "tweet_id", clean_text().alias("clean"))
        .where(F.length("clean") > 0)
        .withColumn("_u", stable_uniform(seed, "tweet_id"))
        .withColumn("r", F.row_number().over(Window.partitionBy("window_start").orderBy("_u", "tweet_id")))
        .where(F.col("r") <= max_tweets)
    )
    # in draw order: YAKE weighs where a word first appears, so the document's order must not follow the shuffle
    docs = ranked.groupBy("window_start", "phase").agg(F.array_join(collect_in_order("r", "clean"), "\n").alias("doc"))
    model = keyword_pipeline(n_keywords).fit(docs)
    out = model.transform(docs).select(
        "window_start", "phase", F.explode(F.arrays_zip("keywords.result", "keywords.metadata")).alias("k")
    )
    return (
        out.select(
            "window_start",
            "phase",
            F.lower(F.col("k.result")).alias("keyword"),
            F.col("k.metadata").getItem("score").cast("double").alias("yake_score"),
        )
        .groupBy("window_start", "phase", "keyword")
        .agg(F.min("yake_score").alias("yake_score"))
    )


def keyword_counts(tweets_w: DataFrame, keywords: DataFrame) -> DataFrame:
    """Tweets containing each keyword, in every window at the phases of the anomalous windows."""
    per_phase = keywords.select("phase", "keyword").distinct()
    texts = tweets_w.join(F.broadcast(per_phase.select("phase").distinct()), "phase").select(
        "window_start", "phase", F.lower(clean_text()).alias("clean")
    )
    hits = texts.join(F.broadcast(per_phase), "phase").where(F.expr("instr(clean, keyword) > 0"))
    return (
        hits.groupBy("window_start", "phase", F.col("keyword").alias("key"))
        .agg(F.count("*").alias("count"))
        .select("window_start", "phase", F.lit("keyword").alias("kind"), "key", "count", F.col("key").alias("label"))
    )


def _median_with_zeros(values: Column, n: Column) -> Column:
    """Median of `values` padded with zeros up to `n` entries (windows where the key did not occur)."""
    missing = F.greatest(n - F.size(values), F.lit(0)).cast("int")
    padded = F.array_sort(F.concat(values.cast("array<double>"), F.array_repeat(F.lit(0.0), missing)))
    mid = F.size(padded)
    lower = F.element_at(padded, F.floor((mid + 1) / 2).cast("int"))
    upper = F.element_at(padded, F.floor(mid / 2 + 1).cast("int"))
    return (lower + upper) / 2.0


def drivers(counts: DataFrame, activity: DataFrame, anomalous: DataFrame, top_n: int) -> DataFrame:
    """Rank the keys of each anomalous window by the tweets they add over their same-hour baseline."""
    phases = activity.groupBy("phase").agg(
        F.count("*").alias("n_windows"), F.collect_list("tweets").alias("phase_tweets")
    )
    window_info = (
        activity.join(F.broadcast(anomalous.select("window_start")), "window_start")
        .join(phases, "phase")
        .select(
            "window_start",
            "phase",
            "n_windows",
            F.col("tweets").alias("window_tweets"),
            _median_with_zeros(F.col("phase_tweets"), F.col("n_windows")).alias("baseline_tweets"),
        )
    )
    anomalous_keys = (
        counts.join(F.broadcast(window_info.select("window_start")), "window_start")
        .select("phase", "kind", "key")
        .distinct()
    )
    history = (
        counts.join(anomalous_keys, ["phase", "kind", "key"])
        .groupBy("phase", "kind", "key")
        .agg(F.collect_list("count").alias("counts"))
    )
    rows = (
        counts.join(F.broadcast(window_info), ["window_start", "phase"])
        .join(history, ["phase", "kind", "key"])
        .withColumn("baseline_count", _median_with_zeros(F.col("counts"), F.col("n_windows")))
        .withColumn("share", F.col("count") / F.col("window_tweets"))
        .withColumn(
            "baseline_share",
            F.when(F.col("baseline_tweets") > 0, F.col("baseline_count") / F.col("baseline_tweets")).otherwise(0.0),
        )
        .withColumn("expected", F.col("baseline_share") * F.col("window_tweets"))
        .withColumn("excess", F.col("count") - F.col("expected"))
        .withColumn("lift", (F.col("count") + 1) / (F.col("expected") + 1))
        .where(F.col("excess") > 0)
    )
    rank = Window.partitionBy("window_start", "kind").orderBy(F.col("excess").desc(), F.col("key"))
    return (
        rows.withColumn("rank", F.row_number().over(rank))
        .where(F.col("rank") <= top_n)
        .select(
            "window_start",
            "kind",
            "rank",
            "key",
            "label",
            "count",
            F.round("share", 4).alias("share"),
            F.round("baseline_count", 2).alias("baseline_count"),
            F.round("baseline_share", 4).alias("baseline_share"),
            F.round("expected", 2).alias("expected"),
            F.round("excess", 2).alias("excess"),
            F.round("lift", 3).alias("lift"),
        )
    )
