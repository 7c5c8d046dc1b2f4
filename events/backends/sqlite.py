"""The SQLite backend: one file, WAL, ``BEGIN IMMEDIATE`` writers (the embedded default)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .base import Watcher

_SYNCHRONOUS = {"OFF", "NORMAL", "FULL", "EXTRA"}
_UNIQUE = re.compile(r"UNIQUE constraint failed: (\w+\.\w+)")
_UNAVAILABLE = ("database or disk is full", "readonly database", "database is locked",
                "disk i/o error", "unable to open database", "database table is locked")


#: the file beside a database through which writers waiting for its write lock are seen (see
#: :meth:`SQLiteConnection.begin_write`); with SQLite's own, the files a database is made of
GATE = "-writers"
SIDE_FILES = ("-wal", "-shm", GATE)


def remove_files(path: str) -> None:
    """Remove a database file and its side files (:data:`SIDE_FILES`), those that exist."""
    for suffix in ("", *SIDE_FILES):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path + suffix)


#: the longest background work waits for writers before it takes the lock anyway (a stream of
#: writes that never ends must not stop a rebuild)
GIVE_WAY_MAX = 2.0
#: how often background work tries the write lock again while another transaction holds it
YIELDING_PAUSE = 0.001


class SQLiteConnection(sqlite3.Connection):
    """A sqlite3 connection that speaks :class:`events.backends.Connection` (C speed for the
    rest: the store's statements go straight to sqlite3)."""

    dialect = "sqlite"
    #: the database's file path (set by :func:`connect`; None: in memory)
    path: str | None = None
    #: the gate file, open (with the process that opened it: a forked child opens its own)
    _gate: tuple[int, int] | None = None
    #: how long a write waits for the lock (set by :func:`connect`)
    busy_timeout_ms: int = 10_000

    def begin_write(self, *, yielding: bool = False) -> None:
        """Take SQLite's write lock now: no other writer until this transaction ends.

        SQLite's lock is not a queue: a writer that finds it taken sleeps and tries again (up to
        100 ms apart), and work that writes one short transaction after another (a rebuild's)
        takes it again microseconds after each commit, so a writer could wait seconds for a try
        that falls in a gap. So a writer holds a shared lock on the gate file while it waits, and
        ``yielding`` work (a rebuild) starts a transaction only once no writer holds it (or after
        :data:`GIVE_WAY_MAX` seconds): a waiting editor then waits for one transaction at most.
        """
        gate = self._gate_fd()
        if gate is None:
            self.execute("BEGIN IMMEDIATE")
        elif yielding:
            self._begin_yielding(gate)
        else:
            _flock(gate, fcntl.LOCK_SH, pause=0.0005)  # (held exclusively only for an instant)
            try:
                self.execute("BEGIN IMMEDIATE")
            finally:
                fcntl.flock(gate, fcntl.LOCK_UN)

    def _begin_yielding(self, gate: int) -> None:
        """``BEGIN IMMEDIATE`` for yielding work: once no writer waits at the gate, tried
        again every :data:`YIELDING_PAUSE` seconds while another transaction holds the lock
        (another yielding one: a rebuild's workers take turns), not by SQLite's busy handler,
        which sleeps up to 100 ms between tries (two workers then left a core idle a fifth of
        the time, measured), and for as long as the busy timeout."""
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        self.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                _give_way(gate)
                try:
                    self.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as e:
                    if "database is locked" not in str(e) or time.monotonic() >= deadline:
                        raise
                time.sleep(YIELDING_PAUSE)
        finally:
            self.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")

    def _gate_fd(self) -> int | None:
        if self.path is None:
            return None
        if self._gate is None or self._gate[1] != os.getpid():
            try:
                self._gate = (os.open(self.path + GATE, os.O_RDWR | os.O_CREAT, 0o644),
                              os.getpid())
            except OSError:
                return None  # (a folder this process cannot write: it cannot write the WAL)
        return self._gate[0]

    def close(self) -> None:
        if self._gate is not None and self._gate[1] == os.getpid():
            os.close(self._gate[0])
        self._gate = None
        super().close()

    def begin_read(self) -> None:
        """A deferred transaction: in WAL mode, one snapshot for every read in it."""
        self.execute("BEGIN")

    def notify(self, position: int) -> None:
        """Nothing to do: readers of a SQLite file poll it."""


def connect(
    path: str | Path,
    *,
    synchronous: str = "FULL",
    busy_timeout_ms: int = 10_000,
    check_same_thread: bool = True,
) -> SQLiteConnection:
    """Open a connection with the store's pragmas: WAL, ``synchronous``, busy timeout, FKs on.

    The connection is in autocommit mode (``isolation_level=None``): every transaction is an
    explicit ``BEGIN IMMEDIATE`` / ``COMMIT``.

    :param synchronous: ``FULL`` (default: an acknowledged append survives power loss),
        ``NORMAL`` (survives a crash of the process, not of the machine), ``EXTRA`` or ``OFF``.
    """
    level = synchronous.upper()
    if level not in _SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {sorted(_SYNCHRONOUS)}, not {synchronous!r}")
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=busy_timeout_ms / 1000,
                           check_same_thread=check_same_thread, factory=SQLiteConnection)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.busy_timeout_ms = int(busy_timeout_ms)
        if str(path) != ":memory:":
            conn.path = str(path)
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {level}")
        conn.execute("PRAGMA foreign_keys = ON")
        # what a delete or an update frees is overwritten with zeros, so erased text (a legal
        # redaction) does not linger in the file's free space
        conn.execute("PRAGMA secure_delete = ON")
    except BaseException:
        conn.close()  # e.g. a read-only file system refusing WAL: leave nothing open
        raise
    return conn


