"""One access log line per request, with a request id every log line of that request carries.

The id is taken from ``X-Request-Id`` when a trusted proxy (``TRUSTED_PROXIES``) sent it, else
made here; it is sent back on every answer. ``LOG_FORMAT=json`` writes each line as JSON with
``time, request_id, method, route, status, duration_ms, bytes, actor, client``; the text format
reads like a web server's (``client - actor [time] "GET /path HTTP/1.1" status bytes ms id``).
The line is written when the answer's last byte has gone, so a long poll logs the time it was
held. Nothing secret is logged: the actor is a token's id, never the token.
"""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.exceptions import HTTPException

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: the id of the request this greenlet (or thread) is answering, for every log line it causes
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                        default=None)
#: where a view leaves the actor's id for the log line
ACTOR_KEY = "liveblog.actor_id"
#: an id taken from a proxy: short, and nothing a log reader could be fooled by
_SANE_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")

#: a werkzeug rule's ``<converter:name>`` (compiled once: a body closed as the interpreter
#: exits still writes its line, when ``re`` can no longer compile)
_CONVERTER = re.compile(r"<(?:[^:>]+:)?([^>]+)>")
access = logging.getLogger("liveblog.access")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every log record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


class RequestLog:
    """WSGI middleware, outermost: the request's id, and its access line once it is answered."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        from . import metrics  # imported once the app is made (multiprocess mode: metrics.py)

        self.observe = metrics.observe_request
        self.wsgi_app = wsgi_app
        self.json = str(app.config["LOG_FORMAT"]).lower() == "json"
        trusted = app.config["TRUSTED_PROXIES"]
        self.trusted = {trusted} if isinstance(trusted, str) else set(trusted)
        self.urls = app.url_map.bind("localhost")
        #: route templates by (method, path): matching costs more than the rest of a poll's
        #: bookkeeping, and readers ask for the same few paths
        self._routes: dict[tuple[str, str], str] = {}
        self._prefix = secrets.token_hex(4)
        self._count = itertools.count(1)

    def _request_id(self, environ: WSGIEnvironment) -> str:
        given = environ.get("HTTP_X_REQUEST_ID", "")
        if given and environ.get("REMOTE_ADDR") in self.trusted and _SANE_ID.fullmatch(given):
            return str(given)
        # unique, not secret: this process's random prefix and a count (no system call each)
        return f"{self._prefix}{next(self._count):x}"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        began = time.perf_counter()
        request_id = self._request_id(environ)
        token = REQUEST_ID.set(request_id)
        environ["liveblog.request_id"] = request_id
        seen: dict[str, Any] = {"status": "500"}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = status.split(" ", 1)[0]
            # a new list: the one given may be an answer kept for the next reader
            return start_response(status, [*headers, ("X-Request-Id", request_id)], exc_info)

        try:
            body = self.wsgi_app(environ, start)
        except BaseException:
            self._write(environ, seen, began, 0)
            REQUEST_ID.reset(token)
            raise
        return self._counted(body, environ, seen, began, token)

    def _counted(self, body: Iterable[bytes], environ: WSGIEnvironment, seen: dict[str, Any],
                 began: float, token: contextvars.Token[str | None]) -> Iterator[bytes]:
        sent = 0
        try:
            for chunk in body:
                sent += len(chunk)
                yield chunk
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
            self._write(environ, seen, began, sent)
            REQUEST_ID.reset(token)

    def _route(self, environ: WSGIEnvironment) -> str:
        """The route the path matched, as a template (``/api/blogs/{blog}``): what metrics and
        logs group by, never the raw path."""
        key = (environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
        known = self._routes.get(key)
        if known is not None:
            return known
        try:
            rule, _ = self.urls.match(key[1], key[0], return_rule=True)
        except HTTPException:
            route = "(unmatched)"
        else:
            route = _CONVERTER.sub(r"{\1}", str(rule.rule))
        if len(self._routes) > 10_000:
            self._routes.clear()
        self._routes[key] = route
        return route

    def _write(self, environ: WSGIEnvironment, seen: dict[str, Any], began: float,
               sent: int) -> None:
        seconds = time.perf_counter() - began
        route, method, status = self._route(environ), environ.get("REQUEST_METHOD", ""), \
            int(seen["status"])
        self.observe(route, method, status, seconds)
        if not access.isEnabledFor(logging.INFO):
            return
        fields = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "request_id": environ["liveblog.request_id"],
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "bytes": sent,
            "actor": environ.get(ACTOR_KEY),
            "client": environ.get("REMOTE_ADDR"),
        }
        if self.json:
            access.info(json.dumps(fields, separators=(",", ":")))
            return
        query = environ.get("QUERY_STRING")
        target = environ.get("PATH_INFO", "") + ("?" + query if query else "")
        access.info('%s - %s [%s] "%s %s %s" %s %s %sms %s', fields["client"],
                    fields["actor"] or "-", fields["time"], fields["method"], target,
                    environ.get("SERVER_PROTOCOL", "HTTP/1.1"), fields["status"], sent,
                    fields["duration_ms"], fields["request_id"])


def configure(destination: str | None) -> None:
    """Send the access log to ``destination`` (a file, or ``-`` for stderr; None: nowhere) and
    put the request id on every log record of the process."""
    for handler in list(access.handlers):
        access.removeHandler(handler)
    access.propagate = False
    if destination is None:
        access.setLevel(logging.WARNING)
        return
    out: logging.Handler = (logging.StreamHandler() if destination == "-"
                            else logging.FileHandler(destination))
    out.setFormatter(logging.Formatter("%(message)s"))
    access.addHandler(out)
    access.setLevel(logging.INFO)
    root = logging.getLogger()
    if not root.handlers:  # the app's own lines (warnings, errors) carry the id too
        lines = logging.StreamHandler()
        lines.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
        root.addHandler(lines)
    for existing in root.handlers:
        existing.addFilter(RequestIdFilter())
