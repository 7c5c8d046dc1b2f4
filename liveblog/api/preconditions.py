"""If-Match as the API defines it (the ETags it names are built in ``http/caching.py``).

A post's ETag is its version, ``"<version>"``. A blog's is ``"<blog version>.<feed version>"``:
the blog's own revision, then a counter of every change readers can see. If-Match on a blog
PATCH compares the blog's own revision, so posts published meanwhile do not make it stale.
"""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import PreconditionRequired


class MalformedPreconditionError(ValueError):
    """Raised when If-Match does not hold a version this API issued."""


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
