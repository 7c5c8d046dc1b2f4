"""A year of news on one node. On a generated newsroom log of two million events (a blog a day,
each a day's running story of posts, edits, pins, key events, corrections and deletions):
`liveblog rebuild` time and peak memory (its own process), the longest wait of an editor
publishing during it, as-of's first call on the largest blog, verify, export and import. Then
10,000 concurrent long polls on one default `liveblog serve`: publish p95, how soon every poll
is woken after a publish, and memory per waiting poll.

    scripts/bench scale [--events 2000000] [--polls 10000] [--skip-log | --skip-polls]
                        [--skip-import]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.server import Server, editor_token  # noqa: E402

PYTHON = sys.executable


class Clock:
    """The store's clock while the log is made: a year, spread over the events."""

    def __init__(self, step: timedelta) -> None:
        self.now = datetime(2025, 1, 1, 6, 0, tzinfo=UTC)
        self.step = step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


def make_log(path: str, events: int, seed: int = 2026) -> tuple[int, str, int]:
    """Append about ``events`` events of a newsroom's year straight to the store (encoded by
    the codec, as the service would; projections are left to the rebuild). Returns the events
    appended, the largest blog's id and its events."""
    from events import EventStore, write_transaction
    from liveblog.codec import UPCASTERS, encode
    from liveblog.domain import events as ev
    from liveblog.service import Actor, new_id
    from liveblog.streams import blog_stream, erasable, post_stream

    rng = random.Random(seed)
    clock = Clock(timedelta(seconds=365 * 86400 / events))
    store = EventStore.open(path, synchronous="OFF", clock=clock, upcasters=UPCASTERS,
                            sealed=erasable)
    meta = {"actor": Actor("cli", "bench").metadata()}
    appended, largest, largest_events = 0, "", 0
    day = 0
    while appended < events:
        day += 1
        blog_id = new_id()
        # most stories are small; a few (an election night) are very large
        size = int(min(events - appended, rng.paretovariate(1.2) * events / 1200))
        with write_transaction(store.conn):
            store.append(blog_stream(blog_id), [encode(ev.BlogCreated(
                blog_id, f"day-{day}-{blog_id[:6].lower()}", f"Day {day}", "", ["Desk"], None,
                "Europe/London"), meta)])
        written = 1
        story = Story()
        while written < max(size, 2):
            with write_transaction(store.conn):  # a few hundred commands a transaction
                for _ in range(300):
                    written += _command(store, rng, blog_id, story, meta, encode, ev, new_id,
                                        post_stream)
                    if written >= size:
                        break
        appended += written
        if written > largest_events:
            largest, largest_events = blog_id, written
    store.close()
    return appended, largest, largest_events


class Story:
    """The posts of the story being written: their ids (to pick one at random), each one's
    revision, and the one pinned at its top."""

    def __init__(self) -> None:
        self.posts: list[str] = []
        self.revisions: dict[str, int] = {}
        self.pinned: str | None = None

    def revise(self, post_id: str) -> int:
        self.revisions[post_id] += 1
        return self.revisions[post_id]


def _command(store, rng, blog_id, story, meta, encode, ev, new_id, post_stream) -> int:
    """One editor's command on the blog, its events appended; returns how many."""
    posts = story.posts
    if not posts or rng.random() < 0.45:
        post_id = new_id()
        body = [{"type": "paragraph", "text": f"Paragraph {len(posts)} of the story, with"
                                              " <em>emphasis</em>. " * rng.randint(1, 4)}]
        content = {"headline": f"Update {len(posts)}",
                   "byline": {"contributors": ["Jane Roe"], "location": "London"},
                   "body": body}
        store.append(post_stream(blog_id, post_id), [encode(ev.PostPublished(
            blog_id, post_id, 1, content), meta)])
        posts.append(post_id)
        story.revisions[post_id] = 1
        return 1
    index = rng.randrange(len(posts))
    post_id = posts[index]
    roll = rng.random()
    appended = 1
    if roll < 0.6:
        revision = story.revise(post_id)
        event = ev.PostEdited(blog_id, post_id, revision,
                              {"headline": f"Update, revised {revision}"})
    elif roll < 0.63:
        # a story keeps one post pinned at its top: pinning another unpins it
        if story.pinned == post_id:
            story.pinned = None
            event = ev.PostUnpinned(blog_id, post_id, story.revise(post_id))
        else:
            if story.pinned is not None:
                other = story.pinned
                store.append(post_stream(blog_id, other), [encode(ev.PostUnpinned(
                    blog_id, other, story.revise(other)), meta)])
                appended += 1
            story.pinned = post_id
            event = ev.PostPinned(blog_id, post_id, story.revise(post_id))
    elif roll < 0.75:
        revision = story.revise(post_id)
        event = ev.PostEdited(blog_id, post_id, revision,
                              {"headline": f"Update, revised again {revision}"})
    elif roll < 0.85:
        event = ev.PostMarkedKeyEvent(blog_id, post_id, story.revise(post_id))
    elif roll < 0.95:
        event = ev.PostCorrected(blog_id, post_id, story.revise(post_id), new_id(),
                                 "A name was misspelt.", "spelling")
    else:
        event = ev.PostDeleted(blog_id, post_id, story.revise(post_id), None)
        posts.pop(index)
        del story.revisions[post_id]
        if story.pinned == post_id:
            story.pinned = None
    store.append(post_stream(blog_id, post_id), [encode(event, meta)])
    return appended


