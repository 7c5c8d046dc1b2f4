"""Freshness of reader answers: one lookup of the blog's head, one ETag, one decision.

A feed page or a ``/changes`` answer is named by its ETag: the blog's feed version (bumped by
every change readers can see) and the request's raw query. So one indexed lookup of the blog's
head tells which of three things a request needs:

* the reader already holds the current answer: 304 (a long poll that is up to date first waits
  for a change);
* this process already rendered that very answer: the same bytes again, so a feed is encoded
  once per change, never once per reader;
* neither: Flask renders it from one snapshot, and it is kept for the next reader.

:class:`Freshness`, in front of Flask, makes that decision for anonymous readers (the audience
of a news spike), with the routes read from Flask's own URL map; the views make the same decision
with the same :func:`decide` for editors and auditors, who send a token and get private answers.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from flask import Flask, Response, current_app, g, make_response, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_cookie

from events import database_errors

from .. import metrics, queries
from ..bootstrap import get_liveblog
from ..cursors import MalformedCursorError, decode_cursor
from ..domain.errors import BlogNotFoundError
from ..http.caching import (
    answer_headers,
    head_etag,
    listed,
    not_modified,
    reader_headers,
    shared,
    unmodified,
)
from ..http.caching import start_not_modified as start_304
from ..http.requests import Answer
from ..lru import LRU
from ..people import SESSION_COOKIE
from ..queries import BlogHead
from .schemas import MAX_LONG_POLL_WAIT

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from ..bootstrap import Liveblog

#: query words that ask for something other than the live reader answer (auditors, editors)
NOT_THE_LIVE_ANSWER = ("as_of", "status")
#: where the decision taken in front of Flask is left for the view (so it is taken once)
READER_KEY = "liveblog.reader_request"
#: the attribute :func:`reader_answer` marks a view with: the middleware finds its routes so
_MARK = "liveblog_reader_answer"

#: holds a long poll until its blog changes: the head then (None: not held, the node is full)
Waiter = Callable[[BlogHead, int, int], BlogHead | None]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReaderRequest:
    """A live reader answer's request, decided once: the head to answer from, its ETag,
    whether the reader holds it already, and the query's ``since`` and ``wait`` as parsed."""

    what: str
    head: BlogHead
    etag: str
    current: bool
    #: the /changes cursor's position (None: absent, or malformed and the view answers 400)
    since: int | None
    wait: int
    #: a long poll the node was too full to hold: seconds to tell it to wait (else 0)
    retry_after: int = 0


def reader_request(what: str, head: BlogHead, query: bytes, args: Mapping[str, str],
                   if_none_match: str | None, waiter: Waiter) -> ReaderRequest:
    """Parse the query's ``since`` and ``wait`` once, then :func:`decide`."""
    changes = what == "changes"
    wait = long_poll_wait(args.get("wait")) if changes else 0
    since = since_position(args.get("since")) if changes else None
    head, etag, current, held = decide(head, what, query, if_none_match, wait, since, waiter)
    return ReaderRequest(what, head, etag, current, since, wait,
                         0 if held else random.randint(*RETRY_AFTER))


def long_poll_wait(value: str | None) -> int:
    """The ``wait`` of a /changes long poll when it is a valid one (else 0: the view decides)."""
    raw = value or ""
    return (int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_LONG_POLL_WAIT
            else 0)


def since_position(value: str | None) -> int | None:
    """The position of a /changes ``since`` cursor when it is a valid one (else None: the view
    answers the 400)."""
    try:
        return decode_cursor("c", value) if value else None
    except MalformedCursorError:
        return None


def decide(head: BlogHead, what: str, query: bytes, if_none_match: str | None, wait: int,
           since: int | None, waiter: Waiter) -> tuple[BlogHead, str, bool, bool]:
    """The head to answer from, its ETag, whether the reader already holds that answer, and
    whether a long poll that would wait was held (False: the node was full).

    A long poll (``wait``) whose reader is up to date, by its ETag or by its ``since`` cursor,
    first waits for a change. ``*`` does not count here: it may only match once the query is
    known to be valid (RFC 9110, 13.2.1), whereas a named tag was issued for this very query.
    """
    etag = head_etag(head, what, query)
    current = listed(if_none_match, etag, any_tag=False)
    up_to_date = current or (since is not None and since >= head.visible_position)
    if up_to_date and wait and what == "changes":
        moved = waiter(head, head.visible_position, wait)
        if moved is None:
            return head, etag, current, False
        head = moved
        etag = head_etag(head, what, query)
        current = listed(if_none_match, etag, any_tag=False)
    return head, etag, current, True


