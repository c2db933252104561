"""The volume detector on NAB's real tweet-volume series: windows caught and false alarms, per series.

python benchmarks/anomalies_nab.py [--out benchmarks/results/anomalies_nab.md]
"""

from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("VIGIE_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
sys.path.insert(0, os.path.join(ROOT, "lib"))

from vigie.anomalies import nab  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "anomalies_nab.md"))
    args = p.parse_args(argv)
    lines = [
        "# Volume detector on NAB realTweets",
        "",
        f"Produced by `python benchmarks/anomalies_nab.py`: seasonal robust z-score, season one day ({nab.PERIOD}",
        f"points), {nab.CYCLES} days either side, counts smoothed over {nab.SMOOTH} points (15 minutes), bursts",
        f"only, z >= {nab.THRESHOLD}. A window is caught when any point inside it is flagged; a false alarm is a",
        "run of flags outside every labelled window.",
        "",
        "| series | days | labelled windows | caught | false alarms |",
        "|---|---:|---:|---:|---:|",
    ]
    for threshold in (nab.THRESHOLD, 4.0, 6.0):
        rows = nab.evaluate_nab(os.path.join(SHARED, "nab"), threshold=threshold)
        w, c = sum(r["windows"] for r in rows), sum(r["caught"] for r in rows)
        fa, days = sum(r["false_alarms"] for r in rows), sum(r["days"] for r in rows)
        if threshold == nab.THRESHOLD:
            lines += [
                f"| {r['series']} | {r['days']} | {r['windows']} | {r['caught']} | {r['false_alarms']} |" for r in rows
            ]
            lines += [f"| **all** | {days:.0f} | {w} | {c} ({c / w:.0%}) | {fa} |", "", "Other thresholds:", ""]
        else:
            lines.append(f"- z >= {threshold}: {c} of {w} windows ({c / w:.0%}), {fa} false alarms")
    lines.append("")
    text = "\n".join(lines)
    print(text)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
