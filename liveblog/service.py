"""handle(command): load the streams it needs, decide, append, project. The only writer.

Streams: a blog's own fields live in ``blog/<blog>/about``; each post has its own stream,
``blog/<blog>/post/<post>``, so two editors working on different posts of one story never
conflict, while the log's global position still gives the feed one order. Every decision is
taken inside the append's write transaction (one writer at a time, across processes and
nodes), against the streams' own events, so rules hold even when two editors act at once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_args

from events import (
    Connection,
    EventStore,
    IdempotencyConflictError,
    ProjectionRunner,
    RecordedEvent,
    UniqueViolationError,
    database_errors,
    unavailable,
    write_transaction,
)

from .codec import decode, encode
from .domain import commands as cmd
from .domain.access import Person, authorize
from .domain.decide import (
    decide_blog,
    decide_members,
    decide_person,
    decide_post,
    decide_token,
)
from .domain.errors import SlugTakenError, StaleVersionError
from .domain.events import erase
from .domain.model import (
    Blog,
    Post,
    Token,
    evolve_blog,
    evolve_members,
    evolve_person,
    evolve_post,
    evolve_token,
)
from .lru import LRU
from .streams import blog_stream, members_stream, person_stream, post_stream, token_stream

if TYPE_CHECKING:
    from .health import WriteHealth

__all__ = ["Actor", "IdempotencyConflictError", "Outcome", "Service", "new_id"]

log = logging.getLogger(__name__)


def new_id() -> str:
    """A new server-generated id: URL-safe, opaque, 16 characters."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class Actor:
    """Who causes an event: a token (id, name, role), a signed-in person, the CLI, or the
    system (scheduler).

    :param person: what the person may do (memberships included), checked against every
        command; None for the CLI and the system, which are trusted.
    """

    kind: str
    name: str
    token_id: str | None = None
    role: str | None = None
    person: Person | None = None

    @property
    def id(self) -> str | None:
        """The person's id (a token's is its id)."""
        return self.person.id if self.person is not None else self.token_id

    def metadata(self) -> dict[str, Any]:
        """The actor as recorded in each event's metadata."""
        actor: dict[str, Any] = {"type": self.kind, "name": self.name}
        if self.token_id is not None:
            actor["token_id"] = self.token_id
        elif self.person is not None:
            actor["person_id"] = self.person.id
        if self.role is not None:
            actor["role"] = self.role
        return actor


SYSTEM = Actor("system", "scheduler")

#: a decision: the stream, its version, and the events decided
Decided = tuple[str, int, list[Any]]


@dataclass(frozen=True)
class SideTable:
    """Tables beside the log that keep something of a post's content (uploaded images, embed
    cards), as the composition root registers them: what a post's payloads name there, how a
    redaction forgets it (in its transaction), and the tables to rewrite after, so the erased
    bytes leave the disk."""

    tables: tuple[str, ...]
    named_by: Callable[[list[dict[str, Any]]], set[str]]
    forget: Callable[[Connection, set[str], str], object]


@dataclass(frozen=True)
class Outcome:
    """What a command recorded (empty when it changed nothing) and whether it was a replay."""

    stream_id: str
    events: list[RecordedEvent]
    replayed: bool = False


class StreamStates:
    """Recently folded stream states, kept per process so a command folds only the events its
    streams gained since (a blog's stream grows with every edit of the blog).

    Never trusted blindly: each use re-reads the last event folded and goes on only if it still
    has the hash it had, so a state can never outlive the log it came from.
    """

    def __init__(self, size: int = 4096) -> None:
        #: stream -> (version folded to, that event's hash, the state)
        self._items: LRU[str, tuple[int, str, Any]] = LRU(size)

    def load(self, store: EventStore, stream_id: str,
             evolve: Callable[[Any, Any], Any]) -> tuple[Any, int]:
        """The stream's state after all its events, and its version."""
        cached = self._items.get(stream_id)
        events = list(store.read_stream(stream_id, from_version=cached[0])) if cached else []
        if cached is not None and events and events[0].hash == cached[1]:
            version, last, state = cached
            events = events[1:]
        else:  # never folded, or the log is not the one it was folded from: from the start
            version, last, state = 0, "", None
            events = list(store.read_stream(stream_id))
        for event in events:
            state = evolve(state, decode(event))
            version, last = event.version, event.hash
        if version:
            self._items.put(stream_id, (version, last, state))
        return state, version


