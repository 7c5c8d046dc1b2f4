"""Blogs: each blog's own fields. The slug's UNIQUE index is what makes slugs unique.

Applied inline in the append's transaction, so a second blog with a taken slug fails the whole
append (nothing is recorded) and the service reports SlugTakenError.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from events import Connection, Projection, RecordedEvent, Tables, format_time
from events.projections import Handler

BLOG_FIELDS = ("slug", "title", "description", "authors", "organization", "timezone")


class BlogsProjection(Projection):
    """One row a blog: its fields, status, creation time and own stream version."""

    name = "blogs"
    version = 1
    tables = ("blogs",)

    def create(self, conn: Connection, t: Tables) -> None:
        conn.execute(f"CREATE TABLE {t['blogs']} (id TEXT PRIMARY KEY, slug TEXT NOT NULL,"
                     " title TEXT NOT NULL, description TEXT NOT NULL, authors TEXT NOT NULL,"
                     " organization TEXT, timezone TEXT NOT NULL, status TEXT NOT NULL,"
                     " created_at TEXT NOT NULL, version INTEGER NOT NULL)")
        conn.execute(f"CREATE UNIQUE INDEX {t.index('blogs', 'slug')} ON {t['blogs']} (slug)")

    def handlers(self) -> Mapping[str, Handler]:
        return {"BlogCreated": self._created, "BlogUpdated": self._updated,
                "BlogClosed": self._status, "BlogReopened": self._status}

    def _created(self, conn: Connection, t: Tables, e: RecordedEvent) -> None:
        d = e.data
        conn.execute(f"INSERT INTO {t['blogs']} VALUES (?, ?, ?, ?, ?, ?, ?, 'live', ?, ?)",
                     (d["blog_id"], d["slug"], d["title"], d["description"],
                      json.dumps(d["authors"]), d["organization"], d["timezone"],
                      format_time(e.recorded_at), e.version))

    def _updated(self, conn: Connection, t: Tables, e: RecordedEvent) -> None:
        changes = {k: v for k, v in e.data["changes"].items() if k in BLOG_FIELDS}
        if "authors" in changes:
            changes["authors"] = json.dumps(changes["authors"])
        assignments = "".join(f"{k} = ?, " for k in changes)
        conn.execute(f"UPDATE {t['blogs']} SET {assignments}version = ? WHERE id = ?",
                     (*changes.values(), e.version, e.data["blog_id"]))

    def _status(self, conn: Connection, t: Tables, e: RecordedEvent) -> None:
        status = "closed" if e.type == "BlogClosed" else "live"
        conn.execute(f"UPDATE {t['blogs']} SET status = ?, version = ? WHERE id = ?",
                     (status, e.version, e.data["blog_id"]))
