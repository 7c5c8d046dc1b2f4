"""Who is editing what, now: "Ana is editing this post". Not history: it never enters the event
log. It lives in one table of the database, so every node of a deployment sees it.

Each editor's console sends a heartbeat for the post it has open (at most every 5 s) and says
when it leaves; an entry with no heartbeat for :data:`TTL` goes by itself (a closed laptop).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from events import Connection, format_time

#: how long an entry stays after its last heartbeat
TTL = timedelta(seconds=30)


class Presence(NamedTuple):
    post_id: str
    name: str
    since: str
    last_seen: str

    def json(self) -> dict[str, Any]:
        return {"post": self.post_id, "name": self.name, "since": self.since,
                "last_seen": self.last_seen}


def heartbeat(conn: Connection, blog_id: str, post_id: str, token_id: str, name: str,
              now: datetime) -> None:
    """``name`` (holding ``token_id``) has the post open now; ``since`` is kept while the
    heartbeats go on, and starts again after a gap longer than TTL. One statement: atomic
    without the writer lock (presence never waits behind appends)."""
    at, expired = format_time(now), format_time(now - TTL)
    conn.execute(
        "INSERT INTO presence (blog_id, post_id, token_id, name, since, last_seen)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (blog_id, post_id, token_id) DO UPDATE SET"
        " name = excluded.name, last_seen = excluded.last_seen,"
        " since = CASE WHEN presence.last_seen < ? THEN excluded.since ELSE presence.since END",
        (blog_id, post_id, token_id, name, at, at, expired))
    conn.execute("DELETE FROM presence WHERE last_seen < ?", (expired,))


def leave(conn: Connection, blog_id: str, post_id: str, token_id: str) -> None:
    conn.execute("DELETE FROM presence WHERE blog_id = ? AND post_id = ? AND token_id = ?",
                 (blog_id, post_id, token_id))


def present(conn: Connection, blog_id: str, now: datetime,
            post_id: str | None = None) -> list[Presence]:
    """Who has the blog's posts (or one post) open, longest first."""
    sql = ("SELECT post_id, name, since, last_seen FROM presence WHERE blog_id = ?"
           " AND last_seen >= ?")
    params: tuple[Any, ...] = (blog_id, format_time(now - TTL))
    if post_id is not None:
        sql += " AND post_id = ?"
        params += (post_id,)
    return [Presence(*row) for row in conn.execute(sql + " ORDER BY since, name", params)]
