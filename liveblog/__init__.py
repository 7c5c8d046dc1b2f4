"""liveblog: an event-sourced live-blog backend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # imported on first use, not with the package: `liveblog serve` must patch for gevent
    # before anything imports psycopg or starts a thread (see liveblog.__main__)
    if name == "create_app":
        from .app import create_app  # on first use: see above

        return create_app
    raise AttributeError(f"module 'liveblog' has no attribute {name!r}")
