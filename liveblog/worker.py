"""The worker `liveblog serve` runs: gunicorn's gevent worker, so a client that waits costs no
thread.

A held long poll, a reader reading slowly and a client trickling its headers each cost a
greenlet and a socket, not one of a few threads: the measured choice (``scripts/bench load``)
over gunicorn's threaded worker, where 16 long polls or 16 slow clients took a whole worker.
Clients are timed out: the request's headers must all arrive within ``keepalive`` seconds
(gunicorn's gevent worker), and each read or write of the socket within :data:`IO_TIMEOUT`
seconds after that (a body shorter than its Content-Length, a reader that stopped reading).
"""

from __future__ import annotations

import functools
import time
from typing import Any

import gevent
import gevent.event
from gevent.pool import Pool
from gevent.server import StreamServer
from gunicorn import SERVER
from gunicorn.sock import ssl_context
from gunicorn.util import http_date, unquote_to_wsgi_str
from gunicorn.workers.base_async import AsyncWorker
from gunicorn.workers.ggevent import GeventWorker

from .api.ballots import MAX_BODY, ReadAgain
from .api.freshness import CLOSE_KEY

#: seconds one read or write of a client's socket may take once its headers are in
IO_TIMEOUT = 30.0


#: request headers that mean a body, or a step before it: such a request goes the usual way
_BODY_HEADERS = frozenset({"CONTENT-LENGTH", "TRANSFER-ENCODING", "EXPECT"})


class Worker(GeventWorker):  # type: ignore[misc]
    """gunicorn's gevent worker, with a deadline on every socket operation, closing the
    connections the app asks it to (:data:`CLOSE_KEY`: a long poll a full node turned away).

    The audience's polls take a short way: a GET the app can answer at once (its
    ``answer_at_once``: an anonymous reader's 304, or a feed already rendered) is answered from
    the parsed request, with the same status line and headers gunicorn would send, without the
    WSGI environ, response object and iterator that a request otherwise costs. Anything else,
    and anything the app declines, goes gunicorn's way.
    """

    _date = (0, "")
    _long_polls: Any = None
    #: set when a graceful stop begins (made in :meth:`run`, after the fork)
    _stopping: gevent.event.Event | None = None

    def handle_exit(self, sig: Any, frame: Any) -> None:
        """A graceful stop (SIGTERM): held long polls are answered now, from a greenlet (not
        the signal handler, which may have interrupted one holding their lock), rather than
        keeping the process until they end or the graceful timeout passes."""
        super().handle_exit(sig, frame)
        if self._long_polls is not None:
            gevent.spawn(self._long_polls.drain)
        if self._stopping is not None:
            gevent.spawn(self._stopping.set)

    def run(self) -> None:
        """Serve until stopped, as gunicorn's gevent worker does, except that a graceful stop
        is acted on at once and the worker exits the moment its last connection ends (within
        the graceful timeout), where gunicorn's looks once a second for each: an idle node
        stopped in 1 to 2 s; it stops in a few milliseconds now."""
        self._stopping = gevent.event.Event()
        ssl = {"ssl_context": ssl_context(self.cfg)} if self.cfg.is_ssl else {}
        servers = []
        for sock in self.sockets:
            sock.setblocking(1)
            server = StreamServer(sock, handle=functools.partial(self.handle, sock),
                                  spawn=Pool(self.worker_connections), **ssl)
            if self.cfg.workers > 1:
                server.max_accept = 1  # (as gunicorn's: workers share the accepts)
            server.start()
            servers.append(server)
        while self.alive:
            self.notify()
            self._stopping.wait(1.0)
        for server in servers:
            server.close()  # accept no more
        deadline = time.monotonic() + self.cfg.graceful_timeout
        for server in servers:
            # the connections open finish their requests; the master hears from us each second
            while not server.pool.join(timeout=max(0.0, min(1.0, deadline - time.monotonic()))):
                if time.monotonic() >= deadline:
                    self.log.warning("Worker graceful timeout (pid:%s)", self.pid)
                    server.stop(timeout=1)
                    break
                self.notify()

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        client.settimeout(IO_TIMEOUT)  # GeventWorker.handle would make the socket wait forever
        AsyncWorker.handle(self, listener, client, addr)

    def load_wsgi(self) -> None:
        super().load_wsgi()
        app: Any = self.wsgi  # type: ignore[has-type]  # gunicorn sets it untyped

        def closing(environ: dict[str, Any], start_response: Any) -> Any:
            result = app(environ, start_response)
            if environ.get(CLOSE_KEY) or not self.alive:  # turned away, or stopping
                # gunicorn's start_response is its response's method, and force_close() the
                # one way to ask it to close (it drops a Connection header an app sends)
                start_response.__self__.force_close()
            return result

        self.wsgi = closing
        self._long_polls = getattr(app, "extensions", {}).get("liveblog.long_polls")
        self.answer_at_once = getattr(getattr(app, "wsgi_app", None), "answer_at_once", None)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        if self.answer_at_once is not None and req.method in ("GET", "POST"):
            environ = _short_environ(req, addr)
            found = self.answer_at_once(environ) if environ is not None else None
            if found is None and environ is not None and "wsgi.input" in environ:
                req.body = environ["wsgi.input"]  # read already: Flask reads it from there
            if found is not None:
                (status, headers, body), sent = found
                close = not self.alive or req.should_close()
                lines = [f"HTTP/{req.version[0]}.{req.version[1]} {status}\r\nServer: {SERVER}"
                         f"\r\nDate: {self._http_date()}\r\nConnection:"
                         f" {'close' if close else 'keep-alive'}\r\n"]
                lines += [f"{name}: {value}\r\n" for name, value in headers]
                lines.append("\r\n")
                sock.sendall("".join(lines).encode("latin-1") + body)
                sent()
                if close:
                    raise StopIteration()  # gunicorn's way to end the connection
                return True
        return super().handle_request(listener_name, req, sock, addr)

    def _http_date(self) -> str:
        """The Date header's value, formatted once a second."""
        now = int(time.time())
        if self._date[0] != now:
            self._date = (now, http_date(now))
        return self._date[1]


def _short_environ(req: Any, addr: Any) -> dict[str, Any] | None:
    """What the app's ``answer_at_once`` reads of a request: a GET without a body, or a POST
    with a small one (a reader's vote), read here (None: any other)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": req.method, "PATH_INFO": unquote_to_wsgi_str(req.path),
        "QUERY_STRING": req.query, "SERVER_PROTOCOL": f"HTTP/{req.version[0]}.{req.version[1]}",
        "REMOTE_ADDR": addr[0] if isinstance(addr, tuple) else str(addr)}
    length = None
    for name, value in req.headers:
        if name == "CONTENT-LENGTH" and req.method == "POST" and length is None:
            length = value
            continue
        if name in _BODY_HEADERS:
            return None
        key = "CONTENT_TYPE" if name == "CONTENT-TYPE" else "HTTP_" + name.replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    if req.method == "POST":
        if length is None or not length.isdigit() or not 0 < int(length) <= MAX_BODY:
            return None
        environ["CONTENT_LENGTH"] = length
        environ["wsgi.input"] = ReadAgain(req.body.read(int(length)))
    return environ
