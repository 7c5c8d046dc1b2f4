"""Signed audit checkpoints: the chain's head, signed with the service's Ed25519 key and kept in
the database.

A checkpoint ``{position, hash, recorded_at}`` says "the log had this event, with this hash, at
this position". The chain alone cannot tell a log cut short, or rewritten and re-hashed from
some point on, from an honest one; a checkpoint saved outside (an auditor's copy of
``/api/audit/checkpoints``) can: the event it names must still be there with the same hash. The
signature proves the service made it, so nobody can forge an old one to fit a rewritten log.

The key comes from ``AUDIT_SIGNING_KEY`` (base64 of a 32-byte Ed25519 seed, or a PEM private
key), kept outside the database as it should be in production; unset, one is generated on first
start and kept in the database (so every node of a deployment signs with the same key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from events import Connection, database_errors, write_transaction

ALGORITHM = "Ed25519"


class SigningKeyError(ValueError):
    """AUDIT_SIGNING_KEY is not an Ed25519 private key."""


class CheckpointFileError(ValueError):
    """A saved copy of checkpoints that cannot be read as one."""


@dataclass(frozen=True)
class Checkpoint:
    position: int
    hash: str
    recorded_at: str
    key_id: str
    signature: str

    def message(self) -> bytes:
        """What is signed: the canonical JSON of position, hash and time."""
        return signed_message(self.position, self.hash, self.recorded_at)

    def json(self) -> dict[str, Any]:
        return asdict(self)


def signed_message(position: int, hash_: str, recorded_at: str) -> bytes:
    return json.dumps({"hash": hash_, "position": position, "recorded_at": recorded_at},
                      sort_keys=True, separators=(",", ":")).encode()


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """A short name of a public key: the start of its SHA-256."""
    return hashlib.sha256(raw_public(key)).hexdigest()[:16]


def public_key_json(key: Ed25519PublicKey) -> dict[str, str]:
    """The public key as published at /.well-known/liveblog-audit-key."""
    return {"key_id": key_id(key), "algorithm": ALGORITHM,
            "public_key": base64.b64encode(raw_public(key)).decode()}


def public_key_from_json(data: Any) -> Ed25519PublicKey:
    try:
        if data.get("algorithm") != ALGORITHM:
            raise CheckpointFileError(f"the key is not an {ALGORITHM} key")
        return Ed25519PublicKey.from_public_bytes(
            base64.b64decode(data["public_key"], validate=True))
    except (AttributeError, KeyError, TypeError, ValueError, binascii.Error) as e:
        if isinstance(e, CheckpointFileError):
            raise
        raise CheckpointFileError("the public key is not a base64 Ed25519 key") from e


class Signer:
    """Signs checkpoints with one private key."""
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        #: the same key signs the transparency log's checkpoints (liveblog.transparency)
        self.private = private
        self.public = private.public_key()
        self.key_id = key_id(self.public)

    def sign(self, position: int, hash_: str, recorded_at: str) -> Checkpoint:
        signature = self._private.sign(signed_message(position, hash_, recorded_at))
        return Checkpoint(position, hash_, recorded_at, self.key_id,
                          base64.b64encode(signature).decode())


def parse_private_key(text: str) -> Ed25519PrivateKey:
    """AUDIT_SIGNING_KEY: a PEM private key, or base64 of the 32-byte seed."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise SigningKeyError("AUDIT_SIGNING_KEY is a PEM key, but not an Ed25519 one")
            return key
        seed = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_"
                                if "-" in text or "_" in text else None, validate=True)
        return Ed25519PrivateKey.from_private_bytes(seed)
    except (ValueError, TypeError, binascii.Error) as e:
        if isinstance(e, SigningKeyError):
            raise
        raise SigningKeyError("AUDIT_SIGNING_KEY must be base64 of a 32-byte Ed25519 seed or a"
                              " PEM private key") from None


def seed_text(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
        serialization.NoEncryption())).decode()


def load_signer(conn: Connection, configured: str | None) -> Signer:
    """The configured key, else the one kept in the database (made now if there is none)."""
    if configured:
        return Signer(parse_private_key(configured))
    row = conn.execute("SELECT private_key FROM audit_signing_key WHERE id = 1").fetchone()
    if row is None:
        with write_transaction(conn):  # the writer lock: nodes starting together make one
            conn.execute("INSERT INTO audit_signing_key (id, private_key) VALUES (1, ?)"
                         " ON CONFLICT (id) DO NOTHING",
                         (seed_text(Ed25519PrivateKey.generate()),))
        row = conn.execute("SELECT private_key FROM audit_signing_key WHERE id = 1").fetchone()
    return Signer(parse_private_key(row[0]))


def known_keys(conn: Connection, configured: str | None) -> dict[str, Ed25519PublicKey]:
    """The public keys checkpoints of this database may be signed with (the configured key and
    the one kept in the database), read without writing anything."""
    keys = []
    if configured:
        keys.append(parse_private_key(configured).public_key())
    try:
        row = conn.execute("SELECT private_key FROM audit_signing_key WHERE id = 1").fetchone()
    except database_errors():
        row = None  # never started as a service: no table, no key
    if row is not None:
        keys.append(parse_private_key(row[0]).public_key())
    return {key_id(key): key for key in keys}


