"""`liveblog prove` writes one file that proves what a blog showed readers at a moment, and
`liveblog check-proof` checks it offline with only the log's key: it holds as made, and fails,
with one line why, when a byte of it is changed or another key is given. And the service
never signs a fork: a database restored from an older backup that then takes new events is
refused a checkpoint, with the reason."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import aics_tlog
import pytest
from click.testing import CliRunner

from liveblog import create_app
from liveblog.backups import backup, restore
from liveblog.cli import main
from liveblog.scheduler import record_log_checkpoint
from liveblog.transparency import ForkError

from ..api.helpers import create_blog, create_post
from ..conftest import Tokens


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def story(tmp_path, clock):
    """A blog with posts before and after a moment, on a SQLite file."""
    db = str(tmp_path / "story.db")
    app = create_app({"TESTING": True, "DATABASE": db, "CLOCK": clock})
    client = app.test_client()
    editor = Tokens(app).headers("editor", "Jane Roe")
    blog = create_blog(client, editor, slug="story")
    first = create_post(client, editor, blog["id"], headline="Polls close")
    client.patch(f"/api/blogs/{blog['id']}/posts/{first['id']}",
                 json={"headline": "Polls close at 8"}, headers={**editor, "If-Match": '"1"'})
    clock.advance(seconds=60)
    moment = clock().isoformat()
    clock.advance(seconds=60)
    create_post(client, editor, blog["id"], headline="First results")
    vkey = client.get("/log/key").get_data(as_text=True).strip()
    return db, moment, vkey, app


def test_a_proof_file_checks_offline_and_fails_when_changed(story, tmp_path):
    db, moment, vkey, _ = story
    out = tmp_path / "story.proof.json"
    code, output = cli("prove", "--db", db, "--blog", "story", "--at", moment, str(out))
    assert code == 0, output
    proof = json.loads(out.read_text())
    # the feed then: the first post as edited, not the one published after the moment
    assert [p["headline"] for p in proof["feed"]["posts"]] == ["Polls close at 8"]
    # checked in another process, with nothing but the file and the key
    checked = subprocess.run([sys.executable, "-m", "liveblog", "check-proof", str(out),
                              "--key", vkey], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("ok: ")
    # an independent verifier agrees on the checkpoint and every inclusion
    checkpoint = aics_tlog.parse_checkpoint(aics_tlog.parse_note(proof["checkpoint"]).text)
    assert aics_tlog.verify_checkpoint(aics_tlog.parse_note(proof["checkpoint"]),
                                       aics_tlog.parse_vkey(vkey)).ok
    for event in proof["events"]:
        leaf = hashlib.sha256(event["record"].encode()).digest()
        assert aics_tlog.verify_leaf_inclusion(
            leaf, event["leaf_index"], checkpoint.size,
            [base64.b64decode(h) for h in event["inclusion"]], checkpoint.root)

    def fails(changed: dict, *, key: str = vkey) -> str:
        path = tmp_path / "changed.json"
        path.write_text(json.dumps(changed))
        code, output = cli("check-proof", str(path), "--key", key)
        assert code == 1, output
        assert len(output.strip().splitlines()) == 1
        return output

    # the headline the readers saw, changed in the feed; or in an event's payload
    changed = json.loads(out.read_text())
    changed["feed"]["posts"][0]["headline"] = "Polls close at 9"
    assert "feed" in fails(changed)
    changed = json.loads(out.read_text())
    edited = next(e for e in changed["events"] if "Polls close at 8" in (e["data"] or ""))
    edited["data"] = edited["data"].replace("at 8", "at 9")
    assert "payload" in fails(changed)
    # a record re-hashed to fit: no longer in the signed tree
    changed = json.loads(out.read_text())
    changed["events"][0]["record"] = changed["events"][0]["record"].replace(
        '"version":1', '"version":1 ')
    assert "not in the signed checkpoint" in fails(changed)
    # a checkpoint with one flipped byte, and another key
    changed = json.loads(out.read_text())
    lines = changed["checkpoint"].split("\n")
    lines[1] = str(int(lines[1]) + 1)
    changed["checkpoint"] = "\n".join(lines)
    assert "does not verify" in fails(changed)
    other = "localhost/log+6f9fd1ef+AXqKdMkJ5wbF4hWKQeA2Q9JKiVXYrj7cGGuXUodOn1Jy"
    assert "vkey" in fails(json.loads(out.read_text()), key=other) or "not signed" in fails(
        json.loads(out.read_text()), key=other)


def test_a_database_restored_from_an_older_backup_is_refused_a_checkpoint(story, tmp_path):
    db, _, _, app = story
    older = str(tmp_path / "older.backup")
    first = record_log_checkpoint(app)
    backup(db, older)  # taken now, with that checkpoint in it
    client = app.test_client()
    editor = Tokens(app).headers("editor", "Late Editor")
    blog = client.get("/api/blogs/story").get_json()
    create_post(client, editor, blog["id"], headline="Signed, then lost")
    signed = record_log_checkpoint(app)
    assert signed is not None
    app.extensions["liveblog"].shutdown()
    # the newer database is lost; the older backup is restored where it was, and takes news
    for leftover in Path(db).parent.glob("story.db*"):
        if not leftover.name.endswith(".log-checkpoint"):
            leftover.unlink()
    restore(older, db)
    again = create_app({"TESTING": True, "DATABASE": db})
    client = again.test_client()
    editor = Tokens(again).headers("editor", "Night Editor")
    create_post(client, editor, blog["id"], headline="Another story")
    with pytest.raises(ForkError, match="restored from an older backup"):
        again.extensions["liveblog.log"].sign(
            again.extensions["liveblog"].store().conn, "2026-12-06T00:00:00Z")
    assert record_log_checkpoint(again) is None  # the job logs it and signs nothing
    # a checkpoint is never served for the fork; a proof says why there is none
    answer = client.get("/log/checkpoint")
    assert answer.status_code == 200  # the restored database's own, older one
    assert int(answer.get_data(as_text=True).split("\n")[1]) == first.size < signed.size
    post = create_post(client, editor, blog["id"], headline="Needs a proof")
    proof = client.get(f"/api/blogs/story/posts/{post['id']}/proof?version=1")
    assert proof.status_code == 503
    assert "restored from an older backup" in proof.get_json()["detail"]
