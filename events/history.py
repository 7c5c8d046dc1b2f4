"""A projection's history: every version its rows have had, each with the log positions it held
between, so a past moment is a query (an index range), not a replay.

:class:`History` wraps other projections: their handlers run unchanged, on rows read from and
written to ``<table>_versions`` tables, which hold each row's columns and ``valid_from`` (the
position of the event that made this version) and ``valid_to`` (the position of the event that
replaced or removed it; NULL while it is current). The row ``key`` had at position ``p`` is the
version with ``valid_from <= p < valid_to``. :func:`as_of` gives those rows back under the
wrapped tables' own names, so the queries written for the live tables answer for the past.

Storage grows with the changes (one version a row change), never with the number of moments
asked about, and asking about any moment costs the same.
"""

from __future__ import annotations

import functools
import itertools
import operator
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from .backends import Connection, write_transaction
from .projections import Handler, Projection, Row, Rows, SealedColumns, Tables
from .records import RecordedEvent

#: the suffix of a wrapped table's versions table
VERSIONS = "_versions"
#: rows a copy of current versions writes in one transaction (the copied table's indexes are
#: kept as it goes, each row a few pages here and there: 20,000 rows of a 2,000,000-event log
#: held the write lock for 0.9 s, measured)
COPY_CHUNK = 5_000
#: what a statement :class:`VersionedRows` queues does: close a key's stored version (before
#: the versions that follow it), store a version (its words sealed, or still to be sealed),
#: or erase words from every version of a key
_CLOSE, _INSERT, _ERASE, _UNSEALED = 0, 1, 2, 3


