"""Study B: bot features with known answers, and the model scored against the generator's planted bots."""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import string
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.sql import functions as F

from tests.partitions import three_layouts
from vigie.bots import BLOCKLIST, BOT_SCORES, USER_FEATURES, run_bots
from vigie.config import BotsConfig, MlflowConfig
from vigie.features.bots import BZ2_OVERHEAD, BotFeatureConfig, user_features
from vigie.models.bots import FEATURES, with_weak_label


def test_near_grid_and_templates_with_known_answers(spark):
    from vigie.features.bots import near_grid, template_text

    rows = [(600.0,), (1190.0,), (1230.0,), (540.0,), (30.0,), (1800.0,)]
    df = spark.createDataFrame(rows, "gap double")
    got = [r[0] for r in df.select(near_grid(F.col("gap"), 600, 30)).collect()]
    assert got == [True, True, True, False, False, True]
    texts = [("Score 2-1 at 45' https://t.co/x1  #WorldCup",), ("Score 10-0 at 90' #WorldCup",), ("no digits",)]
    t = spark.createDataFrame(texts, "text string")
    got = [r[0] for r in t.select(template_text(F.col("text"))).collect()]
    assert got == ["Score 0-0 at 0'   #WorldCup", "Score 0-0 at 0' #WorldCup", "no digits"]


def test_bz2_size_at_a_lower_level_equals_level_nine():
    import bz2

    from vigie.features.bots import bz2_size

    rng = random.Random(7)
    # around the one-block limit of level 1 (100 kB), for random bytes and for runs of four, which
    # bz2's first pass grows by a quarter
    for n in (0, 1, 200, 5000, 79_000, 79_980, 80_000, 99_000, 99_990, 100_000, 130_000):
        random_bytes = rng.randbytes(n)
        runs_of_four = b"".join(bytes([rng.randrange(256)]) * 4 for _ in range(n // 4))
        for raw in (random_bytes, runs_of_four):
            assert bz2_size(raw) == len(bz2.compress(raw, 9)), n


def test_features_of_a_scheduler_and_a_person(spark):
    t0 = datetime(2018, 6, 20, 12)
    rng = random.Random(1)
    rows = []
    for i in range(40):  # a scheduler: every 10 minutes, a template with changing numbers
        rows.append(
            (
                1,
                "sched",
                1000 + i,
                t0 + timedelta(seconds=600 * i + rng.uniform(-5, 5)),
                f"Score {i % 3}-{i % 2} live #WorldCup",
            )
        )

    def free_text() -> str:
        return " ".join("".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9))) for _ in range(12))

    for i in range(40):  # a person: irregular gaps, free text
        rows.append((2, "human", 2000 + i, t0 + timedelta(seconds=rng.uniform(0, 86400)), free_text()))
    tweets = spark.createDataFrame(
        rows, "user_id long, screen_name string, tweet_id long, created_at timestamp, text string"
    )
    got = {r["user_id"]: r for r in user_features(tweets, BotFeatureConfig(min_tweets=5)).collect()}
    assert got[1]["is_near_rate"] == 1.0
    assert got[2]["is_near_rate"] < 0.3
    assert got[1]["uniq_ratio"] == pytest.approx(1 / 40)  # one template once digits are masked
    assert got[2]["uniq_ratio"] == 1.0
    assert got[1]["compression_ratio"] < 0.5 * got[2]["compression_ratio"]
    assert got[1]["tweet_count"] == got[2]["tweet_count"] == 40


def test_feature_aggregation_runs_over_the_window_order_with_the_same_result(spark):
    import re
    from collections import Counter

    from vigie.features.bots import FEATURE_SQL_CONF
    from vigie.session import sql_conf

    key = next(iter(FEATURE_SQL_CONF))
    rng = random.Random(3)
    t0 = datetime(2018, 6, 20, 12)
    rows = [
        (
            u,
            f"user{u}",
            rng.randrange(10**9),
            t0 + timedelta(seconds=rng.randrange(86400)),
            f"tweet {rng.randrange(50)}",
        )
        for u in range(30)
        for _ in range(rng.randint(3, 40))
    ]
    rng.shuffle(rows)
    tweets = spark.createDataFrame(
        rows, "user_id long, screen_name string, tweet_id long, created_at timestamp, text string"
    ).repartition(3)
    cfg = BotFeatureConfig(min_tweets=5)
    assert spark.conf.get(key, None) is None
    default = user_features(tweets, cfg)
    expected = sorted(default.collect())
    with sql_conf(spark, FEATURE_SQL_CONF):
        tuned = user_features(tweets, cfg)
        got = sorted(tuned.collect())
        plan = tuned._jdf.queryExecution().executedPlan().toString().split("== Initial Plan ==")[0]  # as run
    assert spark.conf.get(key, None) is None  # the block restores the session
    assert got == expected and len(got) == sum(n >= 5 for n in Counter(r[0] for r in rows).values())
    # one sort (the window's); the aggregation streams over its order instead of hashing every user
    assert "SortAggregate" in plan and "HashAggregate" not in plan, plan
    assert len(re.findall(r"\bSort \[", plan)) == 1, plan
    assert "SortAggregate" not in default._jdf.queryExecution().executedPlan().toString()


