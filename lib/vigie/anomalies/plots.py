"""The four figures of the anomaly stage, as PNG files (pandas in, paths out).

- activity.png: tweets per window, anomalous windows shaded, and the two detector scores below;
- top_hashtags.png: the most used hashtags, excluded ones in grey;
- hashtag_hourly.png: mean tweets per hour of day for the top hashtags (a heat map);
- cooccurrence.png: co-occurrence counts of the top hashtags (a heat map).
Hashtags in scripts the installed fonts lack (CJK on a bare machine) are drawn as boxes; the tables
hold the text.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    warnings.filterwarnings("ignore", message="Glyph .* missing from font")
    return plt


def activity_plot(act: pd.DataFrame, path: str, threshold: float) -> str:
    plt = _plt()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6), sharex=True, height_ratios=[3, 1.4])
    top.plot(act["window_start"], act["tweets"], lw=0.9, color="#1f4e79", label="tweets per window")
    step = act["window_start"].diff().median() if len(act) > 1 else pd.Timedelta(hours=1)
    for start in act.loc[act["is_anomalous"], "window_start"]:
        top.axvspan(start, start + step, color="#d62728", alpha=0.25, lw=0)
    top.set(ylabel="tweets", title="Activity, anomalous windows shaded")
    top.legend(loc="upper left")
    bottom.plot(act["window_start"], act["volume_score"], lw=0.8, label="volume z")
    bottom.plot(act["window_start"], act["share_score"], lw=0.8, label="outlier-share z")
    bottom.axhline(threshold, ls="--", color="grey", lw=0.8)
    bottom.set(ylabel="robust z")
    bottom.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    return _save(fig, path)


def top_hashtags_plot(counts: pd.DataFrame, path: str, n: int = 20) -> str:
    plt = _plt()
    top = counts.nlargest(n, "tweets").iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(top) + 1.2))
    colors = ["#bbbbbb" if e else "#1f4e79" for e in top["excluded"]]
    ax.barh("#" + top["hashtag"], top["tweets"], color=colors)
    ax.set(xlabel="tweets", title=f"Top {len(top)} hashtags (excluded in grey)")
    return _save(fig, path)


def _heatmap(matrix: pd.DataFrame, path: str, title: str, xlabel: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * matrix.shape[1] + 3), 0.35 * len(matrix) + 1.5))
    im = ax.imshow(matrix.to_numpy(dtype=float), aspect="auto", cmap="viridis")
    ax.set_yticks(range(len(matrix)), matrix.index)
    ax.set_xticks(range(matrix.shape[1]), matrix.columns, rotation=90)
    ax.set(title=title, xlabel=xlabel)
    fig.colorbar(im, ax=ax, shrink=0.8)
    return _save(fig, path)


def hashtag_hourly_plot(hourly: pd.DataFrame, n_days: float, path: str, n: int = 15) -> str:
    """`hourly`: hashtag, hour_of_day, tweets (summed over days)."""
    top = hourly.groupby("hashtag")["tweets"].sum().nlargest(n).index
    table = (
        hourly[hourly["hashtag"].isin(top)]
        .pivot_table(index="hashtag", columns="hour_of_day", values="tweets", aggfunc="sum", fill_value=0)
        .reindex(columns=range(24), fill_value=0)
        .loc[top]
    ) / max(n_days, 1.0)
    table.index = "#" + table.index
    return _heatmap(table, path, "Mean tweets per hour of day (UTC), top hashtags", "hour of day")


def cooccurrence_plot(pairs: pd.DataFrame, path: str, n: int = 15) -> str:
    forward = pairs.rename(columns={"tag_a": "x", "tag_b": "y"})
    both = pd.concat([forward, pairs.rename(columns={"tag_b": "x", "tag_a": "y"})])
    top = both.groupby("x")["tweets"].sum().nlargest(n).index
    m = both[both.x.isin(top) & both.y.isin(top)].pivot_table(index="x", columns="y", values="tweets", fill_value=0)
    m = m.reindex(index=top, columns=top, fill_value=0)
    m = m.mask(np.eye(len(m), dtype=bool), 0)  # a tag with itself says nothing
    m.index = "#" + m.index
    m.columns = "#" + m.columns
    return _heatmap(m, path, "Hashtag co-occurrence (tweets with both)", "")


def _save(fig, path: str) -> str:
    import matplotlib.pyplot as plt

    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
