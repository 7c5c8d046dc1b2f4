"""Signed audit checkpoints: kept in the database, listed for auditors with the public key, and
a saved copy that proves the log was neither truncated nor rewritten below it."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from liveblog import create_app
from liveblog.checkpoints import key_id, public_key_from_json, seed_text
from liveblog.cli import main
from liveblog.scheduler import record_audit_checkpoint

from ..conftest import Tokens
from ..events.tampering import tamper
from .helpers import create_blog, create_post


def cli(*args, env=None):
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


@pytest.fixture
def signed(app, client, editor, auditor, tmp_path):
    """Three checkpoints signed as the log grew, and an auditor's saved copy of them."""
    blog = create_blog(client, editor)
    positions = []
    for i in range(3):
        create_post(client, editor, blog["id"], headline=f"update {i}")
        positions.append(record_audit_checkpoint(app).position)
    answer = client.get("/api/audit/checkpoints", headers=auditor)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "private, no-store"
    saved = tmp_path / "checkpoints.json"
    saved.write_text(answer.get_data(as_text=True))
    app.extensions["liveblog"].close()
    return {"positions": positions, "saved": saved, "answer": answer.get_json(), "blog": blog}


def test_checkpoints_are_signed_by_the_published_key(app, client, signed):
    answer = signed["answer"]
    assert [c["position"] for c in answer["checkpoints"]] == signed["positions"]
    published = client.get("/.well-known/liveblog-audit-key")
    assert published.status_code == 200 and published.headers["Cache-Control"].startswith("public")
    assert published.get_json() == answer["key"]
    key = public_key_from_json(published.get_json())
    for checkpoint in answer["checkpoints"]:
        assert checkpoint["key_id"] == key_id(key) == published.get_json()["key_id"]
        message = json.dumps({k: checkpoint[k] for k in ("hash", "position", "recorded_at")},
                             sort_keys=True, separators=(",", ":")).encode()
        key.verify(base64.b64decode(checkpoint["signature"]), message)  # raises when bad


def test_paging_and_bad_queries(app, client, auditor, editor, signed):
    first = signed["positions"][0]
    page = client.get(f"/api/audit/checkpoints?after={first}&limit=1", headers=auditor).get_json()
    assert [c["position"] for c in page["checkpoints"]] == [signed["positions"][1]]
    assert page["next"] == signed["positions"][1]
    assert client.get("/api/audit/checkpoints?limit=0", headers=auditor).status_code == 422
    assert client.get("/api/audit/checkpoints", headers=editor).status_code == 403
    assert client.get("/api/audit/checkpoints").status_code == 401


def test_a_saved_copy_holds_then_truncation_and_rewriting_fail_at_their_position(
        app, database, auditor, signed):
    saved = str(signed["saved"])
    code, out = cli("verify", "--db", database, "--checkpoints", saved)
    assert code == 0 and f"{saved}: 3 signed audit checkpoints hold" in out, out
    last = signed["positions"][-1]
    with app.app_context():
        conn = app.extensions["liveblog"].store().conn
        # rewrite the newest event and re-hash it: the chain still adds up, the checkpoint not
        tamper(conn, "UPDATE events SET hash = ? WHERE position = ?", ("f" * 64, last))
    code, out = cli("verify", "--db", database, "--checkpoints", saved)
    assert code == 1
    assert f"position {last}" in out and ("rewritten" in out or "broken at" in out), out
    with app.app_context():
        conn = app.extensions["liveblog"].store().conn
        tamper(conn, "DELETE FROM events WHERE position >= ?", (last,))
    code, out = cli("verify", "--db", database, "--checkpoints", saved)
    assert code == 1 and f"position {last}" in out and "truncated" in out, out
    # the service's own check sees it too, through the checkpoints it keeps
    report = app.test_client().get("/api/audit/verify", headers=auditor).get_json()
    assert report["ok"] is False and report["first_bad_position"] == last
    assert "truncated" in report["detail"] and report["checkpoints_checked"] == 2


def test_a_forged_or_foreign_copy_is_refused(app, database, signed, tmp_path):
    data = json.loads(signed["saved"].read_text())
    data["checkpoints"][0]["hash"] = "0" * 64  # edited after signing
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data))
    code, out = cli("verify", "--db", database, "--checkpoints", str(forged))
    assert code == 1 and "bad signature" in out, out

    data = json.loads(signed["saved"].read_text())
    other = Ed25519PrivateKey.generate().public_key()
    data["key"]["public_key"] = base64.b64encode(other.public_bytes_raw()).decode()
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(data))
    code, out = cli("verify", "--db", database, "--checkpoints", str(foreign))
    assert code == 1 and "not the one given" in out, out

    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    code, out = cli("verify", "--db", database, "--checkpoints", str(junk))
    assert code == 1 and len(out.strip().splitlines()) == 1 and "saved copy" in out, out


def test_the_configured_key_signs_and_a_bad_one_is_one_line(database, tmp_path):
    seed = seed_text(Ed25519PrivateKey.generate())
    app = create_app({"DATABASE": database, "AUDIT_SIGNING_KEY": seed})
    client = app.test_client()
    create_blog(client, Tokens(app).headers())
    checkpoint = record_audit_checkpoint(app)
    published = client.get("/.well-known/liveblog-audit-key").get_json()
    assert checkpoint.key_id == published["key_id"]
    app.extensions["liveblog"].close()
    code, out = cli("verify", "--db", database, env={"LIVEBLOG_AUDIT_SIGNING_KEY": seed})
    assert code == 0 and "1 signed audit checkpoint holds" in out, out
    started = subprocess.run(
        [sys.executable, "-m", "liveblog", "serve", "--db", database, "--port", "1"],
        env={**os.environ, "LIVEBLOG_AUDIT_SIGNING_KEY": "not a key"}, capture_output=True,
        text=True, timeout=60)
    assert started.returncode != 0
    assert started.stderr.strip().splitlines() == [
        "Error: AUDIT_SIGNING_KEY must be base64 of a 32-byte Ed25519 seed or a PEM private key"]
