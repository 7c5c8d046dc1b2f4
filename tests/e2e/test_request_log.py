"""The access log of a real `liveblog serve`: one JSON line per request (gunicorn's own access
log replaced, not doubled), with the contract's fields, the route as a template, the token's id
and never the token, and an X-Request-Id generated or taken from a trusted proxy only."""

from __future__ import annotations

import json
import time

import pytest

from .server import Server, editor_token

pytestmark = pytest.mark.slow

FIELDS = {"time", "request_id", "method", "route", "status", "duration_ms", "bytes", "actor",
          "client"}


def lines_of(log, count, timeout=10.0):
    """The log's JSON lines once it holds ``count`` (a line is written when a request ends),
    but for the health checks the test server's start-up made."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        lines = [line for line in lines if line["route"] != "/healthz"]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


@pytest.mark.parametrize("trusted", [False, True])
def test_one_json_line_a_request_with_its_id(tmp_path, trusted):
    db = tmp_path / "log.db"
    token = editor_token(db)
    log = tmp_path / "access.log"
    env = {"LIVEBLOG_LOG_FORMAT": "json"}
    if trusted:
        env["LIVEBLOG_TRUSTED_PROXIES"] = '["127.0.0.1"]'
    server = Server(db, workers=2, extra_env=env, extra_args=("--access-log", str(log)))
    try:
        auth = {"Authorization": f"Bearer {token}"}
        made = server.request("POST", "/api/blogs", {"title": "Logged", "slug": "logged"}, auth)
        read = server.request("GET", "/api/blogs/logged/posts?limit=5",
                              headers={"X-Request-Id": "edge-42"})
        missing = server.request("GET", "/api/blogs/nope")
        lines = lines_of(log, 3)
    finally:
        server.stop()
    assert len(lines) == 3, lines  # one line a request: gunicorn's own is not written too
    for line in lines:
        assert set(line) == FIELDS, line
        assert line["client"] == "127.0.0.1" and line["duration_ms"] >= 0
    # each line is written when its answer has gone, so two workers may write them in any order
    by_route = {(line["method"], line["route"]): line for line in lines}
    post = by_route["POST", "/api/blogs"]
    get = by_route["GET", "/api/blogs/{blog}/posts"]
    absent = by_route["GET", "/api/blogs/{blog}"]
    assert post["method"] == "POST" and post["route"] == "/api/blogs" and post["status"] == 201
    assert made.status == 201 and post["actor"] == token.split("_")[1]  # lb_<id>_<secret>
    assert token not in log.read_text()  # the token's id, never the token
    assert get["route"] == "/api/blogs/{blog}/posts" and get["status"] == 200
    assert get["bytes"] == len(read.body) and get["actor"] is None
    assert absent["status"] == 404 and absent["route"] == "/api/blogs/{blog}"
    # the id is sent back; a client's own is taken only from a trusted proxy
    assert read.headers["X-Request-Id"] == get["request_id"]
    assert (get["request_id"] == "edge-42") is trusted
    assert missing.headers["X-Request-Id"] == absent["request_id"]
    assert len({line["request_id"] for line in lines}) == 3
