"""Every error leaves as RFC 9457 problem details, through one builder and one status table."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from events import EventStoreError, IdempotencyConflictError, unavailable

from ..cursors import MalformedCursorError
from ..domain.errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    InvalidCommandError,
    NotFoundError,
    StaleVersionError,
)
from ..pool import PoolExhaustedError

log = logging.getLogger(__name__)


class MalformedPreconditionError(ValueError):
    """Raised when If-Match does not hold a version this API issued (412: it cannot match)."""

PROBLEM_TYPE = "application/problem+json"

#: raised -> (status, type slug, title); resolved by walking the exception's __mro__.
STATUS_TABLE: dict[type[BaseException], tuple[int, str, str]] = {
    MalformedCursorError: (400, "malformed-cursor", "Malformed cursor"),
    NotFoundError: (404, "not-found", "Not found"),
    ForbiddenError: (403, "forbidden", "Forbidden"),
    StaleVersionError: (412, "stale-version", "Precondition failed"),
    MalformedPreconditionError: (412, "stale-version", "Precondition failed"),
    ConflictError: (409, "conflict", "Conflict"),
    InvalidCommandError: (422, "validation", "Validation failed"),
    IdempotencyConflictError: (422, "idempotency-key-reused",
                               "Idempotency key reused with a different request"),
}


def problem(status: int, detail: str, *, title: str | None = None, slug: str | None = None,
            errors: Mapping[str, Any] | None = None,
            headers: Mapping[str, str] | None = None) -> Response:
    """A problem+json response: ``{type, title, status, detail, errors?}``."""
    body: dict[str, Any] = {
        "type": f"urn:liveblog:problem:{slug}" if slug else "about:blank",
        "title": title or HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = dict(errors)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def raw_problem(status: int, reason: str, detail: str) -> bytes:
    """A whole HTTP/1.1 problem+json response, for errors answered below the WSGI app."""
    body = json.dumps({"type": f"urn:liveblog:problem:{_slug(status)}", "title": reason,
                       "status": status, "detail": detail}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: {PROBLEM_TYPE}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow messages as ``{"field.path": [messages]}`` (location dropped)."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten(value, path))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "_schema"] = list(messages)
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            out.update(flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "_schema"] = [str(messages)]
    return out


def _slug(status: int) -> str:

    return HTTP_STATUS_CODES.get(status, "error").lower().replace(" ", "-").replace("'", "")


def http_problem(error: HTTPException) -> Response:
    """A werkzeug HTTPException (routing 404/405, 413, 415, webargs 400/422 ...) as a problem."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = None
    detail = error.description or ""
    if "messages" in data:
        messages = data["messages"]
        # webargs keys messages by location ("json", "query"): the field path is what matters
        if isinstance(messages, Mapping):
            merged: dict[str, Any] = {}
            for value in messages.values():
                merged.update(flatten(value))
            errors = merged
        else:
            errors = flatten(messages)
        detail = "the request has invalid fields" if status == 422 else "the request is malformed"
        if status == 400:
            detail = "the request body is not valid JSON"
    headers = dict(data.get("headers") or {})
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="liveblog"')
    slug = "validation" if status == 422 else _slug(status)
    return problem(status, detail or str(error), slug=slug, errors=errors, headers=headers)


def domain_problem(error: Exception) -> Response:
    """A DomainError, EventStoreError or cursor error, mapped through STATUS_TABLE."""
    for cls in type(error).__mro__:
        if cls in STATUS_TABLE:
            status, slug, title = STATUS_TABLE[cls]
            errors = {error.field: [str(error)]} if isinstance(error, InvalidCommandError) else None
            return problem(status, str(error), title=title, slug=slug, errors=errors)
    return unexpected_problem(error)


#: seconds a client is asked to wait before retrying while storage refuses work
RETRY_AFTER = 5


def unexpected_problem(error: BaseException) -> Response:
    """Storage that cannot answer now (down, full, read-only): a 503 with Retry-After; nothing
    was recorded. Anything else: a 500 with a generic detail; the traceback is logged, never
    shown."""
    if unavailable(error) or isinstance(error, PoolExhaustedError):
        log.warning("storage unavailable: %s", str(error).splitlines()[0] if str(error) else error)
        return problem(503, "storage is unavailable right now; nothing was recorded, retry later",
                       slug="unavailable", headers={"Retry-After": str(RETRY_AFTER)})
    log.error("unhandled error", exc_info=error)
    return problem(500, "the server failed to handle this request; it has been logged",
                   slug="internal")


def register_handlers(app: Flask) -> None:
    """Route domain, store, cursor and unexpected errors through the problem builder."""
    app.register_error_handler(DomainError, domain_problem)
    app.register_error_handler(MalformedCursorError, domain_problem)
    app.register_error_handler(MalformedPreconditionError, domain_problem)
    app.register_error_handler(EventStoreError, domain_problem)
    app.register_error_handler(Exception, unexpected_problem)
