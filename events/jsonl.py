"""Export the log as JSON Lines and import it into an empty store, re-verifying every hash."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from .backends import Connection
from .chain import GENESIS_HASH, Row, canonical, check_integers, check_rows
from .errors import ChainError, StoreNotEmptyError
from .records import Head
from .store import EventStore, write_transaction

_FIELDS = ("position", "stream_id", "version", "type", "schema_version", "data", "metadata",
           "recorded_at", "prev_hash", "hash")
_TYPES = (int, str, int, str, int, dict, dict, str, str, str)

Progress = Callable[[int], None]


def export_lines(store: EventStore) -> Iterator[str]:
    """Every event, as stored (not upcast), as one JSON Lines line each, in position order."""
    for row in store.read_rows(0):
        record = dict(zip(_FIELDS, row, strict=True))
        record["data"] = json.loads(row[5])
        record["metadata"] = json.loads(row[6])
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

    Every line is checked against the chain (position sequence, link, hash) before it is kept;
    the first bad line aborts the import and nothing is written.

    :param check: called with each record; a ValueError it raises refuses the line (a chain
        proves nothing about where a file came from: the application says what it accepts).

    :raises StoreNotEmptyError: the store already holds events.
    :raises ChainError: a line is not an exported event or breaks the chain; the error names the
        line number.
    :returns: the head of the imported log.
    """
    conn = store.conn
    with write_transaction(conn):
        if not store.is_empty():
            raise StoreNotEmptyError("import needs an empty store: this one already has events")
        head = Head(0, GENESIS_HASH)
        rows: list[Row] = []
        records: list[dict[str, Any]] = []
        lines_of: list[int] = []
        keys: dict[str, list[Any]] = {}
        count = 0
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            record = _parse(line, number)
            records.append(record)
            rows.append(tuple(canonical(record[f]) if isinstance(record[f], dict) else record[f]
                              for f in _FIELDS))  # type: ignore[arg-type]
            lines_of.append(number)
            key = record["metadata"].get("idempotency_key")
            if isinstance(key, str):
                seen = keys.setdefault(key, [record["metadata"].get("idempotency_fingerprint"),
                                             record["stream_id"], record["position"], 0])
                seen[3] = record["position"]
            if len(rows) >= batch_size:
                head = _flush(conn, rows, lines_of, head, records, check)
                count += len(rows)
                rows, lines_of, records = [], [], []
                if progress is not None:
                    progress(count)
        if rows:
            head = _flush(conn, rows, lines_of, head, records, check)
        conn.executemany(
            "INSERT INTO idempotency (key, fingerprint, stream_id, first_position, last_position)"
            " VALUES (?, ?, ?, ?, ?)", [(k, *v) for k, v in keys.items()])
    return head


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
    try:
        check_integers(record["data"])
        check_integers(record["metadata"])
    except ValueError as e:
        raise ChainError(str(e), line=number) from e
    return record


def _flush(conn: Connection, rows: list[Row], lines_of: list[int], head: Head,
           records: list[dict[str, Any]], check: Check | None) -> Head:
    result = check_rows(rows, head)
    if not result.ok:
        bad = lines_of[result.events_checked]
        raise ChainError(f"{result.detail} (position {result.first_bad_position})", line=bad,
                         position=result.first_bad_position)
    if check is not None:  # the chain holds; now what the application accepts
        for record, number in zip(records, lines_of, strict=True):
            try:
                check(record)
            except ValueError as e:
                raise ChainError(str(e), line=number, position=record["position"]) from e
    conn.executemany(f"INSERT INTO events ({', '.join(_FIELDS)}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                     rows)
    return result.head
