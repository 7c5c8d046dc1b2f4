"""`liveblog backup` while editors publish through a running server, then `liveblog restore`
into a fresh database, on both backends: the copy is one consistent state (a prefix of the live
log, its chain verifying) holding every post acknowledged before the backup began."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from events import EventStore
from tests.postgres import own_database, with_schema

from .server import Server, editor_token

pytestmark = pytest.mark.slow


def liveblog(*args):
    return subprocess.run([sys.executable, "-m", "liveblog", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def empty_target(database, tmp_path, postgres_server):
    """An empty database of the same kind to restore into (PostgreSQL: another database, with
    the schema the backup's URL names)."""
    if not str(database).startswith("postgresql"):
        yield str(tmp_path / "restored.db")
        return
    schema = database.split("search_path%3D")[1]
    with own_database(postgres_server.rsplit("/", 1)[0] + "/postgres", "liveblog_restore") as url:
        yield with_schema(url, schema)


def test_a_backup_under_publishes_restores_and_holds_every_acknowledged_post(
        database, tmp_path, empty_target):
    token = editor_token(database)
    server = Server(database, workers=2)
    auth = {"Authorization": f"Bearer {token}"}
    server.request("POST", "/api/blogs", {"title": "Backed up", "slug": "backed"}, auth)
    acknowledged: list[str] = []
    stop = threading.Event()

    def publish():
        i = 0
        while not stop.is_set():
            reply = server.request("POST", "/api/blogs/backed/posts", {"headline": f"n{i}"}, auth)
            assert reply.status == 201
            acknowledged.append(reply.json()["id"])
            i += 1

    writer = threading.Thread(target=publish)
    writer.start()
    try:
        deadline = time.monotonic() + 30
        while len(acknowledged) < 20:  # the writer's failure ends the wait, never a hang
            assert writer.is_alive() and time.monotonic() < deadline, "the editor stopped"
            threading.Event().wait(0.05)
        before = list(acknowledged)
        copy = tmp_path / "backup.bin"
        taken = liveblog("backup", str(copy), "--db", str(database))
        assert taken.returncode == 0, taken.stderr
        threading.Event().wait(0.5)  # editors go on after it
    finally:
        stop.set()
        writer.join()
        server.stop()
    assert len(acknowledged) > len(before)
    head = int(taken.stdout.split(": ")[1].split()[0])

    loaded = liveblog("restore", str(copy), "--db", empty_target)
    assert loaded.returncode == 0, loaded.stderr
    assert f"restored {head} events" in loaded.stdout and "the chain verifies" in loaded.stdout
    restored, live = EventStore.open(empty_target), EventStore.open(database)
    try:
        assert restored.head().position == head
        # one consistent state: a prefix of the live log, hash for hash
        assert restored.head().hash == live.conn.execute(
            "SELECT hash FROM events WHERE position = ?", (head,)).fetchone()[0]
        rows = restored.conn.execute("SELECT id FROM feed_posts").fetchall()
    finally:
        restored.close()
        live.close()
    posts = {row[0] for row in rows}
    assert set(before) <= posts  # every post acknowledged before the backup began
    assert posts <= set(acknowledged)  # and nothing that was not
    # a restore never goes into a database that holds events
    again = liveblog("restore", str(copy), "--db", empty_target)
    assert again.returncode == 1 and "holds events already" in again.stderr
