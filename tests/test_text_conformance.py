"""Hashtag and mention extraction passes the official twitter-text conformance suite."""

from __future__ import annotations

import pytest
import yaml

from vigie.ingest.text import (
    extract_hashtags,
    extract_hashtags_with_indices,
    extract_mentions,
    extract_mentions_with_indices,
    normalize_hashtag,
)


def _cases(shared_dir, group):
    suite = yaml.safe_load((shared_dir / "twitter-text" / "conformance_extract.yml").read_text(encoding="utf-8"))
    return suite["tests"][group]


def _load(group):
    from tests.conftest import SHARED

    return [pytest.param(c, id=c["description"][:60]) for c in _cases(SHARED, group)]


@pytest.mark.parametrize("case", _load("hashtags") + _load("hashtags_from_astral"))
def test_hashtags_match_conformance(case):
    assert extract_hashtags(case["text"]) == case["expected"]


@pytest.mark.parametrize("case", _load("hashtags_with_indices"))
def test_hashtag_indices_match_conformance(case):
    got = [{"hashtag": t, "indices": [a, b]} for t, a, b in extract_hashtags_with_indices(case["text"])]
    assert got == case["expected"]


@pytest.mark.parametrize("case", _load("mentions"))
def test_mentions_match_conformance(case):
    assert extract_mentions(case["text"]) == case["expected"]


@pytest.mark.parametrize("case", _load("mentions_with_indices"))
def test_mention_indices_match_conformance(case):
    got = [{"screen_name": n, "indices": [a, b]} for n, a, b in extract_mentions_with_indices(case["text"])]
    assert got == case["expected"]


def test_suite_is_complete(shared_data):
    assert len(_cases(shared_data, "hashtags")) == 65
    assert len(_cases(shared_data, "hashtags_from_astral")) == 3
    assert len(_cases(shared_data, "mentions")) == 23


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("WorldCup", "worldcup"),
        ("ＥＳＰ１２", "esp12"),
        ("PORESP", "poresp"),
        ("世界杯", "世界杯"),
        ("ﾊｯｼｭ", "ハッシュ"),
    ],
)
def test_hashtags_are_stored_nfkc_lower_case(raw, stored):
    assert normalize_hashtag(raw) == stored
