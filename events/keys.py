"""Keys for content that may have to be erased (crypto-shredding): each stream that holds such
content gets a random 256-bit key, and what the log and the read models keep of it is sealed
with that key (AES-256-GCM, the stream's id bound in as associated data). Erasing the stream
destroys its key: every sealed copy, live or in dead row versions the database has not reused
yet, is noise from then on, however large the log is.

Sealing is deterministic (the nonce is an HMAC of the text under the key, as in AES-GCM-SIV):
the same content of the same stream seals to the same bytes, so a read model rebuilt from the
log is the same bytes as the one kept up inline.

A destroyed key must not survive in the database's files either, and a table rewrite to remove
it costs in proportion to the table. So the stream keys are kept wrapped (AES key wrap) under
one of :data:`GROUPS` group keys, chosen by the stream's id. Erasing a stream deletes its key,
re-wraps the other keys of its group under a new group key and replaces the group's key: the
old one, the only way to the dead wrapped copies, is a row of a 256-row table that is rewritten
in milliseconds (``key_groups``). The cost of an erasure is one group's keys (a 256th of the
streams), never the log.

Stream keys are cached unwrapped per connection; a key erased meanwhile elsewhere can only open
rows no query still sees (the erasing transaction replaced them), and nothing new is sealed for
an erased stream (a redacted post takes no more content), so the cache needs no invalidation
across processes. What a write transaction that rolls back taught the cache is forgotten.
"""

from __future__ import annotations

import hashlib
import os
from binascii import a2b_base64, b2a_base64
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from .backends import Connection, table_exists
from .errors import EventStoreError

#: how many group keys wrap the stream keys (a stream's group: the first byte of its id's hash)
GROUPS = 256
#: how sealed text begins (no JSON text does)
PREFIX = "~s1~"
_PREFIX_LENGTH = len(PREFIX)
#: what is never sealed: empty text and empty JSON (queries compare them as they are)
_EMPTY = frozenset({"", "[]", "{}"})
#: stream keys each connection keeps unwrapped (32 bytes and a dict slot each: a rebuild's
#: stories come back to a post long after its first event)
CACHE_SIZE = 32768
#: of those, the ones kept ready to seal and open with (:class:`_StreamKey`)
READY_SIZE = 1024
#: what each connection remembers of the texts it sealed lately, in characters of text and
#: sealed text (a rebuild writes a post's words in each of its versions and its current row;
#: 16 MB of them took 25 MB of memory, and halving them cost a rebuild no time, measured)
SEALED_MEMO_BYTES = 8 * 1024 * 1024
#: streams a query asks for at once
_CHUNK = 500
#: SHA-256's block size, which HMAC pads its key to, and HMAC's inner and outer pads (as
#: translation tables: each byte of the key XOR 0x36, XOR 0x5C)
_BLOCK = 64
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))
#: where a connection keeps its Keys (write_transaction tells them how each transaction ended)
KEYS_ATTRIBUTE = "_event_keys"


class SealedContentError(EventStoreError):
    """Raised when sealed content cannot be opened: its stream's key is gone or it was
    altered."""


def group_of(stream_id: str) -> int:
    """The group key that wraps ``stream_id``'s key."""
    return hashlib.sha256(stream_id.encode()).digest()[0] % GROUPS


def is_sealed(text: str) -> bool:
    """Whether ``text`` is sealed content (else it is stored as it is)."""
    return text.startswith(PREFIX)


class _StreamKey:
    """A stream's key, ready to seal and open with: its AES-GCM cipher, and its HMAC-SHA256's
    inner and outer hashes with the key already absorbed (RFC 2104), so a nonce costs two
    hash copies, not a new HMAC (a third of sealing's time, measured)."""

    __slots__ = ("aead", "inner", "key", "outer")

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.aead = AESGCM(key)
        self.inner: Any = None  # made when first sealing (opening needs only the cipher)
        self.outer: Any = None

    def nonce(self, plain: bytes) -> bytes:
        """The first 12 bytes of HMAC-SHA256(key, ``plain``)."""
        if self.inner is None:
            padded = self.key.ljust(_BLOCK, b"\0")  # 32 bytes: never more than SHA-256's block
            self.inner = hashlib.sha256(padded.translate(_IPAD))
            self.outer = hashlib.sha256(padded.translate(_OPAD))
        inner = self.inner.copy()
        inner.update(plain)
        outer = self.outer.copy()
        outer.update(inner.digest())
        return bytes(outer.digest()[:12])


