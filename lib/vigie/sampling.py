"""Random draws that depend on the rows, not on how Spark has partitioned them.

`F.rand(seed)` seeds each partition by its index, so the same table and seed give other draws when the
scan splits it differently: on a laptop and on a cluster, or after a table compaction. A stage that
samples or splits with it cannot be reproduced from its seed. These draws hash the rows' keys instead.
"""

from __future__ import annotations

from pyspark.sql import Column
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