def test_compression_ratio_corrects_bz2_header_overhead(spark):
    from vigie.features.bots import bz2_ratio

    text = "x" * 300
    df = spark.createDataFrame([(text,)], "t string")
    import bz2

    expected = (len(bz2.compress(text.encode(), 9)) - BZ2_OVERHEAD) / 300
    assert df.select(bz2_ratio("t")).first()[0] == pytest.approx(expected)
    assert BZ2_OVERHEAD > 10


def test_bz2_ratio_of_takes_text_or_bytes_and_has_no_ratio_for_nothing():
    from vigie.features.bots import bz2_ratio_of

    text = "coupon 10% off, click now\n" * 20 + "été"
    assert bz2_ratio_of(text) == bz2_ratio_of(text.encode("utf-8"))
    assert bz2_ratio_of(text) < 0.2  # a template repeated 20 times compresses hard
    assert bz2_ratio_of(None) is None and bz2_ratio_of("") is None and bz2_ratio_of(b"") is None


@pytest.fixture(scope="module")
def bots_run(spark, world_cup_lake):
    lake, truth = world_cup_lake
    mlflow_cfg = MlflowConfig(tracking_uri=f"file://{lake}/mlruns", experiment="vigie-tests")
    summary = run_bots(spark, lake, BotsConfig(), mlflow_cfg)
    return lake, summary, truth


def test_scores_find_the_planted_bots(spark, bots_run):
    lake, _, truth = bots_run
    bots = spark.createDataFrame([(b, 1.0) for b in truth["bots"]], "user_id long, is_bot double")
    scores = spark.read.format("delta").load(f"{lake}/{BOT_SCORES}")
    labelled = scores.join(bots, "user_id", "left").fillna(0.0, ["is_bot"])
    auc = BinaryClassificationEvaluator(rawPredictionCol="score", labelCol="is_bot").evaluate(labelled)
    assert auc >= 0.95
    flagged = labelled.filter("flagged")
    precision = flagged.agg(F.avg("is_bot")).first()[0]
    print(f"\nplanted-bot AUC {auc:.3f}; precision among the flagged {flagged.count()} accounts {precision:.2f}")
    assert precision >= 0.5


def test_flag_rate_threshold_and_recall_beyond_the_suffix(spark, bots_run):
    lake, summary, _ = bots_run
    scores = spark.read.format("delta").load(f"{lake}/{BOT_SCORES}")
    n, flagged = scores.count(), scores.filter("flagged").count()
    assert flagged == round(0.02 * n)  # exactly the flag rate, even with tied scores
    assert scores.select("threshold").distinct().count() == 1
    assert summary["flagged_without_suffix"] > 0  # the point of the study: bots without `_bot`


def test_weak_label_auc_is_as_good_as_knowing_the_bots(spark, bots_run):
    # The weak label is noisy (humans with the suffix, bots without), which caps any AUC against it.
    # An oracle that scores the planted bots 1 and everyone else 0 shows where that cap is.
    lake, _, truth = bots_run
    bots = spark.createDataFrame([(b, 1.0) for b in truth["bots"]], "user_id long, oracle double")
    scored = (
        spark.read.format("delta").load(f"{lake}/{BOT_SCORES}").join(bots, "user_id", "left").fillna(0.0, ["oracle"])
    )
    evaluate = BinaryClassificationEvaluator(labelCol="weak_label").setRawPredictionCol
    model_auc, oracle_auc = evaluate("score").evaluate(scored), evaluate("oracle").evaluate(scored)
    print(f"\nAUC against the weak label: model {model_auc:.3f}, oracle {oracle_auc:.3f}")
    assert model_auc >= oracle_auc - 0.05


