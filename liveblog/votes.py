"""Readers' votes in polls. A vote is not an event: it never takes the log's lock, and only a
poll's closing enters the log (``PollClosed``, with the final tally).

Where they are kept: on PostgreSQL, in the database's own tables (every node counts the same
rows); on SQLite, in a file of their own beside the database (``<db>-votes``), so that a vote
never waits on the log's write lock nor makes a publish wait. A vote is one row, acknowledged
once committed (a ``kill -9`` after that loses nothing: SQLite's write-ahead log has it, with
``synchronous = NORMAL``; PostgreSQL's commit is durable). One voter, one vote: the row's key is
(poll, voter), so a retry or a second node never counts it twice. The tally is a count of rows,
so it equals the acknowledged votes exactly.

Closing is exact too: it marks the poll closed where the votes are, then counts. On SQLite the
file's lock orders a vote and the mark; on PostgreSQL a vote (one call of a function,
``liveblog_vote``) holds the poll's advisory lock shared while it checks the mark and writes,
and closing takes it exclusively, so no vote counted after the tally is taken can be
acknowledged.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import NamedTuple

from events import Connection, EventStore, format_time, write_transaction
from events.backends import connect, is_postgres, table_exists

#: the votes' tables (the common dialect: PostgreSQL's connection translates)
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS poll_votes (poll_id TEXT NOT NULL, voter TEXT NOT NULL,"
    " option_id TEXT NOT NULL, address TEXT NOT NULL, voted_at TEXT NOT NULL,"
    " PRIMARY KEY (poll_id, voter))",
    "CREATE INDEX IF NOT EXISTS poll_votes_by_option ON poll_votes (poll_id, option_id)",
    "CREATE INDEX IF NOT EXISTS poll_votes_by_address ON poll_votes (poll_id, address)",
    "CREATE TABLE IF NOT EXISTS closed_polls (poll_id TEXT PRIMARY KEY,"
    " closed_at TEXT NOT NULL)",
)

#: a vote, unless the poll is closed, the voter voted already, or the address has voted as
#: often as a poll allows
_VOTE = ("INSERT INTO poll_votes (poll_id, voter, option_id, address, voted_at)"
         " SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM closed_polls WHERE poll_id = ?)"
         " AND (SELECT count(*) FROM (SELECT 1 FROM poll_votes WHERE poll_id = ?"
         " AND address = ? LIMIT ?) AS mine) < ?"
         " ON CONFLICT (poll_id, voter) DO NOTHING")

#: a vote: counted, the voter's second, too late (the poll closed), or one too many from the
#: address
COUNTED, AGAIN, CLOSED, TOO_MANY = "counted", "again", "closed", "too many"

#: the PostgreSQL advisory lock space of polls (two-key locks: apart from the log's one-key)
_LOCK_SPACE = 0x706F6C6C  # "poll"

#: PostgreSQL's vote, one round trip: the poll's lock taken shared, then the vote written by a
#: statement of its own (so it sees a closing that committed while it waited for the lock)
_PG_VOTE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION liveblog_vote(p TEXT, v TEXT, o TEXT, a TEXT, t TEXT, k INTEGER,
                                         n INTEGER)
RETURNS INTEGER LANGUAGE plpgsql VOLATILE AS $$
DECLARE added INTEGER;
BEGIN
  PERFORM pg_advisory_xact_lock_shared({_LOCK_SPACE}, k);
  INSERT INTO poll_votes (poll_id, voter, option_id, address, voted_at)
    SELECT p, v, o, a, t WHERE NOT EXISTS (SELECT 1 FROM closed_polls WHERE poll_id = p)
      AND (SELECT count(*) FROM (SELECT 1 FROM poll_votes WHERE poll_id = p AND address = a
                                 LIMIT n) AS mine) < n
    ON CONFLICT (poll_id, voter) DO NOTHING;
  GET DIAGNOSTICS added = ROW_COUNT;
  RETURN added;
END $$"""
_PG_VOTE_SIGNATURE = "liveblog_vote(text, text, text, text, text, integer, integer)"
#: votes written together: one statement, the function called once a vote, in order
_PG_VOTES = ("SELECT b.ordinal, liveblog_vote(b.p, b.v, b.o, b.a, b.t, b.k, b.n) FROM unnest("
             "?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int[], ?::int[])"
             " WITH ORDINALITY AS b(p, v, o, a, t, k, n, ordinal) ORDER BY b.ordinal")


