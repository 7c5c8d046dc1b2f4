"""The read side: blogs, feed pages, single posts and changes. Reads projection tables only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

from events import Connection, read_snapshot
from events.keys import is_sealed, keys_of

from .domain.errors import BlogNotFoundError, PostNotFoundError
from .streams import post_stream

_BLOG_COLUMNS = ("b.id, b.slug, b.title, b.description, b.authors, b.organization, b.timezone,"
                 " b.status, b.created_at, b.version, a.updated_at, a.post_count,"
                 " a.feed_version, a.visible_position, b.archive_after_days, b.language, b.theme,"
                 " b.questions_enabled")


class BlogRow(NamedTuple):
    """A blog as the read side holds it: its ``blogs`` row and its ``blog_activity`` row."""
    id: str
    slug: str
    title: str
    description: str
    authors: str  # JSON
    organization: str | None
    timezone: str
    status: str
    created_at: str
    version: int
    updated_at: str
    post_count: int
    feed_version: int
    visible_position: int
    archive_after_days: int | None
    language: str
    theme: str | None  # JSON
    questions_enabled: int


class PostRow(NamedTuple):
    """A post as the ``feed_posts`` projection holds it."""
    id: str
    blog_id: str
    status: str
    headline: str
    byline: str  # JSON
    body: str  # JSON
    display_time: str | None
    published_at: str | None
    updated_at: str
    publish_at: str | None
    pinned: int
    key_event: int
    version: int
    edited_at: str | None
    publish_position: int | None
    change_position: int | None
    created_at: str
    corrections: str  # JSON
    redacted: int
    updated_by: str | None


_blog = BlogRow._make
#: where the sealed columns (a post's words: events.keys) sit in a PostRow
_SEALED = tuple(PostRow._fields.index(name) for name in ("headline", "byline", "body",
                                                         "corrections"))


def _posts(conn: Connection, row: Any) -> PostRow:
    """A feed_posts row, its words opened with the post's key."""
    if any(is_sealed(row[i]) for i in _SEALED):
        keys = keys_of(conn)
        if keys is not None:
            stream = post_stream(row[1], row[0])
            row = tuple(keys.open(stream, value) if i in _SEALED else value
                        for i, value in enumerate(row))
    return PostRow._make(row)
#: the feed_posts columns a PostRow holds, in its order (the row's fields name them)
_POST_COLUMNS = ", ".join(PostRow._fields)

ORDERS = {
    # order: (sort column, direction, comparison for the next page)
    "newest": ("publish_position", "DESC", "<"),
    "oldest": ("publish_position", "ASC", ">"),
    "updated": ("change_position", "DESC", "<"),
}


@dataclass(frozen=True)
class BlogHead:
    """What a feed poll needs to answer 304: one indexed lookup."""
    id: str
    version: int
    feed_version: int
    updated_at: str
    visible_position: int


#: a blog's head, as BlogHead's fields, of the blogs the query's WHERE names
_HEADS = ("SELECT b.id, b.version, a.feed_version, a.updated_at, a.visible_position"
          " FROM blogs b JOIN blog_activity a ON a.blog_id = b.id")


def find_blog_head(conn: Connection, key: str) -> BlogHead | None:
    """The blog's id and current versions by id or slug, or None."""
    row = conn.execute(f"{_HEADS} WHERE b.id = ? UNION ALL {_HEADS} WHERE b.slug = ? LIMIT 1",
                       (key, key)).fetchone()
    return BlogHead(*row) if row is not None else None


def blog_heads(conn: Connection, blog_ids: list[str]) -> dict[str, BlogHead]:
    """The heads of these blogs (by id), in one lookup a few hundred at a time."""
    heads: dict[str, BlogHead] = {}
    for start in range(0, len(blog_ids), 500):
        some = blog_ids[start:start + 500]
        for row in conn.execute(f"{_HEADS} WHERE b.id IN ({', '.join('?' * len(some))})",
                                some):
            heads[row[0]] = BlogHead(*row)
    return heads


def get_blog_head(conn: Connection, key: str) -> BlogHead:
    """Like find_blog_head, but raises BlogNotFoundError."""
    head = find_blog_head(conn, key)
    if head is None:
        raise BlogNotFoundError(f"no blog with id or slug {key!r}")
    return head


