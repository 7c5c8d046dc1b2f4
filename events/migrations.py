"""Every table of both backends, as numbered migrations: the store's own (events, idempotency,
checkpoints, the Merkle tree's kept hashes) and the application's operational tables beside
them (the scheduler's lease, the health probe, signed audit and log checkpoints, presence,
media, readers' questions), which hold state, not history, and are named here so that one
list says what a database holds at each version. Poll votes are kept apart
(``liveblog.votes``: on SQLite a file of their own, so that a vote never waits on the log's
lock), and make their own tables.

The DDL is data, written once in the common dialect (``INTEGER``, ``TEXT``, ``BLOB``; each
backend's connection translates ``CREATE TABLE`` for PostgreSQL: 64-bit integers, ``BYTEA``,
byte-order text). Only what the dialects say differently (triggers) is written per backend.
Applied migrations are recorded in ``_events_migrations``; each runs once per database, in its
own write transaction, so nodes starting together apply it once. A database's schema version is
the number of its last migration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .backends import table_exists
from .backends.base import Connection, write_transaction
from .chain import GENESIS_HASH, rechain
from .records import Head


@dataclass(frozen=True)
class PerDialect:
    """A statement each backend writes in its own words (run as written, untranslated; None:
    that backend needs none)."""

    sqlite: str | None
    postgresql: str | None


#: a step: common-dialect SQL, a statement per dialect, or a function of the connection
Step = str | PerDialect | Callable[[Connection], object]


@dataclass(frozen=True)
class Migration:
    """One numbered change of the schema: its steps run in one transaction."""
    number: int
    slug: str
    steps: tuple[Step, ...]

    @property
    def name(self) -> str:
        """How it is recorded: ``0005_chain_v2``."""
        return f"{self.number:04d}_{self.slug}"


def upgrade_to_v2(conn: Connection, *, page_size: int = 5000) -> int:
    """Move a log recorded under chain v1 to chain v2, in place, page by page (migration 5's
    step: the new columns are there, and no immutability trigger on updates yet).

    :returns: the number of events moved.
    :raises ChainError: the v1 chain is broken; the migration's transaction rolls back.
    """
    head, legacy, moved = Head(0, GENESIS_HASH), GENESIS_HASH, 0
    while True:
        rows = conn.execute(
            "SELECT position, stream_id, version, type, schema_version, data, metadata,"
            " recorded_at, prev_hash, hash FROM events WHERE position > ?"
            " ORDER BY position LIMIT ?", (head.position, page_size)).fetchall()
        if not rows:
            return moved
        new = list(rechain(rows, head, legacy))
        conn.executemany(
            "UPDATE events SET prev_hash = ?, hash = ?, data_hash = ?, legacy_hash = ?"
            " WHERE position = ?", [(r[8], r[9], r[10], r[11], r[0]) for r in new])
        last = new[-1]
        head, legacy, moved = Head(last[0], last[9]), str(last[11]), moved + len(new)


_IMMUTABLE_PG = PerDialect(
    sqlite=None,
    postgresql="CREATE FUNCTION events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$"
               " BEGIN RAISE EXCEPTION 'events are immutable: % is not allowed', TG_OP; END $$")

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "events", (
        "CREATE TABLE events (position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL,"
        " version INTEGER NOT NULL, type TEXT NOT NULL, schema_version INTEGER NOT NULL,"
        " data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL,"
        " prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
        # The concurrency check of last resort: two writers can never both record version N.
        # No other index: each one costs every append. Type filters page through positions,
        # and recorded_at never decreases along the log, so a time is found by bisection.
        "CREATE UNIQUE INDEX events_stream_version ON events (stream_id, version)",
        # History is immutable even for a stray SQL client on a normal connection.
        _IMMUTABLE_PG,
        PerDialect(
            sqlite="CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN"
                   " SELECT RAISE(ABORT, 'events are immutable: UPDATE is not allowed'); END",
            postgresql="CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events"
                       " FOR EACH ROW EXECUTE FUNCTION events_immutable()"),
        PerDialect(
            sqlite="CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN"
                   " SELECT RAISE(ABORT, 'events are immutable: DELETE is not allowed'); END",
            postgresql="CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events"
                       " FOR EACH STATEMENT EXECUTE FUNCTION events_immutable()"),
    )),
    Migration(2, "idempotency", (
        "CREATE TABLE idempotency (key TEXT PRIMARY KEY, fingerprint TEXT,"
        " stream_id TEXT NOT NULL, first_position INTEGER NOT NULL,"
        " last_position INTEGER NOT NULL)",
    )),
    Migration(3, "projection_checkpoints", (
        "CREATE TABLE projection_checkpoints (name TEXT PRIMARY KEY, version INTEGER NOT NULL,"
        " position INTEGER NOT NULL, generation INTEGER NOT NULL)",
    )),
    # A cache for as-of replay, never the truth: each row names the log position it stands for
    # and that event's hash, so a snapshot of a log that no longer matches is ignored.
    Migration(4, "projection_snapshots", (
        "CREATE TABLE projection_snapshots (key TEXT, position INTEGER,"
        " event_hash TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (key, position))",
    )),
    # Each event's hash covers its payload's hash (events.chain): the v1 chain is checked, then
    # every event is re-chained, keeping its v1 hash; a broken log raises and stays v1. The
    # only change an event may then undergo is a redaction erasing its payload, once.
    Migration(5, "chain_v2", (
        "ALTER TABLE events ADD COLUMN data_hash TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE events ADD COLUMN legacy_hash TEXT",
        "ALTER TABLE events ADD COLUMN redacted INTEGER NOT NULL DEFAULT 0",
        PerDialect(sqlite="DROP TRIGGER events_no_update",
                   postgresql="DROP TRIGGER events_no_change ON events"),
        upgrade_to_v2,
        PerDialect(
            sqlite=None,  # SQLite's delete trigger of migration 1 stays
            postgresql="CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
                       " FOR EACH ROW EXECUTE FUNCTION events_immutable()"),
        PerDialect(
            sqlite="CREATE TRIGGER events_no_update BEFORE UPDATE ON events WHEN NOT ("
                   " OLD.redacted = 0 AND NEW.redacted = 1"
                   " AND NEW.position IS OLD.position AND NEW.stream_id IS OLD.stream_id"
                   " AND NEW.version IS OLD.version AND NEW.type IS OLD.type"
                   " AND NEW.schema_version IS OLD.schema_version"
                   " AND NEW.metadata IS OLD.metadata AND NEW.recorded_at IS OLD.recorded_at"
                   " AND NEW.prev_hash IS OLD.prev_hash AND NEW.hash IS OLD.hash"
                   " AND NEW.data_hash IS OLD.data_hash AND NEW.legacy_hash IS OLD.legacy_hash)"
                   " BEGIN SELECT RAISE(ABORT, 'events are immutable: only a redaction may"
                   " erase a payload'); END",
            postgresql="""CREATE FUNCTION events_erase_only() RETURNS trigger LANGUAGE plpgsql
                AS $$ BEGIN
                IF OLD.redacted = 0 AND NEW.redacted = 1 AND (NEW.position, NEW.stream_id,
                        NEW.version, NEW.type, NEW.schema_version, NEW.metadata,
                        NEW.recorded_at, NEW.prev_hash, NEW.hash, NEW.data_hash,
                        NEW.legacy_hash)
                    IS NOT DISTINCT FROM (OLD.position, OLD.stream_id, OLD.version, OLD.type,
                        OLD.schema_version, OLD.metadata, OLD.recorded_at, OLD.prev_hash,
                        OLD.hash, OLD.data_hash, OLD.legacy_hash) THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'events are immutable: only a redaction may erase a payload';
                END $$"""),
        PerDialect(sqlite=None,
                   postgresql="CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
                              " FOR EACH ROW EXECUTE FUNCTION events_erase_only()"),
        # the erased events (few, none in most logs: the index costs appends nothing)
        "CREATE INDEX events_erased ON events (position) WHERE redacted = 1",
    )),
    # as-of snapshots became database images: the JSON ones are a cache no one reads now
    Migration(6, "snapshot_images", ("DELETE FROM projection_snapshots",)),
    # -- the application's operational tables (made with IF NOT EXISTS by earlier versions,
    # -- so a database that has them already takes these as they are)
    # which process runs the background jobs (liveblog.scheduler)
    Migration(7, "scheduler_lease", (
        "CREATE TABLE IF NOT EXISTS scheduler_lease (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " holder TEXT NOT NULL, expires_at TEXT NOT NULL)",
    )),
    # one row /healthz rewrites to learn whether storage takes writes again
    Migration(8, "health_probe", (
        "CREATE TABLE IF NOT EXISTS health_probe (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " at REAL NOT NULL)",
    )),
    # the chain's head signed now and then (liveblog.checkpoints), and the key that signs it
    Migration(9, "audit_checkpoints", (
        "CREATE TABLE IF NOT EXISTS audit_checkpoints (position INTEGER PRIMARY KEY,"
        " hash TEXT NOT NULL, recorded_at TEXT NOT NULL, key_id TEXT NOT NULL,"
        " signature TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS audit_signing_key (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " private_key TEXT NOT NULL)",
    )),
    # who has a post open (liveblog.presence): heartbeats, not history
    Migration(10, "presence", (
        "CREATE TABLE IF NOT EXISTS presence (blog_id TEXT NOT NULL, post_id TEXT NOT NULL,"
        " token_id TEXT NOT NULL, name TEXT NOT NULL, since TEXT NOT NULL,"
        " last_seen TEXT NOT NULL, PRIMARY KEY (blog_id, post_id, token_id))",
    )),
    # uploaded images by the SHA-256 of their bytes, and their narrower copies (liveblog.media)
    Migration(11, "media", (
        "CREATE TABLE IF NOT EXISTS media (id TEXT PRIMARY KEY, content_type TEXT NOT NULL,"
        " width INTEGER NOT NULL, height INTEGER NOT NULL, bytes INTEGER NOT NULL,"
        " created_at TEXT NOT NULL, data BLOB NOT NULL)",
        "CREATE TABLE IF NOT EXISTS media_sizes (media_id TEXT NOT NULL, width INTEGER NOT NULL,"
        " data BLOB NOT NULL, PRIMARY KEY (media_id, width))",
    )),
    # people signed in through the identity provider (liveblog.people): one row a browser,
    # by the SHA-256 of its cookie; and the key every node signs sign-in state with
    Migration(12, "sessions", (
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, person_id TEXT NOT NULL,"
        " name TEXT NOT NULL, role TEXT, csrf_token TEXT NOT NULL, created_at TEXT NOT NULL,"
        " expires_at TEXT NOT NULL)",
        "CREATE INDEX sessions_person ON sessions (person_id)",
        "CREATE TABLE app_secret (id INTEGER PRIMARY KEY CHECK (id = 1), secret TEXT NOT NULL)",
    )),
    # partners' webhooks (liveblog.webhooks): each with its own cursor in the log, its retry
    # state and a lease (one node delivers it at a time), and the deliveries it was sent
    Migration(13, "webhooks", (
        "CREATE TABLE webhooks (id TEXT PRIMARY KEY, url TEXT NOT NULL, blogs TEXT,"
        " events TEXT, secrets TEXT NOT NULL, active INTEGER NOT NULL,"
        " disabled_reason TEXT, created_at TEXT NOT NULL, cursor INTEGER NOT NULL,"
        " failing_since TEXT, next_attempt_at TEXT, attempts INTEGER NOT NULL DEFAULT 0,"
        " lease_holder TEXT, lease_until TEXT)",
        "CREATE TABLE webhook_deliveries (id TEXT PRIMARY KEY, webhook_id TEXT NOT NULL,"
        " message_id TEXT NOT NULL, position INTEGER NOT NULL, type TEXT NOT NULL,"
        " attempt INTEGER NOT NULL, attempted_at TEXT NOT NULL, status INTEGER,"
        " outcome TEXT NOT NULL, duration_ms INTEGER NOT NULL, error TEXT)",
        "CREATE INDEX webhook_deliveries_by_hook ON webhook_deliveries (webhook_id,"
        " attempted_at)",
        # the first answer to a POST that records no event (a webhook's), by Idempotency-Key
        "CREATE TABLE api_replies (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,"
        " status INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL)",
    )),
    # what oEmbed providers answered for each embedded URL (liveblog.embeds), so a save does
    # not wait on a provider each time, and a provider that is down keeps its card
    Migration(14, "oembed_cache", (
        "CREATE TABLE oembed_cache (url TEXT PRIMARY KEY, data TEXT NOT NULL,"
        " fetched_at TEXT NOT NULL)",
    )),
    # the keys content that may be erased is sealed with (events.keys): one a stream, wrapped
    # under one of 256 group keys, so that an erasure rewrites a 256-row table, not the log
    Migration(15, "stream_keys", (
        "CREATE TABLE key_groups (grp INTEGER PRIMARY KEY, kek BLOB NOT NULL)",
        "CREATE TABLE stream_keys (stream_id TEXT PRIMARY KEY, grp INTEGER NOT NULL,"
        " wrapped BLOB NOT NULL)",
        "CREATE INDEX stream_keys_group ON stream_keys (grp)",
    )),
    # the log as a Merkle tree (events.tlog): the hash of every complete subtree of 256**k
    # leaves, so a proof or a tile never hashes more than a few hundred leaves
    Migration(16, "merkle_nodes", (
        "CREATE TABLE merkle_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL,"
        " hash BLOB NOT NULL, PRIMARY KEY (level, idx))",
    )),
    # the checkpoints of that tree the service signed (liveblog.transparency), and the size
    # each witness last cosigned
    Migration(17, "log_checkpoints", (
        "CREATE TABLE log_checkpoints (size INTEGER PRIMARY KEY, root BLOB NOT NULL,"
        " note TEXT NOT NULL, signed_at TEXT NOT NULL)",
        "CREATE TABLE log_witnesses (name TEXT PRIMARY KEY, size INTEGER NOT NULL)",
    )),
    # as-of replay's snapshot cache is gone (nothing configured it; a feed's past is the
    # feed's history, events.history): its table goes, and no redaction has to remember it
    Migration(18, "drop_projection_snapshots", ("DROP TABLE IF EXISTS projection_snapshots",)),
    # readers' questions waiting for an editor (liveblog.questions): not history, and never in
    # the log unless an editor answers one; the proof-of-work challenges already spent (each
    # solution is accepted once), until they expire
    Migration(19, "questions", (
        "CREATE TABLE questions (id TEXT PRIMARY KEY, blog_id TEXT NOT NULL,"
        " text TEXT NOT NULL, name TEXT, contact TEXT, status TEXT NOT NULL,"
        " created_at TEXT NOT NULL, address TEXT, post_id TEXT, moderated_at TEXT,"
        " moderated_by TEXT)",
        "CREATE INDEX questions_by_blog ON questions (blog_id, status, created_at)",
        "CREATE INDEX questions_by_address ON questions (address, created_at)",
        "CREATE TABLE spent_challenges (signature TEXT PRIMARY KEY, expires_at TEXT NOT NULL)",
    )),
)

#: the schema version a database has once every migration ran
LATEST = MIGRATIONS[-1].number

_LEDGER = PerDialect(
    sqlite="CREATE TABLE IF NOT EXISTS _events_migrations (name TEXT PRIMARY KEY,"
           " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))",
    postgresql="CREATE TABLE IF NOT EXISTS _events_migrations (name TEXT PRIMARY KEY,"
               " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")


def _run(conn: Connection, step: Step) -> None:
    if isinstance(step, PerDialect):
        sql = step.postgresql if conn.dialect == "postgresql" else step.sqlite
        if sql is not None:
            raw = getattr(conn, "raw", conn)  # PostgreSQL: as written, not translated
            raw.execute(sql)
    elif isinstance(step, str):
        conn.execute(step)
    else:
        step(conn)


def migrate(conn: Connection, *, upto: int = LATEST) -> list[str]:
    """Apply the pending migrations up to number ``upto``, in order, each in its own write
    transaction with its record in ``_events_migrations``.

    :returns: the names of the migrations applied now.
    """
    with write_transaction(conn):
        _run(conn, _LEDGER)
    applied: list[str] = []
    for migration in MIGRATIONS:
        if migration.number > upto:
            break
        with write_transaction(conn):
            done = conn.execute("SELECT 1 FROM _events_migrations WHERE name = ?",
                                (migration.name,)).fetchone()
            if done is not None:
                continue
            for step in migration.steps:
                _run(conn, step)
            conn.execute("INSERT INTO _events_migrations (name) VALUES (?)", (migration.name,))
            applied.append(migration.name)
    return applied


def pending_migrations(conn: Connection) -> list[str]:
    """The names of the migrations this database has not had yet (every one on a new one)."""
    if not table_exists(conn, "_events_migrations"):
        return [m.name for m in MIGRATIONS]
    names = {row[0] for row in conn.execute("SELECT name FROM _events_migrations")}
    return [m.name for m in MIGRATIONS if m.name not in names]


def schema_version(conn: Connection) -> int:
    """The number of the last migration this database has (0 when it has none)."""
    names = {row[0] for row in conn.execute("SELECT name FROM _events_migrations")}
    return max((m.number for m in MIGRATIONS if m.name in names), default=0)
