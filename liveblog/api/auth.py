"""Bearer tokens -> the acting Actor; require_role() for editor and auditor endpoints."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from werkzeug.exceptions import Forbidden, Unauthorized

from ..db import get_db
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


def require_role(*roles: str) -> Callable[[F], F]:
    """Let only these roles through: 401 without a valid token, 403 for another role."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            if actor is None:
                raise Unauthorized("this endpoint needs 'Authorization: Bearer <token>'")
            if actor.role not in roles:
                raise Forbidden(f"a {actor.role} token cannot do this; it needs: "
                                f"{' or '.join(roles)}")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def is_editor() -> bool:
    """True when the request carries a valid editor (or auditor: read-all) token."""
    actor = current_actor()
    return actor is not None and actor.role in ("editor", "auditor")
