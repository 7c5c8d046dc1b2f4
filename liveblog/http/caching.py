"""HTTP caching, decided in one place: the named Cache-Control policies (computed once from the
config), the ETag builders, conditional requests (parsed by werkzeug), and the only code that
builds a 304.

Every reader answer is the same for every reader at one state of its blog, so a shared cache
may answer them all; an answer to a token is ``private`` and revalidated every time. A 304
carries the validators and the caching headers of the answer it stands for, and no body, no
``Content-Type`` and no ``Last-Modified``.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, request
from werkzeug.http import parse_date, parse_etags

from ..people import SESSION_COOKIE

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse

    from ..queries import BlogHead


@dataclass(frozen=True)
class Policies:
    """Every Cache-Control this service sends, by what it is for."""

    #: anonymous reader answers: feeds, /changes, pages, Atom, the blog list
    reader: str
    #: the reader page's poll: a shared cache keeps it half as long and never serves it stale,
    #: so news waits at most about 1.5 max-age for any reader
    poll: str
    #: a closed blog's pages, Atom and poll: longer, but a redaction or a reopen still reaches
    #: every reader within seconds (a shared cache keeps them half as long)
    closed: str
    #: answers to a token: never shared, revalidated every time
    private: str = "private, no-cache"
    #: answers that must never be kept (secrets, the log, what only a token may read)
    secret: str = "private, no-store"
    #: state of this node, not of the blog (/healthz, /api/me)
    uncached: str = "no-store"
    #: content-hashed static files and media: the bytes at a URL never change
    immutable: str = "public, max-age=31536000, immutable"
    #: the audit public key: it changes only when an operator rotates it
    key: str = "public, max-age=3600"
    #: a script other sites load by a fixed URL (embed-frame.js): an hour, then revalidated
    loader: str = "public, max-age=3600"
    #: the transparency log's checkpoint and proofs: renewed while the log grows, so kept
    #: only seconds (tlog-tiles: "no caching beyond a few seconds")
    log_head: str = "public, max-age=5"


#: what a reader answer's caching headers say, for the OpenAPI document
READER_HEADER_DOCS = {
    "ETag": "strong validator: send it back in If-None-Match",
    "Cache-Control": "public, max-age=N, stale-while-revalidate=M (private, no-cache with a"
                     " token)",
    "Last-Modified": "the latest change readers can see",
}


def shared(cache_control: str) -> bool:
    """Whether a shared cache may keep an answer with this Cache-Control."""
    return cache_control.startswith("public")


def policies_from(config: Mapping[str, Any]) -> Policies:
    """The policies of a deployment's settings."""
    max_age, closed = int(config["CACHE_MAX_AGE"]), int(config["CLOSED_CACHE_MAX_AGE"])
    return Policies(
        reader=f"public, max-age={max_age},"
               f" stale-while-revalidate={config['CACHE_STALE_WHILE_REVALIDATE']}",
        poll=f"public, max-age={max_age}, s-maxage={max(1, max_age // 2)}",
        closed=f"public, max-age={closed}, s-maxage={max(1, closed // 2)}")


def init_app(app: Flask) -> None:
    """Compute the policies once, from the app's config."""
    app.extensions["liveblog.caching"] = policies_from(app.config)


def policies() -> Policies:
    """The current app's policies."""
    return current_app.extensions["liveblog.caching"]  # type: ignore[no-any-return]


# -- validators ---------------------------------------------------------------------------------

def content_etag(body: bytes) -> str:
    """A strong ETag from a response body."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def head_etag(head: BlogHead, what: str, query: bytes) -> str:
    """A strong ETag naming the blog, its feed version, the resource and the raw query: it
    changes exactly when readers could see something new."""
    digest = "." + hashlib.sha256(query).hexdigest()[:16] if query else ""
    return f'"{what[0]}{head.feed_version}.{head.id}{digest}"'


def post_etag(version: int) -> str:
    """A post's ETag: its version (what If-Match names)."""
    return f'"{version}"'


def blog_etag(version: int, feed_version: int) -> str:
    """A blog summary's ETag: its own revision, then its feed version."""
    return f'"{version}.{feed_version}"'


