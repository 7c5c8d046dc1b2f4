"""Polls: readers vote (no credentials), anyone reads the results (cacheable for a few
seconds), an editor closes one. See liveblog/polls.py and liveblog/votes.py."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

import marshmallow as ma
from flask import Response, current_app, request
from flask.views import MethodView
from marshmallow import validate as v
from werkzeug.http import dump_cookie

from events import EventStore, database_errors, format_time

from .. import polls, votes
from ..bootstrap import get_liveblog
from ..challenges import key
from ..domain.errors import ConflictError, InvalidCommandError
from ..http.caching import conditional, content_etag, policies, reader_headers
from ..pool import POOL_TIMEOUT, PoolExhaustedError
from .auth import allowed, require
from .docs import SIGNED_IN, Blueprint, errors, reader_get
from .edge import dumps, json_response
from .problems import problem
from .schemas import StrictSchema
from .views import run

if TYPE_CHECKING:
    from ..bootstrap import Liveblog

blp = Blueprint("polls", __name__, url_prefix="/api/polls",
                description="Polls in posts: readers vote, anyone reads the results.")

f = ma.fields

#: the cookie that says who voted (a random id, signed): one vote a voter
VOTER_COOKIE = "liveblog_voter"


class VoteSchema(StrictSchema):
    """Body of POST /api/polls/{poll}/votes."""
    option = f.String(required=True, validate=v.Length(min=1, max=40))
    voter = f.String(validate=v.Length(max=100), metadata={
        "description": "the voter token an earlier answer gave (for pages on another site,"
                       " where the cookie may not be sent)"})


class OptionResultSchema(ma.Schema):
    id = f.String()
    text = f.String()
    votes = f.Integer()


class ResultsSchema(ma.Schema):
    id = f.String()
    question = f.String()
    options = f.List(f.Nested(OptionResultSchema))
    total = f.Integer()
    closed = f.Boolean()
    closes_at = f.String(allow_none=True)


class VotedSchema(ma.Schema):
    choice = f.String(metadata={"description": "the option counted"})
    voter = f.String(metadata={"description": "this voter's token (send it with later votes)"})
    poll = f.Nested(ResultsSchema, metadata={
        "description": "the results (absent when they could not be read just then)"})


class Voting:
    """This process's polls desk: what it keeps of polls for a moment (their definitions and
    results), and the counting of a reader's vote. It needs no request context: the votes
    answered in front of Flask (:mod:`liveblog.api.ballots`) and the view share it."""

    def __init__(self, liveblog: Liveblog, config: Mapping[str, Any]) -> None:
        self.liveblog = liveblog
        self.secret = str(config["SECRET_KEY"])
        # on a secure site the voter's cookie may go with a vote from an iframe on a newsroom's
        # page
        self.secure = str(config.get("PUBLIC_URL") or "").startswith("https://")
        self._voter_key = key(self.secret, "voter")
        self.per_address = int(config["VOTES_PER_ADDRESS"])
        self.definitions = polls.Kept(polls.DEFINITION_TTL)
        self.results_kept = polls.Kept(polls.RESULTS_TTL)
        # at most half of the process's database connections in readers' votes at once
        self.slots = threading.BoundedSemaphore(max(1, liveblog.pool.max_connections // 2))
        self.counting = votes.GroupCommit()

    def poll(self, poll_id: str, *, fresh: bool = False) -> polls.Poll:
        if fresh:
            self.definitions.forget(poll_id)

        def find() -> polls.Poll:
            with self._slot() as store:
                return polls.find(store.conn, poll_id)

        poll: polls.Poll = self.definitions.get(poll_id, find)
        return poll

    def results(self, poll: polls.Poll) -> dict[str, Any]:
        def count() -> dict[str, Any]:
            with self._slot():
                return polls.results(poll, self.liveblog.votes())

        body: dict[str, Any] = self.results_kept.get(poll.id, count)
        return body | {"closed": body["closed"] or not poll.open_at(self.liveblog.now())}

    def sign(self, voter: str) -> str:
        mac = hmac.new(self._voter_key, voter.encode(), hashlib.sha256).hexdigest()
        return f"{voter}.{mac[:24]}"

    def cookie(self, token: str) -> str:
        """The Set-Cookie value that says who voted: ``token``, signed by :meth:`sign`."""
        return dump_cookie(VOTER_COOKIE, token, max_age=365 * 24 * 3600, path="/api/polls",
                           httponly=True, secure=self.secure,
                           samesite="None" if self.secure else "Lax")

    def voter(self, *tokens: str | None) -> tuple[str, bool]:
        """The voter's id, from the first of ``tokens`` (their cookie, the token they sent)
        this service signed; or a new one (True)."""
        for token in tokens:
            if token and "." in token:
                voter = token.rsplit(".", 1)[0]
                if hmac.compare_digest(self.sign(voter), token):
                    return voter, False
        return secrets.token_urlsafe(12), True

    @contextmanager
    def _slot(self) -> Iterator[EventStore]:
        """A database connection for votes, given back as soon as they are written: an
        editor's publish never waits behind a storm of votes for a connection."""
        if not self.slots.acquire(timeout=POOL_TIMEOUT):
            raise PoolExhaustedError(
                f"no database connection free for votes for {POOL_TIMEOUT} s")
        try:
            with self.liveblog.leased() as store:
                yield store
        finally:
            self.slots.release()

    def cast(self, poll_id: str, option: str, tokens: tuple[str | None, ...],
             address: str | None) -> Cast:
        """Count a vote (``address``: the reader's, as TRUSTED_PROXIES decided it): what came
        of it, and on COUNTED the answer's body.

        :raises NotFoundError: no such poll; :raises InvalidCommandError: not one of its
            options; :raises ConflictError: it is closed.
        """
        found = self.poll(poll_id)
        if option not in found.options:
            raise InvalidCommandError("option", "not an option of this poll")
        now = self.liveblog.now()
        if not found.open_at(now):
            raise ConflictError("the poll is closed")
        voter, new = self.voter(*tokens)
        outcome = self.counting.record(votes.Vote(
            poll_id, option, voter, votes.address_key(self.secret, address), format_time(now),
            self.per_address), self._write)
        if outcome == votes.CLOSED:
            raise ConflictError("the poll is closed")
        if outcome == votes.AGAIN:
            with self._slot():
                return Cast(outcome, choice=self.liveblog.votes().choice(poll_id, voter) or "")
        if outcome == votes.TOO_MANY:
            return Cast(outcome)
        token = self.sign(voter)
        answer: dict[str, Any] = {"choice": option, "voter": token}
        try:  # counted: so the answer says, even when the results cannot be read just now
            answer["poll"] = self.results(found)
        except (*_UNREADABLE, *database_errors()):
            pass
        return Cast(outcome, dumps(answer), token if new else None)

    def _write(self, batch: list[votes.Vote]) -> list[str]:
        with self._slot():
            return self.liveblog.votes().record(batch)