def timed(command: list[str]) -> tuple[float, float]:
    """Run a command; its wall seconds and its peak resident memory (MB): the kernel's
    high-water mark of its own memory (VmHWM, read while it runs; rusage's ru_maxrss would
    count this benchmark's memory, which the child had before exec)."""
    began = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.1)
    elapsed = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {proc.stderr.read().decode()[-6000:]}")
    return elapsed, peak / 1024


def editor_during(database: str, blog: str, stop: threading.Event, waits: list[float],
                  failures: list[str]) -> None:
    """An editor publishing a post every 20 ms through the service, each write's wait noted
    (and each write refused: the store's busy timeout ran out)."""
    from liveblog.bootstrap import bootstrap
    from liveblog.domain import commands as cmd
    from liveblog.service import Actor, new_id

    liveblog = bootstrap(database)
    service = liveblog.service()
    content = {"headline": "During the rebuild", "body": [{"type": "paragraph", "text": "News."}]}
    while not stop.is_set():
        began = time.perf_counter()
        try:
            service.handle(cmd.CreatePost(blog, new_id(), content), Actor("cli", "editor"))
        except Exception as e:  # noqa: BLE001 - what the editor would see, counted
            failures.append(str(e))
        waits.append(time.perf_counter() - began)
        time.sleep(0.02)
    liveblog.shutdown()


