"""Benchmark the event store against the eventsourcing library's recorder, in one run.

Prints appends/s (one event per transaction, and batches of 100), read rate, `liveblog rebuild`
of a newsroom's mixed log (as it runs by default, in one process, and with a process a core;
and how long an editor publishing meanwhile waited), the rebuild rate
of a simple projection (a ceiling), the service's write path, verify rate, and peak traced
memory of read/rebuild/verify on a log of N and of N/10 events (flat memory: the two peaks are
close). Both stores run at the same durability:
SQLite synchronous=FULL, or PostgreSQL with synchronous_commit on (its default).

    scripts/bench events                 # 100k events, SQLite
    scripts/bench events --events 1000000
    scripts/bench events --backend postgresql [--postgres postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from events import EventStore, NewEvent, Projection, ProjectionRunner, verify  # noqa: E402
from tests.postgres import SERVER, own_database, with_schema  # noqa: E402

STREAMS = 1000


class StreamCounts(Projection):
    """A simple projection: events and the latest amount per stream."""

    name = "bench_counts"
    tables = ("bench_counts",)
    columns = {"bench_counts": ("stream_id", "events", "amount")}

    def create(self, conn, t):
        conn.execute(f"CREATE TABLE {t['bench_counts']} (stream_id TEXT PRIMARY KEY,"
                     " events INTEGER NOT NULL, amount INTEGER NOT NULL)")

    def handlers(self):
        return {"Added": self._added}

    def touches(self, event):
        yield "bench_counts", event.stream_id

    def _added(self, rows, event):
        row = rows.get("bench_counts", event.stream_id) or {
            "stream_id": event.stream_id, "events": 0, "amount": 0}
        row.update(events=row["events"] + 1, amount=event.data["amount"])
        rows.put("bench_counts", row)


def payload(i):
    return {"amount": i, "headline": f"Update number {i}", "by": "bench"}


def rate(n, seconds):
    return f"{n / seconds:>12,.0f}/s"


# -- ours ------------------------------------------------------------------------------------

def ours_single(path, n):
    store = EventStore.open(path)
    start = time.perf_counter()
    for i in range(n):
        store.append(f"s{i % STREAMS}", [NewEvent("Added", payload(i))])
    elapsed = time.perf_counter() - start
    store.close()
    return elapsed


def ours_batches(path, n, batch=100):
    store = EventStore.open(path)
    versions = {}
    start = time.perf_counter()
    for first in range(0, n, batch):
        stream = f"s{(first // batch) % STREAMS}"
        events = [NewEvent("Added", payload(i)) for i in range(first, min(first + batch, n))]
        store.append(stream, events, expected_version=versions.get(stream, 0))
        versions[stream] = versions.get(stream, 0) + len(events)
    elapsed = time.perf_counter() - start
    store.close()
    return elapsed


def ours_read(path):
    store = EventStore.open(path)
    start = time.perf_counter()
    count = sum(1 for _ in store.read_all())
    elapsed = time.perf_counter() - start
    store.close()
    return count, elapsed


def ours_rebuild(path):
    store = EventStore.open(path)
    runner = ProjectionRunner(store, [StreamCounts()], batch_size=5000)
    runner.start()
    start = time.perf_counter()
    count = runner.rebuild()
    elapsed = time.perf_counter() - start
    store.close()
    return count, elapsed


def ours_verify(path):
    store = EventStore.open(path)
    start = time.perf_counter()
    result = verify(store.conn)
    elapsed = time.perf_counter() - start
    assert result.ok
    store.close()
    return result.events_checked, elapsed


# -- the real rebuild: what `liveblog rebuild` waits for ----------------------------------------

class SteppingClock:
    """The store's clock for making the mixed log: a second a command, from a fixed start."""

    def __init__(self):
        from datetime import UTC, datetime

        self.now = datetime(2024, 11, 5, 18, 0, tzinfo=UTC)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        from datetime import timedelta

        self.now += timedelta(**delta)
        return self.now


def mixed_log(path, n):
    """A newsroom's log of about ``n`` events (tests/workload.py), made through the service."""
    from liveblog.bootstrap import bootstrap
    from tests.workload import mixed_log as make

    clock = SteppingClock()
    database = bootstrap(str(path), synchronous="OFF", clock=clock)

    service = database.service()
    service.runner.start()
    made = make(service, clock, events=n, blogs=10)
    database.close()
    return made


