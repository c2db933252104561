"""Payload normalisation: v1.1, v2 and activity streams into one record; everything else explained."""

from __future__ import annotations

import pytest

from vigie.ingest.parse import (
    BadRecord,
    normalize_v1,
    parse_iso_time,
    parse_v1_time,
    records_from_value,
    snowflake_time,
)

JUNE_20_NOON_US = 1529496000 * 1_000_000


def v1(**over):
    base = {
        "id": 1009417000000000000,
        "id_str": "1009417000000000000",
        "created_at": "Wed Jun 20 12:00:00 +0000 2018",
        "text": "Go #POR and #ESP @fifa",
        "user": {
            "id": 7,
            "screen_name": "fan",
            "name": "Fan",
            "followers_count": 3,
            "created_at": "Mon Jan 05 10:00:00 +0000 2015",
        },
        "entities": {
            "hashtags": [{"text": "POR"}, {"text": "ESP"}],
            "user_mentions": [{"screen_name": "fifa"}],
            "urls": [{"url": "https://t.co/x", "expanded_url": "https://fifa.com"}],
        },
        "lang": "en",
        "source": '<a href="http://twitter.com/download/iphone" rel="nofollow">Twitter for iPhone</a>',
    }
    base.update(over)
    return base


def test_v1_time_is_parsed_without_the_weekday_pattern():
    assert parse_v1_time("Wed Jun 20 12:00:00 +0000 2018") == JUNE_20_NOON_US
    assert parse_v1_time("Wed Jun 20 14:00:00 +0200 2018") == JUNE_20_NOON_US


def test_iso_time_is_parsed():
    assert parse_iso_time("2018-06-20T12:00:00.000Z") == JUNE_20_NOON_US


def test_snowflake_ids_carry_their_time_and_old_ids_do_not():
    ms = JUNE_20_NOON_US // 1000 + 123
    tweet_id = ((ms - 1288834974657) << 22) | (3 << 12) | 17  # time, worker 3, sequence 17
    assert snowflake_time(tweet_id) == ms * 1000
    assert snowflake_time(20) is None  # pre-2010 sequential ids carry no time


def test_v1_status_becomes_a_flat_record_with_author_profile():
    tweet, user = normalize_v1(v1())
    assert tweet["tweet_id"] == 1009417000000000000
    assert tweet["created_at"] == JUNE_20_NOON_US
    assert (tweet["user_id"], tweet["screen_name"], tweet["lang"]) == (7, "fan", "en")
    assert tweet["source_app"] == "Twitter for iPhone"
    assert tweet["hashtags"] == ["por", "esp"]
    assert tweet["mentions"] == ["fifa"]
    assert tweet["urls"] == ["https://fifa.com"]
    assert tweet["entities_source"] == "payload"
    assert not (tweet["is_retweet"] or tweet["is_quote"] or tweet["is_reply"])
    assert user["user_id"] == 7 and user["seen_at"] == JUNE_20_NOON_US and user["followers_count"] == 3


def test_extended_tweet_full_text_and_entities_win_over_the_truncated_ones():
    o = v1(text="short…", extended_tweet={"full_text": "long text #Long", "entities": {"hashtags": [{"text": "Long"}]}})
    tweet, _ = normalize_v1(o)
    assert tweet["text"] == "long text #Long"
    assert tweet["hashtags"] == ["long"]


def test_retweet_quote_and_reply_links_are_typed():
    original = v1(
        id=1009000000000000000, user={"id": 99, "screen_name": "orig"}, entities={"hashtags": [{"text": "CR7"}]}
    )
    rt, _ = normalize_v1(v1(retweeted_status=original))
    assert (rt["is_retweet"], rt["retweeted_tweet_id"], rt["retweeted_user_id"]) == (True, 1009000000000000000, 99)
    assert rt["retweet_hashtags"] == ["cr7"]
    qt, _ = normalize_v1(v1(quoted_status_id=1009000000000000000, quoted_status=original))
    assert (qt["is_quote"], qt["quoted_user_id"]) == (True, 99)
    rp, _ = normalize_v1(v1(in_reply_to_status_id=5, in_reply_to_user_id=6))
    assert (rp["is_reply"], rp["replied_tweet_id"], rp["replied_user_id"]) == (True, 5, 6)


