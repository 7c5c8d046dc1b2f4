"""Witnesses catch a split view: each new checkpoint is offered to a tlog-witness with a
consistency proof, and its cosignature joins /log/checkpoint. The witness here is an
independent implementation (aics-witness, from PyPI) in a process of its own; the cosigned
checkpoint is checked by aics-tlog. A second deployment with the same key and origin but
another history (two audiences shown two logs) gets no cosignature from it."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aics_tlog
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from events import note
from liveblog.checkpoints import seed_text

from .server import Server, create_database, editor_token, free_port, stop_process

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def _witness(tmp_path: Path, origin: str, log_vkey: str) -> tuple[subprocess.Popen, str, str]:
    """aics-witness serving on a free port, trusting our log: the process, its URL, its vkey."""
    port = free_port()
    config = str(tmp_path / "witness.json")
    run = [sys.executable, "-m", "aics_witness"]
    made = subprocess.run([*run, "init", "--config", config, "--name", "witness.test/w1",
                           "--listen", f"127.0.0.1:{port}"],
                          capture_output=True, text=True, timeout=60, check=True)
    vkey = made.stdout.strip().splitlines()[-1]
    subprocess.run([*run, "add-log", "--config", config, "--origin", origin, "--vkey",
                    log_vkey], capture_output=True, text=True, timeout=60, check=True)
    proc = subprocess.Popen([*run, "serve", "--config", config], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}", vkey
        except OSError:
            time.sleep(0.1)
    stop_process(proc, 15, 5)
    raise RuntimeError("the witness did not start")


def _cosigned(server: Server, witness_vkey: str, *, past: int = 0,
              seconds: float = 20) -> tuple[str, int]:
    """The first checkpoint past ``past`` events that carries the witness's cosignature."""
    deadline = time.monotonic() + seconds
    text = ""
    while time.monotonic() < deadline:
        text = server.request("GET", "/log/checkpoint").body.decode()
        size = int(text.split("\n")[1])
        if size > past and witness_vkey.split("+")[0] in text.split("\n\n")[-1]:
            return text, size
        time.sleep(0.25)
    return text, 0


def test_a_witness_cosigns_our_checkpoints_and_refuses_a_split_view(tmp_path):
    key = Ed25519PrivateKey.generate()
    port = free_port()
    origin = f"127.0.0.1:{port}/log"
    log_vkey = note.NoteSigner(origin, key).verifier.vkey()
    witness, url, witness_vkey = _witness(tmp_path, origin, log_vkey)
    env = {"LIVEBLOG_AUDIT_SIGNING_KEY": seed_text(key),
           "LIVEBLOG_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "LIVEBLOG_LOG_CHECKPOINT_SECONDS": "0.5",
           "LIVEBLOG_LOG_WITNESSES": json.dumps([f"{url} {witness_vkey}"])}
    db = tmp_path / "news.db"
    create_database(db)
    auth = {"Authorization": f"Bearer {editor_token(db)}"}
    server = Server(db, workers=1, port=port, extra_env=env, scheduler=True)
    fork = None
    try:
        assert server.request("GET", "/log/key").body.decode().strip() == log_vkey
        blog = server.request("POST", "/api/blogs", {"title": "News", "slug": "news"}, auth)
        assert blog.status == 201
        for i in range(3):
            server.request("POST", "/api/blogs/news/posts", {"headline": f"Update {i}"}, auth)
        first, size = _cosigned(server, witness_vkey)
        assert size >= 4, first
        theirs = aics_tlog.verify_checkpoint(
            aics_tlog.parse_note(first), aics_tlog.parse_vkey(log_vkey),
            [aics_tlog.parse_vkey(witness_vkey)], quorum=1)
        assert theirs.ok and theirs.cosignature_count == 1, theirs
        # the log grows: the witness takes the next checkpoint with a consistency proof
        for i in range(300):
            server.request("POST", "/api/blogs/news/posts", {"headline": f"More {i}"}, auth)
        later, grown = _cosigned(server, witness_vkey, past=size + 299)
        assert grown == size + 300, later
        assert aics_tlog.verify_checkpoint(
            aics_tlog.parse_note(later), aics_tlog.parse_vkey(log_vkey),
            [aics_tlog.parse_vkey(witness_vkey)], quorum=1).ok

        # a second deployment, same key and origin, another history: a split view
        other = tmp_path / "other.db"
        create_database(other)
        other_auth = {"Authorization": f"Bearer {editor_token(other)}"}
        server.stop()  # the same port, so the same origin
        fork = Server(other, workers=1, port=port, extra_env=env, scheduler=True)
        fork.request("POST", "/api/blogs", {"title": "Other", "slug": "other"}, other_auth)
        fork.request("POST", "/api/blogs/other/posts", {"headline": "Not so"}, other_auth)
        time.sleep(3)  # several rounds of offering it
        forked = fork.request("GET", "/log/checkpoint").body.decode()
        checkpoint, others = note.open_checkpoint(forked, note.parse_vkey(log_vkey))
        assert others == [] and checkpoint.size < grown
        refused = aics_tlog.verify_checkpoint(
            aics_tlog.parse_note(forked), aics_tlog.parse_vkey(log_vkey),
            [aics_tlog.parse_vkey(witness_vkey)], quorum=1)
        assert not refused.ok  # a reader who asks for a witness sees it is not witnessed
        assert b"did not cosign" in _stderr_until(fork, b"did not cosign")
    finally:
        server.stop()
        if fork is not None:
            fork.stop()
        stop_process(witness, 15, 10)


def _stderr_until(server: Server, wanted: bytes, seconds: float = 15) -> bytes:
    """What the server wrote on stderr, read until ``wanted`` shows (or time is up)."""
    os.set_blocking(server.proc.stderr.fileno(), False)
    seen = b""
    deadline = time.monotonic() + seconds
    while wanted not in seen and time.monotonic() < deadline:
        seen += server.proc.stderr.read() or b""
        time.sleep(0.2)
    return seen


def test_a_witness_that_is_not_a_url_and_a_vkey_stops_serve(tmp_path):
    db = tmp_path / "news.db"
    create_database(db)
    bad = base64.b64encode(b"\x04" + b"\x00" * 32).decode()
    done = subprocess.run(
        [sys.executable, "-m", "liveblog", "serve", "--db", str(db), "--port", str(free_port())],
        env={**os.environ, "LIVEBLOG_LOG_WITNESSES": f"ftp://w.example w.example+00000000+{bad}"},
        capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "LIVEBLOG_LOG_WITNESSES" in done.stderr and len(done.stderr.strip().splitlines()) == 1