class Vote(NamedTuple):
    """A reader's vote, to be written (``address``: its keyed hash, :func:`address_key`)."""
    poll_id: str
    option_id: str
    voter: str
    address: str
    voted_at: str
    per_address: int


def path_of(database: str) -> str:
    """The SQLite file the votes of a SQLite database are kept in."""
    return f"{database}-votes"


def open_votes(database: str, store: EventStore) -> Votes:
    """The votes of ``database``, through ``store``'s connection (PostgreSQL) or a connection
    of their own (SQLite); their tables are made if missing (each statement is idempotent)."""
    if is_postgres(database):
        votes = Votes(store.conn, own=False)
    else:
        # leased with its store, to one thread at a time (not always the one that opened it)
        votes = Votes(connect(path_of(database), synchronous="NORMAL",
                              check_same_thread=False), own=True)
    votes.make_tables()
    return votes


def _lock_key(poll_id: str) -> int:
    return int.from_bytes(hashlib.sha256(poll_id.encode()).digest()[:4], "big", signed=True)


class Votes:
    """The votes of every poll, on one connection."""

    def __init__(self, conn: Connection, *, own: bool) -> None:
        self.conn = conn
        self.own = own

    def close(self) -> None:
        if self.own:
            self.conn.close()

    def make_tables(self) -> None:
        """Make the votes' tables if missing (nodes starting together make them once)."""
        postgres = self.conn.dialect == "postgresql"
        if table_exists(self.conn, "closed_polls") and not (postgres and self.conn.execute(
                f"SELECT to_regprocedure('{_PG_VOTE_SIGNATURE}') IS NULL").fetchone()[0]):
            return
        with self._poll_locked(""):
            for statement in SCHEMA:
                self.conn.execute(statement)
            if postgres:
                getattr(self.conn, "raw", self.conn).execute(_PG_VOTE_FUNCTION)

    @contextmanager
    def _poll_locked(self, poll_id: str) -> Iterator[None]:
        """A transaction that holds the poll's lock exclusively: no vote is being written
        meanwhile (a vote holds it shared: ``liveblog_vote``; on SQLite, the file's lock)."""
        if self.conn.dialect == "postgresql":
            # no parameters: one simple query, one round trip (the key is a number we made)
            self.conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({_LOCK_SPACE},"
                              f" {_lock_key(poll_id)})")
        else:
            self.conn.execute("BEGIN IMMEDIATE")  # the votes file's own lock
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def record(self, batch: Sequence[Vote]) -> list[str]:
        """Count each of ``batch``, in one transaction (on PostgreSQL, one statement): for
        each, COUNTED; or, changing nothing, AGAIN (the voter voted already), CLOSED (the poll
        has closed) or TOO_MANY (the address has as many votes in the poll as it may). Each
        vote is written by one statement, atomic under the lock closing takes, and sees the
        ones before it."""
        if self.conn.dialect == "postgresql":  # see _PG_VOTE_FUNCTION
            rows = [(b.poll_id, b.voter, b.option_id, b.address, b.voted_at,
                     _lock_key(b.poll_id), b.per_address) for b in batch]
            added = [0] * len(batch)
            for ordinal, n in self.conn.execute(_PG_VOTES, [list(column) for column in zip(
                    *rows, strict=True)]):
                added[ordinal - 1] = n
        else:
            with write_transaction(self.conn):  # the votes file's own lock
                added = [self.conn.execute(_VOTE, (
                    b.poll_id, b.voter, b.option_id, b.address, b.voted_at, b.poll_id,
                    b.poll_id, b.address, b.per_address, b.per_address)).rowcount
                    for b in batch]
        return [COUNTED if n else self._not_counted(b) for n, b in zip(added, batch, strict=True)]

    def _not_counted(self, vote: Vote) -> str:
        if self.closed(vote.poll_id):
            return CLOSED
        return AGAIN if self.choice(vote.poll_id, vote.voter) is not None else TOO_MANY

    def choice(self, poll_id: str, voter: str) -> str | None:
        """The option ``voter`` chose, if they voted."""
        row = self.conn.execute("SELECT option_id FROM poll_votes WHERE poll_id = ?"
                                " AND voter = ?", (poll_id, voter)).fetchone()
        return None if row is None else str(row[0])

    def tally(self, poll_id: str) -> dict[str, int]:
        """The votes of each option that has any."""
        return {str(option): int(n) for option, n in self.conn.execute(
            "SELECT option_id, count(*) FROM poll_votes WHERE poll_id = ? GROUP BY option_id",
            (poll_id,))}

    def closed(self, poll_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM closed_polls WHERE poll_id = ?",
                                 (poll_id,)).fetchone() is not None

    def close_poll(self, poll_id: str, now: datetime) -> dict[str, int]:
        """Stop the poll taking votes, and its final tally (the same however often it is
        asked: a closing that did not reach the log is finished by asking again)."""
        with self._poll_locked(poll_id):
            self.conn.execute("INSERT INTO closed_polls (poll_id, closed_at) VALUES (?, ?)"
                              " ON CONFLICT (poll_id) DO NOTHING", (poll_id, format_time(now)))
        return self.tally(poll_id)


