"""The ingest stage: raw tweet JSON -> Delta silver tables, nothing lost, idempotent.

Two passes over the data, both in Spark:
1. every split is parsed in a Python task (`mapInArrow`) into one staging Parquet folder holding
   tweets, author profiles, rejects and per-split line counts;
2. the silver tables are MERGEd from the staging rows, and the run is recorded in `_runs`.

Contract: records read = accepted + duplicates + rejected, where a record is a tweet object or an
undecodable/unrecognised stretch of input (for line-delimited v1.1 dumps: a non-blank line).

Example:
    >>> result = ingest(spark, ["dump/"], "lakehouse/")  # doctest: +SKIP
    >>> result.counts["accepted"]  # doctest: +SKIP
"""

from __future__ import annotations

import gc
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import to_arrow_schema

from vigie import schema as S
from vigie import tables
from vigie.errors import InputError
from vigie.ingest.parse import records_from_value
from vigie.ingest.reader import Split, decode_chunk, iter_chunks, list_input_files, plan_splits, raw_prefix

SPLIT_SCHEMA = T.StructType(
    [
        T.StructField("path", T.StringType()),
        T.StructField("index", T.IntegerType()),
        T.StructField("start", T.LongType()),
        T.StructField("end", T.LongType()),
        T.StructField("compression", T.StringType()),
    ]
)
BATCH_ROWS = 4096


@dataclass
class IngestResult:
    run_id: str
    counts: dict[str, int]
    inputs: list[str] = field(default_factory=list)
    table_versions: dict[str, int | None] = field(default_factory=dict)

    def summary_json(self) -> str:
        return json.dumps({"run_id": self.run_id, **self.counts}, sort_keys=False)


# ---------------------------------------------------------------- pass 1: parse splits (runs in tasks)


def parse_split(split: Split) -> Iterator[dict]:
    """Staging rows (dicts) for one split: tweets, users, rejects, then one `split` statistics row."""
    records = 0
    total_lines = 0
    for line_off, chunk in iter_chunks(split):
        if not chunk:
            total_lines = line_off
            continue
        item = 0
        for value_line, value, error in decode_chunk(chunk):
            local = line_off + value_line
            outcomes = [(S.KIND_REJECT, error)] if error is not None else records_from_value(value)
            for kind, payload in outcomes:
                # the parser's dicts are new: extended in place rather than copied
                row = {"reason": payload, "raw": raw_prefix(chunk, value_line)} if kind == S.KIND_REJECT else payload
                row["source_file"], row["split_index"] = split.path, split.index
                row["kind"], row["local_line"], row["item_index"] = kind, local, item
                yield row
                if kind != S.KIND_USER:  # a user profile rides along with its tweet: not a record of its own
                    records += 1
                    item += 1
    yield {
        "source_file": split.path,
        "split_index": split.index,
        "kind": S.KIND_SPLIT,
        "split_lines": total_lines,
        "split_records": records,
    }


_META = ["kind", "source_file", "split_index", "local_line", "item_index"]
# The staging columns each kind of row may fill; the others stay null.
KIND_COLUMNS: dict[str, list[str]] = {
    S.KIND_TWEET: _META + [n for n, _ in S.TWEET_FIELDS],
    S.KIND_USER: _META + [n for n, _ in S.USER_FIELDS],
    S.KIND_REJECT: [*_META, "reason", "raw"],
    S.KIND_SPLIT: ["kind", "source_file", "split_index", "split_lines", "split_records"],
}


def _to_batch(rows: list[dict], arrow_schema: pa.Schema, filled: list[str]) -> pa.RecordBatch:
    """Rows of one kind -> one batch: the `filled` columns transposed in C (`map`, `zip`), the rest nulls.

    Cheaper than `RecordBatch.from_pylist`, or a Python loop per column, on these wide, sparse rows.
    """
    columns = dict(zip(filled, zip(*[tuple(map(r.get, filled)) for r in rows], strict=True), strict=True))
    arrays = [
        pa.array(columns[f.name], type=f.type) if f.name in columns else pa.nulls(len(rows), f.type)
        for f in arrow_schema
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=arrow_schema)


