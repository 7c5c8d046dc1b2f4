"""Posts: the feed, single posts, changes since a cursor; create, change and delete.

The feed is built for a news spike: whether a reader's copy is current, and whether this answer
was already rendered, is decided once per request from one lookup of the blog's head
(:mod:`.freshness`); these views render what is left, from one snapshot.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request, url_for
from flask.views import MethodView

from events import format_time, read_snapshot

from .. import embeds, media, polls, queries
from ..audit import feed_as_of, resolve_as_of
from ..bootstrap import get_liveblog
from ..cursors import decode_cursor, encode_cursor
from ..domain import commands as cmd
from ..domain.access import PostFacts
from ..domain.errors import InvalidCommandError, PostNotFoundError
from ..http.caching import (
    conditional,
    content_etag,
    head_etag,
    policies,
    post_etag,
    reader_headers,
)
from ..queries import BlogHead
from ..service import new_id
from .auth import allowed, current_actor, may_here, require, signed_in
from .docs import SIGNED_IN, Blueprint, errors, idempotent_post, reader_get
from .edge import dumps, json_response
from .freshness import ReaderRequest, reader_answer
from .preconditions import if_match
from .schemas import (
    ApproveSchema,
    ChangesQuerySchema,
    ChangesSchema,
    CorrectionCreateSchema,
    CorrectionsSchema,
    DeleteQuerySchema,
    FeedQuerySchema,
    FeedSchema,
    PostCreateSchema,
    PostPatchSchema,
    PostSchema,
    RedactionCreateSchema,
    RedactionSchema,
    RejectSchema,
    UnpublishSchema,
)
from .views import post_after, private_posts, run

blp = Blueprint("posts", __name__, url_prefix="/api/blogs",
                description="Posts of a blog: the feed, changes, and editing.")

_CONTENT_FIELDS = ("headline", "byline", "body", "display_time")


@require()
def _posts_by_status(head: BlogHead, statuses: list[str]) -> Any:
    allowed("post.list_unpublished", head.id)
    conn = get_liveblog().store().conn
    with read_snapshot(conn):
        row = queries.get_blog_row(conn, head.id)
        rows = queries.list_posts_by_status(conn, head.id, statuses)
        posts = private_posts(conn, rows)
    # published posts are everyone's; of the others, a contributor sees their own, and
    # editors, auditors and legal every one
    posts = [p for p in posts if p["status"] == "published"
             or may_here("post.read_unpublished", head.id, _facts(p))]
    return json_response({
        "blog": queries.blog_json(row, encode_cursor("c", row.visible_position)), "pinned": [],
        "posts": posts, "total": len(posts),
        "next_cursor": None, "cursor": encode_cursor("c", row.visible_position),
    }, headers={"Cache-Control": policies().private})


def _facts(post: dict[str, Any]) -> PostFacts:
    author = post.get("author")
    return PostFacts(author["id"] if author else None, post["status"])


@require("audit.read")
def _feed_as_of(head: BlogHead, as_of: str, order: str, limit: int, after: int | None) -> Any:
    store = get_liveblog().store()
    position = resolve_as_of(store, as_of)
    page = feed_as_of(get_liveblog().runner(), head.id, position, order=order, limit=limit,
                      after=after)
    body = dumps(page)
    return json_response(None, raw=body, headers={"ETag": content_etag(body),
                                                  "Cache-Control": policies().private})


def _send(body: bytes, head: BlogHead, what: str) -> Any:
    """Send a rendered body with validators of the snapshot it was read from (an anonymous one
    is kept in front of Flask for the next reader)."""
    headers = reader_headers(head_etag(head, what, request.query_string), head.updated_at)
    unchanged = conditional(headers)  # If-None-Match: * on a valid query
    return unchanged or json_response(None, raw=body, headers=headers)


def _content(data: dict[str, Any], post_id: str,
             before: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A post's content as its event holds it: uploaded images with their URL and size,
    embeds resolved, its poll named (``before``: the body the post had)."""
    content = {k: data[k] for k in _CONTENT_FIELDS if k in data}
    if content.get("display_time") is not None:
        content["display_time"] = format_time(content["display_time"])
    if content.get("body"):
        content["body"] = polls.settle(content["body"], post_id, before)
    for index, block in enumerate(content.get("body") or []):
        if block.get("media_id") is not None:
            # the event holds the image's hash, where it is served and its size
            found = media.get(get_liveblog().store().conn, block["media_id"])
            if found is None:
                raise InvalidCommandError(f"body.{index}.media_id",
                                          "no uploaded image has this id (POST /api/media)")
            block.update(url=found.path, width=found.width, height=found.height)
    if content.get("body"):  # embeds resolved through oEmbed, within OEMBED_TIMEOUT
        liveblog = get_liveblog()
        content["body"] = embeds.resolve_blocks(liveblog.store().conn, content["body"],
                                                current_app.extensions["liveblog.embeds"],
                                                liveblog.now())
    return content


