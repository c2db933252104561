"""Configuration parsing and the single place where the stack is pinned."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from vigie import versions
from vigie.config import Config, as_dict, load_config
from vigie.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_conf_file_matches_the_code_defaults():
    assert as_dict(load_config(str(ROOT / "conf" / "vigie.yaml"))) == as_dict(Config())


def test_overrides_are_typed():
    cfg = load_config(str(ROOT / "conf" / "vigie.yaml"), ["ingest.split_mb=16", "generate.format=v2", "spark.master=local[1]"])
    assert (cfg.ingest.split_mb, cfg.generate.format, cfg.spark.master) == (16, "v2", "local[1]")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("ingest.nope=1", "unknown setting ingest.nope"),
        ("nope.x=1", "unknown configuration section 'nope'"),
        ("ingest.split_mb=big", "ingest.split_mb must be a int, got 'big'"),
        ("split_mb=3", "--set takes section.key=value"),
    ],
)
def test_bad_overrides_name_the_problem(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


def test_missing_conf_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(str(tmp_path / "missing.yaml"))


def test_pyproject_pins_the_same_versions_as_the_versions_module():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = dict(d.split("==") for d in deps if "==" in d)
    assert pinned == versions.PIP_PINS


def test_installed_stack_matches_the_pins():
    assert versions.check_stack() == []


def test_maven_coordinates_follow_the_installed_pip_versions():
    coords = versions.maven_packages(["delta", "synapseml", "sparknlp", "graphframes"])
    assert coords == [
        f"io.delta:delta-spark_2.12:{versions.installed_version('delta-spark')}",
        f"com.microsoft.azure:synapseml-core_2.12:{versions.installed_version('synapseml')}",
        f"com.microsoft.azure:synapseml-lightgbm_2.12:{versions.installed_version('synapseml')}",
        f"com.johnsnowlabs.nlp:spark-nlp_2.12:{versions.installed_version('spark-nlp')}",
        f"io.graphframes:graphframes-spark3_2.12:{versions.installed_version('graphframes-py')}",
    ]
    with pytest.raises(ValueError, match="unknown JVM libraries"):
        versions.maven_packages(["nope"])
