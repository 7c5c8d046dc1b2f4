"""What the blog and post views share: running a command, and rendering its result."""

from __future__ import annotations

from typing import Any

from flask import request

from .. import queries
from ..bootstrap import get_liveblog
from ..cursors import encode_cursor
from ..domain import commands as cmd
from ..http.caching import blog_etag
from ..projections import BlogsProjection, FeedProjection
from ..service import Outcome, Service
from ..streams import blog_stream, post_stream
from .auth import current_actor
from .edge import fingerprint


def service() -> Service:
    """A service on this thread's store."""
    return get_liveblog().service()


def run(command: cmd.Command, *, expected_version: int | None = None,
        idempotent: bool = False) -> Outcome:
    """Handle ``command`` as the request's actor, with its Idempotency-Key when ``idempotent``."""
    actor = current_actor()
    assert actor is not None  # views that write are behind require()
    key = request.headers.get("Idempotency-Key") if idempotent else None
    scoped = f"{actor.id}:{key}" if key else None  # one person's keys never meet another's
    return service().handle(command, actor, expected_version=expected_version,
                            idempotency_key=scoped,
                            fingerprint=fingerprint() if key else None,
                            request_id=request.headers.get("X-Request-Id"))


def blog_summary(blog_id: str) -> tuple[dict[str, Any], str]:
    """The blog summary and its ETag, now."""
    conn = get_liveblog().store().conn
    row = queries.get_blog_row(conn, blog_id)
    return (queries.blog_json(row, encode_cursor("c", row.visible_position)),
            blog_etag(row.version, row.feed_version))


def blog_after(outcome: Outcome, blog_id: str) -> tuple[dict[str, Any], str]:
    """The blog as it was right after ``outcome`` (the first answer, for a replayed request)."""
    if not outcome.replayed:
        return blog_summary(blog_id)
    scratch = _as_of(outcome, blog_stream(blog_id))
    row = queries.get_blog_row(scratch, blog_id)
    scratch.close()
    return (queries.blog_json(row, encode_cursor("c", row.visible_position)),
            blog_etag(row.version, row.feed_version))


def private_posts(conn: Any, rows: list[queries.PostRow]) -> list[dict[str, Any]]:
    """Posts as the blog's members see them: with their author and the review note."""
    workflow = queries.workflow_of(conn, [r.id for r in rows])
    empty = {"author": None, "review_note": None}
    return [queries.post_json(r, private=True) | workflow.get(r.id, empty) for r in rows]


def post_after(outcome: Outcome, blog_id: str, post_id: str) -> dict[str, Any]:
    """The post as it was right after ``outcome`` (the first answer, for a replayed request)."""
    conn = get_liveblog().store().conn
    if not outcome.replayed:
        return private_posts(conn, [queries.get_post_row(conn, blog_id, post_id,
                                                         unpublished=True)])[0]
    scratch = _as_of(outcome, post_stream(blog_id, post_id))
    row = queries.get_post_row(scratch, blog_id, post_id, unpublished=True)
    scratch.close()
    return private_posts(conn, [row])[0]


def _as_of(outcome: Outcome, stream_id: str) -> Any:
    runner = get_liveblog().runner()
    scratch, _ = runner.as_of([BlogsProjection(), FeedProjection()],
                              position=outcome.events[-1].position, stream_prefix=stream_id)
    return scratch
