"""Commands: frozen dataclasses with imperative names, already validated at the edge."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .events import DEFAULT_ARCHIVE_AFTER_DAYS, DEFAULT_LANGUAGE


@dataclass(frozen=True)
class CreateBlog:
    """Create a blog."""

    blog_id: str
    slug: str
    title: str
    description: str = ""
    authors: list[str] = field(default_factory=list)
    organization: str | None = None
    timezone: str = "UTC"
    archive_after_days: int | None = DEFAULT_ARCHIVE_AFTER_DAYS
    language: str = DEFAULT_LANGUAGE


@dataclass(frozen=True)
class UpdateBlog:
    """Change some of a blog's fields (only those given)."""

    blog_id: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class CloseBlog:
    """Stop a blog taking posts."""

    blog_id: str


@dataclass(frozen=True)
class ReopenBlog:
    """Let a closed blog take posts again."""

    blog_id: str


@dataclass(frozen=True)
class CreatePost:
    """Create a post: published now (default), a draft, or scheduled for ``publish_at``."""

    blog_id: str
    post_id: str
    content: dict[str, Any]
    status: str = "published"
    publish_at: datetime | None = None
    pinned: bool = False
    key_event: bool = False
    #: who writes it (a person id); None for the CLI and imports
    author: str | None = None


@dataclass(frozen=True)
class EditPost:
    """Change a post: content fields, pin, key event, publish now or (re)schedule."""

    blog_id: str
    post_id: str
    changes: dict[str, Any] = field(default_factory=dict)
    pinned: bool | None = None
    key_event: bool | None = None
    publish: bool = False
    publish_at: datetime | None = None


@dataclass(frozen=True)
class DeletePost:
    """Take a post out of the feed (or cancel a scheduled one)."""

    blog_id: str
    post_id: str
    reason: str | None = None


@dataclass(frozen=True)
class CorrectPost:
    """Attach a public correction to a published post (what was wrong, and why)."""

    blog_id: str
    post_id: str
    correction_id: str
    text: str
    reason: str


@dataclass(frozen=True)
class RedactPost:
    """Erase a post's content from the record for a legal reason (a court order, a privacy
    request): the legal role's command."""

    blog_id: str
    post_id: str
    reason: str


@dataclass(frozen=True)
class SubmitPost:
    """Send a draft to the blog's editors for approval (its author's command)."""

    blog_id: str
    post_id: str


@dataclass(frozen=True)
class ApprovePost:
    """Publish a submitted post now, or schedule it for a future ``publish_at``."""

    blog_id: str
    post_id: str
    publish_at: datetime | None = None


@dataclass(frozen=True)
class RejectPost:
    """Send a submitted post back to its author as a draft, with a note."""

    blog_id: str
    post_id: str
    note: str


@dataclass(frozen=True)
class UnpublishPost:
    """Take a published post back to draft: readers see it leave."""

    blog_id: str
    post_id: str
    reason: str | None = None


@dataclass(frozen=True)
class PublishDuePost:
    """Publish a scheduled post whose time has come (the scheduler's command)."""

    blog_id: str
    post_id: str


@dataclass(frozen=True)
class CreateToken:
    """Issue an API token for a role."""

    token_id: str
    name: str
    role: str
    secret_hash: str
    scoped: bool = False


@dataclass(frozen=True)
class RevokeToken:
    """Revoke an API token."""

    token_id: str


@dataclass(frozen=True)
class SetMember:
    """Make a person a member of a blog with a role (or change their role there)."""

    blog_id: str
    person_id: str
    role: str
    source: str = "api"


@dataclass(frozen=True)
class RemoveMember:
    """End a person's membership of a blog."""

    blog_id: str
    person_id: str


@dataclass(frozen=True)
class RegisterPerson:
    """Record who signed in through the identity provider (nothing when nothing changed)."""

    person_id: str
    name: str
    issuer: str
    subject: str
    role: str | None = None


BlogCommand = CreateBlog | UpdateBlog | CloseBlog | ReopenBlog
@dataclass(frozen=True)
class ClosePoll:
    """Close a post's poll with its final tally (counted where the votes are, liveblog.votes);
    closing a closed poll records nothing."""

    blog_id: str
    post_id: str
    poll_id: str
    tally: dict[str, int]


PostCommand = (CreatePost | EditPost | DeletePost | CorrectPost | RedactPost
               | PublishDuePost | SubmitPost | ApprovePost | RejectPost | UnpublishPost
               | ClosePoll)
TokenCommand = CreateToken | RevokeToken
MemberCommand = SetMember | RemoveMember
Command = BlogCommand | PostCommand | TokenCommand | MemberCommand | RegisterPerson
