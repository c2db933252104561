"""SynapseML Isolation Forest, tuned with Optuna (TPE) on a pluggable objective.

Objectives (`objective=`):
- `em` (default) / `mv`: Excess-Mass / Mass-Volume (Goix 2016), label-free criteria that measure how
  well the scores concentrate the data. Volumes are Monte Carlo estimates, reliable only in a few
  dimensions, so each trial fits the forest on `draws` random sub-spaces of `dims` features and
  averages, as Goix does; the sub-spaces and uniform points are drawn once, so trials are compared
  on the same ground.
- `mean_score`: the study's criterion, the mean anomaly score of the data (minimised).
- `auc`: AUROC against a 0/1 `label` column, when labels exist.

`contamination` only places the threshold: none of the ranking objectives can see it, so it is
tuned alongside for parity with the study but its value is the best trial's draw. Its tolerance
(`contaminationError`) is 1% of it: an exact quantile is slow on large data.

Example:
    >>> result = tune(sample_df, TuneConfig(objective="em", trials=10))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
from pyspark.ml.linalg import Vectors
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from vigie.anomalies import criteria
from vigie.errors import ConfigError
from vigie.sampling import stable_layout

OBJECTIVES = {"em": "maximize", "mv": "minimize", "mean_score": "minimize", "auc": "maximize"}
SCORE_COL, FLAG_COL = "outlier_score", "is_outlier"


def check_objective(objective: str) -> None:
    """Raise a `ConfigError` unless `objective` is one of `OBJECTIVES`."""
    if objective not in OBJECTIVES:
        raise ConfigError(f"anomalies.objective must be one of {sorted(OBJECTIVES)}, got {objective!r}")


@dataclass(frozen=True)
class ForestParams:
    num_estimators: int = 100
    max_samples: int = 256
    contamination: float = 0.01

    def as_mlflow(self) -> dict[str, float]:
        return {
            "numEstimators": self.num_estimators,
            "maxSamples": self.max_samples,
            "contamination": self.contamination,
        }


@dataclass
class TuneConfig:
    objective: str = "em"
    trials: int = 10
    seed: int = 7
    draws: int = 3
    dims: int = 3
    uniform: int = 10_000
    num_estimators: tuple[int, int] = (50, 300)
    max_samples: tuple[int, int] = (64, 2048)
    contamination: tuple[float, float] = (0.002, 0.05)


@dataclass
class TuneResult:
    best: ForestParams
    best_value: float
    objective: str
    trials: list[dict] = field(default_factory=list)


def isolation_forest(params: ForestParams, seed: int, features_col: str = "features"):
    from synapse.ml.isolationforest import IsolationForest

    return IsolationForest(
        numEstimators=params.num_estimators,
        maxSamples=float(params.max_samples),
        contamination=params.contamination,
        contaminationError=params.contamination * 0.01,  # the documented advice; exact is slow at scale
        randomSeed=seed,
        featuresCol=features_col,
        scoreCol=SCORE_COL,
        predictionCol=FLAG_COL,
    )


def _collect(df: DataFrame, label: bool, key: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    cols = ["features", "label"] if label else ["features"]
    rows = (df.orderBy(key) if key else df).select(*cols).collect()
    x = np.array([r["features"].toArray() for r in rows], dtype=float)
    y = np.array([r["label"] for r in rows], dtype=float) if label else None
    return x, y


def _frame(spark, x: np.ndarray, uniform: np.ndarray | None = None) -> DataFrame:
    """Data rows (is_uniform false) and uniform points (true) in one DataFrame, cached: one scoring pass."""
    rows = [(Vectors.dense(r), False) for r in x]
    if uniform is not None:
        rows += [(Vectors.dense(r), True) for r in uniform]
    indexed = [(i, *r) for i, r in enumerate(rows)]
    frame = spark.createDataFrame(indexed, ["_i", "features", "is_uniform"])
    # as many partitions on a laptop as on a cluster (one per 10,000 rows): the forest seeds each
    # partition by its index
    return stable_layout(frame, "_i", len(indexed), rows_per_partition=10_000).drop("_i").cache()


class _Objective:
    """Scores one parameter set on the tuning sample; the same sub-spaces and points for every trial."""

    def __init__(self, sample: DataFrame, cfg: TuneConfig, key: str | None = None):
        check_objective(cfg.objective)
        self.cfg = cfg
        spark = sample.sparkSession
        x, y = _collect(sample, label=cfg.objective == "auc", key=key)
        if len(x) < 10:
            raise ConfigError(f"too few rows to tune the Isolation Forest on ({len(x)})")
        if cfg.objective == "auc" and (y is None or len(set(y.tolist())) < 2):
            raise ConfigError("objective=auc needs labels with both classes in the tuning sample")
        self.y = y
        self.frames: list[tuple[DataFrame, float]] = []
        if cfg.objective in ("em", "mv"):
            rng = np.random.default_rng(cfg.seed)
            varying = np.nonzero(x.max(axis=0) > x.min(axis=0))[0]
            dims = min(cfg.dims, len(varying))
            for _ in range(cfg.draws):
                cols = np.sort(rng.choice(varying, size=dims, replace=False))
                unif, volume = criteria.uniform_box(x[:, cols], cfg.uniform, rng)
                self.frames.append((_frame(spark, x[:, cols], unif), volume))
        else:
            self.frames.append((_frame(spark, x), 1.0))

    def __call__(self, params: ForestParams) -> tuple[float, dict[str, float]]:
        parts = []
        # scores do not depend on contamination; 0 skips the threshold search, 2-4x faster per fit
        scoring_only = ForestParams(params.num_estimators, params.max_samples, 0.0)
        for frame, volume in self.frames:
            data = frame.filter(~F.col("is_uniform"))
            model = isolation_forest(scoring_only, self.cfg.seed).fit(data)
            scored = model.transform(frame).select("is_uniform", SCORE_COL).toPandas()
            s_data = -scored.loc[~scored.is_uniform, SCORE_COL].to_numpy()  # normality: higher = more normal
            s_unif = -scored.loc[scored.is_uniform, SCORE_COL].to_numpy()
            if self.cfg.objective == "em":
                parts.append(criteria.excess_mass(s_data, s_unif, volume) * volume)  # volume-free
            elif self.cfg.objective == "mv":
                parts.append(criteria.mass_volume(s_data, s_unif, volume) / volume)
            elif self.cfg.objective == "mean_score":
                parts.append(float(np.mean(-s_data)))
            else:
                from sklearn.metrics import roc_auc_score

                parts.append(float(roc_auc_score(self.y, -s_data)))
        detail = {f"{self.cfg.objective}_subspace_{i}": v for i, v in enumerate(parts)} if len(parts) > 1 else {}
        return float(np.mean(parts)), detail

    def close(self) -> None:
        for frame, _ in self.frames:
            frame.unpersist()


def tune(
    sample: DataFrame,
    cfg: TuneConfig,
    on_trial: Callable[[int, ForestParams, float, dict], None] | None = None,
    key: str | None = None,
):
    """Optuna TPE over numEstimators, maxSamples and contamination; returns the best parameters.

    `key`, a column unique per row, fixes the sample's order, so that the trials do not depend on how
    Spark partitioned it."""
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    objective = _Objective(sample, cfg, key)
    # TPE draws its first n_startup_trials at random (10 by default: all of a 10-trial budget)
    sampler = optuna.samplers.TPESampler(seed=cfg.seed, n_startup_trials=max(2, cfg.trials // 3))
    study = optuna.create_study(direction=OBJECTIVES[cfg.objective], sampler=sampler)
    history: list[dict] = []

    def run(trial) -> float:
        params = ForestParams(
            num_estimators=trial.suggest_int("numEstimators", *cfg.num_estimators, step=10),
            max_samples=trial.suggest_int("maxSamples", *cfg.max_samples, log=True),
            contamination=trial.suggest_float("contamination", *cfg.contamination, log=True),
        )
        value, detail = objective(params)
        history.append({"trial": trial.number, **asdict(params), "value": value, **detail})
        if on_trial:
            on_trial(trial.number, params, value, detail)
        return value

    try:
        study.optimize(run, n_trials=cfg.trials)
    finally:
        objective.close()
    best = study.best_params
    return TuneResult(
        best=ForestParams(best["numEstimators"], best["maxSamples"], best["contamination"]),
        best_value=float(study.best_value),
        objective=cfg.objective,
        trials=history,
    )
