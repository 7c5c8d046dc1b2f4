"""The hash chain: canonical JSON, the hash of each record over the previous one, and verify().

``hash = SHA-256(canonical({position, stream_id, version, type, schema_version, data, metadata,
recorded_at, prev_hash}))`` where canonical JSON has sorted keys, compact separators and UTF-8.
``data`` and ``metadata`` are stored in canonical form, so the hash input can be assembled from the
stored text without parsing it again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from .records import Head, VerifyResult

GENESIS_HASH = "0" * 64

_encode_str = json.JSONEncoder(ensure_ascii=False).encode


def canonical(value: Any) -> str:
    """Return the canonical JSON text of ``value``: sorted keys, compact, non-ASCII kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def format_time(moment: datetime) -> str:
    """Return ``moment`` as RFC 3339 UTC with microseconds and ``Z`` (the stored time format)."""
    if moment.tzinfo is None:
        raise ValueError("recorded times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
    # Keys in sorted order: data, metadata, position, prev_hash, recorded_at, schema_version,
    # stream_id, type, version -- the same text canonical() gives for the whole record.
    text = (
        '{"data":' + data_text
        + ',"metadata":' + metadata_text
        + ',"position":' + str(position)
        + ',"prev_hash":' + _encode_str(prev_hash)
        + ',"recorded_at":' + _encode_str(recorded_at)
        + ',"schema_version":' + str(schema_version)
        + ',"stream_id":' + _encode_str(stream_id)
        + ',"type":' + _encode_str(type)
        + ',"version":' + str(version)
        + "}"
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


Row = tuple[int, str, int, str, int, str, str, str, str, str]


def check_rows(rows: Iterable[Row], start: Head | None = None) -> VerifyResult:
    """Check a run of stored rows in position order against the chain rules.

    Each row is ``(position, stream_id, version, type, schema_version, data, metadata,
    recorded_at, prev_hash, hash)``. Stops at the first bad row.

    :param start: the head the run continues from (genesis when ``None``).
    """
    head = start or Head(0, GENESIS_HASH)
    checked = 0
    for row in rows:
        position, stream_id, version, type_, sv, data, meta, recorded_at, prev_hash, hash_ = row
        problem = None
        if position != head.position + 1:
            problem = f"gap: expected position {head.position + 1}, found {position}"
        elif prev_hash != head.hash:
            problem = "broken link: prev_hash does not match the previous event's hash"
        elif record_hash(position, stream_id, version, type_, sv, data, meta, recorded_at,
                         prev_hash) != hash_:
            problem = "bad hash: the stored event does not match its hash"
        if problem is not None:
            return VerifyResult(False, checked, head, position, problem)
        checked += 1
        head = Head(position, hash_)
    return VerifyResult(True, checked, head)


def verify(conn: sqlite3.Connection, *, page_size: int = 5000) -> VerifyResult:
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