def test_blocklist_carries_its_evidence(spark, bots_run):
    lake, summary, _ = bots_run
    scored = spark.read.format("delta").load(f"{lake}/{BOT_SCORES}").toPandas().set_index("user_id")
    with open(f"{lake}/{BLOCKLIST}", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == summary["blocklisted"] == summary["flagged"]
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    for a, b in itertools.pairwise(rows):  # ties: the more periodic account first
        if a["score"] == b["score"]:
            assert float(a["is_near_rate"]) >= float(b["is_near_rate"])
    for col in ("compression_ratio", "is_near_rate", "uniq_ratio", "is_near_rate_pct", "has_bot_suffix"):
        assert col in rows[0]
    assert all(len(r["sample_tweets"].split(" || ")) == 3 for r in rows)
    for r in rows:  # each rank is the exact percent of scored accounts with a smaller value
        for f in FEATURES:
            value = scored.at[int(r["user_id"]), f]
            assert float(r[f"{f}_pct"]) == round(float((scored[f] < value).sum()) / len(scored) * 100, 1), (r, f)


def test_run_is_tracked_in_mlflow_with_a_registered_model(bots_run):
    import mlflow

    lake, summary, _ = bots_run
    client = mlflow.MlflowClient(tracking_uri=f"file://{lake}/mlruns")
    run = client.get_run(summary["mlflow_run_id"])
    assert run.data.params["numThreads"] == "2"  # the executor's cores, not LightGBM's guess
    assert run.data.params["dataTransferMode"] == "bulk"
    assert run.data.params["input.silver/tweets.delta_version"] == str(summary["input_versions"]["silver/tweets"])
    assert run.data.metrics["validation_auc_weak_label"] == pytest.approx(
        summary["validation_auc_weak_label"], abs=1e-4
    )
    arts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"roc_validation.png", "feature_importance.json", "native", "exports"} <= arts
    versions = client.search_model_versions("name='vigie-bots'")
    assert any(v.run_id == run.info.run_id for v in versions)
    native = mlflow.lightgbm.load_model(summary["model_uri"])  # scores without a JVM
    assert native.num_feature() == 3
    # declared signature: the three features in, the probability out; the pyfunc scores as the booster does
    info = mlflow.models.get_model_info(summary["model_uri"])
    assert info.signature.inputs.input_names() == FEATURES
    rows = pd.read_csv(f"{lake}/{BLOCKLIST}")[FEATURES].head(20)
    scored = mlflow.pyfunc.load_model(summary["model_uri"]).predict(rows)
    assert np.allclose(np.asarray(scored).ravel(), native.predict(rows))


def test_the_registered_model_flags_without_a_jvm_what_the_run_flagged(spark, bots_run):
    # What a service does: load the registered model and its flag rule, score the features, flag.
    import mlflow

    from vigie.models.flag_rule import FlagRule

    lake, summary, _ = bots_run
    mlflow.set_tracking_uri(f"file://{lake}/mlruns")
    native = mlflow.lightgbm.load_model(summary["model_uri"])
    rule = FlagRule.from_dict(mlflow.models.get_model_info(summary["model_uri"]).metadata["flag_rule"])
    gold = spark.read.format("delta").load(f"{lake}/{BOT_SCORES}").toPandas()
    scores = native.predict(gold[FEATURES])
    assert (scores == gold["score"]).all()  # the same trees, to the last bit
    assert rule.threshold == summary["threshold"]
    flags = rule.flags(gold, scores)
    assert flags.sum() == summary["flagged"]
    assert (flags == gold["flagged"]).all()
    tied = (scores == rule.threshold).sum()
    assert summary["tied_at_threshold"] == tied  # reported with the run, and in MLflow
    print(f"\n{tied} accounts tie at the threshold; the rule flags {flags.sum()} of {len(gold)}")


def test_gold_features_table_has_one_row_per_scored_user(spark, bots_run):
    lake, _, _ = bots_run
    feats = spark.read.format("delta").load(f"{lake}/{USER_FEATURES}")
    assert feats.count() == feats.select("user_id").distinct().count()
    assert feats.filter("tweet_count < 5").count() == 0


