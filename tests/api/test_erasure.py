"""Erasure reaches the disk, on both backends: once a legal redaction is acknowledged, the
erased text is in none of the database's files (SQLite: the main file and its write-ahead log;
PostgreSQL: every file of the tables, their TOAST and their indexes), although it was there
before. A post's words are kept sealed with its stream's key (events.keys): the redaction
destroys the key, and the group key that wrapped it leaves every file too, so what the log and
the read models still hold of the post is noise."""

from __future__ import annotations

import io
from pathlib import Path

import psycopg
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tests.postgres import own_database

from .helpers import create_blog, create_post

SECRET = "Quintilla Marrowbone"


@pytest.fixture
def database(backend, tmp_path, request):
    """A database of this test's own: on PostgreSQL a whole database, not a schema of the
    run's shared one, so no other test's transaction holds back what a vacuum may remove (as
    in a deployment, which has its database to itself)."""
    if backend == "sqlite":
        yield str(tmp_path / "erasure.db")
        return
    server = request.getfixturevalue("postgres_server").rsplit("/", 1)[0] + "/postgres"
    with own_database(server, "liveblog_erasure") as url:
        yield url


def database_files(database: str) -> list[tuple[Path, str]]:
    """Every file that holds the database's rows, with the relation it belongs to."""
    if not database.startswith("postgresql"):
        return [(p, p.name) for p in (Path(database), Path(database + "-wal")) if p.exists()]
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("CHECKPOINT")  # what is in the server's memory is on disk, as it is now
        data = Path(conn.execute("SHOW data_directory").fetchone()[0])
        rows = conn.execute(
            "SELECT pg_relation_filepath(c.oid), c.relname FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE (n.nspname = current_schema() OR c.oid IN (SELECT reltoastrelid FROM"
            "  pg_class k JOIN pg_namespace m ON m.oid = k.relnamespace"
            "  WHERE m.nspname = current_schema()))"
            " AND c.relkind IN ('r', 't', 'i') AND pg_relation_filepath(c.oid) IS NOT NULL"
        ).fetchall()
    files = []
    for relative, name in rows:
        base = data / relative
        segments = sorted(base.parent.glob(base.name + ".[0-9]*"))
        files += [(base, name)] + [(f, name) for f in segments]
    return [(f, name) for f, name in files if f.exists()]


def holding(database: str, text: str | bytes) -> list[str]:
    needle = text.encode() if isinstance(text, str) else text
    return [f"{name} ({f})" for f, name in database_files(database) if needle in f.read_bytes()]


def test_a_redaction_leaves_no_erased_byte_in_the_database_files(app, client, editor, tokens,
                                                                   database):
    legal = tokens.headers("legal", "Legal Desk")
    blog = create_blog(client, editor, slug="erasure")
    # a photo whose own metadata names the person: the image goes with the post
    photo = io.BytesIO()
    info = PngInfo()
    info.add_text("Comment", f"{SECRET} outside court")
    Image.new("RGB", (40, 30), "navy").save(photo, "PNG", pnginfo=info)
    uploaded = client.post("/api/media", data=photo.getvalue(),
                           headers={**editor, "Content-Type": "image/png"})
    assert uploaded.status_code == 201
    post = create_post(client, editor, blog["id"], headline=f"{SECRET} testifies",
                       byline={"contributors": [SECRET]},
                       body=[{"type": "paragraph", "text": f"{SECRET} said: no comment"},
                             {"type": "image", "media_id": uploaded.get_json()["id"]}])
    path = f"/api/blogs/{blog['id']}/posts/{post['id']}"
    edited = client.patch(path, json={"headline": f"{SECRET} testifies again"},
                          headers={**editor, "If-Match": '"1"'})
    assert edited.status_code == 200
    corrected = client.post(f"{path}/corrections",
                            json={"text": f"{SECRET} is 41", "reason": "factual"},
                            headers={**editor, "If-Match": '"2"'})
    assert corrected.status_code == 201
    other = create_post(client, editor, blog["id"], headline="Court adjourns")
    assert holding(database, SECRET), "the test would prove nothing: the text is not on disk"
    stream = f"blog/{blog['id']}/post/{post['id']}"
    group_key, post_key = _keys(app, stream)
    # the sealed copies open with the post's key, and the key that wraps it is on disk
    assert holding(database, group_key), "the test would prove nothing: no key on disk"
    sealed = _sealed_copies(app, stream)
    assert sealed and all(SECRET in _open(post_key, stream, text) for text in sealed[:1])

    done = client.post(f"{path}/redact", json={"reason": "court order"}, headers=legal)
    assert done.status_code == 200

    assert holding(database, SECRET) == []
    assert holding(database, group_key) == []  # the only way to the post's key is gone
    assert _keys(app, stream) == (None, None)
    # the rest is all still there, and opens
    again = client.get(f"/api/blogs/{blog['id']}/posts/{other['id']}", headers=editor)
    assert again.get_json()["headline"] == "Court adjourns"
    # a rebuild drops the old read models without zeroing their pages: what they held of the
    # post was sealed, so nothing readable of it comes back to the disk either
    with app.app_context():
        app.extensions["liveblog"].runner().rebuild()
    assert holding(database, SECRET) == []
    assert holding(database, group_key) == []


