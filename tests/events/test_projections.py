"""The projection runner: inline, catch-up, rebuild, version bump, as-of; and their equivalence."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import (
    EventStore,
    NewEvent,
    ProjectionRunner,
    export_jsonl,
    import_jsonl,
    projections,
    verify,
)
from events.backends import (
    connect,
    drop_table_unzeroed,
    relaxed_durability,
    remove_files,
    write_transaction,
)

from .counting import Counting, snapshot


def added(amount):
    return NewEvent("Added", {"amount": amount})


def test_inline_projection_sees_the_write_in_the_same_transaction(store):
    runner = ProjectionRunner(store, [Counting()])
    runner.start()
    store.append("a", [added(2), added(3)], then=runner.apply_inline)
    assert snapshot(store.conn)[0] == [("a", 2, 2, 5)]
    assert runner.position("counting") == 2


def test_catch_up_applies_what_another_writer_appended(db_path, clock):
    reader = EventStore.open(db_path, clock=clock)
    runner = ProjectionRunner(reader, [Counting()], batch_size=3)
    runner.start()
    writer = EventStore.open(db_path, clock=clock)  # knows nothing of the projection
    for i in range(10):
        writer.append(f"s{i % 2}", [added(i)])
    assert runner.catch_up() == 10
    assert runner.catch_up() == 0
    assert snapshot(reader.conn)[0] == [("s0", 5, 5, 20), ("s1", 5, 5, 25)]


def test_inline_catches_up_a_gap_first(db_path, clock):
    a = EventStore.open(db_path, clock=clock)
    runner = ProjectionRunner(a, [Counting()])
    runner.start()
    b = EventStore.open(db_path, clock=clock)
    b.append("x", [added(1)])  # no projection applied
    a.append("x", [added(2)], then=runner.apply_inline)
    assert snapshot(a.conn)[0] == [("x", 2, 2, 3)]


def _tables(conn):
    catalog = ("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
               if conn.dialect == "postgresql"
               else "SELECT name FROM sqlite_master WHERE type = 'table'")
    return {r[0] for r in conn.execute(catalog)}


def test_rebuild_swaps_in_fresh_tables_and_keeps_reporting_progress(store):
    runner = ProjectionRunner(store, [Counting()], batch_size=4)
    runner.start()
    for i in range(10):
        store.append(f"s{i % 3}", [added(i)], then=runner.apply_inline)
    before = snapshot(store.conn)
    seen = []
    assert runner.rebuild(progress=lambda done, total: seen.append((done, total))) == 10
    assert snapshot(store.conn) == before
    assert seen[-1] == (10, 10) and len(seen) >= 3
    # a second rebuild works too (index names of generations never clash)
    runner.rebuild()
    assert snapshot(store.conn) == before
    assert not any("__" in name for name in _tables(store.conn))  # nothing fresh or retired


def _logged_under_a_small_bound(store, monkeypatch, bound: str, value: int):
    """A runner over 80 events of 17 streams, with a small memory bound and 3 rows written a
    transaction; returns it and the tables as they stand."""
    monkeypatch.setattr(projections, "_WRITE_CHUNK", 3)
    monkeypatch.setattr(projections.Rows, bound, value)
    runner = ProjectionRunner(store, [Counting()], batch_size=4)
    runner.start()
    for i in range(40):
        store.append(f"s{i % 17}", [added(i), NewEvent("Removed", {"amount": 1})],
                     then=runner.apply_inline)
    return runner, snapshot(store.conn)


def test_a_rebuild_is_bounded_in_bytes_too(store, monkeypatch):
    # rows small in number but over a small byte bound: let go of, written, the same tables
    runner, before = _logged_under_a_small_bound(store, monkeypatch, "max_bytes", 4_000)
    assert runner.rebuild() == 80
    assert snapshot(store.conn) == before
    # and what counts is bytes: a few rows of long text are over the bound, as many short not
    rows = projections.Rows(Counting(), store.conn, projections.Tables(Counting.tables, 0,
                                                                       live=True))
    table, key = Counting.tables[0], Counting.columns[Counting.tables[0]][0]
    for i in range(5):
        rows.put(table, {column: i if column == key else "x" for column in
                         Counting.columns[table]})
    assert not rows.over()
    for i in range(5):
        rows.put(table, {column: i if column == key else "x" * 2_000 for column in
                         Counting.columns[table]})
    assert rows.over() and len(rows) == 5


def test_a_rebuild_holding_more_rows_than_it_keeps_writes_them_in_short_transactions(
        store, monkeypatch):
    # a few rows a transaction and a small memory bound: the same tables come out
    runner, before = _logged_under_a_small_bound(store, monkeypatch, "max_rows", 5)
    statements: list[str] = []
    sqlite = store.conn.dialect == "sqlite"
    if sqlite:
        store.conn.set_trace_callback(statements.append)
    assert runner.rebuild() == 80
    assert snapshot(store.conn) == before
    assert not any("__" in name for name in _tables(store.conn))  # nothing fresh or retired left
    if sqlite:
        store.conn.set_trace_callback(None)
        # 17 + 3 rows held past the bound of 5, written 3 a transaction (more than one each)
        assert statements.count("COMMIT") >= 20 / 3


def test_a_table_a_stopped_rebuild_set_aside_is_dropped_by_the_next(store):
    # a rebuild stopped between its swap and the drop leaves the old table set aside
    runner = ProjectionRunner(store, [Counting()])
    runner.start()
    store.append("a", [added(1)], then=runner.apply_inline)
    store.conn.execute("CREATE TABLE stream_counts__retired (stream_id TEXT PRIMARY KEY)")
    runner.rebuild()
    assert not any("__" in name for name in _tables(store.conn))
    assert snapshot(store.conn)[0] == [("a", 1, 1, 1)]


@pytest.mark.parametrize("at_once", [1000, 100])
def test_a_retired_table_is_dropped_from_pages_read_before_each_lock(tmp_path, at_once):
    """SQLite: each index, then the table (whole, or after rows deleted a step a transaction),
    each in a transaction of its own, and every page of what a DROP frees read just before,
    outside it (a drop under the lock then walks pages in memory, not on the disk)."""
    conn = connect(str(tmp_path / "drop.db"))
    conn.execute("CREATE TABLE old (id TEXT PRIMARY KEY, blog TEXT, body TEXT, until INTEGER)")
    conn.execute("CREATE INDEX old_blog ON old (blog, id)")
    conn.execute("CREATE UNIQUE INDEX old_open ON old (id) WHERE until IS NULL")
    conn.executemany("INSERT INTO old VALUES (?, ?, ?, ?)",
                     [(f"p{i}", f"b{i % 7}", "words " * 900, None if i % 2 else i)
                      for i in range(300)])
    seen: list[tuple[str, bool]] = []
    conn.set_trace_callback(lambda sql: seen.append((sql, conn.in_transaction)))
    drop_table_unzeroed(conn, "old", step=150, at_once=at_once, warm_from=300)
    conn.set_trace_callback(None)
    assert not conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'old'").fetchall()
    statements = [sql for sql, _ in seen]
    drops = [i for i, sql in enumerate(statements) if sql.startswith("DROP ")]
    assert [statements[i].split('"')[1] for i in drops] == ["old_blog", "old_open", "old"]
    reads = [(sql, inside) for sql, inside in seen if sql.startswith("SELECT count(")
             or sql.startswith("SELECT sum(")]
    assert reads and not any(inside for _, inside in reads)  # no read under the lock
    for i in drops:  # each drop in a lock of its own, its pages read just before it
        began = max(j for j in range(i) if statements[j] == "BEGIN IMMEDIATE")
        since = max([j for j in range(began) if statements[j] == "COMMIT"], default=0)
        what = statements[i].split('"')[1]
        read = (f'INDEXED BY "{what}"' if what != "old" else 'SELECT sum(')
        assert any(read in sql for sql in statements[since:began]), (what, statements[since:i])
    deleted = [sql for sql in statements if sql.startswith("DELETE FROM")]
    assert len(deleted) == (0 if at_once == 1000 else 2)  # 300 rows, 150 a step, down to < 100
    assert statements.count("BEGIN IMMEDIATE") == 3 + len(deleted)
    conn.close()


def test_a_small_retired_table_is_dropped_without_reading_it_first(tmp_path):
    conn = connect(str(tmp_path / "drop.db"))
    conn.execute("CREATE TABLE old (id TEXT PRIMARY KEY, blog TEXT)")
    conn.execute("CREATE INDEX old_blog ON old (blog, id)")
    conn.executemany("INSERT INTO old VALUES (?, ?)", [(f"p{i}", "b") for i in range(299)])
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    drop_table_unzeroed(conn, "old", warm_from=300)
    conn.set_trace_callback(None)
    assert [sql for sql in seen if sql.startswith("DROP ")] == ['DROP INDEX IF EXISTS "old_blog"',
                                                                'DROP TABLE "old"']
    assert not [sql for sql in seen if sql.startswith(("SELECT count(", "SELECT sum("))]
    conn.close()


def test_relaxed_writes_leave_the_log_to_a_thread_that_copies_it_into_the_file(tmp_path):
    """SQLite: inside relaxed_durability the connection never copies the write-ahead log
    itself (its autocheckpoint is off, as it was before after the block); a thread copies it
    into the file, here 3 MB of commits that the connection's own limit (4 MB) never
    reaches."""
    path = tmp_path / "relaxed.db"
    conn = connect(str(path))
    conn.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, body TEXT)")
    before = path.stat().st_size
    with relaxed_durability(conn):
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        for start in range(0, 3000, 100):
            with write_transaction(conn):
                conn.executemany("INSERT INTO big VALUES (?, ?)",
                                 [(i, "x" * 1000) for i in range(start, start + 100)])
        for _ in range(200):  # copied within a few tenths of a second
            if path.stat().st_size > before + 2_000_000:
                break
            threading.Event().wait(0.02)
        assert path.stat().st_size > before + 2_000_000
    assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    assert not any(t.name == "events-checkpoints" for t in threading.enumerate())


def test_under_gevent_relaxed_writes_copy_the_log_themselves(tmp_path):
    """In a process whose threads are greenlets (a server's), the copying thread would never
    run while a rebuild works: the connection keeps copying the log itself."""
    script = (
        "from gevent import monkey; monkey.patch_all()\n"
        "import sys, threading\n"
        "from events.backends import connect, relaxed_durability\n"
        "conn = connect(sys.argv[1])\n"
        "with relaxed_durability(conn):\n"
        "    limit = conn.execute('PRAGMA wal_autocheckpoint').fetchone()[0]\n"
        "    names = [t.name for t in threading.enumerate()]\n"
        "print(limit, 'events-checkpoints' in names)\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "green.db")],
                          capture_output=True, text=True, timeout=60, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.split() == ["1000", "False"]


def test_a_rebuild_folds_without_the_write_lock(database, clock):
    """While a rebuild folds events, another writer appends at once (only the rebuild's short
    writes and its swap take the lock); what it appended is in the swapped-in tables."""
    store = EventStore.open(database, clock=clock)
    runner = ProjectionRunner(store, [Counting()], batch_size=4)
    runner.start()
    for i in range(12):
        store.append("a", [added(i)], then=runner.apply_inline)
    appended = []

    def append_elsewhere():
        other = EventStore.open(database, clock=clock)
        try:
            appended.extend(other.append("b", [added(100)]))
        finally:
            other.close()

    class Appending(Counting):
        def _counted(self, rows, event):
            if event.position == 6 and not appended:
                writer = threading.Thread(target=append_elsewhere)
                writer.start()
                writer.join(10)  # while the rebuild held the lock, this would wait it out
                assert appended, "the rebuild held the write lock while folding"
            super()._counted(rows, event)

    try:
        assert ProjectionRunner(store, [Appending()], batch_size=4).rebuild() == 13
        assert snapshot(store.conn)[0] == [("a", 12, 12, 66), ("b", 1, 1, 100)]
    finally:
        store.close()


def test_what_is_appended_during_a_rebuild_is_folded_outside_the_swaps_lock(database, clock):
    """Events appended while a rebuild folds (thousands in a long one) are folded after it,
    still without the write lock, a pass at a time: the swap, under the lock, folds at most
    a batch of them (it folded them all, however many, with every writer waiting)."""
    store = EventStore.open(database, clock=clock)
    runner = ProjectionRunner(store, [Counting()], batch_size=4)
    runner.start()
    for i in range(8):
        store.append("a", [added(i)], then=runner.apply_inline)
    under_lock = []

    class Appending(Counting):
        def _counted(self, rows, event):
            if event.position == 3:  # mid-fold, another writer appends 20 events
                other = EventStore.open(database, clock=clock)
                try:
                    for _ in range(20):
                        other.append("b", [added(1)])
                finally:
                    other.close()
            if store.conn.in_transaction:
                under_lock.append(event.position)
            super()._counted(rows, event)

    try:
        assert ProjectionRunner(store, [Appending()], batch_size=4).rebuild() == 28
        assert snapshot(store.conn)[0] == [("a", 8, 8, 28), ("b", 20, 20, 20)]
        assert len(under_lock) <= 4, under_lock
    finally:
        store.close()


def test_projection_version_bump_rebuilds_on_start(store):
    runner = ProjectionRunner(store, [Counting()])
    runner.start()
    store.append("a", [added(1)], then=runner.apply_inline)
    store.conn.execute("DELETE FROM stream_counts")  # a projection table may be dropped and rebuilt

    class CountingV2(Counting):
        version = 2

    ProjectionRunner(store, [CountingV2()]).start()
    assert snapshot(store.conn)[0] == [("a", 1, 1, 1)]
    assert store.conn.execute("SELECT version FROM projection_checkpoints").fetchone() == (2,)


def test_as_of_builds_the_past_in_a_scratch_database(store, clock):
    runner = ProjectionRunner(store, [Counting()])
    runner.start()
    store.append("blog/1/a", [added(1)], then=runner.apply_inline)
    clock.advance(minutes=5)
    middle = clock.now
    store.append("blog/2/a", [added(2)], then=runner.apply_inline)
    clock.advance(minutes=5)
    store.append("blog/1/a", [added(3)], then=runner.apply_inline)
    live = snapshot(store.conn)

    past, position = runner.as_of(Counting(), at=middle)
    assert position == 2
    assert snapshot(past)[0] == [("blog/1/a", 1, 1, 1), ("blog/2/a", 1, 1, 2)]
    one, _ = runner.as_of(Counting(), position=3, stream_prefix="blog/1/")
    assert snapshot(one)[0] == [("blog/1/a", 2, 2, 4)]
    assert snapshot(store.conn) == live  # the live projection was not touched


# -- property: inline == catch-up == rebuild == as-of at head; chain verifies; export/import --

appends = st.lists(
    st.tuples(st.sampled_from(["a", "b", "blog/1", "blog/2", "ü"]),
              st.lists(st.tuples(st.sampled_from(["Added", "Removed", "Noted"]),
                                 st.integers(-1000, 1000)), min_size=1, max_size=4)),
    min_size=1, max_size=25)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(appends)
def test_every_way_of_projecting_agrees(tmp_path_factory, batches):
    folder = tmp_path_factory.mktemp("prop")
    inline_store = EventStore.open(folder / "inline.db")
    inline = ProjectionRunner(inline_store, [Counting()])
    inline.start()
    for stream, events in batches:
        inline_store.append(stream, [NewEvent(t, {"amount": n}) for t, n in events],
                            then=inline.apply_inline)
    expected = snapshot(inline_store.conn)

    later = EventStore.open(folder / "inline.db")
    fresh_name = ProjectionRunner(later, [Counting()], batch_size=3)
    later.conn.execute("DELETE FROM projection_checkpoints")
    later.conn.execute("DROP TABLE stream_counts")
    later.conn.execute("DROP TABLE type_totals")
    fresh_name.start()  # catch-up from nothing
    assert snapshot(later.conn) == expected
    fresh_name.rebuild()
    assert snapshot(later.conn) == expected
    head = later.head()
    past, _ = fresh_name.as_of(Counting(), position=head.position)
    assert snapshot(past) == expected
    assert verify(later.conn).ok

    buffer = io.StringIO()
    export_jsonl(later, buffer)
    copy = EventStore.open(folder / "copy.db")
    assert import_jsonl(copy, io.StringIO(buffer.getvalue())) == head
    assert verify(copy.conn).head == head
    for s in (inline_store, later, copy):
        s.close()
    past.close()
    for name in ("inline.db", "copy.db"):
        remove_files(str(folder / name))


def test_scratch_connection_is_plain_sqlite(store):
    runner = ProjectionRunner(store, [Counting()])
    past, position = runner.as_of(Counting(), position=0)
    assert isinstance(past, sqlite3.Connection) and position == 0
    assert snapshot(past) == ([], [])
