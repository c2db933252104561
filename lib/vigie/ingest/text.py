"""Hashtag, mention and URL extraction from tweet text, for payloads that carry no `entities`.

Follows the rules of the official twitter-text library (checked against its conformance suite in
tests/test_text_conformance.py): a hashtag needs at least one letter, must not be glued to a
preceding letter/digit or `&`, and is not part of a URL; a mention may follow `RT`/`RT:`, and is
dropped when it is really an e-mail address or a URL scheme.

Example:
    >>> extract_hashtags("Go #Portugal vs #ESP! #16")
    ['Portugal', 'ESP']
    >>> extract_mentions("RT@fifa: hello @user@example.com")
    ['fifa']
"""

from __future__ import annotations

import unicodedata

import regex

_HASHTAG_EXTRA = "_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003\u0f0b\u0f0c\u00b7"
_HASHTAG_ALNUM = rf"\p{{L}}\p{{M}}\p{{Nd}}{_HASHTAG_EXTRA}"
_HASHTAG = regex.compile(
    # preceded by start, an emoji variation selector, or anything but a hashtag character or '&'
    rf"(?:(?<=[\uFE0E\uFE0F])|(?<![&{_HASHTAG_ALNUM}]))"
    rf"[#＃](?![\uFE0F\u20E3])([{_HASHTAG_ALNUM}]+)"
)
_HAS_LETTER = regex.compile(r"[\p{L}\p{M}]")
_HASHTAG_BAD_END = regex.compile(r"[#＃]|://")

_MENTION = regex.compile(r"[@＠]([a-zA-Z0-9_]{1,20})")
_MENTION_BAD_BEFORE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_!#$%&*@＠")
_RT_BEFORE = regex.compile(r"(?:^|[^a-zA-Z0-9_+~.\-])[rR][tT]:?$")
_MENTION_BAD_END = regex.compile(r"[@＠\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u00FF\u0100-\u024F]|://")

# URLs with a scheme, `www.` or a dotted domain with a path: enough to keep hashtags and mentions
# that sit inside URLs out of the results (the conformance suite's `twitter.com/#hashtag` case).
_URL = regex.compile(
    r"(?:https?://|www\.)[^\s\u3000]+|(?<![\w@.])(?:[a-z0-9\-]+\.)+[a-z]{2,}/[^\s\u3000]*",
    regex.IGNORECASE,
)
_URL_SCHEME = regex.compile(r"https?://[^\s\u3000]+", regex.IGNORECASE)


def _url_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _URL.finditer(text)]


def _inside(spans: list[tuple[int, int]], pos: int) -> bool:
    return any(a <= pos < b for a, b in spans)


def extract_hashtags_with_indices(text: str) -> list[tuple[str, int, int]]:
    """Hashtags as (tag, start, end) with code-point indices covering the `#`."""
    if "#" not in text and "＃" not in text:
        return []
    spans = None
    out = []
    for m in _HASHTAG.finditer(text):
        tag = m.group(1)
        if not _HAS_LETTER.search(tag) or _HASHTAG_BAD_END.match(text, m.end()):
            continue
        if spans is None:
            spans = _url_spans(text)
        if _inside(spans, m.start()):
            continue
        out.append((tag, m.start(), m.end()))
    return out


def extract_hashtags(text: str) -> list[str]:
    """Hashtag texts, in order, without the `#`."""
    return [t for t, _, _ in extract_hashtags_with_indices(text)]


def extract_mentions_with_indices(text: str) -> list[tuple[str, int, int]]:
    """Mentioned screen names as (name, start, end) with code-point indices covering the `@`."""
    if "@" not in text and "＠" not in text:
        return []
    spans = None
    out = []
    for m in _MENTION.finditer(text):
        start = m.start()
        if start > 0 and text[start - 1] in _MENTION_BAD_BEFORE and not _RT_BEFORE.search(text, 0, start):
            continue
        if _MENTION_BAD_END.match(text, m.end()):
            continue
        if spans is None:
            spans = _url_spans(text)
        if _inside(spans, start):
            continue
        out.append((m.group(1), start, m.end()))
    return out


def extract_mentions(text: str) -> list[str]:
    """Mentioned screen names, in order, without the `@`."""
    return [n for n, _, _ in extract_mentions_with_indices(text)]


def extract_urls(text: str) -> list[str]:
    """URLs with an http(s) scheme, as written in the text."""
    return [m.group(0).rstrip(".,;:!?)…") for m in _URL_SCHEME.finditer(text)] if "://" in text else []


def normalize_hashtag(tag: str) -> str:
    """The form hashtags are stored and compared in: NFKC, then lower case (`＃ＥＳＰ` -> `esp`)."""
    return unicodedata.normalize("NFKC", tag).lower()
