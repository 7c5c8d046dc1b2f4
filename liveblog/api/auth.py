"""Bearer tokens -> the acting Actor; require_role() for editor and auditor endpoints."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, g, request
from werkzeug.exceptions import Forbidden, Unauthorized

from ..bootstrap import get_db
from ..domain.events import AUDIT_ROLES
from ..http.requests import ACTOR_KEY
from ..service import Actor
from ..tokens import authenticate

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
        actor = authenticate(get_db().store().conn, token.strip())
        if actor is None:
            raise Unauthorized("the bearer token is unknown or revoked")
    g.actor = actor
    return actor


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
    from .problems import problem

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




def require_role(*roles: str) -> Callable[[F], F]:
    """Let only these roles through: 401 without a valid token, 403 for another role."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            if actor is None:
                raise Unauthorized("this endpoint needs 'Authorization: Bearer <token>'")
            if actor.role not in roles:
                article = "an" if (actor.role or "x")[0] in "aeiou" else "a"
                raise Forbidden(f"{article} {actor.role} token cannot do this; it needs "
                                f"{' or '.join(roles)}")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def is_editor() -> bool:
    """True when the request carries a valid editor (or auditor or legal: read-all) token."""
    actor = current_actor()
    return actor is not None and actor.role in ("editor", *AUDIT_ROLES)
