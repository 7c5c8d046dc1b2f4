"""`liveblog restore` goes only into a database that holds nothing, or liveblog's own empty
schema: another application's tables and functions refuse it and stay as they were, on both
backends. A restore names its target; a refused import leaves no file behind."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest

from tests.e2e.server import editor_token
from tests.postgres import own_database, with_schema


def liveblog(*args, cwd=None):
    env = {k: v for k, v in os.environ.items() if k not in ("LIVEBLOG_DB", "LIVEBLOG_DATABASE")}
    return subprocess.run([sys.executable, "-m", "liveblog", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd, env=env)


@pytest.fixture
def backup(database, tmp_path):
    editor_token(database)  # a log with events
    copy = tmp_path / "backup.bin"
    taken = liveblog("backup", str(copy), "--db", str(database))
    assert taken.returncode == 0, taken.stderr
    return str(copy)


@pytest.fixture
def target(database, tmp_path, postgres_server):
    """An empty database of the backup's kind (PostgreSQL: the schema the backup's URL names,
    in another database)."""
    if not str(database).startswith("postgresql"):
        yield str(tmp_path / "target.db")
        return
    schema = database.split("search_path%3D")[1]
    with own_database(postgres_server.rsplit("/", 1)[0] + "/postgres", "liveblog_target") as url:
        yield with_schema(url, schema)


def _foreign(target: str, *, add: bool) -> object:
    """Put another application's table (with a row) and function into ``target``, or read
    what of them is there."""
    if target.startswith("postgresql"):
        with psycopg.connect(target, autocommit=True) as conn:
            if add:
                conn.execute("CREATE TABLE customers (name TEXT)")
                conn.execute("INSERT INTO customers VALUES ('Ada')")
                conn.execute("CREATE FUNCTION shop_total() RETURNS int LANGUAGE sql"
                             " AS 'SELECT 1'")
            return (conn.execute("SELECT name FROM customers").fetchall(),
                    conn.execute("SELECT shop_total()").fetchone())
    import sqlite3

    conn = sqlite3.connect(target)
    try:
        if add:
            conn.execute("CREATE TABLE customers (name TEXT)")
            conn.execute("INSERT INTO customers VALUES ('Ada')")
            conn.commit()
        return conn.execute("SELECT name FROM customers").fetchall()
    finally:
        conn.close()


def test_restore_into_a_database_with_another_applications_data_is_refused_untouched(
        backup, target):
    before = _foreign(target, add=True)
    refused = liveblog("restore", backup, "--db", target)
    assert refused.returncode == 1
    assert "holds what is not liveblog's (" in refused.stderr, refused.stderr
    assert "table customers" in refused.stderr
    if target.startswith("postgresql"):
        assert "function shop_total" in refused.stderr
    assert "nothing was changed" in refused.stderr
    assert _foreign(target, add=False) == before
    # beside liveblog's own empty schema, too
    assert liveblog("migrate", "--db", target).returncode == 0
    again = liveblog("restore", backup, "--db", target)
    assert again.returncode == 1 and "customers" in again.stderr
    assert _foreign(target, add=False) == before


def test_restore_into_liveblogs_own_empty_schema_replaces_it(backup, target):
    made = liveblog("migrate", "--db", target)
    assert made.returncode == 0, made.stderr
    loaded = liveblog("restore", backup, "--db", target)
    assert loaded.returncode == 0, loaded.stderr
    assert "the chain verifies" in loaded.stdout


@pytest.mark.parametrize("backend", ["sqlite"])
def test_restore_names_its_target_and_a_refused_import_leaves_no_file(backup, tmp_path):
    unnamed = liveblog("restore", backup, cwd=tmp_path)
    assert unnamed.returncode == 1 and "name the database to restore into" in unnamed.stderr
    assert not (tmp_path / "liveblog.db").exists()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"not": "an event"}\n')
    refused = liveblog("import", str(bad), "--db", str(tmp_path / "new.db"))
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
    assert not list(tmp_path.glob("new.db*"))
