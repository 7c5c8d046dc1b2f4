"""A small projection used by the store's tests: per-stream event counts and a running total."""

from __future__ import annotations

from events import Projection


class Counting(Projection):
    name = "counting"
    version = 1
    tables = ("stream_counts", "type_totals")

    def create(self, conn, t):
        conn.execute(f"CREATE TABLE {t['stream_counts']} (stream_id TEXT PRIMARY KEY,"
                     " events INTEGER NOT NULL, last_version INTEGER NOT NULL,"
                     " total INTEGER NOT NULL)")
        conn.execute(f"CREATE INDEX {t.index('stream_counts', 'events')}"
                     f" ON {t['stream_counts']} (events)")
        conn.execute(f"CREATE TABLE {t['type_totals']} (type TEXT PRIMARY KEY,"
                     " events INTEGER NOT NULL)")

    def handlers(self):
        return {"Added": self._counted, "Removed": self._counted, "Noted": self._noted}

    def _counted(self, conn, t, event):
        amount = event.data["amount"] if event.type == "Added" else -event.data["amount"]
        conn.execute(
            f"INSERT INTO {t['stream_counts']} VALUES (?, 1, ?, ?) ON CONFLICT (stream_id) DO"
            f" UPDATE SET events = {t['stream_counts']}.events + 1,"
            f" last_version = excluded.last_version,"
            f" total = {t['stream_counts']}.total + excluded.total",
            (event.stream_id, event.version, amount))
        self._noted(conn, t, event)

    def _noted(self, conn, t, event):
        conn.execute(f"INSERT INTO {t['type_totals']} VALUES (?, 1) ON CONFLICT (type) DO UPDATE"
                     f" SET events = {t['type_totals']}.events + 1", (event.type,))


def snapshot(conn):
    """The projection's whole state, comparable with ==."""
    return (
        conn.execute("SELECT * FROM stream_counts ORDER BY stream_id").fetchall(),
        conn.execute("SELECT * FROM type_totals ORDER BY type").fetchall(),
    )