def reader_answer(what: str) -> Callable[[Any], Any]:
    """Mark a view as the live reader answer ``what`` (a feed, or /changes) of its blog: the
    middleware answers anonymous readers of its route before Flask when it can, and leaves its
    :class:`ReaderRequest` for the view (``g.reader``); requests with a token are decided here
    the same way, with a private answer.
    """

    def decorator(view: Any) -> Any:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            environ = request.environ  # a token was checked before any view (authenticate_request)
            decided: ReaderRequest | None = environ.get(READER_KEY)
            if decided is None:
                head = queries.get_blog_head(get_liveblog().store().conn, kwargs["blog"])
                live = not any(word in request.args for word in NOT_THE_LIVE_ANSWER)
                long_polls: LongPolls = current_app.extensions["liveblog.long_polls"]
                decided = reader_request(
                    what, head, request.query_string, request.args if live else {},
                    environ.get("HTTP_IF_NONE_MATCH") if live else None,
                    long_polls.waiter(environ))
                if live and decided.current:
                    return _retry_after(decided, not_modified(
                        reader_headers(decided.etag, decided.head.updated_at)))
            g.reader = decided
            return _retry_after(decided, make_response(view(*args, **kwargs)))

        setattr(wrapped, _MARK, what)
        return wrapped

    return decorator


def _retry_after(decided: ReaderRequest, response: Response) -> Response:
    """A long poll the node was too full to hold is told when to come back."""
    if decided.retry_after:
        response.headers["Retry-After"] = str(decided.retry_after)
    return response


def _reader_answer_of(view: Any) -> str | None:
    """What live reader answer a Flask view function serves (its GET's mark), if any."""
    handler = getattr(getattr(view, "view_class", None), "get", view)
    return getattr(handler, _MARK, None)


class Heads:
    """Blogs' heads as last read, kept while the database is known unchanged: a poll answered
    304 then costs no connection and no query, one look at a version number instead
    (:meth:`events.Watcher.version`: SQLite's ``data_version``, which any commit, from any
    process, changes). Where the backend cannot tell (PostgreSQL), every head is read."""

    def __init__(self, liveblog: Liveblog) -> None:
        self.liveblog = liveblog
        self._version: int | None = None
        self._heads: dict[str, BlogHead] = {}

    def find(self, blog: str) -> BlogHead | None:
        """The head of ``blog`` (id or slug), or None."""
        version = self.liveblog.watcher().version()
        if version is None or version != self._version:
            self._heads = {}
            self._version = version
        else:
            head = self._heads.get(blog)
            if head is not None:
                return head
        with self.liveblog.leased() as store:  # read after the version: never older than it
            head = queries.find_blog_head(store.conn, blog)
        if head is not None and version is not None:
            if len(self._heads) > 10_000:
                self._heads = {}
            self._heads[blog] = head
        return head


#: how long (s) a request waits for what another request is doing for it too (reading a
#: blog's head, rendering an answer: :class:`Flights`)
FLIGHT_WAIT = 5.0


class Flights:
    """Work that requests asking for the same thing at the same time do once: the first to
    ask does it (and then calls :meth:`landed`), the others wait for it."""

    def __init__(self) -> None:
        self._flights: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    def board(self, key: Hashable) -> threading.Event | None:
        """None when nobody is doing ``key``'s work: the caller does it now, and must call
        :meth:`landed` once done. Else the event set when the one doing it is done."""
        with self._lock:
            flight = self._flights.get(key)
            if flight is None:
                self._flights[key] = threading.Event()
            return flight

    def landed(self, key: Hashable) -> None:
        """``key``'s work is done: wake those waiting for it."""
        with self._lock:
            flight = self._flights.pop(key, None)
        if flight is not None:
            flight.set()


class Gate:
    """The long polls waiting on one blog, and its head as last read: they are woken together,
    by one :meth:`threading.Event.set`, when the head readers see moves (and only then)."""

    __slots__ = ("head", "opened", "waiters")

    def __init__(self, head: BlogHead) -> None:
        self.head = head
        self.opened = threading.Event()
        self.waiters = 0

    def moved(self, head: BlogHead) -> None:
        """The blog's head is ``head`` now: wake the polls waiting on the old one."""
        self.head = head
        opened, self.opened = self.opened, threading.Event()
        opened.set()


