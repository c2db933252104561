"""The anomalies stage (Study A): when did activity turn abnormal, which tweets and keys drive it, where.

silver/tweets -> gold/hashtag_counts, gold/hashtag_hourly, gold/user_activity, gold/hashtag_pairs,
gold/tweet_scores, gold/activity, gold/anomaly_drivers, reports/anomalies/*.png, and one MLflow run
(a nested run per tuning trial; the model registered as `vigie-anomalies`).

Two detectors vote on each window:
- the volume detector: a seasonal robust z-score of the tweet count (volume.py);
- the Isolation Forest: the share of the window's tweets it calls outliers, scored the same way.
A window is anomalous when its volume score passes `z_threshold`, or when the two scores together
do: (volume z + share z) / sqrt(2) >= z_threshold, which is again a z-score when both are.

Example:
    >>> summary = run_anomalies(spark, "lake/", load_config().anomalies, load_config().mlflow)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict

import numpy as np
import pandas as pd
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from vigie import schema as S
from vigie import tables, tracking
from vigie import versions as V
from vigie.anomalies import drivers as D
from vigie.anomalies import explore as E
from vigie.anomalies import plots
from vigie.anomalies.features import INPUT_COLUMNS, feature_pipeline, feature_report
from vigie.anomalies.forest import (
    FLAG_COL,
    SCORE_COL,
    ForestParams,
    TuneConfig,
    check_objective,
    isolation_forest,
    tune,
)
from vigie.anomalies.volume import flags, seasonal_robust_z
from vigie.config import AnomaliesConfig, MlflowConfig
from vigie.errors import ConfigError, InputError
from vigie.sampling import stable_layout, stable_uniform

REGISTERED_MODEL = "vigie-anomalies"
GOLD = {
    "hashtag_counts": "gold/hashtag_counts",
    "hashtag_hourly": "gold/hashtag_hourly",
    "user_activity": "gold/user_activity",
    "hashtag_pairs": "gold/hashtag_pairs",
    "tweet_scores": "gold/tweet_scores",
    "activity": "gold/activity",
    "anomaly_drivers": "gold/anomaly_drivers",
}
REPORTS = "reports/anomalies"
TWEET_COLUMNS = [
    "tweet_id", "created_at", "date", "user_id", "screen_name", "lang", "country_code", "is_retweet", "is_quote",
    "is_reply", "retweeted_tweet_id", "quoted_tweet_id", "hashtags", "mentions", "retweet_hashtags", "text",
]  # fmt: skip


def _validate(cfg: AnomaliesConfig) -> int:
    try:
        seconds = E.window_seconds(cfg.window)
    except ValueError as exc:
        raise ConfigError(f"anomalies.window: {exc}") from exc
    if cfg.exclude_mode not in ("hashtag", "tweet"):
        raise ConfigError(f"anomalies.exclude_mode must be 'hashtag' or 'tweet', got {cfg.exclude_mode!r}")
    if cfg.direction not in ("up", "both"):
        raise ConfigError(f"anomalies.direction must be 'up' or 'both', got {cfg.direction!r}")
    if cfg.trials < 1:
        raise ConfigError("anomalies.trials must be at least 1")
    check_objective(cfg.objective)  # else found only by the tuning, after the features
    return seconds


def score_activity(act: pd.DataFrame, per_day: int, cfg: AnomaliesConfig) -> pd.DataFrame:
    """Add volume_score, share_score, combined_score, is_anomalous and rank to the activity series."""
    act = act.sort_values("window_start").reset_index(drop=True)
    act["outlier_share"] = np.where(act["tweets"] > 0, act["outliers"] / act["tweets"].clip(lower=1), 0.0)
    act["volume_score"] = seasonal_robust_z(act["tweets"], per_day, cfg.seasonal_cycles, cfg.smooth)
    share = seasonal_robust_z(act["outlier_share"] * 100, per_day, cfg.seasonal_cycles, cfg.smooth)
    act["share_score"] = share
    act["combined_score"] = (act["volume_score"] + act["share_score"]) / math.sqrt(2)
    volume_flag = flags(act["volume_score"].to_numpy(), cfg.z_threshold, cfg.direction)
    joint_flag = flags(act["combined_score"].to_numpy(), cfg.z_threshold, cfg.direction)
    act["volume_flag"] = volume_flag
    act["is_anomalous"] = volume_flag | joint_flag
    both = cfg.direction == "both"
    volume, combined = act["volume_score"], act["combined_score"]
    strength = np.maximum(volume.abs() if both else volume, combined.abs() if both else combined)
    act["rank"] = pd.Series(strength).rank(ascending=False, method="first").astype(int)
    return act


def _read_tweets(spark: SparkSession, lakehouse: str) -> tuple[DataFrame, int]:
    path = tables.table_path(lakehouse, S.TWEETS)
    if not tables.exists(spark, path):
        raise InputError(
            f"no silver/tweets table under {lakehouse}: run `vigie ingest ... --lakehouse {lakehouse}` first"
        )
    version = tables.version(spark, path)
    return spark.read.format("delta").option("versionAsOf", version).load(path).select(*TWEET_COLUMNS), version


def _labels(spark: SparkSession, lakehouse: str, cfg: AnomaliesConfig) -> DataFrame | None:
    if cfg.objective != "auc":
        return None
    if not cfg.labels_table:
        raise ConfigError("anomalies.objective=auc needs anomalies.labels_table (a Delta table of tweet_id, label)")
    path = tables.resolve(lakehouse, cfg.labels_table)
    if not tables.exists(spark, path):
        raise InputError(f"anomalies.labels_table {cfg.labels_table}: no Delta table at {path}")
    return spark.read.format("delta").load(path).select("tweet_id", F.col("label").cast("double"))


def run_anomalies(spark: SparkSession, lakehouse: str, cfg: AnomaliesConfig, mlflow_cfg: MlflowConfig) -> dict:
    """Exploration tables, features, tuned Isolation Forest, volume detector, drivers, plots, MLflow."""
    import mlflow

    seconds = _validate(cfg)
    tracking.tracking_uri(mlflow_cfg, lakehouse)  # fails now, not after the work, when MLflow has nowhere to go
    per_day = E.DAY // seconds
    excluded = E.excluded_list(cfg.exclude_hashtags)
    started = time.time()
    timings: dict[str, float] = {}
    lap = _Lap(timings)
    raw, tweets_version = _read_tweets(spark, lakehouse)
    labels = _labels(spark, lakehouse, cfg)  # a missing labels table fails here, not after the features
    path = lambda name: tables.table_path(lakehouse, GOLD[name])  # noqa: E731

    drop_tweets = cfg.exclude_mode == "tweet" and bool(excluded)
    tweets = raw
    if drop_tweets:  # the study's way: drop the tweets themselves
        tweets = raw.where(~F.arrays_overlap(E.lower_tags(), F.array(*[F.lit(t) for t in excluded])))
    tweets_w = E.with_windows(tweets, seconds).cache()
    n_tweets = tweets_w.count()
    # hashtag_counts covers every tweet: the cached table when nothing was dropped, else one more pass
    counted = (raw, None) if drop_tweets else (tweets_w, n_tweets)
    tables.overwrite(E.hashtag_counts(counted[0], excluded, counted[1]), path("hashtag_counts"))
    if n_tweets == 0:
        raise InputError("silver/tweets holds no tweet to analyse (after the exclusion list)")

    with tracking.stage_run(mlflow_cfg, lakehouse, "anomalies") as run:
        versions = tracking.log_input_versions({S.TWEETS: tweets_version})
        mlflow.log_params({f"anomalies.{k}": v for k, v in asdict(cfg).items()})
        act_counts = E.activity(tweets_w, seconds).cache()
        n_windows = act_counts.count()
        tables.overwrite(E.hashtag_hourly(tweets_w, excluded, n_windows), path("hashtag_hourly"))
        tables.overwrite(E.user_activity(tweets_w), path("user_activity"))
        tables.overwrite(E.hashtag_pairs(tweets_w, excluded), path("hashtag_pairs"))
        lap("exploration")

        # features and model
        features_model = feature_pipeline(excluded, cfg.vocab_size, cfg.min_df, cfg.pca_dims).fit(tweets_w)
        featurized = features_model.transform(tweets_w).cache()
        report = feature_report(features_model, featurized)
        mlflow.log_metrics({f"features.{k}": v for k, v in report.items()})
        lap("features")
        pool = featurized if labels is None else featurized.join(labels, "tweet_id")
        fraction = min(1.0, cfg.tuning_rows / max(1, n_tweets if labels is None else pool.count()))
        sample = pool.where(stable_uniform(cfg.seed, "tweet_id") < fraction).select(
            "tweet_id", "features", *(["label"] if labels is not None else [])
        )
        tune_cfg = TuneConfig(
            objective=cfg.objective,
            trials=cfg.trials,
            seed=cfg.seed,
            draws=cfg.emmv_draws,
            dims=cfg.emmv_dims,
            uniform=cfg.emmv_uniform,
        )

        def log_trial(number: int, params: ForestParams, value: float, detail: dict) -> None:
            with mlflow.start_run(run_name=f"trial-{number}", nested=True, tags={"vigie.stage": "anomalies.tuning"}):
                mlflow.log_params({**params.as_mlflow(), "objective": cfg.objective})
                mlflow.log_metrics({f"objective_{cfg.objective}": value, **detail})

        tuned = tune(sample, tune_cfg, on_trial=log_trial, key="tweet_id")
        mlflow.log_params({f"best.{k}": v for k, v in tuned.best.as_mlflow().items()})
        mlflow.log_metric(f"best_objective_{cfg.objective}", tuned.best_value)
        mlflow.log_dict({"trials": tuned.trials}, "tuning/trials.json")
        lap("tuning")

        # the same forest from the same tweets and seed, however the scan split them
        forest_model = isolation_forest(tuned.best, cfg.seed).fit(
            stable_layout(featurized.select("tweet_id", "features"), "tweet_id", n_tweets)
        )
        model = PipelineModel(stages=[*features_model.stages, forest_model])
        scored = forest_model.transform(featurized).select(
            "tweet_id", "created_at", "date", "window_start", SCORE_COL, F.col(FLAG_COL).cast("boolean").alias(FLAG_COL)
        )
        tables.overwrite(scored, path("tweet_scores"), partition_by="date")
        scores = spark.read.format("delta").load(path("tweet_scores"))
        lap("forest")

        # windows: both detectors
        outliers = scores.groupBy("window_start").agg(F.sum(F.col(FLAG_COL).cast("int")).alias("outliers"))
        act_pd = act_counts.join(outliers, "window_start", "left").fillna(0, ["outliers"]).toPandas()
        act_pd = score_activity(act_pd, per_day, cfg)
        act_df = spark.createDataFrame(act_pd)
        tables.overwrite(act_df, path("activity"))
        act_df = spark.read.format("delta").load(path("activity"))
        anomalous = act_df.where("is_anomalous").select("window_start", "phase")
        n_anomalous = anomalous.count()
        lap("windows")

        # drivers
        counts = D.key_counts(tweets_w, excluded)
        if n_anomalous:
            kws = D.window_keywords(tweets_w, anomalous, cfg.keywords, cfg.keyword_max_tweets, cfg.seed)
            counts = counts.unionByName(D.keyword_counts(tweets_w, kws))
        counts = counts.cache()  # read three times by drivers(); YAKE must not run three times
        tables.overwrite(D.drivers(counts, act_df, anomalous, cfg.top_drivers), path("anomaly_drivers"))
        counts.unpersist()
        lap("drivers")

        figures = _plots(spark, lakehouse, act_pd, cfg, n_windows, seconds)
        for fig in figures:
            mlflow.log_artifact(fig, "plots")
        figures = tables.publish(spark, figures, tables.table_path(lakehouse, REPORTS))
        lap("plots")
        mlflow.log_metrics(
            {
                "tweets": float(n_tweets),
                "windows": float(n_windows),
                "anomalous_windows": float(n_anomalous),
                "outlier_share": float(act_pd["outliers"].sum() / max(1, n_tweets)),
                "seconds": time.time() - started,  # before model logging
            }
        )
        logged = _log_model(model, versions, tweets_w.select(*INPUT_COLUMNS).limit(5))
        lap("model_logging")
        mlflow.log_metrics({f"seconds.{k}": v for k, v in timings.items()})
        tweets_w.unpersist()
        featurized.unpersist()
        act_counts.unpersist()
    top = act_pd[act_pd["is_anomalous"]].sort_values("rank")
    return {
        "mlflow_run_id": run.info.run_id,
        "tweets": n_tweets,
        "windows": n_windows,
        "anomalous_windows": n_anomalous,
        "top_windows": [str(t) for t in top["window_start"].head(5)],
        "best_params": tuned.best.as_mlflow(),
        f"best_{cfg.objective}": round(tuned.best_value, 4),
        "features": {k: round(v, 4) for k, v in report.items()},
        "input_versions": versions,
        "seconds": {k: round(v, 1) for k, v in timings.items()},
        "reports": os.path.dirname(figures[0]) if figures else None,
        **logged,
    }


class _Lap:
    """Seconds spent in each step, logged as metrics (where a slow run spends its time)."""

    def __init__(self, into: dict[str, float]):
        self.into, self.last = into, time.time()

    def __call__(self, step: str) -> None:
        now = time.time()
        self.into[step] = now - self.last
        self.last = now


def _plots(spark, lakehouse, act_pd, cfg, n_windows, seconds) -> list[str]:
    base = tables.staging_dir(tables.table_path(lakehouse, REPORTS))  # matplotlib writes local files
    read = lambda name: spark.read.format("delta").load(tables.table_path(lakehouse, GOLD[name]))  # noqa: E731
    counts = read("hashtag_counts").orderBy(F.col("tweets").desc()).limit(30).toPandas()
    hourly = read("hashtag_hourly").groupBy("hashtag", "hour_of_day").agg(F.sum("tweets").alias("tweets")).toPandas()
    pairs = read("hashtag_pairs").orderBy(F.col("tweets").desc()).limit(2000).toPandas()
    n_days = n_windows * seconds / E.DAY
    return [
        plots.activity_plot(act_pd, os.path.join(base, "activity.png"), cfg.z_threshold),
        plots.top_hashtags_plot(counts, os.path.join(base, "top_hashtags.png")),
        plots.hashtag_hourly_plot(hourly, n_days, os.path.join(base, "hashtag_hourly.png")),
        plots.cooccurrence_plot(pairs, os.path.join(base, "cooccurrence.png")),
    ]


def load_model(model_uri: str) -> PipelineModel:
    """The logged pipeline (features + forest), e.g. `models:/vigie-anomalies/1`, in any Python process.

    PySpark maps a saved stage's Java class to a Python module by name; SynapseML's stages need its
    patch of that mapping, which only importing SynapseML installs. Without it a fresh process fails
    with "No module named 'com.microsoft'".
    """
    import mlflow
    import synapse.ml.isolationforest  # noqa: F401  (installs SynapseML's JavaParams._from_java patch)

    return mlflow.spark.load_model(model_uri)


def _log_model(model: PipelineModel, versions: dict, sample: DataFrame) -> dict[str, str]:
    """Log the fitted pipeline (features + forest) as a Spark MLflow model, registered, tagged with its inputs.

    `sample` holds a few input rows: the signature is inferred from them and from what the pipeline
    makes of them (the tweet columns it reads in; score and flag out).
    """
    import mlflow
    from mlflow.models import infer_signature
    from mlflow.tracking import MlflowClient

    signature = infer_signature(sample, model.transform(sample).select(SCORE_COL, FLAG_COL))
    info = mlflow.spark.log_model(
        model,
        "model",
        registered_model_name=REGISTERED_MODEL,
        signature=signature,
        pip_requirements=V.pip_requirements("pyspark", "synapseml", "mlflow"),
    )
    client = MlflowClient()
    version = info.registered_model_version
    if version is not None:
        for table, v in versions.items():
            client.set_model_version_tag(REGISTERED_MODEL, str(version), f"input.{table}.delta_version", str(v))
    return {"model_uri": info.model_uri, "registered_version": str(version)}
