"""Polls: readers vote (no credentials), anyone reads the results (cacheable for a few
seconds), an editor closes one. See liveblog/polls.py and liveblog/votes.py."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import marshmallow as ma
from flask import Response, current_app, request
from flask.views import MethodView
from marshmallow import validate as v

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
from .questions import client_address
from .schemas import StrictSchema
from .views import run

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
    poll = f.Nested(ResultsSchema)


def _kept() -> tuple[polls.Kept, polls.Kept]:
    """This process's short memory of polls' definitions and results."""
    kept: tuple[polls.Kept, polls.Kept] = current_app.extensions.setdefault(
        "liveblog.polls", (polls.Kept(polls.DEFINITION_TTL), polls.Kept(polls.RESULTS_TTL)))
    return kept


def _poll(poll_id: str, *, fresh: bool = False) -> polls.Poll:
    definitions, _ = _kept()
    if fresh:
        definitions.forget(poll_id)
    poll: polls.Poll = definitions.get(
        poll_id, lambda: polls.find(get_liveblog().store().conn, poll_id))
    return poll


def _results(poll: polls.Poll) -> dict[str, Any]:
    _, kept = _kept()
    now = get_liveblog().now()
    body: dict[str, Any] = kept.get(poll.id, lambda: polls.results(poll, get_liveblog().votes()))
    return body | {"closed": body["closed"] or not poll.open_at(now)}


def _sign(voter: str) -> str:
    mac = hmac.new(key(str(current_app.config["SECRET_KEY"]), "voter"), voter.encode(),
                   hashlib.sha256).hexdigest()[:24]
    return f"{voter}.{mac}"


def _voter(given: str | None) -> tuple[str, bool]:
    """The voter's id (from their cookie or the token they sent), or a new one (True)."""
    for token in (request.cookies.get(VOTER_COOKIE), given):
        if token and "." in token:
            voter = token.rsplit(".", 1)[0]
            if hmac.compare_digest(_sign(voter), token):
                return voter, False
    return secrets.token_urlsafe(12), True


@blp.route("/<poll>")
class Poll(MethodView):
    @blp.response(200, ResultsSchema)
    @reader_get()
    @errors(blp, 401, 404)
    def get(self, poll: str) -> Any:
        """A poll's results: each option's votes and the total (the final tally once closed).
        Cached for a few seconds, so a shared cache absorbs those who refresh them."""
        body = dumps(_results(_poll(poll)))
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


@contextmanager
def _vote_slot() -> Iterator[None]:
    """At most half of this process's database connections in readers' votes at once, each
    given back as soon as its vote is written: an editor's publish never waits behind a storm
    of votes for a connection."""
    liveblog = get_liveblog()
    slots: threading.BoundedSemaphore = current_app.extensions.setdefault(
        "liveblog.vote_slots", threading.BoundedSemaphore(
            max(1, liveblog.pool.max_connections // 2)))
    if not slots.acquire(timeout=POOL_TIMEOUT):
        raise PoolExhaustedError(f"no database connection free for votes for {POOL_TIMEOUT} s")
    try:
        with liveblog.leased():
            yield
    finally:
        slots.release()


def cast(poll: str, option: str, given_voter: str | None) -> Response:
    """A reader's vote, in a request's context: its answer (202, or a problem)."""
    with _vote_slot():
        return _cast(poll, option, given_voter)


def _cast(poll: str, option: str, given_voter: str | None) -> Response:
    found = _poll(poll)
    if option not in found.options:
        raise InvalidCommandError("option", "not an option of this poll")
    liveblog = get_liveblog()
    now = liveblog.now()
    if not found.open_at(now):
        raise ConflictError("the poll is closed")
    voter, new = _voter(given_voter)
    store = liveblog.votes()
    address = client_address()
    limit = int(current_app.config["VOTES_PER_ADDRESS"])
    if store.from_address(poll, address, limit) >= limit:
        return problem(429, f"at most {limit} votes in a poll from one address",
                       slug="too-many-votes", title="Too many votes",
                       headers={"Retry-After": "3600"})
    outcome = store.record(poll, option, voter, address, now)
    if outcome == votes.CLOSED:
        raise ConflictError("the poll is closed")
    if outcome == votes.AGAIN:
        return problem(409, "you have voted in this poll already", slug="voted",
                       title="Already voted", errors={"choice": [store.choice(poll, voter) or ""]})
    token = _sign(voter)
    response = json_response({"choice": option, "voter": token, "poll": _results(found)}, 202,
                             {"Cache-Control": policies().secret})
    if new:
        _set_voter_cookie(response, token)
    return response


def _set_voter_cookie(response: Response, token: str) -> None:
    secure = str(current_app.config.get("PUBLIC_URL") or "").startswith("https://")
    # on a secure site the cookie may go with a vote from an iframe on a newsroom's page
    response.set_cookie(VOTER_COOKIE, token, max_age=365 * 24 * 3600, path="/api/polls",
                        httponly=True, secure=secure, samesite="None" if secure else "Lax")


@blp.route("/<poll>/close")
class ClosePoll(MethodView):
    @require()
    @blp.response(200, ResultsSchema)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def post(self, poll: str) -> Any:
        """Close a poll now (the blog's editors): it takes no more votes, and its final tally
        is recorded in the log (PollClosed)."""
        found = _poll(poll, fresh=True)
        liveblog = get_liveblog()
        # who may: the service asks (an editor of the blog), before any vote is stopped
        allowed("post.publish", found.blog_id)
        polls.close(found, liveblog.votes(), liveblog.now(), run)
        _kept()[1].forget(poll)
        return json_response(_results(_poll(poll, fresh=True)))