class LongPolls:
    """Holds long polls until their blog changes. A held poll costs no thread under `liveblog
    serve` (a greenlet) and holds no database connection.

    One dispatcher a process (a greenlet, started on first use, never before a fork) waits on
    the log's watcher; when the log grows it reads, in one lookup, the heads of the blogs polls
    wait on, and wakes the polls of those whose visible head moved. A publish to another blog
    wakes nobody, and 10,000 polls of one blog are woken by one event, not 10,000 reads.

    Anonymous polls are held while fewer than ``limit`` are (:meth:`hold`); past that they are
    answered at once, and told when to come back (:data:`RETRY_AFTER`): a full node keeps its
    connections for editors and health checks. Polls with credentials are always held. A
    process that is stopping holds none (:meth:`drain`).
    """

    def __init__(self, liveblog: Liveblog, limit: int) -> None:
        self.liveblog = liveblog
        self.limit = max(0, limit)
        #: polls held now in this process
        self.waiting = 0
        self._gates: dict[str, Gate] = {}
        #: each blog's head as last read, by the watcher's generation it was read in
        self._heads: dict[str, tuple[int, BlogHead]] = {}
        #: the heads being read now, by blog and generation
        self._reads = Flights()
        self._dispatcher: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._draining = False

    def drain(self) -> None:
        """The process is stopping: answer every held poll now, with its blog's head as it is
        (the reader polls again, on a node that stays), and hold no new one."""
        self._draining = True
        with self._count_lock:
            gates = list(self._gates.values())
        for gate in gates:
            gate.opened.set()

    def waiter(self, environ: WSGIEnvironment) -> Waiter:
        """How a request's long poll waits: held in any case when it has credentials (a token,
        or a signed-in session: an editor's console), else only while there is room."""
        cookies = environ.get("HTTP_COOKIE", "")
        signed_in = SESSION_COOKIE in cookies and SESSION_COOKIE in parse_cookie(cookies)
        return self if signed_in or "HTTP_AUTHORIZATION" in environ else self.hold

    def hold(self, head: BlogHead, position: int, wait: int) -> BlogHead | None:
        """An anonymous poll: :meth:`__call__` while fewer than ``limit`` polls are held, else
        None (the caller answers at once, with ``Retry-After``)."""
        if self.waiting >= self.limit:
            return None
        return self(head, position, wait)

    def __call__(self, head: BlogHead, position: int, wait: int) -> BlogHead:
        """Wait until the blog's visible head moves past ``position`` or ``wait`` seconds pass;
        the head then."""
        long_polls = metrics.collectors().LONG_POLLS
        with self._count_lock:
            self.waiting += 1
        long_polls.inc()
        try:
            self.liveblog.release()  # waiting holds no connection
            deadline = time.monotonic() + wait
            gate = self._gate(head.id)
            try:
                while gate.head.visible_position <= position and not self._draining:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not gate.opened.wait(remaining):
                        break
                return gate.head
            finally:
                with self._count_lock:
                    gate.waiters -= 1
                    if gate.waiters == 0 and self._gates.get(head.id) is gate:
                        del self._gates[head.id]
        finally:
            long_polls.dec()
            with self._count_lock:
                self.waiting -= 1

    def head(self, blog: str) -> BlogHead | None:
        """The head of ``blog`` (id or slug) for a long poll: as last read, unless the log has
        changed since (a change the watcher has yet to see only ends a wait later)."""
        return self._read_head(blog, self.liveblog.watcher().generation)

    def _gate(self, blog_id: str) -> Gate:
        """The gate of ``blog_id``'s polls, counting this one, made with a head read after the
        dispatcher was watching (so no change after that read goes unseen)."""
        with self._count_lock:
            gate = self._gates.get(blog_id)
            if gate is not None:
                gate.waiters += 1
                return gate
        self._start()
        head = self._read_head(blog_id, self.liveblog.watcher().generation)
        if head is None:
            raise BlogNotFoundError(f"no blog with id or slug {blog_id!r}")
        with self._count_lock:
            gate = self._gates.setdefault(blog_id, Gate(head))
            gate.waiters += 1
        return gate

    def _read_head(self, blog: str, generation: int) -> BlogHead | None:
        """The blog's head as of ``generation`` or later. Polls that arrive together read it
        once: while one reads it for their generation, the others wait for its answer (a
        burst of polls took a connection each, and opened as many)."""
        known = self._heads.get(blog)
        if known is not None and known[0] >= generation:
            return known[1]
        reading = self._reads.board((blog, generation))
        if reading is not None:
            reading.wait(FLIGHT_WAIT)
            known = self._heads.get(blog)
            if known is not None and known[0] >= generation:
                return known[1]
            return self._read_head_now(blog, generation)  # its read failed, or found none
        try:
            return self._read_head_now(blog, generation)
        finally:
            self._reads.landed((blog, generation))

    def _read_head_now(self, blog: str, generation: int) -> BlogHead | None:
        with self.liveblog.leased() as store:
            head = queries.find_blog_head(store.conn, blog)
        if head is not None:
            self._remember(blog, generation, head)
        return head

    def _remember(self, blog: str, generation: int, head: BlogHead) -> None:
        if len(self._heads) > 10_000:
            self._heads.clear()
        self._heads[blog] = (generation, head)

    def _start(self) -> None:
        if self._dispatcher is not None and self._dispatcher.is_alive():
            return
        with self._start_lock:
            if self._dispatcher is None or not self._dispatcher.is_alive():
                self._dispatcher = threading.Thread(target=self._dispatch, daemon=True,
                                                    name="liveblog-long-polls")
                self._dispatcher.start()

    def _dispatch(self) -> None:
        """Whenever the log grows: read the heads of the blogs polls wait on, in one lookup,
        and open the gates of those whose visible head moved. It never stops on an error (the
        polls would wait out their time): it logs it and looks again."""
        watcher = self.liveblog.watcher()
        seen = watcher.generation
        while not watcher.closed:
            generation = watcher.wait(seen, 60.0)
            if generation == seen:
                continue
            seen = generation
            gates = list(self._gates.items())
            if not gates:
                continue
            try:
                with self.liveblog.leased() as store:
                    heads = queries.blog_heads(store.conn, [blog for blog, _ in gates])
            except database_errors():
                log.warning("long polls: the blogs' heads could not be read", exc_info=True)
                time.sleep(0.5)
                seen = -1  # look again
                continue
            for blog, gate in gates:
                head = heads.get(blog)
                if head is None:
                    continue
                self._remember(blog, generation, head)
                if (head.visible_position, head.feed_version) != (gate.head.visible_position,
                                                                  gate.head.feed_version):
                    gate.moved(head)


