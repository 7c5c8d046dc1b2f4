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

from typing import Any

from gunicorn.workers.base_async import AsyncWorker
from gunicorn.workers.ggevent import GeventWorker

from .api.freshness import CLOSE_KEY

#: seconds one read or write of a client's socket may take once its headers are in
IO_TIMEOUT = 30.0


class Worker(GeventWorker):  # type: ignore[misc]
    """gunicorn's gevent worker, with a deadline on every socket operation, closing the
    connections the app asks it to (:data:`CLOSE_KEY`: a long poll a full node turned away)."""

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        client.settimeout(IO_TIMEOUT)  # GeventWorker.handle would make the socket wait forever
        AsyncWorker.handle(self, listener, client, addr)

    def load_wsgi(self) -> None:
        super().load_wsgi()
        app = self.wsgi

        def closing(environ: dict[str, Any], start_response: Any) -> Any:
            result = app(environ, start_response)
            if environ.get(CLOSE_KEY):
                # gunicorn's start_response is its response's method, and force_close() the
                # one way to ask it to close (it drops a Connection header an app sends)
                start_response.__self__.force_close()
            return result

        self.wsgi = closing
