"""Online backups and restores of a whole database: the log, the read models, media, tokens,
audit checkpoints, all as of one moment, taken while the service writes.

SQLite: SQLite's online backup API copies every page inside one read transaction (in WAL mode
writers go on meanwhile), so the copy is one consistent state. PostgreSQL: ``pg_dump`` in its
custom format, of one snapshot exported by a read-only transaction that also reads the head
(so the head reported is the dump's), restored with ``pg_restore`` in one transaction. A
restore goes into an empty database only, then the hash chain is verified.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from events import GENESIS_HASH, EventStore, Head, VerifyResult, is_postgres, verify

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

    :raises BackupError: the database is not empty, the file is not a backup of this kind of
        database, or ``pg_restore`` is not installed.
    """
    with open(source, "rb") as file:
        start = file.read(16)
    if is_postgres(database):
        if not start.startswith(_PG_DUMP_MAGIC):
            raise BackupError(f"{source} is not a PostgreSQL backup (liveblog backup of a"
                              " postgresql:// database); move a SQLite log with liveblog copy")
        _require_empty(database)
        _pg_restore(source, database)
    else:
        if not start.startswith(_SQLITE_MAGIC):
            raise BackupError(f"{source} is not a SQLite backup (liveblog backup of a SQLite"
                              " database); move a PostgreSQL log with liveblog copy")
        _require_empty(database)
        backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(database)
            try:
                backup_file.backup(target)
            finally:
                target.close()
        finally:
            backup_file.close()
    store = EventStore.open(database)
    try:
        return verify(store.conn)
    finally:
        store.close()


def _require_empty(database: str) -> None:
    if not is_postgres(database) and not Path(database).exists():
        return
    store = EventStore.open(database)
    try:
        if store.head().position:
            raise BackupError(f"{database} holds events already: restore into an empty"
                              " database")
    finally:
        store.close()
    if not is_postgres(database):
        Path(database).unlink()  # the empty file opening it made: the backup replaces it
        for suffix in ("-wal", "-shm"):
            Path(database + suffix).unlink(missing_ok=True)
    else:
        _drop_empty_tables(database)


def _drop_empty_tables(database: str) -> None:
    """An empty PostgreSQL database that was opened has the store's empty tables: they go, so
    the dump's own are created in their place."""
    import psycopg

    with psycopg.connect(_libpq_url(database), autocommit=True) as conn:
        for (name,) in conn.execute("SELECT tablename FROM pg_tables"
                                    " WHERE schemaname = current_schema()").fetchall():
            conn.execute(f'DROP TABLE IF EXISTS "{name}" CASCADE')
        for (name,) in conn.execute(
                "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                " WHERE n.nspname = current_schema() AND p.prokind = 'f'").fetchall():
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
    import psycopg

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
    import tempfile

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
