"""Proofs of publication anyone can check without trusting us (:mod:`liveblog.transparency`).

Each proven event is given as the exact text the hash chain hashed (its ``record``: the payload
in it only through ``data_hash``) and its payload's canonical text (``data``; for a redacted
event what the erasure left, which no hash covers). A verifier holding only the log's vkey
hashes the record (the chain hash, the Merkle leaf), checks ``data`` against ``data_hash``,
the leaf's inclusion in a signed checkpoint, and the checkpoint's signature.

* :func:`post_proof`: one version of a post (``GET .../proof?version=N``): every event of the
  post up to that version, so its content at that version is proven, not only its last change.
* :func:`prove_blog` / :func:`check_blog_proof`: one file proving what a blog showed readers
  at a moment (``liveblog prove`` / ``liveblog check-proof``). The check replays the proven
  events through the feed's own projection and compares the feed the file claims.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import Any

from events import (
    Connection,
    EventStore,
    ProjectionRunner,
    RecordedEvent,
    Tables,
    connect,
    note,
    record_text,
    tlog,
)

from . import queries
from .audit import feed_as_of
from .codec import UPCASTERS, decode
from .cursors import encode_cursor
from .domain.errors import PostNotFoundError
from .domain.model import evolve_post
from .projections import BlogsProjection, FeedProjection
from .streams import blog_prefix, post_stream
from .transparency import Publication

FORMAT = "liveblog-proof/v1"
#: the most posts a proof file's feed holds
FEED_LIMIT = 10_000


class ProofError(ValueError):
    """A proof that does not hold: what is wrong, in one line."""


def _proven(row: Any, path: list[bytes]) -> dict[str, Any]:
    """One stored row as a verifier needs it, with its inclusion ``path`` (its audit path in
    the checkpoint's tree)."""
    return {"leaf_index": row[0] - 1, "record": record_text(row), "data": row[5],
            "redacted": bool(row[12]), "inclusion": [base64.b64encode(h).decode() for h in path]}


def post_proof(store: EventStore, publication: Publication, blog_id: str, post_id: str,
               version: int, now: str, *, any_version: bool) -> dict[str, Any]:
    """The proof of version ``version`` of a post.

    :param any_version: also a version readers never saw (a draft's: auditors).
    :raises PostNotFoundError: no such post, or a version that is not there (or not shown).
    :raises ForkError: no checkpoint holds it, and signing one is refused.
    """
    stream = post_stream(blog_id, post_id)
    rows = list(store.read_rows(stream_prefix=stream))
    rows = [r for r in rows if r[1] == stream]
    events = list(store.read_stream(stream))
    upto, state = [], None
    for row, event in zip(rows, events, strict=True):
        if event.data.get("revision", 0) > version:
            break
        upto.append(row)
        state = evolve_post(state, decode(event))
    # readers saw this version when the post was published as it stood then
    if state is None or state.version != version or not (any_version
                                                          or state.status == "published"):
        raise PostNotFoundError(f"no version {version} of post {post_id!r} that readers saw")
    signed = publication.covering(store.conn, upto[-1][0], now)
    tree = tlog.LogTree(store.conn).tree(signed.size)
    paths = [tree.inclusion(row[0] - 1) for row in upto]
    last, record = upto[-1], record_text(upto[-1])
    proof = note.Proof(last[0] - 1, tuple(paths[-1]), signed.note)
    return {"event": json.loads(record), "record": record,
            "data": last[5], "redacted": bool(last[12]), "hash": last[9],
            "prev_hash": last[8], "leaf_index": last[0] - 1, "tlog_proof": proof.text(),
            "origin": publication.origin, "checkpoint_size": signed.size,
            "events": [_proven(row, path) for row, path in zip(upto, paths, strict=True)]}


def prove_blog(runner: ProjectionRunner, publication: Publication, blog_id: str,
               position: int, at: str, now: str) -> dict[str, Any]:
    """What ``blog_id`` showed readers at ``position`` (the moment ``at``), proven: its feed
    then, every event of the blog up to then with its inclusion in one signed checkpoint.

    :raises BlogNotFoundError: the blog did not exist then.
    :raises ForkError: signing a checkpoint that holds them is refused.
    """
    store = runner.store
    feed = feed_as_of(runner, blog_id, position, limit=FEED_LIMIT)
    rows = list(store.read_rows(stream_prefix=blog_prefix(blog_id), until=position))
    signed = publication.covering(store.conn, position, now)
    tree = tlog.LogTree(store.conn).tree(signed.size)
    return {"format": FORMAT, "origin": publication.origin, "blog_id": blog_id, "at": at,
            "position": position, "feed": feed, "checkpoint": signed.note,
            "events": [_proven(row, tree.inclusion(row[0] - 1)) for row in rows]}


def check_blog_proof(proof: Any, vkey: str) -> str:
    """Check a proof file offline against the log's vkey; a one-line summary when it holds.

    :raises ProofError: it does not hold (why, in one line).
    """
    try:
        verifier = note.parse_vkey(vkey)
        if not isinstance(proof, dict) or proof.get("format") != FORMAT:
            raise ProofError(f"not a {FORMAT} file")
        checkpoint, _ = note.open_checkpoint(str(proof["checkpoint"]), verifier)
        if checkpoint.origin != proof.get("origin"):
            raise ProofError(f"the checkpoint is of {checkpoint.origin}, the file says"
                             f" {proof.get('origin')}")
        events = [check_event(e, checkpoint) for e in proof["events"]]
        position, at = int(proof["position"]), str(proof["at"])
    except note.NoteError as e:
        raise ProofError(str(e)) from None
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, ProofError):
            raise
        raise ProofError(f"the file is not a complete proof ({type(e).__name__}: {e})") from None
    late = [e for e in events if e.position > position]
    if late:
        raise ProofError(f"event {late[0].position} is after the moment proven ({position})")
    replayed = replay_feed(events, str(proof.get("blog_id")))
    if replayed != proof["feed"]:
        raise ProofError("the feed in the file is not what its events make: it was changed")
    return (f"ok: {len(events)} events of {checkpoint.origin}, each in the checkpoint of"
            f" {checkpoint.size} signed by {verifier.name}; the feed at {at} is what they"
            f" make ({len(proof['feed'].get('posts', []))} posts)")


