"""The communities stage (Study A): hashtag and user communities, how good they are, how stable.

silver/tweets, silver/tweet_links, silver/users -> gold/hashtag_edges, gold/user_edges,
gold/hashtag_communities, gold/user_communities, gold/communities, reports/communities/* (GEXF for
Gephi, PNG drawing), and one MLflow run with the partition logged and registered as a model.

Methods, on both graphs:
- Leiden on the driver when the graph has at most `leiden_max_nodes` nodes, at the resolution
  whose partitions agree most across seeds (leiden.choose_resolution);
- label propagation in Spark DataFrames (lpa.py), whatever the size;
- GraphFrames' label propagation as well when its jar is on the classpath.
Each method runs with `seeds` seeds; the run with the highest modularity is reported, and its
agreement with the other runs (NMI, ARI, and the best Jaccard match of each community) is its
stability. Community ids are renumbered by size: 0 is the largest.

Example:
    >>> cfg = load_config()  # doctest: +SKIP
    >>> run_communities(spark, "lake/", cfg.communities, cfg.anomalies.exclude_hashtags, cfg.mlflow)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict, dataclass, field

import pandas as pd
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from vigie import schema as S
from vigie import tables, tracking
from vigie.anomalies.explore import excluded_list, kept_tags
from vigie.communities import describe as D
from vigie.communities import edges as G
from vigie.communities import export, leiden, lpa
from vigie.config import CommunitiesConfig, MlflowConfig
from vigie.errors import ConfigError, InputError
from vigie.ranks import numbered

REGISTERED_MODEL = "vigie-communities"
GOLD = {
    "hashtag_edges": "gold/hashtag_edges",
    "user_edges": "gold/user_edges",
    "hashtag_communities": "gold/hashtag_communities",
    "user_communities": "gold/user_communities",
    "communities": "gold/communities",
}
REPORTS = "reports/communities"


@dataclass
class Partition:
    """One method's communities of one graph: the reported run, the other seeds' runs, and run metrics.

    `partitions` fills in `stats` (lpa.community_stats, unless the method scored its runs with them
    already) and `contingencies` (against each other run) once; the metrics and the gold/communities
    rows are both read from them.
    """

    graph: str  # hashtag | user
    method: str  # leiden | lpa | graphframes_lpa
    labels: DataFrame  # node, community
    others: list[DataFrame] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    stats: DataFrame | None = None
    contingencies: list[DataFrame] = field(default_factory=list)


def _validate(cfg: CommunitiesConfig) -> tuple[list[float], list[str]]:
    try:
        resolutions = [float(r) for r in cfg.resolutions.split(",") if r.strip()]
    except ValueError as exc:
        raise ConfigError(f"communities.resolutions must be comma-separated numbers, got {cfg.resolutions!r}") from exc
    if not resolutions or min(resolutions) <= 0:
        raise ConfigError("communities.resolutions needs at least one positive resolution")
    if cfg.weight not in ("count", "pmi"):
        raise ConfigError(f"communities.weight must be 'count' or 'pmi', got {cfg.weight!r}")
    if cfg.seeds < 1 or cfg.min_support < 1 or cfg.lpa_max_iter < 1:
        raise ConfigError("communities.seeds, min_support and lpa_max_iter must be at least 1")
    kinds = [k.strip() for k in cfg.user_links.split(",") if k.strip()]
    unknown = sorted(set(kinds) - set(G.LINK_KINDS))
    if not kinds or unknown:
        raise ConfigError(f"communities.user_links: unknown {unknown or 'empty'}; choose among {list(G.LINK_KINDS)}")
    return resolutions, kinds


def _read(spark: SparkSession, lakehouse: str, name: str) -> tuple[DataFrame, int]:
    path = tables.table_path(lakehouse, name)
    if not tables.exists(spark, path):
        raise InputError(f"no {name} table under {lakehouse}: run `vigie ingest ... --lakehouse {lakehouse}` first")
    version = tables.version(spark, path)
    return spark.read.format("delta").option("versionAsOf", version).load(path), version


def renumber(labels: DataFrame) -> DataFrame:
    """node, community with communities numbered 0, 1, ... by decreasing size (ties by smallest member)."""
    sizes = labels.groupBy("community").agg(F.count("*").alias("_n"), F.min(F.col("node").cast("string")).alias("_m"))
    # Numbered by counting: LPA finds about one community per 17 nodes of the 1M-tweet user graph, so
    # on millions of nodes a window with no partitioning would move a great many rows into one task.
    # No two communities share a member, so (size, smallest member) is a total order.
    ids = numbered(sizes, [F.col("_n").desc(), F.col("_m")], "_id")
    return labels.join(ids.select("community", "_id"), "community").select("node", F.col("_id").alias("community"))


def _leiden_partition(spark: SparkSession, graph: str, edges: DataFrame, resolutions, seeds) -> Partition:
    pdf = edges.select("src", "dst", "weight").toPandas()
    nodes = sorted(set(pdf["src"]) | set(pdf["dst"]))
    g = leiden.build_graph(nodes, pdf.itertuples(index=False, name=None))
    choice = leiden.choose_resolution(g, resolutions, seeds)

    def frame(membership: list[int]) -> DataFrame:
        return renumber(spark.createDataFrame(pd.DataFrame({"node": nodes, "community": membership})))

    others = [m for m in choice.memberships if m is not choice.best]
    metrics = {"resolution": choice.resolution, **{f"stability_at_{r:g}": v for r, v in choice.stability.items()}}
    return Partition(graph, "leiden", frame(choice.best), [frame(m) for m in others], metrics)


def _largest_share(labels: DataFrame) -> float:
    sizes = labels.groupBy("community").count().agg(F.max("count"), F.sum("count")).first()
    return float(sizes[0]) / float(sizes[1])


def _lpa_partition(graph: str, edges: DataFrame, cfg: CommunitiesConfig, seeds) -> Partition:
    prepared = lpa.prepare(edges)  # once for the probe and every seed

    def run(seed: int, penalty: float) -> lpa.LpaResult:
        return lpa.label_propagation(prepared, max_iter=cfg.lpa_max_iter, seed=seed, penalty=penalty, tol=cfg.lpa_tol)

    penalty, giant, runs = cfg.lpa_penalty, False, []
    if penalty == 0:  # a first classic run: when one label takes the graph, every run is LPAm instead
        probe = run(seeds[0], 0.0)
        giant = _largest_share(probe.labels) > cfg.lpa_giant_share
        penalty, runs = (1.0, []) if giant else (0.0, [probe])
    runs += [run(s, penalty) for s in seeds[len(runs) :]]
    # Each run is scored once, on the labels and stats that are reported: the chosen run's stats are
    # handed on, and the other runs' labels are compared with it without being renumbered again.
    labels = [tables.materialize(renumber(r.labels)) for r in runs]
    stats = [tables.materialize(lpa.community_stats(edges, lab)) for lab in labels]
    scores = [lpa.total_modularity(st) for st in stats]
    i = max(range(len(runs)), key=scores.__getitem__)
    best = runs[i]
    metrics = {
        "iterations": float(best.iterations),
        "converged": float(best.converged),
        "runs_converged": float(sum(r.converged for r in runs)),
        "penalty": penalty,
        "giant_label_rerun": float(giant),
    }
    others = [lab for j, lab in enumerate(labels) if j != i]
    return Partition(graph, "lpa", labels[i], others, metrics, stats=stats[i])


def partitions(
    spark: SparkSession, graph: str, edges: DataFrame, cfg: CommunitiesConfig, resolutions: list[float]
) -> list[Partition]:
    """Every method that applies to this graph (edges: src, dst, weight), scored against its own seeds."""
    seeds = list(range(1, cfg.seeds + 1))
    n_nodes = edges.select(F.explode(F.array("src", "dst"))).distinct().count()
    if n_nodes == 0:
        return []
    found = []
    if n_nodes <= cfg.leiden_max_nodes:
        found.append(_leiden_partition(spark, graph, edges, resolutions, seeds))
    found.append(_lpa_partition(graph, edges, cfg, seeds))
    if lpa.graphframes_available(spark):
        found.append(Partition(graph, "graphframes_lpa", renumber(lpa.graphframes_lpa(edges, cfg.lpa_max_iter))))
    for p in found:
        if p.stats is None:  # LPA scored its runs already
            p.labels = tables.materialize(p.labels)
            p.stats = tables.materialize(lpa.community_stats(edges, p.labels))
        summary = p.stats.agg(F.sum("modularity"), F.count("*"), F.max("size")).first()
        p.metrics["nodes"] = float(n_nodes)
        p.metrics["modularity"] = float(summary[0] or 0.0)
        p.metrics["communities"] = float(summary[1])
        p.metrics["largest_share"] = float(summary[2]) / n_nodes
        if p.others:
            p.contingencies = [tables.materialize(lpa.contingency(p.labels, o)) for o in p.others]
            scores = [lpa.agreement_of(c) for c in p.contingencies]
            p.metrics["nmi_seeds"] = sum(s["nmi"] for s in scores) / len(scores)
            p.metrics["ari_seeds"] = sum(s["ari"] for s in scores) / len(scores)
    return found


def describe(p: Partition, degree_names: DataFrame, langs: DataFrame, scripts: DataFrame | None, top: int) -> DataFrame:
    """One gold/communities row per community of a scored partition (langs: node, lang, tweets)."""
    out = p.stats.join(D.top_members(degree_names, p.labels, top), "community", "left").join(
        D.dominant(langs.join(p.labels, "node"), "lang", "tweets"), "community", "left"
    )
    if p.contingencies:
        out = out.join(lpa.stability_of(p.contingencies), "community", "left")
    else:
        out = out.withColumn("stability", F.lit(None).cast("double"))
    if scripts is not None:
        out = out.join(D.dominant(scripts.join(p.labels, "node"), "script", "tweets"), "community", "left")
    else:
        out = out.withColumn("script", F.lit(None).cast("string")).withColumn(
            "script_share", F.lit(None).cast("double")
        )
    return out.select(
        F.lit(p.graph).alias("graph"),
        F.lit(p.method).alias("method"),
        "community",
        "size",
        "top_members",
        "script",
        "script_share",
        F.coalesce(F.col("script").isin(*D.CJK_SCRIPTS), F.lit(False)).alias("is_cjk"),
        F.col("lang").alias("dominant_lang"),
        "lang_share",
        "internal_edges",
        "internal_weight",
        "volume",
        "density",
        "modularity",
        "stability",
    )


def run_communities(
    spark: SparkSession, lakehouse: str, cfg: CommunitiesConfig, exclude_hashtags: str, mlflow_cfg: MlflowConfig
) -> dict:
    """Both graphs, every method, the gold tables, the exports and the MLflow run."""
    import mlflow

    resolutions, kinds = _validate(cfg)
    tracking.tracking_uri(mlflow_cfg, lakehouse)  # fails now, not after the work, when MLflow has nowhere to go
    excluded = excluded_list(exclude_hashtags)
    started = time.time()
    sc = spark.sparkContext
    if not sc.getCheckpointDir():  # LPA checkpoints its labels every iteration
        sc.setCheckpointDir(cfg.checkpoint_dir or tables.table_path(lakehouse, "_checkpoints/communities"))
    tweets, tweets_v = _read(spark, lakehouse, S.TWEETS)
    links, links_v = _read(spark, lakehouse, S.TWEET_LINKS)
    users, users_v = _read(spark, lakehouse, S.USERS)
    tweets = tweets.select("tweet_id", "user_id", "lang", "hashtags", "mentions")
    path = lambda name: tables.table_path(lakehouse, GOLD[name])  # noqa: E731
    read = lambda name: spark.read.format("delta").load(path(name))  # noqa: E731

    with tracking.stage_run(mlflow_cfg, lakehouse, "communities") as run:
        versions = tracking.log_input_versions({S.TWEETS: tweets_v, S.TWEET_LINKS: links_v, S.USERS: users_v})
        mlflow.log_params({f"communities.{k}": v for k, v in asdict(cfg).items()})
        mlflow.log_param("communities.exclude_hashtags", ",".join(excluded))

        # the hashtag graph
        tag_nodes = G.hashtag_nodes(tweets, excluded).withColumn("script", D.script_col("hashtag")).cache()
        tables.overwrite(G.hashtag_edges(tweets, excluded, cfg.min_support, tag_nodes), path("hashtag_edges"))
        h_edges = G.with_weight(read("hashtag_edges"), cfg.weight).select("src", "dst", "weight").cache()
        if h_edges.isEmpty():
            raise InputError(
                f"no hashtag pair reaches communities.min_support={cfg.min_support} tweets: lower it, or ingest more"
            )
        h_parts = partitions(spark, "hashtag", h_edges, cfg, resolutions)

        # the user graph
        tables.overwrite(G.user_edges(links, tweets, users, kinds, cfg.user_min_weight), path("user_edges"))
        u_edges = read("user_edges").select("src", "dst", "weight").cache()
        u_parts = partitions(spark, "user", u_edges, cfg, resolutions)

        # per-node tables
        tables.overwrite(
            _union([p.labels.select(F.col("node").alias("hashtag"), "community", F.lit(p.method).alias("method"))
                    for p in h_parts]),
            path("hashtag_communities"),
        )  # fmt: skip
        names = _screen_names(users)
        user_rows = spark.createDataFrame([], "user_id long, community long, method string")
        if u_parts:  # a dump without retweets, quotes, replies or mentions has no user graph: an empty table
            user_rows = _union(
                [p.labels.select(F.col("node").alias("user_id"), "community", F.lit(p.method).alias("method"))
                 for p in u_parts]
            )  # fmt: skip
        user_rows = user_rows.join(names, "user_id", "left").select("user_id", "screen_name", "community", "method")
        tables.overwrite(user_rows, path("user_communities"))

        # per-community table
        # languages counted once per node, read by every method's rows
        tag_langs = _lang_counts(tweets.select(F.explode(kept_tags(excluded)).alias("node"), "lang"))
        tag_degree = lpa.weighted_degree(h_edges).withColumn("name", F.col("node"))
        tag_scripts = tag_nodes.select(F.col("hashtag").alias("node"), "script", "tweets")
        rows = [describe(p, tag_degree, tag_langs, tag_scripts, cfg.top_members) for p in h_parts]
        if u_parts:
            user_langs = _lang_counts(tweets.select(F.col("user_id").alias("node"), "lang"))
            user_degree = (
                lpa.weighted_degree(u_edges)
                .join(names.withColumnRenamed("user_id", "node"), "node", "left")
                .select("node", "degree", F.coalesce("screen_name", F.col("node").cast("string")).alias("name"))
            )
            rows += [describe(p, user_degree, user_langs, None, cfg.top_members) for p in u_parts]
        tables.overwrite(_union(rows), path("communities"))

        # metrics, exports, model
        metrics = {f"{p.graph}.{p.method}.{k}": v for p in h_parts + u_parts for k, v in p.metrics.items()}
        mlflow.log_metrics(metrics)
        files = _exports(lakehouse, tag_nodes, read("hashtag_edges"), read("hashtag_communities"), cfg)
        for f in files:
            mlflow.log_artifact(f, "reports")
        files = tables.publish(spark, files, tables.table_path(lakehouse, REPORTS))
        cjk = read("communities").where("graph = 'hashtag' AND is_cjk").select("method", "community", "top_members")
        mlflow.log_metric("seconds", time.time() - started)
        logged = _log_model(spark, read("hashtag_communities"), versions)
        h_edges.unpersist()
        u_edges.unpersist()
        tag_nodes.unpersist()
        _clear_checkpoints(spark)
    return {
        "mlflow_run_id": run.info.run_id,
        "hashtag_edges": read("hashtag_edges").count(),
        "user_edges": read("user_edges").count(),
        "methods": {f"{p.graph}.{p.method}": _summary(p.metrics) for p in h_parts + u_parts},
        "cjk_communities": [f"{r['method']}:{r['community']} {list(r['top_members'][:3])}" for r in cjk.collect()],
        "input_versions": versions,
        "reports": os.path.dirname(files[0]) if files else None,
        "seconds": round(time.time() - started, 1),
        **logged,
    }


def _clear_checkpoints(spark: SparkSession) -> None:
    """Delete the label files LPA wrote under the checkpoint dir: the gold tables hold the results."""
    base = spark.sparkContext.getCheckpointDir()
    if not base:
        return
    jvm = spark.sparkContext._jvm
    pattern = jvm.org.apache.hadoop.fs.Path(f"{base.rstrip('/')}/vigie-*")
    fs = pattern.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    for status in fs.globStatus(pattern) or []:
        fs.delete(status.getPath(), True)


def _lang_counts(node_langs: DataFrame) -> DataFrame:
    """node, lang, tweets: materialised, so silver/tweets is scanned once whatever the number of methods."""
    return tables.materialize(node_langs.groupBy("node", "lang").agg(F.count("*").alias("tweets")))


def _summary(metrics: dict[str, float]) -> dict[str, float]:
    keep = ("nodes", "communities", "modularity", "largest_share", "nmi_seeds", "ari_seeds", "resolution")
    return {k: round(metrics[k], 4) for k in keep if k in metrics}


def _union(frames: list[DataFrame]) -> DataFrame:
    out = frames[0]
    for f in frames[1:]:
        out = out.unionByName(f)
    return out


def _screen_names(users: DataFrame) -> DataFrame:
    """user_id, screen_name: the name on the latest profile seen."""
    latest = Window.partitionBy("user_id").orderBy(F.col("seen_at").desc_nulls_last())
    return (
        users.select("user_id", "screen_name", "seen_at")
        .withColumn("_r", F.row_number().over(latest))
        .where("_r = 1")
        .select("user_id", "screen_name")
    )


def _exports(lakehouse, tag_nodes, edges, memberships, cfg) -> list[str]:
    base = tables.staging_dir(tables.table_path(lakehouse, REPORTS))  # networkx and matplotlib write local files
    wide = memberships.groupBy("hashtag").pivot("method").agg(F.first("community"))
    nodes = tag_nodes.join(wide, "hashtag", "left").toPandas()
    edge_pdf = edges.toPandas()
    gexf = export.write_gexf(nodes, edge_pdf, os.path.join(base, "hashtags.gexf"))
    color_by = "leiden" if "leiden" in nodes.columns else "lpa"
    png = export.draw(nodes, edge_pdf, color_by, cfg.draw_nodes, os.path.join(base, "hashtags.png"))
    return [gexf, png]


def _log_model(spark: SparkSession, memberships: DataFrame, versions: dict) -> dict[str, str]:
    """The partition as a pyfunc model (hashtag -> community per method), registered, tagged with its inputs."""
    import mlflow
    from mlflow.models import ModelSignature
    from mlflow.tracking import MlflowClient
    from mlflow.types import ColSpec, Schema

    from vigie.communities.model import CommunityLookup

    folder = tempfile.mkdtemp(prefix="vigie-communities-")
    table = os.path.join(folder, "hashtag_communities.csv")
    pdf = memberships.toPandas()
    pdf.to_csv(table, index=False)
    # Declared, not inferred from the example: an unknown hashtag gets a null community, which an
    # inferred integer column cannot hold (MLflow warned about it on every run).
    methods = [ColSpec("long", m, required=False) for m in sorted(pdf["method"].unique())]
    signature = ModelSignature(
        inputs=Schema([ColSpec("string", "hashtag")]), outputs=Schema([*methods, ColSpec("string", "hashtag")])
    )
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=CommunityLookup(),
        artifacts={"memberships": table},
        registered_model_name=REGISTERED_MODEL,
        signature=signature,
        input_example=pd.DataFrame({"hashtag": ["example"]}),  # saved with the model; the schema stays declared
    )
    version = info.registered_model_version
    if version is not None:
        client = MlflowClient()
        for name, v in versions.items():
            client.set_model_version_tag(REGISTERED_MODEL, str(version), f"input.{name}.delta_version", str(v))
    return {"model_uri": info.model_uri, "registered_version": str(version)}
