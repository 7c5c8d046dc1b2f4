"""decide(state, command, now) -> events. Pure: no I/O, no clock, no Flask.

Rules that need state live here (blog closed, illegal transitions, a time already past); shape
and syntax were checked at the edge. Slug uniqueness is left to the blogs table's UNIQUE index.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import commands as cmd
from . import events as ev
from .errors import (
    BlogClosedError,
    BlogNotFoundError,
    ConflictError,
    IllegalTransitionError,
    InvalidCommandError,
    NotFoundError,
    PostNotFoundError,
    TokenNotFoundError,
)
from .model import Account, Blog, Members, Post, Token, poll_in


def decide_blog(blog: Blog | None, command: cmd.BlogCommand, now: datetime) -> list[Any]:
    """Events for a command on a blog's own stream."""
    if isinstance(command, cmd.CreateBlog):
        if blog is not None:
            raise ConflictError(f"blog {command.blog_id} already exists")
        return [ev.BlogCreated(command.blog_id, command.slug, command.title, command.description,
                               list(command.authors), command.organization, command.timezone,
                               command.archive_after_days, command.language)]
    if blog is None:
        raise BlogNotFoundError(f"no blog {command.blog_id}")
    match command:
        case cmd.UpdateBlog():
            changes = {k: v for k, v in command.changes.items() if getattr(blog, k) != v}
            return [ev.BlogUpdated(blog.id, changes)] if changes else []
        case cmd.CloseBlog():
            if blog.status == "closed":
                raise IllegalTransitionError("the blog is already closed")
            return [ev.BlogClosed(blog.id)]
        case cmd.ReopenBlog():
            if blog.status == "live":
                raise IllegalTransitionError("the blog is not closed")
            return [ev.BlogReopened(blog.id)]
    raise TypeError(f"not a blog command: {command!r}")


def _future(moment: datetime, now: datetime) -> datetime:
    if moment <= now:
        raise InvalidCommandError("publish_at", "publish_at must be in the future")
    return moment


def decide_post(blog: Blog | None, post: Post | None, command: cmd.PostCommand,
                now: datetime) -> list[Any]:
    """Events for a command on a post's stream, given its blog's state."""
    if blog is None:
        raise BlogNotFoundError(f"no blog {command.blog_id}")
    if isinstance(command, cmd.CreatePost):
        return _create_post(blog, post, command, now)
    if post is None or post.blog_id != blog.id:
        raise PostNotFoundError(f"no post {command.post_id} in this blog")
    revision = post.version + 1
    ids = (blog.id, post.id, revision)
    if post.status == "redacted":
        if isinstance(command, cmd.RedactPost):
            raise IllegalTransitionError("the post is already redacted")
        if isinstance(command, cmd.PublishDuePost):
            return []
        # gone from the record for a legal reason: there is nothing left to act on
        raise PostNotFoundError(f"no post {command.post_id} in this blog: it was redacted")
    match command:
        case cmd.RedactPost():
            # any post, whatever its status or its blog's: the law does not wait
            return [ev.PostRedacted(*ids, reason=command.reason)]
        case cmd.EditPost():
            return _edit_post(blog, post, command, now, ids)
        case cmd.DeletePost():
            if post.status == "deleted":
                raise IllegalTransitionError("the post is already deleted")
            return [ev.PostDeleted(*ids, reason=command.reason)]
        case cmd.CorrectPost():
            # a correction is public: only a post readers can see has one (a closed blog's
            # posts too: the record may always be put right)
            if post.status != "published":
                raise IllegalTransitionError(f"a {post.status} post cannot be corrected: only a"
                                             " published one")
            return [ev.PostCorrected(*ids, command.correction_id, command.text,
                                     command.reason)]
        case cmd.SubmitPost():
            if post.status != "draft":
                raise IllegalTransitionError(f"a {post.status} post cannot be submitted: only a"
                                             " draft")
            return [ev.PostSubmitted(*ids)]
        case cmd.ApprovePost():
            return _approve(blog, post, command, now, ids)
        case cmd.RejectPost():
            if post.status != "submitted":
                raise IllegalTransitionError(f"a {post.status} post cannot be rejected: only a"
                                             " submitted one")
            return [ev.PostRejected(*ids, note=command.note)]
        case cmd.UnpublishPost():
            if post.status != "published":
                raise IllegalTransitionError(f"a {post.status} post cannot be unpublished: only"
                                             " a published one")
            return [ev.PostUnpublished(*ids, reason=command.reason)]
        case cmd.ClosePoll():
            return _close_poll(post, command, ids)
        case cmd.PublishDuePost():
            # Two schedulers firing at once: the second finds it published and does nothing.
            if post.status != "scheduled" or post.publish_at is None:
                return []
            if post.publish_at > now:
                return []
            if blog.status == "closed":
                return []  # a closed blog publishes nothing: it waits for the blog to reopen
            return [ev.PostPublished(*ids)]
    raise TypeError(f"not a post command: {command!r}")


