"""Domain events: frozen dataclasses with past-tense names. Payloads hold JSON values, and
instants as aware ``datetime``s (the storage edge, ``codec.py``, writes them in the log's one
time format).

Post events carry the post's ``revision`` (its public ``version``): one command is one revision,
even when it records several events (a post published already pinned).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

Content = dict[str, Any]  # headline, byline, body, display_time


#: the documented archive_after_days: what a blog created before the setting existed has
DEFAULT_ARCHIVE_AFTER_DAYS = 30
#: the language of a blog that names none (and of every blog created before languages)
DEFAULT_LANGUAGE = "en-US"


@dataclass(frozen=True)
class BlogCreated:
    """A blog was created."""

    blog_id: str
    slug: str
    title: str
    description: str
    authors: list[str]
    organization: str | None
    timezone: str
    #: close the blog after this many days without a visible change (None: never); blogs
    #: created before the setting existed have the documented default
    archive_after_days: int | None = DEFAULT_ARCHIVE_AFTER_DAYS
    #: BCP 47: the language of its reader page, Atom feed and JSON-LD
    language: str = DEFAULT_LANGUAGE


@dataclass(frozen=True)
class BlogUpdated:
    """Some of a blog's fields changed (title, slug, description, authors, organization, time
    zone, archiving, language, theme): ``changes`` holds their new values."""

    blog_id: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class BlogClosed:
    """A blog stopped taking posts."""

    blog_id: str


@dataclass(frozen=True)
class BlogReopened:
    """A closed blog takes posts again."""

    blog_id: str


@dataclass(frozen=True)
class PostDrafted:
    """A post was saved as a draft: readers cannot see it."""

    blog_id: str
    post_id: str
    revision: int
    content: Content
    #: who wrote it (a person id), when it was created by a person
    author: str | None = None


@dataclass(frozen=True)
class PostScheduled:
    """A post was set to go live by itself at ``publish_at`` (new content when it was created)."""

    blog_id: str
    post_id: str
    revision: int
    publish_at: datetime
    content: Content | None = None
    author: str | None = None


@dataclass(frozen=True)
class PostPublished:
    """A post went live (with its content when it was created published)."""

    blog_id: str
    post_id: str
    revision: int
    content: Content | None = None
    author: str | None = None


@dataclass(frozen=True)
class PostSubmitted:
    """A draft was sent to the blog's editors for approval."""

    blog_id: str
    post_id: str
    revision: int


@dataclass(frozen=True)
class PostRejected:
    """An editor sent a submitted post back to its author as a draft, with a note."""

    blog_id: str
    post_id: str
    revision: int
    note: str


@dataclass(frozen=True)
class PostUnpublished:
    """A published post went back to being a draft: readers no longer see it."""

    blog_id: str
    post_id: str
    revision: int
    reason: str | None = None


@dataclass(frozen=True)
class PostEdited:
    """Some of a post's content changed: ``changes`` holds only the changed fields' new values."""

    blog_id: str
    post_id: str
    revision: int
    changes: Content


@dataclass(frozen=True)
class PostDeleted:
    """A post left the feed (a scheduled one will never go live); its history stays."""

    blog_id: str
    post_id: str
    revision: int
    reason: str | None = None


@dataclass(frozen=True)
class PostCorrected:
    """A public correction was attached to a published post."""

    blog_id: str
    post_id: str
    revision: int
    correction_id: str
    text: str
    reason: str


@dataclass(frozen=True)
class PostRedacted:
    """A post's content was erased from every earlier event of its stream, for ``reason``
    (:func:`erase`): it left every reader view, and the record keeps only who, when and why."""

    blog_id: str
    post_id: str
    revision: int
    reason: str


#: the roles a person may have: admins run the newsroom (blogs, members, tokens); editors write
#: and approve, contributors write for approval (both per blog, through membership; an editor
#: with no blog acts on every blog, as in v1); auditors read everything; legal reads what an
#: auditor reads and redacts
ROLES = ("admin", "editor", "contributor", "auditor", "legal")
#: the roles one holds on a blog as its member
MEMBER_ROLES = ("editor", "contributor")
#: the roles that read everything an auditor reads: the log, history, as-of, verification
AUDIT_ROLES = ("auditor", "legal")
#: why a published post was corrected in public
CORRECTION_REASONS = ("factual", "spelling", "attribution", "update", "other")


