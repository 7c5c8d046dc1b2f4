"""Who may do what on which blog: the one place that decides it.

Every check the API and the service make is a row of :data:`RULES`: an action name and a rule
of the person, the blog and (for post actions) the post's author and status. The service checks
every command against the folded state it decides on, inside the append's transaction; the API
checks reads. ``tests/api/test_access.py`` walks every route of the OpenAPI document against
every kind of person.

A person's newsroom role (``admin``, ``editor`` with no blog, ``auditor``, ``legal``) holds on
every blog; ``editor`` and ``contributor`` memberships hold on one blog each. On a blog one is
not a member of, one is a reader.
"""

from __future__ import annotations

__all__ = ["RULES", "ForbiddenError", "Person", "PostFacts", "authorize", "check", "may"]

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from . import commands as cmd
from .errors import ForbiddenError
from .events import AUDIT_ROLES
from .model import Blog, Post

#: the statuses a contributor may still change their own post in
UNPUBLISHED = ("draft", "submitted")


@dataclass(frozen=True)
class Person:
    """Who is asking: a token holder or someone signed in.

    :param role: the newsroom-wide role (``None``: only what memberships give).
    :param memberships: blog id -> ``editor`` | ``contributor``.
    """

    id: str
    name: str
    role: str | None
    memberships: Mapping[str, str] = field(default_factory=dict)

    def on(self, blog_id: str | None) -> str | None:
        """The role this person writes with on the blog: ``editor``, ``contributor``, None."""
        if self.role in ("admin", "editor"):
            return "editor"
        return self.memberships.get(blog_id) if blog_id is not None else None


@dataclass(frozen=True)
class PostFacts:
    """What a post rule needs to know of the post."""

    author: str | None
    status: str


Rule = Callable[[Person, "str | None", "PostFacts | None"], bool]


def _editor(p: Person, blog: str | None, post: PostFacts | None) -> bool:
    return p.on(blog) == "editor"


def _writer(p: Person, blog: str | None, post: PostFacts | None) -> bool:
    return p.on(blog) is not None


def _author(p: Person, post: PostFacts | None) -> bool:
    return post is not None and post.author is not None and post.author == p.id


def _own_unpublished(p: Person, blog: str | None, post: PostFacts | None) -> bool:
    """An editor of the blog; or a contributor, on their own post that is not yet out."""
    if _editor(p, blog, post):
        return True
    return (p.on(blog) == "contributor" and _author(p, post) and post is not None
            and post.status in UNPUBLISHED)


def _sees_unpublished(p: Person, blog: str | None, post: PostFacts | None) -> bool:
    return p.role in AUDIT_ROLES or _own_unpublished(p, blog, post)


def _member_or_auditor(p: Person, blog: str | None, post: PostFacts | None) -> bool:
    return p.role in ("admin", *AUDIT_ROLES) or _writer(p, blog, post)


def _role(*roles: str) -> Rule:
    return lambda p, blog, post: p.role in roles


def _anyone(p: Person, blog: str | None, post: PostFacts | None) -> bool:
    return True


#: action -> who may. The API's routes and the service's commands name these actions.
RULES: dict[str, Rule] = {
    # blogs
    "blog.create": _role("admin", "editor"),
    "blog.change": _editor,  # PATCH, close, reopen
    # posts, as the service decides them
    "post.create": _writer,  # a contributor's as a draft or submitted
    "post.publish": _editor,  # publish or schedule, approve, unpublish, pin, key event
    "post.edit": _own_unpublished,
    "post.delete": _own_unpublished,
    "post.submit": lambda p, blog, post: _writer(p, blog, post) and _author(p, post),
    "post.review": _editor,  # reject with a note
    "post.correct": _editor,
    "post.redact": _role("legal"),
    # reading what readers do not see
    "post.read_unpublished": _sees_unpublished,
    "post.list_unpublished": lambda p, blog, post: p.role in AUDIT_ROLES or _writer(p, blog,
                                                                                    post),
    "post.history": _role(*AUDIT_ROLES),
    "audit.read": _role(*AUDIT_ROLES),  # the log, verification, checkpoints, as-of
    # the console's tools
    "presence": _writer,
    "media.upload": lambda p, blog, post: p.role in ("admin", "editor") or bool(p.memberships),
    # readers' questions: the blog's writers moderate them, its editors see the contacts
    "questions.moderate": _writer,
    "questions.contact": _editor,
    # people
    "members.read": _member_or_auditor,
    "members.manage": _role("admin"),  # any role
    "members.manage_contributors": _editor,  # an editor of the blog: contributors only
    "me": _anyone,
    # operations
    "metrics.read": _role("admin", *AUDIT_ROLES),
    "webhooks.manage": _role("admin"),
}