@blp.route("/<blog>/posts")
class Posts(MethodView):
    @reader_answer("feed")
    @blp.arguments(FeedQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, FeedSchema)
    @reader_get()
    @errors(blp, 400, 401, 403, 404)
    def get(self, blog: str, order: str, limit: int, cursor: str | None = None,
            as_of: str | None = None, status: str | None = None) -> Any:
        """The feed: a page of published posts, pinned ones first on the first page.

        Auditors may add ``as_of`` (a time or a cursor) for the feed as readers saw it then.
        """
        head: BlogHead = g.reader.head
        after = decode_cursor(order[0], cursor) if cursor is not None else None
        if as_of is not None:
            return _feed_as_of(head, as_of, order, limit, after)
        if status is not None:
            return _posts_by_status(head, status.split(","))
        page, read_at = queries.feed_page(get_liveblog().store().conn, head.id, order, limit, after,
                                          encode_cursor)
        return _send(dumps(page), read_at, "feed")

    @require()
    @blp.arguments(PostCreateSchema)
    @blp.response(201, PostSchema)
    @blp.doc(security=SIGNED_IN)
    @idempotent_post(created=True)
    @errors(blp, 404, 409)
    def post(self, data: dict[str, Any], blog: str) -> Any:
        """Publish a post now (an editor's default), save a draft (a contributor's default),
        submit it for approval, or schedule it with publish_at."""
        head = queries.get_blog_head(get_liveblog().store().conn, blog)
        actor = signed_in()
        post_id = new_id()
        content = _content(data, post_id)
        content.setdefault("byline", {"contributors": []})
        content.setdefault("body", [])
        contributor = actor.person is not None and actor.person.on(head.id) == "contributor"
        command = cmd.CreatePost(
            blog_id=head.id, post_id=post_id, content=content,
            status=data.get("status", "draft" if contributor else "published"),
            publish_at=data.get("publish_at"), pinned=data.get("pinned", False),
            key_event=data.get("key_event", False), author=actor.id)
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
        """One post. Readers see published posts only; the blog's editors, auditors and legal
        see any, a contributor their own."""
        conn = get_liveblog().store().conn
        head = queries.get_blog_head(conn, blog)
        if current_actor() is None:
            row = queries.get_post_row(conn, head.id, post)
            body = queries.post_json(row)
        else:
            row = queries.get_post_row(conn, head.id, post, unpublished=True)
            body = private_posts(conn, [row])[0]
            if not may_here("post.read_unpublished", head.id, _facts(body)):
                if row.status != "published":
                    raise PostNotFoundError(f"no post {post!r} in this blog")
                body = queries.post_json(row)
        headers = reader_headers(post_etag(row.version), row.updated_at)
        return conditional(headers) or json_response(body, headers=headers)

    @require()
    @blp.arguments(PostPatchSchema)
    @blp.response(200, PostSchema)
    @blp.doc(security=SIGNED_IN)
    @if_match(required=True, what="post")
    @errors(blp, 404, 409)
    def patch(self, data: dict[str, Any], blog: str, post: str, expected: int | None) -> Any:
        """Change a post: content, pin, key event, publish a draft now, or reschedule.

        Needs ``If-Match: "<version>"``; a stale version is a 412 and nothing changes.
        """
        conn = get_liveblog().store().conn
        head = queries.get_blog_head(conn, blog)
        before = None
        if "body" in data:
            try:
                before = queries.post_json(queries.get_post_row(conn, head.id, post,
                                                                unpublished=True))["body"]
            except PostNotFoundError:
                before = None  # deciding says 404
        command = cmd.EditPost(
            blog_id=head.id, post_id=post, changes=_content(data, post, before),
            pinned=data.get("pinned"),
            key_event=data.get("key_event"), publish=data.get("status") == "published",
            publish_at=data.get("publish_at"))
        outcome = run(command, expected_version=expected)
        body = post_after(outcome, head.id, post)
        return json_response(body, 200, {"ETag": post_etag(body["version"])})

    @require()
    @blp.arguments(DeleteQuerySchema, location="query", as_kwargs=True)
    @blp.response(204)
    @blp.doc(security=SIGNED_IN)
    @if_match(required=False, what="post")
    @errors(blp, 404, 409)
    def delete(self, blog: str, post: str, reason: str | None = None,
               expected: int | None = None) -> Any:
        """Delete a post (a scheduled one never goes live). Its history stays."""
        head = queries.get_blog_head(get_liveblog().store().conn, blog)
        run(cmd.DeletePost(head.id, post, reason), expected_version=expected)
        return current_app.response_class(status=204)


