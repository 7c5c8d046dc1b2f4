"""The OpenAPI document: operation ids, the API's description, and the headers views declare
(validators, If-Match, Idempotency-Key, problem responses)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import flask_smorest
from apispec import BasePlugin
from werkzeug.http import HTTP_STATUS_CODES

from ..http import caching
from .edge import EDGE_STATUSES, reads_json
from .problems import PROBLEM_TYPE
from .schemas import ProblemSchema


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


class EdgeStatuses(BasePlugin):
    """Documents, on every operation whose body the edge reads as JSON (api/edge.py), the
    statuses it answers before any view: the views list only their own."""
    def operation_helper(self, path: str | None = None,
                         operations: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if path is None or operations is None:
            return
        for method, operation in operations.items():
            if reads_json(method.upper(), path):
                responses = operation.setdefault("responses", {})
                for code in EDGE_STATUSES:
                    responses[str(code)] = problem_response(code)


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

#: how a write or a private read authenticates: a bearer token (scripts) or a signed-in
#: browser's session cookie (with X-CSRF-Token on writes)
SIGNED_IN: list[dict[str, list[str]]] = [{"bearer": []}, {"session": []}]

HEADER = {"schema": {"type": "string"}}
_READER_HEADERS = {name: {**HEADER, "description": text}
                   for name, text in caching.READER_HEADER_DOCS.items()}


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest's Blueprint, which also documents the HTTP headers views declare with
    :func:`reader_get`, :func:`~liveblog.api.preconditions.if_match` and
    :func:`idempotent_post`, and the problem statuses precondition decorators answer."""

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
        # the statuses a precondition decorator answers (require, if_match), and the 422 of
        # arguments that do not validate: problem+json, as every error of this API
        statuses = set(doc_info.get("liveblog_statuses", ()))
        if doc_info.get("arguments"):
            statuses.add(422)
        responses = doc.setdefault("responses", {})
        for code in sorted(statuses):
            responses.pop(code, None)
            responses[str(code)] = problem_response(code)
        return doc


def document_headers(parameters: list[dict[str, Any]],
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
    return document_headers(
        [{"in": "header", "name": "If-None-Match", "required": False,
          "schema": {"type": "string"},
          "description": "the ETag of the answer you hold: 304 when it is still current"}],
        {200: {"headers": _READER_HEADERS},
         304: {"description": "Not Modified: the answer you hold is current (no body)",
               "headers": {"ETag": _READER_HEADERS["ETag"],
                           "Cache-Control": _READER_HEADERS["Cache-Control"]}}})


def idempotent_post(created: bool = False) -> Callable[[Any], Any]:
    """Document a POST's Idempotency-Key, and its 422 (a key used for another request); when it
    creates something, Location and ETag."""
    document = document_headers(
        [{"in": "header", "name": "Idempotency-Key", "required": False,
          "schema": {"type": "string", "minLength": 1, "maxLength": 255},
          "description": "a retry with the same key and body appends nothing and returns the"
                         " first response; keys are scoped to the token"}],
        {201: {"headers": {"Location": {**HEADER, "description": "the new resource"},
                           "ETag": {**HEADER, "description": "its version, for If-Match"}}}}
        if created else {})
    return lambda view: answers(document(view), 422)


def problem_response(code: int) -> dict[str, Any]:
    """The OpenAPI response of a problem with status ``code``."""
    return {"description": HTTP_STATUS_CODES.get(code, "Error"),
            "content": {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def answers(view: Any, *codes: int) -> Any:
    """Say in ``view``'s document that it may answer these problem statuses (a precondition
    decorator's own, so the view does not list them again)."""
    apidoc = copy.deepcopy(getattr(view, "_apidoc", {}))
    apidoc["liveblog_statuses"] = sorted({*apidoc.get("liveblog_statuses", ()), *codes})
    view._apidoc = apidoc
    return view


def errors(blp: flask_smorest.Blueprint, *codes: int) -> Callable[[Any], Any]:
    """Document the problem responses a view's own work may give (its domain's: 404, 409...;
    what its decorators check, they document themselves)."""
    def decorator(view: Any) -> Any:
        for code in codes:
            view = blp.alt_response(code, schema=ProblemSchema, content_type=PROBLEM_TYPE,
                                    description=HTTP_STATUS_CODES.get(code, "Error"))(view)
        return view

    return decorator
