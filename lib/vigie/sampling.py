"""Random draws that depend on the rows, not on how Spark has partitioned them.

`F.rand(seed)` seeds each partition by its index, so the same table and seed give other draws when the
scan splits it differently: on a laptop and on a cluster, or after a table compaction. A stage that
samples or splits with it cannot be reproduced from its seed. These draws hash the rows' keys instead.
"""

from __future__ import annotations

import math

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

_BITS = 53  # a double holds 53-bit integers exactly


def stable_uniform(seed: int, *keys: str | Column) -> Column:
    """A draw in [0, 1) from the key columns and the seed: the same for a row wherever it lives.

    >>> df.where(stable_uniform(7, "tweet_id") < 0.1)  # doctest: +SKIP
    """
    if not keys:
        raise ValueError("stable_uniform needs at least one key column")
    bits = F.shiftrightunsigned(F.xxhash64(F.lit(seed), *keys), 64 - _BITS)
    return bits.cast("double") / float(1 << _BITS)


def stable_layout(df: DataFrame, key: str, rows: int, rows_per_partition: int = 100_000) -> DataFrame:
    """`df` in partitions and an order that depend on its rows alone: hashed by `key` (unique per row)
    into ceil(rows / rows_per_partition) partitions, sorted by `key` inside each.

    For estimators that draw per partition, such as SynapseML's IsolationForest: it seeds each
    partition by its index, so the same rows scanned into other partitions grow another forest.
    The partition count depends on the data, never on the machine; at 100,000 rows a partition a
    million tweets still keep every core of a laptop busy (one partition per million made the
    forest's fit a third slower on 2 cores)."""
    partitions = max(1, math.ceil(rows / rows_per_partition))
    return df.repartition(partitions, key).sortWithinPartitions(key)
