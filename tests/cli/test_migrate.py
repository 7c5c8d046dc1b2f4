"""`liveblog migrate` creates or upgrades a schema and exits, once however many run at a time;
`serve` upgrades SQLite by itself and, on PostgreSQL, waits for `migrate` unless --migrate."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import psycopg
import pytest

from tests.e2e.server import editor_token, free_port


def liveblog(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "liveblog", *args], capture_output=True,
                          text=True, timeout=120, **kwargs)


def _outdate(database: str, name: str = "feed") -> None:
    """Make projection ``name`` of another version, as a new release of it would find it."""
    sql = "UPDATE projection_checkpoints SET version = version + 100 WHERE name = %s"
    if database.startswith("postgresql"):
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute(sql, (name,))
        return
    import sqlite3

    with sqlite3.connect(database) as conn:
        conn.execute(sql.replace("%s", "?"), (name,))


def test_migrate_creates_the_schema_then_has_nothing_to_do(database):
    first = liveblog("migrate", "--db", database)
    assert first.returncode == 0, first.stderr
    assert "migrations applied" in first.stdout
    again = liveblog("migrate", "--db", database)
    assert again.returncode == 0 and "up to date" in again.stdout


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_migrates_at_once_build_an_outdated_projection_once(database):
    editor_token(database)  # a log with events
    _outdate(database)
    runs = [subprocess.Popen([sys.executable, "-m", "liveblog", "migrate", "--db", database],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    said = sorted(out for out, _ in outputs)
    assert sum("projections built from the log (feed)" in out for out in said) == 1, said
    assert sum("up to date" in out for out in said) == 1, said


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def _serve(database: str, *args: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "liveblog", "serve", "--db", database,
                             "--port", str(port), "--workers", "1", "--no-scheduler", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ})
    return proc, port


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    try:
        return proc.communicate(timeout=20)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[1]


def _wait(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("backend", ["postgresql"])
def test_serve_on_an_outdated_postgresql_schema_waits_for_migrate(database):
    proc, port = _serve(database)
    try:
        time.sleep(3)
        assert proc.poll() is None and not _healthy(port)  # waiting, not serving
        done = liveblog("migrate", "--db", database)
        assert done.returncode == 0, done.stderr
        assert _wait(lambda: _healthy(port)), "serve did not start after migrate"
    finally:
        err = _stop(proc)
    assert "waiting for `liveblog migrate`" in err, err
    assert "migrated; serving" in err


@pytest.mark.parametrize("backend", ["postgresql"])
def test_serve_with_migrate_upgrades_postgresql_itself(database):
    editor_token(database)
    _outdate(database)
    proc, port = _serve(database, "--migrate")
    try:
        assert _wait(lambda: _healthy(port)), "serve --migrate did not start"
    finally:
        err = _stop(proc)
    assert "projections to build from the log (feed): upgrading before serving" in err, err
    assert "up to date" in liveblog("migrate", "--db", database).stdout


@pytest.mark.parametrize("backend", ["sqlite"])
def test_serve_upgrades_sqlite_by_default(database):
    editor_token(database)
    _outdate(database)
    proc, port = _serve(database)
    try:
        assert _wait(lambda: _healthy(port)), "serve did not start"
    finally:
        err = _stop(proc)
    assert "upgrading before serving" in err, err