def test_real_newsfeed_and_commercial_timelines_post_like_schedulers(spark, shared_data):
    # shared/data README: NewsFeed and Commercial accounts behave like automated ones; the trolls do not.
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bots_real_timelines.py"
    spec = importlib.util.spec_from_file_location("bots_real_timelines", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    tweets, authors = bench.load_timelines(shared_data)
    table = bench.summarise(bench.feature_table(spark, tweets, authors))
    automated = table.loc[["NewsFeed", "Commercial"], "near_rate_median"]
    trolls = table.loc[["LeftTroll", "RightTroll", "Fearmonger", "HashtagGamer"], "near_rate_median"]
    assert automated.min() > 2 * trolls.max()
    assert table.loc["Commercial", "uniq_median"] < table.loc[["LeftTroll", "RightTroll"], "uniq_median"].min()


def test_validation_split_always_holds_some_of_a_rare_label(spark):
    from vigie.models.bots import with_validation_split

    rows = [(i, 1.0 if i < 4 else 0.0) for i in range(400)]
    df = spark.createDataFrame(rows, "user_id long, weak_label double")
    for seed in range(5):
        split = with_validation_split(df, 0.25, seed)
        pos_val = split.filter("weak_label = 1 AND is_validation").count()
        assert pos_val == 1  # ceil(0.25 * 4), never 0 and never all four
        assert split.count() == 400
        neg_share = split.filter("weak_label = 0").agg(F.avg(F.col("is_validation").cast("double"))).first()[0]
        assert 0.15 < neg_share < 0.35


def test_validation_split_does_not_depend_on_how_the_rows_are_partitioned(spark):
    """The same users and seed give the same split on a laptop and on a cluster (other scan partitions)."""
    from vigie.models.bots import with_validation_split

    rows = [(i, 1.0 if i % 50 == 0 else 0.0) for i in range(2000)]
    df = spark.createDataFrame(rows, "user_id long, weak_label double")

    def held_out(frame, seed=7):
        split = with_validation_split(frame, 0.25, seed)
        return {r.user_id for r in split.filter("is_validation").select("user_id").collect()}

    one, *others = (held_out(frame) for frame in three_layouts(df))
    assert others == [one, one]
    assert one != held_out(df.coalesce(1), seed=8)


def test_validation_split_leaves_the_positives_in_their_partitions(spark):
    # ranking the positives with an unpartitioned window sent every one of them to a single task
    from vigie.models.bots import with_validation_split

    rows = [(i, 1.0 if i % 10 == 0 else 0.0) for i in range(4000)]
    df = spark.createDataFrame(rows, "user_id long, weak_label double").repartition(6, "user_id")
    split = with_validation_split(df, 0.25, 3).filter("weak_label = 1")
    held = F.sum(F.col("is_validation").cast("int")).alias("held")
    tasks = split.groupBy(F.spark_partition_id().alias("p")).agg(F.count("*").alias("n"), held).collect()
    assert len(tasks) == 6 and max(t["n"] for t in tasks) < 400 / 3
    assert sum(t["held"] for t in tasks) == 100


def test_roc_points_match_sklearn_and_stay_few_however_many_accounts(spark):
    from sklearn.metrics import roc_auc_score, roc_curve

    from vigie.models.bots import roc_points

    rng = np.random.default_rng(4)
    y = (rng.random(40_000) < 0.1).astype(float)
    noise = rng.normal(0.0, 0.25, len(y))
    exact = np.clip(0.3 + 0.4 * y + noise, 0, 1).round(3)  # three decimals: rounding to four loses nothing
    fine = np.clip(0.3 + 0.4 * y + noise, 0, 1)  # about 40,000 distinct scores
    df = spark.createDataFrame(pd.DataFrame({"weak_label": y, "score": exact, "fine": fine}))

    fpr, tpr = roc_points(df)
    want_fpr, want_tpr, _ = roc_curve(y, exact, drop_intermediate=False)
    assert len(fpr) == len(want_fpr) > 500  # a point per distinct score, after sklearn's (0, 0)
    assert np.allclose(fpr, want_fpr) and np.allclose(tpr, want_tpr)

    fpr, tpr = roc_points(df, score="fine")
    assert len(fpr) <= 10_002 and fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1
    assert np.trapz(tpr, fpr) == pytest.approx(roc_auc_score(y, fine), abs=1e-3)


def test_flagging_fills_ties_at_the_threshold_by_evidence(spark):
    from vigie.models.bots import BotModelConfig, flag, flag_rule

    rows = [(i, 0.9 if i < 3 else 0.5, 0.1 * (i % 10), 0.3) for i in range(100)]  # 97 users tie at 0.5
    scored = spark.createDataFrame(rows, "user_id long, score double, is_near_rate double, compression_ratio double")
    out = flag(scored, flag_rule(scored, BotModelConfig(flag_rate=0.05))).filter("flagged").select("user_id").collect()
    assert sorted(r[0] for r in out) == [0, 1, 2, 9, 19]  # the 3 above, then the ties with most periodicity


def _tied_accounts() -> pd.DataFrame:
    """200 accounts, 150 of them tied at 0.5, with few distinct values and missing ones in both tie keys."""
    rng = random.Random(11)
    near = [None, 0.0, 0.25, 0.5]
    ratio = [None, 0.2, 0.4]
    return pd.DataFrame(
        {
            "user_id": rng.sample(range(10_000), 200),
            "score": [0.9 if i < 20 else 0.5 if i < 170 else 0.1 for i in range(200)],
            "is_near_rate": [rng.choice(near) for _ in range(200)],
            "compression_ratio": [rng.choice(ratio) for _ in range(200)],
        }
    )


def test_the_flag_rule_flags_in_pandas_the_accounts_spark_flags(spark):
    # A service scores with the native model and no JVM: the recorded rule must flag there exactly the
    # accounts the batch run flagged, whatever the share of the ties it had to take.
    from vigie.models.bots import BotModelConfig, flag, flag_rule
    from vigie.models.flag_rule import TIE_ORDER, FlagRule

    accounts = _tied_accounts()
    schema = "user_id long, score double, is_near_rate double, compression_ratio double"
    nulls = accounts.astype(object).where(accounts.notna(), None)  # NaN in pandas, null in Spark
    df = spark.createDataFrame(list(nulls.itertuples(index=False, name=None)), schema)
    key = accounts.assign(
        near_missing=accounts["is_near_rate"].isna(),
        near=-accounts["is_near_rate"].fillna(0),
        ratio_missing=accounts["compression_ratio"].isna(),
        ratio=accounts["compression_ratio"].fillna(0),
    )
    tie_order = key[key["score"] == 0.5].sort_values(["near_missing", "near", "ratio_missing", "ratio", "user_id"])
    for rate in (0.11, 0.3, 0.5, 0.84, 0.85):  # the cut among known values, among missing ones, at the last tie
        k = round(rate * len(accounts))
        expected = set(accounts.loc[accounts["score"] > 0.5, "user_id"]) | set(tie_order["user_id"].head(k - 20))
        for frame in three_layouts(df):
            rule = flag_rule(frame, BotModelConfig(flag_rate=rate))
            assert rule.threshold == 0.5
            in_spark = {r.user_id for r in flag(frame, rule).filter("flagged").select("user_id").collect()}
            assert in_spark == expected, rate
        served = FlagRule.from_dict(json.loads(json.dumps(rule.to_dict())))  # as stored with the model
        in_pandas = accounts.loc[served.flags(accounts, accounts["score"]), "user_id"]
        assert set(in_pandas) == expected, rate
    every_tie = FlagRule(0.5).flags(accounts, accounts["score"])  # a target recall flags every tie
    assert every_tie.sum() == 170
    with pytest.raises(ValueError, match="orders ties by"):  # a rule cut in another order is refused
        FlagRule.from_dict({**rule.to_dict(), "tie_order": ["is_near_rate asc nulls last", *TIE_ORDER[1:]]})


def test_blocklist_samples_are_the_latest_tweets_newest_first_however_partitioned(spark):
    from vigie.bots import blocklist

    scores = spark.createDataFrame(
        [(u, f"acct{u}", 0.9 - u / 100, 1.0, 40, 0.2, 0.8, 0.5, u < 3) for u in range(6)],
        "user_id long, screen_name string, score double, weak_label double, tweet_count long, "
        "compression_ratio double, is_near_rate double, uniq_ratio double, flagged boolean",
    )
    t0 = datetime(2018, 6, 20, 12, 0)
    # user u's tweet k at minute k; tweets 10 and 11 share the latest second, so tweet_id breaks the tie
    tweets = spark.createDataFrame(
        [
            (u, u * 100 + k, t0 + timedelta(minutes=min(k, 10)), f"u{u}  tweet\n{k}")
            for u in range(6)
            for k in range(12)
        ],
        "user_id long, tweet_id long, created_at timestamp, text string",
    )
    expected = {u: f"u{u} tweet 11 || u{u} tweet 10 || u{u} tweet 9" for u in range(3)}
    for frame in three_layouts(tweets):
        got = {r.user_id: r.sample_tweets for r in blocklist(scores, frame).collect()}
        assert got == expected


def test_threshold_flags_exactly_the_rate_or_exactly_reaches_the_recall(spark):
    # 30,000 accounts: past the size where Spark's quantile sketch is exact. Its threshold for the top
    # 2% sat ranks too low, and flagged more accounts than the rate, a different count per layout.
    from vigie.models.bots import BotModelConfig, flag, flag_rule

    rng = random.Random(5)
    rows = [(u, rng.random(), float(u % 20 == 0), 0.5, 0.4) for u in range(30_000)]
    df = spark.createDataFrame(
        rows, "user_id long, score double, weak_label double, is_near_rate double, compression_ratio double"
    )
    scores = sorted((r[1] for r in rows), reverse=True)
    for frame in three_layouts(df):
        rule = flag_rule(frame, BotModelConfig())
        assert rule.threshold == scores[599]
        assert flag(frame, rule).filter("flagged").count() == 600
    positives = sorted((r[1] for r in rows if r[2] == 1.0), reverse=True)  # 1,500
    t = flag_rule(df, BotModelConfig(target_recall=0.8)).threshold
    assert t == positives[1199]  # the highest threshold that reaches 80% of the weak label
    recall = df.filter("weak_label = 1").agg(F.avg((F.col("score") >= t).cast("double"))).first()[0]
    assert recall == 0.8


def test_csv_export_streams_a_partition_at_a_time_and_writes_what_pandas_would(spark, tmp_path):
    # the block list is 2% of all accounts with three sample tweets each; at Study B's 24M accounts it
    # is about 620 MB, and collecting it whole ran a 1 GB heap out of memory (benchmarks/bots_scale.py)
    from vigie import tables

    rng = np.random.default_rng(5)
    n = 2_000
    pdf = pd.DataFrame(
        {
            "user_id": np.arange(n, dtype="int64"),
            "screen_name": [f'ユーザー_{i}, "q"\n' if i % 7 == 0 else f"u{i}" for i in range(n)],
            "score": rng.random(n).round(4),
            "tweet_count": rng.integers(5, 500, n),
            "uniq_ratio_pct": [None if i % 13 == 0 else float(i % 1000) / 10 for i in range(n)],
        }
    )
    nan = F.when(F.col("user_id") % 11 == 0, F.lit(float("nan"))).otherwise(F.col("score"))  # NaN, not null
    df = spark.createDataFrame(pdf).withColumn("score", nan).repartition(3)
    order = [F.col("score").desc(), F.col("user_id")]
    want = df.orderBy(*order).toPandas().to_csv(index=False)
    for i, (frame, kwargs) in enumerate(((df.orderBy(*order), {}), (df, {"order": order, "partitions": 7}))):
        path = str(tmp_path / f"out{i}.csv")
        spark.sparkContext.setJobGroup(f"csv-export-{i}", "write_csv")
        try:
            assert tables.write_csv(frame, path, **kwargs) == n
            jobs = spark.sparkContext.statusTracker().getJobIdsForGroup(f"csv-export-{i}")
        finally:
            spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
        with open(path, encoding="utf-8", newline="") as fh:
            assert fh.read() == want, kwargs
    # one job per partition, not one collect of everything: the 7 range partitions, and a sampling job
    assert len(jobs) >= 7


def test_exports_reach_a_lakehouse_given_as_a_uri(spark, tmp_path):
    # pandas writes only local files; on Databricks or S3 the lakehouse is a URI, and the block list
    # must still land in DIR/exports, through Hadoop's FileSystem
    from vigie import tables

    dest = f"file://{tmp_path}/lake/exports"
    staged = tables.staging_dir(dest)
    assert not staged.startswith(str(tmp_path))
    local = os.path.join(staged, "blocklist.csv")
    for content in ("user_id,score\n1,0.9\n", "user_id,score\n2,0.8\n"):  # a re-run replaces the file
        with open(local, "w", encoding="utf-8") as fh:
            fh.write(content)
        assert tables.publish(spark, [local], dest) == [f"{dest}/blocklist.csv"]
        assert (tmp_path / "lake" / "exports" / "blocklist.csv").read_text(encoding="utf-8") == content
    visible = [p.name for p in (tmp_path / "lake" / "exports").iterdir() if not p.name.startswith(".")]
    assert visible == ["blocklist.csv"]
    assert tables.publish(spark, [local], str(tmp_path)) == [local]  # a local lakehouse: written in place


def test_local_cores_come_from_the_master_not_the_machine():
    from vigie.session import local_cores

    assert local_cores("local[3]") == 3  # whatever this machine has
    assert local_cores("local[5, 2]") == 5
    assert local_cores("local") == 1
    assert local_cores("local[*]") == (os.cpu_count() or 1)
    assert local_cores("spark://host:7077") == 0


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("label_regex", "(_bot", r"bots.label_regex '\(_bot' is not a valid regular expression: .*Unclosed group"),
        ("period_seconds", 0, "bots.period_seconds must be at least 1"),
        ("tolerance_seconds", 300, r"bots.tolerance_seconds must be .* under half of bots.period_seconds \(600\)"),
        ("min_tweets", 0, "bots.min_tweets and bots.max_tweets must be at least 1"),
        ("flag_rate", 1.5, "bots.flag_rate must be between 0 and 1"),
    ],
)
def test_a_bad_setting_is_named_before_any_work(spark, tmp_path, setting, value, message):
    from vigie.errors import ConfigError

    # the lakehouse is empty: the settings must be checked before the stage even looks for its input
    with pytest.raises(ConfigError, match=message):
        run_bots(spark, str(tmp_path), BotsConfig(**{setting: value}), MlflowConfig(f"file://{tmp_path}/mlruns"))