def _give_way(gate: int) -> None:
    """Wait until no writer waits for the write lock (no shared lock on the gate), at most
    :data:`GIVE_WAY_MAX` seconds. The exclusive lock that tells is let go at once: a writer
    arriving after this waits for the transaction about to start, no longer."""
    if _flock(gate, fcntl.LOCK_EX, pause=0.002, deadline=time.monotonic() + GIVE_WAY_MAX):
        fcntl.flock(gate, fcntl.LOCK_UN)


def _flock(gate: int, mode: int, *, pause: float, deadline: float | None = None) -> bool:
    """Take ``mode`` (shared or exclusive) on the gate, trying again every ``pause`` seconds
    (never blocking the process: a gevent worker's other requests go on); False once
    ``deadline`` passed without it."""
    while True:
        try:
            fcntl.flock(gate, mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(pause)


def connect_read_only(path: str | Path, *, check_same_thread: bool = True) -> SQLiteConnection:
    """Open a file on storage that cannot be written: read-only and immutable (nothing can
    change it, and SQLite need not create its WAL index beside it)."""
    uri = Path(path).resolve().as_uri() + "?mode=ro&immutable=1"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None,
                           check_same_thread=check_same_thread, factory=SQLiteConnection)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # it is a database
    return conn


def warm(conn: sqlite3.Connection, table: str, index: str | None = None) -> None:
    """Read every page of ``table`` (its rows and the overflow pages of long ones) or of one
    of its indexes, outside any transaction: a ``DROP`` that follows walks each page to free
    it, and under the write lock it should find them in memory, not on the disk (a cold index
    of 2,000,000 versions took 1.1 s to drop, warm 31 ms; the reads here wait for no one)."""
    if index is None:
        lengths = " + ".join(f'length("{column}")' for (column,) in conn.execute(
            f'SELECT name FROM pragma_table_info("{table}")').fetchall()) or "0"
        sql = f'SELECT sum({lengths}) FROM "{table}"'
    else:
        # a partial index answers only its own condition
        (definition,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?",
                                     (index,)).fetchone() or (None,)
        where = ""
        if definition is not None and " WHERE " in definition.upper():
            where = " WHERE " + definition[definition.upper().rindex(" WHERE ") + 7:]
        # (a count(*) would take the smallest index, whatever INDEXED BY says: count a column)
        first = conn.execute("SELECT name FROM pragma_index_info(?) WHERE seqno = 0",
                             (index,)).fetchone()
        what = f'"{first[0]}"' if first is not None and first[0] is not None else "*"
        sql = f'SELECT count({what}) FROM "{table}" INDEXED BY "{index}"{where}'
    try:
        conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        pass  # (only a head start for the drop: it frees the pages all the same)


#: how often (s) :func:`checkpointing`'s thread copies the write-ahead log into the file
CHECKPOINT_INTERVAL = 0.1