def test_missing_entities_are_extracted_from_text():
    o = v1()
    del o["entities"]
    tweet, _ = normalize_v1(o)
    assert tweet["hashtags"] == ["por", "esp"] and tweet["mentions"] == ["fifa"]
    assert tweet["entities_source"] == "text"


def test_missing_created_at_falls_back_to_the_snowflake_id():
    o = v1()
    del o["created_at"]
    kinds = list(records_from_value(o))
    assert kinds[0][0] == "tweet"
    assert kinds[0][1]["created_at_source"] == "snowflake_id"


def test_v2_page_resolves_authors_places_and_references_from_includes():
    page = {
        "data": [
            {
                "id": "1009417000000000001",
                "text": "RT @orig: #CR7",
                "author_id": "7",
                "created_at": "2018-06-20T12:00:00.000Z",
                "referenced_tweets": [{"type": "retweeted", "id": "1009000000000000000"}],
                "geo": {"place_id": "p1"},
                "entities": {"hashtags": [{"tag": "CR7"}], "mentions": [{"username": "orig"}]},
            }
        ],
        "includes": {
            "users": [{"id": "7", "username": "fan", "public_metrics": {"followers_count": 5}}],
            "tweets": [
                {
                    "id": "1009000000000000000",
                    "author_id": "99",
                    "text": "#CR7 #POR",
                    "entities": {"hashtags": [{"tag": "CR7"}, {"tag": "POR"}]},
                }
            ],
            "places": [{"id": "p1", "full_name": "Lisboa, Portugal", "country_code": "PT"}],
        },
    }
    (k1, tweet), (k2, user) = list(records_from_value(page))
    assert (k1, k2) == ("tweet", "user")
    assert (tweet["screen_name"], tweet["country_code"], tweet["place_name"]) == ("fan", "PT", "Lisboa, Portugal")
    assert (tweet["retweeted_tweet_id"], tweet["retweeted_user_id"]) == (1009000000000000000, 99)
    assert tweet["retweet_hashtags"] == ["cr7", "por"]
    assert tweet["api_format"] == "v2" and user["followers_count"] == 5


def test_activity_stream_share_is_a_retweet():
    act = {
        "id": "tag:search.twitter.com,2005:1009417000000000002",
        "objectType": "activity",
        "verb": "share",
        "postedTime": "2018-06-20T12:00:00.000Z",
        "actor": {"id": "id:twitter.com:7", "preferredUsername": "fan"},
        "body": "RT @orig: #CR7",
        "object": {"id": "tag:search.twitter.com,2005:1009000000000000000", "actor": {"id": "id:twitter.com:99"}},
        "twitter_entities": {"hashtags": [{"text": "CR7"}], "user_mentions": [], "urls": []},
        "twitter_lang": "en",
    }
    (kind, tweet), _ = list(records_from_value(act))
    assert kind == "tweet" and tweet["api_format"] == "activity_streams"
    assert (tweet["tweet_id"], tweet["user_id"], tweet["retweeted_user_id"]) == (1009417000000000002, 7, 99)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"delete": {"status": {"id": 1}}}, "delete notice (a status deletion), not a tweet"),
        ({"limit": {"track": 5}}, "rate-limit notice, not a tweet"),
        ({"action": "delete", "reason": "deleted", "id": "1"}, "compliance event (delete), not a tweet"),
        ({"data": [{"start": "x", "end": "y", "tweet_count": 3}]}, "v2 tweet-counts response (1 buckets), not tweets"),
        ({"data": [{"id": "1", "username": "u", "name": "U"}]}, "v2 user object, not a tweet (a users response)"),
        ({"meta": {"result_count": 0}, "includes": {}}, "v2 response with no tweets (no data)"),
        (42, "JSON value is a int, not an object"),
        ({"foo": 1}, "unrecognised object (keys: foo)"),
        (v1(id="abc", id_str=None), "tweet id is not a number: 'abc'"),
        (
            v1(id=12, id_str="12", created_at="yesterday"),
            "no usable created_at ('yesterday') and the id is not a snowflake",
        ),
    ],
)
def test_non_tweets_are_rejected_with_a_readable_reason(value, reason):
    assert list(records_from_value(value)) == [("reject", reason)]


def test_bad_record_is_a_value_error():
    assert issubclass(BadRecord, ValueError)