def address_key(secret: str, address: str | None) -> str:
    """A reader's address as the votes and questions keep it: a keyed hash, never the address
    itself."""
    return hashlib.sha256(f"{secret}|{address or ''}".encode()).hexdigest()[:24]


class GroupCommit:
    """Votes that arrive together are written together: one transaction (one round trip on
    PostgreSQL) for as many votes as came while the last was being written, so a storm of
    votes costs the database a commit per batch, not per vote. A vote is answered only once
    its batch is committed (an acknowledged vote is never lost).

    The first vote to find no write under way leads: it lets the votes ready to run join
    (a yield: under gevent, the greenlets whose requests are read), writes them, hands the
    lead to the first vote that came meanwhile, and returns. The others wait; they hold no
    database connection while they do.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[_Waiting] = []
        self._writing = False

    def record(self, vote: Vote, write: Callable[[list[Vote]], list[str]]) -> str:
        """Count ``vote`` with the others that came meanwhile (``write``: what writes a
        batch, :meth:`Votes.record` on a connection of the leader's): its outcome."""
        waiting = _Waiting(vote)
        with self._lock:
            self._pending.append(waiting)
            waiting.lead = not self._writing
            self._writing = True
        while not waiting.lead:
            waiting.done.wait()
            if waiting.outcome is not None or waiting.error is not None:
                return waiting.result()
        time.sleep(0)  # the votes ready to run join this batch
        with self._lock:
            batch, self._pending = self._pending, []
        try:
            outcomes = write([w.vote for w in batch])
        except BaseException as error:  # each vote of the batch is answered with it
            for w in batch:
                w.error = error
        else:
            for w, outcome in zip(batch, outcomes, strict=True):
                w.outcome = outcome
        with self._lock:
            if self._pending:  # the next batch's first vote leads it
                self._pending[0].lead = True
                self._pending[0].done.set()
            else:
                self._writing = False
        for w in batch:
            w.done.set()
        return waiting.result()


class _Waiting:
    """A vote waiting for its batch: its outcome, or the error that stopped the batch."""

    def __init__(self, vote: Vote) -> None:
        self.vote = vote
        self.done = threading.Event()
        self.lead = False
        self.outcome: str | None = None
        self.error: BaseException | None = None

    def result(self) -> str:
        if self.error is not None:
            raise self.error
        assert self.outcome is not None
        return self.outcome
