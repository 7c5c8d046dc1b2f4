"""The API put together: the Api, its blueprints, its document and its request checks."""

from __future__ import annotations

from typing import Any

from flask import Flask

from . import (
    audit,
    blogs,
    health,
    log,
    media,
    people,
    polls,
    posts,
    presence,
    questions,
    webhooks,
)
from .docs import API_DESCRIPTION, EdgeStatuses, OperationIds
from .edge import Api, open_to_pages, require_json_bodies
from .problems import register_handlers


def register_api(app: Flask) -> Api:
    """Create the Api on ``app`` with every blueprint and the problem handlers."""
    app.config.setdefault("API_TITLE", "liveblog")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    spec_kwargs: dict[str, Any] = {"info": {"description": API_DESCRIPTION}}
    if app.config.get("PUBLIC_URL"):
        spec_kwargs["servers"] = [{"url": str(app.config["PUBLIC_URL"]).rstrip("/")}]
    api = Api(app, spec_kwargs=spec_kwargs)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.components.security_scheme("session", {
        "type": "apiKey", "in": "cookie", "name": "liveblog_session",
        "description": "a person signed in at /login; every write also needs X-CSRF-Token"})
    for plugin in (OperationIds(), EdgeStatuses()):
        plugin.init_spec(api.spec)
        api.spec.plugins.append(plugin)
    for module in (blogs, posts, presence, media, audit, log, health, people, webhooks,
                   questions, polls):
        api.register_blueprint(module.blp)
    api.register_blueprint(audit.well_known)
    app.before_request(require_json_bodies)
    app.after_request(open_to_pages)
    register_handlers(app)
    return api
