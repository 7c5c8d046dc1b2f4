"""Presence: which editors have a post open now (never in the event log; every node sees it)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from flask.views import MethodView

from .. import presence, queries
from ..bootstrap import get_liveblog
from ..http.caching import policies
from .auth import allowed, require, signed_in
from .docs import SIGNED_IN, Blueprint, errors
from .edge import json_response

blp = Blueprint("presence", __name__, url_prefix="/api/blogs",
                description="Which editors have a post open now (editor tokens).")

f = ma.fields


class EditorPresenceSchema(ma.Schema):
    post = f.String()
    name = f.String()
    since = f.String(metadata={"description": "when this editor opened the post"})
    last_seen = f.String(metadata={"description": "the latest heartbeat; the entry goes 30 s"
                                                  " after it"})


class PresenceSchema(ma.Schema):
    editors = f.List(f.Nested(EditorPresenceSchema))


def _post(blog: str, post: str) -> tuple[str, str]:
    conn = get_liveblog().store().conn
    head = queries.get_blog_head(conn, blog)
    allowed("presence", head.id)
    row = queries.get_post_row(conn, head.id, post, unpublished=True)
    return head.id, row.id


def _token() -> tuple[str, str]:
    """The person's id and name (require() has seen to it that there is one)."""
    actor = signed_in()
    assert actor.id is not None
    return actor.id, actor.name


def _answer(entries: list[presence.Presence]) -> Any:
    return json_response({"editors": [e.json() for e in entries]},
                         headers={"Cache-Control": policies().secret})


@blp.route("/<blog>/posts/<post>/presence")
class PostPresence(MethodView):
    @require()
    @blp.response(204)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def put(self, blog: str, post: str) -> Any:
        """A heartbeat: this editor has the post open (send one at most every 5 s)."""
        blog_id, post_id = _post(blog, post)
        token_id, name = _token()
        presence.heartbeat(get_liveblog().store().conn, blog_id, post_id, token_id, name,
                           get_liveblog().now())
        return current_app.response_class(status=204)

    @require()
    @blp.response(204)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def delete(self, blog: str, post: str) -> Any:
        """This editor left the post."""
        blog_id, post_id = _post(blog, post)
        presence.leave(get_liveblog().store().conn, blog_id, post_id, _token()[0])
        return current_app.response_class(status=204)

    @require()
    @blp.response(200, PresenceSchema)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def get(self, blog: str, post: str) -> Any:
        """The editors who have the post open now, longest first."""
        blog_id, post_id = _post(blog, post)
        return _answer(presence.present(get_liveblog().store().conn, blog_id, get_liveblog().now(),
                                        post_id))


@blp.route("/<blog>/presence")
class BlogPresence(MethodView):
    @require()
    @blp.response(200, PresenceSchema)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def get(self, blog: str) -> Any:
        """Every editor with one of the blog's posts open now (for the console's post list)."""
        conn = get_liveblog().store().conn
        head = queries.get_blog_head(conn, blog)
        allowed("presence", head.id)
        return _answer(presence.present(conn, head.id, get_liveblog().now()))
