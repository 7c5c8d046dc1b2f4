"""People as the request sees them: who a token or a session stands for, with the memberships
they hold now (read on every request, so a membership removed on one node is gone on every
node at the next request), and the sessions of people signed in through the identity provider.

Sessions are state, not history (migration 12): a row per signed-in browser, keyed by the
SHA-256 of the cookie's secret; signing out deletes it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from events import Connection, format_time, write_transaction

from .domain.access import Person

#: the cookie a signed-in person's browser holds (the session's secret)
SESSION_COOKIE = "liveblog_session"
#: how long a session lasts without signing in again
SESSION_LIFETIME = timedelta(hours=12)


def memberships(conn: Connection, person_id: str) -> dict[str, str]:
    """Blog id -> role, for every blog the person is a member of now."""
    return dict(conn.execute("SELECT blog_id, role FROM members WHERE person_id = ?",
                             (person_id,)).fetchall())


def memberships_from(conn: Connection, person_id: str) -> dict[str, str]:
    """Blog id -> how the membership was given (api, token, sign-in)."""
    return dict(conn.execute("SELECT blog_id, source FROM members WHERE person_id = ?",
                             (person_id,)).fetchall())


def person_of(conn: Connection, person_id: str, name: str, role: str | None,
              scoped: bool) -> Person:
    """The person, with their memberships as they are now. A scoped token (``--blog``) has
    no newsroom role: only what its memberships give."""
    return Person(person_id, name, None if scoped else role, memberships(conn, person_id))


@dataclass(frozen=True)
class Member:
    """One member of a blog, as listed."""

    id: str
    name: str
    role: str
    since: str
    source: str


def list_members(conn: Connection, blog_id: str) -> list[Member]:
    """A blog's members (revoked tokens left out), editors first, then by name."""
    return [Member(*row) for row in conn.execute(
        "SELECT m.person_id, COALESCE(p.name, m.person_id), m.role, m.since, m.source"
        " FROM members m LEFT JOIN people p ON p.id = m.person_id"
        " WHERE m.blog_id = ? AND p.revoked_at IS NULL"
        " ORDER BY m.role = 'contributor', COALESCE(p.name, m.person_id), m.person_id",
        (blog_id,))]


def list_candidates(conn: Connection, blog_id: str, words: str = "",
                    limit: int = 50) -> list[dict[str, Any]]:
    """Who could be made a member of the blog: holders of a live token scoped to blogs, and
    people who signed in without a newsroom-wide role, who are not members of it yet; by name,
    those whose name holds ``words`` (any case)."""
    rows = conn.execute(
        "SELECT p.id, p.name, p.kind FROM people p WHERE p.revoked_at IS NULL"
        " AND (p.role IS NULL OR p.role NOT IN ('admin', 'auditor', 'legal'))"
        " AND NOT (p.kind = 'token' AND p.scoped = 0)"
        " AND NOT EXISTS (SELECT 1 FROM members m WHERE m.blog_id = ? AND m.person_id = p.id)"
        " ORDER BY p.name, p.id", (blog_id,)).fetchall()
    wanted = words.strip().casefold()
    found = [{"id": r[0], "name": r[1], "kind": "signed in" if r[2] == "person" else "token"}
             for r in rows if wanted in r[1].casefold()]
    return found[:limit]


def find_person(conn: Connection, person_id: str) -> dict[str, Any] | None:
    """A known person (a token holder or someone who signed in), or None."""
    row = conn.execute("SELECT id, name, kind, role, scoped, revoked_at FROM people"
                       " WHERE id = ?", (person_id,)).fetchone()
    if row is None:
        return None
    return dict(zip(("id", "name", "kind", "role", "scoped", "revoked_at"), row, strict=True))


# -- sessions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """A signed-in browser: who, their newsroom role, and the token its writes must echo."""

    person_id: str
    name: str
    role: str | None
    csrf_token: str
    expires_at: str


def _key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def start_session(conn: Connection, person_id: str, name: str, role: str | None,
                  now: datetime) -> str:
    """A new session; returns the cookie's value (shown once: only its hash is kept)."""
    secret = secrets.token_urlsafe(32)
    with write_transaction(conn):
        conn.execute("DELETE FROM sessions WHERE expires_at < ?", (format_time(now),))
        conn.execute("INSERT INTO sessions (id, person_id, name, role, csrf_token, created_at,"
                     " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (_key(secret), person_id, name, role, secrets.token_urlsafe(24),
                      format_time(now), format_time(now + SESSION_LIFETIME)))
    return secret


def find_session(conn: Connection, secret: str, now: datetime) -> Session | None:
    """The live session a cookie names, or None (unknown, ended or expired)."""
    row = conn.execute("SELECT person_id, name, role, csrf_token, expires_at FROM sessions"
                       " WHERE id = ?", (_key(secret),)).fetchone()
    if row is None or row[4] <= format_time(now):
        return None
    return Session(*row)


def end_session(conn: Connection, secret: str) -> None:
    """Sign a session out: its cookie opens nothing any more, on any node."""
    with write_transaction(conn):
        conn.execute("DELETE FROM sessions WHERE id = ?", (_key(secret),))


def csrf_matches(session: Session, presented: str | None) -> bool:
    """Whether a write carries the session's CSRF token (compared in constant time)."""
    return presented is not None and hmac.compare_digest(session.csrf_token, presented)
