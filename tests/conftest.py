"""One Spark session for the whole suite (all JVM packages configured up front), temp stores."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

# shared/ sits beside the repository (as in CI's clone); VIGIE_SHARED_DATA points elsewhere.
SHARED = Path(os.environ.get("VIGIE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def pytest_configure(config):
    """Give vigie's `error` warning filters to the Python processes the suite starts.

    pytest's filters act in this process only. Spark's Python workers (the pandas UDFs) and the jobs run
    through spark-submit start from the environment, so they get the same filters through PYTHONWARNINGS.
    """
    own = worker_warning_filters(config.getini("filterwarnings"))
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), *own]))


def worker_warning_filters(lines: list[str]) -> list[str]:
    """pytest's `error` filters on module `vigie` as -W filters, one per vigie module.

    pytest matches a filter's module as a regular expression from the start of the name, so `vigie` covers
    vigie.bots too; -W and PYTHONWARNINGS match the whole name, so each module needs its own filter.
    """
    root = Path(importlib.util.find_spec("vigie").origin).parent
    modules = sorted(
        ".".join(("vigie", *p.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
        for p in root.rglob("*.py")
    )
    filters = []
    for line in lines:
        action, message, category, module = ([*line.split(":"), "", "", "", ""])[:4]
        if action == "error" and module == "vigie" and not message:
            filters += [f"error::{category}:{name}" for name in modules]
    return filters


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.exists():
        pytest.fail(f"the shared real-data folder is missing: expected {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from vigie.session import get_spark

    tmp = tmp_path_factory.mktemp("spark")
    os.environ["MLFLOW_TRACKING_URI"] = (tmp / "mlruns").as_uri()
    session = get_spark(
        app_name="vigie-tests",
        master="local[2]",
        shuffle_partitions=2,
        conf={
            "spark.sql.warehouse.dir": str(tmp / "warehouse"),
            "spark.checkpoint.dir": str(tmp / "checkpoints"),
            "spark.default.parallelism": "2",
            "spark.driver.memory": "3g",
        },
    )
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(str(tmp / "checkpoints"))
    yield session
    session.stop()


@pytest.fixture(scope="session")
def small_dump(tmp_path_factory) -> tuple[Path, dict]:
    """A small generated dump (2 files) and its truth, shared by the ingest tests."""
    from vigie.generate import TRUTH_FILE, generate

    out = tmp_path_factory.mktemp("dump")
    generate(str(out), tweets=4000, seed=11, files=2, progress=lambda _: None)
    return out, json.loads((out / TRUTH_FILE).read_text())


@pytest.fixture(scope="session")
def world_cup_lake(spark, tmp_path_factory) -> tuple[str, dict]:
    """A 30k-tweet generated dump ingested once; the model stages (bots, anomalies) run on it."""
    from vigie.generate import TRUTH_FILE, generate
    from vigie.ingest.job import ingest

    dump = tmp_path_factory.mktemp("worldcup-dump")
    generate(str(dump), tweets=30_000, seed=21, files=2, progress=lambda _: None)
    lake = str(tmp_path_factory.mktemp("worldcup-lake"))
    ingest(spark, [str(dump)], lake)
    return lake, json.loads((dump / TRUTH_FILE).read_text())
