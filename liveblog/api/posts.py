"""Posts: the feed, single posts, changes since a cursor; create, change and delete.

The feed is built for a news spike. A poll is answered from one indexed lookup of the blog's
current ``feed_version``: an unchanged feed answers 304 without touching posts, and a changed
one is rendered once per blog version and kept (FeedCache), not rendered once per reader.
:class:`UnchangedPolls` answers the unchanged anonymous poll in front of Flask.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import wraps
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from flask import Flask, current_app, g, request, url_for
from flask.views import MethodView

from events import DATABASE_ERRORS, format_time, read_snapshot

from .. import queries
from ..audit import feed_as_of, resolve_as_of
from ..db import get_db
from ..domain import commands as cmd
from ..queries import BlogHead
from ..service import new_id
from . import (
    Blueprint,
    content_etag,
    dumps,
    errors,
    idempotent_post,
    if_match,
    json_response,
    not_modified,
    reader_get,
    reader_headers,
    validator_headers,
)
from .auth import current_actor, is_editor, require_role
from .cursors import decode_cursor, encode_cursor
from .preconditions import if_match_version, none_match, post_etag, tag_listed
from .schemas import (
    MAX_LONG_POLL_WAIT,
    ChangesQuerySchema,
    ChangesSchema,
    DeleteQuerySchema,
    FeedQuerySchema,
    FeedSchema,
    PostCreateSchema,
    PostPatchSchema,
    PostSchema,
)
from .views import post_after, run

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

blp = Blueprint("posts", __name__, url_prefix="/api/blogs",
                description="Posts of a blog: the feed, changes, and editing.")

_EDITOR: list[dict[str, list[str]]] = [{"bearer": []}]
_CONTENT_FIELDS = ("headline", "byline", "body", "display_time")


class FeedCache:
    """Rendered feed responses by ETag (which names the blog's version): a bounded LRU."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        with self._lock:
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def feed_cache() -> FeedCache:
    """This app's feed cache (one per process)."""
    return current_app.extensions["liveblog.feed_cache"]  # type: ignore[no-any-return]


def _tag(head: BlogHead, what: str, query: bytes | None = None) -> str:
    """A strong ETag naming the blog, its feed version, the resource and the raw query."""
    if query is None:
        query = request.query_string
    digest = "." + hashlib.sha256(query).hexdigest()[:16] if query else ""
    return f'"{what[0]}{head.feed_version}.{head.id}{digest}"'


def _long_poll_wait() -> int:
    """The ``wait`` of a /changes long poll when it is a valid one (else 0: the view decides)."""
    raw = request.args.get("wait", "")
    return (int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_LONG_POLL_WAIT
            else 0)


def answered_from_head(what: str) -> Callable[[Any], Any]:
    """Answer a reader GET from the blog's head row when possible: 304, or a cached body.

    Runs before the query is parsed: the ETag names the blog's feed version and the raw query,
    so a matching If-None-Match needs no more work than one indexed lookup.
    """

    def decorator(view: Any) -> Any:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if "HTTP_AUTHORIZATION" in request.environ:
                current_actor()  # a bad token is a 401 even on reader endpoints
            head = queries.get_blog_head(get_db().store().conn, kwargs["blog"])
            if "as_of" in request.args or "status" in request.args:  # not the live feed
                g.blog_head = head
                return view(*args, **kwargs)
            etag = _tag(head, what)
            current = none_match(etag, any_tag=False)  # "*" waits for the query's validation
            if current and what == "changes" and (wait := _long_poll_wait()):
                # the reader has the current state: hold the long poll until something changes
                head = _wait_for_change(head, head.visible_position, wait)
                etag = _tag(head, what)
                current = none_match(etag, any_tag=False)
            headers = reader_headers(etag, head.updated_at)
            if current:
                return not_modified(headers)
            cached = feed_cache().get(etag)
            if cached is not None:  # rendered for this very query, so a valid one
                if none_match(etag):
                    return not_modified(headers)
                return json_response(None, raw=cached, headers=headers)
            g.blog_head = head
            return view(*args, **kwargs)

        return wrapped

    return decorator


@require_role("editor", "auditor")
def _posts_by_status(head: BlogHead, statuses: list[str]) -> Any:
    conn = get_db().store().conn
    with read_snapshot(conn):
        row = queries.get_blog_row(conn, head.id)
        rows = queries.list_posts_by_status(conn, head.id, statuses)
    return json_response({
        "blog": queries.blog_json(row, encode_cursor("c", row[13])), "pinned": [],
        "posts": [queries.post_json(r) for r in rows], "total": len(rows),
        "next_cursor": None, "cursor": encode_cursor("c", row[13]),
    }, headers={"Cache-Control": "private, no-cache"})


@require_role("auditor")
def _feed_as_of(head: BlogHead, as_of: str, order: str, limit: int, after: int | None) -> Any:
    store = get_db().store()
    position = resolve_as_of(store, as_of)
    page = feed_as_of(get_db().runner(), head.id, position, order=order, limit=limit,
                      after=after, snapshot_every=current_app.config["AS_OF_SNAPSHOT_EVERY"])
    body = dumps(page)
    return json_response(None, raw=body, headers={"ETag": content_etag(body),
                                                  "Cache-Control": "private, no-cache"})


def _send(body: bytes, head: BlogHead, what: str) -> Any:
    """Send a rendered body with validators of the snapshot it was read from, and keep it."""
    etag = _tag(head, what)
    feed_cache().put(etag, body)
    headers = reader_headers(etag, head.updated_at)
    if none_match(etag):  # If-None-Match: * on a valid query
        return not_modified(headers)
    return json_response(None, raw=body, headers=headers)


def _content(data: dict[str, Any]) -> dict[str, Any]:
    content = {k: data[k] for k in _CONTENT_FIELDS if k in data}
    if content.get("display_time") is not None:
        content["display_time"] = format_time(content["display_time"])
    return content


@blp.route("/<blog>/posts")
class Posts(MethodView):
    @answered_from_head("feed")
    @blp.arguments(FeedQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, FeedSchema)
    @reader_get()
    @errors(blp, 400, 401, 403, 404, 422)
    def get(self, blog: str, order: str, limit: int, cursor: str | None = None,
            as_of: str | None = None, status: str | None = None) -> Any:
        """The feed: a page of published posts, pinned ones first on the first page.

        Auditors may add ``as_of`` (a time or a cursor) for the feed as readers saw it then.
        """
        head: BlogHead = g.blog_head
        after = decode_cursor(order[0], cursor) if cursor is not None else None
        if as_of is not None:
            return _feed_as_of(head, as_of, order, limit, after)
        if status is not None:
            return _posts_by_status(head, status.split(","))
        page, read_at = queries.feed_page(get_db().store().conn, head.id, order, limit, after,
                                          encode_cursor)
        return _send(dumps(page), read_at, "feed")

    @require_role("editor")
    @blp.arguments(PostCreateSchema)
    @blp.response(201, PostSchema)
    @blp.doc(security=_EDITOR)
    @idempotent_post(created=True)
    @errors(blp, 400, 401, 403, 404, 409, 413, 415, 422)
    def post(self, data: dict[str, Any], blog: str) -> Any:
        """Publish a post now (default), save a draft, or schedule it with publish_at."""
        head = queries.get_blog_head(get_db().store().conn, blog)
        content = _content(data)
        content.setdefault("byline", {"contributors": []})
        content.setdefault("body", [])
        command = cmd.CreatePost(
            blog_id=head.id, post_id=new_id(), content=content,
            status=data.get("status", "published"), publish_at=data.get("publish_at"),
            pinned=data.get("pinned", False), key_event=data.get("key_event", False))
        outcome = run(command, idempotent=True)
        post_id = outcome.events[0].data["post_id"]
        body = post_after(outcome, head.id, post_id)
        return json_response(body, 201, {
            "Location": url_for("posts.Post", blog=head.id, post=post_id),
            "ETag": post_etag(body["version"])})


@blp.route("/<blog>/posts/<post>")
class Post(MethodView):
    @blp.response(200, PostSchema)
    @reader_get()
    @errors(blp, 401, 404)
    def get(self, blog: str, post: str) -> Any:
        """One post. Readers see published posts only; editors and auditors see any."""
        conn = get_db().store().conn
        head = queries.get_blog_head(conn, blog)
        row = queries.get_post_row(conn, head.id, post, unpublished=is_editor())
        headers = reader_headers(post_etag(row[12]), row[8])
        if none_match(headers["ETag"]):
            return not_modified(headers)
        return json_response(queries.post_json(row), headers=headers)

    @require_role("editor")
    @blp.arguments(PostPatchSchema)
    @blp.response(200, PostSchema)
    @blp.doc(security=_EDITOR)
    @if_match(required=True, what="post")
    @errors(blp, 400, 401, 403, 404, 409, 412, 413, 415, 422, 428)
    def patch(self, data: dict[str, Any], blog: str, post: str) -> Any:
        """Change a post: content, pin, key event, publish a draft now, or reschedule.

        Needs ``If-Match: "<version>"``; a stale version is a 412 and nothing changes.
        """
        expected = if_match_version(required=True)
        head = queries.get_blog_head(get_db().store().conn, blog)
        command = cmd.EditPost(
            blog_id=head.id, post_id=post, changes=_content(data), pinned=data.get("pinned"),
            key_event=data.get("key_event"), publish=data.get("status") == "published",
            publish_at=data.get("publish_at"))
        outcome = run(command, expected_version=expected)
        body = post_after(outcome, head.id, post)
        return json_response(body, 200, {"ETag": post_etag(body["version"])})

    @require_role("editor")
    @blp.arguments(DeleteQuerySchema, location="query", as_kwargs=True)
    @blp.response(204)
    @blp.doc(security=_EDITOR)
    @if_match(required=False, what="post")
    @errors(blp, 401, 403, 404, 409, 412, 422)
    def delete(self, blog: str, post: str, reason: str | None = None) -> Any:
        """Delete a post (a scheduled one never goes live). Its history stays."""
        expected = if_match_version(required=False)
        head = queries.get_blog_head(get_db().store().conn, blog)
        run(cmd.DeletePost(head.id, post, reason), expected_version=expected)
        return current_app.response_class(status=204)


@blp.route("/<blog>/changes")
class Changes(MethodView):
    @answered_from_head("changes")
    @blp.arguments(ChangesQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, ChangesSchema)
    @reader_get()
    @errors(blp, 400, 401, 404, 422)
    def get(self, blog: str, since: str, limit: int, wait: int) -> Any:
        """Every post whose visible state changed after the cursor, oldest change first.

        With ``wait`` > 0 and nothing new, holds the request up to that many seconds.
        """
        position = decode_cursor("c", since, field="since")
        conn = get_db().store().conn
        head: BlogHead = g.blog_head
        if wait and head.visible_position <= position:
            head = _wait_for_change(head, position, wait)
        with read_snapshot(conn):
            row = queries.get_blog_row(conn, head.id)
            rows, more = queries.changes_since(conn, head.id, position, limit)
        cursor = rows[-1][15] if more else max(row[13], position)
        body = dumps({
            "changes": [queries.change(r) for r in rows],
            "blog": queries.blog_json(row, encode_cursor("c", row[13])),
            "cursor": encode_cursor("c", cursor),
            "more": more,
        })
        return _send(body, queries.head_of(row), "changes")


def _wait_for_change(head: BlogHead, position: int, wait: int) -> BlogHead:
    """Hold a long poll until the blog changes after ``position`` or ``wait`` seconds pass.

    The database's watcher wakes it when the log grows (on PostgreSQL, as soon as any node's
    append commits; on SQLite, every LONG_POLL_INTERVAL). Only LONG_POLL_MAX_WAITERS polls
    wait at once per process; the others answer at once, so held polls can never take every
    worker thread from other requests.
    """
    waiters: threading.BoundedSemaphore = current_app.extensions["liveblog.waiters"]
    if not waiters.acquire(blocking=False):
        return head
    try:
        db = get_db()
        watcher = db.watcher()
        deadline = time.monotonic() + wait
        while (remaining := deadline - time.monotonic()) > 0:
            watcher.wait(remaining)
            head = queries.get_blog_head(db.store().conn, head.id)
            if head.visible_position > position:
                break
        return head
    finally:
        waiters.release()


_POLLED = re.compile(r"/api/blogs/([^/]+)/(posts|changes)")
_RESOURCE = {"posts": "feed", "changes": "changes"}
#: query words that take a request off the plain reader poll (auditors, editors, long polls)
_NOT_A_PLAIN_POLL = ("as_of", "status", "wait")


class UnchangedPolls:
    """WSGI middleware in front of Flask for the busiest request of a news spike.

    An anonymous ``GET`` of a feed or of ``/changes`` whose ``If-None-Match`` names the blog's
    current version is answered 304 here, from the same one indexed lookup and with the same
    validators as :func:`answered_from_head`, before any framework work. Every other request,
    and every case this does not recognise, goes on to Flask unchanged.
    """

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.database = app.extensions["liveblog.db"]
        self.cache_control: str = app.extensions["liveblog.cache_control"]
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        header = environ.get("HTTP_IF_NONE_MATCH")
        if (header and environ.get("REQUEST_METHOD") == "GET"
                and "HTTP_AUTHORIZATION" not in environ):
            match = _POLLED.fullmatch(environ.get("PATH_INFO", ""))
            query: str = environ.get("QUERY_STRING", "")
            if (match is not None and query.isascii()
                    and not any(word in unquote(query) for word in _NOT_A_PLAIN_POLL)):
                head = self._head(match[1])
                if head is not None:
                    etag = _tag(head, _RESOURCE[match[2]], query.encode("ascii"))
                    if tag_listed(header, etag, any_tag=False):
                        start_response("304 NOT MODIFIED", list(
                            validator_headers(etag, self.cache_control).items()))
                        return []
        return self.wsgi_app(environ, start_response)

    def _head(self, key: str) -> BlogHead | None:
        try:
            return queries.find_blog_head(self.database.store().conn, key)
        except DATABASE_ERRORS:
            return None  # Flask's path answers it, with a problem if it must
