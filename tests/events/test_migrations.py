"""The migrations, on both backends: a fresh database and one at every earlier version end at
the same schema; a database as the previous release left it (the application's tables made
before they were migrations) takes them as they are; each runs once."""

from __future__ import annotations

import pytest

from events import SCHEMA_VERSION, EventStore, connect, schema_version, table_exists
from events.migrations import MIGRATIONS, migrate

from ..conftest import fresh_postgres


def schema(conn) -> dict[str, object]:
    """What a database holds, as data: tables with their columns, indexes, triggers."""
    if conn.dialect == "postgresql":
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        ).fetchall()
        indexes = conn.execute("SELECT indexname FROM pg_indexes"
                               " WHERE schemaname = current_schema()").fetchall()
        triggers = conn.execute("SELECT DISTINCT trigger_name FROM information_schema.triggers"
                                " WHERE trigger_schema = current_schema()").fetchall()
    else:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        columns = [(t, *c[1:4], c[5]) for t in tables
                   for c in conn.execute(f"PRAGMA table_info({t})")]
        indexes = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
        triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    return {"columns": sorted(map(tuple, columns)), "indexes": sorted(r[0] for r in indexes),
            "triggers": sorted(r[0] for r in triggers)}


def another(database, tmp_path, request):
    """A second empty database on the same backend."""
    if str(database).startswith("postgresql"):
        return fresh_postgres(request.getfixturevalue("postgres_server"))
    return str(tmp_path / "fresh.db")


def test_a_fresh_database_gets_every_migration_once(database):
    conn = connect(database)
    try:
        applied = migrate(conn)
        assert applied == [m.name for m in MIGRATIONS]
        assert [m.number for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))
        assert schema_version(conn) == SCHEMA_VERSION
        assert migrate(conn) == []  # each runs once
        for table in ("events", "idempotency", "projection_checkpoints", "scheduler_lease",
                      "health_probe", "audit_checkpoints", "audit_signing_key", "presence",
                      "media", "media_sizes", "merkle_nodes", "log_checkpoints"):
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        # as-of replay's snapshot cache is gone, table and all
        assert not table_exists(conn, "projection_snapshots")
    finally:
        conn.close()


@pytest.mark.parametrize("version", range(0, SCHEMA_VERSION))
def test_every_earlier_version_migrates_to_the_fresh_schema(database, tmp_path, request,
                                                             version):
    old = connect(database)
    fresh = connect(another(database, tmp_path, request))
    try:
        migrate(old, upto=version)
        assert schema_version(old) == version
        applied = migrate(old)
        assert applied == [m.name for m in MIGRATIONS if m.number > version]
        assert schema_version(old) == SCHEMA_VERSION
        migrate(fresh)
        assert schema(old) == schema(fresh)
    finally:
        old.close()
        fresh.close()


def test_the_previous_releases_database_keeps_its_application_tables(database, tmp_path,
                                                                      request):
    """Version 6 with the application's tables made as v1.1 made them (CREATE TABLE IF NOT
    EXISTS at start-up, unrecorded), holding rows: the migrations take them as they are."""
    conn = connect(database)
    fresh = connect(another(database, tmp_path, request))
    try:
        migrate(conn, upto=6)
        for migration in MIGRATIONS[6:11]:  # 7 to 11 (12 came after v1.1)
            for step in migration.steps:
                conn.execute(step)
        conn.execute("INSERT INTO scheduler_lease (id, holder, expires_at) VALUES (1, 'a', 'b')")
        assert migrate(conn) == [m.name for m in MIGRATIONS[6:]]
        assert conn.execute("SELECT holder FROM scheduler_lease").fetchone()[0] == "a"
        migrate(fresh)
        assert schema(conn) == schema(fresh)
    finally:
        conn.close()
        fresh.close()


def test_opening_a_store_migrates_it(database):
    store = EventStore.open(database)
    try:
        assert schema_version(store.conn) == SCHEMA_VERSION
    finally:
        store.close()
