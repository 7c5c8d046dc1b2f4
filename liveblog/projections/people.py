"""People and who may write where: every token holder and signed-in person, each blog's
members, and each post's author and last review note (what access checks and the approval
queue read)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from events import Connection, Projection, RecordedEvent, Rows, Tables, format_time
from events.projections import Handler

from ..streams import blog_part


def member_key(blog_id: str, person_id: str) -> str:
    """The members table's key of one membership."""
    return f"{blog_id}/{person_id}"


class PeopleProjection(Projection):
    """``people`` (tokens and signed-in persons) and ``members`` (blog, person, role)."""

    name = "people"
    version = 1
    tables = ("people", "members")
    columns = {
        "people": ("id", "name", "kind", "role", "scoped", "issuer", "subject", "created_at",
                   "revoked_at"),
        "members": ("id", "blog_id", "person_id", "role", "source", "since"),
    }

    def create(self, conn: Connection, t: Tables) -> None:
        conn.execute(f"CREATE TABLE {t['people']} (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
                     " kind TEXT NOT NULL, role TEXT, scoped INTEGER NOT NULL DEFAULT 0,"
                     " issuer TEXT, subject TEXT, created_at TEXT NOT NULL, revoked_at TEXT)")
        conn.execute(f"CREATE TABLE {t['members']} (id TEXT PRIMARY KEY, blog_id TEXT NOT NULL,"
                     " person_id TEXT NOT NULL, role TEXT NOT NULL, source TEXT NOT NULL,"
                     " since TEXT NOT NULL)")

    def create_indexes(self, conn: Connection, t: Tables) -> None:
        conn.execute(f"CREATE INDEX {t.index('members', 'person')} ON {t['members']}"
                     " (person_id)")
        conn.execute(f"CREATE INDEX {t.index('members', 'blog')} ON {t['members']} (blog_id)")

    def handlers(self) -> Mapping[str, Handler]:
        return {"TokenCreated": self._token, "TokenRevoked": self._revoked,
                "PersonRegistered": self._person, "MemberAdded": self._added,
                "MemberRemoved": self._removed}

    def touches(self, event: RecordedEvent) -> Iterable[tuple[str, Any]]:
        d = event.data
        if event.type.startswith("Member"):
            yield "members", member_key(d["blog_id"], d["person_id"])
        else:
            yield "people", d.get("token_id") or d["person_id"]

    def _token(self, rows: Rows, e: RecordedEvent) -> None:
        d = e.data
        rows.put("people", {"id": d["token_id"], "name": d["name"], "kind": "token",
                            "role": d["role"], "scoped": int(bool(d.get("scoped"))),
                            "issuer": None, "subject": None,
                            "created_at": format_time(e.recorded_at), "revoked_at": None})

    def _revoked(self, rows: Rows, e: RecordedEvent) -> None:
        row = rows.get("people", e.data["token_id"])
        if row is not None:
            row["revoked_at"] = format_time(e.recorded_at)
            rows.put("people", row)

    def _person(self, rows: Rows, e: RecordedEvent) -> None:
        d = e.data
        row = rows.get("people", d["person_id"])
        created = row["created_at"] if row else format_time(e.recorded_at)
        rows.put("people", {"id": d["person_id"], "name": d["name"], "kind": "person",
                            "role": d.get("role"), "scoped": 0, "issuer": d["issuer"],
                            "subject": d["subject"], "created_at": created, "revoked_at": None})

    def _added(self, rows: Rows, e: RecordedEvent) -> None:
        d = e.data
        key = member_key(d["blog_id"], d["person_id"])
        row = rows.get("members", key)
        rows.put("members", {"id": key, "blog_id": d["blog_id"], "person_id": d["person_id"],
                             "role": d["role"], "source": d.get("source", "api"),
                             "since": row["since"] if row and row["role"] == d["role"]
                             else format_time(e.recorded_at)})

    def _removed(self, rows: Rows, e: RecordedEvent) -> None:
        rows.delete("members", member_key(e.data["blog_id"], e.data["person_id"]))


class WorkflowProjection(Projection):
    """Each post's author and the last note an editor sent back with it."""

    name = "workflow"
    # a post's row is made by its events alone: a rebuild may fold blogs side by side
    part_of = staticmethod(blog_part)
    version = 1
    tables = ("post_workflow",)
    columns = {"post_workflow": ("post_id", "blog_id", "author_id", "review_note",
                                 "reviewed_by", "reviewed_at")}

    def create(self, conn: Connection, t: Tables) -> None:
        conn.execute(f"CREATE TABLE {t['post_workflow']} (post_id TEXT PRIMARY KEY,"
                     " blog_id TEXT NOT NULL, author_id TEXT, review_note TEXT,"
                     " reviewed_by TEXT, reviewed_at TEXT)")

    def handlers(self) -> Mapping[str, Handler]:
        created = {name: self._created for name in ("PostDrafted", "PostScheduled",
                                                    "PostPublished")}
        return {**created, "PostRejected": self._rejected, "PostSubmitted": self._submitted,
                "PostRedacted": self._submitted}

    def touches(self, event: RecordedEvent) -> Iterable[tuple[str, Any]]:
        yield "post_workflow", event.data["post_id"]

    def _created(self, rows: Rows, e: RecordedEvent) -> None:
        d = e.data
        if d.get("content") is None or rows.get("post_workflow", d["post_id"]) is not None:
            return  # not the post's first event
        rows.put("post_workflow", {"post_id": d["post_id"], "blog_id": d["blog_id"],
                                   "author_id": d.get("author"), "review_note": None,
                                   "reviewed_by": None, "reviewed_at": None})

    def _rejected(self, rows: Rows, e: RecordedEvent) -> None:
        row = rows.get("post_workflow", e.data["post_id"])
        if row is not None:
            actor = e.metadata.get("actor")
            row.update(review_note=e.data["note"], reviewed_at=format_time(e.recorded_at),
                       reviewed_by=actor.get("name") if isinstance(actor, dict) else None)
            rows.put("post_workflow", row)

    def _submitted(self, rows: Rows, e: RecordedEvent) -> None:
        """Submitted again (the note was answered), or redacted (the note is erased too)."""
        row = rows.get("post_workflow", e.data["post_id"])
        if row is not None:
            row.update(review_note=None, reviewed_by=None, reviewed_at=None)
            rows.put("post_workflow", row)