#: seconds an anonymous long poll turned away by a full node is asked to wait before polling
#: again (a range: those turned away together come back spread out)
RETRY_AFTER = (2, 8)


def _held_already(environ: WSGIEnvironment, decided: ReaderRequest,
                  kept: tuple[list[tuple[str, str]], bytes] | None) -> bool:
    """Whether the reader holds the answer already: 304. An answer kept was rendered for this
    very query, so a valid one: ``*`` matches it too."""
    return decided.current or (kept is not None and listed(environ.get("HTTP_IF_NONE_MATCH"),
                                                           decided.etag))


#: where the app asks the server to close a connection once answered (liveblog.worker's Worker
#: does; gunicorn drops a Connection header an app sends)
CLOSE_KEY = "liveblog.close_connection"


def _turned_away(environ: WSGIEnvironment, start_response: StartResponse,
                 retry_after: int) -> StartResponse:
    """A long poll the node is too full to hold: its answer says when to come back, and its
    connection is closed, so that what it held goes to editors and health checks."""
    environ[CLOSE_KEY] = True

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return start_response(status, [*headers, ("Retry-After", str(retry_after))], exc_info)

    return start


#: rendered anonymous answers, headers and body, by ETag (which names the blog's state)
Answers = LRU[str, tuple[list[tuple[str, str]], bytes]]


