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
from collections.abc import Iterable, Mapping
from typing import Any

from events import Connection, Projection, RecordedEvent, Rows, Tables, compact, format_time
from events.projections import Handler

from ..domain.events import PollClosed
from ..domain.model import closed_poll
from ..streams import post_stream

#: the post's content fields, each a column; byline and body are stored as compact JSON with
#: sorted keys, so a row is the same bytes whether the event came from an append or a replay
_JSON_FIELDS = ("byline", "body")
_CONTENT_FIELDS = ("headline", "byline", "body", "display_time")
POST_EVENTS = ("PostDrafted", "PostScheduled", "PostPublished", "PostEdited", "PostDeleted",
               "PostPinned", "PostUnpinned", "PostMarkedKeyEvent", "PostUnmarkedKeyEvent",
               "PostCorrected", "PostRedacted", "PostSubmitted", "PostRejected",
               "PostUnpublished", "PollClosed")
#: what a redacted post's row holds in place of its content, however it got there (a live
#: redaction, or a rebuild from erased events): one representation, byte for byte
_REDACTED = {"headline": "", "byline": "{}", "body": "[]", "corrections": "[]", "redacted": 1,
             "media": ""}
BLOG_EVENTS = ("BlogCreated", "BlogUpdated", "BlogClosed", "BlogReopened")


def _content_values(content: Mapping[str, Any]) -> dict[str, Any]:
    values = {key: compact(content[key]) if key in _JSON_FIELDS else content[key]
              for key in _CONTENT_FIELDS if key in content}
    if "body" in content:
        values["media"] = ",".join(sorted(_images(content["body"])))
    return values


def _images(body: Any) -> set[str]:
    """The stored images a body names (image blocks' ``media_id``, embed blocks'
    ``thumbnail``): kept beside the sealed body, so a redaction finds who else shows one."""
    return {block[key] for block in (body if isinstance(body, list) else ())
            if isinstance(block, dict) for key in ("media_id", "thumbnail")
            if isinstance(block.get(key), str)}


def _post_stream(row: Mapping[str, Any]) -> str:
    return post_stream(row["blog_id"], row["id"])


