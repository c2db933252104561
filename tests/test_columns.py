"""Shared column helpers."""

from __future__ import annotations

from pyspark.sql import functions as F

from vigie.columns import collect_in_order


def test_collect_in_order_follows_the_rank_not_the_shuffle(spark):
    rows = [(g, r, f"{g}-{r}") for g in range(3) for r in range(40)]
    df = spark.createDataFrame(rows, "g int, r int, v string").orderBy(F.rand(5)).repartition(6)
    got = {row.g: row.vs for row in df.groupBy("g").agg(collect_in_order("r", F.col("v")).alias("vs")).collect()}
    assert got == {g: [f"{g}-{r}" for r in range(40)] for g in range(3)}