@blp.route("/<blog>/changes")
class Changes(MethodView):
    @reader_answer("changes")
    @blp.arguments(ChangesQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, ChangesSchema)
    @reader_get()
    @errors(blp, 400, 401, 404)
    def get(self, blog: str, since: str, limit: int, wait: int) -> Any:
        """Every post whose visible state changed after the cursor, oldest change first.

        With ``wait`` > 0 and nothing new, holds the request up to that many seconds (the
        freshness decision holds it, before this runs).
        """
        reader: ReaderRequest = g.reader
        # decoded once, in front of the view; a malformed one is decoded here for its 400
        position = (reader.since if reader.since is not None
                    else decode_cursor("c", since, field="since"))
        conn = get_liveblog().store().conn
        head = reader.head
        with read_snapshot(conn):
            row = queries.get_blog_row(conn, head.id)
            rows, more = queries.changes_since(conn, head.id, position, limit)
        cursor = queries.changes_cursor(rows, more, row.visible_position, position)
        body = dumps({
            "changes": [queries.change(r) for r in rows],
            "blog": queries.blog_json(row, encode_cursor("c", row.visible_position)),
            "cursor": encode_cursor("c", cursor),
            "more": more,
        })
        return _send(body, queries.head_of(row), "changes")


@blp.route("/<blog>/posts/<post>/corrections")
class Corrections(MethodView):
    @require()
    @blp.arguments(CorrectionCreateSchema)
    @blp.response(201, PostSchema)
    @blp.doc(security=SIGNED_IN)
    @if_match(required=True, what="post", status=201)
    @idempotent_post(created=False)
    @errors(blp, 404, 409)
    def post(self, data: dict[str, Any], blog: str, post: str, expected: int | None) -> Any:
        """Correct a published post in public: the text and the reason are shown under it.

        Needs ``If-Match: "<version>"`` (the post you read); the post's version goes up.
        """
        head = queries.get_blog_head(get_liveblog().store().conn, blog)
        outcome = run(cmd.CorrectPost(head.id, post, new_id(), data["text"], data["reason"]),
                      expected_version=expected, idempotent=True)
        body = post_after(outcome, head.id, post)
        return json_response(body, 201, {"ETag": post_etag(body["version"])})


@blp.route("/<blog>/posts/<post>/redact")
class Redact(MethodView):
    @require("post.redact")
    @blp.arguments(RedactionCreateSchema)
    @blp.response(200, RedactionSchema)
    @blp.doc(security=SIGNED_IN)
    @idempotent_post(created=False)
    @errors(blp, 404, 409)
    def post(self, data: dict[str, Any], blog: str, post: str) -> Any:
        """Erase a post's content from the record for a legal reason (legal tokens only).

        The headline, byline, body and corrections of every event of the post leave storage;
        the post leaves every reader view (a ``delete`` in /changes); a ``PostRedacted`` event
        records who, when and why. Each erased event's payload hash stays, so the hash chain
        still verifies (``redacted_events`` in /api/audit/verify). A post redacted before is a
        409; whatever its status or its blog's, a post can be redacted.
        """
        head = queries.get_blog_head(get_liveblog().store().conn, blog)
        outcome = run(cmd.RedactPost(head.id, post, data["reason"]), idempotent=True)
        event = outcome.events[0]
        return json_response({
            "blog_id": head.id, "post_id": post, "status": "redacted", "redacted": True,
            "version": event.data["revision"], "reason": event.data["reason"],
            "recorded_at": format_time(event.recorded_at),
            "actor": event.metadata.get("actor"), "erased_events": event.version - 1,
        }, headers={"Cache-Control": policies().secret})


