"""Webhooks: partners told of what readers can see, as it happens, signed (Standard Webhooks 1.0).

The log is the outbox. Each webhook keeps a cursor (a log position) in the database and is sent
the events after it one at a time, in log order, each only once it was acknowledged (a 2xx):
at least once, never out of order, and across restarts and node failures (a node that dies
mid-delivery leaves the cursor where it was; the next delivers the event again, with the same
``webhook-id``). One node delivers: the scheduler's lease picks the process, and a lease on
each webhook's row keeps a second one off it while a lease changes hands.

A payload is built when it is sent, from the feed as readers see it then: a post unpublished,
deleted or redacted between its event and a (re)try is sent as ``post.deleted`` with its id
only, so a draft's or an erased post's text never leaves. A failed delivery is retried after
growing delays (``WEBHOOK_RETRY_DELAYS``); a 410, or failing for ``WEBHOOK_GIVE_UP_SECONDS``
(3 days), disables the webhook, which ``replay`` or ``PATCH {"active": true}`` turn back on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests

from events import Connection, EventStore, RecordedEvent, format_time, write_transaction

from . import metrics, outbound, queries
from .cursors import encode_cursor
from .domain.errors import NotFoundError, PostNotFoundError

log = logging.getLogger(__name__)

#: what a webhook may subscribe to
TYPES = ("post.published", "post.updated", "post.deleted", "blog.updated", "blog.closed",
         "blog.reopened")
#: events that change a published post in place
_UPDATES = ("PostEdited", "PostPinned", "PostUnpinned", "PostMarkedKeyEvent",
            "PostUnmarkedKeyEvent", "PostCorrected", "PollClosed")
#: events that take a post away from readers
_LEAVES = ("PostDeleted", "PostUnpublished", "PostRedacted")
_BLOG = {"BlogUpdated": "blog.updated", "BlogClosed": "blog.closed",
         "BlogReopened": "blog.reopened"}
#: the log's event types a webhook ever looks at
WATCHED = ("PostPublished", *_UPDATES, *_LEAVES, *_BLOG)
#: how long a rotated-out secret still signs (both signatures are sent meanwhile)
ROTATION_OVERLAP = timedelta(hours=24)
_COLUMNS = ("id, url, blogs, events, secrets, active, disabled_reason, created_at, cursor,"
            " failing_since, next_attempt_at, attempts")


@dataclass(frozen=True)
class Webhook:
    """One subscription, as stored."""

    id: str
    url: str
    blogs: list[str] | None  # blog ids; None: every blog
    events: list[str] | None  # types; None: every type
    secrets: list[dict[str, Any]]  # [{"secret", "until"?}], the newest first
    active: bool
    disabled_reason: str | None
    created_at: str
    cursor: int
    failing_since: str | None
    next_attempt_at: str | None
    attempts: int

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Webhook:
        (id_, url, blogs, events, secrets_, active, reason, created, cursor, failing, next_at,
         attempts) = row
        return cls(id_, url, json.loads(blogs) if blogs else None,
                   json.loads(events) if events else None, json.loads(secrets_), bool(active),
                   reason, created, cursor, failing, next_at, attempts)

    def json(self, conn: Connection) -> dict[str, Any]:
        """The webhook as the API shows it (never its secrets)."""
        slugs = queries.blog_slugs(conn, self.blogs or [])
        return {"id": self.id, "url": self.url,
                "blogs": [slugs.get(b, b) for b in self.blogs] if self.blogs is not None
                else None, "events": self.events, "active": self.active,
                "disabled_reason": self.disabled_reason, "created_at": self.created_at,
                "cursor": self.cursor, "failing_since": self.failing_since,
                "next_attempt_at": self.next_attempt_at}

    def wants(self, event: RecordedEvent) -> bool:
        """Whether an event of the log is this webhook's business (before it is built)."""
        blog = event.data.get("blog_id")
        return blog is not None and (self.blogs is None or blog in self.blogs)


# -- signing (Standard Webhooks 1.0) ---------------------------------------------------------


