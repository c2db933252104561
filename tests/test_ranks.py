"""Exact ranks without a global sort: checked against numpy, and the same however the rows are laid out."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from pyspark.sql import functions as F

from tests.partitions import three_layouts
from vigie.ranks import _finite, _walk, first_k, kth_largest, numbered, percent_below
from vigie.session import sql_conf

N = 60_000  # past the quantile sketch's exact range: at error 1e-4 it is 6 ranks off here


@pytest.fixture(scope="module")
def values(spark):
    rng = random.Random(1)
    # s: all distinct; x: two decimals, a third of the rows tied at 0, some null and NaN
    rows = [
        (i, rng.random(), None if i % 997 == 0 else math.nan if i % 991 == 0 else round(rng.random(), 2) * (i % 3 > 0))
        for i in range(N)
    ]
    return rows, spark.createDataFrame(rows, "user_id long, s double, x double").cache()


@pytest.mark.parametrize("column", ["s", "x"])
def test_kth_largest_is_exact_however_partitioned(values, column):
    rows, df = values
    col = 1 if column == "s" else 2
    truth = np.sort([r[col] for r in rows if r[col] is not None and not math.isnan(r[col])])[::-1]
    for k in (1, round(0.02 * N), len(truth)):
        got = {kth_largest(frame, column, k) for frame in three_layouts(df)}
        assert got == {truth[k - 1]}, (column, k)


def test_flagging_at_the_sketch_threshold_would_overshoot(values):
    # why the sketch alone is not enough: its value for the top 2% sits a few ranks too low
    rows, df = values
    k = round(0.02 * N)
    sketch = df.approxQuantile("s", [1 - k / N], 1e-4)[0]
    assert sum(r[1] >= sketch for r in rows) != k
    exact = kth_largest(df, "s", k)
    assert sum(r[1] >= exact for r in rows) == k


def test_a_missed_bracket_is_detected_and_the_full_walk_finds_the_value(values):
    rows, df = values
    v = _finite(df, "s")
    truth = sorted(r[1] for r in rows)
    assert _walk(v, truth[100], truth[200], 50) is None  # bracket above the rank
    assert _walk(v, truth[100], truth[200], 500) is None  # bracket below it
    assert _walk(v, truth[100], truth[200], 150) == truth[149]
    assert _walk(v, -math.inf, math.inf, 150) == truth[149]


def test_kth_largest_names_a_k_out_of_range(values):
    _, df = values
    with pytest.raises(ValueError, match="between 1 and the 60000 non-null values of 's'"):
        kth_largest(df, "s", 0)


def test_first_k_is_the_window_order_with_ties_broken_by_key_however_partitioned(spark):
    rng = random.Random(2)
    rows = [(i, round(rng.random(), 2)) for i in range(6000)]  # about 100 values, each about 60 times
    df = spark.createDataFrame(rows, "user_id long, x double")
    order = sorted((x, u) for u, x in rows)
    layouts = [frame.cache() for frame in three_layouts(df)]
    for k in (0, 1, 1777, 5999, 6000):
        want = {u for _, u in order[:k]}
        if 0 < k < 6000:
            assert order[k - 1][0] == order[k][0]  # the cut falls inside a run of ties
        for frame in layouts:
            got = {r.user_id for r in frame.filter(first_k(frame, "x", "user_id", k)).select("user_id").collect()}
            assert got == want, k


# 7 range partitions kept apart; the same, with adaptive execution merging neighbours into ~30 kB
# parts; and the test session's own settings, where the small input becomes one partition
SPREAD = {"spark.sql.shuffle.partitions": "7", "spark.sql.adaptive.coalescePartitions.enabled": "false"}
MERGED = {
    "spark.sql.shuffle.partitions": "7",
    "spark.sql.adaptive.advisoryPartitionSizeInBytes": "30k",
    "spark.sql.adaptive.coalescePartitions.minPartitionSize": "1",
}


@pytest.mark.parametrize(
    "conf, files", [(SPREAD, {7}), (MERGED, {2, 3, 4, 5, 6}), ({}, {1})], ids=["spread", "merged", "session"]
)
def test_numbered_is_the_window_row_number_however_partitioned(spark, conf, files):
    rng = random.Random(3)
    # n: 40 values, each ~75 times, so the order turns on the second key; m: unique
    rows = [(i, rng.randrange(40), f"m{rng.random():.12f}") for i in range(3000)]
    df = spark.createDataFrame(rows, "id long, n long, m string")
    want = {i: k for k, (_, _, i) in enumerate(sorted((-n, m, i) for i, n, m in rows))}
    for frame in three_layouts(df):
        with sql_conf(spark, conf):
            out = numbered(frame, [F.col("n").desc(), F.col("m")], "k")
        assert len(out.inputFiles()) in files  # one file per partition that held rows
        got = {r.id: r.k for r in out.select("id", "k").collect()}
        assert got == want
        assert out.columns == ["id", "n", "m", "k"]


def test_numbered_of_no_rows_is_empty(spark):
    empty = spark.createDataFrame([], "id long")
    assert numbered(empty, [F.col("id")], "k").count() == 0


def test_percent_below_is_exact_with_ties_nulls_and_any_layout(values):
    rows, df = values
    x = np.array([np.nan if r[2] is None else r[2] for r in rows])
    picked = df.filter("user_id % 37 = 0 OR user_id % 997 = 0 OR user_id % 991 = 0")
    want = {}
    for r in picked.collect():
        ok = r.x is not None and not math.isnan(r.x)
        want[r.user_id] = round(float((x < r.x).sum()) / N * 100, 1) if ok else None
    assert any(v == 0.0 for v in want.values()) and None in want.values()
    for frame in three_layouts(df):
        got = {r.user_id: r.x_pct for r in percent_below(frame, picked, ["x"]).collect()}
        assert got == want


def test_percent_below_of_no_rows_is_an_empty_column(spark):
    pop = spark.createDataFrame([(1, 0.5)], "user_id long, x double")
    out = percent_below(pop, pop.limit(0), ["x"])
    assert out.columns == ["user_id", "x", "x_pct"] and out.count() == 0


def test_percent_below_counts_infinities_and_gives_no_rank_to_what_has_no_value(spark):
    inf = math.inf
    pop = spark.createDataFrame(
        [(1, -inf), (2, 0.5), (3, 0.5), (4, 2.0), (5, inf), (6, math.nan), (7, None), (8, 3.0)],
        "user_id long, x double",
    )
    got = {r.user_id: r.x_pct for r in percent_below(pop, pop, ["x"], digits=2).collect()}
    # of 8 accounts: -inf is below 0.5; -inf and both 0.5 are below 2.0; and so on
    assert got == {1: None, 2: 12.5, 3: 12.5, 4: 37.5, 5: None, 6: None, 7: None, 8: 50.0}
