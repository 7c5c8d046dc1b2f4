"""The hash chain, pure: the hash of each record over the previous one, and the checks of a run
of stored rows (no SQL, no I/O; :func:`events.store.verify` walks a database with them).

Chain v2: ``hash = SHA-256(canonical({position, stream_id, version, type, schema_version,
data_hash, metadata, recorded_at, prev_hash[, legacy_hash]}))`` where canonical JSON has sorted
keys, compact separators and UTF-8, and ``data_hash = SHA-256(canonical(data))``. The chain
covers each payload through its hash, so a payload erased for a legal reason
(:meth:`events.EventStore.redact`) leaves a chain that still verifies, and every other payload
is still checked against its hash. ``data`` and ``metadata`` are stored in canonical form, so the
hash input is assembled from the stored text without parsing it again.

Chain v1, before it, hashed the payload itself. A log recorded under v1 is moved to v2 by a
migration (:func:`rechain`) that first checks the v1 chain; each moved event keeps its v1 hash
as ``legacy_hash``, which its v2 hash covers and :func:`check_rows` still checks against the
payload, so checkpoints signed under v1 keep proving what they covered.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from hashlib import sha256
from typing import Any

from .encoding import canonical
from .encoding import encode_str as _encode_str
from .errors import ChainError
from .records import Head, VerifyResult

GENESIS_HASH = "0" * 64
_HEX = re.compile("[0-9a-f]{64}")


#: a stored row, in :data:`COLUMNS` order (:class:`events.records.StoredRow` names them)
Row = tuple[int, str, int, str, int, str, str, str, str, str, str, str | None, int]

#: the ``events`` table's columns, in the order of :data:`Row`
COLUMNS = ("position, stream_id, version, type, schema_version, data, metadata, recorded_at,"
           " prev_hash, hash, data_hash, legacy_hash, redacted")


def payload_hash(data_text: str) -> str:
    """The SHA-256 hex digest of a payload's stored (canonical) text: what the chain covers."""
    return hashlib.sha256(data_text.encode()).hexdigest()


def _text(data_hash: str, legacy: str, metadata_text: str, position: int, prev_hash: str,
          time_json: str, schema_version: int, stream_json: str, type_json: str,
          version: int) -> str:
    """One record's canonical text, built in place: keys in sorted order, metadata already
    canonical, the strings already JSON-escaped (``*_json``), hex digests (which need no
    escaping), and ``legacy`` either empty or the ``"legacy_hash":"<hex>",`` member of an
    event recorded under v1. The one place the hashed text is written; its SHA-256 is the
    record's chain v2 hash (taken inline where it is hot: appends, verify)."""
    return (f'{{"data_hash":"{data_hash}",{legacy}"metadata":{metadata_text},'
            f'"position":{position},"prev_hash":"{prev_hash}","recorded_at":{time_json},'
            f'"schema_version":{schema_version},"stream_id":{stream_json},"type":{type_json},'
            f'"version":{version}}}')


def record_text(row: Row) -> str:
    """The exact text the chain hashed for a stored row (:data:`COLUMNS` order): its SHA-256
    is the row's hash. A payload is in it only through its hash, so this holds after a
    redaction too, and shows nothing the redaction erased."""
    (position, stream_id, version, type_, sv, _, meta, recorded_at, prev_hash, _, data_hash,
     legacy_hash, _) = row
    return _text(data_hash, _legacy_member(legacy_hash), meta, position, prev_hash,
                 _encode_str(recorded_at), sv, _encode_str(stream_id), _encode_str(type_),
                 version)


def _digest_v1(data_text: str, metadata_text: str, position: int, prev_hash: str,
               time_json: str, schema_version: int, stream_json: str, type_json: str,
               version: int) -> str:
    """The chain v1 hash (before v2): the same record with the payload itself in it."""
    return hashlib.sha256(
        f'{{"data":{data_text},"metadata":{metadata_text},"position":{position},'
        f'"prev_hash":"{prev_hash}","recorded_at":{time_json},'
        f'"schema_version":{schema_version},"stream_id":{stream_json},"type":{type_json},'
        f'"version":{version}}}'.encode()).hexdigest()


