"""How much of compression_ratio is timeline length? Measured on real timelines and on the demo.

    .venv/bin/python benchmarks/bots_length.py [--seeds 42 3 ...] [--lakehouse DIR --truth FILE] [--shared ...]

bz2 learns a text as it goes, so any writer's joined tweets compress better the more of them there are.
Removing bz2's fixed header (what the stage does) does not remove that.
1. Real timelines: each troll account of shared/data with at least 1,000 tweets, its ratio over its
   latest n tweets, n = 20 ... 1,000. Same writer, same period; only the length changes.
2. Generated data with planted bots: the demo's dump with each seed, generated, ingested and scored by
   `vigie bots` in a temporary folder (or a lakehouse where it ran, with the generator's truth). The
   ratio by tweet count for people and for planted bots; the AUC of the ratio alone against the planted
   bots; and the same for a length-relative ratio, a prototype that is not in the stage: each account's
   ratio over the median ratio of the accounts with a similar tweet count. Then the stage's model,
   trained on each seed's accounts with either ratio: AUC and precision against the planted bots.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_SHARED = HERE.parents[1] / "shared" / "data"
PY = sys.executable
LENGTHS = (20, 50, 100, 200, 500, 1000)
TWEET_BANDS = [4, 10, 20, 40, 80, 160, 320, 640, 10**9]


def real_curves(shared: Path, lengths: tuple[int, ...] = LENGTHS) -> pd.DataFrame:
    """Per troll account with at least max(lengths) tweets: the ratio of its latest n tweets, per n."""
    from vigie.features.bots import bz2_ratio_of

    rows = []
    for path in sorted(glob.glob(str(shared / "russian-troll-tweets" / "tweets" / "*.csv"))):
        df = pd.read_csv(path, dtype=str, usecols=["author_id", "content", "publish_date"]).dropna()
        texts = df.sort_values("publish_date", kind="stable")["content"].tolist()
        if len(texts) >= max(lengths):
            ratios = {n: bz2_ratio_of("\n".join(texts[-n:])) for n in lengths}  # joined as the stage joins
            rows.append({"account": df["author_id"].iloc[0], "tweets": len(texts), **ratios})
    return pd.DataFrame(rows)


def demo_lakehouse(work: Path, seed: int | None) -> tuple[Path, Path]:
    """The demo's dump (conf/vigie.yaml's generate section, another seed if given), ingested and scored."""
    raw, lake = work / "raw", work / "lake"
    env = {**os.environ, "PYSPARK_PYTHON": PY}
    for args in (
        ["generate", "--out", str(raw), *(["--seed", str(seed)] if seed is not None else [])],
        ["ingest", str(raw), "--lakehouse", str(lake)],
        ["bots", "--lakehouse", str(lake)],
    ):
        subprocess.run([PY, "-m", "vigie.cli", *args], check=True, env=env, stdout=subprocess.DEVNULL)
    return lake, raw / "_truth.json"


def length_relative(scores: pd.DataFrame, max_tweets: int = 1000) -> pd.Series:
    """The prototype: ratio over the median ratio of the accounts in the same band of (capped) tweet count."""
    band = pd.cut(scores["tweet_count"].clip(upper=max_tweets), TWEET_BANDS)
    return scores["compression_ratio"] / scores.groupby(band, observed=True)["compression_ratio"].transform("median")


def retrained(spark, features: pd.DataFrame, bots: set[int]) -> pd.DataFrame:
    """The stage's model trained twice on the same accounts, as in the stage and with the prototype's
    ratio instead: AUC against the planted bots, and who the 2% flag rate flags."""
    from sklearn.metrics import roc_auc_score

    from vigie.models.bots import BotModelConfig, train_bot_model

    rows = {}
    relative = features.assign(compression_ratio=length_relative(features))
    for name, frame in (("the stage's ratio", features), ("the length-relative ratio (prototype)", relative)):
        result = train_bot_model(spark.createDataFrame(frame), BotModelConfig())
        out = result.scored.select("user_id", "score", "flagged").toPandas()
        planted = out["user_id"].isin(bots)
        flagged = out["flagged"]
        rows[name] = {
            "AUC vs planted bots": roc_auc_score(planted, out["score"]),
            "flagged": int(flagged.sum()),
            "flagged planted bots": int((flagged & planted).sum()),
            "precision vs planted bots": (flagged & planted).sum() / flagged.sum(),
        }
    return pd.DataFrame(rows).T.round(3)


def demo_tables(scores: pd.DataFrame, bots: set[int]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from sklearn.metrics import roc_auc_score

    s = scores.dropna(subset=["compression_ratio"]).copy()
    s["planted_bot"] = s["user_id"].isin(bots)
    s["relative"] = length_relative(s)
    s["band"] = pd.cut(s["tweet_count"], TWEET_BANDS)
    by_band = (
        s.groupby(["band", "planted_bot"], observed=True)
        .agg(
            accounts=("user_id", "count"),
            ratio_median=("compression_ratio", "median"),
            ratio_min=("compression_ratio", "min"),
            ratio_max=("compression_ratio", "max"),
            relative_median=("relative", "median"),
        )
        .round(3)
    )
    y = s["planted_bot"].to_numpy()
    auc = pd.DataFrame(
        {
            "AUC vs planted bots (lower value = bot)": [
                roc_auc_score(y, -s["compression_ratio"]),
                roc_auc_score(y, -s["relative"]),
                roc_auc_score(y, s["score"]),
            ]
        },
        index=["compression_ratio alone", "length-relative ratio alone (prototype)", "the stage's model (3 features)"],
    ).round(3)
    n_flag = int(s["flagged"].sum())
    ranked = s.assign(
        ratio_rank=s["compression_ratio"].rank(method="first"), relative_rank=s["relative"].rank(method="first")
    )
    cols = ["screen_name", "tweet_count", "compression_ratio", "relative", "ratio_rank", "relative_rank", "score"]
    cols += ["flagged", "planted_bot"]
    heavy_people = ranked[~ranked["planted_bot"]].nlargest(5, "tweet_count")[cols].round(3)
    print(f"{n_flag} accounts flagged, {int((s['flagged'] & ~s['planted_bot']).sum())} of them not planted bots")
    return by_band, auc, heavy_people


def lakehouse_tables(spark, lake: Path, truth: Path) -> tuple[pd.DataFrame, pd.DataFrame, set[int]]:
    read = spark.read.format("delta").load
    scores, features = (read(str(lake / "gold" / t)).toPandas() for t in ("bot_scores", "user_features"))
    return scores, features, set(json.loads(truth.read_text())["bots"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=os.environ.get("VIGIE_SHARED_DATA", str(DEFAULT_SHARED)))
    ap.add_argument("--lakehouse", help="a lakehouse where `vigie bots` ran (default: the demo, made in a temp dir)")
    ap.add_argument("--truth", help="the generator's _truth.json for that lakehouse")
    ap.add_argument(
        "--seeds", type=int, nargs="+", default=[42, 3, 7, 11, 2024], help="demo dumps to generate (the first: tables)"
    )
    args = ap.parse_args()

    curves = real_curves(Path(args.shared))
    summary = curves[list(LENGTHS)].agg(["median", "min", "max"]).round(3)
    print(f"real timelines, {len(curves)} accounts with >= {max(LENGTHS)} tweets: ratio of the latest n tweets")
    print(summary.to_string())

    from vigie.session import get_spark

    spark = get_spark(app_name="vigie-bench-length", master="local[2]", shuffle_partitions=4)
    spark.sparkContext.setLogLevel("ERROR")
    runs, first = [], None
    for seed in [None] if args.lakehouse else args.seeds:
        with tempfile.TemporaryDirectory(prefix="vigie-bench-length-") as tmp:
            made = (Path(args.lakehouse), Path(args.truth)) if args.lakehouse else demo_lakehouse(Path(tmp), seed)
            scores, features, bots = lakehouse_tables(spark, *made)
        first = first or (seed, scores, bots)
        runs.append(retrained(spark, features, bots).rename_axis("ratio").reset_index().assign(seed=seed))
        print(runs[-1].to_string(index=False))
    models = pd.concat(runs)
    models = models[["seed", *models.columns.drop("seed")]]
    seed, scores, bots = first
    by_band, auc, heavy = demo_tables(scores, bots)
    print(by_band.to_string())
    print(auc.to_string())
    print(heavy.to_string(index=False))

    out = HERE / "results" / "bots_length.md"
    out.write_text(
        "# Compression ratio and timeline length\n\n"
        "`python benchmarks/bots_length.py`. The ratio is the stage's (`bz2_ratio_of`: bz2's header removed).\n\n"
        f"## Real timelines: the same {len(curves)} troll accounts, their latest n tweets\n\n"
        + summary.to_markdown()
        + "\n\nPer account:\n\n"
        + curves.round(3).to_markdown(index=False)
        + f"\n\n## Generated data (seed {seed}): ratio by tweet count, people and planted bots\n\n"
        + by_band.to_markdown()
        + "\n\n"
        + auc.to_markdown()
        + "\n\nThe five people with the most tweets (ranks: 1 = the lowest value of all scored accounts):\n\n"
        + heavy.to_markdown(index=False)
        + "\n\n## The stage's model trained on the same accounts with each ratio, 2% flagged, per seed\n\n"
        + models.to_markdown(index=False)
        + "\n"
    )
    print(f"written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
