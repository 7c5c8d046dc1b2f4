"""What the scheduler reads: pending scheduled publications (one row per scheduled post), and
polls waiting for their closing time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from events import Connection, Projection, RecordedEvent, Rows, Tables
from events.projections import Handler

from ..domain.model import poll_in
from ..streams import blog_part


class SchedulesProjection(Projection):
    """A post is here while it is scheduled; publishing or deleting it takes it out."""

    name = "schedules"
    # a post's row is made by its events alone: a rebuild may fold blogs side by side
    part_of = staticmethod(blog_part)
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


class PollClosingsProjection(Projection):
    """Polls with a closing time, not closed yet (one row a post: a post holds one poll): the
    scheduler closes each when its time comes."""

    name = "poll_closings"
    # a post's row is made by its events alone: a rebuild may fold blogs side by side
    part_of = staticmethod(blog_part)
    version = 1
    tables = ("poll_closings",)
    columns = {"poll_closings": ("post_id", "blog_id", "poll_id", "closes_at")}

    def create(self, conn: Connection, t: Tables) -> None:
        conn.execute(f"CREATE TABLE {t['poll_closings']} (post_id TEXT PRIMARY KEY,"
                     " blog_id TEXT NOT NULL, poll_id TEXT NOT NULL, closes_at TEXT NOT NULL)")

    def create_indexes(self, conn: Connection, t: Tables) -> None:
        conn.execute(f"CREATE INDEX {t.index('poll_closings', 'due')} ON {t['poll_closings']}"
                     " (closes_at)")

    def handlers(self) -> Mapping[str, Handler]:
        return {"PostDrafted": self._content, "PostScheduled": self._content,
                "PostPublished": self._content, "PostEdited": self._content,
                "PollClosed": self._gone, "PostDeleted": self._gone, "PostRedacted": self._gone}

    def touches(self, event: RecordedEvent) -> Iterable[tuple[str, Any]]:
        yield "poll_closings", event.data["post_id"]

    def _content(self, rows: Rows, e: RecordedEvent) -> None:
        content = e.data.get("content") or e.data.get("changes")
        if not isinstance(content, dict) or "body" not in content:
            return  # no body given: the poll is as it was
        poll = poll_in(content["body"])
        if poll is None or not poll.get("closes_at") or poll.get("closed_at"):
            self._gone(rows, e)
            return
        rows.put("poll_closings", {"post_id": e.data["post_id"], "blog_id": e.data["blog_id"],
                                   "poll_id": poll["id"], "closes_at": poll["closes_at"]})

    def _gone(self, rows: Rows, e: RecordedEvent) -> None:
        if rows.get("poll_closings", e.data["post_id"]) is not None:
            rows.delete("poll_closings", e.data["post_id"])
