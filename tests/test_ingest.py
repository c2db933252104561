"""The ingest stage on generated dumps with known truth: counts, idempotency, tables, bad input."""

from __future__ import annotations

import json

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from vigie import schema as S
from vigie.cli import main
from vigie.generate import TRUTH_FILE, generate
from vigie.ingest.job import ingest, silver_hashtags


def table(spark, lakehouse, name):
    return spark.read.format("delta").load(f"{lakehouse}/{name}")


@pytest.fixture(scope="module")
def ingested(spark, small_dump, tmp_path_factory):
    dump, truth = small_dump
    lakehouse = str(tmp_path_factory.mktemp("lake"))
    first = ingest(spark, [str(dump)], lakehouse, split_bytes=256 << 10)  # several splits per file
    snapshot = {
        n: table(spark, lakehouse, n).count() for n in (S.TWEETS, S.USERS, S.HASHTAGS, S.TWEET_LINKS, S.REJECTED)
    }
    versions = {n: DeltaTable.forPath(spark, f"{lakehouse}/{n}").history(1).first()["version"] for n in snapshot}
    second = ingest(spark, [str(dump)], lakehouse, split_bytes=1 << 20)
    return lakehouse, truth, first, second, snapshot, versions


def test_counts_equal_the_generated_truth(ingested):
    _, truth, first, _, _, _ = ingested
    expected = truth["expected"]
    assert {k: first.counts[k] for k in expected} == expected
    assert first.counts["inserted"] == expected["accepted"]


def test_reingesting_the_same_input_changes_nothing(spark, ingested):
    lakehouse, truth, _, second, snapshot, versions = ingested
    assert second.counts["inserted"] == 0
    assert second.counts["already_present"] == truth["expected"]["accepted"]
    for name, rows in snapshot.items():
        assert table(spark, lakehouse, name).count() == rows, name
    tweets_version = DeltaTable.forPath(spark, f"{lakehouse}/{S.TWEETS}").history(1).first()["version"]
    assert tweets_version == versions[S.TWEETS]  # an insert-only MERGE with nothing new commits nothing


def test_keys_are_unique_in_every_table(spark, ingested):
    lakehouse = ingested[0]
    for name, keys in [
        (S.TWEETS, ["tweet_id"]),
        (S.USERS, ["user_id"]),
        (S.HASHTAGS, ["tweet_id", "hashtag"]),
        (S.TWEET_LINKS, ["source_tweet_id", "link_type"]),
        (S.REJECTED, ["source_file", "line_number", "item_index"]),
    ]:
        df = table(spark, lakehouse, name)
        assert df.count() == df.select(*keys).distinct().count(), name


def test_rejects_point_at_their_line_in_the_source_file(spark, ingested):
    lakehouse = ingested[0]
    rows = table(spark, lakehouse, S.REJECTED).collect()
    assert rows
    lines = {}
    for r in rows:
        if r["source_file"] not in lines:
            lines[r["source_file"]] = open(r["source_file"], "rb").read().split(b"\n")
        actual = lines[r["source_file"]][r["line_number"] - 1].decode("utf-8", errors="replace")
        assert actual.startswith(r["raw"][:200]), (r["line_number"], r["reason"])


def test_reject_reasons_match_the_planted_malformed_lines(spark, ingested):
    lakehouse, truth = ingested[0], ingested[1]
    planted = truth["malformed_kinds"]
    family = {
        "truncated": "not valid JSON",
        "html": "not valid JSON",
        "bad_utf8": "not valid UTF-8",
        "delete_notice": "delete notice",
        "bad_id": "tweet id is not a number",
    }
    expected: dict[str, int] = {}
    for kind, n in planted.items():
        expected[family[kind]] = expected.get(family[kind], 0) + n
    got: dict[str, int] = {}
    for r in table(spark, lakehouse, S.REJECTED).collect():
        key = next(f for f in set(family.values()) if r["reason"].startswith(f))
        got[key] = got.get(key, 0) + 1
    assert got == expected and sum(planted.values()) == truth["expected"]["rejected"]


def test_run_is_recorded_with_its_counts_and_table_versions(spark, ingested):
    lakehouse, _, first, second, _, _ = ingested
    runs = {r["run_id"]: r for r in table(spark, lakehouse, S.RUNS).collect()}
    assert set(runs) >= {first.run_id, second.run_id}
    assert runs[first.run_id]["counts"]["accepted"] == first.counts["accepted"]
    assert runs[second.run_id]["table_versions"][S.TWEETS] == first.table_versions[S.TWEETS]


def test_hashtag_table_is_the_tweets_hashtags_exploded(spark, ingested):
    lakehouse = ingested[0]
    tweets = table(spark, lakehouse, S.TWEETS)
    assertDataFrameEqual(table(spark, lakehouse, S.HASHTAGS), silver_hashtags(tweets))
    assert table(spark, lakehouse, S.HASHTAGS).filter("hashtag = 'worldcup'").count() > 1000


def test_links_are_typed_and_match_the_tweet_flags(spark, ingested):
    lakehouse = ingested[0]
    tweets = table(spark, lakehouse, S.TWEETS)
    links = {
        r["link_type"]: r["count"]
        for r in table(spark, lakehouse, S.TWEET_LINKS).groupBy("link_type").count().collect()
    }
    flags = tweets.agg(*[F.sum(F.col(c).cast("int")).alias(c) for c in ("is_retweet", "is_quote", "is_reply")]).first()
    assert links == {"retweet": flags["is_retweet"], "quote": flags["is_quote"], "reply": flags["is_reply"]}
    assert min(links.values()) > 0


