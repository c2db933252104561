"""Study B's model: LightGBM on three features, trained on the weak `_bot` label, thresholded for a flag rate.

The weak label is noisy on both sides (some humans use the suffix, most bots do not), so the model
is a means to move from that label's precision to recall: it scores every user, and the threshold
is set so that a chosen share of accounts (2% by default) is flagged.

Example:
    >>> result = train_bot_model(features, BotModelConfig())  # doctest: +SKIP
    >>> result.metrics["validation_auc_weak_label"]  # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from vigie.errors import ConfigError
from vigie.models.flag_rule import TIE_KEYS, FlagRule, at_or_before
from vigie.ranks import first_k, kth_largest
from vigie.sampling import stable_uniform
from vigie.session import executor_cores

FEATURES = ["compression_ratio", "is_near_rate", "uniq_ratio"]


@dataclass(frozen=True)
class BotModelConfig:
    label_regex: str = "_bot$"  # matched case-insensitively against the screen name
    flag_rate: float = 0.02  # share of users to flag; ignored when target_recall is set
    target_recall: float = 0.0  # > 0: the highest threshold that reaches this recall of the weak label
    validation_fraction: float = 0.25
    max_depth: int = 3
    num_leaves: int = 3
    num_iterations: int = 400
    learning_rate: float = 0.05
    early_stopping_round: int = 30
    min_data_in_leaf: int = 5
    seed: int = 42
    listen_port: int = 12400  # LightGBM's task network; vary it between back-to-back fits
    num_threads: int = 0  # LightGBM threads per executor; 0: the executor's cores (see executor_cores)
    # How SynapseML hands rows to LightGBM. Three dense features make each partition's arrays small, so
    # bulk (one copy per partition) beats streaming's micro-batches: 15% faster on 1M rows, 40% on 36k.
    data_transfer: str = "bulk"  # bulk | streaming


@dataclass
class BotModelResult:
    scored: DataFrame  # features + weak_label, score, flagged, threshold
    model: object  # the fitted SynapseML LightGBMClassificationModel
    rule: FlagRule  # the threshold and how ties at it are flagged
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, object] = field(default_factory=dict)


def check_model_config(cfg: BotModelConfig) -> None:
    """Raise a `ConfigError` naming the first setting out of range."""
    if not 0 < cfg.flag_rate < 1:
        raise ConfigError(f"bots.flag_rate must be between 0 and 1 (got {cfg.flag_rate})")
    if not 0 <= cfg.target_recall <= 1:
        raise ConfigError(f"bots.target_recall must be between 0 and 1 (got {cfg.target_recall})")
    if cfg.data_transfer not in ("bulk", "streaming"):
        raise ConfigError(f"bots.data_transfer must be bulk or streaming (got {cfg.data_transfer!r})")
    if not 0 < cfg.validation_fraction < 0.5:
        raise ConfigError(f"bots.validation_fraction must be in (0, 0.5) (got {cfg.validation_fraction})")


def weak_label_pattern(label_regex: str) -> str:
    """The Java regex the weak label matches screen names with: the rule, case-insensitive."""
    return f"(?i){label_regex}"


def with_weak_label(features: DataFrame, label_regex: str) -> DataFrame:
    """Add `weak_label` (1.0 when the screen name matches the rule, case-insensitively)."""
    matches = F.col("screen_name").rlike(weak_label_pattern(label_regex))
    return features.withColumn("weak_label", F.coalesce(matches, F.lit(False)).cast("double"))


def with_validation_split(labelled: DataFrame, fraction: float, seed: int) -> DataFrame:
    """`is_validation`, stratified: exactly ceil(fraction * positives) weak positives, and a random share
    of the rest. A plain random split can leave a rare label out of validation, and AUC undefined.
    The draws hash each user_id with the seed, so the split does not depend on the partitioning; the
    positives with the smallest draws are found by counting, so they stay in their partitions."""
    draw = stable_uniform(seed, "user_id")
    positives = labelled.filter("weak_label = 1")
    draws = positives.select("user_id", draw.alias("_r")).cache()
    n_pos = draws.count()
    k = max(1, math.ceil(fraction * n_pos)) if n_pos > 1 else 0
    held = first_k(draws, "_r", "user_id", k)
    draws.unpersist()
    negatives = labelled.filter("weak_label = 0").withColumn(
        "is_validation", stable_uniform(seed + 1, "user_id") < fraction
    )
    return positives.withColumn("_r", draw).withColumn("is_validation", held).drop("_r").unionByName(negatives)


def train_bot_model(features: DataFrame, cfg: BotModelConfig) -> BotModelResult:
    """Fit LightGBM on the weak label with early stopping on a validation split; score and flag every user."""
    from synapse.ml.lightgbm import LightGBMClassifier

    check_model_config(cfg)
    spark = features.sparkSession
    threads = cfg.num_threads or executor_cores(spark)
    labelled = with_weak_label(features, cfg.label_regex)
    positives = labelled.filter("weak_label = 1").count()
    if positives < 2:
        raise ConfigError(
            f"only {positives} account(s) match the weak label {cfg.label_regex!r}: too few to train on; "
            "ingest more data or change bots.label_regex"
        )
    assembled = (
        VectorAssembler(inputCols=FEATURES, outputCol="features", handleInvalid="keep")
        .transform(with_validation_split(labelled, cfg.validation_fraction, cfg.seed))
        .cache()
    )
    params = {
        "objective": "binary",
        "metric": "auc",
        "maxDepth": cfg.max_depth,
        "numLeaves": cfg.num_leaves,
        "numIterations": cfg.num_iterations,
        "learningRate": cfg.learning_rate,
        "earlyStoppingRound": cfg.early_stopping_round,
        "minDataInLeaf": cfg.min_data_in_leaf,
        "isUnbalance": True,
        "seed": cfg.seed,
        "defaultListenPort": cfg.listen_port,
        "verbosity": -1,
        # Left to choose its own thread count, LightGBM trained 1.6x slower on 2 cores than with one
        # thread per executor core (benchmarks/bots.py).
        **({"numThreads": threads} if threads > 0 else {}),
        "dataTransferMode": cfg.data_transfer,
        "matrixType": "dense",  # every row has the three features (nulls as NaN): no sparse probing
    }
    model = LightGBMClassifier(
        featuresCol="features", labelCol="weak_label", validationIndicatorCol="is_validation", **params
    ).fit(assembled)
    # cached: the threshold, the flags and the metrics read the scores in about six passes, and each
    # would otherwise run every user through the model again
    scored = (
        model.transform(assembled)
        .select(
            "user_id",
            "screen_name",
            "tweet_count",
            *FEATURES,
            "weak_label",
            "is_validation",
            vector_to_array("probability")[1].alias("score"),
        )
        .cache()
    )
    rule = flag_rule(scored, cfg)
    out = flag(scored, rule)
    metrics = _metrics(out)
    return BotModelResult(out, model, rule, metrics, {**params, **asdict(cfg)})


def tie_break() -> list:
    """Between accounts with the same score, the stronger evidence goes first (`TIE_KEYS`)."""
    return [F.col(c).desc_nulls_last() if desc else F.col(c).asc_nulls_last() for c, desc in TIE_KEYS]


def flag_rule(scored: DataFrame, cfg: BotModelConfig) -> FlagRule:
    """The threshold and, for a flag rate, the cut among the accounts tied at it.

    The threshold is the score of the k-th account: k = the flag rate of all accounts, or the target
    recall of the weak positives. It is counted exactly, so the same scores give the same threshold
    however partitioned. With a rate, exactly k accounts are flagged. Shallow trees give few distinct
    scores, so `score >= threshold` can sweep in every account tied at the threshold (263 accounts,
    11%, instead of 46 on the demo). Ties are filled by evidence instead: the cut is the last tied
    account to flag, found as a distributed top-k of the ties, never a global sort. With a target
    recall, every account at the threshold is flagged.
    """
    if cfg.target_recall > 0:
        pos = scored.filter("weak_label = 1")
        return FlagRule(kth_largest(pos, "score", max(1, math.ceil(cfg.target_recall * pos.count()))))
    k = max(1, round(cfg.flag_rate * scored.count()))
    threshold = kth_largest(scored, "score", k)
    need = k - scored.filter(F.col("score") > threshold).count()
    cut = (
        scored.filter(F.col("score") == threshold)
        .select(*(c for c, _ in TIE_KEYS))
        .orderBy(*tie_break())
        .offset(need - 1)
        .first()
    )
    return FlagRule(threshold, cut.asDict())


def flag(scored: DataFrame, rule: FlagRule) -> DataFrame:
    """`flagged` and `threshold` columns, as `rule` says."""
    t = F.lit(rule.threshold)
    tied = F.col("score") == t
    if rule.tie_cut is not None:  # features are null, never NaN, so Spark's order and pandas' agree
        tied = tied & at_or_before(rule.tie_cut, F.col, lambda name: F.col(name).isNotNull())
    return scored.withColumn("flagged", (F.col("score") > t) | tied).withColumn("threshold", t)


def roc_points(df: DataFrame, label: str = "weak_label", score: str = "score", digits: int = 4) -> tuple:
    """(fpr, tpr) of `score` against the 0/1 `label`, from (0, 0) up, one point per distinct score
    once rounded to `digits` decimals. Exact at those thresholds; for scores in [0, 1], at most
    10**digits + 1 counts reach the driver, however many accounts there are."""
    import numpy as np

    s = F.round(F.col(score).cast("double"), digits)
    y = F.col(label).cast("double")
    counts = (
        df.filter(s.isNotNull() & ~F.isnan(s) & y.isNotNull())
        .groupBy(s.alias("s"))
        .agg(F.sum(y).alias("pos"), F.sum(1 - y).alias("neg"))
        .toPandas()
        .sort_values("s", ascending=False)
    )
    tp = np.concatenate([[0.0], counts["pos"].cumsum().to_numpy(dtype=float)])
    fp = np.concatenate([[0.0], counts["neg"].cumsum().to_numpy(dtype=float)])
    return (fp / fp[-1] if fp[-1] else fp * np.nan), (tp / tp[-1] if tp[-1] else tp * np.nan)


def _metrics(scored: DataFrame) -> dict[str, float]:
    val = scored.filter("is_validation")
    auc = BinaryClassificationEvaluator(rawPredictionCol="score", labelCol="weak_label").evaluate(val)
    row = scored.agg(
        F.count("*").alias("users"),
        F.sum(F.col("flagged").cast("int")).alias("flagged"),
        F.sum((F.col("flagged") & (F.col("weak_label") == 1)).cast("int")).alias("tp"),
        F.sum(F.col("weak_label")).alias("positives"),
        F.sum((F.col("flagged") & (F.col("weak_label") == 0)).cast("int")).alias("flagged_without_suffix"),
        F.sum((F.col("score") == F.col("threshold")).cast("int")).alias("tied_at_threshold"),
    ).first()
    flagged, tp, positives = row["flagged"] or 0, row["tp"] or 0, row["positives"] or 0
    return {
        "validation_auc_weak_label": auc,
        "users": float(row["users"]),
        "flagged": float(flagged),
        "flag_rate": flagged / row["users"] if row["users"] else 0.0,
        "precision_weak_label": tp / flagged if flagged else 0.0,
        "recall_weak_label": tp / positives if positives else 0.0,
        "flagged_without_suffix": float(row["flagged_without_suffix"] or 0),
        # accounts whose score equals the threshold: how many the tie cut had to choose among
        "tied_at_threshold": float(row["tied_at_threshold"] or 0),
    }
