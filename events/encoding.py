"""The one encoding of the log: canonical JSON (what hashes are taken over), compact JSON for
read models, fast parsing, and the one recorded-time format (RFC 3339 UTC, microseconds, ``Z``).
Pure: no SQL, no I/O.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from orjson import OPT_SORT_KEYS
from orjson import dumps as _orjson_dumps
from orjson import loads as _orjson_loads

#: JSON string escaping, as canonical JSON writes strings (C speed)
encode_str = json.encoder.encode_basestring

_canonical_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                      allow_nan=False)


def _unserialisable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# json.dumps() and JSONEncoder.encode() build a new C encoder on every call; appends encode two
# payloads per event, so the C encoder is built once here (circular references are not checked:
# payloads are plain JSON values).
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_c_encode = (
    _c_make_encoder(None, _unserialisable, encode_str, None, ":", ",", True, False, False)
    if _c_make_encoder is not None else None
)


def canonical(value: Any) -> str:
    """Return the canonical JSON text of ``value``: sorted keys, compact, non-ASCII kept.

    :raises TypeError: for a value JSON cannot hold; :raises ValueError: for NaN or infinity.
    """
    if type(value) is dict and _c_encode is not None:
        return "".join(_c_encode(value, 0))
    return str(_canonical_encoder.encode(value))


#: the integers a payload may hold: those orjson reads back exactly (64 bits)
INT_MIN, INT_MAX = -(2**63), 2**64 - 1


def check_integers(value: Any) -> None:
    """Refuse a payload holding an integer outside 64 bits (orjson would read it back as a
    float). orjson itself tells, at C speed; only a payload it refuses is walked.

    :raises ValueError: naming the range.
    """
    try:
        _orjson_dumps(value)
    except TypeError:
        if _has_long_integer(value):
            raise ValueError(
                f"integers in events must lie between {INT_MIN} and {INT_MAX}") from None


def _has_long_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not INT_MIN <= value <= INT_MAX
    if isinstance(value, dict):
        return any(_has_long_integer(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_long_integer(v) for v in value)
    return False


def compact(value: Any) -> str:
    """Compact JSON with sorted keys, non-ASCII kept (orjson): for read models, where the same
    value must always give the same text, not for hashing (:func:`canonical` decides that)."""
    try:
        return _orjson_dumps(value, option=OPT_SORT_KEYS).decode()
    except TypeError:  # what orjson cannot hold (integers past 64 bits): the slow way
        return canonical(value)


def parse(text: str) -> Any:
    """Parse JSON text as :func:`json.loads` does, faster (orjson) for the compact text the store
    holds; what orjson refuses is left to json.loads to decide. Integers past 64 bits, which
    orjson would read as floats, never reach the log (:func:`check_integers`).

    :raises json.JSONDecodeError: for text that is not one JSON value.
    """
    try:
        return _orjson_loads(text)
    except ValueError:
        return json.loads(text)


class StoredTime(datetime):
    """A recorded time read from the log, which keeps the text it was stored as, so formatting
    it again (every projection does, for every event replayed) costs nothing."""

    __slots__ = ("text",)
    text: str

    @classmethod
    def parse(cls, text: str) -> StoredTime:
        """The stored time ``text`` (RFC 3339 UTC, as :func:`format_time` wrote it)."""
        moment = cls.fromisoformat(text)
        moment.text = text
        return moment


#: the last time formatted and its text, swapped as one tuple (threads share it)
_last_time: tuple[datetime | None, str] = (None, "")


def format_time(moment: datetime) -> str:
    """Return ``moment`` as RFC 3339 UTC with microseconds and ``Z`` (the stored time format)."""
    global _last_time
    if type(moment) is StoredTime:
        # read from the log: the text it was stored as (a time computed from one, e.g. by
        # adding a timedelta, is a StoredTime without it)
        stored: str | None = getattr(moment, "text", None)
        if stored is not None:
            return stored
    last = _last_time
    if moment is last[0]:
        return last[1]  # the events of one append, or of a replayed batch, share one time
    text = _format_time(moment)
    _last_time = (moment, text)
    return text


def _format_time(moment: datetime) -> str:
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("recorded times must be timezone-aware")
    if offset:
        moment = moment.astimezone(UTC)
    # isoformat is C code, several times faster than strftime; this is on every replayed event
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
