"""For auditors: the feed as readers saw it at a past moment, and every revision of a post.

A feed as of a moment is the live feed's queries over the feed's history (every version of its
rows, with the positions each held between: :class:`FeedHistoryProjection`), built from the log
by the same handlers as the live feed. A post's revisions replay its own stream.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from itertools import groupby
from typing import Any

from events import (
    EventStore,
    ProjectionRunner,
    RecordedEvent,
    Tables,
    connect,
    format_time,
)
from events.history import AsOf, sql_string

from . import queries
from .cursors import MalformedCursorError, decode_cursor, encode_cursor
from .domain.errors import BlogNotFoundError, InvalidCommandError, PostNotFoundError
from .projections import FeedHistoryProjection, FeedProjection
from .streams import post_stream

log = logging.getLogger(__name__)

FEED_HISTORY = FeedHistoryProjection()

#: compared field by field in a revision's ``changes`` (body block by block)
DIFF_FIELDS = ("status", "headline", "byline", "display_time", "published_at", "publish_at",
               "pinned", "key_event", "corrections")


def resolve_as_of(store: EventStore, value: str) -> int:
    """The log position of an ``as_of`` value: an RFC 3339 time with an offset, or a cursor.

    :raises InvalidCommandError: a time without an offset or not a time at all (422).
    :raises MalformedCursorError: something that is neither a time nor our cursor (400).
    """
    try:
        return decode_cursor("c", value, field="as_of")
    except MalformedCursorError:
        if not value[:4].isdigit():
            raise MalformedCursorError("as_of is neither an RFC 3339 time nor a cursor") from None
    # an unencoded "+01:00" in a query string arrives as " 01:00"
    value = re.sub(r" (\d{2}:\d{2})$", r"+\1", value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as e:
        raise InvalidCommandError("as_of", "as_of is not an RFC 3339 time") from e
    if moment.tzinfo is None:
        raise InvalidCommandError("as_of", "as_of needs an offset (e.g. Z or +01:00)")
    return store.position_at(moment)


def feed_as_of(runner: ProjectionRunner, blog_id: str, position: int, *, order: str = "newest",
               limit: int = 20, after: int | None = None) -> dict[str, Any]:
    """The feed page readers got at ``position``, in the live feed's shape: the live feed's
    own queries, over the feed's history as it stood then (:class:`FeedHistoryProjection`).

    :raises BlogNotFoundError: the blog did not exist yet.
    """
    at = int(position)
    blog = sql_string(blog_id)
    then = AsOf(runner.store.conn, FEED_HISTORY, at,
                single={"blogs": blog_id, "blog_activity": blog_id},
                # what the feed page reads of the posts: a blog's published ones, which were
                # published and last changed by then (so an index ranges from that moment)
                where={"feed_posts": f"blog_id = {blog} AND status = 'published'"
                                     f" AND publish_position <= {at} AND change_position <= {at}"})
    if queries.find_blog_head(then, blog_id) is None:
        raise BlogNotFoundError(f"blog {blog_id} did not exist at position {position}")
    page, _ = queries.feed_page(then, blog_id, order, limit, after, encode_cursor)
    return page


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"from", "to"}}`` between two post states; body compared block by block."""
    old = before or {}
    changes: dict[str, dict[str, Any]] = {}
    for field in DIFF_FIELDS:
        if old.get(field) != after.get(field):
            changes[field] = {"from": old.get(field), "to": after.get(field)}
    old_body, new_body = old.get("body") or [], after.get("body") or []
    for index in range(max(len(old_body), len(new_body))):
        was = old_body[index] if index < len(old_body) else None
        now = new_body[index] if index < len(new_body) else None
        if was != now:
            changes[f"body.{index}"] = {"from": was, "to": now}
    return changes


#: what a legal redaction erases of a post (the rest of its history stays)
ERASED_FIELDS = ("headline", "byline", "body", "corrections")


def _content_keys(event: RecordedEvent) -> set[str]:
    """The erasable fields an event of a post set."""
    if event.type == "PostCorrected":
        return {"corrections"}
    keys: set[str] = set()
    for key in ("content", "changes"):
        if isinstance(event.data.get(key), dict):
            keys |= set(event.data[key]) & set(ERASED_FIELDS)
    return keys


def post_history(store: EventStore, blog_id: str, post_id: str) -> list[dict[str, Any]]:
    """Every revision of a post in order: type, time, actor, state after and field diffs.

    :raises PostNotFoundError: the blog has no such post (in any status).
    """
    events = list(store.read_stream(post_stream(blog_id, post_id)))
    if not events:
        raise PostNotFoundError(f"no post {post_id!r} in this blog")
    redacted = events[-1].type == "PostRedacted"
    feed = FeedProjection()
    scratch = connect(":memory:", synchronous="OFF")
    t = Tables(feed.tables, 0, live=True)
    feed.create(scratch, t)
    revisions: list[dict[str, Any]] = []
    before: dict[str, Any] | None = None
    for version, group in groupby(events, key=lambda e: e.data["revision"]):
        batch = list(group)
        feed.apply(scratch, t, batch)
        state = queries.post_json(queries.get_post_row(scratch, blog_id, post_id,
                                                       unpublished=True, redacted=True))
        first = batch[0]
        revision: dict[str, Any] = {
            "version": version,
            "event_type": first.type,
            "event_types": [e.type for e in batch],
            "recorded_at": format_time(first.recorded_at),
            "actor": first.metadata.get("actor"),
            "post": state,
            "changes": diff(before, state),
        }
        if redacted:
            # the erased fields hold nothing to compare: each revision names the ones it
            # touched instead of showing them "changed" to an empty value
            revision["changes"] = {k: v for k, v in revision["changes"].items()
                                   if k not in ERASED_FIELDS}
            touched = sorted({k for e in batch for k in _content_keys(e)})
            if touched:
                revision["redacted_fields"] = touched
        reason = next((e.data.get("reason") for e in batch
                       if e.type in ("PostDeleted", "PostRedacted")), None)
        if reason:
            revision["reason"] = reason
        if redacted:
            # the content left the record: the revision says so, and holds none
            revision["redacted"] = True
        revisions.append(revision)
        before = state
    scratch.close()
    return revisions