def new_secret() -> str:
    """A signing secret: ``whsec_`` and base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` with the secret's key."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def signed_headers(hook: Webhook, message_id: str, body: bytes, now: datetime) -> dict[str, str]:
    """The headers of one delivery: a signature by each secret still valid at ``now`` (the
    service's clock); the timestamp is the wall clock's, which receivers check against
    theirs to refuse replayed deliveries."""
    timestamp = int(time.time())
    valid = [s["secret"] for s in hook.secrets
             if s.get("until") is None or s["until"] > format_time(now)]
    return {"Content-Type": "application/json", "User-Agent": "liveblog-webhooks/1",
            "webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(sign(s, message_id, timestamp, body) for s in valid)}


# -- the subscriptions -------------------------------------------------------------------------


def create(store: EventStore, url: str, blogs: list[str] | None, events: list[str] | None,
           now: datetime) -> tuple[Webhook, str]:
    """A new webhook, sent what happens from now on; returns it and its secret (shown once)."""
    secret = new_secret()
    hook_id = "wh_" + secrets.token_hex(8)
    conn = store.conn
    with write_transaction(conn):
        head = store.head().position
        conn.execute(
            f"INSERT INTO webhooks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, 1, NULL, ?, ?, NULL,"
            " NULL, 0)", (hook_id, url, json.dumps(blogs) if blogs is not None else None,
                          json.dumps(events) if events is not None else None,
                          json.dumps([{"secret": secret}]), format_time(now), head))
    return get(conn, hook_id), secret


def get(conn: Connection, hook_id: str) -> Webhook:
    """:raises NotFoundError: no such webhook."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM webhooks WHERE id = ?", (hook_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no webhook {hook_id!r}")
    return Webhook.from_row(row)


def all_hooks(conn: Connection) -> list[Webhook]:
    """Every webhook, oldest first."""
    return [Webhook.from_row(r) for r in conn.execute(
        f"SELECT {_COLUMNS} FROM webhooks ORDER BY created_at, id")]


def update(conn: Connection, hook_id: str, changes: dict[str, Any]) -> Webhook:
    """Change url, blogs, events or active (turning one back on clears its failures)."""
    get(conn, hook_id)
    sets: dict[str, Any] = {}
    if "url" in changes:
        sets["url"] = changes["url"]
    for key in ("blogs", "events"):
        if key in changes:
            sets[key] = json.dumps(changes[key]) if changes[key] is not None else None
    if "active" in changes:
        sets["active"] = int(changes["active"])
        sets["disabled_reason"] = None if changes["active"] else "disabled by an admin"
        if changes["active"]:
            sets.update(failing_since=None, next_attempt_at=None, attempts=0)
    if sets:
        with write_transaction(conn):
            conn.execute(f"UPDATE webhooks SET {', '.join(f'{k} = ?' for k in sets)}"
                         " WHERE id = ?", (*sets.values(), hook_id))
    return get(conn, hook_id)


def delete(conn: Connection, hook_id: str) -> None:
    """Remove a webhook and its delivery log."""
    get(conn, hook_id)
    with write_transaction(conn):
        conn.execute("DELETE FROM webhook_deliveries WHERE webhook_id = ?", (hook_id,))
        conn.execute("DELETE FROM webhooks WHERE id = ?", (hook_id,))


def rotate(conn: Connection, hook_id: str, now: datetime) -> str:
    """A new secret; the previous ones keep signing for ROTATION_OVERLAP. Returns the new one."""
    hook = get(conn, hook_id)
    secret = new_secret()
    until = format_time(now + ROTATION_OVERLAP)
    kept = [{"secret": s["secret"], "until": min(s.get("until") or until, until)}
            for s in hook.secrets if (s.get("until") or until) > format_time(now)]
    with write_transaction(conn):
        conn.execute("UPDATE webhooks SET secrets = ? WHERE id = ?",
                     (json.dumps([{"secret": secret}, *kept]), hook_id))
    return secret


def replay(conn: Connection, hook_id: str, after: int) -> Webhook:
    """Send again everything after log position ``after`` (and turn the webhook back on)."""
    get(conn, hook_id)
    with write_transaction(conn):
        conn.execute("UPDATE webhooks SET cursor = ?, active = 1, disabled_reason = NULL,"
                     " failing_since = NULL, next_attempt_at = NULL, attempts = 0"
                     " WHERE id = ?", (after, hook_id))
    return get(conn, hook_id)


def deliveries(conn: Connection, hook_id: str, limit: int) -> list[dict[str, Any]]:
    """The latest delivery attempts, newest first."""
    get(conn, hook_id)
    keys = ("id", "message_id", "position", "type", "attempt", "attempted_at", "status",
            "outcome", "duration_ms", "error")
    return [dict(zip(keys, row, strict=True)) for row in conn.execute(
        f"SELECT {', '.join(keys)} FROM webhook_deliveries WHERE webhook_id = ?"
        " ORDER BY attempted_at DESC, position DESC LIMIT ?", (hook_id, limit))]


# -- what is sent ----------------------------------------------------------------------------


def message(conn: Connection, event: RecordedEvent) -> tuple[str, dict[str, Any]] | None:
    """The webhook type and the data of ``event`` as a reader may see it now (None: nothing a
    reader saw changed, e.g. a draft's edit)."""
    blog_id = event.data["blog_id"]
    try:
        blog_row = queries.get_blog_row(conn, blog_id)
    except NotFoundError:
        return None
    blog = queries.blog_json(blog_row, encode_cursor("c", blog_row.visible_position))
    if event.type in _BLOG:
        return _BLOG[event.type], {"blog": blog}
    try:
        row = queries.get_post_row(conn, blog_id, event.data["post_id"])  # published only
    except PostNotFoundError:
        row = None
    post_id = event.data["post_id"]
    if event.type == "PostPublished":
        if row is None:  # gone again since: readers saw it leave
            return "post.deleted", {"blog": blog, "post": {"id": post_id}}
        return "post.published", {"blog": blog, "post": queries.post_json(row)}
    if event.type in _LEAVES:
        if row is not None:  # back since (published again): that event will say so
            return None
        return "post.deleted", {"blog": blog, "post": {"id": post_id}}
    # an update: only of a post readers saw then and see now
    if row is None or row.publish_position is None or row.publish_position > event.position:
        return None
    return "post.updated", {"blog": blog, "post": queries.post_json(row)}


def body_of(kind: str, event: RecordedEvent, data: dict[str, Any]) -> bytes:
    """The JSON body: ``{"type", "timestamp", "position", "data"}``."""
    return json.dumps({"type": kind, "timestamp": format_time(event.recorded_at),
                       "position": event.position, "data": data},
                      separators=(",", ":")).encode()


# -- delivering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How deliveries are made (from the app's configuration)."""

    timeout: float
    delays: tuple[float, ...]
    give_up: float
    allow_private: bool

    @classmethod
    def from_config(cls, config: Any) -> Settings:
        return cls(float(config["WEBHOOK_TIMEOUT"]),
                   tuple(float(d) for d in config["WEBHOOK_RETRY_DELAYS"]),
                   float(config["WEBHOOK_GIVE_UP_SECONDS"]),
                   bool(config["WEBHOOK_ALLOW_PRIVATE"]))

    def delay(self, attempts: int) -> float:
        """How long to wait after the ``attempts``-th failure in a row."""
        return self.delays[min(attempts, len(self.delays)) - 1]


class Deliverer:
    """Sends each due webhook what it has not acknowledged yet (the scheduler's job).

    :param liveblog: the app's liveblog: each delivery thread leases a store of its own from it.
    """

    def __init__(self, liveblog: Any, settings: Settings, clock: Any) -> None:
        self.liveblog = liveblog
        self.settings = settings
        self.clock = clock
        self.holder = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="webhook")

    def run(self, budget: float = 5.0) -> int:
        """Deliver for up to ``budget`` seconds to every due webhook (each in a thread of its
        own, so a slow partner holds up only itself); returns how many were acknowledged."""
        with self.liveblog.leased() as store:
            now = format_time(self.clock())
            due = [row[0] for row in store.conn.execute(
                "SELECT id FROM webhooks WHERE active = 1 AND (next_attempt_at IS NULL OR"
                " next_attempt_at <= ?)", (now,))]
        return sum(self.pool.map(lambda hook_id: self._deliver(hook_id, budget), due))

    def backlog(self) -> int:
        """Events after the furthest-behind active webhook's cursor (the metric)."""
        with self.liveblog.leased() as store:
            row = store.conn.execute("SELECT MIN(cursor) FROM webhooks WHERE active = 1"
                                     ).fetchone()
            if row[0] is None:
                return 0
            return max(0, int(store.head().position) - int(row[0]))

    def _claim(self, conn: Connection, hook_id: str) -> bool:
        now = self.clock()
        with write_transaction(conn):
            taken = conn.execute(
                "UPDATE webhooks SET lease_holder = ?, lease_until = ? WHERE id = ? AND"
                " (lease_until IS NULL OR lease_until < ? OR lease_holder = ?)",
                (self.holder, format_time(now + timedelta(seconds=self.settings.timeout * 2
                                                          + 5)), hook_id,
                 format_time(now), self.holder))
            return bool(taken.rowcount)

    def _release(self, conn: Connection, hook_id: str) -> None:
        with write_transaction(conn):
            conn.execute("UPDATE webhooks SET lease_holder = NULL, lease_until = NULL"
                         " WHERE id = ? AND lease_holder = ?", (hook_id, self.holder))

    def _deliver(self, hook_id: str, budget: float) -> int:
        with self.liveblog.leased() as store:
            if not self._claim(store.conn, hook_id):
                return 0
            try:
                return self._deliver_claimed(store, hook_id, time.monotonic() + budget)
            finally:
                self._release(store.conn, hook_id)

    def _deliver_claimed(self, store: Any, hook_id: str, deadline: float) -> int:
        conn = store.conn
        hook = get(conn, hook_id)
        delivered = 0
        head = store.head().position  # read first: what is appended meanwhile waits its turn
        last_seen = hook.cursor
        events = list(store.read_all(after=hook.cursor, limit=500, types=WATCHED, until=head))
        for event in (e for e in events if hook.wants(e)):
            if time.monotonic() > deadline:
                break
            built = message(conn, event)
            kind = built[0] if built else None
            if built is None or (hook.events is not None and kind not in hook.events):
                last_seen = event.position
                continue
            self._advance(conn, hook_id, last_seen)
            if not self._send(conn, hook, event, built[0], built[1]):
                return delivered
            delivered += 1
            last_seen = event.position
            hook = get(conn, hook_id)
        else:
            if len(events) < 500:  # every event up to the head was seen: none is pending
                last_seen = head
        self._advance(conn, hook_id, last_seen)
        return delivered

    def _advance(self, conn: Connection, hook_id: str, position: int) -> None:
        with write_transaction(conn):
            conn.execute("UPDATE webhooks SET cursor = ? WHERE id = ? AND cursor < ?",
                         (position, hook_id, position))

    def _send(self, conn: Connection, hook: Webhook, event: RecordedEvent, kind: str,
              data: dict[str, Any]) -> bool:
        """One attempt; True when acknowledged (the cursor then moves past the event)."""
        counted = metrics.collectors().WEBHOOK_DELIVERIES
        now = self.clock()
        message_id = f"msg_{hook.id}_{event.position}"
        body = body_of(kind, event, data)
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            answer = outbound.request("POST", hook.url, data=body,
                                      headers=signed_headers(hook, message_id, body, now),
                                      timeout=self.settings.timeout, max_bytes=65536,
                                      allow_private=self.settings.allow_private, follow=False)
            status = answer.status
        except outbound.RefusedAddressError as e:
            error = f"refused: {e}"
        except requests.RequestException as e:
            error = f"{type(e).__name__}: {str(e)[:300]}"
        took = int((time.monotonic() - started) * 1000)
        ok = status is not None and 200 <= status < 300
        if status is not None and not ok:
            error = f"HTTP {status}"  # what the receiver said, not null
        gone = status == 410
        outcome = "delivered" if ok else "gone" if gone else "failed"
        with write_transaction(conn):
            conn.execute(
                "INSERT INTO webhook_deliveries (id, webhook_id, message_id, position, type,"
                " attempt, attempted_at, status, outcome, duration_ms, error) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ("dl_" + secrets.token_hex(8), hook.id, message_id, event.position, kind,
                 hook.attempts + 1, format_time(now), status, outcome,
                 took, error))
            if ok:
                conn.execute("UPDATE webhooks SET cursor = ?, failing_since = NULL,"
                             " next_attempt_at = NULL, attempts = 0 WHERE id = ?",
                             (event.position, hook.id))
            else:
                self._failed(conn, hook, now, gone, status, error)
        counted.labels("delivered" if ok else "failed").inc()
        return ok

    def _failed(self, conn: Connection, hook: Webhook, now: datetime, gone: bool,
                status: int | None, error: str | None) -> None:
        counted = metrics.collectors().WEBHOOK_DELIVERIES
        failing_since = hook.failing_since or format_time(now)
        attempts = hook.attempts + 1
        since = datetime.fromisoformat(failing_since)
        if gone or (now - since).total_seconds() >= self.settings.give_up:
            reason = ("the receiver answered 410 Gone" if gone else
                      f"deliveries failed for {self.settings.give_up / 86400:g} days (last:"
                      f" {status or error})")
            conn.execute("UPDATE webhooks SET active = 0, disabled_reason = ?,"
                         " failing_since = ?, attempts = ?, next_attempt_at = NULL"
                         " WHERE id = ?", (reason, failing_since, attempts, hook.id))
            counted.labels("disabled").inc()
            log.warning("webhook %s disabled: %s", hook.id, reason)
            return
        retry = now + timedelta(seconds=self.settings.delay(attempts))
        conn.execute("UPDATE webhooks SET failing_since = ?, attempts = ?, next_attempt_at = ?"
                     " WHERE id = ?", (failing_since, attempts, format_time(retry), hook.id))
