"""`vigie block` against a local HTTPS server that speaks the v1.1 blocks/create endpoint."""

from __future__ import annotations

import csv
import json
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from vigie.block import block_accounts, read_blocklist
from vigie.errors import ConfigError, InputError, VigieError

SECRETS = {
    "X_CONSUMER_KEY": "ck-visible-in-oauth-header",
    "X_CONSUMER_SECRET": "cs-SECRET-never-shown",
    "X_ACCESS_TOKEN": "at-token-1234",
    "X_ACCESS_TOKEN_SECRET": "ats-SECRET-never-shown",
}


class FakeX:
    """State of the fake API: what it received and what it should answer."""

    def __init__(self):
        self.calls: list[int] = []  # every block request, in order
        self.blocked: list[int] = []  # the ones answered 200
        self.script: dict[int, list] = {}  # user id -> statuses, or (status, X error code, message), before a 200
        self.refuse_after: int | None = None  # answer 401 once this many blocks succeeded
        self.hang_up_after: int | None = None  # close the connection unanswered once this many blocks succeeded
        self.forbid = False  # answer 403 to every block, as X does when the app's access level lacks it
        self.auth_headers: list[str] = []


def _handler(state: FakeX):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self, status: int, body: dict, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            params = {**parse_qs(url.query), **parse_qs(self.rfile.read(length).decode())}
            if url.path != "/1.1/blocks/create.json":
                return self._answer(404, {"errors": [{"code": 34, "message": "no such endpoint"}]})
            auth = self.headers.get("Authorization", "")
            state.auth_headers.append(auth)
            if not auth.startswith("OAuth ") or "oauth_signature=" not in auth:
                return self._answer(401, {"errors": [{"code": 32, "message": "Could not authenticate you."}]})
            uid = int(params["user_id"][0])
            state.calls.append(uid)
            if state.hang_up_after is not None and len(state.blocked) >= state.hang_up_after:
                self.close_connection = True  # no status line: the client sees the network fail
                return None
            if state.forbid:
                lacks = {"code": 453, "message": "Your access level lacks this endpoint."}
                return self._answer(403, {"errors": [lacks]})
            if state.refuse_after is not None and len(state.blocked) >= state.refuse_after:
                return self._answer(401, {"errors": [{"code": 89, "message": "Invalid or expired token."}]})
            pending = state.script.get(uid, [])
            if pending:
                entry = pending.pop(0)
                status, code, message = entry if isinstance(entry, tuple) else (entry, 0, f"status {entry}")
                if status == 429:
                    reset = str(int(time.time()) + 1)
                    headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}
                    return self._answer(429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, headers)
                return self._answer(status, {"errors": [{"code": code, "message": message}]})
            state.blocked.append(uid)
            return self._answer(200, {"id": uid, "id_str": str(uid), "screen_name": f"u{uid}"})

    return Handler


@pytest.fixture
def fake_x(tmp_path, monkeypatch):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    state = FakeX()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    yield state, f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def blocklist(tmp_path):
    path = tmp_path / "blocklist.csv"
    rows = [(100 + i, f"acct{i}", round(0.99 - i * 0.01, 2)) for i in range(6)]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["user_id", "screen_name", "score", "compression_ratio"])
        for r in rows:
            w.writerow([*r, 0.1])
    return str(path)


def test_dry_run_lists_and_contacts_nobody(fake_x, blocklist):
    state, host = fake_x
    said = []
    counts = block_accounts(blocklist, execute=False, host=host, say=said.append)
    assert counts == {"listed": 6, "already_blocked": 0, "gone": 0, "blocked": 0, "failed": 0}
    assert said[0] == "would block @acct0 (id 100, score 0.990)" and len(said) == 7
    assert state.calls == []


def test_execute_blocks_through_rate_limits_and_server_errors(fake_x, blocklist, tmp_path):
    state, host = fake_x
    state.script = {101: [429], 102: [503], 104: [404]}
    audit = str(tmp_path / "audit.jsonl")
    counts = block_accounts(blocklist, execute=True, host=host, audit_path=audit, say=lambda _: None)
    assert counts == {"listed": 6, "already_blocked": 0, "gone": 0, "blocked": 5, "failed": 1}
    assert state.blocked == [100, 101, 102, 103, 105]
    assert state.calls.count(101) == 2 and state.calls.count(102) == 2  # waited out / retried once
    entries = [json.loads(ln) for ln in open(audit)]
    assert [(e["user_id"], e["action"]) for e in entries] == [
        (100, "blocked"), (101, "blocked"), (102, "blocked"), (103, "blocked"), (104, "failed"), (105, "blocked"),
    ]  # fmt: skip
    assert all(f'oauth_consumer_key="{SECRETS["X_CONSUMER_KEY"]}"' in h for h in state.auth_headers)


