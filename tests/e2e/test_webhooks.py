"""Webhooks delivered by real nodes to real receiver processes: exactly one node of two sends,
in log order; a receiver that times out or is down is retried until it comes back; a node
killed mid-delivery loses nothing (the next sends the event again, with the same id)."""

from __future__ import annotations

import json
import os
import signal
import time

import psycopg
import pytest

from tests.conftest import fresh_postgres
from tests.peers import Receiver

from .server import Server, editor_token
from .test_nodes import _children

pytestmark = pytest.mark.slow

ENV = {"LIVEBLOG_WEBHOOK_ALLOW_PRIVATE": "true", "LIVEBLOG_WEBHOOK_TIMEOUT": "2",
       "LIVEBLOG_WEBHOOK_RETRY_DELAYS": "[1, 1, 2]", "LIVEBLOG_SCHEDULER_LEASE_SECONDS": "3"}


@pytest.fixture
def database(postgres_server):
    return fresh_postgres(postgres_server)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def nodes(database):
    admin = editor_token(database, "Ada Admin", role="admin")
    started = [Server(database, extra_env=ENV, scheduler=True),
               Server(database, extra_env=ENV, scheduler=True)]
    for node in started:
        node.auth = {"Authorization": f"Bearer {admin}"}
    yield started
    for node in started:
        node.stop()


def wait_for(predicate, seconds=30.0, what="it"):
    deadline = time.monotonic() + seconds
    while True:
        found = predicate()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds} s"
        time.sleep(0.1)


def _types(receiver):
    """(type, webhook-id, status answered at once; a held answer counts as none)."""
    return [(json.loads(d["body"])["type"], d["headers"]["webhook-id"],
             d["answered"] if not d["delay"] else None) for d in receiver.received()]


def _leader(database, nodes):
    with psycopg.connect(database.split("?")[0], options=_options(database)) as conn:
        holder = conn.execute("SELECT holder FROM scheduler_lease").fetchone()[0]
    pid = int(holder.split("-")[0])
    return next(n for n in nodes if pid in (n.proc.pid, *_children(n.proc.pid)))


def _options(url):
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(url).query).get("options", [""])[0]


def test_one_node_delivers_in_order_and_a_slow_receiver_is_retried(nodes, receiver):
    a, b = nodes
    a.request("POST", "/api/blogs", {"title": "Results", "slug": "results"}, a.auth)
    hook = a.request("POST", "/api/webhooks", {"url": receiver.url, "blogs": ["results"]},
                     a.auth).json()
    receiver.answer(200, delay=5, times=1)  # longer than WEBHOOK_TIMEOUT (2 s): a timeout
    for i, node in enumerate((a, b, a, b)):
        assert node.request("POST", "/api/blogs/results/posts", {"headline": f"Seat {i}"},
                            node.auth).status == 201
    wait_for(lambda: len([t for t in _types(receiver) if t[2] == 200]) >= 4, what="4 deliveries")
    got = _types(receiver)
    ok = [t for t in got if t[2] == 200]
    assert [t[0] for t in ok] == ["post.published"] * 4
    headlines = [json.loads(d["body"])["data"]["post"]["headline"]
                 for d in receiver.received() if d["answered"] == 200 and not d["delay"]]
    assert headlines == ["Seat 0", "Seat 1", "Seat 2", "Seat 3"]
    # the timed-out first delivery was sent again, with the same id; nothing else twice
    assert got[0][1] == ok[0][1]
    assert len({t[1] for t in ok}) == 4
    log = b.request("GET", f"/api/webhooks/{hook['id']}/deliveries", headers=b.auth).json()
    assert any(d["outcome"] == "failed" and "Timeout" in (d["error"] or "")
               for d in log["deliveries"])


def test_a_node_killed_mid_delivery_loses_nothing(nodes, receiver, database):
    a, b = nodes
    a.request("POST", "/api/blogs", {"title": "Crash", "slug": "crash"}, a.auth)
    a.request("POST", "/api/webhooks", {"url": receiver.url}, a.auth)
    receiver.answer(200, delay=30)  # the receiver holds the delivery: the node is mid-send
    first = a.request("POST", "/api/blogs/crash/posts", {"headline": "Before"}, a.auth).json()
    wait_for(lambda: receiver.received(), what="the first delivery")
    leader = _leader(database, nodes)
    survivor = b if leader is a else a
    for pid in [*_children(leader.proc.pid), leader.proc.pid]:
        os.kill(pid, signal.SIGKILL)
    leader.proc.wait(10)
    receiver.answer(200)
    second = survivor.request("POST", "/api/blogs/crash/posts", {"headline": "After"},
                              survivor.auth).json()
    # the survivor takes the lease, then the webhook, and sends "Before" again, then "After"
    done = wait_for(lambda: len([d for d in receiver.received() if not d["delay"]]) >= 2
                    and receiver.received(), seconds=60, what="the deliveries after the crash")
    bodies = [json.loads(d["body"]) for d in done]
    ids = [d["headers"]["webhook-id"] for d in done]
    posts = [b["data"]["post"]["id"] for b in bodies]
    assert posts[0] == first["id"] and posts[-1] == second["id"]
    assert posts.count(first["id"]) >= 2 and ids[0] == ids[1]  # at least once, same id
    assert posts.index(second["id"]) > max(i for i, p in enumerate(posts) if p == first["id"])
