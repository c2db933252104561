"""Act on a block list: a dry run by default, real blocks through the X/Twitter API with `--execute`.

- Credentials come only from the environment (X_CONSUMER_KEY, X_CONSUMER_SECRET, X_ACCESS_TOKEN,
  X_ACCESS_TOKEN_SECRET) and are never printed or written.
- tweepy handles the API: OAuth 1.0a user context, waiting out rate limits (429 and the
  x-rate-limit-reset header) and retrying server errors.
- Every attempt is appended to a JSON-lines audit log. Re-running reads it and skips accounts
  already blocked, so a run that stopped half-way resumes without blocking anyone twice.
- An account X reports deleted or suspended (GONE_CODES) is recorded as gone and not retried.
- A run stops, rather than fail every account left, at any other 401 or 403 (they concern the app)
  and after MAX_UNREACHED requests in a row with no HTTP answer (the network or the host is down).

Example:
    >>> summary = block_accounts("lake/exports/blocklist.csv", execute=False)  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from vigie.errors import ConfigError, InputError, VigieError

CREDENTIAL_VARS = ("X_CONSUMER_KEY", "X_CONSUMER_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")
DEFAULT_HOST = "api.twitter.com"
REQUIRED_COLUMNS = ("user_id", "screen_name", "score")
MAX_UNREACHED = 3  # requests in a row without any HTTP answer before a run stops, instead of failing every account
# X's error codes that concern the target account, not the app: a block list of bots is full of them. 63 comes
# with a 403, which otherwise stops the run, so without this a re-run would stop at the same account forever.
GONE_CODES = {50: "user not found", 63: "user suspended"}


@dataclass(frozen=True)
class Target:
    user_id: int
    screen_name: str
    score: float


def read_blocklist(path: str, min_score: float = 0.0, limit: int | None = None) -> list[Target]:
    """The accounts of a block list CSV (as `vigie bots` writes it), best score first."""
    if not os.path.exists(path):
        raise InputError(f"block list not found: {path} (run `vigie bots --lakehouse ...` to make one)")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path} is not a vigie block list: missing column(s) {missing}")
        targets = []
        for n, row in enumerate(reader, start=2):
            try:
                targets.append(Target(int(row["user_id"]), row["screen_name"], float(row["score"])))
            except ValueError as exc:
                raise InputError(f"{path}, line {n}: user_id and score must be numbers ({exc})") from exc
    # stable: equal scores keep the file's order, which ranks ties by their evidence
    chosen = sorted((t for t in targets if t.score >= min_score), key=lambda t: -t.score)
    return chosen[:limit] if limit else chosen


def settled(audit_path: str) -> dict[int, str]:
    """User id -> "blocked" or "gone", as the audit log records them (earlier, possibly interrupted, runs)."""
    done: dict[int, str] = {}
    if os.path.exists(audit_path):
        with open(audit_path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash
                if entry.get("action") in ("blocked", "gone"):
                    done[int(entry["user_id"])] = entry["action"]
    return done


def _outcome(exc: Exception, where: str) -> tuple[str, str]:
    """What a failed block request means, and its detail for the audit log: "gone" (the account), "stop"
    (the credentials or the app's access), "unreached" (no HTTP answer) or "failed" (this attempt)."""
    import tweepy

    response = getattr(exc, "response", None)
    if response is None:
        return "unreached", f"no answer from {where}"
    detail = f"{type(exc).__name__} {response.status_code}"
    if getattr(exc, "api_messages", None):
        detail += ": " + "; ".join(exc.api_messages)
    if set(getattr(exc, "api_codes", ())) & GONE_CODES.keys():
        return "gone", detail
    if isinstance(exc, (tweepy.Unauthorized, tweepy.Forbidden)):
        return "stop", detail
    return "failed", detail


def _credentials() -> dict[str, str]:
    missing = [v for v in CREDENTIAL_VARS if not os.environ.get(v)]
    if missing:
        raise ConfigError(f"--execute needs API credentials in the environment; missing: {', '.join(missing)}")
    return {v: os.environ[v] for v in CREDENTIAL_VARS}


def make_api(host: str, retry_count: int = 3, retry_delay: float = 2.0) -> Any:
    """A tweepy v1.1 API client for `host`, authenticated from the environment, waiting out rate limits."""
    import tweepy

    creds = _credentials()
    auth = tweepy.OAuth1UserHandler(
        creds["X_CONSUMER_KEY"], creds["X_CONSUMER_SECRET"], creds["X_ACCESS_TOKEN"], creds["X_ACCESS_TOKEN_SECRET"]
    )
    return tweepy.API(
        auth,
        host=host,
        wait_on_rate_limit=True,
        retry_count=retry_count,
        retry_delay=retry_delay,
        retry_errors={500, 502, 503, 504},
    )


def block_accounts(
    blocklist: str,
    execute: bool = False,
    audit_path: str | None = None,
    host: str | None = None,
    min_score: float = 0.0,
    limit: int | None = None,
    say: Callable[[str], None] | None = None,
    api: Any = None,
) -> dict[str, int]:
    """Block (or, without `execute`, list) the accounts of a block list; returns counts by outcome."""
    say = say or (lambda msg: print(msg, flush=True))
    targets = read_blocklist(blocklist, min_score, limit)
    audit_path = audit_path or f"{blocklist}.audit.jsonl"
    done = settled(audit_path)
    todo = [t for t in targets if t.user_id not in done]
    earlier = [done[t.user_id] for t in targets if t.user_id in done]
    counts = {
        "listed": len(targets),
        "already_blocked": earlier.count("blocked"),
        "gone": earlier.count("gone"),  # deleted or suspended, found by this run or an earlier one
        "blocked": 0,
        "failed": 0,
    }
    if not execute:
        for t in todo:
            say(f"would block @{t.screen_name} (id {t.user_id}, score {t.score:.3f})")
        say(
            f"dry run: {len(todo)} to block, {counts['already_blocked']} already blocked, {counts['gone']} gone; "
            "add --execute to block"
        )
        return counts
    import tweepy

    api = api or make_api(host or os.environ.get("VIGIE_X_API_HOST", DEFAULT_HOST))
    with open(audit_path, "a", encoding="utf-8") as audit:

        def record(t: Target, action: str, detail: str = "") -> None:
            entry = {
                "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "user_id": t.user_id,
                "screen_name": t.screen_name,
                "score": t.score,
                "action": action,
                "detail": detail,
            }
            audit.write(json.dumps(entry) + "\n")
            audit.flush()
            os.fsync(audit.fileno())

        unreached = 0  # requests in a row that got no HTTP answer
        where = getattr(api, "host", "the API")
        for t in todo:
            try:
                api.create_block(user_id=t.user_id, skip_status=True)
            except tweepy.TweepyException as exc:
                outcome, detail = _outcome(exc, where)
                record(t, "gone" if outcome == "gone" else "failed", detail)
                if outcome == "stop":
                    # 401: the credentials; 403: what the app may do (its access level, or read-only). Neither
                    # depends on the account, so the run stops at the first refusal instead of failing them all.
                    raise VigieError(
                        f"the API refused the credentials or the app's access ({detail}) after {counts['blocked']} "
                        f"block(s); fix them and re-run: blocked accounts are skipped (audit log {audit_path})"
                    ) from None
                unreached = unreached + 1 if outcome == "unreached" else 0
                if outcome == "gone":
                    counts["gone"] += 1
                    say(f"@{t.screen_name} is gone ({detail}): recorded, not retried")
                    continue
                counts["failed"] += 1
                if unreached == MAX_UNREACHED:
                    raise VigieError(
                        f"no answer from {where} to {unreached} requests in a row after {counts['blocked']} "
                        f"block(s); check the network and re-run: blocked accounts are skipped (audit log {audit_path})"
                    ) from None
                say(f"could not block @{t.screen_name}: {detail}")
                continue
            unreached = 0
            counts["blocked"] += 1
            record(t, "blocked")
            say(f"blocked @{t.screen_name} (id {t.user_id})")
    done_msg = (
        f"{counts['blocked']} blocked, {counts['failed']} failed, {counts['gone']} gone, "
        f"{counts['already_blocked']} already blocked"
    )
    say(f"done: {done_msg} (audit {audit_path})")
    return counts


def main_block(args: Any) -> int:
    counts = block_accounts(
        args.blocklist,
        execute=args.execute,
        audit_path=args.audit,
        host=args.api_host,
        min_score=args.min_score,
        limit=args.limit,
        say=lambda m: print(m, file=sys.stderr, flush=True),
    )
    print(json.dumps(counts))
    return 0 if counts["failed"] == 0 else 1
