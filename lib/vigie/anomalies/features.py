"""Tweet features for the Isolation Forest: TF-IDF over hashtags, mentions and retweet hashtags, plus time.

As in Study A, each tweet is described by its hashtags (`h:`), the screen names it mentions (`m:`)
and the hashtags of the tweet it retweets (`r:`), weighted by TF-IDF, and by a cyclic encoding of
its hour of day and day of week (UTC, whatever the session time zone).

SynapseML's Isolation Forest turns every vector into a dense array, so the vocabulary is capped
(`vocab_size`, `min_df`) and the TF-IDF vectors are projected on their first `pca_dims` principal
components: 20 doubles per tweet (16 + 4 for time) instead of 1,004. The stage logs the vocabulary size, the share of
term occurrences the vocabulary covers and the variance the components keep.

Everything is a Spark ML stage, so the fitted pipeline scores new tweets on its own.

Example:
    >>> model = feature_pipeline(["worldcup"], vocab_size=500, min_df=2, pca_dims=8).fit(tweets)  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pyspark.ml import Estimator, Pipeline, PipelineModel
from pyspark.ml.feature import IDF, PCA, CountVectorizerModel, SQLTransformer, VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from vigie.errors import InputError

TIME_COLUMNS = ["hour_sin", "hour_cos", "dow_sin", "dow_cos"]
# the silver/tweets columns feature_pipeline reads: the logged model's input signature
INPUT_COLUMNS = ["created_at", "hashtags", "mentions", "retweet_hashtags"]


def _quoted(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values)


def terms_sql(excluded: Sequence[str]) -> str:
    """SQL that adds `terms`: prefixed, lower-cased hashtags, mentions and retweet hashtags, minus the excluded."""
    drop = _quoted([f"{p}{t.lower()}" for t in excluded for p in ("h:", "r:")]) or "''"
    parts = [
        "transform(coalesce(hashtags, array()), x -> concat('h:', lower(x)))",
        "transform(coalesce(mentions, array()), x -> concat('m:', lower(x)))",
        "transform(coalesce(retweet_hashtags, array()), x -> concat('r:', lower(x)))",
    ]
    return f"filter(concat({', '.join(parts)}), t -> NOT array_contains(array({drop}), t))"


def time_sql() -> str:
    """Cyclic hour-of-day and day-of-week columns, computed from epoch seconds so they are UTC."""
    secs = "CAST(unix_timestamp(created_at) AS DOUBLE)"
    hour = f"(pmod({secs}, 86400.0) / 3600.0)"
    dow = f"pmod(floor({secs} / 86400.0) + 3, 7)"  # 1970-01-01 was a Thursday: Monday = 0
    two_pi = 2 * math.pi
    return (
        f"sin({two_pi} * {hour} / 24) AS hour_sin, cos({two_pi} * {hour} / 24) AS hour_cos, "
        f"sin({two_pi} * {dow} / 7) AS dow_sin, cos({two_pi} * {dow} / 7) AS dow_cos"
    )


class RankedVocabulary(Estimator):
    """CountVectorizer's vocabulary (the `vocab_size` terms most used, among those in at least `min_df`
    documents), with ties ranked by the term. Spark's CountVectorizer keeps whichever tied terms its
    partitions return first, so the same tweets split otherwise gave another vocabulary."""

    def __init__(self, input_col: str, output_col: str, vocab_size: int, min_df: int):
        super().__init__()
        self.input_col, self.output_col, self.vocab_size, self.min_df = input_col, output_col, vocab_size, min_df

    def vocabulary(self, dataset: DataFrame) -> list[str]:
        counted = F.transform(
            F.array_distinct(F.col(self.input_col)),
            lambda t: F.struct(t.alias("term"), F.size(F.filter(self.input_col, lambda x: x == t)).alias("n")),
        )
        rows = (
            dataset.select(F.explode(counted).alias("c"))
            .groupBy(F.col("c.term").alias("term"))
            .agg(F.sum("c.n").alias("uses"), F.count("*").alias("documents"))
            .where(F.col("documents") >= self.min_df)
            .orderBy(F.col("uses").desc(), "term")
            .limit(self.vocab_size)
            .collect()
        )
        return [r.term for r in rows]

    def _fit(self, dataset: DataFrame) -> CountVectorizerModel:
        vocabulary = self.vocabulary(dataset)
        if not vocabulary:
            raise InputError(f"no hashtag or mention occurs in {self.min_df} tweets or more: lower anomalies.min_df")
        return CountVectorizerModel.from_vocabulary(vocabulary, inputCol=self.input_col, outputCol=self.output_col)


def feature_pipeline(excluded: Sequence[str], vocab_size: int, min_df: int, pca_dims: int) -> Pipeline:
    """Unfitted pipeline: terms -> counts -> TF-IDF -> PCA -> + time -> `features`."""
    prepare = SQLTransformer(statement=f"SELECT *, {terms_sql(excluded)} AS terms, {time_sql()} FROM __THIS__")
    stages = [
        prepare,
        RankedVocabulary("terms", "tf", vocab_size, min_df),
        IDF(inputCol="tf", outputCol="tfidf"),
    ]
    text_col = "tfidf"
    if pca_dims > 0:
        stages.append(PCA(inputCol="tfidf", outputCol="tfidf_pca", k=pca_dims))
        text_col = "tfidf_pca"
    stages.append(VectorAssembler(inputCols=[text_col, *TIME_COLUMNS], outputCol="features"))
    return Pipeline(stages=stages)


def feature_report(model: PipelineModel, featurized: DataFrame) -> dict[str, float]:
    """What the dimension choices cost: vocabulary size, term coverage, PCA variance kept, vector width."""
    cv = next(s for s in model.stages if hasattr(s, "vocabulary"))
    pca = next((s for s in model.stages if hasattr(s, "explainedVariance")), None)
    row = featurized.agg(
        F.sum(F.size("terms")).alias("terms"),
        F.sum(F.aggregate(vector_to_array("tf"), F.lit(0.0), lambda a, x: a + x)).alias("covered"),
        F.avg(F.size("terms")).alias("terms_per_tweet"),
        F.avg((F.size("terms") == 0).cast("double")).alias("share_without_terms"),
    ).first()
    width = len(featurized.select("features").first()[0])
    report = {
        "vocabulary_size": float(len(cv.vocabulary)),
        "term_coverage": float(row["covered"] or 0) / max(1.0, float(row["terms"] or 0)),
        "terms_per_tweet": float(row["terms_per_tweet"] or 0),
        "share_without_terms": float(row["share_without_terms"] or 0),
        "forest_input_width": float(width),
        "dense_bytes_per_row": float(width * 8),
    }
    if pca is not None:
        report["pca_explained_variance"] = float(sum(pca.explainedVariance))
    return report
