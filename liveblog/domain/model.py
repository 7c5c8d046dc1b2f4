"""State folded from a stream's events: what decisions need to know, nothing more."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from . import events as ev

S = TypeVar("S")


@dataclass(frozen=True)
class Blog:
    """A blog as its own stream tells it."""

    id: str
    slug: str
    title: str
    description: str
    authors: list[str]
    organization: str | None
    timezone: str
    status: str = "live"
    archive_after_days: int | None = ev.DEFAULT_ARCHIVE_AFTER_DAYS
    language: str = ev.DEFAULT_LANGUAGE
    #: accent, font, colour scheme and logo (None: the house style)
    theme: dict[str, Any] | None = None
    #: readers may send it questions (liveblog.questions)
    questions_enabled: bool = False


@dataclass(frozen=True)
class Post:
    """A post as its own stream tells it."""

    id: str
    blog_id: str
    status: str
    content: dict[str, Any]
    version: int
    publish_at: datetime | None = None
    pinned: bool = False
    key_event: bool = False
    #: the person who wrote it (None: created by the CLI, an import, or before v1.2)
    author: str | None = None


@dataclass(frozen=True)
class Token:
    """An API token as its stream tells it."""

    id: str
    name: str
    role: str
    secret_hash: str
    revoked: bool = False
    scoped: bool = False


@dataclass(frozen=True)
class Account:
    """Someone who signed in through the identity provider, as their stream tells it (who is
    asking, with their roles, is :class:`liveblog.domain.access.Person`)."""

    id: str
    name: str
    issuer: str
    subject: str
    role: str | None


#: a blog's members as its members stream tells it: person id -> role
Members = dict[str, str]


def evolve_blog(state: Blog | None, event: ev.DomainEvent) -> Blog | None:
    """Apply one blog event to a blog's state."""
    match event:
        case ev.BlogCreated():
            return Blog(event.blog_id, event.slug, event.title, event.description,
                        list(event.authors), event.organization, event.timezone,
                        archive_after_days=event.archive_after_days,
                        language=event.language)
        case ev.BlogUpdated() if state is not None:
            return replace(state, **event.changes)
        case ev.BlogClosed() if state is not None:
            return replace(state, status="closed")
        case ev.BlogReopened() if state is not None:
            return replace(state, status="live")
    return state


def evolve_post(state: Post | None, event: ev.DomainEvent) -> Post | None:
    """Apply one post event to a post's state."""
    match event:
        case ev.PostDrafted():
            return Post(event.post_id, event.blog_id, "draft", dict(event.content),
                        event.revision, author=event.author)
        case ev.PostScheduled():
            if state is None:
                assert event.content is not None
                return Post(event.post_id, event.blog_id, "scheduled", dict(event.content),
                            event.revision, publish_at=event.publish_at, author=event.author)
            return replace(state, status="scheduled", publish_at=event.publish_at,
                           version=event.revision)
        case ev.PostPublished():
            if state is None:
                assert event.content is not None
                return Post(event.post_id, event.blog_id, "published", dict(event.content),
                            event.revision, author=event.author)
            return replace(state, status="published", publish_at=None, version=event.revision)
    if state is None:
        return None
    match event:
        case ev.PostEdited():
            return replace(state, content={**state.content, **event.changes},
                           version=event.revision)
        case ev.PostDeleted():
            return replace(state, status="deleted", version=event.revision)
        case ev.PostRedacted():
            return replace(state, status="redacted", content={}, version=event.revision)
        case ev.PostCorrected():
            return replace(state, version=event.revision)
        case ev.PostSubmitted():
            return replace(state, status="submitted", version=event.revision)
        case ev.PostRejected() | ev.PostUnpublished():
            return replace(state, status="draft", publish_at=None, version=event.revision)
        case ev.PostPinned() | ev.PostUnpinned():
            return replace(state, pinned=isinstance(event, ev.PostPinned), version=event.revision)
        case ev.PostMarkedKeyEvent() | ev.PostUnmarkedKeyEvent():
            return replace(state, key_event=isinstance(event, ev.PostMarkedKeyEvent),
                           version=event.revision)
        case ev.PollClosed():
            return replace(state, content=closed_poll(state.content, event),
                           version=event.revision)
    return state


def poll_in(body: Any) -> dict[str, Any] | None:
    """The poll block of a post's body (a post holds one at most), or None."""
    return next((block for block in body if isinstance(block, dict)
                 and block.get("type") == "poll"), None) if isinstance(body, list) else None


def closed_poll(content: dict[str, Any], event: ev.PollClosed,
                closed_at: str | None = None) -> dict[str, Any]:
    """A post's content with its poll closed: the final tally on each option (``votes``), the
    ``total`` and when (``closed_at``: the event's recorded time, where it is known)."""
    body = []
    for block in content.get("body") or ():
        if isinstance(block, dict) and block.get("type") == "poll" \
                and block.get("id") == event.poll_id:
            block = {**block, "closed_at": closed_at or "closed", "total": event.total,
                     "options": [{**option, "votes": event.tally.get(option["id"], 0)}
                                 for option in block["options"]]}
        body.append(block)
    return {**content, "body": body}


def evolve_token(state: Token | None, event: ev.DomainEvent) -> Token | None:
    """Apply one token event to a token's state."""
    match event:
        case ev.TokenCreated():
            return Token(event.token_id, event.name, event.role, event.secret_hash,
                         scoped=event.scoped)
        case ev.TokenRevoked() if state is not None:
            return replace(state, revoked=True)
    return state


def evolve_members(state: Members | None, event: ev.DomainEvent) -> Members | None:
    """Apply one membership event to a blog's members."""
    members = dict(state or {})
    match event:
        case ev.MemberAdded():
            members[event.person_id] = event.role
        case ev.MemberRemoved():
            members.pop(event.person_id, None)
    return members


def evolve_person(state: Account | None, event: ev.DomainEvent) -> Account | None:
    """Apply one event to a signed-in person's state."""
    if isinstance(event, ev.PersonRegistered):
        return Account(event.person_id, event.name, event.issuer, event.subject, event.role)
    return state


def fold(evolve: Callable[[S | None, ev.DomainEvent], S | None],
         events: Iterable[ev.DomainEvent]) -> S | None:
    """The state after all of a stream's events (None when it has none)."""
    state: S | None = None
    for event in events:
        state = evolve(state, event)
    return state


def fold_blog(events: Iterable[ev.DomainEvent]) -> Blog | None:
    """A blog's state after all its events."""
    return fold(evolve_blog, events)


def fold_post(events: Iterable[ev.DomainEvent]) -> Post | None:
    """A post's state after all its events."""
    return fold(evolve_post, events)


def fold_token(events: Iterable[ev.DomainEvent]) -> Token | None:
    """A token's state after all its events."""
    return fold(evolve_token, events)
