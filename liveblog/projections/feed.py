"""The feed: every post's current state, and each blog's reader-visible activity.

``feed_posts`` holds one row a post (drafts and scheduled ones too: editors see them; readers
only ever get ``status = 'published'`` rows, and deleted ones as tombstones in /changes).
``change_position`` is the log position of the post's last change a reader could see; /changes
reads it, so each post appears once, at its latest change.

``blog_activity`` is the "updated at" view: per blog, the time of the latest change readers can
see, the published post count, and ``feed_version``, bumped on every such change. A feed poll is
answered from that one row (ETag, 304) without touching posts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from events import Connection, Projection, RecordedEvent, Tables, format_time
from events.projections import Handler

_CONTENT_COLUMNS = {"headline": "headline", "byline": "byline", "body": "body",
                    "display_time": "display_time"}


def _content_values(content: Mapping[str, Any]) -> dict[str, Any]:
    values = {}
    for key, column in _CONTENT_COLUMNS.items():
        if key in content:
            value = content[key]
            values[column] = json.dumps(value) if key in ("byline", "body") else value
    return values


class FeedProjection(Projection):
    """Posts with their current content and status, and per-blog activity for readers."""

    name = "feed"
    version = 1
    tables = ("feed_posts", "blog_activity")

    def create(self, conn: Connection, t: Tables) -> None:
        posts = t["feed_posts"]
        conn.execute(
            f"CREATE TABLE {posts} (id TEXT PRIMARY KEY, blog_id TEXT NOT NULL,"
            " status TEXT NOT NULL, headline TEXT NOT NULL, byline TEXT NOT NULL,"
            " body TEXT NOT NULL, display_time TEXT, published_at TEXT,"
            " publish_position INTEGER, updated_at TEXT NOT NULL, publish_at TEXT,"
            " pinned INTEGER NOT NULL DEFAULT 0, key_event INTEGER NOT NULL DEFAULT 0,"
            " version INTEGER NOT NULL, created_at TEXT NOT NULL, edited_at TEXT,"
            " change_position INTEGER, stream_version INTEGER NOT NULL)")
        conn.execute(f"CREATE INDEX {t.index('feed_posts', 'published')} ON {posts}"
                     " (blog_id, status, publish_position)")
        conn.execute(f"CREATE INDEX {t.index('feed_posts', 'changes')} ON {posts}"
                     " (blog_id, change_position)")
        conn.execute(f"CREATE INDEX {t.index('feed_posts', 'status')} ON {posts}"
                     " (blog_id, status, updated_at)")
        conn.execute(
            f"CREATE TABLE {t['blog_activity']} (blog_id TEXT PRIMARY KEY,"
            " updated_at TEXT NOT NULL, post_count INTEGER NOT NULL,"
            " feed_version INTEGER NOT NULL, visible_position INTEGER NOT NULL)")

    def handlers(self) -> Mapping[str, Handler]:
        post_events = ("PostDrafted", "PostScheduled", "PostPublished", "PostEdited",
                       "PostDeleted", "PostPinned", "PostUnpinned", "PostMarkedKeyEvent",
                       "PostUnmarkedKeyEvent")
        handlers: dict[str, Handler] = {name: self._post for name in post_events}
        handlers["BlogCreated"] = self._blog_created
        for name in ("BlogUpdated", "BlogClosed", "BlogReopened"):
            handlers[name] = self._blog_changed
        return handlers

    def _blog_created(self, conn: Connection, t: Tables, e: RecordedEvent) -> None:
        conn.execute(f"INSERT INTO {t['blog_activity']} VALUES (?, ?, 0, 1, ?)",
                     (e.data["blog_id"], format_time(e.recorded_at), e.position))

    def _blog_changed(self, conn: Connection, t: Tables, e: RecordedEvent) -> None:
        self._touch(conn, t, e, 0)

    def _touch(self, conn: Connection, t: Tables, e: RecordedEvent, count: int) -> None:
        conn.execute(
            f"UPDATE {t['blog_activity']} SET updated_at = ?, post_count = post_count + ?,"
            " feed_version = feed_version + 1, visible_position = ? WHERE blog_id = ?",
            (format_time(e.recorded_at), count, e.position, e.data["blog_id"]))

    def _post(self, conn: Connection, t: Tables, e: RecordedEvent) -> None:
        posts = t["feed_posts"]
        d = e.data
        at = format_time(e.recorded_at)
        row = conn.execute(f"SELECT status FROM {posts} WHERE id = ?", (d["post_id"],)).fetchone()
        was = row[0] if row is not None else None
        content = d.get("content")
        if row is None:
            if content is None:
                return  # an event for a post this projection never saw created: nothing to show
            values = _content_values(content)
            conn.execute(
                f"INSERT INTO {posts} (id, blog_id, status, headline, byline, body, display_time,"
                " updated_at, version, created_at, stream_version)"
                " VALUES (?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?)",
                (d["post_id"], d["blog_id"], values["headline"], values.get("byline", "{}"),
                 values.get("body", "[]"), values.get("display_time"), at, d["revision"], at,
                 e.version))
            was = "draft"
        sets: dict[str, Any] = {"updated_at": at, "version": d["revision"],
                                "stream_version": e.version}
        status = was
        match e.type:
            case "PostScheduled":
                status = "scheduled"
                sets["publish_at"] = d["publish_at"]
            case "PostPublished":
                status = "published"
                sets.update(published_at=at, publish_position=e.position, publish_at=None)
            case "PostEdited":
                sets.update(_content_values(d["changes"]))
                if was == "published":
                    sets["edited_at"] = at
            case "PostDeleted":
                status = "deleted"
            case "PostPinned" | "PostUnpinned":
                sets["pinned"] = int(e.type == "PostPinned")
            case "PostMarkedKeyEvent" | "PostUnmarkedKeyEvent":
                sets["key_event"] = int(e.type == "PostMarkedKeyEvent")
        sets["status"] = status
        visible = was == "published" or status == "published"
        if visible:
            sets["change_position"] = e.position
        assignments = ", ".join(f"{k} = ?" for k in sets)
        conn.execute(f"UPDATE {posts} SET {assignments} WHERE id = ?",
                     (*sets.values(), d["post_id"]))
        if visible:
            count = (status == "published") - (was == "published")
            self._touch(conn, t, e, count)
