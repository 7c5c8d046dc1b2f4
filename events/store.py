"""EventStore: the append-only log, on any backend (:mod:`events.backends`).

Every append runs in one write transaction that excludes every other writer of the database from
its first statement (SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's advisory lock), so two processes
appending at once never interleave a batch, duplicate a position or fork the hash chain. Positions
are assigned as head + 1 under that lock, so they are gap-free and strictly increasing in commit
order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .backends import (
    Connection,
    connect_read_only,
    database_errors,
    is_read_only_error,
    scrub,
    unique_violation,
    write_transaction,
)
from .backends import connect as connect_backend
from .chain import COLUMNS, GENESIS_HASH, check_rows, is_hex_digest, seal
from .encoding import StoredTime, canonical, check_integers, format_time, parse
from .errors import (
    ConcurrencyError,
    EmptyAppendError,
    EventStoreError,
    IdempotencyConflictError,
    UniqueViolationError,
)
from .keys import PREFIX, Keys, SealedContentError, is_sealed, keys_of
from .migrations import migrate
from .records import Head, JSONDict, NewEvent, RecordedEvent, VerifyResult
from .upcasting import Upcasters

Clock = Callable[[], datetime]
#: Called inside the append's transaction with the events just recorded (inline projections).
AppendHook = Callable[[Connection, list[RecordedEvent]], None]

#: what an event read as a RecordedEvent needs (not the payload hashes: fewer values to build)
_EVENT_COLUMNS = ("position, stream_id, version, type, schema_version, data, metadata,"
                  " recorded_at, prev_hash, hash, redacted")
_PAGE = 1000
_UNSET = object()


def _metadata_texts(events: Sequence[NewEvent], idempotency_key: str | None,
                    fingerprint: str | None) -> list[tuple[JSONDict, str]]:
    """Each event's stored metadata and its canonical text.

    Every event of a keyed batch carries the key, so an import can rebuild the idempotency table
    exactly. A batch usually shares one metadata mapping: it is encoded once.
    """
    out = []
    source: Any = _UNSET
    pair: tuple[JSONDict, str] = ({}, "")
    for event in events:
        if event.metadata is not source and event.metadata != source:
            source = event.metadata
            # a copy: the recorded event's metadata is not the caller's mapping
            metadata = dict(source)
            if idempotency_key is not None:
                metadata["idempotency_key"] = idempotency_key
                metadata["idempotency_fingerprint"] = fingerprint
            pair = (metadata, canonical(metadata))
        out.append(pair)
    return out


def _heads(conn: Connection, stream_id: str) -> tuple[int, int, str, str]:
    """The stream's version and the log's head (position, hash, recorded time), in one
    statement (one round trip to a database server); an empty log has neither."""
    head = conn.execute(
        "SELECT (SELECT max(version) FROM events WHERE stream_id = ?), position, hash,"
        " recorded_at FROM events ORDER BY position DESC LIMIT 1", (stream_id,)).fetchone()
    if head is None:
        return 0, 0, GENESIS_HASH, ""
    current, position, prev_hash, head_time = head
    if not is_hex_digest(prev_hash):
        raise EventStoreError(f"the log's head (position {position}) has a malformed"
                              " hash: run verify()")
    return current or 0, position, prev_hash, head_time


def _items(events: Sequence[NewEvent],
           metadata_texts: list[tuple[JSONDict, str]]) -> list[tuple[str, int, str, str]]:
    """Each event's ``(type, schema_version, data_text, metadata_text)``, checked: no integer
    past 64 bits (which JSON readers would turn into floats)."""
    items = []
    checked: Any = None
    for event, (metadata, meta_text) in zip(events, metadata_texts, strict=True):
        check_integers(event.data)
        if metadata is not checked:  # a batch shares one metadata mapping
            check_integers(metadata)
            checked = metadata
        items.append((event.type, event.schema_version, canonical(event.data), meta_text))
    return items


def seal_payloads(conn: Connection, rows: list[Any],
                  sealed: Callable[[str, str], bool]) -> list[Any]:
    """Stored rows (:data:`events.chain.COLUMNS` order) with the payloads ``sealed`` names
    sealed under their stream's key (the chain's hashes were taken of the payload itself)."""
    keys = keys_of(conn)
    if keys is None:
        return rows
    which = [sealed(row[1], row[3]) for row in rows]
    keys.prepare([row[1] for row, seal in zip(rows, which, strict=True) if seal], create=True)
    return [(*row[:5], keys.seal(row[1], row[5]), *row[6:]) if seal else row
            for row, seal in zip(rows, which, strict=True)]


def open_rows(conn: Connection, rows: Iterable[Any], *, strict: bool = True) -> Iterator[Any]:
    """Stored rows with sealed payloads opened (what the chain hashed).

    :param strict: raise :class:`SealedContentError` for a payload that does not open; else
        leave it sealed, so the chain check finds its hash wrong (verify reports a position).
    """
    keys = None
    for row in rows:
        if row[5].startswith(PREFIX):
            keys = keys or keys_of(conn)
            try:
                row = (*row[:5], _opened(keys, row[1], row[5]), *row[6:])
            except (SealedContentError, ValueError):
                if strict:
                    raise
        yield row


def prepare_keys(conn: Connection, rows: Sequence[Any]) -> None:
    """The keys of a page of stored rows' sealed payloads read in one query a few hundred
    streams, not one a row (verify of a 100,000-event log: 60,204 queries of one key each)."""
    sealed = [row[1] for row in rows if row[5].startswith(PREFIX)]
    if sealed:
        keys = keys_of(conn)
        if keys is not None:
            keys.prepare(sealed)


def _opened(keys: Keys | None, stream_id: str, text: str) -> str:
    if keys is None:
        raise SealedContentError(f"sealed content of {stream_id!r} in a database without keys")
    return keys.open(stream_id, text)


def utc_now() -> datetime:
    """The default clock: the current aware UTC time."""
    return datetime.now(UTC)


class EventStore:
    """The append-only event log.

    :param conn: a connection from :func:`events.backends.connect` (autocommit mode).
    :param clock: returns the aware time recorded on each appended event.
    :param upcasters: applied to every event read, so readers only see the newest shape.
    :param sealed: which events hold content that may have to be erased (by stream id and
        type): their payloads are stored sealed with the stream's key (:mod:`events.keys`),
        which :meth:`destroy_key` destroys. The chain covers the payload itself, sealed or not.
    """

    def __init__(
        self,
        conn: Connection,
        *,
        clock: Clock = utc_now,
        upcasters: Upcasters | None = None,
        sealed: Callable[[str, str], bool] | None = None,
    ) -> None:
        if conn.isolation_level is not None:
            raise EventStoreError("the store needs an autocommit connection (isolation_level=None)")
        self.conn = conn
        self.clock = clock
        self.upcasters = upcasters or Upcasters()
        self.sealed = sealed
        #: why the store is read-only (its storage refused to be written), else None
        self.read_only: str | None = None
        #: whether the last redaction erased a payload stored unsealed (recorded before
        #: sealing): then only a rewrite of the log's table takes its bytes off the disk
        self.erased_plain = False

    @classmethod
    def open(cls, database: str | Path, *, synchronous: str = "FULL", clock: Clock = utc_now,
             upcasters: Upcasters | None = None, check_same_thread: bool = True,
             sealed: Callable[[str, str], bool] | None = None) -> EventStore:
        """Connect to ``database`` (a SQLite path or a ``postgresql://`` URL), apply the store's
        migrations and return the store.

        A SQLite file that can only be read (a read-only file system) is opened read-only:
        everything reads, every write is refused by storage (:attr:`read_only` says so).
        """
        try:
            conn = connect_backend(str(database), synchronous=synchronous,
                                   check_same_thread=check_same_thread)
            try:
                migrate(conn)
            except BaseException:
                conn.close()
                raise
        except database_errors() as e:
            if not (is_read_only_error(e) and Path(database).is_file()):
                raise
            store = cls(connect_read_only(str(database), check_same_thread=check_same_thread),
                        clock=clock, upcasters=upcasters, sealed=sealed)
            store.read_only = str(e)
            return store
        return cls(conn, clock=clock, upcasters=upcasters, sealed=sealed)

    def close(self) -> None:
        """Close the underlying connection."""
        self.conn.close()

    # -- writing -------------------------------------------------------------------------------

    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int | None = None,
        *,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
        then: AppendHook | None = None,
    ) -> list[RecordedEvent]:
        """Append ``events`` to ``stream_id`` atomically.

        :param expected_version: the stream's version the caller decided on (0: the stream must
            not exist yet); ``None`` appends whatever the version is.
        :param idempotency_key: when a batch with this key was recorded before, nothing is
            appended and the events first recorded are returned.
        :param fingerprint: what the key's request looked like; the same key with another
            fingerprint raises :class:`IdempotencyConflictError`.
        :param then: called in the same transaction with the recorded events, e.g. to apply
            projections inline so readers see the write as soon as it is acknowledged.
        :raises ConcurrencyError: the stream is not at ``expected_version``; nothing is written.
        :raises IdempotencyConflictError: the key was used with another fingerprint.
        """
        if not events:
            raise EmptyAppendError("an append needs at least one event")
        conn = self.conn
        with write_transaction(conn):
            if idempotency_key is not None:
                first = self.recall(idempotency_key, fingerprint)
                if first is not None:
                    return first
            current, position, prev_hash, head_time = _heads(conn, stream_id)
            if expected_version is not None and expected_version != current:
                raise ConcurrencyError(stream_id, expected_version, current)
            recorded_at, recorded_text = self._recorded_time(head_time)
            metadata_texts = _metadata_texts(events, idempotency_key, fingerprint)
            rows = seal(stream_id, recorded_text, position, current, prev_hash,
                        _items(events, metadata_texts))
            if self.sealed is not None:
                rows = seal_payloads(conn, rows, self.sealed)
            try:
                conn.executemany(
                    f"INSERT INTO events ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            except database_errors() as e:
                if unique_violation(e) is not None:
                    raise ConcurrencyError(stream_id, expected_version, current) from e
                raise
            if idempotency_key is not None:
                conn.execute(
                    "INSERT INTO idempotency (key, fingerprint, stream_id, first_position,"
                    " last_position) VALUES (?, ?, ?, ?, ?)",
                    (idempotency_key, fingerprint, stream_id, rows[0][0], rows[-1][0]))
            new = tuple.__new__  # RecordedEvent(...) without the named tuple's Python __new__
            recorded = [new(RecordedEvent, (row[0], stream_id, row[2], row[3], row[4], event.data,
                                            metadata, recorded_at, row[8], row[9], False))
                        for row, event, (metadata, _)
                        in zip(rows, events, metadata_texts, strict=True)]
            if self.upcasters:
                recorded = [self._upcast(event) for event in recorded]
            if then is not None:
                try:
                    then(conn, recorded)
                except database_errors() as e:
                    constraint = unique_violation(e)
                    if constraint is not None:
                        raise UniqueViolationError(constraint) from e
                    raise
            conn.notify(rows[-1][0])
        return recorded

    def _recorded_time(self, head_time: str) -> tuple[datetime, str]:
        """The time an append records now, and its text. Recorded times never go backwards
        along the log (a clock stepped back keeps the head's time), so position_at() can
        bisect."""
        recorded_at = self.clock()
        recorded_text = format_time(recorded_at)
        if recorded_text < head_time:
            return datetime.fromisoformat(head_time), head_time
        return recorded_at, recorded_text

    def recall(self, idempotency_key: str,
               fingerprint: str | None = None) -> list[RecordedEvent] | None:
        """The events first recorded under ``idempotency_key``, or None if it was never used.

        :raises IdempotencyConflictError: the key was used with another fingerprint.
        """
        seen = self.conn.execute(
            "SELECT fingerprint, first_position, last_position FROM idempotency WHERE key = ?",
            (idempotency_key,)).fetchone()
        if seen is None:
            return None
        if seen[0] != fingerprint:
            raise IdempotencyConflictError(idempotency_key)
        return list(self._read_range(seen[1], seen[2]))

    def redact(self, stream_id: str, erase: Callable[[str, JSONDict], JSONDict]) -> list[int]:
        """Erase the payload of every event of ``stream_id`` not erased yet, in storage.

        Each payload is replaced by ``erase(type, data)`` (what the application keeps of it: its
        shape, no content) and the event is marked redacted; its ``data_hash``, which the chain
        covers, stays, so the chain still verifies. Snapshots of projections at or after the
        first erased event are dropped (they may hold the content). Runs in a write transaction
        (the caller's, when one is open: redact, then append the event that says why).

        :returns: the positions erased.
        """
        conn = self.conn
        keys = keys_of(conn)
        with write_transaction(conn):
            rows = conn.execute(
                "SELECT position, type, data FROM events WHERE stream_id = ? AND redacted = 0"
                " ORDER BY version", (stream_id,)).fetchall()
            self.erased_plain = any(not is_sealed(data) for _, _, data in rows)
            opened = [(position, type_, keys.open(stream_id, data) if keys else data)
                      for position, type_, data in rows]
            conn.executemany("UPDATE events SET data = ?, redacted = 1 WHERE position = ?",
                             [(canonical(erase(type_, parse(data))), position)
                              for position, type_, data in opened])
        return [row[0] for row in rows]

    def destroy_key(self, stream_id: str) -> bool:
        """Destroy the key of ``stream_id``: every copy sealed with it, in the log or in a read
        model, live or in a dead row version, is noise from now on (in the caller's write
        transaction; after :meth:`redact`, once the read models wrote what replaces their
        copies). True when the stream had a key."""
        keys = keys_of(self.conn)
        if keys is None:
            return False
        with write_transaction(self.conn):
            return keys.erase(stream_id)

    def scrub(self, tables: Sequence[str] = ()) -> bool:
        """After a redaction has committed: no erased byte of the log, its keys or ``tables``
        (the application's tables that held unsealed content) is left in the database's files
        (:func:`events.backends.scrub`). Call it outside any transaction.

        Sealed content needs no rewrite of the tables that hold it: its key is gone, and the
        group key that wrapped it leaves with a rewrite of ``key_groups`` (256 rows). The
        log's own table is rewritten only when the redaction erased payloads recorded before
        they were sealed."""
        log = ("events",) if self.erased_plain else ()
        return scrub(self.conn, ("key_groups", *log, *tables))

    # -- reading -------------------------------------------------------------------------------

    def head(self) -> Head:
        """The last recorded event's position and hash (0 and the genesis hash when empty)."""
        row = self.conn.execute(
            "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1").fetchone()
        return Head(row[0], row[1]) if row is not None else Head(0, GENESIS_HASH)

    def stream_version(self, stream_id: str) -> int:
        """The stream's current version (0 when it has no events)."""
        row = self.conn.execute("SELECT max(version) FROM events WHERE stream_id = ?",
                                (stream_id,)).fetchone()
        return int(row[0] or 0)

    def read_stream(self, stream_id: str, from_version: int = 1,
                    to_version: int | None = None) -> Iterator[RecordedEvent]:
        """Yield a stream's events from ``from_version`` to ``to_version`` (inclusive), paged."""
        last = to_version if to_version is not None else 2**62
        version = from_version - 1
        while True:
            rows = self.conn.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE stream_id = ? AND version > ?"
                " AND version <= ? ORDER BY version LIMIT ?",
                (stream_id, version, last, _PAGE)).fetchall()
            yield from self._events(rows)
            if len(rows) < _PAGE:
                return
            version = rows[-1][2]

    def read_all(
        self,
        after: int = 0,
        limit: int | None = None,
        *,
        stream_prefix: str | Sequence[str] | None = None,
        types: Sequence[str] | None = None,
        until: int | None = None,
        page_size: int = _PAGE,
    ) -> Iterator[RecordedEvent]:
        """Yield events in position order after ``after``, paged so memory stays bounded.

        :param limit: at most this many events.
        :param stream_prefix: only streams whose id starts with this (or with any of these).
        :param types: only these event types.
        :param until: only positions up to and including this one.
        """
        yield from self._events(self._select(_EVENT_COLUMNS, after, limit, stream_prefix,
                                             types, until, page_size))

    def read_rows(
        self,
        after: int = 0,
        limit: int | None = None,
        *,
        stream_prefix: str | None = None,
        types: Sequence[str] | None = None,
        until: int | None = None,
        page_size: int = _PAGE,
    ) -> Iterator[tuple[Any, ...]]:
        """Like :meth:`read_all` but yields the raw stored rows (no parsing, no upcasting), in
        :data:`events.chain.COLUMNS` order (:class:`events.records.StoredRow` names them)."""
        return open_rows(self.conn, self._select(COLUMNS, after, limit, stream_prefix, types,
                                                 until, page_size))

    def _select(self, columns: str, after: int, limit: int | None,
                stream_prefix: str | Sequence[str] | None,
                types: Sequence[str] | None, until: int | None,
                page_size: int) -> Iterator[tuple[Any, ...]]:
        where = ["position > ?"]
        params: list[Any] = []
        if until is not None:
            where.append("position <= ?")
            params.append(until)
        if isinstance(stream_prefix, str) and stream_prefix:
            where.append("stream_id >= ? AND stream_id < ?")
            params += [stream_prefix, stream_prefix + "\U0010ffff"]
        elif stream_prefix is not None and not isinstance(stream_prefix, str):
            # several: each length's prefixes looked up together (a rebuild's part of the log
            # is dozens of blogs: one comparison a row each would be thousands of them)
            by_length: dict[int, list[str]] = {}
            for prefix in stream_prefix:
                by_length.setdefault(len(prefix), []).append(prefix)
            where.append("(" + (" OR ".join(
                f"substr(stream_id, 1, {length}) IN ({','.join('?' * len(group))})"
                for length, group in by_length.items()) or "0 = 1") + ")")
            params += [p for group in by_length.values() for p in group]
        if types:
            where.append(f"type IN ({','.join('?' * len(types))})")
            params += list(types)
        sql = (f"SELECT {columns} FROM events WHERE {' AND '.join(where)}"
               " ORDER BY position LIMIT ?")
        remaining = limit if limit is not None else 2**62
        position = after
        while remaining > 0:
            size = min(page_size, remaining)
            rows = self.conn.execute(sql, (position, *params, size)).fetchall()
            prepare_keys(self.conn, rows)
            yield from rows
            if len(rows) < size:
                return
            remaining -= len(rows)
            position = rows[-1][0]

    def _read_range(self, first: int, last: int) -> Iterator[RecordedEvent]:
        return self.read_all(first - 1, last - first + 1)

    def _events(self, rows: Iterable[tuple[Any, ...]]) -> Iterator[RecordedEvent]:
        """Parse stored rows into events (upcast). Events of one batch share one metadata
        mapping and one time, as the append that recorded them did: treat them as read-only."""
        upcast = self.upcasters.upcast if self.upcasters else None
        new = tuple.__new__  # RecordedEvent(...) without the named tuple's Python __new__
        meta_text = time_text = None
        metadata: JSONDict = {}
        moment = datetime.min
        keys = None
        for (position, stream_id, version, type_, sv, data, meta, recorded_at, prev, hash_,
             redacted) in rows:
            if data.startswith(PREFIX):
                keys = keys or keys_of(self.conn)
                data = _opened(keys, stream_id, data)
            payload = parse(data)
            if upcast is not None:
                sv, payload = upcast(type_, sv, payload)
            if meta != meta_text:
                meta_text, metadata = meta, parse(meta)
            if recorded_at != time_text:
                time_text, moment = recorded_at, StoredTime.parse(recorded_at)
            yield new(RecordedEvent, (position, stream_id, version, type_, sv, payload, metadata,
                                      moment, prev, hash_, bool(redacted)))

    def _upcast(self, event: RecordedEvent) -> RecordedEvent:
        sv, data = self.upcasters.upcast(event.type, event.schema_version, event.data)
        if sv == event.schema_version:
            return event
        return event._replace(schema_version=sv, data=data)

    def position_at(self, moment: datetime) -> int:
        """The position of the last event recorded at or before ``moment`` (0 if none).

        Recorded times never decrease along the log, so this bisects positions: about twenty
        primary-key lookups for a million events.
        """
        try:
            wanted = format_time(moment)
        except OverflowError:  # before year 1 or after 9999 in UTC: before or after everything
            return 0 if moment.year < 5000 else self.head().position
        low, high = 0, self.head().position
        while low < high:
            middle = (low + high + 1) // 2
            row = self.conn.execute("SELECT recorded_at FROM events WHERE position = ?",
                                    (middle,)).fetchone()
            if row is not None and row[0] <= wanted:
                low = middle
            else:
                high = middle - 1
        return low

    def is_empty(self) -> bool:
        """True when the log holds no event."""
        return self.conn.execute("SELECT 1 FROM events LIMIT 1").fetchone() is None


def verify(conn: Connection, *, page_size: int = 5000) -> VerifyResult:
    """Walk the whole log in position order, in pages (bounded memory), and check every link.

    :returns: ok, events checked, the head reached and, when broken, the first bad position and
        what was wrong with it (bad hash, broken link or gap).
    """
    head = Head(0, GENESIS_HASH)
    legacy = GENESIS_HASH
    total = redacted = 0
    while True:
        stored = conn.execute(
            f"SELECT {COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
            (head.position, page_size),
        ).fetchall()
        prepare_keys(conn, stored)
        rows = list(open_rows(conn, stored, strict=False))
        if not rows:
            return VerifyResult(True, total, head, None, None, redacted, legacy)
        result = check_rows(rows, head, legacy)
        total += result.events_checked
        redacted += result.redacted_events
        if not result.ok:
            return VerifyResult(False, total, result.head, result.first_bad_position,
                                result.detail, redacted, result.legacy_head)
        head, legacy = result.head, result.legacy_head
