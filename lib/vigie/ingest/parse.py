"""Turn decoded Twitter payloads into flat tweet and user records (pure Python, no Spark).

Understood formats: API v1.1 statuses (classic, extended, compatibility), search results
(`statuses`), API v2 pages (`data` + `includes`, also wrapped as in recorded HTTP cassettes) and
Gnip activity streams. Anything else becomes a reject with a reason a person can read: nothing is
silently dropped.

Example:
    >>> out = list(records_from_value({"id": 1, "text": "hi #A", "created_at": "Wed Jun 20 12:00:00 +0000 2018",
    ...                                "user": {"id": 7, "screen_name": "u"}}))
    >>> out[0][0], out[0][1]["hashtags"]
    ('tweet', ['a'])
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from vigie.ingest.text import extract_hashtags, extract_mentions, extract_urls, normalize_hashtag
from vigie.schema import KIND_REJECT, KIND_TWEET, KIND_USER

Record = tuple[str, Any]  # (kind, tweet/user dict) or (KIND_REJECT, reason)

_MONTHS = {
    m: i for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1)
}
_TWITTER_EPOCH_MS = 1288834974657
_MIN_SNOWFLAKE = (86_400_000) << 22  # ids issued at least a day after snowflakes began
_SOURCE_ANCHOR = re.compile(r">([^<]*)<")
_STATUS_LINK = re.compile(r"/status(?:es)?/(\d+)")


class BadRecord(ValueError):
    """A record that cannot become a tweet; the message is the reason stored in quarantine."""


# ---------------------------------------------------------------- small converters


@functools.lru_cache(maxsize=1 << 16)
def parse_v1_time(value: str) -> int:
    """`Wed Jun 20 12:00:00 +0000 2018` -> epoch microseconds (Spark's parser rejects `EEE`, so no strptime).

    Cached: a stream's tweets share seconds, and an author's creation time comes with every tweet.
    """
    parts = value.split()
    if len(parts) != 6 or parts[1] not in _MONTHS:
        raise BadRecord(f"created_at is not in Twitter's format: {value!r}")
    hh, mm, ss = (int(x) for x in parts[3].split(":"))
    off = parts[4]
    offset_s = (int(off[1:3]) * 3600 + int(off[3:5]) * 60) * (-1 if off[0] == "-" else 1)
    secs = calendar.timegm((int(parts[5]), _MONTHS[parts[1]], int(parts[2]), hh, mm, ss)) - offset_s
    return secs * 1_000_000


def parse_iso_time(value: str) -> int:
    """ISO-8601 (`2021-09-22T16:38:53.000Z`) -> epoch microseconds."""
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRecord(f"created_at is not ISO-8601: {value!r}") from exc
    if dt.tzinfo is None:
        return calendar.timegm(dt.timetuple()) * 1_000_000 + dt.microsecond
    return round(dt.timestamp() * 1_000_000)


def parse_any_time(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return int(value) * 1000  # timestamp_ms
    value = str(value)
    if value[:1].isdigit() and "-" in value[:5]:
        return parse_iso_time(value)
    if value.isdigit():
        return int(value) * 1000
    return parse_v1_time(value)


def snowflake_time(tweet_id: int) -> int | None:
    """Creation time (epoch microseconds) encoded in a snowflake id, None for older sequential ids."""
    if tweet_id < _MIN_SNOWFLAKE:
        return None
    return ((tweet_id >> 22) + _TWITTER_EPOCH_MS) * 1000


def to_id(value: Any, what: str = "id") -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    text = str(value)
    if ":" in text:  # activity streams: "tag:search.twitter.com,2005:123" / "id:twitter.com:123"
        text = text.rsplit(":", 1)[1]
    if not text.isdigit():
        raise BadRecord(f"{what} is not a number: {str(value)[:60]!r}")
    return int(text)


def to_count(value: Any) -> int | None:
    return value if isinstance(value, int) and value >= 0 else None


def source_app(value: Any) -> str | None:
    if not value:
        return None
    text = str(value)
    m = _SOURCE_ANCHOR.search(text)
    return m.group(1) if m else text


def _tags(items: Any, key: str) -> list[str]:
    return [normalize_hashtag(str(h[key])) for h in items or () if isinstance(h, dict) and h.get(key)]


def _names(items: Any, key: str) -> list[str]:
    return [str(m[key]) for m in items or () if isinstance(m, dict) and m.get(key)]


def _urls(items: Any) -> list[str]:
    return [
        str(u.get("expanded_url") or u.get("url"))
        for u in items or ()
        if isinstance(u, dict) and (u.get("expanded_url") or u.get("url"))
    ]


def _optional_time(value: Any) -> int | None:
    """A timestamp that may be missing or malformed (account creation times): None rather than a reject."""
    try:
        return parse_any_time(value)
    except (BadRecord, ValueError):
        return None


def _apply_entities(tweet: dict[str, Any], ents: Any, tag_key: str, mentions_key: str, name_key: str) -> None:
    """Hashtags, mentions and URLs from the payload's entities, else extracted from the text."""
    if isinstance(ents, dict):
        tweet["hashtags"] = _tags(ents.get("hashtags"), tag_key)
        tweet["mentions"] = _names(ents.get(mentions_key), name_key)
        tweet["urls"] = _urls(ents.get("urls"))
        tweet["entities_source"] = "payload"
    else:
        _from_text(tweet)


def _from_text(tweet: dict[str, Any]) -> None:
    text = tweet["text"] or ""
    tweet["hashtags"] = [normalize_hashtag(h) for h in extract_hashtags(text)]
    tweet["mentions"] = extract_mentions(text)
    tweet["urls"] = extract_urls(text)
    tweet["entities_source"] = "text"


def _finish(tweet: dict[str, Any], created: Any) -> dict[str, Any]:
    """Fill created_at (payload, else snowflake id) and the derived flags."""
    ts = _optional_time(created)
    if ts is not None:
        tweet["created_at"], tweet["created_at_source"] = ts, "payload"
    else:
        ts = snowflake_time(tweet["tweet_id"])
        if ts is None:
            raise BadRecord(f"no usable created_at ({str(created)[:40]!r}) and the id is not a snowflake")
        tweet["created_at"], tweet["created_at_source"] = ts, "snowflake_id"
    if tweet.get("retweeted_tweet_id") is not None:
        # v1.1 copies the original's quote onto a retweet of a quote: that edge belongs to the original
        tweet["quoted_tweet_id"] = tweet["quoted_user_id"] = None
    tweet["is_retweet"] = tweet.get("retweeted_tweet_id") is not None
    tweet["is_quote"] = tweet.get("quoted_tweet_id") is not None
    tweet["is_reply"] = tweet.get("replied_tweet_id") is not None
    return tweet


# ---------------------------------------------------------------- API v1.1


def _v1_entities(o: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    ext = o.get("extended_tweet")
    if isinstance(ext, dict) and ext.get("full_text"):
        return ext["full_text"], ext.get("entities")
    return o.get("full_text") or o.get("text"), o.get("entities")


def _v1_user(u: dict[str, Any], seen_at: int | None) -> dict[str, Any] | None:
    if not isinstance(u, dict) or u.get("id", u.get("id_str")) is None:
        return None
    return {
        "user_id": to_id(u.get("id", u.get("id_str")), "user id"),
        "screen_name": u.get("screen_name"),
        "name": u.get("name"),
        "location": u.get("location"),
        "description": u.get("description"),
        "user_lang": u.get("lang"),
        "followers_count": to_count(u.get("followers_count")),
        "friends_count": to_count(u.get("friends_count")),
        "statuses_count": to_count(u.get("statuses_count")),
        "verified": u.get("verified"),
        "account_created_at": _optional_time(u.get("created_at")),
        "seen_at": seen_at,
    }


def normalize_v1(o: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """One API v1.1 status -> (tweet, author profile)."""
    tweet_id = to_id(o.get("id", o.get("id_str")), "tweet id")
    if tweet_id is None:
        raise BadRecord("tweet has no id")
    user = o.get("user") if isinstance(o.get("user"), dict) else {}
    text, ents = _v1_entities(o)
    place = o.get("place") if isinstance(o.get("place"), dict) else {}
    coords = (o.get("coordinates") or {}).get("coordinates") if isinstance(o.get("coordinates"), dict) else None
    rt = o.get("retweeted_status") if isinstance(o.get("retweeted_status"), dict) else None
    qt = o.get("quoted_status") if isinstance(o.get("quoted_status"), dict) else None
    quoted_id = to_id(o.get("quoted_status_id", o.get("quoted_status_id_str")), "quoted id")
    if quoted_id is None and qt:
        quoted_id = to_id(qt.get("id", qt.get("id_str")), "quoted id")
    origin = rt or qt
    rt_tags: list[str] = []
    if origin:
        _, origin_ents = _v1_entities(origin)
        rt_tags = _tags((origin_ents or {}).get("hashtags"), "text")
    tweet: dict[str, Any] = {
        "tweet_id": tweet_id,
        "user_id": to_id(user.get("id", user.get("id_str")), "user id"),
        "screen_name": user.get("screen_name"),
        "lang": o.get("lang"),
        "source_app": source_app(o.get("source")),
        "country_code": place.get("country_code") or None,
        "place_id": place.get("id"),
        "place_name": place.get("full_name") or place.get("name"),
        "longitude": float(coords[0]) if coords else None,
        "latitude": float(coords[1]) if coords else None,
        "retweeted_tweet_id": to_id(rt.get("id", rt.get("id_str")), "retweeted id") if rt else None,
        "retweeted_user_id": to_id((rt.get("user") or {}).get("id"), "user id") if rt else None,
        "quoted_tweet_id": quoted_id,
        "quoted_user_id": to_id((qt.get("user") or {}).get("id"), "user id") if qt else None,
        "replied_tweet_id": to_id(o.get("in_reply_to_status_id", o.get("in_reply_to_status_id_str")), "reply id"),
        "replied_user_id": to_id(o.get("in_reply_to_user_id", o.get("in_reply_to_user_id_str")), "user id"),
        "retweet_hashtags": rt_tags,
        "api_format": "v1.1",
        "text": text,
    }
    _apply_entities(tweet, ents, "text", "user_mentions", "screen_name")
    created = o.get("created_at") or o.get("timestamp_ms")
    _finish(tweet, created)
    return tweet, _v1_user(user, tweet["created_at"])


# ---------------------------------------------------------------- Gnip activity streams


def normalize_activity(o: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """One activity-streams activity (`verb` post/share) -> (tweet, author profile)."""
    tweet_id = to_id(o.get("id"), "tweet id")
    if tweet_id is None:
        raise BadRecord("activity has no id")
    actor = o.get("actor") if isinstance(o.get("actor"), dict) else {}
    long_obj = o.get("long_object") if isinstance(o.get("long_object"), dict) else {}
    text = long_obj.get("body") or o.get("body")
    ents = long_obj.get("twitter_entities") or o.get("twitter_entities")
    loc = o.get("location") if isinstance(o.get("location"), dict) else {}
    geo = (o.get("geo") or {}).get("coordinates") if isinstance(o.get("geo"), dict) else None
    shared = o.get("object") if o.get("verb") == "share" and isinstance(o.get("object"), dict) else None
    quoted = o.get("twitter_quoted_status") if isinstance(o.get("twitter_quoted_status"), dict) else None
    origin = shared or quoted
    rt_tags: list[str] = []
    if origin:
        origin_long = origin.get("long_object") if isinstance(origin.get("long_object"), dict) else {}
        rt_tags = _tags(
            (origin_long.get("twitter_entities") or origin.get("twitter_entities") or {}).get("hashtags"), "text"
        )
    reply_link = (o.get("inReplyTo") or {}).get("link") if isinstance(o.get("inReplyTo"), dict) else None
    reply_match = _STATUS_LINK.search(reply_link or "")
    tweet: dict[str, Any] = {
        "tweet_id": tweet_id,
        "user_id": to_id(actor.get("id"), "user id"),
        "screen_name": actor.get("preferredUsername"),
        "lang": o.get("twitter_lang"),
        "source_app": (o.get("generator") or {}).get("displayName") if isinstance(o.get("generator"), dict) else None,
        "country_code": loc.get("twitter_country_code") or None,
        "place_id": None,
        "place_name": loc.get("displayName"),
        "longitude": float(geo[1]) if geo else None,
        "latitude": float(geo[0]) if geo else None,
        "retweeted_tweet_id": to_id(shared.get("id"), "retweeted id") if shared else None,
        "retweeted_user_id": to_id((shared.get("actor") or {}).get("id"), "user id") if shared else None,
        "quoted_tweet_id": to_id(quoted.get("id"), "quoted id") if quoted else None,
        "quoted_user_id": to_id((quoted.get("actor") or {}).get("id"), "user id") if quoted else None,
        "replied_tweet_id": int(reply_match.group(1)) if reply_match else None,
        "replied_user_id": None,
        "retweet_hashtags": rt_tags,
        "api_format": "activity_streams",
        "text": text,
    }
    _apply_entities(tweet, ents, "text", "user_mentions", "screen_name")
    _finish(tweet, o.get("postedTime"))
    user = None
    if tweet["user_id"] is not None:
        langs = actor.get("languages") or [None]
        user = {
            "user_id": tweet["user_id"],
            "screen_name": actor.get("preferredUsername"),
            "name": actor.get("displayName"),
            "location": (actor.get("location") or {}).get("displayName")
            if isinstance(actor.get("location"), dict)
            else None,
            "description": actor.get("summary"),
            "user_lang": langs[0],
            "followers_count": to_count(actor.get("followersCount")),
            "friends_count": to_count(actor.get("friendsCount")),
            "statuses_count": to_count(actor.get("statusesCount")),
            "verified": actor.get("verified"),
            "account_created_at": _optional_time(actor.get("postedTime")),
            "seen_at": tweet["created_at"],
        }
    return tweet, user


# ---------------------------------------------------------------- API v2


def _index(items: Any, key: str = "id") -> dict[str, dict[str, Any]]:
    return {str(i[key]): i for i in items or () if isinstance(i, dict) and key in i}


class V2Includes:
    """Lookups over a v2 page's `includes` (users, referenced tweets, places)."""

    def __init__(self, includes: Any):
        inc = includes if isinstance(includes, dict) else {}
        self.users = _index(inc.get("users"))
        self.tweets = _index(inc.get("tweets"))
        self.places = _index(inc.get("places"))


def normalize_v2(t: dict[str, Any], inc: V2Includes) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """One v2 tweet object, resolved against its page's includes -> (tweet, author profile)."""
    tweet_id = to_id(t.get("id"), "tweet id")
    if tweet_id is None:
        raise BadRecord("tweet has no id")
    author_id = to_id(t.get("author_id"), "author id")
    author = inc.users.get(str(t.get("author_id"))) if author_id is not None else None
    refs = {r.get("type"): str(r.get("id")) for r in t.get("referenced_tweets") or () if isinstance(r, dict)}
    rt_id, qt_id, reply_id = refs.get("retweeted"), refs.get("quoted"), refs.get("replied_to")
    origin = inc.tweets.get(rt_id or "") or inc.tweets.get(qt_id or "")
    geo = t.get("geo") if isinstance(t.get("geo"), dict) else {}
    place = inc.places.get(str(geo.get("place_id"))) or {}
    coords = (geo.get("coordinates") or {}).get("coordinates") if isinstance(geo.get("coordinates"), dict) else None
    note = t.get("note_tweet") if isinstance(t.get("note_tweet"), dict) else {}
    text = note.get("text") or t.get("text")
    ents = note.get("entities") or t.get("entities")

    def ref_author(ref: str | None) -> int | None:
        ref_tweet = inc.tweets.get(ref or "")
        return to_id(ref_tweet.get("author_id"), "user id") if ref_tweet else None

    tweet: dict[str, Any] = {
        "tweet_id": tweet_id,
        "user_id": author_id,
        "screen_name": (author or {}).get("username"),
        "lang": t.get("lang"),
        "source_app": source_app(t.get("source")),
        "country_code": place.get("country_code") or None,
        "place_id": geo.get("place_id"),
        "place_name": place.get("full_name") or place.get("name"),
        "longitude": float(coords[0]) if coords else None,
        "latitude": float(coords[1]) if coords else None,
        "retweeted_tweet_id": to_id(rt_id, "retweeted id"),
        "retweeted_user_id": ref_author(rt_id),
        "quoted_tweet_id": to_id(qt_id, "quoted id"),
        "quoted_user_id": ref_author(qt_id),
        "replied_tweet_id": to_id(reply_id, "reply id"),
        "replied_user_id": to_id(t.get("in_reply_to_user_id"), "user id"),
        "retweet_hashtags": _tags((origin or {}).get("entities", {}).get("hashtags"), "tag") if origin else [],
        "api_format": "v2",
        "text": text,
    }
    _apply_entities(tweet, ents, "tag", "mentions", "username")
    _finish(tweet, t.get("created_at"))
    user = None
    if author:
        metrics = author.get("public_metrics") if isinstance(author.get("public_metrics"), dict) else {}
        user = {
            "user_id": author_id,
            "screen_name": author.get("username"),
            "name": author.get("name"),
            "location": author.get("location"),
            "description": author.get("description"),
            "user_lang": None,
            "followers_count": to_count(metrics.get("followers_count")),
            "friends_count": to_count(metrics.get("following_count")),
            "statuses_count": to_count(metrics.get("tweet_count")),
            "verified": author.get("verified"),
            "account_created_at": _optional_time(author.get("created_at")),
            "seen_at": tweet["created_at"],
        }
    return tweet, user


# ---------------------------------------------------------------- dispatch


def _describe(o: dict[str, Any]) -> str:
    keys = ", ".join(sorted(o)[:8])
    return f"unrecognised object (keys: {keys})"


def _v2_item(item: Any, inc: V2Includes) -> Iterator[Record]:
    if not isinstance(item, dict):
        yield KIND_REJECT, f"v2 data item is a {type(item).__name__}, not a tweet object"
    elif "event_type" in item:
        yield KIND_REJECT, f"v2 direct-message event ({item.get('event_type')}), not a tweet"
    elif "text" not in item and "username" in item:
        yield KIND_REJECT, "v2 user object, not a tweet (a users response)"
    elif "text" not in item:
        yield KIND_REJECT, _describe(item).replace("unrecognised object", "v2 data item that is not a tweet")
    else:
        yield from _tweet_records(normalize_v2, item, inc)


def _tweet_records(fn: Any, *args: Any) -> Iterator[Record]:
    try:
        tweet, user = fn(*args)
    except BadRecord as exc:
        yield KIND_REJECT, str(exc)
        return
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        yield KIND_REJECT, f"malformed tweet: {type(exc).__name__}: {str(exc)[:120]}"
        return
    yield KIND_TWEET, tweet
    if user is not None:
        yield KIND_USER, user


def records_from_value(value: Any, depth: int = 0) -> Iterator[Record]:
    """All tweet/user/reject records in one decoded top-level JSON value.

    Each yielded tweet or reject is one "record" for the nothing-lost count; users ride along.
    Every tweet and user dict is new and owned by the caller, which may extend it in place.
    """
    if isinstance(value, list):
        if not value:
            yield KIND_REJECT, "empty JSON array"
        for item in value:
            yield from records_from_value(item, depth + 1)
        return
    if not isinstance(value, dict):
        yield KIND_REJECT, f"JSON value is a {type(value).__name__}, not an object"
        return
    o = value
    if "data" in o or ("meta" in o and "includes" in o) or ("errors" in o and "meta" in o):
        data = o.get("data")
        items = data if isinstance(data, list) else ([data] if isinstance(data, dict) else [])
        if not items:
            what = "counts" if isinstance(data, list) else "no data"
            yield KIND_REJECT, f"v2 response with no tweets ({what})"
            return
        if all(isinstance(i, dict) and "tweet_count" in i for i in items):
            yield KIND_REJECT, f"v2 tweet-counts response ({len(items)} buckets), not tweets"
            return
        inc = V2Includes(o.get("includes"))
        for item in items:
            yield from _v2_item(item, inc)
        return
    if "statuses" in o and isinstance(o["statuses"], list):
        yield from records_from_value(o["statuses"], depth + 1)
        return
    if "response" in o and isinstance(o["response"], dict) and depth < 3:  # recorded HTTP exchange
        yield from records_from_value(o["response"], depth + 1)
        return
    if "author_id" in o and "user" not in o and "text" in o:  # a lone v2 tweet (twarc's flattened form)
        inc = V2Includes(
            {
                "users": [o["author"]] if isinstance(o.get("author"), dict) else [],
                "tweets": [r for r in o.get("referenced_tweets") or () if isinstance(r, dict) and "text" in r],
            }
        )
        yield from _tweet_records(normalize_v2, o, inc)
        return
    if "created_at" in o and ("text" in o or "full_text" in o) and ("user" in o or "id_str" in o or "id" in o):
        yield from _tweet_records(normalize_v1, o)
        return
    if o.get("objectType") == "activity" or ("verb" in o and "actor" in o):
        if o.get("verb") not in ("post", "share"):
            yield KIND_REJECT, f"activity with verb {o.get('verb')!r}, not a tweet"
            return
        yield from _tweet_records(normalize_activity, o)
        return
    if "delete" in o:
        yield KIND_REJECT, "delete notice (a status deletion), not a tweet"
    elif "limit" in o:
        yield KIND_REJECT, "rate-limit notice, not a tweet"
    elif "action" in o and "reason" in o:
        yield KIND_REJECT, f"compliance event ({o.get('action')}), not a tweet"
    elif "id" in o and ("text" in o or "full_text" in o):
        yield from _tweet_records(normalize_v1, o)  # a v1.1 status without created_at
    else:
        yield KIND_REJECT, _describe(o)
