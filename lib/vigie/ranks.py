"""Exact order statistics and ranks over a column, with no global sort and no single-task window.

Spark's `approxQuantile` merges per-partition sketches in an order that depends on the partitioning,
and past a few thousand rows it is only right within its error: the same scores laid out in other
partitions can give a threshold a few ranks away, and then more accounts than the flag rate. A block
list must flag the same accounts on a laptop and on a cluster, so here the sketch only narrows the
search, and the answer is counted.

Example:
    >>> t = kth_largest(scores, "score", 480)  # doctest: +SKIP
    >>> ranked = percent_below(scores, flagged, ["compression_ratio"])  # doctest: +SKIP
"""

from __future__ import annotations

import math

from pyspark.ml.feature import Bucketizer
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

_V, _SIDE = "_v", "_side"


def _finite(df: DataFrame, column: str) -> DataFrame:
    v = F.col(column).cast("double")
    return df.select(v.alias(_V)).filter(v.isNotNull() & ~F.isnan(v))


def _walk(values: DataFrame, lo: float, hi: float, rank: int) -> float | None:
    """The value of ascending `rank` (1-based) if it lies in [lo, hi]: one pass counts the rows below
    `lo` and each distinct value inside; None when the bracket missed it."""
    v = F.col(_V)
    side = F.when(v < lo, -1).when(v > hi, 1).otherwise(0)
    counts = (
        values.select(side.alias(_SIDE), F.when(side == 0, v).alias(_V))
        .groupBy(_SIDE, _V)
        .count()
        .filter(F.col(_SIDE) <= 0)
        .collect()
    )
    below = sum(r["count"] for r in counts if r[_SIDE] < 0)
    if below >= rank:
        return None
    for r in sorted((r for r in counts if r[_SIDE] == 0), key=lambda r: r[_V]):
        below += r["count"]
        if below >= rank:
            return float(r[_V])
    return None


def kth_largest(df: DataFrame, column: str, k: int, error: float = 1e-4) -> float:
    """The k-th largest value of `column` (1-based, NaN and null left out), exactly: fewer than k rows
    are greater, and at least k are greater or equal.

    Three passes: a count, a quantile sketch that brackets the value within ±2·error of its rank, and
    a count by distinct value of the rows inside the bracket (about 4·error·n rows, fewer when tied).
    Should the sketch miss its stated error, the last pass is repeated over every value.
    """
    values = _finite(df, column)
    n = values.count()
    if not 1 <= k <= n:
        raise ValueError(f"kth_largest: k must be between 1 and the {n} non-null values of {column!r} (got {k})")
    rank = n - k + 1  # ascending
    q = rank / n
    lo, hi = values.approxQuantile(_V, [max(0.0, q - 2 * error), min(1.0, q + 2 * error)], error)
    for lo_, hi_ in ((lo, hi), (-math.inf, math.inf)):
        found = _walk(values, lo_, hi_, rank)
        if found is not None:
            return found
    raise AssertionError(f"no value of ascending rank {rank} among {n}")  # the full walk cannot miss


def percent_below(population: DataFrame, rows: DataFrame, columns: list[str], digits: int = 1) -> DataFrame:
    """`rows` with a `<column>_pct` for each column: the percent of `population`'s rows with a smaller
    value, exact, rounded to `digits`. Null for a null, NaN or infinite value.

    `percent_rank()` would sort the whole population in one task. Instead, the distinct values of
    `rows` (a block list: thousands, not millions) become a Bucketizer's splits, one pass over the
    population counts each bucket, and the driver sums the buckets below each value.
    """
    import pandas as pd

    spark = rows.sparkSession
    n = population.count()
    out = rows
    for c in columns:
        name = f"{c}_pct"
        values = sorted({float(r[0]) for r in _finite(rows, c).distinct().collect()} - {math.inf, -math.inf})
        if not values or not n:
            out = out.withColumn(name, F.lit(None).cast("double"))
            continue
        cut = Bucketizer(splits=[-math.inf, *values, math.inf], inputCol=_V, outputCol="_bucket")
        counts = dict(cut.transform(_finite(population, c)).groupBy("_bucket").count().collect())
        less, below = [], 0
        for j, v in enumerate(values):  # value j opens bucket j + 1: the rows below it fill buckets 0..j
            below += counts.get(float(j), 0)
            less.append((v, round(below / n * 100, digits)))
        table = spark.createDataFrame(pd.DataFrame(less, columns=[_V, name]))
        out = out.withColumn(_V, F.col(c).cast("double")).join(F.broadcast(table), _V, "left").drop(_V)
    return out
