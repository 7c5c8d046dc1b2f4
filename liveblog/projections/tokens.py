"""API tokens: id, name, role, the secret's hash, whether revoked."""

from __future__ import annotations

from collections.abc import Mapping

from events import Connection, Projection, RecordedEvent, Tables, format_time
from events.projections import Handler


class TokensProjection(Projection):
    """The tokens table auth reads: one row a token."""

    name = "tokens"
    version = 1
    tables = ("tokens",)

    def create(self, conn: Connection, t: Tables) -> None:
        conn.execute(f"CREATE TABLE {t['tokens']} (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
                     " role TEXT NOT NULL, secret_hash TEXT NOT NULL, created_at TEXT NOT NULL,"
                     " revoked_at TEXT)")

    def handlers(self) -> Mapping[str, Handler]:
        return {"TokenCreated": self._created, "TokenRevoked": self._revoked}

    def _created(self, conn: Connection, t: Tables, e: RecordedEvent) -> None:
        d = e.data
        conn.execute(f"INSERT INTO {t['tokens']} VALUES (?, ?, ?, ?, ?, NULL)",
                     (d["token_id"], d["name"], d["role"], d["secret_hash"],
                      format_time(e.recorded_at)))

    def _revoked(self, conn: Connection, t: Tables, e: RecordedEvent) -> None:
        conn.execute(f"UPDATE {t['tokens']} SET revoked_at = ? WHERE id = ?",
                     (format_time(e.recorded_at), e.data["token_id"]))