def _legacy_member(legacy_hash: str | None) -> str:
    return "" if legacy_hash is None else f'"legacy_hash":"{legacy_hash}",'


def seal(stream_id: str, recorded_at: str, position: int, version: int, prev_hash: str,
         items: Iterable[tuple[str, int, str, str]]) -> list[Row]:
    """Chain one append's events onto the log: their stored rows, each with its hash.

    :param position: the log's head position; the first event gets the next one.
    :param version: the stream's current version; the first event gets the next one.
    :param prev_hash: the head's hash, a lowercase hex digest.
    :param items: each event's ``(type, schema_version, data_text, metadata_text)``, with data
        and metadata in canonical form.
    :returns: rows in :data:`COLUMNS` order; each hash is :func:`record_hash` of its row.

    The hashed text is built in place, keys in sorted order (data_hash, metadata, position,
    prev_hash, recorded_at, schema_version, stream_id, type, version): with canonical metadata
    and hex digests (which JSON needs no escaping for) it is exactly ``canonical(record)``.
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
        data_hash = payload_hash(data_text)
        digest = sha256(_text(data_hash, "", metadata_text, position, prev_hash, time_json,
                              schema_version, stream_json, type_text, version).encode()
                        ).hexdigest()
        append((position, stream_id, version, type_, schema_version, data_text, metadata_text,
                recorded_at, prev_hash, digest, data_hash, None, 0))
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
    legacy_hash: str | None = None,
) -> str:
    """Return the SHA-256 hex digest of one record's canonical encoding (chain v2).

    :param data_text: the canonical JSON text of the payload (as stored); the record holds its
        hash (:func:`payload_hash`), not the payload.
    :param metadata_text: the canonical JSON text of the metadata (as stored).
    :param legacy_hash: the event's chain v1 hash, for an event recorded before v2.
    """
    record: dict[str, Any] = {
        "position": position, "stream_id": stream_id, "version": version, "type": type,
        "schema_version": schema_version, "data_hash": payload_hash(data_text),
        "metadata": json.loads(metadata_text), "recorded_at": recorded_at,
        "prev_hash": prev_hash}
    if legacy_hash is not None:
        record["legacy_hash"] = legacy_hash
    return hashlib.sha256(canonical(record).encode()).hexdigest()


def check_rows(rows: Iterable[Row], start: Head | None = None,
               legacy: str = GENESIS_HASH) -> VerifyResult:
    """Check a run of stored rows (:data:`COLUMNS` order) in position order against the chain
    rules. Stops at the first bad row.

    For each row: its position follows the last, its ``prev_hash`` is the last row's hash, its
    payload (unless erased) still has its ``data_hash``, and its hash is the v2 hash of the
    record (:func:`_digest`). An event recorded under chain v1 keeps that chain too: its
    ``legacy_hash`` must be the v1 hash of the record over the previous legacy hash, checked
    wherever the payload is still there, so a checkpoint signed before v2 still proves the
    events it covers.

    :param start: the head the run continues from (genesis when ``None``).
    :param legacy: the legacy hash the run continues from (:attr:`VerifyResult.legacy_head`;
        empty once an event recorded under v2 was seen).
    """
    head = start or Head(0, GENESIS_HASH)
    expected, link = head.position + 1, head.hash
    checked = redacted_count = 0
    sha256 = hashlib.sha256
    encode = _encode_str
    # the parts a run of rows shares (a batch's stream and time, the few types), escaped once
    last_stream = last_time = None
    stream_text = time_text = ""
    types: dict[str, str] = {}
    for row in rows:
        (position, stream_id, version, type_, sv, data, meta, recorded_at, prev_hash, hash_,
         data_hash, legacy_hash, redacted) = row
        problem = None
        if position != expected:
            problem = f"gap: expected position {expected}, found {position}"
        elif prev_hash != link or not (checked or is_hex_digest(link)):
            problem = "broken link: prev_hash does not match the previous event's hash"
        elif redacted:
            # the payload is gone: its hash stands in, and goes into the record as it is
            if not is_hex_digest(data_hash):
                problem = "bad payload hash: data_hash is not a SHA-256 digest"
        elif sha256(data.encode()).hexdigest() != data_hash:  # payload_hash, inline: per row
            problem = "bad hash: the stored payload does not match its data_hash"
        if problem is None and legacy_hash is not None and not (
                legacy and is_hex_digest(legacy_hash)):
            problem = "bad legacy hash: a chain v1 hash after the log moved to chain v2"
        if problem is None:
            if stream_id != last_stream:
                last_stream, stream_text = stream_id, encode(stream_id)
            if recorded_at != last_time:
                last_time, time_text = recorded_at, encode(recorded_at)
            type_text = types.get(type_)
            if type_text is None:
                type_text = types[type_] = encode(type_)
            digest = sha256(_text(data_hash, _legacy_member(legacy_hash), meta, position,
                                  prev_hash, time_text, sv, stream_text, type_text,
                                  version).encode()).hexdigest()
            if digest != hash_:
                problem = "bad hash: the stored event does not match its hash"
            elif legacy_hash is not None:
                if not redacted and _digest_v1(data, meta, position, legacy, time_text, sv,
                                               stream_text, type_text, version) != legacy_hash:
                    problem = ("bad legacy hash: the event does not match the hash it had"
                               " under chain v1")
                legacy = legacy_hash
            else:
                legacy = ""  # the v1 events are behind: none may follow
        if problem is not None:
            return VerifyResult(False, checked, Head(expected - 1, link), position, problem,
                                redacted_count, legacy)
        checked += 1
        if redacted:
            redacted_count += 1
        expected, link = position + 1, hash_
    return VerifyResult(True, checked, Head(expected - 1, link), None, None, redacted_count,
                        legacy)


def rechain(rows: Iterable[tuple[Any, ...]], start: Head, legacy: str) -> Iterator[Row]:
    """Move rows of a chain v1 log to chain v2, checking the v1 chain on the way.

    :param rows: v1 rows ``(position, stream_id, version, type, schema_version, data,
        metadata, recorded_at, prev_hash, hash)`` in position order.
    :param start: the v2 head the rows continue (genesis for a whole log).
    :param legacy: the v1 hash of the event before the rows (genesis for a whole log).
    :returns: the rows in :data:`COLUMNS` order, each with its v1 hash kept as
        ``legacy_hash`` and its v2 hash over it.
    :raises ChainError: the v1 chain is broken (naming the position): a broken log is not
        re-chained, which would launder the break.
    """
    expected, link = start.position + 1, start.hash
    v1_link = legacy
    for position, stream_id, version, type_, sv, data, meta, recorded_at, prev_hash, hash_ \
            in rows:
        # once per event in a migration: no cache of escaped strings as verify keeps
        stream_text, time_text, type_text = (_encode_str(stream_id), _encode_str(recorded_at),
                                             _encode_str(type_))
        if position != expected:
            problem = f"gap: expected position {expected}, found {position}"
        elif prev_hash != v1_link:
            problem = "broken link: prev_hash does not match the previous event's hash"
        elif _digest_v1(data, meta, position, prev_hash, time_text, sv, stream_text,
                        type_text, version) != hash_:
            problem = "bad hash: the stored event does not match its hash"
        else:
            problem = None
        if problem is not None:
            raise ChainError(f"the chain v1 log is broken at position {position}: {problem}",
                             position=position)
        data_hash = payload_hash(data)
        digest = sha256(_text(data_hash, _legacy_member(hash_), meta, position, link, time_text,
                              sv, stream_text, type_text, version).encode()).hexdigest()
        yield (position, stream_id, version, type_, sv, data, meta, recorded_at, link, digest,
               data_hash, hash_, 0)
        expected, link, v1_link = position + 1, digest, hash_
