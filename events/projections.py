"""Projections: read models folded from the log, and the runner that keeps them current.

A projection declares the tables it owns (each with a key column and its columns) and one handler
per event type it cares about. Handlers never write SQL: they read and change rows, as plain
dicts, through :class:`Rows`; the runner fetches the rows a batch touches in one statement per
table, applies the handlers in memory and writes the changed rows back with one ``executemany``
per table. So the same code serves one append (inline) and a rebuild of a million events, and a
rebuild writes every row exactly as the inline path did.

The runner applies events in position order; each batch and the projection's checkpoint are
written in one transaction, so an event's effect lands exactly once and a crash resumes where it
stopped.

* inline: :meth:`ProjectionRunner.apply_inline` runs inside the append's transaction, so readers
  see a write as soon as it is acknowledged;
* :meth:`ProjectionRunner.catch_up`: apply what other processes appended since the checkpoint;
* :meth:`ProjectionRunner.rebuild`: build fresh tables from the whole log beside the live ones and
  swap them in, in one transaction, at the end: readers never see a half-built projection;
* :meth:`ProjectionRunner.as_of`: build a projection as it was at a past position, in a scratch
  database, without touching the live one.
"""

from __future__ import annotations

import gc
import itertools
import operator
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from .backends import (
    Connection,
    connect,
    drop_table_unzeroed,
    relaxed_durability,
    settle,
    write_transaction,
)
from .keys import Keys, is_sealed, keys_of
from .parts import PARTS_FROM, deal, running
from .records import RecordedEvent
from .store import EventStore

Handler = Callable[["Rows", RecordedEvent], None]
Progress = Callable[[int, int], None]
Row = dict[str, Any]
#: keys per IN (...) list: well under SQLite's and PostgreSQL's parameter limits
_CHUNK = 500
#: rows a rebuild writes in one transaction: each holds the write lock for milliseconds
_WRITE_CHUNK = 2000
#: the suffix of a live table a rebuild replaced, until it is dropped just after the swap
_RETIRED = "__retired"
#: at most this many events appended during a rebuild are folded under its swap's write lock
#: (the rest before it, without the lock): a few hundred take milliseconds
_SWAP_TAIL = 500


class Tables:
    """Maps a projection's logical table names to the physical ones of one generation.

    Generation 0 is the live set built on first start; each rebuild builds generation N + 1 under
    suffixed names and renames them to the logical names when it swaps them in. Index names carry
    the generation, so the indexes of the live tables and of a rebuild never clash.
    """

    def __init__(self, logical: Sequence[str], generation: int, *, live: bool) -> None:
        self.generation = generation
        self.suffix = "" if live else f"__g{generation}"
        self._names = {name: name + self.suffix for name in logical}

    def __getitem__(self, logical: str) -> str:
        return self._names[logical]

    def index(self, logical: str, what: str) -> str:
        """A unique name for an index ``what`` on table ``logical`` in this generation."""
        return f"ix_{logical}_{what}_g{self.generation}"

    def items(self) -> Iterable[tuple[str, str]]:
        """``(logical, physical)`` pairs."""
        return self._names.items()


#: a projection's sealed columns: table -> (the columns that hold erasable content, the stream
#: whose key seals them, from the row)
SealedColumns = Mapping[str, tuple[tuple[str, ...], Callable[[Mapping[str, Any]], str]]]


class _Named(Mapping[str, Any]):
    """A row's values read by column name (what a stream_of reads), made without a dict."""

    __slots__ = ("_positions", "_row")

    def __init__(self, positions: Mapping[str, int], row: Sequence[Any]) -> None:
        self._positions = positions
        self._row = row

    def __getitem__(self, name: str) -> Any:
        return self._row[self._positions[name]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)


