"""The communities stage: graphs, Leiden and distributed LPA against ground truth, stability, exports, MLflow."""

from __future__ import annotations

import math
import random

import pandas as pd
import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from tests.partitions import three_layouts
from vigie.communities import edges as G
from vigie.communities import leiden, lpa
from vigie.communities.known import load_known
from vigie.communities.stage import GOLD, REGISTERED_MODEL, _validate, renumber, run_communities
from vigie.config import CommunitiesConfig, MlflowConfig
from vigie.errors import ConfigError, InputError
from vigie.session import sql_conf


def _nmi(truth: dict, nodes, membership) -> float:
    return normalized_mutual_info_score([truth[n] for n in nodes], list(membership))


def _graph_df(spark, edges):
    return spark.createDataFrame(edges, "src string, dst string, weight double")


# --- driver-side Leiden on graphs with known communities ---------------------------------------


def test_leiden_finds_football_conferences(shared_data):
    g = load_known("football", str(shared_data / "community-graphs"))
    assert len(g.nodes) == 115 and len(set(g.truth.values())) == 12
    choice = leiden.choose_resolution(leiden.build_graph(g.nodes, g.edges), [1, 1.5, 2, 3], range(1, 6))
    assert _nmi(g.truth, g.nodes, choice.best) >= 0.85


@pytest.mark.parametrize("mu", ["0.1", "0.2", "0.3", "0.4"])
def test_leiden_recovers_lfr_communities(shared_data, mu):
    g = load_known(f"lfr-{mu}", str(shared_data / "community-graphs"))
    choice = leiden.choose_resolution(leiden.build_graph(g.nodes, g.edges), [1, 1.5, 2, 3], range(1, 6))
    assert _nmi(g.truth, g.nodes, choice.best) >= 0.95
    # the resolution limit at work: plain modularity (resolution 1) merges LFR's small communities at mu 0.4
    if mu == "0.4":
        plain = leiden.leiden(leiden.build_graph(g.nodes, g.edges), seed=1, resolution=1.0)
        assert _nmi(g.truth, g.nodes, plain) < 0.9 and choice.resolution > 1


# --- distributed label propagation and partition scores -----------------------------------------


def test_lpa_recovers_lfr_communities_in_spark(spark, shared_data):
    g = load_known("lfr-0.2", str(shared_data / "community-graphs"))
    result = lpa.label_propagation(_graph_df(spark, g.edges), max_iter=30, seed=1)
    got = result.labels.toPandas()
    assert result.converged and len(got) == len(g.nodes)
    assert _nmi(g.truth, got["node"], got["community"]) >= 0.95


def test_lpa_settles_on_a_bipartite_graph_where_synchronous_lpa_oscillates(spark):
    # K(4,4): synchronous LPA swaps the two sides' labels forever; semi-synchronous updates settle
    edges = [(f"a{i}", f"b{j}", 1.0) for i in range(4) for j in range(4)]
    result = lpa.label_propagation(_graph_df(spark, edges), max_iter=30, seed=3)
    assert result.converged and result.iterations < 30
    assert result.labels.select("community").distinct().count() == 1


def test_lpa_volume_penalty_splits_two_cliques_joined_by_a_bridge(spark):
    cliques = [(f"{c}{i}", f"{c}{j}", 1.0) for c in "xy" for i in range(6) for j in range(i + 1, 6)]
    edges = _graph_df(spark, [*cliques, ("x0", "y0", 1.0)])
    for penalty in (0.0, 1.0):
        got = lpa.label_propagation(edges, max_iter=30, seed=2, penalty=penalty).labels.toPandas()
        sides = got.assign(side=got["node"].str[0]).groupby("side")["community"].nunique()
        assert got["community"].nunique() == 2 and (sides == 1).all()


