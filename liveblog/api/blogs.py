"""Blogs: list, create, read, change, close and reopen."""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app, url_for
from flask.views import MethodView

from .. import media, queries
from ..bootstrap import get_liveblog
from ..cursors import encode_cursor
from ..domain import commands as cmd
from ..domain.errors import InvalidCommandError, SlugTakenError
from ..http.caching import blog_etag, conditional, content_etag, reader_headers
from ..service import new_id
from .auth import require
from .docs import SIGNED_IN, Blueprint, errors, idempotent_post, reader_get
from .edge import dumps, json_response
from .preconditions import if_match
from .schemas import BlogCreateSchema, BlogListSchema, BlogPatchSchema, BlogSchema, slugify
from .views import blog_after, run

blp = Blueprint("blogs", __name__, url_prefix="/api/blogs",
                description="Blogs: a running story with its title, authors and status.")


def _blog_response(body: dict[str, Any], etag: str, status: int = 200,
                   **headers: str) -> Any:
    return json_response(body, status, {"ETag": etag, **headers})


@blp.route("")
class Blogs(MethodView):
    @blp.response(200, BlogListSchema)
    @reader_get()
    @errors(blp, 401)
    def get(self) -> Any:
        """List blogs, live ones first."""
        conn = get_liveblog().store().conn
        rows = queries.list_blog_rows(conn)
        body = dumps({"blogs": [queries.blog_json(r, encode_cursor("c", r.visible_position))
                                for r in rows]})
        latest = max((r.updated_at for r in rows), default=None)  # the newest change among them
        headers = reader_headers(content_etag(body), latest)
        return conditional(headers) or json_response(None, raw=body, headers=headers)

    @require()
    @blp.arguments(BlogCreateSchema)
    @blp.response(201, BlogSchema)
    @blp.doc(security=SIGNED_IN)
    @idempotent_post(created=True)
    @errors(blp, 409)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a blog (the slug defaults to one made from the title)."""
        blog_id = new_id()
        given = "slug" in data
        slug = data.pop("slug", None) or slugify(data["title"])
        data.setdefault("archive_after_days", current_app.config["ARCHIVE_AFTER_DAYS"])
        command = cmd.CreateBlog(blog_id=blog_id, slug=slug, **data)
        try:
            outcome = run(command, idempotent=True)
        except SlugTakenError:
            if given:
                raise
            # a made-up slug that is taken gets a short suffix instead of failing the request
            command = cmd.CreateBlog(blog_id=blog_id, slug=f"{slug[:73]}-{secrets.token_hex(3)}",
                                     **data)
            outcome = run(command, idempotent=True)
        blog_id = outcome.events[0].data["blog_id"]
        body, etag = blog_after(outcome, blog_id)
        return _blog_response(body, etag, 201,
                              Location=url_for("blogs.Blog", blog=blog_id))


@blp.route("/<blog>")
class Blog(MethodView):
    @blp.response(200, BlogSchema)
    @reader_get()
    @errors(blp, 401, 404)
    def get(self, blog: str) -> Any:
        """One blog's summary: updated_at, post_count and the cursor for /changes."""
        conn = get_liveblog().store().conn
        head = queries.get_blog_head(conn, blog)
        headers = reader_headers(blog_etag(head.version, head.feed_version), head.updated_at)
        unchanged = conditional(headers)
        if unchanged is not None:
            return unchanged
        row = queries.get_blog_row(conn, head.id)
        return json_response(queries.blog_json(row, encode_cursor("c", row.visible_position)),
                             headers=headers)

    @require()
    @blp.arguments(BlogPatchSchema)
    @blp.response(200, BlogSchema)
    @blp.doc(security=SIGNED_IN)
    @if_match(required=True, what="blog")
    @errors(blp, 404, 409)
    def patch(self, data: dict[str, Any], blog: str, expected: int | None) -> Any:
        """Change a blog's fields. Needs If-Match: the blog's ETag."""
        head = queries.get_blog_head(get_liveblog().store().conn, blog)
        if data.get("theme"):
            data["theme"] = _theme(data["theme"])
        outcome = run(cmd.UpdateBlog(head.id, data), expected_version=expected)
        body, etag = blog_after(outcome, head.id)
        return _blog_response(body, etag)


def _theme(theme: dict[str, Any]) -> dict[str, Any]:
    """A theme as the event holds it: its logo's URL and size beside the image's id."""
    theme = {k: v for k, v in theme.items() if v is not None}
    if "logo_media_id" in theme:
        found = media.get(get_liveblog().store().conn, theme["logo_media_id"])
        if found is None:
            raise InvalidCommandError("theme.logo_media_id",
                                      "no uploaded image has this id (POST /api/media)")
        theme.update(logo_url=found.path, logo_width=found.width, logo_height=found.height)
    return theme


def _status_change(command_type: type[Any], blog: str) -> Any:
    head = queries.get_blog_head(get_liveblog().store().conn, blog)
    outcome = run(command_type(head.id), idempotent=True)
    body, etag = blog_after(outcome, head.id)
    return _blog_response(body, etag)


@blp.route("/<blog>/close")
class CloseBlog(MethodView):
    @require()
    @blp.response(200, BlogSchema)
    @blp.doc(security=SIGNED_IN)
    @idempotent_post()
    @errors(blp, 404, 409)
    def post(self, blog: str) -> Any:
        """Close a blog: it takes no new posts but stays readable."""
        return _status_change(cmd.CloseBlog, blog)


@blp.route("/<blog>/reopen")
class ReopenBlog(MethodView):
    @require()
    @blp.response(200, BlogSchema)
    @blp.doc(security=SIGNED_IN)
    @idempotent_post()
    @errors(blp, 404, 409)
    def post(self, blog: str) -> Any:
        """Reopen a closed blog."""
        return _status_change(cmd.ReopenBlog, blog)