def real_rebuild(database, workers=None):
    """Every projection of the application, rebuilt as `liveblog rebuild` does it (in one
    process), or as `liveblog rebuild --workers N` does (blogs folded side by side). Returns
    the events, the seconds and how many processes folded them."""
    from liveblog.bootstrap import bootstrap

    service = bootstrap(database).service()
    if workers is not None:
        service.runner.workers = workers
    start = time.perf_counter()
    count = service.runner.rebuild()
    elapsed = time.perf_counter() - start
    service.store.close()
    return count, elapsed, max(1, service.runner.last_workers)


def write_floor(database):
    """What any rebuild of this log must do besides reading and folding it: write the read
    models' final rows (executemany of ready tuples) and build their indexes. Seconds."""
    from events import Tables, write_transaction
    from events.backends import relaxed_durability
    from liveblog.bootstrap import bootstrap

    service = bootstrap(database).service()
    conn = service.store.conn
    rows = {}
    for p in service.runner.projections:
        for table in p.tables:
            rows[table] = conn.execute(f"SELECT {', '.join(p.columns[table])} FROM {table}"
                                       ).fetchall()
    scratch = {p.name: Tables(p.tables, 999, live=False) for p in service.runner.projections}
    start = time.perf_counter()
    with relaxed_durability(conn), write_transaction(conn):
        for p in service.runner.projections:
            t = scratch[p.name]
            p.create(conn, t)
            for table in p.tables:
                if rows[table]:
                    marks = ",".join("?" * len(rows[table][0]))
                    conn.executemany(f"INSERT INTO {t[table]} VALUES ({marks})", rows[table])
            p.create_indexes(conn, t)
    elapsed = time.perf_counter() - start
    with write_transaction(conn):
        for p in service.runner.projections:
            for _, physical in scratch[p.name].items():
                conn.execute(f"DROP TABLE {physical}")
    service.store.close()
    return elapsed


def _editor(database, blog, ready, stop, waits):
    """An editor publishing a post every 20 ms through the service, each write's wait noted."""
    from liveblog.bootstrap import bootstrap
    from liveblog.domain import commands as cmd
    from liveblog.service import Actor, new_id

    service = bootstrap(database).service()
    actor = Actor("cli", "editor")
    content = {"headline": "During the rebuild", "body": [{"type": "paragraph", "text": "News."}]}
    ready.set()
    while not stop.is_set():
        began = time.perf_counter()
        service.handle(cmd.CreatePost(blog, new_id(), content), actor)
        waits.append(time.perf_counter() - began)
        time.sleep(0.02)
    service.store.close()


def rebuild_while_writing(database):
    """`liveblog rebuild` while another process publishes: how long the rebuild took, and the
    longest an editor's write waited meanwhile (the swap holds the write lock)."""
    import multiprocessing

    from liveblog.bootstrap import bootstrap

    service = bootstrap(database).service()
    blog = service.store.conn.execute("SELECT id FROM blogs LIMIT 1").fetchone()[0]
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        ready, stop, waits = context.Event(), context.Event(), manager.list()
        editor = context.Process(target=_editor, args=(database, blog, ready, stop, waits))
        editor.start()
        ready.wait(60)
        time.sleep(0.5)
        start = time.perf_counter()
        count = service.runner.rebuild()
        elapsed = time.perf_counter() - start
        time.sleep(0.5)
        stop.set()
        editor.join(60)
        noted = sorted(waits)
    service.store.close()
    return count, elapsed, noted


def per_command(database, n=1000):
    """The service's write path (load, decide, append, project inline), per command: publish,
    edit and pin posts of a blog with history; SQLite without fsync, so it is the work done."""
    import statistics

    from liveblog.bootstrap import bootstrap
    from liveblog.domain import commands as cmd
    from liveblog.service import Actor, new_id

    service = bootstrap(database, synchronous="OFF").service()
    service.runner.start()
    actor = Actor("cli", "bench")
    blog = new_id()
    service.handle(cmd.CreateBlog(blog, "per-command", "Bench"), actor)
    content = {"headline": "Update", "byline": {"contributors": ["Jane Roe"]},
               "body": [{"type": "paragraph", "text": "A paragraph of <em>news</em>. " * 8}]}
    times = []
    for i in range(n + 200):
        began = time.perf_counter()
        post = new_id()
        service.handle(cmd.CreatePost(blog, post, content), actor)
        service.handle(cmd.EditPost(blog, post, changes={"headline": f"Update {i}"}), actor)
        service.handle(cmd.EditPost(blog, post, pinned=True), actor)
        if i >= 200:  # after some history
            times.append((time.perf_counter() - began) / 3)
        if i % 50 == 0:
            service.handle(cmd.UpdateBlog(blog, {"title": f"Bench {i}"}), actor)
    service.store.close()
    return statistics.median(times)


def peak(fn, *args):
    tracemalloc.start()
    fn(*args)
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top


