"""Exact order statistics, ranks and row numbers, with no single-task window.

Spark's `approxQuantile` merges per-partition sketches in an order that depends on the partitioning,
and past a few thousand rows it is only right within its error: the same scores laid out in other
partitions can give a threshold a few ranks away, and then more accounts than the flag rate. A block
list must flag the same accounts on a laptop and on a cluster, so here the sketch only narrows the
search, and the answer is counted. Row numbers (`numbered`) come from a range-partitioned sort and a
count per partition.

Example:
    >>> t = kth_largest(scores, "score", 480)  # doctest: +SKIP
    >>> ids = numbered(sizes, [F.col("size").desc(), F.col("first")], "id")  # doctest: +SKIP
    >>> ranked = percent_below(scores, flagged, ["compression_ratio"])  # doctest: +SKIP
    >>> held = draws.where(first_k(draws, "draw", "user_id", 120))  # doctest: +SKIP
"""

from __future__ import annotations

import math

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from vigie.tables import materialize

_V, _SIDE, _TAG = "_v", "_side", "_tag"
_PLACE_BITS = 33  # monotonically_increasing_id(): the partition index above 33 bits, the place below


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
    return _kth(values, n, k, error)


def _kth(values: DataFrame, n: int, k: int, error: float) -> float:
    """`kth_largest` once the n finite values are counted and 1 <= k <= n."""
    rank = n - k + 1  # ascending
    q = rank / n
    lo, hi = values.approxQuantile(_V, [max(0.0, q - 2 * error), min(1.0, q + 2 * error)], error)
    for lo_, hi_ in ((lo, hi), (-math.inf, math.inf)):
        found = _walk(values, lo_, hi_, rank)
        if found is not None:
            return found
    raise AssertionError(f"no value of ascending rank {rank} among {n}")  # the full walk cannot miss


def first_k(df: DataFrame, column: str, key: str, k: int) -> Column:
    """A condition that holds for exactly the first k rows of `df` in the order of (`column`, `key`):
    what `row_number().over(Window.orderBy(column, key)) <= k` gives, without moving every row into one
    task. `column` must have no null or NaN; `key` must be unique.

    Four passes: `kth_largest`'s three find the k-th smallest value; one more counts the rows below it and
    gathers the keys of the rows tied at it (one row, unless values repeat), to admit the first few.
    """
    values = _finite(df, column)
    n = values.count()
    if k <= 0 or n == 0:
        return F.lit(False)
    if k >= n:
        return F.lit(True)
    t = _kth(values, n, n - k + 1, 1e-4)
    c = F.col(column)
    below, tied = df.agg(F.count_if(c < t), F.sort_array(F.collect_list(F.when(c == t, F.col(key))))).first()
    return (c < t) | ((c == t) & F.col(key).isin(tied[: k - below]))


def numbered(df: DataFrame, order: list[Column], name: str) -> DataFrame:
    """`df` with a column `name` numbering its rows 0, 1, 2, ... in `order`: what
    `row_number().over(Window.orderBy(*order)) - 1` gives, without moving every row into one task.
    `order` must be total; rows it ties get consecutive numbers in no set order.

    The rows are range-partitioned by `order`, sorted within each partition and tagged with their
    partition and place (`monotonically_increasing_id`). The tagged rows are written out
    (`materialize`), so that the later passes see the same partitions even if Spark would sample
    other range bounds. One pass counts the rows of each partition, the driver adds the counts up
    into offsets, and each row's number is its partition's offset plus its place.
    """
    ranged = df.repartitionByRange(*order).sortWithinPartitions(*order)
    tagged = materialize(ranged.withColumn(_TAG, F.monotonically_increasing_id()))
    part = F.shiftright(F.col(_TAG), _PLACE_BITS)
    offsets, running = [], 0
    for p, n in sorted(tagged.groupBy(part.alias("p")).count().collect()):
        offsets += [F.lit(p), F.lit(running)]
        running += n
    offset = F.create_map(*offsets)[part] if offsets else F.lit(0)
    place = F.col(_TAG).bitwiseAND((1 << _PLACE_BITS) - 1)
    return tagged.withColumn(name, (offset + place).cast("long")).drop(_TAG)


