"""Health: is the database answering?"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import marshmallow as ma
from flask import Response, current_app, request
from flask.views import MethodView
from werkzeug.exceptions import Forbidden

from events import DATABASE_ERRORS, schema_version

from ..bootstrap import get_db
from ..http.caching import policies
from .auth import current_actor, may_here
from .docs import Blueprint, errors
from .edge import json_response
from .problems import problem

try:
    VERSION = metadata.version("liveblog")
except metadata.PackageNotFoundError:  # run from a source tree that was never installed
    VERSION = "unknown"

blp = Blueprint("health", __name__, description="Service health and metrics.")


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"example": "ok", "description": "ok or degraded"})
    writes = ma.fields.String(metadata={"example": "ok", "description": "ok or failing"})
    detail = ma.fields.String(metadata={"description": "why writes fail (when they do)"})
    version = ma.fields.String(metadata={"example": "0.1.0", "description": "this release"})
    schema_version = ma.fields.Integer(metadata={
        "description": "the database's schema version (its last migration)"})


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @errors(blp, 503)
    def get(self) -> Any:
        """200 {"status": "ok", "writes": "ok"} when the database answers and takes writes;
        503 {"status": "degraded", "writes": "failing"} while storage refuses writes (reads
        are still served), or a problem when it does not answer at all."""
        db = get_db()
        try:
            conn = db.store().conn
            conn.execute("SELECT 1 FROM events LIMIT 1").fetchall()
            about = {"version": VERSION, "schema_version": schema_version(conn)}
        except DATABASE_ERRORS as e:
            return problem(503, f"the database does not answer: {e}", slug="unavailable",
                           headers={"Retry-After": "5", "Cache-Control": policies().uncached})
        # a write is tried only once one has failed, to see whether storage has recovered:
        # a health check that wrote every time would cost every check a sync to disk
        if db.health.failing and not db.probe_writes():
            return json_response({"status": "degraded", "writes": "failing",
                                  "detail": db.health.detail or "storage refuses writes",
                                  **about}, 503,
                                 headers={"Cache-Control": policies().uncached, "Retry-After": "5"})
        return json_response({"status": "ok", "writes": "ok", **about},
                             headers={"Cache-Control": policies().uncached})


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.response(200, content_type="text/plain", description="Prometheus text format, every"
                  " process of the deployment together")
    @blp.doc(security=[{}, {"bearer": []}])
    @errors(blp, 401, 403)
    def get(self) -> Any:
        """Prometheus metrics, for the operator's network (METRICS_ALLOWED_NETWORKS, loopback
        by default) or an auditor token."""
        from ..http import metrics  # once the app is made (metrics.py: multiprocess mode)

        permitted = (may_here("metrics.read") if current_actor() is not None else
                     metrics.allowed(request.remote_addr,
                                     current_app.config["METRICS_ALLOWED_NETWORKS"]))
        if not permitted:
            raise Forbidden("metrics are for the operator's network, an admin or an auditor")
        body, content_type = metrics.exposition()
        return Response(body, 200, {"Content-Type": content_type,
                                    "Cache-Control": policies().uncached})
