"""The PostgreSQL backend (psycopg 3): any number of processes on any machines share one log.

Appends are serialised across every connection to the database by a transaction-scoped advisory
lock taken at the start of each write transaction, as eventsourcing's PostgreSQL recorder
serialises inserts with ``LOCK TABLE``: positions are assigned as head + 1 under it, so they are
gap-free and increase in commit order, and the hash chain has one head. Readers never take it.
Each append sends ``NOTIFY`` in its transaction, so waiting readers on other nodes wake when it
commits.

The lock key and the notification channel are derived from the database and schema names, so
several deployments (or test runs) can share one server without seeing each other.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus

from .base import Watcher

_IDLE = TransactionStatus.IDLE
_UNKNOWN = TransactionStatus.UNKNOWN
_KEY_COLUMNS = re.compile(r"Key \(([^)]*)\)=")
CONNECT_TIMEOUT = 5


@functools.lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """The common SQL dialect the store writes, in PostgreSQL's: ``?`` placeholders become
    ``%s``; in ``CREATE TABLE``, integers are 64-bit, blobs ``BYTEA`` and text compares byte by
    byte (``COLLATE "C"``, as SQLite does), so orderings and prefix ranges agree on both."""
    sql = sql.replace("%", "%%").replace("?", "%s")
    if sql.lstrip()[:12].upper() == "CREATE TABLE":
        sql = re.sub(r"\bINTEGER\b", "BIGINT", sql)
        sql = re.sub(r"\bBLOB\b", "BYTEA", sql)
        sql = re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', sql)
    return sql


def _names(conn: psycopg.Connection[Any]) -> tuple[int, str]:
    database, schema = conn.execute("SELECT current_database(), current_schema()").fetchone()  # type: ignore[misc]
    digest = hashlib.sha256(f"liveblog-events/{database}/{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True), "events_" + digest[8:20].hex()


def open_raw(url: str) -> psycopg.Connection[Any]:
    """A plain psycopg connection in autocommit mode."""
    return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)


class PostgresConnection:
    """A psycopg connection that speaks :class:`events.backends.Connection`.

    A connection the server dropped (a restart, a failover) is replaced on the next statement
    outside a transaction, so a node recovers by itself; a statement inside a transaction that
    broke fails, and the transaction with it: nothing half-done is ever acknowledged.
    """

    dialect = "postgresql"
    isolation_level: str | None = None  # autocommit; transactions are explicit

    def __init__(self, url: str) -> None:
        self.url = url
        self.raw = open_raw(url)
        self.lock_key, self.channel = _names(self.raw)
        # statements without parameters go as one simple query: one round trip for several
        self._begin_write = f"BEGIN; SELECT pg_advisory_xact_lock({int(self.lock_key)})"
        self._notify: int | None = None

    def _live(self) -> psycopg.Connection[Any]:
        raw = self.raw
        if raw.closed or raw.broken:
            self.raw = raw = open_raw(self.url)
        return raw

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        """Run one statement (``?`` placeholders) and return its cursor."""
        if sql == "COMMIT" and self._notify is not None:
            # the notification rides with the commit: one round trip for both
            position, self._notify = self._notify, None
            return self.raw.execute(f"SELECT pg_notify('{self.channel}', '{int(position)}');"
                                    " COMMIT")
        if sql == "ROLLBACK":
            self._notify = None
        raw = self._live()
        try:
            return raw.execute(translate(sql), parameters)
        except psycopg.OperationalError:
            # the server went away while we were idle: retry what is safe to run twice
            if raw.broken and (sql == "BEGIN" or sql.startswith("SELECT")):
                return self._live().execute(translate(sql), parameters)
            raise

    def executemany(self, sql: str, parameters: Any, /) -> None:
        """Run one statement for each parameter row."""
        with self._live().cursor() as cursor:
            cursor.executemany(translate(sql), parameters)

    @property
    def in_transaction(self) -> bool:
        """True inside an explicit transaction (False once the connection broke)."""
        return self.raw.info.transaction_status not in (_IDLE, _UNKNOWN)

    def begin_write(self, *, yielding: bool = False) -> None:
        """Start a transaction and take the database's one writer lock (released at its end).
        Its waiters are a queue, served in turn: ``yielding`` work needs nothing more."""
        self._notify = None
        raw = self._live()
        try:
            raw.execute(self._begin_write)
        except psycopg.OperationalError:
            if not raw.broken:
                raise
            self._live().execute(self._begin_write)  # dropped while idle: reconnect

    def begin_read(self) -> None:
        """Start a read-only transaction on one snapshot."""
        self.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def notify(self, position: int) -> None:
        """Tell listeners the log reached ``position`` when this transaction commits (the
        notification is sent with the COMMIT; a rollback drops it)."""
        self._notify = position

    def close(self) -> None:
        """Close the connection."""
        self.raw.close()

    def __del__(self) -> None:
        # a thread's connection goes when its thread does: close it rather than leak it
        raw = getattr(self, "raw", None)
        if raw is not None and not raw.closed:
            raw.close()


def connect(url: str) -> PostgresConnection:
    """Open a connection to the PostgreSQL database at ``url``."""
    return PostgresConnection(url)


def scrub(conn: PostgresConnection, tables: Sequence[str], *, wait: float = 10.0) -> bool:
    """Rewrite ``tables`` (``VACUUM FULL``: their files are written anew, without the old row
    versions a plain vacuum leaves in free space, and the old files are removed), then ask for
    a checkpoint so the new pages are on disk. Each table is locked while it is rewritten.

    A transaction that began before the erasure committed may still read the old versions, so
    no vacuum may remove them yet: the rewrite first waits, up to ``wait`` seconds, for every
    such transaction to end, of any database of the server (some, such as a CREATE DATABASE
    elsewhere, hold back what every database may remove). True when nothing held it back and
    the checkpoint ran (it needs the ``pg_checkpoint`` role; else the server's next one writes
    the pages)."""

    raw = conn.raw
    since = raw.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
    deadline = time.monotonic() + wait
    while True:
        older = raw.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
            " AND backend_xmin IS NOT NULL AND xact_start < %s",
            (since,)).fetchone()[0]  # type: ignore[index]
        if not older or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    # a session that holds a lock on a table and waits on nothing (idle in a transaction) would
    # keep the rewrite, and every request queued behind its lock, waiting for ever: give up on
    # that table after ``wait`` seconds instead (a plain vacuum later frees what it held)
    raw.execute(f"SET lock_timeout = '{max(int(wait * 1000), 1)}ms'")
    rewritten = True
    try:
        for table in tables:
            rewritten = _rewrite(raw, table, deadline) and rewritten
    finally:
        raw.execute("RESET lock_timeout")
    try:
        raw.execute("CHECKPOINT")
    except pg_errors.InsufficientPrivilege:
        return False
    return rewritten and not older


#: what ``VACUUM (VERBOSE)`` says of the row versions a transaction still holds back (in the
#: server's messages in English; in another language the rewrite is not retried)
_HELD_BACK = re.compile(r"(\d+) dead row versions cannot be removed yet")


def _rewrite(raw: psycopg.Connection, table: str, deadline: float) -> bool:
    """``VACUUM FULL`` ``table``; again, until ``deadline``, while the server says it kept
    dead row versions that some transaction may still see (one that began after the wait for
    older ones, such as a CREATE DATABASE elsewhere, can hold back the horizon). True when
    the last rewrite kept none it could tell of."""

    held: list[int] = []

    def heard(notice: psycopg.errors.Diagnostic) -> None:
        found = _HELD_BACK.search(notice.message_detail or "")
        if found:
            held.append(int(found.group(1)))

    raw.add_notice_handler(heard)
    try:
        while True:
            held.clear()
            try:
                raw.execute(f'VACUUM (FULL, VERBOSE) "{table}"')
            except pg_errors.LockNotAvailable:
                return False
            if not any(held):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
    finally:
        raw.remove_notice_handler(heard)


@contextlib.contextmanager
def upgrade_lock(conn: PostgresConnection) -> Iterator[None]:
    """One connection at a time upgrades the database (migrations, projection builds): a
    session advisory lock of its own (not the writers' lock: appends go on meanwhile). The next
    process to take it finds the work done."""
    key = conn.lock_key ^ 0x5E7  # another lock of the same database and schema
    conn.raw.execute("SELECT pg_advisory_lock(%s)", (key,))
    try:
        yield
    finally:
        conn.raw.execute("SELECT pg_advisory_unlock(%s)", (key,))


def unique_violation(error: BaseException) -> str | None:
    """``"table.column"`` of a unique violation, else None."""
    if isinstance(error, pg_errors.UniqueViolation):
        match = _KEY_COLUMNS.search(error.diag.message_detail or "")
        column = match[1] if match else (error.diag.column_name or "")
        return f"{error.diag.table_name}.{column}"
    return None


def unavailable(error: BaseException) -> bool:
    """The server is down, restarting, out of disk or refusing writes (read-only standby)."""
    return isinstance(error, psycopg.OperationalError | pg_errors.ReadOnlySqlTransaction
                      | pg_errors.DiskFull | pg_errors.AdminShutdown)


class NotifyWatcher(Watcher):
    """Wakes waiters when any node's append commits (LISTEN on the log's channel).

    One listening connection a process, reopened when the server drops it (waiters are woken
    then too: whatever happened while nobody listened). Every second without a notification it
    also looks at the log's head, so a lost notification delays nothing by more than that.
    """

    def __init__(self, url: str, *, interval: float = 1.0) -> None:
        super().__init__(min(max(interval, 0.05), 1.0))
        self.url = url
        self.listening = threading.Event()

    def _watch(self) -> None:
        while not self._closed.is_set():
            try:
                with open_raw(self.url) as raw:
                    _, channel = _names(raw)
                    raw.execute(f'LISTEN "{channel}"')
                    self.listening.set()
                    self._wake()  # whatever happened while we were not listening
                    last = None
                    while not self._closed.is_set():
                        for _ in raw.notifies(timeout=1.0, stop_after=1):
                            self._wake()
                        head = raw.execute("SELECT max(position) FROM events").fetchone()
                        if last is not None and head != last:
                            self._wake()
                        last = head
            except psycopg.Error:
                self.listening.clear()
                self._wake()
                self._closed.wait(0.5)
