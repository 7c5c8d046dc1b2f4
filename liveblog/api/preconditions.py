"""ETags and If-Match as API.md defines them (not flask-smorest's response-hash ETags).

A post's ETag is its version, ``"<version>"``. A blog's is ``"<blog version>.<feed version>"``:
the blog's own revision, then a counter of every change readers can see. If-Match on a blog
PATCH compares the blog's own revision, so posts published meanwhile do not make it stale.
"""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import PreconditionRequired


class MalformedPreconditionError(ValueError):
    """Raised when If-Match does not hold a version this API issued."""


def post_etag(version: int) -> str:
    """The quoted ETag of a post at ``version``."""
    return f'"{version}"'


def blog_etag(version: int, feed_version: int) -> str:
    """The quoted ETag of a blog summary."""
    return f'"{version}.{feed_version}"'


def if_match_version(*, required: bool) -> int | None:
    """The version named by If-Match (a blog's own revision for ``"<v>.<feed>"``).

    :raises PreconditionRequired: no If-Match and ``required`` (428).
    :raises MalformedPreconditionError: If-Match is not one of our ETags (412: it cannot match).
    """
    raw = request.headers.get("If-Match")
    if raw is None:
        if required:
            raise PreconditionRequired("this request needs an If-Match header with the"
                                       " version you edited (the ETag of your last read)")
        return None
    tag = raw.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    head = tag.split(".", 1)[0]
    if not (head.isascii() and head.isdigit()) or len(head) > 18:  # no version is that long
        raise MalformedPreconditionError(f"If-Match {raw!r} is not a version this API issued")
    return int(head)


def none_match(etag: str, *, any_tag: bool = True) -> bool:
    """True when the request's If-None-Match names ``etag`` (or is ``*``, with ``any_tag``)."""
    return tag_listed(request.environ.get("HTTP_IF_NONE_MATCH"), etag, any_tag=any_tag)


def tag_listed(header: str | None, etag: str, *, any_tag: bool = True) -> bool:
    """True when an If-None-Match value names ``etag`` (weakly or strongly) or is ``*``.

    :param any_tag: whether ``*`` matches. It must not before the request is validated: a
        request that would not be answered 200 is not answered 304 either (RFC 9110, 13.2.1),
        whereas a named tag was issued for this very query, so it was a valid one.
    """
    if not header:
        return False
    if header == etag:
        return True  # what polling readers send: no parsing
    tags = [t.strip() for t in header.split(",")]
    return (any_tag and "*" in tags) or etag in tags or f"W/{etag}" in tags