class VersionedRows(Rows):
    """:class:`Rows` that keep every version put, with the position of the event that put it.

    Handlers see the wrapped projections' table names and current rows, as with :class:`Rows`;
    what :meth:`flush` writes is the versions, in the order they were made.
    """

    def __init__(self, projection: Projection, conn: Connection, t: Tables, *,
                 complete: bool = False, keep: bool = False) -> None:
        super().__init__(projection, conn, t, complete=complete, keep=keep)
        #: the position of the event being applied (set by :meth:`History.apply_rows`)
        self.position = 0
        # (table, key, position, values or None for removed) in the order made; an erasure is
        # (table, key, -1, {column: value}) and rewrites every earlier version of the key
        self._versions: list[tuple[str, Any, int, Any]] = []
        #: by versions table, the keys whose last version stored is open, when that is known
        #: (tables that were empty, written by us alone: a rebuild's): only those need closing.
        #: Past :attr:`OPEN_KEYS` keys it is no longer kept (memory stays bounded) and every
        #: key's first version in a write closes the one stored before it, if any
        self._open: dict[str, set[Any]] | None = {} if complete else None
        #: the statements worked out and not yet run, in key order (see _write_versions)
        self._queued: list[tuple[str, Any, int, int, Any]] = []
        #: the wrapped table whose versions each physical table holds
        self._wrapped = {t[table + VERSIONS]: table for table in self.columns}

    @staticmethod
    def _held(projection: Projection) -> Mapping[str, tuple[str, ...]]:
        assert isinstance(projection, History)
        return projection.wrapped_columns

    def _source(self, table: str) -> tuple[str, tuple[str, ...], str]:
        return self.t[table + VERSIONS], self.columns[table], " AND valid_to IS NULL"

    #: the most keys :attr:`_open` holds (about 100 bytes each)
    OPEN_KEYS = 200_000

    def put(self, table: str, row: Row) -> None:
        super().put(table, row)
        self._versions.append((table, row[self.columns[table][0]], self.position,
                               self._values[table](row)))

    def delete(self, table: str, key: Any) -> None:
        if self._rows[table].get(key) is not None:
            self._versions.append((table, key, self.position, None))
        super().delete(table, key)

    def erase(self, table: str, key: Any, values: Mapping[str, Any]) -> None:
        """Set ``values`` in every version of ``key`` made so far, stored or not (an erasure:
        the text leaves the past versions too, not just the current one)."""
        self._versions.append((table, key, -1, dict(values)))

    def over(self) -> bool:
        # the versions waiting to be written count against the same bounds as the rows held
        return super().over() or len(self._versions) > self.max_rows or (
            self._versions_bytes() > self.max_bytes // 2)

    def _versions_bytes(self, sample: int = 32) -> int:
        """What the versions waiting to be written take in memory, estimated from a sample."""
        if not self._versions:
            return 0
        step = max(1, len(self._versions) // sample)
        sizes = [sys.getsizeof(v[3]) + sum(map(sys.getsizeof, v[3] or ()))
                 for v in self._versions[::step][:sample] if isinstance(v[3], tuple)]
        return len(self._versions) * (sum(sizes) // len(sizes)) if sizes else 0

    def shared(self) -> None:
        super().shared()
        self._open = None  # (which keys the others left open is not known here)

    def _unwritten(self) -> bool:
        return bool(self._versions or self._queued)

    def flush(self, *, most: int | None = None) -> bool:
        self._write_versions(max(most, 1) if most is not None else None)
        if self._unwritten():
            return True
        for dirty in self._dirty.values():
            dirty.clear()
        if not self.keep:
            for rows in self._rows.values():
                rows.clear()
        return False

    def evict(self, most: int) -> bool:
        if self._unwritten():
            self._write_versions(most)
            return True
        return super().evict(most)

    def _write_keys(self, table: str, keys: list[Any]) -> None:
        # the current rows are written as versions when they are made: nothing more to write
        dirty = self._dirty[table]
        for k in keys:
            dirty.pop(k, None)

    def _write_versions(self, most: int | None) -> None:
        """Write up to ``most`` rows of versions (None: all), in the caller's transaction.

        The versions made since the last write, up to an erasure, are first worked out
        together (:meth:`_statements`), then written in the order of their tables' keys, not
        in the order they were made: a transaction of neighbouring keys changes a few pages of
        each index on the key, where one in log order changed nearly a page a row (each page
        written again by every transaction: a rebuild slowed as its tables grew)."""
        budget = 2**62 if most is None else most
        while budget > 0 and self._unwritten():
            self.plan()
            if budget >= len(self._queued):
                chunk, self._queued = self._queued, []
            else:
                chunk, self._queued = self._queued[:budget], self._queued[budget:]
            budget -= len(chunk)
            for _, statements in itertools.groupby(chunk, key=operator.itemgetter(0)):
                self._execute(list(statements))  # each table's statements together

    def plan(self, most: int | None = None) -> None:
        if not self._queued and self._versions:
            self._queue()  # (sorting a window of versions takes a while: no lock held)
        if most is not None and self.sealing is not None:
            self._seal_ahead(most)

    def _seal_ahead(self, most: int) -> None:
        """Seal the words of the versions the next write stores (the first ``most``
        statements) before its transaction, as sealing takes a while too (a rebuild's other
        processes write meanwhile), and only those: the sealed words of a whole window would
        all be in memory. A stream with no key yet is left to the write, which makes it."""
        self._queued[:most] = self._sealed(self._queued[:most], ahead=True)

    def _sealed(self, statements: Sequence[tuple[str, Any, int, int, Any]], *, ahead: bool
                ) -> list[tuple[str, Any, int, int, Any]]:
        """``statements`` with the words of the versions they store sealed, a table at a
        time; ``ahead`` (outside the write transaction): a table's left as they are when one
        of their streams has no key yet."""
        out = list(statements)
        runs: dict[str, list[int]] = {}
        for i, statement in enumerate(out):
            if statement[2] == _UNSEALED:
                runs.setdefault(statement[0], []).append(i)
        for name, at in runs.items():
            assert self.sealing is not None  # (versions are queued unsealed only with it)
            table, rows = self._wrapped[name], [out[i][4] for i in at]
            sealed = (self.sealing.seal_rows_keyed(table, rows) if ahead
                      else self.sealing.seal_rows(table, rows))
            for i, row in zip(at, sealed or (), strict=False):
                out[i] = (*out[i][:2], _INSERT, out[i][3], row)
        return out

    def _queue(self) -> None:
        """Work out the statements of the versions made up to the next erasure (or of that
        erasure: it rewrites every version of its key written before it), in key order."""
        versions = self._versions
        cut = next((i for i, v in enumerate(versions) if v[2] == -1), len(versions))
        if cut == 0:
            table, key, _, values = versions[0]
            self._versions = versions[1:]
            self._queued = [(self.t[table + VERSIONS], key, _ERASE, 0, values)]
            return
        runs: dict[str, list[tuple[str, Any, int, Any]]] = {}
        for version in versions[:cut]:
            runs.setdefault(version[0], []).append(version)
        self._versions = versions[cut:]
        queued = [statement for table, run in runs.items()
                  for statement in self._statements(table, run)]
        # (table, key, closing first, position): unique, so the parameters are never compared
        # (and a table's keys are of one type)
        queued.sort()
        self._queued = queued

    def _statements(self, table: str, versions: list[tuple[str, Any, int, Any]]
                    ) -> list[tuple[str, Any, int, int, tuple[Any, ...]]]:
        """The statements that store these versions of ``table`` (in the order made): each
        key's first one closes the version stored before it, each later one ends the one
        before it. ``(physical table, key, _CLOSE or _INSERT, position, parameters)``.

        The versions' words are sealed later (:meth:`_seal_ahead`, or as they are written)."""
        name = self.t[table + VERSIONS]
        # the last version of a key at a position is the one it had after that event
        latest: dict[tuple[Any, int], Any] = {}
        for _, k, position, values in versions:
            latest.pop((k, position), None)
            latest[(k, position)] = values
        ends: dict[Any, int | None] = {}
        rows: list[tuple[Any, ...]] = []
        closes: dict[Any, int] = {}
        #: whether each key's last version here is open (not a removal)
        left_open: dict[Any, bool] = {}
        for (k, position), values in reversed(latest.items()):
            end = ends.get(k)
            if end is None:
                left_open[k] = values is not None
            ends[k] = position
            closes[k] = position
            if values is not None:
                rows.append((*values, position, end))
        if self._open is not None:
            stored = self._open.setdefault(name, set())
            closes = {k: p for k, p in closes.items() if k in stored}
            for k, is_open in left_open.items():
                if is_open:
                    stored.add(k)
                else:
                    stored.discard(k)
            if sum(map(len, self._open.values())) > self.OPEN_KEYS:
                self._open = None
        insert = _INSERT if self.sealing is None else _UNSEALED
        return [*((name, k, _CLOSE, p, (p, k)) for k, p in closes.items()),
                *((name, row[0], insert, row[-2], row) for row in rows)]

    def _execute(self, statements: Sequence[tuple[str, Any, int, int, Any]]) -> None:
        """Run statements of one versions table: closings before the versions that follow."""
        name = statements[0][0]
        table = self._wrapped[name]
        columns = self.columns[table]
        key = columns[0]
        if statements[0][2] == _ERASE:
            values = statements[0][4]
            sets = ", ".join(f"{c} = ?" for c in values)
            self.conn.execute(f"UPDATE {name} SET {sets} WHERE {key} = ?",
                              (*values.values(), statements[0][1]))
            return
        self.conn.executemany(f"UPDATE {name} SET valid_to = ? WHERE {key} = ?"
                              f" AND valid_to IS NULL",
                              [s[4] for s in statements if s[2] == _CLOSE])
        # (those not sealed ahead, sealed a chunk at a time: never all in memory)
        rows = [s[4] for s in self._sealed(statements, ahead=False) if s[2] != _CLOSE]
        self.conn.executemany(
            f"INSERT INTO {name} ({', '.join(columns)}, valid_from, valid_to)"
            f" VALUES ({','.join('?' * (len(columns) + 2))})", rows)


class History(Projection):
    """The history of the ``wrapped`` projections' tables (see the module's text).

    A subclass names itself, gives ``wrapped``, and creates the versions tables in
    :meth:`create`: each wrapped table's columns, then ``valid_from INTEGER NOT NULL`` and
    ``valid_to INTEGER``, with a primary key on (key, ``valid_from``) and a unique index on the
    key ``WHERE valid_to IS NULL`` created there too (closing a version looks its key's current
    one up while the tables fill: without it, a key with many versions is a scan each time).
    """

    rows_class = VersionedRows
    wrapped: ClassVar[Sequence[Projection]]
    #: by wrapped table, a column whose order (then the key's) :meth:`copy_rows` copies the
    #: current versions in, when the table's own indexes lead with it: each transaction's
    #: rows then land together in them. The subclass creates an index of the versions table
    #: on (that column, the key) ``WHERE valid_to IS NULL``. (The feed by blog: 19.5 s for
    #: 885,610 posts, with its indexes kept as it goes; by post id, 65 s.)
    copy_order: ClassVar[Mapping[str, str]] = {}

    @functools.cached_property
    def wrapped_columns(self) -> dict[str, tuple[str, ...]]:
        """Each wrapped table's columns, its key first (worked out once)."""
        return {table: p.columns[table] for p in self.wrapped for table in p.tables}

    @property
    def tables(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(table + VERSIONS for table in self.wrapped_columns)

    @property
    def columns(self) -> Mapping[str, tuple[str, ...]]:  # type: ignore[override]
        return {table + VERSIONS: (*columns, "valid_from", "valid_to")
                for table, columns in self.wrapped_columns.items()}

    def handlers(self) -> Mapping[str, Handler]:
        chains: dict[str, list[Handler]] = {}
        for projection in self.wrapped:
            for name, handler in projection.handlers().items():
                chains.setdefault(name, []).append(handler)

        def run(chain: list[Handler]) -> Handler:
            def handle(rows: Rows, event: RecordedEvent) -> None:
                for handler in chain:
                    handler(rows, event)
            return handle

        return {name: run(chain) for name, chain in chains.items()}

    @property
    def sealed(self) -> SealedColumns:  # type: ignore[override]
        """The wrapped projections' sealed columns: their versions are sealed alike."""
        merged: dict[str, Any] = {}
        for projection in self.wrapped:
            merged.update(projection.sealed)
        return merged

    def holds(self) -> Sequence[Projection]:
        """The wrapped projections: their rows are the versions still current."""
        return self.wrapped

    def copy_rows(self, conn: Connection, t: Tables, projection: Projection,
                  into: Tables) -> None:
        """Each of ``projection``'s tables filled with its versions still current, in key
        order (or :attr:`copy_order`'s), :data:`COPY_CHUNK` rows a transaction (each bound
        found first, outside the lock, along the index of that order). They are the same
        bytes the projection's own fold would write: the same handlers made them, sealed with
        the same keys."""
        for table in projection.tables:
            columns = self.wrapped_columns[table]
            names = ", ".join(columns)
            order = ((self.copy_order[table], columns[0]) if table in self.copy_order
                     else (columns[0],))
            by = ", ".join(order)
            # a row value, compared column by column (the columns are NOT NULL: the key, and
            # an ordering column the subclass chose)
            row, marks = f"({by})", f"({', '.join('?' * len(order))})"
            versions = t[table + VERSIONS]
            after = ""  # past the rows copied so far: none yet
            params: tuple[Any, ...] = ()
            while True:
                bound = conn.execute(
                    f"SELECT {by} FROM {versions} WHERE valid_to IS NULL{after}"
                    f" ORDER BY {by} LIMIT 1 OFFSET {COPY_CHUNK - 1}", params).fetchone()
                upto, through = ("", ()) if bound is None else (f" AND {row} <= {marks}",
                                                                 tuple(bound))
                with write_transaction(conn, yielding=True):
                    conn.execute(
                        f"INSERT INTO {into[table]} ({names}) SELECT {names} FROM {versions}"
                        f" WHERE valid_to IS NULL{after}{upto}", (*params, *through))
                if bound is None:
                    break
                after, params = f" AND {row} > {marks}", tuple(bound)

    def touches(self, event: RecordedEvent) -> Iterable[tuple[str, Any]]:
        for projection in self.wrapped:
            if event.type in projection._handlers():
                yield from projection.touches(event)

    def apply_rows(self, rows: Rows, events: Sequence[RecordedEvent]) -> None:
        assert isinstance(rows, VersionedRows)
        rows.fetch(events)
        handlers = self._handlers()
        for event in events:
            handler = handlers.get(event.type)
            if handler is not None:
                rows.position = event.position
                handler(rows, event)


class AsOf:
    """A connection whose reads see the wrapped tables as they were at ``position``: every
    ``SELECT`` is preceded by common table expressions named like the live tables, each the
    versions valid then. Everything else goes to the connection itself.

    :param where: ``{table: condition}`` narrowing a table's versions (say, to one blog's), in
        SQL over its columns: pass conditions that the queries' own answers imply, so an index
        can range over them.
    :param single: ``{table: key}`` for a table read for one key only: its version then is the
        latest made by that position (one index probe, however many versions the key has).
    """

    def __init__(self, conn: Connection, history: History, position: int, *,
                 where: Mapping[str, str] | None = None,
                 single: Mapping[str, str] | None = None) -> None:
        self.conn = conn
        at = int(position)
        parts = []
        for table, columns in history.wrapped_columns.items():
            names = ", ".join(columns)
            versions = table + VERSIONS
            valid = f"(valid_to IS NULL OR valid_to > {at})"
            if single and table in single:
                latest = (f"SELECT {names}, valid_to FROM {versions} WHERE {columns[0]} ="
                          f" {sql_string(single[table])} AND valid_from <= {at}"
                          " ORDER BY valid_from DESC LIMIT 1")
                parts.append(f"{table} AS (SELECT {names} FROM ({latest}) v WHERE {valid})")
                continue
            extra = f" AND {where[table]}" if where and table in where else ""
            parts.append(f"{table} AS (SELECT {names} FROM {versions}"
                         f" WHERE valid_from <= {at} AND {valid}{extra})")
        self._with = "WITH " + ", ".join(parts) + " "

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if sql.lstrip().upper().startswith("SELECT"):
            sql = self._with + sql
        return self.conn.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def sql_string(value: str) -> str:
    """An SQL string literal of ``value`` (for the conditions :class:`AsOf` takes)."""
    return "'" + str(value).replace("'", "''") + "'"
