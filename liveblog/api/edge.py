"""The API's edge: problem+json for every HTTP error, JSON in and out, and the checks every
request body passes before a view sees it."""

from __future__ import annotations

import hashlib
import http
import json
import threading
from collections.abc import Callable
from typing import Any

import flask_smorest
from apispec import APISpec
from flask import Response, request
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import BadRequest, HTTPException, RequestTimeout, UnsupportedMediaType

from events import canonical

from .problems import PROBLEM_TYPE, http_problem
from .schemas import ProblemSchema

JSON_TYPE = "application/json"


class Api(flask_smorest.Api):  # type: ignore[misc]
    """flask-smorest's Api with every HTTP error rendered as problem details, and its OpenAPI
    document written when it is first read (``/openapi.json``, the docs page), not when the
    app is made: writing it is most of making an app (0.3 s of 0.4 here), which every worker,
    every scheduler and every test's app would pay for a document few of them serve."""

    ERROR_SCHEMA = ProblemSchema
    _spec: APISpec
    #: what is yet to be written into the document (None: it is written)
    _later: list[Callable[[APISpec], object]] | None
    _writing: Any

    @property
    def spec(self) -> Any:
        """The document, with what was put off (:meth:`later`) written into it first: by the
        first reader, while any other waits for it to be whole."""
        if self._later is not None:
            with self._writing:  # re-entrant: the writing itself reads the document
                pending = self._later
                if pending:
                    self._later = []
                    for write in pending:
                        write(self._spec)
                    self._later = None
        return self._spec

    @spec.setter
    def spec(self, value: APISpec) -> None:
        self._spec = value
        self._later = []
        self._writing = threading.RLock()

    def later(self, write: Callable[[APISpec], object]) -> None:
        """Write this into the document when it is first read (in the order asked)."""
        if self._later is None:
            write(self._spec)
        else:
            self._later.append(write)

    def register_blueprint(self, blp: Any, *, parameters: Any = None, **options: Any) -> None:
        """flask-smorest's, the blueprint's routes now and its documentation later."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)

        def document(spec: APISpec) -> None:
            blp.register_views_in_doc(self, self._app, spec, name=name, parameters=parameters)
            spec.tag({"name": name, "description": blp.description})

        self.later(document)

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


def fingerprint() -> str:
    """What makes two requests 'the same' for an Idempotency-Key: method, path, JSON body."""
    body = request.get_json(silent=True)
    return hashlib.sha256(
        f"{request.method} {request.path}\n{canonical({'b': body})}".encode()).hexdigest()


def reads_json(method: str, path: str) -> bool:
    """Whether :func:`require_json_bodies` reads a request's body as JSON: the API's writes,
    but an image upload (its own types: api/media.py)."""
    return method in ("POST", "PATCH", "PUT") and path.startswith("/api/") and (
        path != "/api/media")


#: what :func:`require_json_bodies` answers (documented on each operation it checks): a
#: malformed Idempotency-Key or unreadable JSON, a body too large, another media type
EDGE_STATUSES = (400, 413, 415)


#: what a reader's page may ask from any site (an embed on a newsroom's page): no credentials
#: go with it, so any origin may read the answers, errors too, and send JSON (a preflight)
READERS_ASK = {("POST", "questions.Questions"), ("POST", "polls.PollVotes"),
               ("GET", "questions.Challenge")}


def open_to_pages(response: Response) -> Response:
    """The CORS headers of what READERS_ASK names (its preflight too)."""
    method = request.headers.get("Access-Control-Request-Method", request.method) \
        if request.method == "OPTIONS" else request.method
    if (method, request.endpoint) in READERS_ASK:
        response.headers["Access-Control-Allow-Origin"] = "*"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = method
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "86400"
    return response


def require_json_bodies() -> None:
    # 415 comes before parsing: a body in any other media type is refused as a whole.
    if reads_json(request.method, request.path):
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
