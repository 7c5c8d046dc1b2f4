"""events: a small, domain-agnostic event store on SQLite or PostgreSQL.

An append-only log with global positions, per-stream versions and optimistic concurrency,
idempotency keys, a SHA-256 hash chain, schema upcasting, and a projection runner with
checkpoints, catch-up, full rebuild and as-of replay. It knows nothing about its users' domain.
"""

from . import note, tlog
from .backends import (
    Connection,
    Watcher,
    check_name,
    connect,
    database_errors,
    is_postgres,
    read_snapshot,
    table_exists,
    unavailable,
    upgrade_lock,
    watcher,
    write_transaction,
)
from .chain import GENESIS_HASH, record_hash, record_text
from .encoding import canonical, compact, format_time
from .errors import (
    ChainError,
    ConcurrencyError,
    EmptyAppendError,
    EventStoreError,
    IdempotencyConflictError,
    StoreNotEmptyError,
    UniqueViolationError,
)
from .jsonl import export_jsonl, import_jsonl
from .migrations import LATEST as SCHEMA_VERSION
from .migrations import migrate, pending_migrations, schema_version
from .projections import Projection, ProjectionRunner, Rows, Tables
from .records import Head, NewEvent, RecordedEvent, StoredRow, VerifyResult
from .store import EventStore, utc_now, verify
from .upcasting import Upcasters

__all__ = [
    "database_errors",
    "GENESIS_HASH",
    "SCHEMA_VERSION",
    "ChainError",
    "ConcurrencyError",
    "Connection",
    "EmptyAppendError",
    "EventStore",
    "EventStoreError",
    "Head",
    "IdempotencyConflictError",
    "NewEvent",
    "Projection",
    "ProjectionRunner",
    "RecordedEvent",
    "Rows",
    "StoreNotEmptyError",
    "StoredRow",
    "Tables",
    "UniqueViolationError",
    "Upcasters",
    "VerifyResult",
    "Watcher",
    "canonical",
    "check_name",
    "compact",
    "connect",
    "export_jsonl",
    "format_time",
    "import_jsonl",
    "is_postgres",
    "migrate",
    "read_snapshot",
    "note",
    "record_hash",
    "record_text",
    "tlog",
    "schema_version",
    "pending_migrations",
    "table_exists",
    "unavailable",
    "upgrade_lock",
    "utc_now",
    "verify",
    "watcher",
    "write_transaction",
]
