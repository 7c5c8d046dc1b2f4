"""Database access: one store connection per thread, projections started once per process."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, current_app

from events import EventStore, ProjectionRunner, utc_now

from .codec import UPCASTERS
from .projections import all_projections


@dataclass
class Database:
    """The app's view of its database file: connections per thread and the projection runner."""

    path: str
    synchronous: str = "FULL"
    clock: object = utc_now
    _local: threading.local = field(default_factory=threading.local)

    def store(self) -> EventStore:
        """This thread's store (opened on first use and kept: gthread workers reuse threads)."""
        store: EventStore | None = getattr(self._local, "store", None)
        if store is None:
            store = EventStore.open(self.path, synchronous=self.synchronous,
                                    clock=self.clock, upcasters=UPCASTERS)  # type: ignore[arg-type]
            self._local.store = store
        return store

    def runner(self) -> ProjectionRunner:
        """The projection runner on this thread's store."""
        runner: ProjectionRunner | None = getattr(self._local, "runner", None)
        if runner is None or runner.store is not self.store():
            runner = ProjectionRunner(self.store(), all_projections())
            self._local.runner = runner
        return runner

    def close(self) -> None:
        """Close this thread's connection."""
        store = getattr(self._local, "store", None)
        if store is not None:
            store.close()
            self._local.store = None
            self._local.runner = None

    def now(self) -> datetime:
        """The current time from the injected clock."""
        return self.clock()  # type: ignore[operator,no-any-return]


def init_app(app: Flask, clock: object = utc_now) -> None:
    """Bind the database to ``app``, migrate it and bring every projection up to date."""
    database = Database(str(app.config["DATABASE"]), app.config["SYNCHRONOUS"], clock)
    app.extensions["liveblog.db"] = database
    migrate(database.store().conn)
    database.runner().start()


def migrate(conn: sqlite3.Connection) -> None:
    """The application's own tables beside the store's and the projections'."""
    # operational state, not history: which process runs the background jobs (scheduler.py)
    conn.execute("CREATE TABLE IF NOT EXISTS scheduler_lease (id INTEGER PRIMARY KEY"
                 " CHECK (id = 1), holder TEXT NOT NULL, expires_at TEXT NOT NULL)")


def get_db() -> Database:
    """The current app's database."""
    return current_app.extensions["liveblog.db"]  # type: ignore[no-any-return]
