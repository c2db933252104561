"""Local driver heap: stages run through the CLI at Spark's default heap (1g), vigie's `auto`, or other sizes.

1. Generates `--tweets` tweets and ingests them, once (`bots.ensure_lakehouse`: the same folders as
   benchmarks/bots.py, so its data is reused).
2. Runs each of `--stages` as its own `vigie` process in local[2], alternating the heaps, since the
   heap is fixed when the JVM starts: wall time and peak memory of the process tree of each run, and
   the ratios against the first heap of `--heaps` (the baseline).

`--heaps` takes sizes ("6g"), `auto` (vigie's default: half the memory) and `quarter` (a quarter of
the memory, the JVM's own ergonomic default, as a size), to weigh the fraction `auto` takes.

    python benchmarks/driver_heap.py [--tweets 1000000] [--stages bots] [--repeats 2] [--heaps 1g,auto]
        [--set anomalies.trials=2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _measure import run_measured  # noqa: E402
from bots import ensure_lakehouse  # noqa: E402


def heap_settings(spec: str, available: int | None) -> dict[str, str]:
    """Label -> `spark.driver_memory` value for each heap of `spec`, in order (the first is the baseline).

    `available` is the memory `auto` divides (`memory_limit_bytes()`).
    """
    from vigie.session import auto_heap, local_driver_memory

    heaps = {}
    for name in (h.strip() for h in spec.split(",")):
        if name == "auto":
            heaps[f"auto ({local_driver_memory('auto', available)})"] = "auto"
        elif name == "quarter":
            if available is None:
                raise SystemExit("quarter: this machine's memory could not be read")
            quarter = auto_heap(available, divisor=4)  # within auto's 1g-31g bounds
            heaps[f"quarter ({quarter})"] = quarter
        else:
            heaps[name] = local_driver_memory(name)  # a malformed size fails here, before any run
    return heaps


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tweets", type=int, default=1_000_000)
    p.add_argument("--stages", default="bots", help="comma-separated stages to run (each needs only silver)")
    p.add_argument("--repeats", type=int, default=2, help="runs of each heap, alternating")
    p.add_argument("--heaps", default="1g,auto", help="comma-separated heaps; the first is the baseline")
    p.add_argument("--workdir", default="/tmp/vigie-bench-bots")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="passed to every run")
    args = p.parse_args(argv)

    from vigie.session import memory_limit_bytes

    os.environ.pop("SPARK_DRIVER_MEMORY", None)  # else auto defers to it, here and in every run
    heaps = heap_settings(args.heaps, memory_limit_bytes())
    baseline = next(iter(heaps))
    vigie = os.path.join(os.path.dirname(sys.executable), "vigie")
    lake = str(ensure_lakehouse(Path(args.workdir), args.tweets, cores=2))
    env = dict(os.environ)
    env.update(VIGIE_SPARK_MASTER="local[2]", PYSPARK_PYTHON=sys.executable)
    settings = [a for kv in args.set for a in ("--set", kv)]

    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for stage in args.stages.split(","):
        for _ in range(args.repeats):
            for label, setting in heaps.items():
                cmd = [vigie, stage, "--lakehouse", lake, *settings, "--set", f"spark.driver_memory={setting}"]
                secs, peak, _ = run_measured(cmd, env=env)
                results.setdefault((stage, label), []).append((secs, peak))
                print(f"  {stage:<12} {label:<16} {secs:7.1f}s  peak {peak:8,.0f} MB", flush=True)

    print(f"\n{args.tweets:,} tweets generated, local[2]; medians of {args.repeats} runs of each heap, alternating")
    print(f"{'stage':<12} {'heap':<16} {'seconds':>8} {'peak MB':>9} {'time ratio':>11} {'memory ratio':>13}")
    medians = {
        key: (statistics.median(s for s, _ in runs), statistics.median(m for _, m in runs))
        for key, runs in results.items()
    }
    for (stage, label), (secs, peak) in medians.items():
        base_secs, base_peak = medians[(stage, baseline)]
        print(f"{stage:<12} {label:<16} {secs:8.1f} {peak:9,.0f} {secs / base_secs:10.2f}x {peak / base_peak:12.2f}x")
    print(json.dumps({f"{stage} {label}": {"seconds": s, "peak_mb": m} for (stage, label), (s, m) in medians.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
