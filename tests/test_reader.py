"""Reading raw dumps: chunking, byte-range splits, compression and line numbers (no Spark needed)."""

from __future__ import annotations

import bz2
import gzip
import json

import pyarrow as pa
import pytest
from pyspark.sql.pandas.types import to_arrow_schema

from vigie import schema as S
from vigie.errors import InputError
from vigie.ingest.job import KIND_COLUMNS, parse_split, parse_split_batches
from vigie.ingest.reader import decode_chunk, list_input_files, plan_splits


def status(i: int, tags=("POR",)) -> dict:
    tid = ((1529496000000 + i * 1000 - 1288834974657) << 22) | i % 4096
    return {
        "id": tid,
        "created_at": "Wed Jun 20 12:00:00 +0000 2018",
        "text": " ".join("#" + t for t in tags),
        "user": {"id": 1000 + i % 7, "screen_name": f"u{i % 7}"},
        "entities": {"hashtags": [{"text": t} for t in tags], "user_mentions": [], "urls": []},
    }


def read_all(files, split_bytes):
    """Rows of every split with their 1-based line numbers, computed the way the Spark job does."""
    rows, stats = [], {}
    for split in plan_splits(files, split_bytes):
        for r in parse_split(split):
            if r["kind"] == "split":
                stats[(r["source_file"], r["split_index"])] = r["split_lines"]
            else:
                rows.append(r)
    before, running = {}, {}
    for (f, i), n in sorted(stats.items()):
        before[(f, i)] = running.get(f, 0)
        running[f] = running.get(f, 0) + n
    out = []
    for r in rows:
        line = before[(r["source_file"], r["split_index"])] + r["local_line"] + 1
        out.append((r["kind"], line, r["item_index"], r.get("tweet_id"), r.get("reason")))
    return sorted(out, key=lambda x: (x[1], x[2], x[0])), sum(running.values())


@pytest.fixture
def mixed_file(tmp_path):
    """Line-delimited tweets with, at known lines, a pretty-printed one, two run together, and bad lines."""
    lines: list[str] = []
    for i in range(300):
        if i == 50:
            lines.extend(json.dumps(status(i), indent=2).split("\n"))  # starts at line 51, spans many
        elif i == 120:
            lines.append(json.dumps(status(i)) + json.dumps(status(10_000 + i)))  # two objects, one line
        elif i == 200:
            lines.append('{"id": 1, "text": "trunc')  # truncated
        elif i == 201:
            lines.append("")  # blank line: not a record
        elif i == 202:
            lines.append("<html>oops</html>")
        else:
            lines.append(json.dumps(status(i)))
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, lines


def test_byte_range_splits_read_exactly_what_one_split_reads(mixed_file):
    path, lines = mixed_file
    whole, n_whole = read_all([str(path)], split_bytes=1 << 30)
    for split_bytes in (997, 4096, 20_000):
        parts, n_parts = read_all([str(path)], split_bytes)
        assert len(plan_splits([str(path)], split_bytes)) > 1
        assert parts == whole
        assert n_parts == n_whole == len(lines)


def test_line_numbers_point_at_the_record_in_the_file(mixed_file):
    path, lines = mixed_file
    rows, _ = read_all([str(path)], split_bytes=997)
    rejects = [(line, reason) for kind, line, _, _, reason in rows if kind == "reject"]
    assert [line for line, _ in rejects] == [
        lines.index('{"id": 1, "text": "trunc') + 1,
        lines.index("<html>oops</html>") + 1,
    ]
    assert rejects[0][1].startswith("not valid JSON: ") and rejects[1][1].startswith("not valid JSON: ")
    tweets = {tid: line for kind, line, _, tid, _ in rows if kind == "tweet"}
    assert len(tweets) == 298  # 300 lines of statuses + 1 run-together, minus the truncated and the HTML line
    pretty_first_line = lines.index("{") + 1
    assert tweets[status(50)["id"]] == pretty_first_line
    for tid, line in list(tweets.items())[:40]:
        if line != pretty_first_line:
            assert json.loads(lines[line - 1].split("}{")[0] + ("}" if "}{" in lines[line - 1] else ""))["id"] == tid