class Service:
    """Runs commands against one store, with the projections applied inline.

    :param states: folded stream states shared by the services of one process.
    :param recorded: called with the service, the stream and its new events after each
        command that recorded something has committed.
    """

    def __init__(self, store: EventStore, runner: ProjectionRunner,
                 states: StreamStates | None = None,
                 recorded: Callable[[Service, str, list[RecordedEvent]], None] | None = None,
                 health: WriteHealth | None = None,
                 side_tables: Sequence[SideTable] = ()) -> None:
        self.store = store
        self.runner = runner
        #: what tables beside the log keep of a post's content, for a redaction to take away
        self.side_tables = tuple(side_tables)
        self.states = states or StreamStates()
        #: called after a command's events are committed (metrics, waking long polls)
        self.recorded = recorded
        #: told whether storage took each write (``failed(error)`` / ``succeeded()``)
        self.health = health

    def load_blog(self, blog_id: str) -> tuple[Blog | None, int]:
        """A blog's state and its stream's version."""
        state, version = self.states.load(self.store, blog_stream(blog_id), evolve_blog)
        return state, version

    def load_post(self, blog_id: str, post_id: str) -> tuple[Post | None, int]:
        """A post's state and its stream's version."""
        state, version = self.states.load(self.store, post_stream(blog_id, post_id),
                                          evolve_post)
        return state, version

    def load_token(self, token_id: str) -> tuple[Token | None, int]:
        """A token's state and its stream's version."""
        state, version = self.states.load(self.store, token_stream(token_id), evolve_token)
        return state, version

    def handle(
        self,
        command: cmd.Command,
        actor: Actor,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
        request_id: str | None = None,
    ) -> Outcome:
        """Decide and record ``command``.

        :param expected_version: the If-Match version: the post's version for post commands,
            the blog's own version for blog commands. A mismatch raises StaleVersionError and
            records nothing.
        :param idempotency_key: a retry with the same key and fingerprint returns the first
            outcome (``replayed=True``) and records nothing.
        :raises DomainError: the command breaks a rule; nothing is recorded.
        :raises IdempotencyConflictError: the key was used for another request.
        """
        try:
            outcome = self._handle(command, actor, expected_version, idempotency_key,
                                   fingerprint, request_id)
        except database_errors() as e:
            if self.health is not None and unavailable(e):
                self.health.failed(e)
            raise
        if self.health is not None and outcome.events and not outcome.replayed:
            self.health.succeeded()
        if isinstance(command, cmd.RedactPost) and outcome.events and not outcome.replayed:
            self._scrub()
        return outcome

    def _scrub(self) -> None:
        """A redaction has committed: its erased text leaves the database's files too (the
        log, the read models, the images it named), before the redaction is acknowledged."""
        if self.store.conn.in_transaction:  # a caller's transaction: theirs to finish first
            log.warning("a redaction ran inside a transaction: its erased text stays in the"
                        " database's files until the next redaction or vacuum")
            return
        # the read models keep a post's words sealed with its key, gone with it (events.keys):
        # only the tables that hold what is not sealed are rewritten (PostgreSQL), never the
        # log or the read models, whatever their size
        tables = [table for side in self.side_tables for table in side.tables]
        if not self.store.scrub(tables):
            log.warning("a redaction's erased text may stay in the database's files a little"
                        " longer: a reader held SQLite's log, or PostgreSQL refused CHECKPOINT")

    def _handle(self, command: cmd.Command, actor: Actor, expected_version: int | None,
                idempotency_key: str | None, fingerprint: str | None,
                request_id: str | None) -> Outcome:
        store = self.store
        with write_transaction(store.conn):
            if idempotency_key is not None:
                first = store.recall(idempotency_key, fingerprint)
                if first is not None:
                    return Outcome(first[0].stream_id, first, replayed=True)
            now = store.clock()
            stream, version, events = self._decide(command, now, expected_version, actor.person)
            if not events:
                return Outcome(stream, [])
            metadata: dict[str, Any] = {"actor": actor.metadata(),
                                        "command": type(command).__name__}
            if request_id is not None:
                metadata["request_id"] = request_id
            if isinstance(command, cmd.RedactPost):
                # the content leaves storage, and what the side tables keep of it (its
                # uploaded images, its embeds' cards), in the same transaction that records why
                named: list[set[str]] = [set() for _ in self.side_tables]

                def erase_noting(type_: str, data: dict[str, Any]) -> dict[str, Any]:
                    for found, side in zip(named, self.side_tables, strict=True):
                        found.update(side.named_by([data]))
                    return erase(type_, data)

                store.redact(stream, erase_noting)
                for found, side in zip(named, self.side_tables, strict=True):
                    side.forget(store.conn, found, command.post_id)
            try:
                recorded = store.append(
                    stream, [encode(e, metadata) for e in events], expected_version=version,
                    idempotency_key=idempotency_key, fingerprint=fingerprint,
                    then=self.runner.apply_inline)
                if isinstance(command, cmd.RedactPost):
                    # the read models wrote the erased post over their sealed copies: the key
                    # goes, and every copy sealed with it (the log's, past versions') with it
                    store.destroy_key(stream)
            except UniqueViolationError as e:
                if e.constraint == "blogs.slug":
                    raise SlugTakenError("another blog already has that slug") from e
                raise
        if self.recorded is not None:
            self.recorded(self, stream, recorded)
        return Outcome(stream, recorded)

    def load_members(self, blog_id: str) -> tuple[dict[str, str], int]:
        """A blog's members (person id -> role) and their stream's version."""
        state, version = self.states.load(self.store, members_stream(blog_id), evolve_members)
        return state or {}, version

    def _decide(self, command: cmd.Command, now: Any, expected: int | None,
                person: Person | None) -> Decided:
        """The stream ``command`` acts on, its version, and the events decided: the deciding
        of the aggregate it names (a table by the command's type, as cosmicpython's message
        bus keeps its handlers)."""
        return _DECIDERS[type(command)](self, command, now, expected, person)

    def _decide_blog(self, command: cmd.BlogCommand, now: Any, expected: int | None,
                     person: Person | None) -> Decided:
        blog, version = self.load_blog(command.blog_id)
        authorize(person, command, blog, None)
        if expected is not None and blog is not None and expected != version:
            raise StaleVersionError(expected, version)
        return blog_stream(command.blog_id), version, decide_blog(blog, command, now)

    def _decide_token(self, command: cmd.TokenCommand, now: Any, expected: int | None,
                      person: Person | None) -> Decided:
        authorize(person, command, None, None)
        token, version = self.load_token(command.token_id)
        return token_stream(command.token_id), version, decide_token(token, command)

    def _decide_person(self, command: cmd.RegisterPerson, now: Any, expected: int | None,
                       person: Person | None) -> Decided:
        authorize(person, command, None, None)
        stream = person_stream(command.person_id)
        state, version = self.states.load(self.store, stream, evolve_person)
        return stream, version, decide_person(state, command)

    def _decide_members(self, command: cmd.MemberCommand, now: Any, expected: int | None,
                        person: Person | None) -> Decided:
        blog, _ = self.load_blog(command.blog_id)
        members, version = self.load_members(command.blog_id)
        authorize(person, command, blog, None, members)
        return members_stream(command.blog_id), version, decide_members(blog, members, command)

    def _decide_post(self, command: cmd.PostCommand, now: Any, expected: int | None,
                     person: Person | None) -> Decided:
        blog, _ = self.load_blog(command.blog_id)
        post, version = self.load_post(command.blog_id, command.post_id)
        authorize(person, command, blog, post)
        if expected is not None and post is not None and expected != post.version:
            raise StaleVersionError(expected, post.version)
        events = decide_post(blog, post, command, now)
        return post_stream(command.blog_id, command.post_id), version, events


#: which aggregate decides each command
_DECIDERS: dict[type, Callable[..., Decided]] = {
    **dict.fromkeys(get_args(cmd.BlogCommand), Service._decide_blog),
    **dict.fromkeys(get_args(cmd.TokenCommand), Service._decide_token),
    cmd.RegisterPerson: Service._decide_person,
    **dict.fromkeys(get_args(cmd.MemberCommand), Service._decide_members),
    **dict.fromkeys(get_args(cmd.PostCommand), Service._decide_post),
}
