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

#: seconds one read or write of a client's socket may take once its headers are in
IO_TIMEOUT = 30.0


class Worker(GeventWorker):  # type: ignore[misc]
    """gunicorn's gevent worker, with a deadline on every socket operation."""

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        client.settimeout(IO_TIMEOUT)  # GeventWorker.handle would make the socket wait forever
        AsyncWorker.handle(self, listener, client, addr)


def require_patched() -> None:
    """Refuse to serve unless gevent patched this process before psycopg was imported (the
    command line does it first thing: liveblog.__main__)."""
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        raise RuntimeError("the server must run from the command line (liveblog serve): gevent"
                           " patches blocking calls there before anything else is imported")
