"""Database access: a pool of store connections leased per request, projections started once
per process.

``DATABASE`` is a SQLite path (the embedded default) or a ``postgresql://`` URL; everything
above this module is the same on both.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from flask import Flask, current_app, g

from events import (
    DATABASE_ERRORS,
    EventStore,
    ProjectionRunner,
    RecordedEvent,
    Watcher,
    unavailable,
    utc_now,
    watcher,
    write_transaction,
)

from . import checkpoints
from .codec import UPCASTERS
from .health import WriteHealth
from .projections import all_projections

log = logging.getLogger(__name__)

#: how long (s) a request waits for a free database connection before it is answered 503
POOL_TIMEOUT = 10.0


class PoolExhaustedError(RuntimeError):
    """Every database connection of this process stayed in use for :data:`POOL_TIMEOUT`."""

if TYPE_CHECKING:
    from .audit import SnapshotKeeper
    from .service import Service, StreamStates


@dataclass
class Database:
    """The app's view of its database: connections per thread, the projection runner, and the
    watcher that wakes long polls when the log grows (on any node)."""

    url: str
    synchronous: str = "FULL"
    clock: object = utc_now
    poll_interval: float = 0.25
    #: extend a blog's as-of snapshots every this many of its events (None: only on demand)
    snapshot_every: int | None = None
    #: connections this process holds at most at once (more requests wait for one)
    max_connections: int = 32
    _local: threading.local = field(default_factory=threading.local)
    _idle: list[tuple[EventStore, ProjectionRunner | None]] = field(default_factory=list)
    _watcher: Watcher | None = None
    _states: StreamStates | None = None
    _keeper: SnapshotKeeper | None = None
    health: WriteHealth = field(default_factory=WriteHealth)
    _watcher_lock: threading.Lock = field(default_factory=threading.Lock)

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
                store, runner = self._idle.pop() if self._idle else (self._open(), None)
            except BaseException:
                self._slots.release()
                raise
            self._local.store, self._local.runner = store, runner
        return store

    def _open(self) -> EventStore:
        # leased to one thread at a time, but not always the thread that opened it
        return EventStore.open(self.url, synchronous=self.synchronous, clock=self.clock,  # type: ignore[arg-type]
                               upcasters=UPCASTERS, check_same_thread=False)

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
        runner, self._local.runner = self._local.runner, None
        try:
            if not close and store.conn.in_transaction:
                store.conn.execute("ROLLBACK")  # an error left one open: never hand that on
        except DATABASE_ERRORS:
            close = True  # a broken connection is not handed on either
        finally:
            self._slots.release()
        if close:
            store.close()
        else:
            self._idle.append((store, runner))

    @contextmanager
    def leased(self) -> Iterator[EventStore]:
        """The store, given back on exit unless this thread held one already."""
        held = self.holds()
        try:
            yield self.store()
        finally:
            if not held:
                self.release()

    def runner(self) -> ProjectionRunner:
        """The projection runner on this thread's store."""
        store = self.store()
        runner: ProjectionRunner | None = self._local.runner
        if runner is None:
            # big batches: a rebuild commits (and the WAL checkpoints) once a batch
            runner = ProjectionRunner(store, all_projections(), batch_size=10_000)
            self._local.runner = runner
        return runner

    def service(self) -> Service:
        """The command handler on this thread's store, projections applied inline: the one
        place a store, its projections and the service are put together."""
        from .service import Service, StreamStates

        if self._states is None:
            self._states = StreamStates()
        if self._keeper is None and self.snapshot_every:
            from .audit import SnapshotKeeper

            self._keeper = SnapshotKeeper(self.snapshot_every)
        return Service(self.store(), self.runner(), self._states, self._recorded, self.health)

    def _recorded(self, service: Service, stream: str, events: list[RecordedEvent]) -> None:
        """After each command that recorded something: extend the as-of snapshots, and wake
        this process's long polls at once (other processes' watches see it shortly)."""
        if self._keeper is not None:
            self._keeper.recorded(service, stream, events)
        if self._watcher is not None:
            self._watcher.appended()

    def probe_writes(self) -> bool:
        """Try one small write (a row of ``health_probe``); True when storage took it."""
        conn = self.store().conn
        try:
            with write_transaction(conn):
                conn.execute("INSERT INTO health_probe (id, at) VALUES (1, ?) ON CONFLICT (id)"
                             " DO UPDATE SET at = excluded.at", (time.time(),))
        except DATABASE_ERRORS as e:
            if not unavailable(e):
                raise
            self.health.failed(e)
            return False
        self.health.succeeded()
        return True

    def watcher(self) -> Watcher:
        """This process's watcher of the log (started on first use, never before a fork)."""
        if self._watcher is None:
            with self._watcher_lock:
                if self._watcher is None:
                    self._watcher = watcher(self.url, interval=self.poll_interval)
        return self._watcher

    def close(self) -> None:
        """Close this thread's connection (not given back: the next use opens another)."""
        self.release(close=True)

    def shutdown(self) -> None:
        """Close this thread's connection and the idle ones, and stop the watcher."""
        self.close()
        while self._idle:
            self._idle.pop()[0].close()
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None

    def now(self) -> datetime:
        """The current time from the injected clock."""
        return self.clock()  # type: ignore[operator,no-any-return]


def init_app(app: Flask, clock: object = utc_now) -> None:
    """Bind the database to ``app``, migrate it and bring every projection up to date."""
    database = Database(str(app.config["DATABASE"]), app.config["SYNCHRONOUS"], clock,
                        float(app.config["LONG_POLL_INTERVAL"]),
                        int(app.config["AS_OF_SNAPSHOT_EVERY"]) or None)
    app.extensions["liveblog.db"] = database
    _give_back_after_requests(app, database)
    with database.leased() as store:
        if store.read_only is not None:
            # storage that can only be read: serve what is stored, refuse writes (503), say so
            database.health.failed(RuntimeError("the database can only be read (read-only"
                                                f" storage: {store.read_only})"))
            app.config["READ_ONLY"] = True
            log.warning("serving %s read-only: its storage cannot be written", database.url)
            return
        app.extensions["liveblog.signer"] = checkpoints.load_signer(
            store.conn, app.config.get("AUDIT_SIGNING_KEY") or None)
        database.runner().start()


def _give_back_after_requests(app: Flask, database: Database) -> None:
    """A request gives back the store it leased when it ends, before its body is sent (a
    thread that held one before the request, as a test or a CLI command may, keeps it)."""

    @app.before_request
    def note_held() -> None:
        g.liveblog_store_held = database.holds()

    @app.teardown_request
    def give_back(error: BaseException | None) -> None:
        if not g.get("liveblog_store_held", True):
            database.release()


def get_db() -> Database:
    """The current app's database."""
    return current_app.extensions["liveblog.db"]  # type: ignore[no-any-return]
