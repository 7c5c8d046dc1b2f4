"""Pending scheduled publications: what the scheduler reads (one row per scheduled post)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from events import Connection, Projection, RecordedEvent, Rows, Tables
from events.projections import Handler


class SchedulesProjection(Projection):
    """A post is here while it is scheduled; publishing or deleting it takes it out."""

    name = "schedules"
    version = 1
    tables = ("schedules",)
    columns = {"schedules": ("post_id", "blog_id", "publish_at")}

    def create(self, conn: Connection, t: Tables) -> None:
        conn.execute(f"CREATE TABLE {t['schedules']} (post_id TEXT PRIMARY KEY,"
                     " blog_id TEXT NOT NULL, publish_at TEXT NOT NULL)")

    def create_indexes(self, conn: Connection, t: Tables) -> None:
        conn.execute(f"CREATE INDEX {t.index('schedules', 'due')} ON {t['schedules']}"
                     " (publish_at)")

    def handlers(self) -> Mapping[str, Handler]:
        return {"PostScheduled": self._scheduled, "PostPublished": self._gone,
                "PostDeleted": self._gone, "PostRedacted": self._gone}

    def touches(self, event: RecordedEvent) -> Iterable[tuple[str, Any]]:
        yield "schedules", event.data["post_id"]

    def _scheduled(self, rows: Rows, e: RecordedEvent) -> None:
        rows.put("schedules", {"post_id": e.data["post_id"], "blog_id": e.data["blog_id"],
                               "publish_at": e.data["publish_at"]})

    def _gone(self, rows: Rows, e: RecordedEvent) -> None:
        # only a post that was scheduled has a row: the others cost no write
        if rows.get("schedules", e.data["post_id"]) is not None:
            rows.delete("schedules", e.data["post_id"])
