"""The store's tables, created through sqlite-utils as named, idempotent migrations.

Applied migrations are recorded in ``_events_migrations`` so each runs once per database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils


def _create_events(db: sqlite_utils.Database) -> None:
    db["events"].create(  # type: ignore[union-attr]
        {
            "position": int,
            "stream_id": str,
            "version": int,
            "type": str,
            "schema_version": int,
            "data": str,
            "metadata": str,
            "recorded_at": str,
            "prev_hash": str,
            "hash": str,
        },
        pk="position",
        not_null={"stream_id", "version", "type", "schema_version", "data", "metadata",
                  "recorded_at", "prev_hash", "hash"},
    )
    # The concurrency check of last resort: two writers can never both record version N.
    db["events"].create_index(["stream_id", "version"], unique=True,  # type: ignore[union-attr]
                              index_name="events_stream_version")
    # No other index: each one costs every append. Type filters page through positions, and
    # recorded_at never decreases along the log, so a time is found by bisecting positions.
    # History is immutable even for a stray SQL client on a normal connection.
    db.execute(
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN"
        " SELECT RAISE(ABORT, 'events are immutable: UPDATE is not allowed'); END"
    )
    db.execute(
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN"
        " SELECT RAISE(ABORT, 'events are immutable: DELETE is not allowed'); END"
    )


def _create_idempotency(db: sqlite_utils.Database) -> None:
    db["idempotency"].create(  # type: ignore[union-attr]
        {"key": str, "fingerprint": str, "stream_id": str, "first_position": int,
         "last_position": int},
        pk="key",
        not_null={"stream_id", "first_position", "last_position"},
    )


def _create_checkpoints(db: sqlite_utils.Database) -> None:
    db["projection_checkpoints"].create(  # type: ignore[union-attr]
        {"name": str, "version": int, "position": int, "generation": int},
        pk="name",
        not_null={"version", "position", "generation"},
    )


def _create_snapshots(db: sqlite_utils.Database) -> None:
    # A cache for as-of replay, never the truth: each row names the log position it stands
    # for and that event's hash, so a snapshot of a log that no longer matches is ignored.
    db["projection_snapshots"].create(  # type: ignore[union-attr]
        {"key": str, "position": int, "event_hash": str, "data": bytes},
        pk=("key", "position"),
        not_null={"event_hash", "data"},
    )


#: the only change a stored event may undergo: a redaction erasing its payload, once
_ERASE_ONLY = (
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events WHEN NOT ("
    " OLD.redacted = 0 AND NEW.redacted = 1"
    " AND NEW.position IS OLD.position AND NEW.stream_id IS OLD.stream_id"
    " AND NEW.version IS OLD.version AND NEW.type IS OLD.type"
    " AND NEW.schema_version IS OLD.schema_version AND NEW.metadata IS OLD.metadata"
    " AND NEW.recorded_at IS OLD.recorded_at AND NEW.prev_hash IS OLD.prev_hash"
    " AND NEW.hash IS OLD.hash AND NEW.data_hash IS OLD.data_hash"
    " AND NEW.legacy_hash IS OLD.legacy_hash)"
    " BEGIN SELECT RAISE(ABORT, 'events are immutable: only a redaction may erase a payload');"
    " END")


#: the erased events (few, none in most logs: the index costs appends nothing)
_ERASED_INDEX = "CREATE INDEX events_erased ON events (position) WHERE redacted = 1"


def _chain_v2(db: sqlite_utils.Database) -> None:
    # Each event's hash covers its payload's hash (events.chain): the v1 chain is checked,
    # then every event is re-chained, keeping its v1 hash; a broken log raises and stays v1.
    from .chain import upgrade_to_v2

    conn = db.conn
    conn.execute("ALTER TABLE events ADD COLUMN data_hash TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE events ADD COLUMN legacy_hash TEXT")
    conn.execute("ALTER TABLE events ADD COLUMN redacted INTEGER NOT NULL DEFAULT 0")
    conn.execute("DROP TRIGGER events_no_update")
    upgrade_to_v2(conn)  # type: ignore[arg-type]
    conn.execute(_ERASE_ONLY)
    conn.execute(_ERASED_INDEX)


def _drop_json_snapshots(db: sqlite_utils.Database) -> None:
    """As-of snapshots became database images: the JSON ones are a cache no one reads now."""
    db.execute("DELETE FROM projection_snapshots")


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("0001_events", _create_events),
    ("0002_idempotency", _create_idempotency),
    ("0003_projection_checkpoints", _create_checkpoints),
    ("0004_projection_snapshots", _create_snapshots),
    ("0005_chain_v2", _chain_v2),
    ("0006_snapshot_images", _drop_json_snapshots),
]


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply the store's pending migrations in order, each in its own transaction.

    :returns: the names of the migrations applied now.
    """
    db = sqlite_utils.Database(conn)
    conn.execute("CREATE TABLE IF NOT EXISTS _events_migrations (name TEXT PRIMARY KEY,"
                 " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))")
    applied: list[str] = []
    for name, step in MIGRATIONS:
        conn.execute("BEGIN IMMEDIATE")
        try:
            done = conn.execute("SELECT 1 FROM _events_migrations WHERE name = ?",
                                (name,)).fetchone()
            if done is None:
                step(db)
                conn.execute("INSERT INTO _events_migrations (name) VALUES (?)", (name,))
                applied.append(name)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return applied
