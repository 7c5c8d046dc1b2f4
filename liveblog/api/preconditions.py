"""If-Match as the API defines it (the ETags it names are built in ``http/caching.py``).

A post's ETag is its version, ``"<version>"``. A blog's is ``"<blog version>.<feed version>"``:
the blog's own revision, then a counter of every change readers can see. If-Match on a blog
PATCH compares the blog's own revision, so posts published meanwhile do not make it stale.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import request
from werkzeug.exceptions import PreconditionRequired

from .docs import HEADER, answers, document_headers
from .problems import MalformedPreconditionError


def if_match_version(*, required: bool) -> int | None:
    """The version named by If-Match (a blog's own revision for ``"<v>.<feed>"``).

    :raises PreconditionRequired: no If-Match and ``required`` (428).
    :raises MalformedPreconditionError: If-Match is not one of our ETags (412: it cannot match).
    """
    raw = request.headers.get("If-Match")
    if raw is None:
        if required:
            raise PreconditionRequired("this request needs an If-Match header with the"
                                       " version you edited (the ETag of your last read)")
        return None
    tag = raw.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    head = tag.split(".", 1)[0]
    if not (head.isascii() and head.isdigit()) or len(head) > 18:  # no version is that long
        raise MalformedPreconditionError(f"If-Match {raw!r} is not a version this API issued")
    return int(head)


def if_match(*, required: bool, what: str, status: int = 200) -> Callable[[Any], Any]:
    """Check a change's If-Match and document it, in one place: the view gets the version it
    names as ``expected`` (None without one, when not ``required``); a missing one is a 428,
    one that is not ours a 412 (a stale one is the service's 412); the new ETag goes with the
    view's success ``status``."""

    def decorator(view: Any) -> Any:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            return view(*args, expected=if_match_version(required=required), **kwargs)

        documented = document_headers(
            [{"in": "header", "name": "If-Match", "required": required,
              "schema": {"type": "string"},
              "description": f"the ETag of the {what} you started from; a stale one is a 412"
                             + ("" if required
                                else " (without it the change is unconditional)")}],
            {status: {"headers": {"ETag": {**HEADER,
                                           "description": f"the {what}'s new version"}}}}
            if required else {})(checked)
        return answers(documented, *((412, 428) if required else (412,)))

    return decorator
