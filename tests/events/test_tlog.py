"""The transparency log's hashing and proofs (events.tlog) and its signed notes (events.note),
each checked against what we did not write: RFC 6962's known answers (as transparency-dev/merkle
tests them), the C2SP signed-note example, pymerkle's roots and aics-tlog's proofs and
signatures; property tests across the 256- and 512-leaf tile edges; and tampering that must
fail."""

from __future__ import annotations

import base64
import os

import aics_tlog
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from events import EventStore, NewEvent, note, tlog

#: RFC 6962's test leaves, and the roots of the trees of their first 1..8 (hex)
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
                                     "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
ROOTS = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
         "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
         "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
         "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
         "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
#: (leaf index, tree size, audit path) and (old size, new size, consistency proof)
INCLUSIONS = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CONSISTENCIES = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]


def memory_tree(entries: list[bytes]) -> tlog.Tree:
    hashes = [tlog.leaf_hash(e) for e in entries]
    return tlog.Tree(len(entries),
                     lambda level, index: tlog.reduce(hashes[index << level:(index + 1) << level]))


def test_the_rfc_6962_known_answers():
    for n in range(1, 9):
        assert memory_tree(LEAVES[:n]).root().hex() == ROOTS[n - 1]
    assert memory_tree([]).root().hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    for index, size, path in INCLUSIONS:
        tree = memory_tree(LEAVES[:size])
        assert [h.hex() for h in tree.inclusion(index)] == path
        assert tlog.verify_inclusion(index, size, tlog.leaf_hash(LEAVES[index]),
                                     [bytes.fromhex(h) for h in path], tree.root())
    for old, new, path in CONSISTENCIES:
        tree = memory_tree(LEAVES[:new])
        assert [h.hex() for h in tree.consistency(old)] == path
        assert tlog.verify_consistency(old, new, bytes.fromhex(ROOTS[old - 1]),
                                       bytes.fromhex(ROOTS[new - 1]),
                                       [bytes.fromhex(h) for h in path])


def _corrupted(proof: list[bytes], other: bytes) -> list[list[bytes]]:
    """The transparency-dev/merkle probes: a flipped bit in each hash, one dropped, garbage
    before and after."""
    probes = [proof[:-1], [other, *proof], [*proof, other], [b"", *proof], [*proof, b""]]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        probes.append(flipped)
    return probes