class Freshness:
    """WSGI middleware in front of Flask: anonymous reader GETs of a feed or of /changes are
    answered here when they can be (304, or an answer already rendered); the others go on to
    Flask with the head already read. Everything else passes through untouched."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.liveblog: Liveblog = app.extensions["liveblog"]
        self.answers: Answers = app.extensions["liveblog.answers"]
        self.long_polls: LongPolls = app.extensions["liveblog.long_polls"]
        self.heads = Heads(self.liveblog)
        self.cache_control: str = app.extensions["liveblog.caching"].reader
        self.urls = app.url_map.bind("localhost")
        #: the live reader answers, by Flask endpoint, as their views are marked
        self.answering = {endpoint: what for endpoint, view in app.view_functions.items()
                          if (what := _reader_answer_of(view)) is not None}
        self.wsgi_app = wsgi_app
        #: the answers at once of the middleware behind (readers' votes)
        self._behind: Callable[[WSGIEnvironment], Answer | None] | None = getattr(
            wsgi_app, "answer_at_once", None)
        self._routes: dict[str, tuple[str, str] | None] = {}
        #: the answers being rendered now, by ETag: others asking for one wait for it
        self._renders = Flights()

    def _route(self, path: str) -> tuple[str, str] | None:
        """``(resource, blog)`` when ``path`` is a feed or /changes of a blog (Flask's routes)."""
        try:
            return self._routes[path]
        except KeyError:
            pass
        try:
            endpoint, values = self.urls.match(path, "GET")
        except HTTPException:
            route = None
        else:
            what = self.answering.get(str(endpoint))
            route = (what, values["blog"]) if what is not None else None
        if len(self._routes) > 10_000:
            self._routes.clear()
        self._routes[path] = route
        return route

    def _decide(self, environ: WSGIEnvironment, *, wait: bool) -> ReaderRequest | None:
        """The decision on an anonymous reader's GET of a live answer; None when the request
        is none (or its blog cannot be read here: Flask's path answers it, with a problem if it
        must). Without ``wait``, a long poll that would wait is none either."""
        if environ.get("REQUEST_METHOD") != "GET" or "HTTP_AUTHORIZATION" in environ:
            return None
        route = self._route(environ.get("PATH_INFO", ""))
        if route is None:
            return None
        what, blog = route
        query: str = environ.get("QUERY_STRING", "")
        args = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
        if any(word in args for word in NOT_THE_LIVE_ANSWER):
            return None
        waiting = what == "changes" and long_poll_wait(args.get("wait")) > 0
        if waiting and not wait:
            return None
        try:
            head = self.long_polls.head(blog) if waiting else self.heads.find(blog)
        except database_errors():
            return None
        if head is None:
            return None
        return reader_request(what, head, query.encode("latin-1"), args,
                              environ.get("HTTP_IF_NONE_MATCH"), self.long_polls.waiter(environ))

    def answer_at_once(self, environ: WSGIEnvironment) -> Answer | None:
        """The answer to an anonymous reader's GET that needs neither Flask nor a wait (its 304,
        or the answer already rendered), for a server that can send it without WSGI's
        machinery (liveblog.worker); None: the request goes the usual way. Any other method
        is asked of the middleware behind (a reader's vote)."""
        if environ.get("REQUEST_METHOD") != "GET":
            return self._behind(environ) if self._behind is not None else None
        decided = self._decide(environ, wait=False)
        if decided is None:
            return None
        kept = None if decided.current else self.answers.get(decided.etag)
        if _held_already(environ, decided, kept):
            return "304 Not Modified", unmodified(
                answer_headers(decided.etag, self.cache_control, None)), b""
        if kept is None:
            return None
        return "200 OK", list(kept[0]), kept[1]

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        decided = self._decide(environ, wait=True)
        if decided is None:
            return self.wsgi_app(environ, start_response)
        if decided.retry_after:
            start_response = _turned_away(environ, start_response, decided.retry_after)
        etag = decided.etag
        kept = None if decided.current else self._kept(etag)
        if _held_already(environ, decided, kept):
            return start_304(start_response, answer_headers(etag, self.cache_control, None))
        if kept is not None:
            start_response("200 OK", list(kept[0]))  # a copy: what is kept stays as it was
            return [kept[1]]
        environ[READER_KEY] = decided
        try:
            return self._render(environ, start_response)
        finally:
            self._renders.landed(etag)

    def _kept(self, etag: str) -> tuple[list[tuple[str, str]], bytes] | None:
        """The answer kept under ``etag``; when another request is rendering it right now (a
        change just woke every long poll of a blog), that answer once it is done. Otherwise
        None, and this request is the one to render it (it must call ``self._renders.landed``)."""
        kept = self.answers.get(etag)
        if kept is not None:
            return kept
        flight = self._renders.board(etag)
        if flight is None:
            return None
        flight.wait(FLIGHT_WAIT)
        kept = self.answers.get(etag)
        if kept is None:
            self._renders.board(etag)  # not kept (not a public 200): render it ourselves
        return kept

    def _render(self, environ: WSGIEnvironment,
                start_response: StartResponse) -> Iterable[bytes]:
        """Let Flask answer, and keep a public 200 for the next reader."""
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, list(headers)  # kept as Flask sent it
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, capture)
        headers = dict(seen.get("headers") or [])
        if (not str(seen.get("status", "")).startswith("200") or "ETag" not in headers
                or not shared(headers.get("Cache-Control", ""))):
            return result
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        self.answers.put(headers["ETag"], (list(seen["headers"]), body))
        return [body]