# -- the yardstick -------------------------------------------------------------------------------

class Yardstick:
    """The eventsourcing library's SQLite application recorder, fed the same workload."""

    def __init__(self, folder):
        from eventsourcing.persistence import StoredEvent

        self.folder = folder
        self.stored_event = StoredEvent

    def recorder(self, name):
        from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

        datastore = SQLiteDatastore(str(self.folder / name), originator_id_type="text")
        rec = SQLiteApplicationRecorder(datastore)
        rec.create_table()
        return rec, datastore

    def synchronous(self):
        _, datastore = self.recorder("es_pragma.db")
        with datastore.transaction(commit=False) as curs:
            curs.execute("PRAGMA synchronous")
            return curs.fetchone()[0]

    def stored(self, stream, version, i):
        # the yardstick serialises its payload too, as its transcoder would
        return self.stored_event(stream, version, "bench:Added", json.dumps(payload(i)).encode())

    def single(self, name, n):
        rec, _ = self.recorder(name)
        versions = {}
        start = time.perf_counter()
        for i in range(n):
            stream = f"s{i % STREAMS}"
            versions[stream] = versions.get(stream, 0) + 1
            rec.insert_events([self.stored(stream, versions[stream], i)])
        return time.perf_counter() - start

    def batches(self, name, n):
        rec, _ = self.recorder(name)
        versions = {}
        start = time.perf_counter()
        for first in range(0, n, 100):
            stream = f"s{(first // 100) % STREAMS}"
            events = []
            for i in range(first, min(first + 100, n)):
                versions[stream] = versions.get(stream, 0) + 1
                events.append(self.stored(stream, versions[stream], i))
            rec.insert_events(events)
        return time.perf_counter() - start

    def read(self, name):
        rec, _ = self.recorder(name)
        start = time.perf_counter()
        count, after = 0, None
        while True:
            page = rec.select_notifications(after, 1000, inclusive_of_start=after is None)
            if not page:
                break
            for note in page:
                json.loads(note.state)
            count += len(page)
            after = page[-1].id
        return count, time.perf_counter() - start


class PostgresYardstick(Yardstick):
    """The eventsourcing library's PostgreSQL application recorder (psycopg 3), each run in its
    own schema of the benchmark's database."""

    def __init__(self, url):
        from urllib.parse import urlsplit

        from eventsourcing.persistence import StoredEvent

        self.url = url
        self.parts = urlsplit(url)
        self.stored_event = StoredEvent

    def recorder(self, name):
        from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

        schema = name.replace(".db", "").replace("-", "_")
        with_schema(self.url, schema)
        parts = self.parts
        datastore = PostgresDatastore(parts.path.lstrip("/"), parts.hostname or "127.0.0.1",
                                      parts.port or 5432, parts.username or "postgres",
                                      parts.password or "", schema=schema,
                                      originator_id_type="text")
        rec = PostgresApplicationRecorder(datastore)
        rec.create_table()
        return rec, datastore

    def synchronous(self):
        with psycopg.connect(self.url) as conn:
            return conn.execute("SHOW synchronous_commit").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=3_000,
                        help="appends of one event per transaction (each one is durable)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mixed", type=int, default=100_000,
                        help="events of the newsroom log the real rebuild replays")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres", default=SERVER,
                        help="the PostgreSQL server (a fresh database is made on it and"
                             " dropped after)")
    args = parser.parse_args()
    n = args.events
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        folder = Path(tmp)
        if args.backend == "postgresql":
            server = stack.enter_context(own_database(args.postgres, "liveblog_bench"))
            es = PostgresYardstick(server)

            def where(name):
                return with_schema(server, name.replace(".db", ""))

            with psycopg.connect(server) as conn:
                version = conn.execute("SHOW server_version").fetchone()[0]
            print(f"events: {n:,} in batches of 100, {args.single:,} single appends, "
                  f"{STREAMS} streams; PostgreSQL {version}; synchronous_commit="
                  f"{es.synchronous()}")
        else:
            es = Yardstick(folder)

            def where(name):
                return str(folder / name)

            print(f"events: {n:,} in batches of 100, {args.single:,} single appends, "
                  f"{STREAMS} streams; SQLite {sqlite3.sqlite_version}; synchronous=FULL")
        run(args, n, es, where)


