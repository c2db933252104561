"""End to end, as users run it: spark-submit on a job file, and the demo pipeline (slow; run in CI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vigie.session import submit_flags

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# what every local run printed before the stage's first line, and MLflow's progress bar in a log
NOISE = ("NativeCodeLoader", "Setting default log level", "resolves to a loopback address", "Downloading artifacts")


def noise(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if any(n in line for n in NOISE)]


def run(cmd, cwd=ROOT, env=None):
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable, **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=900)


@pytest.mark.slow
def test_spark_submit_ingest_job(small_dump, tmp_path):
    dump, truth = small_dump
    lake = tmp_path / "lake"
    cmd = [
        str(BIN / "spark-submit"),
        "--master",
        "local[2]",
        *submit_flags().split(),
        "--conf",
        "spark.ui.enabled=false",
        str(ROOT / "jobs" / "ingest.py"),
        str(dump),
        "--lakehouse",
        str(lake),
    ]
    proc = run(cmd, cwd=tmp_path)  # spark-submit keeps Spark's own warehouse default: the working folder
    assert proc.returncode == 0, proc.stderr[-3000:]
    counts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {k: counts[k] for k in truth["expected"]} == truth["expected"]
    assert (lake / "silver" / "tweets" / "_delta_log").is_dir()


@pytest.mark.slow
def test_spark_submit_without_the_jars_says_what_to_do(small_dump, tmp_path):
    dump, _ = small_dump
    proc = run(
        [
            str(BIN / "spark-submit"),
            "--master",
            "local[1]",
            str(ROOT / "jobs" / "ingest.py"),
            str(dump),
            "--lakehouse",
            str(tmp_path / "lake"),
        ],
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    # spark-submit merges the Python driver's stderr into its own stdout: read what a terminal shows
    seen = proc.stdout + proc.stderr
    errors = [ln for ln in seen.splitlines() if ln.startswith("vigie: error:")]
    assert len(errors) == 1  # Spark may still log its shutdown after it
    assert errors[0].startswith("vigie: error: Delta Lake's jar is not on this Spark session's classpath")
    assert "--packages io.delta:delta-spark_2.12" in errors[0]
    assert "Traceback" not in seen


@pytest.mark.slow
def test_demo_pipeline_generates_ingests_and_scores_bots(tmp_path):
    lake = tmp_path / "demo"
    settings = ["--set", "generate.tweets=3000", "--set", "anomalies.trials=2", "--set", "communities.seeds=2"]
    here, cache = tmp_path / "here", tmp_path / "cache"  # where the analyst starts it, and their cache
    here.mkdir()
    cmd = [str(BIN / "vigie"), "pipeline", "--lakehouse", str(lake), "--demo", *settings]
    proc = run(cmd, cwd=here, env={"XDG_CACHE_HOME": str(cache)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    # one JSON line per stage; LightGBM's native code also prints its own lines on stdout
    stages = {o["stage"]: o for o in map(json.loads, (ln for ln in proc.stdout.splitlines() if ln.startswith("{")))}
    truth = json.loads((lake / "raw" / "_truth.json").read_text())
    assert list(stages) == ["ingest", "anomalies", "communities", "bots"]
    assert stages["anomalies"]["windows"] == 14 * 24 and (lake / "gold" / "anomaly_drivers").is_dir()
    assert stages["communities"]["cjk_communities"] and (lake / "reports" / "communities" / "hashtags.gexf").is_file()
    assert stages["ingest"]["accepted"] == truth["expected"]["accepted"]
    assert stages["bots"]["blocklisted"] > 0 and (lake / "exports" / "blocklist.csv").is_file()
    assert noise(proc.stderr) == []
    # nothing left in the folder it ran from: Spark's warehouse went to the cache
    assert list(here.iterdir()) == [] and (cache / "vigie" / "spark-warehouse").is_dir()


@pytest.mark.slow
def test_local_runs_give_the_jvm_the_configured_heap_and_start_quietly_on_loopback(tmp_path, monkeypatch):
    monkeypatch.delenv("SPARK_LOCAL_IP", raising=False)  # a value of the user's would be kept
    monkeypatch.delenv("SPARK_HOME", raising=False)
    # a user's spark-defaults.conf, read by Spark's launcher: what only tunes a run is theirs
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    (tmp_path / "spark-defaults.conf").write_text(
        "spark.driver.memory 1g\nspark.ui.showConsoleProgress true\n"
        "spark.driver.extraJavaOptions -Dvigie.probe=kept -Duser.timezone=Europe/Paris\n"
    )
    # the CLI's own session path, in a fresh process: the heap is fixed when the JVM starts
    code = (
        "import argparse; from vigie.cli import _spark; from vigie.config import load_config; "
        "s = _spark(load_config(None, ['spark.driver_memory=1536m']), argparse.Namespace(master='local[1]')); "
        "jvm = s.sparkContext._jvm; "
        "print('heap', jvm.java.lang.Runtime.getRuntime().maxMemory()); "
        "host = s.sparkContext.getConf().get('spark.driver.host'); "
        "print('loopback', jvm.java.net.InetAddress.getByName(host).isLoopbackAddress()); "
        "print('probe', jvm.System.getProperty('vigie.probe'), jvm.System.getProperty('user.timezone')); "
        "print('progress', s.sparkContext.getConf().get('spark.ui.showConsoleProgress'))"
    )
    proc = run([sys.executable, "-c", code])
    assert proc.returncode == 0, proc.stderr[-3000:]
    heap = int(next(ln.split()[1] for ln in proc.stdout.splitlines() if ln.startswith("heap ")))
    assert 1400 * 2**20 < heap <= 1536 * 2**20  # vigie's size won over the file's 1g, Spark's default too
    # the user's JVM option and setting are in force, and vigie's UTC won over their time zone
    assert {"probe kept UTC", "progress true"} <= set(proc.stdout.splitlines())
    # and the JVM started on loopback, quietly (through vigie's log4j file, the user having none)
    assert "loopback True" in proc.stdout.splitlines() and noise(proc.stderr) == []


@pytest.mark.slow
def test_each_stage_command_loads_only_the_jars_it_uses_and_runs_on_them(tmp_path, monkeypatch):
    monkeypatch.delenv("VIGIE_JVM_LIBS", raising=False)
    # the CLI's session for the bots stage, in a fresh process: SynapseML's jar, and not Spark NLP's
    code = (
        "import argparse; from vigie.cli import _spark; from vigie.config import load_config; "
        "from vigie.session import missing_jvm_libraries; "
        "s = _spark(load_config(None, []), argparse.Namespace(master='local[1]'), 'bots'); "
        "print('missing', *missing_jvm_libraries(s, ('delta', 'synapseml', 'sparknlp', 'graphframes')))"
    )
    proc = run([sys.executable, "-c", code])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "missing sparknlp graphframes" in proc.stdout.splitlines()

    # each stage as its own command, on the jars it loads
    dump, lake = tmp_path / "raw", tmp_path / "lake"
    commands = {
        "generate": ["generate", "--out", dump, "--tweets", "3000"],
        "ingest": ["ingest", dump, "--lakehouse", lake],
        "communities": ["communities", "--lakehouse", lake, "--set", "communities.seeds=2"],
        "bots": ["bots", "--lakehouse", lake],
    }
    out = {}
    for stage, args in commands.items():
        proc = run([str(BIN / "vigie"), *map(str, args)])
        assert proc.returncode == 0, (stage, proc.stderr[-3000:])
        out[stage] = json.loads(next(ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith("{")))
    assert out["ingest"]["accepted"] == json.loads((dump / "_truth.json").read_text())["expected"]["accepted"]
    assert out["communities"]["methods"]["user.lpa"]["communities"] > 1
    assert out["bots"]["blocklisted"] > 0 and (lake / "exports" / "blocklist.csv").is_file()
