"""Auditors: the event log, post history, verification. Auditor tokens only."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import current_app
from flask.views import MethodView

from events import StoredRow, verify

from .. import checkpoints, queries
from ..audit import post_history
from ..bootstrap import get_liveblog
from ..codec import REGISTRY
from ..http.caching import policies
from ..streams import blog_prefix
from .auth import require
from .docs import SIGNED_IN, Blueprint, errors
from .edge import json_response

blp = Blueprint("audit", __name__, url_prefix="/api",
                description="For auditors: the log, history, verification (auditor tokens).")

f = ma.fields


def _known_types(value: str) -> None:
    unknown = [t for t in value.split(",") if t not in REGISTRY]
    if unknown:
        raise ma.ValidationError(f"unknown event type(s): {', '.join(unknown)}")


class EventsQuerySchema(ma.Schema):
    after = f.Integer(load_default=0, validate=ma.validate.Range(min=0, max=2**62))
    limit = f.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))
    blog = f.String(metadata={"description": "a blog's id or slug"})
    type = f.String(validate=_known_types, metadata={"description": "comma-separated types"})


class HeadSchema(ma.Schema):
    position = f.Integer()
    hash = f.String()


class EventSchema(ma.Schema):
    position = f.Integer()
    stream = f.String()
    version = f.Integer()
    type = f.String()
    schema_version = f.Integer()
    data = f.Dict()
    metadata = f.Dict()
    recorded_at = f.String()
    prev_hash = f.String()
    hash = f.String(metadata={"description": "SHA-256 of the canonical JSON of the record with"
                                             " data_hash in place of data (chain v2)"})
    data_hash = f.String(metadata={"description": "SHA-256 of the canonical JSON of the payload"
                                                  " as recorded; kept when a redaction erases it"})
    redacted = f.Boolean(metadata={"description": "the payload was erased by a legal redaction:"
                                                  " data is what is left, with no content"})
    legacy_hash = f.String(metadata={"description": "only on events recorded before chain v2:"
                                                    " the hash they had then, which checkpoints"
                                                    " signed then name; covered by hash"})


class EventsSchema(ma.Schema):
    events = f.List(f.Nested(EventSchema))
    next = f.Integer(allow_none=True)
    head = f.Nested(HeadSchema)


class RevisionSchema(ma.Schema):
    version = f.Integer()
    event_type = f.String()
    event_types = f.List(f.String())
    recorded_at = f.String()
    actor = f.Dict()
    post = f.Dict()
    changes = f.Dict()
    reason = f.String()
    redacted = f.Boolean(metadata={"description": "present, true, on every revision of a post"
                                                  " a legal redaction erased"})
    redacted_fields = f.List(f.String(), metadata={
        "description": "on a redacted post: the content fields this revision set, whose values"
                       " were erased (they are not in changes)"})


class HistorySchema(ma.Schema):
    revisions = f.List(f.Nested(RevisionSchema))


class VerifySchema(ma.Schema):
    ok = f.Boolean()
    events_checked = f.Integer()
    head = f.Nested(HeadSchema)
    first_bad_position = f.Integer(allow_none=True)
    detail = f.String(allow_none=True)
    checkpoints_checked = f.Integer()
    redacted_events = f.Integer(metadata={
        "description": "events whose payload was erased by a legal redaction: the chain covers"
                       " each through the hash of its payload, kept when the payload went"})


class CheckpointsQuerySchema(ma.Schema):
    after = f.Integer(load_default=0, validate=ma.validate.Range(min=0, max=2**62))
    limit = f.Integer(load_default=1000, validate=ma.validate.Range(min=1, max=1000))


class CheckpointSchema(ma.Schema):
    position = f.Integer()
    hash = f.String()
    recorded_at = f.String()
    key_id = f.String()
    signature = f.String(metadata={"description": "base64 Ed25519 signature of the canonical"
                                                  " JSON of hash, position and recorded_at"})


class AuditKeySchema(ma.Schema):
    key_id = f.String()
    algorithm = f.String()
    public_key = f.String(metadata={"description": "base64 of the raw 32-byte public key"})


class CheckpointsSchema(ma.Schema):
    checkpoints = f.List(f.Nested(CheckpointSchema))
    key = f.Nested(AuditKeySchema)
    next = f.Integer(allow_none=True)


@blp.route("/events")
class Events(MethodView):
    @require("audit.read")
    @blp.arguments(EventsQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, EventsSchema)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def get(self, after: int, limit: int, blog: str | None = None,
            type: str | None = None) -> Any:
        """The log as stored (data before upcasting, so hashes can be recomputed), in order."""
        store = get_liveblog().store()
        prefix = None
        if blog is not None:
            prefix = blog_prefix(queries.get_blog_head(store.conn, blog).id)
        types = type.split(",") if type else None
        rows = list(store.read_rows(after, limit + 1, stream_prefix=prefix, types=types))
        more = len(rows) > limit
        rows = rows[:limit]
        head = store.head()
        return json_response({
            "events": [_event_json(StoredRow._make(row)) for row in rows],
            "next": rows[-1][0] if more else None,
            "head": {"position": head.position, "hash": head.hash},
        }, headers={"Cache-Control": policies().secret})


def _event_json(row: StoredRow) -> dict[str, Any]:
    event = {
        "position": row.position, "stream": row.stream_id, "version": row.version,
        "type": row.type, "schema_version": row.schema_version, "data": json.loads(row.data),
        "metadata": json.loads(row.metadata), "recorded_at": row.recorded_at,
        "prev_hash": row.prev_hash, "hash": row.hash, "data_hash": row.data_hash,
        "redacted": bool(row.redacted)}
    if row.legacy_hash is not None:
        event["legacy_hash"] = row.legacy_hash
    return event


@blp.route("/blogs/<blog>/posts/<post>/history")
class History(MethodView):
    @require("post.history")
    @blp.response(200, HistorySchema)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def get(self, blog: str, post: str) -> Any:
        """Every revision of a post: who, when, the state after, and what changed."""
        store = get_liveblog().store()
        head = queries.get_blog_head(store.conn, blog)
        return json_response({"revisions": post_history(store, head.id, post)},
                             headers={"Cache-Control": policies().secret})


@blp.route("/audit/verify")
class Verify(MethodView):
    @require("audit.read")
    @blp.response(200, VerifySchema)
    @blp.doc(security=SIGNED_IN)
    def get(self) -> Any:
        """Walk the hash chain and check the signed audit checkpoints; report what is broken.

        ``checkpoints_checked`` counts the signed heads (position, hash) that still hold; a
        checkpoint that no longer matches means the log was rewritten or truncated since.
        """
        store = get_liveblog().store()
        result = verify(store.conn)
        ok, bad, detail = result.ok, result.first_bad_position, result.detail
        held, problem, position = checkpoints.verify(
            store.conn, checkpoints.stored(store.conn), _keys())
        if ok and problem is not None:
            ok, bad, detail = False, position, problem
        return json_response({
            "ok": ok, "events_checked": result.events_checked,
            "head": {"position": result.head.position, "hash": result.head.hash},
            "first_bad_position": bad, "detail": detail, "checkpoints_checked": held,
            "redacted_events": result.redacted_events,
        }, headers={"Cache-Control": policies().secret})


def _keys() -> dict[str, Any]:
    """The keys this service's checkpoints may carry: its own, and the one kept in the database
    (before AUDIT_SIGNING_KEY was set)."""
    signer = current_app.extensions["liveblog.signer"]
    conn = get_liveblog().store().conn
    return {**checkpoints.known_keys(conn, None), signer.key_id: signer.public}


@blp.route("/audit/checkpoints")
class Checkpoints(MethodView):
    @require("audit.read")
    @blp.arguments(CheckpointsQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, CheckpointsSchema)
    @blp.doc(security=SIGNED_IN)
    def get(self, after: int, limit: int) -> Any:
        """The signed audit checkpoints after a position, oldest first, with the public key.

        Save this answer: ``liveblog verify --checkpoints FILE`` later proves the log still
        holds every event it names (nothing truncated or rewritten below them).
        """
        conn = get_liveblog().store().conn
        found = checkpoints.stored(conn, after, limit + 1)
        more = len(found) > limit
        found = found[:limit]
        return json_response({
            "checkpoints": [c.json() for c in found],
            "key": checkpoints.public_key_json(current_app.extensions["liveblog.signer"].public),
            "next": found[-1].position if more else None,
        }, headers={"Cache-Control": policies().secret})


well_known = Blueprint("well_known", __name__, url_prefix="/.well-known",
                       description="The audit checkpoints' public key.")


@well_known.route("/liveblog-audit-key")
class AuditKey(MethodView):
    @well_known.response(200, AuditKeySchema)
    @errors(well_known, 401)
    def get(self) -> Any:
        """The Ed25519 public key that signs the audit checkpoints (anyone may fetch it)."""
        key = checkpoints.public_key_json(current_app.extensions["liveblog.signer"].public)
        return json_response(key, headers={"Cache-Control": policies().key})
