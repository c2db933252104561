"""Isolation Forest parity: SynapseML against scikit-learn, same parameters, on the ADBench classical sets.

Both forests get numEstimators/n_estimators = 100 and maxSamples/max_samples = 256, all features,
no bootstrap, and are scored by AUROC against the sets' labels, averaged over three seeds. Sets over
`--max-rows` rows are subsampled (stratified by label, fixed seed) so the run fits a laptop.

    python benchmarks/anomalies_parity.py [--out benchmarks/results/anomalies_parity.md] [--max-rows 50000]
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time

import numpy as np
from sklearn.ensemble import IsolationForest as SkForest
from sklearn.metrics import roc_auc_score

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("VIGIE_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
SEEDS = (1, 2, 3)
TREES, SAMPLES = 100, 256


def load(path: str, max_rows: int) -> tuple[np.ndarray, np.ndarray]:
    d = np.load(path)
    x, y = d["X"].astype(float), d["y"].astype(int)
    if len(x) > max_rows:
        rng = np.random.default_rng(0)
        keep = np.concatenate(
            [rng.choice(np.nonzero(y == c)[0], int(max_rows * (y == c).mean()), replace=False) for c in (0, 1)]
        )
        x, y = x[keep], y[keep]
    return x, y


def synapse_auc(spark, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    from pyspark.ml.linalg import Vectors
    from synapse.ml.isolationforest import IsolationForest

    df = spark.createDataFrame(
        [(Vectors.dense(r.tolist()), int(label)) for r, label in zip(x, y, strict=True)], ["features", "label"]
    )
    model = IsolationForest(
        numEstimators=TREES, maxSamples=float(min(SAMPLES, len(x))), contamination=0.0, randomSeed=seed
    ).fit(df)
    scored = model.transform(df).select("label", "outlierScore").toPandas()
    return float(roc_auc_score(scored["label"], scored["outlierScore"]))


def sklearn_auc(x: np.ndarray, y: np.ndarray, seed: int) -> float:
    forest = SkForest(n_estimators=TREES, max_samples=min(SAMPLES, len(x)), random_state=seed, n_jobs=2).fit(x)
    return float(roc_auc_score(y, -forest.score_samples(x)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "anomalies_parity.md"))
    p.add_argument("--max-rows", type=int, default=50_000)
    p.add_argument("--sets", nargs="*", help="file names to run (default: all)")
    args = p.parse_args(argv)
    sys.path.insert(0, os.path.join(ROOT, "lib"))
    from vigie.session import get_spark

    spark = get_spark(app_name="vigie-parity", master="local[2]", shuffle_partitions=2)
    spark.sparkContext.setLogLevel("ERROR")
    files = sorted(glob.glob(os.path.join(SHARED, "adbench-classical", "*.npz")))
    if args.sets:
        files = [f for f in files if os.path.basename(f) in args.sets]
    rows = []
    for path in files:
        x, y = load(path, args.max_rows)
        started = time.time()
        sk = np.mean([sklearn_auc(x, y, s) for s in SEEDS])
        syn = np.mean([synapse_auc(spark, x, y, s) for s in SEEDS])
        rows.append((os.path.basename(path).removesuffix(".npz"), len(x), x.shape[1], sk, syn, syn - sk))
        print(f"{rows[-1][0]:<22} n={len(x):>6} d={x.shape[1]:>5}  sklearn {sk:.3f}  synapseml {syn:.3f}  "
              f"diff {syn - sk:+.3f}  ({time.time() - started:.0f}s)", flush=True)  # fmt: skip
    diffs = np.array([r[5] for r in rows])
    lines = [
        "# Isolation Forest parity: SynapseML 1.1.3 against scikit-learn",
        "",
        f"Produced by `python benchmarks/anomalies_parity.py`: {TREES} trees, {SAMPLES} samples per tree, all",
        f"features, AUROC averaged over seeds {SEEDS}; sets above {args.max_rows:,} rows subsampled (stratified).",
        "",
        "| set | rows | features | AUROC scikit-learn | AUROC SynapseML | difference |",
        "|---|---:|---:|---:|---:|---:|",
        *[f"| {n} | {r:,} | {d} | {a:.3f} | {b:.3f} | {c:+.3f} |" for n, r, d, a, b, c in rows],
        "",
        f"Mean difference {diffs.mean():+.4f}; mean absolute difference {np.abs(diffs).mean():.4f}; "
        f"largest {diffs[np.argmax(np.abs(diffs))]:+.3f}. Goal: within 0.02 on average.",
        "",
    ]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    print("\n".join(lines[-2:]))
    return 0 if abs(diffs.mean()) <= 0.02 else 1


if __name__ == "__main__":
    sys.exit(main())