@functools.lru_cache(maxsize=4096)
def http_date(rfc3339: str) -> str:
    """An API time as an HTTP date (for Last-Modified); polls ask for the same few, so cached."""
    return format_datetime(datetime.fromisoformat(rfc3339), usegmt=True)


# -- conditional requests -----------------------------------------------------------------------

def listed(header: str | None, etag: str, *, any_tag: bool = True) -> bool:
    """True when an If-None-Match value names ``etag`` (weakly or strongly) or is ``*``.

    :param any_tag: whether ``*`` matches. It must not before the request is validated: a
        request that would not be answered 200 is not answered 304 either (RFC 9110, 13.2.1),
        whereas a named tag was issued for this very query, so it was a valid one.
    """
    if not header:
        return False
    if header == etag:
        return True  # what polling readers send: no parsing
    tags = parse_etags(header)
    if tags.star_tag:
        return any_tag
    return tags.contains_weak(etag.strip('"'))


def is_current(etag: str, updated_at: str | None = None, *, unchanging: bool = False) -> bool:
    """Whether the request's copy is current: If-None-Match decides when it is sent,
    If-Modified-Since only without it (RFC 9110, 13.2.2)."""
    header = request.environ.get("HTTP_IF_NONE_MATCH")
    if header is not None:
        return listed(header, etag)
    since = parse_date(request.environ.get("HTTP_IF_MODIFIED_SINCE"))
    if unchanging:
        return since is not None
    # HTTP dates have whole seconds: unchanged when the last change was before the next second
    # after the one the reader holds
    return (since is not None and updated_at is not None
            and datetime.fromisoformat(updated_at).replace(microsecond=0) <= since)


# -- answers ------------------------------------------------------------------------------------

def reader_headers(etag: str, updated_at: str | None = None,
                   cache_control: str | None = None) -> dict[str, str]:
    """What every reader answer carries, a 304 too: its validators, how it may be cached (the
    reader policy unless another is named; private when the request has a token or a
    session) and, public ones, that any site may read it (partner sites embed live blogs)."""
    if "HTTP_AUTHORIZATION" in request.environ or SESSION_COOKIE in request.cookies:
        cache_control = policies().private  # a token's or a signed-in person's answer
    return dict(answer_headers(etag, cache_control or policies().reader, updated_at))


def answer_headers(etag: str, cache_control: str,
                   updated_at: str | None) -> list[tuple[str, str]]:
    """:func:`reader_headers` for a given policy (the middleware's, outside a request)."""
    headers = [("ETag", etag), ("Cache-Control", cache_control), ("Vary", "Authorization")]
    if shared(cache_control):
        headers.append(("Access-Control-Allow-Origin", "*"))
    if updated_at:
        headers.append(("Last-Modified", http_date(updated_at)))
    return headers


class _Bare(Response):
    default_mimetype = None  # a 304 carries no Content-Type


def unmodified(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers of an answer's 304: all but Last-Modified."""
    return [(k, v) for k, v in headers if k != "Last-Modified"]


def not_modified(headers: Mapping[str, str]) -> Response:
    """The 304 of an answer with these headers: its validators and caching headers, no body."""
    return _Bare(None, 304, unmodified(headers.items()))


def start_not_modified(start_response: StartResponse,
                       headers: Iterable[tuple[str, str]]) -> list[bytes]:
    """:func:`not_modified` for WSGI middleware, in front of Flask."""
    start_response("304 Not Modified", unmodified(headers))
    return []


def conditional(headers: Mapping[str, str], updated_at: str | None = None, *,
                unchanging: bool = False) -> Response | None:
    """The 304 when the request's copy of an answer with ``headers`` is current, else None.

    :param updated_at: the answer's last change, for If-Modified-Since (None: the ETag alone
        decides; an answer to a token may change with no change readers see).
    :param unchanging: the bytes at this URL never change: any If-Modified-Since is current.
    """
    if is_current(headers["ETag"], updated_at, unchanging=unchanging):
        return not_modified(headers)
    return None
