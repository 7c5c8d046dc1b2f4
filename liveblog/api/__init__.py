"""The HTTP API: an Api whose errors are problem+json, the blueprints, and shared edges."""

from __future__ import annotations

import copy
import functools
import hashlib
import http
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import flask_smorest
from apispec import BasePlugin
from flask import Flask, Response, current_app, request
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import BadRequest, HTTPException, RequestTimeout, UnsupportedMediaType

from events import canonical

from .problems import PROBLEM_TYPE, http_problem, register_handlers
from .schemas import ProblemSchema

JSON_TYPE = "application/json"


class Api(flask_smorest.Api):  # type: ignore[misc]
    """flask-smorest's Api with every HTTP error rendered as problem details."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        return http_problem(error)

    def _register_responses(self) -> None:
        # flask-smorest's own, with error responses documented as problem+json: the "default"
        # response of every operation covers errors no view lists (414, 431 ...)
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec,
                             PROBLEM_TYPE if status >= 400 else self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Any other error, as problem details",
                    "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


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
    return dict(reader_answer_headers(etag, cache, last_modified))


def reader_answer_headers(etag: str, cache_control: str,
                          last_modified: str | None) -> list[tuple[str, str]]:
    """What every reader answer carries, a 304 too: its validators, how it may be cached, and
    (public ones) that any site may read it (partner sites embed live blogs)."""
    headers = [("ETag", etag), ("Cache-Control", cache_control), ("Vary", "Authorization")]
    if cache_control.startswith("public"):
        headers.append(("Access-Control-Allow-Origin", "*"))
    if last_modified:
        headers.append(("Last-Modified", http_date(last_modified)))
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
    if (request.method in ("POST", "PATCH", "PUT") and request.path.startswith("/api/")
            and request.path != "/api/media"):  # images: their own types (api/media.py)
        has_body = bool(request.content_length) or "chunked" in request.headers.get(
            "Transfer-Encoding", "").lower()
        if has_body and not request.is_json:
            raise UnsupportedMediaType("request bodies must be application/json")
        if has_body:
            try:
                raw = request.get_data(cache=True)
            except TimeoutError:
                raise RequestTimeout("the request body did not arrive in time") from None
            _require_readable_json(raw)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not 1 <= len(key) <= 255:
            raise BadRequest("Idempotency-Key must be 1 to 255 characters")


#: how deep a request body's arrays and objects may nest (a post's body needs 3)
MAX_JSON_DEPTH = 32


def _require_readable_json(raw: bytes) -> None:
    """Refuse, as 400, a body the rest of the stack could not handle although it is JSON:
    nested past MAX_JSON_DEPTH (Python's parser and encoders recurse), a number past Python's
    4,300 digits, or an unpaired UTF-16 surrogate ("\\ud800": not text, cannot be stored)."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise BadRequest(f"the request body nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as e:
        if "integer string conversion" in str(e):
            raise BadRequest("the request body holds a number too long to read") from None
        return  # not JSON: the parser says so with its own 400
    depth, level = 0, [value]
    while level:
        depth += 1
        if depth > MAX_JSON_DEPTH:
            raise BadRequest(f"the request body nests deeper than {MAX_JSON_DEPTH} levels")
        level = [child for item in level if isinstance(item, dict | list)
                 for child in (item.values() if isinstance(item, dict) else item)]
    if b"\\u" in raw:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as e:
            raise BadRequest("the request body holds an unpaired surrogate (\\ud800-\\udfff):"
                             " not valid Unicode text") from e


class OperationIds(BasePlugin):
    """Names every API operation: its method and its view, e.g. ``getPosts``, ``patchPost``."""

    def operation_helper(self, path: str | None = None,
                         operations: dict[str, Any] | None = None, **kwargs: Any) -> None:
        rule = kwargs.get("rule")
        if rule is None or operations is None:
            return
        view = str(rule.endpoint).rsplit(".", 1)[-1]
        for method, operation in operations.items():
            operation.setdefault("operationId", f"{method}{view}")


def register_api(app: Flask) -> Api:
    """Create the Api on ``app`` with every blueprint and the problem handlers."""
    from . import audit, blogs, health, media, posts, presence

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
    operation_ids = OperationIds()
    operation_ids.init_spec(api.spec)
    api.spec.plugins.append(operation_ids)
    app.extensions["liveblog.cache_control"] = public_cache_control(app.config)
    for module in (blogs, posts, presence, media, audit, health):
        api.register_blueprint(module.blp)
    api.register_blueprint(audit.well_known)
    app.before_request(_require_json_bodies)
    register_handlers(app)
    return api


API_DESCRIPTION = f"""An event-sourced live-blog API: every change is an immutable, hash-chained \
event; feeds are projections of the log.

Conventions beyond the contract's:

- Errors are RFC 9457 problem details ({PROBLEM_TYPE}); `errors` maps field paths (`body.2.url`)
  to messages. Unknown query parameters are ignored; unknown body fields are a 422.
- Reader GETs send a strong `ETag`, `Last-Modified` where they have a time, and
  `Cache-Control: public, max-age, stale-while-revalidate` (`private, no-cache` when a token is
  sent; `Vary: Authorization`). `If-None-Match` that matches answers 304 with no body. A feed's
  ETag names the blog's feed version and the query, so it changes exactly when readers could see
  a difference.
- A post's ETag is `"<version>"`; `If-Match` on a post must name that version (required on
  PATCH, optional on DELETE); `*` is not accepted: an edit names the version it started from.
  A blog's ETag is `"<blog revision>.<feed version>"`, and `If-Match` on a blog compares the blog
  revision only, so posts published meanwhile do not make a blog edit stale.
- `Idempotency-Key` (1-255 characters) on any POST: keys are scoped to the token that sent
  them; a retry with the same body returns the first response and appends nothing, the same key
  with another body is a 422.
- Text fields keep a safe inline HTML subset (`a[href]` with http(s)/mailto links, `strong`,
  `em`, `b`, `i`, `br`); everything else is removed on input. URLs must be http(s).
- A closed blog publishes nothing: no new posts and no draft published (409), and a scheduled
  post falling due waits until the blog reopens. Its existing posts may still be corrected,
  pinned or deleted. Deleting a deleted post is a 409.
- `/changes` with `wait` (1-30 s) holds the request until something changes, also when it
  revalidates with `If-None-Match`; each process holds a bounded number of such polls and
  answers the others at once.
- Editors and auditors may add `status=draft,scheduled,...` to the feed; auditors may add
  `as_of` (an RFC 3339 time or a cursor) for the feed as readers saw it then.
"""

_HEADER = {"schema": {"type": "string"}}
_READER_HEADERS = {
    "ETag": {**_HEADER, "description": "strong validator: send it back in If-None-Match"},
    "Cache-Control": {**_HEADER, "description": "public, max-age=N, stale-while-revalidate=M"
                                                " (private, no-cache with a token)"},
    "Last-Modified": {**_HEADER, "description": "the latest change readers can see"},
}


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest's Blueprint, which also documents the HTTP headers views declare with
    :func:`reader_get`, :func:`if_match` and :func:`idempotent_post`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_headers_doc)

    @staticmethod
    def _prepare_headers_doc(doc: dict[str, Any], doc_info: dict[str, Any],
                             **kwargs: Any) -> dict[str, Any]:
        extra = doc_info.get("liveblog_headers")
        if extra:
            doc.setdefault("parameters", []).extend(extra["parameters"])
            for status, response in extra["responses"].items():
                doc.setdefault("responses", {}).setdefault(status, {}).update(response)
        return doc


