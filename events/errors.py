"""Exceptions raised by the event store. Every one derives from :class:`EventStoreError`."""

from __future__ import annotations


class EventStoreError(Exception):
    """Base class of every error the event store raises."""


class ConcurrencyError(EventStoreError):
    """Raised when an append's expected version does not match the stream's current version."""

    def __init__(self, stream_id: str, expected: int | None, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, the append expected {expected}"
        )


class IdempotencyConflictError(EventStoreError):
    """Raised when an idempotency key is reused for a different request (another fingerprint)."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"idempotency key {key!r} was already used with a different request")


class ChainError(EventStoreError):
    """Raised when an imported log does not hash-chain (bad hash, broken link or a gap)."""

    def __init__(self, message: str, *, line: int | None = None, position: int | None = None):
        self.line = line
        self.position = position
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{where}{message}")


class StoreNotEmptyError(EventStoreError):
    """Raised when a log is imported into a store that already holds events."""


class EmptyAppendError(EventStoreError):
    """Raised when an append carries no events."""


class UniqueViolationError(EventStoreError):
    """Raised when an append's inline projection breaks a UNIQUE constraint of a read model
    (e.g. a second blog with a taken slug); nothing is appended."""

    def __init__(self, constraint: str) -> None:
        self.constraint = constraint
        super().__init__(f"unique constraint {constraint} refused the append")