def blog_json(row: BlogRow, cursor: str) -> dict[str, Any]:
    """A blog row as the API's blog summary."""
    return {
        "id": row.id, "slug": row.slug, "title": row.title, "description": row.description,
        "authors": json.loads(row.authors), "organization": row.organization,
        "timezone": row.timezone, "status": row.status, "created_at": row.created_at,
        "updated_at": row.updated_at, "post_count": row.post_count, "cursor": cursor,
        "archive_after_days": row.archive_after_days, "language": row.language,
        "theme": json.loads(row.theme) if row.theme else None,
        "questions_enabled": bool(row.questions_enabled),
    }


def head_of(row: BlogRow) -> BlogHead:
    """The head part of a full blog row."""
    return BlogHead(row.id, row.version, row.feed_version, row.updated_at,
                    row.visible_position)


def get_blog_row(conn: Connection, blog_id: str) -> BlogRow:
    """The full blog row by id; raises BlogNotFoundError."""
    row = conn.execute(f"SELECT {_BLOG_COLUMNS} FROM blogs b JOIN blog_activity a"
                       " ON a.blog_id = b.id WHERE b.id = ?", (blog_id,)).fetchone()
    if row is None:
        raise BlogNotFoundError(f"no blog {blog_id!r}")
    return _blog(row)


def list_blog_rows(conn: Connection) -> list[BlogRow]:
    """Every blog, live ones first, most recently updated first."""
    return [_blog(r) for r in conn.execute(
        f"SELECT {_BLOG_COLUMNS} FROM blogs b JOIN blog_activity a ON a.blog_id = b.id"
        " ORDER BY b.status = 'closed', a.updated_at DESC, b.id")]


def post_json(row: PostRow, *, private: bool = False) -> dict[str, Any]:
    """A post row as the API's post; ``private`` (editors' answers, never cached for readers)
    adds who made its latest change."""
    status = row.status
    published_at = row.published_at
    byline = json.loads(row.byline)
    return {
        "id": row.id, "blog_id": row.blog_id, "status": status, "headline": row.headline,
        "byline": {"contributors": byline.get("contributors") or [],
                   "organization": byline.get("organization"),
                   "location": byline.get("location")},
        "body": json.loads(row.body),
        "display_time": row.display_time or published_at, "published_at": published_at,
        "updated_at": row.updated_at,
        "publish_at": row.publish_at if status == "scheduled" else None,
        "pinned": bool(row.pinned), "key_event": bool(row.key_event), "version": row.version,
        "edited": row.edited_at is not None, "edited_at": row.edited_at,
        "corrections": json.loads(row.corrections),
    } | ({"redacted": True} if row.redacted else {}) | (
        {"updated_by": {"name": row.updated_by}} if private else {})


def list_posts(conn: Connection, blog_id: str, order: str, limit: int,
               after: int | None) -> tuple[list[PostRow], int | None]:
    """One page of published posts and the sort key to continue after (None: last page)."""
    column, direction, comparison = ORDERS[order]
    where = "blog_id = ? AND status = 'published'"
    params: list[Any] = [blog_id]
    if after is not None:
        where += f" AND {column} {comparison} ?"
        params.append(after)
    rows = conn.execute(f"SELECT {_POST_COLUMNS} FROM feed_posts WHERE {where}"
                        f" ORDER BY {column} {direction} LIMIT ?", (*params, limit + 1)).fetchall()
    more = len(rows) > limit
    page = [_posts(conn, r) for r in rows[:limit]]
    next_key = getattr(page[-1], column) if more else None
    return page, next_key


def pinned_posts(conn: Connection, blog_id: str) -> list[PostRow]:
    """Published pinned posts, newest first."""
    return [_posts(conn, r) for r in conn.execute(
        f"SELECT {_POST_COLUMNS} FROM feed_posts WHERE blog_id = ? AND status = 'published'"
        " AND pinned = 1 ORDER BY publish_position DESC", (blog_id,))]


def key_event_posts(conn: Connection, blog_id: str) -> list[PostRow]:
    """Published key events, newest first (the reader page's summary list)."""
    return [_posts(conn, r) for r in conn.execute(
        f"SELECT {_POST_COLUMNS} FROM feed_posts WHERE blog_id = ? AND status = 'published'"
        " AND key_event = 1 ORDER BY publish_position DESC", (blog_id,))]


def get_post_row(conn: Connection, blog_id: str, post_id: str, *,
                 unpublished: bool = False, redacted: bool = False) -> PostRow:
    """One post; readers (``unpublished=False``) only get published ones, and only history
    (``redacted=True``) gets a redacted one.

    :raises PostNotFoundError: no such post in that blog, or not visible to the asker.
    """
    row = conn.execute(f"SELECT {_POST_COLUMNS} FROM feed_posts WHERE id = ? AND blog_id = ?",
                       (post_id, blog_id)).fetchone()
    if row is None or (row[2] == "redacted" and not redacted) or (
            not unpublished and row[2] != "published"):
        raise PostNotFoundError(f"no post {post_id!r} in this blog")
    return _posts(conn, row)


