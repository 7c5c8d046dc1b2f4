"""Stream names: where each aggregate's events live in the log, in one place (the service
writes them, the audit side and the projections read them)."""

from __future__ import annotations


def blog_stream(blog_id: str) -> str:
    """The stream of a blog's own fields."""
    return f"blog/{blog_id}/about"


def post_stream(blog_id: str, post_id: str) -> str:
    """The stream of one post."""
    return f"blog/{blog_id}/post/{post_id}"


def erasable(stream_id: str, event_type: str = "") -> bool:
    """Whether an event holds content a legal redaction may erase (a post's: every event of
    its stream but the redaction's own record, which stays readable): its payload, and what
    the read models keep of the post, are sealed with the stream's key (events.keys)."""
    return (stream_id.startswith("blog/") and "/post/" in stream_id
            and event_type != "PostRedacted")


def blog_prefix(blog_id: str) -> str:
    """The prefix every stream of one blog starts with (for per-blog replay)."""
    return f"blog/{blog_id}/"


def blog_part(stream_id: str) -> str | None:
    """The part of the log a stream is in, for a projection whose rows of a blog are made by
    that blog's events alone (``Projection.part_of``: a rebuild folds blogs side by side):
    its blog's prefix; None for a stream of no blog."""
    blog = blog_of(stream_id)
    return None if blog is None else blog_prefix(blog)


def blog_of(stream_id: str) -> str | None:
    """The blog a stream belongs to (None for streams of no blog, e.g. tokens)."""
    if not stream_id.startswith("blog/"):
        return None
    return stream_id.split("/", 2)[1]


def token_stream(token_id: str) -> str:
    """The stream of one API token."""
    return f"token/{token_id}"


def members_stream(blog_id: str) -> str:
    """The stream of a blog's memberships: who may write on it, and as what."""
    return f"blog/{blog_id}/members"


def person_stream(person_id: str) -> str:
    """The stream of one person who signs in through the identity provider."""
    return f"person/{person_id}"
