"""Who is asking: a bearer token or a signed-in session's cookie -> the acting Actor, with the
person and memberships access checks read; require() lets an action of
:mod:`liveblog.domain.access` through or answers 401/403."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, g, request
from werkzeug.exceptions import Unauthorized

from ..bootstrap import get_liveblog
from ..domain.access import PostFacts, check, may
from ..http.requests import ACTOR_KEY
from ..people import SESSION_COOKIE, Session, csrf_matches, find_session, person_of
from ..service import Actor
from ..tokens import authenticate
from .docs import answers
from .edge import READERS_ASK
from .problems import problem

#: the methods that change nothing (no CSRF token needed)
_SAFE = ("GET", "HEAD", "OPTIONS")

F = TypeVar("F", bound=Callable[..., Any])


def current_actor() -> Actor | None:
    """The request's actor, or None for an anonymous reader.

    :raises Unauthorized: an Authorization header that is not a known, live bearer token.
    """
    if "actor" in g:
        return g.actor  # type: ignore[no-any-return]
    header = request.headers.get("Authorization")
    actor = None
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'")
        actor = authenticate(get_liveblog().store().conn, token.strip())
        if actor is None:
            raise Unauthorized("the bearer token is unknown or revoked")
    else:
        session = current_session()
        if session is not None:
            conn = get_liveblog().store().conn
            actor = Actor("person", session.name, role=session.role,
                          person=person_of(conn, session.person_id, session.name,
                                           session.role, False))
    g.actor = actor
    return actor


def current_session() -> Session | None:
    """The signed-in session the request's cookie names (None: no cookie, or a bearer token
    speaks for the request instead)."""
    if "session_row" not in g:
        secret = request.cookies.get(SESSION_COOKIE)
        liveblog = get_liveblog()
        g.session_row = (find_session(liveblog.store().conn, secret, liveblog.store().clock())
                         if secret and "Authorization" not in request.headers else None)
    return g.session_row  # type: ignore[no-any-return]


class FailedAuthentications:
    """Failed authentications per client address in a sliding window: past ``limit`` of them,
    the client's requests that carry a token are answered 429 until the window has passed.
    Per process (each node counts its own)."""

    def __init__(self, limit: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int:
        """Seconds the client must wait (0: it may try)."""
        with self._lock:
            times = self._recent(client)
            if len(times) < self.limit:
                return 0
            return max(1, math.ceil(times[0] + self.window - self.clock()))

    def failed(self, client: str) -> None:
        """Count a failure."""
        with self._lock:
            self._recent(client).append(self.clock())
            if len(self._failures) > 100_000:  # many clients: forget the quiet ones
                for key in [k for k, v in self._failures.items() if not v]:
                    del self._failures[key]

    def succeeded(self, client: str) -> None:
        """A valid token: the client's failures are forgiven."""
        with self._lock:
            self._failures.pop(client, None)

    def _recent(self, client: str) -> list[float]:
        since = self.clock() - self.window
        times = [t for t in self._failures.get(client, []) if t > since]
        self._failures[client] = times
        return times


def authenticate_request() -> Response | None:
    """Before every request: an Authorization header must hold a live token (else 401, on every
    endpoint, pages and static files too), and a client that keeps failing is told to wait."""
    if "HTTP_AUTHORIZATION" not in request.environ:
        return None

    failures: FailedAuthentications = current_app.extensions["liveblog.auth_failures"]
    client = request.remote_addr or ""
    wait = failures.retry_after(client)
    if wait:
        return problem(429, f"too many failed authentications from this client; retry in"
                            f" {wait} s", slug="too-many-requests",
                       headers={"Retry-After": str(wait)})
    try:
        actor = current_actor()
    except Unauthorized:
        failures.failed(client)
        raise
    failures.succeeded(client)
    if actor is not None:  # the access log names who it was: the token's id, never the token
        request.environ[ACTOR_KEY] = actor.token_id
    return None


def check_session_request() -> Response | None:
    """Before every request: a signed-in browser's write must carry its session's
    ``X-CSRF-Token`` (a page of another site can make the browser send the cookie, never the
    header), else 403 and nothing changes."""
    if request.method in _SAFE or "HTTP_AUTHORIZATION" in request.environ:
        return None
    if SESSION_COOKIE not in request.cookies or request.endpoint == "signin.logout":
        return None
    if (request.method, request.endpoint) in READERS_ASK:
        return None  # a reader's question or vote: anyone's, no one's session acts in it
    session = current_session()
    if session is None:
        return None  # an ended session is no one: the view answers 401 where it matters
    request.environ[ACTOR_KEY] = session.person_id
    if not csrf_matches(session, request.headers.get("X-CSRF-Token")):

        return problem(403, "a write from a signed-in browser needs the X-CSRF-Token header"
                            " (GET /api/me gives it as csrf_token)", slug="csrf")
    return None




def signed_in() -> Actor:
    """The request's actor.

    :raises Unauthorized: no one is signed in and no token was given.
    """
    actor = current_actor()
    if actor is None:
        raise Unauthorized("this endpoint needs 'Authorization: Bearer <token>' or a"
                           " signed-in session")
    return actor


def require(action: str | None = None) -> Callable[[F], F]:
    """Let through a signed-in person (401 else) who may do ``action`` anywhere (403 else);
    ``None``: any signed-in person, the view or the service checking the blog's rule (403
    too). It documents the 401 and the 403 it answers: the view does not list them."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            signed_in()
            if action is not None:
                allowed(action)
            return view(*args, **kwargs)

        return answers(wrapped, 401, 403)  # type: ignore[no-any-return]

    return decorator


def allowed(action: str, blog_id: str | None = None, post: PostFacts | None = None) -> None:
    """:raises Unauthorized: no one signed in. :raises ForbiddenError: not allowed."""
    check(signed_in().person, action, blog_id, post)


def may_here(action: str, blog_id: str | None = None, post: PostFacts | None = None) -> bool:
    """Whether the request's person (if any) may do ``action``."""
    actor = current_actor()
    return actor is not None and may(actor.person, action, blog_id, post)
