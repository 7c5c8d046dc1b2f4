"""API tokens: id, name, role, the secret's hash, whether revoked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from events import Connection, Projection, RecordedEvent, Rows, Tables, format_time
from events.projections import Handler


class TokensProjection(Projection):
    """The tokens table auth reads: one row a token."""

    name = "tokens"
    version = 1
    tables = ("tokens",)
    columns = {"tokens": ("id", "name", "role", "secret_hash", "created_at", "revoked_at")}

    def create(self, conn: Connection, t: Tables) -> None:
        conn.execute(f"CREATE TABLE {t['tokens']} (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
                     " role TEXT NOT NULL, secret_hash TEXT NOT NULL, created_at TEXT NOT NULL,"
                     " revoked_at TEXT)")

    def handlers(self) -> Mapping[str, Handler]:
        return {"TokenCreated": self._created, "TokenRevoked": self._revoked}

    def touches(self, event: RecordedEvent) -> Iterable[tuple[str, Any]]:
        yield "tokens", event.data["token_id"]

    def _created(self, rows: Rows, e: RecordedEvent) -> None:
        d = e.data
        rows.put("tokens", {"id": d["token_id"], "name": d["name"], "role": d["role"],
                            "secret_hash": d["secret_hash"],
                            "created_at": format_time(e.recorded_at), "revoked_at": None})

    def _revoked(self, rows: Rows, e: RecordedEvent) -> None:
        row = rows.get("tokens", e.data["token_id"])
        if row is not None:
            row["revoked_at"] = format_time(e.recorded_at)
            rows.put("tokens", row)