def _close_poll(post: Post, command: cmd.ClosePoll, ids: tuple[str, str, int]) -> list[Any]:
    poll = poll_in(post.content.get("body"))
    if poll is None or poll.get("id") != command.poll_id:
        raise NotFoundError(f"no poll {command.poll_id} in this post")
    if poll.get("closed_at") is not None:
        return []  # closed already (two schedulers, or an editor and the clock)
    options = [option["id"] for option in poll["options"]]
    tally = {option: int(command.tally.get(option, 0)) for option in options}
    return [ev.PollClosed(*ids, poll_id=command.poll_id, tally=tally,
                          total=sum(tally.values()))]


def _approve(blog: Blog, post: Post, command: cmd.ApprovePost, now: datetime,
             ids: tuple[str, str, int]) -> list[Any]:
    if post.status != "submitted":
        raise IllegalTransitionError(f"a {post.status} post cannot be approved: only a"
                                     " submitted one")
    if command.publish_at is not None:
        return [ev.PostScheduled(*ids, publish_at=_future(command.publish_at, now))]
    if blog.status == "closed":
        raise BlogClosedError("the blog is closed: it publishes nothing until it reopens")
    return [ev.PostPublished(*ids)]


def _create_post(blog: Blog, post: Post | None, command: cmd.CreatePost,
                 now: datetime) -> list[Any]:
    if post is not None:
        raise ConflictError(f"post {command.post_id} already exists")
    if blog.status == "closed":
        raise BlogClosedError("the blog is closed: it takes no new posts")
    ids = (blog.id, command.post_id, 1)
    first: Any
    author = command.author
    if command.publish_at is not None:
        first = ev.PostScheduled(*ids, publish_at=_future(command.publish_at, now),
                                 content=command.content, author=author)
    elif command.status in ("draft", "submitted"):
        first = ev.PostDrafted(*ids, content=command.content, author=author)
    else:
        first = ev.PostPublished(*ids, content=command.content, author=author)
    events: list[Any] = [first]
    if command.status == "submitted" and command.publish_at is None:
        events.append(ev.PostSubmitted(*ids))
    if command.pinned:
        events.append(ev.PostPinned(*ids))
    if command.key_event:
        events.append(ev.PostMarkedKeyEvent(*ids))
    return events


def _edit_post(blog: Blog, post: Post, command: cmd.EditPost, now: datetime,
               ids: tuple[str, str, int]) -> list[Any]:
    if post.status == "deleted":
        raise IllegalTransitionError("a deleted post cannot be changed")
    events: list[Any] = []
    changes = {k: v for k, v in command.changes.items() if post.content.get(k) != v}
    if changes:
        events.append(ev.PostEdited(*ids, changes=changes))
    if command.pinned is not None and command.pinned != post.pinned:
        events.append(ev.PostPinned(*ids) if command.pinned else ev.PostUnpinned(*ids))
    if command.key_event is not None and command.key_event != post.key_event:
        events.append(ev.PostMarkedKeyEvent(*ids) if command.key_event
                      else ev.PostUnmarkedKeyEvent(*ids))
    if command.publish:
        if post.status == "published":
            raise IllegalTransitionError("the post is already published")
        if blog.status == "closed":
            raise BlogClosedError("the blog is closed: it publishes nothing until it reopens")
        events.append(ev.PostPublished(*ids))
    elif command.publish_at is not None:
        if post.status == "published":
            raise IllegalTransitionError("a published post cannot be scheduled")
        publish_at = _future(command.publish_at, now)
        if publish_at != post.publish_at:
            events.append(ev.PostScheduled(*ids, publish_at=publish_at))
    return events


def decide_token(token: Token | None, command: cmd.TokenCommand) -> list[Any]:
    """Events for a command on a token's stream."""
    match command:
        case cmd.CreateToken():
            if token is not None:
                raise ConflictError(f"token {command.token_id} already exists")
            return [ev.TokenCreated(command.token_id, command.name, command.role,
                                    command.secret_hash, command.scoped)]
        case cmd.RevokeToken():
            if token is None:
                raise TokenNotFoundError(f"no token {command.token_id}")
            if token.revoked:
                raise IllegalTransitionError(f"token {command.token_id} is already revoked")
            return [ev.TokenRevoked(token.id)]
    raise TypeError(f"not a token command: {command!r}")


def decide_members(blog: Blog | None, members: Members,
                   command: cmd.SetMember | cmd.RemoveMember) -> list[Any]:
    """Events for a membership change of a blog (nothing when it already is so)."""
    if blog is None:
        raise BlogNotFoundError(f"no blog {command.blog_id}")
    current = members.get(command.person_id)
    if isinstance(command, cmd.SetMember):
        if current == command.role:
            return []
        return [ev.MemberAdded(blog.id, command.person_id, command.role, command.source)]
    if current is None:
        raise NotFoundError(f"{command.person_id} is not a member of this blog")
    return [ev.MemberRemoved(blog.id, command.person_id)]


def decide_person(account: Account | None, command: cmd.RegisterPerson) -> list[Any]:
    """Record a signed-in person when they are new, or their name or role changed."""
    if account is not None and (account.name, account.role) == (command.name, command.role):
        return []
    return [ev.PersonRegistered(command.person_id, command.name, command.issuer,
                                command.subject, command.role)]
