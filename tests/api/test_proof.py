"""Proof of publication through the API, checked by an independent implementation: aics-tlog
(a C2SP verifier we did not write) reads our checkpoint, our tiles and our proofs."""

from __future__ import annotations

import base64
import hashlib
import json

import aics_tlog
import pytest
from aics_tlog.tiles import entry_bundle_path, tile_path

from events import tlog
from liveblog.scheduler import record_log_checkpoint

from .helpers import create_blog, create_post


def _vkey(client) -> str:
    answer = client.get("/log/key")
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    return answer.get_data(as_text=True).strip()


class Tiles:
    """An aics-tlog tile reader fed by GET /log/tile/...: the paths are aics-tlog's own."""

    def __init__(self, client) -> None:
        self.client = client

    def _get(self, path: str) -> bytes | None:
        answer = self.client.get(f"/log/{path}")
        if answer.status_code != 200:
            return None
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        return answer.get_data()

    def read_tile(self, level: int, index: int, width: int | None) -> bytes | None:
        return self._get(tile_path(level, index, width))

    def read_entry_bundle(self, index: int, width: int | None) -> bytes | None:
        return self._get(entry_bundle_path(index, width))


@pytest.fixture
def grown(app, client, editor):
    """A blog whose log crosses a full tile (more than 256 events), and a checkpoint."""
    blog = create_blog(client, editor, slug="grown")
    posts = [create_post(client, editor, blog["id"], headline=f"Update {i}") for i in range(300)]
    record_log_checkpoint(app)
    return blog, posts


def test_an_independent_verifier_accepts_our_checkpoint_tiles_and_proofs(app, client, grown):
    blog, posts = grown
    vkey = aics_tlog.parse_vkey(_vkey(client))
    answer = client.get("/log/checkpoint")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "public, max-age=5"
    text = answer.get_data(as_text=True)
    note = aics_tlog.parse_note(text)
    result = aics_tlog.verify_checkpoint(note, vkey)
    assert result.ok, result
    checkpoint = aics_tlog.parse_checkpoint(note.text)
    assert checkpoint.origin == "localhost/log" and checkpoint.size > 300
    reader = Tiles(client)
    # the tree the tiles make is the one the checkpoint signed, and every entry is in it
    assert aics_tlog.tree_root_from_tiles(reader, checkpoint.size) == checkpoint.root
    # every tile and entry bundle authenticated against the root (it raises on the first bad)
    report = aics_tlog.audit_tiles(reader, checkpoint.size, checkpoint.root)
    assert report.size == checkpoint.size and report.tiles >= 3 and report.bundles == 2
    # a proof of a post's version: aics-tlog checks its inclusion in that checkpoint
    post = posts[270]
    proof = client.get(f"/api/blogs/grown/posts/{post['id']}/proof?version=1")
    assert proof.status_code == 200, proof.get_json()
    body = proof.get_json()
    record = body["record"]
    assert hashlib.sha256(record.encode()).hexdigest() == body["hash"]
    assert hashlib.sha256(body["data"].encode()).hexdigest() == body["event"]["data_hash"]
    assert json.loads(body["data"])["content"]["headline"] == "Update 270"
    lines = body["tlog_proof"].split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1" and lines[1] == f"index {body['leaf_index']}"
    hashes = [base64.b64decode(h) for h in lines[2:lines.index("")]]
    leaf = bytes.fromhex(body["hash"])
    assert aics_tlog.verify_leaf_inclusion(leaf, body["leaf_index"], checkpoint.size, hashes,
                                           checkpoint.root)
    assert hashes == aics_tlog.inclusion_proof_from_tiles(reader, body["leaf_index"],
                                                          checkpoint.size)


def test_tiles_outside_the_signed_tree_and_malformed_paths_are_404(client, grown):
    size = int(client.get("/log/checkpoint").get_data(as_text=True).split("\n")[1])
    assert client.get("/log/tile/0/000").status_code == 200  # full: 256 leaves
    assert client.get(f"/log/tile/0/001.p/{size - 256}").status_code == 200
    assert client.get(f"/log/tile/entries/001.p/{size - 256}").status_code == 200
    for path in ("0/001", f"0/001.p/{size - 255}", "1/000", "0/002.p/1", "00/000", "64/000",
                 "0/0", "0/x000", "0/000.p/0", "0/000.p/256", "x/000", "entries/001",
                 "0/000.p/01"):
        answer = client.get(f"/log/tile/{path}")
        assert answer.status_code == 404, path
        assert answer.mimetype == "application/problem+json"
    # what a partial tile holds is what the full one starts with
    full = client.get("/log/tile/0/000").get_data()
    assert client.get("/log/tile/0/000.p/5").get_data() == full[:5 * 32]
    bundle = client.get("/log/tile/entries/000.p/2").get_data()
    assert bundle[:2] == b"\x00\x20" and tlog.leaf_hash(bundle[2:34]) == full[:32]