class FeedProjection(Projection):
    """Posts with their current content and status, and per-blog activity for readers."""

    name = "feed"
    # 2: byline and body as key-sorted JSON (a rebuild writes the same bytes); 3: corrections;
    # 4: redaction; 5: who made the latest change (editors see it); 6: content sealed with the
    # post's key, and the images it names
    version = 6
    tables = ("feed_posts", "blog_activity")
    #: a post's words are sealed with its stream's key: a redaction destroys the key, and
    #: every copy here (and in the history's versions) with it
    sealed = {"feed_posts": (("headline", "byline", "body", "corrections"), _post_stream)}
    columns = {
        "feed_posts": ("id", "blog_id", "status", "headline", "byline", "body", "display_time",
                       "published_at", "publish_position", "updated_at", "publish_at", "pinned",
                       "key_event", "version", "created_at", "edited_at", "change_position",
                       "stream_version", "corrections", "redacted", "updated_by", "media"),
        "blog_activity": ("blog_id", "updated_at", "post_count", "feed_version",
                          "visible_position"),
    }

    def create(self, conn: Connection, t: Tables) -> None:
        posts = t["feed_posts"]
        conn.execute(
            f"CREATE TABLE {posts} (id TEXT PRIMARY KEY, blog_id TEXT NOT NULL,"
            " status TEXT NOT NULL, headline TEXT NOT NULL, byline TEXT NOT NULL,"
            " body TEXT NOT NULL, display_time TEXT, published_at TEXT,"
            " publish_position INTEGER, updated_at TEXT NOT NULL, publish_at TEXT,"
            " pinned INTEGER NOT NULL DEFAULT 0, key_event INTEGER NOT NULL DEFAULT 0,"
            " version INTEGER NOT NULL, created_at TEXT NOT NULL, edited_at TEXT,"
            " change_position INTEGER, stream_version INTEGER NOT NULL,"
            " corrections TEXT NOT NULL DEFAULT '[]', redacted INTEGER NOT NULL DEFAULT 0,"
            " updated_by TEXT, media TEXT NOT NULL DEFAULT '')")
        conn.execute(
            f"CREATE TABLE {t['blog_activity']} (blog_id TEXT PRIMARY KEY,"
            " updated_at TEXT NOT NULL, post_count INTEGER NOT NULL,"
            " feed_version INTEGER NOT NULL, visible_position INTEGER NOT NULL)")

    def create_indexes(self, conn: Connection, t: Tables) -> None:
        posts = t["feed_posts"]
        conn.execute(f"CREATE INDEX {t.index('feed_posts', 'published')} ON {posts}"
                     " (blog_id, status, publish_position)")
        conn.execute(f"CREATE INDEX {t.index('feed_posts', 'changes')} ON {posts}"
                     " (blog_id, change_position)")
        conn.execute(f"CREATE INDEX {t.index('feed_posts', 'status')} ON {posts}"
                     " (blog_id, status, updated_at)")

    def handlers(self) -> Mapping[str, Handler]:
        handlers: dict[str, Handler] = {name: self._post for name in POST_EVENTS}
        handlers["BlogCreated"] = self._blog_created
        for name in ("BlogUpdated", "BlogClosed", "BlogReopened"):
            handlers[name] = self._blog_changed
        return handlers

    def touches(self, event: RecordedEvent) -> Iterable[tuple[str, Any]]:
        if event.type not in BLOG_EVENTS:
            yield "feed_posts", event.data["post_id"]
        yield "blog_activity", event.data["blog_id"]

    def _blog_created(self, rows: Rows, e: RecordedEvent) -> None:
        rows.put("blog_activity", {"blog_id": e.data["blog_id"],
                                   "updated_at": format_time(e.recorded_at), "post_count": 0,
                                   "feed_version": 1, "visible_position": e.position})

    def _blog_changed(self, rows: Rows, e: RecordedEvent) -> None:
        self._touch(rows, e, 0)

    def _touch(self, rows: Rows, e: RecordedEvent, count: int) -> None:
        activity = rows.get("blog_activity", e.data["blog_id"])
        if activity is None:
            return
        activity.update(updated_at=format_time(e.recorded_at),
                        post_count=activity["post_count"] + count,
                        feed_version=activity["feed_version"] + 1, visible_position=e.position)
        rows.put("blog_activity", activity)

    def _post(self, rows: Rows, e: RecordedEvent) -> None:
        d = e.data
        at = format_time(e.recorded_at)
        post = rows.get("feed_posts", d["post_id"])
        if post is None:
            content = d.get("content")
            if content is None:
                return  # an event for a post this projection never saw created: nothing to show
            values = _content_values(content)
            post = {
                "id": d["post_id"], "blog_id": d["blog_id"], "status": "draft",
                "headline": values["headline"], "byline": values.get("byline", "{}"),
                "body": values.get("body", "[]"), "display_time": values.get("display_time"),
                "published_at": None, "publish_position": None, "updated_at": at,
                "publish_at": None, "pinned": 0, "key_event": 0, "version": d["revision"],
                "created_at": at, "edited_at": None, "change_position": None,
                "stream_version": e.version, "corrections": "[]", "redacted": 0,
                "updated_by": None, "media": values.get("media", "")}
        was = post["status"]
        actor = e.metadata.get("actor")
        post.update(updated_at=at, version=d["revision"], stream_version=e.version,
                    updated_by=actor.get("name") if isinstance(actor, dict) else None)
        status = was
        match e.type:
            case "PostScheduled":
                status = "scheduled"
                post["publish_at"] = d["publish_at"]
            case "PostPublished":
                status = "published"
                post.update(published_at=at, publish_position=e.position, publish_at=None)
            case "PostEdited":
                post.update(_content_values(d["changes"]))
                if was == "published":
                    post["edited_at"] = at
            case "PostDeleted":
                status = "deleted"
            case "PostSubmitted":
                status = "submitted"
            case "PostRejected":
                status = "draft"
            case "PostUnpublished":
                status = "draft"
                post.update(published_at=None, publish_position=None)
            case "PostPinned" | "PostUnpinned":
                post["pinned"] = int(e.type == "PostPinned")
            case "PostMarkedKeyEvent" | "PostUnmarkedKeyEvent":
                post["key_event"] = int(e.type == "PostMarkedKeyEvent")
            case "PostRedacted":
                status = "redacted"
            case "PollClosed":
                content = closed_poll({"body": json.loads(post["body"])},
                                      PollClosed(**d), at)
                post["body"] = compact(content["body"])
            case "PostCorrected":
                corrections = json.loads(post["corrections"])
                corrections.append({"id": d["correction_id"], "text": d["text"],
                                    "reason": d["reason"], "recorded_at": at})
                post["corrections"] = compact(corrections)
        post["status"] = status
        if e.redacted or status == "redacted":
            # erased content (replayed) or erased now: the same row either way
            post.update(_REDACTED)
        visible = was == "published" or status == "published"
        if visible:
            post["change_position"] = e.position
        rows.put("feed_posts", post)
        if visible:
            self._touch(rows, e, (status == "published") - (was == "published"))