@contextmanager
def _without_cycle_collector() -> Iterator[None]:
    """Parsing allocates millions of short-lived dicts and lists, and none of them forms a cycle, so
    reference counting frees them all. The cycle collector would only walk them over and over: it
    costs about 20% of the parse. It is switched back on afterwards if it was on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def parse_split_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """`mapInArrow` body: split descriptions in, staging rows out, in bounded batches of one kind each."""
    arrow_schema = to_arrow_schema(S.STAGING_SCHEMA)
    for batch in batches:
        for row in batch.to_pylist():
            split = Split(row["path"], row["index"], row["start"], row["end"], row["compression"])
            pending: dict[str, list[dict]] = {kind: [] for kind in KIND_COLUMNS}
            with _without_cycle_collector():
                for rec in parse_split(split):
                    rows = pending[rec["kind"]]
                    rows.append(rec)
                    if len(rows) >= BATCH_ROWS:
                        yield _to_batch(rows, arrow_schema, KIND_COLUMNS[rec["kind"]])
                        pending[rec["kind"]] = []
                for kind, rows in pending.items():
                    if rows:
                        yield _to_batch(rows, arrow_schema, KIND_COLUMNS[kind])


def stage(spark: SparkSession, splits: list[Split], staging_path: str) -> DataFrame:
    """Parse all splits in parallel (one Spark task each) into a staging Parquet folder."""
    rows = [(s.path, s.index, s.start, s.end, s.compression) for s in splits]
    rdd = spark.sparkContext.parallelize(rows, max(1, len(rows)))
    parsed = spark.createDataFrame(rdd, SPLIT_SCHEMA).mapInArrow(parse_split_batches, S.STAGING_SCHEMA)
    parsed.write.mode("overwrite").parquet(staging_path)
    return spark.read.schema(S.STAGING_SCHEMA).parquet(staging_path)


# ---------------------------------------------------------------- pass 2: silver tables (pure transforms)


def line_offsets(spark: SparkSession, staged: DataFrame) -> tuple[DataFrame, int]:
    """Per (file, split) the number of lines before it, and the total number of lines read."""
    stats = staged.filter(F.col("kind") == S.KIND_SPLIT).select("source_file", "split_index", "split_lines").collect()
    offsets, running, total = [], {}, 0
    for r in sorted(stats, key=lambda r: (r["source_file"], r["split_index"])):
        before = running.get(r["source_file"], 0)
        offsets.append((r["source_file"], r["split_index"], before))
        running[r["source_file"]] = before + (r["split_lines"] or 0)
        total += r["split_lines"] or 0
    schema = "source_file string, split_index int, lines_before long"
    return spark.createDataFrame(offsets, schema), total


def with_line_numbers(df: DataFrame, offsets: DataFrame) -> DataFrame:
    """Add the 1-based `line_number` of each staging row in its source file."""
    return df.join(F.broadcast(offsets), ["source_file", "split_index"], "left").withColumn(
        "line_number", F.col("lines_before") + F.col("local_line") + F.lit(1)
    )


def dedupe_tweets(tweets: DataFrame) -> DataFrame:
    """One row per tweet id: the first delivery in (file, line, item) order."""
    order = Window.partitionBy("tweet_id").orderBy("source_file", "line_number", "item_index")
    return tweets.withColumn("_n", F.row_number().over(order)).filter("_n = 1").drop("_n")


def silver_tweets(tweets: DataFrame, run_id: str, ingested_at: datetime) -> DataFrame:
    return (
        tweets.withColumn("date", F.to_date("created_at"))
        .withColumn("source_line", F.col("line_number"))
        .withColumn("ingest_run_id", F.lit(run_id))
        .withColumn("ingested_at", F.lit(ingested_at).cast("timestamp"))
        .select(*S.TWEETS_COLUMNS)
    )


def silver_hashtags(tweets: DataFrame) -> DataFrame:
    """The hashtag-centred dataset: one row per (tweet, distinct hashtag)."""
    return (
        tweets.select(
            "tweet_id",
            "created_at",
            "date",
            "user_id",
            "is_retweet",
            F.posexplode("hashtags").alias("position", "hashtag"),
        )
        .withColumn("_n", F.row_number().over(Window.partitionBy("tweet_id", "hashtag").orderBy("position")))
        .filter("_n = 1")
        .select(*S.HASHTAGS_COLUMNS)
    )


def silver_links(tweets: DataFrame) -> DataFrame:
    """The links dataset: one row per retweet / quote / reply edge between tweets and users."""

    def edge(kind: str, tweet_col: str, user_col: str) -> DataFrame:
        return tweets.filter(F.col(tweet_col).isNotNull()).select(
            F.col("tweet_id").alias("source_tweet_id"),
            F.lit(kind).alias("link_type"),
            F.col(tweet_col).alias("target_tweet_id"),
            F.col("user_id").alias("source_user_id"),
            F.col(user_col).alias("target_user_id"),
            "created_at",
            "date",
        )

    return (
        edge(S.LINK_RETWEET, "retweeted_tweet_id", "retweeted_user_id")
        .unionByName(edge(S.LINK_QUOTE, "quoted_tweet_id", "quoted_user_id"))
        .unionByName(edge(S.LINK_REPLY, "replied_tweet_id", "replied_user_id"))
    )


def silver_users(users: DataFrame, run_id: str) -> DataFrame:
    """The latest profile seen per user id in this input."""
    latest = Window.partitionBy("user_id").orderBy(F.col("seen_at").desc_nulls_last(), F.col("source_file").desc())
    return (
        users.filter(F.col("user_id").isNotNull())
        .withColumn("_n", F.row_number().over(latest))
        .filter("_n = 1")
        .withColumn("ingest_run_id", F.lit(run_id))
        .select(*S.USERS_COLUMNS)
    )


def silver_rejected(rejects: DataFrame, run_id: str, at: datetime) -> DataFrame:
    return (
        rejects.withColumn("ingest_run_id", F.lit(run_id))
        .withColumn("rejected_at", F.lit(at).cast("timestamp"))
        .select(*S.REJECTED_COLUMNS)
    )


# ---------------------------------------------------------------- the stage


def ingest(
    spark: SparkSession,
    inputs: list[str],
    lakehouse: str,
    split_bytes: int = 64 << 20,
    run_id: str | None = None,
) -> IngestResult:
    """Ingest files or folders of tweet JSON into the lakehouse's silver tables (see module docstring)."""
    files = list_input_files(inputs)
    if not files:
        raise InputError(f"no files found in {inputs}")
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    run_id = run_id or f"ingest-{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    staging = tables.table_path(lakehouse, f"_staging/{run_id}")
    path = lambda name: tables.table_path(lakehouse, name)  # noqa: E731

    staged = stage(spark, plan_splits(files, split_bytes), staging)
    try:
        kinds = {r["kind"]: r["count"] for r in staged.groupBy("kind").count().collect()}  # reads one column
        n_tweet_records, n_rejected = kinds.get(S.KIND_TWEET, 0), kinds.get(S.KIND_REJECT, 0)
        offsets, lines_read = line_offsets(spark, staged)
        numbered = with_line_numbers(staged.filter(F.col("kind") != S.KIND_SPLIT), offsets)
        tweet_rows = numbered.filter(F.col("kind") == S.KIND_TWEET)
        tweets = silver_tweets(dedupe_tweets(tweet_rows), run_id, started).cache()  # feeds three tables
        accepted = tweets.count()
        rejects = numbered.filter(F.col("kind") == S.KIND_REJECT)

        inserted = tables.merge_new_rows(spark, path(S.TWEETS), tweets, ["tweet_id"], "date")
        tables.merge_new_rows(spark, path(S.HASHTAGS), silver_hashtags(tweets), ["tweet_id", "hashtag"], "date")
        tables.merge_new_rows(
            spark, path(S.TWEET_LINKS), silver_links(tweets), ["source_tweet_id", "link_type"], "date"
        )
        users = numbered.filter(F.col("kind") == S.KIND_USER)
        tables.merge_latest(spark, path(S.USERS), silver_users(users, run_id), "user_id", "seen_at")
        tables.merge_new_rows(
            spark,
            path(S.REJECTED),
            silver_rejected(rejects, run_id, started),
            ["source_file", "line_number", "item_index"],
        )
        counts = {
            "lines": lines_read,
            "records": n_tweet_records + n_rejected,
            "accepted": accepted,
            "duplicates": n_tweet_records - accepted,
            "rejected": n_rejected,
            "inserted": inserted,
            "already_present": accepted - inserted,
        }
        versions = {
            name: tables.version(spark, path(name))
            for name in (S.TWEETS, S.USERS, S.HASHTAGS, S.TWEET_LINKS, S.REJECTED)
        }
        result = IngestResult(run_id, counts, files, versions)
        record_run(spark, lakehouse, result, started)
        tweets.unpersist()
        return result
    finally:
        tables.delete_path(spark, staging)


RUNS_SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType()),
        T.StructField("stage", T.StringType()),
        T.StructField("started_at", T.TimestampType()),
        T.StructField("finished_at", T.TimestampType()),
        T.StructField("inputs", T.ArrayType(T.StringType())),
        T.StructField("counts", T.MapType(T.StringType(), T.LongType())),
        T.StructField("table_versions", T.MapType(T.StringType(), T.LongType())),
    ]
)


def record_run(spark: SparkSession, lakehouse: str, result: IngestResult, started: datetime) -> None:
    """Append the run's inputs, counts and resulting table versions to the `_runs` Delta table."""
    finished = datetime.now(timezone.utc).replace(tzinfo=None)
    row = (result.run_id, "ingest", started, finished, result.inputs, result.counts, result.table_versions)
    tables.append(spark, tables.table_path(lakehouse, S.RUNS), spark.createDataFrame([row], RUNS_SCHEMA))