def _transition(command: cmd.Command, blog_id: str, post: str, *,
                expected: int | None = None) -> Any:
    outcome = run(command, expected_version=expected, idempotent=True)
    body = post_after(outcome, blog_id, post)
    return json_response(body, 200, {"ETag": post_etag(body["version"])})


@blp.route("/<blog>/posts/<post>/submit")
class Submit(MethodView):
    @require()
    @blp.response(200, PostSchema)
    @blp.doc(security=SIGNED_IN)
    @if_match(required=False, what="post")
    @idempotent_post()
    @errors(blp, 404, 409)
    def post(self, blog: str, post: str, expected: int | None) -> Any:
        """Send a draft to the blog's editors for approval (its author only): ``submitted``."""
        head = queries.get_blog_head(get_liveblog().store().conn, blog)
        return _transition(cmd.SubmitPost(head.id, post), head.id, post,
                           expected=expected)


@blp.route("/<blog>/posts/<post>/approve")
class Approve(MethodView):
    @require()
    @blp.arguments(ApproveSchema, required=False)
    @blp.response(200, PostSchema)
    @blp.doc(security=SIGNED_IN)
    @if_match(required=True, what="post")
    @idempotent_post()
    @errors(blp, 404, 409)
    def post(self, data: dict[str, Any], blog: str, post: str, expected: int | None) -> Any:
        """Approve a submitted post (the blog's editors): ``published`` now, or ``scheduled``
        for a future ``publish_at``. Needs ``If-Match: "<version>"``: the version approved."""
        head = queries.get_blog_head(get_liveblog().store().conn, blog)
        return _transition(cmd.ApprovePost(head.id, post, (data or {}).get("publish_at")),
                           head.id, post, expected=expected)


@blp.route("/<blog>/posts/<post>/reject")
class Reject(MethodView):
    @require()
    @blp.arguments(RejectSchema)
    @blp.response(200, PostSchema)
    @blp.doc(security=SIGNED_IN)
    @if_match(required=False, what="post")
    @idempotent_post()
    @errors(blp, 404, 409)
    def post(self, data: dict[str, Any], blog: str, post: str, expected: int | None) -> Any:
        """Send a submitted post back to its author as a draft, with a note they see as
        ``review_note`` (the blog's editors)."""
        head = queries.get_blog_head(get_liveblog().store().conn, blog)
        return _transition(cmd.RejectPost(head.id, post, data["note"]), head.id, post,
                           expected=expected)


@blp.route("/<blog>/posts/<post>/unpublish")
class Unpublish(MethodView):
    @require()
    @blp.arguments(UnpublishSchema, required=False)
    @blp.response(200, PostSchema)
    @blp.doc(security=SIGNED_IN)
    @if_match(required=False, what="post")
    @idempotent_post()
    @errors(blp, 404, 409)
    def post(self, data: dict[str, Any], blog: str, post: str, expected: int | None) -> Any:
        """Take a published post back to ``draft`` (the blog's editors): readers get a
        ``delete`` in /changes, and it leaves the feed, Atom and the page."""
        head = queries.get_blog_head(get_liveblog().store().conn, blog)
        return _transition(cmd.UnpublishPost(head.id, post, (data or {}).get("reason")),
                           head.id, post, expected=expected)


@blp.route("/<blog>/corrections")
class BlogCorrections(MethodView):
    @blp.response(200, CorrectionsSchema)
    @reader_get()
    @errors(blp, 401, 404)
    def get(self, blog: str) -> Any:
        """Every correction of the blog's posts, newest first."""
        conn = get_liveblog().store().conn
        with read_snapshot(conn):
            head = queries.get_blog_head(conn, blog)
            corrections = queries.blog_corrections(conn, head.id)
        headers = reader_headers(head_etag(head, "corrections", b""), head.updated_at)
        return conditional(headers) or json_response({"corrections": corrections},
                                                     headers=headers)
