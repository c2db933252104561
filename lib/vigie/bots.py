"""The bots stage: silver/tweets -> gold/user_features, gold/bot_scores, exports/blocklist.csv, an MLflow run.

Example:
    >>> summary = run_bots(spark, "lake/", load_config().bots, load_config().mlflow)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from vigie import schema as S
from vigie import tables, tracking
from vigie.columns import collect_in_order
from vigie.config import BotsConfig, MlflowConfig
from vigie.errors import ConfigError, InputError
from vigie.features.bots import FEATURE_SQL_CONF, BotFeatureConfig, user_features
from vigie.models.bots import (
    FEATURES,
    BotModelConfig,
    BotModelResult,
    check_model_config,
    roc_points,
    tie_break,
    train_bot_model,
    weak_label_pattern,
)
from vigie.ranks import percent_below
from vigie.session import sql_conf

USER_FEATURES = "gold/user_features"
BOT_SCORES = "gold/bot_scores"
BLOCKLIST = "exports/blocklist.csv"
REGISTERED_MODEL = "vigie-bots"
# rows per part of the block list as the driver writes it (it holds two parts at most): with three
# tweets of up to 280 characters each, a part is at most a few tens of MB
BLOCKLIST_ROWS_PER_PART = 20_000


def blocklist(scores: DataFrame, tweets: DataFrame, samples: int = 3) -> DataFrame:
    """Flagged users sorted by score, with the evidence: features, their percentile ranks, sample tweets."""
    flagged = scores.filter("flagged")
    ranked = percent_below(scores, flagged, list(FEATURES))
    latest = Window.partitionBy("user_id").orderBy(F.col("created_at").desc(), F.col("tweet_id").desc())
    sample = (
        tweets.join(flagged.select("user_id"), "user_id")
        .withColumn("n", F.row_number().over(latest))
        .filter(F.col("n") <= samples)
        .groupBy("user_id")
        .agg(F.array_join(collect_in_order("n", F.regexp_replace("text", r"\s+", " ")), " || ").alias("sample_tweets"))
    )
    return (
        ranked.join(sample, "user_id", "left")
        .select(
            "user_id",
            "screen_name",
            F.round("score", 4).alias("score"),
            F.col("weak_label").cast("int").alias("has_bot_suffix"),
            "tweet_count",
            *[F.round(f, 4).alias(f) for f in FEATURES],
            *[f"{f}_pct" for f in FEATURES],
            "sample_tweets",
        )
        .orderBy(*blocklist_order())
    )


def blocklist_order() -> list:
    """The block list's order: best score first, then the order the flags were given in."""
    return [F.col("score").desc(), *tie_break()]


def _log_model(result: BotModelResult) -> dict[str, str]:
    """Log params, metrics, importances, ROC plot and the native LightGBM model (registered) to MLflow."""
    import lightgbm
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mlflow
    from mlflow.models import infer_signature

    mlflow.log_params({k: v for k, v in result.params.items() if k != "defaultListenPort"})
    mlflow.log_metrics(result.metrics)
    mlflow.log_metric("threshold", result.rule.threshold)
    importances = dict(zip(FEATURES, result.model.getFeatureImportances("gain"), strict=True))
    mlflow.log_dict(importances, "feature_importance.json")
    val = result.scored.filter("is_validation")
    fpr, tpr = roc_points(val)  # counts by rounded score: a quarter of the accounts stay off the driver
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(fpr, tpr, label=f"AUC {result.metrics['validation_auc_weak_label']:.3f}")
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="Bot model, validation (weak label)")
    ax.legend(loc="lower right")
    mlflow.log_figure(fig, "roc_validation.png")
    plt.close(fig)
    booster = lightgbm.Booster(model_str=result.model.getNativeModel())
    rule = result.rule.to_dict()
    mlflow.log_text(booster.model_to_string(), "native/bot_model.txt")  # what booster.save_model writes
    mlflow.log_dict({**rule, "features": FEATURES}, "native/flag_rule.json")
    # declared from a few validation rows: the three features in, the bot probability out
    example = val.select(*FEATURES).limit(5).toPandas()
    signature = infer_signature(example, booster.predict(example))
    info = mlflow.lightgbm.log_model(
        booster,
        name="model",
        registered_model_name=REGISTERED_MODEL,
        signature=signature,
        metadata={"flag_rule": rule},  # the model comes with what it takes to flag as the run did
    )
    return {"model_uri": info.model_uri}


