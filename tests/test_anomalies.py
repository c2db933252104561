"""Study A: the anomaly stage against the generator's planted bursts, NAB's labelled windows, and its parts."""

from __future__ import annotations

import contextlib
import math
import os
import signal
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F

from tests.partitions import three_layouts
from vigie.anomalies import criteria, explore
from vigie.anomalies import drivers as D
from vigie.anomalies.features import INPUT_COLUMNS
from vigie.anomalies.nab import evaluate_nab
from vigie.anomalies.stage import GOLD, REGISTERED_MODEL, load_model, run_anomalies
from vigie.anomalies.volume import flags, score_windows, seasonal_robust_z
from vigie.config import AnomaliesConfig, MlflowConfig
from vigie.errors import ConfigError, InputError
from vigie.session import sql_conf
from vigie.versions import installed_version

# -- the volume detector


def _diurnal_series(days: int, seed: int, bursts: dict[int, float]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hours = np.arange(days * 24)
    rate = 40 + 300 * np.exp(-((((hours % 24) - 13.5) / 3.0) ** 2))
    for h, factor in bursts.items():
        rate[h] *= factor
    return rng.poisson(rate)


def test_seasonal_z_finds_bursts_and_ignores_the_daily_peak():
    bursts = {24 * 3 + 2: 4.0, 24 * 6 + 14: 3.0, 24 * 9 + 20: 4.0}  # night, peak and evening hours
    counts = _diurnal_series(14, seed=3, bursts=bursts)
    flagged = np.nonzero(flags(seasonal_robust_z(counts, 24), 4.0))[0]
    assert set(flagged) == set(bursts)
    plain = (counts - counts.mean()) / counts.std()  # what ignoring the season would flag: every afternoon
    assert (plain >= 1.5).sum() > 14


def test_drops_are_flagged_only_when_asked():
    counts = _diurnal_series(14, seed=4, bursts={24 * 7 + 13: 0.1})
    z = seasonal_robust_z(counts, 24)
    assert not flags(z, 4.0, "up").any()
    assert np.nonzero(flags(z, 4.0, "both"))[0].tolist() == [24 * 7 + 13]
    with pytest.raises(ValueError, match="direction"):
        flags(z, 4.0, "sideways")


def test_window_scoring_counts_catches_and_false_alarm_runs():
    ts = pd.date_range("2015-01-01", periods=10, freq="5min")
    flagged = np.array([0, 1, 1, 0, 0, 1, 0, 0, 1, 1], dtype=bool)
    windows = [(ts[4], ts[6]), (ts[7], ts[7])]
    got = score_windows(ts, flagged, windows)
    assert got.caught_each == (True, False)
    assert got.false_alarms == 2  # the run at 1-2 and the run at 8-9
    assert got.recall == 0.5


def test_nab_real_tweet_volumes_catch_most_labelled_windows(shared_data):
    rows = evaluate_nab(str(shared_data / "nab"))
    print("\n" + pd.DataFrame(rows).to_string(index=False))
    windows = sum(r["windows"] for r in rows)
    caught = sum(r["caught"] for r in rows)
    days = sum(r["days"] for r in rows)
    assert windows == 16 and len(rows) == 5
    assert caught / windows >= 0.7
    assert sum(r["false_alarms"] for r in rows) / days < 0.25  # fewer than one false alarm every four days


# -- the Excess-Mass / Mass-Volume criteria


def test_em_and_mv_prefer_the_score_that_follows_the_density():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 2))
    unif, volume = criteria.uniform_box(x, 30000, rng)
    density = lambda a: -np.linalg.norm(a, axis=1)  # noqa: E731
    reversed_ = lambda a: np.linalg.norm(a, axis=1)  # noqa: E731
    noise = lambda a: rng.normal(size=len(a))  # noqa: E731
    em = [criteria.excess_mass(f(x), f(unif), volume) for f in (density, reversed_, noise)]
    mv = [criteria.mass_volume(f(x), f(unif), volume) for f in (density, reversed_, noise)]
    assert em[0] > em[1] and em[0] > em[2]
    assert mv[0] < mv[1] and mv[0] < mv[2]
    # MV of the true density at mass a is the area of the disc holding a of N(0, I): -2 log(1 - a) pi
    alphas = np.linspace(criteria.ALPHA_MIN, criteria.ALPHA_MAX, 100)
    exact = np.trapz(-2 * np.log(1 - alphas) * math.pi, alphas)
    assert mv[0] == pytest.approx(exact, rel=0.1)


