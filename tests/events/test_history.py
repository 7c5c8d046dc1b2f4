"""A projection's history (events.history): every version of its rows with the positions it
held between, the same whichever way it was built, and at every position the state a replay of
the log up to there gives."""

from __future__ import annotations

import threading

from events import EventStore, NewEvent, Projection, ProjectionRunner, projections
from events import history as history_module
from events.history import AsOf, History, VersionedRows
from events.keys import is_sealed, keys_of

from .counting import Counting, snapshot


class CountingHistory(History):
    name = "counting_history"
    version = 1
    wrapped = (Counting(),)

    def create(self, conn, t):
        conn.execute(f"CREATE TABLE {t['stream_counts_versions']} (stream_id TEXT NOT NULL,"
                     " events INTEGER NOT NULL, last_version INTEGER NOT NULL,"
                     " total INTEGER NOT NULL, valid_from INTEGER NOT NULL, valid_to INTEGER,"
                     " PRIMARY KEY (stream_id, valid_from))")
        conn.execute(f"CREATE TABLE {t['type_totals_versions']} (type TEXT NOT NULL,"
                     " events INTEGER NOT NULL, valid_from INTEGER NOT NULL, valid_to INTEGER,"
                     " PRIMARY KEY (type, valid_from))")
        for table, key in (("stream_counts_versions", "stream_id"),
                           ("type_totals_versions", "type")):
            conn.execute(f"CREATE UNIQUE INDEX {t.index(table, 'current')} ON {t[table]} ({key})"
                         " WHERE valid_to IS NULL")


def versions(conn):
    return (conn.execute("SELECT * FROM stream_counts_versions"
                         " ORDER BY stream_id, valid_from").fetchall(),
            conn.execute("SELECT * FROM type_totals_versions ORDER BY type, valid_from").fetchall())


def test_inline_catch_up_and_a_bounded_rebuild_keep_the_same_versions(store, monkeypatch):
    """Versions of one key split over many short transactions, rows let go of and fetched
    again: the same versions as one at a time inline, and at each position, a replay."""
    history = CountingHistory()
    runner = ProjectionRunner(store, [history], batch_size=3)
    runner.start()
    for i in range(40):
        store.append(f"s{i % 7}", [NewEvent("Added", {"amount": i}),
                                   NewEvent("Removed", {"amount": 1})],
                     then=runner.apply_inline)
        if i % 5 == 0:
            store.append("notes", [NewEvent("Noted", {})], then=runner.apply_inline)
        if i % 9 == 4:  # a row removed, then made again by the stream's next event
            store.append(f"s{i % 7}", [NewEvent("Cleared", {})], then=runner.apply_inline)
    inline = versions(store.conn)
    assert len(inline[0]) == 80  # a version an Added or Removed of a stream

    monkeypatch.setattr(projections, "_WRITE_CHUNK", 3)
    monkeypatch.setattr(projections.Rows, "max_rows", 4)
    assert runner.rebuild() == store.head().position
    assert versions(store.conn) == inline
    # the same when it stops keeping the keys stored open (past its bound) halfway through
    monkeypatch.setattr(VersionedRows, "OPEN_KEYS", 3)
    assert runner.rebuild() == store.head().position
    assert versions(store.conn) == inline

    plain = ProjectionRunner(store, [])
    for position in range(0, store.head().position + 1):
        then = AsOf(store.conn, history, position)
        past, _ = plain.as_of(Counting(), position=position)
        try:
            assert snapshot(then) == snapshot(past), position
        finally:
            past.close()


def test_an_erasure_rewrites_every_earlier_version_of_its_key(store):
    history = CountingHistory()
    runner = ProjectionRunner(store, [history])
    runner.start()
    for amount in (5, 7, 9):
        store.append("secret", [NewEvent("Added", {"amount": amount})], then=runner.apply_inline)

    class Erasing(CountingHistory):
        def handlers(self):
            handlers = dict(super().handlers())

            def erase(rows, event):
                rows.erase("stream_counts", "secret", {"total": 0})
            handlers["Noted"] = erase
            return handlers

    erasing = ProjectionRunner(store, [Erasing()])
    store.append("secret", [NewEvent("Added", {"amount": 1}), NewEvent("Noted", {})],
                 then=erasing.apply_inline)
    totals = [r[3] for r in versions(store.conn)[0]]
    assert totals == [0, 0, 0, 0]  # the version made in the same batch before it too