class Keys:
    """The stream keys of one database, through one connection (:func:`keys_of`)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        #: the keys used lately, ready to seal and open with (each takes about 2 KB)
        self._ready: OrderedDict[str, _StreamKey] = OrderedDict()
        #: group keys as last read (another process may have replaced one since: a key that
        #: does not unwrap with it is read again)
        self._groups: dict[int, bytes] = {}
        #: what the caches learnt inside the open write transaction: forgotten if it rolls
        #: back (a key made there was never stored; sealing with it would lose the content)
        self._unsettled: list[tuple[str, Any]] = []
        #: what was sealed lately, by stream and text: sealing is deterministic, and a read
        #: model's versions of a post repeat its words (a pin, a publish change no text).
        #: Two generations: the newer one fills up to half of :attr:`memo_bytes`,
        #: then replaces the older (no bookkeeping a text; a text found in the older one is
        #: sealed again into the newer)
        self._sealed: dict[tuple[str, str], str] = {}
        self._sealed_older: dict[tuple[str, str], str] = {}
        self._sealed_bytes = 0
        #: this connection's share of :data:`CACHE_SIZE` and :data:`SEALED_MEMO_BYTES` (a
        #: rebuild's workers share them: see :meth:`share`)
        self.cache_size = CACHE_SIZE
        self.memo_bytes = SEALED_MEMO_BYTES

    def share(self, of: int) -> None:
        """Hold a share of the caches' bounds, one of ``of`` processes that do one's work
        together (a rebuild's workers)."""
        self.cache_size = max(1, CACHE_SIZE // of)
        self.memo_bytes = SEALED_MEMO_BYTES // of

    def seal(self, stream_id: str, text: str) -> str:
        """``text`` sealed with the stream's key (made now if it has none: call it inside a
        write transaction). Empty text and empty JSON stay as they are."""
        sealed: str = self.seal_texts(stream_id, (text,))[0]
        return sealed

    def seal_texts(self, stream_id: str, texts: Iterable[Any]) -> list[Any]:
        """:meth:`seal` of each of ``texts`` that is text (others are given back as they are),
        all of one stream: its key is looked up once (a row's columns, sealed together)."""
        memo, older = self._sealed, self._sealed_older
        key = None
        out = []
        for text in texts:
            if text.__class__ is not str or text in _EMPTY:
                out.append(text)
                continue
            found = (stream_id, text)
            done = memo.get(found)
            if done is None:
                done = older.get(found)
                if done is None:
                    if key is None:
                        key = self._key(stream_id, create=True)
                        assert key is not None
                        associated = stream_id.encode()
                    plain = text.encode()
                    nonce = key.nonce(plain)
                    done = PREFIX + b2a_base64(
                        nonce + key.aead.encrypt(nonce, plain, associated),
                        newline=False).decode()
                memo[found] = done
                self._sealed_bytes += len(text) + len(done)
                if self._sealed_bytes > self.memo_bytes // 2:
                    self._sealed_older = older = memo
                    self._sealed = memo = {}
                    self._sealed_bytes = 0
            out.append(done)
        return out

    def open(self, stream_id: str, text: str) -> str:
        """The content ``text`` holds (text that is not sealed is returned as it is).

        :raises SealedContentError: the stream's key is gone, or the text was altered.
        """
        if not text.startswith(PREFIX):
            return text
        raw = a2b_base64(text[_PREFIX_LENGTH:])
        for fresh in (False, True):
            key = self._key(stream_id, create=False, fresh=fresh)
            if key is None:
                break
            try:
                return key.aead.decrypt(raw[:12], raw[12:], stream_id.encode()).decode()
            except InvalidTag:
                continue  # a key cached from another database of the same name: read again
        raise SealedContentError(f"the sealed content of {stream_id!r} cannot be opened: its"
                                 " key was erased, or the text was altered")

    def erase(self, stream_id: str) -> bool:
        """Destroy the stream's key, and re-wrap the rest of its group under a new group key
        (inside the caller's write transaction). True when it had one."""
        self._cache.pop(stream_id, None)
        self._ready.pop(stream_id, None)
        for memo in (self._sealed, self._sealed_older):
            for forgotten in [m for m in memo if m[0] == stream_id]:
                del memo[forgotten]  # (the newer's byte count stays: it fills sooner)
        conn = self.conn
        group = group_of(stream_id)
        gone = conn.execute("SELECT 1 FROM stream_keys WHERE stream_id = ?",
                            (stream_id,)).fetchone() is not None
        if not gone:
            return False
        conn.execute("DELETE FROM stream_keys WHERE stream_id = ?", (stream_id,))
        old = self._group_key(group, fresh=True)
        new = os.urandom(32)
        rewrapped = [(aes_key_wrap(new, aes_key_unwrap(old, bytes(wrapped))), other)
                     for other, wrapped in conn.execute(
                         "SELECT stream_id, wrapped FROM stream_keys WHERE grp = ?", (group,))]
        conn.executemany("UPDATE stream_keys SET wrapped = ? WHERE stream_id = ?", rewrapped)
        conn.execute("UPDATE key_groups SET kek = ? WHERE grp = ?", (new, group))
        self._groups[group] = new
        self._unsettled.append(("group", group))
        return True

    def prepare(self, stream_ids: Iterable[str], *, create: bool = False) -> None:
        """Have the keys of these streams at hand: the stored ones read in one query a few
        hundred streams, and with ``create`` (inside a write transaction) the missing ones
        made in one statement, so that a batch seals or opens with no round trip a row."""
        missing = [s for s in dict.fromkeys(stream_ids) if s not in self._cache]
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for stream, group, wrapped in self.conn.execute(
                    f"SELECT stream_id, grp, wrapped FROM stream_keys WHERE stream_id IN"
                    f" ({marks})", chunk).fetchall():
                self._remember(str(stream), self._unwrap(int(group), bytes(wrapped)))
        new = [s for s in missing if s not in self._cache] if create else []
        if not new:
            return
        groups = self._fresh_groups({group_of(s) for s in new})
        rows = []
        for stream in new:
            key = os.urandom(32)
            group = group_of(stream)
            rows.append((stream, group, aes_key_wrap(groups[group], key)))
            self._remember(stream, key)
        self.conn.executemany("INSERT INTO stream_keys (stream_id, grp, wrapped) VALUES"
                              " (?, ?, ?)", rows)

    def has(self, stream_id: str) -> bool:
        """Whether the stream's key is at hand (:meth:`prepare` found it, or made it)."""
        return stream_id in self._cache

    def _key(self, stream_id: str, *, create: bool, fresh: bool = False) -> _StreamKey | None:
        ready = None if fresh else self._ready.get(stream_id)
        if ready is not None:
            return ready
        raw = self._raw_key(stream_id, create=create, fresh=fresh)
        if raw is None:
            return None
        ready = self._ready[stream_id] = _StreamKey(raw)
        if len(self._ready) > READY_SIZE:
            self._ready.popitem(last=False)
        return ready

    def _raw_key(self, stream_id: str, *, create: bool, fresh: bool) -> bytes | None:
        cached = None if fresh else self._cache.get(stream_id)
        if cached is not None:
            self._cache.move_to_end(stream_id)
            return cached
        if fresh:
            self._cache.pop(stream_id, None)
        self.prepare([stream_id], create=create)
        return self._cache.get(stream_id)

    def _remember(self, stream_id: str, key: bytes) -> None:
        self._cache[stream_id] = key
        self._ready.pop(stream_id, None)
        if self.conn.in_transaction:
            self._unsettled.append(("stream", stream_id))
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _unwrap(self, group: int, wrapped: bytes) -> bytes:
        try:
            return aes_key_unwrap(self._group_key(group), wrapped)
        except InvalidUnwrap:  # the group key changed since it was read here
            return aes_key_unwrap(self._group_key(group, fresh=True), wrapped)

    def _fresh_groups(self, groups: set[int]) -> dict[int, bytes]:
        """These groups' keys as stored now (made where missing): a new key is wrapped only
        under the key its group has in this transaction, never a cached one."""
        ordered = sorted(groups)
        marks = ",".join("?" * len(ordered))
        found = {int(g): bytes(k) for g, k in self.conn.execute(
            f"SELECT grp, kek FROM key_groups WHERE grp IN ({marks})", ordered).fetchall()}
        made = [(g, os.urandom(32)) for g in ordered if g not in found]
        if made:
            self.conn.executemany("INSERT INTO key_groups (grp, kek) VALUES (?, ?)", made)
            found.update(made)
        for group, key in found.items():
            self._groups[group] = key
            if self.conn.in_transaction:
                self._unsettled.append(("group", group))
        return found

    def _group_key(self, group: int, *, fresh: bool = False) -> bytes:
        if not fresh and group in self._groups:
            return self._groups[group]
        return self._fresh_groups({group})[group]

    def settled(self, *, committed: bool) -> None:
        """The write transaction ended (``events.backends.write_transaction`` says so): what
        the caches learnt in it stays if it committed, and is forgotten if it did not."""
        if not committed:
            if self._unsettled:
                self._sealed.clear()  # some may be sealed with a key that was never stored
                self._sealed_older.clear()
                self._sealed_bytes = 0
            for kind, what in self._unsettled:
                if kind == "stream":
                    self._cache.pop(what, None)
                    self._ready.pop(what, None)
                else:
                    self._groups.pop(what, None)
        self._unsettled.clear()


def keys_of(conn: Connection) -> Keys | None:
    """The keys of ``conn``'s database (one :class:`Keys` a connection), or None when it has no
    key tables (a scratch database that replays the log in memory: nothing there is sealed)."""
    keys: Keys | None | bool = getattr(conn, KEYS_ATTRIBUTE, False)
    if keys is False:
        keys = Keys(conn) if table_exists(conn, "stream_keys") else None
        try:
            setattr(conn, KEYS_ATTRIBUTE, keys)
        except AttributeError:
            return keys  # a connection that takes no attributes: looked up each time
    return keys  # type: ignore[return-value]
