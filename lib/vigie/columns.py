"""Column helpers shared by the stages."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F


def collect_in_order(rank: str | Column, value: str | Column) -> Column:
    """An aggregate: the group's `value`s as an array ordered by `rank`. A plain collect_list keeps the
    order rows arrive from the shuffle, which changes from run to run.

    >>> df.groupBy("user_id").agg(collect_in_order("n", "text").alias("texts"))  # doctest: +SKIP
    """
    rank, value = F.col(rank) if isinstance(rank, str) else rank, F.col(value) if isinstance(value, str) else value
    pairs = F.array_sort(F.collect_list(F.struct(rank.alias("rank"), value.alias("value"))))
    return F.transform(pairs, lambda p: p["value"])
