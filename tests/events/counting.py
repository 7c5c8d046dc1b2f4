"""A small projection used by the store's tests: per-stream event counts and a running total."""

from __future__ import annotations

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
