"""Votes in front of Flask: a storm of readers voting costs each vote its own work (the poll
looked up in this node's memory, one row written where votes are kept), not Flask's request
context, dispatch, webargs and the views' decorators (two thirds of a vote's time, measured
with py-spy under ``scripts/bench votes``).

A well-formed anonymous vote (``POST /api/polls/<poll>/votes``, a small JSON body of
``option`` and maybe ``voter``) is counted here by the polls desk the view uses
(:class:`~liveblog.api.polls.Voting`), and its 202 carries what the app's after-request work
adds to the view's answer (worked out once, by the app itself). Anything else (a token, another
body, an Idempotency-Key), and any vote not counted (a second vote, a closed poll, an address
past its limit, a database that failed before the row was written), goes to Flask, which
answers it: nothing was written, so it comes to the same.

:class:`liveblog.worker.Worker` asks :meth:`Ballots.answer_at_once` straight from the parsed
request (no WSGI environ, response object or iterator); any other server calls the middleware.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import marshmallow as ma
import orjson
from flask import Flask
from werkzeug.http import parse_cookie

from events import database_errors

from ..domain.errors import DomainError
from ..pool import PoolExhaustedError
from ..votes import COUNTED
from .polls import VOTER_COOKIE, Cast, VoteSchema, Voting, counted_response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from ..http.requests import Answer

#: what a vote's body may be at most, here (a bigger one goes to Flask, which refuses it)
MAX_BODY = 1024


class ReadAgain(io.BytesIO):
    """A body read already by a server that asked :meth:`Ballots.answer_at_once` and was
    declined: the middleware leaves it to Flask without asking again."""


#: what a vote not counted raises besides the database's errors (nothing was written: Flask
#: answers it)
_NOT_WRITTEN: tuple[type[Exception], ...] = (DomainError, PoolExhaustedError)
_VOTES = re.compile(r"^/api/polls/([A-Za-z0-9_.\-]{1,80})/votes$")


class Ballots:
    """WSGI middleware: the votes of readers (see the module)."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication, voting: Voting) -> None:
        self.app, self.wsgi_app, self.voting = app, wsgi_app, voting
        self._added: list[tuple[str, str]] | None = None

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        if isinstance(environ.get("wsgi.input"), ReadAgain):
            return self.wsgi_app(environ, start_response)
        answer = self.answer_at_once(environ)
        if answer is None:
            return self.wsgi_app(environ, start_response)
        start_response(answer[0], answer[1])
        return [answer[2]]

    def answer_at_once(self, environ: WSGIEnvironment) -> Answer | None:
        """A well-formed anonymous vote, counted: its 202. None: anything else, and a vote
        not counted (Flask says why; nothing was written). The body stays readable."""
        vote = _vote(environ)
        if vote is None:
            return None
        poll, option, given = vote
        try:
            done = self.voting.cast(poll, option, (_cookie(environ), given),
                                    environ.get("REMOTE_ADDR"))
        except (*_NOT_WRITTEN, *database_errors()):
            return None
        if done.outcome != COUNTED:
            return None
        headers = [("Content-Type", "application/json"),
                   ("Content-Length", str(len(done.body))), *self._headers()]
        if done.new_token:
            headers.append(("Set-Cookie", self.voting.cookie(done.new_token)))
        return "202 ACCEPTED", headers, done.body

    def _headers(self) -> list[tuple[str, str]]:
        """What the app's answer to a counted vote carries besides its body and cookie: the
        view's own headers and what the app's after-request work adds (CORS, security
        headers), worked out once by the app itself on the view's answer."""
        if self._added is None:
            with self.app.test_request_context("/api/polls/p/votes", method="POST"):
                response = self.app.process_response(counted_response(Cast(COUNTED, b"{}")))
            self._added = [(name, value) for name, value in response.headers.items()
                           if name not in ("Content-Type", "Content-Length", "Set-Cookie")]
        return self._added


#: the view's own schema of a vote's body
_SCHEMA = VoteSchema()


def _vote(environ: WSGIEnvironment) -> tuple[str, str, str | None] | None:
    """(poll, option, voter) of a request the fast way takes; None otherwise."""
    match = _VOTES.match(environ.get("PATH_INFO", ""))
    if (match is None or environ.get("REQUEST_METHOD") != "POST"
            or "HTTP_AUTHORIZATION" in environ or "HTTP_IDEMPOTENCY_KEY" in environ
            or environ.get("CONTENT_TYPE", "").split(";")[0].strip() != "application/json"):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= MAX_BODY:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = ReadAgain(body)  # Flask reads it again if it answers
    try:
        vote: dict[str, Any] = _SCHEMA.load(orjson.loads(body))
    except (orjson.JSONDecodeError, ma.ValidationError):
        return None
    return match.group(1), vote["option"], vote.get("voter")


def _cookie(environ: WSGIEnvironment) -> str | None:
    """The voter's cookie, if they sent one (read as Flask reads cookies)."""
    header = environ.get("HTTP_COOKIE")
    if not header or VOTER_COOKIE not in header:
        return None
    return parse_cookie(header).get(VOTER_COOKIE)
