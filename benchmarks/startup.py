"""Start-up of a local session: Ivy resolving the pinned packages (baseline) against the jar files it
resolved before (what `vigie.session.get_spark` does once a session has recorded them).

Each run is its own process, as a CLI stage is: it starts a local[2] session with the JVM libraries of
one stage, counts ten rows, and stops. The modes alternate, `--repeats` times each. Printed per stage:
the median wall time of the process, the lines it wrote to stderr (Ivy's report, Spark's warnings),
and the ratio of time against the baseline. Ivy's cache must be warm (`make setup`): the baseline
measures resolving from the cache, not downloading.

    python benchmarks/startup.py [--repeats 3] [--stages ingest bots anomalies]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lib"))

from vigie import versions  # noqa: E402
from vigie.session import jar_manifest, local_conf  # noqa: E402

# Both modes take get_spark's own path. In the baseline, a `spark.jars` of the user's (here empty) keeps
# get_spark from swapping the packages for the recorded files, so Ivy resolves them, as it did before.
SESSION = """
import sys
from vigie import versions
from vigie.session import get_spark
conf = {"spark.jars": ""} if sys.argv[1] == "resolve" else None
spark = get_spark(app_name="startup", master="local[2]", libraries=versions.STAGE_JVM_LIBS[sys.argv[2]], conf=conf)
assert spark.range(10).count() == 10
spark.stop()
"""


def run(mode: str, stage: str) -> tuple[float, int]:
    """(seconds, stderr lines) of one process starting a session in `mode` for `stage`'s libraries."""
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    env.pop("VIGIE_JVM_LIBS", None)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", SESSION, mode, stage], env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{mode} {stage} failed:\n{done.stderr[-3000:]}")
    return seconds, len(done.stderr.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stages", nargs="+", default=["ingest", "bots", "anomalies"])
    args = parser.parse_args()

    print("| stage | JVM libraries | jar files | resolve: s | recorded: s | ratio | stderr lines: resolve | recorded |")
    print("|---|---|---|---|---|---|---|---|")
    for stage in args.stages:
        run("recorded", stage)  # warms the OS file cache, and records this stage's jars when no session has yet
        times: dict[str, list[float]] = {"resolve": [], "recorded": []}
        lines: dict[str, int] = {}
        for _ in range(args.repeats):
            for mode in times:
                seconds, lines[mode] = run(mode, stage)
                times[mode].append(seconds)
        base, new = statistics.median(times["resolve"]), statistics.median(times["recorded"])
        libraries = versions.STAGE_JVM_LIBS[stage]
        jars = len(jar_manifest(local_conf("local[2]", libraries=libraries)).read_text().split())
        print(
            f"| {stage} | {', '.join(libraries)} | {jars} | {base:.1f} | {new:.1f} | {new / base:.2f} "
            f"| {lines['resolve']} | {lines['recorded']} |"
        )


if __name__ == "__main__":
    main()