def test_em_ranks_forests_as_auc_does_on_labelled_data(spark, shared_data):
    """Label-free EM must prefer the forest that labels say is better (ADBench satimage-2)."""
    from pyspark.ml.linalg import Vectors

    from vigie.anomalies.forest import ForestParams, TuneConfig, _Objective

    data = np.load(shared_data / "adbench-classical" / "31_satimage-2.npz")
    rows = [(Vectors.dense(x.tolist()), float(y)) for x, y in zip(data["X"], data["y"], strict=True)]
    df = spark.createDataFrame(rows, ["features", "label"])
    good, poor = ForestParams(100, 256, 0.01), ForestParams(20, 4, 0.01)
    em = _Objective(df, TuneConfig(objective="em", draws=2, dims=3, uniform=5000, seed=1))
    auc = _Objective(df, TuneConfig(objective="auc", seed=1))
    try:
        em_good, em_poor = em(good)[0], em(poor)[0]
        auc_good, auc_poor = auc(good)[0], auc(poor)[0]
    finally:
        em.close()
        auc.close()
    assert auc_good > auc_poor + 0.05
    assert em_good > em_poor


def test_forest_and_tuning_do_not_depend_on_how_the_rows_are_partitioned(spark):
    # SynapseML's IsolationForest seeds each partition by its index: without a fixed layout, the
    # same tweets in other partitions grew another forest (scores up to 0.045 apart on 20k rows)
    from pyspark.ml.feature import VectorAssembler

    from vigie.anomalies.forest import SCORE_COL, ForestParams, TuneConfig, isolation_forest, tune
    from vigie.sampling import stable_layout

    df = spark.range(3000).withColumnRenamed("id", "tweet_id")
    for k in range(3):
        df = df.withColumn(f"x{k}", (F.pmod(F.xxhash64("tweet_id", F.lit(k)), F.lit(10**6)) / 1e6) ** (k + 1))
    df = VectorAssembler(inputCols=["x0", "x1", "x2"], outputCol="features").transform(df).cache()
    scores, tuned = [], []
    for frame in three_layouts(df):
        model = isolation_forest(ForestParams(60, 128, 0.02), 7).fit(stable_layout(frame, "tweet_id", 3000, 1000))
        got = model.transform(df).select("tweet_id", SCORE_COL).toPandas().set_index("tweet_id").sort_index()
        scores.append(got[SCORE_COL].to_numpy())
        cfg = TuneConfig(objective="mean_score", trials=2, seed=3)  # EM saturates on these uniform columns
        tuned.append(tune(frame.select("tweet_id", "features"), cfg, key="tweet_id").trials)
    assert all(np.array_equal(scores[0], s) for s in scores[1:])
    assert tuned[0] == tuned[1] == tuned[2]
    assert len(tuned[0]) == 2 and np.isfinite(tuned[0][0]["value"])


def test_vocabulary_ranks_ties_by_term_however_partitioned(spark):
    from pyspark.ml.feature import CountVectorizer

    from vigie.anomalies.features import RankedVocabulary

    # uses: a 6; b, c, d, e 3 each (tied at the cut); f 2, in one tweet only (min_df 2 drops it)
    docs = [["a", "b"], ["a", "c", "d"], ["a", "e"], ["a", "b", "a"], ["c", "d", "e", "b"], ["a", "c"]]
    docs += [["d", "e"], ["f", "f"]]
    df = spark.createDataFrame([(i, d) for i, d in enumerate(docs)], "tweet_id long, terms array<string>")
    est = RankedVocabulary("terms", "tf", vocab_size=3, min_df=2)
    assert [est.vocabulary(f) for f in three_layouts(df)] == [["a", "b", "c"]] * 3
    assert est.fit(df).vocabulary == ["a", "b", "c"]
    # with no tie at the cut it keeps what Spark's CountVectorizer keeps, in the same order
    wide = RankedVocabulary("terms", "tf", vocab_size=10, min_df=1).vocabulary(df)
    spark_cv = CountVectorizer(inputCol="terms", outputCol="tf", vocabSize=1, minDF=1.0).fit(df).vocabulary
    assert wide[:1] == spark_cv == ["a"] and sorted(wide) == list("abcdef")
    with pytest.raises(InputError, match="min_df"):
        RankedVocabulary("terms", "tf", vocab_size=3, min_df=9).fit(df)


