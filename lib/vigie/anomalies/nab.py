"""The volume detector on the Numenta Anomaly Benchmark's real tweet-volume series, scored per window.

NAB's `realTweets` files count tweets mentioning a company every 5 minutes over about two months;
`labels/combined_windows.json` gives the labelled anomaly windows. A window is caught when the
detector flags any point inside it; a run of flags outside every window is one false alarm.

Settings for 5-minute counts: the season is a day (288 points) and the counts are smoothed over 15
minutes (3 points) first: single 5-minute spikes are mostly noise at these volumes.

Example:
    >>> rows = evaluate_nab("../shared/data/nab")  # doctest: +SKIP
    >>> sum(r["caught"] for r in rows) / sum(r["windows"] for r in rows)  # doctest: +SKIP
    0.81
"""

from __future__ import annotations

import json
import os
from glob import glob

import pandas as pd

from vigie.anomalies.volume import flags, score_windows, seasonal_robust_z

PERIOD = 288  # 5-minute points per day
SMOOTH = 3
THRESHOLD = 5.0
CYCLES = 7


def evaluate_nab(
    nab_dir: str,
    threshold: float = THRESHOLD,
    smooth: int = SMOOTH,
    cycles: int = CYCLES,
    direction: str = "up",
) -> list[dict]:
    """One row per realTweets series: windows, caught, false alarms, points flagged."""
    with open(os.path.join(nab_dir, "labels", "combined_windows.json"), encoding="utf-8") as fh:
        windows = json.load(fh)
    files = sorted(glob(os.path.join(nab_dir, "data", "realTweets", "*.csv")))
    if not files:
        raise FileNotFoundError(f"no realTweets series under {nab_dir}/data/realTweets")
    rows = []
    for path in files:
        series = pd.read_csv(path, parse_dates=["timestamp"])
        z = seasonal_robust_z(series["value"].to_numpy(), PERIOD, cycles, smooth)
        flagged = flags(z, threshold, direction)
        key = f"realTweets/{os.path.basename(path)}"
        got = score_windows(series["timestamp"], flagged, windows.get(key, []))
        rows.append(
            {
                "series": os.path.basename(path).removesuffix(".csv"),
                "points": len(series),
                "days": round(len(series) / PERIOD, 1),
                "windows": got.windows,
                "caught": got.caught,
                "false_alarms": got.false_alarms,
                "flagged_points": int(flagged.sum()),
            }
        )
    return rows
