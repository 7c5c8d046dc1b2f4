"""Health: is the database answering?"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import marshmallow as ma
from flask import Response, current_app, request
from flask.views import MethodView
from werkzeug.exceptions import Forbidden

from events import database_errors, schema_version

from .. import metrics
from ..bootstrap import get_liveblog
from ..health import scheduler_state
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
    scheduler = ma.fields.String(metadata={
        "example": "ok", "description": "ok while a process runs the background jobs (holds"
        " the scheduler's lease); starting in a node's first seconds; none when no process"
        " does (scheduled posts, webhooks, checkpoints and archiving wait): status degraded"})


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @errors(blp, 401, 503)
    def get(self) -> Any:
        """200 {"status": "ok", "writes": "ok"} when the database answers and takes writes;
        503 {"status": "degraded", "writes": "failing"} while storage refuses writes (reads
        are still served), or a problem when it does not answer at all."""
        liveblog = get_liveblog()
        try:
            conn = liveblog.store().conn
            conn.execute("SELECT 1 FROM events LIMIT 1").fetchall()
            about = {"version": VERSION, "schema_version": schema_version(conn),
                     "scheduler": _scheduler(conn)}
        except database_errors() as e:
            return problem(503, f"the database does not answer: {e}", slug="unavailable",
                           headers={"Retry-After": "5", "Cache-Control": policies().uncached})
        # a write is tried once one has failed (has storage recovered?), and every few seconds
        # otherwise (does it still take writes, on this node too?): not on every check, which
        # would cost each a sync to disk
        if liveblog.health.due() and not liveblog.probe_writes():
            return json_response({"status": "degraded", "writes": "failing",
                                  "detail": liveblog.health.detail or "storage refuses writes",
                                  **about}, 503,
                                 headers={"Cache-Control": policies().uncached, "Retry-After": "5"})
        status = "ok" if about["scheduler"] != "none" else "degraded"
        return json_response({"status": status, "writes": "ok", **about},
                             headers={"Cache-Control": policies().uncached})


def _read_state() -> None:
    """What the database says now, for the gauges an idle node would not update: the log's
    head and whether a scheduler holds the lease."""
    made = metrics.collectors()
    try:
        conn = get_liveblog().store().conn
        made.LOG_HEAD.set(get_liveblog().store().head().position)
        made.SCHEDULER_RUNNING.set(1 if _scheduler(conn) == "ok" else 0)
    except database_errors():
        pass  # the database does not answer: the scrape still gives what processes counted


def _scheduler(conn: Any) -> str:
    liveblog = get_liveblog()
    return scheduler_state(conn, liveblog.now(), liveblog.started_at,
                           float(current_app.config["SCHEDULER_LEASE_SECONDS"]))


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.response(200, content_type="text/plain", description="Prometheus text format, every"
                  " process of the deployment together")
    @blp.doc(security=[{}, {"bearer": []}])
    @errors(blp, 401, 403)
    def get(self) -> Any:
        """Prometheus metrics, for the operator's network (METRICS_ALLOWED_NETWORKS, loopback
        by default) or an auditor token."""
        permitted = (may_here("metrics.read") if current_actor() is not None else
                     metrics.allowed(request.remote_addr,
                                     current_app.config["METRICS_ALLOWED_NETWORKS"]))
        if not permitted:
            raise Forbidden("metrics are for the operator's network, an admin or an auditor")
        _read_state()
        body, content_type = metrics.exposition()
        return Response(body, 200, {"Content-Type": content_type,
                                    "Cache-Control": policies().uncached})
