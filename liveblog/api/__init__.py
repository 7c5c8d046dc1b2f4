"""The HTTP API: an Api whose errors are problem+json, the blueprints, and shared edges."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import flask_smorest
from flask import Flask, Response, current_app, request
from werkzeug.exceptions import BadRequest, HTTPException, UnsupportedMediaType

from events import canonical

from .problems import PROBLEM_TYPE, http_problem, register_handlers
from .schemas import ProblemSchema

JSON_TYPE = "application/json"


class Api(flask_smorest.Api):  # type: ignore[misc]
    """flask-smorest's Api with every HTTP error rendered as problem details."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        return http_problem(error)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None,
                  *, raw: bytes | None = None) -> Response:
    """A JSON response (UTF-8, compact)."""
    data = raw if raw is not None else dumps(body)
    response = Response(data, status=status, mimetype=JSON_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def dumps(body: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@functools.lru_cache(maxsize=4096)
def http_date(rfc3339: str) -> str:
    """An API time as an HTTP date (for Last-Modified); polls ask for the same few, so cached."""
    return format_datetime(datetime.fromisoformat(rfc3339), usegmt=True)


def public_cache_control(config: Mapping[str, Any]) -> str:
    """The Cache-Control of anonymous reader responses."""
    return (f"public, max-age={config['CACHE_MAX_AGE']},"
            f" stale-while-revalidate={config['CACHE_STALE_WHILE_REVALIDATE']}")


def reader_headers(etag: str, last_modified: str | None = None) -> dict[str, str]:
    """ETag, Last-Modified and Cache-Control of a reader GET (private when authenticated)."""
    if "HTTP_AUTHORIZATION" in request.environ:  # the header, without werkzeug's KeyError
        cache = "private, no-cache"
    else:
        cache = current_app.extensions["liveblog.cache_control"]
    headers = {"ETag": etag, "Cache-Control": cache, "Vary": "Authorization"}
    if last_modified:
        headers["Last-Modified"] = http_date(last_modified)
    return headers


class _Bare(Response):
    default_mimetype = None  # a 304 carries no Content-Type


def not_modified(headers: dict[str, str]) -> Response:
    """A 304 with the validators and caching headers, and no body."""
    return _Bare(None, 304, headers)


def content_etag(body: bytes) -> str:
    """A strong ETag from a response body."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def fingerprint() -> str:
    """What makes two requests 'the same' for an Idempotency-Key: method, path, JSON body."""
    body = request.get_json(silent=True)
    return hashlib.sha256(
        f"{request.method} {request.path}\n{canonical({'b': body})}".encode()).hexdigest()


def _require_json_bodies() -> None:
    # 415 comes before parsing: a body in any other media type is refused as a whole.
    if request.method in ("POST", "PATCH", "PUT") and request.path.startswith("/api/"):
        has_body = bool(request.content_length) or "chunked" in request.headers.get(
            "Transfer-Encoding", "").lower()
        if has_body and not request.is_json:
            raise UnsupportedMediaType("request bodies must be application/json")
        if has_body:
            _require_unicode(request.get_data(cache=True))
        key = request.headers.get("Idempotency-Key")
        if key is not None and not 1 <= len(key) <= 255:
            raise BadRequest("Idempotency-Key must be 1 to 255 characters")


def _require_unicode(raw: bytes) -> None:
    """JSON may escape lone UTF-16 surrogates ("\\ud800"); they are not text and cannot be
    stored, so such a body is refused before it is parsed for real."""
    if b"\\u" not in raw:
        return
    try:
        json.dumps(json.loads(raw), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as e:
        raise BadRequest("the request body holds an unpaired surrogate (\\ud800-\\udfff):"
                         " not valid Unicode text") from e
    except ValueError:
        return  # not JSON: the parser says so with its own 400


def register_api(app: Flask) -> Api:
    """Create the Api on ``app`` with every blueprint and the problem handlers."""
    from . import audit, blogs, health, posts

    app.config.setdefault("API_TITLE", "liveblog")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = Api(app, spec_kwargs={"info": {"description": (
        "An event-sourced live-blog API. Errors are RFC 9457 problem details"
        f" ({PROBLEM_TYPE}).")}})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    app.extensions["liveblog.cache_control"] = public_cache_control(app.config)
    for module in (blogs, posts, audit, health):
        api.register_blueprint(module.blp)
    app.before_request(_require_json_bodies)
    register_handlers(app)
    return api


def errors(blp: flask_smorest.Blueprint, *codes: int) -> Callable[[Any], Any]:
    """Document these problem responses on a view."""
    from werkzeug.http import HTTP_STATUS_CODES

    def decorator(view: Any) -> Any:
        for code in codes:
            view = blp.alt_response(code, schema=ProblemSchema, content_type=PROBLEM_TYPE,
                                    description=HTTP_STATUS_CODES.get(code, "Error"))(view)
        return view

    return decorator
