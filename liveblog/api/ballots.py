"""Votes in front of Flask's routing: a storm of readers voting costs each vote its own work
(the poll looked up in this node's memory, one row written where votes are kept), not Flask's
dispatch, webargs and the views' decorators (a third of a vote's time, measured).

A well-formed anonymous vote (``POST /api/polls/<poll>/votes``, a small JSON body of
``option`` and maybe ``voter``) is answered here, in a request context of its own, by the
view's own :func:`~liveblog.api.polls.cast`, with the app's before- and after-request work
(its store given back, CORS and security headers) as any other request. Anything else (a
token, another body, an Idempotency-Key) goes to Flask, which answers what is wrong with it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import marshmallow as ma
import orjson
from flask import Flask

from .polls import VoteSchema, cast

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: what a vote's body may be at most, here (a bigger one goes to Flask, which refuses it)
MAX_BODY = 1024
_VOTES = re.compile(r"^/api/polls/([A-Za-z0-9_.\-]{1,80})/votes$")


class Ballots:
    """WSGI middleware: the votes of readers (see the module)."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.app, self.wsgi_app = app, wsgi_app

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        match = _VOTES.match(environ.get("PATH_INFO", ""))
        if (match is None or environ.get("REQUEST_METHOD") != "POST"
                or "HTTP_AUTHORIZATION" in environ or "HTTP_IDEMPOTENCY_KEY" in environ
                or environ.get("CONTENT_TYPE", "").split(";")[0].strip() != "application/json"):
            return self.wsgi_app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return self.wsgi_app(environ, start_response)
        if not 0 < length <= MAX_BODY:
            return self.wsgi_app(environ, start_response)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # Flask reads it again when it answers
        vote = _vote(body)
        if vote is None:
            return self.wsgi_app(environ, start_response)
        with self.app.request_context(environ):
            try:  # the app's before- and after-request work, as for any request
                response = self.app.preprocess_request() or cast(match.group(1), *vote)
            except Exception as e:  # noqa: BLE001 (the app's handlers answer each as Flask would)
                response = self.app.handle_user_exception(e)
            response = self.app.process_response(self.app.make_response(response))
            return response(environ, start_response)


#: the view's own schema of a vote's body
_VOTE = VoteSchema()


def _vote(body: bytes) -> tuple[str, str | None] | None:
    """(option, voter) of a body the view's schema takes; None otherwise (Flask says why)."""
    try:
        vote = _VOTE.load(orjson.loads(body))
    except (orjson.JSONDecodeError, ma.ValidationError):
        return None
    return vote["option"], vote.get("voter")
