"""Readers' questions, waiting in a blog's inbox for its editors: not history. A question is a
row of ``questions`` and never an event: its words enter the log only when an editor answers it
(a post that quotes it), so spam and rejected questions never do. Deleting one erases it from
the database's files too (as a redaction does). A question's contact (for the newsroom only)
and the keyed hash of its sender's address (for the per-address limit) are erased after
QUESTION_RETENTION_DAYS; the address after a day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from events import Connection, format_time

STATUSES = ("pending", "answered", "rejected")
#: how long the sender's address (a keyed hash) is kept: the per-hour limit needs an hour
ADDRESS_KEPT = timedelta(days=1)
_COLUMNS = "id, blog_id, text, name, contact, status, created_at, post_id, moderated_at," \
           " moderated_by"


class Question(NamedTuple):
    id: str
    blog_id: str
    text: str
    name: str | None
    contact: str | None
    status: str
    created_at: str
    post_id: str | None
    moderated_at: str | None
    moderated_by: str | None

    def json(self, *, contact: bool) -> dict[str, Any]:
        """As the inbox lists it; ``contact`` only for the blog's editors."""
        out = {"id": self.id, "text": self.text, "name": self.name, "status": self.status,
               "created_at": self.created_at, "post_id": self.post_id,
               "moderated_at": self.moderated_at, "moderated_by": self.moderated_by}
        if contact:
            out["contact"] = self.contact
        return out


def recent_from(conn: Connection, address: str, now: datetime) -> tuple[int, str | None]:
    """How many questions came from ``address`` in the last hour (on any blog), and when the
    first of them came (None: none did)."""
    count, first = conn.execute(
        "SELECT count(*), min(created_at) FROM questions WHERE address = ? AND created_at > ?",
        (address, format_time(now - timedelta(hours=1)))).fetchone()
    return int(count), None if first is None else str(first)


def add(conn: Connection, question_id: str, blog_id: str, text: str, name: str | None,
        contact: str | None, address: str, now: datetime) -> None:
    conn.execute("INSERT INTO questions (id, blog_id, text, name, contact, status, created_at,"
                 " address) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
                 (question_id, blog_id, text, name, contact, format_time(now), address))


def listed(conn: Connection, blog_id: str, status: str, limit: int = 200) -> list[Question]:
    """The blog's questions with ``status``, oldest first (the order they came in)."""
    return [Question(*row) for row in conn.execute(
        f"SELECT {_COLUMNS} FROM questions WHERE blog_id = ? AND status = ?"
        " ORDER BY created_at, id LIMIT ?", (blog_id, status, limit))]


def counts(conn: Connection, blog_id: str) -> dict[str, int]:
    found = dict.fromkeys(STATUSES, 0)
    for status, n in conn.execute("SELECT status, count(*) FROM questions WHERE blog_id = ?"
                                  " GROUP BY status", (blog_id,)):
        found[str(status)] = int(n)
    return found


def get(conn: Connection, blog_id: str, question_id: str) -> Question | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM questions WHERE blog_id = ? AND id = ?",
                       (blog_id, question_id)).fetchone()
    return None if row is None else Question(*row)


def moderate(conn: Connection, question_id: str, status: str, by: str, now: datetime,
             post_id: str | None = None) -> bool:
    """Mark a pending question answered (with the post) or rejected; False when it was not
    pending any more (another editor was first)."""
    changed: int = conn.execute(
        "UPDATE questions SET status = ?, post_id = ?, moderated_at = ?, moderated_by = ?"
        " WHERE id = ? AND status = 'pending'",
        (status, post_id, format_time(now), by, question_id)).rowcount
    return changed == 1


def reopen(conn: Connection, question_id: str) -> None:
    """An answer that could not be published: the question is pending again."""
    conn.execute("UPDATE questions SET status = 'pending', post_id = NULL, moderated_at = NULL,"
                 " moderated_by = NULL WHERE id = ?", (question_id,))


def delete(conn: Connection, question_id: str) -> bool:
    deleted: int = conn.execute("DELETE FROM questions WHERE id = ?", (question_id,)).rowcount
    return deleted == 1


def expire(conn: Connection, now: datetime, retention: timedelta) -> int:
    """Erase contacts older than ``retention`` and addresses older than a day; how many
    questions lost a contact (the caller scrubs the files when any did)."""
    conn.execute("UPDATE questions SET address = NULL WHERE address IS NOT NULL AND"
                 " created_at < ?", (format_time(now - ADDRESS_KEPT),))
    return int(conn.execute("UPDATE questions SET contact = NULL WHERE contact IS NOT NULL"
                            " AND created_at < ?",
                            (format_time(now - retention),)).rowcount)
