"""Opaque cursors: base64url of ``<kind>:<position>``. A malformed one is a 400."""

from __future__ import annotations

import base64
import binascii

#: positions are SQLite integers: anything larger was not issued by this API
MAX_POSITION = 2**62


class MalformedCursorError(ValueError):
    """Raised when a cursor was not made by this API (or for another order)."""


def encode_cursor(kind: str, position: int) -> str:
    """An opaque cursor for ``position`` of ``kind`` (``c`` changes, or a feed order)."""
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, *, field: str = "cursor") -> int:
    """The position inside ``cursor``; raises MalformedCursorError unless it is a ``kind`` one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        found, _, value = raw.partition(":")
        position = int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as e:
        raise MalformedCursorError(f"{field} is not a cursor this API issued") from e
    if found != kind or position < 0 or not value.isdigit() or position > MAX_POSITION:
        raise MalformedCursorError(f"{field} is not a cursor this API issued for this request")
    return position
