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
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from flask import Flask
from werkzeug.exceptions import HTTPException

from .. import metrics
from .flushing import Flushing

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: a whole answer: status line, headers, body
Answer = tuple[str, list[tuple[str, str]], bytes]

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


class AccessLines:
    """Where access lines go: a file (or stderr), written a block at a time, at most
    :data:`FLUSH_SECONDS` after a line was made (and when the process exits), not one write
    and flush a request through :mod:`logging`'s locks: a poll pays for its line, not for a
    system call (a process killed outright loses its last fraction of a second of lines)."""

    #: at most this long between a line and its write
    FLUSH_SECONDS = 0.25
    #: lines that are written at once, whatever the time
    BLOCK = 512

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self._flushing = Flushing(self.flush, self.FLUSH_SECONDS, "liveblog-access-log")

    def write(self, line: str) -> None:
        with self._lock:  # a line appended during a flush would be lost with its old list
            self._pending.append(line)
            full = len(self._pending) >= self.BLOCK
        if full:
            self.flush()
        else:
            self._flushing.start()

    def flush(self) -> None:
        with self._lock:
            lines, self._pending = self._pending, []
            if not lines:
                return
            try:
                self.stream.write("\n".join(lines) + "\n")
                self.stream.flush()
            except (OSError, ValueError) as e:  # a full disk, a closed stream: said, not fatal
                print(f"liveblog: {len(lines)} access log lines lost: {e}", file=sys.stderr)


class _Clock:
    """The access line's time (UTC, milliseconds), its date and time formatted once a
    second."""

    second = -1
    text = ""

    @classmethod
    def now(cls) -> str:
        now = time.time()
        second = int(now)
        if second != cls.second:
            cls.second, cls.text = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
        return f"{cls.text}.{int(now * 1000) % 1000:03d}Z"


#: the access log of this process (None: off)
_access: AccessLines | None = None


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every log record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


class RequestLog:
    """WSGI middleware, outermost: the request's id, and its access line once it is answered."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.observe = metrics.observe_request if app.config["REQUEST_METRICS"] else None
        self.wsgi_app = wsgi_app
        self._answer_at_once = getattr(wsgi_app, "answer_at_once", None)
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

    def answer_at_once(self, environ: WSGIEnvironment) -> tuple[Answer, Callable[[], None]] | None:
        """The app's answer that needs no WSGI machinery (the app's own ``answer_at_once``: an
        anonymous reader's 304, or an answer already rendered), with the request's id; and
        what writes its access line and counts it, to call once it is sent. None: the request
        goes the usual way."""
        began = time.perf_counter()
        answer: Answer | None = self._answer_at_once(environ) if self._answer_at_once else None
        if answer is None:
            return None
        request_id = self._request_id(environ)
        environ["liveblog.request_id"] = request_id
        answer[1].append(("X-Request-Id", request_id))  # its own list, made for this answer
        seen = {"status": answer[0].split(" ", 1)[0]}
        return answer, lambda: self._write(environ, seen, began, len(answer[2]))

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
            try:
                REQUEST_ID.reset(token)
            except (ValueError, LookupError):
                # an answer nobody closed, finalized by the garbage collector: in another
                # context (ValueError), or after a later answer's reset (LookupError)
                pass

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
        access = _access
        if self.observe is None and access is None:
            return
        seconds = time.perf_counter() - began
        route, method, status = self._route(environ), environ.get("REQUEST_METHOD", ""), \
            int(seen["status"])
        if self.observe is not None:
            self.observe(route, method, status, seconds)
        if access is None:
            return
        if self.json:
            access.write(json.dumps({
                "time": _Clock.now(), "request_id": environ["liveblog.request_id"],
                "method": method, "route": route, "status": status,
                "duration_ms": round(seconds * 1000, 1), "bytes": sent,
                "actor": environ.get(ACTOR_KEY), "client": environ.get("REMOTE_ADDR"),
            }, separators=(",", ":")))
            return
        query = environ.get("QUERY_STRING")
        access.write(f'{environ.get("REMOTE_ADDR")} - {environ.get(ACTOR_KEY) or "-"}'
                     f' [{_Clock.now()}] "{method} {environ.get("PATH_INFO", "")}'
                     f'{"?" + query if query else ""} {environ.get("SERVER_PROTOCOL", "HTTP/1.1")}"'
                     f' {status} {sent} {seconds * 1000:.1f}ms {environ["liveblog.request_id"]}')


def configure(destination: str | None) -> None:
    """Send the access log to ``destination`` (a file, or ``-`` for stderr; None: nowhere) and
    put the request id on every log record of the process."""
    global _access
    if _access is not None:
        _access.flush()
    if destination is None:
        _access = None
        return
    _access = AccessLines(sys.stderr if destination == "-"
                          else open(destination, "a", encoding="utf-8"))  # noqa: SIM115
    root = logging.getLogger()
    if not root.handlers:  # the app's own lines (warnings, errors) carry the id too
        lines = logging.StreamHandler()
        lines.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
        root.addHandler(lines)
    for existing in root.handlers:
        existing.addFilter(RequestIdFilter())
