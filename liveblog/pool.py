"""The connection pool: stores leased per thread (under gevent, per greenlet), given back when a
request ends, so a connection is held only while it is used. Nothing else lives here: what is
built on a store (the projection runner, the service) is put together in ``bootstrap.py``.

``url`` is a SQLite path (the embedded default) or a ``postgresql://`` URL; everything above
this module is the same on both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from events import EventStore, database_errors

#: how long (s) a request waits for a free database connection before it is answered 503
POOL_TIMEOUT = 10.0


class PoolExhaustedError(RuntimeError):
    """Every database connection of this process stayed in use for :data:`POOL_TIMEOUT`."""


@dataclass
class Pool:
    """Stores of one database for the threads of a process, at most ``max_connections`` at
    once; each lease keeps what was attached to its store (:meth:`attached`)."""

    url: str
    #: opens a new store on ``url`` (migrated, with the application's upcasters and clock)
    open: Callable[[], EventStore]
    #: connections this process holds at most at once (more requests wait for one)
    max_connections: int = 32
    #: told +1 when a store is leased, -1 when it is given back (a metric)
    leases: Callable[[int], object] = lambda change: None
    _local: threading.local = field(default_factory=threading.local)
    _idle: list[tuple[EventStore, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.max_connections)

    def store(self) -> EventStore:
        """The store this thread (under gevent: this greenlet) holds, leased from the process's
        pool on first use. A request gives it back when it ends (:meth:`release`), so a
        connection is held only while it is used, never by a client that waits."""
        store: EventStore | None = getattr(self._local, "store", None)
        if store is None:
            if not self._slots.acquire(timeout=POOL_TIMEOUT):
                raise PoolExhaustedError(f"no database connection free for {POOL_TIMEOUT:.0f} s"
                                         f" ({self.max_connections} in use)")
            try:
                store, attached = self._idle.pop() if self._idle else (self.open(), {})
            except BaseException:
                self._slots.release()
                raise
            self._local.store, self._local.attached = store, attached
            self.leases(1)
        return store

    def attached(self, key: str, make: Callable[[EventStore], Any]) -> Any:
        """What is attached to this thread's store under ``key``, made from it on first use
        and kept with it in the pool (a projection runner is bound to its store)."""
        store = self.store()
        attached: dict[str, Any] = self._local.attached
        if key not in attached:
            attached[key] = make(store)
        return attached[key]

    def holds(self) -> bool:
        """Whether this thread (or greenlet) holds a store now."""
        return getattr(self._local, "store", None) is not None

    def release(self, *, close: bool = False) -> None:
        """Give this thread's store back to the pool (it must not be used after this); with
        ``close``, close it instead (the next use opens another)."""
        store = getattr(self._local, "store", None)
        if store is None:
            return
        self._local.store = None
        attached, self._local.attached = self._local.attached, {}
        try:
            if not close and store.conn.in_transaction:
                store.conn.execute("ROLLBACK")  # an error left one open: never hand that on
        except database_errors():
            close = True  # a broken connection is not handed on either
        finally:
            self._slots.release()
            self.leases(-1)
        if close:
            store.close()
        else:
            self._idle.append((store, attached))

    @contextmanager
    def leased(self) -> Iterator[EventStore]:
        """The store, given back on exit unless this thread held one already."""
        held = self.holds()
        try:
            yield self.store()
        finally:
            if not held:
                self.release()

    def close_idle(self) -> None:
        """Close the connections waiting in the pool."""
        while self._idle:
            self._idle.pop()[0].close()