def _document_headers(parameters: list[dict[str, Any]],
                      responses: dict[int, dict[str, Any]]) -> Callable[[Any], Any]:
    def decorator(view: Any) -> Any:
        # documentation only: the view itself is returned, not wrapped
        apidoc = copy.deepcopy(getattr(view, "_apidoc", {}))
        extra = apidoc.setdefault("liveblog_headers", {"parameters": [], "responses": {}})
        extra["parameters"] += parameters
        extra["responses"].update(responses)
        view._apidoc = apidoc
        return view

    return decorator


def reader_get() -> Callable[[Any], Any]:
    """Document a reader GET's validators: If-None-Match in, ETag and caching headers out, 304."""
    return _document_headers(
        [{"in": "header", "name": "If-None-Match", "required": False,
          "schema": {"type": "string"},
          "description": "the ETag of the answer you hold: 304 when it is still current"}],
        {200: {"headers": _READER_HEADERS},
         304: {"description": "Not Modified: the answer you hold is current (no body)",
               "headers": {"ETag": _READER_HEADERS["ETag"],
                           "Cache-Control": _READER_HEADERS["Cache-Control"]}}})


def if_match(*, required: bool, what: str, status: int = 200) -> Callable[[Any], Any]:
    """Document a change's If-Match (the version it started from) and the new ETag, sent with
    the view's success ``status``."""
    return _document_headers(
        [{"in": "header", "name": "If-Match", "required": required,
          "schema": {"type": "string"},
          "description": f"the ETag of the {what} you started from; a stale one is a 412"
                         + ("" if required else " (without it the change is unconditional)")}],
        {status: {"headers": {"ETag": {**_HEADER, "description": f"the {what}'s new version"}}}}
        if required else {})


def idempotent_post(created: bool = False) -> Callable[[Any], Any]:
    """Document a POST's Idempotency-Key and, when it creates something, Location and ETag."""
    return _document_headers(
        [{"in": "header", "name": "Idempotency-Key", "required": False,
          "schema": {"type": "string", "minLength": 1, "maxLength": 255},
          "description": "a retry with the same key and body appends nothing and returns the"
                         " first response; keys are scoped to the token"}],
        {201: {"headers": {"Location": {**_HEADER, "description": "the new resource"},
                           "ETag": {**_HEADER, "description": "its version, for If-Match"}}}}
        if created else {})


def errors(blp: flask_smorest.Blueprint, *codes: int) -> Callable[[Any], Any]:
    """Document these problem responses on a view."""
    from werkzeug.http import HTTP_STATUS_CODES

    def decorator(view: Any) -> Any:
        for code in codes:
            view = blp.alt_response(code, schema=ProblemSchema, content_type=PROBLEM_TYPE,
                                    description=HTTP_STATUS_CODES.get(code, "Error"))(view)
        return view

    return decorator
