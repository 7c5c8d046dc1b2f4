"""Export the log as JSON Lines and import it into an empty store, re-verifying every hash."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from .backends import Connection, write_transaction
from .chain import COLUMNS, GENESIS_HASH, check_rows, rechain
from .encoding import canonical, check_integers
from .errors import ChainError, StoreNotEmptyError
from .records import Head, StoredRow
from .store import EventStore, seal_payloads

_FIELDS = ("position", "stream_id", "version", "type", "schema_version", "data", "metadata",
           "recorded_at", "prev_hash", "hash")
_TYPES = (int, str, int, str, int, dict, dict, str, str, str)
#: what an exported event of chain v2 adds (legacy_hash only on events moved from v1)
_V2_FIELDS = ("data_hash", "legacy_hash", "redacted")

Progress = Callable[[int], None]


def export_lines(store: EventStore) -> Iterator[str]:
    """Every event, as stored (not upcast), as one JSON Lines line each, in position order:
    the stored fields, ``redacted`` and, for an event recorded under chain v1, ``legacy_hash``.
    A redacted event's ``data`` is what the erasure left; its ``data_hash`` is the original's."""
    for row in store.read_rows(0):
        stored = StoredRow._make(row)
        record: dict[str, Any] = dict(zip(_FIELDS, row, strict=False))
        record["data"] = json.loads(stored.data)
        record["metadata"] = json.loads(stored.metadata)
        record["data_hash"] = stored.data_hash
        record["redacted"] = bool(stored.redacted)
        if stored.legacy_hash is not None:
            record["legacy_hash"] = stored.legacy_hash
        yield canonical(record) + "\n"


def export_jsonl(store: EventStore, out: IO[str], *, progress: Progress | None = None) -> int:
    """Write every event, as stored (not upcast), one JSON object a line, in position order.

    :returns: the number of events written.
    """
    count = 0
    for line in export_lines(store):
        out.write(line)
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
    return count


Check = Callable[[dict[str, Any]], None]


def import_jsonl(store: EventStore, lines: Iterable[str], *,
                 progress: Progress | None = None, batch_size: int = 1000,
                 check: Check | None = None) -> Head:
    """Import an exported log into an empty store, in one transaction.

    Every line is checked against the chain (position sequence, link, payload hash, hash)
    before it is kept; the first bad line aborts the import and nothing is written. A file
    exported before chain v2 (no ``data_hash``) is checked against chain v1 and moved to v2 on
    the way in, as the store's own migration moves a database.

    :param check: called with each record; a ValueError it raises refuses the line (a chain
        proves nothing about where a file came from: the application says what it accepts).
        A record's ``redacted`` says its payload was erased.

    :raises StoreNotEmptyError: the store already holds events.
    :raises ChainError: a line is not an exported event or breaks the chain; the error names the
        line number.
    :returns: the head of the imported log.
    """
    conn = store.conn
    with write_transaction(conn):
        if not store.is_empty():
            raise StoreNotEmptyError("import needs an empty store: this one already has events")
        batch = _Batch(conn, check, store.sealed)
        keys: dict[str, list[Any]] = {}
        v2: bool | None = None
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            record = _parse(line, number)
            if v2 is None:
                v2 = "data_hash" in record
            elif v2 != ("data_hash" in record):
                raise ChainError("mixes events exported before and after chain v2 (data_hash)",
                                 line=number)
            batch.add(record, number, v2)
            key = record["metadata"].get("idempotency_key")
            if isinstance(key, str):
                seen = keys.setdefault(key, [record["metadata"].get("idempotency_fingerprint"),
                                             record["stream_id"], record["position"], 0])
                seen[3] = record["position"]
            if len(batch.rows) >= batch_size:
                batch.flush()
                if progress is not None:
                    progress(batch.count)
        batch.flush()
        conn.executemany(
            "INSERT INTO idempotency (key, fingerprint, stream_id, first_position, last_position)"
            " VALUES (?, ?, ?, ?, ?)", [(k, *v) for k, v in keys.items()])
    return batch.head


def _parse(line: str, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError as e:
        raise ChainError(f"not valid JSON ({e})", line=number) from e
    if not isinstance(record, dict):
        raise ChainError("not an exported event (expected a JSON object)", line=number)
    for field, kind in zip(_FIELDS, _TYPES, strict=True):
        value = record.get(field)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ChainError(f"field {field!r} is missing or not a {kind.__name__}", line=number)
    if "data_hash" in record:
        if not isinstance(record["data_hash"], str):
            raise ChainError("field 'data_hash' is not a str", line=number)
        if not isinstance(record.get("redacted", False), bool):
            raise ChainError("field 'redacted' is not true or false", line=number)
        if not isinstance(record.get("legacy_hash", ""), str):
            raise ChainError("field 'legacy_hash' is not a str", line=number)
    elif "redacted" in record or "legacy_hash" in record:
        raise ChainError("field 'data_hash' is missing", line=number)
    unknown = set(record) - set(_FIELDS) - set(_V2_FIELDS)
    if unknown:
        raise ChainError(f"unknown fields {sorted(unknown)}", line=number)
    try:
        check_integers(record["data"])
        check_integers(record["metadata"])
    except ValueError as e:
        raise ChainError(str(e), line=number) from e
    return record


class _Batch:
    """The lines of an import not written yet; each flush checks them, then writes them."""

    def __init__(self, conn: Connection, check: Check | None,
                 sealed: Callable[[str, str], bool] | None = None) -> None:
        self.conn, self.check, self.sealed = conn, check, sealed
        self.head, self.legacy = Head(0, GENESIS_HASH), GENESIS_HASH
        self.rows: list[tuple[Any, ...]] = []
        self.records: list[dict[str, Any]] = []
        self.lines: list[int] = []
        self.v2 = True
        self.count = 0

    def add(self, record: dict[str, Any], number: int, v2: bool) -> None:
        self.v2 = v2
        data, meta = canonical(record["data"]), canonical(record["metadata"])
        row: tuple[Any, ...] = tuple(record[f] for f in _FIELDS[:5]) + (
            data, meta, record["recorded_at"], record["prev_hash"], record["hash"])
        if v2:
            row += (record["data_hash"], record.get("legacy_hash"),
                    int(record.get("redacted", False)))
        self.rows.append(row)
        self.records.append(record)
        self.lines.append(number)

    def flush(self) -> None:
        if not self.rows:
            return
        first = self.head.position + 1
        if self.v2:
            rows = self.rows
            result = check_rows(rows, self.head, self.legacy)
            if not result.ok:
                bad = self.lines[result.events_checked]
                raise ChainError(f"{result.detail} (position {result.first_bad_position})",
                                 line=bad, position=result.first_bad_position)
            legacy = result.legacy_head
        else:
            try:
                rows = list(rechain(self.rows, self.head, self.legacy))
            except ChainError as e:
                at = (e.position or first) - first
                line = self.lines[at] if 0 <= at < len(self.lines) else None
                raise ChainError(str(e), line=line, position=e.position) from e
            legacy = str(rows[-1][11])
        if self.check is not None:  # the chain holds; now what the application accepts
            for record, number in zip(self.records, self.lines, strict=True):
                try:
                    self.check(record)
                except ValueError as e:
                    raise ChainError(str(e), line=number, position=record["position"]) from e
        stored = rows
        if self.sealed is not None:  # the checked rows, their payloads sealed as appends are
            stored = seal_payloads(self.conn, rows, self.sealed)
        self.conn.executemany(
            f"INSERT INTO events ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", stored)
        last = rows[-1]
        self.head, self.legacy = Head(last[0], last[9]), legacy
        self.count += len(rows)
        self.rows, self.records, self.lines = [], [], []
