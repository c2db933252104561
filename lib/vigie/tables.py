"""Delta I/O for the lakehouse: create tables, idempotent MERGEs, versions; plus the CSV exports and
the Parquet that cuts a long lineage (`materialize`). No transforms here.

Example:
    >>> inserted = merge_new_rows(spark, path, df, keys=["tweet_id"], partition_col="date")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Sequence

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import types as T

from vigie.paths import is_uri


def table_path(lakehouse: str, name: str) -> str:
    """Absolute location of a table under the lakehouse (local paths made absolute, URIs kept)."""
    base = lakehouse if is_uri(lakehouse) else os.path.abspath(lakehouse)
    return f"{base.rstrip('/')}/{name}"


def resolve(lakehouse: str, table: str) -> str:
    """A table named by the user: an absolute path or URI as given, else a path under the lakehouse."""
    return table if os.path.isabs(table) or is_uri(table) else table_path(lakehouse, table)


def staging_dir(dest_dir: str) -> str:
    """Where to write files that Python libraries make (pandas, matplotlib, networkx) for `dest_dir`.

    Those libraries only write local files: a local `dest_dir` is used as it is, a URI gets a fresh
    local folder that `publish` then copies from.
    """
    if is_uri(dest_dir):
        return tempfile.mkdtemp(prefix="vigie-staging-")
    os.makedirs(dest_dir, exist_ok=True)
    return dest_dir


def publish(spark: SparkSession, files: Sequence[str], dest_dir: str) -> list[str]:
    """Copy files from a `staging_dir` to `dest_dir` through Hadoop's FileSystem, so reports and exports
    land under a lakehouse on dbfs:, abfss:// or s3a:// too. Returns where they are now."""
    if not is_uri(dest_dir):
        return list(files)
    jvm = spark.sparkContext._jvm
    Path = jvm.org.apache.hadoop.fs.Path
    target = Path(dest_dir)
    fs = target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    fs.mkdirs(target)
    out = []
    for f in files:
        dest = f"{dest_dir.rstrip('/')}/{os.path.basename(f)}"
        fs.copyFromLocalFile(False, True, Path(f"file://{os.path.abspath(f)}"), Path(dest))  # keep src, overwrite
        out.append(dest)
    return out


def write_csv(df: DataFrame, path: str, order: Sequence[Column] = (), partitions: int = 1) -> int:
    """`df` as one local CSV file with a header, sorted by `order` (else in the DataFrame's own order),
    as pandas' `to_csv(index=False)` writes it (nulls and NaN as empty fields). Returns the row count.

    The rows come a partition at a time (`toLocalIterator`, fetching the next while one is written),
    so the driver holds two partitions at most, not the whole file, and no single result counts
    against `spark.driver.maxResultSize` whole. With an `order`, the rows are range-partitioned into
    `partitions` parts first: a plain sort lets adaptive execution merge its partitions by their
    compressed shuffle size, and repetitive text compresses so well that a whole block list became
    one partition, too large for a 1 GB heap.
    """
    import csv
    import math

    if order:
        df = df.repartitionByRange(max(1, partitions), *order).sortWithinPartitions(*order)
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(df.columns)
        for row in df.toLocalIterator(prefetchPartitions=True):
            out.writerow(["" if isinstance(v, float) and math.isnan(v) else v for v in row])
            rows += 1
    return rows


def materialize(df: DataFrame) -> DataFrame:
    """Materialise `df` as Parquet under the checkpoint dir and read it back: a plan with no lineage.

    Not Dataset.checkpoint(): since Spark 3.4 the checkpointed plan keeps the size estimate of the
    plan it replaces, and the size-only estimator multiplies the sizes of a join's sides, so the
    estimate of an iterated join grows doubly exponentially; after some 20 LPA iterations planning
    alone spends minutes multiplying BigIntegers. Parquet gives each iteration its true size. It is
    read back with the schema it was written with: inferring it would run a Spark job each time.
    """
    spark = df.sparkSession
    base = spark.sparkContext.getCheckpointDir()
    if not base:
        base = tempfile.mkdtemp(prefix="vigie-checkpoints-")
        spark.sparkContext.setCheckpointDir(base)
    path = f"{base.rstrip('/')}/vigie-{uuid.uuid4().hex}"
    df.write.parquet(path)
    return spark.read.schema(df.schema).parquet(path)