def test_unknown_objective_is_a_clear_error(spark):
    from pyspark.ml.linalg import Vectors

    from vigie.anomalies.forest import TuneConfig, _Objective

    df = spark.createDataFrame([(Vectors.dense([float(i)]),) for i in range(20)], ["features"])
    with pytest.raises(ConfigError, match=r"anomalies\.objective must be one of"):
        _Objective(df, TuneConfig(objective="accuracy"))
    with pytest.raises(ConfigError, match="objective=auc needs labels"):
        _Objective(df.withColumn("label", F.lit(0.0)), TuneConfig(objective="auc"))


# -- features, exploration tables, drivers


def _tweets(spark, rows):
    schema = (
        "tweet_id long, created_at timestamp, user_id long, screen_name string, lang string, country_code string, "
        "is_retweet boolean, is_quote boolean, is_reply boolean, retweeted_tweet_id long, quoted_tweet_id long, "
        "hashtags array<string>, mentions array<string>, retweet_hashtags array<string>, text string"
    )
    return spark.createDataFrame(rows, schema)


def _row(i, ts, tags, user=1, lang="en", rt=None):
    return (i, ts, user, f"u{user}", lang, "FR", rt is not None, False, False, rt, None, tags, [], [], f"t{i} #x")


def test_features_terms_exclusions_and_utc_time(spark):
    from vigie.anomalies.features import feature_pipeline

    t = datetime(2018, 6, 18, 6, 0)  # a Monday, 06:00 UTC
    rows = [_row(i, t + timedelta(hours=i % 3), ["WorldCup", "POR", "ESP"] if i % 2 else ["FRA"]) for i in range(30)]
    df = _tweets(spark, rows).withColumn("mentions", F.array(F.lit("Bob")))
    with sql_conf(spark, {"spark.sql.session.timeZone": "America/Los_Angeles"}):  # must not move the hour
        model = feature_pipeline(["worldcup"], vocab_size=10, min_df=1, pca_dims=2).fit(df)
        out = model.transform(df).orderBy("tweet_id").collect()
    assert sorted(out[1]["terms"]) == ["h:esp", "h:por", "m:bob"]
    assert len(out[0]["features"]) == 2 + 4
    assert out[0]["hour_sin"] == pytest.approx(math.sin(2 * math.pi * 6 / 24))
    assert out[0]["dow_sin"] == pytest.approx(0.0) and out[0]["dow_cos"] == pytest.approx(1.0)  # Monday


def test_window_parsing():
    assert explore.window_seconds("1 hour") == 3600
    assert explore.window_seconds("15 minutes") == 900
    with pytest.raises(ValueError, match="divide a day"):
        explore.window_seconds("7 hours")
    with pytest.raises(ValueError, match="look like"):
        explore.window_seconds("hourly")


def test_exploration_tables_on_a_handmade_day(spark):
    t = datetime(2018, 6, 15, 10, 0)
    rows = [
        _row(1, t, ["POR", "ESP", "WorldCup"]),
        _row(2, t + timedelta(minutes=5), ["esp", "por"], user=2),
        _row(3, t + timedelta(hours=3), ["POR"], user=2, rt=1),
    ]
    w = explore.with_windows(_tweets(spark, rows), 3600)
    pairs = {(r.tag_a, r.tag_b): r.tweets for r in explore.hashtag_pairs(w, ["worldcup"]).collect()}
    assert pairs == {("esp", "por"): 2}
    act = explore.activity(w, 3600).orderBy("window_start").collect()
    assert [r.tweets for r in act] == [2, 0, 0, 1]  # the empty hours are there
    assert [r.retweets for r in act] == [0, 0, 0, 1]
    counts = {r.hashtag: (r.tweets, r.excluded) for r in explore.hashtag_counts(w, ["worldcup"]).collect()}
    assert counts == {"por": (3, False), "esp": (2, False), "worldcup": (1, True)}
    users = {r.user_id: r for r in explore.user_activity(w).collect()}
    assert users[2].tweets == 2 and users[2].max_hashtags_per_tweet == 2


