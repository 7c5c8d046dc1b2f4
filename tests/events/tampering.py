"""Changing stored events behind the store's back, as an attacker with SQL access would."""

from __future__ import annotations


def tamper(conn, sql, params=()):
    """Run ``sql`` on the events table with its immutability triggers out of the way."""
    if conn.dialect == "postgresql":
        conn.execute("ALTER TABLE events DISABLE TRIGGER USER")
        try:
            conn.execute(sql, params)
        finally:
            conn.execute("ALTER TABLE events ENABLE TRIGGER USER")
        return
    triggers = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'"
                            " AND tbl_name = 'events'").fetchall()
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("DROP TRIGGER events_no_delete")
    conn.execute(sql, params)
    for (statement,) in triggers:
        conn.execute(statement)
