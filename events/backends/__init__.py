"""Storage backends: where the log and the read models live, chosen by the database's name.

A name starting with ``postgresql://`` (or ``postgres://``) is a PostgreSQL database; anything else
is the path of a SQLite file (the embedded default). Each backend is one module, modelled on the
eventsourcing library's recorders: it opens connections that speak one small protocol
(:class:`Connection`), creates the store's tables, classifies its driver's errors, and tells
waiting readers when the log grows (:class:`Watcher`). The SQL the store, the projections and the
application write is the common subset of both dialects, with ``?`` placeholders.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class Cursor(Protocol):
    """What a statement returns: rows as tuples, in order."""

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection in autocommit mode whose transactions are explicit.

    ``begin_write`` starts a transaction that excludes every other writer of the database until
    it ends (SQLite's ``BEGIN IMMEDIATE``; a transaction-scoped advisory lock on PostgreSQL), so
    decisions taken inside it hold across processes and machines; ``begin_read`` starts one that
    reads a single consistent snapshot.
    """

    dialect: str

    @property
    def isolation_level(self) -> str | None:
        """None: autocommit, with explicit transactions."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...

    @property
    def in_transaction(self) -> bool: ...

    def begin_write(self) -> None: ...

    def begin_read(self) -> None: ...

    def notify(self, position: int) -> None: ...

    def close(self) -> None: ...


def is_postgres(database: str) -> bool:
    """True when ``database`` names a PostgreSQL database (a ``postgresql://`` URL)."""
    return database.startswith(POSTGRES_SCHEMES)


def connect(database: str, *, synchronous: str = "FULL", busy_timeout_ms: int = 10_000,
            check_same_thread: bool = True) -> Connection:
    """Open a connection to ``database``: a SQLite path or a ``postgresql://`` URL.

    :param synchronous: SQLite's durability (``FULL``: an acknowledged append survives power
        loss). PostgreSQL's is the server's ``synchronous_commit``, on by default.
    """
    if is_postgres(database):
        from . import postgresql

        return postgresql.connect(database)
    from . import sqlite

    return sqlite.connect(database, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms,
                          check_same_thread=check_same_thread)


def migrate(conn: Connection) -> list[str]:
    """Create or upgrade the store's own tables; returns the migrations applied now."""
    if conn.dialect == "postgresql":
        from . import postgresql

        return postgresql.migrate(conn)  # type: ignore[arg-type]
    from . import sqlite

    return sqlite.migrate(conn)  # type: ignore[arg-type]


@contextlib.contextmanager
def relaxed_durability(conn: Connection) -> Iterator[None]:
    """Commits in the block need not survive a crash of the machine (work that is thrown away
    and redone after one, like filling a rebuild's fresh tables): SQLite ``synchronous = NORMAL``,
    PostgreSQL ``synchronous_commit = off``. The previous setting is back after the block."""
    if conn.dialect == "postgresql":
        conn.execute("SET synchronous_commit = off")
        try:
            yield
        finally:
            conn.execute("RESET synchronous_commit")
        return
    level = conn.execute("PRAGMA synchronous").fetchone()[0]
    # NORMAL, not OFF: in WAL mode commits then skip their fsync, but checkpoints still sync in
    # order, so a power cut loses at most the relaxed commits and never corrupts the file (OFF
    # could copy pages into it unsynced, then let the WAL that held them be overwritten)
    conn.execute("PRAGMA synchronous = NORMAL")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA synchronous = {int(level)}")


def settle(conn: Connection) -> None:
    """Before taking the write lock for a short, durable transaction after a lot of relaxed
    writing: SQLite copies its write-ahead log into the file now (a passive checkpoint, which
    waits for no one), so the commit under the lock has nothing big to sync or copy.
    PostgreSQL needs nothing."""
    if conn.dialect == "sqlite":
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def _driver_errors() -> tuple[type[Exception], ...]:
    import sqlite3

    errors: list[type[Exception]] = [sqlite3.Error]
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency; SQLite works without it
        pass
    else:
        errors.append(psycopg.Error)
    return tuple(errors)


#: Every error a backend's driver raises (for "the database does not answer").
DATABASE_ERRORS: tuple[type[Exception], ...] = _driver_errors()


def unique_violation(error: BaseException) -> str | None:
    """``"table.column"`` when ``error`` is a UNIQUE constraint refusing a row, else None."""
    from . import sqlite

    found = sqlite.unique_violation(error)
    if found is None and type(error).__module__.startswith("psycopg"):
        from . import postgresql

        found = postgresql.unique_violation(error)
    return found


def is_read_only_error(error: BaseException) -> bool:
    """True when SQLite refused to open or write a file because its storage is read-only."""
    from . import sqlite

    return sqlite.read_only(error)


def unavailable(error: BaseException) -> bool:
    """True when ``error`` says storage cannot take writes now (down, full, read-only, busy):
    a client may retry later, unlike a request that is wrong."""
    from . import sqlite

    if sqlite.unavailable(error):
        return True
    if type(error).__module__.startswith("psycopg"):
        from . import postgresql

        return postgresql.unavailable(error)
    return False


class Watcher:
    """Tells waiting readers that the log grew: one watch a process, however many wait.

    Every change of the log bumps :attr:`generation`; :meth:`wait` returns once it differs from
    the one the caller saw. A thread of the watcher's own (started on first use, so never before
    a fork) does the watching: the SQLite one looks at the file every ``interval`` seconds (any
    process may have appended, and nothing tells us); the PostgreSQL one is woken as soon as any
    node's append commits (LISTEN/NOTIFY). So a thousand waiting readers cost one watch, not a
    thousand polls.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._closed = threading.Event()
        self._changed = threading.Condition()
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @property
    def generation(self) -> int:
        """How many changes this watcher has seen (compare, do not count: it may skip)."""
        self._start()
        return self._generation

    def wait(self, seen: int, timeout: float) -> int:
        """Return the generation once it differs from ``seen``, or after ``timeout`` seconds."""
        self._start()
        with self._changed:
            self._changed.wait_for(lambda: self._generation != seen or self._closed.is_set(),
                                   timeout=max(0.0, timeout))
            return self._generation

    def close(self) -> None:
        """Stop watching; waiters return at once."""
        self._closed.set()
        self._wake()

    def appended(self) -> None:
        """This process appended: wake its waiters now (the watch will see it again later)."""
        self._wake()

    def _wake(self) -> None:
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, daemon=True,
                                                name="events-watch")
                self._thread.start()

    def _watch(self) -> None:
        """Call :meth:`_wake` whenever the log grows, until closed (the backend's own way)."""
        raise NotImplementedError


def watcher(database: str, *, interval: float = 0.25) -> Watcher:
    """A watcher of ``database``'s log for this process."""
    if is_postgres(database):
        from . import postgresql

        return postgresql.NotifyWatcher(database, interval=interval)
    from . import sqlite

    return sqlite.FileWatcher(database, interval)