@pytest.mark.parametrize(("index", "size", "path"), INCLUSIONS)
def test_a_tampered_inclusion_proof_fails(index, size, path):
    root = bytes.fromhex(ROOTS[size - 1])
    leaf = tlog.leaf_hash(LEAVES[index])
    proof = [bytes.fromhex(h) for h in path]
    for probe in _corrupted(proof, root):
        assert not tlog.verify_inclusion(index, size, leaf, probe, root)
    for i, s in ((index - 1, size), (index + 1, size), (index ^ 2, size), (index, size * 2),
                 (index, size // 2)):
        assert not tlog.verify_inclusion(i, s, leaf, proof, root)
    assert not tlog.verify_inclusion(index, size, tlog.leaf_hash(b"other"), proof, root)
    assert not tlog.verify_inclusion(index, size, leaf, proof, tlog.EMPTY_ROOT)


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCIES)
def test_a_tampered_consistency_proof_fails(old, new, path):
    old_root, new_root = bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1])
    proof = [bytes.fromhex(h) for h in path]
    for probe in [*_corrupted(proof, old_root), [], [proof[0], *proof]]:
        assert not tlog.verify_consistency(old, new, old_root, new_root, probe)
    for o, n in ((old - 1, new), (old + 1, new), (old ^ 2, new), (old, new * 2),
                 (old, new // 2)):
        assert not tlog.verify_consistency(o, n, old_root, new_root, proof)
    assert not tlog.verify_consistency(old, new, new_root, old_root, proof)
    # a fork: the new tree with another leaf where the old one had one
    forked = memory_tree([LEAVES[0] + b"!", *LEAVES[1:new]])
    assert not tlog.verify_consistency(old, new, old_root, forked.root(),
                                       forked.consistency(old))


#: sizes around the tile edges (256 and 512 leaves, 65,536 at level 2 is past a unit test)
EDGES = [1, 2, 3, 255, 256, 257, 511, 512, 513, 700]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(EDGES), st.data())
def test_proofs_agree_with_pymerkle_and_aics_tlog_across_tile_edges(size, data):
    entries = [i.to_bytes(4, "big") * 8 for i in range(size)]
    tree = memory_tree(entries)
    theirs = InmemoryTree(algorithm="sha256")
    for entry in entries:
        theirs.append_entry(entry)
    assert theirs.get_root() == tree.root()
    aics = aics_tlog.MerkleTree(entries)
    assert aics.root() == tree.root()
    index = data.draw(st.integers(0, size - 1))
    assert tree.inclusion(index) == aics.inclusion_proof(index)
    assert aics_tlog.verify_inclusion(tlog.leaf_hash(entries[index]), index, size,
                                      tree.inclusion(index), tree.root())
    old = data.draw(st.integers(0, size))
    older = memory_tree(entries[:old])
    assert theirs.get_root(old) == older.root()
    proof = tree.consistency(old)
    assert tlog.verify_consistency(old, size, older.root(), tree.root(), proof)
    if 0 < old:
        assert proof == aics.consistency_proof(old, size)
        assert aics_tlog.verify_consistency(old, size, older.root(), tree.root(), proof)


def test_the_log_tree_from_the_events_table_matches_one_made_in_memory(tmp_path):
    store = EventStore.open(str(tmp_path / "tree.db"))
    for i in range(600):
        store.append(f"s/{i % 7}", [NewEvent("Happened", {"i": i})])
    hashes = [bytes.fromhex(r[0]) for r in store.conn.execute(
        "SELECT hash FROM events ORDER BY position")]
    log = tlog.LogTree(store.conn)
    assert log.extend(600) == 2  # the two complete subtrees of 256 leaves
    assert log.extend(600) == 0
    for size in (1, 255, 256, 257, 511, 512, 513, 600):
        expected = memory_tree(hashes[:size])
        assert log.tree(size).root() == expected.root()
        for index in (0, size // 2, size - 1):
            assert log.tree(size).inclusion(index) == expected.inclusion(index)
        assert log.tree(600).consistency(size) == memory_tree(hashes).consistency(size)
    # tiles: level 0 the leaves' hashes, level 1 the complete subtrees' roots
    assert log.tile(0, 1, 44) == b"".join(tlog.leaf_hash(h) for h in hashes[256:300])
    assert log.tile(1, 0, 2) == memory_tree(hashes[:256]).root() + memory_tree(
        hashes[256:512]).root()
    assert log.bundle(0, 2) == b"\x00\x20" + hashes[0] + b"\x00\x20" + hashes[1]
    store.close()


def test_tile_paths_are_tlog_tiles_own():
    assert tlog.tile_path(1, 1234067) == "1/x001/x234/067"
    assert tlog.tile_path("entries", 5, 7) == "entries/005.p/7"
    assert tlog.parse_tile_index("x001/x234/067") == (1234067, 256)
    assert tlog.parse_tile_index("000.p/255") == (0, 255)
    for bad in ("1234067", "x01/234", "001/234", "000.p/0", "000.p/256", "000.p/07", "0"):
        with pytest.raises(ValueError):
            tlog.parse_tile_index(bad)


#: the C2SP signed-note specification's example
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = ("This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1"
             "YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")


def test_the_signed_note_specifications_example_verifies_and_a_changed_one_does_not():
    verifier = note.parse_vkey(SPEC_VKEY)
    assert verifier.vkey() == SPEC_VKEY
    assert note.open_note(SPEC_NOTE, verifier) == ("This is an example message.\n", [])
    with pytest.raises(note.NoteError, match="does not verify"):
        note.open_note(SPEC_NOTE.replace("example", "exemple", 1), verifier)
    # another key under the same name: its key id differs, so the note is not signed by it
    stranger = note.NoteSigner("example.com/foo", Ed25519PrivateKey.generate()).verifier
    with pytest.raises(note.NoteError, match="not signed by"):
        note.open_note(SPEC_NOTE, stranger)


def test_our_checkpoints_verify_with_aics_tlog_and_theirs_with_ours():
    key = Ed25519PrivateKey.generate()
    signer = note.NoteSigner("news.example/log", key)
    tree = memory_tree(LEAVES)
    signed = signer.sign(note.Checkpoint("news.example/log", 8, tree.root()).text())
    theirs = aics_tlog.parse_vkey(signer.verifier.vkey())
    assert aics_tlog.verify_checkpoint(aics_tlog.parse_note(signed), theirs).ok
    # a checkpoint aics-tlog signed, read by ours
    made = aics_tlog.sign_checkpoint(aics_tlog.Checkpoint("news.example/log", 8, tree.root()),
                                     key, "news.example/log")
    checkpoint, others = note.open_checkpoint(made.serialise(), signer.verifier)
    assert (checkpoint.size, checkpoint.root, others) == (8, tree.root(), [])
    # tampering: a flipped byte of the root, a wrong key
    root_line = base64.b64encode(tree.root()).decode()
    flipped = signed.replace(root_line, base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(note.NoteError):
        note.open_checkpoint(flipped, signer.verifier)
    assert not aics_tlog.verify_checkpoint(aics_tlog.parse_note(flipped), theirs).ok
    other = note.NoteSigner("news.example/log", Ed25519PrivateKey.generate()).verifier
    with pytest.raises(note.NoteError):
        note.open_checkpoint(signed, other)


def test_a_tlog_proof_round_trips_and_rejects_what_is_not_one():
    proof = note.Proof(5, (b"\x01" * 32, b"\x02" * 32), "news.example/log\n8\nAAAA\n\n")
    text = proof.text()
    assert text.startswith("c2sp.org/tlog-proof@v1\nindex 5\n")
    assert note.parse_proof(text) == proof
    for bad in ("c2sp.org/tlog-proof@v2\nindex 5\n\nx", "c2sp.org/tlog-proof@v1\nindex 05\n\nx",
                "c2sp.org/tlog-proof@v1\nindex 5\nAAAA\n\nx", "no blank line"):
        with pytest.raises(note.NoteError):
            note.parse_proof(bad)
