"""The composition root: the store, its projections, the service and its hooks are put together
here and nowhere else. The app factory (:func:`init_app`), the command line, the scheduler and
the tests all run on what :func:`bootstrap` returns.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app, g

from events import (
    EventStore,
    ProjectionRunner,
    RecordedEvent,
    Watcher,
    connect,
    database_errors,
    is_postgres,
    migrate,
    pending_migrations,
    unavailable,
    upgrade_lock,
    utc_now,
    watcher,
    write_transaction,
)

from . import checkpoints, embeds, media, metrics, transparency
from .codec import UPCASTERS
from .health import WriteHealth
from .pool import Pool
from .projections import all_projections
from .service import Service, SideTable, StreamStates
from .streams import erasable
from .votes import Votes, open_votes

log = logging.getLogger(__name__)

#: what the tables beside the log keep of a post's content, for a redaction to take away:
#: the images it uploaded, and what oEmbed providers said of its embeds
SIDE_TABLES = (SideTable(media.TABLES, media.named_by, media.forget),
               SideTable(embeds.TABLES, embeds.embedded_urls, embeds.forget))


@dataclass
class Liveblog:
    """One process's liveblog on one database: the pool of stores, the projection runner and
    the service on each, the watcher that wakes long polls when the log grows (on any node),
    and whether storage takes writes."""

    url: str
    pool: Pool
    clock: object = utc_now
    poll_interval: float = 0.25
    health: WriteHealth = field(default_factory=WriteHealth)
    _states: StreamStates = field(default_factory=StreamStates)
    _watcher: Watcher | None = None
    _watcher_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        #: when this process's liveblog was put together (by its clock)
        self.started_at: datetime = self.now()

    # -- the pool's leases -----------------------------------------------------------------------

    def store(self) -> EventStore:
        """The store this thread holds (leased on first use; see :class:`~liveblog.pool.Pool`)."""
        return self.pool.store()

    def holds(self) -> bool:
        """Whether this thread holds a store now."""
        return self.pool.holds()

    def release(self, *, close: bool = False) -> None:
        """Give this thread's store back (or close it)."""
        self.pool.release(close=close)

    @contextmanager
    def leased(self) -> Iterator[EventStore]:
        """The store, given back on exit unless this thread held one already."""
        with self.pool.leased() as store:
            yield store

    # -- what is built on a store ----------------------------------------------------------------

    def runner(self) -> ProjectionRunner:
        """The projection runner on this thread's store (big batches: a rebuild commits, and the
        WAL checkpoints, once a batch)."""
        runner: ProjectionRunner = self.pool.attached(
            "runner", lambda store: ProjectionRunner(store, all_projections(), batch_size=10_000))
        return runner

    def votes(self) -> Votes:
        """Poll votes, beside this thread's store (liveblog.votes: on SQLite, a file of their
        own)."""
        votes: Votes = self.pool.attached("votes", lambda store: open_votes(self.url, store))
        return votes

    def service(self) -> Service:
        """The command handler on this thread's store, projections applied inline."""
        return Service(self.store(), self.runner(), self._states, self._recorded, self.health,
                       SIDE_TABLES)

    def _recorded(self, service: Service, stream: str, events: list[RecordedEvent]) -> None:
        """After each command that recorded something: count it, and wake this process's long
        polls at once (other processes' watches see it shortly)."""
        made = metrics.collectors()
        for event in events:
            made.EVENTS_APPENDED.labels(event.type).inc()
        if events:
            made.LOG_HEAD.set(events[-1].position)
        if self._watcher is not None:
            self._watcher.appended()

    def probe_writes(self) -> bool:
        """Try one small write (a row of ``health_probe``); True when storage took it."""
        conn = self.store().conn
        try:
            with write_transaction(conn):
                conn.execute("INSERT INTO health_probe (id, at) VALUES (1, ?) ON CONFLICT (id)"
                             " DO UPDATE SET at = excluded.at", (time.time(),))
        except database_errors() as e:
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
        self.pool.release(close=True)

    def shutdown(self) -> None:
        """Close this thread's connection and the idle ones, and stop the watcher."""
        self.close()
        self.pool.close_idle()
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None

    def now(self) -> datetime:
        """The current time from the injected clock."""
        return self.clock()  # type: ignore[operator,no-any-return]


def bootstrap(url: str, *, synchronous: str = "FULL", clock: object = utc_now,
              poll_interval: float = 0.25) -> Liveblog:
    """A liveblog on the database at ``url`` (a SQLite path or a ``postgresql://`` URL); its
    stores are opened, and migrated, as they are first leased."""

    def open_store() -> EventStore:
        # leased to one thread at a time, but not always the thread that opened it
        return EventStore.open(url, synchronous=synchronous, clock=clock,  # type: ignore[arg-type]
                               upcasters=UPCASTERS, check_same_thread=False, sealed=erasable)

    pool = Pool(url, open_store,
                leases=lambda change: metrics.collectors().DB_CONNECTIONS.inc(change))
    return Liveblog(url, pool, clock, poll_interval)