#: what reading the results may raise besides the database's errors (a vote counted is
#: answered 202 all the same)
_UNREADABLE: tuple[type[Exception], ...] = (PoolExhaustedError,)


class Cast(NamedTuple):
    """What came of a vote: its outcome (votes.COUNTED, AGAIN or TOO_MANY); counted,
    the answer's body and the cookie to set (a new voter's token); again, the choice."""
    outcome: str
    body: bytes = b""
    new_token: str | None = None
    choice: str = ""


def voting() -> Voting:
    """The current app's polls desk."""
    desk: Voting = current_app.extensions["liveblog.voting"]
    return desk


@blp.route("/<poll>")
class Poll(MethodView):
    @blp.response(200, ResultsSchema)
    @reader_get()
    @errors(blp, 401, 404)
    def get(self, poll: str) -> Any:
        """A poll's results: each option's votes and the total (the final tally once closed).
        Cached for a few seconds, so a shared cache absorbs those who refresh them."""
        desk = voting()
        body = dumps(desk.results(desk.poll(poll)))
        headers = reader_headers(content_etag(body), cache_control=policies().reader)
        return conditional(headers) or json_response(None, raw=body, headers=headers)


@blp.route("/<poll>/votes")
class PollVotes(MethodView):
    @blp.arguments(VoteSchema)
    @blp.response(202, VotedSchema)
    @errors(blp, 401, 404, 409, 429)
    def post(self, data: dict[str, Any], poll: str) -> Any:
        """Vote (no credentials): one vote a voter (a cookie, or the token an earlier answer
        gave), a few an address. A vote is not an event: it never waits on the log. (Most
        votes are answered in front of Flask's routing, by the same :func:`cast`.)"""
        return cast(poll, data["option"], data.get("voter"))


def cast(poll: str, option: str, given_voter: str | None) -> Response:
    """A reader's vote, in a request's context: its answer (202, or a problem)."""
    desk = voting()
    done = desk.cast(poll, option, (request.cookies.get(VOTER_COOKIE), given_voter),
                     request.remote_addr)
    if done.outcome == votes.TOO_MANY:
        return problem(429, f"at most {desk.per_address} votes in a poll from one address",
                       slug="too-many-votes", title="Too many votes",
                       headers={"Retry-After": "3600"})
    if done.outcome == votes.AGAIN:
        return problem(409, "you have voted in this poll already", slug="voted",
                       title="Already voted", errors={"choice": [done.choice]})
    return counted_response(done)


def counted_response(done: Cast) -> Response:
    """The answer to a counted vote (in a request's or the app's context)."""
    response = json_response(None, 202, {"Cache-Control": policies().secret}, raw=done.body)
    if done.new_token:
        response.headers.add("Set-Cookie", voting().cookie(done.new_token))
    return response


@blp.route("/<poll>/close")
class ClosePoll(MethodView):
    @require()
    @blp.response(200, ResultsSchema)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def post(self, poll: str) -> Any:
        """Close a poll now (the blog's editors): it takes no more votes, and its final tally
        is recorded in the log (PollClosed)."""
        desk = voting()
        found = desk.poll(poll, fresh=True)
        liveblog = get_liveblog()
        # who may: the service asks (an editor of the blog), before any vote is stopped
        allowed("post.publish", found.blog_id)
        polls.close(found, liveblog.votes(), liveblog.now(), run)
        desk.results_kept.forget(poll)
        return json_response(desk.results(desk.poll(poll, fresh=True)))