def check_config(spark: SparkSession, cfg: BotsConfig) -> tuple[BotFeatureConfig, BotModelConfig]:
    """The stage's settings as the feature and model configs, checked before any work is done, so that a
    mistake fails at once with the setting's name, not as a JVM error once the features are computed."""
    if cfg.min_tweets < 1 or cfg.max_tweets < 1:
        raise ConfigError(
            f"bots.min_tweets and bots.max_tweets must be at least 1 (got {cfg.min_tweets}, {cfg.max_tweets})"
        )
    if cfg.period_seconds < 1:
        raise ConfigError(f"bots.period_seconds must be at least 1 (got {cfg.period_seconds})")
    if not 0 <= cfg.tolerance_seconds < cfg.period_seconds / 2:
        raise ConfigError(
            f"bots.tolerance_seconds must be at least 0 and under half of bots.period_seconds ({cfg.period_seconds}), "
            f"else every gap is near the grid (got {cfg.tolerance_seconds})"
        )
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import IllegalArgumentException

    try:  # with Java's regex engine, which runs it (its syntax is not Python's), as the weak label uses it
        spark.sparkContext._jvm.java.util.regex.Pattern.compile(weak_label_pattern(cfg.label_regex))
    except (IllegalArgumentException, Py4JJavaError) as exc:  # a PatternSyntaxException, as PySpark raises it
        reason = str(getattr(exc, "java_exception", exc)).splitlines()[0]
        raise ConfigError(f"bots.label_regex {cfg.label_regex!r} is not a valid regular expression: {reason}") from None
    model_cfg = BotModelConfig(
        label_regex=cfg.label_regex,
        flag_rate=cfg.flag_rate,
        target_recall=cfg.target_recall,
        data_transfer=cfg.data_transfer,
    )
    check_model_config(model_cfg)
    return BotFeatureConfig(cfg.min_tweets, cfg.max_tweets, cfg.period_seconds, cfg.tolerance_seconds), model_cfg


def run_bots(spark: SparkSession, lakehouse: str, cfg: BotsConfig, mlflow_cfg: MlflowConfig) -> dict:
    """Compute features, train and threshold the model, write gold tables and the block list, log the run."""
    tracking.tracking_uri(mlflow_cfg, lakehouse)  # fails now, not after the work, when MLflow has nowhere to go
    feature_cfg, model_cfg = check_config(spark, cfg)
    tweets_path = tables.table_path(lakehouse, S.TWEETS)
    if not tables.exists(spark, tweets_path):
        raise InputError(
            f"no silver/tweets table under {lakehouse}: run `vigie ingest ... --lakehouse {lakehouse}` first"
        )
    tweets_version = tables.version(spark, tweets_path)  # read one version, and log that one
    tweets = spark.read.format("delta").option("versionAsOf", tweets_version).load(tweets_path)
    feats = user_features(tweets, feature_cfg)
    with sql_conf(spark, FEATURE_SQL_CONF):
        tables.overwrite(feats, tables.table_path(lakehouse, USER_FEATURES))
    feats = spark.read.format("delta").load(tables.table_path(lakehouse, USER_FEATURES))
    import mlflow

    with tracking.stage_run(mlflow_cfg, lakehouse, "bots") as run:
        versions = tracking.log_input_versions({S.TWEETS: tweets_version})
        result = train_bot_model(feats, model_cfg)
        tables.overwrite(result.scored, tables.table_path(lakehouse, BOT_SCORES))
        scores = spark.read.format("delta").load(tables.table_path(lakehouse, BOT_SCORES))
        dest_dir, name = os.path.split(tables.table_path(lakehouse, BLOCKLIST))
        local = os.path.join(tables.staging_dir(dest_dir), name)
        parts = math.ceil(result.metrics["flagged"] / BLOCKLIST_ROWS_PER_PART)
        blocklisted = tables.write_csv(blocklist(scores, tweets), local, blocklist_order(), parts)
        (path,) = tables.publish(spark, [local], dest_dir)
        logged = _log_model(result)
        mlflow.log_artifact(local, "exports")
        mlflow.log_dict(asdict(cfg), "config_bots.json")
    return {
        "mlflow_run_id": run.info.run_id,
        "blocklist": path,
        "blocklisted": blocklisted,
        "threshold": result.rule.threshold,
        **{k: round(v, 4) for k, v in result.metrics.items()},
        "input_versions": versions,
        **logged,
    }
