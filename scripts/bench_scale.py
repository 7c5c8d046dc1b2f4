"""A year of news on one node. On a generated newsroom log of two million events (a blog a day,
each a day's running story of posts, edits, pins, key events, corrections and deletions):
`liveblog rebuild` time and peak memory (its processes', summed), the longest wait of an editor
publishing during it, as-of's first call on the largest blog, verify, export and import. Then
the spike on one `liveblog serve` run with no flags: 10,000 long polls that come back when
they are answered or time out, 100 slow clients, an editor publishing to another blog every
0.5 s with readers loading the page and a health check beside; publish and reader p95, /healthz,
how many polls each publish to the story wakes within 2 s, and memory per waiting poll.

    scripts/bench scale [--events 2000000] [--polls 10000] [--skip-log | --skip-polls]
                        [--skip-import] [--seconds 40] [--slow 100] [--folder DIR]
                        [--rebuild-workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import long_poller, request, slow_client  # noqa: E402

from tests.e2e.server import Server, children, editor_token  # noqa: E402

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
    high-water mark of each process's own memory (VmHWM, read while it runs; rusage's
    ru_maxrss would count this benchmark's memory, which the child had before exec), summed
    over the command and the processes it starts (a rebuild's workers): a bound above what
    they held at any one moment."""
    began = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks: dict[int, int] = {}
    while proc.poll() is None:
        for pid in _tree(proc.pid):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))
            except OSError:
                pass  # (ended meanwhile)
        time.sleep(0.1)
    elapsed = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {proc.stderr.read().decode()[-6000:]}")
    return elapsed, sum(peaks.values()) / 1024