def test_lpa_labels_do_not_depend_on_how_the_edges_are_laid_out(spark):
    # ties between labels are broken by the seeded draw, then by the label itself: never by row order
    rng = random.Random(4)
    edges = [(f"n{i}", f"n{j}", float(rng.randrange(1, 3))) for i in range(60) for j in range(i + 1, 60)
             if (i // 10 == j // 10 and rng.random() < 0.5) or rng.random() < 0.02]  # fmt: skip
    runs = [
        {r.node: r.community for r in lpa.label_propagation(frame, max_iter=8, seed=5, penalty=1.0).labels.collect()}
        for frame in three_layouts(_graph_df(spark, edges))
    ]
    assert runs[0] == runs[1] == runs[2]
    assert 2 < len(set(runs[0].values())) < 60


@pytest.mark.parametrize("penalty, shuffles", [(0.0, 3), (1.0, 6)], ids=["classic", "volume_penalty"])
def test_an_lpa_iteration_shuffles_the_votes_once(spark, penalty, shuffles):
    # As on a graph too big to broadcast: the join with the neighbours' labels shuffles both sides, and
    # the votes are shuffled by node once; each node's best label is picked in those partitions. With
    # the volume penalty, the volumes are summed by label, joined on label, and the votes go back to
    # the nodes. The plan this replaced shuffled 6 and 12 times.
    cliques = [(f"{c}{i}", f"{c}{j}", 1.0) for c in "xy" for i in range(6) for j in range(i + 1, 6)]
    graph = lpa.prepare(_graph_df(spark, [*cliques, ("x0", "y0", 1.0)]))
    labels = graph.degree.select("node", F.col("node").alias("label"), "k")
    off = {"spark.sql.autoBroadcastJoinThreshold": "-1", "spark.sql.adaptive.enabled": "false"}
    with sql_conf(spark, off):
        plan = lpa._step(graph, labels, 1, 0, penalty)._jdf.queryExecution().executedPlan().toString()
    assert plan.count("Exchange hashpartitioning") == shuffles


def test_spark_agreement_matches_scikit_learn(spark):
    rng = random.Random(5)
    nodes = [f"n{i}" for i in range(400)]
    a = [rng.randrange(7) for _ in nodes]
    b = [x if rng.random() < 0.7 else rng.randrange(9) for x in a]
    frame = lambda m: spark.createDataFrame(pd.DataFrame({"node": nodes, "community": m}))  # noqa: E731
    got = lpa.agreement(frame(a), frame(b))
    assert got["nmi"] == pytest.approx(normalized_mutual_info_score(a, b), abs=1e-9)
    assert got["ari"] == pytest.approx(adjusted_rand_score(a, b), abs=1e-9)
    assert lpa.agreement(frame(a), frame(a)) == pytest.approx({"nmi": 1.0, "ari": 1.0})


def test_community_stats_sum_to_igraph_modularity(spark, shared_data):
    g = load_known("football", str(shared_data / "community-graphs"))
    graph = leiden.build_graph(g.nodes, g.edges)
    membership = leiden.leiden(graph, seed=1)
    labels = spark.createDataFrame(pd.DataFrame({"node": g.nodes, "community": membership}))
    stats = lpa.community_stats(_graph_df(spark, g.edges), labels).toPandas()
    assert stats["modularity"].sum() == pytest.approx(leiden.graph_modularity(graph, membership), abs=1e-9)
    assert stats["size"].sum() == 115 and stats["internal_edges"].sum() <= len(g.edges)
    assert ((stats["density"] > 0) & (stats["density"] <= 1)).all()


def test_community_stability_is_the_best_jaccard_match(spark):
    ref = spark.createDataFrame([("a", 0), ("b", 0), ("c", 1), ("d", 1)], "node string, community long")
    other = spark.createDataFrame([("a", 5), ("b", 5), ("c", 5), ("d", 6)], "node string, community long")
    got = lpa.community_stability(ref, [other, ref])
    # community 0 = {a,b}: best match {a,b,c} (2/3), and itself (1); community 1 = {c,d}: {d} (1/2), itself (1)
    expected = spark.createDataFrame([(0, (2 / 3 + 1) / 2), (1, (0.5 + 1) / 2)], "community long, stability double")
    assertDataFrameEqual(got, expected, rtol=1e-9)


def test_renumber_orders_communities_by_size(spark):
    labels = spark.createDataFrame([("a", "x"), ("b", "y"), ("c", "y"), ("d", "z")], "node string, community string")
    expected = spark.createDataFrame([("a", 1), ("b", 0), ("c", 0), ("d", 2)], "node string, community long")
    got = renumber(labels)
    assertDataFrameEqual(got, expected)
    # a window with no partitioning gathered every community into one task here
    assert "SinglePartition" not in got._jdf.queryExecution().executedPlan().toString()


# --- graphs built from silver ---------------------------------------------------------------------


def test_hashtag_edges_count_pmi_and_exclusions(spark):
    tweets = spark.createDataFrame(
        [(1, ["A", "b", "WorldCup"]), (1, ["a", "B"]), (2, ["a", "c"]), (3, ["c"]), (4, ["d"]), (5, [])],
        "user_id long, hashtags array<string>",
    )
    got = G.hashtag_edges(tweets, ["worldcup"], min_support=1).orderBy("src", "dst").toPandas()
    # five tweets hold a kept tag: a in 3, b in 2, c in 2; (a,b) together in 2, (a,c) in 1
    assert list(zip(got["src"], got["dst"], got["tweets"], strict=True)) == [("a", "b", 2), ("a", "c", 1)]
    assert got["pmi"].tolist() == pytest.approx([math.log(2 * 5 / (3 * 2)), math.log(1 * 5 / (3 * 2))])
    assert got["npmi"].iloc[0] == pytest.approx(math.log(2 * 5 / 6) / -math.log(2 / 5))
    assert G.hashtag_edges(tweets, ["worldcup"], min_support=2).count() == 1
    with pytest.raises(ValueError, match="'count' or 'pmi'"):
        G.with_weight(G.hashtag_edges(tweets, [], 1), "jaccard")


def test_user_edges_join_links_and_resolved_mentions(spark):
    links = spark.createDataFrame(
        [("retweet", 1, 2), ("quote", 2, 1), ("reply", 3, 3), ("retweet", 4, None)],
        "link_type string, source_user_id long, target_user_id long",
    )
    tweets = spark.createDataFrame([(1, ["Carol", "nobody"]), (2, [])], "user_id long, mentions array<string>")
    users = spark.createDataFrame(
        [(3, "carol", "2018-06-20 10:00:00"), (9, "Carol", "2018-06-01 10:00:00")],
        "user_id long, screen_name string, seen_at string",
    ).withColumn("seen_at", F.to_timestamp("seen_at"))
    got = G.user_edges(links, tweets, users, G.LINK_KINDS, min_weight=1)
    expected = spark.createDataFrame(
        [(1, 2, 2.0, 1, 1, 0, 0), (1, 3, 1.0, 0, 0, 0, 1)],
        "src long, dst long, weight double, retweets long, quotes long, replies long, mentions long",
    )
    assertDataFrameEqual(got, expected)  # self-replies, dangling targets and unknown names give no edge


def test_bad_settings_are_named(spark, tmp_path):
    with pytest.raises(ConfigError, match="resolutions"):
        _validate(CommunitiesConfig(resolutions="1,x"))
    with pytest.raises(ConfigError, match="weight"):
        _validate(CommunitiesConfig(weight="jaccard"))
    with pytest.raises(ConfigError, match="user_links"):
        _validate(CommunitiesConfig(user_links="retweet,follow"))
    with pytest.raises(InputError, match="silver/tweets"):
        run_communities(spark, str(tmp_path), CommunitiesConfig(), "worldcup", MlflowConfig())


# --- the stage on the generated World Cup dump ----------------------------------------------------


@pytest.fixture(scope="module")
def communities_run(spark, world_cup_lake):
    lake, truth = world_cup_lake
    cfg = CommunitiesConfig(seeds=3)
    mlflow_cfg = MlflowConfig(tracking_uri=f"file://{lake}/mlruns", experiment="vigie-tests")
    return lake, run_communities(spark, lake, cfg, "worldcup", mlflow_cfg), truth


def _read(spark, lake, name):
    return spark.read.format("delta").load(f"{lake}/{GOLD[name]}")


@pytest.mark.parametrize("method", ["leiden", "lpa"])
def test_planted_hashtag_communities_are_recovered(spark, communities_run, method):
    lake, _, truth = communities_run
    planted = {tag: c for c, tags in truth["communities"].items() for tag in tags}
    got = _read(spark, lake, "hashtag_communities").where(F.col("method") == method).toPandas()
    got = got[got["hashtag"].isin(planted)]
    assert len(got) == len(planted)  # every planted tag is in the graph, once per method
    assert _nmi(planted, got["hashtag"], got["community"]) >= 0.85
    assert "worldcup" not in set(_read(spark, lake, "hashtag_communities").toPandas()["hashtag"])


def test_cjk_community_is_labelled_as_such(spark, communities_run):
    lake, summary, truth = communities_run
    chinese = set(truth["communities"][truth["cjk_community"]])
    rows = _read(spark, lake, "communities").where("graph = 'hashtag'").toPandas()
    for method, per in rows.groupby("method"):
        cjk = per[per["is_cjk"]]
        assert len(cjk) == 1, method
        row = cjk.iloc[0]
        assert row["script"] == "Han" and row["dominant_lang"] == "zh" and row["lang_share"] > 0.9
        assert set(row["top_members"][:5]) <= chinese
    assert len(summary["cjk_communities"]) == len(rows["method"].unique())


def test_community_table_scores_add_up(spark, communities_run):
    lake, summary, _ = communities_run
    rows = _read(spark, lake, "communities").toPandas()
    for (graph, method), per in rows.groupby(["graph", "method"]):
        metrics = summary["methods"][f"{graph}.{method}"]
        assert per["modularity"].sum() == pytest.approx(metrics["modularity"], abs=1e-3)
        assert per["size"].sum() == metrics["nodes"] and len(per) == metrics["communities"]
        assert per["stability"].between(0, 1).all()
    hashtag = summary["methods"]["hashtag.leiden"]
    assert hashtag["modularity"] > 0.4 and hashtag["nmi_seeds"] > 0.9
    users = _read(spark, lake, "user_communities").groupBy("method", "user_id").count()
    assert users.where("count > 1").count() == 0
    user_nodes = _read(spark, lake, "user_edges").select(F.explode(F.array("src", "dst"))).distinct().count()
    assert users.where("method = 'lpa'").count() == user_nodes


def test_no_giant_label_on_the_structureless_user_graph(spark, communities_run):
    lake, summary, _ = communities_run
    # generated retweets and mentions pick accounts at random: classic LPA gives them one label, LPAm does not
    lpa_user = summary["methods"]["user.lpa"]
    assert lpa_user["largest_share"] < 0.5
    import mlflow

    client = mlflow.tracking.MlflowClient(tracking_uri=f"file://{lake}/mlruns")
    metrics = client.get_run(summary["mlflow_run_id"]).data.metrics
    assert metrics["user.lpa.giant_label_rerun"] == 1.0 and metrics["hashtag.lpa.giant_label_rerun"] == 0.0


def test_exports_and_tracking(spark, communities_run):
    import mlflow
    import networkx as nx

    lake, summary, truth = communities_run
    gexf = nx.read_gexf(f"{summary['reports']}/hashtags.gexf")
    tags = _read(spark, lake, "hashtag_communities").where("method = 'leiden'").toPandas()
    assert set(gexf.nodes) >= set(tags["hashtag"])
    assert gexf.number_of_edges() == _read(spark, lake, "hashtag_edges").count()
    assert (open(f"{summary['reports']}/hashtags.png", "rb").read(8)) == b"\x89PNG\r\n\x1a\n"

    client = mlflow.tracking.MlflowClient(tracking_uri=f"file://{lake}/mlruns")
    run = client.get_run(summary["mlflow_run_id"])
    for table in ("silver/tweets", "silver/tweet_links", "silver/users"):
        assert run.data.params[f"input.{table}.delta_version"] == str(summary["input_versions"][table])
    assert {a.path for a in client.list_artifacts(run.info.run_id, "reports")} == {
        "reports/hashtags.gexf",
        "reports/hashtags.png",
    }
    version = client.get_model_version(REGISTERED_MODEL, summary["registered_version"])
    assert version.tags["input.silver/tweets.delta_version"] == str(summary["input_versions"]["silver/tweets"])
    mlflow.set_tracking_uri(f"file://{lake}/mlruns")
    model = mlflow.pyfunc.load_model(summary["model_uri"])
    chinese = truth["communities"][truth["cjk_community"]]
    got = model.predict(pd.DataFrame({"hashtag": [f"#{chinese[0]}", *chinese[1:], "never-seen"]}))
    expected = tags.set_index("hashtag").loc[chinese, "community"].tolist()
    assert got["leiden"].iloc[:-1].tolist() == expected and pd.isna(got["leiden"].iloc[-1])
    outputs = model.metadata.get_output_schema()  # declared: one nullable column per method, then the hashtag
    methods = sorted(r[0] for r in _read(spark, lake, "hashtag_communities").select("method").distinct().collect())
    assert outputs.input_names() == [*methods, "hashtag"] == list(got.columns)
    assert not any(c.required for c in outputs.inputs[:-1])


def test_a_dump_without_user_links_gets_an_empty_user_table(spark, world_cup_lake, tmp_path):
    # no retweet, quote, reply or mention passes the weight floor: no user graph, yet readers of
    # gold/user_communities must find the table, empty and with its columns
    import shutil

    lake, _ = world_cup_lake
    shutil.copytree(f"{lake}/silver", tmp_path / "silver")
    cfg = CommunitiesConfig(seeds=2, resolutions="1", user_min_weight=10**9)
    mlflow_cfg = MlflowConfig(tracking_uri=f"file://{tmp_path}/mlruns", experiment="vigie-tests")
    summary = run_communities(spark, str(tmp_path), cfg, "worldcup", mlflow_cfg)
    users = _read(spark, str(tmp_path), "user_communities")
    assert users.columns == ["user_id", "screen_name", "community", "method"]
    assert users.count() == 0
    assert _read(spark, str(tmp_path), "user_edges").count() == 0
    assert _read(spark, str(tmp_path), "communities").where("graph = 'user'").count() == 0
    assert _read(spark, str(tmp_path), "hashtag_communities").count() > 0
    assert {k.split(".")[0] for k in summary["methods"]} == {"hashtag"}
