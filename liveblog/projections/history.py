"""The feed's history: every version of every blog, post and blog-activity row, with the log
positions it held between, so an auditor's "the feed as readers saw it at 14:03" is an index
range on these tables, as fast for a year-old moment of the largest blog as for the last
minute (see :mod:`events.history`)."""

from __future__ import annotations

from collections.abc import Mapping

from events import Connection, RecordedEvent, Rows, Tables
from events.history import History, VersionedRows
from events.projections import Handler

from ..streams import blog_part
from .blogs import BlogsProjection
from .feed import _REDACTED, FeedProjection


class FeedHistoryProjection(History):
    """Versions of the ``blogs``, ``feed_posts`` and ``blog_activity`` rows."""

    name = "feed_history"
    # 2: a blog's language; 3: posts' content sealed, the images a post names; 4: a blog's theme
    # and whether it takes questions; 5: the current posts by blog (the order they are copied in)
    version = 5
    wrapped = (BlogsProjection(), FeedProjection())
    # the live feed's indexes all lead with the blog
    copy_order = {"feed_posts": "blog_id"}

    def create(self, conn: Connection, t: Tables) -> None:
        window = "valid_from INTEGER NOT NULL, valid_to INTEGER"
        conn.execute(
            f"CREATE TABLE {t['blogs_versions']} (id TEXT NOT NULL, slug TEXT NOT NULL,"
            " title TEXT NOT NULL, description TEXT NOT NULL, authors TEXT NOT NULL,"
            " organization TEXT, timezone TEXT NOT NULL, status TEXT NOT NULL,"
            " created_at TEXT NOT NULL, version INTEGER NOT NULL, archive_after_days INTEGER,"
            " language TEXT NOT NULL, theme TEXT, questions_enabled INTEGER NOT NULL DEFAULT 0,"
            f" {window}, PRIMARY KEY (id, valid_from))")
        conn.execute(
            f"CREATE TABLE {t['feed_posts_versions']} (id TEXT NOT NULL, blog_id TEXT NOT NULL,"
            " status TEXT NOT NULL, headline TEXT NOT NULL, byline TEXT NOT NULL,"
            " body TEXT NOT NULL, display_time TEXT, published_at TEXT,"
            " publish_position INTEGER, updated_at TEXT NOT NULL, publish_at TEXT,"
            " pinned INTEGER NOT NULL, key_event INTEGER NOT NULL, version INTEGER NOT NULL,"
            " created_at TEXT NOT NULL, edited_at TEXT, change_position INTEGER,"
            " stream_version INTEGER NOT NULL, corrections TEXT NOT NULL,"
            " redacted INTEGER NOT NULL, updated_by TEXT, media TEXT NOT NULL,"
            f" {window}, PRIMARY KEY (id, valid_from))")
        conn.execute(
            f"CREATE TABLE {t['blog_activity_versions']} (blog_id TEXT NOT NULL,"
            " updated_at TEXT NOT NULL, post_count INTEGER NOT NULL,"
            " feed_version INTEGER NOT NULL, visible_position INTEGER NOT NULL,"
            f" {window}, PRIMARY KEY (blog_id, valid_from))")
        # each key's current version, found at once however many versions came before it
        # (every change closes it): made here, not with the other indexes, as the tables fill
        for table, key in (("blogs_versions", "id"), ("feed_posts_versions", "id"),
                           ("blog_activity_versions", "blog_id")):
            conn.execute(f"CREATE UNIQUE INDEX {t.index(table, 'current')} ON {t[table]} ({key})"
                         " WHERE valid_to IS NULL")
        # and the feed's: versions arrive a window of the log at a time, each later than the
        # last, so their entries land at the end of each blog's range as the tables fill, and
        # no long index build at the end holds the write lock (a sorted build of millions of
        # versions takes seconds)
        posts = t["feed_posts_versions"]
        # the current posts, blog by blog: a rebuild copies them into the live feed in this
        # order (see History.copy_order)
        conn.execute(f"CREATE INDEX {t.index('feed_posts_versions', 'by_blog')} ON {posts}"
                     " (blog_id, id) WHERE valid_to IS NULL")
        # the feed's orders, as on the live table, and its pinned posts (few: found at once)
        conn.execute(f"CREATE INDEX {t.index('feed_posts_versions', 'published')} ON {posts}"
                     " (blog_id, status, publish_position)")
        conn.execute(f"CREATE INDEX {t.index('feed_posts_versions', 'changes')} ON {posts}"
                     " (blog_id, change_position)")
        conn.execute(f"CREATE INDEX {t.index('feed_posts_versions', 'pinned')} ON {posts}"
                     " (blog_id, pinned, status, publish_position)")

    # a blog's rows here (its own, its activity's, its posts') are made by its events alone
    part_of = staticmethod(blog_part)

    def handlers(self) -> Mapping[str, Handler]:
        handlers = dict(super().handlers())
        post = handlers["PostRedacted"]

        def redacted(rows: Rows, e: RecordedEvent) -> None:
            post(rows, e)
            # the erased text leaves the post's past versions too
            assert isinstance(rows, VersionedRows)
            rows.erase("feed_posts", e.data["post_id"], _REDACTED)

        handlers["PostRedacted"] = redacted
        return handlers