def _tree(pid: int) -> list[int]:
    """``pid`` and every process it started, and they started, that still runs."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        with contextlib.suppress(OSError):  # (ended meanwhile)
            pending += children(current)
    return found


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
        from liveblog.bootstrap import get_liveblog

        _, token = create_token(get_liveblog().service(), "auditor", "bench", Actor("cli", "bench"))
        positions = [p for (p,) in get_liveblog().store().conn.execute(
            "SELECT position FROM events WHERE stream_id LIKE ? ORDER BY position",
            (f"blog/{blog}/%",))]
    position = positions[len(positions) // 2]
    client = app.test_client()
    began = time.perf_counter()
    answer = client.get(f"/api/blogs/{blog}/posts?as_of={encode_cursor('c', position)}",
                        headers={"Authorization": f"Bearer {token}"})
    took = (time.perf_counter() - began) * 1000
    assert answer.status_code == 200, answer.get_json()
    app.extensions["liveblog"].shutdown()
    return took


def year(args: argparse.Namespace, folder: Path) -> None:
    database = str(folder / "year.db")
    kept = folder / f"year-log-{args.events}.db"
    for suffix in ("", "-wal", "-shm", "-writers"):  # (a run before this one's)
        with contextlib.suppress(FileNotFoundError):
            os.remove(database + suffix)
    if args.folder is not None and kept.exists():  # the log a run with --folder made
        shutil.copyfile(kept, database)
        count, largest, largest_events = _made(database)
        print(f"log: {count:,} events, made before ({kept})")
    else:
        began = time.perf_counter()
        count, largest, largest_events = make_log(database, args.events)
        made = time.perf_counter() - began
        print(f"log: {count:,} events in {made:.0f} s")
        if args.folder is not None:
            shutil.copyfile(database, kept)
    size = os.path.getsize(database) / 2**20
    print(f"log: {size:,.0f} MB; largest blog {largest_events:,} events")
    # the log was appended raw: build the read models once, as `liveblog import` would have,
    # so the rebuild below is an operator's rebuild of a running deployment
    workers = ([] if args.rebuild_workers is None
               else ["--workers", str(args.rebuild_workers)])
    seconds, peak = timed([PYTHON, "-m", "liveblog", "rebuild", "--db", database, *workers])
    print(f"first build: {seconds:6.1f} s, peak memory {peak:,.0f} MB (no editor)")
    stop, waits, failures = threading.Event(), [], []
    editor = threading.Thread(target=editor_during,
                              args=(database, largest, stop, waits, failures))
    editor.start()
    try:
        seconds, peak = timed([PYTHON, "-m", "liveblog", "rebuild", "--db", database, *workers])
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


def _made(database: str) -> tuple[int, str, int]:
    """What :func:`make_log` returned for this log: its events, its largest blog and its."""
    with contextlib.closing(sqlite3.connect(database)) as conn:
        count = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        blogs: dict[str, int] = {}
        for stream, events in conn.execute("SELECT stream_id, count(*) FROM events"
                                           " GROUP BY stream_id"):
            blog = stream.split("/")[1]
            blogs[blog] = blogs.get(blog, 0) + events
    largest = max(blogs, key=lambda blog: blogs[blog])
    return count, largest, blogs[largest]


def worker_memory(server: Server) -> float:
    """Resident MB of the server's gunicorn workers together."""
    total = 0
    for child in children(server.proc.pid):
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def pollers(port: int, cursor: str, count: int, ramp: float, seconds: float,
            results: Any) -> None:
    """``count`` pollers in this process (the audience's share), arriving over ``ramp``
    seconds; puts their answers and tallies on ``results`` when ``seconds`` have passed."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (count + 1024, count + 1024))

    async def run() -> tuple[list[tuple[float, int]], dict[str, int]]:
        stop = time.monotonic() + seconds
        answers: list[tuple[float, int]] = []
        tallies = {"timed out": 0, "turned away": 0, "errors": 0}
        tasks = []
        for start in range(0, count, 100):  # the audience arrives over the ramp
            tasks += [asyncio.create_task(long_poller(port, "story", cursor, stop, answers,
                                                      tallies))
                      for _ in range(min(100, count - start))]
            await asyncio.sleep(ramp * 100 / count)
        await asyncio.gather(*tasks)
        return answers, tallies

    results.put(asyncio.run(run()))


async def _request(port: int, method: str, path: str, headers: dict[str, str] | None = None,
                   body: bytes = b"", timeout: float = 30.0) -> tuple[int, float]:
    """One request on a new connection: (status, seconds); status 0 when it failed."""
    status, took, _ = await request(port, method, path, headers, body, timeout)
    return status, took


async def newsroom(port: int, token: str, seconds: float, story_every: float,
                   slow: int) -> dict[str, Any]:
    """The newsroom's side for ``seconds``: an editor publishing to another blog every 0.5 s,
    three readers' page loads and a health check each time, ``slow`` slow clients, and every
    ``story_every`` seconds a publish to the story the audience waits on (its send time
    noted)."""
    stop = time.monotonic() + seconds
    slow_tasks = [asyncio.create_task(slow_client(port, stop, [])) for _ in range(slow)]
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    post = json.dumps({"headline": "Elsewhere"}).encode()
    publishes, reads, health, stories = [], [], [], []
    next_story = time.monotonic() + story_every
    while time.monotonic() < stop:
        began = time.monotonic()
        if began >= next_story:
            stories.append(time.monotonic())
            status, _ = await _request(port, "POST", "/api/blogs/story/posts", auth,
                                       json.dumps({"headline": "Breaking"}).encode())
            assert status == 201, status
            next_story += story_every
        status, took = await _request(port, "POST", "/api/blogs/desk/posts", auth, post)
        publishes.append(took if status == 201 else float("inf"))
        for _ in range(3):
            status, took = await _request(port, "GET", "/api/blogs/story/posts")
            reads.append(took if status == 200 else float("inf"))
        status, took = await _request(port, "GET", "/healthz", timeout=10)
        health.append(status == 200)
        await asyncio.sleep(max(0.0, 0.5 - (time.monotonic() - began)))
    for task in slow_tasks:
        task.cancel()
    await asyncio.gather(*slow_tasks, return_exceptions=True)
    return {"publishes": publishes, "reads": reads, "health": health, "stories": stories}


def long_polls(args: argparse.Namespace, folder: Path) -> None:
    """The spike on one default `liveblog serve` (no flags): ``args.polls`` long polls that come
    back when they end, ``args.slow`` slow clients, an editor publishing elsewhere every 0.5 s,
    and a publish to the story every ``args.story_every`` seconds, which must wake them all."""
    import multiprocessing

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    db = folder / "polls.db"
    token = editor_token(db)
    server = Server(db, workers=None)  # `liveblog serve` with no flags
    try:
        auth = {"Authorization": f"Bearer {token}"}
        story = server.request("POST", "/api/blogs", {"title": "Story", "slug": "story"},
                               auth).json()
        server.request("POST", "/api/blogs", {"title": "Desk", "slug": "desk"}, auth)
        idle = worker_memory(server)
        ramp, settle = 5.0, 4.0
        seconds = ramp + settle + args.seconds
        results: Any = multiprocessing.get_context("fork").Queue()
        share = [args.polls // args.processes + (i < args.polls % args.processes)
                 for i in range(args.processes)]
        procs = [multiprocessing.get_context("fork").Process(
            target=pollers, args=(server.port, story["cursor"], n, ramp, seconds, results))
            for n in share]
        for proc in procs:
            proc.start()
        time.sleep(ramp + settle)
        held = worker_memory(server)
        side = asyncio.run(newsroom(server.port, token, args.seconds, args.story_every,
                                    args.slow))
        gathered = [results.get(timeout=120) for _ in procs]
        for proc in procs:
            proc.join()
        metrics = server.request("GET", "/metrics").body.decode()
    finally:
        server.stop()
    answers = sorted(t for part, _ in gathered for t, _ in part)
    tallies = {k: sum(t[k] for _, t in gathered) for k in gathered[0][1]}
    woken = []
    for sent in side["stories"]:
        within = [t - sent for t in answers if sent <= t <= sent + 10]
        woken.append((sum(1 for w in within if w <= 2.0), max(within, default=float("nan"))))
    print(f"{args.polls:,} long polls (wait=25, polling again when answered or timed out) on one"
          f" `liveblog serve` with no flags, {args.slow} slow clients, an editor publishing to"
          f" another blog every 0.5 s for {args.seconds:.0f} s; load from {args.processes + 1}"
          " processes on this machine")
    print(f"publish p95 {_p95(side['publishes']):.0f} ms (goal < 500; slowest"
          f" {max(side['publishes']) * 1000:.0f}), reader page p95 {_p95(side['reads']):.0f} ms"
          f" (goal < 250; slowest {max(side['reads']) * 1000:.0f}), /healthz"
          f" {sum(side['health'])}/{len(side['health'])} ok (goal: all)")
    for i, (count, slowest) in enumerate(woken, 1):
        print(f"publish to the story {i}: {count:,}/{args.polls:,} polls woken within 2 s"
              f" (goal: all), the last after {slowest:.2f} s")
    print(f"polls that timed out and came back: {tallies['timed out']:,}; turned away"
          f" (Retry-After): {tallies['turned away']:,}; errors: {tallies['errors']:,};"
          f" memory {(held - idle) * 1024 / args.polls:.1f} KB per waiting poll")
    peak = [line for line in metrics.splitlines()
            if line.startswith("liveblog_long_polls_waiting")]
    print(f"waiting at the end ({peak[0].split()[-1] if peak else '?'} by /metrics)")


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] * 1000 if len(values) > 1 else values[0] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--polls", type=int, default=10_000)
    parser.add_argument("--slow", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=40,
                        help="how long the newsroom publishes while the audience waits")
    parser.add_argument("--story-every", type=float, default=12,
                        help="seconds between publishes to the story the polls wait on")
    parser.add_argument("--processes", type=int, default=2,
                        help="processes the audience's polls come from")
    parser.add_argument("--skip-log", action="store_true")
    parser.add_argument("--skip-polls", action="store_true")
    parser.add_argument("--skip-import", action="store_true",
                        help="the log is not imported again (the slowest step)")
    parser.add_argument("--rebuild-workers", type=int, default=None,
                        help="rebuild with `liveblog rebuild --workers N` (default: as it is"
                             " run with no flag)")
    parser.add_argument("--folder", type=Path,
                        help="work there and keep the files: the year's log is made once and"
                             " copied by each run (to compare one log before and after)")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        tmp = (args.folder if args.folder is not None
               else Path(stack.enter_context(tempfile.TemporaryDirectory())))
        tmp.mkdir(parents=True, exist_ok=True)
        if not args.skip_log:
            year(args, tmp)
        if not args.skip_polls:
            long_polls(args, tmp)


if __name__ == "__main__":
    main()
