"""Table layout of the lakehouse: paths, column names and Spark schemas, defined once.

Long text columns come last: Delta collects statistics on the first 32 columns only, and text
statistics are useless for data skipping anyway.
"""

from __future__ import annotations

from pyspark.sql import types as T

# Lakehouse folders, relative to --lakehouse
TWEETS = "silver/tweets"
USERS = "silver/users"
HASHTAGS = "silver/hashtags"
TWEET_LINKS = "silver/tweet_links"
REJECTED = "silver/rejected"
RUNS = "_runs"

STR = T.StringType()
LONG = T.LongType()
INT = T.IntegerType()
BOOL = T.BooleanType()
DBL = T.DoubleType()
TS = T.TimestampType()
STRS = T.ArrayType(T.StringType())

# Columns a parser emits for one tweet (the staging form; `date` and run metadata are added in Spark).
TWEET_FIELDS: list[tuple[str, T.DataType]] = [
    ("tweet_id", LONG),
    ("created_at", TS),
    ("user_id", LONG),
    ("screen_name", STR),
    ("lang", STR),
    ("source_app", STR),
    ("country_code", STR),
    ("place_id", STR),
    ("place_name", STR),
    ("longitude", DBL),
    ("latitude", DBL),
    ("is_retweet", BOOL),
    ("is_quote", BOOL),
    ("is_reply", BOOL),
    ("retweeted_tweet_id", LONG),
    ("retweeted_user_id", LONG),
    ("quoted_tweet_id", LONG),
    ("quoted_user_id", LONG),
    ("replied_tweet_id", LONG),
    ("replied_user_id", LONG),
    ("hashtags", STRS),
    ("mentions", STRS),
    ("urls", STRS),
    ("retweet_hashtags", STRS),
    ("api_format", STR),
    ("entities_source", STR),
    ("created_at_source", STR),
    ("text", STR),
]

USER_FIELDS: list[tuple[str, T.DataType]] = [
    ("user_id", LONG),
    ("screen_name", STR),
    ("name", STR),
    ("location", STR),
    ("description", STR),
    ("user_lang", STR),
    ("followers_count", LONG),
    ("friends_count", LONG),
    ("statuses_count", LONG),
    ("verified", BOOL),
    ("account_created_at", TS),
    ("seen_at", TS),
]

# One staging row is a tweet, a user profile, a rejected record or the statistics of one split.
KIND_TWEET, KIND_USER, KIND_REJECT, KIND_SPLIT = "tweet", "user", "reject", "split"
STAGING_COMMON: list[tuple[str, T.DataType]] = [
    ("kind", STR),
    ("source_file", STR),
    ("split_index", INT),
    ("local_line", LONG),  # lines before this record within its split's region
    ("item_index", INT),  # position of the record inside its top-level JSON value
    ("reason", STR),
    ("raw", STR),
    ("split_lines", LONG),
    ("split_records", LONG),
]


def _merged_fields() -> list[tuple[str, T.DataType]]:
    seen: dict[str, T.DataType] = {}
    for name, dtype in STAGING_COMMON + TWEET_FIELDS + USER_FIELDS:
        if name in seen and seen[name] != dtype:
            raise TypeError(f"column {name} has two types")
        seen.setdefault(name, dtype)
    return list(seen.items())


STAGING_FIELDS = _merged_fields()
STAGING_SCHEMA = T.StructType([T.StructField(n, t, True) for n, t in STAGING_FIELDS])

_TEXT_TAIL = ["text"]
TWEETS_COLUMNS = (
    [n for n, _ in TWEET_FIELDS if n not in _TEXT_TAIL]
    + ["date", "source_file", "source_line", "ingest_run_id", "ingested_at"]
    + _TEXT_TAIL
)
USERS_COLUMNS = [n for n, _ in USER_FIELDS] + ["source_file", "ingest_run_id"]
HASHTAGS_COLUMNS = ["tweet_id", "hashtag", "position", "created_at", "date", "user_id", "is_retweet"]
LINKS_COLUMNS = [
    "source_tweet_id",
    "link_type",
    "target_tweet_id",
    "source_user_id",
    "target_user_id",
    "created_at",
    "date",
]
REJECTED_COLUMNS = ["source_file", "line_number", "item_index", "reason", "ingest_run_id", "rejected_at", "raw"]

LINK_RETWEET, LINK_QUOTE, LINK_REPLY = "retweet", "quote", "reply"