def _below_counts(splits: list[list[float]]):
    """A mapInPandas function: per column i and bucket j, how many rows have exactly j of splits[i] at or
    below their value; and, as column -1, how many rows there are. NaN and null fall in no bucket."""

    def count(batches):
        import numpy as np
        import pandas as pd

        cuts = [np.asarray(s, dtype="float64") for s in splits]
        acc = [np.zeros(len(s) + 1, dtype="int64") for s in cuts]
        rows = 0
        for pdf in batches:
            rows += len(pdf)
            for i, s in enumerate(cuts):
                x = pdf[f"_in{i}"].to_numpy(dtype="float64", na_value=np.nan)
                acc[i] += np.bincount(np.searchsorted(s, x[~np.isnan(x)], side="right"), minlength=len(s) + 1)
        parts = [pd.DataFrame({"_col": [-1], "_bucket": [0], "count": [rows]})]
        for i, a in enumerate(acc):
            nz = np.flatnonzero(a)
            parts.append(pd.DataFrame({"_col": i, "_bucket": nz, "count": a[nz]}))
        yield pd.concat(parts).astype({"_col": "int32", "_bucket": "int32", "count": "int64"})

    return count


def percent_below(population: DataFrame, rows: DataFrame, columns: list[str], digits: int = 1) -> DataFrame:
    """`rows` with a `<column>_pct` for each column: the percent of `population`'s rows with a smaller
    value, exact, rounded to `digits`. Null for a null, NaN or infinite value.

    `percent_rank()` would sort the whole population in one task. Instead, the distinct values of
    `rows` (a block list: thousands, not millions) are the cut points of one pass over the population
    that counts, per column, the rows between consecutive cuts; the driver sums the counts below each
    value. The pass is vectorised Python (numpy's searchsorted): Spark ML's Bucketizer does the same
    in the JVM, but names each of its buckets in the column's metadata, and that alone took 18 s for
    240,000 cuts before any row was read.
    """
    import numpy as np
    import pandas as pd

    spark = rows.sparkSession
    found = rows.agg(*[F.collect_set(F.col(c).cast("double")).alias(c) for c in columns]).first()
    values = {c: sorted({float(v) for v in found[c] if math.isfinite(v)}) for c in columns}
    values = {c: v for c, v in values.items() if v}  # a set drops nulls; NaN and infinities have no rank
    out = rows.select("*", *[F.lit(None).cast("double").alias(f"{c}_pct") for c in columns if c not in values])
    if not values:
        return out
    names = list(values)
    counts = (
        population.select(*[F.col(c).cast("double").alias(f"_in{i}") for i, c in enumerate(names)])
        .mapInPandas(_below_counts([values[c] for c in names]), "_col int, _bucket int, count long")
        .groupBy("_col", "_bucket")
        .agg(F.sum("count").alias("count"))
        .toPandas()
    )
    n = int(counts.loc[counts["_col"] == -1, "count"].sum())
    for i, c in enumerate(names):
        # a row is smaller than value j when at most j of the cut points are at or below it
        per_bucket = np.zeros(len(values[c]) + 1, dtype="int64")
        mine = counts[counts["_col"] == i]
        per_bucket[mine["_bucket"].to_numpy()] = mine["count"].to_numpy()
        pct = [round(int(k) / n * 100, digits) if n else None for k in np.cumsum(per_bucket)[: len(values[c])]]
        table = spark.createDataFrame(pd.DataFrame({_V: values[c], f"{c}_pct": pct}))
        out = out.withColumn(_V, F.col(c).cast("double")).join(F.broadcast(table), _V, "left").drop(_V)
    return out.select(*rows.columns, *[f"{c}_pct" for c in columns])
