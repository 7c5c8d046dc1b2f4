"""Domain errors. They carry no HTTP status: api/problems.py maps them."""

from __future__ import annotations


class DomainError(Exception):
    """Base class of every rule the domain enforces."""


class NotFoundError(DomainError):
    """Raised when something asked for does not exist (or is not visible to the asker)."""


class BlogNotFoundError(NotFoundError):
    """Raised when no blog has that id or slug."""


class PostNotFoundError(NotFoundError):
    """Raised when the blog has no post with that id (or a reader asks for an unpublished one)."""


class TokenNotFoundError(NotFoundError):
    """Raised when no token has that id."""


class ForbiddenError(DomainError):
    """Raised when the person may not do this (on this blog, to this post): see access.py."""


class ConflictError(DomainError):
    """Raised when a command is not allowed in the current state."""


class SlugTakenError(ConflictError):
    """Raised when another blog already has the slug."""


class BlogClosedError(ConflictError):
    """Raised when a post is added to a closed blog."""


class IllegalTransitionError(ConflictError):
    """Raised when a post or blog cannot make the asked change from its status."""


class StaleVersionError(ConflictError):
    """Raised when the If-Match version is not the current one."""

    def __init__(self, expected: int | str, actual: int | str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"the current version is {actual}, the request was made against "
                         f"{expected}")


class InvalidCommandError(DomainError):
    """Raised when a command is invalid in a way only the domain can tell (e.g. a past time)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)