def test_drivers_measure_excess_over_the_same_hour_on_other_days(spark):
    base = datetime(2018, 6, 14, 18, 0)
    rows, i = [], 0
    for day in range(7):
        for _ in range(10):  # 10 tweets at 18h every day, 2 of them #fra
            i += 1
            rows.append(_row(i, base + timedelta(days=day), ["FRA"] if i % 5 == 0 else ["misc"]))
    for _ in range(30):  # day 3: 30 extra tweets, all #poresp
        i += 1
        rows.append(_row(i, base + timedelta(days=3, minutes=10), ["PORESP"], user=9))
    w = explore.with_windows(_tweets(spark, rows), 3600)
    act = explore.activity(w, 3600)
    anomalous = act.where(F.col("window_start") == base + timedelta(days=3)).select("window_start", "phase")
    got = D.drivers(D.key_counts(w, []), act, anomalous, top_n=3).where("kind = 'hashtag'").collect()
    top = got[0]
    assert top.key == "poresp" and top["count"] == 30 and top["rank"] == 1
    # baseline: 18h windows hold 10 tweets on 6 days and 40 on one (median 10); #poresp's median is 0
    assert top.baseline_count == 0 and top.expected == 0 and top.excess == 30 and top.lift == 31
    assert top.share == pytest.approx(30 / 40)
    assert [r.key for r in got] == ["poresp"]  # #fra and #misc are at their usual count: no excess


def test_window_keywords_do_not_depend_on_how_the_rows_are_partitioned(spark):
    """The sampled tweets and their order in YAKE's document come from the tweets, not the shuffle."""
    base = datetime(2018, 6, 15, 18, 0)
    words = ["penalty", "keeper", "goal", "referee", "striker", "offside", "corner", "header", "tackle", "volley"]
    rows = [_row(i, base + timedelta(minutes=i % 50), ["POR"]) for i in range(60)]
    rows = [
        (*r[:-1], f"{words[i % 10]} {words[i * 7 % 10]} saved {words[i * 3 % 10]} again") for i, r in enumerate(rows)
    ]
    w = explore.with_windows(_tweets(spark, rows), 3600).cache()
    anomalous = w.select("window_start", "phase").distinct()

    def keywords(frame, seed=3):
        got = D.window_keywords(frame, anomalous, n_keywords=8, max_tweets=12, seed=seed).collect()
        return sorted((r.keyword, round(r.yake_score, 9)) for r in got)

    one, *others = (keywords(frame) for frame in three_layouts(w))
    assert len(one) >= 4
    assert others == [one, one]
    assert keywords(w.coalesce(1), seed=4) != one  # the seed does pick other tweets


def test_median_with_zeros_pads_missing_windows(spark):
    df = spark.createDataFrame([([5, 1], 4), ([3, 3, 9], 3), ([], 2)], "v array<long>, n int")
    got = [r[0] for r in df.select(D._median_with_zeros(F.col("v"), F.col("n"))).collect()]
    assert got == [0.5, 3.0, 0.0]


# -- the stage on generated data with known bursts


def _truth_hours(truth: dict) -> dict[pd.Timestamp, dict]:
    hours = {}
    for w in truth["burst_windows"]:
        start = pd.Timestamp(w["start"]).tz_convert("UTC").tz_localize(None)
        end = pd.Timestamp(w["end"]).tz_convert("UTC").tz_localize(None)
        for h in pd.date_range(start, end, freq="1h", inclusive="left"):
            hours[h] = w
    return hours


@pytest.fixture(scope="module")
def anomalies_run(spark, world_cup_lake):
    lake, truth = world_cup_lake
    cfg = AnomaliesConfig(trials=3, emmv_draws=2, tuning_rows=8000)
    mlflow_cfg = MlflowConfig(tracking_uri=f"file://{lake}/mlruns", experiment="vigie-tests")
    summary = run_anomalies(spark, lake, cfg, mlflow_cfg)
    return lake, summary, truth


def _utc_windows(df) -> pd.Series:
    return pd.to_datetime(df.select(F.unix_timestamp("window_start").alias("s")).toPandas()["s"], unit="s")


def test_planted_bursts_are_found_with_precision(spark, anomalies_run):
    lake, summary, truth = anomalies_run
    act = spark.read.format("delta").load(f"{lake}/{GOLD['activity']}")
    flagged = set(_utc_windows(act.where("is_anomalous")))
    planted = set(_truth_hours(truth))
    hits = len(flagged & planted)
    recall, precision = hits / len(planted), hits / max(1, len(flagged))
    print(f"\nburst hours {len(planted)}, flagged {len(flagged)}: recall {recall:.2f}, precision {precision:.2f}")
    assert recall >= 0.9 and precision >= 0.8
    assert act.count() == 14 * 24  # every hour of the 14 days, empty or not
    assert summary["anomalous_windows"] == len(flagged)


