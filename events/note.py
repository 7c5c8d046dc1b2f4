"""C2SP signed notes (c2sp.org/signed-note), the checkpoints written in them
(c2sp.org/tlog-checkpoint), witnesses' cosignatures (c2sp.org/tlog-cosignature, Ed25519) and
offline proofs (c2sp.org/tlog-proof): text formats, Ed25519 only.

A note is text ending in a newline, a blank line, then lines ``— <key name> base64(key id ||
signature)``. A key is named and identified by its vkey, ``<name>+<hex key id>+base64(type ||
public key)``; the key id is the first 4 bytes of SHA-256(name || 0x0A || type || public key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

#: signature types (signed-note): a note's Ed25519 signature, a witness's cosignature
ED25519, COSIGNATURE = 0x01, 0x04
DASH = "\u2014"
PROOF_HEADER = "c2sp.org/tlog-proof@v1"
#: most signature lines a note may carry (the spec asks verifiers to accept at least 16)
MAX_SIGNATURES = 64
_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


class NoteError(ValueError):
    """A note, vkey, checkpoint or proof that is malformed, or whose signature does not hold."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str, what: str) -> bytes:
    if not _B64.fullmatch(text):
        raise NoteError(f"{what} is not base64")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not base64") from None


def key_id(name: str, kind: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    """A named public key (a vkey): a log's (type 0x01) or a witness's (type 0x04)."""

    name: str
    kind: int
    public: bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.kind, self.public)

    def vkey(self) -> str:
        return f"{self.name}+{self.id.hex()}+{_b64(bytes([self.kind]) + self.public)}"

    def key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public)


def parse_vkey(text: str) -> Verifier:
    """A vkey's name, type and Ed25519 public key; its key id must match them."""
    name, plus, rest = text.strip().partition("+")
    hex_id, plus2, material = rest.partition("+")
    if not (plus and plus2 and name) or any(c.isspace() for c in name):
        raise NoteError("a vkey is <name>+<hex key id>+<base64 key>")
    raw = _unb64(material, "the vkey's key")
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE):
        raise NoteError("the vkey is not an Ed25519 key (type 0x01 or 0x04, 32 bytes)")
    verifier = Verifier(name, raw[0], raw[1:])
    if hex_id != verifier.id.hex():
        raise NoteError("the vkey's key id does not match its name and key")
    return verifier


class NoteSigner:
    """Signs notes as ``name`` with an Ed25519 key (type 0x01)."""

    def __init__(self, name: str, private: Ed25519PrivateKey) -> None:
        if not name or any(c.isspace() or c == "+" for c in name):
            raise NoteError(f"{name!r} cannot name a key (no spaces, no +)")
        self._private = private
        self.verifier = Verifier(name, ED25519, raw_public(private.public_key()))

    def sign(self, text: str) -> str:
        """The signed note of ``text`` (which ends in a newline)."""
        _check_text(text)
        signature = self.verifier.id + self._private.sign(text.encode())
        return f"{text}\n{DASH} {self.verifier.name} {_b64(signature)}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n") or any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("a note's text ends in a newline and holds no control characters")


@dataclass(frozen=True)
class Signature:
    name: str
    id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{DASH} {self.name} {_b64(self.id + self.signature)}\n"


def split_note(note: str) -> tuple[str, list[Signature]]:
    """A note's text and its signature lines (not checked)."""
    _check_text(note)
    text, sep, lines = note.rpartition("\n\n")
    if not sep:
        raise NoteError("a note is text, a blank line, then signature lines")
    signatures = []
    for line in lines.split("\n")[:-1]:
        prefix, _, rest = line.partition(" ")
        name, _, encoded = rest.partition(" ")
        if prefix != DASH or not name or not encoded:
            raise NoteError("a signature line is '\u2014 <key name> <base64 signature>'")
        raw = _unb64(encoded, "a signature")
        if len(raw) < 5:
            raise NoteError("a signature is a 4-byte key id and the signature")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    if not signatures or len(signatures) > MAX_SIGNATURES:
        raise NoteError(f"a note carries 1 to {MAX_SIGNATURES} signatures")
    return text + "\n", signatures