def test_the_weak_label_rule_is_checked_as_java_reads_it(spark):
    # Spark's rlike runs Java regexes: a named group written Java's way is valid, though Python's re refuses it
    from vigie.bots import check_config

    _, model_cfg = check_config(spark, BotsConfig(label_regex="(?<suffix>_bot)$"))
    labelled = with_weak_label(
        spark.createDataFrame([("a_BOT",), ("a_bots",)], "screen_name string"), model_cfg.label_regex
    )
    assert [r.weak_label for r in labelled.collect()] == [1.0, 0.0]


def test_bulk_and_streaming_transfer_train_the_same_model(spark, bots_run):
    # the stage hands rows to LightGBM in bulk (faster for three dense features); streaming stays
    # available for memory-bound executors, and must learn the same thing from the same rows
    from vigie.errors import ConfigError
    from vigie.models.bots import BotModelConfig, train_bot_model

    lake, _, _ = bots_run
    feats = spark.read.format("delta").load(f"{lake}/{USER_FEATURES}")
    fits = {
        mode: train_bot_model(feats, BotModelConfig(data_transfer=mode, listen_port=port))
        for mode, port in (("bulk", 12700), ("streaming", 12720))
    }
    aucs = {mode: r.metrics["validation_auc_weak_label"] for mode, r in fits.items()}
    assert aucs["bulk"] == pytest.approx(aucs["streaming"], abs=0.01)
    both = (
        fits["bulk"]
        .scored.select("user_id", F.col("score").alias("bulk"))
        .join(fits["streaming"].scored.select("user_id", F.col("score").alias("streaming")), "user_id")
    )
    assert both.stat.corr("bulk", "streaming") > 0.99
    assert fits["bulk"].params["dataTransferMode"] == "bulk"
    with pytest.raises(ConfigError, match="data_transfer"):
        train_bot_model(feats, BotModelConfig(data_transfer="carrier pigeon"))


def test_the_model_and_its_flags_do_not_depend_on_how_the_features_are_partitioned(spark, bots_run):
    # a laptop and a cluster split the same table into other partitions; the seed must give one model.
    # (With F.rand in the validation split, 8 of 46 flags changed on the demo data.)
    from vigie.models.bots import BotModelConfig, train_bot_model

    lake, _, _ = bots_run
    feats = spark.read.format("delta").load(f"{lake}/{USER_FEATURES}")
    fits = [
        train_bot_model(frame, BotModelConfig(listen_port=port)).scored.select("user_id", "score", "flagged")
        for frame, port in ((feats.coalesce(1), 12740), (feats.orderBy(F.rand(3)).repartition(5), 12760))
    ]
    a, b = (f.toPandas().set_index("user_id").sort_index() for f in fits)
    assert a["flagged"].sum() > 0
    assert a["flagged"].equals(b["flagged"])
    assert np.allclose(a["score"], b["score"], rtol=0, atol=1e-12)