def _green_threads() -> bool:
    """Whether gevent patched this process's threads into greenlets."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("threading"))


@contextlib.contextmanager
def checkpointing(conn: sqlite3.Connection, *,
                  interval: float = CHECKPOINT_INTERVAL) -> Iterator[None]:
    """While the block runs, ``conn``'s commits leave the write-ahead log to a thread of its
    own, which copies it into the file every ``interval`` seconds (a passive checkpoint, on a
    connection of its own: it waits for no one, and no lock is held). A connection that
    writes a lot, a rebuild's, then never stops to copy and sync its own megabytes (it did
    after every 4 MB: 6-12% of the rebuild of the 100,000-event mixed log, measured), and the
    log stays short for other writers' commits, which copy what is left when it grows past
    their limit. A database with no file (``:memory:``) is left as it is, and so is a process
    whose threads gevent made greenlets (a server's): one would never run while the block
    works without yielding, and the log would grow by all it writes."""
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    if not path or _green_threads():
        yield
        return
    limit = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    stop = threading.Event()

    def copy() -> None:
        with contextlib.closing(sqlite3.connect(path, isolation_level=None,
                                                check_same_thread=False)) as own:
            own.execute("PRAGMA synchronous = NORMAL")  # a checkpoint syncs in order
            while not stop.wait(interval):
                with contextlib.suppress(sqlite3.Error):  # (busy: the next one copies it)
                    own.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    copier = threading.Thread(target=copy, daemon=True, name="events-checkpoints")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    copier.start()
    try:
        yield
    finally:
        stop.set()
        copier.join()
        conn.execute(f"PRAGMA wal_autocheckpoint = {int(limit)}")


def read_only(error: BaseException) -> bool:
    """The file or its directory cannot be written (a read-only file system or file)."""
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and (
        "readonly database" in text or "read-only" in text or "unable to open" in text)


def scrub(conn: sqlite3.Connection, *, attempts: int = 50) -> bool:
    """Copy the write-ahead log into the file and truncate it to nothing, so no page image
    from before an erasure is left in it (``secure_delete`` zeroed what the erasure freed in
    the pages themselves). A reader in the middle of a transaction holds the log: try again
    a little later, ``attempts`` times. True once the log is empty."""

    for _ in range(attempts):
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if not busy:
            return True
        time.sleep(0.05)
    return False


def unique_violation(error: BaseException) -> str | None:
    """``"table.column"`` of a UNIQUE constraint failure, else None."""
    if isinstance(error, sqlite3.IntegrityError):
        match = _UNIQUE.search(str(error))
        if match is not None:
            return match[1]
    return None


def unavailable(error: BaseException) -> bool:
    """Disk full, read-only, locked past the busy timeout, unreadable file."""
    return isinstance(error, sqlite3.OperationalError) and any(
        text in str(error).lower() for text in _UNAVAILABLE)


class FileWatcher(Watcher):
    """Watches a SQLite file: every ``interval`` seconds one look at ``PRAGMA data_version``,
    which changes whenever another connection (of any process) commits to the file; when it
    did, whether the log's head moved (other commits, a lease renewed, wake nobody)."""

    def __init__(self, path: str | Path, interval: float) -> None:
        super().__init__(interval)
        self.path = path
        #: a connection of its own that only reads PRAGMA data_version: it changes when any
        #: other connection (this process's pool too) commits
        self._versions: sqlite3.Connection | None = None
        self._versions_lock = threading.Lock()

    def version(self) -> int | None:
        """``PRAGMA data_version`` of a connection that never writes: a look at the WAL's
        shared index, no read of the file (None when the file cannot be opened)."""
        with self._versions_lock:
            try:
                if self._versions is None:
                    self._versions = sqlite3.connect(str(self.path), isolation_level=None,
                                                     check_same_thread=False)
                return int(self._versions.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error:
                if self._versions is not None:
                    self._versions.close()
                self._versions = None
                return None

    def close(self) -> None:
        super().close()
        with self._versions_lock:
            if self._versions is not None:
                self._versions.close()
                self._versions = None

    def _watch(self) -> None:
        version = head = None
        conn: sqlite3.Connection | None = None
        while not self._closed.is_set():
            try:
                if conn is None:
                    conn = sqlite3.connect(str(self.path), isolation_level=None)
                now = conn.execute("PRAGMA data_version").fetchone()[0]
                if now != version:
                    version = now
                    now_head = conn.execute("SELECT max(position) FROM events").fetchone()[0]
                    if now_head != head:
                        head = now_head
                        self._wake()
            except sqlite3.Error:
                if conn is not None:
                    conn.close()
                conn = version = head = None  # gone or unreadable for now: try again
                self._wake()
            self._closed.wait(self.interval)
        if conn is not None:
            conn.close()