def open_note(note: str, log: Verifier) -> tuple[str, list[Signature]]:
    """The note's text, checked against ``log``'s key, and its other signatures.

    :raises NoteError: no signature by ``log``, or one that does not verify.
    """
    text, signatures = split_note(note)
    ours = [s for s in signatures if (s.name, s.id) == (log.name, log.id)]
    if not ours:
        raise NoteError(f"the note is not signed by {log.name} with this key")
    for s in ours:
        try:
            log.key().verify(s.signature, text.encode())
        except InvalidSignature:
            raise NoteError(f"the signature by {log.name} does not verify: the note was"
                            " changed, or signed by another key") from None
    return text, [s for s in signatures if (s.name, s.id) != (log.name, log.id)]


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint's text (tlog-checkpoint): origin, tree size, root hash."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{_b64(self.root)}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not all(lines[:-1]):
        raise NoteError("a checkpoint is origin, size and root hash lines")
    origin, size, root = lines[:3]
    if not re.fullmatch(r"0|[1-9]\d*", size):
        raise NoteError("a checkpoint's size is a decimal number")
    digest = _unb64(root, "the root hash")
    if len(digest) != 32:
        raise NoteError("a checkpoint's root hash is 32 bytes")
    return Checkpoint(origin, int(size), digest)


def open_checkpoint(note: str, log: Verifier, origin: str | None = None
                    ) -> tuple[Checkpoint, list[Signature]]:
    """A signed checkpoint, checked against ``log`` (and ``origin``, when given)."""
    text, others = open_note(note, log)
    checkpoint = parse_checkpoint(text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"the checkpoint is of {checkpoint.origin}, not {origin}")
    return checkpoint, others


def cosigned_message(text: str, timestamp: int) -> bytes:
    """What a witness signs (tlog-cosignature, Ed25519): a header, the time, the note text."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def check_cosignature(text: str, signature: Signature, witness: Verifier) -> int:
    """The time of a witness's valid cosignature of the note ``text``.

    :raises NoteError: not this witness's, or it does not verify.
    """
    if (signature.name, signature.id) != (witness.name, witness.id) or len(
            signature.signature) != 72:
        raise NoteError(f"not a cosignature by {witness.name}")
    (timestamp,) = struct.unpack(">Q", signature.signature[:8])
    try:
        witness.key().verify(signature.signature[8:], cosigned_message(text, timestamp))
    except InvalidSignature:
        raise NoteError(f"the cosignature by {witness.name} does not verify") from None
    return int(timestamp)


@dataclass(frozen=True)
class Proof:
    """A tlog-proof: an entry's index, its inclusion proof and the signed checkpoint."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None

    def text(self) -> str:
        lines = [PROOF_HEADER]
        if self.extra is not None:
            lines.append(f"extra {_b64(self.extra)}")
        lines.append(f"index {self.index}")
        lines += [_b64(h) for h in self.hashes]
        return "\n".join(lines) + "\n\n" + self.checkpoint


def parse_proof(text: str) -> Proof:
    head, sep, checkpoint = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != PROOF_HEADER:
        raise NoteError(f"a proof begins with {PROOF_HEADER}")
    extra = None
    rest = lines[1:]
    if rest and rest[0].startswith("extra "):
        extra = _unb64(rest.pop(0)[6:], "the extra data")
    if not rest or not re.fullmatch(r"index (0|[1-9]\d*)", rest[0]):
        raise NoteError("a proof names its entry: 'index <n>'")
    hashes = tuple(_unb64(line, "a proof hash") for line in rest[1:])
    if any(len(h) != 32 for h in hashes) or len(hashes) > 63:
        raise NoteError("a proof's hashes are up to 63 SHA-256 hashes")
    return Proof(int(rest[0][6:]), hashes, checkpoint, extra)
