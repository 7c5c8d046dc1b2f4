"""Pending scheduled publications: what the scheduler reads (one row per scheduled post)."""

from __future__ import annotations

from collections.abc import Mapping

from events import Connection, Projection, RecordedEvent, Tables
from events.projections import Handler


class SchedulesProjection(Projection):
    """A post is here while it is scheduled; publishing or deleting it takes it out."""

    name = "schedules"
    version = 1
    tables = ("schedules",)

    def create(self, conn: Connection, t: Tables) -> None:
        conn.execute(f"CREATE TABLE {t['schedules']} (post_id TEXT PRIMARY KEY,"
                     " blog_id TEXT NOT NULL, publish_at TEXT NOT NULL)")
        conn.execute(f"CREATE INDEX {t.index('schedules', 'due')} ON {t['schedules']}"
                     " (publish_at)")

    def handlers(self) -> Mapping[str, Handler]:
        return {"PostScheduled": self._scheduled, "PostPublished": self._gone,
                "PostDeleted": self._gone}

    def _scheduled(self, conn: Connection, t: Tables, e: RecordedEvent) -> None:
        conn.execute(f"INSERT INTO {t['schedules']} VALUES (?, ?, ?) ON CONFLICT (post_id)"
                     " DO UPDATE SET publish_at = excluded.publish_at",
                     (e.data["post_id"], e.data["blog_id"], e.data["publish_at"]))

    def _gone(self, conn: Connection, t: Tables, e: RecordedEvent) -> None:
        conn.execute(f"DELETE FROM {t['schedules']} WHERE post_id = ?", (e.data["post_id"],))
