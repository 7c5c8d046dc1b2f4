"""API tokens: issued as ``lb_<id>_<secret>``; only the SHA-256 of the whole token is recorded.

Creating and revoking a token are events like any other, so the log says who could act when.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from events import Connection

from .domain import commands as cmd
from .domain.events import MEMBER_ROLES, ROLES
from .people import person_of
from .service import Actor, Service


@dataclass(frozen=True)
class TokenRow:
    """A token as listed (never with its secret)."""

    id: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None
    #: the slugs of the blogs a scoped token is a member of (empty: newsroom-wide)
    blogs: tuple[str, ...] = ()


def hash_token(token: str) -> str:
    """The SHA-256 hex digest recorded for ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(service: Service, role: str, name: str, actor: Actor,
                 blogs: Sequence[str] = ()) -> tuple[str, str]:
    """Issue a token for ``role``; returns ``(token id, the secret token)``, shown once.

    :param blogs: blog ids: the token is a member of each with ``role`` (editor or
        contributor) and acts on no other; without them an editor acts on every blog (v1).
    :raises ValueError: a role that does not exist or does not fit ``blogs``.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not name.strip():
        raise ValueError("a token needs a name (who holds it)")
    if blogs and role not in MEMBER_ROLES:
        raise ValueError(f"--blog is for editor and contributor tokens; {role} is newsroom-wide")
    if role == "contributor" and not blogs:
        raise ValueError("a contributor token needs --blog (the blogs it writes for)")
    token_id = secrets.token_hex(6)
    token = f"lb_{token_id}_{secrets.token_urlsafe(24)}"
    service.handle(cmd.CreateToken(token_id, name.strip(), role, hash_token(token),
                                   scoped=bool(blogs)), actor)
    for blog_id in dict.fromkeys(blogs):
        service.handle(cmd.SetMember(blog_id, token_id, role, source="token"), actor)
    return token_id, token


def revoke_token(service: Service, token_id: str, actor: Actor) -> None:
    """Revoke a token; raises TokenNotFoundError or IllegalTransitionError."""
    service.handle(cmd.RevokeToken(token_id), actor)


def list_tokens(conn: Connection) -> list[TokenRow]:
    """Every token, oldest first, with the blogs a scoped one is a member of."""
    blogs: dict[str, list[str]] = {}
    for person, slug in conn.execute(
            "SELECT m.person_id, b.slug FROM members m JOIN blogs b ON b.id = m.blog_id"
            " ORDER BY b.slug"):
        blogs.setdefault(person, []).append(slug)
    return [TokenRow(token_id, name, role, created, revoked, tuple(blogs.get(token_id, ())))
            for token_id, name, role, created, revoked in conn.execute(
                "SELECT id, name, role, created_at, revoked_at FROM tokens"
                " ORDER BY created_at, id")]


def authenticate(conn: Connection, token: str) -> Actor | None:
    """The actor a presented token stands for, or None if unknown, malformed or revoked.

    The hash comparison runs in constant time.
    """
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "lb":
        return None
    row = conn.execute(
        "SELECT t.id, t.name, t.role, t.secret_hash, t.revoked_at, p.scoped FROM tokens t"
        " LEFT JOIN people p ON p.id = t.id WHERE t.id = ?", (parts[1],)).fetchone()
    if row is None:
        return None
    token_id, name, role, secret_hash, revoked_at, scoped = row
    if not hmac.compare_digest(secret_hash, hash_token(token)) or revoked_at is not None:
        return None
    return Actor("token", name, token_id=token_id, role=role,
                 person=person_of(conn, token_id, name, role, bool(scoped)))
