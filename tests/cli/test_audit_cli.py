"""The log tools: verify, rebuild, export/import and replay, on a real database file."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from liveblog import create_app
from liveblog.cli import main

from ..api.helpers import create_blog, create_post
from ..conftest import Tokens
from ..events.test_chain import tamper


def cli(*args):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def story(database, clock):
    """A blog with a few posts, an edit and a deletion, built through the API."""
    app = create_app({"TESTING": True, "DATABASE": database, "CLOCK": clock})
    client = app.test_client()
    editor = Tokens(app).headers()
    blog = create_blog(client, editor, slug="story")
    posts = [create_post(client, editor, blog["id"], headline=f"p{i}") for i in range(4)]
    client.patch(f"/api/blogs/story/posts/{posts[0]['id']}", json={"headline": "p0 fixed"},
                 headers={**editor, "If-Match": '"1"'})
    client.delete(f"/api/blogs/story/posts/{posts[1]['id']}", headers=editor)
    feed = client.get("/api/blogs/story/posts").get_json()
    app.extensions["liveblog"].close()
    return {"feed": feed, "blog": blog}


def test_verify_ok_then_exit_1_at_the_tampered_position(database, story):
    code, out = cli("verify", "--db", database)
    assert code == 0 and out.startswith("ok: ")
    from events import EventStore

    store = EventStore.open(database)
    tamper(store, "UPDATE events SET metadata = '{}' WHERE position = 5")
    store.close()
    code, out = cli("verify", "--db", database)
    assert code == 1
    assert out.strip().splitlines()[-1].startswith("broken at position 5: bad hash")


def _empty(database):
    from events import EventStore

    store = EventStore.open(database)
    try:
        return store.is_empty()
    finally:
        store.close()


def test_export_import_gives_the_same_head_and_the_same_feed(database, tmp_path, story):
    dump = tmp_path / "log.jsonl"
    code, out = cli("export", "--db", database, str(dump))
    assert code == 0, out
    lines = dump.read_text().splitlines()
    head = json.loads(lines[-1])
    assert f"head {head['position']} {head['hash']}" in out
    copy = tmp_path / "copy.db"
    code, out = cli("import", "--db", str(copy), str(dump))
    assert code == 1 and "--with-tokens" in out  # the story's log holds its editor's token
    assert not list(tmp_path.glob("copy.db")) or _empty(str(copy))
    code, out = cli("import", "--db", str(copy), str(dump), "--with-tokens")
    assert code == 0, out
    assert f"head {head['position']} {head['hash']}" in out
    app = create_app({"TESTING": True, "DATABASE": str(copy)})
    assert app.test_client().get("/api/blogs/story/posts").get_json() == story["feed"]
    app.extensions["liveblog"].close()
    # a second import into the now non-empty database is refused
    code, out = cli("import", "--db", str(copy), str(dump), "--with-tokens")
    assert code == 1 and "empty" in out.strip().splitlines()[-1]


def test_import_refuses_a_broken_chain_naming_the_line(database, tmp_path, story):
    dump = tmp_path / "log.jsonl"
    cli("export", "--db", database, str(dump))
    lines = dump.read_text().splitlines()
    record = json.loads(lines[6])
    record["data"]["slug"] = "forged"
    lines[6] = json.dumps(record)
    dump.write_text("\n".join(lines) + "\n")
    copy = tmp_path / "copy.db"
    code, out = cli("import", "--db", str(copy), str(dump), "--with-tokens")
    assert code == 1
    last = out.strip().splitlines()[-1]
    assert "line 7" in last and "bad hash" in last
    from events import EventStore

    assert EventStore.open(copy).is_empty()


def test_rebuild_reports_a_count_and_keeps_the_feed(database, story):
    code, out = cli("rebuild", "--db", database)
    assert code == 0, out
    from liveblog.projections import all_projections

    count = len(all_projections())
    assert f"rebuilt {count} projections from" in out.strip().splitlines()[-1]
    app = create_app({"TESTING": True, "DATABASE": database})
    assert app.test_client().get("/api/blogs/story/posts").get_json() == story["feed"]
    app.extensions["liveblog"].close()
    # one process, said so; no processes at all is refused in one line, changing nothing
    code, out = cli("rebuild", "--workers", "1", "--db", database)
    assert code == 0 and "worker processes" not in out, out
    code, out = cli("rebuild", "--workers", "0", "--db", database)
    assert code == 2 and "--workers" in out.strip().splitlines()[-1], out


def test_replay_prints_the_feed_as_it_was(database, story):
    code, out = cli("replay", "story", "--as-of", story["feed"]["cursor"], "--db", database)
    assert code == 0, out
    assert json.loads(out) == story["feed"]
    code, out = cli("replay", "story", "--as-of", story["blog"]["cursor"], "--db", database)
    assert json.loads(out)["posts"] == []


@pytest.mark.parametrize("args,message", [
    (("replay", "story", "--as-of", "2022-01-21T13:31:00"), "offset"),
    (("replay", "story", "--as-of", "nonsense"), "neither"),
    (("replay", "nope", "--as-of", "2022-01-21T13:31:00Z"), "no blog"),
])
def test_replay_bad_input_is_one_line(database, story, args, message):
    code, out = cli(*args, "--db", database)
    assert code == 1 and message in out.strip().splitlines()[-1]


def test_tools_refuse_a_missing_database(tmp_path):
    for command in (("verify",), ("rebuild",), ("export", str(tmp_path / "x.jsonl")),
                    ("replay", "b", "--as-of", "2022-01-21T13:31:00Z")):
        code, out = cli(*command, "--db", str(tmp_path / "missing.db"))
        assert code == 1 and "no database" in out, command
        assert not (tmp_path / "missing.db").exists()


def _feed(database):
    app = create_app({"TESTING": True, "DATABASE": database})
    try:
        return app.test_client().get("/api/blogs/story/posts").get_json()
    finally:
        app.extensions["liveblog"].shutdown()


def test_copy_moves_a_log_between_backends_and_back(db_path, tmp_path, clock, postgres_server):
    from ..conftest import fresh_postgres

    app = create_app({"TESTING": True, "DATABASE": str(db_path), "CLOCK": clock})
    client = app.test_client()
    editor = Tokens(app).headers()
    blog = create_blog(client, editor, slug="story")
    for i in range(3):
        create_post(client, editor, blog["id"], headline=f"p{i}")
    from ..api.test_media import image_bytes

    image = image_bytes()
    uploaded = client.post("/api/media", data=image,
                           headers={**editor, "Content-Type": "image/png"}).get_json()
    create_post(client, editor, blog["id"], body=[{"type": "image", "media_id": uploaded["id"]}])
    app.extensions["liveblog"].shutdown()
    feed = _feed(str(db_path))
    postgres = fresh_postgres(postgres_server)
    code, out = cli("copy", "--from", str(db_path), "--to", postgres)
    assert code == 0, out
    assert "the copy verifies" in out and "and 1 images" in out
    copied = create_app({"TESTING": True, "DATABASE": postgres, "CLOCK": clock}).test_client()
    assert copied.get(uploaded["url"]).get_data() == image
    assert _feed(postgres) == feed  # the same bytes: the same events, projected the same way
    back = str(tmp_path / "back.db")
    code, out = cli("copy", "--from", postgres, "--to", back)
    assert code == 0, out
    assert _feed(back) == feed
    code, out = cli("verify", "--db", back)
    assert code == 0 and out.startswith("ok: ")
    # a target that already holds events is refused, and left as it was
    code, out = cli("copy", "--from", str(db_path), "--to", postgres)
    assert code == 1 and "empty" in out.strip().splitlines()[-1]
    assert _feed(postgres) == feed
    code, out = cli("copy", "--from", back, "--to", back)
    assert code == 1 and "same database" in out


def _forged_log(tmp_path, *records):
    """A log whose chain adds up, as anyone can make one: each record hashed onto the last."""
    from events import GENESIS_HASH
    from events.chain import payload_hash, record_hash
    from events.encoding import canonical

    lines, prev = [], GENESIS_HASH
    for position, (stream, type_, data) in enumerate(records, start=1):
        record = {"position": position, "stream_id": stream, "version": 1, "type": type_,
                  "schema_version": 1, "data": data, "metadata": {"actor": {"type": "cli"}},
                  "recorded_at": "2022-01-21T13:31:00.000000Z", "prev_hash": prev,
                  "data_hash": payload_hash(canonical(data)), "redacted": False}
        record["hash"] = prev = record_hash(
            position, stream, 1, type_, 1, canonical(data), canonical(record["metadata"]),
            record["recorded_at"], record["prev_hash"])
        lines.append(canonical(record))
    path = tmp_path / "forged.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


BLOG = ("blog/b1/about", "BlogCreated", {
    "blog_id": "b1", "slug": "forged", "title": "Forged", "description": "", "authors": [],
    "organization": None, "timezone": "UTC"})


def _post(headline):
    return ("blog/b1/post/p1", "PostPublished", {
        "blog_id": "b1", "post_id": "p1", "revision": 1,
        "content": {"headline": headline, "byline": {"contributors": []}, "body": []}})


@pytest.mark.parametrize("records,message", [
    ((("token/t1", "TokenCreated", {"token_id": "t1", "name": "Mallory", "role": "editor",
                                     "secret_hash": "0" * 64}),), "--with-tokens"),
    ((BLOG, _post("<script>alert(1)</script>Hi")), "sanitised"),
    ((BLOG, _post("bell\u0007")), "refuses"),
    ((BLOG, ("blog/b1/post/p1", "PostTeleported", {"blog_id": "b1"})), "unknown event type"),
    ((BLOG, ("blog/b1/post/p1", "PostPublished", {"blog_id": "b1", "post_id": "p1"})),
     "schema"),
    ((BLOG, ("blog/b2/about", "BlogCreated", {**BLOG[2], "blog_id": "b2"})), "slug"),
])
def test_import_distrusts_a_log_that_chains_and_changes_nothing(tmp_path, records, message):
    database = str(tmp_path / "target.db")
    code, out = cli("import", "--db", database, _forged_log(tmp_path, *records))
    assert code == 1, out
    assert message in out.strip().splitlines()[-1]
    assert _empty(database)
    app = create_app({"TESTING": True, "DATABASE": database})
    client = app.test_client()
    assert client.get("/api/blogs").get_json() == {"blogs": []}
    app.extensions["liveblog"].shutdown()


def test_import_takes_token_events_when_asked(tmp_path):
    forged = _forged_log(tmp_path, ("token/t1", "TokenCreated", {
        "token_id": "t1", "name": "Ops", "role": "editor", "secret_hash": "0" * 64}))
    database = str(tmp_path / "target.db")
    code, out = cli("import", "--db", database, forged, "--with-tokens")
    assert code == 0, out
    code, out = cli("token", "list", "--db", database)
    assert "t1" in out and "Ops" in out
