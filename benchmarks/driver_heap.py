"""Local driver heap: stages run through the CLI with Spark's default heap (1g) against vigie's `auto`.

1. Generates `--tweets` tweets and ingests them, once (the same folders as benchmarks/bots.py, so
   its data is reused).
2. Runs each of `--stages` as its own `vigie` process in local[2], alternating the two heaps, since
   the heap is fixed when the JVM starts: wall time and peak memory of the process tree of each run,
   and the ratios, auto against the 1g baseline.

    python benchmarks/driver_heap.py [--tweets 1000000] [--stages bots] [--repeats 2] [--set anomalies.trials=2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _measure import run_measured  # noqa: E402

BASELINE = "1g"  # Spark's own default


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tweets", type=int, default=1_000_000)
    p.add_argument("--stages", default="bots", help="comma-separated stages to run (each needs only silver)")
    p.add_argument("--repeats", type=int, default=2, help="runs of each heap, alternating")
    p.add_argument("--workdir", default="/tmp/vigie-bench-bots")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="passed to every run")
    args = p.parse_args(argv)

    from vigie.session import local_driver_memory

    vigie = os.path.join(os.path.dirname(sys.executable), "vigie")
    dump = os.path.join(args.workdir, f"dump-{args.tweets}")
    lake = os.path.join(args.workdir, f"lake-{args.tweets}")
    env = {k: v for k, v in os.environ.items() if k != "SPARK_DRIVER_MEMORY"}  # else auto defers to it
    env.update(VIGIE_SPARK_MASTER="local[2]", PYSPARK_PYTHON=sys.executable)
    if not os.path.exists(os.path.join(dump, "_truth.json")):
        cmd = [vigie, "generate", "--out", dump, "--tweets", str(args.tweets), "--files", "2"]
        print(f"generate: {run_measured(cmd, env=env)[0]:.0f}s")
    if not os.path.exists(os.path.join(lake, "silver", "tweets", "_delta_log")):
        print(f"ingest: {run_measured([vigie, 'ingest', dump, '--lakehouse', lake], env=env)[0]:.0f}s")

    auto = local_driver_memory("auto")
    heaps = {BASELINE: BASELINE, f"auto ({auto})": "auto"}
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for stage in args.stages.split(","):
        for _ in range(args.repeats):
            for label, setting in heaps.items():
                settings = [a for kv in args.set for a in ("--set", kv)]
                cmd = [vigie, stage, "--lakehouse", lake, *settings, "--set", f"spark.driver_memory={setting}"]
                secs, peak, _ = run_measured(cmd, env=env)
                results.setdefault((stage, label), []).append((secs, peak))
                print(f"  {stage:<12} {label:<14} {secs:7.1f}s  peak {peak:8,.0f} MB", flush=True)

    print(f"\n{args.tweets:,} tweets generated, local[2]; medians of {args.repeats} runs of each heap, alternating")
    print(f"{'stage':<12} {'heap':<14} {'seconds':>8} {'peak MB':>9} {'time ratio':>11} {'memory ratio':>13}")
    summary = {}
    for (stage, label), runs in results.items():
        secs = statistics.median(s for s, _ in runs)
        peak = statistics.median(m for _, m in runs)
        base = results[(stage, BASELINE)]
        base_secs = statistics.median(s for s, _ in base)
        base_peak = statistics.median(m for _, m in base)
        print(f"{stage:<12} {label:<14} {secs:8.1f} {peak:9,.0f} {secs / base_secs:10.2f}x {peak / base_peak:12.2f}x")
        summary[f"{stage} {label}"] = {"seconds": secs, "peak_mb": peak}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
