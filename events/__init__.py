"""events: a small, domain-agnostic event store on SQLite.

An append-only log with global positions, per-stream versions and optimistic concurrency,
idempotency keys, a SHA-256 hash chain, schema upcasting, and a projection runner with
checkpoints, catch-up, full rebuild and as-of replay. It knows nothing about its users' domain.
"""

from .chain import GENESIS_HASH, canonical, format_time, record_hash, verify
from .errors import (
    ChainError,
    ConcurrencyError,
    EmptyAppendError,
    EventStoreError,
    IdempotencyConflictError,
    StoreNotEmptyError,
)
from .jsonl import export_jsonl, import_jsonl
from .projections import Projection, ProjectionRunner, Tables
from .records import Head, NewEvent, RecordedEvent, VerifyResult
from .schema import migrate
from .store import EventStore, connect, read_snapshot, utc_now, write_transaction
from .upcasting import Upcasters

__all__ = [
    "GENESIS_HASH",
    "ChainError",
    "ConcurrencyError",
    "EmptyAppendError",
    "EventStore",
    "EventStoreError",
    "Head",
    "IdempotencyConflictError",
    "NewEvent",
    "Projection",
    "ProjectionRunner",
    "RecordedEvent",
    "StoreNotEmptyError",
    "Tables",
    "Upcasters",
    "VerifyResult",
    "canonical",
    "connect",
    "export_jsonl",
    "format_time",
    "import_jsonl",
    "migrate",
    "read_snapshot",
    "record_hash",
    "utc_now",
    "verify",
    "write_transaction",
]