def test_top_drivers_of_each_burst_include_its_hashtags(spark, anomalies_run):
    lake, _, truth = anomalies_run
    drivers = spark.read.format("delta").load(f"{lake}/{GOLD['anomaly_drivers']}")
    tags = drivers.where("kind = 'hashtag'").withColumn("w", F.unix_timestamp("window_start")).toPandas()
    kinds = set(drivers.select("kind").distinct().toPandas()["kind"])
    assert {"hashtag", "user", "tweet", "lang", "keyword"} <= kinds
    for hour, burst in _truth_hours(truth).items():
        mine = tags[tags.w == int(hour.timestamp())].sort_values("rank")
        top = set(mine.head(len(burst["hashtags"]) + 2)["key"])
        assert set(burst["hashtags"]) <= top, (hour, burst["hashtags"], list(mine["key"]))
        assert (mine.head(len(burst["hashtags"]))["lift"] > 3).all()


def test_tables_scores_and_plots_are_written(spark, anomalies_run):
    lake, summary, _ = anomalies_run
    tweets = spark.read.format("delta").load(f"{lake}/silver/tweets").count()
    scores = spark.read.format("delta").load(f"{lake}/{GOLD['tweet_scores']}")
    assert scores.count() == tweets
    share = scores.agg(F.avg(F.col("is_outlier").cast("double"))).first()[0]
    assert share == pytest.approx(summary["best_params"]["contamination"], abs=0.01)
    pairs = spark.read.format("delta").load(f"{lake}/{GOLD['hashtag_pairs']}")
    assert pairs.where("tag_a >= tag_b OR tag_a = 'worldcup' OR tag_b = 'worldcup'").count() == 0
    hourly = spark.read.format("delta").load(f"{lake}/{GOLD['hashtag_hourly']}")
    assert {"hashtag", "window_start", "tweets", "mean_per_window", "hour_of_day"} <= set(hourly.columns)
    users = spark.read.format("delta").load(f"{lake}/{GOLD['user_activity']}")
    assert users.agg(F.sum("tweets")).first()[0] == tweets
    for name in ("activity", "top_hashtags", "hashtag_hourly", "cooccurrence"):
        png = f"{lake}/reports/anomalies/{name}.png"
        with open(png, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    feats = summary["features"]
    assert feats["forest_input_width"] == 16 + 4 and feats["term_coverage"] > 0.9


def test_run_is_tracked_with_trials_plots_inputs_and_a_model_that_reloads(spark, anomalies_run):
    import mlflow
    from mlflow.tracking import MlflowClient

    lake, summary, _ = anomalies_run
    client = MlflowClient(tracking_uri=f"file://{lake}/mlruns")
    run = client.get_run(summary["mlflow_run_id"])
    assert run.data.params["input.silver/tweets.delta_version"] == str(summary["input_versions"]["silver/tweets"])
    assert float(run.data.params["best.maxSamples"]) == summary["best_params"]["maxSamples"]
    assert "best_objective_em" in run.data.metrics and "features.pca_explained_variance" in run.data.metrics
    trials = client.search_runs(
        [run.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'"
    )
    assert len(trials) == 3 and all("objective_em" in t.data.metrics for t in trials)
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert plots == {f"plots/{n}.png" for n in ("activity", "top_hashtags", "hashtag_hourly", "cooccurrence")}
    version = client.get_model_version(REGISTERED_MODEL, summary["registered_version"])
    assert version.tags["input.silver/tweets.delta_version"] == str(summary["input_versions"]["silver/tweets"])
    # the logged pipeline scores raw silver tweets by itself, as the stage did
    mlflow.set_tracking_uri(f"file://{lake}/mlruns")
    model = load_model(summary["model_uri"])
    sample = spark.read.format("delta").load(f"{lake}/silver/tweets").orderBy("tweet_id").limit(300)
    again = model.transform(sample).select("tweet_id", F.col("outlier_score").alias("again"))
    stored = spark.read.format("delta").load(f"{lake}/{GOLD['tweet_scores']}")
    diff = again.join(stored, "tweet_id").select(F.max(F.abs(F.col("again") - F.col("outlier_score")))).first()[0]
    assert diff is not None and diff < 1e-9
    # the declared signature: the tweet columns the pipeline reads, and they are enough to score
    info = mlflow.models.get_model_info(summary["model_uri"])
    assert info.signature.inputs.input_names() == INPUT_COLUMNS
    assert info.signature.outputs.input_names() == ["outlier_score", "is_outlier"]
    narrow = model.transform(sample.select("tweet_id", *INPUT_COLUMNS)).select("tweet_id", "outlier_score")
    assert narrow.join(again, "tweet_id").filter(F.col("outlier_score") != F.col("again")).count() == 0
    assert narrow.count() == 300
    # its environment is pinned by the stage, not inferred (inference falls back to pyspark alone)
    with open(mlflow.pyfunc.get_model_dependencies(summary["model_uri"])) as fh:
        requirements = fh.read().split()
    assert f"synapseml=={installed_version('synapseml')}" in requirements
    assert f"pyspark=={installed_version('pyspark')}" in requirements


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """A real `mlflow server` on loopback: SQLite for runs and the registry, artifacts served by it."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    root = tmp_path_factory.mktemp("mlflow-server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    cmd = [str(mlflow_bin), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    cmd += ["--backend-store-uri", f"sqlite:///{root}/mlflow.db", "--artifacts-destination", str(root / "artifacts")]
    log = open(root / "server.log", "w")
    # its own process group: `mlflow server` runs uvicorn as a child, which outlived a plain terminate
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            if proc.poll() is not None:
                pytest.fail(f"mlflow server exited: {(root / 'server.log').read_text()[-2000:]}")
            try:
                if urllib.request.urlopen(f"{url}/health", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("mlflow server did not answer /health within 60 s")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # whatever of the group is still there
            log.close()


def test_rerun_tracked_on_a_real_mlflow_server_duplicates_nothing(spark, anomalies_run, mlflow_server):
    from mlflow.tracking import MlflowClient

    lake, first, _ = anomalies_run
    before = {name: spark.read.format("delta").load(f"{lake}/{path}").count() for name, path in GOLD.items()}
    cfg = AnomaliesConfig(trials=1, emmv_draws=1, tuning_rows=4000)
    summary = run_anomalies(spark, lake, cfg, MlflowConfig(tracking_uri=mlflow_server, experiment="vigie-server"))
    after = {name: spark.read.format("delta").load(f"{lake}/{path}").count() for name, path in GOLD.items()}
    assert {k: v for k, v in after.items() if k != "anomaly_drivers"} == {
        k: v for k, v in before.items() if k != "anomaly_drivers"
    }
    assert summary["windows"] == first["windows"]  # (which windows are anomalous depends on the tuned forest)
    client = MlflowClient(tracking_uri=mlflow_server)
    run = client.get_run(summary["mlflow_run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params["input.silver/tweets.delta_version"] == str(first["input_versions"]["silver/tweets"])
    children = client.search_runs(
        [run.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'"
    )
    assert len(children) == 1
    assert {a.path for a in client.list_artifacts(run.info.run_id, "plots")} >= {"plots/activity.png"}
    versions = client.search_model_versions(f"name = '{REGISTERED_MODEL}'")
    assert [v.run_id for v in versions] == [run.info.run_id]  # a fresh registry: this run's model only


def test_a_missing_labels_table_is_named_before_any_work(spark, world_cup_lake, tmp_path):
    lake, _ = world_cup_lake
    files = lambda: {os.path.join(d, f) for d, _, names in os.walk(lake) for f in names}  # noqa: E731
    before = files()
    mlflow_cfg = MlflowConfig(tracking_uri=f"file://{tmp_path}/mlruns")
    with pytest.raises(ConfigError, match=r"objective=auc needs anomalies\.labels_table"):
        run_anomalies(spark, lake, AnomaliesConfig(objective="auc"), mlflow_cfg)
    with pytest.raises(InputError, match=r"anomalies\.labels_table labels/none: no Delta table at .*labels/none"):
        run_anomalies(spark, lake, AnomaliesConfig(objective="auc", labels_table="labels/none"), mlflow_cfg)
    assert files() == before  # nothing written, not even a new version of the exploration tables


def test_bad_settings_are_named(spark, tmp_path):
    with pytest.raises(ConfigError, match=r"anomalies\.window"):
        run_anomalies(spark, str(tmp_path), AnomaliesConfig(window="7 hours"), MlflowConfig())
    with pytest.raises(ConfigError, match="exclude_mode"):
        run_anomalies(spark, str(tmp_path), AnomaliesConfig(exclude_mode="some"), MlflowConfig())
    with pytest.raises(ConfigError, match=r"anomalies\.objective must be one of .*, got 'accuracy'"):
        run_anomalies(spark, str(tmp_path), AnomaliesConfig(objective="accuracy"), MlflowConfig())
    from vigie.errors import InputError

    with pytest.raises(InputError, match="run `vigie ingest"):
        run_anomalies(spark, str(tmp_path), AnomaliesConfig(), MlflowConfig())