def test_a_rebuild_copies_the_rows_a_history_holds_instead_of_folding_them(store, database,
                                                                          clock, monkeypatch):
    """Rebuilt together, a projection's rows are its history's current versions, copied a
    few at a time: the rows a replay of the log gives (removed ones staying removed), the
    projection's own handlers running only for what was appended during the rebuild."""
    folded = []

    class Watched(Counting):
        def _counted(self, rows, event):
            folded.append(event.position)
            super()._counted(rows, event)

    class WatchedHistory(CountingHistory):
        wrapped = (Watched(),)

    runner = ProjectionRunner(store, [Watched(), WatchedHistory()], batch_size=4)
    runner.start()
    for i in range(30):
        store.append(f"s{i % 11}", [NewEvent("Added", {"amount": i})], then=runner.apply_inline)
        if i % 8 == 3:
            store.append(f"s{i % 11}", [NewEvent("Cleared", {})], then=runner.apply_inline)

    def append_elsewhere():
        other = EventStore.open(database, clock=clock)
        try:
            other.append("s3", [NewEvent("Added", {"amount": 100})], then=ProjectionRunner(
                other, [Watched(), WatchedHistory()]).apply_inline)
        finally:
            other.close()

    writers: list[threading.Thread] = []
    copy_rows = WatchedHistory.copy_rows

    def copy_while_another_appends(self, *args):
        if not writers:  # after the fold, before the swap: it is the rebuild's tail
            writers.append(threading.Thread(target=append_elsewhere))
            writers[0].start()
            writers[0].join(10)
        copy_rows(self, *args)

    monkeypatch.setattr(WatchedHistory, "copy_rows", copy_while_another_appends)
    monkeypatch.setattr(history_module, "COPY_CHUNK", 3)
    folded.clear()
    head = runner.rebuild()
    assert writers and head == store.head().position == 30 + 4 + 1
    # the history folded the 30 additions; the projection itself none of them (folding both
    # would be 60); the one appended meanwhile, both, inline and in the rebuild's tail
    assert len(folded) == 30 + 2 + 2 and folded.count(head) == 4
    replayed, _ = ProjectionRunner(store, []).as_of(Counting(), position=head)
    try:
        assert snapshot(store.conn) == snapshot(replayed)
        assert len(snapshot(replayed)[0]) > 3  # more rows than one chunk copies
    finally:
        replayed.close()


class Said(Projection):
    """The last thing each stream said, sealed with the stream's key."""

    name = "said"
    version = 1
    tables = ("said",)
    columns = {"said": ("stream_id", "text")}
    sealed = {"said": (("text",), lambda row: row["stream_id"])}

    def create(self, conn, t):
        conn.execute(f"CREATE TABLE {t['said']} (stream_id TEXT PRIMARY KEY, text TEXT NOT NULL)")

    def handlers(self):
        return {"Said": self._said}

    def touches(self, event):
        yield "said", event.stream_id

    def _said(self, rows, e):
        rows.put("said", {"stream_id": e.stream_id, "text": e.data["text"]})


class SaidHistory(History):
    name = "said_history"
    version = 1
    wrapped = (Said(),)

    def create(self, conn, t):
        conn.execute(f"CREATE TABLE {t['said_versions']} (stream_id TEXT NOT NULL,"
                     " text TEXT NOT NULL, valid_from INTEGER NOT NULL, valid_to INTEGER,"
                     " PRIMARY KEY (stream_id, valid_from))")
        conn.execute(f"CREATE UNIQUE INDEX {t.index('said_versions', 'current')} ON"
                     f" {t['said_versions']} (stream_id) WHERE valid_to IS NULL")


def test_versions_of_a_stream_with_no_key_yet_are_sealed_as_they_are_written(store):
    """A rebuild seals versions a chunk ahead of their write, outside its transaction, with
    keys it has; a stream with no key yet (its events were stored unsealed) gets one in the
    write's transaction, and its versions are stored sealed with it."""
    for i in range(30):
        store.append(f"s{i % 3}", [NewEvent("Said", {"text": f"word {i}"})])
    keys = keys_of(store.conn)
    assert not store.conn.execute("SELECT count(*) FROM stream_keys").fetchone()[0]
    runner = ProjectionRunner(store, [SaidHistory()])
    runner.start()  # a log with events: built in bulk, as a rebuild
    stored = store.conn.execute("SELECT stream_id, text FROM said_versions"
                                " ORDER BY valid_from").fetchall()
    assert len(stored) == 30 and all(is_sealed(text) for _, text in stored)
    assert [keys.open(s, text) for s, text in stored] == [f"word {i}" for i in range(30)]
    assert store.conn.execute("SELECT count(*) FROM stream_keys").fetchone()[0] == 3
    # and a rebuild now, every key at hand, writes the same bytes
    assert runner.rebuild() == 30
    assert store.conn.execute("SELECT stream_id, text FROM said_versions"
                              " ORDER BY valid_from").fetchall() == stored