def run(args, n, es, where) -> None:
    # Alternate the two stores, each on fresh storage, and keep each one's best round: the
    # machine is shared and noisy, and whoever runs first warms the disk for the other.
    single, es_single, batches, es_batches = [], [], [], []
    for r in range(args.rounds):
        single.append(ours_single(where(f"ours_single{r}.db"), args.single))
        es_single.append(es.single(f"es_single{r}.db", args.single))
        batches.append(ours_batches(where(f"ours{r}.db"), n))
        es_batches.append(es.batches(f"es_batch{r}.db", n))
    big = where("ours0.db")
    read_n, read_s = min((ours_read(big) for _ in range(args.rounds)), key=lambda x: x[1])
    es_read = min((es.read("es_batch0.db") for _ in range(args.rounds)), key=lambda x: x[1])
    rebuild_n, rebuild_s = ours_rebuild(big)
    verify_n, verify_s = ours_verify(big)
    # the headline: every projection of the application over a newsroom's mixed log
    mixed = where("mixed.db")
    postgres = mixed.startswith("postgresql://")
    if postgres:
        # made on SQLite (quicker), then moved over as `liveblog copy` moves a newsroom's log
        made_at = Path(tempfile.mkdtemp()) / "mixed.db"
        made = mixed_log(made_at, args.mixed)
        subprocess.run([sys.executable, "-m", "liveblog", "copy", "--from", str(made_at),
                        "--to", mixed], check=True, capture_output=True)
    else:
        made = mixed_log(mixed, args.mixed)
    real = min((real_rebuild(mixed) for _ in range(args.rounds)), key=lambda x: x[1])
    cores = len(os.sched_getaffinity(0))
    beside = min((real_rebuild(mixed, workers=cores) for _ in range(args.rounds)),
                 key=lambda x: x[1])
    floor = min(write_floor(mixed) for _ in range(args.rounds))
    _, busy_s, waits = rebuild_while_writing(mixed)
    sealed_n, sealed_s = min((ours_verify(mixed) for _ in range(args.rounds)),
                             key=lambda x: x[1])
    command = per_command(where("per_command.db"))
    small = where("ours_small.db")
    ours_batches(small, n // 10)

    print(f"{'':34}{'liveblog events':>16}{'eventsourcing':>16}{'ratio':>8}")
    rows = [
        ("append, 1 event/transaction", args.single / min(single),
         args.single / min(es_single)),
        ("append, batches of 100", n / min(batches), n / min(es_batches)),
        ("read all (parsed)", read_n / read_s, es_read[0] / es_read[1]),
    ]
    for label, ours, theirs in rows:
        print(f"{label:34}{ours:>14,.0f}/s{theirs:>14,.0f}/s{ours / theirs:>7.2f}x")
    print(f"{'liveblog rebuild, all projections':34}{real[0] / real[1]:>14,.0f}/s"
          f"   {made:,}-event mixed newsroom log, {real[1]:.2f} s (target >= 20,000/s;"
          f" {real[0] / real[1] / (rebuild_n / rebuild_s):.3f} of the toy ceiling below)")
    print(f"{f'  blogs side by side (--workers {cores})':34}{beside[0] / beside[1]:>14,.0f}/s"
          f"   {beside[1]:.2f} s, {beside[2]} processes")
    print(f"{'  its rows and indexes written alone':34}{real[0] / floor:>14,.0f}/s"
          f"   {floor:.2f} s: the ceiling of any rebuild that writes these read models")
    print(f"{'  while an editor publishes':34}{len(waits):>12} posts  longest write wait"
          f" {waits[-1] * 1e3:,.0f} ms, median {waits[len(waits) // 2] * 1e3:,.1f} ms"
          f" (that rebuild: {busy_s:.2f} s)")
    print(f"{'rebuild (toy projection: ceiling)':34}{rebuild_n / rebuild_s:>14,.0f}/s")
    print(f"{'service write path, per command':34}{command * 1e6:>12,.0f} us   median of"
          " publish/edit/pin on a blog with history"
          f" ({'PostgreSQL: each commit durable' if postgres else 'SQLite: no fsync'})")
    print(f"{'verify (hash chain)':34}{verify_n / verify_s:>14,.0f}/s")
    print(f"{'  the mixed newsroom log':34}{sealed_n / sealed_s:>14,.0f}/s   its posts' payloads"
          " sealed: each opened with its stream's key to check its hash")
    print(f"eventsourcing's durability: {es.synchronous()} (SQLite: 2 = FULL);"
          f" best of {args.rounds} alternating rounds")
    print(f"peak traced memory, log of {n // 10:,} vs {n:,} events:")
    for label, fn in (("read all", ours_read), ("rebuild", ours_rebuild),
                      ("verify", ours_verify)):
        a, b = peak(fn, small), peak(fn, big)
        print(f"  {label:12}{a / 1e6:>8.2f} MB{b / 1e6:>8.2f} MB   ratio {b / a:.2f}")


if __name__ == "__main__":
    main()