def as_of_first_call(database: str, blog: str) -> float:
    """ms of the first as-of call at the middle of the largest blog (a fresh process: nothing
    of the blog is in its memory)."""
    from liveblog import create_app
    from liveblog.cursors import encode_cursor
    from liveblog.service import Actor
    from liveblog.tokens import create_token

    app = create_app({"DATABASE": database})
    with app.app_context():
        from liveblog.bootstrap import get_db

        _, token = create_token(get_db().service(), "auditor", "bench", Actor("cli", "bench"))
        positions = [p for (p,) in get_db().store().conn.execute(
            "SELECT position FROM events WHERE stream_id LIKE ? ORDER BY position",
            (f"blog/{blog}/%",))]
    position = positions[len(positions) // 2]
    client = app.test_client()
    began = time.perf_counter()
    answer = client.get(f"/api/blogs/{blog}/posts?as_of={encode_cursor('c', position)}",
                        headers={"Authorization": f"Bearer {token}"})
    took = (time.perf_counter() - began) * 1000
    assert answer.status_code == 200, answer.get_json()
    app.extensions["liveblog.db"].shutdown()
    return took


def year(args: argparse.Namespace, folder: Path) -> None:
    database = str(folder / "year.db")
    began = time.perf_counter()
    count, largest, largest_events = make_log(database, args.events)
    made = time.perf_counter() - began
    size = os.path.getsize(database) / 2**20
    print(f"log: {count:,} events in {made:.0f} s ({size:,.0f} MB); largest blog "
          f"{largest_events:,} events")
    # the log was appended raw: build the read models once, as `liveblog import` would have,
    # so the rebuild below is an operator's rebuild of a running deployment
    seconds, peak = timed([PYTHON, "-m", "liveblog", "rebuild", "--db", database])
    print(f"first build: {seconds:6.1f} s, peak memory {peak:,.0f} MB (no editor)")
    stop, waits, failures = threading.Event(), [], []
    editor = threading.Thread(target=editor_during,
                              args=(database, largest, stop, waits, failures))
    editor.start()
    try:
        seconds, peak = timed([PYTHON, "-m", "liveblog", "rebuild", "--db", database])
    finally:
        stop.set()
        editor.join()
    print(f"rebuild:  {seconds:6.1f} s  ({count / seconds:,.0f} events/s), peak memory"
          f" {peak:,.0f} MB (goal <= 256)")
    print(f"editor publishing during it: {len(waits)} posts, longest wait"
          f" {max(waits) * 1000:,.0f} ms, median {statistics.median(waits) * 1000:.1f} ms,"
          f" refused {len(failures)}" + (f" ({failures[0]})" if failures else ""))
    first = as_of_first_call(database, largest)
    print(f"as-of, first call, middle of the largest blog: {first:.0f} ms (goal < 100)")
    seconds, peak = timed([PYTHON, "-m", "liveblog", "verify", "--db", database])
    print(f"verify:   {seconds:6.1f} s, peak memory {peak:,.0f} MB")
    exported = str(folder / "year.jsonl")
    seconds, peak = timed([PYTHON, "-m", "liveblog", "export", exported, "--db", database])
    print(f"export:   {seconds:6.1f} s, peak memory {peak:,.0f} MB"
          f" ({os.path.getsize(exported) / 2**20:,.0f} MB of JSON Lines)")
    if args.skip_import:
        return
    seconds, peak = timed([PYTHON, "-m", "liveblog", "import", exported, "--with-tokens",
                           "--db", str(folder / "imported.db")])
    print(f"import:   {seconds:6.1f} s, peak memory {peak:,.0f} MB (every event checked,"
          " projections built)")


def worker_memory(server: Server) -> float:
    """Resident MB of the server's gunicorn workers together."""
    total = 0
    for child in Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text(
            ).split():
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


async def poller(port: int, cursor: str, woken: list[float], ready: list[int]) -> None:
    """One reader waiting on /changes on its own connection; notes when a publish woke it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET /api/blogs/polled/changes?since={cursor}&wait=25 HTTP/1.1\r\n"
                     "Host: bench\r\n\r\n".encode())
        await writer.drain()
        ready.append(1)
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 40)
        woken.append(time.monotonic())
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def publish(port: int, token: str) -> float:
    began = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps({"headline": "Now"}).encode()
    writer.write(f"POST /api/blogs/polled/posts HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
                 f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    await writer.drain()
    status = (await reader.readline()).split()[1]
    writer.close()
    assert status == b"201", status
    return time.monotonic() - began


async def waves(server: Server, token: str, polls: int, rounds: int) -> dict:
    """``rounds`` times: ``polls`` readers wait, an editor publishes, every reader is woken."""
    publishes, wake, answered, per_poll = [], [], 0, []
    for _ in range(rounds):
        cursor = server.request("GET", "/api/blogs/polled").json()["cursor"]
        idle = worker_memory(server)
        woken: list[float] = []
        ready: list[int] = []
        tasks = []
        for start in range(0, polls, 500):  # connect in steps, as an audience arrives
            tasks += [asyncio.create_task(poller(server.port, cursor, woken, ready))
                      for _ in range(min(500, polls - start))]
            await asyncio.sleep(0.05)
        while len(ready) < polls:
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # every poll held by the server now
        per_poll.append((worker_memory(server) - idle) * 1024 / polls)
        sent = time.monotonic()
        publishes.append(await publish(server.port, token))
        await asyncio.gather(*tasks)
        answered += len(woken)
        wake += [t - sent for t in woken]
    return {"publishes": publishes, "wake": wake, "answered": answered,
            "per_poll_kb": statistics.median(per_poll)}


def long_polls(args: argparse.Namespace, folder: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.polls + 1024), hard))
    db = folder / "polls.db"
    token = editor_token(db)
    server = Server(db, extra_args=("--connections", str(max(4000, args.polls + 100))))
    try:
        server.request("POST", "/api/blogs", {"title": "Polled", "slug": "polled"},
                       {"Authorization": f"Bearer {token}"})
        result = asyncio.run(waves(server, token, args.polls, args.rounds))
    finally:
        server.stop()
    wake = sorted(result["wake"])
    p95 = statistics.quantiles(result["publishes"], n=20)[-1] if len(result["publishes"]) > 1 \
        else result["publishes"][0]
    print(f"{args.polls:,} long polls on one `liveblog serve` (2 gevent workers), {args.rounds}"
          f" publishes: publish p95 {p95 * 1000:.0f} ms (goal < 500), polls woken"
          f" {result['answered']:,}/{args.polls * args.rounds:,}, slowest wake"
          f" {wake[-1]:.2f} s, p95 {wake[int(len(wake) * 0.95)]:.2f} s (goal: all within 2 s),"
          f" memory {result['per_poll_kb']:.1f} KB per waiting poll")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--polls", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-log", action="store_true")
    parser.add_argument("--skip-polls", action="store_true")
    parser.add_argument("--skip-import", action="store_true",
                        help="the log is not imported again (the slowest step)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_log:
            year(args, Path(tmp))
        if not args.skip_polls:
            long_polls(args, Path(tmp))


if __name__ == "__main__":
    main()
