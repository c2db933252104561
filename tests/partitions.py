"""The same rows laid out three ways, for tests of results that must depend on the rows alone."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def three_layouts(df: DataFrame, seed: int = 11) -> list[DataFrame]:
    """`df` in one partition, hashed into five, and shuffled into three in another order: a laptop, a
    cluster, and the same table after a compaction."""
    return [df.coalesce(1), df.repartition(5), df.orderBy(F.rand(seed)).repartition(3)]