def list_posts_by_status(conn: Connection, blog_id: str,
                         statuses: list[str]) -> list[PostRow]:
    """Every post of the blog with one of ``statuses``, most recently changed first (editors)."""
    marks = ",".join("?" * len(statuses))
    return [_posts(conn, r) for r in conn.execute(
        f"SELECT {_POST_COLUMNS} FROM feed_posts WHERE blog_id = ? AND status IN ({marks})"
        " ORDER BY updated_at DESC, id", (blog_id, *statuses))]


def changes_since(conn: Connection, blog_id: str, since: int,
                  limit: int) -> tuple[list[PostRow], bool]:
    """Posts whose reader-visible state changed after position ``since``, oldest change first."""
    rows = conn.execute(
        f"SELECT {_POST_COLUMNS} FROM feed_posts WHERE blog_id = ? AND change_position > ?"
        " ORDER BY change_position LIMIT ?", (blog_id, since, limit + 1)).fetchall()
    return [_posts(conn, r) for r in rows[:limit]], len(rows) > limit


def changes_cursor(rows: list[PostRow], more: bool, visible_position: int, since: int) -> int:
    """Where the next /changes poll starts: after the last change sent when there are more,
    else at the blog's latest visible change (never before where this poll started)."""
    if more and rows[-1].change_position is not None:
        return rows[-1].change_position
    return max(visible_position, since)


def feed_page(conn: Connection, blog_id: str, order: str, limit: int,
              after: int | None, cursor_of: Any) -> tuple[dict[str, Any], BlogHead]:
    """One feed page (the API's shape) and the head it was read at, from one snapshot.

    :param cursor_of: ``cursor_of(kind, position) -> str``, the API's cursor encoder.
    """

    with read_snapshot(conn):
        row = get_blog_row(conn, blog_id)
        rows, next_key = list_posts(conn, blog_id, order, limit, after)
        pinned = pinned_posts(conn, blog_id) if after is None else []
    page = {
        "blog": blog_json(row, cursor_of("c", row.visible_position)),
        "pinned": [post_json(r) for r in pinned],
        "posts": [post_json(r) for r in rows],
        "total": row.post_count,
        "next_cursor": cursor_of(order[0], next_key) if next_key is not None else None,
        "cursor": cursor_of("c", row.visible_position),
    }
    return page, head_of(row)


def change(row: PostRow) -> dict[str, Any]:
    """A changed post as a /changes entry: an upsert, or a delete tombstone."""
    if row.status == "published":
        return {"op": "upsert", "post": post_json(row)}
    return {"op": "delete", "id": row.id}


def blog_corrections(conn: Connection, blog_id: str) -> list[dict[str, Any]]:
    """Every correction of the blog's published posts, newest first."""
    found = []
    keys = keys_of(conn)
    for post_id, corrections in conn.execute(
            "SELECT id, corrections FROM feed_posts WHERE blog_id = ? AND status = 'published'"
            " AND corrections <> '[]'", (blog_id,)):
        if keys is not None:
            corrections = keys.open(post_stream(blog_id, post_id), corrections)
        found += [{**c, "post_id": post_id} for c in json.loads(corrections)]
    return sorted(found, key=lambda c: (c["recorded_at"], c["id"]), reverse=True)


def blog_slugs(conn: Connection, blog_ids: list[str]) -> dict[str, str]:
    """Blog id -> slug, for these blogs."""
    if not blog_ids:
        return {}
    marks = ",".join("?" * len(blog_ids))
    return dict(conn.execute(f"SELECT id, slug FROM blogs WHERE id IN ({marks})",
                             blog_ids).fetchall())


def workflow_of(conn: Connection, post_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Post id -> its author ({id, name} or None) and review note, for these posts (what the
    blog's members see of the approval workflow)."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(post_ids), 500):
        chunk = post_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for post_id, author_id, name, note in conn.execute(
                "SELECT w.post_id, w.author_id, p.name, w.review_note FROM post_workflow w"
                " LEFT JOIN people p ON p.id = w.author_id"
                f" WHERE w.post_id IN ({marks})", chunk):
            author = ({"id": author_id, "name": name or author_id}
                      if author_id is not None else None)
            found[post_id] = {"author": author, "review_note": note}
    return found
