"""Database access: one store connection per thread, projections started once per process.

``DATABASE`` is a SQLite path (the embedded default) or a ``postgresql://`` URL; everything
above this module is the same on both.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from flask import Flask, current_app

from events import (
    DATABASE_ERRORS,
    Connection,
    EventStore,
    ProjectionRunner,
    Watcher,
    unavailable,
    utc_now,
    watcher,
    write_transaction,
)

from .codec import UPCASTERS
from .projections import all_projections

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from .audit import SnapshotKeeper
    from .service import Service, StreamStates


class WriteHealth:
    """Whether storage took this process's last write: a write refused because storage could
    not take it (full, read-only, down) marks writes failing until one succeeds again."""

    def __init__(self) -> None:
        #: why the last write failed; None while writes succeed
        self.detail: str | None = None

    @property
    def failing(self) -> bool:
        """True from a write storage refused until one it takes."""
        return self.detail is not None

    def failed(self, error: BaseException) -> None:
        """A write was refused by storage."""
        self.detail = str(error).splitlines()[0] if str(error) else type(error).__name__

    def succeeded(self) -> None:
        """A write was committed."""
        self.detail = None


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
    _local: threading.local = field(default_factory=threading.local)
    _watcher: Watcher | None = None
    _states: StreamStates | None = None
    _keeper: SnapshotKeeper | None = None
    health: WriteHealth = field(default_factory=WriteHealth)
    _watcher_lock: threading.Lock = field(default_factory=threading.Lock)

    def store(self) -> EventStore:
        """This thread's store (opened on first use and kept: gthread workers reuse threads)."""
        store: EventStore | None = getattr(self._local, "store", None)
        if store is None:
            store = EventStore.open(self.url, synchronous=self.synchronous,
                                    clock=self.clock, upcasters=UPCASTERS)  # type: ignore[arg-type]
            self._local.store = store
        return store

    def runner(self) -> ProjectionRunner:
        """The projection runner on this thread's store."""
        runner: ProjectionRunner | None = getattr(self._local, "runner", None)
        if runner is None or runner.store is not self.store():
            # big batches: a rebuild commits (and the WAL checkpoints) once a batch
            runner = ProjectionRunner(self.store(), all_projections(), batch_size=10_000)
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
        return Service(self.store(), self.runner(), self._states,
                       self._keeper.recorded if self._keeper is not None else None,
                       self.health)

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
        """Close this thread's connection."""
        store = getattr(self._local, "store", None)
        if store is not None:
            store.close()
            self._local.store = None
            self._local.runner = None

    def shutdown(self) -> None:
        """Close this thread's connection and stop the watcher."""
        self.close()
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
    store = database.store()
    if store.read_only is not None:
        # storage that can only be read: serve what is stored, refuse writes (503), say so
        database.health.failed(RuntimeError("the database can only be read (read-only"
                                            f" storage: {store.read_only})"))
        app.config["READ_ONLY"] = True
        log.warning("serving %s read-only: its storage cannot be written", database.url)
        return
    migrate(store.conn)
    database.runner().start()


def migrate(conn: Connection) -> None:
    """The application's own tables beside the store's and the projections'."""
    # operational state, not history: which process runs the background jobs (scheduler.py);
    # under the writer lock, so nodes starting together do not race to create it
    with write_transaction(conn):
        conn.execute("CREATE TABLE IF NOT EXISTS scheduler_lease (id INTEGER PRIMARY KEY"
                     " CHECK (id = 1), holder TEXT NOT NULL, expires_at TEXT NOT NULL)")
        # one row /healthz rewrites to learn whether storage takes writes again
        conn.execute("CREATE TABLE IF NOT EXISTS health_probe (id INTEGER PRIMARY KEY"
                     " CHECK (id = 1), at REAL NOT NULL)")


def get_db() -> Database:
    """The current app's database."""
    return current_app.extensions["liveblog.db"]  # type: ignore[no-any-return]
