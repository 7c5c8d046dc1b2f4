"""The hash chain: canonical JSON, the hash of each record over the previous one, and verify().

``hash = SHA-256(canonical({position, stream_id, version, type, schema_version, data, metadata,
recorded_at, prev_hash}))`` where canonical JSON has sorted keys, compact separators and UTF-8.
``data`` and ``metadata`` are stored in canonical form, so the hash input can be assembled from the
stored text without parsing it again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from orjson import OPT_SORT_KEYS
from orjson import dumps as _orjson_dumps
from orjson import loads as _orjson_loads

from .backends import Connection
from .records import Head, VerifyResult

GENESIS_HASH = "0" * 64
_HEX = re.compile("[0-9a-f]{64}")

_canonical_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                      allow_nan=False)
_encode_str = json.encoder.encode_basestring


def _unserialisable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# json.dumps() and JSONEncoder.encode() build a new C encoder on every call; appends encode two
# payloads per event, so the C encoder is built once here (circular references are not checked:
# payloads are plain JSON values).
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_c_encode = (
    _c_make_encoder(None, _unserialisable, _encode_str, None, ":", ",", True, False, False)
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


#: the last time formatted and its text, swapped as one tuple (threads share it)
_last_time: tuple[datetime | None, str] = (None, "")


def format_time(moment: datetime) -> str:
    """Return ``moment`` as RFC 3339 UTC with microseconds and ``Z`` (the stored time format)."""
    global _last_time
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


Row = tuple[int, str, int, str, int, str, str, str, str, str]


def _digest(data_text: str, metadata_text: str, position: int, prev_hash: str, time_json: str,
            schema_version: int, stream_json: str, type_json: str, version: int) -> str:
    """The hash of one record, its canonical text built in place: keys in sorted order, data and
    metadata already canonical, the strings already JSON-escaped (``*_json``), and a hex
    ``prev_hash`` (which needs no escaping). The one place the hashed text is written."""
    return hashlib.sha256(
        f'{{"data":{data_text},"metadata":{metadata_text},"position":{position},'
        f'"prev_hash":"{prev_hash}","recorded_at":{time_json},'
        f'"schema_version":{schema_version},"stream_id":{stream_json},"type":{type_json},'
        f'"version":{version}}}'.encode()).hexdigest()


def seal(stream_id: str, recorded_at: str, position: int, version: int, prev_hash: str,
         items: Iterable[tuple[str, int, str, str]]) -> list[Row]:
    """Chain one append's events onto the log: their stored rows, each with its hash.

    :param position: the log's head position; the first event gets the next one.
    :param version: the stream's current version; the first event gets the next one.
    :param prev_hash: the head's hash, a lowercase hex digest.
    :param items: each event's ``(type, schema_version, data_text, metadata_text)``, with data
        and metadata in canonical form.
    :returns: rows ``(position, stream_id, version, type, schema_version, data, metadata,
        recorded_at, prev_hash, hash)``; each hash is :func:`record_hash` of its row.

    The hashed text is built in place, keys in sorted order (data, metadata, position,
    prev_hash, recorded_at, schema_version, stream_id, type, version): with canonical data and
    metadata and a hex ``prev_hash`` (which JSON needs no escaping for) it is exactly
    ``canonical(record)``.
    """
    # Stream and time are the same for the whole batch: they are escaped once.
    time_json = _encode_str(recorded_at)
    stream_json = _encode_str(stream_id)
    types: dict[str, str] = {}
    rows: list[Row] = []
    append = rows.append
    for type_, schema_version, data_text, metadata_text in items:
        position += 1
        version += 1
        type_text = types.get(type_)
        if type_text is None:
            type_text = types[type_] = _encode_str(type_)
        digest = _digest(data_text, metadata_text, position, prev_hash, time_json,
                         schema_version, stream_json, type_text, version)
        append((position, stream_id, version, type_, schema_version, data_text, metadata_text,
                recorded_at, prev_hash, digest))
        prev_hash = digest
    return rows


def is_hex_digest(value: str) -> bool:
    """True when ``value`` looks like a SHA-256 hex digest (64 lowercase hex digits)."""
    return len(value) == 64 and _HEX.fullmatch(value) is not None


def record_hash(
    position: int,
    stream_id: str,
    version: int,
    type: str,
    schema_version: int,
    data_text: str,
    metadata_text: str,
    recorded_at: str,
    prev_hash: str,
) -> str:
    """Return the SHA-256 hex digest of one record's canonical encoding.

    :param data_text: the canonical JSON text of the payload (as stored).
    :param metadata_text: the canonical JSON text of the metadata (as stored).
    """
    if not is_hex_digest(prev_hash):
        return hashlib.sha256(canonical({
            "position": position, "stream_id": stream_id, "version": version, "type": type,
            "schema_version": schema_version, "data": json.loads(data_text),
            "metadata": json.loads(metadata_text), "recorded_at": recorded_at,
            "prev_hash": prev_hash}).encode("utf-8")).hexdigest()
    return seal(stream_id, recorded_at, position - 1, version - 1, prev_hash,
                ((type, schema_version, data_text, metadata_text),))[0][9]


def check_rows(rows: Iterable[Row], start: Head | None = None) -> VerifyResult:
    """Check a run of stored rows in position order against the chain rules.

    Each row is ``(position, stream_id, version, type, schema_version, data, metadata,
    recorded_at, prev_hash, hash)``. Stops at the first bad row.

    Each hash is recomputed as :func:`seal` computed it (:func:`_digest`); the parts a run of
    rows shares (a batch's stream and time, the few event types) are escaped once.

    :param start: the head the run continues from (genesis when ``None``).
    """
    head = start or Head(0, GENESIS_HASH)
    expected, link = head.position + 1, head.hash
    checked = 0
    encode = _encode_str
    stream_text = time_text = ""
    last_stream = last_time = None
    types: dict[str, str] = {}
    for row in rows:
        position, stream_id, version, type_, sv, data, meta, recorded_at, prev_hash, hash_ = row
        problem = None
        if position != expected:
            problem = f"gap: expected position {expected}, found {position}"
        elif prev_hash != link:
            problem = "broken link: prev_hash does not match the previous event's hash"
        else:
            if stream_id != last_stream:
                last_stream, stream_text = stream_id, encode(stream_id)
            if recorded_at != last_time:
                last_time, time_text = recorded_at, encode(recorded_at)
            type_text = types.get(type_)
            if type_text is None:
                type_text = types[type_] = encode(type_)
            # every link after the first was checked to be a digest already
            if checked or is_hex_digest(link):
                digest = _digest(data, meta, position, prev_hash, time_text, sv, stream_text,
                                 type_text, version)
            else:
                digest = record_hash(position, stream_id, version, type_, sv, data, meta,
                                     recorded_at, prev_hash)
            if digest != hash_:
                problem = "bad hash: the stored event does not match its hash"
        if problem is not None:
            return VerifyResult(False, checked, Head(expected - 1, link), position, problem)
        checked += 1
        expected, link = position + 1, hash_
    return VerifyResult(True, checked, Head(expected - 1, link))


def verify(conn: Connection, *, page_size: int = 5000) -> VerifyResult:
    """Walk the whole log in position order, in pages (bounded memory), and check every link.

    :returns: ok, events checked, the head reached and, when broken, the first bad position and
        what was wrong with it (bad hash, broken link or gap).
    """
    head = Head(0, GENESIS_HASH)
    total = 0
    while True:
        rows = conn.execute(
            "SELECT position, stream_id, version, type, schema_version, data, metadata,"
            " recorded_at, prev_hash, hash FROM events WHERE position > ?"
            " ORDER BY position LIMIT ?",
            (head.position, page_size),
        ).fetchall()
        if not rows:
            return VerifyResult(True, total, head)
        result = check_rows(rows, head)
        total += result.events_checked
        if not result.ok:
            return VerifyResult(False, total, result.head, result.first_bad_position,
                                result.detail)
        head = result.head
