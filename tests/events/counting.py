"""A small projection used by the store's tests: per-stream event counts and a running total."""

from __future__ import annotations

import os

from events import Projection


class Counting(Projection):
    name = "counting"
    version = 1
    tables = ("stream_counts", "type_totals")
    columns = {"stream_counts": ("stream_id", "events", "last_version", "total"),
               "type_totals": ("type", "events")}

    def create(self, conn, t):
        conn.execute(f"CREATE TABLE {t['stream_counts']} (stream_id TEXT PRIMARY KEY,"
                     " events INTEGER NOT NULL, last_version INTEGER NOT NULL,"
                     " total INTEGER NOT NULL)")
        conn.execute(f"CREATE INDEX {t.index('stream_counts', 'events')}"
                     f" ON {t['stream_counts']} (events)")
        conn.execute(f"CREATE TABLE {t['type_totals']} (type TEXT PRIMARY KEY,"
                     " events INTEGER NOT NULL)")

    def handlers(self):
        return {"Added": self._counted, "Removed": self._counted, "Noted": self._noted,
                "Cleared": self._cleared}

    def touches(self, event):
        yield "stream_counts", event.stream_id
        yield "type_totals", event.type

    def _counted(self, rows, event):
        amount = event.data["amount"] if event.type == "Added" else -event.data["amount"]
        row = rows.get("stream_counts", event.stream_id) or {
            "stream_id": event.stream_id, "events": 0, "last_version": 0, "total": 0}
        row.update(events=row["events"] + 1, last_version=event.version,
                   total=row["total"] + amount)
        rows.put("stream_counts", row)
        self._noted(rows, event)

    def _cleared(self, rows, event):
        """The stream's count is removed (and starts again at its next event)."""
        rows.delete("stream_counts", event.stream_id)
        self._noted(rows, event)

    def _noted(self, rows, event):
        row = rows.get("type_totals", event.type) or {"type": event.type, "events": 0}
        row["events"] += 1
        rows.put("type_totals", row)


def snapshot(conn):
    """The projection's whole state, comparable with ==."""
    return (
        conn.execute("SELECT * FROM stream_counts ORDER BY stream_id").fetchall(),
        conn.execute("SELECT * FROM type_totals ORDER BY type").fetchall(),
    )


class ByPart(Projection):
    """Per stream: its events, their running total, and the process that folded the stream's
    last event. Its parts of the log are the streams under one prefix (``a/1`` and ``a/2``
    are part ``a/``); a stream with no ``/`` is in no part. A ``Failing`` event fails the
    fold in any process but the one named by the environment's ``BY_PART_PARENT``."""

    name = "by_part"
    version = 1
    tables = ("part_counts",)
    columns = {"part_counts": ("stream_id", "events", "total", "pid")}

    def create(self, conn, t):
        conn.execute(f"CREATE TABLE {t[self.tables[0]]} (stream_id TEXT PRIMARY KEY,"
                     " events INTEGER NOT NULL, total INTEGER NOT NULL, pid INTEGER NOT NULL)")

    def part_of(self, stream_id):
        head, slash, _ = stream_id.partition("/")
        return head + slash if slash else None

    def handlers(self):
        return {"Added": self._added, "Failing": self._failing}

    def touches(self, event):
        yield self.tables[0], event.stream_id

    def _added(self, rows, event):
        table = self.tables[0]
        row = rows.get(table, event.stream_id) or {
            "stream_id": event.stream_id, "events": 0, "total": 0}
        row.update(events=row["events"] + 1, total=row["total"] + event.data["amount"],
                   pid=os.getpid())
        rows.put(table, row)

    def _failing(self, rows, event):
        if os.getpid() != int(os.environ.get("BY_PART_PARENT", "0")):
            raise ValueError("a fold that fails")


class ByStream(ByPart):
    """ByPart with parts of its own: each stream is one (they differ from ByPart's)."""

    name = "by_stream"
    tables = ("stream_parts",)
    columns = {"stream_parts": ("stream_id", "events", "total", "pid")}

    def part_of(self, stream_id):
        return stream_id


def by_part(conn, table="part_counts"):
    """ByPart's rows without the process: ``(stream_id, events, total)``, and the processes
    by stream."""
    found = conn.execute(f"SELECT stream_id, events, total, pid FROM {table}"
                         " ORDER BY stream_id").fetchall()
    return [row[:3] for row in found], {row[0]: row[3] for row in found}
