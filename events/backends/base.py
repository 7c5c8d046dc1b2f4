"""What every backend shares and nothing above it: the :class:`Connection` protocol the store,
the projections and the application speak, the transactions over one, and the :class:`Watcher`
each backend specialises. A leaf: it imports nothing of this package.
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

    def begin_write(self, *, yielding: bool = False) -> None: ...

    def begin_read(self) -> None: ...

    def notify(self, position: int) -> None: ...

    def close(self) -> None: ...


def is_postgres(database: str) -> bool:
    """True when ``database`` names a PostgreSQL database (a ``postgresql://`` URL)."""
    return database.startswith(POSTGRES_SCHEMES)


@contextlib.contextmanager
def write_transaction(conn: Connection, *, yielding: bool = False) -> Iterator[Connection]:
    """Run the block in a write transaction, or in a savepoint when one is open.

    The transaction excludes every other writer of the database (``begin_write``), so what the
    block reads stays true until it commits. Commits when the block ends, rolls everything back
    when it raises.

    :param yielding: background work, one of many short transactions (a rebuild's): writers
        waiting for the database go first.
    """
    if conn.in_transaction:
        conn.execute("SAVEPOINT events_write")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK TO SAVEPOINT events_write")
                conn.execute("RELEASE SAVEPOINT events_write")
            keys = getattr(conn, "_event_keys", None)
            if keys is not None:  # what the savepoint learnt is not known apart: forget all
                keys.settled(committed=False)
            raise
        conn.execute("RELEASE SAVEPOINT events_write")
        return
    keys = getattr(conn, "_event_keys", None)  # events.keys: caches to settle at the end
    if keys is not None:
        keys.settled(committed=False)  # an earlier transaction ended unseen (a dropped one)
    conn.begin_write(yielding=yielding)
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if keys is not None:
            keys.settled(committed=False)
        raise
    conn.execute("COMMIT")
    if keys is not None:
        keys.settled(committed=True)


@contextlib.contextmanager
def read_snapshot(conn: Connection) -> Iterator[Connection]:
    """Run several reads against one consistent snapshot.

    Inside an open transaction it just runs the block.
    """
    if conn.in_transaction:
        yield conn
        return
    conn.begin_read()
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


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

    def version(self) -> int | None:
        """A number that changes whenever anything commits to the database, read now and
        exactly (unlike :attr:`generation`, which follows the watch); None when the backend
        cannot tell cheaply (then every read must go to the database)."""
        return None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (waits return at once)."""
        return self._closed.is_set()

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
