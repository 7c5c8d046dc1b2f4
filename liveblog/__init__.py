"""liveblog: an event-sourced live-blog backend."""

from .app import create_app

__all__ = ["create_app"]
