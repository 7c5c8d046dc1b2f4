"""Clients that wait cost no thread: `liveblog serve` with its defaults, hundreds of held long
polls and of clients trickling their headers, and editors and readers still answered at once.

(The figures, with 1,000 polls, come from ``scripts/bench load``; these tests check behaviour.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from events import EventStore

from .server import Server, children, editor_token

pytestmark = pytest.mark.slow

POLLS = 400
SLOW = 100


@pytest.fixture
def server(database):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096 <= hard:  # the test's clients and the server's sockets, both ends
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
    token = editor_token(database)
    running = Server(database)
    running.auth = {"Authorization": f"Bearer {token}"}
    yield running
    running.stop()


async def _exchange(port: int, raw: bytes, timeout: float) -> tuple[int, dict, bytes, float]:
    """One request on a new connection: status, headers, body, seconds taken."""
    began = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        status, fields = await _head(reader, timeout)
        body = await asyncio.wait_for(
            reader.readexactly(int(fields.get("content-length", "0"))), timeout)
        return status, fields, body, time.monotonic() - began
    finally:
        writer.close()


async def _head(reader: asyncio.StreamReader, timeout: float) -> tuple[int, dict]:
    """A reply's status and headers (names in lower case), read up to its body."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    lines = head.decode("latin-1").split("\r\n")
    fields = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:] if line)}
    return int(lines[0].split()[1]), fields


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode()