def test_suspended_and_deleted_accounts_are_recorded_as_gone_and_never_retried(fake_x, blocklist, tmp_path):
    state, host = fake_x
    # X answers a suspended target with a 403, like a refusal of the app, but with code 63: the run goes on
    state.script = {101: [(403, 63, "User has been suspended.")], 103: [(404, 50, "User not found.")], 104: [404]}
    audit = tmp_path / "audit.jsonl"
    said = []
    counts = block_accounts(blocklist, execute=True, host=host, audit_path=str(audit), say=said.append)
    assert counts == {"listed": 6, "already_blocked": 0, "gone": 2, "blocked": 3, "failed": 1}
    entries = [json.loads(ln) for ln in audit.read_text().splitlines()]
    assert [(e["user_id"], e["action"], e["detail"]) for e in entries] == [
        (100, "blocked", ""),
        (101, "gone", "Forbidden 403: User has been suspended."),
        (102, "blocked", ""),
        (103, "gone", "NotFound 404: User not found."),
        (104, "failed", "NotFound 404: status 404"),  # a 404 without code 50 may be a wrong host: retried
        (105, "blocked", ""),
    ]
    assert "@acct1 is gone (Forbidden 403: User has been suspended.): recorded, not retried" in said
    calls = len(state.calls)
    counts = block_accounts(blocklist, execute=True, host=host, audit_path=str(audit), say=lambda _: None)
    assert counts == {"listed": 6, "already_blocked": 3, "gone": 2, "blocked": 1, "failed": 0}
    assert state.calls[calls:] == [104]  # only the failed one is asked again
    assert state.blocked == [100, 102, 105, 104]


def test_a_stopped_run_resumes_without_blocking_twice(fake_x, blocklist, tmp_path):
    state, host = fake_x
    audit = str(tmp_path / "audit.jsonl")
    state.refuse_after = 2
    refused = r"refused the credentials or the app's access \(Unauthorized 401: .*\) after 2 block"
    with pytest.raises(VigieError, match=refused):
        block_accounts(blocklist, execute=True, host=host, audit_path=audit, say=lambda _: None)
    state.refuse_after = None
    counts = block_accounts(blocklist, execute=True, host=host, audit_path=audit, say=lambda _: None)
    assert counts == {"listed": 6, "already_blocked": 2, "gone": 0, "blocked": 4, "failed": 0}
    assert sorted(state.blocked) == [100, 101, 102, 103, 104, 105]  # each exactly once


def test_an_app_without_access_to_blocks_stops_at_the_first_refusal(fake_x, blocklist, tmp_path):
    state, host = fake_x
    state.forbid = True
    audit = tmp_path / "audit.jsonl"
    with pytest.raises(VigieError, match=r"\(Forbidden 403: Your access level lacks this endpoint\.\) after 0 block"):
        block_accounts(blocklist, execute=True, host=host, audit_path=str(audit), say=lambda _: None)
    assert state.calls == [100]  # not one refusal per account
    entries = [json.loads(ln) for ln in audit.read_text().splitlines()]
    assert [(e["user_id"], e["action"], e["detail"]) for e in entries] == [
        (100, "failed", "Forbidden 403: Your access level lacks this endpoint.")
    ]


def test_a_lost_connection_stops_the_run_which_then_resumes(fake_x, blocklist, tmp_path):
    state, host = fake_x
    state.hang_up_after = 2
    audit = tmp_path / "audit.jsonl"
    with pytest.raises(VigieError, match=rf"no answer from {host} to 3 requests in a row after 2 block"):
        block_accounts(blocklist, execute=True, host=host, audit_path=str(audit), say=lambda _: None)
    assert state.calls == [100, 101, 102, 103, 104]  # stopped, not one failure per remaining account
    entries = [json.loads(ln) for ln in audit.read_text().splitlines()]
    assert [(e["user_id"], e["action"]) for e in entries] == [
        (100, "blocked"), (101, "blocked"), (102, "failed"), (103, "failed"), (104, "failed"),
    ]  # fmt: skip
    assert entries[-1]["detail"] == f"no answer from {host}"
    state.hang_up_after = None
    counts = block_accounts(blocklist, execute=True, host=host, audit_path=str(audit), say=lambda _: None)
    assert counts == {"listed": 6, "already_blocked": 2, "gone": 0, "blocked": 4, "failed": 0}
    assert state.blocked == [100, 101, 102, 103, 104, 105]  # each exactly once


def test_secrets_never_reach_output_or_audit(fake_x, blocklist, tmp_path, capsys):
    from vigie.cli import main

    _, host = fake_x
    audit = tmp_path / "audit.jsonl"
    assert main(["block", "--blocklist", blocklist, "--execute", "--api-host", host, "--audit", str(audit)]) == 0
    seen = capsys.readouterr()
    text = seen.out + seen.err + audit.read_text()
    assert json.loads(seen.out.strip().splitlines()[-1])["blocked"] == 6
    for name in ("X_CONSUMER_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET"):
        assert SECRETS[name] not in text


def test_missing_credentials_are_named_not_shown(blocklist, monkeypatch):
    for k in SECRETS:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("X_CONSUMER_KEY", "only-this-one")
    with pytest.raises(ConfigError, match="missing: X_CONSUMER_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET"):
        block_accounts(blocklist, execute=True, host="127.0.0.1:9", say=lambda _: None)


def test_a_file_that_is_not_a_block_list_is_refused(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("id,name\n1,a\n")
    with pytest.raises(InputError, match=r"missing column\(s\) \['user_id', 'screen_name', 'score'\]"):
        read_blocklist(str(bad))
    with pytest.raises(InputError, match="block list not found"):
        read_blocklist(str(tmp_path / "none.csv"))