def exists(spark: SparkSession, path: str) -> bool:
    return DeltaTable.isDeltaTable(spark, path)


def ensure_table(spark: SparkSession, path: str, schema: T.StructType, partition_by: Sequence[str] = ()) -> DeltaTable:
    """Create the Delta table at `path` if it is not there yet, and return it."""
    builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema)
    if partition_by:
        builder = builder.partitionedBy(*partition_by)
    return builder.execute()


def version(spark: SparkSession, path: str) -> int | None:
    """Current version of a Delta table, None when there is no table."""
    if not exists(spark, path):
        return None
    return DeltaTable.forPath(spark, path).history(1).select("version").first()[0]


def _current_version(table: DeltaTable) -> int:
    return table.history(1).select("version").first()[0]


def _metric_since(table: DeltaTable, before: int, metric: str) -> int:
    """A metric of the commit made after version `before`; 0 when the operation committed nothing."""
    row = table.history(1).select("version", "operationMetrics").first()
    if row is None or row["version"] == before:
        return 0
    return int((row["operationMetrics"] or {}).get(metric, 0))


def _pruning(partition_col: str | None, df: DataFrame) -> str:
    """A literal IN-list on the partition column, so MERGE only touches the partitions in `df`."""
    if not partition_col:
        return ""
    values = sorted(r[0] for r in df.select(partition_col).distinct().collect() if r[0] is not None)
    if not values:
        return ""
    literal = ", ".join(f"'{v}'" for v in values)
    return f" AND t.{partition_col} IN ({literal}) AND t.{partition_col} = s.{partition_col}"


def merge_new_rows(
    spark: SparkSession,
    path: str,
    df: DataFrame,
    keys: Sequence[str],
    partition_col: str | None = None,
) -> int:
    """Insert the rows of `df` whose keys are not in the table yet; returns how many were inserted.

    An insert-only MERGE never rewrites existing files, so re-running an ingest is cheap and idempotent.
    """
    partition_by = [partition_col] if partition_col else []
    table = ensure_table(spark, path, df.schema, partition_by)
    # One writer per partition value (AQE coalesces the rest): no flood of tiny files per date,
    # whatever spark.sql.shuffle.partitions the cluster has.
    df = df.repartition(partition_col) if partition_col else df.coalesce(max(1, spark.sparkContext.defaultParallelism))
    if table.detail().select("numFiles").first()[0] == 0:
        # first load: nothing to match against, so skip the join (callers pass key-unique rows)
        df.write.format("delta").mode("append").save(path)
        return _metric_since(table, -1, "numOutputRows")
    cond = " AND ".join(f"t.{k} = s.{k}" for k in keys) + _pruning(partition_col, df)
    before = _current_version(table)
    table.alias("t").merge(df.alias("s"), cond).whenNotMatchedInsertAll().execute()
    return _metric_since(table, before, "numTargetRowsInserted")


def merge_latest(
    spark: SparkSession,
    path: str,
    df: DataFrame,
    key: str,
    order_col: str,
) -> tuple[int, int]:
    """Upsert rows keyed by `key`, replacing a stored row only with a newer one (by `order_col`)."""
    table = ensure_table(spark, path, df.schema)
    before = _current_version(table)
    (
        table.alias("t")
        .merge(df.alias("s"), f"t.{key} = s.{key}")
        .whenMatchedUpdateAll(condition=f"s.{order_col} > t.{order_col} OR t.{order_col} IS NULL")
        .whenNotMatchedInsertAll()
        .execute()
    )
    return _metric_since(table, before, "numTargetRowsInserted"), _metric_since(table, before, "numTargetRowsUpdated")


def append(spark: SparkSession, path: str, df: DataFrame) -> None:
    """Append rows, creating the table on first use."""
    ensure_table(spark, path, df.schema)
    df.write.format("delta").mode("append").save(path)


def delete_path(spark: SparkSession, path: str) -> None:
    """Recursively delete a folder through Hadoop's FileSystem (works for local paths and cloud URIs)."""
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).delete(hpath, True)


def overwrite(df: DataFrame, path: str, partition_by: str | None = None) -> None:
    """Gold tables are recomputed from silver on every run: overwriting keeps re-runs idempotent."""
    writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    if partition_by:
        writer = writer.partitionBy(partition_by)
    writer.save(path)
