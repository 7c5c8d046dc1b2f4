"""Online backups and restores of a whole database: the log, the read models, media, tokens,
audit checkpoints, all as of one moment, taken while the service writes.

SQLite: SQLite's online backup API copies every page inside one read transaction (in WAL mode
writers go on meanwhile), so the copy is one consistent state. PostgreSQL: ``pg_dump`` in its
custom format, of one snapshot exported by a read-only transaction that also reads the head
(so the head reported is the dump's), restored with ``pg_restore`` in one transaction. A
restore goes into an empty database only, then the hash chain is verified.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from events import GENESIS_HASH, EventStore, Head, VerifyResult, is_postgres, verify
from events.backends import remove_files

#: how a PostgreSQL custom-format dump and a SQLite file begin
_PG_DUMP_MAGIC = b"PGDMP"
_SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(RuntimeError):
    """Raised when a backup or a restore cannot be made (a missing tool, a non-empty target,
    a file of the wrong kind)."""


def backup(database: str, destination: str) -> Head:
    """Copy ``database`` (a SQLite path or a ``postgresql://`` URL) to the file
    ``destination``, consistently, while it is in use; returns the head the copy holds.

    :raises BackupError: the destination exists, or ``pg_dump`` is not installed.
    """
    target = Path(destination)
    if target.exists():
        raise BackupError(f"{destination} exists already: a backup never overwrites a file")
    if is_postgres(database):
        return _pg_dump(database, target)
    source = EventStore.open(database)
    try:
        copy = sqlite3.connect(target)
        try:
            source.conn.backup(copy)  # type: ignore[attr-defined]  # every page, one snapshot
        finally:
            copy.close()
    finally:
        source.close()
    store = EventStore.open(str(target))
    try:
        return store.head()
    finally:
        store.close()


def restore(source: str, database: str) -> VerifyResult:
    """Load the backup file ``source`` into the empty ``database``, then verify its chain.

    The target may be missing (a SQLite file is made), or hold nothing but the tables a backup
    of ours holds, with no event in them (a schema ``serve`` or ``migrate`` made): those are
    replaced. Anything else in it (another application's table, function or view) refuses the
    restore and leaves the target untouched.

    :raises BackupError: the database is not empty, the file is not a backup of this kind of
        database, or ``pg_restore`` is not installed.
    """
    with open(source, "rb") as file:
        start = file.read(16)
    if is_postgres(database):
        if not start.startswith(_PG_DUMP_MAGIC):
            raise BackupError(f"{source} is not a PostgreSQL backup (liveblog backup of a"
                              " postgresql:// database); move a SQLite log with liveblog copy")
        ours = _dump_objects(source)
        _drop_empty_schema(database, ours)
        _pg_restore(source, database)
    else:
        if not start.startswith(_SQLITE_MAGIC):
            raise BackupError(f"{source} is not a SQLite backup (liveblog backup of a SQLite"
                              " database); move a PostgreSQL log with liveblog copy")
        with _read_only(source) as backup_file:
            ours = _sqlite_objects(backup_file)
            _remove_empty_file(database, ours)
            target = sqlite3.connect(database)
            try:
                backup_file.backup(target)
            finally:
                target.close()
    store = EventStore.open(database)
    try:
        return verify(store.conn)
    finally:
        store.close()


@contextlib.contextmanager
def _read_only(path: str) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def _sqlite_objects(conn: sqlite3.Connection) -> set[str]:
    """The tables and views of a SQLite database (SQLite's own left out)."""
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
                            " AND name NOT LIKE 'sqlite_%'").fetchall()
    except sqlite3.DatabaseError as e:
        raise BackupError(f"cannot read it as a SQLite database: {e}") from None
    return {f"table {name}" for (name,) in rows}


def _refuse_foreign(database: str, found: set[str], ours: set[str], events: int) -> None:
    foreign = sorted(found - ours)
    if foreign:
        listed = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise BackupError(f"{database} holds what is not liveblog's ({listed}): restore into"
                          " an empty database; nothing was changed")
    if events:
        raise BackupError(f"{database} holds events already: restore into an empty database;"
                          " nothing was changed")


def _remove_empty_file(database: str, ours: set[str]) -> None:
    """A SQLite target that holds only our empty schema goes (the backup's file replaces it);
    anything else refuses the restore, the file untouched."""
    path = Path(database)
    if not path.exists():
        return
    if path.stat().st_size:
        try:
            with _read_only(database) as conn:
                found = _sqlite_objects(conn)
                events = (conn.execute("SELECT count(*) FROM events").fetchone()[0]
                          if "table events" in found else 0)
        except BackupError as e:
            raise BackupError(f"{database}: {e}; nothing was changed") from None
        _refuse_foreign(database, found, ours, events)
    remove_files(database)


def _dump_objects(source: str) -> set[str]:
    """The tables, views and functions a PostgreSQL backup holds, as ``table name``."""
    objects = set()
    for line in _run(["pg_restore", "--list", source], "pg_restore").splitlines():
        match = re.match(r"^\d+; \d+ \d+ (TABLE|VIEW|FUNCTION) \S+ ([^ (]+)", line)
        if match:
            objects.add(f"{match[1].lower()} {match[2]}")
    return objects


def _drop_empty_schema(database: str, ours: set[str]) -> None:
    """A PostgreSQL target that holds only our empty schema has it dropped, so the dump's own
    is created in its place; anything else refuses the restore, the database untouched."""
    import psycopg  # PostgreSQL's only: a process on SQLite never loads it (events.backends)

    with psycopg.connect(_libpq_url(database), autocommit=True) as conn:
        found = {f"table {name}" for (name,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
        found |= {f"view {name}" for (name,) in conn.execute(
            "SELECT viewname FROM pg_views WHERE schemaname = current_schema()")}
        found |= {f"function {name}" for (name,) in conn.execute(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = current_schema()")}
        events = (conn.execute("SELECT count(*) FROM events").fetchone()[0]  # type: ignore[index]
                  if "table events" in found else 0)
        _refuse_foreign(database, found, ours, events)
        with conn.transaction():
            for item in sorted(found):
                kind, name = item.split(" ", 1)
                if kind == "table":
                    conn.execute(f'DROP TABLE IF EXISTS "{name}" CASCADE')
            for item in sorted(found):
                kind, name = item.split(" ", 1)
                if kind == "function":
                    conn.execute(f'DROP FUNCTION IF EXISTS "{name}" CASCADE')


def _libpq_url(database: str) -> str:
    return database.replace("postgres://", "postgresql://", 1)


def _schema_of(database: str) -> str | None:
    """The schema a URL's ``options=-csearch_path=...`` names (one deployment per schema)."""
    for option in parse_qs(urlsplit(database).query).get("options", []):
        for part in unquote(option).split():
            if part.startswith("-csearch_path="):
                return part.split("=", 1)[1]
    return None


def _pg_dump(database: str, target: Path) -> Head:
    """Dump the database as of one snapshot, whose head is read in that very snapshot: a
    transaction here exports it, and pg_dump dumps exactly what it sees."""
    import psycopg  # PostgreSQL's only: a process on SQLite never loads it (events.backends)

    command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
               "--file", str(target)]
    schema = _schema_of(database)
    if schema:
        command += ["--schema", schema]
    with psycopg.connect(_libpq_url(database)) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        row = conn.execute("SELECT position, hash FROM events"
                           " ORDER BY position DESC LIMIT 1").fetchone()
        _run(command + ["--snapshot", str(snapshot), "--dbname", _libpq_url(database)],
             "pg_dump")
        conn.rollback()
    return Head(int(row[0]), str(row[1])) if row else Head(0, GENESIS_HASH)


def _pg_restore(source: str, database: str) -> None:
    """pg_restore in one transaction, into the schema the target's URL names (the schema a
    dump was taken from is not created again: the target has its own)."""

    listing = _run(["pg_restore", "--list", source], "pg_restore")
    kept = [line for line in listing.splitlines() if " SCHEMA - " not in line]
    with tempfile.NamedTemporaryFile("w", suffix=".list") as entries:
        entries.write("\n".join(kept) + "\n")
        entries.flush()
        _run(["pg_restore", "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", "--use-list", entries.name, "--dbname", _libpq_url(database),
              source], "pg_restore")


def _run(command: list[str], tool: str) -> str:
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed: install PostgreSQL's client tools"
                          " (Debian: apt-get install postgresql-client)")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{tool} failed: {detail[-1] if detail else done.returncode}")
    return done.stdout
