"""Webhooks: partners' subscriptions to what readers can see (admins only)."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import current_app, request, url_for
from flask.views import MethodView

from events import format_time, write_transaction

from .. import queries, webhooks
from ..bootstrap import get_liveblog
from ..domain.errors import InvalidCommandError
from ..http.caching import policies
from ..outbound import RefusedAddressError, check_url
from ..service import IdempotencyConflictError
from .auth import require, signed_in
from .docs import SIGNED_IN, Blueprint, errors, idempotent_post
from .edge import fingerprint, json_response
from .schemas import StrictSchema

f = ma.fields
v = ma.validate

blp = Blueprint("webhooks", __name__, url_prefix="/api/webhooks",
                description="Webhooks: partners are sent, signed, what readers can see, as it"
                            " happens (admins).")


class _WebhookFields(StrictSchema):
    url = f.Url(schemes={"http", "https"}, require_tld=False, metadata={
        "description": "where deliveries are POSTed; a private, loopback or link-local address"
                       " is refused unless WEBHOOK_ALLOW_PRIVATE"})
    blogs = f.List(f.String(validate=v.Length(min=1, max=80)), allow_none=True,
                   validate=v.Length(max=100), metadata={
                       "description": "slugs (or ids) of the blogs to follow; omitted or null:"
                                      " every blog"})
    events = f.List(f.String(validate=v.OneOf(webhooks.TYPES)), allow_none=True,
                    validate=v.Length(min=1), metadata={
                        "description": "the types to send; omitted or null: every type"})


class WebhookCreateSchema(_WebhookFields):
    """Body of POST /api/webhooks."""
    url = f.Url(required=True, schemes={"http", "https"}, require_tld=False)


class WebhookPatchSchema(_WebhookFields):
    """Body of PATCH /api/webhooks/{id}."""
    active = f.Boolean(metadata={"description": "false: stop sending; true: start again (a"
                                                " disabled webhook's failures are forgotten)"})

    @ma.validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("give at least one field to change")


class WebhookSchema(ma.Schema):
    """A webhook (never its secret)."""
    id = f.String()
    url = f.String()
    blogs = f.List(f.String(), allow_none=True)
    events = f.List(f.String(), allow_none=True)
    active = f.Boolean()
    disabled_reason = f.String(allow_none=True)
    created_at = f.String()
    cursor = f.Integer(metadata={"description": "the log position delivered up to"})
    failing_since = f.String(allow_none=True)
    next_attempt_at = f.String(allow_none=True)


class WebhookCreatedSchema(WebhookSchema):
    secret = f.String(metadata={"description": "whsec_...: shown once; verify each delivery's"
                                               " webhook-signature with it"})


class WebhookListSchema(ma.Schema):
    webhooks = f.List(f.Nested(WebhookSchema))


class DeliveriesQuerySchema(StrictSchema):
    limit = f.Integer(load_default=20, validate=v.Range(min=1, max=100))


class DeliverySchema(ma.Schema):
    id = f.String()
    message_id = f.String(metadata={"description": "the webhook-id header: the same on retries"})
    position = f.Integer()
    type = f.String()
    attempt = f.Integer()
    attempted_at = f.String()
    status = f.Integer(allow_none=True)
    outcome = f.String(metadata={"enum": ["delivered", "failed", "gone"]})
    duration_ms = f.Integer()
    error = f.String(allow_none=True)


class DeliveriesSchema(ma.Schema):
    deliveries = f.List(f.Nested(DeliverySchema))


class ReplaySchema(StrictSchema):
    after = f.Integer(required=True, validate=v.Range(min=0), metadata={
        "description": "send again every event after this log position"})


class SecretSchema(ma.Schema):
    secret = f.String()


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    """The url's address allowed, the blogs' slugs as ids."""
    out = dict(data)
    if "url" in data:
        try:
            check_url(data["url"], allow_private=bool(
                current_app.config["WEBHOOK_ALLOW_PRIVATE"]))
        except RefusedAddressError as e:
            raise InvalidCommandError("url", str(e)) from e
    if data.get("blogs") is not None:
        conn = get_liveblog().store().conn
        ids = []
        for index, key in enumerate(data["blogs"]):
            head = queries.find_blog_head(conn, key)
            if head is None:
                raise InvalidCommandError(f"blogs.{index}", f"no blog {key!r}")
            ids.append(head.id)
        out["blogs"] = list(dict.fromkeys(ids))
    return out


def _answer(body: dict[str, Any], status: int = 200, **headers: str) -> Any:
    return json_response(body, status, {"Cache-Control": policies().secret, **headers})


def _once(make: Any) -> Any:
    """Answer a POST whose write is no event once per Idempotency-Key (scoped to the
    person): a retry with the same body gets the first answer, another body a 422."""


    key = request.headers.get("Idempotency-Key")
    if not key:
        return make()
    scoped, mark = f"{signed_in().id}:{key}", fingerprint()
    conn = get_liveblog().store().conn
    row = conn.execute("SELECT fingerprint, status, body FROM api_replies WHERE key = ?",
                       (scoped,)).fetchone()
    if row is not None:
        if row[0] != mark:
            raise IdempotencyConflictError("this Idempotency-Key was used for another request")
        return _answer(json.loads(row[2]), row[1])
    response = make()
    with write_transaction(conn):
        conn.execute("INSERT INTO api_replies (key, fingerprint, status, body, created_at)"
                     " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                     (scoped, mark, response.status_code, response.get_data(as_text=True),
                      format_time(get_liveblog().now())))
    return response


@blp.route("")
class Webhooks(MethodView):
    @require("webhooks.manage")
    @blp.response(200, WebhookListSchema)
    @blp.doc(security=SIGNED_IN)
    def get(self) -> Any:
        """Every webhook."""
        conn = get_liveblog().store().conn
        return _answer({"webhooks": [h.json(conn) for h in webhooks.all_hooks(conn)]})

    @require("webhooks.manage")
    @blp.arguments(WebhookCreateSchema)
    @blp.response(201, WebhookCreatedSchema)
    @blp.doc(security=SIGNED_IN)
    @idempotent_post()
    def post(self, data: dict[str, Any]) -> Any:
        """Subscribe a URL: it is sent, signed, what happens from now on. The answer holds
        the signing ``secret``, shown this once."""
        data = _checked(data)
        liveblog = get_liveblog()

        def make() -> Any:
            hook, secret = webhooks.create(liveblog.store(), data["url"], data.get("blogs"),
                                           data.get("events"), liveblog.now())
            return _answer({**hook.json(liveblog.store().conn), "secret": secret}, 201,
                           Location=url_for("webhooks.Webhook", hook_id=hook.id))

        return _once(make)


@blp.route("/<hook_id>")
class Webhook(MethodView):
    @require("webhooks.manage")
    @blp.response(200, WebhookSchema)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def get(self, hook_id: str) -> Any:
        """One webhook, with where its deliveries stand."""
        conn = get_liveblog().store().conn
        return _answer(webhooks.get(conn, hook_id).json(conn))

    @require("webhooks.manage")
    @blp.arguments(WebhookPatchSchema)
    @blp.response(200, WebhookSchema)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def patch(self, data: dict[str, Any], hook_id: str) -> Any:
        """Change its URL, blogs or events, or turn it off or on again."""
        conn = get_liveblog().store().conn
        webhooks.get(conn, hook_id)
        return _answer(webhooks.update(conn, hook_id, _checked(data)).json(conn))

    @require("webhooks.manage")
    @blp.response(204)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def delete(self, hook_id: str) -> Any:
        """Remove the webhook and its delivery log."""
        webhooks.delete(get_liveblog().store().conn, hook_id)
        return current_app.response_class(status=204)


@blp.route("/<hook_id>/rotate-secret")
class Rotate(MethodView):
    @require("webhooks.manage")
    @blp.response(200, SecretSchema)
    @blp.doc(security=SIGNED_IN)
    @idempotent_post()
    @errors(blp, 404)
    def post(self, hook_id: str) -> Any:
        """A new signing secret (shown once). For 24 hours deliveries carry a signature by
        the old secret too, so the partner can switch without missing one."""
        liveblog = get_liveblog()
        return _once(lambda: _answer({"secret": webhooks.rotate(liveblog.store().conn, hook_id,
                                                                liveblog.now())}))


@blp.route("/<hook_id>/deliveries")
class Deliveries(MethodView):
    @require("webhooks.manage")
    @blp.arguments(DeliveriesQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, DeliveriesSchema)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def get(self, hook_id: str, limit: int) -> Any:
        """The latest delivery attempts, newest first: status, outcome, time taken, error."""
        return _answer({"deliveries": webhooks.deliveries(get_liveblog().store().conn, hook_id,
                                                          limit)})


@blp.route("/<hook_id>/replay")
class Replay(MethodView):
    @require("webhooks.manage")
    @blp.arguments(ReplaySchema)
    @blp.response(200, WebhookSchema)
    @blp.doc(security=SIGNED_IN)
    @idempotent_post()
    @errors(blp, 404)
    def post(self, data: dict[str, Any], hook_id: str) -> Any:
        """Send again every event after a log position (a disabled webhook is turned on)."""
        conn = get_liveblog().store().conn
        return _once(lambda: _answer(webhooks.replay(conn, hook_id, data["after"]).json(conn)))
