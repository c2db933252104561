"""Typed configuration: defaults here, `conf/vigie.yaml` for users, `--set section.key=value` on the command line.

Example:
    >>> cfg = load_config(overrides=["ingest.split_mb=32"])
    >>> cfg.ingest.split_mb
    32
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from vigie.errors import ConfigError

DEFAULT_CONF = os.path.join("conf", "vigie.yaml")

# What spark.driver.memory takes: a number of MiB, or one with a unit (Spark's JavaUtils.byteStringAs).
_BYTE_SIZE = re.compile(r"^\d+(b|k|kb|m|mb|g|gb|t|tb)?$")


def driver_memory_setting(value: Any) -> str:
    """`spark.driver_memory` checked and lower-cased: a size such as 8g or 512m, or "auto"."""
    text = str(value).strip().lower()
    if text != "auto" and not _BYTE_SIZE.match(text):
        raise ConfigError(f"spark.driver_memory must be a size such as 8g or 512m, or auto; got {value!r}")
    return text


@dataclass
class SparkConfig:
    app_name: str = "vigie"
    master: str = "local[*]"  # ignored under spark-submit and on Databricks
    shuffle_partitions: int = 8
    driver_memory: str = "auto"  # local runs: the JVM heap, e.g. 8g; auto = half the machine's memory


@dataclass
class GenerateConfig:
    tweets: int = 60_000
    seed: int = 42
    files: int = 2
    format: str = "v1.1"
    compression: str = "none"


@dataclass
class IngestConfig:
    split_mb: int = 64


@dataclass
class BotsConfig:
    min_tweets: int = 5
    max_tweets: int = 1000
    label_regex: str = "_bot$"
    period_seconds: int = 600
    tolerance_seconds: int = 30
    flag_rate: float = 0.02
    target_recall: float = 0.0  # > 0 replaces flag_rate: flag until this recall of the weak label
    data_transfer: str = "bulk"  # SynapseML's row hand-over to LightGBM; streaming holds less memory per task


@dataclass
class AnomaliesConfig:
    window: str = "1 hour"  # activity window; must divide a day (the volume detector's season)
    exclude_hashtags: str = "worldcup"  # comma-separated, case-insensitive; kept in hashtag_counts, flagged
    exclude_mode: str = "hashtag"  # hashtag: drop the tag from features; tweet: drop whole tweets, as the study did
    vocab_size: int = 1000  # TF-IDF vocabulary cap; PCA cost grows with its square (2,000 took 6x longer)
    min_df: int = 3  # a term must appear in this many tweets
    pca_dims: int = 16  # the forest densifies vectors: reduce TF-IDF to this many dimensions (0: no PCA)
    trials: int = 10  # Optuna TPE trials
    objective: str = "em"  # em | mv (Goix 2016, label-free) | mean_score (the study's) | auc (needs labels_table)
    labels_table: str = ""  # Delta table (tweet_id, label) under the lakehouse or absolute; for objective=auc
    tuning_rows: int = 20000  # rows sampled for tuning
    emmv_draws: int = 3  # random feature sub-spaces per trial (EM/MV are only reliable in few dimensions)
    emmv_dims: int = 3
    emmv_uniform: int = 10000  # uniform points per sub-space for the volume estimates
    seed: int = 7
    z_threshold: float = 4.0  # volume and outlier-share robust z-scores
    seasonal_cycles: int = 7  # days on each side in the seasonal baseline
    smooth: int = 1  # centred moving average over this many windows before scoring the volume
    direction: str = "up"  # up: bursts only; both: drops too
    top_drivers: int = 10  # per window and kind
    keywords: int = 10  # YAKE keywords per anomalous window
    keyword_max_tweets: int = 2000  # tweets sampled per window for YAKE


@dataclass
class CommunitiesConfig:
    min_support: int = 3  # a hashtag pair needs this many tweets together to become an edge
    weight: str = "count"  # count: tweets together | pmi: positive pointwise mutual information
    resolutions: str = "1,1.5,2,3"  # Leiden resolutions tried; the most stable across seeds is kept
    seeds: int = 5  # runs per method (and per resolution) for the stability scores
    leiden_max_nodes: int = 200_000  # larger graphs get the distributed label propagation only
    lpa_max_iter: int = 30
    lpa_penalty: float = 0.0  # > 0: LPAm volume penalty against one giant label (1: modularity moves)
    lpa_giant_share: float = 0.5  # classic LPA giving one label to more than this share of nodes reruns as LPAm
    lpa_tol: float = 0.0  # stop when at most this share of nodes moved in two iterations running
    user_links: str = "retweet,quote,reply,mention"
    user_min_weight: int = 1  # interactions needed for a user-user edge
    top_members: int = 10  # hashtags or accounts listed per community
    draw_nodes: int = 150  # hashtags drawn in the PNG (the heaviest); the GEXF has them all
    checkpoint_dir: str = ""  # empty: LAKEHOUSE/_checkpoints/communities


@dataclass
class MlflowConfig:
    tracking_uri: str = ""  # empty: MLFLOW_TRACKING_URI, else a local store under the lakehouse
    experiment: str = "vigie"


@dataclass
class Config:
    spark: SparkConfig = field(default_factory=SparkConfig)
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    bots: BotsConfig = field(default_factory=BotsConfig)
    anomalies: AnomaliesConfig = field(default_factory=AnomaliesConfig)
    communities: CommunitiesConfig = field(default_factory=CommunitiesConfig)
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)


def _coerce(section: str, key: str, target: Any, value: Any) -> Any:
    kind = type(target)
    if isinstance(value, kind):
        return value
    try:
        if kind is bool:
            return str(value).lower() in ("1", "true", "yes", "on")
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{section}.{key} must be a {kind.__name__}, got {value!r}") from exc


def _apply(cfg: Config, section: str, key: str, value: Any) -> None:
    if not hasattr(cfg, section):
        raise ConfigError(
            f"unknown configuration section {section!r}; known: {[f.name for f in dataclasses.fields(cfg)]}"
        )
    sub = getattr(cfg, section)
    names = [f.name for f in dataclasses.fields(sub)]
    if key not in names:
        raise ConfigError(f"unknown setting {section}.{key}; known in {section}: {names}")
    setattr(sub, key, _coerce(section, key, getattr(sub, key), value))


def load_config(path: str | None = None, overrides: list[str] | None = None) -> Config:
    """Defaults, then the YAML file (`path`, else conf/vigie.yaml when present), then `section.key=value` overrides."""
    cfg = Config()
    file = path or (DEFAULT_CONF if os.path.exists(DEFAULT_CONF) else None)
    if path and not os.path.exists(path):
        raise ConfigError(f"configuration file not found: {path}")
    if file:
        try:
            with open(file, encoding="utf-8") as fh:
                data = yaml.safe_load(fh) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{file} is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{file} must hold a mapping of sections")
        for section, values in data.items():
            if not isinstance(values, dict):
                raise ConfigError(f"{file}: section {section!r} must be a mapping")
            for key, value in values.items():
                _apply(cfg, section, key, value)
    for item in overrides or []:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise ConfigError(f"--set takes section.key=value, got {item!r}")
        dotted, value = item.split("=", 1)
        section, key = dotted.split(".", 1)
        _apply(cfg, section, key, yaml.safe_load(value) if value else "")
    cfg.spark.driver_memory = driver_memory_setting(cfg.spark.driver_memory)  # before any work starts
    return cfg


def as_dict(cfg: Config) -> dict[str, Any]:
    return dataclasses.asdict(cfg)
