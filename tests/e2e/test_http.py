"""End to end over real HTTP: `liveblog serve` on 127.0.0.1, an editor and a polling reader."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from .server import Server, editor_token

pytestmark = pytest.mark.slow


@pytest.fixture
def server(database):
    db = database
    token = editor_token(db)
    running = Server(db, scheduler=True)  # (the checkpoints verify checks are its job)
    running.auth = {"Authorization": f"Bearer {token}"}
    yield running
    running.stop()


def test_editor_publishes_and_a_polling_reader_sees_each_change_once(server):
    auth = server.auth
    blog = server.request("POST", "/api/blogs", {"title": "Kyiv live", "slug": "kyiv"}, auth)
    assert blog.status == 201
    feed = server.request("GET", "/api/blogs/kyiv/posts")
    etag, cursor = feed.headers["ETag"], feed.json()["cursor"]
    assert server.request("GET", "/api/blogs/kyiv/posts",
                          headers={"If-None-Match": etag}).status == 304

    first = server.request("POST", "/api/blogs/kyiv/posts", {"headline": "Sirens"}, auth).json()
    second = server.request("POST", "/api/blogs/kyiv/posts", {"headline": "Calm"}, auth).json()
    edited = server.request("PATCH", f"/api/blogs/kyiv/posts/{first['id']}",
                            {"headline": "Sirens across the city"},
                            {**auth, "If-Match": '"1"'})
    assert edited.status == 200 and edited.headers["ETag"] == '"2"'
    pinned = server.request("PATCH", f"/api/blogs/kyiv/posts/{second['id']}", {"pinned": True},
                            {**auth, "If-Match": '"1"'})
    assert pinned.status == 200
    third = server.request("POST", "/api/blogs/kyiv/posts", {"headline": "Oops"}, auth).json()
    assert server.request("DELETE", f"/api/blogs/kyiv/posts/{third['id']}?reason=duplicate",
                          headers=auth).status == 204

    poll = server.request("GET", "/api/blogs/kyiv/posts", headers={"If-None-Match": etag})
    assert poll.status == 200
    page = poll.json()
    assert [p["headline"] for p in page["posts"]] == ["Calm", "Sirens across the city"]
    assert [p["headline"] for p in page["pinned"]] == ["Calm"]
    assert page["total"] == 2

    changes = server.request("GET", f"/api/blogs/kyiv/changes?since={cursor}").json()
    ops = [(c["op"], c.get("post", {}).get("headline") or c["id"]) for c in changes["changes"]]
    assert ops == [("upsert", "Sirens across the city"), ("upsert", "Calm"),
                   ("delete", third["id"])]
    assert server.request("GET", f"/api/blogs/kyiv/changes?since={changes['cursor']}"
                          ).json()["changes"] == []


def test_two_editors_editing_one_post_at_once_exactly_one_wins(server):
    auth = server.auth
    server.request("POST", "/api/blogs", {"title": "Race", "slug": "race"}, auth)
    post = server.request("POST", "/api/blogs/race/posts", {"headline": "v1"}, auth).json()
    url = f"/api/blogs/race/posts/{post['id']}"
    for round_ in range(5):
        version = server.request("GET", url).json()["version"]
        barrier = threading.Barrier(2)
        results = {}

        def edit(name, barrier, results, round_, version):
            barrier.wait()
            results[name] = server.request("PATCH", url, {"headline": f"{name} {round_}"},
                                           {**auth, "If-Match": f'"{version}"'})

        threads = [threading.Thread(target=edit, args=(n, barrier, results, round_, version))
                   for n in ("jane", "john")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(r.status for r in results.values())
        assert statuses == [200, 412], statuses
        winner = next(n for n, r in results.items() if r.status == 200)
        loser = next(n for n, r in results.items() if r.status == 412)
        current = server.request("GET", url).json()
        assert current["headline"] == f"{winner} {round_}"
        assert current["version"] == version + 1
        # the loser reloads and applies their change: nothing is lost
        retry = server.request("PATCH", url, {"headline": f"{loser} {round_} retried"},
                               {**auth, "If-Match": f'"{current["version"]}"'})
        assert retry.status == 200


def test_restart_gives_the_same_feed_and_the_same_etags(database):
    db = database
    token = editor_token(db)
    auth = {"Authorization": f"Bearer {token}"}
    first = Server(db)
    try:
        first.request("POST", "/api/blogs", {"title": "Restart", "slug": "restart"}, auth)
        for i in range(3):
            first.request("POST", "/api/blogs/restart/posts", {"headline": f"p{i}"}, auth)
        before = {path: first.request("GET", path) for path in (
            "/api/blogs/restart/posts", "/api/blogs/restart", "/api/blogs")}
    finally:
        first.stop()
    second = Server(db)
    try:
        for path, reply in before.items():
            again = second.request("GET", path)
            assert again.status == 200
            assert again.body == reply.body, path
            assert again.headers["ETag"] == reply.headers["ETag"], path
            assert second.request("GET", path, headers={
                "If-None-Match": reply.headers["ETag"]}).status == 304
    finally:
        second.stop()


def raw_exchange(server, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send bytes as they are (no client library tidying them up); return the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


def test_requests_the_http_server_refuses_are_problems_too(server):
    too_long = b"GET /api/blogs?q=" + b"x" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n"
    malformed = b"GET /api/blogs HTTP/1.1\r\nHost: a\r\nNo colon here\r\n\r\n"
    for request, code in ((too_long, "414"), (malformed, "400")):
        status, headers, body = raw_exchange(server, request)
        assert status.split()[1] == code, status
        assert headers["content-type"] == "application/problem+json"
        problem = json.loads(body)
        assert problem["status"] == int(code) and problem["type"].startswith("urn:liveblog:")


def test_verify_checks_the_log_against_the_checkpoints_a_running_service_signed(server, database):
    import subprocess
    import sys
    import time

    auditor = editor_token(database, "Ann Auditor", role="auditor")
    assert server.request("POST", "/api/blogs", {"title": "Signed", "slug": "signed"},
                          server.auth).status == 201
    deadline = time.monotonic() + 10  # the scheduler signs the head as it starts
    while time.monotonic() < deadline:
        listed = server.request("GET", "/api/audit/checkpoints",
                                headers={"Authorization": f"Bearer {auditor}"}).json()
        if listed["checkpoints"]:
            break
        time.sleep(0.2)
    assert listed["checkpoints"], "no checkpoint was signed"
    url = f"{server.base}/api/audit/checkpoints"
    done = subprocess.run([sys.executable, "-m", "liveblog", "verify", "--db", str(database),
                           "--checkpoints", url, "--token", auditor],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    count = len(listed["checkpoints"])
    assert f"{url}: {count} signed audit checkpoint{'' if count == 1 else 's'} hold" in done.stdout
    refused = subprocess.run([sys.executable, "-m", "liveblog", "verify", "--db", str(database),
                              "--checkpoints", url], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "401" in refused.stderr and "--token" in refused.stderr
