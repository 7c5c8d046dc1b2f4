"""Proof of publication: the log as a C2SP tlog-tiles transparency log (read-only, anyone), and
a proof of each post version (liveblog.transparency, liveblog.proofs)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, current_app
from flask.views import MethodView

from events import format_time, tlog

from .. import queries
from ..bootstrap import get_liveblog
from ..http.caching import conditional, content_etag, policies, reader_headers
from ..proofs import post_proof
from ..transparency import ForkError, Publication, Signed
from .auth import may_here
from .docs import Blueprint, errors, reader_get
from .edge import json_response
from .problems import problem

blp = Blueprint("log", __name__, description="Proof of publication: the log as a C2SP"
                " transparency log (tlog-tiles), and proofs of post versions.")

f = ma.fields
TEXT = "text/plain; charset=utf-8"
#: tile levels tlog-tiles allows
MAX_LEVEL = 63


def _publication() -> Publication:
    return current_app.extensions["liveblog.log"]  # type: ignore[no-any-return]


def _signed() -> Signed:
    """The latest checkpoint (one signed now when there is none yet).

    :raises ForkError: there is none, and signing one is refused (:func:`_fork_refused`).
    """
    liveblog = get_liveblog()
    return _publication().covering(liveblog.store().conn, 0, format_time(liveblog.now()))


def _fork_refused(error: ForkError) -> Response:
    """A checkpoint or a proof this log cannot sign: a 503 saying why."""
    return problem(503, str(error), slug="log-fork",
                   headers={"Cache-Control": policies().uncached})


blp.register_error_handler(ForkError, _fork_refused)


def _answer(body: bytes, content_type: str, cache_control: str, *,
            unchanging: bool = False) -> Response:
    """A log resource, with its validators: a 304 when the reader's copy is current."""
    headers = reader_headers(content_etag(body), cache_control=cache_control)
    return conditional(headers, unchanging=unchanging) or Response(
        body, content_type=content_type, headers=headers)


@blp.route("/log/checkpoint")
class Checkpoint(MethodView):
    @blp.response(200, content_type=TEXT)
    @reader_get()
    @errors(blp, 401, 503)
    def get(self) -> Any:
        """The log's latest signed checkpoint (c2sp.org/tlog-checkpoint), with the witnesses'
        cosignatures; renewed every LOG_CHECKPOINT_SECONDS while the log grows."""
        return _answer(_signed().note.encode(), TEXT, policies().log_head)


@blp.route("/log/key")
class Key(MethodView):
    @blp.response(200, content_type=TEXT)
    @reader_get()
    @errors(blp, 401)
    def get(self) -> Any:
        """The log's verifier key (``<origin>+<key id>+<base64 key>``, c2sp.org/signed-note)."""
        return _answer((_publication().verifier.vkey() + "\n").encode(), TEXT, policies().key)


def _tile_bytes(level: str, path: str) -> bytes | None:
    """A tile or an entry bundle within the latest signed tree, or None (no such tile)."""
    entries = level == "entries"
    if not entries and not (level.isdigit() and str(int(level)) == level
                            and int(level) <= MAX_LEVEL):
        return None
    try:
        index, width = tlog.parse_tile_index(path)
    except ValueError:
        return None
    try:
        signed = _signed()
    except ForkError:
        return None  # nothing signed: no tile is in a signed tree
    height = 0 if entries else int(level) * tlog.TILE_HEIGHT
    there = (signed.size >> height) - index * tlog.TILE_WIDTH  # hashes from the tile's start
    if there < width:
        return None
    tree = tlog.LogTree(get_liveblog().store().conn)
    return tree.bundle(index, width) if entries else tree.tile(int(level), index, width)


@blp.route("/log/tile/<level>/<path:path>")
class Tile(MethodView):
    @blp.response(200, content_type="application/octet-stream")
    @reader_get()
    @errors(blp, 401, 404)
    def get(self, level: str, path: str) -> Any:
        """A tile (``<L>/<N>[.p/<W>]``) or an entry bundle (``entries/<N>[.p/<W>]``) of the
        log's Merkle tree, c2sp.org/tlog-tiles: immutable, cached for a year. An entry is the
        32-byte chain hash of the event at position index + 1."""
        body = _tile_bytes(level, path)
        if body is None:
            return problem(404, "no such tile in the log's signed tree", slug="not-found")
        return _answer(body, "application/octet-stream", policies().immutable, unchanging=True)


class ProofQuerySchema(ma.Schema):
    version = f.Integer(required=True, validate=ma.validate.Range(min=1, max=2**31),
                        metadata={"description": "the post's version (as in its ETag)"})


class ProofSchema(ma.Schema):
    event = f.Dict(metadata={"description": "the record the hash chain hashed (the payload"
                                            " only as data_hash)"})
    record = f.String(metadata={"description": "that record's exact text: its SHA-256 is the"
                                               " event's chain hash and the Merkle leaf"})
    data = f.String(allow_none=True, metadata={"description": "the payload's canonical text"
                                                              " (SHA-256: data_hash)"})
    redacted = f.Boolean()
    hash = f.String()
    prev_hash = f.String()
    leaf_index = f.Integer()
    tlog_proof = f.String(metadata={"description": "c2sp.org/tlog-proof@v1 text"})
    origin = f.String()
    checkpoint_size = f.Integer()
    events = f.List(f.Dict(), metadata={"description": "every event of the post up to this"
                                                       " version, each with its inclusion"
                                                       " in the same checkpoint"})


@blp.route("/api/blogs/<blog>/posts/<post>/proof")
class Proof(MethodView):
    @blp.arguments(ProofQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, ProofSchema)
    @reader_get()
    @errors(blp, 401, 404, 503)
    def get(self, blog: str, post: str, version: int) -> Any:
        """A proof that this version of the post is in the log (anyone, for a version readers
        saw; auditors for any): a verifier with only ``GET /log/key`` recomputes the chain
        hash and checks its inclusion in a signed checkpoint."""
        liveblog = get_liveblog()
        store = liveblog.store()
        head = queries.get_blog_head(store.conn, blog)
        body = post_proof(store, _publication(), head.id, post, version,
                          format_time(liveblog.now()), any_version=may_here("audit.read"))
        return _answer(json_response(body).get_data(), "application/json", policies().log_head)