def _post(path: str, payload: dict, token_header: str) -> bytes:
    body = json.dumps(payload).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
            f"{token_header}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def _slow_client(port: int, lines_sent: list[int], closed_after: list[float]) -> None:
    """A request line, then a header line a second, never the blank line that ends them."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    began = time.monotonic()
    writer.write(b"GET /api/blogs HTTP/1.1\r\nHost: test\r\n")
    try:
        for n in range(60):
            await asyncio.sleep(1)
            if reader.at_eof() or await _closed(reader):
                break
            writer.write(f"X-Slow-{n}: {n}\r\n".encode())
            await writer.drain()
            lines_sent.append(1)
    except OSError:
        pass
    closed_after.append(time.monotonic() - began)
    writer.close()


async def _closed(reader: asyncio.StreamReader) -> bool:
    try:
        await asyncio.wait_for(reader.read(1), 0.01)
    except TimeoutError:
        return False
    return True


async def _crowd(server: Server) -> dict:
    port = server.port
    token_header = f"Authorization: {server.auth['Authorization']}"
    cursor = json.loads((await _exchange(port, _get("/api/blogs/crowd/posts"), 10))[2])["cursor"]
    polls = [asyncio.create_task(
        _exchange(port, _get(f"/api/blogs/crowd/changes?since={cursor}&wait=25"), 40))
        for _ in range(POLLS)]
    lines_sent: list[int] = []
    closed_after: list[float] = []
    slow = [asyncio.create_task(_slow_client(port, lines_sent, closed_after))
            for _ in range(SLOW)]
    await asyncio.sleep(3)  # all of them connected: polls held, headers trickling
    assert not any(p.done() for p in polls), "a long poll was answered with nothing new"
    reads = [await _exchange(port, _get("/api/blogs/crowd/posts"), 10) for _ in range(5)]
    health = await _exchange(port, _get("/healthz"), 10)
    published = await _exchange(
        port, _post("/api/blogs/crowd/posts", {"headline": "Breaking"}, token_header), 10)
    answered = await asyncio.wait_for(asyncio.gather(*polls), 15)
    await asyncio.wait_for(asyncio.gather(*slow), 30)
    return {"reads": reads, "health": health, "published": published, "answered": answered,
            "closed_after": closed_after}


def test_held_long_polls_and_slow_clients_leave_editors_and_readers_answered(server):
    assert server.request("POST", "/api/blogs", {"title": "Crowd", "slug": "crowd"},
                          server.auth).status == 201
    # a loop of its own, on a thread of its own: the browser tests' Playwright keeps an event
    # loop running on the main thread for the whole session
    with ThreadPoolExecutor(1) as runner:
        seen = runner.submit(lambda: asyncio.run(_crowd(server))).result()

    # with every long poll held and every slow client connected, the others are served at once
    assert [r[0] for r in seen["reads"]] == [200] * 5
    assert max(r[3] for r in seen["reads"]) < 2.0, [r[3] for r in seen["reads"]]
    assert seen["health"][0] == 200
    status, _, body, took = seen["published"]
    assert status == 201 and took < 2.0, (status, took)
    post_id = json.loads(body)["id"]

    # the publish woke every held poll, each with the new post
    assert len(seen["answered"]) == POLLS
    for status, _, body, _ in seen["answered"]:
        assert status == 200
        assert [c["post"]["id"] for c in json.loads(body)["changes"]] == [post_id]

    # a client that never finishes its headers is cut off (gunicorn's keepalive: 5 s)
    assert len(seen["closed_after"]) == SLOW
    assert max(seen["closed_after"]) < 10, max(seen["closed_after"])


#: a node at its limit: one worker serving 200 connections holds 168 long polls (an eighth of
#: its connections, at least 32, is kept for the rest), and 300 arrive
FULL_CONNECTIONS, FULL_HELD, FULL_POLLS = 200, 168, 300


@pytest.fixture
def full_server(database):
    token = editor_token(database)
    running = Server(database, workers=1, extra_args=("--connections", str(FULL_CONNECTIONS)))
    running.auth = {"Authorization": f"Bearer {token}"}
    yield running
    running.stop()


async def _kept_alive_poll(port: int, path: str) -> tuple[int, dict, bytes, float, bool]:
    """A long poll on a kept-alive connection: status, headers, body, seconds, and whether
    the server closed the connection after answering."""
    began = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        await writer.drain()
        status, fields = await _head(reader, 40)
        took = time.monotonic() - began
        body = await reader.readexactly(int(fields.get("content-length", "0")))
        try:  # (2 s: a loaded machine's server closed one 1 s after answering, once)
            closed = await asyncio.wait_for(reader.read(1), 2) == b""
        except TimeoutError:
            closed = False  # kept open for the next request
        return status, fields, body, took, closed
    finally:
        writer.close()


async def _at_the_limit(server: Server) -> dict:
    port = server.port
    token_header = f"Authorization: {server.auth['Authorization']}"
    cursor = json.loads((await _exchange(port, _get("/api/blogs/full/posts"), 10))[2])["cursor"]
    polls = []
    for _ in range(FULL_POLLS // 20):  # they arrive over a second and a half
        polls += [asyncio.create_task(_kept_alive_poll(
            port, f"/api/blogs/full/changes?since={cursor}&wait=25")) for _ in range(20)]
        await asyncio.sleep(0.1)
    await asyncio.sleep(4)
    turned_away = [p.result() for p in polls if p.done()]
    timed: dict[str, list] = {"publish": [], "healthz": [], "metrics": []}
    for _ in range(3):  # three of each: one slow answer on a loaded machine is not a queue
        timed["publish"].append(await _exchange(
            port, _post("/api/blogs/other/posts", {"headline": "Desk"}, token_header), 10))
        timed["healthz"].append(await _exchange(port, _get("/healthz"), 10))
        timed["metrics"].append(await _exchange(port, _get("/metrics"), 10))
    published = await _exchange(
        port, _post("/api/blogs/full/posts", {"headline": "Breaking"}, token_header), 10)
    held = await asyncio.wait_for(asyncio.gather(*[p for p in polls if not p.done()]), 20)
    return {"turned_away": turned_away, "timed": timed, "published": published, "held": held}


def _connections_to(port: int, pid: int) -> int:
    """The TCP connections to ``port`` that process ``pid`` and its children hold open (read
    from /proc: the sockets of their open files, found in the kernel's table)."""
    pids = [pid, *children(pid)]
    inodes = set()
    for each in pids:
        for fd in Path(f"/proc/{each}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[9] in inodes:
                count += 1
    return count


def test_a_full_node_turns_new_anonymous_polls_away_and_still_answers_editors(full_server):
    for slug in ("full", "other"):
        assert full_server.request("POST", "/api/blogs", {"title": slug, "slug": slug},
                                   full_server.auth).status == 201
    with ThreadPoolExecutor(1) as runner:
        seen = runner.submit(lambda: asyncio.run(_at_the_limit(full_server))).result()

    # the polls past the limit were answered at once (not held for their 25 s: within the 4 s
    # the test waits, however loaded the machine): their current state (nothing new), when to
    # come back, and the connection closed so it frees its place
    assert len(seen["turned_away"]) == FULL_POLLS - FULL_HELD
    for status, fields, body, _, closed in seen["turned_away"]:
        assert status == 200 and json.loads(body)["changes"] == []
        assert 2 <= int(fields["retry-after"]) <= 8 and closed
    # with every place for long polls taken, an editor's write, the health check and the
    # metrics are answered, typically within 500 ms (held behind the polls, they would wait
    # for the polls' 25 s)
    for what, answers in seen["timed"].items():
        assert all(status in (200, 201) for status, *_ in answers), what
        took = sorted(answer[3] for answer in answers)
        assert took[1] < 0.5 and took[2] < 5, (what, took)
    assert f"liveblog_long_polls_waiting {FULL_HELD}.0" in seen["timed"]["metrics"][0][2].decode()
    # the held ones were held, and one publish woke them all
    assert seen["published"][0] == 201
    post_id = json.loads(seen["published"][2])["id"]
    assert len(seen["held"]) == FULL_HELD
    for status, fields, body, _, closed in seen["held"]:
        assert status == 200 and "retry-after" not in fields and not closed
        assert [c["post"]["id"] for c in json.loads(body)["changes"]] == [post_id]
    # 300 polls of one blog arriving together read its head once, not once each: the worker
    # opened a few connections, not its pool's 32 (it keeps those it opened, idle)
    if full_server.db.startswith("postgresql"):
        assert _connections_to(urlsplit(full_server.db).port or 5432, full_server.proc.pid) <= 8


async def _held_then_stopped(server: Server) -> tuple[list, float, float]:
    """Polls held on a node, then SIGTERM: when each poll was answered, and when the node was
    gone, in seconds after the signal."""
    port = server.port
    reply = await _exchange(port, _post("/api/blogs", {"title": "Last", "slug": "last"},
                                        f"Authorization: {server.auth['Authorization']}"), 10)
    assert reply[0] == 201
    cursor = json.loads((await _exchange(port, _get("/api/blogs/last/posts"), 10))[2])["cursor"]
    polls = [asyncio.create_task(_exchange(
        port, _get(f"/api/blogs/last/changes?since={cursor}&wait=25"), 40)) for _ in range(20)]
    await asyncio.sleep(1.5)  # every poll is held by now (each is answered at 25 s otherwise)
    assert not any(poll.done() for poll in polls)
    signalled = time.monotonic()
    server.proc.terminate()
    answered = [(status, time.monotonic() - signalled) for status, *_ in
                await asyncio.gather(*polls)]
    await asyncio.get_running_loop().run_in_executor(None, server.proc.wait, 30)
    return answered, signalled, time.monotonic() - signalled


def test_a_stopping_node_answers_its_held_polls_at_once_and_exits(server):
    with ThreadPoolExecutor(1) as runner:  # a loop of its own (a browser's may be running)
        answered, _, gone = runner.submit(
            lambda: asyncio.run(_held_then_stopped(server))).result()
    # answered with the (unchanged) feed, not at their 25 s timeout nor cut off
    assert [status for status, _ in answered] == [200] * 20
    assert max(took for _, took in answered) < 5.0
    assert gone < 10.0  # within gunicorn's graceful timeout, which it no longer waits out


async def _midway_then_stopped(server: Server) -> tuple[int, dict, float, float]:
    """An editor's publish half sent, then SIGTERM, then the rest of it: its answer, and when
    the answer came and when the node was gone, in seconds after the signal."""
    raw = _post("/api/blogs", {"title": "Midway", "slug": "midway"},
                f"Authorization: {server.auth['Authorization']}")
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(raw[:-10])
        await writer.drain()
        await asyncio.sleep(0.5)  # the worker is reading the request now
        signalled = time.monotonic()
        server.proc.terminate()
        await asyncio.sleep(1.5)  # a stop that cut connections off would have by now
        writer.write(raw[-10:])
        await writer.drain()
        status, fields = await _head(reader, 10)
        answered = time.monotonic() - signalled
    finally:
        writer.close()
    await asyncio.get_running_loop().run_in_executor(None, server.proc.wait, 30)
    return status, fields, answered, time.monotonic() - signalled


def test_a_stopping_node_finishes_the_request_under_way_then_exits(server):
    """A graceful stop waits for a request it is reading (not a whole second more), and that
    request's write is kept."""
    with ThreadPoolExecutor(1) as runner:
        status, fields, answered, gone = runner.submit(
            lambda: asyncio.run(_midway_then_stopped(server))).result()
    assert status == 201 and fields["connection"] == "close"
    assert answered >= 1.5 and gone < answered + 5.0
    store = EventStore.open(str(server.db))
    try:
        assert [e.data["slug"] for e in store.read_all(types=["BlogCreated"])] == ["midway"]
    finally:
        store.close()