@dataclass(frozen=True)
class Upgrade:
    """What a database lacks before this code can serve it: migrations not applied yet, and
    projections to build anew from the log (of another version, or new)."""

    migrations: list[str]
    projections: list[str]

    def __bool__(self) -> bool:
        return bool(self.migrations or self.projections)

    def describe(self, *, done: bool = False) -> str:
        """One line: what is to be done (or, ``done``, what was done)."""
        parts = []
        if self.migrations:
            parts.append(f"{len(self.migrations)} migration"
                         f"{'' if len(self.migrations) == 1 else 's'}"
                         f" {'applied' if done else 'to apply'} ({self.migrations[0]}"
                         f"{', ...' if len(self.migrations) > 1 else ''})")
        if self.projections:
            parts.append(f"projections {'built' if done else 'to build'} from the log"
                         f" ({', '.join(self.projections)})")
        return " and ".join(parts) or "nothing to do"


def pending_upgrade(url: str) -> Upgrade:
    """What the database at ``url`` lacks (nothing is changed; a new database lacks all)."""
    conn = connect(url)
    try:
        migrations = pending_migrations(conn)
        if migrations:
            return Upgrade(migrations, [])
        runner = ProjectionRunner(EventStore(conn, upcasters=UPCASTERS, sealed=erasable),
                                  all_projections())
        return Upgrade([], runner.outdated())
    finally:
        conn.close()


def upgrade(url: str, *, synchronous: str = "FULL",
            progress: Callable[[int, int], None] | None = None) -> Upgrade:
    """Bring the database at ``url`` up to this code's schema: apply its migrations and build
    the projections that need it, once, however many processes ask at the same time (the
    others wait for the first, then find nothing to do). Returns what this call did."""
    conn = connect(url, synchronous=synchronous)
    try:
        with upgrade_lock(conn):
            applied = migrate(conn)
            runner = ProjectionRunner(EventStore(conn, upcasters=UPCASTERS, sealed=erasable),
                                      all_projections(),
                                      batch_size=10_000)
            built = runner.outdated()
            runner.start(progress)
        return Upgrade(applied, built)
    finally:
        conn.close()


def init_app(app: Flask, clock: object = utc_now) -> None:
    """Bootstrap ``app``'s liveblog from its config and bring every projection up to date."""
    liveblog = bootstrap(str(app.config["DATABASE"]), synchronous=app.config["SYNCHRONOUS"],
                         clock=clock, poll_interval=float(app.config["LONG_POLL_INTERVAL"]))
    app.extensions["liveblog"] = liveblog
    _give_back_after_requests(app, liveblog)
    with liveblog.leased() as store:
        if store.read_only is not None:
            # storage that can only be read: serve what is stored, refuse writes (503), say so
            liveblog.health.failed(RuntimeError("the database can only be read (read-only"
                                                f" storage: {store.read_only})"))
            app.config["READ_ONLY"] = True
            log.warning("serving %s read-only: its storage cannot be written", liveblog.url)
            return
        signer = app.extensions["liveblog.signer"] = checkpoints.load_signer(
            store.conn, app.config.get("AUDIT_SIGNING_KEY") or None)
        app.extensions["liveblog.log"] = publication(app.config, signer)
        liveblog.runner().start()


def publication(config: Any, signer: checkpoints.Signer) -> transparency.Publication:
    """The transparency log of a deployment: its origin, key, memory of what it signed, and
    witnesses (LOG_STATE_FILE defaults to a file beside a SQLite database)."""
    database = str(config["DATABASE"])
    state = config.get("LOG_STATE_FILE") or (
        None if is_postgres(database) or database == ":memory:"
        else database + ".log-checkpoint")
    witnesses = config.get("LOG_WITNESSES") or []
    return transparency.Publication(
        transparency.origin_of(str(config.get("PUBLIC_URL") or "")), signer.private,
        state_file=state, witnesses=tuple(transparency.parse_witness(w) for w in witnesses))


def _give_back_after_requests(app: Flask, liveblog: Liveblog) -> None:
    """A request gives back the store it leased when it ends, before its body is sent (a
    thread that held one before the request, as a test or a CLI command may, keeps it)."""

    @app.before_request
    def note_held() -> None:
        g.liveblog_store_held = liveblog.holds()

    @app.teardown_request
    def give_back(error: BaseException | None) -> None:
        if not g.get("liveblog_store_held", True):
            liveblog.release()


def get_liveblog() -> Liveblog:
    """The current app's liveblog."""
    return current_app.extensions["liveblog"]  # type: ignore[no-any-return]
