"""Blogs: each blog's own fields. The slug's UNIQUE index is what makes slugs unique.

Applied inline in the append's transaction, so a second blog with a taken slug fails the whole
append (nothing is recorded) and the service reports SlugTakenError.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from events import Connection, Projection, RecordedEvent, Rows, Tables, compact, format_time
from events.projections import Handler

from ..domain.events import DEFAULT_ARCHIVE_AFTER_DAYS, DEFAULT_LANGUAGE

BLOG_FIELDS = ("slug", "title", "description", "authors", "organization", "timezone",
               "archive_after_days", "language", "theme", "questions_enabled")
#: the fields held as JSON
JSON_FIELDS = ("authors", "theme")


class BlogsProjection(Projection):
    """One row a blog: its fields, status, creation time and own stream version."""

    name = "blogs"
    # 2: authors as key-sorted JSON (a rebuild writes the same bytes); 3: archiving; 4: language;
    # 5: theme, questions
    version = 5
    tables = ("blogs",)
    columns = {"blogs": ("id", "slug", "title", "description", "authors", "organization",
                         "timezone", "status", "created_at", "version", "archive_after_days",
                         "language", "theme", "questions_enabled")}

    def create(self, conn: Connection, t: Tables) -> None:
        conn.execute(f"CREATE TABLE {t['blogs']} (id TEXT PRIMARY KEY, slug TEXT NOT NULL,"
                     " title TEXT NOT NULL, description TEXT NOT NULL, authors TEXT NOT NULL,"
                     " organization TEXT, timezone TEXT NOT NULL, status TEXT NOT NULL,"
                     " created_at TEXT NOT NULL, version INTEGER NOT NULL,"
                     " archive_after_days INTEGER, language TEXT NOT NULL DEFAULT 'en-US',"
                     " theme TEXT, questions_enabled INTEGER NOT NULL DEFAULT 0)")

    def create_indexes(self, conn: Connection, t: Tables) -> None:
        conn.execute(f"CREATE UNIQUE INDEX {t.index('blogs', 'slug')} ON {t['blogs']} (slug)")

    def handlers(self) -> Mapping[str, Handler]:
        return {"BlogCreated": self._created, "BlogUpdated": self._updated,
                "BlogClosed": self._status, "BlogReopened": self._status}

    def touches(self, event: RecordedEvent) -> Iterable[tuple[str, Any]]:
        yield "blogs", event.data["blog_id"]

    def _created(self, rows: Rows, e: RecordedEvent) -> None:
        d = e.data
        rows.put("blogs", {
            "id": d["blog_id"], "slug": d["slug"], "title": d["title"],
            "description": d["description"], "authors": compact(d["authors"]),
            "organization": d["organization"], "timezone": d["timezone"], "status": "live",
            "created_at": format_time(e.recorded_at), "version": e.version,
            "archive_after_days": d.get("archive_after_days", DEFAULT_ARCHIVE_AFTER_DAYS),
            "language": d.get("language", DEFAULT_LANGUAGE), "theme": None,
            "questions_enabled": 0})

    def _updated(self, rows: Rows, e: RecordedEvent) -> None:
        row = rows.get("blogs", e.data["blog_id"])
        if row is None:
            return
        for key, value in e.data["changes"].items():
            if key in BLOG_FIELDS:
                row[key] = (compact(value) if key in JSON_FIELDS and value is not None
                            else int(value) if isinstance(value, bool) else value)
        row["version"] = e.version
        rows.put("blogs", row)

    def _status(self, rows: Rows, e: RecordedEvent) -> None:
        row = rows.get("blogs", e.data["blog_id"])
        if row is None:
            return
        row.update(status="closed" if e.type == "BlogClosed" else "live", version=e.version)
        rows.put("blogs", row)