def may(person: Person | None, action: str, blog_id: str | None = None,
        post: PostFacts | None = None) -> bool:
    """Whether ``person`` may do ``action`` (None: no one signed in, who may do none)."""
    rule = RULES[action]  # a KeyError: an action no rule names, a bug
    return person is not None and rule(person, blog_id, post)


def check(person: Person | None, action: str, blog_id: str | None = None,
          post: PostFacts | None = None, *, detail: str | None = None) -> None:
    """:raises ForbiddenError: the person may not do ``action``."""
    if not may(person, action, blog_id, post):
        raise ForbiddenError(detail or _explain(person, action, blog_id))


def _explain(person: Person | None, action: str, blog_id: str | None) -> str:
    if person is None:
        return "this needs a signed-in person or a bearer token"
    what = action.replace("_", " ").replace(".", ": ")
    on = person.on(blog_id)
    if blog_id is not None and on is None and person.role is None:
        return f"{person.name} is not a member of this blog ({what})"
    held = on or person.role or "reader"
    article = "an" if held[0] in "aeiou" else "a"
    return f"{article} {held} cannot do this ({what})"


def member_change_allowed(person: Person | None, blog_id: str, role: str | None,
                          current: str | None) -> bool:
    """Whether ``person`` may set someone's role on the blog to ``role`` (None: remove them)
    when they now hold ``current``: admins any; the blog's editors only contributors."""
    if may(person, "members.manage", blog_id):
        return True
    touches_editor = "editor" in (role, current)
    return may(person, "members.manage_contributors", blog_id) and not touches_editor


def authorize(person: Person | None, command: cmd.Command, blog: Blog | None,
              post: Post | None, members: Mapping[str, str] | None = None) -> None:
    """Check a command against the state it is decided on (the service calls this inside the
    append's transaction, so no change between a check and its write can slip through).

    ``person`` None is a trusted caller: the CLI, the scheduler, an import.

    :raises ForbiddenError: the person may not.
    """
    if person is None:
        return
    blog_id = getattr(command, "blog_id", None)
    missing_blog = blog is None and blog_id is not None and not isinstance(command,
                                                                            cmd.CreateBlog)
    missing_post = post is None and hasattr(command, "post_id") and not isinstance(
        command, cmd.CreatePost)
    if missing_blog or missing_post or (post is not None and post.blog_id != blog_id):
        return  # deciding says 404: nothing there to be allowed or refused
    for action in _actions(command, post):
        check(person, action, blog_id, PostFacts(post.author, post.status) if post else None)
    if isinstance(command, cmd.SetMember | cmd.RemoveMember):
        current = (members or {}).get(command.person_id)
        role = command.role if isinstance(command, cmd.SetMember) else None
        if not member_change_allowed(person, command.blog_id, role, current):
            raise ForbiddenError("only an admin manages a blog's editors; its editors may add"
                                 " and remove contributors")


def _actions(command: cmd.Command, post: Post | None) -> list[str]:
    """The rules a command must pass."""
    match command:
        case cmd.CreateBlog():
            return ["blog.create"]
        case cmd.UpdateBlog() | cmd.CloseBlog() | cmd.ReopenBlog():
            return ["blog.change"]
        case cmd.CreatePost():
            publishes = (command.status not in UNPUBLISHED or command.publish_at is not None
                         or command.pinned or command.key_event)
            return ["post.create", *(["post.publish"] if publishes else [])]
        case cmd.EditPost():
            publishes = command.publish or command.publish_at is not None or (
                post is not None and (
                    (command.pinned is not None and command.pinned != post.pinned)
                    or (command.key_event is not None and command.key_event != post.key_event)))
            return ["post.edit", *(["post.publish"] if publishes else [])]
        case cmd.DeletePost():
            return ["post.delete"]
        case cmd.SubmitPost():
            return ["post.submit"]
        case cmd.ApprovePost() | cmd.UnpublishPost() | cmd.ClosePoll():
            return ["post.publish"]
        case cmd.RejectPost():
            return ["post.review"]
        case cmd.CorrectPost():
            return ["post.correct"]
        case cmd.RedactPost():
            return ["post.redact"]
        case cmd.SetMember() | cmd.RemoveMember():
            return []  # decided on the member's current role, above
    raise ForbiddenError("only the newsroom's own tools do this")
