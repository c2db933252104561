"""Draws from the rows' keys: uniform, and the same however Spark has partitioned the rows."""

from __future__ import annotations

import pytest

from tests.partitions import three_layouts
from vigie.sampling import stable_uniform


def test_draws_are_uniform_and_follow_the_rows_not_the_partitions(spark):
    df = spark.range(20_000).withColumnRenamed("id", "tweet_id")

    def draws(frame, seed=1):
        return dict(frame.select("tweet_id", stable_uniform(seed, "tweet_id").alias("u")).collect())

    one, *others = (draws(frame) for frame in three_layouts(df))
    assert others == [one, one]
    assert min(one.values()) >= 0.0 and max(one.values()) < 1.0
    deciles = [sum(1 for u in one.values() if k / 10 <= u < (k + 1) / 10) for k in range(10)]
    assert all(1800 < n < 2200 for n in deciles), deciles  # 2,000 expected in each, sd about 42
    other = draws(df, seed=2)
    assert sum(one[i] == other[i] for i in one) < 5  # another seed, other draws


def test_draws_need_a_key():
    with pytest.raises(ValueError, match="key column"):
        stable_uniform(1)


def test_layout_depends_on_the_rows_alone(spark):
    from vigie.sampling import stable_layout

    df = spark.range(2500).withColumnRenamed("id", "tweet_id")
    layouts = [
        stable_layout(frame, "tweet_id", 2500, rows_per_partition=1000).rdd.glom().map(lambda p: [r[0] for r in p])
        for frame in three_layouts(df)
    ]
    first = layouts[0].collect()
    assert len(first) == 3  # ceil(2,500 / 1,000)
    assert all(part == sorted(part) for part in first) and sum(map(len, first)) == 2500
    assert all(other.collect() == first for other in layouts[1:])