def test_tables_are_partitioned_by_date_and_text_comes_last(spark, ingested):
    lakehouse = ingested[0]
    for name in (S.TWEETS, S.HASHTAGS, S.TWEET_LINKS):
        assert DeltaTable.forPath(spark, f"{lakehouse}/{name}").detail().first()["partitionColumns"] == ["date"]
    cols = table(spark, lakehouse, S.TWEETS).columns
    assert cols[-1] == "text" and cols.index("text") >= 32
    dates = list(table(spark, lakehouse, S.TWEETS).select(F.min("date"), F.max("date")).first())
    assert [str(d) for d in dates] == ["2018-06-14", "2018-06-27"]


def test_users_hold_one_latest_profile_each(spark, ingested, small_dump):
    lakehouse = ingested[0]
    users = table(spark, lakehouse, S.USERS)
    authors = table(spark, lakehouse, S.TWEETS).select("user_id").distinct()
    assert users.count() == authors.count()
    bots = set(small_dump[1]["bots"])
    described = {r["user_id"] for r in users.filter(F.col("description").startswith("Live scores")).collect()}
    assert described == bots & {r[0] for r in authors.collect()}


def test_gzip_v2_pages_ingest_to_the_same_truth(spark, tmp_path):
    dump = tmp_path / "v2"
    truth = generate(str(dump), tweets=1500, seed=4, files=2, fmt="v2", compression="gzip", progress=lambda _: None)
    result = ingest(spark, [str(dump)], str(tmp_path / "lake"))
    assert {k: result.counts[k] for k in truth["expected"]} == truth["expected"]
    tweets = table(spark, str(tmp_path / "lake"), S.TWEETS)
    assert tweets.filter("api_format = 'v2' AND screen_name IS NOT NULL").count() == truth["expected"]["accepted"]
    assert tweets.filter("is_retweet AND size(retweet_hashtags) > 0").count() > 0


OK = '"created_at": "Wed Jun 20 12:00:00 +0000 2018", "user": {"id": 1}'
ZOO = [
    # (line text, expected outcome: "tweet" or the start of the reject reason)
    (
        f'{{"id": 1009417000000000001, {OK}, "text": "ok #A"}}',
        "tweet",
    ),
    ('{"id": 1009417000000000002, "created_at": "Wed Jun 20 12:00:00 +0000 2018", "text": "trunc', "not valid JSON"),
    ("", None),
    ("<html><body>502 Bad Gateway</body></html>", "not valid JSON"),
    ('{"text": "bad \xff bytes", "id": 3}', "not valid UTF-8"),
    ("{}", "unrecognised object"),
    ("[]", "empty JSON array"),
    ("42", "not valid JSON"),  # a bare number line is not a record start, it is decoded as one
    ('{"delete": {"status": {"id": 5}}}', "delete notice"),
    ('{"limit": {"track": 10}}', "rate-limit notice"),
    (
        '{"id": "x", "created_at": "Wed Jun 20 12:00:00 +0000 2018", "text": "t", "user": {"id": 1}}',
        "tweet id is not a number",
    ),
    (
        f'{{"id": 1009417000000000001, {OK}, "text": "again"}}',
        "duplicate",
    ),
    ('{"data": [{"id": "1009417000000000003", "text": "v2 #B", "created_at": "2018-06-20T12:00:00Z"}]}', "tweet"),
]


def test_malformed_line_zoo_is_quarantined_with_reasons(spark, tmp_path):
    path = tmp_path / "zoo.jsonl"
    path.write_bytes(b"\n".join(line.encode("utf-8").replace(b"\xc3\xbf", b"\xff") for line, _ in ZOO) + b"\n")
    lake = str(tmp_path / "lake")
    result = ingest(spark, [str(path)], lake)
    rejected = {r["line_number"]: r["reason"] for r in table(spark, lake, S.REJECTED).collect()}
    expected = {i + 1: want for i, (_, want) in enumerate(ZOO) if want not in ("tweet", "duplicate", None)}
    expected[8] = "JSON value is a int, not an object"
    assert set(rejected) == set(expected)
    for line, want in expected.items():
        assert rejected[line].startswith(want), (line, rejected[line])
    assert result.counts == {
        "lines": len(ZOO),
        "records": 12,
        "accepted": 2,
        "duplicates": 1,
        "rejected": 9,
        "inserted": 2,
        "already_present": 0,
    }


def test_cli_reports_bad_input_in_one_line(tmp_path, capsys):
    assert main(["ingest", str(tmp_path / "missing.jsonl"), "--lakehouse", str(tmp_path / "lake")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"vigie: error: input not found: {tmp_path / 'missing.jsonl'}"
    assert main(["ingest", str(tmp_path), "--lakehouse", str(tmp_path / "l"), "--set", "ingest.split_mb=big"]) == 2
    assert "ingest.split_mb must be a int" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["ingest", "--lakehouse", str(tmp_path)])
    assert exc.value.code == 2


def test_cli_ingest_prints_one_json_line_of_counts(spark, tmp_path, capsys, small_dump):
    dump, truth = small_dump
    assert main(["ingest", str(dump), "--lakehouse", str(tmp_path / "lake")]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {k: out[k] for k in truth["expected"]} == truth["expected"]
    assert (dump / TRUTH_FILE).exists()
