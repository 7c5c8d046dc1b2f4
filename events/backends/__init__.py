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
import importlib
import re
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType

from . import sqlite
from .base import (
    POSTGRES_SCHEMES,
    Connection,
    Cursor,
    Watcher,
    is_postgres,
    read_snapshot,
    write_transaction,
)
from .sqlite import remove_files

__all__ = ["POSTGRES_SCHEMES", "Connection", "Cursor", "Watcher", "is_postgres",
           "read_snapshot", "write_transaction", "check_name", "connect", "upgrade_lock",
           "table_exists", "connect_read_only",
           "relaxed_durability", "settle", "database_errors", "unique_violation",
           "is_read_only_error", "unavailable", "watcher", "scrub", "drop_table_unzeroed",
           "remove_files"]


def _postgresql() -> ModuleType:
    """The PostgreSQL backend, loaded when a PostgreSQL database is first named: a process on
    SQLite never loads psycopg (0.1-0.2 s of every start here, a fifth of it), and one that
    serves loads it after gevent has patched the process, as psycopg needs."""
    return importlib.import_module(".postgresql", __name__)


def connect(database: str, *, synchronous: str = "FULL", busy_timeout_ms: int = 10_000,
            check_same_thread: bool = True) -> Connection:
    """Open a connection to ``database``: a SQLite path or a ``postgresql://`` URL.

    :param synchronous: SQLite's durability (``FULL``: an acknowledged append survives power
        loss). PostgreSQL's is the server's ``synchronous_commit``, on by default.
    """
    check_name(database)
    if is_postgres(database):
        return _postgresql().connect(database)  # type: ignore[no-any-return]
    return sqlite.connect(database, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms,
                          check_same_thread=check_same_thread)


def check_name(database: str) -> None:
    """:raises ValueError: ``database`` is neither a ``postgresql://`` URL nor a usable SQLite
    path: a URL of another shape (``PostgreSQL://``, ``postgresql:/x``, ``mysql://``), or a
    file in a folder that does not exist."""
    if is_postgres(database) or database == ":memory:":
        return
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]+):", database)
    if scheme is not None:
        if scheme[1].lower() in ("postgresql", "postgres"):
            raise ValueError(f"{database!r} is not a PostgreSQL URL as written: write it"
                             " postgresql://USER@HOST:PORT/DATABASE (lower case, two slashes)")
        raise ValueError(f"{database!r}: a database is a SQLite file path or a postgresql://"
                         " URL")
    folder = Path(database).expanduser().resolve().parent
    if not folder.is_dir():
        raise ValueError(f"{database}: no folder {folder} to hold a SQLite file")


def upgrade_lock(conn: Connection) -> contextlib.AbstractContextManager[None]:
    """Held while a process upgrades the database (migrations, projection builds), so that
    processes started together on one PostgreSQL database do that work once: the others wait,
    then find it done. SQLite needs none: its one file is upgraded by the one process that
    serves it (``serve`` before it forks), and each migration is a write transaction."""
    if conn.dialect == "postgresql":
        return _postgresql().upgrade_lock(conn)  # type: ignore[no-any-return]
    return contextlib.nullcontext()


def table_exists(conn: Connection, name: str) -> bool:
    """Whether the database has table ``name`` (in the connection's schema)."""
    if conn.dialect == "postgresql":
        return conn.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()[0]  # type: ignore[no-any-return]
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (name,)).fetchone() is not None


def connect_read_only(path: str | Path, *, check_same_thread: bool = True) -> Connection:
    """Open a SQLite file that this process may only read (its storage refuses writes)."""
    return sqlite.connect_read_only(path, check_same_thread=check_same_thread)


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
    # The write-ahead log is copied into the file beside the block, a tenth of a second at a
    # time (sqlite.checkpointing), not by this connection: the log stays short, as any other
    # connection that commits past its limit copies what is there (with a 64 MB limit, an
    # editor's durable commit during a rebuild inherited the rebuild's unsynced megabytes:
    # commits of 250 to 470 ms, measured)
    conn.execute("PRAGMA synchronous = NORMAL")
    try:
        with sqlite.checkpointing(conn):  # type: ignore[arg-type]
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