#: what an erased post event keeps of each content field: its shape, nothing said
_ERASED_CONTENT: dict[str, Any] = {"headline": "", "byline": {"contributors": []}, "body": []}


def erase(type_: str, data: dict[str, Any]) -> dict[str, Any]:
    """A stored post event's payload with its content erased (headline, byline, body, the text
    of corrections and deletion reasons); ids, revision, times and flags stay, so the post's
    history still replays. Erasing an erased payload changes nothing."""
    erased = dict(data)
    for key in ("content", "changes"):
        content = erased.get(key)
        if isinstance(content, dict):
            erased[key] = {k: _ERASED_CONTENT.get(k, v) for k, v in content.items()}
    if type_ == "PostCorrected":
        erased["text"] = ""
    if type_ in ("PostDeleted", "PostUnpublished"):
        erased["reason"] = None
    if type_ == "PostRejected":
        erased["note"] = ""
    return erased


@dataclass(frozen=True)
class PostFlagChanged:
    """Base of the events that only flip a flag of a post (pinned, key event)."""

    blog_id: str
    post_id: str
    revision: int


@dataclass(frozen=True)
class PostPinned(PostFlagChanged):
    """A post was pinned to the top of the feed."""


@dataclass(frozen=True)
class PostUnpinned(PostFlagChanged):
    """A post was unpinned."""


@dataclass(frozen=True)
class PostMarkedKeyEvent(PostFlagChanged):
    """A post was marked as a key event of the story."""


@dataclass(frozen=True)
class PostUnmarkedKeyEvent(PostFlagChanged):
    """A post is no longer a key event."""


@dataclass(frozen=True)
class PollClosed:
    """A post's poll stopped taking votes (at its closing time, or an editor closed it):
    ``tally`` is each option's votes, ``total`` their sum. Votes are not events; this is how
    the result enters the audited record."""

    blog_id: str
    post_id: str
    revision: int
    poll_id: str
    tally: dict[str, int]
    total: int


@dataclass(frozen=True)
class TokenCreated:
    """An API token was issued; only the secret's SHA-256 is recorded."""

    token_id: str
    name: str
    role: str
    secret_hash: str
    #: its holder acts only on the blogs it is a member of (``--blog``), not newsroom-wide
    scoped: bool = False


@dataclass(frozen=True)
class TokenRevoked:
    """An API token was revoked: it authenticates no more."""

    token_id: str


@dataclass(frozen=True)
class MemberAdded:
    """A person became a member of a blog with a role (or their role there changed).

    ``source`` says how: ``api`` (an admin or editor), ``token`` (a scoped token was issued),
    ``sign-in`` (the identity provider's groups, at sign-in).
    """

    blog_id: str
    person_id: str
    role: str
    source: str = "api"


@dataclass(frozen=True)
class MemberRemoved:
    """A person is no longer a member of a blog: their access to it ends."""

    blog_id: str
    person_id: str


@dataclass(frozen=True)
class PersonRegistered:
    """Someone signed in through the identity provider for the first time (or with a new name
    or newsroom role): the newsroom knows them by ``person_id``."""

    person_id: str
    name: str
    issuer: str
    subject: str
    role: str | None = None


BlogEvent = BlogCreated | BlogUpdated | BlogClosed | BlogReopened
PostEvent = (PostDrafted | PostScheduled | PostPublished | PostEdited | PostDeleted | PostPinned
             | PostUnpinned | PostMarkedKeyEvent | PostUnmarkedKeyEvent | PostCorrected
             | PostRedacted | PostSubmitted | PostRejected | PostUnpublished | PollClosed)
TokenEvent = TokenCreated | TokenRevoked
MemberEvent = MemberAdded | MemberRemoved
DomainEvent = BlogEvent | PostEvent | TokenEvent | MemberEvent | PersonRegistered
