"""The demo generator: deterministic, and its truth describes what it wrote."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import datetime

import pytest

from vigie.errors import ConfigError
from vigie.generate import TRUTH_FILE, diurnal, generate


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out, seed in ((a, 3), (b, 3), (c, 4)):
        generate(str(out), tweets=1500, seed=seed, files=2, progress=lambda _: None)
    assert digest(a) == digest(b)
    assert digest(a) != digest(c)


def test_same_seed_gives_identical_files_across_processes(tmp_path):
    """Python salts str hashes per process (PYTHONHASHSEED), so one process cannot show this."""
    outs = []
    for salt in ("1", "2"):
        out = tmp_path / salt
        env = {**os.environ, "PYTHONHASHSEED": salt}
        cmd = [sys.executable, "-m", "vigie.cli", "generate", "--out", str(out), "--tweets", "1500", "--files", "2"]
        subprocess.run(cmd, check=True, env=env, capture_output=True)
        outs.append(digest(out))
    assert outs[0] == outs[1]


def test_truth_counts_match_the_lines_written(tmp_path):
    truth = generate(str(tmp_path), tweets=3000, seed=5, files=3, progress=lambda _: None)
    lines = [ln for p in sorted(tmp_path.glob("tweets-*.jsonl")) for ln in p.read_bytes().splitlines()]
    assert len(lines) == truth["expected"]["lines"]
    assert truth["expected"]["lines"] == sum(truth["expected"][k] for k in ("accepted", "duplicates", "rejected"))
    ok = []
    for ln in lines:
        try:
            o = json.loads(ln)
        except ValueError:
            continue
        if isinstance(o.get("id"), int) and "user" in o:
            ok.append(o["id"])
    assert len(set(ok)) == truth["expected"]["accepted"]
    assert json.loads((tmp_path / TRUTH_FILE).read_text())["expected"] == truth["expected"]


def test_planted_structure_is_in_the_data(tmp_path):
    truth = generate(str(tmp_path), tweets=6000, seed=9, files=1, progress=lambda _: None)
    by_hour, bots_named, tags = Counter(), set(), Counter()
    bot_ids = set(truth["bots"])
    burst = truth["burst_windows"][1]  # Portugal-Spain
    in_burst = Counter()
    start, end = datetime.fromisoformat(burst["start"]), datetime.fromisoformat(burst["end"])
    for ln in (tmp_path / "tweets-0000.jsonl").read_bytes().splitlines():
        try:
            o = json.loads(ln)
        except ValueError:
            continue
        if "entities" not in o:
            continue
        ts = datetime.strptime(o["created_at"], "%a %b %d %H:%M:%S %z %Y")
        by_hour[ts.hour] += 1
        tags.update(h["text"].lower() for h in o["entities"]["hashtags"])
        if start <= ts < end:
            in_burst.update(h["text"].lower() for h in o["entities"]["hashtags"])
        if o["user"]["id"] in bot_ids and o["user"]["screen_name"].endswith("_bot"):
            bots_named.add(o["user"]["id"])
    peak = sum(by_hour[h] for h in (12, 13, 14, 15)) / 4
    low = sum(by_hour[h] for h in range(4, 9)) / 5
    assert peak > 3 * low
    assert tags.most_common(1)[0][0] == "worldcup"
    assert in_burst.most_common(3)[0][0] in burst["hashtags"] or in_burst.most_common(3)[1][0] in burst["hashtags"]
    assert 0 < len(bots_named) < len(bot_ids)  # only some bots say so
    assert set(truth["weak_label_bot_suffix"]) - bot_ids  # and some humans carry the suffix
    assert any("\u4e00" <= ch <= "\u9fff" for t in truth["communities"][truth["cjk_community"]] for ch in t)


def test_diurnal_profile_peaks_at_midday():
    assert max(range(24), key=diurnal) in (12, 13, 14, 15)


@pytest.mark.parametrize("kwargs", [{"tweets": 10}, {"fmt": "v3"}, {"compression": "zip"}, {"files": 0}])
def test_bad_options_are_config_errors(tmp_path, kwargs):
    args = {"tweets": 1000, **kwargs}
    with pytest.raises(ConfigError):
        generate(str(tmp_path), **args)
