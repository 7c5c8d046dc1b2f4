"""Votes across nodes and through a crash (real processes, both backends): readers vote on two
nodes of one database at once; one node is killed (-9) mid-vote; the other closes the poll.
Every acknowledged vote is in the recorded tally, none twice, and the only votes the tally has
beyond them are the few in flight when the node died (committed, their answer lost)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest

from tests.api.helpers import cookie_attributes

from .server import Server, editor_token
from .test_nodes import _children

pytestmark = pytest.mark.slow

#: every bench reader comes from this machine: no per-address limit in the way
MANY = {"LIVEBLOG_VOTES_PER_ADDRESS": "1000000"}
WRITERS_PER_NODE = 4


def vote(node: Server, poll: str, option: str) -> int:
    """A new reader's vote (no cookie: urllib keeps none); its status, 0 when no answer came."""
    request = urllib.request.Request(
        f"{node.base}/api/polls/{poll}/votes", data=json.dumps({"option": option}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code
    except (OSError, http.client.HTTPException):
        return 0


def test_votes_on_two_nodes_are_counted_exactly_once_through_a_kill(database):
    token = {"Authorization": f"Bearer {editor_token(database)}"}
    a, b = Server(database, extra_env=MANY), Server(database, extra_env=MANY)
    try:
        assert a.request("POST", "/api/blogs", {"title": "Count", "slug": "count"},
                         token).status == 201
        post = a.request("POST", "/api/blogs/count/posts", {"headline": "Vote", "body": [
            {"type": "poll", "question": "Which?", "options": ["A", "B", "C"]}]}, token).json()
        poll = post["body"][0]
        options = [o["id"] for o in poll["options"]]
        acknowledged: Counter[str] = Counter()
        lost = Counter()  # no answer: the node died with it in flight
        lock = threading.Lock()
        stop = threading.Event()

        def reader(node: Server, n: int) -> None:
            i = 0
            while not stop.is_set():
                choice = options[(n + i) % 3]
                i += 1
                status = vote(node, poll["id"], choice)
                with lock:
                    if status == 202:
                        acknowledged[choice] += 1
                    elif status == 0:
                        lost[node.port] += 1
                        return  # the node is gone
                    else:
                        raise AssertionError(f"a vote answered {status}")

        threads = [threading.Thread(target=reader, args=(node, n)) for node in (a, b)
                   for n in range(WRITERS_PER_NODE)]
        for t in threads:
            t.start()
        time.sleep(2)
        for pid in [*_children(a.proc.pid), a.proc.pid]:
            os.kill(pid, signal.SIGKILL)
        time.sleep(1)  # the other node goes on
        stop.set()
        for t in threads:
            t.join(timeout=10)
        assert sum(acknowledged.values()) > 50
        closed = b.request("POST", f"/api/polls/{poll['id']}/close", None, token)
        assert closed.status == 200, closed.json()
        final = {o["id"]: o["votes"] for o in closed.json()["options"]}
        for option in options:
            assert final[option] >= acknowledged[option]  # no acknowledged vote lost
        # beyond them, at most the votes in flight on the killed node
        extra = sum(final.values()) - sum(acknowledged.values())
        assert 0 <= extra <= WRITERS_PER_NODE, (final, acknowledged)
        assert lost[b.port] == 0
    finally:
        a.proc.kill()
        a.stop()
        b.stop()


def test_a_vote_the_worker_counts_is_answered_logged_and_counted_as_flasks(database):
    """The worker counts most votes straight from the parsed request (no WSGI environ, no
    Flask); one with an Idempotency-Key goes through Flask. Both answers carry the same
    headers, and /metrics counts both as requests of the votes' route. The worker takes a
    reader's address as Flask does: from X-Forwarded-For only through a trusted proxy."""
    token = {"Authorization": f"Bearer {editor_token(database)}"}
    node = Server(database, workers=1, extra_env={"LIVEBLOG_VOTES_PER_ADDRESS": "2",
                                                  "LIVEBLOG_TRUSTED_PROXIES": "127.0.0.1"})
    try:
        assert node.request("POST", "/api/blogs", {"title": "Ask", "slug": "ask"},
                            token).status == 201
        post = node.request("POST", "/api/blogs/ask/posts", {"headline": "Vote", "body": [
            {"type": "poll", "question": "Which?", "options": ["A", "B"]}]}, token).json()
        poll = post["body"][0]
        path = f"/api/polls/{poll['id']}/votes"
        fast = node.request("POST", path, {"option": poll["options"][0]["id"]})
        slow = node.request("POST", path, {"option": poll["options"][1]["id"]},
                            {"Idempotency-Key": "vote-1"})
        assert fast.status == slow.status == 202
        varying = {"Date", "Content-Length", "Set-Cookie", "X-Request-Id"}
        assert {k: v for k, v in fast.headers.items() if k not in varying} == {
            k: v for k, v in slow.headers.items() if k not in varying}
        assert fast.headers["X-Request-Id"] != slow.headers["X-Request-Id"]
        assert cookie_attributes(fast.headers["Set-Cookie"]) == cookie_attributes(
            slow.headers["Set-Cookie"])
        assert fast.json().keys() == slow.json().keys() == {"choice", "voter", "poll"}
        metrics = node.request("GET", "/metrics").body.decode()  # the operator's network
        assert ('liveblog_http_requests_total{method="POST",route="/api/polls/{poll}/votes",'
                'status="202"} 2.0') in metrics
        # this machine has voted twice; readers behind it (the proxy) are each themselves
        assert node.request("POST", path, {"option": poll["options"][0]["id"]}).status == 429
        for reader, status in (("10.0.0.1", 202), ("10.0.0.1", 202), ("10.0.0.1", 429),
                               ("10.0.0.2", 202)):
            assert node.request("POST", path, {"option": poll["options"][0]["id"]},
                                {"X-Forwarded-For": reader}).status == status, reader
    finally:
        node.stop()
