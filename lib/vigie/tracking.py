"""MLflow plumbing shared by the model stages: where runs go, and the Delta versions of their inputs.

Tracking URI: `mlflow.tracking_uri` from the configuration, else $MLFLOW_TRACKING_URI, else a local
store under the lakehouse (`LAKEHOUSE/mlruns`). Credentials for a remote server come from the
environment (MLFLOW_TRACKING_TOKEN, ...) and are never logged.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from vigie import tables
from vigie.config import MlflowConfig
from vigie.errors import ConfigError
from vigie.session import on_databricks


def tracking_uri(cfg: MlflowConfig, lakehouse: str) -> str:
    """Where the stage's MLflow run goes; raises ConfigError when no usable place is given.

    Model stages call it before their work, so a missing tracking URI fails in a second, not after it.
    """
    if cfg.tracking_uri:
        return cfg.tracking_uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    if on_databricks():
        return "databricks"  # the workspace's own tracking server
    local = tables.table_path(lakehouse, "mlruns")
    if not tables.is_uri(local):
        return f"file://{local}"
    if local.startswith("file:"):
        return local
    # MLflow keeps runs in a folder, a database or a server; dbfs:, abfss:// or s3a:// are none of these
    raise ConfigError(
        f"MLflow cannot keep runs under the lakehouse {lakehouse}: set mlflow.tracking_uri (or --tracking-uri, "
        "or MLFLOW_TRACKING_URI) to a tracking server, 'databricks', or a local folder"
    )


def experiment_name(cfg: MlflowConfig, uri: str) -> str:
    """Databricks wants absolute workspace paths for experiments; elsewhere a plain name is fine."""
    if uri.startswith("databricks") and not cfg.experiment.startswith("/"):
        return f"/Shared/{cfg.experiment}"
    return cfg.experiment


@contextmanager
def stage_run(cfg: MlflowConfig, lakehouse: str, stage: str, tags: Mapping[str, str] | None = None) -> Iterator[object]:
    """An MLflow run for one stage, in the configured experiment."""
    import mlflow

    # Logging a model with an input example downloads it back to check it, behind a progress bar that
    # fills a job's log with terminal control lines. A value of the user's is kept.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = tracking_uri(cfg, lakehouse)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment_name(cfg, uri))
    with mlflow.start_run(run_name=stage, tags={"vigie.stage": stage, **(tags or {})}) as run:
        yield run


def log_input_versions(versions: Mapping[str, int | None]) -> dict[str, int | None]:
    """Log, as params, the Delta version of each input table the stage read (read them with versionAsOf)."""
    import mlflow

    mlflow.log_params({f"input.{name}.delta_version": v for name, v in versions.items()})
    return dict(versions)