def record(conn: Connection, signer: Signer, recorded_at: str) -> Checkpoint | None:
    """Sign the chain's head and keep it, when it moved since the last checkpoint."""
    with write_transaction(conn):
        head = conn.execute("SELECT position, hash FROM events ORDER BY position DESC"
                            " LIMIT 1").fetchone()
        last = conn.execute("SELECT max(position) FROM audit_checkpoints").fetchone()[0]
        if head is None or (last is not None and last >= head[0]):
            return None
        checkpoint = signer.sign(head[0], head[1], recorded_at)
        conn.execute("INSERT INTO audit_checkpoints (position, hash, recorded_at, key_id,"
                     " signature) VALUES (?, ?, ?, ?, ?)",
                     (checkpoint.position, checkpoint.hash, checkpoint.recorded_at,
                      checkpoint.key_id, checkpoint.signature))
    return checkpoint


def stored(conn: Connection, after: int = 0, limit: int | None = None) -> list[Checkpoint]:
    """The checkpoints kept, oldest first."""
    sql = ("SELECT position, hash, recorded_at, key_id, signature FROM audit_checkpoints"
           " WHERE position > ? ORDER BY position")
    params: tuple[Any, ...] = (after,)
    if limit is not None:
        sql += " LIMIT ?"
        params += (limit,)
    try:
        return [Checkpoint(*row) for row in conn.execute(sql, params)]
    except database_errors():
        if conn.in_transaction:
            raise
        return []  # never started as a service: no checkpoints yet


def verify(conn: Connection, checkpoints: Iterable[Checkpoint],
           keys: dict[str, Ed25519PublicKey]) -> tuple[int, str | None, int | None]:
    """Check each checkpoint's signature, then that the log still holds the event it names.

    :returns: how many hold, and for the first that does not what is wrong and its position.
    """
    good = 0
    for checkpoint in checkpoints:
        key = keys.get(checkpoint.key_id)
        position = checkpoint.position
        if key is None:
            return good, (f"the checkpoint at position {position} is signed by key"
                          f" {checkpoint.key_id}, which is not the one given"), position
        try:
            key.verify(base64.b64decode(checkpoint.signature), checkpoint.message())
        except (InvalidSignature, ValueError, binascii.Error):
            return good, (f"the checkpoint at position {position} has a bad signature: it was"
                          " not made by this key as it reads"), position
        # an event recorded before chain v2 keeps the hash it had then (events.chain), which a
        # checkpoint signed then names
        row = conn.execute("SELECT hash, legacy_hash FROM events WHERE position = ?",
                           (position,)).fetchone()
        if row is None:
            return good, (f"position {position} was signed at {checkpoint.recorded_at} and the"
                          " log no longer has it: the log was truncated"), position
        if checkpoint.hash not in (row[0], row[1]):
            return good, (f"the event at position {position} no longer has the hash signed at"
                          f" {checkpoint.recorded_at}: the log was rewritten"), position
        good += 1
    return good, None, None


def read_saved_copy(text: str) -> tuple[list[Checkpoint], Ed25519PublicKey]:
    """A saved copy: the JSON of GET /api/audit/checkpoints (``checkpoints`` and ``key``)."""
    try:
        data = json.loads(text)
        key = public_key_from_json(data["key"])
        checkpoints = [Checkpoint(int(c["position"]), str(c["hash"]), str(c["recorded_at"]),
                                  str(c["key_id"]), str(c["signature"]))
                       for c in data["checkpoints"]]
    except (ValueError, KeyError, TypeError) as e:
        if isinstance(e, CheckpointFileError):
            raise
        raise CheckpointFileError("not a saved copy of /api/audit/checkpoints (JSON with"
                                  " 'checkpoints' and 'key')") from None
    return checkpoints, key


def fetch_saved_copy(url: str, token: str | None) -> tuple[list[Checkpoint], Ed25519PublicKey]:
    """Every checkpoint from a service's /api/audit/checkpoints (following ``next``)."""
    found: list[Checkpoint] = []
    key: Ed25519PublicKey | None = None
    after = 0
    while True:
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.urlencode([*urllib.parse.parse_qsl(parts.query), ("after", after)])
        request = urllib.request.Request(parts._replace(query=query).geturl(), headers=(
            {"Authorization": f"Bearer {token}"} if token else {}))
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as e:
            raise CheckpointFileError(f"{url} answered {e.code} (an auditor token: --token)"
                                      ) from None
        except (urllib.error.URLError, OSError) as e:
            raise CheckpointFileError(f"could not fetch {url}: {e}") from None
        page, page_key = read_saved_copy(text)
        if key is not None and key_id(page_key) != key_id(key):
            raise CheckpointFileError(f"{url} changed its key while it was read")
        key = page_key
        found += page
        following = json.loads(text).get("next")
        if following is None:
            return found, key
        after = int(following)