def _keys(app, stream: str) -> tuple[bytes | None, bytes | None]:
    """The group key that wraps ``stream``'s key, and the key, as stored (None: none)."""
    from cryptography.hazmat.primitives.keywrap import aes_key_unwrap

    from events.keys import group_of
    from liveblog.bootstrap import get_liveblog

    with app.app_context():
        conn = get_liveblog().store().conn
        wrapped = conn.execute("SELECT wrapped FROM stream_keys WHERE stream_id = ?",
                               (stream,)).fetchone()
        kek = conn.execute("SELECT kek FROM key_groups WHERE grp = ?",
                           (group_of(stream),)).fetchone()
    if wrapped is None:
        return None, None
    return bytes(kek[0]), aes_key_unwrap(bytes(kek[0]), bytes(wrapped[0]))


def _sealed_copies(app, stream: str) -> list[str]:
    """The stream's payloads as the events table stores them (sealed)."""
    from liveblog.bootstrap import get_liveblog

    with app.app_context():
        rows = get_liveblog().store().conn.execute(
            "SELECT data FROM events WHERE stream_id = ? ORDER BY version", (stream,)).fetchall()
    return [row[0] for row in rows if row[0].startswith("~s1~")]


def _open(key: bytes, stream: str, text: str) -> str:
    """Open sealed text with a key, as anyone holding the key could (AES-256-GCM)."""
    import base64

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(text[len("~s1~"):])
    return AESGCM(key).decrypt(raw[:12], raw[12:], stream.encode()).decode()


def test_a_reader_that_began_before_the_redaction_is_waited_for(app, client, editor, tokens,
                                                                 database):
    """PostgreSQL keeps old row versions while a transaction that began before may still read
    them: the rewrite waits for it to end (here, one second), then leaves nothing behind."""
    import threading
    import time

    if not database.startswith("postgresql"):
        return  # SQLite: a reader holds the write-ahead log instead (retried the same way)
    legal = tokens.headers("legal", "Legal Desk")
    blog = create_blog(client, editor, slug="held")
    post = create_post(client, editor, blog["id"], headline=f"{SECRET} again")
    reading = threading.Event()

    def old_reader():
        with psycopg.connect(database) as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            # its snapshot is taken, on a table the redaction does not rewrite (no lock to wait on)
            conn.execute("SELECT count(*) FROM scheduler_lease").fetchone()
            reading.set()
            time.sleep(1.0)
            conn.rollback()

    reader = threading.Thread(target=old_reader)
    reader.start()
    reading.wait(5)
    began = time.monotonic()
    done = client.post(f"/api/blogs/{blog['id']}/posts/{post['id']}/redact",
                       json={"reason": "court order"}, headers=legal)
    reader.join()
    assert done.status_code == 200
    assert time.monotonic() - began >= 0.5  # it waited for the older reader
    assert holding(database, SECRET) == []


def test_a_session_idle_in_a_transaction_does_not_hold_the_rewrite_for_ever(app, database):
    """A connection that took a lock on a table and then waits on nothing (idle in a
    transaction) would keep ``VACUUM FULL`` waiting, and every request queued behind it: the
    rewrite gives up on that table after its wait, says so, and the rest is rewritten."""
    import time

    from events import EventStore
    from events.backends import postgresql

    if not database.startswith("postgresql"):
        return  # SQLite zeroes pages as it writes: there is no rewrite to wait for
    store = EventStore.open(database)
    holder = psycopg.connect(database)
    try:
        holder.execute("SELECT count(*) FROM merkle_nodes").fetchone()  # and stays idle
        began = time.monotonic()
        done = postgresql.scrub(store.conn, ["events", "merkle_nodes"], wait=0.5)  # type: ignore[arg-type]
        took = time.monotonic() - began
        assert done is False  # the held table was not rewritten, and it says so
        assert took < 5, took
        # the session is usable afterwards, with no lock timeout left behind
        assert store.conn.raw.execute("SHOW lock_timeout").fetchone()[0] == "0"
    finally:
        holder.close()
        store.close()
