"""The store contract: append, read, concurrency, idempotency, immutability."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from events import (
    ConcurrencyError,
    EmptyAppendError,
    EventStore,
    IdempotencyConflictError,
    NewEvent,
    database_errors,
    is_postgres,
    verify,
    write_transaction,
)
from events.backends import connect
from events.backends.sqlite import GATE, GIVE_WAY_MAX


def added(amount=1, **meta):
    return NewEvent("Added", {"amount": amount}, meta)


def test_append_assigns_positions_and_versions(store):
    first = store.append("a", [added(1), added(2)], expected_version=0)
    second = store.append("b", [added(3)], expected_version=0)
    third = store.append("a", [added(4)], expected_version=2)
    assert [(e.position, e.stream_id, e.version) for e in first + second + third] == [
        (1, "a", 1), (2, "a", 2), (3, "b", 1), (4, "a", 3)]
    assert store.head().position == 4
    assert store.stream_version("a") == 3
    assert store.stream_version("missing") == 0


def test_append_records_time_from_clock_with_microseconds(store, clock):
    clock.advance(microseconds=123)
    [event] = store.append("a", [added()])
    assert event.recorded_at == clock.now
    stored = store.conn.execute("SELECT recorded_at FROM events").fetchone()[0]
    assert stored == "2022-01-21T13:31:00.000123Z"


def test_append_with_stale_version_raises_concurrency_error(store):
    store.append("a", [added()], expected_version=0)
    with pytest.raises(ConcurrencyError) as info:
        store.append("a", [added(), added()], expected_version=0)
    assert info.value.actual == 1 and info.value.expected == 0
    assert store.head().position == 1


def test_append_with_future_version_raises_concurrency_error(store):
    with pytest.raises(ConcurrencyError):
        store.append("a", [added()], expected_version=3)
    assert store.is_empty()


def test_append_of_nothing_raises(store):
    with pytest.raises(EmptyAppendError):
        store.append("a", [])


def test_append_of_unserialisable_data_writes_nothing(store):
    with pytest.raises(TypeError):
        store.append("a", [added(), NewEvent("Added", {"amount": object()})])
    with pytest.raises(ValueError):
        store.append("a", [NewEvent("Added", {"amount": float("nan")})])
    assert store.is_empty()


def test_read_stream_and_read_all_filters(store):
    store.append("blog/1/post/a", [added(1)])
    store.append("blog/2/post/b", [NewEvent("Noted", {})])
    store.append("blog/1/post/c", [added(2), added(3)])
    assert [e.version for e in store.read_stream("blog/1/post/c")] == [1, 2]
    assert [e.version for e in store.read_stream("blog/1/post/c", 2)] == [2]
    assert [e.version for e in store.read_stream("blog/1/post/c", 1, 1)] == [1]
    assert [e.position for e in store.read_all(stream_prefix="blog/1/")] == [1, 3, 4]
    assert [e.position for e in store.read_all(types=["Noted"])] == [2]
    assert [e.position for e in store.read_all(1, 2)] == [2, 3]
    assert [e.position for e in store.read_all(until=2)] == [1, 2]


def test_read_all_pages_through_long_logs(store):
    store.append("a", [added(i) for i in range(2500)])
    positions = [e.position for e in store.read_all(page_size=700)]
    assert positions == list(range(1, 2501))
    assert [e.version for e in store.read_stream("a")][-1] == 2500


def test_idempotent_retry_returns_first_events_and_appends_nothing(store):
    first = store.append("a", [added(1), added(2)], idempotency_key="k1", fingerprint="f")
    again = store.append("a", [added(1), added(2)], idempotency_key="k1", fingerprint="f")
    assert [e.position for e in again] == [e.position for e in first] == [1, 2]
    assert store.head().position == 2
    assert again[0].metadata["idempotency_key"] == "k1"


def test_idempotency_key_with_other_fingerprint_raises(store):
    store.append("a", [added(1)], idempotency_key="k1", fingerprint="f")
    with pytest.raises(IdempotencyConflictError):
        store.append("a", [added(9)], idempotency_key="k1", fingerprint="other")
    assert store.head().position == 1


#: a fresh process: what database_errors() names before and after it opens the store
_ERRORS_BEFORE_AND_AFTER = """
import sys
from events import EventStore, database_errors
names = lambda: sorted(f"{c.__module__}.{c.__name__}" for c in database_errors())
before = names()
EventStore.open(sys.argv[1]).close()
print(before, names())
"""


def test_database_errors_name_psycopgs_once_a_postgresql_store_is_opened(database):
    """A process on SQLite never loads psycopg, and none of its errors can arise there; one
    that opens a PostgreSQL store catches them with the same ``except database_errors()``."""
    done = subprocess.run([sys.executable, "-c", _ERRORS_BEFORE_AND_AFTER, database],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    after = ["psycopg.Error", "sqlite3.Error"] if is_postgres(database) else ["sqlite3.Error"]
    assert done.stdout.strip() == f"{['sqlite3.Error']} {after}"


def test_update_and_delete_of_events_are_refused(store):
    store.append("a", [added()])
    with pytest.raises(database_errors(), match="immutable"):
        store.conn.execute("UPDATE events SET data = '{}'")
    with pytest.raises(database_errors(), match="immutable"):
        store.conn.execute("DELETE FROM events")
    if store.conn.dialect == "postgresql":
        with pytest.raises(database_errors(), match="immutable"):
            store.conn.execute("TRUNCATE events")
    else:
        other = sqlite3.connect(store.conn.execute("PRAGMA database_list").fetchone()[2])
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            other.execute("DELETE FROM events WHERE position = 1")
        other.close()
    assert verify(store.conn).ok


def test_then_hook_runs_in_the_append_transaction(store):
    def boom(conn, events):
        raise RuntimeError("projection failed")

    with pytest.raises(RuntimeError):
        store.append("a", [added()], then=boom)
    assert store.is_empty()


def test_threads_appending_to_one_stream_never_duplicate_a_version(db_path, clock):
    EventStore.open(db_path).close()
    acknowledged = []
    lock = threading.Lock()

    def writer():
        s = EventStore.open(db_path)
        for _ in range(40):
            while True:
                try:
                    version = s.stream_version("shared")
                    [e] = s.append("shared", [added()], expected_version=version)
                    break
                except ConcurrencyError:
                    continue
            with lock:
                acknowledged.append(e.position)
        s.close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s = EventStore.open(db_path)
    assert sorted(acknowledged) == list(range(1, 161))
    assert [e.version for e in s.read_stream("shared")] == list(range(1, 161))
    assert verify(s.conn).ok
    s.close()


def test_open_is_idempotent_and_sets_pragmas(db_path):
    EventStore.open(db_path).close()
    s = EventStore.open(db_path, synchronous="normal")
    assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s.conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    assert s.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    s.close()
    with pytest.raises(ValueError):
        EventStore.open(db_path, synchronous="sometimes")


def test_a_writer_waiting_goes_before_background_work_takes_the_lock_again(database):
    """Background work (a rebuild's many short transactions, ``yielding``) lets a writer that
    waits for the lock in first: at most the transaction that was starting as it came goes
    before it (SQLite's own waiting would retry up to 100 ms apart and miss every gap)."""
    EventStore.open(database).close()
    background, writer = connect(database, check_same_thread=False), connect(database)
    started: list[float] = []
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            with write_transaction(background, yielding=True):
                started.append(time.monotonic())
                background.execute("SELECT 1").fetchone()
                time.sleep(0.05)  # a chunk of rows written under the lock

    thread = threading.Thread(target=work)
    thread.start()
    try:
        time.sleep(0.3)
        waiting = time.monotonic()
        with write_transaction(writer):
            got = time.monotonic()
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
        background.close()
        writer.close()
    assert len([t for t in started if t < waiting]) >= 3  # the work was going on
    assert len([t for t in started if waiting < t < got]) <= 1
    assert any(t > got for t in started)  # and went on after


def test_background_work_takes_the_lock_once_another_lets_it_go_or_gives_up_in_time(db_path):
    """Background work that finds the lock held (another rebuild worker's transaction) tries
    it again every YIELDING_PAUSE, not through SQLite's busy handler: it gets it once the
    holder commits, gives up after the connection's busy timeout, and leaves that timeout as
    it was either way."""
    EventStore.open(str(db_path)).close()
    holder = connect(str(db_path), check_same_thread=False)
    waiting = connect(str(db_path), busy_timeout_ms=400)
    try:
        holder.execute("BEGIN IMMEDIATE")
        letting_go = threading.Timer(0.15, lambda: holder.execute("COMMIT"))
        letting_go.start()
        with write_transaction(waiting, yielding=True):
            assert not holder.in_transaction  # (it got the lock after the holder's commit)
        letting_go.join()
        assert waiting.execute("PRAGMA busy_timeout").fetchone()[0] == 400
        holder.execute("BEGIN IMMEDIATE")
        began = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            with write_transaction(waiting, yielding=True):
                pass
        assert 0.35 <= time.monotonic() - began < 5
        assert waiting.execute("PRAGMA busy_timeout").fetchone()[0] == 400
        assert not waiting.in_transaction
    finally:
        holder.close()
        waiting.close()


def test_background_work_waits_for_writers_only_so_long(db_path):
    """A writer that holds its place for ever (a process stopped while waiting) delays
    background work by GIVE_WAY_MAX, not for ever."""
    EventStore.open(str(db_path)).close()
    conn = connect(str(db_path))
    stuck = os.open(str(db_path) + GATE, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(stuck, fcntl.LOCK_SH)
        began = time.monotonic()
        with write_transaction(conn, yielding=True):
            took = time.monotonic() - began
        with write_transaction(conn):  # a writer does not wait for writers
            pass
    finally:
        os.close(stuck)
        conn.close()
    assert took >= GIVE_WAY_MAX * 0.9
