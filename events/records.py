"""The two shapes an event takes: before it is recorded and after."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

JSONDict = dict[str, Any]


#: The metadata of an event appended without any (read-only: the default is shared).
NO_METADATA: Mapping[str, Any] = MappingProxyType({})


class NewEvent(NamedTuple):
    """An event to append: its type, its payload and its metadata (actor, correlation id ...).

    A named tuple, immutable: a frozen dataclass costs twice as much to build, once per event.

    :param type: the stored type name, e.g. ``"PostPublished"``.
    :param data: a JSON-serialisable payload.
    :param metadata: a JSON-serialisable mapping about the event (who, why, which request).
    :param schema_version: the version of ``data``'s shape; upcasters lift older ones on read.
    """

    type: str
    data: JSONDict
    metadata: Mapping[str, Any] = NO_METADATA
    schema_version: int = 1


class RecordedEvent(NamedTuple):
    """An event as the log holds it, with its global position, stream version and hashes.

    ``data`` and ``schema_version`` are those after upcasting; ``hash`` covers the stored form.
    Immutable like the frozen dataclasses here, but a named tuple: every append and read builds
    one per event, and a frozen dataclass costs five times as much to build.
    """

    position: int
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: JSONDict
    metadata: JSONDict
    recorded_at: datetime
    prev_hash: str
    hash: str
    #: its payload was erased (:meth:`events.EventStore.redact`): ``data`` is what the erasure
    #: left, and only the payload's hash, which the chain covers, remains of the original
    redacted: bool = False


class StoredRow(NamedTuple):
    """One row of the ``events`` table, as stored (payload not parsed, not upcast).

    Chain v2 (:mod:`events.chain`): ``hash`` covers ``data_hash``, the SHA-256 of the stored
    payload text, not the payload itself, so a payload can be erased and the chain still
    verifies. ``legacy_hash`` is the hash an event had under chain v1, for events recorded
    before the log moved to v2 (checkpoints signed then name it); None for the others.
    """

    position: int
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: str
    metadata: str
    recorded_at: str
    prev_hash: str
    hash: str
    data_hash: str
    legacy_hash: str | None
    redacted: int


@dataclass(frozen=True)
class Head:
    """The last event of the log: its position and hash (0 and the genesis hash when empty)."""

    position: int
    hash: str


@dataclass(frozen=True)
class VerifyResult:
    """What :func:`events.chain.verify` found."""

    ok: bool
    events_checked: int
    head: Head
    first_bad_position: int | None = None
    detail: str | None = None
    #: events whose payload was erased (their payload hashes stand in for them)
    redacted_events: int = 0
    #: where the legacy chain (:mod:`events.chain`) of a following page continues: the chain v1
    #: hash of the last event recorded under v1 (genesis before any), or empty once an event
    #: recorded under v2 was seen
    legacy_head: str = "0" * 64
