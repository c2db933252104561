"""A realistic World Cup 2018-style tweet dump with known truth, for demos, tests and benchmarks.

What is planted (and written to `truth.json` so model tests can score against it):
- a diurnal signal peaking 12h-15h UTC and low 4h-11h;
- match bursts: the volume multiplies for two hours and the match's hashtags dominate;
- Zipf-distributed hashtags in communities, one written in Chinese characters (used by zh
  speakers) and one around Spain/Portugal; `worldcup` is everywhere, as in the study;
- retweets, quotes and replies of earlier tweets, multilingual text, places, user profiles;
- bots posting near multiples of 10 minutes with templated text; only some are named `*_bot`,
  and a few humans are;
- duplicated deliveries and malformed lines, with the counts an ingest must report.

Deterministic for a seed (and a number of files); files are written in parallel.

Example:
    >>> truth = generate("demo/raw", tweets=20_000, seed=7)  # doctest: +SKIP
    >>> truth["expected"]["accepted"]  # doctest: +SKIP
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import itertools
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import IO, Any

import orjson

from vigie.errors import ConfigError

START = datetime(2018, 6, 14, tzinfo=timezone.utc)
DAYS = 14
TWITTER_EPOCH_MS = 1288834974657
TRUTH_FILE = "_truth.json"  # leading underscore: ingest skips it, like Hadoop does
EXCLUDED_TAG = "WorldCup"
GLOBAL_TAGS = ["Russia2018", "FIFA", "football", "WorldCupRussia"]

# name -> (hashtags by popularity, main languages, country codes)
COMMUNITIES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "spain_portugal": (
        ["POR", "ESP", "PORESP", "PortugalSpain", "CristianoRonaldo", "DiegoCosta", "CR7", "Isco", "Nacho", "DeGea"],
        ["es", "pt", "en"],
        ["ES", "PT"],
    ),
    "chinese": (
        ["世界杯", "俄罗斯世界杯", "足球", "梅西", "内马尔", "阿根廷队", "看球", "世界杯直播"],
        ["zh"],
        ["CN", "TW", "HK"],
    ),
    "france": (
        ["FRA", "AUS", "FRAAUS", "Mbappe", "Griezmann", "Pogba", "AllezLesBleus", "EquipeDeFrance"],
        ["fr", "en"],
        ["FR", "BE"],
    ),
    "argentina": (
        ["ARG", "ISL", "ARGISL", "Messi", "VamosArgentina", "Aguero", "Iceland", "HUH"],
        ["es", "en", "is"],
        ["AR", "IS"],
    ),
    "brazil": (["BRA", "SUI", "BRASUI", "Neymar", "Coutinho", "VaiBrasil", "SelecaoBrasileira"], ["pt", "en"], ["BR"]),
    "england": (["ENG", "TUN", "TUNENG", "ThreeLions", "Kane", "ItsComingHome", "Sterling"], ["en"], ["GB"]),
    "russia": (["RUS", "KSA", "RUSKSA", "Cheryshev", "Golovin", "ЧМ2018", "СборнаяРоссии"], ["ru", "en"], ["RU"]),
    "germany": (
        ["GER", "MEX", "GERMEX", "DieMannschaft", "Lozano", "Kroos", "Neuer"],
        ["de", "es", "en"],
        ["DE", "MX"],
    ),
}

# Planted matches: (community, day offset, kick-off hour UTC, match hashtags that dominate the burst)
MATCHES = [
    ("russia", 0, 15, ["RUSKSA", "RUS"]),
    ("spain_portugal", 1, 18, ["PORESP", "CristianoRonaldo", "POR", "ESP"]),
    ("france", 2, 10, ["FRAAUS", "FRA"]),
    ("argentina", 2, 13, ["ARGISL", "Messi"]),
    ("germany", 3, 15, ["GERMEX", "Lozano"]),
    ("brazil", 3, 18, ["BRASUI", "Neymar"]),
    ("england", 4, 18, ["TUNENG", "Kane"]),
    ("chinese", 8, 14, ["世界杯直播", "梅西"]),
    ("spain_portugal", 11, 18, ["ESP", "Isco"]),
]
BURST_HOURS = 2
BURST_FACTOR = 4.0

WORDS = {
    "en": "goal match team what a game amazing penalty referee fans tonight win lost draw keeper save shot".split(),
    "es": "gol partido equipo qué juego increíble penalti árbitro afición esta noche ganar perder empate".split(),
    "pt": "golo jogo equipa que partida incrível pênalti árbitro torcida hoje ganhar perder empate goleiro".split(),
    "fr": "but match équipe quel jeu incroyable penalty arbitre supporters ce soir gagner perdre nul gardien".split(),
    "de": "Tor Spiel Mannschaft was für ein unglaublich Elfmeter Schiedsrichter Fans heute Abend gewinnen".split(),
    "ru": "гол матч команда какая игра невероятно пенальти судья болельщики сегодня победа ничья вратарь".split(),
    "zh": "进球 比赛 球队 精彩 点球 裁判 球迷 今晚 赢了 输了 平局 门将 扑救 射门 太棒了".split(),
    "is": "mark leikur lið hvílíkur leikur ótrúlegt víti dómari áhorfendur í kvöld sigur jafntefli".split(),
}
SOURCES = [
    '<a href="http://twitter.com/download/iphone" rel="nofollow">Twitter for iPhone</a>',
    '<a href="http://twitter.com/download/android" rel="nofollow">Twitter for Android</a>',
    '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Lite</a>',
    '<a href="http://twitter.com" rel="nofollow">Twitter Web Client</a>',
]
BOT_SOURCE = '<a href="https://ifttt.com" rel="nofollow">IFTTT</a>'
BOT_TEMPLATES = [
    "LIVE {a} {x}-{y} {b} | minute {m} | follow for updates every 10 minutes #WorldCup #{tag}",
    "Score update: {a} {x} - {y} {b} ({m}') #WorldCup #{tag} #Russia2018",
    "Download our app for live World Cup scores and odds {url} #WorldCup #{tag}",
    "Hot singles near you are watching {a} vs {b}! Meet them now {url} #WorldCup",
]
TEAMS = ["Russia", "Spain", "Portugal", "France", "Argentina", "Brazil", "England", "Germany", "Mexico", "Iceland"]


@dataclass
class User:
    id: int
    screen_name: str
    name: str
    community: str
    lang: str
    country: str
    is_bot: bool
    period_min: int = 0
    activity: float = 1.0
    created: str = ""
    followers: int = 0


def _zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1.0 / (k**s) for k in range(1, n + 1)]


def diurnal(hour: int) -> float:
    """Relative tweet rate by hour of day (UTC): peak 12h-15h, low 4h-11h."""
    peak = math.exp(-(((hour - 13.5) / 3.0) ** 2))
    evening = 0.45 * math.exp(-(((hour - 19.5) / 2.5) ** 2))
    return 0.18 + peak + evening


def burst_windows() -> list[dict[str, Any]]:
    """The planted bursts as hour windows [start, end) with their community and hashtags."""
    out = []
    for community, day, hour, tags in MATCHES:
        start = START + timedelta(days=day, hours=hour)
        out.append(
            {
                "start": start.isoformat(),
                "end": (start + timedelta(hours=BURST_HOURS)).isoformat(),
                "community": community,
                "hashtags": [t.lower() for t in tags],
            }
        )
    return out


def _twitter_time(ts: float) -> str:
    return time.strftime("%a %b %d %H:%M:%S +0000 %Y", time.gmtime(ts))


def _snowflake(ts: float, worker: int, seq: int) -> int:
    return ((int(ts * 1000) - TWITTER_EPOCH_MS) << 22) | ((worker & 1023) << 12) | (seq & 4095)


def make_users(n_users: int, seed: int) -> list[User]:
    """The same population in every shard (a function of the seed only)."""
    rng = random.Random(seed * 7919 + 1)
    names = list(COMMUNITIES)
    weights = [3, 1.2, 1.5, 1.5, 1.5, 1.5, 1.2, 1.2]
    users = []
    n_bots = max(4, n_users // 40)
    for i in range(n_users):
        is_bot = i < n_bots
        community = rng.choices(names, weights)[0]
        _, langs, countries = COMMUNITIES[community]
        lang = langs[0] if rng.random() < 0.75 else rng.choice(langs)
        stem = rng.choice(["fan", "futbol", "goal", "match", "kick", "ball"])
        handle = f"{stem}{rng.choice(['ero', 'ista', 'lover', 'zone', '', 'max'])}{i}"
        if is_bot:
            # only 40% of bots say so with the `_bot` suffix; others hide (`Fcbtweetbot`-style or plain)
            r = rng.random()
            handle = f"{handle}_bot" if r < 0.4 else (f"{handle}tweetbot" if r < 0.6 else f"live_{handle}")
        elif i % 120 == 60:
            handle = f"{handle}_bot"  # humans who use the suffix (one in 120): the weak label's noise
        users.append(
            User(
                id=10_000_000 + i * 7919 + rng.randrange(7919),
                screen_name=handle,
                name=handle.replace("_", " ").title(),
                community=community,
                lang=lang,
                country=rng.choice(countries),
                is_bot=is_bot,
                period_min=rng.choice([10, 10, 20, 30, 60]) if is_bot else 0,
                activity=rng.paretovariate(1.3),
                created=_twitter_time(1230768000 + rng.randrange(300_000_000)),
                followers=int(rng.paretovariate(1.1) * 50),
            )
        )
    return users


def _profile(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "id_str": str(u.id),
        "name": u.name,
        "screen_name": u.screen_name,
        "location": u.country,
        "description": "Live scores, every 10 minutes" if u.is_bot else f"{u.community.replace('_', ' ')} fan",
        "followers_count": u.followers,
        "friends_count": u.followers // 2 + 10,
        "statuses_count": 1000 + u.id % 5000,
        "created_at": u.created,
        "lang": u.lang,
        "verified": False,
    }


class _Shard:
    """Writes the tweets of one time range to one file (runs in a worker process)."""

    def __init__(self, shard: int, n_shards: int, tweets: int, seed: int, users: list[User], fmt: str):
        self.shard, self.fmt = shard, fmt
        self.rng = random.Random(seed * 1_000_003 + shard)
        self.users = users
        self.humans = [u for u in users if not u.is_bot]
        # cumulative weights once: `choices(weights=...)` would rebuild them over all users on every draw
        self.human_cum = list(itertools.accumulate(u.activity for u in self.humans))
        self.bots = [u for u in users if u.is_bot]
        self.tags = {c: (tags, _zipf_weights(len(tags))) for c, (tags, _, _) in COMMUNITIES.items()}
        self.seq = 0
        self.recent: list[dict[str, Any]] = []
        days = DAYS / n_shards
        self.t0 = START.timestamp() + shard * days * 86400
        self.t1 = START.timestamp() + (shard + 1) * days * 86400
        self.tweets = tweets
        self.counts = {"lines": 0, "tweets": 0, "duplicates": 0, "malformed": 0, "bot_tweets": 0}

    # -- building tweets

    def _next_id(self, ts: float) -> int:
        self.seq += 1
        return _snowflake(ts, self.shard, self.seq)

    def _entities(self, text: str, tags: list[str], mentions: list[User], url: str | None) -> dict[str, Any]:
        ents: dict[str, Any] = {"hashtags": [], "user_mentions": [], "urls": [], "symbols": []}
        for t in tags:
            i = text.find("#" + t)
            ents["hashtags"].append({"text": t, "indices": [i, i + len(t) + 1]})
        for m in mentions:
            i = text.find("@" + m.screen_name)
            ents["user_mentions"].append(
                {
                    "screen_name": m.screen_name,
                    "name": m.name,
                    "id": m.id,
                    "id_str": str(m.id),
                    "indices": [i, i + len(m.screen_name) + 1],
                }
            )
        if url:
            i = text.find(url)
            ents["urls"].append(
                {
                    "url": url,
                    "expanded_url": f"https://example.org/worldcup/{_stable_hash(url) % 1000}",
                    "display_url": "example.org/worldcup",
                    "indices": [i, i + len(url)],
                }
            )
        return ents

    def _status(
        self, ts: float, u: User, text: str, tags: list[str], mentions: list[User], url: str | None, source: str
    ) -> dict[str, Any]:
        tid = self._next_id(ts)
        ents = self._entities(text, tags, mentions, url)
        o: dict[str, Any] = {
            "created_at": _twitter_time(ts),
            "id": tid,
            "id_str": str(tid),
            "text": text if len(text) <= 140 else text[:139] + "…",
            "source": source,
            "truncated": len(text) > 140,
            "in_reply_to_status_id": None,
            "in_reply_to_user_id": None,
            "user": _profile(u),
            "geo": None,
            "coordinates": None,
            "place": None,
            "is_quote_status": False,
            "entities": ents,
            "lang": u.lang,
            "timestamp_ms": str(int(ts * 1000)),
            "favorite_count": 0,
            "retweet_count": 0,
            "filter_level": "low",
        }
        if len(text) > 140:
            o["extended_tweet"] = {"full_text": text, "display_text_range": [0, len(text)], "entities": ents}
        if self.rng.random() < 0.12:
            city = f"{u.country}-city-{u.id % 7}"
            o["place"] = {
                "id": f"{_stable_hash(city) % 16**12:012x}",
                "place_type": "city",
                "name": city,
                "full_name": city,
                "country_code": u.country,
                "country": u.country,
            }
            if self.rng.random() < 0.2:
                o["coordinates"] = {
                    "type": "Point",
                    "coordinates": [round(self.rng.uniform(-10, 60), 5), round(self.rng.uniform(30, 60), 5)],
                }
        return o

    def _human_tweet(self, ts: float, burst: tuple[str, list[str]] | None) -> dict[str, Any]:
        rng = self.rng
        u = rng.choices(self.humans, cum_weights=self.human_cum)[0]
        community = u.community
        tags: list[str] = []
        if burst and rng.random() < 0.8:
            community = burst[0]
            tags.extend(rng.sample(burst[1], k=min(len(burst[1]), rng.randint(1, 2))))
        if rng.random() < 0.25 and self.recent:
            return self._retweet(ts, u, rng.choice(self.recent))
        pool, weights = self.tags[community]
        for t in rng.choices(pool, weights, k=rng.choice([0, 1, 1, 2, 2, 3])):
            if t not in tags:
                tags.append(t)
        if rng.random() < 0.55:
            tags.append(EXCLUDED_TAG)
        if rng.random() < 0.25:
            tags.append(rng.choice(GLOBAL_TAGS))
        tags = tags[:8]
        lang = "zh" if community == "chinese" else u.lang
        words = rng.choices(WORDS.get(lang, WORDS["en"]), k=rng.randint(4, 14))
        mentions = rng.sample(self.humans, k=1) if rng.random() < 0.2 else []
        url = f"https://t.co/{rng.randrange(36**8):08x}" if rng.random() < 0.15 else None
        sep = "" if lang == "zh" else " "
        parts = (
            [sep.join(words)]
            + [f"@{m.screen_name}" for m in mentions]
            + [f"#{t}" for t in tags]
            + ([url] if url else [])
        )
        text = " ".join(parts)
        o = self._status(ts, u, text, tags, mentions, url, rng.choice(SOURCES))
        o["lang"] = lang
        if self.recent and rng.random() < 0.12:
            target = rng.choice(self.recent)
            o["in_reply_to_status_id"] = target["id"]
            o["in_reply_to_status_id_str"] = str(target["id"])
            o["in_reply_to_user_id"] = target["user"]["id"]
            o["in_reply_to_user_id_str"] = str(target["user"]["id"])
            o["in_reply_to_screen_name"] = target["user"]["screen_name"]
        elif self.recent and rng.random() < 0.06:
            target = rng.choice(self.recent)
            o["is_quote_status"] = True
            o["quoted_status_id"] = target["id"]
            o["quoted_status_id_str"] = str(target["id"])
            o["quoted_status"] = target
        self._remember(o)
        return o

    def _retweet(self, ts: float, u: User, original: dict[str, Any]) -> dict[str, Any]:
        body = original["extended_tweet"]["full_text"] if "extended_tweet" in original else original["text"]
        text = f"RT @{original['user']['screen_name']}: {body}"
        o = self._status(ts, u, text, [], [], None, self.rng.choice(SOURCES))
        o["entities"] = {
            **original["entities"],
            "user_mentions": [
                {
                    "screen_name": original["user"]["screen_name"],
                    "id": original["user"]["id"],
                    "id_str": original["user"]["id_str"],
                    "name": original["user"]["name"],
                    "indices": [3, 4 + len(original["user"]["screen_name"])],
                }
            ],
        }
        o.pop("extended_tweet", None)
        o["text"] = text[:140]
        o["retweeted_status"] = original
        o["lang"] = original["lang"]
        return o

    def _bot_tweet(self, ts: float, u: User) -> dict[str, Any]:
        rng = self.rng
        tags_pool = self.tags[u.community][0]
        tpl = BOT_TEMPLATES[u.id % len(BOT_TEMPLATES)]
        a, b = TEAMS[u.id % len(TEAMS)], TEAMS[(u.id // 7) % len(TEAMS)]
        tag = tags_pool[u.id % len(tags_pool)]
        url = f"https://t.co/app{u.id % 97:02d}"
        text = tpl.format(
            a=a, b=b, x=rng.randint(0, 2), y=rng.randint(0, 2), m=rng.choice([10, 20, 30, 45, 60, 90]), tag=tag, url=url
        )
        tags = [t.lstrip("#") for t in text.split() if t.startswith("#")]
        o = self._status(ts, u, text, tags, [], url if url in text else None, BOT_SOURCE)
        o["lang"] = "en"
        self.counts["bot_tweets"] += 1
        return o

    def _remember(self, o: dict[str, Any]) -> None:
        compact = {k: v for k, v in o.items() if k not in ("quoted_status", "retweeted_status")}
        self.recent.append(compact)
        if len(self.recent) > 500:
            self.recent.pop(self.rng.randrange(len(self.recent)))

    # -- the timeline

    def timeline(self) -> list[tuple[float, Callable[[], dict[str, Any]]]]:
        rng = self.rng
        hours = int((self.t1 - self.t0) // 3600)
        bursts = {}
        for w, (community, _, _, tags) in zip(burst_windows(), MATCHES, strict=True):
            start = datetime.fromisoformat(w["start"]).timestamp()
            for h in range(BURST_HOURS):
                bursts[int(start // 3600) + h] = (community, tags)
        bot_share = 0.12
        human_total = self.tweets * (1 - bot_share)
        profile = []
        for h in range(hours):
            hour_idx = int(self.t0 // 3600) + h
            rate = diurnal(h % 24 if self.t0 % 86400 == 0 else int((self.t0 + h * 3600) % 86400 // 3600))
            profile.append((hour_idx, rate * (BURST_FACTOR if hour_idx in bursts else 1.0)))
        scale = human_total / max(1e-9, sum(r for _, r in profile))
        events: list[tuple[float, Callable[[], dict[str, Any]]]] = []
        for hour_idx, rate in profile:
            n = max(0, round(rng.gauss(rate * scale, math.sqrt(rate * scale))))
            burst = bursts.get(hour_idx)
            for _ in range(n):
                ts = hour_idx * 3600 + rng.random() * 3600
                events.append((ts, lambda ts=ts, burst=burst: self._human_tweet(ts, burst)))
        bot_total = self.tweets * bot_share
        per_bot = bot_total / max(1, len(self.bots))
        for u in self.bots:
            period = u.period_min * 60
            n = int(min(per_bot * (10 / u.period_min), (self.t1 - self.t0) / period))
            # start anywhere its run still fits: starting every bot at the shard's start would plant a
            # burst of bot traffic at the start of each shard that no truth file lists
            span = n * period
            t = self.t0 + rng.random() * max(period, (self.t1 - self.t0) - span)
            for _ in range(n):
                events.append((t, lambda t=t, u=u: self._bot_tweet(t, u)))
                # next post near a multiple of 10 minutes later (a few seconds of jitter, sometimes a skip)
                t += period * (2 if rng.random() < 0.05 else 1) + rng.uniform(-20, 20)
                if t >= self.t1:
                    break
        events.sort(key=lambda e: e[0])
        return events

    def write(self, out: IO[bytes]) -> dict[str, int]:
        rng = self.rng
        previous: list[bytes] = []
        for _, make in self.timeline():
            line = orjson.dumps(self._v2_page([make()]) if self.fmt == "v2" else make())
            out.write(line + b"\n")
            self.counts["lines"] += 1
            self.counts["tweets"] += 1
            previous.append(line)
            if len(previous) > 50:
                previous.pop(0)
            r = rng.random()
            if r < 0.01:  # the same tweet delivered twice
                out.write(rng.choice(previous) + b"\n")
                self.counts["lines"] += 1
                self.counts["duplicates"] += 1
            elif r < 0.0125:
                out.write(self._malformed(line) + b"\n")
                self.counts["lines"] += 1
                self.counts["malformed"] += 1
        return self.counts

    MALFORMED_KINDS = ("truncated", "html", "bad_utf8", "delete_notice", "bad_id")

    def _malformed(self, line: bytes) -> bytes:
        kind = self.rng.randrange(5)
        key = f"malformed_{self.MALFORMED_KINDS[kind]}"
        self.counts[key] = self.counts.get(key, 0) + 1
        if kind == 0:
            return line[: len(line) // 2]  # truncated delivery
        if kind == 1:
            return b"<html><body>502 Bad Gateway</body></html>"
        if kind == 2:
            return b'{"text": "bad bytes \xff\xfe", "id": 1}'
        if kind == 3:
            return b'{"delete":{"status":{"id":1,"id_str":"1","user_id":2},"timestamp_ms":"1528000000000"}}'
        return b'{"id": "not-a-number", "text": "x", "created_at": "Wed Jun 20 12:00:00 +0000 2018", "user": {"id": 1}}'

    def _v2_page(self, statuses: list[dict[str, Any]]) -> dict[str, Any]:
        """One status as a v2 page with `data` and `includes` (users, referenced tweets, places)."""
        data, users, refs, places = [], {}, {}, {}
        for s in statuses:
            t: dict[str, Any] = {
                "id": s["id_str"],
                "text": s.get("extended_tweet", {}).get("full_text", s["text"]),
                "author_id": s["user"]["id_str"],
                "created_at": datetime.fromtimestamp(int(s["timestamp_ms"]) / 1000, tz=timezone.utc).strftime(
                    "%Y-%m-%dT%H:%M:%S.000Z"
                ),
                "lang": s["lang"],
                "source": s["source"].split(">")[1].split("<")[0],
                "entities": {
                    "hashtags": [{"tag": h["text"]} for h in s["entities"]["hashtags"]],
                    "mentions": [{"username": m["screen_name"]} for m in s["entities"]["user_mentions"]],
                    "urls": [{"expanded_url": x["expanded_url"]} for x in s["entities"]["urls"]],
                },
            }
            ref = []
            for key, kind in (("retweeted_status", "retweeted"), ("quoted_status", "quoted")):
                if key in s:
                    ref.append({"type": kind, "id": s[key]["id_str"]})
                    o = s[key]
                    refs[o["id_str"]] = {
                        "id": o["id_str"],
                        "author_id": o["user"]["id_str"],
                        "text": o["text"],
                        "entities": {"hashtags": [{"tag": h["text"]} for h in o["entities"]["hashtags"]]},
                    }
            if s.get("in_reply_to_status_id"):
                ref.append({"type": "replied_to", "id": str(s["in_reply_to_status_id"])})
                t["in_reply_to_user_id"] = str(s["in_reply_to_user_id"])
            if ref:
                t["referenced_tweets"] = ref
            if s.get("place"):
                t["geo"] = {"place_id": s["place"]["id"]}
                places[s["place"]["id"]] = {
                    "id": s["place"]["id"],
                    "full_name": s["place"]["full_name"],
                    "country_code": s["place"]["country_code"],
                }
            data.append(t)
            u = s["user"]
            users[u["id_str"]] = {
                "id": u["id_str"],
                "username": u["screen_name"],
                "name": u["name"],
                "description": u["description"],
                "created_at": "2015-01-01T00:00:00.000Z",
                "public_metrics": {
                    "followers_count": u["followers_count"],
                    "following_count": u["friends_count"],
                    "tweet_count": u["statuses_count"],
                },
            }
        return {
            "data": data,
            "includes": {"users": list(users.values()), "tweets": list(refs.values()), "places": list(places.values())},
        }


def _open_out(path: str, compression: str) -> IO[bytes]:
    if compression == "gzip":
        return gzip.open(path, "wb", compresslevel=3)  # type: ignore[return-value]
    if compression == "bz2":
        return bz2.open(path, "wb", compresslevel=5)  # type: ignore[return-value]
    return open(path, "wb", buffering=4 << 20)


def _write_shard(args: tuple[int, int, int, int, str, str, str]) -> dict[str, int]:
    shard, n_shards, tweets, seed, out_dir, fmt, compression = args
    users = make_users(_n_users(tweets * n_shards), seed)
    ext = {"none": "", "gzip": ".gz", "bz2": ".bz2"}[compression]
    path = os.path.join(out_dir, f"tweets-{shard:04d}.jsonl{ext}")
    with _open_out(path, compression) as out:
        return _Shard(shard, n_shards, tweets, seed, users, fmt).write(out)


def _n_users(total_tweets: int) -> int:
    return max(200, total_tweets // 25)


def _stable_hash(text: str) -> int:
    """The same number in every process: the builtin hash() of a str is salted per process."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def generate(
    out_dir: str,
    tweets: int = 50_000,
    seed: int = 42,
    files: int = 1,
    fmt: str = "v1.1",
    compression: str = "none",
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write the dump and `_truth.json` into `out_dir`; returns the truth."""
    if tweets < 100:
        raise ConfigError(f"--tweets must be at least 100 (got {tweets})")
    if fmt not in ("v1.1", "v2"):
        raise ConfigError(f"--format must be v1.1 or v2 (got {fmt!r})")
    if compression not in ("none", "gzip", "bz2"):
        raise ConfigError(f"--compression must be none, gzip or bz2 (got {compression!r})")
    if files < 1 or files > DAYS * 24:
        raise ConfigError(f"--files must be between 1 and {DAYS * 24} (got {files})")
    os.makedirs(out_dir, exist_ok=True)
    say = progress or (lambda msg: print(msg, file=sys.stderr))
    per_shard = tweets // files
    jobs = [(i, files, per_shard, seed, out_dir, fmt, compression) for i in range(files)]
    started = time.time()
    totals = {"lines": 0, "tweets": 0, "duplicates": 0, "malformed": 0, "bot_tweets": 0}
    workers = workers or min(files, os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for done, counts in enumerate(pool.map(_write_shard, jobs) if workers > 1 else map(_write_shard, jobs), 1):
            for k, v in counts.items():
                totals[k] = totals.get(k, 0) + v
            say(f"generate: {done}/{files} files, {totals['lines']:,} lines, {time.time() - started:.1f}s")
    users = make_users(_n_users(per_shard * files), seed)
    truth = {
        "seed": seed,
        "format": fmt,
        "compression": compression,
        "files": files,
        "start": START.isoformat(),
        "days": DAYS,
        "excluded_hashtag": EXCLUDED_TAG.lower(),
        "expected": {
            "lines": totals["lines"],
            "records": totals["lines"],
            "accepted": totals["tweets"],
            "duplicates": totals["duplicates"],
            "rejected": totals["malformed"],
        },
        "malformed_kinds": {k[len("malformed_") :]: v for k, v in sorted(totals.items()) if k.startswith("malformed_")},
        "bot_tweets": totals["bot_tweets"],
        "bots": sorted(u.id for u in users if u.is_bot),
        "weak_label_bot_suffix": sorted(u.id for u in users if u.screen_name.lower().endswith("_bot")),
        "users": len(users),
        "burst_windows": burst_windows(),
        "communities": {c: [t.lower() for t in tags] for c, (tags, _, _) in COMMUNITIES.items()},
        "cjk_community": "chinese",
    }
    with open(os.path.join(out_dir, TRUTH_FILE), "w", encoding="utf-8") as fh:
        json.dump(truth, fh, ensure_ascii=False, indent=1)
    return truth
