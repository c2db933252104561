"""Ingest throughput: vigie (JSON -> Delta silver) against DuckDB read_json -> Parquet, same file, same cores.

    .venv/bin/python benchmarks/ingest.py [--tweets 750000] [--cores 2] [--data DIR]

Prints seconds, MB/s and peak memory (whole process tree) per tool, and the ratio of each to DuckDB.
Spark's own JSON reader (explicit schema, to Parquet) is shown too, as the naive Spark baseline.

First, on one core and in this process, the Python parse that each ingest task runs: vigie's parse of the
file's first 64 MB split into staging Arrow batches, against `orjson.loads` of the same records alone,
the floor of any parser written in Python (`--parse-only` stops there).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import run_measured, timed

PY = sys.executable
# The columns both contenders read: the study's fields (ids, time, text, user, hashtags, mentions, links).
DUCKDB_COLUMNS = ", ".join(
    [
        "id: 'BIGINT'",
        "created_at: 'VARCHAR'",
        "text: 'VARCHAR'",
        "lang: 'VARCHAR'",
        "source: 'VARCHAR'",
        "\"user\": 'STRUCT(id BIGINT, screen_name VARCHAR)'",
        "entities: 'STRUCT(hashtags STRUCT(text VARCHAR)[], user_mentions STRUCT(screen_name VARCHAR)[])'",
        "retweeted_status: 'STRUCT(id BIGINT)'",
        "quoted_status_id: 'BIGINT'",
        "in_reply_to_status_id: 'BIGINT'",
        "place: 'STRUCT(country_code VARCHAR)'",
    ]
)
DUCKDB = """
import duckdb
con = duckdb.connect()
con.execute("SET threads={cores}")
con.execute(\"\"\"COPY (SELECT * FROM read_json('{src}', format='newline_delimited', ignore_errors=true,
    maximum_object_size=16777216, columns={{{columns}}})) TO '{out}' (FORMAT PARQUET)\"\"\")
print(con.execute("SELECT count(*) FROM read_parquet('{out}')").fetchone()[0])
"""
SPARK_SCHEMA = (
    "id long, created_at string, text string, lang string, source string, user struct<id:long,screen_name:string>, "
    "entities struct<hashtags:array<struct<text:string>>,user_mentions:array<struct<screen_name:string>>>, "
    "retweeted_status struct<id:long>, quoted_status_id long, in_reply_to_status_id long, "
    "place struct<country_code:string>"
)
SPARK_JSON = """
from vigie.session import get_spark
spark = get_spark(master="local[{cores}]", shuffle_partitions={cores})
df = spark.read.schema("{schema}").option("mode", "PERMISSIVE").json("{src}")
df.write.mode("overwrite").parquet("{out}")
print(spark.read.parquet("{out}").count())
"""


def parse_vs_orjson(src: Path, split_bytes: int = 64 << 20, repeats: int = 3) -> None:
    """One split, one core: vigie's parse into staging batches against decoding its records alone."""
    import orjson
    import pyarrow as pa

    from vigie.ingest.job import parse_split_batches
    from vigie.ingest.reader import Split, iter_chunks

    split = Split(str(src), 0, 0, split_bytes, "none")
    described = pa.RecordBatch.from_pylist(
        [{"path": split.path, "index": 0, "start": 0, "end": split.end, "compression": "none"}]
    )

    def decode_only() -> int:
        decoded = 0
        for _, chunk in iter_chunks(split):
            try:
                decoded += orjson.loads(chunk) is not None if chunk else 0
            except orjson.JSONDecodeError:  # the generated dump plants malformed lines
                pass
        return decoded

    def vigie_parse() -> int:
        return sum(b.num_rows for b in parse_split_batches(iter([described])))

    mb = min(split_bytes, src.stat().st_size) / 2**20
    best = {}
    for name, fn in (("orjson.loads alone", decode_only), ("vigie parse -> staging batches", vigie_parse)):
        best[name] = min(timed(fn)[0] for _ in range(repeats))
    base = best["orjson.loads alone"]
    print(f"\nPython parse, one core, the first {mb:,.0f} MB split of {src.name}, best of {repeats}:")
    print(f"{'step':32} {'seconds':>8} {'MB/s':>8} {'x orjson time':>14}")
    for name, secs in best.items():
        print(f"{name:32} {secs:8.2f} {mb / secs:8.1f} {secs / base:14.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tweets", type=int, default=750_000, help="size of the generated dump (750k ~ 1 GB)")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "vigie-bench-ingest"))
    ap.add_argument("--parse-only", action="store_true", help="only the one-core Python parse")
    args = ap.parse_args()

    data = Path(args.data)
    dump = data / f"dump-{args.tweets}"
    if not (dump / "_truth.json").exists():
        shutil.rmtree(dump, ignore_errors=True)
        print(f"generating {args.tweets:,} tweets into {dump} ...", file=sys.stderr)
        run_measured(
            [PY, "-m", "vigie.cli", "generate", "--out", str(dump), "--tweets", str(args.tweets), "--files", "1"]
        )
    src = next(dump.glob("tweets-*.jsonl"))
    size_mb = src.stat().st_size / 2**20
    truth = json.loads((dump / "_truth.json").read_text())
    parse_vs_orjson(src)
    if args.parse_only:
        return
    env = {**os.environ, "PYSPARK_PYTHON": PY}
    work = Path(tempfile.mkdtemp(prefix="vigie-bench-"))
    results = {}
    try:
        secs, mem, out = run_measured(
            [PY, "-c", DUCKDB.format(cores=args.cores, src=src, out=work / "duck.parquet", columns=DUCKDB_COLUMNS)]
        )
        results["duckdb read_json -> parquet"] = (secs, mem, int(out.strip().splitlines()[-1]))
        secs, mem, out = run_measured(
            [PY, "-c", SPARK_JSON.format(cores=args.cores, src=src, out=work / "sparkjson", schema=SPARK_SCHEMA)],
            env=env,
        )
        results["spark.read.json -> parquet"] = (secs, mem, int(out.strip().splitlines()[-1]))
        cmd = [
            PY,
            "-m",
            "vigie.cli",
            "ingest",
            str(src),
            "--lakehouse",
            str(work / "lake"),
            "--master",
            f"local[{args.cores}]",
        ]
        secs, mem, out = run_measured(cmd, env=env)
        counts = json.loads(out.strip().splitlines()[-1])
        assert counts["accepted"] == truth["expected"]["accepted"], (counts, truth["expected"])
        results["vigie ingest -> delta silver"] = (secs, mem, counts["accepted"])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    base = results["duckdb read_json -> parquet"][0]
    print(f"\ninput: {src.name}, {size_mb:,.0f} MB, {truth['expected']['lines']:,} lines, {args.cores} cores")
    print(f"{'tool':32} {'seconds':>8} {'MB/s':>8} {'peak MB':>8} {'rows':>10} {'ratio vs duckdb':>16}")
    for name, (secs, mem, rows) in results.items():
        print(f"{name:32} {secs:8.1f} {size_mb / secs:8.1f} {mem:8.0f} {rows:10,} {base / secs:16.2f}")


if __name__ == "__main__":
    main()