def test_two_objects_on_one_line_are_two_records(mixed_file):
    path, lines = mixed_file
    rows, _ = read_all([str(path)], split_bytes=997)
    on_line = [(item, tid) for kind, line, item, tid, _ in rows if kind == "tweet" and "}{" in lines[line - 1]]
    assert [item for item, _ in on_line] == [0, 1]
    assert {tid for _, tid in on_line} == {status(120)["id"], status(10_120)["id"]}


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2")])
def test_compressed_files_read_like_plain_ones(tmp_path, mixed_file, opener, suffix):
    path, _ = mixed_file
    packed = tmp_path / f"packed{suffix}"
    with opener(packed, "wb") as fh:
        fh.write(path.read_bytes())
    plain, n_plain = read_all([str(path)], 1 << 30)
    comp, n_comp = read_all([str(packed)], 997)  # compressed files are never byte-split
    assert len(plan_splits([str(packed)], 997)) == 1
    assert comp == plain and n_comp == n_plain


def test_decode_chunk_names_the_problem():
    assert list(decode_chunk(b'{"a": 1}')) == [(0, {"a": 1}, None)]
    assert list(decode_chunk(b'{"a": 1}{"b": 2}')) == [(0, {"a": 1}, None), (0, {"b": 2}, None)]
    [(_, value, error)] = list(decode_chunk(b'{"text": "\xff"}'))
    assert value is None and error == "not valid UTF-8 (byte 10)"
    [(_, _, error)] = list(decode_chunk(b"{oops"))
    assert error.startswith("not valid JSON: Expecting property name")
    # a broken pretty-printed object is one reject; the next column-0 line is a record of its own
    broken = b'{"a": 1,\n  "b": oops,\n  "c": 3\n}\n<html>\n{"d": 4}'
    got = [(line, value, (error or "")[:15]) for line, value, error in decode_chunk(broken)]
    assert got == [(0, None, "not valid JSON:"), (4, None, "not valid JSON:"), (5, {"d": 4}, "")]
    assert list(decode_chunk(b"   \n  ")) == []


def test_folders_are_listed_recursively_skipping_hidden_and_underscore_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.jsonl").write_text("{}")
    (tmp_path / "b.json").write_text("{}")
    (tmp_path / "_truth.json").write_text("{}")
    (tmp_path / ".hidden").write_text("{}")
    (tmp_path / "_staging").mkdir()
    (tmp_path / "_staging" / "y.jsonl").write_text("{}")
    assert [p.split("/")[-1] for p in list_input_files([str(tmp_path)])] == ["x.jsonl", "b.json"]


def test_missing_input_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match=r"input not found: .*nope"):
        list_input_files([str(tmp_path / "nope")])
    with pytest.raises(InputError, match="no input given"):
        list_input_files([])
    with pytest.raises(InputError, match=r"s3://bucket/raw is a remote URI: .* /dbfs/"):
        list_input_files(["s3://bucket/raw"])


SAMPLE_FOLDERS = ["tweet-updates", "tweet_parser", "python-twitter", "tweepy", "twarc-csv", "twarc-hashtags"]
STAGING_KEY = ["source_file", "split_index", "kind", "local_line", "item_index"]


def test_staging_batches_keep_every_value_the_parser_set(shared_data, mixed_file):
    """Batches are built per kind from that kind's columns: none may drop a value a parser filled.

    Every format vigie reads (v1.1, v2 pages, activity streams, rejects) against Arrow's own
    row-by-row conversion of the same rows into the whole staging schema.
    """
    samples = (p for d in SAMPLE_FOLDERS for p in (shared_data / d).rglob("*") if p.suffix in (".json", ".jsonl"))
    files = [str(mixed_file[0]), *sorted(map(str, samples))]
    schema = to_arrow_schema(S.STAGING_SCHEMA)
    splits = plan_splits(files, split_bytes=1 << 16)
    rows = [r for split in splits for r in parse_split(split)]
    assert {r["kind"] for r in rows} == set(KIND_COLUMNS)
    for r in rows:
        assert set(r) <= set(KIND_COLUMNS[r["kind"]]), (r["kind"], set(r) - set(KIND_COLUMNS[r["kind"]]))

    descriptions = pa.RecordBatch.from_pylist(
        [
            {"path": s.path, "index": s.index, "start": s.start, "end": s.end, "compression": s.compression}
            for s in splits
        ],
    )
    batches = list(parse_split_batches(iter([descriptions])))
    assert all(len(set(b.column("kind").to_pylist())) == 1 for b in batches)  # one kind per batch
    order = [(c, "ascending") for c in STAGING_KEY]
    got = pa.Table.from_batches(batches, schema).sort_by(order)
    want = pa.Table.from_pylist(rows, schema).sort_by(order)
    assert got.num_rows == len(rows) > 1000
    assert got.equals(want)