def check_event(proven: dict[str, Any], checkpoint: note.Checkpoint) -> RecordedEvent:
    """One proven event: its record hashed, its payload against the record, its leaf in the
    checkpoint's tree. Returns it as the projections read it.

    :raises ProofError: any of it does not hold.
    """
    record_text_ = str(proven["record"])
    chain_hash = hashlib.sha256(record_text_.encode()).digest()
    record = json.loads(record_text_)
    index = int(proven["leaf_index"])
    if record["position"] != index + 1:
        raise ProofError(f"the record at leaf {index} says position {record['position']}")
    data = proven.get("data")
    if not proven.get("redacted"):
        if data is None or hashlib.sha256(str(data).encode()).hexdigest() != record["data_hash"]:
            raise ProofError(f"the payload of event {record['position']} is not the one its"
                             " record hashed: it was changed")
    hashes = [base64.b64decode(h, validate=True) for h in proven["inclusion"]]
    if not tlog.verify_inclusion(index, checkpoint.size, tlog.leaf_hash(chain_hash), hashes,
                                 checkpoint.root):
        raise ProofError(f"event {record['position']} is not in the signed checkpoint's tree")
    payload = json.loads(data) if data else {}
    schema_version, payload = UPCASTERS.upcast(record["type"], record["schema_version"],
                                               payload)
    return RecordedEvent(record["position"], record["stream_id"], record["version"],
                         record["type"], schema_version, payload, record["metadata"],
                         datetime.fromisoformat(record["recorded_at"]), record["prev_hash"],
                         chain_hash.hex(), bool(proven.get("redacted")))


def replay_feed(events: list[RecordedEvent], blog_id: str) -> dict[str, Any]:
    """The feed the events make, by the feed's own projection, in a scratch database."""
    chosen = [BlogsProjection(), FeedProjection()]
    scratch: Connection = connect(":memory:", synchronous="OFF")
    try:
        tables = [Tables(p.tables, 0, live=True) for p in chosen]
        scratch.execute("BEGIN")
        for projection, t in zip(chosen, tables, strict=True):
            projection.create(scratch, t)
            projection.apply(scratch, t, events)
        scratch.execute("COMMIT")
        page, _ = queries.feed_page(scratch, blog_id, "newest", FEED_LIMIT, None,
                                    encode_cursor)
        return page
    finally:
        scratch.close()