class Sealing:
    """Seals and opens the columns of a projection's rows that hold erasable content, with
    their stream's key (:mod:`events.keys`): what the tables keep of it goes when the key does,
    with no rewrite of the tables."""

    def __init__(self, keys: Keys, sealed: SealedColumns,
                 columns: Mapping[str, tuple[str, ...]]) -> None:
        self.keys = keys
        self.columns = columns
        self.plan = {table: ([columns[table].index(c) for c in names], names, stream_of)
                     for table, (names, stream_of) in sealed.items() if table in columns}
        #: each table's column positions, to read a row of values by name without a dict
        self._positions = {table: {c: i for i, c in enumerate(columns[table])}
                           for table in self.plan}

    @classmethod
    def of(cls, projection: Projection, conn: Connection,
           columns: Mapping[str, tuple[str, ...]]) -> Sealing | None:
        """The sealing of ``projection``'s rows on ``conn``'s database, or None when nothing
        is sealed (no sealed columns, or a database without keys)."""
        if not projection.sealed:
            return None
        keys = keys_of(conn)
        return cls(keys, projection.sealed, columns) if keys is not None else None

    def seal_rows(self, table: str, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """Rows of values in ``table``'s column order (any values after those are kept as
        they are) with their sealed columns sealed, the keys of their streams first read in
        one query, and made where missing (call it inside a write transaction)."""
        sealed = self._seal_rows(table, rows, create=True)
        assert sealed is not None
        return sealed

    def seal_rows_keyed(self, table: str, rows: Sequence[Sequence[Any]]
                        ) -> list[tuple[Any, ...]] | None:
        """:meth:`seal_rows` outside a write transaction: None when a stream has no key yet
        (it is made in one)."""
        return self._seal_rows(table, rows, create=False)

    def _seal_rows(self, table: str, rows: Sequence[Sequence[Any]], *, create: bool
                   ) -> list[tuple[Any, ...]] | None:
        plan = self.plan.get(table)
        if plan is None:
            return [tuple(row) for row in rows]
        indexes, _, stream_of = plan
        positions = self._positions[table]
        streams = [stream_of(_Named(positions, row)) for row in rows]
        self.keys.prepare(streams, create=create)
        if not create and not all(map(self.keys.has, streams)):
            return None
        seal = self.keys.seal_texts
        sealed = []
        for stream, row in zip(streams, rows, strict=True):
            out = list(row)
            for i, text in zip(indexes, seal(stream, [out[i] for i in indexes]), strict=True):
                out[i] = text
            sealed.append(tuple(out))
        return sealed

    def prepare(self, table: str, rows: Iterable[Mapping[str, Any]], *,
                create: bool = False) -> None:
        """The keys of these rows' streams at hand, in one query (see Keys.prepare)."""
        plan = self.plan.get(table)
        if plan is not None:
            self.keys.prepare([plan[2](row) for row in rows], create=create)

    def open(self, table: str, row: Row) -> Row:
        """``row`` (a dict, changed in place) with its sealed columns opened."""
        plan = self.plan.get(table)
        if plan is not None:
            _, names, stream_of = plan
            stream = None
            for name in names:
                value = row[name]
                if isinstance(value, str) and is_sealed(value):
                    stream = stream or stream_of(row)
                    row[name] = self.keys.open(stream, value)
        return row


class Rows:
    """The rows of one projection's tables a batch of events works on, as dicts.

    :meth:`fetch` loads the rows the batch will touch (one statement per table); handlers then
    :meth:`get`, :meth:`put` and :meth:`delete` rows in memory; :meth:`flush` writes the
    changed ones back (one ``executemany`` upsert and one delete per table).

    :param complete: the tables held no rows before this object and nothing else writes them
        (a rebuild into fresh tables): a row never put is known to be absent, so nothing is read.
    :param keep: rows stay held after a flush (a rebuild: the tables are this object's alone,
        so what it holds is the truth about them); :meth:`evict` bounds them instead.
    """

    #: rows a rebuild holds before it lets go of the ones held longest (memory stays bounded;
    #: a row let go is written, and fetched again if a later event touches it)
    max_rows = 50_000
    #: and the bytes they may take (estimated from a sample of them: a log of long posts holds
    #: fewer rows in the same memory). With 64 MB a rebuild of the 100,000-event mixed log
    #: peaked at 285 MB, with 32 MB at 250 MB, in the same time (10.7 to 12.3 s)
    max_bytes = 32 * 1024 * 1024

    def __init__(self, projection: Projection, conn: Connection, t: Tables, *,
                 complete: bool = False, keep: bool = False) -> None:
        self.projection = projection
        self.conn = conn
        self.t = t
        self.complete = complete
        self.keep = keep
        #: each table's columns, its key first, under the names handlers use
        self.columns = self._held(projection)
        # per table, key -> row (None: known absent), in the order first held
        self._rows: dict[str, dict[Any, Row | None]] = {name: {} for name in self.columns}
        # changed keys in the order first changed (a dict: the same writes every time)
        self._dirty: dict[str, dict[Any, None]] = {name: {} for name in self.columns}
        self._values = {name: operator.itemgetter(*columns)
                        for name, columns in self.columns.items()}
        self.sealing = Sealing.of(projection, conn, self.columns)

    @staticmethod
    def _held(projection: Projection) -> Mapping[str, tuple[str, ...]]:
        """The tables handlers read and change, with their columns (a subclass may hold
        another projection's)."""
        return projection.columns

    def get(self, table: str, key: Any) -> Row | None:
        """The row of ``table`` with this key (a dict you may change, then :meth:`put`)."""
        return self._rows[table].get(key)

    def put(self, table: str, row: Row) -> None:
        """Keep ``row`` (every column of ``table``) as that key's row."""
        key = row[self.columns[table][0]]
        self._rows[table][key] = row
        self._dirty[table][key] = None

    def delete(self, table: str, key: Any) -> None:
        """Remove the row with this key (nothing happens if there is none)."""
        rows = self._rows[table]
        if rows.get(key) is not None or key not in rows:
            rows[key] = None
            self._dirty[table][key] = None

    def fetch(self, events: Sequence[RecordedEvent]) -> None:
        """Load the rows ``events`` will touch that are not held yet."""
        if self.complete:
            return
        wanted: dict[str, set[Any]] = {}
        touches = self.projection.touches
        handlers = self.projection._handlers()
        for event in events:
            if event.type in handlers:
                for table, key in touches(event):
                    if key not in self._rows[table]:
                        wanted.setdefault(table, set()).add(key)
        for table, keys in wanted.items():
            name, columns, current = self._source(table)
            rows = self._rows[table]
            ordered = sorted(keys, key=str)
            for start in range(0, len(ordered), _CHUNK):
                chunk = ordered[start:start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                fetched = [dict(zip(columns, found, strict=True)) for found in self.conn.execute(
                    f"SELECT {', '.join(columns)} FROM {name}"
                    f" WHERE {columns[0]} IN ({marks}){current}", chunk)]
                if self.sealing is not None:
                    self.sealing.prepare(table, fetched)
                    fetched = [self.sealing.open(table, row) for row in fetched]
                for row in fetched:
                    rows[row[columns[0]]] = row
            for key in ordered:
                rows.setdefault(key, None)

    def _source(self, table: str) -> tuple[str, tuple[str, ...], str]:
        """Where :meth:`fetch` reads ``table``'s rows: the physical table, its columns and a
        condition to add (a subclass may keep rows elsewhere)."""
        return self.t[table], self.columns[table], ""

    def flush(self, *, most: int | None = None) -> bool:
        """Write changed rows back, then let go of what is held unless ``keep``.

        :param most: write at most this many rows now (a rebuild writes in short transactions,
            so an editor's write never waits long for the lock); call again while it returns
            True.
        :returns: True when changed rows remain to be written.
        """
        budget = most if most is not None else 2**62
        for table, dirty in self._dirty.items():
            if not dirty or budget <= 0:
                continue
            keys = list(itertools.islice(dirty, budget))
            budget -= len(keys)
            self._write_keys(table, keys)
        if any(self._dirty.values()):
            return True
        if not self.keep:
            for rows in self._rows.values():
                rows.clear()
        return False

    def shared(self) -> None:
        """Others wrote rows of these tables too (a rebuild's workers): from now on a row not
        held may be in them (misses are fetched)."""
        self.complete = False

    def plan(self, most: int | None = None) -> None:
        """Work the next :meth:`flush` or :meth:`evict` (of up to ``most`` rows) needs and
        that takes no lock, done before their write transaction: none here (a history orders
        its versions and seals their words)."""

    def evict(self, most: int) -> bool:
        """Write and let go of up to ``most`` of the rows held longest (in a rebuild, the
        oldest posts, which later events seldom touch), so memory stays bounded.

        From then on a row not held may be in the table: misses are fetched (not ``complete``).

        :returns: True while more than half of :attr:`max_rows` rows, or of
            :attr:`max_bytes`, are still held.
        """
        self.complete = False
        budget = most
        for table, rows in self._rows.items():
            if budget <= 0:
                break
            oldest = list(itertools.islice(rows, budget))
            budget -= len(oldest)
            dirty = self._dirty[table]
            self._write_keys(table, [key for key in oldest if key in dirty])
            for key in oldest:
                del rows[key]
        return len(self) > self.max_rows // 2 or self.estimated_bytes() > self.max_bytes // 2

    def over(self) -> bool:
        """Whether more is held than :attr:`max_rows` or :attr:`max_bytes` allow."""
        return len(self) > self.max_rows or self.estimated_bytes() > self.max_bytes

    def estimated_bytes(self, sample: int = 64) -> int:
        """What the held rows take in memory, estimated from up to ``sample`` of them."""
        held = len(self)
        if not held:
            return 0
        each = max(1, sample // len(self._rows))
        sizes = [_row_bytes(row) for rows in self._rows.values()
                 for row in itertools.islice(rows.values(), each) if row is not None]
        return held * (sum(sizes) // len(sizes)) if sizes else held * 64

    def _write_keys(self, table: str, keys: list[Any]) -> None:
        """Write the rows of these changed keys (upserts, deletes); they are clean after."""
        if not keys:
            return
        columns = self.columns[table]
        key = columns[0]
        rows = self._rows[table]
        values = self._values[table]
        upserts = []
        deletes = []
        for k in keys:
            row = rows[k]
            if row is None:
                deletes.append((k,))
            else:
                upserts.append(values(row))
        if self.sealing is not None and upserts:
            upserts = self.sealing.seal_rows(table, upserts)
        name = self.t[table]
        if deletes:
            self.conn.executemany(f"DELETE FROM {name} WHERE {key} = ?", deletes)
        if upserts:
            updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
            self.conn.executemany(
                f"INSERT INTO {name} ({', '.join(columns)})"
                f" VALUES ({','.join('?' * len(columns))})"
                f" ON CONFLICT ({key}) DO UPDATE SET {updates}", upserts)
        dirty = self._dirty[table]
        if len(keys) == len(dirty):
            dirty.clear()
        else:
            for k in keys:
                del dirty[k]

    def __len__(self) -> int:
        return sum(map(len, self._rows.values()))


def _row_bytes(row: Row) -> int:
    """A held row's size in memory: the dict, its key slots and its values."""
    return sys.getsizeof(row) + sum(map(sys.getsizeof, row.values()))


class Projection:
    """Base class of a projection: subclass it, name it, declare ``tables``, ``columns`` and
    handlers.

    Handlers are the methods named in :meth:`handlers`; each receives the :class:`Rows` of the
    batch and the event, and reads and changes rows through it. :meth:`touches` names the rows
    an event's handler may read, so they are fetched before the batch is applied.
    """

    #: unique name, the checkpoint's key
    name: ClassVar[str]
    #: bump it when the tables or the handlers change meaning: the projection rebuilds on start
    version: ClassVar[int] = 1
    #: the logical names of the tables this projection owns
    tables: ClassVar[tuple[str, ...]]
    #: each table's columns in order, its primary key first
    columns: ClassVar[Mapping[str, tuple[str, ...]]]
    #: what holds the rows a batch works on (:class:`events.history.VersionedRows` keeps
    #: every version)
    rows_class: ClassVar[type[Rows]] = Rows
    #: the columns that hold content a redaction may erase, sealed with their stream's key
    sealed: ClassVar[SealedColumns] = {}

    def create(self, conn: Connection, t: Tables) -> None:
        """Create this projection's tables (and their primary keys) under the names ``t``
        gives."""
        raise NotImplementedError

    def create_indexes(self, conn: Connection, t: Tables) -> None:
        """Create the secondary indexes: right after :meth:`create` for live tables, and after
        the tables are filled in a rebuild (one sorted build beats a million index updates),
        except tables copied from another projection's (:meth:`holds`): before the copy."""

    def handlers(self) -> Mapping[str, Handler]:
        """Event type -> handler. Types not listed are skipped."""
        raise NotImplementedError

    def holds(self) -> Sequence[Projection]:
        """The projections whose rows this one's tables hold as well (a history holds its
        wrapped projections' current rows): a rebuild of both folds the log into this one
        and copies their rows from it with :meth:`copy_rows`. None by default."""
        return ()

    def copy_rows(self, conn: Connection, t: Tables, projection: Projection,
                  into: Tables) -> None:
        """Fill the fresh tables ``into`` of ``projection`` (one of :meth:`holds`) from this
        projection's tables ``t``, in short transactions."""
        raise NotImplementedError

    def touches(self, event: RecordedEvent) -> Iterable[tuple[str, Any]]:
        """``(table, key)`` of every row the handler of ``event`` may read."""
        raise NotImplementedError

    def part_of(self, stream_id: str) -> str | None:
        """The part of the log ``stream_id`` belongs to, as the prefix of its part's streams
        (say, ``blog/<id>/``), when this projection's rows of one part are made by that
        part's events alone: a rebuild may then fold the parts in processes of their own
        (:mod:`events.parts`). None: the stream is in no part; a projection that handles an
        event of such a stream is folded whole, as is one that does not override this."""
        return None

    def __getstate__(self) -> dict[str, Any]:
        # sent to a rebuild's worker without its handlers (made again there)
        state = dict(self.__dict__)
        state.pop("_handler_cache", None)
        return state

    def apply(self, conn: Connection, t: Tables, events: Iterable[RecordedEvent]) -> None:
        """Apply ``events`` in order with the registered handlers, writing the rows they change."""
        batch = events if isinstance(events, list) else list(events)
        rows = self.rows_class(self, conn, t)
        self.apply_rows(rows, batch)
        rows.flush()

    def apply_rows(self, rows: Rows, events: Sequence[RecordedEvent]) -> None:
        """Apply ``events`` to ``rows`` in memory (fetching what they touch first)."""
        rows.fetch(events)
        handlers = self._handlers()
        for event in events:
            handler = handlers.get(event.type)
            if handler is not None:
                handler(rows, event)

    def _handlers(self) -> Mapping[str, Handler]:
        cached: Mapping[str, Handler] | None = self.__dict__.get("_handler_cache")
        if cached is None:
            cached = self.handlers()
            self.__dict__["_handler_cache"] = cached
        return cached


def _holders(chosen: Sequence[Projection]) -> dict[str, Projection]:
    """Of the projections ``chosen``, those whose rows another chosen one holds (the very same
    kind of projection, at the same version), each with the one that holds them."""
    by_name = {p.name: p for p in chosen}
    holders = {}
    for holder in chosen:
        for held in holder.holds():
            same = by_name.get(held.name)
            if (same is not None and same is not holder and type(same) is type(held)
                    and same.version == held.version):
                holders[same.name] = holder
    # a holder whose own rows are copied would be copied from before it is filled
    return {name: holder for name, holder in holders.items() if holder.name not in holders}


class ProjectionRunner:
    """Keeps a set of projections current with the log of ``store``.

    :param batch_size: events per transaction during catch-up and rebuild.
    :param workers: processes a rebuild may fold a projection's parts in, side by side (1,
        the default: every fold whole, in this process; each more takes memory: 50 MB more at
        the 2,000,000-event year with 2, measured).
    :param parts_from: a rebuild of a shorter log folds whole.
    """

    def __init__(self, store: EventStore, projections: Sequence[Projection], *,
                 batch_size: int = 2000, workers: int = 1,
                 parts_from: int = PARTS_FROM) -> None:
        names = [p.name for p in projections]
        if len(set(names)) != len(names):
            raise ValueError(f"projection names must be unique: {names}")
        self.store = store
        self.projections = list(projections)
        self.batch_size = batch_size
        self.workers = workers
        self.parts_from = parts_from
        #: how many workers folded the last rebuild's parts (0: it folded the log whole)
        self.last_workers = 0

    # -- checkpoints ---------------------------------------------------------------------------

    def _checkpoint(self, conn: Connection,
                    projection: Projection) -> tuple[int, int, int] | None:
        row = conn.execute(
            "SELECT version, position, generation FROM projection_checkpoints WHERE name = ?",
            (projection.name,)).fetchone()
        return (row[0], row[1], row[2]) if row is not None else None

    def position(self, name: str) -> int:
        """The position up to which projection ``name`` has applied the log (0 if never)."""
        row = self.store.conn.execute(
            "SELECT position FROM projection_checkpoints WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row is not None else 0

    def _live(self, projection: Projection, generation: int) -> Tables:
        return Tables(projection.tables, generation, live=True)

    # -- start-up ------------------------------------------------------------------------------

    def outdated(self) -> list[str]:
        """The projections :meth:`start` would build anew from the log (one of another version,
        or a new one on a log that has events), by name; it changes nothing."""
        empty = self.store.is_empty()
        names = []
        for projection in self.projections:
            checkpoint = self._checkpoint(self.store.conn, projection)
            if (checkpoint is None and not empty) or (
                    checkpoint is not None and checkpoint[0] != projection.version):
                names.append(projection.name)
        return names

    def start(self, progress: Progress | None = None) -> None:
        """Create missing projections, rebuild those whose version changed, catch up the rest."""
        conn = self.store.conn
        empty = self.store.is_empty()
        outdated = []
        for projection in self.projections:
            with write_transaction(conn):
                checkpoint = self._checkpoint(conn, projection)
                if checkpoint is None and empty:
                    projection.create(conn, self._live(projection, 0))
                    projection.create_indexes(conn, self._live(projection, 0))
                    conn.execute(
                        "INSERT INTO projection_checkpoints (name, version, position, generation)"
                        " VALUES (?, ?, 0, 0)", (projection.name, projection.version))
            # a new projection of a log that has events (an imported or restored log, a new
            # read model) is built in bulk, like a rebuild, not caught up event by event
            if checkpoint is None and not empty or (
                    checkpoint is not None and checkpoint[0] != projection.version):
                outdated.append(projection)
        if outdated:
            self._rebuild_all(outdated, progress)
        self.catch_up()

    # -- inline and catch-up -------------------------------------------------------------------

    def apply_inline(self, conn: Connection, events: list[RecordedEvent]) -> None:
        """Apply just-appended ``events`` inside the append's transaction (an append hook).

        A projection that is behind (another process appended meanwhile) first catches up from
        the log, in the same transaction, so the order of effects is always the log's order.
        """
        if not events:
            return
        first = events[0].position
        last = events[-1].position
        # every checkpoint in one statement, and one update for all: on a database server each
        # statement is a round trip, taken while every other writer waits
        names = [p.name for p in self.projections]
        marks = ",".join("?" * len(names))
        checkpoints = {row[0]: (row[1], row[2]) for row in conn.execute(
            f"SELECT name, position, generation FROM projection_checkpoints"
            f" WHERE name IN ({marks})", names)}
        advanced = []
        for projection in self.projections:
            checkpoint = checkpoints.get(projection.name)
            if checkpoint is None:
                continue  # not started in this database: start() will build it from the log
            done, generation = checkpoint
            if done >= last:
                continue
            t = self._live(projection, generation)
            if done < first - 1:
                projection.apply(conn, t, self.store.read_all(done, until=first - 1))
            projection.apply(conn, t, (e for e in events if e.position > done))
            advanced.append(projection.name)
        if advanced:
            conn.execute(f"UPDATE projection_checkpoints SET position = ? WHERE name IN"
                         f" ({','.join('?' * len(advanced))})", (last, *advanced))

    def catch_up(self, name: str | None = None) -> int:
        """Apply events recorded since each projection's checkpoint, batch by batch.

        :returns: how many events were applied (summed over projections).
        """
        conn = self.store.conn
        applied = 0
        for projection in self._select(name):
            while True:
                with write_transaction(conn):
                    checkpoint = self._checkpoint(conn, projection)
                    if checkpoint is None:
                        break
                    _, done, generation = checkpoint
                    batch = list(self.store.read_all(done, self.batch_size))
                    if not batch:
                        break
                    projection.apply(conn, self._live(projection, generation), batch)
                    conn.execute("UPDATE projection_checkpoints SET position = ? WHERE name = ?",
                                 (batch[-1].position, projection.name))
                    applied += len(batch)
                if len(batch) < self.batch_size:
                    break
        return applied

    def _select(self, name: str | None) -> list[Projection]:
        if name is None:
            return self.projections
        chosen = [p for p in self.projections if p.name == name]
        if not chosen:
            raise KeyError(f"no projection named {name!r}")
        return chosen

    # -- rebuild -------------------------------------------------------------------------------

    def rebuild(self, name: str | None = None, *, progress: Progress | None = None) -> int:
        """Rebuild projections from the whole log into fresh tables, then swap them in.

        One pass over the log feeds every projection chosen: each event is read and decoded
        once, each batch is applied in memory and written with one ``executemany`` per table.
        The new tables are filled beside the live ones (readers keep using those); the events
        appended meanwhile are folded after the log, and the last of them (at most
        :data:`_SWAP_TAIL`) in the swap's one transaction.

        :param progress: called with ``(events done, events in the log)`` after each batch.
        :returns: the number of events replayed.
        """
        # A rebuild allocates a dict or two per event and keeps many rows, but makes no
        # reference cycles: the cyclic collector would only walk that heap again and again
        # (a quarter of the time, measured). It is off for the rebuild, back on after.
        return self._rebuild_all(self._select(name), progress)

    def _rebuild_all(self, chosen: list[Projection], progress: Progress | None) -> int:
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._rebuild(chosen, progress)
        finally:
            if collecting:
                gc.enable()

    def _rebuild(self, chosen: list[Projection], progress: Progress | None) -> int:
        conn = self.store.conn
        fresh: dict[str, Tables] = {}
        generations: dict[str, int] = {}
        replaced: dict[str, bool] = {}
        with write_transaction(conn, yielding=True):
            for projection in chosen:
                checkpoint = self._checkpoint(conn, projection)
                generation = (checkpoint[2] if checkpoint else 0) + 1
                tables = Tables(projection.tables, generation, live=False)
                for _, physical in tables.items():
                    conn.execute(f'DROP TABLE IF EXISTS "{physical}"')
                projection.create(conn, tables)
                fresh[projection.name] = tables
                generations[projection.name] = generation
                replaced[projection.name] = checkpoint is not None
        # The fresh tables are ours alone: rows held in memory are the whole truth about them,
        # folding needs no lock, and rows are written in short transactions, so editors'
        # writes go on meanwhile and never wait long for the write lock. A projection whose
        # rows another one chosen holds is copied from it, not folded.
        copied = _holders(chosen)
        folded = [p for p in chosen if p.name not in copied]
        target = self.store.head().position
        group, shares, in_log = self._shares(folded, target)
        self.last_workers = len(shares)
        rows = {p.name: p.rows_class(p, conn, fresh[p.name], complete=True, keep=True)
                for p in folded}
        # a crash while filling only loses fresh tables the next rebuild drops: no fsync each
        # batch (the swap below is as durable as the connection is)
        with relaxed_durability(conn):
            if shares:
                self._fold_in_parts(folded, rows, group, shares, fresh, target, progress)
                done, total = target, in_log
            else:
                events = self.store.read_all(0, until=target, page_size=self.batch_size)
                done, total = self._fold(folded, rows, events, 0, progress, target)
            self._fill(chosen, copied, rows, fresh)
            done, caught = self._catch_up(chosen, rows, done)
            total += caught
        if progress is not None and total == 0:
            progress(0, target)
        settle(conn)
        with write_transaction(conn, yielding=True):
            # The last events appended while we rebuilt, then the swap, under one write lock.
            tail = list(self.store.read_all(done))
            for projection in chosen:
                projection.apply_rows(rows[projection.name], tail)
                rows[projection.name].flush()
            total += len(tail)
            head = max(tail[-1].position if tail else done, target)
            for projection in chosen:
                for logical, physical in fresh[projection.name].items():
                    # the old table is set aside here and dropped after the swap: freeing
                    # its pages is work no writer need wait for
                    conn.execute(f'DROP TABLE IF EXISTS "{logical}{_RETIRED}"')
                    if replaced[projection.name]:
                        conn.execute(f'ALTER TABLE "{logical}" RENAME TO "{logical}{_RETIRED}"')
                    else:
                        conn.execute(f'DROP TABLE IF EXISTS "{logical}"')
                    conn.execute(f'ALTER TABLE "{physical}" RENAME TO "{logical}"')
                conn.execute(
                    "INSERT INTO projection_checkpoints (name, version, position, generation)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                    " version = excluded.version, position = excluded.position,"
                    " generation = excluded.generation",
                    (projection.name, projection.version, head, generations[projection.name]))
        for projection in chosen:
            for logical in projection.tables:
                drop_table_unzeroed(conn, f"{logical}{_RETIRED}")
        return total

    def _shares(self, projections: list[Projection], target: int
                ) -> tuple[list[Projection], list[list[str]], int]:
        """Of ``projections``, those a rebuild folds in parts (:meth:`Projection.part_of`:
        every one that gives the same parts as the first that gives any, and handles no event
        outside them), their parts dealt into the workers' shares, and the events in the log
        up to ``target``. None on a log shorter than :attr:`parts_from`, with one worker, or
        on a database that is not a file here (PostgreSQL's projections are folded whole)."""
        conn = self.store.conn
        parted = [p for p in projections if type(p).part_of is not Projection.part_of]
        if (not parted or self.workers < 2 or target < self.parts_from
                or conn.dialect != "sqlite" or not getattr(conn, "path", None)):
            return [], [], 0
        lead = parted[0]
        # those that part the log with the very same function agree on every stream; the
        # others are asked stream by stream
        alike = [p for p in parted if type(p).part_of is type(lead).part_of]
        others = [p for p in parted if p not in alike]
        counts: dict[str, int] = {}
        strays: list[str] = []
        in_log = 0
        for stream, count in conn.execute("SELECT stream_id, count(*) FROM events"
                                          " WHERE position <= ? GROUP BY stream_id", (target,)):
            in_log += count
            part = lead.part_of(stream)
            if others:
                others = [p for p in others if p.part_of(stream) == part]
            if part is None:
                strays.append(stream)
            else:
                counts[part] = counts.get(part, 0) + count
        group = [p for p in (*alike, *others) if not self._handled_in(p, strays, target)]
        if len(counts) < 2 or lead not in group:
            return [], [], 0
        return group, deal(counts, self.workers), in_log

    def _handled_in(self, projection: Projection, streams: list[str], target: int) -> bool:
        """Whether ``projection`` handles an event of these streams up to ``target``."""
        handled = projection._handlers()
        for start in range(0, len(streams), _CHUNK):
            chunk = streams[start:start + _CHUNK]
            for (kind,) in self.store.conn.execute(
                    f"SELECT DISTINCT type FROM events WHERE stream_id IN"
                    f" ({','.join('?' * len(chunk))}) AND position <= ?", (*chunk, target)):
                if kind in handled:
                    return True
        return False

    def _fold_in_parts(self, folded: list[Projection], rows: dict[str, Rows],
                       group: list[Projection], shares: list[list[str]],
                       fresh: Mapping[str, Tables], target: int,
                       progress: Progress | None) -> None:
        """Fold the log up to ``target``: the projections of ``group`` a share of their parts
        each, the first share here and each other by a worker (:mod:`events.parts`), and the
        others here (reading only the events they handle)."""
        jobs = [{"database": self.store.conn.path,  # type: ignore[attr-defined]
                 "projections": group, "upcasters": self.store.upcasters,
                 "generations": {p.name: fresh[p.name].generation for p in group},
                 "parts": share, "target": target, "batch_size": self.batch_size,
                 "workers": len(shares)}
                for share in shares[1:]]
        whole = [p for p in folded if p not in group]
        report = None if progress is None else (lambda at: progress(at, target))
        with running(jobs) as workers:
            types = sorted({kind for p in whole for kind in p._handlers()})
            if types:
                events = self.store.read_all(0, until=target, types=types,
                                             page_size=self.batch_size)
                self._fold(whole, rows, events, 0)
            own = {p.name: rows[p.name] for p in group}
            self._fold_share(group, own, shares[0], target, len(shares),
                             lambda done, _: workers.poll(done, report))
            workers.wait(report)
        for held in own.values():
            held.shared()  # the workers wrote rows of these tables too

    def fold_share(self, generations: Mapping[str, int], parts: Sequence[str], target: int,
                   workers: int, progress: Progress | None = None) -> None:
        """A rebuild's worker (:mod:`events.fold`), one of ``workers``: fold the events of
        these parts (their streams' prefixes) up to ``target`` into this runner's projections'
        fresh tables (``generations``: of each, by name), which the other workers fill with
        the other parts' rows, and write them."""
        conn = self.store.conn
        # the rows of these parts are this worker's alone: those not held are not there
        rows = {p.name: p.rows_class(p, conn, Tables(p.tables, generations[p.name], live=False),
                                     complete=True, keep=True) for p in self.projections}
        with relaxed_durability(conn):  # (as the rebuild that started it)
            self._fold_share(self.projections, rows, parts, target, workers, progress)

    def _fold_share(self, projections: list[Projection], rows: dict[str, Rows],
                    parts: Sequence[str], target: int, workers: int,
                    progress: Progress | None) -> None:
        """Fold the events of ``parts`` up to ``target`` into ``rows`` and write them, one of
        ``workers`` that share the memory one whole fold holds (inside the rebuild's
        relaxed durability)."""
        conn = self.store.conn
        for held in rows.values():
            held.max_rows //= workers
            held.max_bytes //= workers
        keys = keys_of(conn)
        if keys is not None:
            keys.share(workers)
        batch = max(1, self.batch_size // workers)
        events = self.store.read_all(0, until=target, stream_prefix=parts, page_size=batch)
        try:
            self._fold(projections, rows, events, 0, progress, target, batch)
            for projection in projections:
                self._write(rows[projection.name])
        finally:
            for held in rows.values():
                held.max_rows, held.max_bytes = type(held).max_rows, type(held).max_bytes
            if keys is not None:
                keys.share(1)
        if progress is not None:
            progress(target, target)  # (its share's last event may come before it)

    def _fill(self, chosen: list[Projection], copied: Mapping[str, Projection],
              rows: dict[str, Rows], fresh: Mapping[str, Tables]) -> None:
        """Finish a rebuild's fresh tables: write what was folded and still held, then copy
        the rows held by another projection (``copied``: by name, the holder), and build each
        one's indexes. ``rows`` then has, for a copied projection, rows read from its tables."""
        conn = self.store.conn
        for projection in sorted(chosen, key=lambda p: p.name in copied):  # holders first
            if projection.name in copied:
                # indexes first: the copy keeps them as it goes, a short transaction a chunk,
                # where one sorted build of a copied table afterwards held the write lock for
                # seconds (1.0 to 1.7 s an index of the 885,610 posts of a 2,000,000-event log)
                self._create_indexes(projection, fresh[projection.name])
                holder = copied[projection.name]
                holder.copy_rows(conn, fresh[holder.name], projection, fresh[projection.name])
                rows[projection.name] = projection.rows_class(projection, conn,
                                                              fresh[projection.name])
            else:
                self._write(rows[projection.name])
                self._create_indexes(projection, fresh[projection.name])

    def _create_indexes(self, projection: Projection, t: Tables) -> None:
        """A rebuild's indexes of ``projection``, in a transaction that lets writers go first."""
        with write_transaction(self.store.conn, yielding=True):
            projection.create_indexes(self.store.conn, t)

    def _catch_up(self, chosen: list[Projection], rows: dict[str, Rows], done: int
                  ) -> tuple[int, int]:
        """Fold the events appended while a rebuild ran (editors go on writing: thousands in
        a long one), outside the write lock, a pass at a time until a pass leaves at most
        a batch (and at most :data:`_SWAP_TAIL`) behind: the swap folds only those under its
        lock. Returns the position folded up to, and how many were folded."""
        caught = 0
        while (head := self.store.head().position) - done > min(self.batch_size, _SWAP_TAIL):
            events = self.store.read_all(done, until=head, page_size=self.batch_size)
            done, count = self._fold(chosen, rows, events, done)
            caught += count
            for projection in chosen:
                self._write(rows[projection.name])
        return done, caught

    def _fold(self, projections: list[Projection], rows: dict[str, Rows],
              events: Iterator[RecordedEvent], done: int, progress: Progress | None = None,
              target: int = 0, batch_size: int | None = None) -> tuple[int, int]:
        """Fold ``events`` into a rebuild's ``rows``, a batch (of :attr:`batch_size`, or
        ``batch_size``) at a time. Returns the position folded up to (``done`` if there were
        none) and how many were folded."""
        count = 0
        while batch := list(itertools.islice(events, batch_size or self.batch_size)):
            for projection in projections:
                projection.apply_rows(rows[projection.name], batch)
                # rows stay in memory, each written once, until there are too many
                self._bound(rows[projection.name])
            done = batch[-1].position
            count += len(batch)
            if progress is not None:
                progress(done, target)
        return done, count

    def _write(self, rows: Rows) -> None:
        """Write a rebuild's changed rows, :data:`_WRITE_CHUNK` rows a transaction."""
        more = True
        while more:
            rows.plan(_WRITE_CHUNK)  # outside the write lock: an editor need not wait for it
            with write_transaction(self.store.conn, yielding=True):
                more = rows.flush(most=_WRITE_CHUNK)

    def _bound(self, rows: Rows) -> None:
        """Past :attr:`Rows.max_rows` or :attr:`Rows.max_bytes`, let go of the rows a rebuild
        held longest, down to half of it, :data:`_WRITE_CHUNK` rows a transaction."""
        more = rows.over()
        while more:
            rows.plan(_WRITE_CHUNK)  # outside the write lock: an editor need not wait for it
            with write_transaction(self.store.conn, yielding=True):
                more = rows.evict(_WRITE_CHUNK)

    # -- as-of ---------------------------------------------------------------------------------

    def as_of(
        self,
        projection: Projection | Sequence[Projection],
        *,
        position: int | None = None,
        at: datetime | None = None,
        stream_prefix: str | None = None,
    ) -> tuple[Connection, int]:
        """Build projections as they stood at a past ``position`` (or time ``at``) in a scratch
        in-memory database, by replaying the log up to it (a whole blog's feed at a past moment
        is :class:`events.history.AsOf`'s, which needs no replay).

        :param projection: one projection or several (applied in order, batch by batch).
        :param stream_prefix: replay only the streams starting with this (a per-aggregate
            replay when the projection only needs those).
        :returns: the scratch connection, with the projection's tables under their logical
            names, and the position it was built to.
        """
        if (position is None) == (at is None):
            raise ValueError("give exactly one of position or at")
        upto = position if position is not None else self.store.position_at(at)  # type: ignore[arg-type]
        chosen = [projection] if isinstance(projection, Projection) else list(projection)
        scratch: Connection = connect(":memory:", synchronous="OFF")
        tables = [Tables(p.tables, 0, live=True) for p in chosen]
        scratch.execute("BEGIN")
        for p, t in zip(chosen, tables, strict=True):
            p.create(scratch, t)
            p.create_indexes(scratch, t)
        events = self.store.read_all(0, until=upto, stream_prefix=stream_prefix,
                                     page_size=self.batch_size)
        while batch := list(itertools.islice(events, self.batch_size)):
            for p, t in zip(chosen, tables, strict=True):
                p.apply(scratch, t, batch)
        scratch.execute("COMMIT")
        return scratch, upto
