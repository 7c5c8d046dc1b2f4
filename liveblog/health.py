"""Whether storage takes this process's writes (``/healthz`` reports it; a write refused by
storage is answered 503 until one succeeds again)."""

from __future__ import annotations

import time
from datetime import datetime

from events import Connection, format_time

#: how often (s) a health check tries a write while writes succeed, so every node, not only
#: one whose own write failed, sees storage that refuses writes
PROBE_EVERY = 5.0


class WriteHealth:
    """Whether storage took this process's last write: a write refused because storage could
    not take it (full, read-only, down) marks writes failing until one succeeds again."""

    def __init__(self) -> None:
        #: why the last write failed; None while writes succeed
        self.detail: str | None = None
        #: when (monotonic) a write was last tried or made
        self.last_write = 0.0

    def due(self) -> bool:
        """Whether a health check should try a write now: writes are failing, or none was
        seen for :data:`PROBE_EVERY` seconds."""
        return self.failing or time.monotonic() - self.last_write > PROBE_EVERY

    @property
    def failing(self) -> bool:
        """True from a write storage refused until one it takes."""
        return self.detail is not None

    def failed(self, error: BaseException) -> None:
        """A write was refused by storage."""
        self.detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.last_write = time.monotonic()

    def succeeded(self) -> None:
        """A write was committed."""
        self.detail = None
        self.last_write = time.monotonic()


def scheduler_state(conn: Connection, now: datetime, started_at: datetime,
                    lease_seconds: float) -> str:
    """Whether a process runs the background jobs (scheduled posts, webhooks, checkpoints,
    archiving) for this database: ``ok`` while one holds the lease, ``starting`` in this node's
    first lease period (serve starts its scheduler just after its workers), else ``none``."""
    row = conn.execute("SELECT expires_at FROM scheduler_lease WHERE id = 1").fetchone()
    if row is not None and row[0] > format_time(now):
        return "ok"
    if (now - started_at).total_seconds() < 2 * lease_seconds:
        return "starting"
    return "none"
