"""Polls: a post block ``{"type": "poll", "question", "options", "closes_at"?}`` that readers
vote in. The service names the block (``id``: the post's id, a dot, a random part, so a vote
finds its post at once) and each option (``{"id", "text"}``); a post holds one poll at most.
Once published, a poll's question and options stay as they were: the votes are for them.

A poll is open while its post is published, its closing time has not come, and it has not
been closed (``PollClosed``: the scheduler at ``closes_at``, or an editor). Votes are kept
apart from the log (liveblog.votes); its closing is recorded with the final tally.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events import Connection, format_time

from . import queries
from .domain.commands import ClosePoll
from .domain.errors import InvalidCommandError, NotFoundError
from .domain.model import poll_in
from .votes import Votes

#: how long a node keeps what a poll is (its options, its post's state) between votes
DEFINITION_TTL = 1.0
#: how long a node keeps a poll's counted results (the answer's max-age is the same)
RESULTS_TTL = 2.0


def new_poll_id(post_id: str) -> str:
    return f"{post_id}.{secrets.token_urlsafe(6)}"


def post_of(poll_id: str) -> str:
    """The id of the post a poll is in."""
    return poll_id.rsplit(".", 1)[0]


def settle(body: list[dict[str, Any]], post_id: str,
           before: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A post body as it is stored: its poll named (a new one) or as it was (a published
    one's question and options do not change; its closing time may, while it is open).

    :raises InvalidCommandError: two polls, an id that is not this post's poll, or a saved
        poll's question or options changed.
    """
    polls = [i for i, block in enumerate(body) if block.get("type") == "poll"]
    if len(polls) > 1:
        raise InvalidCommandError(f"body.{polls[1]}", "a post holds one poll at most")
    if not polls:
        return body
    index = polls[0]
    block = body[index]
    old = poll_in(before)
    if block.get("id") is None:  # a new poll
        settled = {"type": "poll", "id": new_poll_id(post_id), "question": block["question"],
                   "options": [{"id": secrets.token_urlsafe(6), "text": _text(option)}
                               for option in block["options"]]}
    elif old is None or old.get("id") != block["id"]:
        raise InvalidCommandError(f"body.{index}.id", "no such poll in this post: leave"
                                  " the id out for a new poll")
    elif [_text(o) for o in block["options"]] != [o["text"] for o in old["options"]] \
            or block["question"] != old["question"]:
        raise InvalidCommandError(f"body.{index}.options", "a poll's question and options"
                                  " cannot change once it is saved: add a new poll")
    else:
        settled = {k: v for k, v in old.items() if k != "closes_at"}
    if block.get("closes_at") is not None and not settled.get("closed_at"):
        settled["closes_at"] = format_time(block["closes_at"])
    return [*body[:index], settled, *body[index + 1:]]


def _text(option: Any) -> str:
    return str(option["text"] if isinstance(option, dict) else option)


@dataclass(frozen=True)
class Poll:
    """A poll as a vote needs it."""
    id: str
    blog_id: str
    post_id: str
    block: dict[str, Any]
    post_status: str

    @property
    def options(self) -> list[str]:
        return [option["id"] for option in self.block["options"]]

    def open_at(self, now: datetime) -> bool:
        closes_at = self.block.get("closes_at")
        return (self.post_status == "published" and not self.block.get("closed_at")
                and (closes_at is None or datetime.fromisoformat(closes_at) > now))


def find(conn: Connection, poll_id: str) -> Poll:
    """The poll, as its post holds it now.

    :raises NotFoundError: there is no such poll readers can see.
    """
    post_id = post_of(poll_id)
    row = conn.execute("SELECT blog_id FROM feed_posts WHERE id = ?", (post_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no poll {poll_id!r}")
    post = queries.post_json(queries.get_post_row(conn, row[0], post_id))
    block = poll_in(post["body"])
    if block is None or block.get("id") != poll_id or post["status"] != "published":
        raise NotFoundError(f"no poll {poll_id!r}")
    return Poll(poll_id, row[0], post_id, block, post["status"])


class Kept:
    """What this node knows for a moment (a poll's definition, its results), so that a storm
    of votes or of result polls costs the database one read a poll per ``ttl``."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._kept: dict[str, tuple[float, Any]] = {}

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        now = self.clock()
        kept = self._kept.get(key)
        if kept is not None and now - kept[0] < self.ttl:
            return kept[1]
        value = make()
        if len(self._kept) > 10_000:
            self._kept.clear()
        self._kept[key] = (now, value)
        return value

    def forget(self, key: str) -> None:
        self._kept.pop(key, None)


def close(poll: Poll, votes: Votes, now: datetime,
          handle: Callable[[ClosePoll], Any]) -> Any:
    """Close a poll: stop its votes where they are kept, then record the final tally in the
    log (``handle`` runs the command as whoever closes it: an editor, the scheduler). A
    closing cut short between the two is finished by closing again: the same tally."""
    tally = votes.close_poll(poll.id, now)
    return handle(ClosePoll(poll.blog_id, poll.post_id, poll.id, tally))


def results(poll: Poll, votes: Votes) -> dict[str, Any]:
    """The public answer of GET /api/polls/{poll}: each option's votes (the final tally, once
    closed), the total, and whether it is closed."""
    block = poll.block
    closed = bool(block.get("closed_at"))
    counted = ({o["id"]: int(o.get("votes", 0)) for o in block["options"]} if closed
               else votes.tally(poll.id))
    options = [{"id": o["id"], "text": o["text"], "votes": counted.get(o["id"], 0)}
               for o in block["options"]]
    return {"id": poll.id, "question": block["question"], "options": options,
            "total": sum(o["votes"] for o in options), "closed": closed,
            "closes_at": block.get("closes_at")}