def drop_table_unzeroed(conn: Connection, table: str, *, step: int = 5000,
                        at_once: int = 3_000_000, warm_from: int = 200_000) -> None:
    """Drop a table that may be large and whose pages need not be zeroed: one that holds
    nothing an erasure could have to remove from the disk (a projection's retired table, whose
    erasable words are sealed with keys an erasure destroys), never holding the write lock long.
    PostgreSQL just removes the table's files. Call it outside any transaction.

    SQLite hands the pages to the free list without ``secure_delete`` writing zeros over each:
    the indexes first, one a transaction; then the table in one ``DROP`` once at most
    ``at_once`` rows are left, deleting rows before that ``step`` a transaction (each deleted
    row rewrites its page: slow, but the lock is never held long). A ``DROP`` only lists the
    pages as free, but reads each one to do so: every page is read first, outside the lock
    (:func:`sqlite.warm`), so the drop finds them in memory (2,000,000 versions of posts with
    their key's index: 0.5 s warm, 3.4 s cold, measured), unless fewer than ``warm_from``
    rows: a small table's drop is short anyway (the reads took 7% of a rebuild of the
    100,000-event mixed log, more than its drops). None of it need survive a crash of
    the machine (no sync each): a table left half dropped is still named as retired, and the
    next rebuild drops it before it swaps."""
    if conn.dialect != "sqlite":
        with write_transaction(conn, yielding=True):
            conn.execute(f'DROP TABLE IF EXISTS "{table}"')
        return
    conn.execute("PRAGMA secure_delete = OFF")
    try:
        with relaxed_durability(conn):
            warming = _rows_at_most(conn, table) >= warm_from
            for (index,) in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                    " AND sql IS NOT NULL", (table,)).fetchall():
                if warming:
                    sqlite.warm(conn, table, index)  # type: ignore[arg-type]
                with write_transaction(conn, yielding=True):
                    conn.execute(f'DROP INDEX IF EXISTS "{index}"')
            while True:
                whole = _rows_at_most(conn, table) < at_once
                if whole and warming:
                    sqlite.warm(conn, table)  # type: ignore[arg-type]
                    for (index,) in conn.execute(  # the key's, which goes with the table
                            "SELECT name FROM sqlite_master WHERE type = 'index'"
                            " AND tbl_name = ?", (table,)).fetchall():
                        sqlite.warm(conn, table, index)  # type: ignore[arg-type]
                with write_transaction(conn, yielding=True):
                    if not table_exists(conn, table):
                        return
                    if whole:
                        conn.execute(f'DROP TABLE "{table}"')
                        return
                    conn.execute(f'DELETE FROM "{table}" WHERE rowid IN'
                                 f' (SELECT rowid FROM "{table}" LIMIT {int(step)})')
    finally:
        conn.execute("PRAGMA secure_delete = ON")


def _rows_at_most(conn: Connection, table: str) -> int:
    """A bound on the rows of a SQLite rowid table, from its rowids (0 when it has none, or is
    gone)."""
    if not table_exists(conn, table):
        return 0
    low, high = conn.execute(f'SELECT min(rowid), max(rowid) FROM "{table}"').fetchone()
    return 0 if low is None else int(high - low + 1)


def scrub(conn: Connection, tables: Sequence[str]) -> bool:
    """After an erasure has committed: leave no erased byte of ``tables`` in the database's
    files (SQLite: the write-ahead log emptied, the pages zeroed by ``secure_delete``;
    PostgreSQL: the tables rewritten and checkpointed). False when it could not be done fully
    now (a reader held SQLite's log; PostgreSQL's checkpoint was not allowed)."""
    if conn.dialect == "postgresql":
        return _postgresql().scrub(conn, tables)  # type: ignore[no-any-return]
    return sqlite.scrub(conn)  # type: ignore[arg-type]


def database_errors() -> tuple[type[Exception], ...]:
    """Every error a backend's driver may have raised in this process (for "the database does
    not answer"), for ``except database_errors():``: SQLite's, and psycopg's once it is loaded
    (until then none of its errors can have been raised)."""
    psycopg = sys.modules.get("psycopg")
    return (sqlite3.Error,) if psycopg is None else (sqlite3.Error, psycopg.Error)


def unique_violation(error: BaseException) -> str | None:
    """``"table.column"`` when ``error`` is a UNIQUE constraint refusing a row, else None."""
    found = sqlite.unique_violation(error)
    if found is None and type(error).__module__.startswith("psycopg"):
        found = _postgresql().unique_violation(error)
    return found


def is_read_only_error(error: BaseException) -> bool:
    """True when SQLite refused to open or write a file because its storage is read-only."""
    return sqlite.read_only(error)


def unavailable(error: BaseException) -> bool:
    """True when ``error`` says storage cannot take writes now (down, full, read-only, busy):
    a client may retry later, unlike a request that is wrong."""
    if sqlite.unavailable(error):
        return True
    if type(error).__module__.startswith("psycopg"):
        return _postgresql().unavailable(error)  # type: ignore[no-any-return]
    return False


def watcher(database: str, *, interval: float = 0.25) -> Watcher:
    """A watcher of ``database``'s log for this process."""
    if is_postgres(database):
        return _postgresql().NotifyWatcher(database, interval=interval)  # type: ignore[no-any-return]
    return sqlite.FileWatcher(database, interval)
